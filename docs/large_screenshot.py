"""Make docs/million.png: a report of 1,000,000 points (20 Gaussian blobs in 16 dims, PCA of every row) in
headless Chromium, its density image with the drawn points over it, and one point hovered.

    python docs/large_screenshot.py [REPORT_HTML] [OUT_PNG]

The report is the one benchmarks/large_page.py makes (benchmarks/data/large-1000000-nn0.html, made first when
absent). Needs Chromium and Playwright's Python package (the test extra)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from browserjs import POSITIONS_JS, find_chromium  # noqa: E402 (the shared browser helpers live with the tests)

VIEWPORT = {"width": 1400, "height": 940}


def shoot(report: Path, png: Path) -> None:
    from playwright.sync_api import sync_playwright

    chromium = find_chromium()
    if chromium is None:
        raise SystemExit("no Chromium found: install chromium or set EMBPROJ_CHROMIUM")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=["--headless=new", "--no-sandbox"])
        page = browser.new_page(viewport=VIEWPORT, device_scale_factor=1)
        page.goto(report.resolve().as_uri(), wait_until="load")
        page.wait_for_function("() => document.documentElement.dataset.epDrawn !== undefined", timeout=120_000)
        x, y = page.evaluate(POSITIONS_JS, ["pca"])[123_456]
        page.mouse.move(x, y)
        page.wait_for_function("() => !document.getElementById('ep-tooltip').hidden", timeout=10_000)
        page.wait_for_timeout(300)
        png.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(png))
        browser.close()


def main(argv: list[str]) -> int:
    if argv:
        report = Path(argv[0])
    else:
        from large_page import report as make_report

        report = make_report(1_000_000, 0)
    png = Path(argv[1]) if len(argv) > 1 else ROOT / "docs" / "million.png"
    shoot(report, png)
    print(f"wrote {png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
