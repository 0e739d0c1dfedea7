"""The numbers of a comparison: each side's matrix rescaled and reduced as `project` does it, each side's
neighbours found by the report's one search (neighbours/search.py), each row's change from them, the BEFORE map,
and the AFTER map aligned to it (compare/align.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from embproj import cache
from embproj.comparison.align import aligned_map, how_aligned
from embproj.comparison.change import neighbourhood_change
from embproj.comparison.sides import Side
from embproj.errors import located
from embproj.neighbours.search import Neighbours, Rows, Wanted, find_neighbours, knn, within
from embproj.options import ALGO_NAMES, Options
from embproj.project.metrics import measure, measure_k, subset
from embproj.project.projectors import REFINE, Projection, fit_rows, neighbours_needed, project, runnable
from embproj.vectors.matrix import Matrix, fit_reducer, needs_reduction
from embproj.vectors.scaling import fit_scaler


@dataclass(frozen=True)
class Space:
    """One side's vectors as its neighbours and its map see them, and what became of them."""

    read: np.ndarray  # float32, every row as read (rescaled): the neighbours, the quality numbers
    maps: np.ndarray  # what the map is fitted on: `read`, or its PCA pre-reduction
    matrix: Matrix  # the side's matrix, with the pre-reduction it was given


@dataclass(frozen=True)
class SideMap:
    """One side's matrix (as its map saw it), its neighbours and its map."""

    matrix: Matrix
    graphs: Neighbours
    projection: Projection


@dataclass(frozen=True)
class Maps:
    before: SideMap
    after: SideMap
    change: np.ndarray  # float32, each row's neighbourhood change
    k: int  # the neighbours it is measured over
    aligned: str  # how the AFTER map was aligned, in words

    @property
    def projections(self) -> tuple[Projection, Projection]:
        return self.before.projection, self.after.projection

    @property
    def name(self) -> str:
        return ALGO_NAMES[self.before.projection.algo]


def both_maps(opts: Options, stage, before: Side, after: Side, warn=lambda message: None) -> Maps:
    """Both sides' graphs, the change, the BEFORE map and the AFTER map aligned to it. With the projection cache
    on (`--cache`, cache.py), each side's graph over every row and each map come from it when it holds them: the
    same entries `project` keeps for the same vectors and options; the AFTER map refined from BEFORE's
    coordinates (UMAP) is kept under that start too. `warn`: how an unusable entry is told."""
    n = before.matrix.rows
    maps = located(before.source.name, runnable, opts.algo, n)  # PCA, with a warning, for a table too small
    algo = maps.algos[0]
    fit = fit_rows(n, opts.fit_points, opts.seed)
    k = within(opts.neighbours, n)
    kept = cache.enabled(opts.cache)
    made = {}
    for side in (before, after):  # rescaled, pre-reduced, then its neighbours found, as `project` orders them
        space = _space(opts, stage, side, algo, fit)
        search = cache.graph_search(space.read, warn) if kept else knn
        made[side.name] = space, _neighbours(opts, stage, side.name, space, algo, fit, k, search)
    (space_b, graphs_b), (space_a, graphs_a) = made["before"], made["after"]
    change = neighbourhood_change(_nearest(graphs_b, k), _nearest(graphs_a, k))
    params = opts.params_for(algo)

    def side_map(space: Space, make, side: str, given: dict) -> Projection:
        if not kept:
            return make()
        found = cache.one_map(make, warn, space.read, algo, given, opts.seed, len(fit), space.matrix.reduced_to)
        return replace(found, side=side)

    def after_map(init) -> Projection:
        def make() -> Projection:
            return _project(opts, stage, algo, space_a.maps, graphs_a, fit, "after", (), init)

        start = {} if init is None else {**REFINE, "start": cache.fingerprint(np.asarray(init, dtype=np.float64))}
        return side_map(space_a, make, "after", {**params, **start})

    told = maps.notes_for(algo)
    first = side_map(
        space_b, lambda: _project(opts, stage, algo, space_b.maps, graphs_b, fit, "before", told), "before", params
    )
    second = aligned_map(after_map, first, fit, change)
    if opts.metrics:
        rows = subset(n, opts.seed)  # the rows the numbers are measured on, as read
        with stage("metrics", "Measuring quality"):
            first = measure([first], space_b.read[rows], opts.seed, opts.metric, graphs_b.original)[0]
            second = measure([second], space_a.read[rows], opts.seed, opts.metric, graphs_a.original)[0]
    sides = SideMap(space_b.matrix, graphs_b, first), SideMap(space_a.matrix, graphs_a, second)
    return Maps(*sides, change, k, how_aligned(algo))


def _space(opts: Options, stage, side: Side, algo: str, fit: np.ndarray) -> Space:
    """The side's vectors rescaled and pre-reduced as `project` does it (pipeline._rescale, _reduce): the scaler
    and the reducer fitted on the rows `fit`, applied to every row."""
    X, matrix, method = side.X, side.matrix, side.plan.scaling.method
    if method != "none":
        with stage(f"scale_{side.name}", f"Rescaling each column of {side.name.upper()}"):
            scaler = fit_scaler(_fitted(X, fit), method)
            X = scaler(X) if scaler is not None else X  # a new array: the side's own vectors stay as read
    if not needs_reduction(matrix, (algo,), opts.max_dims):
        return Space(X, X, matrix)
    with stage(f"reduce_{side.name}", f"Reducing {side.name.upper()}'s {matrix.dims:,} dimensions with PCA"):
        reducer = fit_reducer(_fitted(X, fit), opts.max_dims, opts.seed)
        if reducer is None:
            return Space(X, X, matrix)
        return Space(X, reducer(X), replace(matrix, reduced_to=reducer.target, reduced_variance=reducer.variance))


def _fitted(X: np.ndarray, fit: np.ndarray) -> np.ndarray:
    """The rows `fit` of X: X itself when they are every row (no copy of a large matrix)."""
    return X if len(fit) == len(X) else X[fit]


def _neighbours(
    opts: Options, stage, name: str, space: Space, algo: str, fit: np.ndarray, k: int, search
) -> Neighbours:
    """The side's graphs: the fit's, and every row's k nearest (at least) in the space the vectors were read in,
    by `search` (neighbours/search.py's `knn`, or the projection cache's)."""
    n = len(space.read)
    with stage(f"neighbours_{name}", f"Finding each point's neighbours in {name.upper()}"):
        placing = len(fit) < n and algo in ("umap", "tsne")
        reduced = space.maps if space.matrix.reduced_to else None
        wanted = Wanted(
            neighbours_needed(algo, opts.params_for(algo), len(fit)), opts.neighbours, max(measure_k(opts, n), k),
            opts.metric, opts.seed, placing, opts.neighbour_rows,
        )  # fmt: skip
        return find_neighbours(Rows.here(space.read, reduced, fit), wanted, search)


def _nearest(graphs: Neighbours, k: int) -> np.ndarray:
    """Every row's k nearest, from the graph over every row (there is one: at least 2 rows, k at least 1)."""
    if graphs.original is None:
        raise AssertionError("no neighbour graph over every row")
    return graphs.original.take(k).indices


def _project(opts, stage, algo, X: np.ndarray, graphs, fit, side: str, told=(), init=None) -> Projection:
    fitted = f" (fitted on {len(fit):,} rows)" if len(fit) < len(X) else ""
    label = f"Projecting {side.upper()} with {ALGO_NAMES[algo]}{fitted}"
    with stage(f"{algo}_{side}", label, len(X)) as tick:
        args = (opts.params_for(algo), opts.seed, graphs.fit, fit, told, tick, init)
        made = located(str(opts.data or ""), project, X, algo, *args)
    return replace(made, side=side)
