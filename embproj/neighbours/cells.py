"""Approximate nearest neighbours, for tables too large for the exact search: neighbours/search.py uses it above
`EXACT_WORK`.

The rows are split into cells: a seeded sample of about one row in `CELL_ROWS` are the cells' centres, and each
row belongs to the cell of its nearest centre (by knn_exact's float32 ranking). A row's neighbours are then
searched among the rows of its own cell and of the `PROBE` - 1 cells whose centres are nearest to its cell's
centre: a few thousand candidates a row, ranked by one matrix product a block of a cell's rows, the best few by
exact distance. A cell gives at most `CELL_CAP` rows as candidates and is searched `CELL_ROWS` rows at a time, so
that many equal rows (which all fall into one cell) keep the memory and each row's work bounded. The work grows
as n × candidates × dims, linearly in n, and is plain numpy and BLAS: nothing to compile. The same seed gives the
same cells, so the same graph. neighbours/search.py measures the recall on a seeded sample of rows and reports it.

Measured on 20 Gaussian blobs of 128 dims (100,000 rows, k = 10, on 2 busy cores), recall / seconds by cell size
and probes: 1000 rows × 4 cells 0.876 / 24 s; 500 × 8 0.985 / 23 s; 500 × 6 0.968 / 15 s; 250 × 12 0.815 / 18 s;
250 × 8 0.667 / 18 s; 2000 × 4 0.919 / 25 s. pynndescent's NN-descent, which this replaced (it searched 20 and
kept k): 0.78 in ~10 s, after a numba compile of ~50 s that every process pays (it cannot be cached).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

CELL_ROWS = 500  # rows a cell holds, on average; a cell's rows are searched this many at a time
CELL_CAP = 4 * CELL_ROWS  # the most rows a cell gives as candidates (equal rows all fall into one cell)
ASSIGN_ROWS = 4_096  # rows given their cell at a time
PROBE = 6  # cells searched for a row's neighbours: its own and the 5 nearest others, by their centres


def cells_knn(X: np.ndarray, k: int, metric: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k nearest other rows among its cell's and the nearby cells' rows: int32 indices and float32
    distances, nearest first; -1 (at distance inf) where a row's cells hold fewer than k others (neighbours/search.py
    completes those)."""
    from embproj.memory import give_back
    from embproj.neighbours.exact import Nearest
    from embproj.project.place import usable_cores

    n = len(X)
    centres = np.sort(np.random.default_rng(seed).choice(n, max(1, n // CELL_ROWS), replace=False))
    C = np.ascontiguousarray(X[centres])
    cell = _nearest_centre(X, C, metric)
    order = np.argsort(cell, kind="stable")
    starts = np.searchsorted(cell[order], np.arange(len(C) + 1))
    filled = np.flatnonzero(np.diff(starts))  # a centre equal to an earlier one gets no rows: it is left out
    members = [order[starts[c] : starts[c + 1]] for c in filled]
    C = C[filled]
    nearby = Nearest(C, metric).query(C, min(PROBE, len(C)))[0]
    indices = np.full((n, k), -1, dtype=np.int32)
    distances = np.full((n, k), np.inf, dtype=np.float32)

    def search(c: int) -> None:
        near = [c, *(d for d in nearby[c] if d != c)][:PROBE]  # its own cell first
        candidates = np.concatenate([members[d][:CELL_CAP] for d in near])
        found, found_distances = _search_cell(X, members[c], candidates, k, metric)
        width = found.shape[1]
        indices[members[c], :width], distances[members[c], :width] = found, found_distances

    with ThreadPoolExecutor(usable_cores(), thread_name_prefix="embproj-cells") as pool:
        list(pool.map(search, range(len(members))))  # each cell writes its own rows: the same on any threads
    give_back()  # what the threads' blocks left in their malloc arenas: ~700 MB at a million rows
    return indices, distances


def _nearest_centre(X: np.ndarray, C: np.ndarray, metric: str) -> np.ndarray:
    """Each row's nearest centre by the tiles' ranking (any fixed rule makes cells; this one is a matrix product
    and an argmin a block of rows); of equal centres, the first."""
    from embproj.neighbours.exact import Space, blocks

    space, columns = Space(C, metric), np.arange(len(C))
    cell = np.empty(len(X), dtype=np.int64)
    for block in blocks(len(X), ASSIGN_ROWS):
        rows = space.prepare(X[block])[0]
        cell[block] = np.argmin(space.tile(block, columns, query=rows), axis=1)
    return cell


def _search_cell(X: np.ndarray, rows: np.ndarray, candidates: np.ndarray, k: int, metric: str):
    """`rows`' k nearest others among `candidates` (global row numbers; they begin with the first `CELL_CAP` of
    `rows`), nearest first by exact distance, `CELL_ROWS` rows at a time. Among more equal candidates than it
    keeps, which ones a row gets is fixed but not the lowest rows."""
    from embproj.neighbours.exact import MARGIN, Space, pair_distances, smallest

    R = X[candidates]
    space = Space(R, metric)
    m = min(k + MARGIN, len(candidates))
    found = np.full((len(rows), min(k, len(candidates) - 1)), -1, dtype=np.int32)
    found_distances = np.full(found.shape, np.inf, dtype=np.float32)
    for begin in range(0, len(rows), CELL_ROWS):
        block = rows[begin : begin + CELL_ROWS]
        v = space.tile(block, np.arange(len(candidates)), query=space.prepare(X[block])[0])
        own = np.arange(begin, begin + len(block))
        inside = own < min(CELL_CAP, len(rows))  # a row is not its own neighbour
        v[np.flatnonzero(inside), own[inside]] = np.inf
        ranks, pick = smallest(v, m)
        exact = pair_distances(X[block], pick, metric, R)
        exact[ranks == np.inf] = np.inf
        ranked = np.lexsort((candidates[pick], exact), axis=-1)[:, : found.shape[1]]
        near, near_distances = candidates[np.take_along_axis(pick, ranked, 1)], np.take_along_axis(exact, ranked, 1)
        near[~np.isfinite(near_distances)] = -1
        found[begin : begin + len(block)], found_distances[begin : begin + len(block)] = near, near_distances
    return found, found_distances
