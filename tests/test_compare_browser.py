"""A comparison's page in headless Chromium: the two maps share one source, so a selection, a hover, a search and
a class hidden from the legend act on both; the change colours the maps with a colour bar from 0 to 1; a click on
a point (or on a row of the movers table) selects it on both maps and lists its neighbours before and after,
which are new and which are gone, each ringed; the movers table sorts and saves its rows as CSV. Nothing reaches
the network, nothing is logged as an error."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from test_compare import N, replaced_rows, run_compare, write_pair

from reportdata import decode_neighbours, page_data, source

pytest_plugins = ["pagetools"]
pytestmark = pytest.mark.browser

MAPS = ("pca_before", "pca_after")
SEARCH_RING = "#e4007c"
SECOND_COLUMN = """() => [...document.querySelectorAll('#ep-movers-table tbody tr td:nth-child(2)')]
  .map((t) => t.textContent)"""
KEYS = """() => Array.from({length: embproj.meta().n},
  (_, i) => embproj.fieldValue(embproj.meta().compare.key_field, i))"""
COLOUR_BAR = """() => { const b = embproj.model('colorbar');
  return [b.visible, b.title, b.color_mapper.low, b.color_mapper.high]; }"""
CLASS_CODES = """() => { const c = embproj.meta().colors[embproj.state.color];
  return Array.from(embproj.points().data[c.key]); }"""


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("compare")
    before, after = write_pair(folder)
    out = folder / "compare.html"
    result = run_compare(before, after, "--algo", "pca", "-o", out, "-q")
    assert result.exit_code == 0, result.output
    return out


def opened(open_report, path):
    page = open_report(path)
    page.page.wait_for_function("() => document.documentElement.dataset.epReady === '1'", timeout=10_000)
    return page


def frames(page) -> None:
    page.page.wait_for_timeout(150)
    page.js("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")


def tables(path) -> tuple[np.ndarray, np.ndarray]:
    """BEFORE's and AFTER's neighbour tables as the page carries them, decoded here."""
    import re

    page = path.read_text(encoding="utf-8")
    meta, data = page_data(page), source(page, "points")
    out = []
    for element, info in (("ep-neighbour-table", meta["neighbours"]),
                          ("ep-neighbour-table-after", meta["compare"]["neighbours_after"])):  # fmt: skip
        text = re.search(f'id="{element}">(.*?)</script>', page, re.S).group(1).strip()
        code = info["code"]
        xy = np.column_stack([data["x_" + code["algo"]], data["y_" + code["algo"]]])
        out.append(decode_neighbours(text, code, xy, info["k"]))
    return out[0], out[1]


def panel(page) -> dict:
    page.page.wait_for_function(
        "() => document.getElementById('ep-neighbours').dataset.kept !== undefined", timeout=30_000
    )
    return page.js(
        """() => {
          const out = document.getElementById('ep-neighbours'), rows = (s) => s ? s.split(',').map(Number) : [];
          const lists = {};
          for (const box of out.querySelectorAll('[data-list]')) lists[box.dataset.list] = rows(box.dataset.rows);
          const ring = (name) => Array.from(embproj.model(name).indices).sort((a, b) => a - b);
          return {index: Number(out.dataset.index), text: out.textContent, lists: lists,
                  rings: {kept: ring('nn_hits'), new: ring('nn_new'), gone: ring('nn_gone')}};
        }"""
    )


def expected(before: np.ndarray, after: np.ndarray, i: int) -> dict:
    was, now = set(before[i].tolist()), set(after[i].tolist())
    return {"kept": sorted(was & now), "new": sorted(now - was), "gone": sorted(was - now)}


def test_a_click_on_a_mover_selects_it_on_both_maps_and_lists_its_neighbours_before_and_after(open_report, report):
    page = opened(open_report, report)
    before, after = tables(report)
    rows = page.js("() => [...document.querySelectorAll('#ep-movers-table tbody tr')].map((tr) => +tr.dataset.index)")
    assert len(rows) == 100
    change = np.asarray(page.column("change"))
    assert change[rows[0]] == change.max() and list(change[rows]) == sorted(change[rows], reverse=True)
    page.page.click("#ep-movers-table tbody tr:first-child")
    shown = panel(page)
    i = rows[0]
    assert page.js("() => Array.from(embproj.points().selected.indices)") == [i]
    assert page.js("() => embproj.mainRenderers().map((r) => r.data_source.name)") == ["points", "points"]
    want = expected(before, after, i)
    assert shown["index"] == i and shown["rings"] == want
    assert {k: sorted(v) for k, v in shown["lists"].items()} == {"in both": want["kept"], "new": want["new"],
                                                                   "gone": want["gone"]}  # fmt: skip
    assert f"{len(want['new'])} new in AFTER" in shown["text"] and f"change {change[i]:.3f}" in shown["text"]
    assert len(want["new"]) > 5, "a replaced row gets new neighbours"

    still = int(np.flatnonzero(change == 0)[0])  # a click on the AFTER map: a point that kept its neighbours
    page.page.mouse.click(*page.point_position(still, "pca_after"))
    shown = panel(page)
    assert shown["index"] == still and shown["rings"] == expected(before, after, still)
    assert shown["rings"]["new"] == [] and shown["rings"]["gone"] == []
    page.assert_quiet()


def test_the_movers_table_sorts_and_saves_its_rows_as_csv(open_report, report):
    page = opened(open_report, report)
    ids = page.js("() => embproj.moverRows().map((i) => embproj.fieldValue(embproj.meta().compare.key_field, i))")
    moved = {f"item-{i:03d}" for i in replaced_rows()}
    assert len(moved & set(ids[:20])) >= 18
    page.page.click("#ep-movers-table thead th:nth-child(2)")
    frames(page)
    cells = page.js(SECOND_COLUMN)
    assert (
        cells == sorted(ids)
        and page.js("() => document.querySelector('#ep-movers-table thead th:nth-child(2)').getAttribute('aria-sort')")
        == "ascending"
    )
    page.page.click("#ep-movers-table thead th:nth-child(2)")
    frames(page)
    cells = page.js(SECOND_COLUMN)
    assert cells == sorted(ids, reverse=True)

    with page.page.expect_download() as info:
        page.page.click("#ep-movers-csv")
    download = info.value
    assert download.suggested_filename == "embproj-movers.csv"
    raw = open(download.path(), "rb").read()
    assert raw.startswith(b"\xef\xbb\xbf")
    parsed = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert parsed[0][:2] == ["change", "id"] and len(parsed) == 101
    assert [line[1] for line in parsed[1:]] == sorted(ids, reverse=True), "the CSV is the table, in its order"
    change = dict(zip(page.js(KEYS), page.column("change")))
    assert all(abs(float(line[0]) - change[line[1]]) < 6e-4 for line in parsed[1:])
    page.assert_quiet()


def test_hover_search_and_the_legend_act_on_both_maps(open_report, report):
    page = opened(open_report, report)
    bar = page.js(COLOUR_BAR)
    assert bar == [True, "change", 0, 1], "the maps open coloured by the change, with its colour bar"
    mover = page.js("() => embproj.meta().compare.movers[0]")
    for key in MAPS:
        tip = page.hover(mover, key)
        assert tip.visible and tip.index == mover and float(tip.fields["change"]) > 0.5

    name = page.js(f"() => embproj.fieldValue(embproj.meta().compare.key_field, {mover})")
    page.move_off()
    rings = [_ring_pixels(page, mover, key) for key in MAPS]
    page.page.fill("#ep-search", name)
    page.page.press("#ep-search", "Enter")
    frames(page)
    assert page.js("() => Array.from(embproj.model('search_hits').indices)") == [mover]
    assert all(_ring_pixels(page, mover, key) > before + 10 for key, before in zip(MAPS, rings)), "a ring on each map"
    page.page.fill("#ep-search", "")
    page.page.press("#ep-search", "Enter")

    page.page.select_option("#ep-color", label="label (classes)")
    frames(page)
    page.js("() => { embproj.state.items[embproj.state.color][2].renderers[0].visible = false; }")
    frames(page)
    hidden = page.js("() => embproj.hiddenClasses()")
    assert hidden == [2]
    mask = page.js("() => Array.from(embproj.shownMask())")
    labels = page.js(CLASS_CODES)
    assert [not m for m in mask] == [code == 2 for code in labels]
    gone = int(np.flatnonzero(np.asarray(labels) == 2)[0])
    for key in MAPS:
        page.move_off()
        page.page.mouse.move(*page.point_position(gone, key))
        frames(page)
        tip = page.tooltip()
        assert not tip.visible or labels[tip.index] != 2, f"a hidden class is still found on the {key} map"
    page.assert_quiet()


def _ring_pixels(page, i: int, key: str) -> int:
    x, y = page.point_position(i, key)
    shot = np.asarray(page.screenshot((x - 12, y - 12, 24, 24)), dtype=np.int64).reshape(-1, 3)
    rgb = np.array([int(SEARCH_RING[k : k + 2], 16) for k in (1, 3, 5)])
    return int((np.abs(shot - rgb).max(axis=1) <= 40).sum())


def test_rows_compared_equal_the_points_on_each_map(report):
    page = report.read_text(encoding="utf-8")
    data = source(page, "points")
    assert all(len(data[f"{axis}_{key}"]) == N for axis in "xy" for key in MAPS)
