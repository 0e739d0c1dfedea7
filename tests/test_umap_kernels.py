"""embproj.fast.umap_kernels: umap-learn's kernels compiled once per machine, or umap-learn as shipped.

The cached kernels give the same coordinates as umap-learn's own; a fresh process loads them from the cache,
which lives where the environment says; every way the patch can fail leaves umap-learn as shipped, and says so.
One small fit is shared by the module; the kernel cache is a temporary folder (through XDG_CACHE_HOME:
NUMBA_CACHE_DIR would also send pynndescent's own cached functions there, and recompiling those costs ~10 s).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from embproj.environment import NO_FAST, NO_NUMBA_CACHE
from embproj.fast import umap_kernels as uk
from embproj.fast import versions

pytestmark = pytest.mark.slow

MAIN_KERNELS = [k for k in uk.KERNELS if k[0] != "umap.distances"]


def clusters(n: int = 240) -> np.ndarray:
    rng = np.random.default_rng(0)
    centers = rng.normal(scale=6.0, size=(4, 10))
    X = (centers[np.arange(n) % 4] + rng.normal(size=(n, 10))).astype(np.float32)
    X[:3] = X[3]  # duplicates
    return X


def fit(X: np.ndarray) -> np.ndarray:
    """embproj's UMAP of X, as the pipeline runs it."""
    from embproj.neighbours.search import knn
    from embproj.options import Options
    from embproj.project.projectors import project

    return project(X, "umap", Options().params_for("umap"), 0, knn(X, 14)).xy


@pytest.fixture(scope="module")
def numba_cache(tmp_path_factory):
    """A fresh patch whose kernels are cached in a temporary folder, undone afterwards. The folder starts as a
    copy of this machine's kernel cache when there is one (compiling the twins costs ~12 CPU-seconds, and the
    runs of the other modules have usually paid it already); on a machine without one, they compile here."""
    mp = pytest.MonkeyPatch()
    home = tmp_path_factory.mktemp("cache-home")
    folder = home / "embproj" / "numba"
    if uk.cache_dir().is_dir():
        shutil.copytree(uk.cache_dir(), folder)
    mp.delenv(NO_NUMBA_CACHE, raising=False)
    mp.delenv("NUMBA_CACHE_DIR", raising=False)
    mp.setenv("XDG_CACHE_HOME", str(home))
    if uk._STATE.patch:  # applied by an earlier test module: put umap-learn's own kernels back first
        uk._STATE.patch.revert()
    mp.setattr(uk, "_STATE", uk._State())
    yield folder
    if uk._STATE.patch:
        uk._STATE.patch.revert()
    mp.undo()


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    return clusters()


@pytest.fixture(scope="module")
def fitted(numba_cache, data) -> np.ndarray:
    return fit(data)


# -- coordinates --------------------------------------------------------------------------------------------


def test_same_seed_same_coordinates(fitted, data):
    assert fitted.shape == (len(data), 2) and np.isfinite(fitted).all()
    np.testing.assert_array_equal(fit(data), fitted)


@pytest.mark.parametrize(
    "switch, value, said",
    [(NO_NUMBA_CACHE, "1", f"{NO_NUMBA_CACHE} is set"), (NO_FAST, "umap_kernels", f"{NO_FAST} turns it off")],
)
def test_unpatched_umap_gives_the_same_coordinates(fitted, data, monkeypatch, switch, value, said):
    import umap.umap_

    monkeypatch.setenv(switch, value)
    np.testing.assert_array_equal(fit(data), fitted)
    assert not _is_twin(umap.umap_.smooth_knn_dist)
    assert uk.status() == f"off: {said}"
    monkeypatch.undo()
    uk.load_umap()  # the switch gone: the cached kernels are back
    assert _is_twin(umap.umap_.smooth_knn_dist) and uk.status().startswith("cached in ")


def test_a_missing_kernel_name_falls_back_to_plain_umap(fitted, data, monkeypatch):
    import umap.umap_

    uk._STATE.patch.revert()
    monkeypatch.setattr(uk, "_STATE", uk._State())
    monkeypatch.setattr(uk, "KERNELS", (*uk.KERNELS, ("umap.umap_", "no_such_kernel")))
    np.testing.assert_array_equal(fit(data), fitted)
    assert uk.status() == "off: umap-learn has no numba kernel umap.umap_.no_such_kernel"
    assert not _is_twin(umap.umap_.smooth_knn_dist)  # nothing was swapped half-way


def test_a_twin_that_does_not_compile_falls_back_to_plain_umap(fitted, data, monkeypatch):
    import numba
    import umap.umap_

    def broken(distances, k, n_iter=64, local_connectivity=1.0, bandwidth=1.0):
        return no_such_name  # noqa: F821 (a typing error, raised when numba compiles it)

    patch = uk._STATE.patch
    places = [(o, k, old, numba.njit(broken) if k == "smooth_knn_dist" else new) for o, k, old, new in patch.places]
    monkeypatch.setattr(uk, "_STATE", uk._State(patch=uk.KernelPatch(places, patch.directory)))
    np.testing.assert_array_equal(fit(data), fitted)
    assert uk.status() == "off: a cached kernel failed to compile: TypingError"
    assert not _is_twin(umap.umap_.smooth_knn_dist) and umap.umap_.smooth_knn_dist.py_func is not broken


def test_an_unwritable_cache_folder_falls_back(fitted, tmp_path, monkeypatch):
    import umap.umap_

    uk._STATE.patch.revert()
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(blocker / "numba"))
    monkeypatch.setattr(uk, "_STATE", uk._State())
    uk.load_umap()
    assert uk.status() == f"off: {blocker / 'numba'} is not writable"
    assert not _is_twin(umap.umap_.smooth_knn_dist)


# -- the cache ----------------------------------------------------------------------------------------------


def test_patched_kernels_are_cached_twins_with_the_original_options_and_without_the_gil(fitted, numba_cache):
    uk.load_umap()
    originals = {key: old for _, key, old, _ in uk._STATE.patch.places}
    for module_name, name in MAIN_KERNELS:
        module = sys.modules[module_name]
        twin, old = getattr(module, name), originals[name]
        assert _is_twin(twin)
        assert twin.targetoptions == old.targetoptions | ({"nogil": True} if name in uk.NOGIL else {})
        assert _declared(twin.locals) == _declared(old.locals)
        assert Path(twin._cache.cache_path).is_relative_to(numba_cache)
    assert uk.status() == f"cached in {numba_cache}"
    assert len(list(numba_cache.rglob("*.nbi"))) >= len(MAIN_KERNELS)


FRESH = """
import json, sys
import numpy as np
from embproj.fast import umap_kernels as uk
from embproj.neighbours.search import knn
from embproj.options import Options
from embproj.project.projectors import project
X = np.load(sys.argv[1])
np.save(sys.argv[2], project(X, "umap", Options().params_for("umap"), 0, knn(X, 14)).xy)
umap = uk.load_umap()
stats = {name: getattr(sys.modules[m], name).stats for m, name in uk.KERNELS if m != "umap.distances"}
print(json.dumps({n: [sum(s.cache_hits.values()), sum(s.cache_misses.values())] for n, s in stats.items()}))
"""


def test_a_fresh_process_loads_the_kernels_from_the_cache(fitted, data, numba_cache, tmp_path):
    np.save(tmp_path / "X.npy", data)
    env = {k: v for k, v in os.environ.items() if k not in (NO_NUMBA_CACHE, "NUMBA_CACHE_DIR")}
    env["XDG_CACHE_HOME"] = str(numba_cache.parent.parent)
    done = subprocess.run(
        [sys.executable, "-c", FRESH, str(tmp_path / "X.npy"), str(tmp_path / "xy.npy")],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    hits_misses = json.loads(done.stdout.strip().splitlines()[-1])
    assert {name: hm[1] for name, hm in hits_misses.items()} == {name: 0 for _, name in MAIN_KERNELS}
    assert all(hits > 0 for hits, _ in hits_misses.values())
    np.testing.assert_array_equal(np.load(tmp_path / "xy.npy"), fitted)  # and the same coordinates


def test_cache_folder_follows_the_environment(tmp_path):
    assert uk.cache_dir({"NUMBA_CACHE_DIR": str(tmp_path)}) == tmp_path
    assert uk.cache_dir({"NUMBA_CACHE_DIR": str(tmp_path), "XDG_CACHE_HOME": "/x"}) == tmp_path
    assert uk.cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "embproj" / "numba"
    if sys.platform != "win32":
        assert uk.cache_dir({}) == Path.home() / ".cache" / "embproj" / "numba"


def test_a_users_numba_cache_dir_is_respected(fitted, tmp_path, monkeypatch):
    import numba

    uk._STATE.patch.revert()
    before = numba.config.CACHE_DIR
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(uk, "_STATE", uk._State())
    uk.load_umap()
    assert uk.status() == f"cached in {tmp_path}"
    for module_name, name in MAIN_KERNELS:
        assert Path(getattr(sys.modules[module_name], name)._cache.cache_path).is_relative_to(tmp_path)
    assert numba.config.CACHE_DIR == before  # set for our kernels only, not for the process
    uk._STATE.patch.revert()


def test_importing_the_module_loads_no_heavy_library():
    code = "import sys, embproj.fast.umap_kernels; print([m for m in ('umap', 'numba', 'sklearn') if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def _declared(locals_: dict) -> dict:
    return {k: v for k, v in locals_.items() if k.isidentifier()}  # compiling adds SSA names ("lo.1")


def _is_twin(kernel) -> bool:
    return uk.QUALNAME_MARK in kernel.py_func.__qualname__


def test_another_umap_learn_release_runs_as_shipped(numba_cache, data, monkeypatch):
    import umap.umap_

    if uk._STATE.patch:
        uk._STATE.patch.revert()
    monkeypatch.setattr(uk, "_STATE", uk._State())
    monkeypatch.setitem(versions.CHECKED, "umap-learn", ((0, 0, 1), (0, 0, 2)))
    assert np.isfinite(fit(data)).all()
    assert uk.status().startswith("off: umap-learn 0.") and uk.status().endswith(
        "outside the checked range 0.0.1 to <0.0.2"
    )
    assert not _is_twin(umap.umap_.smooth_knn_dist)


def test_a_corrupt_cache_entry_is_deleted_and_the_run_goes_on(fitted, data, numba_cache, tmp_path, monkeypatch):
    """Twins made afresh load their code from the cache on first call: a corrupt entry there must not fail the
    run (umap-learn's own kernels take over), and it is deleted so that the next run caches it anew."""
    import umap.umap_

    folder = tmp_path / "home" / "embproj" / "numba"
    shutil.copytree(numba_cache, folder)
    entries = list(folder.rglob(f"*{uk.QUALNAME_MARK}*.nbc"))
    assert entries
    for entry in entries:
        entry.write_bytes(b";not a pickle")
    uk._STATE.patch.revert()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(uk, "_STATE", uk._State())
    result = project_umap(data)
    np.testing.assert_array_equal(result.xy, fitted)
    assert not any(e.exists() for e in entries)
    assert uk.status().startswith(f"off: a cached kernel in {folder} could not be loaded (UnpicklingError)")
    assert result.notes == (f"UMAP ran without its kernel cache: {uk.status()[5:]}",)
    assert not _is_twin(umap.umap_.smooth_knn_dist)


def test_a_cache_folder_others_can_write_is_ignored_with_a_warning(fitted, data, tmp_path, monkeypatch):
    import umap.umap_

    folder = tmp_path / "embproj" / "numba"
    folder.mkdir(parents=True)
    folder.chmod(0o777)
    if uk._STATE.patch:
        uk._STATE.patch.revert()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(uk, "_STATE", uk._State())
    result = project_umap(data)
    np.testing.assert_array_equal(result.xy, fitted)
    reason = f"{folder} can be written by other users (mode 777), so it is ignored"
    assert uk.status() == f"off: {reason}" and result.notes == (f"UMAP ran without its kernel cache: {reason}",)
    assert not list(folder.iterdir()) and not _is_twin(umap.umap_.smooth_knn_dist)


def project_umap(X: np.ndarray):
    from embproj.neighbours.search import knn
    from embproj.options import Options
    from embproj.project.projectors import project

    return project(X, "umap", Options().params_for("umap"), 0, knn(X, 14))


def test_a_new_cache_folder_is_private_to_the_user(fitted, tmp_path, monkeypatch):
    if uk._STATE.patch:
        uk._STATE.patch.revert()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(uk, "_STATE", uk._State())
    uk.load_umap()
    assert (tmp_path / "embproj" / "numba").stat().st_mode & 0o777 == 0o700
    assert uk.status() == f"cached in {tmp_path / 'embproj' / 'numba'}"
    uk._STATE.patch.revert()
