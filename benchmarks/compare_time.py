"""`embproj compare` against one `embproj project` of the same rows (issue 28: within 2.5×), fresh processes as a
user runs them, alternating so that both meet the same load: BEFORE is fixtures/digits.parquet (1,797 rows, 64
pixel columns), AFTER the same rows (shuffled, matched by an "id" column) with 90 rows' pixels replaced by
another digit's. `project` with --no-cache; compare never uses the projection cache. umap-learn's kernels are
compiled once first (the numba cache is warm for both). Each row: the median of --repeat runs (min to max), the
ratio of the medians, and compare's seconds per stage from its --json.

  python benchmarks/compare_time.py [--no-write] [--repeat 3] [--algos umap,pca,tsne]
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
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
START, END = "<!-- compare-time:start -->", "<!-- compare-time:end -->"
sys.path[:0] = [str(ROOT), str(ROOT / "fixtures")]


def tables(folder: Path) -> tuple[Path, Path]:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from make_digits import digits_table

    table = digits_table()
    n = table.num_rows
    table = table.append_column("id", pa.array([f"d{i:04d}" for i in range(n)]))
    pixels = [c for c in table.column_names if c.startswith("pixel_")]
    X = np.column_stack([table.column(c).to_numpy() for c in pixels])
    target = np.asarray(table.column("target").to_pylist())
    rng = np.random.default_rng(0)
    Y = X.copy()
    for i in rng.choice(n, 90, replace=False):
        Y[i] = X[rng.choice(np.flatnonzero(target != target[i]))]
    order = rng.permutation(n)
    vectors = pa.array(list(Y[order].astype(np.float32)), type=pa.list_(pa.float32()))
    after = pa.table({"id": table.column("id").take(pa.array(order)), "embedding": vectors})
    pq.write_table(table, folder / "before.parquet")
    pq.write_table(after, folder / "after.parquet")
    return folder / "before.parquet", folder / "after.parquet"


def timed(args: list[str], cwd: Path) -> tuple[float, dict]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "embproj", *args], cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"embproj {' '.join(args)} failed:\n{done.stderr}")
    return seconds, json.loads(done.stdout)


def run(repeat: int, algos: list[str]) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        before, after = tables(folder)
        project = ["project", str(before), "--no-cache", "-q", "--json", "-o", "p.html"]
        compare = ["compare", str(before), str(after), "-q", "--json", "-o", "c.html"]
        timed([*project, "--algo", "umap"], folder)  # umap-learn's kernels compiled into the numba cache
        for algo in algos:
            times: dict[str, list[float]] = {"project": [], "compare": []}
            stages = {}
            for _ in range(repeat):
                times["project"].append(timed([*project, "--algo", algo], folder)[0])
                seconds, summary = timed([*compare, "--algo", algo], folder)
                times["compare"].append(seconds)
                stages = summary["seconds"]
            rows.append({"algo": algo, "times": times, "stages": stages, "rows": summary["compare"]["rows"]})
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| map | rows | `project` s | `compare` s | compare / project |", "|---|---:|---:|---:|---:|"]
    notes = []
    for r in rows:
        p, c = (statistics.median(r["times"][k]) for k in ("project", "compare"))
        spread = {k: f"{min(v):.1f} to {max(v):.1f}" for k, v in r["times"].items()}
        lines.append(
            f"| {r['algo']} | {r['rows']:,} | {p:.1f} ({spread['project']}) | {c:.1f} ({spread['compare']}) | "
            f"{c / p:.2f}× |"
        )
        notes.append(f"- {r['algo']}, compare's stages: " + " · ".join(f"{k} {v:.2f}" for k, v in r["stages"].items()))
    return "\n".join(lines + [""] + notes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--algos", default="umap,pca,tsne")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    rows = run(args.repeat, args.algos.split(","))
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = (f"Measured {when} by `python benchmarks/compare_time.py` ({args.repeat} runs each, alternating; load "
            f"average {load:.1f} before the runs, on a machine shared with other work).\n\n{table(rows)}")  # fmt: skip
    print(text)
    if args.no_write:
        return
    block = f"{START}\n{text}\n{END}"
    old = RESULTS.read_text(encoding="utf-8")
    if START in old:
        new = old[: old.index(START)] + block + old[old.index(END) + len(END) :]
    else:
        new = old.rstrip("\n") + "\n\n### Its time against one `project` run of the same rows\n\n" + block + "\n"
    RESULTS.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    main()
