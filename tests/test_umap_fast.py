"""embproj.umap_fast computes what umap-learn computes, only without its slow paths.

Neighbours equal umap-learn's own exact small-data path (indices, distances and fuzzy graph, bit for bit);
the cached kernels give the same coordinates as umap-learn unpatched; a fresh process loads them from the
cache, which lives where the environment says. One small fit is shared by the module; the kernel cache is a
temporary folder (through XDG_CACHE_HOME: NUMBA_CACHE_DIR would also send pynndescent's own cached
functions there, and recompiling those costs ~10 s).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from embproj import umap_fast as uf

pytestmark = pytest.mark.slow

METRICS = ("euclidean", "cosine", "manhattan", "correlation", "chebyshev", "minkowski")
MAIN_KERNELS = [k for k in uf.KERNELS if k[0] != "umap.distances"]


def small_data(kind: str, n: int = 160) -> np.ndarray:
    """`ties`: integers 0..3, so distances tie, with duplicate rows and an all-zero row; `float`: Gaussian,
    with a duplicated row and a zero row."""
    rng = np.random.default_rng(1)
    if kind == "ties":
        X = rng.integers(0, 4, size=(n, 6)).astype(np.float32)
        X[7] = X[8] = 0
        X[20:24] = X[19]
    else:
        X = rng.normal(size=(n, 6)).astype(np.float32)
        X[5] = X[6]
        X[7] = 0
    return X


def clusters(n: int = 240) -> np.ndarray:
    rng = np.random.default_rng(0)
    centers = rng.normal(scale=6.0, size=(4, 10))
    X = (centers[np.arange(n) % 4] + rng.normal(size=(n, 10))).astype(np.float32)
    X[:3] = X[3]  # duplicates, which umap-learn's exact path and ours must treat alike
    return X


def fit(X: np.ndarray) -> np.ndarray:
    return uf.fit_umap(X, n_neighbors=15, min_dist=0.1, metric="euclidean", seed=0)


@pytest.fixture(scope="module")
def numba_cache(tmp_path_factory):
    """A fresh patch whose kernels are cached in a temporary folder, undone afterwards."""
    mp = pytest.MonkeyPatch()
    home = tmp_path_factory.mktemp("cache-home")
    folder = home / "embproj" / "numba"
    mp.delenv(uf.OFF_SWITCH, raising=False)
    mp.delenv("NUMBA_CACHE_DIR", raising=False)
    mp.setenv("XDG_CACHE_HOME", str(home))
    if uf._STATE.patch:  # applied by an earlier test module: put umap-learn's own kernels back first
        uf._STATE.patch.revert()
    mp.setattr(uf, "_STATE", uf._State())
    yield folder
    if uf._STATE.patch:
        uf._STATE.patch.revert()
    mp.undo()


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    return clusters()


@pytest.fixture(scope="module")
def fitted(numba_cache, data) -> np.ndarray:
    return fit(data)


def own_exact_path(X: np.ndarray, k: int, metric: str):
    """What umap-learn does below 4,096 rows: every distance by its numba metric, then a stable sort."""
    import umap.distances
    import umap.umap_
    from sklearn.metrics import pairwise_distances

    dmat = pairwise_distances(X, metric=umap.distances.named_distances[metric])
    idx, dists, _ = umap.umap_.nearest_neighbors(dmat, k, "precomputed", {}, False, None)
    return dmat, idx, dists


# -- neighbours ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("kind", ["ties", "float"])
def test_neighbours_and_graph_equal_umaps_own_exact_path(numba_cache, kind, metric):
    import umap.umap_

    X = small_data(kind)
    dmat, own_idx, own_dists = own_exact_path(X, 10, metric)
    idx, dists = uf.exact_knn(X, 10, metric)
    np.testing.assert_array_equal(idx, own_idx)
    np.testing.assert_array_equal(dists, own_dists)
    assert (dists[np.arange(len(X)), 0] == 0).all()  # itself (or an earlier duplicate), at distance exactly 0
    ours = umap.umap_.fuzzy_simplicial_set(X, 10, None, metric, {}, idx, dists)[0]
    own = umap.umap_.fuzzy_simplicial_set(dmat, 10, None, "precomputed", {}, None, None)[0]
    assert (ours != own).nnz == 0


def test_ties_beyond_the_candidates_are_settled_by_row_number(numba_cache):
    X = np.repeat(np.eye(3, dtype=np.float32), 60, axis=0)  # 60 copies of 3 points: 60 ties at distance 0
    _, own_idx, own_dists = own_exact_path(X, 10, "euclidean")
    idx, dists = uf.exact_knn(X, 10, "euclidean")
    np.testing.assert_array_equal(idx, own_idx)
    np.testing.assert_array_equal(dists, own_dists)


# -- coordinates --------------------------------------------------------------------------------------------


def test_same_seed_same_coordinates(fitted, data):
    assert fitted.shape == (len(data), 2) and np.isfinite(fitted).all()
    np.testing.assert_array_equal(fit(data), fitted)


def test_unpatched_umap_gives_the_same_coordinates(fitted, data, monkeypatch):
    import umap.umap_

    monkeypatch.setenv(uf.OFF_SWITCH, "1")
    np.testing.assert_array_equal(fit(data), fitted)
    assert not _is_twin(umap.umap_.smooth_knn_dist)
    assert uf.kernel_cache_status() == f"off: {uf.OFF_SWITCH} is set"
    with warnings.catch_warnings():  # and umap-learn on its own, exact neighbours included
        warnings.simplefilter("ignore")
        np.testing.assert_array_equal(umap.umap_.UMAP(random_state=0).fit_transform(data), fitted)


def test_a_missing_kernel_name_falls_back_to_plain_umap(fitted, data, monkeypatch):
    import umap.umap_

    uf._STATE.patch.revert()
    monkeypatch.setattr(uf, "_STATE", uf._State())
    monkeypatch.setattr(uf, "KERNELS", (*uf.KERNELS, ("umap.umap_", "no_such_kernel")))
    np.testing.assert_array_equal(fit(data), fitted)
    assert uf.kernel_cache_status() == "off: umap-learn has no numba kernel umap.umap_.no_such_kernel"
    assert not _is_twin(umap.umap_.smooth_knn_dist)  # nothing was swapped half-way


def test_a_twin_that_does_not_compile_falls_back_to_plain_umap(fitted, data, monkeypatch):
    import numba
    import umap.umap_

    def broken(distances, k, n_iter=64, local_connectivity=1.0, bandwidth=1.0):
        return no_such_name  # noqa: F821 (a typing error, raised when numba compiles it)

    patch = uf._STATE.patch
    places = [(o, k, old, numba.njit(broken) if k == "smooth_knn_dist" else new) for o, k, old, new in patch.places]
    monkeypatch.setattr(uf, "_STATE", uf._State(patch=uf.KernelPatch(places, patch.directory)))
    np.testing.assert_array_equal(fit(data), fitted)
    assert uf.kernel_cache_status() == "off: a cached kernel failed to compile: TypingError"
    assert not _is_twin(umap.umap_.smooth_knn_dist) and umap.umap_.smooth_knn_dist.py_func is not broken


def test_an_unwritable_cache_folder_falls_back(fitted, tmp_path, monkeypatch):
    import umap.umap_

    uf._STATE.patch.revert()
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(blocker / "numba"))
    monkeypatch.setattr(uf, "_STATE", uf._State())
    uf.load_umap()
    assert uf.kernel_cache_status() == f"off: {blocker / 'numba'} is not writable"
    assert not _is_twin(umap.umap_.smooth_knn_dist)


# -- the cache ----------------------------------------------------------------------------------------------


def test_patched_kernels_are_cached_twins_with_the_original_options(fitted, numba_cache):
    uf.load_umap()
    originals = {key: old for _, key, old, _ in uf._STATE.patch.places}
    for module_name, name in MAIN_KERNELS:
        module = sys.modules[module_name]
        twin, old = getattr(module, name), originals[name]
        assert _is_twin(twin)
        assert twin.targetoptions == old.targetoptions
        assert _declared(twin.locals) == _declared(old.locals)
        assert Path(twin._cache.cache_path).is_relative_to(numba_cache)
    assert uf.kernel_cache_status() == f"cached in {numba_cache}"
    assert len(list(numba_cache.rglob("*.nbi"))) >= len(MAIN_KERNELS)


FRESH = """
import json, sys
import numpy as np
from embproj import umap_fast as uf
xy = uf.fit_umap(np.load(sys.argv[1]), n_neighbors=15, min_dist=0.1, metric="euclidean", seed=0)
np.save(sys.argv[2], xy)
umap = uf.load_umap()
stats = {name: getattr(sys.modules[m], name).stats for m, name in uf.KERNELS if m != "umap.distances"}
print(json.dumps({n: [sum(s.cache_hits.values()), sum(s.cache_misses.values())] for n, s in stats.items()}))
"""


def test_a_fresh_process_loads_the_kernels_from_the_cache(fitted, data, numba_cache, tmp_path):
    np.save(tmp_path / "X.npy", data)
    env = {k: v for k, v in os.environ.items() if k not in (uf.OFF_SWITCH, "NUMBA_CACHE_DIR")}
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
    assert uf.cache_dir({"NUMBA_CACHE_DIR": str(tmp_path)}) == tmp_path
    assert uf.cache_dir({"NUMBA_CACHE_DIR": str(tmp_path), "XDG_CACHE_HOME": "/x"}) == tmp_path
    assert uf.cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "embproj" / "numba"
    if sys.platform != "win32":
        assert uf.cache_dir({}) == Path.home() / ".cache" / "embproj" / "numba"


def test_a_users_numba_cache_dir_is_respected(fitted, tmp_path, monkeypatch):
    import numba

    uf._STATE.patch.revert()
    before = numba.config.CACHE_DIR
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(uf, "_STATE", uf._State())
    uf.load_umap()
    assert uf.kernel_cache_status() == f"cached in {tmp_path}"
    for module_name, name in MAIN_KERNELS:
        assert Path(getattr(sys.modules[module_name], name)._cache.cache_path).is_relative_to(tmp_path)
    assert numba.config.CACHE_DIR == before  # set for our kernels only, not for the process
    uf._STATE.patch.revert()


def test_importing_the_module_loads_no_heavy_library():
    code = "import sys, embproj.umap_fast; print([m for m in ('umap', 'numba', 'sklearn') if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def _declared(locals_: dict) -> dict:
    return {k: v for k, v in locals_.items() if k.isidentifier()}  # compiling adds SSA names ("lo.1")


def _is_twin(kernel) -> bool:
    return uf.QUALNAME_MARK in kernel.py_func.__qualname__


# -- umap-learn's functions, loaded without the umap package -------------------------------------------------


def _direct_version() -> bool:
    from embproj import umap_direct

    try:
        uf.check_umap_version(umap_direct.DIRECT_VERSIONS)
        return True
    except RuntimeError:
        return False


direct = pytest.mark.skipif(not _direct_version(), reason="umap_direct is checked against other umap-learn releases")


def one_piece(n: int, dims: int = 8, seed: int = 2) -> np.ndarray:
    """One Gaussian cloud (its neighbour graph is connected: the path umap_direct loads), with a duplicate row."""
    X = np.random.default_rng(seed).normal(size=(n, dims)).astype(np.float32)
    X[1] = X[0]
    return X


def umap_learn(X: np.ndarray, idx, dists, **params) -> np.ndarray:
    """umap.UMAP itself, with the same exact neighbours handed in."""
    import umap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = umap.UMAP(**params, random_state=0, n_jobs=1, precomputed_knn=(idx.copy(), dists.copy(), None))
        return model.fit_transform(X)


@direct
@pytest.mark.parametrize(
    ("n", "metric", "k", "min_dist"),
    [
        (300, "euclidean", 15, 0.1),
        (300, "cosine", 15, 0.1),
        (300, "correlation", 15, 0.1),
        (300, "manhattan", 10, 0.5),
        (12, "euclidean", 11, 0.1),  # fewer rows than n_neighbors + 3: random start
        (4_200, "euclidean", 15, 0.1),  # above umap-learn's 4,096-row small-data line
    ],
)
def test_direct_fit_is_bit_identical_to_umap_learn(numba_cache, n, metric, k, min_dist):
    from embproj import umap_direct

    X = one_piece(n, dims=4 if n > 1000 else 8)
    idx, dists = uf.exact_knn(X, k, metric)
    init = "spectral" if n > k + 2 else "random"
    ours = umap_direct.fit(X, idx, dists, n_neighbors=k, min_dist=min_dist, metric=metric, seed=0, init=init)
    theirs = umap_learn(X, idx, dists, n_neighbors=k, min_dist=min_dist, metric=metric, init=init)
    assert ours.dtype == theirs.dtype == np.float32
    np.testing.assert_array_equal(ours, theirs)


@direct
def test_a_graph_in_pieces_is_left_to_umap_learn(fitted, data):
    from embproj import umap_direct

    idx, dists = uf.exact_knn(data, 15, "euclidean")
    with pytest.raises(umap_direct.Unsupported, match="multi_component_layout"):
        umap_direct.fit(data, idx, dists, n_neighbors=15, min_dist=0.1, metric="euclidean", seed=0, init="spectral")
    np.testing.assert_array_equal(fitted, umap_learn(data, idx, dists, n_neighbors=15, min_dist=0.1))
    assert "loaded without" not in uf.kernel_cache_status()  # the UMAP class ran: see the tests above


DIRECT = """
import json, sys
import numpy as np
from embproj import umap_fast as uf
xy = uf.fit_umap(np.load(sys.argv[1]), n_neighbors=15, min_dist=0.1, metric=sys.argv[3], seed=0)
np.save(sys.argv[2], xy)
print(json.dumps({"loaded": [m for m in ("umap", "sklearn", "pynndescent") if m in sys.modules],
                  "status": uf.kernel_cache_status()}))
"""


@direct
@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_a_fresh_process_runs_umap_without_importing_umap_or_sklearn(numba_cache, tmp_path, metric):
    X = one_piece(300)
    np.save(tmp_path / "X.npy", X)
    env = {k: v for k, v in os.environ.items() if k not in (uf.OFF_SWITCH, "NUMBA_CACHE_DIR")}
    env["XDG_CACHE_HOME"] = str(numba_cache.parent.parent)
    args = [sys.executable, "-c", DIRECT, str(tmp_path / "X.npy"), str(tmp_path / "xy.npy"), metric]
    done = subprocess.run(args, capture_output=True, text=True, env=env, check=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["loaded"] == []
    assert report["status"] == f"cached in {numba_cache} (umap-learn's functions, loaded without the umap package)"
    idx, dists = uf.exact_knn(X, 15, metric)
    expected = umap_learn(X, idx, dists, n_neighbors=15, min_dist=0.1, metric=metric, init="spectral")
    np.testing.assert_array_equal(np.load(tmp_path / "xy.npy"), expected)
    kernels = {p.name.split("-")[0] for p in numba_cache.rglob("*.nbi") if "__embproj_direct_" in p.name}
    assert {k.split("__embproj_direct_")[0].split(".")[-1] for k in kernels} >= {
        "smooth_knn_dist",
        "compute_membership_strengths",
        "_optimize_layout_euclidean_single_epoch",
    }


@direct
def test_the_off_switch_also_turns_the_direct_path_off(numba_cache, monkeypatch):
    from embproj import umap_direct

    X = one_piece(60)
    idx, dists = uf.exact_knn(X, 15, "euclidean")
    monkeypatch.setenv(uf.OFF_SWITCH, "1")
    with pytest.raises(umap_direct.Unsupported, match=uf.OFF_SWITCH):
        umap_direct.fit(X, idx, dists, n_neighbors=15, min_dist=0.1, metric="euclidean", seed=0, init="spectral")


@direct
def test_a_function_missing_from_umap_learn_leaves_the_work_to_umap_learn(monkeypatch):
    from embproj import umap_direct

    monkeypatch.setattr(
        umap_direct,
        "_Loaded",
        type("_Loaded", (), {"lock": umap_direct._Loaded.lock, "namespace": None, "failure": None}),
    )
    monkeypatch.setattr(umap_direct, "FUNCTIONS", (("layouts.py", ("no_such_function",)),))
    with pytest.raises(umap_direct.Unsupported, match="layouts.py has no no_such_function"):
        umap_direct.namespace()


def test_another_umap_learn_release_runs_as_the_umap_class(monkeypatch):
    from embproj import umap_direct

    fresh = type("_Loaded", (), {"lock": umap_direct._Loaded.lock, "namespace": None, "failure": None})
    monkeypatch.setattr(umap_direct, "_Loaded", fresh)
    monkeypatch.setattr(umap_direct, "DIRECT_VERSIONS", ((0, 0, 1), (0, 0, 2)))
    with pytest.raises(umap_direct.Unsupported, match="outside the checked range 0.0.1 to <0.0.2"):
        umap_direct.namespace()
