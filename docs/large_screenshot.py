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
sys.path.insert(0, str(ROOT / "docs"))

from browserjs import POSITIONS_JS  # noqa: E402 (the shared browser helpers live with the tests)
from screenshot import hover_and_shoot, opened  # noqa: E402


def shoot(report: Path, png: Path) -> None:
    with opened(report, ready="dataset.epDrawn !== undefined", timeout=120_000) as page:
        hover_and_shoot(page, page.evaluate(POSITIONS_JS, ["pca"])[123_456], png)


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
