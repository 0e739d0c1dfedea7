"""Stage 5: seeded projections from the run's one neighbour graph, small inputs caught before the libraries."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import blobs
from embproj.errors import EmbprojError
from embproj.neighbours.search import knn
from embproj.options import Options
from embproj.project.projectors import neighbours_needed, project

pytestmark = pytest.mark.slow


def fit(X, algo: str, seed: int = 1, **changes):
    """`algo`'s map of X as the pipeline makes it: the options' parameters, neighbours from `knn`."""
    params = Options(**changes).params_for(algo)
    graph = knn(X, neighbours_needed(algo, params, len(X)), params.get("metric", "euclidean"))
    return project(X, algo, params, seed, graph)


@pytest.fixture(scope="module")
def X():
    return blobs(n=150, dims=10, classes=3)[0]


@pytest.fixture(scope="module")
def fits(X):
    """One run of each algorithm, twice, shared by the module (numba compiles once per process)."""
    return {algo: (fit(X, algo), fit(X, algo)) for algo in ("pca", "umap", "tsne")}


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
    assert fits["tsne"][0].params == {
        "perplexity": 30.0,
        "learning_rate": "auto",
        "iterations": 500,
        "early_exaggeration": 12.0,
        "metric": "euclidean",
    }
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
            fit(X[:n], algo, seed=0)
        return
    result = fit(X[:n], algo, seed=0)
    assert result.xy.shape == (n, 2) and np.isfinite(result.xy).all()
    if algo == "umap":  # the defaults: the warning does not read as if the user had typed them
        assert result.notes == (f"UMAP used {n - 1} neighbours, not its default 15: the table has {n} rows",)
    if algo == "tsne":
        assert result.notes[0] == "t-SNE used perplexity 1.33, not its default 30: at most (n-1)/3 for 5 rows"


def test_a_parameter_the_user_gave_is_named_with_the_value_used(X):
    umap = fit(X[:8], "umap", seed=0, n_neighbors=20)
    assert umap.notes == ("--n-neighbors 20 is not below the 8 rows: UMAP used 7",)
    tsne = fit(X[:8], "tsne", seed=0, perplexity=50)
    assert tsne.notes[0] == "--perplexity 50 is above (n-1)/3 for 8 rows: t-SNE used 2.33"


@pytest.mark.parametrize("algo", ["pca", "umap", "tsne"])
def test_identical_rows_give_a_point_not_nan(fits, algo):
    result = fit(np.ones((20, 4), np.float32), algo, seed=0)
    assert np.isfinite(result.xy).all() and not result.xy.any()
    assert "all 20 vectors are identical" in result.notes[0]


@pytest.mark.parametrize("metric", ["cosine", "manhattan", "correlation"])
def test_tsne_metrics(X, fits, metric):
    a = fit(X, "tsne", seed=0, metric=metric, iterations=100)
    b = fit(X, "tsne", seed=0, metric=metric, iterations=100)
    assert np.isfinite(a.xy).all() and a.params["metric"] == metric
    np.testing.assert_array_equal(a.xy, b.xy)


def test_tsne_affinities_from_our_neighbours_equal_opentsnes_exact_ones(X):
    """openTSNE's own exact search and ours give the same affinities (to rounding), so the same map."""
    from openTSNE import affinity
    from openTSNE.nearest_neighbors import PrecomputedNeighbors

    graph = knn(X, 90, "euclidean")
    ours = affinity.PerplexityBasedNN(
        knn_index=PrecomputedNeighbors(graph.indices, graph.distances), perplexity=30, n_jobs=-1, random_state=3
    )
    theirs = affinity.PerplexityBasedNN(X, perplexity=30, method="exact", n_jobs=-1, random_state=3)
    assert ours.P.nnz == theirs.P.nnz
    assert abs(ours.P - theirs.P).max() < 1e-6


def test_umap_from_our_neighbours_is_as_good_as_plain_umap(X, fits, monkeypatch):
    """umap-learn left to find its own neighbours (its slow exact path) and umap-learn handed ours draw maps of
    the same quality: the graphs are the same neighbours at the same distances. (umap-learn's exact search,
    `fast_knn_indices`, an argsort of each row of the distance matrix, runs as the Python it is written in: its
    numba compilation costs ~10 s, and embproj never calls it.)"""
    import umap
    import umap.umap_
    from sklearn.manifold import trustworthiness

    monkeypatch.setattr(umap.umap_, "fast_knn_indices", umap.umap_.fast_knn_indices.py_func)
    plain = umap.UMAP(random_state=1, n_jobs=1).fit(X)
    handed = umap.UMAP(random_state=1, n_jobs=1, precomputed_knn=(*knn(X, 14).with_self(15), None)).fit(X)
    assert plain.graph_.nnz == handed.graph_.nnz
    assert abs(plain.graph_ - handed.graph_).max() < 1e-5
    t_plain = trustworthiness(X, plain.embedding_, n_neighbors=10)
    t_ours = trustworthiness(X, fits["umap"][0].xy, n_neighbors=10)
    assert abs(t_plain - t_ours) < 0.01


def test_a_umap_of_several_separate_groups_is_the_same_in_every_process(tmp_path):
    """Seven groups of rows far apart: each a part of its own in the neighbour graph, where umap-learn's spectral
    start differs from one fit to the next whatever the seed. Two fresh processes give the same coordinates."""
    import subprocess
    import sys

    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(size=(40, 8)) + c * 1000 for c in range(7)]).astype(np.float32)
    pq.write_table(pa.table({"emb": pa.array(list(X), type=pa.list_(pa.float32()))}), tmp_path / "groups.parquet")
    coords = []
    for i in range(2):
        out = tmp_path / f"c{i}.csv"
        run = [sys.executable, "-m", "embproj", "project", str(tmp_path / "groups.parquet"), "--algo", "umap",
               "--n-neighbors", "5", "--no-cache", "--no-metrics", "-q", "-o", str(tmp_path / f"r{i}.html"),
               "--coords-out", str(out)]  # fmt: skip
        assert subprocess.run(run, capture_output=True, text=True, timeout=300).returncode == 0
        coords.append(out.read_bytes())
    assert coords[0] == coords[1]
