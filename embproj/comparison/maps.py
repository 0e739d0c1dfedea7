"""The numbers of a comparison: each side's matrix rescaled and reduced as `project` does it, each side's
neighbours found by the report's one search (neighbours/search.py), each row's change from them, the BEFORE map,
and the AFTER map aligned to it (compare/align.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from embproj.comparison.align import aligned_map, how_aligned
from embproj.comparison.change import neighbourhood_change
from embproj.comparison.sides import Side
from embproj.errors import located
from embproj.neighbours.search import Neighbours, find_neighbours
from embproj.options import ALGO_NAMES, Options
from embproj.project.metrics import measure, measure_k
from embproj.project.projectors import Projection, fit_rows, neighbours_needed, project, runnable
from embproj.vectors.matrix import Matrix, needs_reduction, reduce, rescale


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


def both_maps(opts: Options, stage, before: Side, after: Side) -> Maps:
    n = len(before.matrix.X)
    maps = located(before.source.name, runnable, opts.algo, n)  # PCA, with a warning, for a table too small
    algo = maps.algos[0]
    fit = fit_rows(n, opts.fit_points, opts.seed)
    k = min(opts.neighbours, n - 1)
    spaces = {side.name: _space(opts, stage, side, algo, fit, k) for side in (before, after)}
    (matrix_b, graphs_b), (matrix_a, graphs_a) = spaces["before"], spaces["after"]
    change = neighbourhood_change(_nearest(graphs_b, k), _nearest(graphs_a, k))
    first = _project(opts, stage, algo, matrix_b, graphs_b, fit, "before", maps.notes_for(algo))
    second = aligned_map(
        lambda init: _project(opts, stage, algo, matrix_a, graphs_a, fit, "after", (), init), first, fit, change
    )
    if opts.metrics:
        with stage("metrics", "Measuring quality"):
            first = measure([first], matrix_b.original, opts.seed, opts.metric, graphs_b.original)[0]
            second = measure([second], matrix_a.original, opts.seed, opts.metric, graphs_a.original)[0]
    return Maps(SideMap(matrix_b, graphs_b, first), SideMap(matrix_a, graphs_a, second), change, k, how_aligned(algo))


def _space(opts: Options, stage, side: Side, algo: str, fit: np.ndarray, k: int) -> tuple[Matrix, Neighbours]:
    """The side's matrix as its map sees it, and its neighbours: the fit's, and every row's k nearest (at least)
    in the space the vectors were read in."""
    matrix = side.matrix
    if side.plan.scaling.method != "none":
        with stage(f"scale_{side.name}", f"Rescaling each column of {side.name.upper()}"):
            matrix = rescale(matrix, side.plan.scaling.method, fit)
    if needs_reduction(matrix, (algo,), opts.max_dims):
        with stage(f"reduce_{side.name}", f"Reducing {side.name.upper()}'s {matrix.dims:,} dimensions with PCA"):
            matrix = reduce(matrix, opts.max_dims, opts.seed, fit)
    n = len(matrix.X)
    with stage(f"neighbours_{side.name}", f"Finding each point's neighbours in {side.name.upper()}"):
        params = opts.params_for(algo)
        placing = len(fit) < n and algo in ("umap", "tsne")
        reduced = matrix.X if matrix.reduced_to else None
        graphs = find_neighbours(
            matrix.original, reduced, fit, neighbours_needed(algo, params, len(fit)), opts.neighbours,
            max(measure_k(opts, n), k), opts.metric, opts.seed, placing, opts.neighbour_rows,
        )  # fmt: skip
    return matrix, graphs


def _nearest(graphs: Neighbours, k: int) -> np.ndarray:
    """Every row's k nearest, from the graph over every row (there is one: at least 2 rows, k at least 1)."""
    if graphs.original is None:
        raise AssertionError("no neighbour graph over every row")
    return graphs.original.take(k).indices


def _project(opts, stage, algo, matrix, graphs, fit, side: str, told=(), init=None) -> Projection:
    fitted = f" (fitted on {len(fit):,} rows)" if len(fit) < len(matrix.X) else ""
    label = f"Projecting {side.upper()} with {ALGO_NAMES[algo]}{fitted}"
    with stage(f"{algo}_{side}", label, len(matrix.X)) as tick:
        args = (opts.params_for(algo), opts.seed, graphs.fit, fit, told, tick, init)
        made = located(str(opts.data or ""), project, matrix.X, algo, *args)
    return replace(made, side=side)
