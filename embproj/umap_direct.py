"""UMAP by umap-learn's own functions, loaded without importing the `umap` package.

`import umap` brings scikit-learn, pynndescent and numba's compiler with it: ~1.5 s of a ~3.5 s digits run,
before any UMAP work. The functions `UMAP.fit` calls on embproj's path (exact neighbours handed in as
`precomputed_knn`, spectral or random initialisation, Euclidean output) need only numpy,
scipy and numba. This module reads exactly those functions from umap-learn's installed source files (`FUNCTIONS`),
compiles them into one namespace, with numba kernels cached on disk like `umap_fast`'s twins, and replays the steps
of `UMAP.fit` for that path (`fit`). Every other name those functions reach (multi-component layouts, PCA
initialisation, the approximate neighbour search) is a stand-in that raises `Unsupported`, and the caller then runs
umap-learn as usual. The coordinates are bit-identical to `umap.UMAP(...).fit_transform` (tests/test_umap_fast.py
checks several data sets, metrics and sizes); the module refuses to load outside the umap-learn versions checked.
"""

from __future__ import annotations

import ast
import hashlib
import os
import sys
import threading
import types
from pathlib import Path

import numpy as np

# The umap-learn releases whose UMAP.fit this module replays, read and tested (bit-identical coordinates): another
# release may take other steps, so it runs as umap-learn's UMAP class instead until checked and added here.
DIRECT_VERSIONS = ((0, 5, 12), (0, 5, 13))
MODULE = "embproj._umap_functions"  # where the loaded functions live (sys.modules)
MARK = "__embproj_direct_"  # in each kernel's qualname: our cache entries never meet umap-learn's or umap_fast's
# (file in the umap package, names of its top-level functions and assignments), in load order: callees first.
FUNCTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("utils.py", ("tau_rand_int",)),
    (
        "layouts.py",
        (
            "clip",
            "rdist",
            "_optimize_layout_euclidean_single_epoch",
            "_nb_optimize_layout_euclidean_single_epoch",
            "_nb_optimize_layout_euclidean_single_epoch_parallel",
            "_get_optimize_layout_euclidean_single_epoch_fn",
            "_optimize_layout_euclidean_densmap_epoch_init",
            "optimize_layout_euclidean",
        ),
    ),
    ("spectral.py", ("spectral_layout", "_spectral_layout")),
    (
        "umap_.py",
        (
            "INT32_MIN",
            "INT32_MAX",
            "SMOOTH_K_TOLERANCE",
            "MIN_K_DIST_SCALE",
            "NPY_INFINITY",
            "NPY_FLOATMAX",
            "DISCONNECTION_DISTANCES",
            "smooth_knn_dist",
            "compute_membership_strengths",
            "fuzzy_simplicial_set",
            "make_epochs_per_sample",
            "noisy_scale_coords",
            "simplicial_set_embedding",
            "find_ab_params",
        ),
    ),
)
# Names the loaded functions use only on paths embproj does not take: reaching one means "not this path".
STAND_INS = (
    "multi_component_layout",
    "component_layout",
    "nearest_neighbors",
    "tswspectral_layout",
    "optimize_layout_generic",
    "TruncatedSVD",
    "PCA",
    "KDTree",
    "ts",
)


class Unsupported(Exception):
    """This data or these options take a path of UMAP.fit that is not loaded here: run umap-learn itself."""


def fit(
    X: np.ndarray,
    knn_indices: np.ndarray,
    knn_dists: np.ndarray,
    *,
    n_neighbors: int,
    min_dist: float,
    metric: str,
    seed: int,
    init: str,
) -> np.ndarray:
    """What `umap.UMAP(n_neighbors, min_dist=min_dist, metric=metric, random_state=seed, n_jobs=1, init=init,
    precomputed_knn=(knn_indices, knn_dists, None)).fit_transform(X)` returns, step by step as UMAP.fit takes them
    on this path (umap_.py, UMAP.fit and _fit_embed_data, with the defaults embproj keeps)."""
    if knn_indices.shape[1] != n_neighbors or init not in ("spectral", "random"):
        raise Unsupported("not the path with exact neighbours and a spectral or random start")
    ns = namespace()
    import numba

    from .umap_fast import OFF_SWITCH

    if os.environ.get(OFF_SWITCH, "") not in ("", "0"):
        raise Unsupported(f"{OFF_SWITCH} is set")

    X = np.ascontiguousarray(X, dtype=np.float32)  # check_array(X, dtype=np.float32, order="C")
    a, b = ns["find_ab_params"](1.0, min_dist)  # spread=1.0
    random_state = np.random.RandomState(seed)  # check_random_state(seed)
    knn_indices, knn_dists = knn_indices.copy(), knn_dists.copy()
    far = knn_dists >= ns["DISCONNECTION_DISTANCES"].get(metric, np.inf)
    knn_indices[far] = -1
    knn_dists[far] = np.inf
    threads = numba.get_num_threads()
    numba.set_num_threads(1)  # n_jobs=1, as a seed makes UMAP.fit do
    try:
        # fuzzy_simplicial_set(X, n_neighbors, random_state, nn_metric, metric_kwds, knn_indices, knn_dists,
        #                      angular_rp_forest, set_op_mix_ratio, local_connectivity, True, verbose, densmap)
        graph = ns["fuzzy_simplicial_set"](
            X, n_neighbors, random_state, metric, {}, knn_indices, knn_dists, False, 1.0, 1.0, True, False, False
        )[0]
        # simplicial_set_embedding(X, graph, n_components, learning_rate, a, b, repulsion_strength,
        #     negative_sample_rate, n_epochs, init, random_state, metric, metric_kwds, densmap, densmap_kwds,
        #     output_dens, output_metric, output_metric_kwds, euclidean_output, parallel, verbose, tqdm_kwds)
        embedding, _ = ns["simplicial_set_embedding"](
            X[list(range(len(X)))],  # self._raw_data[index], index = every row (unique=False)
            graph,
            2,
            1.0,
            a,
            b,
            1.0,
            5,
            None,
            init,
            random_state,
            None,
            {},
            False,
            {},
            False,
            None,
            {},
            True,
            False,
            False,
            tqdm_kwds={},
        )
    finally:
        numba.set_num_threads(threads)
    disconnected = np.array(graph.sum(axis=1)).flatten() == 0
    if len(disconnected) > 0:
        embedding[disconnected] = np.full(2, np.nan)
    return embedding[list(range(len(X)))]


# -- loading --------------------------------------------------------------------------------------------------


class _Loaded:
    lock = threading.Lock()
    namespace: dict | None = None
    failure: str | None = None


def namespace() -> dict:
    """umap-learn's functions, loaded once per process; raises Unsupported when that cannot be done safely."""
    with _Loaded.lock:
        if _Loaded.namespace is None and _Loaded.failure is None:
            try:
                _Loaded.namespace = _load()
            except Exception as err:  # noqa: BLE001 - any surprise in umap-learn's source: use umap-learn itself
                _Loaded.failure = f"{type(err).__name__}: {err}"
        if _Loaded.namespace is None:
            raise Unsupported(_Loaded.failure)
        return _Loaded.namespace


def _load() -> dict:
    import importlib.util
    import warnings

    import scipy.optimize
    import scipy.sparse
    import scipy.sparse.csgraph
    import scipy.sparse.linalg

    from . import umap_fast

    if os.environ.get(umap_fast.OFF_SWITCH, "") not in ("", "0"):
        raise Unsupported(f"{umap_fast.OFF_SWITCH} is set")
    try:
        umap_fast.check_umap_version(DIRECT_VERSIONS)
    except RuntimeError as err:
        raise Unsupported(str(err)) from None
    spec = importlib.util.find_spec("umap")  # finds the package without running its __init__
    if spec is None or not spec.submodule_search_locations:
        raise Unsupported("umap-learn is not installed")
    folder = Path(list(spec.submodule_search_locations)[0])
    directory = umap_fast.cache_dir()
    if not umap_fast.writable(directory):
        raise Unsupported(f"{directory} is not writable")
    # A registered module holds them: numba rebuilds a cached kernel's globals by importing its __module__.
    module = types.ModuleType(MODULE, "umap-learn's functions, loaded by embproj.umap_direct")
    sys.modules[MODULE] = module
    ns = module.__dict__
    ns.update(
        {
            "np": np,
            "numba": _numba_caching_in(directory),
            "scipy": scipy,
            "warn": warnings.warn,
            "warnings": warnings,
            "curve_fit": scipy.optimize.curve_fit,
            "tqdm": lambda iterable, **_: iterable,  # umap-learn's progress bar, off unless verbose
            "dist": types.SimpleNamespace(named_distances_with_gradients={"euclidean": None}),  # a default argument
        }
    )
    ns.update({name: _stand_in(name) for name in STAND_INS})
    for filename, names in FUNCTIONS:
        path = folder / filename
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        picked = [node for node in tree.body if _defines(node) & set(names)]
        found = set().union(*(_defines(node) for node in picked)) if picked else set()
        if missing := set(names) - found:
            raise Unsupported(f"umap-learn's {filename} has no {', '.join(sorted(missing))}")
        code = compile(ast.Module(body=picked, type_ignores=[]), str(path), "exec")  # line numbers kept
        exec(code, ns)  # noqa: S102 - umap-learn's own source, from its installed files
    return ns


def _defines(node: ast.stmt) -> set[str]:
    if isinstance(node, ast.FunctionDef):
        return {node.name}
    if isinstance(node, ast.Assign):
        return {t.id for t in node.targets if isinstance(t, ast.Name)}
    return set()


def _stand_in(name: str):
    def unsupported(*_, **__):
        raise Unsupported(f"UMAP takes a path through {name}")

    return unsupported


def _numba_caching_in(directory: Path):
    """numba, except that `njit` compiles a copy of the function named for its options, cached in `directory`."""
    import numba
    from numba.core import config

    shim = types.ModuleType("numba")  # a module: numba types the kernels' `numba.prange` through it
    shim.__dict__.update({k: getattr(numba, k) for k in dir(numba) if not k.startswith("__")})

    def compile_(fn, signatures: tuple, options: dict):
        options = {k: v for k, v in options.items() if k != "cache"}
        copy = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
        copy.__kwdefaults__ = fn.__kwdefaults__
        copy.__module__ = MODULE
        tag = hashlib.sha256(repr((MODULE, signatures, sorted(options.items()))).encode()).hexdigest()[:10]
        copy.__qualname__ = f"{fn.__name__}{MARK}{tag}"
        before = config.CACHE_DIR
        config.CACHE_DIR = str(directory)  # read when a cached dispatcher is made, so only these are redirected
        try:
            return numba.njit(*signatures, cache=True, **options)(copy)
        finally:
            config.CACHE_DIR = before

    def njit(*args, **options):
        if args and callable(args[0]):  # numba.njit(fn, ...) or a bare @numba.njit
            return compile_(args[0], args[1:], options)
        return lambda fn: compile_(fn, args, options)

    shim.__dict__.update(njit=njit, jit=njit)
    return shim
