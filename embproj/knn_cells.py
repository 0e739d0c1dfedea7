"""Approximate nearest neighbours, for tables too large for the exact search: knn.py uses it above `EXACT_WORK`.

The rows are split into cells: a seeded sample of about one row in `CELL_ROWS` are the cells' centres, and each
row belongs to the cell of its nearest centre. A row's neighbours are then searched exactly (knn_exact's tiles,
the same ranking by distance, then row) among the rows of its own cell and of the `PROBE` cells whose centres are
nearest to its cell's centre: a few thousand candidates a row, in one matrix product a cell. The work grows as
n × candidates × dims, linearly in n, and is plain numpy and BLAS: nothing to compile. The same seed gives the
same cells, so the same graph. knn.py measures the recall on a seeded sample of rows and reports it.

Measured on 20 Gaussian blobs of 128 dims (100,000 rows, k = 10, on 2 busy cores), recall / seconds by cell size
and probes: 1000 rows × 4 cells 0.876 / 24 s; 500 × 8 0.985 / 23 s; 500 × 6 0.968 / 15 s; 250 × 12 0.815 / 18 s;
250 × 8 0.667 / 18 s; 2000 × 4 0.919 / 25 s. pynndescent's NN-descent, which this replaced (it searched 20 and
kept k): 0.78 in ~10 s, after a numba compile of ~50 s that every process pays (it cannot be cached).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

CELL_ROWS = 500  # rows a cell holds, on average
ASSIGN_ROWS = 4_096  # rows given their cell at a time
PROBE = 6  # cells searched for a row's neighbours: its own and the nearest others, by their centres


def cells_knn(X: np.ndarray, k: int, metric: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k nearest other rows among its cell's and the nearby cells' rows: int32 indices and float32
    distances, nearest first; -1 where a row's cells hold fewer than k others (knn.py completes those)."""
    from .knn_exact import Nearest
    from .place import usable_cores

    n = len(X)
    centres = np.sort(np.random.default_rng(seed).choice(n, max(1, n // CELL_ROWS), replace=False))
    C = np.ascontiguousarray(X[centres])
    cell = _nearest_centre(X, C, metric)
    nearby = Nearest(C, metric).query(C, min(PROBE, len(C)))[0]
    order = np.argsort(cell, kind="stable")
    starts = np.searchsorted(cell[order], np.arange(len(C) + 1))
    members = [order[starts[c] : starts[c + 1]] for c in range(len(C))]
    indices = np.full((n, k), -1, dtype=np.int32)
    distances = np.full((n, k), np.inf, dtype=np.float32)

    def search(c: int) -> None:
        rows = members[c]
        if len(rows) == 0:
            return
        near = [c, *(d for d in nearby[c] if d != c)][:PROBE]  # its own cell first, even among equal centres
        candidates = np.concatenate([members[d] for d in near])
        found, found_distances = _nearest_among(X, rows, candidates, k, metric)
        indices[rows, : found.shape[1]], distances[rows, : found.shape[1]] = found, found_distances

    with ThreadPoolExecutor(usable_cores(), thread_name_prefix="embproj-cells") as pool:
        list(pool.map(search, range(len(C))))  # each cell writes its own rows: the same graph on any number
    return indices, distances


def _nearest_centre(X: np.ndarray, C: np.ndarray, metric: str) -> np.ndarray:
    """Each row's nearest centre by the tiles' ranking (any fixed rule makes cells; this one is a matrix product
    and an argmin a block of rows)."""
    from .knn_exact import _blocks, _Space

    space, columns = _Space(C, metric), np.arange(len(C))
    cell = np.empty(len(X), dtype=np.int64)
    for block in _blocks(len(X), ASSIGN_ROWS):
        cell[block] = np.argmin(space.tile(block, columns, query=space.prepare(X[block])[0]), axis=1)
    return cell


def _nearest_among(X: np.ndarray, rows: np.ndarray, candidates: np.ndarray, k: int, metric: str):
    """`rows`' k nearest others among `candidates` (global row numbers, nearest first, ties to the lower row),
    which begin with `rows` themselves."""
    from .knn_exact import MARGIN, _exact, _Space

    R = X[candidates]
    space = _Space(R, metric)
    v = space.tile(rows, np.arange(len(candidates)), query=space.prepare(X[rows])[0])
    own = np.arange(len(rows))
    v[own, own] = np.inf  # a row is not its own neighbour: the candidates begin with the cell's own rows
    m = min(k + MARGIN, len(candidates))
    pick = np.argpartition(v, m - 1, axis=1)[:, :m] if v.shape[1] > m else np.tile(np.arange(m), (len(rows), 1))
    exact = _exact(X[rows], pick, metric, R)
    exact[np.take_along_axis(v, pick, 1) == np.inf] = np.inf
    ranked = np.lexsort((candidates[pick], exact), axis=-1)[:, : min(k, len(candidates) - 1)]
    found, found_distances = candidates[np.take_along_axis(pick, ranked, 1)], np.take_along_axis(exact, ranked, 1)
    found[~np.isfinite(found_distances)] = -1
    return found.astype(np.int32), found_distances.astype(np.float32)
