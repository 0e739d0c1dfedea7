"""umap-learn's numba kernels, compiled once per machine instead of once per process.

umap-learn jit-compiles its hot kernels (the fuzzy graph, the layout epoch, the distances) in every fresh process:
~4 s on the digits, more than the fit itself. `load_umap` re-creates them from their Python functions with
`cache=True` and otherwise the same options, so that a machine compiles them once; the graph and layout kernels
also with `nogil=True` (the same machine code, run without holding Python's lock), so that rows can be placed
on every core at once, a batch a thread (project/projectors.py). The cache lives in
NUMBA_CACHE_DIR when the user set it, else in ~/.cache/embproj/numba (XDG_CACHE_HOME respected).

This leans on private names of umap-learn (the releases fast/versions.py names), so it is isolated here: the
module imports nothing of embproj's stages, and umap-learn runs exactly as shipped (the same coordinates, only
slower) when a name is missing, the release is outside the checked range, the folder is not writable,
EMBPROJ_NO_NUMBA_CACHE=1 is set or EMBPROJ_NO_FAST names umap_kernels, or a cached kernel fails to compile.
`status()` says which, for `--json`.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from embproj.environment import NO_FAST, NO_NUMBA_CACHE, NUMBA_CACHE_DIR, switched_on
from embproj.fast.versions import turned_off, unchecked

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
NOGIL = {"smooth_knn_dist", "compute_membership_strengths", "_nb_optimize_layout_euclidean_single_epoch"}
# Twins are named `<kernel>__embproj_<hash of options>`: numba's cache key holds neither the options nor the
# dispatcher, so this keeps our entries apart from any umap-learn may cache, and from our own older ones.
QUALNAME_MARK = "__embproj_"
T = TypeVar("T")


def fit(run: Callable[[Any], T]) -> T:
    """`run(umap)` with umap-learn's kernels cached where that can be done safely. A cached kernel that does not
    compile, or a cache entry that does not load (a corrupt or truncated file), gives way to umap-learn's own
    kernels for the rest of the process, and `run` goes again; a bad entry is deleted, so the next run
    compiles and caches it anew."""
    from numba.core.errors import NumbaError

    umap = load_umap()
    try:
        return run(umap)
    except NumbaError as err:
        if not _give_up_patch(f"a cached kernel failed to compile: {type(err).__name__}"):
            raise
        return run(umap)
    except Exception as err:
        directory = _STATE.patch.directory if _STATE.patch else None
        if directory is None or not _from_the_cache(err):
            raise
        _clear(directory)
        reason = f"a cached kernel in {directory} could not be loaded ({type(err).__name__}); it was deleted"
        _give_up_patch(reason, warn=True)
        return run(umap)


def cache_dir(environ=os.environ) -> Path:
    """Where compiled kernels go: the user's NUMBA_CACHE_DIR, else embproj/numba in the user cache folder."""
    if environ.get(NUMBA_CACHE_DIR):
        return Path(environ[NUMBA_CACHE_DIR]).expanduser()
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
    status: str = "not used"
    failure: str | None = None  # why the patch could not be built; then it is not tried again
    warning: str | None = None  # what the run's warnings should say about the cache
    lock: threading.Lock = field(default_factory=threading.Lock)


_STATE = _State()


def load_umap():
    """Import umap-learn with its kernels cached on disk, or unpatched when that cannot be done safely."""
    import umap  # the lazy import: only when a fit needs it

    state = _STATE
    with state.lock:
        off = switched_off()
        if off:
            if state.patch:
                state.patch.revert()
            state.status = f"off: {off}"
            return umap
        if state.patch is None and state.failure is None:
            try:
                state.patch = build_patch(cache_dir())
            except UnsafeCache as err:
                state.failure = str(err)
                state.warning = f"UMAP ran without its kernel cache: {err}"
            except Exception as err:  # any surprise in private names: run umap-learn as shipped
                state.failure = str(err) or type(err).__name__
        if state.patch:
            state.patch.apply()
            state.status = f"cached in {state.patch.directory}"
        else:
            state.status = f"off: {state.failure}"
    return umap


def _give_up_patch(reason: str, warn: bool = False) -> bool:
    """Put umap-learn's own kernels back for good; False when they were in place already."""
    state = _STATE
    with state.lock:
        if state.patch is None or switched_off():
            return False
        state.patch.revert()
        state.patch, state.failure, state.status = None, reason, f"off: {reason}"
        state.warning = f"UMAP ran without its kernel cache: {reason}" if warn else None
        return True


def switched_off() -> str | None:
    """Which switch the user set to run umap-learn's kernels as shipped, or None."""
    if switched_on(NO_NUMBA_CACHE):
        return f"{NO_NUMBA_CACHE} is set"
    return f"{NO_FAST} turns it off" if turned_off("umap_kernels") else None


def status() -> str:
    """One line for a run summary: where the compiled kernels are cached, or why they are not."""
    return _STATE.status


def without_gil() -> bool:
    """Whether the layout epochs run without Python's lock (the cached kernels are in place), so that batches
    placed on several threads run at once; with umap-learn's own kernels they would take turns."""
    return _STATE.patch is not None and _STATE.status.startswith("cached in ")


def warning() -> str | None:
    """What the user should hear about the cache (a folder others can write to, an entry that did not load)."""
    return _STATE.warning


def _from_the_cache(err: BaseException) -> bool:
    """Whether `err` was raised while numba read a cache entry."""
    tb = err.__traceback__
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename).match("numba/core/caching.py"):
            return True
        tb = tb.tb_next
    return False


def _clear(directory: Path) -> None:
    """Delete embproj's cached kernels (only its own: their names carry QUALNAME_MARK)."""
    for path in directory.rglob(f"*{QUALNAME_MARK}*"):
        try:
            path.unlink()
        except OSError:
            pass


def build_patch(directory: Path) -> KernelPatch:
    """Cached twins of `KERNELS`, and where each original is held; raises when anything is not as expected."""
    import importlib
    import sys

    import numba
    from numba.core import config, dispatcher

    outside = unchecked("umap-learn")
    if outside:
        raise RuntimeError(outside)
    if not writable(directory):
        raise RuntimeError(f"{directory} is not writable")
    check_private(directory)
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
        raise RuntimeError(f"umap-learn's {name} is patched already (embproj.fast.umap_kernels loaded twice?)")
    options = {k: v for k, v in old.targetoptions.items() if k != "nopython"}
    if name in NOGIL:
        options["nogil"] = True
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


class UnsafeCache(RuntimeError):
    """The cache folder can be written by another user: what it holds could run as the user's code."""


def writable(directory: Path) -> bool:
    """Whether `directory` exists or could be made (private to the user, 0700) and takes a file."""
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        directory.mkdir(mode=0o700, exist_ok=True)
        tempfile.TemporaryFile(dir=directory).close()
        return True
    except OSError:
        return False


def check_private(directory: Path) -> None:
    """Raise `UnsafeCache` when another user owns `directory` or may write to it (numba's cache holds pickles:
    loading one runs code)."""
    if os.name != "posix":
        return
    info = directory.stat()
    if info.st_uid != os.getuid() or info.st_mode & 0o022:
        mode = f"mode {info.st_mode & 0o777:o}"
        raise UnsafeCache(f"{directory} can be written by other users ({mode}), so it is ignored")
