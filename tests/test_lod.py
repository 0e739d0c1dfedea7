"""The large map (embproj/render/lod.py, templates/js/lod.js), made on small data with a small threshold: a
density image of every point and a bounded set of drawn points that keeps every class and the sparse points;
zooming in draws the view's points; hover, click, search, legend, colour and box or lasso selection reach every
row, drawn or not. Each test reads what the page shows and checks that nothing reached the network or logged
an error."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_interactions import (
    _download,
    _drag,
    _frames,
    _legend_entry,
    _selection_table,
    _use_tool,
    click_for_neighbours,
    make_report,
)

from reportdata import models, neighbours, page_data

pytest_plugins = ["pagetools"]

ALGO = "pca"
CLASSES = 4
PER_CLASS = 300
RARE = 6  # far-away points of their own class, each alone in its region: the drawn set must keep them all
N = CLASSES * PER_CLASS + RARE
THRESHOLD, DRAWN = 200, 150


def lod_table() -> pa.Table:
    rng = np.random.default_rng(5)
    classes = np.concatenate([np.repeat(np.arange(CLASSES), PER_CLASS), np.full(RARE, CLASSES)])
    centers = np.array([[0, 0], [12, 0], [0, 12], [12, 12], [40, 40]], dtype=np.float64)
    xy = centers[classes] + rng.normal(scale=2.0, size=(N, 2))
    xy[classes == CLASSES] = [(40.0, 40.0 - 5.0 * j) for j in range(RARE)]
    X = np.column_stack([xy, rng.normal(scale=0.01, size=(N, 3))]).astype(np.float32)
    names = ["rare" if k == CLASSES else f"class {k}" for k in classes]
    return pa.table(
        {
            "name": [f"Item {i}" for i in range(N)],
            "label": names,
            "score": np.round(rng.random(N), 4),
            "embedding": pa.array(list(X), type=pa.list_(pa.float32())),
        }
    )


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    import embproj.render.lod as lod

    folder = tmp_path_factory.mktemp("lod")
    table = lod_table()
    pq.write_table(table, folder / "lod.parquet")
    out = folder / "report.html"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(lod, "THRESHOLD", THRESHOLD)
        patch.setattr(lod, "DRAWN", DRAWN)
        make_report(folder / "lod.parquet", out, "--color", "label", "--label", "name")
    return out, table


def open_ready(open_report, path):
    page = open_report(path)
    page.page.wait_for_function("() => document.documentElement.dataset.epDrawn !== undefined", timeout=10_000)
    return page


def drawn(page) -> list[int]:
    return [int(i) for i in page.js("() => Array.from(embproj.model('drawn').data.idx)")]


def labels_of(page, table) -> list[str]:
    rows, labels = page.column("row"), table.column("label").to_pylist()
    return [labels[int(r)] for r in rows]


def test_the_page_gets_the_thresholds_once_and_a_small_map_has_no_density_layer(large, tmp_path):
    report, _ = large
    html = report.read_text(encoding="utf-8")
    lod = page_data(html)["lod"]
    assert lod["threshold"] == THRESHOLD and lod["drawn"] == DRAWN
    assert models(html, "ImageRGBA"), "the large map has a density image"
    pq.write_table(lod_table().slice(0, THRESHOLD), tmp_path / "small.parquet")
    make_report(tmp_path / "small.parquet", tmp_path / "small.html", "--color", "label")
    small = (tmp_path / "small.html").read_text(encoding="utf-8")
    assert page_data(small)["lod"] is None and not models(small, "ImageRGBA")


@pytest.mark.browser
def test_large_map_draws_density_and_a_bounded_set_that_keeps_every_class(open_report, large):
    report, table = large
    page = open_ready(open_report, report)
    shown = drawn(page)
    labels = labels_of(page, table)
    assert 0 < len(shown) <= DRAWN
    assert {labels[i] for i in shown} == {*(f"class {k}" for k in range(CLASSES)), "rare"}
    assert sum(labels[i] == "rare" for i in shown) == RARE, "a sparse region lost points"
    image = page.js(
        """() => {
          const d = embproj.model('density_image_pca').data, img = d.image[0];
          let painted = 0;
          for (const v of img) if (v >>> 24) painted++;
          return {painted: painted, shape: Array.from(img.shape),
                  visible: embproj.state.figures[0].renderers.find((r) => r.name === 'lod_density_pca').visible};
        }"""
    )
    assert (
        image["visible"]
        and image["painted"] > 100
        and max(image["shape"]) == page_data(report.read_text(encoding="utf-8"))["lod"]["bins"]
    )
    page.assert_quiet()


@pytest.mark.browser
def test_zooming_in_draws_every_point_in_view_and_hides_the_density(open_report, large):
    report, table = large
    page = open_ready(open_report, report)
    xs, ys = np.array(page.column("x_pca")), np.array(page.column("y_pca"))
    cx, cy = float(np.median(xs)), float(np.median(ys))
    span = float(xs.max() - xs.min()) / 12
    page.js(
        """([x0, x1, y0, y1]) => { const f = embproj.state.figures[0];
          f.x_range.setv({start: x0, end: x1}); f.y_range.setv({start: y0, end: y1}); }""",
        [cx - span, cx + span, cy - span, cy + span],
    )
    page.page.wait_for_timeout(400)
    _frames(page)
    inside = np.flatnonzero((abs(xs - cx) <= span) & (abs(ys - cy) <= span))
    assert 0 < len(inside) <= DRAWN
    assert sorted(drawn(page)) == inside.tolist()
    assert (
        page.js("() => embproj.state.figures[0].renderers.find((r) => r.name === 'lod_density_pca').visible") is False
    )
    page.assert_quiet()


@pytest.mark.browser
def test_hover_and_click_find_a_point_that_is_not_drawn(open_report, large):
    report, table = large
    page = open_ready(open_report, report)
    shown = set(drawn(page))
    positions = np.array(page.point_positions(ALGO))
    screen = np.hypot(*(positions[:, None, :] - positions[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(screen, np.inf)
    undrawn = [i for i in np.argsort(-screen.min(axis=1)) if i not in shown]
    i = int(undrawn[0])
    assert screen[i].min() > 2, "no undrawn point stands apart on screen"
    rows, names = page.column("row"), table.column("name").to_pylist()
    tip = page.hover(i, ALGO)
    assert tip.visible and tip.index == i and tip.title == names[int(rows[i])]

    click_for_neighbours(page, positions[i])
    state = page.js(
        """() => ({origin: Array.from(embproj.model('nn_origin').indices),
                  ringed: Array.from(embproj.model('nn_hits').indices),
                  drawnRings: embproj.model('drawn_nn_hits').data.idx.length,
                  text: document.getElementById('ep-neighbours').textContent})"""
    )
    assert state["origin"] == [i] and sorted(state["ringed"]) == graph(table)[i].tolist() and state["drawnRings"] == 10
    assert state["text"].startswith(f"row {rows[i]} · {names[int(rows[i])]}")
    page.assert_quiet()


def graph(table) -> np.ndarray:
    """Each row's 10 nearest, as the pipeline finds them (exact at this size), ascending."""
    from embproj.neighbours.search import knn

    X = np.array(table.column("embedding").to_pylist(), dtype=np.float32)
    return np.sort(knn(X, 10).indices, axis=1)


@pytest.mark.browser
def test_the_pages_decoded_neighbour_table_is_the_pipelines_graph_for_every_row(open_report, large):
    report, table = large
    expected = graph(table)
    np.testing.assert_array_equal(neighbours(report.read_text(encoding="utf-8")), expected)  # decoded in Python
    page = open_ready(open_report, report)
    assert [int(r) for r in page.column("row")] == list(range(N))
    decoded = page.js(
        """async () => { await embproj.neighbourTable();
                         return Array.from({length: embproj.meta().n}, (_, i) => embproj.neighboursOf(i)); }"""
    )
    np.testing.assert_array_equal(np.array(decoded), expected)  # decoded by the page
    page.assert_quiet()


@pytest.mark.browser
def test_search_legend_and_colour_reach_every_row(open_report, large):
    report, table = large
    page = open_ready(open_report, report)
    labels = labels_of(page, table)
    page.page.fill("#ep-search", "class 2")
    page.page.press("#ep-search", "Enter")
    _frames(page)
    hits = sorted(page.js("() => Array.from(embproj.model('search_hits').indices)"))
    assert hits == [i for i, label in enumerate(labels) if label == "class 2"]
    assert page.js("() => document.getElementById('ep-search-count').textContent") == f"{PER_CLASS} of {N:,} rows match"
    ringed = page.js("() => Array.from(embproj.model('drawn_search_hits').data.idx)")
    assert len(ringed) == min(PER_CLASS, DRAWN) and set(ringed) <= set(hits)  # the rings drawn are bounded too

    page.page.mouse.click(*_legend_entry(page, 2))  # "class 2": hidden from the points and from the density
    page.page.wait_for_timeout(300)
    _frames(page)
    assert page.js("() => embproj.hiddenClasses()") == [2]
    assert all(labels[i] != "class 2" for i in drawn(page)) and drawn(page)
    positions = page.point_positions(ALGO)
    for i in hits[:3]:
        page.move_off()
        page.page.mouse.move(*positions[i])
        _frames(page)
        tip = page.tooltip()
        assert not tip.visible or labels[int(tip.index)] != "class 2", "hover found a hidden point"

    before = page.js("() => Array.from(embproj.model('density_image_pca').data.image[0])")
    page.page.select_option("#ep-color", label="score (numbers)")
    page.page.wait_for_timeout(300)
    _frames(page)
    state = page.js(
        """() => ({field: embproj.mainRenderers()[0].glyph.fill_color.field,
                  column: Array.from(embproj.model('drawn').data.val1 || []).length,
                  drawn: embproj.model('drawn').data.idx.length,
                  image: Array.from(embproj.model('density_image_pca').data.image[0])})"""
    )
    assert state["field"] == "val1" and state["column"] == state["drawn"] > 0
    assert state["image"] != before, "the density image did not follow the colour"
    page.assert_quiet()


@pytest.mark.browser
def test_box_and_lasso_select_every_row_inside_drawn_or_not(open_report, large):
    report, table = large
    page = open_ready(open_report, report)
    labels = labels_of(page, table)
    positions = np.array(page.point_positions(ALGO))
    cluster = np.array([i for i, label in enumerate(labels) if label == "class 1"])
    (left, top), (right, bottom) = positions[cluster].min(axis=0) - 6, positions[cluster].max(axis=0) + 6
    inside = np.flatnonzero(
        (positions[:, 0] >= left) & (positions[:, 0] <= right) & (positions[:, 1] >= top) & (positions[:, 1] <= bottom)
    )
    assert len(set(inside) - set(drawn(page))) > 100, "most selected rows should be undrawn"

    _use_tool(page, "BoxSelectTool")
    _drag(page, [(left, top), (right, bottom)])
    shown = _selection_table(page)
    rows = page.column("row")
    assert shown["count"] == f"{len(inside)} rows selected"
    parsed = list(csv.reader(io.StringIO(_download(page), newline="")))
    assert sorted(int(line[0]) for line in parsed[1:]) == sorted(int(rows[i]) for i in inside)
    ringed = page.js("() => embproj.model('drawn').selected.indices.length")
    assert 0 < ringed <= DRAWN

    page.page.evaluate("() => window.scrollTo(0, 0)")  # the download button is under the charts: back to the map
    _frames(page)
    positions = np.array(page.point_positions(ALGO))

    center = positions[cluster].mean(axis=0)
    radius = float(np.hypot(*(positions[cluster] - center).T).max()) + 4
    ring = [(center[0] + radius * math.cos(a), center[1] + radius * math.sin(a)) for a in np.linspace(0, 6.3, 24)]
    _use_tool(page, "LassoSelectTool")
    page.js("() => { delete document.getElementById('ep-selection').dataset.count }")  # the box's count, gone
    _drag(page, ring)
    page.page.wait_for_function("() => document.getElementById('ep-selection').dataset.count !== undefined")
    count = int(page.js("() => document.getElementById('ep-selection').dataset.count"))
    within = np.hypot(*(positions - center).T) < radius - 1.5
    assert within.sum() <= count <= (np.hypot(*(positions - center).T) < radius + 1.5).sum()
    page.assert_quiet()
