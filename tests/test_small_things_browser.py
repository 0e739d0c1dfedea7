"""Issue 12's page behaviours in headless Chromium: the wheel scrolls the page until a map is clicked (or Ctrl is
held), switching the colour updates the header and keeps the map's size, the maps of `--algo all` are equally
wide, hiding a class does not move the search box, and a table of nothing but dimensions shows them on hover
(W&B's 3-row hello world's hover fields are checked in the decoded page, test_small_things.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import embproj
from embproj.project import projectors as project

pytest_plugins = ["pagetools"]
pytestmark = pytest.mark.browser

SCROLLABLE = {"width": 1400, "height": 600}  # shorter than the page: the wheel has a page to scroll
NOTES = ["a short note", "a much longer note that makes the legend of this colour wider than the others"]


def blobs_table(n: int = 120) -> pa.Table:
    """Four far-apart clusters with a name, a class, a score and a note (whose legend is the widest)."""
    rng = np.random.default_rng(3)
    classes = np.arange(n) % 4
    X = (rng.normal(scale=12.0, size=(4, 6))[classes] + rng.normal(size=(n, 6))).astype(np.float32)
    return pa.table(
        {
            "name": [f"Item {i}" for i in range(n)],
            "label": [f"class {k}" for k in classes],
            "score": np.round(rng.random(n), 4),
            "note": [NOTES[i % 2] for i in range(n)],
            "embedding": pa.array(list(X), type=pa.list_(pa.float32())),
        }
    )


@pytest.fixture(scope="module")
def blobs_report(tmp_path_factory):
    path = tmp_path_factory.mktemp("small") / "blobs.html"
    embproj.report(blobs_table(), algo="pca", color="label", label="name").save(path)
    return path


@pytest.fixture(scope="module")
def three_maps(tmp_path_factory):
    """`--algo all` on the blobs, its UMAP and t-SNE stood in by a cheap projector: what is tested is the page's
    layout, which the maps' coordinates do not change (real UMAP and t-SNE cost ~15 s here)."""

    def stand_in(X, params, seed, notes, graph):
        flip = np.array([1.0, -1.0])
        return X[:, :2] * flip, dict(params), lambda rows: rows[:, :2] * flip

    saved = dict(project.PROJECTORS)
    project.PROJECTORS.update(umap=stand_in, tsne=stand_in)
    try:
        path = tmp_path_factory.mktemp("small") / "all.html"
        embproj.report(blobs_table(), algo="all", color="label").save(path)
    finally:
        project.PROJECTORS.update(saved)
    return path


def opened(open_report, path, viewport=None):
    page = open_report(path, viewport=viewport)
    page.page.wait_for_function("() => document.documentElement.dataset.epReady === '1'", timeout=10_000)
    return page


def frames(page) -> None:
    page.js("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")


def view_state(page, algo="pca") -> tuple[float, float, float]:
    """The map's x range and how far the page is scrolled."""
    return tuple(page.on_figure(algo, "return [view.model.x_range.start, view.model.x_range.end, window.scrollY];"))


def wheel_over_map(page, dy: float, ctrl: bool = False) -> None:
    x, y, width, height = page.frame_rect("pca")
    page.page.mouse.move(x + width / 2, y + min(height / 2, 80))
    if ctrl:
        page.page.keyboard.down("Control")
    page.page.mouse.wheel(0, dy)
    if ctrl:
        page.page.keyboard.up("Control")
    page.page.wait_for_timeout(250)
    frames(page)


def zoom_note(page) -> str:
    return page.js("() => document.getElementById('ep-zoom-note').textContent")


def test_the_wheel_scrolls_the_page_until_the_map_is_clicked(open_report, blobs_report):
    page = opened(open_report, blobs_report, SCROLLABLE)
    start = view_state(page)
    assert start[2] == 0
    assert zoom_note(page) == "the wheel scrolls the page: click a map, or hold Ctrl or ⌘, to zoom it with the wheel"

    wheel_over_map(page, 150)
    scrolled = view_state(page)
    assert scrolled[2] > 0, "the wheel over the map did not scroll the page"
    assert scrolled[:2] == start[:2], "the wheel zoomed the map without a click"

    page.js("() => window.scrollTo(0, 0)")
    x, y, width, height = page.frame_rect("pca")
    page.page.mouse.click(x + width / 2, y + 80)
    frames(page)
    assert zoom_note(page) == "the wheel zooms this map; move the pointer off it to scroll the page again"
    wheel_over_map(page, -150)
    zoomed = view_state(page)
    assert zoomed[2] == 0, "the page scrolled while the clicked map should zoom"
    assert zoomed[1] - zoomed[0] < start[1] - start[0], "a click on the map did not let the wheel zoom it"

    page.page.mouse.move(5, 5)  # off the map: the wheel is the page's again
    frames(page)
    assert zoom_note(page).startswith("the wheel scrolls the page")
    before = view_state(page)
    wheel_over_map(page, 150, ctrl=True)
    held = view_state(page)
    assert held[1] - held[0] > before[1] - before[0], "Ctrl + wheel did not zoom the map (out)"
    assert held[2] == before[2], "Ctrl + wheel scrolled the page"
    page.assert_quiet()


def test_the_colour_menu_updates_the_header_and_moves_nothing(open_report, blobs_report):
    """Switching the colour keeps the map's size and says in the header what it shows; hiding a class (its
    "hidden: …" note) leaves the search box where it was."""
    page = opened(open_report, blobs_report)
    fact = "() => document.querySelector('#ep-colour-fact dd').textContent"
    search = "() => { const r = document.getElementById('ep-search').getBoundingClientRect(); return [r.x, r.y]; }"
    assert page.js(fact) == '"label" (categorical)'
    frame, box = page.frame_rect("pca"), page.js(search)
    for label, shown in [
        ("score (numbers)", '"score" (continuous)'),
        ("note (classes)", '"note" (categorical)'),
        ("label (classes)", '"label" (categorical)'),
    ]:
        page.page.select_option("#ep-color", label=label)
        frames(page)
        assert page.js(fact) == shown
        assert page.frame_rect("pca") == pytest.approx(frame, abs=0.5), f"the map changed size with {label}"
    page.js("() => { embproj.state.items[0][1].renderers[0].visible = false; }")  # as a click on the entry does
    frames(page)
    assert page.js("() => document.getElementById('ep-hidden').textContent") == "hidden: class 1"
    assert page.js(search) == box, "the search box moved"
    page.assert_quiet()


def test_the_maps_of_algo_all_are_equally_wide_whatever_the_colour(open_report, three_maps):
    page = opened(open_report, three_maps)
    algos = ("pca", "umap", "tsne")
    first = {a: page.frame_rect(a) for a in algos}
    widths = [first[a][2] for a in algos]
    assert max(widths) - min(widths) <= 1, f"unequal maps: {widths}"
    assert widths[0] > 200
    for label in ("score (numbers)", "note (classes)"):
        page.page.select_option("#ep-color", label=label)
        frames(page)
        for a in algos:
            assert page.frame_rect(a) == pytest.approx(first[a], abs=0.5), f"{a} changed size with {label}"
    page.assert_quiet()


def test_a_table_of_only_dimensions_shows_the_first_eight_on_hover_and_counts_the_rest(open_report, tmp_path):
    values = np.round(np.random.default_rng(0).normal(size=(12, 20)), 3)
    frame = pd.DataFrame(values, columns=[f"d{i}" for i in range(20)])
    path = tmp_path / "dims.html"
    embproj.report(frame, algo="pca").save(path)
    page = opened(open_report, path)
    rows = [int(r) for r in page.column("row")]
    tip = page.hover(0, "pca")
    assert tip.visible, "no tooltip"
    assert [name for name, _ in tip.rows] == ["row", *[f"d{i}" for i in range(8)], "map trust"]  # (test_lenses.py)
    assert [float(v) for _, v in tip.rows[1:9]] == pytest.approx(values[rows[tip.index], :8].tolist())
    assert tip.text.rstrip().endswith("… and 12 more dimensions")
    page.assert_quiet()
