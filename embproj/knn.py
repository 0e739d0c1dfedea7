"""The nearest-neighbour function: each row's k nearest other rows by the run's metric, found once per run and
read by every consumer: UMAP (`precomputed_knn`), openTSNE (its affinities), the page's click-for-neighbours table
and the quality numbers.

Exact (knn_exact.py, blocked matrix products) while that is cheap: up to `EXACT_WORK` of n² × dims, about 45,000
rows of 50 dims, ~30 s on 2 cores. Above, approximate: pynndescent's NN-descent (which umap-learn brings and uses
itself), seeded and single-threaded so that the same seed gives the same graph, with its recall against the exact
neighbours of a seeded sample of rows measured and reported. Measured at 50 dims: exact 0.5 / 1.3 / 4.5 / 19 s for
5k / 10k / 20k / 40k rows; NN-descent 0.1 / 0.2 / 0.5 / 1.0 s at recall 0.996 / 0.984 / 0.960 / 0.915, but its
first call in a process compiles numba code for ~25 s (more on a busy machine; ~45 s measured), which the exact
search never pays. NN-descent asks for at least `DEPTH` neighbours and keeps the k nearest: on 20 Gaussian blobs
(100,000 rows, k = 10) searching 11 found 0.51 of the true neighbours in 128 dims (6 s) and 0.935 in 16 dims (4 s);
searching 21 found 0.78 (10 s) and 0.995 (6 s). With the default --fit-points (20,000) the projections' graph is
always exact. Rows placed later find their nearest fitted rows exactly too (`index`, knn_exact.Nearest).

The page's table covers every plotted row up to --neighbour-rows (default 50,000, about as far as the exact search
goes, so that a default report never waits for NN-descent's compile and search) and at most `TABLE_ROWS`, the size
measured (benchmarks/neighbours.py): for 1,000,000 rows × 128 dims NN-descent took minutes (468 s on a loaded 2-core
machine, recall 0.457 on those isotropic blobs) and 1.6 GB more memory, and the table ~20 MB (~20 B a point), so a
1M-point page weighs ~35 MB: twice that would pass the default --max-html-mb of 50. Searching PCA-reduced vectors
instead (32 dims, 200,000 rows) was not much faster (10.8 s against 13 s) and found 4% of the true neighbours.
With --engine dask the vectors stay on the workers, so the table is made only up to `GATHER_ROWS` rows, the ones
this process gathers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

EXACT_WORK = 1e11  # n² × dims up to which the search is exact (~30 s): NN-descent's first call compiles for ~25 s
RECALL_ROWS = 200  # rows whose exact neighbours measure an approximate search
DEPTH = 20  # NN-descent searches at least this many neighbours (then keeps k): recall, measured above
TABLE_ROWS = 1_000_000  # the most --neighbour-rows may ask for: the page's table for every plotted row (see above)
GATHER_ROWS = 50_000  # --engine dask: at most this many rows' vectors gathered here for the table
TABLE_BYTES = 20  # about what the table adds to the page a point at k = 10 (render/neighbours.py), for the note


@dataclass(frozen=True)
class Graph:
    """Each row's `k` nearest other rows, nearest first: int32 indices and float32 distances, n × k."""

    indices: np.ndarray
    distances: np.ndarray
    metric: str
    exact: bool = True
    recall: float | None = None  # approximate: the share of true neighbours found, on a seeded sample of rows
    index: Any = None  # knn_exact.Nearest over the rows, when asked for: new rows' nearest among them

    @property
    def k(self) -> int:
        return int(self.indices.shape[1])

    def take(self, k: int) -> Graph:
        """The `k` nearest of these (fewer when there are fewer)."""
        return replace(self, indices=self.indices[:, :k], distances=self.distances[:, :k])

    def with_self(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """umap-learn's form: the row itself first (distance 0), then its k - 1 nearest."""
        n = len(self.indices)
        own = np.arange(n, dtype=np.int32)[:, None]
        return (
            np.hstack([own, self.indices[:, : k - 1]]),
            np.hstack([np.zeros((n, 1), np.float32), self.distances[:, : k - 1]]),
        )

    def facts(self) -> dict:
        """For `--json`: how the graph was found."""
        out: dict[str, Any] = {"rows": len(self.indices), "k": self.k, "metric": self.metric, "exact": self.exact}
        if self.recall is not None:
            out["recall"] = self.recall
        return out


def knn(X: np.ndarray, k: int, metric: str = "euclidean", seed: int = 0, index: bool = False) -> Graph:
    """Each row of X's k nearest other rows by `metric` (euclidean, cosine, manhattan, correlation, chebyshev,
    minkowski); k is lowered to n - 1 when there are fewer rows. `index`: also keep a search over X for rows given
    later (exact), to place new rows near the rows they are nearest to."""
    n = len(X)
    k = max(0, min(k, n - 1))
    if k == 0:
        return Graph(np.empty((n, 0), np.int32), np.empty((n, 0), np.float32), metric)
    from .knn_exact import Nearest, exact

    search = Nearest(X, metric) if index else None
    if float(n) * n * X.shape[1] <= EXACT_WORK:
        indices, distances = exact(X, k, metric)
        return Graph(indices.astype(np.int32), distances.astype(np.float32), metric, index=search)
    found, found_distances = _nn_descent(X, min(max(k, DEPTH), n - 1), metric, seed).neighbor_graph
    indices, distances = _without_self(found, found_distances, k)
    indices, distances = _complete(X, indices, distances, metric)
    graph = Graph(indices, distances, metric, exact=False, index=search)
    return replace(graph, recall=recall(X, graph, seed))


def _nn_descent(X: np.ndarray, k: int, metric: str, seed: int):
    """NN-descent over X for each row's k nearest others, seeded and on one thread (the same seed, the same
    graph)."""
    from pynndescent import NNDescent

    return NNDescent(X, metric=metric, n_neighbors=k + 1, random_state=seed, n_jobs=1, low_memory=True)


def _complete(X: np.ndarray, indices: np.ndarray, distances: np.ndarray, metric: str):
    """NN-descent leaves -1 where it found too few neighbours (or, on ties, a row twice): those rows get their
    exact neighbours, so that every row lists k distinct others (the page's table relies on it)."""
    from .knn_exact import exact_rows

    ordered = np.sort(indices, axis=1)
    bad = np.flatnonzero((ordered[:, 0] < 0) | (np.diff(ordered, axis=1) == 0).any(axis=1))
    if bad.size:
        indices, distances = indices.copy(), distances.copy()
        indices[bad], distances[bad] = exact_rows(X, bad, indices.shape[1], metric)
    return indices, distances


def _without_self(indices: np.ndarray, distances: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """NN-descent's graph lists each row among its own neighbours (usually first, not always with duplicates)."""
    own = indices == np.arange(len(indices))[:, None]
    order = np.argsort(own, axis=1, kind="stable")[:, :k]  # the others first, in distance order
    return (
        np.take_along_axis(indices, order, 1).astype(np.int32),
        np.take_along_axis(distances, order, 1).astype(np.float32),
    )


def recall(X: np.ndarray, graph: Graph, seed: int, rows: int = RECALL_ROWS) -> float:
    """The share of each sampled row's true k nearest that `graph` holds, averaged over a seeded sample."""
    from .knn_exact import exact_rows

    n = len(X)
    chosen = np.sort(np.random.default_rng(seed).choice(n, min(rows, n), replace=False))
    truth, _ = exact_rows(X, chosen, graph.k, graph.metric)
    found = [len(np.intersect1d(a, b)) for a, b in zip(truth, graph.indices[chosen])]
    return round(float(np.mean(found)) / graph.k, 4)


@dataclass(frozen=True)
class Neighbours:
    """The run's graphs, one per space: `fit` over the rows the projections are fitted on, in the space they see;
    `original` over every plotted row in the space the vectors were read in (the page's neighbour table, the
    quality numbers). The same graph when those are the same rows in the same space."""

    fit: Graph | None
    original: Graph | None
    table_note: str = ""  # why the page has no neighbour table, when it has none

    def table(self, k: int) -> np.ndarray | None:
        if self.table_note or self.original is None or k == 0:
            return None
        return self.original.take(k).indices

    def facts(self) -> dict:
        graphs = {"fit": self.fit, "original": self.original}
        return {name: g.facts() for name, g in graphs.items() if g is not None}


def find_neighbours(
    original,
    reduced,
    fit_rows,
    fit_k: int,
    table_k: int,
    measure_k: int,
    metric: str,
    seed: int,
    index: bool,
    table_rows: int = TABLE_ROWS,
) -> Neighbours:
    """Each graph once, as deep as its deepest consumer: the projections' fit (`fit_k`, over `fit_rows` of
    `reduced`, or of `original` when `reduced` is None; with a search index when rows are to be placed), the
    page's table (`table_k`, up to `table_rows` rows: --neighbour-rows) and the quality numbers (`measure_k`), over
    every row of `original`."""
    n = len(original)
    note = _table_note(n, table_k, gathered=not isinstance(original, np.ndarray), limit=table_rows)
    original_k = max(0 if note else table_k, measure_k)
    space = original if reduced is None else reduced
    if reduced is None and len(fit_rows) == n and not index:
        graph = knn(_here(original), max(fit_k, original_k), metric, seed) if max(fit_k, original_k) else None
        return Neighbours(graph, graph, note)
    fit = knn(_here(space[fit_rows]), fit_k, metric, seed, index=index) if fit_k else None
    return Neighbours(fit, knn(_here(original), original_k, metric, seed) if original_k else None, note)


def _here(X) -> np.ndarray:
    """X in this process: rows a Dask cluster holds are gathered (cluster.ClusterRows); only ever the fitted
    rows, or at most `GATHER_ROWS` rows for the page's table and the quality numbers."""
    return X if isinstance(X, np.ndarray) else X[np.arange(len(X))]


def _table_note(n: int, k: int, gathered: bool = False, limit: int = TABLE_ROWS) -> str:
    """Why the page gets no neighbour table ("" when it gets one). `gathered`: the vectors are on a Dask
    cluster's workers and would have to come here; `limit`: --neighbour-rows."""
    if k == 0:
        return "no neighbour table: --neighbours 0"
    if n < 2:
        return "no neighbours: only one point"
    adds = f"would add {n * k * TABLE_BYTES / 10 / 1e6:.1f} MB"
    if gathered and n > GATHER_ROWS:
        return (
            f"no neighbour table: {n:,} points on the Dask cluster, over the {GATHER_ROWS:,} whose vectors are "
            f"gathered here for it (--engine local finds them for every row; {adds})"
        )
    if n > TABLE_ROWS:
        return f"no neighbour table: {n:,} points, over {TABLE_ROWS:,} ({adds})"
    if n > limit:
        from .options import say

        return (
            f"no neighbour table: {n:,} points, over {say('neighbour_rows', limit)} ({say('neighbour_rows', n)} "
            f"makes it: NN-descent over every row, minutes at a million rows; {adds})"
        )
    return ""
