"""Placing rows into a fitted map, one callable per projector. Each pickles with what it needs (the fitted model),
so that the same placer runs in this process or on a Dask worker and gives the same coordinates; and the rows to
place cut into `batches`, the same on every engine (a row's coordinates depend on the rows placed with it)."""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

PLACE_BATCH = 10_000  # rows placed at a time; fixed, so the same input is placed in the same batches


def batches(n: int, fit: np.ndarray) -> list[np.ndarray]:
    """The rows of `n` not in `fit` (ascending), in order, `PLACE_BATCH` at a time."""
    rest = np.setdiff1d(np.arange(n), fit, assume_unique=True)
    return [rest[begin : begin + PLACE_BATCH] for begin in range(0, len(rest), PLACE_BATCH)]


def place_rows(X: np.ndarray, placer: Placer, fit: np.ndarray, Y: np.ndarray, progress=None) -> np.ndarray:
    """Every row of X's coordinates: the rows `fit`'s `Y`, the others placed batch by batch, a thread each when
    the placer can (`Placer.threads`); `progress(rows)` as each batch is done."""
    xy = np.empty((len(X), 2), dtype=np.float32)
    xy[fit] = Y
    todo = batches(len(X), fit)

    def one(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return rows, np.asarray(placer(X[rows]), dtype=np.float32)

    threads = min(len(todo), placer.threads())
    pool = ThreadPoolExecutor(threads, thread_name_prefix="embproj-place") if threads > 1 else None
    try:  # each batch is placed alone, so a thread each gives the coordinates of one after the other
        for rows, placed in pool.map(one, todo) if pool else map(one, todo):
            xy[rows] = placed
            if progress is not None:
                progress(len(rows))
    finally:
        if pool is not None:  # on an error or an interrupt, the batches not started are dropped
            pool.shutdown(wait=True, cancel_futures=True)
    return xy


class Placer:
    """A placer is called with a batch of rows and returns their (n, 2) coordinates."""

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def threads(self) -> int:
        """How many batches can be placed at once, a thread each: 1 unless the placer says otherwise."""
        return 1


@dataclass
class AtOrigin(Placer):
    """Every vector was the same: every row sits at (0, 0)."""

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        return np.zeros((len(rows), 2), dtype=np.float32)


@dataclass
class PcaPlacer(Placer):
    """Exact: the fitted components, applied."""

    pca: Any
    k: int

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        Y = self.pca.transform(rows)
        return np.column_stack([Y, np.zeros((len(Y), 2 - self.k))]) if self.k < 2 else Y  # one row or dim: flat


@dataclass
class UmapPlacer(Placer):
    """umap-learn's `UMAP.transform` (fast/umap_transform.py), with umap-learn's kernels cached where that can be
    done."""

    model: Any

    def threads(self) -> int:
        """How many batches can be placed at once, a thread each: every core when the layout kernels run
        without Python's lock (fast/umap_kernels.py) and the search index can be asked from several threads
        (fast/umap_search.py), else 1."""
        from embproj.fast.umap_kernels import load_umap, without_gil
        from embproj.fast.umap_search import shareable

        load_umap()
        return usable_cores() if without_gil() and shareable(self.model) else 1

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        from embproj.fast.umap_kernels import fit
        from embproj.fast.umap_transform import transform

        def run(umap):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return transform(self.model, np.ascontiguousarray(rows, dtype=np.float32))

        return fit(run)


def usable_cores() -> int:
    """The cores this process may run on."""
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass
class TsnePlacer(Placer):
    """openTSNE's own placement of new points into a fitted embedding (`TSNEEmbedding.transform`)."""

    embedding: Any

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return np.asarray(self.embedding.transform(np.ascontiguousarray(rows, dtype=np.float64)))


def searchable(indices: np.ndarray, distances: np.ndarray, search):
    """openTSNE's precomputed neighbours, which can also be asked for new rows' nearest fitted rows."""
    return _searchable_class()(indices, distances, search)


_CLASS: list = []


def _searchable_class():
    if not _CLASS:
        from openTSNE.nearest_neighbors import PrecomputedNeighbors

        class Searchable(PrecomputedNeighbors):
            def __init__(self, neighbors, distances, search) -> None:
                super().__init__(neighbors, distances)
                self.search = search

            def query(self, query, k):
                return self.search.query(np.ascontiguousarray(query, dtype=np.float32), k)

            def __reduce__(self):
                return (searchable, (self.indices, self.distances, self.search))

        _CLASS.append(Searchable)
    return _CLASS[0]
