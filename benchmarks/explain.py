"""`make bench BENCH_ARGS=--explain`: what the map's explanations (issue 16) cost and how well they find classes.

1. Which space to cluster: HDBSCAN on the UMAP map against HDBSCAN on the pre-reduced embedding (PCA to
   --max-dims 50, as UMAP gets it), on the digits and on a text-like table (fixtures/make_topics.py, 3,000
   documents over 20 topics): adjusted Rand index against the true classes (noise counted as a class of its own),
   the noise share, and seconds. The same min cluster size and min samples in both spaces; for the embedding also
   the best of 0.5×, 1× and 2× that size, so that the choice does not rest on one setting.
2. The cost: `embproj project fixtures/digits.parquet --algo umap --no-cache` with and without clusters, labels
   and charts (`--clusters none --charts ''`), fresh processes alternating, the median wall time of each.
3. The page at 100,000 points with clusters, density contours and 6 charts, in headless Chromium: first paint
   (navigation to the page's ready mark and two frames), a hover (mouse move to the tooltip shown) and a brush
   on a histogram (mouse up to the map's selection set and two frames), each the median of 3.

  python benchmarks/explain.py [--no-write] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "benchmarks"
RESULTS = HERE / "RESULTS.md"
START, END = "<!-- explain:start -->", "<!-- explain:end -->"
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "fixtures")]


# -- 1. the clustering space ---------------------------------------------------------------------------------


def cluster_space(name: str, data: Path, truth_column: str) -> list[dict]:
    import pyarrow.parquet as pq
    from sklearn.decomposition import PCA
    from sklearn.metrics import adjusted_rand_score

    from embproj.options import Options
    from embproj.pipeline import run
    from embproj.structure.clusters import cluster, default_min_cluster_size

    result = run(Options(data=data, algo="umap", metrics=False, charts=(), clusters="none"))
    xy = result.projections[0].xy
    table = pq.read_table(data)
    truth = np.asarray(table.column(truth_column).to_pylist(), dtype=object)
    X = _vectors(table, result.plan)
    X = PCA(n_components=min(50, X.shape[1]), random_state=0).fit_transform(X).astype(np.float32)
    size = default_min_cluster_size(len(xy))
    cluster(xy[:50], 5, seed=0)  # scikit-learn's HDBSCAN imported and warmed up before the timed fits
    rows = []
    for space, points, sizes in (
        ("UMAP map (2-D)", xy, (size,)),
        ("embedding, PCA to 50", X, (size // 2, size, size * 2)),
    ):
        for s in sizes:
            start = time.perf_counter()
            codes, _ = cluster(points, s, seed=0)
            seconds = time.perf_counter() - start
            rows.append({"table": name, "space": space, "min_cluster_size": s, "seconds": seconds,
                         "ari": adjusted_rand_score(truth, codes), "clusters": int(codes.max()) + 1,
                         "noise": float((codes < 0).mean()), "classes": len(set(truth))})  # fmt: skip
            print(f"  {name:<8} {space:<22} size {s:>4}: ARI {rows[-1]['ari']:.3f}, {rows[-1]['clusters']} clusters, "
                  f"{rows[-1]['noise']:.0%} noise, {seconds:.2f} s", flush=True)  # fmt: skip
    return rows


def _vectors(table, plan) -> np.ndarray:
    """The plan's embedding as a float32 matrix: one column of vectors, or one numeric column per dimension."""
    import pyarrow as pa

    columns = plan.embedding.columns
    first = table.column(columns[0])
    if len(columns) == 1 and (pa.types.is_list(first.type) or pa.types.is_fixed_size_list(first.type)):
        return np.asarray(first.to_pylist(), dtype=np.float32)
    return np.column_stack([table.column(c).to_numpy() for c in columns]).astype(np.float32)


# -- 2. the cost ---------------------------------------------------------------------------------------------


def cost(digits: Path, work: Path, repeat: int) -> dict:
    runs: dict[str, list] = {"with": [], "without": []}
    repeat = max(repeat, 5)
    extra = {"with": [], "without": ["--clusters", "none", "--charts", ""]}
    for k in range(repeat):
        for case in ("with", "without") if k % 2 == 0 else ("without", "with"):
            cmd = [sys.executable, "-m", "embproj", "project", str(digits), "--algo", "umap", "--no-cache", "-q",
                   "--json", "-o", str(work / f"{case}.html"), *extra[case]]  # fmt: skip
            start = time.perf_counter()
            out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
            wall = time.perf_counter() - start
            runs[case].append((wall, json.loads(out)["seconds"]))
            print(f"  digits UMAP, {case} clusters + charts: {wall:.2f} s", flush=True)
    out: dict = {"runs": repeat}
    for case, done in runs.items():
        walls = [w for w, _ in done]
        last = done[-1][1]
        # what clustering adds is in the structure and report stages: the other stages do the same work either way
        out[case] = {"wall": statistics.median(walls), "min": min(walls), "max": max(walls),
                     "structure": statistics.median(s.get("structure", 0.0) for _, s in done),
                     "report": statistics.median(s["report"] for _, s in done), "stages": last,
                     "added": statistics.median(s.get("structure", 0.0) + s["report"] for _, s in done)}  # fmt: skip
    return out


# -- 3. the page at 100,000 points ---------------------------------------------------------------------------


def large_table(path: Path, n: int = 100_000, dims: int = 32, classes: int = 20, seed: int = 0) -> Path:
    """20 blobs in 32 dims with six columns to chart: the class, three numbers, two categories (one of 40
    values, so its bars fold)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    k = rng.integers(classes, size=n)
    centres = rng.normal(scale=4.0, size=(classes, dims))
    X = (centres[k] + rng.normal(size=(n, dims))).astype(np.float32)
    table = pa.table(
        {
            "label": [f"class {c}" for c in k],
            "score": rng.random(n),
            "length": rng.integers(5, 500, size=n),
            "weight": k + rng.normal(size=n),
            "source": [("web", "book", "news", "forum")[c % 4] for c in k],
            "author": [f"author {a}" for a in rng.integers(40, size=n)],
            "embedding": pa.FixedSizeListArray.from_arrays(pa.array(X.ravel()), dims),
        }
    )
    pq.write_table(table, path)
    return path


CHARTS = "label,score,length,weight,source,author"


def page_speed(work: Path, repeat: int) -> dict:
    from reportdata import page_data

    data = large_table(work / "large.parquet")
    out, bare = work / "large.html", work / "bare.html"
    head = [sys.executable, "-m", "embproj", "project", str(data), "--algo", "pca", "--max-points", "all",
            "--no-metrics", "--no-cache", "-q", "--json"]  # fmt: skip
    start = time.perf_counter()
    run = subprocess.run([*head, "-o", str(out), "--charts", CHARTS], cwd=ROOT, check=True, capture_output=True)
    made = time.perf_counter() - start
    summary = json.loads(run.stdout)
    subprocess.run([*head, "-o", str(bare), "--charts", "", "--clusters", "none"], cwd=ROOT, check=True,
                   capture_output=True)  # fmt: skip
    print(f"  100,000 points report: {made:.1f} s, {out.stat().st_size / 1e6:.1f} MB", flush=True)
    timings: dict[str, list[float]] = {}
    for _ in range(repeat):
        for name, report in (("full", out), ("bare", bare)):
            for key, value in _browse(report, brush=name == "full").items():
                timings.setdefault(f"{name} {key}", []).append(value)
        print("  " + ", ".join(f"{k} {v[-1]:.2f}" for k, v in timings.items()), flush=True)
    return {"n": summary["rows"]["plotted"], "made": made, "mb": out.stat().st_size / 1e6,
            "bare_mb": bare.stat().st_size / 1e6, "structure": summary["seconds"].get("structure"),
            "clusters": summary["clusters"]["found"], "charts": len(page_data(out.read_text())["charts"]),
            **{k: statistics.median(v) for k, v in timings.items()}}  # fmt: skip


TWO_FRAMES = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"


def _browse(report: Path, brush: bool) -> dict[str, float]:
    """First paint, a hover, and either a brush on the "score" histogram or (`brush` False: a page without charts)
    the same rows selected on the map from the page's script: what the map's redraw of such a selection costs."""
    from browserjs import FIGURE_VIEW_JS, POSITIONS_JS, find_chromium
    from playwright.sync_api import sync_playwright

    out = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), headless=True,
                                    args=["--headless=new", "--no-sandbox"])  # fmt: skip
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        requests = []
        page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("file:", "data:", "blob:")) else 0)
        page.goto(report.resolve().as_uri(), wait_until="commit")
        page.wait_for_function("() => document.documentElement.dataset.epReady === '1'", timeout=600_000)
        page.evaluate(TWO_FRAMES)
        out["paint"] = page.evaluate("() => performance.now()") / 1000
        positions = page.evaluate(POSITIONS_JS, ["pca"])
        x, y = positions[len(positions) // 2]
        page.mouse.move(5, 5)
        page.wait_for_timeout(300)
        start = time.perf_counter()
        page.mouse.move(x, y)
        page.wait_for_function("() => !document.getElementById('ep-tooltip').hidden", timeout=120_000, polling="raf")
        out["hover"] = time.perf_counter() - start
        page.mouse.move(5, 5)
        if brush:
            out["brush"], out["selected"] = _brush(page, FIGURE_VIEW_JS)
        else:
            start = time.perf_counter()  # 4 rows in 5: about as many as the brush selects on the full page
            page.evaluate("""() => { const s = Bokeh.documents[0].get_model_by_name('points'), r = [];
                for (let i = 0; i < s.data.row.length; i++) if (i % 5) r.push(i);
                s.selected.indices = r; }""")
            page.evaluate(TWO_FRAMES)
            out["select"] = time.perf_counter() - start
        browser.close()
    assert not requests, f"the page reached the network: {requests}"
    return out


def _brush(page, figure_js: str) -> tuple[float, float]:
    j = CHARTS.split(",").index("score")  # a histogram of uniform numbers: bins 3 to n-4 hold ~80% of the rows
    ends = page.evaluate(
        f"""([name]) => {{ {figure_js}
          const view = figureView(name); view.el.scrollIntoView({{block: 'center'}});
          const d = Bokeh.documents[0].get_model_by_name("chart_bars_{j}").data, n = d.left.length;
          return [clientXY(view, [d.left[3]], [1])[0], clientXY(view, [d.right[n - 4]], [1])[0]]; }}""",
        [f"chart_{j}"],
    )
    page.evaluate(TWO_FRAMES)
    page.mouse.move(*ends[0])
    page.mouse.down()
    page.mouse.move(*ends[1], steps=4)
    start = time.perf_counter()
    page.mouse.up()
    page.wait_for_function(
        "() => Bokeh.documents[0].get_model_by_name('points').selected.indices.length > 0", timeout=120_000
    )
    page.evaluate(TWO_FRAMES)
    seconds = time.perf_counter() - start
    share = page.evaluate("() => { const s = Bokeh.documents[0].get_model_by_name('points'); "
                          "return s.selected.indices.length / s.data.row.length; }")  # fmt: skip
    return seconds, share


# -- the table -----------------------------------------------------------------------------------------------


def write(space: list[dict], costs: dict, page: dict, repeat: int) -> str:
    with_, without = costs["with"], costs["without"]
    extra = with_["wall"] / without["wall"] - 1
    lines = [
        f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC by `python benchmarks/explain.py`"
        f" on {os.cpu_count()} cores (shared; load average {os.getloadavg()[0]:.2f} at the end).",
        "",
        "Which space HDBSCAN clusters (adjusted Rand index against the true classes, noise a class of its own; "
        "min samples 5; seconds of the HDBSCAN fit alone):",
        "",
        "| table | space | min cluster size | ARI | clusters (true classes) | noise | seconds |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in space:
        lines.append(f"| {r['table']} | {r['space']} | {r['min_cluster_size']} | {r['ari']:.3f} | "
                     f"{r['clusters']} ({r['classes']}) | {r['noise']:.0%} | {r['seconds']:.2f} |")  # fmt: skip
    lines += [
        "",
        f"The cost on the digits (UMAP, `--no-cache`, fresh processes, median of {costs['runs']}; min to max in "
        "brackets):",
        "",
        "| run | wall s | structure stage s | report stage s |",
        "|---|---:|---:|---:|",
        f"| with clusters, labels, contours and charts (default) | {with_['wall']:.2f} ({with_['min']:.2f} to "
        f"{with_['max']:.2f}) | {with_['structure']:.2f} | {with_['report']:.2f} |",
        f"| `--clusters none --charts ''` (density contours still made) | {without['wall']:.2f} ({without['min']:.2f} "
        f"to {without['max']:.2f}) | {without['structure']:.2f} | {without['report']:.2f} |",
        "",
        f"Clusters, labels and charts add {extra:+.1%} to the median wall time; in the stages that do the added work "
        f"(structure and report) they add {with_['added'] - without['added']:.2f} s, "
        f"{(with_['added'] - without['added']) / without['wall']:+.1%} of the wall time without them (the budget is "
        "+15%). The other stages do the same work either way, so the wall times differ also by the machine's noise.",
        "",
        f"The page at {page['n']:,} points (PCA, {page['clusters']} clusters found on a seeded 10,000, density "
        f"contours, {page['charts']} charts), {page['mb']:.1f} MB, made in {page['made']:.1f} s (structure stage "
        f"{page['structure']:.2f} s), beside the same page without clusters and charts ({page['bare_mb']:.1f} MB); "
        f"headless Chromium with software WebGL (SwiftShader), median of {repeat}:",
        "",
        "| page | first paint s | hover s | a selection of 4 rows in 5 s |",
        "|---|---:|---:|---:|",
        f"| clusters, density, {page['charts']} charts | {page['full paint']:.2f} | {page['full hover']:.2f} | "
        f"{page['full brush']:.2f} (a brush on a histogram: {page['full selected']:.0%} of the rows) |",
        f"| `--clusters none --charts ''` | {page['bare paint']:.2f} | {page['bare hover']:.2f} | "
        f"{page['bare select']:.2f} (set from the page's script) |",
    ]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    digits = ROOT / "fixtures" / "digits.parquet"
    if not digits.exists():
        sys.exit(f"{digits} is missing: run `make fixtures/digits.parquet`")
    from make_topics import write_topics

    with tempfile.TemporaryDirectory(prefix="embproj-explain-") as tmp:
        work = Path(tmp)
        topics = write_topics(work / "topics.parquet", 3000, 20)
        print("1. the clustering space", flush=True)
        space = cluster_space("digits", digits, "target") + cluster_space("topics", topics, "topic")
        print("2. the cost on the digits", flush=True)
        costs = cost(digits, work, args.repeat)
        print("3. the page at 100,000 points", flush=True)
        page = page_speed(work, args.repeat)
    text = write(space, costs, page, args.repeat)
    print("\n" + text)
    if not args.no_write:
        results = RESULTS.read_text()
        head, _, rest = results.partition(START)
        _, _, tail = rest.partition(END)
        RESULTS.write_text(f"{head}{START}\n{text}\n{END}{tail}")
        print(f"\nwrote the explain section of {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
