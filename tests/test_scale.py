"""Every row on the map: fitted on a seeded sample, the other rows placed by the fitted model (thresholds lowered
so that small tables take the large-data paths), streamed vectors, and the same coordinates for the same seed."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.manifold import trustworthiness

from conftest import blobs
from embproj.environment import NO_FAST
from embproj.fast import umap_search, umap_transform, versions
from embproj.neighbours import search as knn_search
from embproj.neighbours.search import knn
from embproj.options import Options
from embproj.project.projectors import fit_map, fit_rows, neighbours_needed, project
from reportdata import neighbours, points

pytestmark = pytest.mark.slow
N, FIT = 600, 150


@pytest.fixture(scope="module")
def X():
    return blobs(n=N, dims=12, classes=4, seed=3)[0]


def placed(X, algo: str, fit: np.ndarray, seed: int = 0):
    params = Options().params_for(algo)
    graph = knn(X[fit], neighbours_needed(algo, params, len(fit)), params.get("metric", "euclidean"), index=True)
    return project(X, algo, params, seed, graph, fit)


@pytest.fixture(scope="module")
def maps(X):
    """Each algorithm fitted on FIT rows of N, placing the rest; twice, for determinism."""
    fit = fit_rows(N, FIT, seed=0)
    return fit, {algo: (placed(X, algo, fit), placed(X, algo, fit)) for algo in ("pca", "umap", "tsne")}


def test_the_fitted_rows_are_a_seeded_sample_in_order():
    a, b, c = fit_rows(1000, 100, 0), fit_rows(1000, 100, 0), fit_rows(1000, 100, 1)
    assert len(a) == 100 and (np.diff(a) > 0).all() and np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.array_equal(fit_rows(50, 100, 0), np.arange(50))  # fewer rows than that: every row is fitted


@pytest.mark.parametrize("algo", ["pca", "umap", "tsne"])
def test_every_row_gets_a_place_the_same_for_the_same_seed(maps, algo):
    fit, runs = maps
    a, b = runs[algo]
    assert a.xy.shape == (N, 2) and np.isfinite(a.xy).all()
    assert (a.fitted, a.placed) == (FIT, N - FIT) and np.array_equal(a.fit, fit)
    np.testing.assert_array_equal(a.xy, b.xy)


def test_pca_places_rows_exactly(X, maps):
    from sklearn.decomposition import PCA

    fit, runs = maps
    expected = PCA(n_components=2, random_state=0).fit(X[fit]).transform(X)
    np.testing.assert_allclose(runs["pca"][0].xy, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("algo", ["umap", "tsne"])
def test_placed_rows_land_among_their_neighbours(X, maps, algo):
    """A placed row lands in its own blob, and the whole map stays trustworthy (fitted on a quarter of the rows)."""
    fit, runs = maps
    xy = runs[algo][0].xy
    rest = np.setdiff1d(np.arange(N), fit)
    labels = np.arange(N) % 4
    d = ((xy[rest][:, None, :] - xy[fit][None, :, :]) ** 2).sum(-1)
    assert (labels[fit][d.argmin(1)] == labels[rest]).mean() > 0.95  # placed into their own blob
    assert trustworthiness(X, xy, n_neighbors=10) > 0.9


def test_placing_rows_does_not_change_the_fitted_map(X, maps):
    """The fitted rows' coordinates are those of the same fit with nothing to place (the index only adds the
    search for new rows)."""
    fit, runs = maps
    params = Options().params_for("umap")
    alone = project(X[fit], "umap", params, 0, knn(X[fit], 14))
    np.testing.assert_array_equal(runs["umap"][0].xy[fit], alone.xy)


def test_umap_places_rows_as_its_own_transform_does_to_the_bit(X, monkeypatch):
    """umap_transform takes umap-learn's start for new rows as whole arrays; the coordinates stay `transform`'s,
    and umap-learn's own `transform` runs where its names were not checked."""
    import umap
    from scipy.sparse import csr_matrix
    from umap.umap_ import init_graph_transform

    fit = fit_rows(N, FIT, seed=0)
    rest = np.setdiff1d(np.arange(N), fit)
    params = Options().params_for("umap")
    _, placer = fit_map(X[fit], "umap", params, 0, knn(X[fit], 14, index=True))
    rows = np.ascontiguousarray(X[rest], dtype=np.float32)
    expected = placer.model.transform(rows)
    np.testing.assert_array_equal(placer(X[rest]), expected)
    assert umap_transform.plan(placer.model) == umap_transform.WHOLE_ARRAYS
    np.testing.assert_array_equal(umap_transform.transform(placer.model, X[fit]), placer.model.embedding_)
    # the start alone, with what the loop treats apart: a weight of exactly 1 (not first in its row), a row
    # with no neighbours, rows of different lengths
    graph = csr_matrix(np.array([[0.5, 0.25, 0, 0.125], [0, 0, 0, 0], [0.3, 1.0, 0.7, 0], [0, 0, 0.9, 0]], np.float32))
    embedding = np.random.default_rng(0).normal(size=(4, 2)).astype(np.float32)
    np.testing.assert_array_equal(umap_transform.start(graph, embedding), init_graph_transform(graph, embedding))
    monkeypatch.setitem(versions.CHECKED, "umap-learn", ((9, 0, 0), (10, 0, 0)))
    assert umap_transform.plan(placer.model).endswith(f"umap-learn {umap.__version__} is outside the checked range "
                                                       "9.0.0 to <10.0.0)")  # fmt: skip
    np.testing.assert_array_equal(placer(X[rest]), expected)
    assert umap_transform.status() == umap_transform.plan(placer.model)  # the way the rows just went
    monkeypatch.undo()
    monkeypatch.setenv(NO_FAST, "umap_transform")
    np.testing.assert_array_equal(placer(X[rest]), expected)
    assert umap_transform.status() == f"umap-learn's transform ({NO_FAST} turns it off)"


def test_umap_search_answers_as_pynndescents_own_index_does(X, monkeypatch):
    """umap-learn's transform asks an index for each new row's fitted neighbours: umap_search's answers from the
    run's exact search; pynndescent's own index (the public path) finds the same rows, and the rows it places
    land in their own blobs too."""
    from pynndescent import NNDescent

    from embproj.project import place

    fit = fit_rows(N, FIT, seed=0)
    rest = np.setdiff1d(np.arange(N), fit)
    params, graph = Options().params_for("umap"), knn(X[fit], 14, index=True)
    fast = umap_search.search_index(graph.index, X[fit], 14, "euclidean", 0)
    assert umap_search.status() == umap_search.EXACT and isinstance(fast, NNDescent) and type(fast) is not NNDescent
    many = umap_search.EXACT_PLACE_ROWS + 1  # more rows to place than the exact search places faster
    locked = umap_search.search_index(graph.index, X[fit], 14, "euclidean", 0, placing=many)
    assert isinstance(locked, NNDescent) and type(locked) is umap_search.Locked
    assert "rows to place" in umap_search.status() and "a thread at a time" in umap_search.status()
    again = pickle.loads(pickle.dumps(locked))  # as a fitted UMAP goes to a Dask worker
    assert type(again) is umap_search.Locked
    np.testing.assert_array_equal(again.query(X[rest], k=14)[0], locked.query(X[rest], k=14)[0])
    monkeypatch.setenv(NO_FAST, "umap_search")
    public = umap_search.search_index(graph.index, X[fit], 14, "euclidean", 0)
    assert type(public) is NNDescent
    assert umap_search.status() == f"NN-descent (pynndescent's own index: {NO_FAST} turns it off)"
    (exact, exact_d), (found, found_d) = fast.query(X[rest], k=14), public.query(X[rest], k=14)
    assert np.mean([len(set(a) & set(b)) / 14 for a, b in zip(exact, found)]) > 0.95  # NN-descent: approximate
    assert np.isclose(found_d.min(axis=1), exact_d[:, 0], rtol=1e-3).mean() > 0.95  # the same nearest, mostly
    monkeypatch.setattr(place, "PLACE_BATCH", 50)  # 9 batches
    _, placer = fit_map(X[fit], "umap", params, 0, graph)
    assert placer.threads() == 1  # pynndescent's query keeps its buffers on the index: one thread at a time
    xy = project(X, "umap", params, 0, graph, fit).xy  # placed through pynndescent's index
    labels = np.arange(N) % 4
    nearest_fitted = ((xy[rest][:, None, :] - xy[fit][None, :, :]) ** 2).sum(-1).argmin(1)
    assert (labels[fit][nearest_fitted] == labels[rest]).mean() > 0.95
    # the fast path above EXACT_PLACE_ROWS: the same index, asked a thread at a time, places the rows a batch a
    # thread on every core where one thread after another puts them (pynndescent's query starts from its seed)
    monkeypatch.delenv(NO_FAST)
    monkeypatch.setattr(umap_search, "EXACT_PLACE_ROWS", len(rest) - 1)
    _, placer = fit_map(X[fit], "umap", params, 0, graph, placing=len(rest))
    assert type(placer.model.precomputed_knn[2]) is umap_search.Locked and placer.threads() == place.usable_cores()
    threaded = project(X, "umap", params, 0, graph, fit).xy
    assert "a thread at a time" in umap_search.status()
    np.testing.assert_array_equal(threaded, xy)


def test_rows_placed_on_every_core_land_where_one_thread_puts_them(X, monkeypatch):
    """UMAP places a batch a thread on every core (its layout kernels run without Python's lock): the same
    coordinates as one batch after the other."""
    from embproj.project import place
    from embproj.project.place import UmapPlacer, usable_cores

    fit = fit_rows(N, FIT, seed=0)
    params, graph = Options().params_for("umap"), knn(X[fit], 14, index=True)
    monkeypatch.setattr(place, "PLACE_BATCH", 50)  # 9 batches
    _, placer = fit_map(X[fit], "umap", params, 0, graph)
    assert placer.threads() == usable_cores()
    threaded = project(X, "umap", params, 0, graph, fit)
    monkeypatch.setattr(UmapPlacer, "threads", lambda self: 1)
    np.testing.assert_array_equal(project(X, "umap", params, 0, graph, fit).xy, threaded.xy)


def _table(path, n: int = N, dims: int = 12):
    X, labels = blobs(n=n, dims=dims, classes=4, seed=3)
    pq.write_table(pa.table({"label": labels, "embedding": pa.array(list(X), type=pa.list_(pa.float32()))}), path)
    return path


def test_every_row_on_the_page_says_which_were_placed(cli, tmp_path):
    data = _table(tmp_path / "t.parquet")
    args = ["project", data, "--algo", "umap", "--max-points", "all", "--fit-points", FIT, "--json", "-o", "r.html"]
    result = cli(*args, "--coords-out", "c.parquet")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["rows"]["plotted"] == N and summary["algorithms"][0]["fitted"] == FIT
    assert summary["algorithms"][0]["placed"] == N - FIT
    assert summary["neighbours"]["fit"] == {"rows": FIT, "k": 14, "metric": "euclidean", "exact": True}
    assert summary["fast"]["umap_transform"] == umap_transform.WHOLE_ARRAYS
    assert summary["fast"]["umap_search"] == umap_search.EXACT
    page = (tmp_path / "r.html").read_text()
    data_points = points(page)
    assert len(data_points["x_umap"]) == N and int(data_points["fit"].sum()) == FIT
    assert f"fitted on {FIT:,} rows, {N - FIT:,} placed by the fitted model" in page
    coords = pq.read_table(tmp_path / "c.parquet")
    assert coords.column("fitted").to_pylist().count(True) == FIT
    np.testing.assert_array_equal(coords.column("umap_x").to_numpy(), data_points["x_umap"])
    again = cli(*args[:-2], "-o", "again.html", "--coords-out", "c2.parquet")
    assert again.exit_code == 0
    np.testing.assert_array_equal(pq.read_table(tmp_path / "c2.parquet").column("umap_x"), coords.column("umap_x"))


def test_all_rows_stream_into_one_matrix(tmp_path):
    """With every row kept and the row count known, the vectors are written into one preallocated matrix as the
    file streams (no Arrow copy of the embedding is kept, no chunk is copied twice)."""
    from embproj.plan.choose import Embedding
    from embproj.read.source import open_source
    from embproj.sample import Draw, Reading, sample_rows
    from embproj.vectors.matrix import vectors

    source = open_source(_table(tmp_path / "t.parquet", n=40_000, dims=8))
    embedding = Embedding("list", ("embedding",), 8, "")
    reading = Reading(["label", "embedding"], ["label"], lambda b: vectors(b, embedding))
    sample = sample_rows(source, reading, Draw(None))
    assert sample.table.column_names == ["label"] and sample.X.shape == (40_000, 8)
    assert sample.X.base is not None or sample.X.flags.owndata  # one array, filled in place
    expected = blobs(n=40_000, dims=8, classes=4, seed=3)[0]
    np.testing.assert_array_equal(sample.X, expected)
    five = sample_rows(source, reading, Draw(5_000, seed=7))
    np.testing.assert_array_equal(five.X, expected[five.row_ids])  # a sample keeps each row's own vector


def test_a_cached_graph_that_is_not_one_of_the_rows_is_searched_again(tmp_path, monkeypatch):
    from embproj import cache
    from embproj.neighbours.search import Graph

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    X = blobs(n=40, dims=4, classes=2, seed=1)[0]
    graph = knn(X, 5)
    cache.save_graph("g", graph)
    loaded = cache.load_graph("g")
    assert (
        loaded.cached
        and np.array_equal(loaded.indices, graph.indices)
        and loaded.facts() == {**graph.facts(), "cache": "hit"}
    )
    own = np.arange(40, dtype=np.int32)[:, None] + np.zeros((1, 5), np.int32)
    for indices, distances in [
        (graph.indices + 1, graph.distances),  # a row past the last
        (graph.indices, graph.distances[:, :3]),  # half a graph
        (graph.indices.astype(np.float32), graph.distances),  # not row numbers
        (own, graph.distances),  # each row its own neighbour, five times
    ]:
        cache.save_graph("g", Graph(indices, distances, "euclidean"))
        said = []
        assert cache.load_graph("g", said.append) is None
        assert len(said) == 1 and "could not be used (it is not a graph of each row's other rows)" in said[0]
        assert not (tmp_path / "cache" / "embproj" / "projections" / "g.npz").exists()  # deleted: searched again
    where = tmp_path / "cache" / "embproj" / "projections"
    where.chmod(0o755)  # readable by others, as a user's own mkdir would leave it: private again on the next write
    cache.save_graph("h", graph)
    assert where.stat().st_mode & 0o777 == 0o700
    entry = where / "g.npz"
    cache.save_graph("g", graph)
    for broken in (b"", entry.read_bytes()[:100], b"not a zip file"):  # empty, cut short, another kind of file
        entry.write_bytes(broken)
        assert cache.load_graph("g") is None and cache.load("g") is None
    for facts in ({}, []):
        cache._write("g", facts, indices=graph.indices, distances=graph.distances)  # no metric; not a dict
        assert cache.load_graph("g") is None
    search = cache._searched("the same vectors", None)  # the search over every row that cache.around hands on
    assert not search(X[:30], 5).cached and search(X[:30], 5).cached  # kept, then read back
    found = search(X, 5)  # the key of those 30 rows' graph: another graph of other rows, not used
    assert np.array_equal(found.indices, graph.indices) and not found.cached


@pytest.mark.parametrize("dims", ["50", "4"])  # the 12 dims as they are, or pre-reduced for t-SNE (not PCA)
def test_a_report_made_from_the_cache_is_the_report_made_without_it(cli, tmp_path, monkeypatch, dims):
    """The graph over every row is as deep whether or not the maps come from the cache (t-SNE's 90 neighbours, the
    page's 10), so the page is the same to the byte, with the approximate search (where depth changes a row's
    neighbours); so is what the page says of the pre-reduction."""
    monkeypatch.delenv("EMBPROJ_NO_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(knn_search, "EXACT_WORK", 1e3)
    data = _table(tmp_path / "t.parquet")
    base = [
        "project",
        data,
        "--max-points",
        "all",
        "--reproducible",
        "--json",
        "-q",
        "-o",
        "r.html",
        "--max-dims",
        dims,
    ]
    tsne, pca = [*base, "--algo", "tsne", "--iterations", "100"], [*base, "--algo", "pca"]
    assert cli(*tsne).exit_code == 0  # fills the cache: the map, and the graph 90 deep
    # PCA's page wants 10: searched and kept 10 deep too, unless t-SNE's pre-reduced vectors left it 10 deep
    for args, hit in ((pca, dims == "4"), (tsne, True)):
        cached = cli(*args)
        graph = json.loads(cached.stdout)["neighbours"]["original"]
        assert graph.get("cache") == ("hit" if hit else None) and not graph["exact"]
        page = (tmp_path / "r.html").read_bytes()
        assert cli(*args, "--no-cache").exit_code == 0
        assert (tmp_path / "r.html").read_bytes() == page
    again = json.loads(cli(*pca).stdout)["neighbours"]["original"]
    assert again["cache"] == "hit" and again["k"] == 10


def test_a_second_run_with_only_page_options_changed_takes_the_coordinates_from_the_cache(cli, tmp_path, monkeypatch):
    monkeypatch.delenv("EMBPROJ_NO_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(knn_search, "EXACT_WORK", 1e3)  # every row's graph by the cell search, as above ~45,000 rows
    data = _table(tmp_path / "t.parquet")
    base = ["project", data, "--algo", "all", "--max-points", "all", "--fit-points", FIT, "--json", "-q"]
    base += ["--iterations", "100"]  # a shorter t-SNE: the cache is what is tested
    first = cli(*base, "-o", "a.html", "--coords-out", "a.parquet")
    assert first.exit_code == 0, first.output
    assert [a["cache"] for a in json.loads(first.stdout)["algorithms"]] == ["miss", "miss", "miss"]
    again = cli(*base, "-o", "b.html", "--coords-out", "b.parquet", "--title", "Another title", "--color", "")
    assert [a["cache"] for a in json.loads(again.stdout)["algorithms"]] == ["hit", "hit", "hit"]
    graph, cached = (json.loads(run.stdout)["neighbours"]["original"] for run in (first, again))
    assert not graph["exact"] and "cache" not in graph and cached == {**graph, "cache": "hit"}  # not searched again
    assert np.array_equal(neighbours((tmp_path / "a.html").read_text()), neighbours((tmp_path / "b.html").read_text()))
    assert pq.read_table(tmp_path / "a.parquet").drop_columns(["label"]).equals(pq.read_table(tmp_path / "b.parquet"))
    assert (tmp_path / "cache" / "embproj" / "projections").stat().st_mode & 0o777 == 0o700
    pca = [*base[:2], "--algo", "pca", *base[4:]]  # the key is made the same way for every map: PCA says it
    other_seed = cli(*pca, "-o", "c.html", "--seed", "1")
    assert [a["cache"] for a in json.loads(other_seed.stdout)["algorithms"]] == ["miss"]
    off = cli(*pca, "-o", "d.html", "--no-cache")
    assert [a["cache"] for a in json.loads(off.stdout)["algorithms"]] == ["off"]


def test_the_quality_numbers_and_the_page_are_made_without_the_vectors_held(vectors_parquet, cli, monkeypatch):
    """The engine's float32 matrix (512 MB at a million rows of 128 dims) is let go once the maps and the page's
    sample have their rows: the quality numbers and the page, the run's other large steps, are made without it."""
    import gc
    import weakref

    from embproj.engine import local
    from embproj.project import metrics
    from embproj.render import assemble

    matrices: list[weakref.ref] = []
    alive: list[bool] = []
    make_matrix = local.Local.matrix

    def matrix(self, sample, where):
        made = make_matrix(self, sample, where)
        matrices.append(weakref.ref(self.read))
        return made

    def watched(step):
        def run(*args, **kwargs):
            gc.collect()
            alive.append(matrices[0]() is not None)
            return step(*args, **kwargs)

        return run

    monkeypatch.setattr(local.Local, "matrix", matrix)
    monkeypatch.setattr(metrics, "MAX_ROWS", 60)  # measured on a subset: its own rows, not the matrix itself
    monkeypatch.setattr(metrics, "measure", watched(metrics.measure))
    monkeypatch.setattr(assemble, "page_contents", watched(assemble.page_contents))
    # the page's sample of some rows (of every row, it would be the matrix itself)
    result = cli("project", vectors_parquet, "--algo", "pca", "--page-sample", "50", "-o", "out.html", "-q")
    assert result.exit_code == 0, result.output
    assert len(matrices) == 1 and alive == [False, False]
