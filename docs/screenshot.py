"""Make docs/digits.png, the picture in the README: the digits report (UMAP) in headless Chromium, one point
clicked (its neighbours ringed) and another hovered (its tooltip with the digit's image); and beside it
docs/digits-clusters.png: the same map with its cluster labels and density contours, the chart under it showing
one cluster's selection, and the cluster table; and a picture of each lens (docs/lens-images.png,
docs/lens-labels.png, docs/lens-trust.png: `shoot_lenses`).

    python docs/screenshot.py [DIGITS_PARQUET] [OUT_PNG]       # `make screenshot` runs this

Needs Chromium (`chromium` on PATH or EMBPROJ_CHROMIUM) and Playwright's Python package (the test extra)."""

from __future__ import annotations

import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browserjs import FIGURE_VIEW_JS, POSITIONS_JS, find_chromium  # noqa: E402 (the shared browser helpers live with the tests)

VIEWPORT = {"width": 1400, "height": 940}


def make_report(data: Path, out: Path) -> None:
    import embproj

    embproj.report(data, algo="umap", reproducible=True).save(out)


@contextmanager
def opened(report: Path, viewport: dict = VIEWPORT, ready: str = "dataset.epReady === '1'", timeout: int = 60_000):
    """The report in headless Chromium, once the page says `ready` (of document.documentElement)."""
    from playwright.sync_api import sync_playwright

    chromium = find_chromium()
    if chromium is None:
        raise SystemExit("no Chromium found: install chromium or set EMBPROJ_CHROMIUM")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=["--headless=new", "--no-sandbox"])
        page = browser.new_page(viewport=viewport, device_scale_factor=1)
        page.goto(report.resolve().as_uri(), wait_until="load")
        page.wait_for_function(f"() => document.documentElement.{ready}", timeout=timeout)
        yield page
        browser.close()


def hover_and_shoot(page, point: tuple[float, float], png: Path) -> None:
    """The pointer on `point`, its tooltip shown, then the picture."""
    page.mouse.move(*point)
    page.wait_for_function("() => !document.getElementById('ep-tooltip').hidden", timeout=10_000)
    page.wait_for_timeout(300)
    png.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(png))


def shoot(report: Path, png: Path) -> None:
    with opened(report) as page:
        positions = page.evaluate(POSITIONS_JS, ["umap"])
        clicked = _click_a_telling_point(page, positions)
        hovered = _near(positions, positions[clicked][0] + 150, positions[clicked][1] + 60)
        page.evaluate("() => document.activeElement && document.activeElement.blur()")  # no focus outline
        hover_and_shoot(page, positions[hovered], png)


def shoot_clusters(report: Path, png: Path) -> None:
    """The map as it explains itself: labels, the density contours switched on, the biggest cluster's row of the
    cluster table clicked (its points selected, the chart drawing them over the whole)."""
    with opened(report, {"width": 1400, "height": 1300}) as page:
        page.check("#ep-density")
        page.click("#ep-cluster-table tbody tr:nth-child(1)")
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        page.mouse.move(2, 2)
        page.wait_for_timeout(400)
        page.screenshot(path=str(png))


# Zoom the UMAP map into the cluster of `digit` (the middle of its points, a margin around them)
ZOOM_INTO = """([digit, margin]) => {
  const f = embproj.state.figures[0], d = embproj.points().data, m = embproj.mapOf(f), c = embproj.meta().colors[0];
  const code = c.factors.indexOf(digit), inside = [...d[c.key].keys()].filter((i) => d[c.key][i] === code);
  const q = (v, p) => v.slice().sort((a, b) => a - b)[Math.floor(p * (v.length - 1))];
  const xs = inside.map((i) => d[m.x][i]), ys = inside.map((i) => d[m.y][i]);
  const [x0, x1, y0, y1] = [q(xs, 0.02), q(xs, 0.98), q(ys, 0.02), q(ys, 0.98)];
  f.x_range.setv({start: x0 - margin * (x1 - x0), end: x1 + margin * (x1 - x0)});
  f.y_range.setv({start: y0 - margin * (y1 - y0), end: y1 + margin * (y1 - y0)});
}"""


def _box(page, first: str, last: str | None = None) -> dict:
    """The page's rectangle from the top of element `first` to the bottom of element `last` (None: of the map), the
    window's width."""
    ends = f"document.querySelector({last!r})" if last else "figureView('map_umap').el"
    top, end = page.evaluate(
        f"() => {{ {FIGURE_VIEW_JS}\n return [document.querySelector({first!r}).getBoundingClientRect().top, "
        f"{ends}.getBoundingClientRect().bottom].map((v) => v + window.scrollY); }}"
    )
    return {"x": 0, "y": top - 6, "width": VIEWPORT["width"], "height": end - top + 12}


def shoot_lenses(report: Path, folder: Path) -> list[Path]:
    """The lenses: the digits on the map, zoomed into one cluster (images on the map); the map coloured by label
    agreement over the suspect labels' table, its worst row clicked (label agreement); the map coloured by its trust
    with the sentence that says how to read it (map trust)."""
    shots = [folder / f"lens-{name}.png" for name in ("images", "labels", "trust")]
    choices = {}
    with opened(report, {"width": 1400, "height": 2400}) as page:
        names = page.evaluate("() => embproj.meta().colors.map((c) => c.name)")
        choices = {name: str(names.index(name)) for name in ("label agreement", "map trust")}
        page.evaluate(ZOOM_INTO, ["3", 0.15])
        page.wait_for_function("() => Number(document.documentElement.dataset.epImages) > 0")
        page.mouse.move(2, 2)
        page.wait_for_timeout(600)
        page.screenshot(path=str(shots[0]), clip=_box(page, ".ep-controls"))
    with opened(report, {"width": 1400, "height": 2400}) as page:
        page.select_option("#ep-color", choices["label agreement"])
        page.click("#ep-labels-table tbody tr:nth-child(1)")
        page.wait_for_function("() => document.getElementById('ep-neighbours').dataset.kept !== undefined")
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        page.mouse.move(2, 2)
        page.wait_for_timeout(600)
        page.screenshot(path=str(shots[1]), clip=_box(page, ".ep-controls", "#ep-labels"))
    with opened(report, {"width": 1400, "height": 2400}) as page:
        page.select_option("#ep-color", choices["map trust"])
        page.mouse.move(2, 2)
        page.wait_for_timeout(600)
        page.screenshot(path=str(shots[2]), clip=_box(page, ".ep-controls", "#ep-trust"))
    return shots


def _click_a_telling_point(page, positions) -> int:
    """Click points from the middle of the map outwards until one keeps some, not all, of its neighbours
    together on the map: the picture then shows both what the map keeps and what it tears apart."""
    xs, ys = [p[0] for p in positions], [p[1] for p in positions]
    order = sorted(
        range(len(positions)),
        key=lambda i: (xs[i] - sum(xs) / len(xs)) ** 2 + (ys[i] - sum(ys) / len(ys)) ** 2,
    )
    for i in order[:40]:
        page.mouse.click(*positions[i])
        page.wait_for_timeout(50)
        kept = page.evaluate("() => document.getElementById('ep-neighbours').dataset.kept")
        if kept and 5 <= int(kept) <= 8:
            return i
    return order[0]


def _near(positions, x: float, y: float) -> int:
    return min(range(len(positions)), key=lambda i: (positions[i][0] - x) ** 2 + (positions[i][1] - y) ** 2)


def main(argv: list[str]) -> int:
    data = Path(argv[0]) if argv else ROOT / "fixtures" / "digits.parquet"
    png = Path(argv[1]) if len(argv) > 1 else ROOT / "docs" / "digits.png"
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "digits.html"
        make_report(data, report)
        shoot(report, png)
        clusters = png.with_name(png.stem + "-clusters" + png.suffix)
        shoot_clusters(report, clusters)
        lenses = shoot_lenses(report, png.parent)
    print(f"wrote {png}, {clusters} and {', '.join(map(str, lenses))}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main(sys.argv[1:]))
