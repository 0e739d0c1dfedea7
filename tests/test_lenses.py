"""The lenses (embproj/structure/lenses.py, render/lenses.py, templates/js/lenses.js): what each point's neighbours in
the original space say about it. Label agreement finds labels changed on purpose; each map's trust per point has the
reported kNN recall as its mean; the images are drawn on the map. Read from what a user gets: `--json`, the
page's data, `--coords-out`, and the page in headless Chromium."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from reportdata import page_data, points

pytest_plugins = ["pagetools"]

CHANGED_SHARE = 0.05


def noisy_digits(digits_table: pa.Table, seed: int = 0) -> tuple[pa.Table, np.ndarray]:
    """The digits with 5% of the labels changed to another class at random (seeded), and the rows changed."""
    rng = np.random.default_rng(seed)
    target = np.array(digits_table.column("target").to_pylist())
    n = len(target)
    changed = np.sort(rng.choice(n, round(CHANGED_SHARE * n), replace=False))
    labels = target.astype(np.int64)
    labels[changed] = (labels[changed] + rng.integers(1, 10, len(changed))) % 10
    column = pa.array([str(v) for v in labels])
    return digits_table.set_column(digits_table.schema.get_field_index("target"), "target", column), changed


def run_json(cli, *args) -> dict:
    result = cli("project", *args, "-q", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def noisy(digits_table, tmp_path_factory):
    """The noisy digits' PCA report: its --json and its page."""
    from typer.testing import CliRunner

    from embproj.cli import app

    folder = tmp_path_factory.mktemp("noisy")
    table, changed = noisy_digits(digits_table)
    pq.write_table(table, folder / "noisy.parquet")
    out = folder / "noisy.html"
    args = ["project", str(folder / "noisy.parquet"), "--algo", "pca", "-o", str(out), "-q", "--json"]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), out, changed


# -- label agreement -----------------------------------------------------------------------------------------


def test_the_suspect_labels_are_the_labels_changed_on_purpose(noisy):
    """Issue 29's bar: among the first (changed count) suspects, at least 80% of the changed rows, and at least 60%
    of those suspects changed rows."""
    summary, _, changed = noisy
    labels = summary["labels"]
    assert labels["column"] == "target" and labels["k"] == 10
    first = [r["row"] for r in labels["rows"][: len(changed)]]
    assert len(first) == len(changed) == 90
    found = len(set(first) & set(changed.tolist()))
    assert found / len(changed) >= 0.8 and found / len(first) >= 0.6, (found, len(changed))
    assert labels["suspects"] >= len(changed) * 0.8
    assert 0.8 < labels["agreement"] < 0.97  # a changed label disagrees with its neighbours, and they with it
    for r in labels["rows"]:
        assert r["label"] != r["neighbours_label"] and r["share"] > r["agreement"]
    shares = [(r["agreement"], -r["share"]) for r in labels["rows"]]
    assert shares == sorted(shares), "worst first: the fewest neighbours agreeing, then the most carrying another"


def test_label_agreement_by_class_and_the_most_confused_pairs(noisy):
    labels = noisy[0]["labels"]
    classes = {c["label"]: c for c in labels["classes"]}
    assert set(classes) == {str(d) for d in range(10)}
    assert sum(c["rows"] for c in classes.values()) == 1797
    assert sum(c["suspects"] for c in classes.values()) == labels["suspects"]
    pairs = labels["confused_pairs"]
    assert 0 < len(pairs) <= 10 and [p["links"] for p in pairs] == sorted((p["links"] for p in pairs), reverse=True)
    assert all(len(set(p["labels"])) == 2 and 0 < p["share"] <= 1 for p in pairs)


def test_the_page_lists_the_same_suspects_and_colours_by_agreement(noisy):
    summary, report, _ = noisy
    html = report.read_text(encoding="utf-8")
    meta, data = page_data(html), points(html)
    lens = meta["lenses"]["labels"]
    rows = data["row"]
    assert [int(rows[i]) for i in lens["suspects"][:100]] == [r["row"] for r in summary["labels"]["rows"]]
    assert lens["total"] == summary["labels"]["suspects"] == len(lens["suspects"])
    assert [lens["labels"][c] for c in lens["own"][:100]] == [r["label"] for r in summary["labels"]["rows"]]
    choice = next(c for c in meta["colors"] if c["name"] == "label agreement")
    assert choice["kind"] == "continuous" and (choice["low"], choice["high"]) == (0.0, 1.0)
    agreement = data[choice["key"]]
    assert agreement.dtype == np.float32
    assert np.nanmean(agreement) == pytest.approx(summary["labels"]["agreement"], abs=1e-4)
    assert "suspect labels" in html and "most often each other's neighbours: 1 and 8" in html


def test_label_agreement_counts_each_row_s_neighbours():
    """Row by row on a graph written out: the share agreeing, the label most carry, the suspects worst first,
    a row without a label neither counted nor suspected."""
    from embproj.structure.lenses import label_agreement

    labels = pa.chunked_array([["a", "a", "a", "b", "b", "b", None]])
    near = np.array([[1, 2], [0, 2], [3, 4], [4, 5], [3, 5], [3, 4], [0, 1]])
    lens = label_agreement("kind", labels, near)
    assert lens.labels == ("a", "b")
    np.testing.assert_allclose(lens.agreement[:6], [1.0, 1.0, 0.0, 1.0, 1.0, 1.0])
    assert np.isnan(lens.agreement[6])
    assert lens.suspects.tolist() == [2]  # both its neighbours are b's
    assert [lens.labels[c] for c in lens.majority[:6]] == ["a", "a", "b", "b", "b", "b"]
    assert [(c.labels, c.links) for c in lens.confused] == [(("a", "b"), 2)]
    assert [(c.label, c.rows, c.suspects) for c in lens.classes] == [("a", 3, 1), ("b", 3, 0)]


def test_without_a_label_column_there_is_no_label_lens_and_no_lenses_turns_them_off(cli, vectors_parquet):
    plain = run_json(cli, vectors_parquet, "--algo", "pca", "--color", "", "--label", "")
    assert plain["labels"] is None
    assert plain["trust"]["pca"]["k"] == 10  # the map's trust needs no label
    off = run_json(cli, vectors_parquet, "--algo", "pca", "--no-lenses", "-o", "off.html")
    assert off["labels"] is None and off["trust"] == {}
    meta = page_data((vectors_parquet.parent / "off.html").read_text(encoding="utf-8"))
    assert meta["lenses"] is None and "label agreement" not in [c["name"] for c in meta["colors"]]
    assert "--no-lenses" in off["command"]


@pytest.mark.browser
def test_the_suspects_table_selects_rings_and_downloads(open_report, noisy):
    summary, report, _ = noisy
    page = open_report(report)
    page.page.wait_for_function("() => document.documentElement.dataset.epReady === '1'", timeout=10_000)
    shown = page.js(
        """() => [...document.querySelectorAll('#ep-labels-table tbody tr')].slice(0, 3).map((tr) =>
             [...tr.querySelectorAll('td')].map((td) => td.textContent).concat([tr.querySelectorAll('img').length]))"""
    )
    first = summary["labels"]["rows"][0]
    assert shown[0][:3] == [str(first["row"]), first["label"], first["neighbours_label"]] and shown[0][-1] == 1
    page.page.click("#ep-labels-table tbody tr:nth-child(1)")
    page.page.wait_for_function("() => document.getElementById('ep-neighbours').dataset.kept !== undefined")
    state = page.js(
        """() => ({selected: Array.from(embproj.points().selected.indices).map((i) => embproj.column("row")[i]),
                  ringed: embproj.model('nn_hits').indices.length})"""
    )
    assert state == {"selected": [first["row"]], "ringed": 10}
    with page.page.expect_download() as download:
        page.page.click("#ep-labels-csv")
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["row", "target", "neighbours' label", "their share", "agreement"]
    assert len(rows) == 1 + summary["labels"]["suspects"]
    assert rows[1][:3] == [str(first["row"]), first["label"], first["neighbours_label"]]
    tip = page.hover(summary["labels"]["rows"][0]["row"], "pca")  # the digits' rows are the points, in order
    assert tip.fields["label agreement"].startswith(f"{round(first['agreement'] * 10)} of its 10 neighbours carry")
    page.assert_quiet()


def test_the_lenses_never_search_a_graph_of_their_own(cli, tmp_path, monkeypatch):
    """With no neighbour table and no quality numbers measured on every row, the run has no graph over every row:
    the lenses say so instead of searching one (at a million rows that would be minutes)."""
    import embproj.project.metrics as metrics
    from conftest import vector_table

    monkeypatch.setattr(metrics, "MAX_ROWS", 100)
    pq.write_table(vector_table(n=300), tmp_path / "v.parquet")
    summary = run_json(cli, "v.parquet", "--algo", "pca", "--neighbours", "0", "-o", "v.html")
    assert "original" not in summary["neighbours"] and summary["labels"] is None and summary["trust"] == {}
    note = "no label agreement nor map trust: they read the neighbour graph (no neighbour table: --neighbours 0)"
    assert summary["lenses"]["notes"] == [note] and note in (tmp_path / "v.html").read_text(encoding="utf-8")
    three = run_json(cli, "v.parquet", "--algo", "pca", "--neighbours", "3", "-o", "v.html")
    # the graph the table searches anyway, searched as deep as the lenses read it
    assert three["labels"]["k"] == three["trust"]["pca"]["k"] == three["neighbours"]["original"]["k"] == 10
    assert three["neighbours"]["table"]["k"] == 3


# -- map trust -----------------------------------------------------------------------------------------------


def test_trust_on_a_subset_measured_map_is_the_mean_over_every_point(cli, tmp_path, monkeypatch):
    """Above metrics.MAX_ROWS the kNN recall is measured on a seeded subset; the trust is every point's, and the
    page says which is which."""
    import embproj.project.metrics as metrics
    from conftest import vector_table

    monkeypatch.setattr(metrics, "MAX_ROWS", 100)
    pq.write_table(vector_table(n=300), tmp_path / "v.parquet")
    summary = run_json(cli, "v.parquet", "--algo", "pca", "-o", "v.html", "--coords-out", "v.csv")
    assert summary["algorithms"][0]["metrics"]["measured_on_rows"] == 100
    trust = pacsv.read_csv(tmp_path / "v.csv").column("pca_trust").to_numpy()
    assert summary["trust"]["pca"]["mean"] == pytest.approx(trust.mean(), abs=1e-4)
    html = (tmp_path / "v.html").read_text(encoding="utf-8")
    assert "on average over every point (its kNN recall@10 is measured on a seeded 100)" in html


@pytest.fixture(scope="module")
def large_map(tmp_path_factory):
    """tests/test_lod.py's large map (1,206 points over a threshold of 200), each row with a picture."""
    from test_lod import DRAWN, THRESHOLD, lod_table, make_report

    import embproj.render.lod as lod

    folder = tmp_path_factory.mktemp("large")
    table = lod_table()
    shades = np.linspace(0.0, 1.0, table.num_rows, dtype=np.float32)  # a 4 × 4 picture of a row's own shade
    pictures = pa.array([np.full((4, 4), v).tolist() for v in shades], type=pa.list_(pa.list_(pa.float32())))
    pq.write_table(table.append_column("image", pictures), folder / "lod.parquet")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(lod, "THRESHOLD", THRESHOLD)
        patch.setattr(lod, "DRAWN", DRAWN)
        make_report(folder / "lod.parquet", folder / "report.html", "--color", "label", "--label", "name")
    return folder / "report.html"


@pytest.mark.browser
def test_the_hover_says_each_point_s_trust_and_the_large_map_colours_by_it(open_report, large_map):
    from test_lod import open_ready

    report = large_map
    page = open_ready(open_report, report)
    choice = [c["name"] for c in page.js("() => embproj.meta().colors")].index("map trust")
    page.page.select_option("#ep-color", str(choice))
    page.page.wait_for_timeout(500)
    drawn = page.js("() => Object.keys(embproj.model('drawn').data)")
    trust = page.js("() => embproj.map('pca').trust")  # the map's trust column, as the page names it
    assert trust in drawn, "the drawn points carry the map's trust, to be coloured by it"
    tip = page.hover(int(page.js("() => embproj.model('drawn').data.idx[0]")), "pca")
    kept = round(float(page.column(trust)[tip.index]) * 10)
    assert tip.fields["map trust"] == f"{kept} of its 10 neighbours are near it on the map"
    assert page.js("() => document.querySelector('#ep-colour-fact dd').textContent") == '"map trust" (continuous)'
    page.assert_quiet()


# -- images on the map ---------------------------------------------------------------------------------------

ZOOM_INTO_CLASS = """([key, code]) => {
  const f = embproj.state.figures[0], d = embproj.points().data, m = embproj.mapOf(f);
  const inside = [...d[key].keys()].filter((i) => d[key][i] === code);
  const q = (values, p) => values.slice().sort((a, b) => a - b)[Math.floor(p * (values.length - 1))];
  const xs = inside.map((i) => d[m.x][i]), ys = inside.map((i) => d[m.y][i]);
  f.x_range.setv({start: q(xs, 0.25), end: q(xs, 0.75)});
  f.y_range.setv({start: q(ys, 0.25), end: q(ys, 0.75)});
}"""


def dark(image) -> int:
    """Pixels near black: the digits' background, in no colour of the palette."""
    return int((np.asarray(image, dtype=np.int32).max(axis=2) < 40).sum())


@pytest.mark.browser
def test_zoomed_into_a_cluster_the_map_shows_the_digits_and_the_switch_takes_them_away(open_report, noisy):
    """Issue 29: the digits report zoomed into one cluster shows the digit images on the map; flipping the switch
    changes what the map shows; hover and click find the image under the pointer; nothing reaches the network."""
    _, report, _ = noisy
    page = open_report(report)
    page.page.wait_for_function("() => document.documentElement.dataset.epReady === '1'", timeout=10_000)
    meta = page_data(report.read_text(encoding="utf-8"))
    assert meta["lenses"]["images"]["in_view"] == 400
    assert page.js("() => document.documentElement.dataset.epImages") == "0", "1,797 points in view: too many"
    note = "() => { const n = document.getElementById('ep-images-note'); return [n.textContent, n.style.visibility]; }"
    assert page.js(note) == ["zoom in to see them: 400 points or fewer in view", "visible"]
    page.js(ZOOM_INTO_CLASS, [meta["colors"][0]["key"], meta["colors"][0]["factors"].index("0")])
    page.page.wait_for_function("() => Number(document.documentElement.dataset.epImages) > 20")
    assert page.js(note)[1] == "hidden"
    page.page.wait_for_timeout(300)  # the images decoded and drawn
    frame = page.frame_rect("pca")
    with_images = page.screenshot(frame)
    view = page.on_figure(
        "pca", "const m = view.model; return [m.x_range.start, m.x_range.end, m.y_range.start, m.y_range.end];"
    )
    xs, ys = np.array(page.column("x_pca")), np.array(page.column("y_pca"))
    in_view = np.flatnonzero((xs >= view[0]) & (xs <= view[1]) & (ys >= view[2]) & (ys <= view[3]))
    drawn = page.js("() => embproj.model(embproj.map('pca').images).data")
    assert sorted(drawn["idx"]) == in_view.tolist() and 20 < len(in_view) <= 400
    assert drawn["url"] == [points(report.read_text(encoding="utf-8"))["img"][i] for i in drawn["idx"]]
    page.page.click("#ep-images")
    page.page.wait_for_function("() => document.documentElement.dataset.epImages === '0'")
    page.page.wait_for_timeout(300)
    without = page.screenshot(frame)
    assert dark(with_images) > 20 * dark(without) + 2000, (dark(with_images), dark(without))
    page.page.click("#ep-images")
    page.page.wait_for_function("() => Number(document.documentElement.dataset.epImages) > 20")
    drawn = page.js("() => embproj.model(embproj.map('pca').images).data")
    x, y, w, h = (np.array(drawn[c]) for c in ("x", "y", "w", "h"))
    middle = np.argmin((x - np.mean(view[:2])) ** 2 + (y - np.mean(view[2:])) ** 2)
    at = (x[middle] - 0.4 * w[middle], y[middle] + 0.4 * h[middle])  # inside that image, off its point
    under = [j for j in range(len(x)) if abs(at[0] - x[j]) <= w[j] / 2 and abs(at[1] - y[j]) <= h[j] / 2]
    expected = int(drawn["idx"][under[-1]])  # the image drawn last, on top
    corner = page.on_figure("pca", "return clientXY(view, [args[0]], [args[1]])[0];", *at)
    tip = page.hover_at(*corner)
    assert tip.visible and tip.index == expected, (tip, expected)
    page.page.mouse.click(*corner)
    page.page.wait_for_function("() => document.getElementById('ep-neighbours').dataset.kept !== undefined")
    assert page.js("() => Array.from(embproj.model('nn_origin').indices)") == [expected]
    page.assert_quiet()


@pytest.mark.browser
def test_the_large_map_draws_the_images_of_the_points_in_view_only(open_report, large_map):
    """Above the level-of-detail threshold: no image while the view holds more than 400 points; zoomed into the
    six far-away points, their six images, which the hover and the selection reach."""
    from test_lod import open_ready

    page = open_ready(open_report, large_map)
    assert page.js("() => document.documentElement.dataset.epImages") == "0"
    rows = page.column("row")
    rare = [i for i in range(len(rows)) if rows[i] >= len(rows) - 6]  # lod_table's last six: the far-away ones
    xs, ys = np.array(page.column("x_pca")), np.array(page.column("y_pca"))
    box = [xs[rare].min() - 1, xs[rare].max() + 1, ys[rare].min() - 1, ys[rare].max() + 1]
    page.js(
        """([x0, x1, y0, y1]) => { const f = embproj.state.figures[0];
          f.x_range.setv({start: x0, end: x1}); f.y_range.setv({start: y0, end: y1}); }""",
        box,
    )
    page.page.wait_for_function("() => document.documentElement.dataset.epImages === '6'")
    drawn = page.js("() => embproj.model(embproj.map('pca').images).data")
    assert sorted(drawn["idx"]) == sorted(rare)
    j = int(np.argsort(drawn["y"])[2])  # one in the middle: its corners are in the view
    at = (drawn["x"][j] + 0.4 * drawn["w"][j], drawn["y"][j] - 0.4 * drawn["h"][j])  # off its point
    tip = page.hover_at(*page.on_figure("pca", "return clientXY(view, [args[0]], [args[1]])[0];", *at))
    assert tip.visible and tip.index == drawn["idx"][j] and tip.images == 1
    page.js("(i) => { embproj.points().selected.indices = [i]; }", drawn["idx"][j])
    page.page.wait_for_function("() => embproj.model(embproj.map('pca').images).data.alpha.includes(0.25)")
    alpha = page.js("() => Array.from(embproj.model(embproj.map('pca').images).data.alpha)")
    assert sorted(alpha) == [0.25] * 5 + [1], "the selected row's image stays, the others dim"
    page.assert_quiet()


def test_a_label_column_empty_in_every_row_gives_no_label_lens_and_says_so():
    import embproj

    rng = np.random.default_rng(0)
    rows = [[rng.normal(size=4).tolist(), ""] for _ in range(40)]
    result = embproj.report(embproj.Table(columns=["v", "k"], data=rows), algo="pca", color="k")
    assert result.summary.lenses["labels"] is None
    assert result.summary.lenses["notes"] == ['no label agreement: "k" is empty in every plotted row']
    assert "is empty in every plotted row" in result.html and result.summary.lenses["trust"]["pca"]["k"] == 10
