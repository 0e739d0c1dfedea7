"""Make docs/digits.png, the picture in the README: the digits report (UMAP) in headless Chromium, one point
clicked (its neighbours ringed) and another hovered (its tooltip with the digit's image); and beside it
docs/digits-clusters.png: the same map with its cluster labels and density contours, the chart under it showing
one cluster's selection, and the cluster table.

    python docs/screenshot.py [DIGITS_PARQUET] [OUT_PNG]       # `make screenshot` runs this

Needs Chromium (`chromium` on PATH or EMBPROJ_CHROMIUM) and Playwright's Python package (the test extra)."""

from __future__ import annotations

import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browserjs import POSITIONS_JS, find_chromium  # noqa: E402 (the shared browser helpers live with the tests)

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
    print(f"wrote {png} and {clusters}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main(sys.argv[1:]))
