"""Exact nearest neighbours, blocked: the search neighbours/search.py uses while it is cheap.

A tile of rows × a tile of columns at a time, each tile small enough to stay in the CPU cache whatever N is,
keeping each row's best candidates as the column tiles go by. Euclidean, cosine and correlation distances come from
matrix products (float32); other metrics from scikit-learn's pairwise distances, tile by tile. Those choose a few
more candidates than k (`MARGIN`); the candidates' distances are then recomputed from the vectors themselves and
ranked by (distance, row), so a duplicate row is at distance 0 exactly (UMAP takes each point's first non-zero
distance as its local scale) and ties go to the lower row. A row whose k-th neighbour ties (to rounding) with rows
left out of its candidates is settled exactly, whatever the tiles.

Copies cost no search. Every row ties with its copies, so each row with copies had every one of them settled: n² ×
dims for n equal rows (3,000 equal rows of 1,000 dims took 98 s, random ones 1.5 s). Now the search runs over the
distinct vectors, and each row's neighbours are taken from its vector's: its own copies (at distance 0), then the
copies of each neighbour vector, ranked by (distance, row) as before. A row that cosine or correlation cannot
orient (zero, or constant) is at distance 1 from every row (`_pair`'s convention): its neighbours are the
lowest-numbered rows, found without a search.
"""

from __future__ import annotations

import numpy as np

PRODUCT_METRICS = ("euclidean", "cosine", "correlation")
TILE_VALUES = 1 << 21  # values per tile (8 MB of float32), so a tile's work stays in cache whatever N is
ROW_TILE = 512
PREPARE_ROWS = 65_536  # rows converted to float64 at a time
SETTLE_ROWS = 64  # rows settled at a time: each may tie with every row, so their candidates are held n at a time
SPREAD_VECTORS = 1_024  # vectors whose neighbours are spread over their copies at a time
MARGIN = 8  # candidates beyond k, for distances that the products' rounding puts in another order


def exact(X: np.ndarray, k: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k nearest other rows (1 <= k < n) by `metric`: int64 indices and float64 distances."""
    n = len(X)
    vector, first = copies(X)
    if len(first) < n:
        return _with_copies(X, vector, first, k, metric)
    space = Space(X, metric)
    m = min(k + MARGIN, n - 1)
    candidates, bound = np.empty((n, m), dtype=np.int64), np.empty(n)
    for rows in blocks(n, ROW_TILE):
        best_v, best_i = np.empty((len(rows), 0)), np.empty((len(rows), 0), dtype=np.int64)
        for cols in _columns(n, space.col_tile, m):
            best_v, best_i = _merge(best_v, best_i, space.tile(rows, cols), cols, m)
        candidates[rows], bound[rows] = best_i, best_v.max(axis=1)  # every row left out ranks at or above bound
    exact = pair_distances(X, candidates, metric)
    order = np.lexsort((candidates, exact), axis=-1)[:, :k]  # ties by row number
    indices, distances = np.take_along_axis(candidates, order, 1), np.take_along_axis(exact, order, 1)
    unoriented = np.flatnonzero(_unoriented(X, metric))  # every row at distance 1: the lowest-numbered
    lowest = np.broadcast_to(np.arange(k + 1), (len(unoriented), k + 1))
    indices[unoriented], distances[unoriented] = lowest[_others(lowest, unoriented)].reshape(-1, k), 1.0
    # A row is settled when its k-th distance ranks clearly below everything left out; else rows tie (or nearly)
    # at its k-th distance, and every row that close is fetched and ranked exactly.
    if metric not in PRODUCT_METRICS:  # the tiles hold distances rounded to float32: a few units of their last place
        space.slack = 4 * float(np.finfo(np.float32).eps) * float(np.abs(bound[np.isfinite(bound)]).max(initial=0.0))
    unsettled = np.flatnonzero(~(space.rank(distances[:, -1], np.arange(n)) < bound - space.slack))
    unsettled = np.setdiff1d(unsettled, unoriented, assume_unique=True)
    for rows in blocks(len(unsettled), SETTLE_ROWS):
        rows = unsettled[rows]
        indices[rows], distances[rows] = _settle(X, space, rows, space.rank(distances[rows, -1], rows) + space.slack, k)
    return indices, distances


def copies(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of equal values as one vector: each row's vector (vectors numbered in the order they first appear)
    and each vector's first row. Compared by their bytes once -0.0 is 0.0 (a zeroed row often mixes both)."""
    plain = np.ascontiguousarray(X) + X.dtype.type(0)  # -0.0 + 0.0 is 0.0; every other value stays as it is
    rows = plain.view(np.dtype((np.void, X.dtype.itemsize * X.shape[1]))).ravel()
    _, first, which = np.unique(rows, return_index=True, return_inverse=True)
    by_row = np.argsort(first)
    number = np.empty_like(by_row)
    number[by_row] = np.arange(len(by_row))
    return number[which.ravel()], first[by_row]


def _with_copies(X: np.ndarray, vector: np.ndarray, first: np.ndarray, k: int, metric: str):
    """`exact` for rows among which some are copies: the search runs over the distinct vectors, then each vector's
    list is its own copies (at distance 0, or 1 for a vector cosine cannot orient) and the copies of each of its
    k nearest vectors, each with at most k + 1 of its lowest rows; its k + 1 nearest rows by (distance, row) are
    among them (a row of a vector past the k nearest has a row of each of those before it). A row's neighbours are
    its vector's k + 1 nearest rows less itself."""
    n, nu = len(X), len(first)
    count = np.bincount(vector, minlength=nu)
    near, dist = exact(X[first], min(k, nu - 1), metric) if nu > 1 else (np.empty((1, 0), np.int64), np.empty((1, 0)))
    near = np.hstack([np.arange(nu)[:, None], near])  # its own vector first: nothing is nearer
    dist = np.hstack([_unoriented(X[first], metric).astype(np.float64)[:, None], dist])
    take = np.minimum(count[near], k + 1)
    last = np.argmax(np.cumsum(take, axis=1) >= k + 1, axis=1)  # the vector that completes k + 1 rows
    take[dist > dist[np.arange(nu), last][:, None]] = 0  # after it, only vectors tied with it can rank among them
    members = np.argsort(vector, kind="stable")  # each vector's rows together, in row order
    start = np.cumsum(count) - count
    lists, lists_d = np.empty((nu, k + 1), dtype=np.int64), np.empty((nu, k + 1))
    for block in blocks(nu, SPREAD_VECTORS):
        t = take[block].ravel()
        owner = np.repeat(np.repeat(np.arange(len(block)), near.shape[1]), t)
        rank = np.arange(t.sum()) - np.repeat(np.cumsum(t) - t, t)  # each row's place among its vector's
        rows, d = members[np.repeat(start[near[block].ravel()], t) + rank], np.repeat(dist[block].ravel(), t)
        order = np.lexsort((rows, d, owner))
        kept = order[(np.arange(len(order)) - np.searchsorted(owner[order], owner[order])) <= k]
        lists[block], lists_d[block] = rows[kept].reshape(-1, k + 1), d[kept].reshape(-1, k + 1)
    near, dist = lists[vector], lists_d[vector]
    keep = _others(near, np.arange(n))
    return near[keep].reshape(n, k), dist[keep].reshape(n, k)


def _others(near: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Which of each row's k + 1 nearest rows are its k nearest others: all but the row itself, or but the last."""
    keep = near != rows[:, None]
    keep[keep.all(axis=1), -1] = False
    return keep


def _unoriented(X: np.ndarray, metric: str) -> np.ndarray:
    """Which rows cosine (zero) or correlation (constant) cannot orient: `_pair` puts them at distance 1 from
    every row."""
    out = np.zeros(len(X), dtype=bool)
    if metric not in ("cosine", "correlation"):
        return out
    for block in blocks(len(X), PREPARE_ROWS):
        Z = X[block].astype(np.float64)
        if metric == "correlation":
            Z -= Z.mean(axis=1, keepdims=True)
        out[block] = ~(np.sqrt(np.einsum("ij,ij->i", Z, Z)) > 0)
    return out


class Nearest:
    """The exact k nearest rows of R for any rows given later: how a placed row finds the fitted rows near it.
    Each query is ranked by (distance, row) like `exact`."""

    def __init__(self, R: np.ndarray, metric: str) -> None:
        self.R, self.metric = R, metric
        self.space = Space(R, metric)

    def query(self, Q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """int64 indices into R and float32 distances, len(Q) × k."""
        k = min(k, len(self.R))
        m = min(k + MARGIN, len(self.R))
        out_i, out_d = np.empty((len(Q), k), dtype=np.int64), np.empty((len(Q), k), dtype=np.float32)
        for block in blocks(len(Q), ROW_TILE):
            prepared = self.space.prepare(Q[block])[0]
            best_v, best_i = np.empty((len(block), 0)), np.empty((len(block), 0), dtype=np.int64)
            for cols in _columns(len(self.R), self.space.col_tile, m):
                best_v, best_i = _merge(best_v, best_i, self.space.tile(block, cols, query=prepared), cols, m)
            d = pair_distances(Q[block], best_i, self.metric, self.R)
            order = np.lexsort((best_i, d), axis=-1)[:, :k]
            out_i[block], out_d[block] = np.take_along_axis(best_i, order, 1), np.take_along_axis(d, order, 1)
        return out_i, out_d


def exact_rows(X: np.ndarray, rows: np.ndarray, k: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest other rows of X for `rows` only (a sample, to measure an approximate search's recall). The
    rows are prepared a column tile at a time (`held=False`): a prepared copy of X would double a million rows'
    memory for a few hundred rows' search."""
    space = Space(X, metric, held=False)
    out_i, out_d = np.empty((len(rows), k), dtype=np.int64), np.empty((len(rows), k))
    for block in blocks(len(rows), ROW_TILE):
        chosen = rows[block]
        best_v, best_i = np.empty((len(chosen), 0)), np.empty((len(chosen), 0), dtype=np.int64)
        for cols in blocks(len(X), space.col_tile):
            v = space.tile(chosen, cols)
            best_v, best_i = _keep(
                np.hstack([best_v, v]), np.hstack([best_i, np.broadcast_to(cols, v.shape)]), k + MARGIN
            )
        d = pair_distances(X[chosen], best_i, metric, X)
        d[best_i == chosen[:, None]] = np.inf  # itself, kept when every row fits among the candidates
        order = np.lexsort((best_i, d), axis=-1)[:, :k]
        out_i[block], out_d[block] = np.take_along_axis(best_i, order, 1), np.take_along_axis(d, order, 1)
    return out_i, out_d


class Space:
    """The rows as the tiles rank them: by matrix products (float32) for euclidean (|c|² − 2x·c of the rows
    moved to their mean: the squared distance less |x|²), cosine and correlation (−x̂·ĉ), else by scikit-learn's
    distances. `rank` turns a true distance into those units; `slack` bounds their rounding. `held`: the rows are
    prepared once and kept (`Z`), else prepared again for each tile (the same values: each row is prepared alone)."""

    def __init__(self, X: np.ndarray, metric: str, held: bool = True) -> None:
        self.X, self.metric, self.held = X, metric, held
        self.col_tile = max(1, TILE_VALUES // ROW_TILE)
        # euclidean rows are moved to their mean first: a large common offset would drown |c|² − 2x·c in rounding
        self.shift = X.mean(axis=0, dtype=np.float64) if metric == "euclidean" and len(X) else None
        self.Z, self.squares = self.prepare(X, held)
        self.squares32 = self.squares.astype(np.float32) if self.squares is not None else None
        self.slack = 0.0
        if metric in PRODUCT_METRICS:  # float32 products: rounding of up to dims × eps × the largest |x|·|c|
            scale = float(self.squares.max(initial=0.0)) if self.squares is not None else 1.0
            self.slack = 4 * float(np.finfo(np.float32).eps) * (scale + 1.0) * X.shape[1]

    def prepare(self, X: np.ndarray, keep: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        """Rows as the products want them (float32, worked out in float64; moved by `shift` for euclidean,
        centred for correlation, unit length for cosine) and, for euclidean, their squared norms (float64); other
        metrics take the rows as they are. `keep=False`: the squared norms only (no rows)."""
        if self.metric not in PRODUCT_METRICS:
            return X, None
        out = np.empty(X.shape if keep else (0, X.shape[1]), dtype=np.float32)
        squares = np.empty(len(X)) if self.metric == "euclidean" else None
        for block in blocks(len(X), PREPARE_ROWS):  # in float64 a block at a time, not the whole matrix at once
            Z = X[block].astype(np.float64)
            if self.shift is not None:
                Z -= self.shift
            if self.metric == "correlation":
                Z -= Z.mean(axis=1, keepdims=True)
            if squares is not None:
                squares[block] = np.einsum("ij,ij->i", Z, Z)
            else:
                norms = np.sqrt(np.einsum("ij,ij->i", Z, Z))
                Z /= np.where(norms > 0, norms, 1.0)[:, None]  # a zero row stays zero: distance 1 to every other
            if keep:
                out[block] = Z
        return out, squares

    def rows(self, rows) -> np.ndarray:
        """The prepared rows `rows` (an index array or a slice)."""
        return self.Z[rows] if self.held else self.prepare(self.X[rows])[0]

    def tile(self, rows: np.ndarray, cols: np.ndarray, query: np.ndarray | None = None) -> np.ndarray:
        """Rank values between `rows` (any) and `cols` (a run of rows), lower is nearer; a row's own entry at
        infinity. With `query` (prepared rows from elsewhere), between those rows and `cols`."""
        first, end = int(cols[0]), int(cols[-1]) + 1
        left = self.rows(rows) if query is None else query
        if self.metric not in PRODUCT_METRICS:
            from sklearn.metrics import pairwise_distances

            v = pairwise_distances(left, self.X[first:end], metric=self.metric, n_jobs=1).astype(np.float32)
            v[np.isnan(v)] = np.inf
        else:  # float32 throughout: the ranking only chooses candidates, whose distances are recomputed exactly
            v = left @ self.rows(slice(first, end)).T
            if self.squares32 is not None:
                v *= -2.0
                v += self.squares32[first:end]
            else:
                np.negative(v, out=v)
        if query is None:
            own = (rows >= first) & (rows < end)  # a row is not its own neighbour
            v[np.flatnonzero(own), rows[own] - first] = np.inf
        return v

    def rank(self, distances: np.ndarray, rows: np.ndarray) -> np.ndarray:
        if self.squares is not None:
            return distances.astype(np.float64) ** 2 - self.squares[rows]
        if self.metric in PRODUCT_METRICS:
            return distances - 1.0
        return distances


def _columns(n: int, size: int, m: int):
    """Column tiles: a narrow first one (its m best are found by a partition, which costs per entry), then tiles
    of `size`, where only entries below each row's worst so far are gathered."""
    first = min(n, max(4 * m, 256))
    yield np.arange(first)
    for start in range(first, n, size):
        yield np.arange(start, min(n, start + size))


def blocks(n: int, size: int):
    for start in range(0, n, size):
        yield np.arange(start, min(n, start + size))


def smallest(v: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's m smallest values of v and their columns, in no order (every column when there are no more than
    m): a narrow first tile partitioned, then only the entries below each row's worst so far gathered (`_merge`),
    ~4 times cheaper than partitioning whole rows of a few thousand."""
    best_v, best_i = np.empty((len(v), 0), dtype=v.dtype), np.empty((len(v), 0), dtype=np.int64)
    for cols in _columns(v.shape[1], v.shape[1], m) if v.shape[1] else ():
        best_v, best_i = _merge(best_v, best_i, v[:, cols[0] : cols[-1] + 1], cols, m)
    return best_v, best_i


def _merge(best_v: np.ndarray, best_i: np.ndarray, v: np.ndarray, cols: np.ndarray, m: int):
    """The m best of (the best so far, this tile), per row. Once a row has m, only the tile's entries below its
    worst are gathered (a comparison over the tile, not a partition: most tiles hold few such entries)."""
    if best_v.shape[1] < m:
        if v.shape[1] > m:  # the tile's own m best first: a partition of the tile, then a small merge
            pick = np.argpartition(v, m - 1, axis=1)[:, :m]
            v, cols = np.take_along_axis(v, pick, 1), cols[pick]
        return _keep(np.hstack([best_v, v]), np.hstack([best_i, np.broadcast_to(cols, v.shape)]), m)
    hit_rows, hit_cols = np.nonzero(v < best_v.max(axis=1)[:, None])
    if not len(hit_rows):
        return best_v, best_i
    counts = np.bincount(hit_rows, minlength=len(v))
    slot = np.arange(len(hit_rows)) - (np.cumsum(counts) - counts)[hit_rows]  # each hit's place in its row
    more_v = np.full((len(v), int(counts.max())), np.inf)
    more_i = np.zeros(more_v.shape, dtype=np.int64)
    more_v[hit_rows, slot], more_i[hit_rows, slot] = v[hit_rows, hit_cols], cols[hit_cols]
    return _keep(np.hstack([best_v, more_v]), np.hstack([best_i, more_i]), m)


def _keep(values: np.ndarray, indices: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """The m smallest values of each row and their indices (in no order)."""
    if values.shape[1] <= m:
        return values, indices
    part = np.argpartition(values, m - 1, axis=1)[:, :m]
    return np.take_along_axis(values, part, 1), np.take_along_axis(indices, part, 1)


def _settle(X: np.ndarray, space: Space, rows: np.ndarray, limit: np.ndarray, k: int):
    """For rows whose k-th neighbour ties with rows left out: every row that ranks within `limit`, ranked by
    exact distance, then row number."""
    near: list[list[np.ndarray]] = [[] for _ in rows]
    for cols in blocks(len(X), space.col_tile):
        for j, hits in enumerate(space.tile(rows, cols) <= limit[:, None]):
            near[j].append(cols[hits])
    out_i, out_d = np.empty((len(rows), k), dtype=np.int64), np.empty((len(rows), k))
    for j, row in enumerate(rows):
        cand = np.concatenate(near[j])
        exact = pair_distances(X[[row]], cand[None, :], space.metric, X)[0]
        order = np.lexsort((cand, exact))[:k]
        out_i[j], out_d[j] = cand[order], exact[order]
    return out_i, out_d


def pair_distances(X: np.ndarray, indices: np.ndarray, metric: str, among: np.ndarray | None = None) -> np.ndarray:
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
