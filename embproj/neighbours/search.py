"""The nearest-neighbour function: each row's k nearest other rows by the run's metric, found once per run and
read by every consumer: UMAP (`precomputed_knn`), openTSNE (its affinities), the page's click-for-neighbours table
and the quality numbers.

Exact (neighbours/exact.py, blocked matrix products) while that is cheap: up to `EXACT_WORK` of n² × dims, about 45,000
rows of 50 dims, ~30 s on 2 cores (measured at 50 dims: 0.5 / 1.3 / 4.5 / 19 s for 5k / 10k / 20k / 40k rows).
Above, approximate: each row searched exactly among the rows of a few nearby cells (neighbours/cells.py, the same matrix
products, seeded: the same seed gives the same graph), with its recall against the exact neighbours of a seeded
sample of rows measured and reported. On 20 Gaussian blobs of 128 dims, 100,000 rows, k = 10: recall 0.96 in
~14 s on 2 busy cores. pynndescent's NN-descent, used here before, found 0.78 (searching 20, keeping 10) in ~10 s
after a numba compile of ~50 s that every process pays; at 1,000,000 rows it took 468 s for a recall of 0.457.
With the default --fit-points (20,000) and --max-dims (50) the projections' graph is always exact. Rows placed
later find their nearest fitted rows exactly too (`index`, knn_exact.Nearest).

The page's table covers every plotted row up to --neighbour-rows (default and most: `TABLE_ROWS`, the size
measured in benchmarks/neighbours.py): at 1,000,000 rows it weighs ~20 MB (~20 B a point), so a 1M-point page
weighs ~35 MB with it, and the search over 1,000,000 × 128 takes ~2 minutes. The graph over every row is kept in
the projection cache with the maps (pipeline._neighbours), so a run that takes its maps from the cache does not
search again. With --engine dask the vectors stay on the workers, so the table is made only up to `GATHER_ROWS`
rows, the ones this process gathers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

EXACT_WORK = 1e11  # n² × dims up to which the search is exact (~30 s); above, the cell search
RECALL_ROWS = 200  # rows whose exact neighbours measure an approximate search
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
    cached: bool = False  # taken from the projection cache, not searched in this run

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
        if self.cached:
            out["cache"] = "hit"
        return out


def search_facts() -> dict:
    """What a graph found by `knn` depends on beside its rows, k, metric and seed (the projection cache's key)."""
    from embproj.neighbours.cells import CELL_CAP, CELL_ROWS, PROBE

    return {"exact_work": EXACT_WORK, "recall_rows": RECALL_ROWS, "cells": [CELL_ROWS, CELL_CAP, PROBE]}


def within(k: int, n: int) -> int:
    """k ≤ n − 1: of n rows, each has at most n − 1 others to be near (the graphs, UMAP's n_neighbors, t-SNE's
    three times the perplexity all ask for at most that many)."""
    return max(0, min(k, n - 1))


def knn(X: np.ndarray, k: int, metric: str = "euclidean", seed: int = 0, index: bool = False) -> Graph:
    """Each row of X's k nearest other rows by `metric` (euclidean, cosine, manhattan, correlation, chebyshev,
    minkowski), k `within` the rows. `index`: also keep a search over X for rows given later (exact), to place
    new rows near the rows they are nearest to."""
    n = len(X)
    k = within(k, n)
    if k == 0:
        return Graph(np.empty((n, 0), np.int32), np.empty((n, 0), np.float32), metric)
    from embproj.neighbours.exact import Nearest, exact

    search = Nearest(X, metric) if index else None
    if float(n) * n * X.shape[1] <= EXACT_WORK:
        indices, distances = exact(X, k, metric)
        return Graph(indices.astype(np.int32), distances.astype(np.float32), metric, index=search)
    from embproj.neighbours.cells import cells_knn

    indices, distances = _complete(X, *cells_knn(X, k, metric, seed), metric)
    graph = Graph(indices, distances, metric, exact=False, index=search)
    return replace(graph, recall=recall(X, graph, seed))


def _complete(X: np.ndarray, indices: np.ndarray, distances: np.ndarray, metric: str):
    """The cell search leaves -1 where a row's cells held too few others (a row listed twice would be wrong
    too): those rows get their exact neighbours, so that every row lists k distinct others (the page's table
    relies on it)."""
    from embproj.neighbours.exact import exact_rows

    ordered = np.sort(indices, axis=1)
    bad = np.flatnonzero((ordered[:, 0] < 0) | (np.diff(ordered, axis=1) == 0).any(axis=1))
    if bad.size:
        indices, distances = indices.copy(), distances.copy()
        indices[bad], distances[bad] = exact_rows(X, bad, indices.shape[1], metric)
    return indices, distances


def recall(X: np.ndarray, graph: Graph, seed: int, rows: int = RECALL_ROWS) -> float:
    """The share of each sampled row's true k nearest that `graph` holds, averaged over a seeded sample."""
    from embproj.neighbours.exact import exact_rows

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


@dataclass(frozen=True)
class Rows:
    """The vectors the graphs are found over, as the pipeline hands them (from its engine: engine/base.py)."""

    fitted: np.ndarray  # the rows `fit`, as the projections see them (pre-reduced, or as read)
    fit: np.ndarray  # their positions among the `n` rows, ascending
    n: int
    every_row: Callable[[], np.ndarray]  # every row as read, brought here only when a graph over them is made
    reduced: bool = False  # the projections see a PCA pre-reduction, not the vectors as read
    held: bool = False  # the rows are a Dask cluster's: at most `GATHER_ROWS` of them are brought here

    @classmethod
    def here(cls, X: np.ndarray, reduced: np.ndarray | None = None, fit: np.ndarray | None = None) -> Rows:
        """Rows in this process: X as read, `reduced` as the projections see them (None: X), fitted on the rows
        `fit` (None: every row)."""
        fit = np.arange(len(X)) if fit is None else fit
        space = X if reduced is None else reduced
        return cls(space if len(fit) == len(X) else space[fit], fit, len(X), lambda: X, reduced is not None)


@dataclass(frozen=True)
class Wanted:
    """How deep each consumer reads the run's graphs, and how they are found."""

    fit: int  # the maps' fit: UMAP's n_neighbors, t-SNE's three times the perplexity
    table: int  # the page's table (--neighbours)
    measure: int  # the quality numbers
    metric: str = "euclidean"
    seed: int = 0
    index: bool = False  # rows are to be placed: keep a search over the fitted rows
    table_rows: int = TABLE_ROWS  # the page gets its table up to this many rows (--neighbour-rows)
    # what the fit of every map of the run would read, when `fit` is for some of them only (the others came from
    # the projection cache), so that the graph over every row is as deep (and so the same) either way
    planned: int = 0


def find_neighbours(rows: Rows, wanted: Wanted, search: Callable[..., Graph] = knn) -> Neighbours:
    """Each graph once, as deep as its deepest consumer (`wanted`): the projections' fit, over `rows.fitted`, with
    a search index when rows are to be placed; the page's table and the quality numbers, over every row as read.
    `search`: `knn`, or what stands in for it for the graph over every row (the projection cache's, cache.py)."""
    n, w = rows.n, wanted
    note = _table_note(n, w.table, gathered=rows.held, limit=w.table_rows)
    original_k = max(0 if note else w.table, w.measure)
    shared = not rows.reduced and len(rows.fit) == n and not w.index  # the fitted rows are every row as read

    def every_row(k: int) -> Graph | None:
        return search(rows.fitted if shared else rows.every_row(), k, w.metric, w.seed) if k else None

    if shared:
        graph = every_row(max(w.fit, w.planned, original_k))
        return Neighbours(graph, graph, note)
    fit = knn(rows.fitted, w.fit, w.metric, w.seed, index=w.index) if w.fit else None
    return Neighbours(fit, every_row(original_k), note)


def _table_note(n: int, k: int, gathered: bool = False, limit: int = TABLE_ROWS) -> str:
    """Why the page gets no neighbour table ("" when it gets one). `gathered`: the vectors are on a Dask
    cluster's workers and would have to come here; `limit`: --neighbour-rows."""
    from embproj.options import say

    if k == 0:
        return f"no neighbour table: {say('neighbours', 0)}"
    if n < 2:
        return "no neighbours: only one point"
    adds = f"would add {n * k * TABLE_BYTES / 10 / 1e6:.1f} MB"
    if gathered and n > GATHER_ROWS:
        return (
            f"no neighbour table: {n:,} points on the Dask cluster, over the {GATHER_ROWS:,} whose vectors are "
            f"gathered here for it ({say('engine', 'local')} finds them for every row; {adds})"
        )
    if n > TABLE_ROWS:
        return f"no neighbour table: {n:,} points, over {TABLE_ROWS:,} ({adds})"
    if n > limit:
        return (
            f"no neighbour table: {n:,} points, over {say('neighbour_rows', limit)} ({say('neighbour_rows', n)} "
            f"makes it; {adds})"
        )
    return ""
