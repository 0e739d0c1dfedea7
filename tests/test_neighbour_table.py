"""The page's neighbour table code (embproj/render/neighbours.py), decoded by the independent decoder in
tests/reportdata.py: every row's neighbours come back, whatever the graph (mutual or not, any k), the map
(repeated points, a point off the grid, a flat map) or the size of the last base85 group; and it is smaller than
the int32 table it replaces. The page's own decoder is checked against the pipeline's graph in test_lod.py."""

from __future__ import annotations

import base64
import gzip
import os

import numpy as np
import pytest

from embproj.neighbours.search import knn
from embproj.render.neighbours import base85, encode_neighbours, z_order
from reportdata import decode_neighbours

pytest_plugins = ["pagetools"]


def blobs(n: int, dims: int = 8, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.normal(scale=5, size=(6, dims))[rng.integers(6, size=n)] + rng.normal(size=(n, dims))).astype(
        np.float32
    )


def random_graph(n: int, k: int, seed: int = 0) -> np.ndarray:
    """Each row's k distinct other rows, at random: few mutual pairs, far-apart numbers."""
    rng = np.random.default_rng(seed)
    return np.array([rng.choice(np.delete(np.arange(n), i), k, replace=False) for i in range(n)], np.int32)


def round_trip(indices: np.ndarray, xy: np.ndarray) -> np.ndarray:
    table = encode_neighbours(indices, xy, "pca")
    assert "<" not in table.text and table.code["alphabet"].count(",") == 1
    return decode_neighbours(table.text, table.code, xy, indices.shape[1])


@pytest.fixture(scope="module")
def blob_graph():
    X = blobs(1_500)
    return knn(X, 10).indices, X[:, :2].copy()


def test_a_knn_graph_comes_back_row_by_row(blob_graph):
    indices, xy = blob_graph
    np.testing.assert_array_equal(round_trip(indices, xy), np.sort(indices, axis=1))


@pytest.mark.parametrize("k", [1, 3, 10])
def test_any_graph_and_any_k_come_back(k):
    xy = np.random.default_rng(k).normal(size=(400, 2)).astype(np.float32)
    indices = random_graph(400, k, seed=k)
    np.testing.assert_array_equal(round_trip(indices, xy), np.sort(indices, axis=1))


def test_every_other_row_and_two_rows_come_back():
    everyone = np.array([[j for j in range(9) if j != i] for i in range(9)], np.int32)  # k = n - 1: all mutual
    xy = np.random.default_rng(2).normal(size=(9, 2)).astype(np.float32)
    np.testing.assert_array_equal(round_trip(everyone, xy), everyone)
    np.testing.assert_array_equal(round_trip(np.array([[1], [0]], np.int32), xy[:2]), [[1], [0]])


def test_repeated_points_a_flat_map_and_a_point_off_the_grid_keep_one_order():
    rng = np.random.default_rng(4)
    xy = np.repeat(rng.normal(size=(30, 2)), 10, axis=0).astype(np.float32)  # ten rows on each spot
    xy[:50, 1] = 0.0
    xy[7] = [np.nan, 1.0]  # projections refuse NaN; the order must still agree with the page's
    indices = random_graph(300, 5)
    np.testing.assert_array_equal(round_trip(indices, xy), np.sort(indices, axis=1))
    flat = np.zeros((300, 2), np.float32)  # every row in one cell: the order is the rows'
    np.testing.assert_array_equal(z_order(flat, {"x0": 0.0, "y0": 0.0, "scale": 1.0}), np.arange(300))
    np.testing.assert_array_equal(round_trip(indices, flat), np.sort(indices, axis=1))


def test_base85_is_rfc_1924_with_a_comma_for_the_angle_bracket():
    for length in range(41):
        raw = os.urandom(length) + b"<" * (length % 3)
        assert base85(raw) == base64.b85encode(raw).decode("ascii").replace("<", ",")


def test_the_code_is_much_smaller_than_the_int32_table(blob_graph):
    indices, xy = blob_graph
    before = len(base64.b64encode(gzip.compress(indices.astype(np.int32).tobytes(), compresslevel=2)))  # Bokeh's
    table = encode_neighbours(indices, xy, "pca")
    assert table.facts()["bytes"] == len(table.text) < 0.5 * before
    assert table.facts()["per_point"] == round(len(table.text) / len(indices), 2)


def test_rows_grouped_by_the_classes_when_that_is_smaller(blob_graph):
    """A map that knows nothing of the neighbours (random), classes that know them all: grouped by class, the
    numbers of a row's neighbours lie closer, and every row still comes back; a table with no classes to group
    by, or whose classes say nothing of its neighbours, keeps the Z-order alone."""
    indices, _ = blob_graph
    rng = np.random.default_rng(3)
    xy = rng.normal(size=(len(indices), 2)).astype(np.float32)
    classes = _classes_of(1_500).astype(np.int8)  # blob_graph's rows' blobs
    plain = encode_neighbours(indices, xy, "pca")
    grouped = encode_neighbours(indices, xy, "pca", classes, "label")
    assert grouped.group == "label" and len(grouped.text) < 0.9 * len(plain.text)
    assert "grouped by 'label'" in grouped.facts()["encoding"]
    got = decode_neighbours(grouped.text, {**grouped.code, "group": "cat"}, xy, 10, classes)
    np.testing.assert_array_equal(got, np.sort(indices, axis=1))
    noise = rng.integers(6, size=len(indices)).astype(np.int8)
    assert encode_neighbours(indices, xy, "pca", noise, "label").group is None and plain.group is None


def _classes_of(n: int, seed: int = 0) -> np.ndarray:
    """The blob each of blobs(n, seed=seed)'s rows was drawn from."""
    rng = np.random.default_rng(seed)
    rng.normal(scale=5, size=(6, 8))
    return rng.integers(6, size=n)


@pytest.mark.browser
def test_a_page_grouped_by_its_colour_decodes_to_the_exact_neighbours(tmp_path, open_report):
    """Twenty overlapping blobs in 32 dimensions, PCA: their label tracks the neighbours better than the map, so
    the page's table is grouped by the colour's codes, and decodes to every row's exact neighbours, in Python and
    in the page."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from typer.testing import CliRunner

    from embproj.cli import app
    from reportdata import neighbours, page_data

    rng = np.random.default_rng(0)
    labels = rng.integers(20, size=3_000)
    X = (np.random.default_rng(1).normal(scale=3.0, size=(20, 32))[labels] + rng.normal(size=(3_000, 32))).astype(
        np.float32
    )
    vectors = pa.FixedSizeListArray.from_arrays(pa.array(X.ravel()), 32)
    pq.write_table(pa.table({"label": [f"c{k}" for k in labels], "embedding": vectors}), tmp_path / "blobs.parquet")
    args = ["project", str(tmp_path / "blobs.parquet"), "-o", str(tmp_path / "r.html"), "--algo", "pca", "-q"]
    done = CliRunner().invoke(app, [*args, "--color", "label", "--no-cache"], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    meta = page_data(page)
    assert meta["neighbours"]["code"]["group"] == meta["colors"][0]["key"] and meta["colors"][0]["name"] == "label"
    expected = np.sort(knn(X, 10).indices, axis=1)
    np.testing.assert_array_equal(neighbours(page), expected)
    shown = open_report(tmp_path / "r.html")
    shown.page.wait_for_function("() => document.documentElement.dataset.epReady === '1'", timeout=20_000)
    decoded = shown.js(
        """async () => { await embproj.neighbourTable();
                         return Array.from({length: embproj.meta().n}, (_, i) => embproj.neighboursOf(i)); }"""
    )
    np.testing.assert_array_equal(np.array(decoded), expected)  # decoded by the page
    shown.assert_quiet()


def test_the_keys_looked_up_in_blocks_give_the_same_table(blob_graph, monkeypatch):
    """The mutual bits' look-ups go a block of keys at a time (a million rows' table in ~300 MB, not ~570): the
    same page text whatever the block, down to a few keys."""
    from embproj.render import neighbours as table_code

    indices, xy = blob_graph
    whole = encode_neighbours(indices, xy, "pca")
    monkeypatch.setattr(table_code, "HOLDS_KEYS", 7)
    blocked = encode_neighbours(indices, xy, "pca")
    assert blocked.text == whole.text and blocked.code == whole.code
    np.testing.assert_array_equal(np.sort(round_trip(indices, xy), axis=1), np.sort(indices, axis=1))
