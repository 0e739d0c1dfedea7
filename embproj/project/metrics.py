"""Quality numbers a user can trust, computed on the plotted sample, in the space the vectors were read in.

- trustworthiness (scikit-learn): are the map's neighbours true neighbours? 1.0 is perfect.
- kNN recall@k: the share of each point's k nearest neighbours in the original space that stay among its k nearest
  on the map, averaged.
Both are O(n²) somewhere, so they use a seeded subset of at most `MAX_ROWS` rows. Distances in the original space
are by the run's --metric (Euclidean unless chosen), on the map Euclidean.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from embproj.neighbours.search import Graph, knn

K = 10
MAX_ROWS = 3_000


def subset(n: int, seed: int) -> np.ndarray:
    """The rows the numbers are measured on: all of them, or a seeded `MAX_ROWS`, in order."""
    if n <= MAX_ROWS:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, MAX_ROWS, replace=False))


def quality(X: np.ndarray, xy: np.ndarray, seed: int, metric: str = "euclidean", graph: Graph | None = None) -> dict:
    """The numbers of the map `xy`; X: the vectors of its rows `subset(len(xy), seed)`, as read. `graph`: their
    nearest neighbours when the run has them already (used when the subset is every row)."""
    n = len(xy)
    k = min(K, (n - 1) // 2 - 1)  # scikit-learn's trustworthiness needs k < n / 2
    if k < 1:
        return {}
    rows = subset(n, seed)
    Xs, Ys = X.astype(np.float64), xy[rows].astype(np.float64)
    from sklearn.manifold import trustworthiness

    with np.errstate(all="ignore"):  # correlation of a constant row: NaN distances, ranked last
        trust = float(trustworthiness(Xs, Ys, n_neighbors=k, metric=metric))
    high = graph.take(k) if graph is not None and len(rows) == n and graph.k >= k else knn(Xs, k, metric)
    low = knn(Ys, k)
    recall = float(np.mean([len(np.intersect1d(a, b)) / k for a, b in zip(high.indices, low.indices)]))
    return {"trustworthiness": round(trust, 4), f"knn_recall@{k}": round(recall, 4), "measured_on_rows": len(rows)}


def measure_k(opts, n: int) -> int:
    """How many original-space neighbours the numbers can take from the run's graph: K when they are measured on
    every row, else none (a subset needs its own)."""
    return K if opts.metrics and n <= MAX_ROWS else 0


def measure(projections, X: np.ndarray, seed: int, metric: str, graph: Graph | None) -> list:
    """Each projection with its quality numbers added; X: the vectors of the rows `subset(n, seed)` of the n
    plotted rows, as read."""
    return [replace(p, metrics={**p.metrics, **quality(X, p.xy, seed, metric, graph)}) for p in projections]
