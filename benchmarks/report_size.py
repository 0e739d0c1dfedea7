"""What a point costs in the report file, and how fast a big report opens and answers the mouse.

    .venv/bin/python benchmarks/report_size.py [--points 100000] [--write]

Builds, with the Python API, a report of N generated points (a 16-dim embedding, a categorical colour of 10
classes, a short label drawn from 1,000 words) and the same with 100 points; the bytes a point costs are
(size(N) − size(100)) / N, against a naive Bokeh file of the same data (float64 numpy coordinates, the
label and class as Python strings, a plain HoverTool). Then opens the big report in headless Chromium and
measures the time until the page is ready and until the tooltip answers a hover. `--write` puts the table into
benchmarks/RESULTS.md between the report-size markers.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browserjs import POSITIONS_JS, find_chromium  # noqa: E402 (the shared browser helpers live with the tests)

SMALL = 100
WORDS = 1_000
CLASSES = 10
DIMS = 16
BUDGET = 16  # bytes a point may cost
START, END = "<!-- report-size:start -->", "<!-- report-size:end -->"


def table(n: int, seed: int = 0, unique_labels: bool = False) -> pa.Table:
    rng = np.random.default_rng(seed)
    classes = rng.integers(0, CLASSES, n)
    centers = rng.normal(scale=6.0, size=(CLASSES, DIMS))
    X = (centers[classes] + rng.normal(size=(n, DIMS))).astype(np.float32)
    words = [f"w{k:04d}" for k in range(WORDS)]
    names = [f"item-{i:06d}" for i in range(n)] if unique_labels else [words[k] for k in rng.integers(0, WORDS, n)]
    return pa.table(
        {
            "name": names,
            "label": [f"class {k}" for k in classes],
            "embedding": pa.FixedSizeListArray.from_arrays(pa.array(X.reshape(-1)), DIMS),
        }
    )


def embproj_html(t: pa.Table) -> str:
    import embproj

    result = embproj.report(
        t, algo="pca", color="label", label="name", hover=("name", "label"), max_points=t.num_rows,
        reproducible=True, title="report size",
    )  # fmt: skip
    return result.html


def naive_lists_html(t: pa.Table) -> str:
    return naive_html(t, lists=True)


def naive_html(t: pa.Table, lists: bool = False) -> str:
    """What a user writes by hand: a source of float64 (numpy, or Python lists) and strings, factor_cmap
    with a legend beside the map, a HoverTool; as wide and tall as embproj's map."""
    from bokeh.embed import file_html
    from bokeh.models import ColumnDataSource, HoverTool
    from bokeh.palettes import Category10
    from bokeh.plotting import figure
    from bokeh.resources import INLINE
    from bokeh.transform import factor_cmap
    from sklearn.decomposition import PCA

    X = t.column("embedding").combine_chunks().flatten().to_numpy().reshape(t.num_rows, DIMS)
    xy = PCA(2, random_state=0).fit_transform(X).astype(np.float64)
    labels = t.column("label").to_pylist()
    x, y = (xy[:, 0].tolist(), xy[:, 1].tolist()) if lists else (xy[:, 0], xy[:, 1])
    source = ColumnDataSource({"x": x, "y": y, "name": t.column("name").to_pylist(), "label": labels})
    tools = "pan,wheel_zoom,box_select,lasso_select,reset"
    fig = figure(output_backend="webgl", tools=tools, sizing_mode="stretch_width", height=640)
    palette = factor_cmap("label", Category10[10], sorted(set(labels)))
    fig.scatter("x", "y", source=source, fill_color=palette, line_color=None, legend_field="label")
    fig.add_layout(fig.legend[0], "right")
    fig.add_tools(HoverTool(tooltips=[("name", "@name"), ("label", "@label")]))
    return file_html(fig, resources=INLINE, title="naive")


def size(html: str) -> int:
    return len(html.encode("utf-8"))


def per_point(big: str, small: str, n: int) -> float:
    return (size(big) - size(small)) / n


# -- the browser ---------------------------------------------------------------------------------------------

READY = "() => window.Bokeh && Bokeh.documents.length > 0 && Bokeh.documents[0].is_idle"


def browser_times(path: Path, hovers: int = 5, opens: int = 3) -> dict:
    """Seconds from navigation until the document has painted and gone idle (median of `opens` fresh pages),
    and (median of `hovers`) from a mouse move onto a point until the tooltip shows."""
    from playwright.sync_api import sync_playwright

    chromium = find_chromium()
    if chromium is None:
        return {}
    errors: list[str] = []
    readies, tips = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=["--headless=new", "--no-sandbox"])
        for _ in range(opens):
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("pageerror", lambda e: errors.append(str(e)))
            start = time.perf_counter()
            page.goto(path.resolve().as_uri(), wait_until="load")
            page.wait_for_function(READY, timeout=120_000, polling=20)
            readies.append(time.perf_counter() - start)
        n = page.evaluate("() => embproj.meta().n") if hovers else 0
        positions = page.evaluate(POSITIONS_JS, ["pca"]) if hovers else []
        for i in np.random.default_rng(0).choice(n, hovers, replace=False).tolist() if hovers else []:
            page.mouse.move(2, 2)
            page.wait_for_function("() => document.getElementById('ep-tooltip').hidden")
            x, y = positions[i]
            start = time.perf_counter()
            page.mouse.move(x, y)
            page.wait_for_function("() => !document.getElementById('ep-tooltip').hidden", timeout=30_000)
            tips.append(time.perf_counter() - start)
        browser.close()
    assert not errors, errors
    out = {"ready": float(np.median(readies))}
    if tips:
        out.update(tooltip=float(np.median(tips)), tooltip_max=max(tips))
    return out


# -- the report ----------------------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    n = args.points
    cases = [
        ("embproj", embproj_html, False),
        ("embproj, every label unique", embproj_html, True),
        ("naive Bokeh, numpy float64 columns", naive_html, False),
        ("naive Bokeh, Python lists", naive_lists_html, False),
    ]
    rows, timings = [], {}
    with tempfile.TemporaryDirectory() as folder:
        big_path = Path(folder) / "big.html"
        for name, make, unique in cases:
            small = make(table(SMALL, unique_labels=unique))  # first: the big one's time then has no imports
            start = time.perf_counter()
            big = make(table(n, unique_labels=unique))
            built = time.perf_counter() - start
            rows.append((name, size(big), size(small), per_point(big, small, n), built))
            print(
                f"{name}: {size(big) / 1e6:.2f} MB, {rows[-1][3]:.1f} B/point, built in {built:.1f} s",
                flush=True,
            )
            if name == "embproj":
                timings["columns"] = column_bytes(big, n)
                big_path.write_text(big, encoding="utf-8")
                timings.update(browser_times(big_path))
            elif name.startswith("naive Bokeh, numpy") and timings:
                big_path.write_text(big, encoding="utf-8")
                timings["naive_ready"] = browser_times(big_path, hovers=0)["ready"]
    text = results(n, rows, timings) + "\n" + neighbour_cost()
    print(text)
    if args.write:
        write(text)
    return 0 if rows[0][3] <= BUDGET else 1


def column_bytes(page: str, n: int) -> dict[str, float]:
    """Bytes a point of each column of the report's "points" source, as sent (gzip, then base64)."""
    import html
    import json

    match = re.search(
        r'<script type="application/json" id="(?!ep-manifest"|ep-data")[^"]+">\s*(.*?)\s*</script>',
        page,
        re.S,
    )
    doc = next(iter(json.loads(html.unescape(match.group(1))).values()))
    found = {}

    def walk(node):
        if isinstance(node, dict):
            if node.get("name") == "ColumnDataSource" and node.get("attributes", {}).get("name") == "points":
                for key, value in node["attributes"]["data"]["entries"]:
                    found[key] = len(json.dumps(value)) / n
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    return found


def neighbour_cost(n: int = 20_000) -> str:
    """What the click-for-neighbours table adds (it is embedded up to knn.TABLE_ROWS points)."""
    import embproj.neighbours.search as knn
    import embproj.project.metrics as metrics

    t = table(n)
    with_table = size(embproj_html(t))
    saved, knn.TABLE_ROWS = knn.TABLE_ROWS, 0
    try:
        without = size(embproj_html(t))
    finally:
        knn.TABLE_ROWS = saved
    return (
        f"The neighbour table (k = {metrics.K}, in its compact code, embedded up to {knn.TABLE_ROWS:,} points, "
        f"so not in the row above) adds {(with_table - without) / n:.1f} bytes a point ({n:,} points)."
    )


def results(n: int, rows, timings: dict) -> str:
    lines = [
        f"{n:,} points (PCA of a {DIMS}-dim embedding), a colour of {CLASSES} classes, a short label from "
        f"{WORDS:,} words; fixed size = the same report of {SMALL} points.",
        "",
        "| report | size | fixed size | bytes / point | built in |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, big, small, pp, built in rows:
        lines.append(f"| {name} | {big / 1e6:.2f} MB | {small / 1e6:.2f} MB | {pp:.1f} | {built:.1f} s |")
    lines += ["", f"Budget: ≤ {BUDGET} bytes a point for the embproj report (first row)."]
    if "columns" in timings:
        parts = " · ".join(f"{key} {b:.1f}" for key, b in timings["columns"].items())
        lines.append(
            f"Its columns, bytes a point as sent: {parts} (x, y float32; row int32; cat: the colour's int8 "
            "codes, which the class field shares; f0: the label's int16 codes into its word list; numpy "
            "arrays travel gzipped and base64-encoded)."
        )
    if "tooltip" in timings:
        lines.append(
            f"Headless Chromium (software WebGL), {n:,} points: the embproj report has painted and gone "
            f"idle {timings['ready']:.2f} s after navigation (the naive numpy file: "
            f"{timings['naive_ready']:.2f} s; median of 3 opens); the tooltip shows "
            f"{timings['tooltip'] * 1000:.0f} ms after the mouse moves onto a point (median of 5, max "
            f"{timings['tooltip_max'] * 1000:.0f} ms)."
        )
    return "\n".join(lines)


def write(text: str) -> None:
    path = ROOT / "benchmarks" / "RESULTS.md"
    page = path.read_text(encoding="utf-8")
    block = f"{START}\n{text}\n{END}"
    if START in page:
        page = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, page, flags=re.S)
    else:
        page = page.rstrip("\n") + f"\n\n## Report size and opening a big report\n\n{block}\n"
    path.write_text(page, encoding="utf-8")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
