"""Stage 5: seeded projections, parameters checked before any work, small inputs caught before the libraries."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import blobs
from embproj.errors import EmbprojError
from embproj.options import PcaParams, TsneParams, UmapParams
from embproj.project import project

PARAMS = {"pca": PcaParams(), "umap": UmapParams(), "tsne": TsneParams()}


@pytest.fixture(scope="module")
def X():
    return blobs(n=150, dims=10, classes=3)[0]


@pytest.fixture(scope="module")
def fits(X):
    """One run of each algorithm, twice, shared by the module (numba compiles once per process)."""
    return {algo: (project(X, algo, p, seed=1), project(X, algo, p, seed=1)) for algo, p in PARAMS.items()}


@pytest.mark.parametrize("algo", ["pca", "umap", "tsne"])
def test_same_seed_same_coordinates(fits, algo):
    a, b = fits[algo]
    assert a.xy.shape == (150, 2) and a.xy.dtype == np.float32
    np.testing.assert_array_equal(a.xy, b.xy)


@pytest.mark.parametrize("algo", ["pca", "umap", "tsne"])
def test_clusters_stay_apart(fits, algo):
    """Three well-separated blobs: every point's nearest map neighbour is from its own blob."""
    labels = np.arange(150) % 3
    xy = fits[algo][0].xy
    d = ((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    assert (labels[d.argmin(1)] == labels).mean() > 0.95


def test_params_are_reported(fits):
    assert fits["umap"][0].params == {"n_neighbors": 15, "min_dist": 0.1, "metric": "euclidean"}
    assert fits["tsne"][0].params["perplexity"] == 30.0
    assert fits["pca"][0].params == {"whiten": False}
    ratio = fits["pca"][0].metrics["explained_variance_ratio"]
    assert len(ratio) == 2 and 0 < ratio[1] <= ratio[0] < 1


@pytest.mark.parametrize("n", [1, 2, 3, 5])
@pytest.mark.parametrize("algo", ["pca", "umap", "tsne"])
def test_tiny_inputs_are_caught_before_the_libraries(X, fits, algo, n):
    if algo != "pca" and n < 4:
        with pytest.raises(
            EmbprojError,
            match=f"needs at least 4 rows with a usable vector, got {n}, give more rows, or use --algo pca",
        ):
            project(X[:n], algo, PARAMS[algo], seed=0)
        return
    result = project(X[:n], algo, PARAMS[algo], seed=0)
    assert result.xy.shape == (n, 2) and np.isfinite(result.xy).all()
    if algo == "umap":
        assert result.notes == (f"--n-neighbors 15 is not below the {n} rows, lowered to {n - 1}",)
    if algo == "tsne":
        assert result.notes[0].startswith("--perplexity 30 is above (n-1)/3 for 5 rows, lowered to 1.33")


@pytest.mark.parametrize("algo", ["pca", "umap", "tsne"])
def test_identical_rows_give_a_point_not_nan(fits, algo):
    result = project(np.ones((20, 4), np.float32), algo, PARAMS[algo], seed=0)
    assert np.isfinite(result.xy).all() and not result.xy.any()
    assert "all 20 vectors are identical" in result.notes[0]


@pytest.mark.parametrize(
    "algo, params, message",
    [
        ("umap", UmapParams(n_neighbors=1), "--n-neighbors 1 is out of range, give a whole number from 2 to 1000"),
        ("umap", UmapParams(min_dist=1.5), "--min-dist 1.5 is out of range, give a number from 0 to 1"),
        ("umap", UmapParams(metric="hamming2"), '--metric "hamming2" is not supported, use one of euclidean, cosine'),
        ("tsne", TsneParams(perplexity=0), "--perplexity 0 is out of range, give a number above 0 to 1000"),
        ("tsne", TsneParams(iterations=5), "--iterations 5 is out of range"),
        ("tsne", TsneParams(learning_rate=-1.0), "--learning-rate -1 is out of range"),
        ("nope", None, 'unknown --algo "nope", use one of pca, umap, tsne, all'),
    ],
)
def test_bad_parameters_name_the_valid_range(X, algo, params, message):
    with pytest.raises(EmbprojError) as err:
        project(X, algo, params, seed=0)
    assert message in str(err.value)


@pytest.mark.parametrize("metric", ["cosine", "manhattan", "correlation"])
def test_tsne_metrics(X, fits, metric):
    a = project(X, "tsne", TsneParams(metric=metric, iterations=100), seed=0)
    b = project(X, "tsne", TsneParams(metric=metric, iterations=100), seed=0)
    assert np.isfinite(a.xy).all() and a.params["metric"] == metric
    np.testing.assert_array_equal(a.xy, b.xy)


def test_tsne_exact_neighbours_match_opentsne(X):
    """Brute-force neighbours (ours, faster) give openTSNE's own exact-neighbour affinities (to rounding)."""
    from openTSNE import affinity

    from embproj.project import _exact_affinities

    ours = _exact_affinities(X, 30, "euclidean", seed=3)
    theirs = affinity.PerplexityBasedNN(X, perplexity=30, method="exact", n_jobs=-1, random_state=3)
    assert ours.P.nnz == theirs.P.nnz
    assert abs(ours.P - theirs.P).max() < 1e-8


def test_tsne_correlation_on_many_rows(monkeypatch):
    """Above the exact-neighbour limit, correlation runs as cosine on centred rows (Annoy has no correlation)."""
    monkeypatch.setattr("embproj.project.EXACT_TSNE_ROWS", 100)
    Xb, _ = blobs(n=300, dims=10, classes=3)
    result = project(Xb, "tsne", TsneParams(metric="correlation", iterations=50), seed=0)
    assert np.isfinite(result.xy).all() and result.params["metric"] == "correlation"
