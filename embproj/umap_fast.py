"""UMAP without its two slow paths on small data, computing the same thing.

1. Neighbours. Below 4,096 rows umap-learn finds exact neighbours by calling a numba metric once per pair
   from Python (~15 s on digits). We hand it the same exact neighbours as `precomputed_knn`: scikit-learn
   proposes candidates, each candidate's distance is recomputed the way umap-learn's metric computes it, and
   ties go to the lower row number, as umap's stable sort orders them. The recomputation matters:
   scikit-learn's fast euclidean and cosine leave rounding noise (a point's distance to itself can come out as
   1e-6, not 0), and umap takes each point's first non-zero neighbour distance as its local scale.
2. Compilation. umap-learn jit-compiles its hot kernels in every fresh process (~4 s on digits). We re-create
   them from their Python source with `cache=True` and otherwise the same options, so that a machine compiles
   them once. The cache lives in NUMBA_CACHE_DIR when the user set it, else in ~/.cache/embproj/numba
   (XDG_CACHE_HOME respected). This leans on private names of umap-learn (pinned below 0.6): when a name is
   missing, the version is outside the checked range, the folder is not writable, EMBPROJ_NO_NUMBA_CACHE=1 is
   set, or anything in the patch raises, umap-learn runs as shipped: the same coordinates, only slower.
3. Imports. `import umap` also loads scikit-learn and pynndescent (~1.5 s). `umap_direct` runs the same fit from
   umap-learn's own functions, loaded from its source files without the package import; where the data takes a
   path it has not loaded (a graph in several pieces, say), the UMAP class of (1) and (2) runs instead.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
import types
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# Kernels umap-learn compiles in every process on embproj's path (graph, euclidean layout). The distance
# functions are reached only when the graph has many components (centroid distances in the spectral init).
KERNELS: tuple[tuple[str, str], ...] = (
    ("umap.umap_", "smooth_knn_dist"),
    ("umap.umap_", "compute_membership_strengths"),
    ("umap.layouts", "_nb_optimize_layout_euclidean_single_epoch"),
    ("umap.distances", "euclidean"),
    ("umap.distances", "manhattan"),
    ("umap.distances", "chebyshev"),
    ("umap.distances", "minkowski"),
    ("umap.distances", "cosine"),
    ("umap.distances", "correlation"),
)
UMAP_VERSIONS = ((0, 5, 5), (0, 6, 0))  # [low, high): the range whose private names were checked
OFF_SWITCH = "EMBPROJ_NO_NUMBA_CACHE"
# Twins are named `<kernel>__embproj_<hash of options>`: numba's cache key holds neither the options nor the
# dispatcher, so this keeps our entries apart from any umap-learn may cache, and from our own older ones.
QUALNAME_MARK = "__embproj_"


def fit_umap(X: np.ndarray, *, n_neighbors: int, min_dist: float, metric: str, seed: int) -> np.ndarray:
    """umap-learn's UMAP of X with exact neighbours: through umap-learn's functions loaded directly
    (`umap_direct`) where the data takes that path, else through umap-learn's UMAP class."""
    from numba.core.errors import NumbaError

    from . import umap_direct

    X = np.ascontiguousarray(X, dtype=np.float32)  # what umap.UMAP.fit works on
    idx, dists = exact_knn(X, n_neighbors, metric)
    init = "spectral" if len(X) > n_neighbors + 2 else "random"
    params = dict(n_neighbors=n_neighbors, min_dist=min_dist, metric=metric, random_state=seed, n_jobs=1, init=init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            Y = umap_direct.fit(
                X, idx, dists, n_neighbors=n_neighbors, min_dist=min_dist, metric=metric, seed=seed, init=init
            )
            _STATE.status = f"cached in {cache_dir()} (umap-learn's functions, loaded without the umap package)"
            return Y
        except (umap_direct.Unsupported, NumbaError):
            pass
        umap = load_umap()
        try:
            return umap.UMAP(**params, precomputed_knn=(idx, dists, None)).fit_transform(X)
        except NumbaError as err:  # a cached twin that does not compile: once more, as umap-learn ships
            if not _give_up_patch(f"a cached kernel failed to compile: {type(err).__name__}"):
                raise
            return umap.UMAP(**params, precomputed_knn=(idx, dists, None)).fit_transform(X)


# -- exact neighbours, as umap-learn's own small-data path finds them ---------------------------------------


def exact_knn(X: np.ndarray, k: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k nearest rows (int32) and distances (float32), equal to umap-learn's exact path."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    n = len(X)
    k = min(k, n)
    m = min(n, 2 * k + 8)  # candidates, with a margin for the rounding of the fast search
    rough, cand = _candidates(X, m, metric)
    exact = pair_distances(X, np.arange(n)[:, None], cand, metric)
    order = np.lexsort((cand, exact))
    idx, dists = np.take_along_axis(cand, order, 1)[:, :k], np.take_along_axis(exact, order, 1)[:, :k]
    if m < n:
        # A row is settled when its k-th exact distance is below every non-candidate's rough one by more than
        # scikit-learn's rounding: a multiple of the error seen on this row's candidates, plus floors.
        noise = np.abs(rough - exact).max(axis=1)
        bound = rough[:, -1] - (8 * noise + 1e-3 * np.abs(rough[:, -1]) + 1e-5 * _scale(X, metric))
        unsettled = np.flatnonzero(~(dists[:, -1] < bound))  # NaN (constant rows in correlation) too
        step = _chunk(n, X.shape[1])
        for start in range(0, len(unsettled), step):
            rows = unsettled[start : start + step]
            full = pair_distances(X, rows[:, None], np.arange(n)[None, :], metric)
            best = np.argsort(full, axis=1, kind="stable")[:, :k]
            idx[rows], dists[rows] = best, np.take_along_axis(full, best, 1)
    return idx.astype(np.int32), dists


def _candidates(X: np.ndarray, m: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Each row's m nearest rows by a fast search, nearest first: (distances, indices). Euclidean, cosine and
    correlation by matrix products in float64 (no scikit-learn import on the fast path), the rest by scikit-learn."""
    if metric not in ("euclidean", "cosine", "correlation"):
        from sklearn.neighbors import NearestNeighbors

        nn = NearestNeighbors(n_neighbors=m, metric=metric, algorithm="brute", n_jobs=1).fit(X)
        return nn.kneighbors(X)
    Z = X.astype(np.float64)
    if metric == "correlation":
        Z -= Z.mean(axis=1, keepdims=True)
    if metric != "euclidean":
        norms = np.sqrt(np.einsum("ij,ij->i", Z, Z))
        Z /= np.where(norms > 0, norms, 1.0)[:, None]
    squares = np.einsum("ij,ij->i", Z, Z)
    n = len(Z)
    dists, idx = np.empty((n, m)), np.empty((n, m), dtype=np.int64)
    step = _chunk(n, 8)
    for start in range(0, n, step):
        rows = slice(start, start + step)
        products = Z[rows] @ Z.T
        d = squares[rows, None] + squares[None, :] - 2.0 * products if metric == "euclidean" else 1.0 - products
        near = np.argpartition(d, m - 1, axis=1)[:, :m] if m < n else np.broadcast_to(np.arange(n), d.shape)
        part = np.take_along_axis(d, near, 1)
        order = np.argsort(part, axis=1, kind="stable")
        idx[rows] = np.take_along_axis(near, order, 1)
        sorted_d = np.take_along_axis(part, order, 1)
        dists[rows] = np.sqrt(np.maximum(sorted_d, 0.0)) if metric == "euclidean" else sorted_d
    return dists, idx


def pair_distances(X: np.ndarray, rows: np.ndarray, cols: np.ndarray, metric: str) -> np.ndarray:
    """float32 distances between X[rows] and X[cols] (index arrays, broadcast) in umap.distances' arithmetic:
    float32 element terms summed left to right in float64, rounded to float32 as umap's distance matrix is."""
    shape = np.broadcast_shapes(rows.shape, cols.shape)
    out = np.empty(shape, dtype=np.float32)
    step = _chunk(shape[1], X.shape[1])
    for start in range(0, shape[0], step):
        block = slice(start, start + step)
        a = X[rows[block] if len(rows) > 1 else rows]  # gathered once per row, broadcast over columns
        b = X[cols[block] if len(cols) > 1 else cols]
        out[block] = _METRICS[metric](a, b)
    return out


def _scale(X: np.ndarray, metric: str) -> float:
    """The size of a distance on this data: 1 for the bounded metrics, else the largest vector norm."""
    if metric in ("cosine", "correlation"):
        return 1.0
    return float(np.sqrt(np.einsum("ij,ij->i", X, X, dtype=np.float64).max()))


def _chunk(width: int, dims: int, budget: int = 4_000_000) -> int:
    return max(1, budget // max(1, width * dims))


def _seq_sum(terms: np.ndarray) -> np.ndarray:
    """Sum the last axis left to right in float64, as a numba loop does (numpy's sum is pairwise)."""
    total = terms[..., 0].astype(np.float64)
    for j in range(1, terms.shape[-1]):
        total += terms[..., j]
    return total


def _euclidean(a, b):
    diff = a - b
    return np.sqrt(_seq_sum(diff * diff))


def _manhattan(a, b):
    return _seq_sum(np.abs(a - b))


def _chebyshev(a, b):
    return np.abs(a - b).max(axis=-1).astype(np.float64)


def _minkowski(a, b, p: int = 2):
    return np.power(_seq_sum(np.abs(a - b) ** p), 1.0 / p)


def _cosine(a, b):
    dot, na, nb = _seq_sum(a * b), _seq_sum(a * a), _seq_sum(b * b)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = 1.0 - dot / np.sqrt(na * nb)
    return np.where((na == 0) & (nb == 0), 0.0, np.where((na == 0) | (nb == 0), 1.0, d))


def _correlation(a, b):
    sa = a - (_seq_sum(a) / a.shape[-1])[..., None]  # float64 from here on, as in umap.distances.correlation
    sb = b - (_seq_sum(b) / b.shape[-1])[..., None]
    dot, na, nb = _seq_sum(sa * sb), _seq_sum(sa * sa), _seq_sum(sb * sb)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = 1.0 - dot / np.sqrt(na * nb)
    return np.where((na == 0) & (nb == 0), 0.0, np.where(dot == 0, 1.0, d))


_METRICS = {
    "euclidean": _euclidean,
    "manhattan": _manhattan,
    "chebyshev": _chebyshev,
    "minkowski": _minkowski,
    "cosine": _cosine,
    "correlation": _correlation,
}


# -- umap-learn's kernels, compiled once per machine ---------------------------------------------------------


def cache_dir(environ=os.environ) -> Path:
    """Where compiled kernels go: the user's NUMBA_CACHE_DIR, else embproj/numba in the user cache folder."""
    if environ.get("NUMBA_CACHE_DIR"):
        return Path(environ["NUMBA_CACHE_DIR"]).expanduser()
    if os.name == "nt" and environ.get("LOCALAPPDATA"):
        base = Path(environ["LOCALAPPDATA"])
    else:
        base = Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "embproj" / "numba"


@dataclass
class KernelPatch:
    """Every place umap-learn holds a kernel (module attributes, registries such as `named_distances`), with
    the original and the cached dispatcher, so that the swap is applied and undone as a whole."""

    places: list[tuple[object, str, object, object]] = field(default_factory=list)  # (owner, key, old, new)
    directory: Path | None = None

    def apply(self) -> None:
        for owner, key, _, new in self.places:
            _put(owner, key, new)

    def revert(self) -> None:
        for owner, key, old, _ in self.places:
            _put(owner, key, old)


@dataclass
class _State:
    patch: KernelPatch | None = None
    status: str = "umap-learn not loaded yet"
    failure: str | None = None  # why the patch could not be built; then it is not tried again
    lock: threading.Lock = field(default_factory=threading.Lock)


_STATE = _State()


def load_umap():
    """Import umap-learn with its kernels cached on disk, or unpatched when that cannot be done safely."""
    import umap  # the lazy import: only when a fit needs it

    state = _STATE
    with state.lock:
        if os.environ.get(OFF_SWITCH, "") not in ("", "0"):
            if state.patch:
                state.patch.revert()
            state.status = f"off: {OFF_SWITCH} is set"
            return umap
        if state.patch is None and state.failure is None:
            try:
                state.patch = build_patch(cache_dir())
            except Exception as err:  # any surprise in private names: run umap-learn as shipped
                state.failure = str(err) or type(err).__name__
        if state.patch:
            state.patch.apply()
            state.status = f"cached in {state.patch.directory}"
        else:
            state.status = f"off: {state.failure}"
    return umap


def _give_up_patch(reason: str) -> bool:
    """Put umap-learn's own kernels back for good; False when they were in place already."""
    state = _STATE
    with state.lock:
        if state.patch is None or os.environ.get(OFF_SWITCH, "") not in ("", "0"):
            return False
        state.patch.revert()
        state.patch, state.failure, state.status = None, reason, f"off: {reason}"
        return True


def kernel_cache_status() -> str:
    """One line for a run summary: where the compiled kernels are cached, or why they are not."""
    return _STATE.status


def build_patch(directory: Path) -> KernelPatch:
    """Cached twins of `KERNELS`, and where each original is held; raises when anything is not as expected."""
    import importlib
    import sys

    import numba
    from numba.core import config, dispatcher

    check_umap_version()
    if not writable(directory):
        raise RuntimeError(f"{directory} is not writable")
    patch = KernelPatch(directory=directory)
    before = config.CACHE_DIR
    config.CACHE_DIR = str(directory)  # read when a cached dispatcher is made, so only ours are redirected
    try:
        for module_name, name in KERNELS:
            module = importlib.import_module(module_name)
            old = getattr(module, name, None)
            if not isinstance(old, dispatcher.Dispatcher):
                raise RuntimeError(f"umap-learn has no numba kernel {module_name}.{name}")
            new = _cached_twin(numba, old, name)
            patch.places += [(owner, key, old, new) for owner, key in _holders(sys.modules, old)]
    finally:
        config.CACHE_DIR = before
    return patch


def _cached_twin(numba, old, name: str):
    if not getattr(old, "_can_compile", True):  # compiled ahead for fixed signatures: not a plain lazy kernel
        raise RuntimeError(f"umap-learn's {name} has fixed signatures")
    if QUALNAME_MARK in old.py_func.__qualname__:
        raise RuntimeError(f"umap-learn's {name} is patched already (embproj.umap_fast loaded twice?)")
    options = {k: v for k, v in old.targetoptions.items() if k != "nopython"}
    twin = types.FunctionType(
        old.py_func.__code__,
        old.py_func.__globals__,
        old.py_func.__name__,
        old.py_func.__defaults__,
        old.py_func.__closure__,
    )
    twin.__kwdefaults__ = old.py_func.__kwdefaults__
    twin.__module__ = old.py_func.__module__
    locals_ = {k: v for k, v in (old.locals or {}).items() if k.isidentifier()}  # not SSA names ("lo.1")
    tag = hashlib.sha256(repr((sorted(options.items()), sorted(locals_.items()))).encode()).hexdigest()[:10]
    twin.__qualname__ = f"{name}{QUALNAME_MARK}{tag}"
    return numba.njit(cache=True, locals=locals_, **options)(twin)


def _holders(modules: dict, old) -> list[tuple[object, str]]:
    """(owner, key) of every umap module attribute and module-level dict entry that is `old`."""
    found = []
    for module_name, module in list(modules.items()):
        if module is None or not (module_name == "umap" or module_name.startswith("umap.")):
            continue
        for key, value in list(vars(module).items()):
            if value is old:
                found.append((module, key))
            elif isinstance(value, dict):
                found += [(value, k) for k, v in list(value.items()) if v is old]
    return found


def _put(owner, key: str, value) -> None:
    if isinstance(owner, dict):
        owner[key] = value
    else:
        setattr(owner, key, value)


def check_umap_version(versions: tuple[tuple[int, ...], tuple[int, ...]] = UMAP_VERSIONS) -> None:
    """Raise RuntimeError unless the installed umap-learn is within [low, high) of `versions`."""
    from importlib.metadata import version

    found = version("umap-learn")
    parts = tuple(int(p) for p in re.findall(r"\d+", found)[:3])
    low, high = versions
    if not low <= parts < high:
        checked = f"{'.'.join(map(str, low))} to <{'.'.join(map(str, high))}"
        raise RuntimeError(f"umap-learn {found} is outside the checked range {checked}")


def writable(directory: Path) -> bool:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=directory).close()
        return True
    except OSError:
        return False
