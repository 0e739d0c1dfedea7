"""Quality numbers a user can trust, computed on the plotted sample, in the space the vectors were read in.

- trustworthiness (scikit-learn): are the map's neighbours true neighbours? 1.0 is perfect.
- kNN recall@k: the share of each point's k nearest neighbours in the original space that stay among its k nearest
  on the map, averaged.
Both are O(n²) somewhere, so they use a seeded subset of at most `MAX_ROWS` rows. Distances in the original space
are by the run's --metric (Euclidean unless chosen), on the map Euclidean.
"""

from __future__ import annotations

from typing import cast

import numpy as np

K = 10
MAX_ROWS = 3_000
NEIGHBOUR_ROWS = 50_000  # the report's click-for-neighbours table: int32 n × k, ~35 bytes a point gzipped
NEIGHBOUR_WORK = 1e11  # n² × dims: exact search beyond this takes more than a few seconds


def neighbours(X: np.ndarray, k: int, metric: str = "euclidean") -> np.ndarray:
    """Each row's k nearest other rows (exact, by `metric`), int32 n × k."""
    from sklearn.neighbors import NearestNeighbors

    k = min(k, len(X) - 1)
    if k < 1:
        return np.empty((len(X), 0), dtype=np.int32)
    search = NearestNeighbors(n_neighbors=k + 1, metric=metric, algorithm="auto" if metric == "euclidean" else "brute")
    with np.errstate(all="ignore"):  # correlation of a constant row: NaN distances, ranked last
        idx = search.fit(X).kneighbors(X, return_distance=False)
    return _drop_self(idx, k).astype(np.int32)


def report_neighbours(X: np.ndarray, k: int = K, metric: str = "euclidean") -> tuple[np.ndarray | None, str]:
    """Each plotted row's k nearest rows in the space it was read in, for the report (clicking a point),
    or None and a note saying why not: too many rows to carry the table, or too much work to find them."""
    n, dims = X.shape
    if n < 2:
        return None, "no neighbours: only one point"
    if n > NEIGHBOUR_ROWS:
        extra = n * k * 3.5 / 1e6
        return None, f"no neighbour table: {n:,} points, over {NEIGHBOUR_ROWS:,} (would add {extra:.1f} MB)"
    if float(n) * n * dims > NEIGHBOUR_WORK:
        return None, f"no neighbour table: an exact search over {n:,} points × {dims:,} dims takes too long"
    return neighbours(X, k, metric), ""


def _drop_self(idx: np.ndarray, k: int) -> np.ndarray:
    """Remove each row's own index (usually first, but not always with duplicates), keep k."""
    rows = np.arange(len(idx))[:, None]
    not_self = idx != rows
    order = np.argsort(~not_self, axis=1, kind="stable")  # others first, in distance order
    return np.take_along_axis(idx, order, axis=1)[:, :k]


def quality(
    X: np.ndarray, xy: np.ndarray, seed: int, k: int = K, high: np.ndarray | None = None, metric: str = "euclidean"
) -> dict:
    """`high`: each row's K nearest rows in X, when the caller has them already (the report's neighbour table).
    `metric`: distances in X (the map's are Euclidean)."""
    n = len(X)
    k = min(k, (n - 1) // 2 - 1)  # scikit-learn's trustworthiness needs k < n / 2
    if k < 1:
        return {}
    subset = np.sort(np.random.default_rng(seed).choice(n, MAX_ROWS, replace=False)) if n > MAX_ROWS else np.arange(n)
    Xs, Ys = X[subset].astype(np.float64), xy[subset].astype(np.float64)
    from sklearn.manifold import trustworthiness

    with np.errstate(all="ignore"):  # correlation of a constant row: NaN distances, ranked last
        trust = float(trustworthiness(Xs, Ys, n_neighbors=k, metric=metric))
    reuse = high is not None and len(subset) == n and k == high.shape[1]
    high, low = (cast(np.ndarray, high) if reuse else neighbours(Xs, k, metric)), neighbours(Ys, k)  # reuse: set
    recall = float(np.mean([len(np.intersect1d(a, b, assume_unique=True)) / k for a, b in zip(high, low)]))
    return {"trustworthiness": round(trust, 4), f"knn_recall@{k}": round(recall, 4), "measured_on_rows": len(subset)}
