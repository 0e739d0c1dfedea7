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
    space = _Space(X, metric)
    m = min(k + MARGIN, n - 1)
    candidates, bound = np.empty((n, m), dtype=np.int64), np.empty(n)
    for rows in _blocks(n, ROW_TILE):
        best_v, best_i = np.empty((len(rows), 0)), np.empty((len(rows), 0), dtype=np.int64)
        for cols in _blocks(n, space.col_tile):
            v = space.tile(rows, cols)
            pick = (
                np.argpartition(v, m - 1, axis=1)[:, :m]
                if v.shape[1] > m
                else np.broadcast_to(np.arange(v.shape[1]), v.shape)
            )
            best_v, best_i = _keep(
                np.hstack([best_v, np.take_along_axis(v, pick, 1)]), np.hstack([best_i, cols[pick]]), m
            )
        candidates[rows], bound[rows] = best_i, best_v.max(axis=1)  # every row left out ranks at or above bound
    exact = _exact(X, candidates, metric)
    order = np.lexsort((candidates, exact), axis=-1)[:, :k]  # ties by row number
    indices, distances = np.take_along_axis(candidates, order, 1), np.take_along_axis(exact, order, 1)
    # A row is settled when its k-th distance ranks clearly below everything left out; else rows tie (or nearly)
    # at its k-th distance, and every row that close is fetched and ranked exactly.
    unsettled = np.flatnonzero(~(space.rank(distances[:, -1], np.arange(n)) < bound - space.slack))
    for rows in _blocks(len(unsettled), ROW_TILE):
        rows = unsettled[rows]
        indices[rows], distances[rows] = _settle(X, space, rows, space.rank(distances[rows, -1], rows) + space.slack, k)
    return Graph(indices.astype(np.int32), distances.astype(np.float32), metric)


class _Space:
    """The rows as the tiles rank them: by matrix products (float64) for euclidean (|c|² − 2x·c, the squared
    distance less |x|²), cosine and correlation (−x̂·ĉ), else by scikit-learn's distances. `rank` turns a true
    distance into those units; `slack` bounds their rounding."""

    def __init__(self, X: np.ndarray, metric: str) -> None:
        self.X, self.metric = X, metric
        self.col_tile = max(1, TILE_VALUES // ROW_TILE)
        self.squares = None
        self.slack = 0.0
        if metric in PRODUCT_METRICS:
            Z = X.astype(np.float64)
            if metric == "correlation":
                Z -= Z.mean(axis=1, keepdims=True)
            if metric == "euclidean":
                self.squares = np.einsum("ij,ij->i", Z, Z)
                scale = float(self.squares.max(initial=0.0))
            else:
                norms = np.sqrt(np.einsum("ij,ij->i", Z, Z))
                Z /= np.where(norms > 0, norms, 1.0)[:, None]  # a zero row stays zero: distance 1 to every other
                scale = 1.0
            self.Z = Z
            self.slack = 1e-9 * (scale + 1.0) * X.shape[1]

    def tile(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Rank values between `rows` (any) and `cols` (a run of rows), lower is nearer; a row's own entry at
        infinity."""
        first, end = int(cols[0]), int(cols[-1]) + 1
        if self.metric not in PRODUCT_METRICS:
            from sklearn.metrics import pairwise_distances

            v = pairwise_distances(self.X[rows], self.X[first:end], metric=self.metric, n_jobs=1).astype(np.float64)
        else:
            v = self.Z[rows] @ self.Z[first:end].T
            v *= -2.0 if self.squares is not None else -1.0
            if self.squares is not None:
                v += self.squares[first:end]
        v[np.isnan(v)] = np.inf
        own = (rows >= first) & (rows < end)  # a row is not its own neighbour
        v[np.flatnonzero(own), rows[own] - first] = np.inf
        return v

    def rank(self, distances: np.ndarray, rows: np.ndarray) -> np.ndarray:
        if self.squares is not None:
            return distances.astype(np.float64) ** 2 - self.squares[rows]
        if self.metric in PRODUCT_METRICS:
            return distances - 1.0
        return distances


def _blocks(n: int, size: int):
    for start in range(0, n, size):
        yield np.arange(start, min(n, start + size))


def _keep(values: np.ndarray, indices: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """The m smallest values of each row and their indices (in no order)."""
    if values.shape[1] <= m:
        return values, indices
    part = np.argpartition(values, m - 1, axis=1)[:, :m]
    return np.take_along_axis(values, part, 1), np.take_along_axis(indices, part, 1)


def _settle(X: np.ndarray, space: _Space, rows: np.ndarray, limit: np.ndarray, k: int):
    """For rows whose k-th neighbour ties with rows left out: every row that ranks within `limit`, ranked by
    exact distance, then row number."""
    near: list[list[np.ndarray]] = [[] for _ in rows]
    for cols in _blocks(len(X), space.col_tile):
        for j, hits in enumerate(space.tile(rows, cols) <= limit[:, None]):
            near[j].append(cols[hits])
    out_i, out_d = np.empty((len(rows), k), dtype=np.int64), np.empty((len(rows), k))
    for j, row in enumerate(rows):
        cand = np.concatenate(near[j])
        exact = _exact(X[[row]], cand[None, :], space.metric, X)[0]
        order = np.lexsort((cand, exact))[:k]
        out_i[j], out_d[j] = cand[order], exact[order]
    return out_i, out_d


def _exact(X: np.ndarray, indices: np.ndarray, metric: str, among: np.ndarray | None = None) -> np.ndarray:
    """Each pair's distance (row i of X, row indices[i, j] of `among`, default X) computed from the two vectors
    in float64, not from the products."""
    among = X if among is None else among
    out = np.empty(indices.shape, dtype=np.float64)
    step = max(1, TILE_VALUES // max(1, indices.shape[1] * X.shape[1]))
    for start in range(0, len(X), step):
        a = X[start : start + step, None, :].astype(np.float64)
        b = among[indices[start : start + step]].astype(np.float64)
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
