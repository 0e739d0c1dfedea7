"""The nearest-neighbour function: each row's k nearest other rows, exact, by the run's metric.

One function serves every consumer: UMAP (`precomputed_knn`), openTSNE (its affinities), the page's
click-for-neighbours table and the quality numbers. The search is blocked: a tile of rows × a tile of columns at a
time, each tile small enough to stay in the CPU cache whatever N is, keeping each row's best k as the column tiles
go by. Euclidean, cosine and correlation distances come from matrix products; other metrics from scikit-learn's
pairwise distances, tile by tile. Those distances choose a few more candidates than k (`MARGIN`), rounded to float32
so that rows at the same distance tie exactly and the lower row number wins; the candidates' distances are then
recomputed from the vectors themselves and ranked by (distance, row). So a duplicate row is at distance 0 exactly
(UMAP takes each point's first non-zero distance as its local scale) and ties go to the lower row, whatever the
tiles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PRODUCT_METRICS = ("euclidean", "cosine", "correlation")
TABLE_ROWS = 50_000  # the page's click-for-neighbours table: int32 n × k, ~35 bytes a point gzipped
TABLE_WORK = 1e11  # n² × dims: an exact search beyond this takes more than a few seconds
TILE_VALUES = 1 << 21  # float64 distances per tile (16 MB), so a tile's work stays in cache whatever N is
ROW_TILE = 512
MARGIN = 8  # candidates beyond k, for distances that the products' rounding puts in another order


@dataclass(frozen=True)
class Graph:
    """Each row's `k` nearest other rows, nearest first: int32 indices and float32 distances, n × k."""

    indices: np.ndarray
    distances: np.ndarray
    metric: str

    @property
    def k(self) -> int:
        return int(self.indices.shape[1])

    def take(self, k: int) -> Graph:
        """The `k` nearest of these (fewer when there are fewer)."""
        return Graph(self.indices[:, :k], self.distances[:, :k], self.metric)

    def with_self(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """umap-learn's form: the row itself first (distance 0), then its k - 1 nearest."""
        n = len(self.indices)
        own = np.arange(n, dtype=np.int32)[:, None]
        return (
            np.hstack([own, self.indices[:, : k - 1]]),
            np.hstack([np.zeros((n, 1), np.float32), self.distances[:, : k - 1]]),
        )


@dataclass(frozen=True)
class Neighbours:
    """The run's graphs, one per space: `fit` in the space the projections see, `original` in the space the
    vectors were read in (the page's neighbour table, the quality numbers). The same graph when they are one space."""

    fit: Graph | None
    original: Graph | None
    table_note: str = ""  # why the page has no neighbour table, when it has none

    def table(self, k: int) -> np.ndarray | None:
        if self.table_note or self.original is None or k == 0:
            return None
        return self.original.take(k).indices


def find_neighbours(original, reduced, fit_k: int, table_k: int, measure_k: int, metric: str) -> Neighbours:
    """Each graph once, as deep as its deepest consumer: the projections' fit (`fit_k`, on `reduced`, or on
    `original` when `reduced` is None), the page's table (`table_k`) and the quality numbers (`measure_k`)."""
    n, dims = original.shape
    note = _table_note(n, dims, table_k)
    original_k = max(0 if note else table_k, measure_k)
    if reduced is None:
        graph = knn(original, max(fit_k, original_k), metric) if max(fit_k, original_k) else None
        return Neighbours(graph, graph, note)
    fit = knn(reduced, fit_k, metric) if fit_k else None
    return Neighbours(fit, knn(original, original_k, metric) if original_k else None, note)


def _table_note(n: int, dims: int, k: int) -> str:
    """Why the page gets no neighbour table ("" when it gets one): too many rows to carry, or too much work."""
    if k == 0:
        return "no neighbour table: --neighbours 0"
    if n < 2:
        return "no neighbours: only one point"
    if n > TABLE_ROWS:
        return f"no neighbour table: {n:,} points, over {TABLE_ROWS:,} (would add {n * k * 3.5 / 1e6:.1f} MB)"
    if float(n) * n * dims > TABLE_WORK:
        return f"no neighbour table: an exact search over {n:,} points × {dims:,} dims takes too long"
    return ""


def knn(X: np.ndarray, k: int, metric: str = "euclidean") -> Graph:
    """Each row of X's k nearest other rows by `metric` (any of scikit-learn's, such as euclidean, cosine,
    manhattan, correlation, chebyshev, minkowski), exact; k is lowered to n - 1 when there are fewer rows."""
    n = len(X)
    k = max(0, min(k, n - 1))
    if k == 0:
        return Graph(np.empty((n, 0), np.int32), np.empty((n, 0), np.float32), metric)
    m = min(k + MARGIN, n - 1)
    Z, squares = _prepared(X, metric)
    col_tile = max(1, TILE_VALUES // ROW_TILE)
    candidates = np.empty((n, m), dtype=np.int64)
    for start in range(0, n, ROW_TILE):
        rows = np.arange(start, min(n, start + ROW_TILE))
        best_d = np.empty((len(rows), 0), dtype=np.float32)
        best_i = np.empty((len(rows), 0), dtype=np.int64)
        for col_start in range(0, n, col_tile):
            cols = np.arange(col_start, min(n, col_start + col_tile))
            d = _tile(X, Z, squares, rows, cols, metric).astype(np.float32)
            d[np.isnan(d) | (rows[:, None] == cols[None, :])] = np.inf  # a row is not its own neighbour
            best_d, best_i = _merge(best_d, best_i, *_smallest(d, cols, m), m)
        candidates[rows] = best_i
    distances = _exact(X, candidates, metric)
    order = np.lexsort((candidates, distances), axis=-1)[:, :k]  # ties by row number
    indices = np.take_along_axis(candidates, order, 1)
    distances = np.take_along_axis(distances, order, 1)
    return Graph(indices.astype(np.int32), distances.astype(np.float32), metric)


def _prepared(X: np.ndarray, metric: str) -> tuple[np.ndarray, np.ndarray | None]:
    """The rows as the matrix products want them (float64; centred for correlation, unit length for cosine)
    and their squared norms (euclidean)."""
    if metric not in PRODUCT_METRICS:
        return X, None
    Z = X.astype(np.float64)
    if metric == "correlation":
        Z -= Z.mean(axis=1, keepdims=True)
    if metric != "euclidean":
        norms = np.sqrt(np.einsum("ij,ij->i", Z, Z))
        Z /= np.where(norms > 0, norms, 1.0)[:, None]  # a zero row stays zero: distance 1 to every other
        return Z, None
    return Z, np.einsum("ij,ij->i", Z, Z)


def _tile(X, Z, squares, rows: np.ndarray, cols: np.ndarray, metric: str) -> np.ndarray:
    """Distances (or, for euclidean, squared distances: the same order) between `rows` and `cols`, float64."""
    if metric == "euclidean":
        return squares[rows, None] + squares[None, cols] - 2.0 * (Z[rows] @ Z[cols].T)
    if metric in PRODUCT_METRICS:
        return 1.0 - Z[rows] @ Z[cols].T
    from sklearn.metrics import pairwise_distances

    return pairwise_distances(X[rows], X[cols], metric=metric, n_jobs=1).astype(np.float64)


def _smallest(d: np.ndarray, cols: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's m smallest distances in this tile and their columns; among equal distances at the boundary,
    the lowest columns (so the lowest row numbers)."""
    if d.shape[1] <= m:
        return d, np.broadcast_to(cols, d.shape)
    kth = np.partition(d, m - 1, axis=1)[:, m - 1 : m]
    below = d < kth
    at = d == kth
    need = m - below.sum(axis=1, keepdims=True)
    chosen = below | (at & (np.cumsum(at, axis=1) <= need))  # exactly m a row
    where = np.nonzero(chosen)[1].reshape(len(d), m)
    return np.take_along_axis(d, where, 1), cols[where]


def _merge(best_d, best_i, d: np.ndarray, cand: np.ndarray, m: int):
    """The m smallest of (the best so far, this tile's) per row, by (distance, row number)."""
    all_d, all_i = np.hstack([best_d, d]), np.hstack([best_i, cand])
    order = np.lexsort((all_i, all_d), axis=-1)[:, :m]
    return np.take_along_axis(all_d, order, 1), np.take_along_axis(all_i, order, 1)


def _exact(X: np.ndarray, indices: np.ndarray, metric: str) -> np.ndarray:
    """Each chosen pair's distance computed from the two vectors (float64), not from the products."""
    out = np.empty(indices.shape, dtype=np.float64)
    step = max(1, TILE_VALUES // max(1, indices.shape[1] * X.shape[1]))
    for start in range(0, len(X), step):
        a = X[start : start + step, None, :].astype(np.float64)
        b = X[indices[start : start + step]].astype(np.float64)
        out[start : start + step] = _pair(a, b, metric)
    return out


def _pair(a: np.ndarray, b: np.ndarray, metric: str) -> np.ndarray:
    if metric in ("euclidean", "minkowski"):  # scikit-learn's minkowski defaults to p = 2
        return np.sqrt(((a - b) ** 2).sum(-1))
    if metric == "manhattan":
        return np.abs(a - b).sum(-1)
    if metric == "chebyshev":
        return np.abs(a - b).max(-1)
    if metric == "correlation":
        a, b = a - a.mean(-1, keepdims=True), b - b.mean(-1, keepdims=True)
    if metric in ("cosine", "correlation"):
        na, nb = np.sqrt((a * a).sum(-1)), np.sqrt((b * b).sum(-1))
        with np.errstate(divide="ignore", invalid="ignore"):
            d = 1.0 - (a * b).sum(-1) / (na * nb)
        return np.where((na == 0) | (nb == 0), 1.0, np.clip(d, 0.0, 2.0))
    from sklearn.metrics import pairwise_distances

    return np.stack([pairwise_distances(a[i], b[i], metric=metric)[0] for i in range(len(a))])
