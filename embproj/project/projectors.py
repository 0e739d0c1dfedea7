"""Stage 5, project: n×d float32 → n×2, by a registry of projectors keyed by name (PCA, UMAP, t-SNE).

Each projector adapts parameters that do not fit a small sample (with a note saying so), is seeded, reads its
neighbours from the run's one graph (neighbours/search.py), and refuses to hand back NaN. Libraries are imported
inside the
projector that needs them.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial

import numpy as np

from embproj.errors import InputError
from embproj.neighbours.search import Graph, within
from embproj.options import ALGO_NAMES as NAMES
from embproj.options import ALGOS, DEFAULT_ALGO, DEFAULTS, SMALL_TABLE_ALGO, say
from embproj.project.place import AtOrigin, PcaPlacer, TsnePlacer, UmapPlacer, place_rows, searchable

MIN_ROWS = {"pca": 1, "umap": 4, "tsne": 4}
# UMAP from a given start (`embproj compare`'s AFTER map, from BEFORE's coordinates, turned to a square bounding
# box: `_square`) refines that layout on the new rows' graph instead of laying them out again: a tenth of the
# learning rate, 50 epochs and a quarter of the repulsion. On the digits a row whose neighbours did not change then
# stays within a median 1.6-2.2% of the map's extent (a full fit from the same start: 6.5-9.4%), a row with new
# neighbours still moves to them, and the map's trustworthiness is 0.986-0.987 instead of 0.989-0.990
# (benchmarks/compare_align.py, RESULTS.md)
REFINE = {"learning_rate": 0.1, "n_epochs": 50, "repulsion_strength": 0.25}


@dataclass(frozen=True)
class Projection:
    algo: str
    xy: np.ndarray  # float32, n × 2
    params: dict  # as used: values lowered to fit the sample are the lowered ones
    seconds: float
    notes: tuple[str, ...] = ()  # parameters lowered to fit the sample, and similar
    metrics: dict = field(default_factory=dict)
    fit: np.ndarray | None = None  # positions of the rows the model was fitted on; None: every row
    cached: str | None = None  # "hit": the coordinates came from the projection cache; "miss": they went into it
    side: str = ""  # `embproj compare`: "before" or "after", the embedding this is a map of; "" in a report

    @property
    def key(self) -> str:
        """The map's name in the page (its columns x_<key> and y_<key>, its figure map_<key>): the algorithm, and
        in a comparison the side too."""
        return f"{self.algo}_{self.side}" if self.side else self.algo

    @property
    def fitted(self) -> int:
        return len(self.xy) if self.fit is None else len(self.fit)

    @property
    def placed(self) -> int:
        return len(self.xy) - self.fitted

    @property
    def name(self) -> str:
        return f"{self.side.upper()} · {NAMES[self.algo]}" if self.side else NAMES[self.algo]


@dataclass(frozen=True)
class Runnable:
    """The maps a run makes, and the warnings for those asked for that its rows are too few for."""

    algos: tuple[str, ...]
    notes: tuple[str, ...] = ()

    def notes_for(self, algo: str) -> tuple[str, ...]:
        """The warnings go with the first map: the one shown instead, or beside what was left out."""
        return self.notes if algo == self.algos[0] else ()


def runnable(algo: str | None, n: int) -> Runnable:
    """Which maps `n` usable rows allow. With no algorithm given: UMAP, or PCA and a warning when the rows are too
    few for it (W&B's hello world has 3); with `all`: those that can run, and a warning for the others. An
    algorithm the user named is made or is an error: another map would not be the one they asked for."""
    asked = ALGOS if algo == "all" else (algo or DEFAULT_ALGO,)
    few = tuple(a for a in asked if n < MIN_ROWS[a])
    if not few:
        return Runnable(asked)
    can = tuple(a for a in asked if a not in few) if algo == "all" else (SMALL_TABLE_ALGO,)
    if algo not in (None, "all") or not can:
        raise too_few(few[0], n)
    need = f"{'it needs' if len(few) == 1 else 'they need'} at least {min(MIN_ROWS[a] for a in few)}"
    shown = f"the map is {NAMES[can[0]]}" if algo is None else f"only the {_names(can)} map is shown"
    rows = f"{n:,} row is" if n == 1 else f"{n:,} rows are"
    return Runnable(can, (f"{rows} too few for {_names(few)} ({need} with a usable vector), so {shown}",))


def too_few(algo: str, n: int) -> InputError:
    fix = "give more rows" + (f", or use {say('algo', SMALL_TABLE_ALGO)}" if algo != SMALL_TABLE_ALGO else "")
    return InputError(f"{NAMES[algo]} needs at least {MIN_ROWS[algo]} rows with a usable vector, got {n}", fix)


def _names(algos) -> str:
    return " and ".join(NAMES[a] for a in algos)


def neighbours_needed(algo: str, params: dict, n: int) -> int:
    """How many nearest rows (besides itself) `algo`'s fit reads from the graph: UMAP its n_neighbors (the row
    itself is the first of them), t-SNE three times the perplexity (openTSNE's rule), PCA none."""
    if algo == "umap":
        return within(params["n_neighbors"], n) - 1
    if algo == "tsne":
        return within(int(3 * _perplexity(params["perplexity"], n)), n)
    return 0


def fit_rows(n: int, fit_points: int, seed: int) -> np.ndarray:
    """The rows a projection is fitted on, in order: every row, or a seeded `fit_points` of them (the same rows
    for the same n and seed, however the file was read)."""
    if n <= fit_points:
        return np.arange(n)
    return np.sort(np.random.default_rng([seed, 1]).choice(n, fit_points, replace=False))


def project(
    X: np.ndarray,
    algo: str,
    params: dict,
    seed: int,
    graph: Graph | None = None,
    fit=None,
    told: tuple[str, ...] = (),
    progress=None,
    init: np.ndarray | None = None,
) -> Projection:
    """`algo`'s map of X, every row of which is in this process: `project_rows` over X's rows `fit` (default all),
    the others placed here (place.place_rows)."""
    fit = np.arange(len(X)) if fit is None else fit
    fitted = X if len(fit) == len(X) else X[fit]
    place = partial(place_rows, X)
    return project_rows(fitted, fit, len(X), place, algo, params, seed, graph, told, progress, init)


def project_rows(
    fitted: np.ndarray,
    fit: np.ndarray,
    n: int,
    place: Callable,
    algo: str,
    params: dict,
    seed: int,
    graph: Graph | None = None,
    told: tuple[str, ...] = (),
    progress=None,
    init: np.ndarray | None = None,
) -> Projection:
    """`algo`'s map of n rows, seeded: fitted on `fitted` (the rows `fit`), the other rows placed by the fitted
    model through `place(placer, fit, Y, progress)` (the engine's: engine/base.py), in batches of
    `place.PLACE_BATCH` (a fixed size, so the same rows are placed in the same batches however the file was read
    and wherever the rows are). `graph` holds the fitted rows' nearest neighbours (at least `neighbours_needed`,
    with a search index when rows are to be placed) for UMAP and t-SNE; `told`: warnings to give with it
    (`Runnable.notes_for`); `progress(rows)` is told as rows are placed; `init`: UMAP's and t-SNE's start, the
    fitted rows' coordinates in another map (`embproj compare` starts AFTER from BEFORE). Parameters are checked
    by `options.validate` before any work."""
    start = time.perf_counter()
    fitted_map, placer = fit_map(fitted, algo, params, seed, graph, told, init, placing=n - len(fit))
    if progress is not None:
        progress(len(fit))
    whole = len(fit) == n
    xy = fitted_map.xy if whole else _checked(algo, place(placer, fit, fitted_map.xy, progress))
    return replace(fitted_map, xy=xy, seconds=time.perf_counter() - start, fit=None if whole else fit)


def fit_map(
    X: np.ndarray, algo: str, params: dict, seed: int, graph: Graph | None = None, told=(), init=None, placing: int = 0
):
    """`algo` fitted on every row of X: (its Projection of those rows, the placer for other rows); `init`: the
    rows' start (n × 2), for UMAP and t-SNE; `placing`: how many rows the placer will be given (UMAP chooses its
    search for them by it)."""
    if algo not in PROJECTORS:
        raise ValueError(f"unknown projector {algo!r}, one of {', '.join(PROJECTORS)}")
    n = len(X)
    if n < MIN_ROWS[algo]:
        raise too_few(algo, n)
    start = time.perf_counter()
    notes: list[str] = list(told)
    if _distinct_rows(X) < 2:
        Y, used, place = np.zeros((n, 2), dtype=np.float32), dict(params), AtOrigin()
        one = (
            "only one vector, so its point sits" if n == 1 else f"all {n:,} vectors are identical, so every point sits"
        )
        notes.append(f"{one} at (0, 0)")
    else:
        given = {} if init is None else {"init": init}  # a projector is (X, params, seed, notes, graph); a start too
        if algo == "umap" and placing:
            given["placing"] = placing
        Y, used, place = PROJECTORS[algo](X, params, seed, notes, graph, **given)
    metrics = used.pop("_metrics", {})
    xy = _checked(algo, np.asarray(Y, dtype=np.float32))
    seconds = time.perf_counter() - start
    return Projection(algo, xy, used, seconds, tuple(notes), metrics), place


def _checked(algo: str, xy: np.ndarray) -> np.ndarray:
    if not np.isfinite(xy).all():
        raise InputError(
            f"{NAMES[algo]} returned NaN coordinates (the vectors are too alike to spread out)",
            f"try {say('algo', 'pca')}, or remove duplicate rows",
        )
    return xy


# -- projectors -----------------------------------------------------------------------------------------------


def _pca(X: np.ndarray, p: dict, seed: int, notes: list[str], graph=None, init=None):
    from sklearn.decomposition import PCA

    k = min(2, X.shape[0], X.shape[1])
    pca = PCA(n_components=k, whiten=p["whiten"], random_state=seed)
    with np.errstate(all="ignore"):  # vectors so small that their variance is 0 in float32: no ratio to give
        pca.fit(X)
    place = PcaPlacer(pca, k)
    ratio = [round(float(v), 4) for v in pca.explained_variance_ratio_]
    metrics = {"explained_variance_ratio": ratio} if all(math.isfinite(v) for v in ratio) else {}
    return place(X), {"whiten": p["whiten"], "_metrics": metrics}, place


def _umap(X: np.ndarray, p: dict, seed: int, notes: list[str], graph: Graph, init=None, placing: int = 0):
    """umap-learn's UMAP, handed the run's neighbours as `precomputed_knn` (below 4,096 rows umap-learn would
    find them by calling a numba metric once per pair from Python: ~15 s on the digits) and, when rows are to be
    placed, a search index for `UMAP.transform` that answers from the run's exact search (fast/umap_search.py). The
    epochs are umap-learn's own rule, said explicitly: `transform` then takes a third of them whatever the batch."""
    from embproj.fast.umap_kernels import fit, warning

    n, asked = len(X), p["n_neighbors"]
    k = within(asked, n)
    if k != asked:
        notes.append(
            f"UMAP used {k} neighbours, not its default {asked}: the table has {n} rows"
            if asked == DEFAULTS.n_neighbors  # not typed: the option would not help, so it goes unnamed
            else f"{say('n_neighbors', asked)} is not below the {n} rows: UMAP used {k}"
        )
    knn_indices, knn_dists = graph.with_self(k)
    X = np.ascontiguousarray(X, dtype=np.float32)
    index = None
    if graph.index is not None:
        from embproj.fast.umap_search import search_index

        index = search_index(graph.index, X, k, p["metric"], seed, placing)

    def run(umap):
        model = umap.UMAP(
            n_neighbors=k,
            min_dist=p["min_dist"],
            metric=p["metric"],
            random_state=seed,
            n_jobs=1,  # what random_state forces anyway, said so that umap-learn does not warn
            init=_square(_start(init, n)) if init is not None else _umap_start(n, k, knn_indices),
            precomputed_knn=(knn_indices, knn_dists, index),
            **(REFINE if init is not None else {"n_epochs": 500 if n <= 10_000 else 200}),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "no search index" when no row is to be placed
            model.fit(X)
        return model

    model = fit(run)
    cache_warning = warning()
    if cache_warning:
        notes.append(cache_warning)
    if index is not None:  # said here for --json, also when the rows are placed on Dask's workers
        from embproj.fast.umap_transform import plan

        plan(model)
    used = {"n_neighbors": k, "min_dist": p["min_dist"], "metric": p["metric"]}
    used |= REFINE if init is not None else {}
    return model.embedding_, used, UmapPlacer(model)


def _umap_start(n: int, k: int, knn_indices: np.ndarray) -> str:
    """umap-learn's spectral start, except where it cannot work or would not be the same twice: it needs more rows
    than neighbours, and on a graph of several separate parts (groups of rows far from each other) the Laplacian's
    smallest eigenvalue repeats, so that the eigenvectors ARPACK returns, and the map, differ from one run to the
    next whatever the seed (seen with umap-learn 0.5.12: 7 groups gave 3 maps in 3 fits). PCA's start is the same
    every time."""
    if n <= k + 2:
        return "random"
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    rows = np.repeat(np.arange(n), knn_indices.shape[1])
    cols = knn_indices.reshape(-1)
    ok = cols >= 0  # umap-learn's "no neighbour" is -1
    graph = csr_matrix((np.ones(int(ok.sum()), dtype=np.int8), (rows[ok], cols[ok])), shape=(n, n))
    parts, _ = connected_components(graph, directed=True, connection="weak")
    return "spectral" if parts == 1 else "pca"


def _perplexity(perplexity: float, n: int) -> float:
    limit = (n - 1) / 3
    return max(1.0, float(np.floor(limit * 100) / 100)) if perplexity > limit else perplexity


def _tsne(X: np.ndarray, p: dict, seed: int, notes: list[str], graph: Graph, init=None):
    """openTSNE, with affinities from the run's neighbours (openTSNE would use a ball tree below 1,000 rows, slow
    in 50 dimensions, and Annoy above); rows are placed by `TSNEEmbedding.transform`, which asks the neighbours'
    search index for each new row's nearest fitted rows."""
    from openTSNE import TSNE, affinity

    n = len(X)
    perplexity = _perplexity(p["perplexity"], n)
    if perplexity != p["perplexity"]:
        asked = p["perplexity"]
        notes.append(
            f"t-SNE used perplexity {perplexity:g}, not its default {asked:g}: at most (n-1)/3 for {n} rows"
            if asked == DEFAULTS.perplexity
            else f"{say('perplexity', asked)} is above (n-1)/3 for {n} rows: t-SNE used {perplexity:g}"
        )
    near = graph.take(neighbours_needed("tsne", {**p, "perplexity": perplexity}, n))
    learning_rate = "auto" if p["learning_rate"] is None else p["learning_rate"]
    tsne = TSNE(
        perplexity=perplexity,
        learning_rate=learning_rate,
        n_iter=p["iterations"],
        early_exaggeration=p["early_exaggeration"],
        metric=p["metric"],
        n_jobs=-1,
        random_state=seed,
        verbose=False,
        **({"initialization": _tsne_start(init, n)} if init is not None else {}),
    )

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        knn = searchable(near.indices, near.distances, graph.index)
        affinities = affinity.PerplexityBasedNN(knn_index=knn, perplexity=perplexity, n_jobs=-1, random_state=seed)
        embedding = tsne.fit(X, affinities=affinities)

    used = {**p, "perplexity": perplexity, "learning_rate": learning_rate}
    return np.asarray(embedding), used, TsnePlacer(embedding)


def _start(init: np.ndarray, n: int) -> np.ndarray:
    """A given start, as float64 n × 2; rows at the same place are set apart a little (umap-learn divides by the
    spread of the start)."""
    start = np.asarray(init, dtype=np.float64).reshape(n, 2)
    return start if np.ptp(start, axis=0).all() else start + np.random.default_rng(0).normal(0, 1e-4, start.shape)


def _square(start: np.ndarray) -> np.ndarray:
    """The start turned so that its bounding box is square: umap-learn rescales a given start to [0, 10] on each
    axis, which would stretch any other one (and a refinement would keep the stretch). Turning it by a quarter
    turn swaps its width and height, so an angle in between makes them equal: found by bisection."""

    def turned(angle: float) -> np.ndarray:
        c, s = np.cos(angle), np.sin(angle)
        return start @ np.array([[c, -s], [s, c]])

    def lopsided(angle: float) -> float:
        width, height = np.ptp(turned(angle), axis=0)
        return float(np.log(width / height))

    low, high = 0.0, np.pi / 2
    if lopsided(low) == 0:
        return start
    for _ in range(40):
        middle = (low + high) / 2
        if (lopsided(middle) > 0) == (lopsided(low) > 0):
            low = middle
        else:
            high = middle
    return turned((low + high) / 2)


def _tsne_start(init: np.ndarray, n: int) -> np.ndarray:
    """openTSNE's rule for a start: its spread small (a standard deviation of 1e-4), or the optimisation diverges."""
    from openTSNE.initialization import rescale

    return rescale(_start(init, n), target_std=1e-4)


PROJECTORS: dict[str, Callable] = {"pca": _pca, "umap": _umap, "tsne": _tsne}


def _distinct_rows(X: np.ndarray, limit: int = 2) -> int:
    first = X[0]
    return 1 if np.all(X == first) else limit
