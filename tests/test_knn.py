"""The one neighbour function: exact by --metric, ties by row number, the same whatever the tiles, and one graph
per space for every consumer (UMAP, t-SNE, the page's table, the quality numbers)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import pairwise_distances

from embproj.neighbours import exact as knn_exact
from embproj.neighbours import search as knn_module
from embproj.neighbours.search import Rows, Wanted, find_neighbours, knn

METRICS = ("euclidean", "cosine", "manhattan", "correlation", "chebyshev", "minkowski")


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


def brute(X: np.ndarray, k: int, metric: str):
    """SciPy's full distance matrix (each pair from its two vectors), each row's own entry left out, ranked by
    (distance, row)."""
    from scipy.spatial.distance import cdist

    d = cdist(X.astype(np.float64), X.astype(np.float64), metric={"manhattan": "cityblock"}.get(metric, metric))
    np.fill_diagonal(d, np.inf)
    d = np.nan_to_num(d, nan=1.0)  # a zero row's cosine/correlation distance: 1, as ours
    order = np.lexsort((np.broadcast_to(np.arange(len(X)), d.shape), d), axis=1)[:, :k]
    return order, np.take_along_axis(d, order, 1)


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("kind", ["ties", "float"])
def test_neighbours_are_exact_by_the_metric(kind, metric):
    X = small_data(kind)
    graph = knn(X, 10, metric)
    idx, dists = brute(X, 10, metric)
    assert graph.indices.dtype == np.int32 and graph.distances.dtype == np.float32 and graph.k == 10
    np.testing.assert_allclose(graph.distances, dists, rtol=1e-5, atol=1e-6)
    same = graph.indices == idx
    # where the rows differ, it is only among rows at the same distance (rounded differently by SciPy)
    np.testing.assert_allclose(pairwise_distances(X, metric=metric)[np.arange(len(X))[:, None], graph.indices][~same],
                               dists[~same], rtol=1e-5, atol=1e-6)  # fmt: skip
    assert not (graph.indices == np.arange(len(X))[:, None]).any()  # never a row itself


def test_a_duplicate_is_at_distance_zero_exactly_and_ties_go_to_the_lower_row():
    X = np.repeat(np.eye(3, dtype=np.float32) * 10, 60, axis=0)  # 60 copies of 3 points
    graph = knn(X, 10)
    assert (graph.distances == 0).all()
    assert graph.indices[0].tolist() == list(range(1, 11))
    assert graph.indices[59].tolist() == list(range(10))


def rows_with_copies(n: int = 300, dims: int = 6) -> np.ndarray:
    """Gaussian rows with 120 copies of row 0, 10 of row 150, 30 zero rows (which cosine cannot orient) and 15
    constant rows (nor correlation)."""
    X = np.random.default_rng(2).normal(size=(n, dims)).astype(np.float32)
    X[:120] = X[0]
    X[150:160] = X[150]
    X[200:230] = 0
    X[240:255] = np.arange(15, dtype=np.float32)[:, None] + 1
    return X


@pytest.mark.parametrize("metric", METRICS)
def test_rows_with_many_copies_get_their_copies(metric):
    """A row with k copies or more: its k lowest-numbered copies, at distance 0; fewer copies, its neighbours as
    any row's. Every row's distances are the true ones, ranked by (distance, row)."""
    X = rows_with_copies()
    graph = knn(X, 10, metric)
    idx, dists = brute(X, 10, metric)
    np.testing.assert_allclose(graph.distances, dists, rtol=1e-5, atol=1e-6)
    same = graph.indices == idx
    np.testing.assert_allclose(pairwise_distances(X, metric=metric)[np.arange(len(X))[:, None], graph.indices][~same],
                               dists[~same], rtol=1e-5, atol=1e-6)  # fmt: skip
    assert (graph.distances[:120] == 0).all() and (graph.indices[:120] < 120).all()
    assert graph.indices[0].tolist() == list(range(1, 11)) and graph.indices[77].tolist() == list(range(10))
    assert (graph.distances[150:160, :9] == 0).all() and set(graph.indices[150, :9]) == set(range(151, 160))
    if metric in ("cosine", "correlation"):  # at distance 1 from every row: the lowest-numbered rows
        assert graph.indices[200].tolist() == list(range(10)) and (graph.distances[200] == 1).all()


@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "chebyshev", "minkowski"])
def test_exact_ties_go_to_the_lower_row(metric):
    """Rows of small integers tie exactly (copies, and other rows at equal distances): the order is SciPy's
    (distance, row) to the row, including where a distance rounds up in float32 (the square root of 2, say)."""
    X = small_data("ties", 300)
    np.testing.assert_array_equal(knn(X, 15, metric).indices, brute(X, 15, metric)[0])


def test_duplicate_rows_cost_no_more_than_distinct_ones(monkeypatch):
    """3,000 equal rows of 1,000 dims took 98 s against 1.5 s for random ones: every row tied with all the others
    and had each of them ranked from the vectors. The work, counted as the pairs compared (tiles of products and
    distances from the vectors), is now no more for equal or zero rows than for random ones, on every metric."""
    work = [0]
    real_tile, real_pairs = knn_exact.Space.tile, knn_exact.pair_distances

    def tile(self, rows, cols, query=None):
        work[0] += len(rows) * len(cols)
        return real_tile(self, rows, cols, query)

    def pairs(X, indices, metric, among=None):
        work[0] += indices.size
        return real_pairs(X, indices, metric, among)

    monkeypatch.setattr(knn_exact.Space, "tile", tile)
    monkeypatch.setattr(knn_exact, "pair_distances", pairs)
    random = np.random.default_rng(0).normal(size=(500, 40)).astype(np.float32)
    rows = {
        "random": random,
        "equal": np.ones((500, 40), np.float32),
        "zero": np.zeros((500, 40), np.float32),
        "a third zero": random * (np.arange(500) % 3 > 0)[:, None],  # -0.0 and 0.0 mixed
    }
    for metric in ("euclidean", "cosine", "manhattan"):
        done = {}
        for kind, X in rows.items():
            work[0] = 0
            graph = knn(X, 10, metric)
            done[kind] = work[0]
            assert (graph.indices != np.arange(500)[:, None]).all()
        assert max(done.values()) <= done["random"] * 1.05, (metric, done)


def test_tiles_do_not_change_the_answer(monkeypatch):
    X = small_data("float", n=700)
    whole = knn(X, 12, "cosine")
    monkeypatch.setattr(knn_exact, "ROW_TILE", 64)
    monkeypatch.setattr(knn_exact, "TILE_VALUES", 64 * 100)  # column tiles of 100 rows
    tiled = knn(X, 12, "cosine")
    np.testing.assert_array_equal(tiled.indices, whole.indices)
    np.testing.assert_array_equal(tiled.distances, whole.distances)


def test_k_is_lowered_to_the_rows_there_are():
    assert knn(np.zeros((1, 3), np.float32), 5).k == 0
    graph = knn(np.arange(12, dtype=np.float32).reshape(4, 3), 10)
    assert graph.k == 3 and graph.indices[0].tolist() == [1, 2, 3]


def test_umaps_form_puts_each_row_first_at_distance_zero():
    graph = knn(small_data("float"), 9)
    idx, dists = graph.with_self(5)
    assert idx.shape == (160, 5) and (idx[:, 0] == np.arange(160)).all() and (dists[:, 0] == 0).all()
    np.testing.assert_array_equal(idx[:, 1:], graph.indices[:, :4])


def test_one_graph_serves_every_consumer_when_the_space_is_one():
    X = small_data("float")
    found = find_neighbours(Rows.here(X), Wanted(fit=14, table=10, measure=10))
    assert found.fit is found.original and found.fit.k == 14
    np.testing.assert_array_equal(found.table(10), knn(X, 10).indices)


def test_a_reduced_space_gets_its_own_graph():
    X = small_data("float")
    reduced = X[:, :3].copy()
    found = find_neighbours(Rows.here(X, reduced), Wanted(fit=14, table=10, measure=0))
    np.testing.assert_array_equal(found.fit.indices, knn(reduced, 14).indices)
    np.testing.assert_array_equal(found.original.indices, knn(X, 10).indices)


def test_a_fit_on_some_rows_gets_their_graph_and_a_search_index():
    X = small_data("float")
    fit = np.arange(0, 160, 2)
    found = find_neighbours(Rows.here(X, fit=fit), Wanted(fit=9, table=10, measure=0, metric="cosine", index=True))
    np.testing.assert_array_equal(found.fit.indices, knn(X[fit], 9, "cosine").indices)  # exact, over the fit rows
    near, _ = found.fit.index.query(X[1:2], k=3)  # the index finds fitted rows for a row that was not fitted
    assert near.shape == (1, 3) and set(near[0]) <= set(range(80))
    assert found.original.k == 10 and len(found.original.indices) == 160


def test_the_table_is_left_out_with_a_reason(monkeypatch):
    X = small_data("float")
    assert find_neighbours(Rows.here(X), Wanted(0, 0, 0)).table_note == "no neighbour table: --neighbours 0"
    monkeypatch.setattr(knn_module, "TABLE_ROWS", 100)
    found = find_neighbours(Rows.here(X), Wanted(14, 10, 0))
    assert found.table(10) is None and found.table_note.startswith("no neighbour table: 160 points, over 100")
    assert found.fit.k == 14  # the projections still get theirs
    monkeypatch.undo()
    assert find_neighbours(Rows.here(X), Wanted(14, 10, 0, table_rows=160)).table(10) is not None
    found = find_neighbours(Rows.here(X), Wanted(14, 10, 0, table_rows=159))  # --neighbour-rows
    assert found.table(10) is None and found.table_note.startswith("no neighbour table: 160 points, over ")


def blob_rows(n: int = 3000, dims: int = 16) -> np.ndarray:
    rng = np.random.default_rng(5)
    return (rng.normal(scale=4, size=(12, dims))[rng.integers(12, size=n)] + rng.normal(size=(n, dims))).astype(
        np.float32
    )


def test_above_the_exact_limit_the_search_is_approximate_seeded_and_measured(monkeypatch):
    X = blob_rows()
    exact = knn(X, 10)
    assert exact.exact and exact.recall is None
    monkeypatch.setattr(knn_module, "EXACT_WORK", 1e6)
    a, b, c = knn(X, 10, seed=1), knn(X, 10, seed=1), knn(X, 10, seed=2)
    assert not a.exact and 0.9 <= a.recall <= 1.0
    np.testing.assert_array_equal(a.indices, b.indices)  # the same seed, the same graph
    assert not np.array_equal(a.indices, c.indices) or a.recall == 1.0
    truth = np.mean([len(np.intersect1d(x, y)) / 10 for x, y in zip(exact.indices, a.indices)])
    assert abs(truth - a.recall) < 0.03  # the sampled recall says what the whole graph's is
    assert not (a.indices == np.arange(len(X))[:, None]).any() and (np.diff(a.distances, axis=1) >= 0).all()
    assert a.facts() == {"rows": 3000, "k": 10, "metric": "euclidean", "exact": False, "recall": a.recall}


def test_the_cell_search_on_every_metric_ties_and_thread_counts(monkeypatch):
    """Cells of ~30 rows, 3 probed: every row gets k distinct others (none itself), nearest first, on every
    metric, with tied and duplicate rows (equal centres among them); the same graph on one thread as on two."""
    from embproj.neighbours import cells as knn_cells
    from embproj.project import place

    monkeypatch.setattr(knn_cells, "CELL_ROWS", 30)
    monkeypatch.setattr(knn_cells, "PROBE", 3)
    X = small_data("ties", 400)
    X[100:140] = X[99]  # 41 equal rows: centres among them, cells left empty
    for metric in METRICS:
        indices, distances = knn_cells.cells_knn(X, 5, metric, seed=3)
        assert (indices != np.arange(len(X))[:, None]).all() and (np.diff(distances, axis=1) >= 0).all()
        found = indices >= 0
        assert found.mean() > 0.95 and (np.isinf(distances) == ~found).all()
        ok = found.all(axis=1)
        assert (np.diff(np.sort(indices[ok], axis=1), axis=1) > 0).all()  # k distinct others
        truth = pairwise_distances(X, metric=metric)[np.arange(len(X))[ok, None], indices[ok]]
        np.testing.assert_allclose(distances[ok], np.nan_to_num(truth, nan=1.0), rtol=1e-4, atol=1e-5)
    two = knn_cells.cells_knn(X, 5, "cosine", seed=3)[0]
    monkeypatch.setattr(place, "usable_cores", lambda: 1)
    np.testing.assert_array_equal(knn_cells.cells_knn(X, 5, "cosine", seed=3)[0], two)


def test_many_equal_rows_keep_each_cells_work_bounded(monkeypatch):
    """Half the rows zero (missing embeddings, say): they all fall into one cell, which is searched 30 rows at a
    time against at most PROBE × CELL_CAP candidates; each zero row's neighbours are other zero rows."""
    from embproj.neighbours import cells as knn_cells

    monkeypatch.setattr(knn_cells, "CELL_ROWS", 30)
    monkeypatch.setattr(knn_cells, "CELL_CAP", 120)
    X = blob_rows(3000, dims=8)
    X[::2] = 0
    seen = []
    real = knn_cells._search_cell

    def watched(X_, rows, candidates, k, metric):
        seen.append(len(candidates))
        return real(X_, rows, candidates, k, metric)

    monkeypatch.setattr(knn_cells, "_search_cell", watched)
    indices, distances = knn_cells.cells_knn(X, 5, "euclidean", seed=0)
    assert max(seen) <= knn_cells.PROBE * 120
    zero = np.arange(0, 3000, 2)
    assert np.isin(indices[zero], zero).all() and (distances[zero] == 0).all()
    assert (indices != np.arange(3000)[:, None]).all()


def test_a_large_common_offset_does_not_cost_recall(monkeypatch):
    """The float32 products rank |c|² − 2x·c: 3,000 added to every value would drown the differences in
    rounding; the search ranks the rows moved to their mean, so the recall stays."""
    monkeypatch.setattr(knn_module, "EXACT_WORK", 0)
    X = blob_rows()
    plain, offset = knn(X, 10), knn(X + np.float32(3000), 10)
    assert plain.recall > 0.9 and offset.recall > plain.recall - 0.05


def test_the_exact_rows_of_a_tiny_table_leave_the_row_itself_out():
    from embproj.neighbours.exact import exact_rows

    X = small_data("float", 12)
    indices, _ = exact_rows(X, np.arange(12), 5, "euclidean")
    assert not (indices == np.arange(12)[:, None]).any()


@pytest.mark.parametrize("metric", METRICS)
def test_the_exact_rows_hold_no_prepared_copy_and_rank_as_the_full_search(metric, monkeypatch):
    """The rows searched one by one (an approximate search's recall, the rows it left short) are prepared a
    column tile at a time, not kept as a second copy of every row (a million rows of 128 dims: 512 MB), with the
    same ranking as a search over a copy kept whole."""
    from embproj.neighbours.exact import Space, exact_rows

    monkeypatch.setattr(knn_exact, "TILE_VALUES", 64 * 100)  # column tiles of 100 rows
    X = small_data("ties", n=700)
    held, tiled = Space(X, metric), Space(X, metric, held=False)
    assert tiled.Z.size == 0 or tiled.Z is X  # other metrics take the rows as they are: no copy either
    rows, cols = np.array([3, 19, 20, 650]), np.arange(100, 200)
    np.testing.assert_array_equal(tiled.tile(rows, cols), held.tile(rows, cols))
    X = small_data("float", n=700)  # no ties at the k-th: these rows are not settled as the full search's are
    indices, distances = exact_rows(X, rows, 9, metric)
    truth = brute(X, 9, metric)
    np.testing.assert_array_equal(indices, truth[0][rows])
    np.testing.assert_allclose(distances, truth[1][rows], atol=1e-12)


def test_a_row_whose_cells_hold_too_few_gets_its_exact_neighbours(monkeypatch):
    """Two far groups, cells of ~4 rows, one probed: rows whose cell holds fewer than k others are completed by
    the exact search, so that the page's table lists k distinct others for every row."""
    from embproj.neighbours import cells as knn_cells

    monkeypatch.setattr(knn_module, "EXACT_WORK", 0)
    monkeypatch.setattr(knn_cells, "CELL_ROWS", 4)
    monkeypatch.setattr(knn_cells, "PROBE", 1)
    X = blob_rows(200, dims=4)
    graph = knn(X, 8)
    assert not graph.exact and (graph.indices >= 0).all()
    assert (np.diff(np.sort(graph.indices, axis=1), axis=1) > 0).all()
    assert not (graph.indices == np.arange(len(X))[:, None]).any()


def test_rows_the_search_left_short_get_their_exact_neighbours():
    X = blob_rows(300)
    exact = knn(X, 5)
    short = exact.indices.copy()
    short[3, 4] = -1  # the cells held too few
    short[8, 2] = short[8, 1]  # a row twice
    indices, distances = knn_module._complete(X, short, exact.distances.copy(), "euclidean")
    np.testing.assert_array_equal(indices, exact.indices)
    np.testing.assert_allclose(distances, exact.distances, rtol=1e-5)


def test_an_approximate_table_reaches_the_page_with_its_recall(monkeypatch, cli, tmp_path):
    """Above the exact limit the page's table is the cell search's graph, every row of it, and the page and `--json`
    say it is approximate, with its measured recall and what the table weighs."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from reportdata import neighbours, page_data

    X = blob_rows()
    vectors = pa.array(list(X), type=pa.list_(pa.float32()))
    pq.write_table(pa.table({"id": np.arange(len(X)), "embedding": vectors}), tmp_path / "b.parquet")
    monkeypatch.setattr(knn_module, "EXACT_WORK", 1e6)
    done = cli("project", "b.parquet", "--algo", "pca", "-o", "b.html", "-q", "--json")
    assert done.exit_code == 0, done.stderr
    graph = knn(X, 10, seed=0)
    facts = json.loads(done.stdout)["neighbours"]["table"]
    assert facts["exact"] is False and facts["recall"] == graph.recall and 0.9 <= graph.recall <= 1.0
    assert facts["encoding"] == "z-order, mutual bits, byte planes, deflate, base85" and facts["rows"] == len(X)
    html = (tmp_path / "b.html").read_text(encoding="utf-8")
    assert 0 < facts["bytes"] < len(html) and facts["per_point"] == round(facts["bytes"] / len(X), 2)
    np.testing.assert_array_equal(neighbours(html), np.sort(graph.indices, axis=1))
    assert page_data(html)["neighbours"]["recall"] == graph.recall
    assert f"its 10 nearest, approximate (recall {graph.recall:.3f}: the share of the true ones found" in html


def test_rows_on_a_cluster_get_a_table_up_to_what_may_be_gathered(monkeypatch):
    """Rows a Dask cluster holds (engine/dask.py) are brought here for the table only up to GATHER_ROWS."""
    X = small_data("float")
    fit = np.arange(0, 160, 2)
    brought = []

    def every_row() -> np.ndarray:
        brought.append(len(X))
        return X

    held = Rows(X[fit], fit, len(X), every_row, held=True)
    found = find_neighbours(held, Wanted(9, 10, 0))
    np.testing.assert_array_equal(found.table(10), knn(X, 10).indices)
    np.testing.assert_array_equal(found.fit.indices, knn(X[fit], 9).indices)
    assert brought == [160]
    monkeypatch.setattr(knn_module, "GATHER_ROWS", 100)
    found = find_neighbours(held, Wanted(9, 10, 0))
    assert found.table(10) is None and found.original is None and brought == [160]  # not brought again
    assert found.table_note.startswith("no neighbour table: 160 points on the Dask cluster, over the 100 whose")
    assert find_neighbours(Rows.here(X, fit=fit), Wanted(9, 10, 0)).table(10) is not None  # this process's rows
