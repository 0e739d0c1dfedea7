"""The report as a user meets it, in headless Chromium: the map is drawn, the legend counts the classes,
hovering a point shows that point (the nearest one) with its fields and its image, nothing reaches the
network, nothing logs an error, and no value from the table can run as script."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

pytest_plugins = ["pagetools"]

pytestmark = pytest.mark.browser

ALGO = "pca"


def make_report(data, out, *options) -> None:
    """`embproj project DATA --algo pca -o OUT …`, in-process, as a user would type it."""
    from embproj.cli import app

    args = ["project", str(data), "--algo", ALGO, "-o", str(out), "--quiet", *options]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, f"embproj {' '.join(args)} failed:\n{result.output}"
    assert out.is_file()


# -- the digits report ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits_report(digits_parquet, tmp_path_factory):
    out = tmp_path_factory.mktemp("browser") / "report.html"
    make_report(digits_parquet, out)
    return out


@pytest.fixture(scope="module")
def digit_of_row(digits_table) -> list[str]:
    return digits_table.column("target").to_pylist()


def test_map_is_drawn_with_a_legend_of_the_ten_digits(open_report, digits_report, digit_of_row):
    page = open_report(digits_report)

    canvases = [c for c in page.canvases(ALGO) if c[0] > 100 and c[1] > 100]
    assert canvases, f"no drawing canvas inside the map's view: {page.canvases(ALGO)}"

    counts = {d: digit_of_row.count(d) for d in sorted(set(digit_of_row), key=int)}
    assert list(counts) == [str(d) for d in range(10)]
    legend = page.legend(ALGO)
    assert legend is not None, "the map has no legend"
    assert legend["labels"] == [f"{d} ({n:,})" for d, n in counts.items()]
    assert legend["labels"][0] == "0 (178)"
    assert legend["visible"] and legend["rect"] and legend["rect"][2] > 20 and legend["rect"][3] > 100

    # The points are on screen in the legend's colours (as drawn over white at the glyph's alpha).
    colors = page.fill_colors(ALGO)
    assert colors["factors"] == list(counts)
    pixels = np.asarray(page.screenshot(page.frame_rect(ALGO)), dtype=np.float64).reshape(-1, 3)
    for factor, hex_color in zip(colors["factors"], colors["palette"], strict=True):
        rgb = np.array([int(hex_color[k : k + 2], 16) for k in (1, 3, 5)], dtype=np.float64)
        on_white = rgb * colors["alpha"] + 255 * (1 - colors["alpha"])
        near = int((np.abs(pixels - on_white).max(axis=1) <= 12).sum())
        assert near >= 200, f"digit {factor}: only {near} pixels of its colour {hex_color} on the map"
    page.assert_quiet()


def test_hover_shows_the_nearest_point_with_its_digit_and_image(open_report, digits_report, digits_table, digit_of_row):
    page = open_report(digits_report)
    positions = np.array(page.point_positions(ALGO))
    rows = page.column("row")
    assert len(positions) == len(rows) == digits_table.num_rows
    left, top, width, height = page.frame_rect(ALGO)
    assert ((positions[:, 0] >= left - 1) & (positions[:, 0] <= left + width + 1)).all()
    assert ((positions[:, 1] >= top - 1) & (positions[:, 1] <= top + height + 1)).all()

    distances_between = _pairwise(positions)
    gaps = distances_between.min(axis=1)
    isolated = int(np.argmax(gaps))
    assert gaps[isolated] > 8, "no point stands apart from the others; the map looks collapsed"
    crowded = _crowded(distances_between)
    assert len(crowded) >= 3, "no overlapping points to test 'nearest only' on"
    targets = [isolated, *crowded[:: max(1, len(crowded) // 4)][:4], 0, 7, 1000, len(rows) - 1]

    for i in targets:
        tip = page.hover(i, ALGO)
        where = f"hovering point {i} at {tuple(np.round(positions[i], 1))}"
        assert tip.visible, f"{where}: no tooltip ({tip})"
        assert tip.index is not None, f"{where}: the tooltip names no point"
        shown = tip.index
        mouse = positions[i]
        distances = np.hypot(*(positions - mouse).T)
        assert distances[shown] <= distances.min() + 1.0, (
            f"{where}: tooltip shows point {shown} at {distances[shown]:.1f} px, "
            f"but point {int(distances.argmin())} is at {distances.min():.1f} px"
        )
        if i == isolated:
            assert shown == i, f"{where}: an isolated point, yet the tooltip shows point {shown}"

        # Exactly one point: one title, one "row" line, one image.
        assert [name for name, _ in tip.rows].count("row") == 1, tip.rows
        assert tip.images == 1, f"{where}: {tip.images} images in the tooltip"
        row = int(tip.fields["row"].replace(",", ""))
        assert row == rows[shown]
        digit = digit_of_row[row]
        assert tip.title == digit
        assert tip.fields["target"] == digit
        assert digit in tip.text

        assert (tip.img_src or "").startswith("data:image/png;base64,"), f"{where}: image src {tip.img_src!r}"
        image = tip.image()
        assert image.format == "PNG" and image.size == (64, 64)
        assert tip.img_size == (64, 64), f"the browser did not show the image: {tip.img_size}"
        expected = _enlarged(digits_table.column("image")[row].as_py(), 8)
        assert np.array_equal(np.asarray(image.convert("L")), expected), f"row {row}: not its digit's image"

        # The tooltip is on screen, next to the mouse.
        tl, tt, tw, th = tip.rect
        assert 0 <= tl and 0 <= tt and tl + tw <= 1400 and tt + th <= 1000, f"tooltip off screen: {tip.rect}"
        assert math.dist((tl + tw / 2, tt + th / 2), mouse) < 400

    page.assert_quiet()


def test_tooltip_hides_off_the_map_and_between_points(open_report, digits_report):
    page = open_report(digits_report)
    positions = np.array(page.point_positions(ALGO))
    assert page.tooltip().hidden, "a tooltip shows before any hover"

    assert page.hover(0, ALGO).visible
    off = page.move_off()
    assert off.hidden and not off.visible, "the tooltip stays after the mouse left the map"

    # A spot inside the plotting area but far from every point: nothing to show.
    left, top, width, height = page.frame_rect(ALGO)
    spot = _emptiest_spot(positions, (left, top, width, height))
    assert np.hypot(*(positions - spot).T).min() > 15
    assert page.hover(0, ALGO).visible
    empty = page.hover_at(*spot, expect="hidden")
    assert empty.hidden, f"the tooltip shows point {empty.index} over an empty spot {spot}"
    page.assert_quiet()


def _pairwise(positions: np.ndarray) -> np.ndarray:
    """Screen distances between points (inf on the diagonal)."""
    d = np.hypot(positions[:, None, 0] - positions[None, :, 0], positions[:, None, 1] - positions[None, :, 1])
    np.fill_diagonal(d, np.inf)
    return d


def _crowded(d: np.ndarray) -> list[int]:
    """Points that a lower-numbered point overlaps 2–3 px away (both under an 8 px marker), with no point
    closer than 1 px: hovering them tells the nearest point from the first one hit."""
    lower = np.tril(d, k=-1)
    lower[lower == 0] = np.inf
    near_lower = ((lower >= 2.0) & (lower <= 3.0)).any(axis=1)
    return [int(i) for i in np.flatnonzero(near_lower & (d.min(axis=1) > 1.0))]


def _emptiest_spot(positions: np.ndarray, rect) -> tuple[float, float]:
    left, top, width, height = rect
    xs = np.linspace(left + 4, left + width - 4, 60)
    ys = np.linspace(top + 4, top + height - 4, 40)
    grid = np.array([(x, y) for x in xs for y in ys])
    far = np.array([np.hypot(*(positions - g).T).min() for g in grid])
    x, y = grid[int(far.argmax())]
    return float(x), float(y)


def _enlarged(pixels, factor: int) -> np.ndarray:
    """The 8×8 digit (0..1) as 8-bit grey, each pixel a factor×factor square (nearest neighbour)."""
    grey = np.clip(np.rint(np.asarray(pixels, dtype=np.float64) * 255.0), 0, 255).astype(np.uint8)
    return np.kron(grey, np.ones((factor, factor), dtype=np.uint8))


# -- hostile values ------------------------------------------------------------------------------------------

SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=1">'
JS_URL = "javascript:window.__pwned=1"
QUOTES = "\"double\" 'single' `back` \\ &amp; {{ 7*7 }}"
EMOJI = "🧪 café 👩‍🔬"
ARABIC = "مرحبا بالعالم"
HEBREW = "שלום עולם"
HOSTILE = (SCRIPT, IMG, JS_URL, QUOTES, EMOJI, ARABIC, HEBREW)

LABEL_COL = f"label {SCRIPT}"
NOTE_COL = f"note {IMG} \"'"
PICTURE_COL = f"picture {JS_URL}"
TITLE = f"{SCRIPT} {IMG} {HEBREW}"
# Anything in the tooltip but the elements report.js builds (no image here: the picture cells are not images).
FOREIGN_IN_TOOLTIP = "#ep-tooltip *:not(div):not(table):not(tbody):not(tr):not(th):not(td)"


def hostile_table(n: int = 30, dims: int = 4) -> pa.Table:
    rng = np.random.default_rng(1)
    classes = [SCRIPT, IMG, JS_URL, f"{QUOTES} {EMOJI}", f"{ARABIC} {HEBREW}"]
    labels = [classes[i % len(classes)] for i in range(n)]
    centers = rng.normal(scale=8.0, size=(len(classes), dims))
    X = np.array([centers[i % len(classes)] for i in range(n)]) + rng.normal(size=(n, dims))
    columns = {f"dim_{k}": pa.array(X[:, k].astype(np.float32)) for k in range(dims)}
    columns[LABEL_COL] = pa.array(labels)
    notes = [f"{HOSTILE[i % len(HOSTILE)]} | {HOSTILE[(i + 3) % len(HOSTILE)]}" for i in range(n)]
    columns[NOTE_COL] = pa.array(notes)
    columns[PICTURE_COL] = pa.array([JS_URL, "x", f"data:text/html,{SCRIPT}", IMG][i % 4] for i in range(n))
    return pa.table(columns)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    table = hostile_table()
    pq.write_table(table, folder / "hostile.parquet")
    out = folder / "report.html"
    make_report(
        folder / "hostile.parquet", out,
        "--columns", "dim_*", "--color", LABEL_COL, "--label", LABEL_COL,
        "--hover", f"{LABEL_COL},{NOTE_COL}", "--image", PICTURE_COL, "--title", TITLE,
    )  # fmt: skip
    return out, table


def test_values_from_the_table_show_as_text_and_never_run(open_report, hostile):
    report, table = hostile
    html = report.read_text(encoding="utf-8")
    assert SCRIPT not in html and IMG not in html, "a table value reached the HTML file unescaped"
    page = open_report(report)
    labels = table.column(LABEL_COL).to_pylist()
    notes = table.column(NOTE_COL).to_pylist()

    assert page.js("() => document.querySelector('h1').textContent") == TITLE
    assert page.js("() => document.title") == TITLE
    header = page.js("() => document.querySelector('header').textContent")
    assert LABEL_COL in header, "the header does not name the colour column as it is spelled"
    footer = page.js("() => document.querySelector('footer').textContent")
    assert LABEL_COL in footer, "the command in the footer lost the colour column's name"
    legend = page.legend(ALGO)
    assert legend is not None
    for label in set(labels):
        assert f"{label} ({labels.count(label)})" in legend["labels"]

    rows = page.column("row")
    first_of_class: dict[str, int] = {}
    for i, row in enumerate(rows):
        first_of_class.setdefault(labels[row], i)
    assert len(first_of_class) == 5
    for label, i in first_of_class.items():
        tip = page.hover(i, ALGO)
        assert tip.visible, f"no tooltip for point {i} ({label!r})"
        row = int(tip.fields["row"])
        assert tip.title == labels[row], f"title shown {tip.title!r}, the row's label is {labels[row]!r}"
        assert tip.fields[LABEL_COL] == labels[row], tip.rows
        assert tip.fields[NOTE_COL] == notes[row], tip.rows
        assert tip.images == 0, f"a cell that is not an image reached the page as one: {tip.img_src!r}"
        assert page.js("() => window.__pwned") is None

    shown = page.hover(first_of_class[SCRIPT], ALGO).text_content
    assert SCRIPT in shown and LABEL_COL in shown and NOTE_COL in shown
    assert page.js(f"() => document.querySelectorAll('{FOREIGN_IN_TOOLTIP}').length") == 0
    assert page.js("() => document.querySelectorAll('img[src=x], img[onerror]').length") == 0
    assert page.js("() => typeof window.__pwned") == "undefined"
    page.assert_quiet()
