"""The report as an instrument, in headless Chromium: colour switching (legend, colour bar), hiding a class
from the legend, search, box and lasso selection into a table and a CSV file, and a click that rings a point's
true neighbours. Each test reads what the page shows, and checks that nothing reached the network or logged an
error.
The data the browser gets is checked too: compact columns, and the neighbour table against numpy."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from pagetools import LEGEND_VIEW_JS, WAIT_MS
from reportdata import neighbours, page_data, sent, source

pytest_plugins = ["pagetools"]

ALGO = "pca"
K = 10
FORMULAS = ['=HYPERLINK("http://example.invalid","click")', "+1+1", "-2+3", "@SUM(A1)"]
AWKWARD = ['a,b "quoted"', "two\nlines", " padded ", "plain", "-1.5"]
NOTES = FORMULAS + AWKWARD
CLASSES = 4
N = 240


def make_report(data, out, *options) -> None:
    from embproj.cli import app

    args = ["project", str(data), "--algo", ALGO, "-o", str(out), "--quiet", *options]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, f"embproj {' '.join(args)} failed:\n{result.output}"


def blobs_table() -> pa.Table:
    """Four far-apart clusters: a name per row, a class, a number, a two-valued group and awkward notes."""
    rng = np.random.default_rng(3)
    classes = np.arange(N) % CLASSES
    centers = rng.normal(scale=12.0, size=(CLASSES, 6))
    X = (centers[classes] + rng.normal(size=(N, 6))).astype(np.float32)
    return pa.table(
        {
            "name": [f"Item {i}" for i in range(N)],
            "label": [f"class {k}" for k in classes],
            "score": np.round(rng.random(N), 4),
            "group": [["north", "south"][i % 2] for i in range(N)],
            "note": [NOTES[i % len(NOTES)] for i in range(N)],
            "embedding": pa.array(list(X), type=pa.list_(pa.float32())),
        }
    )


@pytest.fixture(scope="module")
def blobs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("blobs")
    table = blobs_table()
    pq.write_table(table, folder / "blobs.parquet")
    out = folder / "report.html"
    make_report(folder / "blobs.parquet", out, "--color", "label", "--label", "name")
    return out, table


@pytest.fixture(scope="module")
def digits_report(digits_parquet, tmp_path_factory):
    out = tmp_path_factory.mktemp("digits") / "report.html"
    make_report(digits_parquet, out)
    return out


def open_ready(open_report, path):
    page = open_report(path)
    page.page.wait_for_function("() => document.documentElement.dataset.epReady === '1'", timeout=10_000)
    return page


def rows_of(page) -> list[int]:
    return [int(r) for r in page.column("row")]


# -- what the browser gets -----------------------------------------------------------------------------------


def test_points_are_sent_compactly(blobs):
    report, table = blobs
    html = report.read_text(encoding="utf-8")
    data, meta = source(html, "points"), page_data(html)
    assert data["x_pca"].dtype == np.float32
    assert "row" not in sent(html) and meta["packed"]["row"] == {"start": 0, "step": 1}, "0..n-1: two numbers"
    assert data["row"].tolist() == list(range(N))
    assert data["cat"].dtype == np.int8  # the colour: codes, the classes once in the page's JSON
    fields = {f["name"]: f for f in meta["fields"]}
    assert fields["label"]["key"] == "cat", "the label field should share the colour's codes"
    assert fields["group"]["words"] == ["north", "south"] and data[fields["group"]["key"]].dtype == np.int8
    assert fields["name"]["words"] is None, "every name is different: no word list"
    choices = [(c["name"], c["kind"]) for c in meta["colors"]]
    assert choices == [("label", "categorical"), ("score", "continuous"), ("group", "categorical"),
                       ("note", "categorical"), ("cluster", "categorical"),
                       ("label agreement", "continuous"), ("map trust", "continuous")]  # fmt: skip
    assert data["val1"].dtype == np.float32
    np.testing.assert_allclose(data["val1"], table.column("score").to_numpy(), rtol=1e-6)


def test_colour_choices_leave_out_the_embedding_dimensions(digits_report):
    meta = page_data(digits_report.read_text(encoding="utf-8"))
    colours = [(c["name"], c["kind"]) for c in meta["colors"]]
    lenses = [("label agreement", "continuous"), ("map trust", "continuous")]  # the lenses' (test_lenses.py)
    assert colours == [("target", "categorical"), ("cluster", "categorical"), *lenses]  # not 64 pixels


def test_a_big_report_says_why_it_has_no_neighbour_table(monkeypatch):
    import embproj
    import embproj.neighbours.search

    monkeypatch.setattr(embproj.neighbours.search, "TABLE_ROWS", 100)
    html = embproj.report(blobs_table(), algo="pca").html
    assert neighbours(html) is None
    note = page_data(html)["neighbours_note"]
    assert note == f"no neighbour table: {N} points, over 100 (would add 0.0 MB)" and note in html
    monkeypatch.undo()
    note = page_data(embproj.report(blobs_table(), algo="pca", neighbour_rows=100).html)["neighbours_note"]
    assert note.startswith(f"no neighbour table: {N} points, over neighbour_rows=100 (neighbour_rows={N} makes it")


def test_neighbour_table_is_the_exact_knn_of_the_input(digits_report, digits_table):
    table = neighbours(digits_report.read_text(encoding="utf-8"))
    assert table is not None and table.dtype == np.int32 and table.shape == (digits_table.num_rows, K)
    X = _digit_pixels(digits_table)
    order, d = _exact_knn(X)
    clear = d[:, K] - d[:, K - 1] > 1e-6  # no tie at the k-th place: the set of k nearest is unambiguous
    assert clear.sum() > 1000
    for i in np.flatnonzero(clear):
        assert set(table[i]) == set(order[i, :K]), f"row {i}"


def test_neighbours_option_sets_how_many_a_click_rings(digits_parquet, digits_table, tmp_path):
    from embproj.cli import app

    X = _digit_pixels(digits_table)
    order, d = _exact_knn(X)
    three = tmp_path / "three.html"
    make_report(digits_parquet, three, "--neighbours", "3")
    html = three.read_text(encoding="utf-8")
    table = neighbours(html)
    assert table.shape == (len(X), 3) and "click a point: its 3 nearest" in html
    clear = d[:, 3] - d[:, 2] > 1e-6
    assert all(set(table[i]) == set(order[i, :3]) for i in np.flatnonzero(clear))
    none = tmp_path / "none.html"
    make_report(digits_parquet, none, "--neighbours", "0")
    html = none.read_text(encoding="utf-8")
    assert neighbours(html) is None and page_data(html)["neighbours_note"] == "no neighbour table: --neighbours 0"
    bad = CliRunner().invoke(
        app, ["project", str(digits_parquet), "--neighbours", "101", "-o", str(tmp_path / "b.html")]
    )
    assert bad.exit_code == 2
    assert bad.stderr.strip() == "Error: --neighbours 101 is out of range, give a whole number from 0 to 100"
    assert not (tmp_path / "b.html").exists()


def test_with_metric_cosine_neighbours_and_quality_are_by_cosine_distance(digits_parquet, digits_table, tmp_path):
    """`--metric cosine` (text embeddings, say): the neighbour table and the metrics use the chosen distance."""
    import json

    from sklearn.manifold import trustworthiness

    from embproj.cli import app

    out = tmp_path / "cosine.html"
    args = ["project", str(digits_parquet), "--algo", ALGO, "--metric", "cosine", "-o", str(out), "-q", "--json"]
    done = CliRunner().invoke(app, args, catch_exceptions=False)
    assert done.exit_code == 0, done.output
    html = out.read_text(encoding="utf-8")
    assert "in the original 64-dim space (cosine distance)" in html
    X = _digit_pixels(digits_table)
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    order, d = _exact_knn(unit)  # Euclidean order of unit vectors is cosine order
    table = neighbours(html)
    clear = d[:, K] - d[:, K - 1] > 1e-6
    assert clear.sum() > 1000
    assert all(set(table[i]) == set(order[i, :K]) for i in np.flatnonzero(clear))
    euclidean, _ = _exact_knn(X)
    assert sum(set(table[i]) != set(euclidean[i, :K]) for i in range(len(X))) > 100  # a different table
    metrics = json.loads(done.stdout)["algorithms"][0]["metrics"]
    xy = source(html, "points")
    Y = np.column_stack([xy[f"x_{ALGO}"], xy[f"y_{ALGO}"]]).astype(np.float64)
    rows = xy["row"]
    expected = trustworthiness(X[rows], Y, n_neighbors=K, metric="cosine")
    assert metrics["trustworthiness"] == pytest.approx(expected, abs=1e-4)


# -- hover ---------------------------------------------------------------------------------------------------


@pytest.mark.browser
def test_hover_shows_the_nearest_points_decoded_fields(open_report, blobs):
    report, table = blobs
    page = open_ready(open_report, report)
    rows = rows_of(page)
    expected = table.to_pylist()
    for i in (0, 1, 5, 7, N - 1):
        tip = page.hover(i, ALGO)
        assert tip.visible and tip.index is not None, f"no tooltip for point {i}"
        row = expected[rows[tip.index]]
        assert tip.title == row["name"]
        assert tip.fields["label"] == row["label"] and tip.fields["group"] == row["group"]
        assert tip.fields["note"] == row["note"], "a note lost its commas, quotes or line break"
        assert float(tip.fields["score"]) == pytest.approx(row["score"], rel=1e-5)
    page.assert_quiet()


# -- colour --------------------------------------------------------------------------------------------------


@pytest.mark.browser
def test_colour_switch_recolours_the_map_and_swaps_legend_and_colour_bar(open_report, blobs):
    report, table = blobs
    page = open_ready(open_report, report)
    classes = [f"class {k}" for k in range(CLASSES)]
    colors = page.fill_colors(ALGO)
    assert colors["factors"] == classes
    assert page.legend(ALGO)["labels"] == [f"{c} ({N // CLASSES})" for c in classes]
    before = _pixels(page)
    class_pixels = sum(_near(before, c, colors["alpha"]) for c in colors["palette"][:CLASSES])
    assert class_pixels > 500

    page.page.select_option("#ep-color", label="score (numbers)")
    _frames(page)
    state = _color_state(page)
    assert state["field"] == "val1" and state["mapper"] == "LinearColorMapper"
    assert state["bar"] == {"visible": True, "title": "score"} and state["legend_visible"] is False
    after = _pixels(page)
    assert sum(_near(after, c, colors["alpha"]) for c in colors["palette"][:CLASSES]) < class_pixels / 10
    viridis = page.fill_colors(ALGO)["palette"]
    assert len(viridis) == 256 and viridis[0].lower() == "#440154"
    low, high = table.column("score").to_numpy().min(), table.column("score").to_numpy().max()
    assert _near(after, viridis[0], colors["alpha"]) + _near(after, viridis[-1], colors["alpha"]) > 0 or low == high

    page.page.select_option("#ep-color", label="group (classes)")
    _frames(page)
    state = _color_state(page)
    assert state["field"] == "cat2" and state["legend_visible"] and not state["bar"]["visible"]
    assert page.legend(ALGO)["labels"] == [f"north ({N // 2})", f"south ({N // 2})"]
    assert page.fill_colors(ALGO)["factors"] == ["north", "south"]

    page.page.select_option("#ep-color", label="label (classes)")
    _frames(page)
    assert page.fill_colors(ALGO)["factors"] == classes
    assert page.legend(ALGO)["labels"][0] == f"class 0 ({N // CLASSES})"
    page.assert_quiet()


@pytest.mark.browser
def test_clicking_a_legend_entry_hides_that_class(open_report, blobs):
    report, table = blobs
    page = open_ready(open_report, report)
    labels = table.column("label").to_pylist()
    rows = rows_of(page)
    colors = page.fill_colors(ALGO)
    hidden_color = colors["palette"][2]
    assert _near(_pixels(page), hidden_color, colors["alpha"]) > 100

    page.page.mouse.click(*_legend_entry(page, 2))
    _frames(page)
    assert page.js("() => embproj.hiddenClasses()") == [2]
    assert page.js("() => document.getElementById('ep-hidden').textContent") == "hidden: class 2"
    assert "inactive" in " ".join(_legend_entry_classes(page, 2))
    assert _near(_pixels(page), hidden_color, colors["alpha"]) < 5, "the hidden class is still drawn"
    positions = page.point_positions(ALGO)
    for i in [i for i, r in enumerate(rows) if labels[r] == "class 2"][:3]:
        page.move_off()
        page.page.mouse.move(*positions[i])
        _frames(page)
        tip = page.tooltip()
        assert not tip.visible or labels[rows[tip.index]] != "class 2", "hover found a hidden point"
    shown = next(i for i, r in enumerate(rows) if labels[r] == "class 1")
    page.move_off()
    page.page.mouse.move(*positions[shown])
    _frames(page)
    assert page.tooltip().visible, "the wait above is too short to see a tooltip at all"

    page.page.mouse.click(*_legend_entry(page, 2))
    _frames(page)
    assert page.js("() => embproj.hiddenClasses()") == []
    assert _near(_pixels(page), hidden_color, colors["alpha"]) > 100
    page.assert_quiet()


# -- search --------------------------------------------------------------------------------------------------


@pytest.mark.browser
def test_search_rings_the_matching_rows_and_counts_them(open_report, blobs):
    report, table = blobs
    page = open_ready(open_report, report)
    rows = rows_of(page)
    records = table.to_pylist()
    for query in ("ITEM 1", "south", "Class 3", "quoted", "no such thing"):
        page.page.fill("#ep-search", query)
        page.page.press("#ep-search", "Enter")
        _frames(page)
        wanted = [i for i, r in enumerate(rows) if _matches(records[r], query)]
        count = page.js("() => document.getElementById('ep-search-count').textContent")
        assert count == f"{len(wanted)} of {N} rows match", query
        ringed = sorted(page.js("() => Array.from(embproj.model('search_hits').indices)"))
        assert ringed == wanted, query
    assert len([r for r in records if _matches(r, "item 1")]) == 1 + 10 + 100  # Item 1, 10-19, 100-199

    page.page.fill("#ep-search", "")
    page.page.press("#ep-search", "Enter")
    _frames(page)
    assert page.js("() => document.getElementById('ep-search-count').textContent") == ""
    assert page.js("() => embproj.model('search_hits').indices.length") == 0
    page.assert_quiet()


def _matches(record: dict, query: str) -> bool:
    from embproj.render.values import _show

    return any(query.lower() in _show(record[k]).lower() for k in ("name", "label", "score", "group", "note"))


# -- selection -----------------------------------------------------------------------------------------------


@pytest.mark.browser
def test_box_selection_fills_the_table_and_downloads_quoted_safe_csv(open_report, blobs):
    report, table = blobs
    page = open_ready(open_report, report)
    rows, records = rows_of(page), table.to_pylist()
    positions = np.array(page.point_positions(ALGO))
    cluster = np.array([i for i, r in enumerate(rows) if records[r]["label"] == "class 1"])
    (left, top), (right, bottom) = positions[cluster].min(axis=0) - 8, positions[cluster].max(axis=0) + 8
    inside = (
        (positions[:, 0] >= left) & (positions[:, 0] <= right) & (positions[:, 1] >= top) & (positions[:, 1] <= bottom)
    )
    assert set(np.flatnonzero(inside)) == set(cluster), "the clusters overlap on screen; choose another seed"

    _use_tool(page, "BoxSelectTool")
    _drag(page, [(left, top), (right, bottom)])
    shown = _selection_table(page)
    assert shown["count"] == f"{len(cluster)} rows selected"
    assert shown["header"] == ["row", "name", "label", "score", "group", "note", "cluster", "pca_x", "pca_y"]
    assert [int(r[0]) for r in shown["rows"]] == sorted(rows[i] for i in cluster)
    first = records[int(shown["rows"][0][0])]
    assert shown["rows"][0][1:6] == [
        first["name"],
        first["label"],
        _num(first["score"]),
        first["group"],
        first["note"],
    ]

    text = _download(page)
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[0] == shown["header"] and len(parsed) == len(cluster) + 1
    xs, ys = page.column("x_pca"), page.column("y_pca")
    by_row = {rows[i]: i for i in cluster}
    for line in parsed[1:]:
        record = records[int(line[0])]
        assert line[1:5] == [record["name"], record["label"], _num(record["score"]), record["group"]]
        assert line[5] == ("'" + record["note"] if record["note"] in FORMULAS else record["note"])
        assert line[6] in (f"{record['label']} · 100%", "noise"), "each row's cluster, named by its class"
        i = by_row[int(line[0])]
        assert float(line[7]) == pytest.approx(xs[i], rel=1e-6) and float(line[8]) == pytest.approx(ys[i], rel=1e-6)
    notes = {line[5] for line in parsed[1:]}
    assert {"'" + f for f in FORMULAS} <= notes and set(AWKWARD) <= notes, "every kind of note should be selected"
    assert '"a,b ""quoted"""' in text and '"two\nlines"' in text and '" padded "' in text
    assert ",-1.5," in text, "a number is not a formula"

    page.page.click("#ep-clear")
    _frames(page)
    assert page.js("() => document.getElementById('ep-selection').hidden")
    page.assert_quiet()


@pytest.mark.browser
def test_lasso_selection_fills_the_table(open_report, blobs):
    report, table = blobs
    page = open_ready(open_report, report)
    rows, records = rows_of(page), table.to_pylist()
    positions = np.array(page.point_positions(ALGO))
    cluster = [i for i, r in enumerate(rows) if records[r]["label"] == "class 3"]
    center = positions[cluster].mean(axis=0)
    radius = np.hypot(*(positions[cluster] - center).T).max() + 10
    others = [i for i in range(len(rows)) if i not in set(cluster)]
    assert np.hypot(*(positions[others] - center).T).min() > radius + 5
    ring = [
        (center[0] + radius * math.cos(a), center[1] + radius * math.sin(a)) for a in np.linspace(0, 2 * math.pi, 13)
    ]

    _use_tool(page, "LassoSelectTool")
    _drag(page, ring)
    shown = _selection_table(page)
    assert shown["count"] == f"{len(cluster)} rows selected"
    assert [int(r[0]) for r in shown["rows"]] == sorted(rows[i] for i in cluster)
    assert {r[2] for r in shown["rows"]} == {"class 3"}
    page.assert_quiet()


def _num(value: float) -> str:
    from embproj.render.values import _show

    return _show(value)


# -- neighbours ----------------------------------------------------------------------------------------------


@pytest.mark.browser
def test_clicking_a_point_rings_its_nearest_neighbours_in_the_original_space(open_report, digits_report, digits_table):
    page = open_ready(open_report, digits_report)
    rows = rows_of(page)
    assert rows == list(range(digits_table.num_rows))
    order, d = _exact_knn(_digit_pixels(digits_table))
    positions = np.array(page.point_positions(ALGO))
    screen = np.hypot(positions[:, None, 0] - positions[None, :, 0], positions[:, None, 1] - positions[None, :, 1])
    np.fill_diagonal(screen, np.inf)
    xy = np.column_stack([page.column("x_pca"), page.column("y_pca")]).astype(np.float64)
    clickable = np.flatnonzero((screen.min(axis=1) > 4) & (d[:, K] - d[:, K - 1] > 1e-6))
    assert len(clickable) >= 5
    dark_before = _near(_pixels(page), "#111111", 1.0, tolerance=40)

    for i in clickable[:: max(1, len(clickable) // 4)][:4]:
        click_for_neighbours(page, positions[i])
        state = page.js(
            """() => ({
              origin: Array.from(embproj.model('nn_origin').indices),
              ringed: Array.from(embproj.model('nn_hits').indices),
              text: document.getElementById('ep-neighbours').textContent,
              kept: document.getElementById('ep-neighbours').dataset.kept,
              listed: [...document.querySelectorAll('#ep-neighbours li')].map((li) => li.textContent),
            })"""
        )
        true_nn = order[i, :K]
        assert state["origin"] == [int(i)]
        assert set(state["ringed"]) == set(true_nn.tolist()), f"point {i}: not its exact neighbours"
        target = digits_table.column("target")[rows[i]].as_py()
        assert state["text"].startswith(f"row {rows[i]} · {target}")
        assert state["listed"] == [
            f"row {rows[j]} · {digits_table.column('target')[rows[j]].as_py()}" for j in state["ringed"]
        ]
        on_map = np.argsort(np.hypot(*(xy - xy[i]).T) + np.where(np.arange(len(xy)) == i, np.inf, 0), kind="stable")[:K]
        kept = len(set(on_map.tolist()) & set(true_nn.tolist()))
        assert state["kept"] == str(kept)
        assert state["text"].endswith(f"on the map: PCA {kept} of {K}" + "".join(state["listed"]))
        assert _near(_pixels(page), "#111111", 1.0, tolerance=40) > dark_before + 50, "no rings drawn"

    left, top, width, height = page.frame_rect(ALGO)
    spot = _emptiest(positions, (left, top, width, height))
    page.page.mouse.click(*spot)
    _frames(page)
    assert page.js("() => embproj.model('nn_hits').indices.length + embproj.model('nn_origin').indices.length") == 0
    assert page.js("() => document.getElementById('ep-neighbours').textContent").startswith("Click a point")
    page.assert_quiet()


def _digit_pixels(digits_table) -> np.ndarray:
    names = [n for n in digits_table.column_names if n.startswith("pixel_")]
    return np.column_stack([digits_table.column(n).to_numpy() for n in names]).astype(np.float64)


def _exact_knn(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every row's other rows by distance (numpy, float64): (order, sorted distances), K + 1 of each."""
    sq = (X * X).sum(axis=1)
    dist = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * X @ X.T, 0))
    np.fill_diagonal(dist, np.inf)
    order = np.argsort(dist, axis=1, kind="stable")[:, : K + 1]
    return order, np.take_along_axis(dist, order, axis=1)


def _emptiest(positions: np.ndarray, rect) -> tuple[float, float]:
    left, top, width, height = rect
    grid = np.array([(x, y) for x in np.linspace(left + 10, left + width - 10, 50)
                     for y in np.linspace(top + 10, top + height - 10, 30)])  # fmt: skip
    far = np.array([np.hypot(*(positions - g).T).min() for g in grid])
    return tuple(float(v) for v in grid[int(far.argmax())])


# -- helpers: reading the page -------------------------------------------------------------------------------


def click_for_neighbours(page, position) -> None:
    """A click on a point, then until its neighbours are listed (the first click decodes the table)."""
    page.page.mouse.click(*position)
    page.page.wait_for_function(
        "() => document.getElementById('ep-neighbours').dataset.kept !== undefined", timeout=30_000
    )
    _frames(page)


def _frames(page) -> None:
    page.page.wait_for_timeout(150)
    page.js("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")


def _pixels(page) -> np.ndarray:
    return np.asarray(page.screenshot(page.frame_rect(ALGO)), dtype=np.float64).reshape(-1, 3)


def _near(pixels: np.ndarray, hex_color: str, alpha: float, tolerance: float = 12) -> int:
    rgb = np.array([int(hex_color[k : k + 2], 16) for k in (1, 3, 5)], dtype=np.float64)
    on_white = rgb * alpha + 255 * (1 - alpha)
    return int((np.abs(pixels - on_white).max(axis=1) <= tolerance).sum())


def _color_state(page) -> dict:
    return page.js(
        """() => {
          const glyph = embproj.mainRenderers()[0].glyph, bar = embproj.model('colorbar');
          const legend = embproj.model('legend');
          return {
            field: glyph.fill_color.field,
            mapper: glyph.fill_color.transform.type,
            bar: {visible: bar.visible, title: bar.title},
            legend_visible: legend.visible,
          };
        }"""
    )


_LEGEND_VIEW = LEGEND_VIEW_JS  # the legend beside the map (pagetools)


def _legend_entry(page, k: int) -> tuple[float, float]:
    body = (
        _LEGEND_VIEW
        + "const r = lv.entries[args[0]].el.getBoundingClientRect();"
        + "return [r.left + r.width / 2, r.top + r.height / 2];"
    )
    return tuple(page.on_figure(ALGO, body, k))


def _legend_entry_classes(page, k: int) -> list[str]:
    return page.on_figure(ALGO, _LEGEND_VIEW + "return [...lv.entries[args[0]].el.classList];", k)


def _use_tool(page, kind: str) -> None:
    page.on_figure(ALGO, "view.model.toolbar.tools.find((t) => t.type === args[0]).active = true;", kind)


def _drag(page, points) -> None:
    mouse = page.page.mouse
    mouse.move(*points[0])
    mouse.down()
    for x, y in points[1:]:
        mouse.move(x, y)  # one event a vertex: the path between them is straight either way
    mouse.up()
    _frames(page)


def _selection_table(page) -> dict:
    page.page.wait_for_function("() => !document.getElementById('ep-selection').hidden", timeout=WAIT_MS)
    return page.js(
        """() => ({
          count: document.getElementById('ep-selection-count').textContent,
          header: [...document.querySelectorAll('#ep-selection-table thead th')].map((th) => th.textContent),
          rows: [...document.querySelectorAll('#ep-selection-table tbody tr')].map(
            (tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
        })"""
    )


def _download(page) -> str:
    with page.page.expect_download() as info:
        page.page.click("#ep-csv")
    download = info.value
    assert download.suggested_filename == "embproj-selection.csv"
    raw = open(download.path(), "rb").read()
    assert raw.startswith(b"\xef\xbb\xbf"), "no UTF-8 byte order mark (spreadsheets need it for non-ASCII)"
    return raw.decode("utf-8-sig")
