"""What the lenses (issue 29) cost and what they find, on the digits.

1. The cost: `embproj project fixtures/digits.parquet --algo umap --no-cache` with and without `--no-lenses`, fresh
   processes alternating, the median wall time of each, the lenses stage, the report stage and the page's bytes.
2. What label agreement finds: the digits with 5% of the labels changed to another class at random (seeds 0, 1,
   2; tests/test_lenses.py's `noisy_digits`), a PCA report each (the suspects come from the original space's graph,
   whatever the map): of the first (changed count) suspects, the share that are changed rows.
3. Map trust: the UMAP map's mean trust beside the kNN recall@10 the header reports, from the runs of 1.

    python benchmarks/lenses.py [--repeat 5] [--no-write]

Writes its section of benchmarks/RESULTS.md between the lenses markers.
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

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
START, END = "<!-- lenses:start -->", "<!-- lenses:end -->"
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def embproj(*args: str) -> tuple[float, dict]:
    """(wall seconds, --json) of one fresh `embproj project` process."""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "embproj", "project", *args, "-q", "--json"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    return time.perf_counter() - start, json.loads(out)


def cost(digits: Path, work: Path, repeat: int) -> dict:
    runs: dict[str, list] = {"with": [], "without": []}
    extra = {"with": [], "without": ["--no-lenses"]}
    for k in range(repeat):
        for case in ("with", "without") if k % 2 == 0 else ("without", "with"):
            out = work / f"{case}.html"
            wall, summary = embproj(str(digits), "--algo", "umap", "--no-cache", "-o", str(out), *extra[case])
            runs[case].append((wall, summary))
            print(f"  digits UMAP, {case} lenses: {wall:.2f} s", flush=True)
    found = {}
    for case, done in runs.items():
        walls = [w for w, _ in done]
        found[case] = {
            "wall": statistics.median(walls), "min": min(walls), "max": max(walls),
            "lenses": statistics.median(s["seconds"].get("lenses", 0.0) for _, s in done),
            "report": statistics.median(s["seconds"]["report"] for _, s in done),
            "bytes": done[-1][1]["bytes"], "last": done[-1][1],
        }  # fmt: skip
    return found


def suspects(digits: Path, work: Path, seeds=(0, 1, 2)) -> list[dict]:
    import pyarrow.parquet as pq
    from test_lenses import noisy_digits

    table, rows = pq.read_table(digits), []
    for seed in seeds:
        noisy, changed = noisy_digits(table, seed)
        pq.write_table(noisy, work / f"noisy{seed}.parquet")
        _, summary = embproj(str(work / f"noisy{seed}.parquet"), "--algo", "pca", "-o", str(work / "noisy.html"))
        labels = summary["labels"]
        first = {r["row"] for r in labels["rows"][: len(changed)]}
        found = len(first & set(changed.tolist()))
        rows.append({"seed": seed, "changed": len(changed), "found": found, "suspects": labels["suspects"],
                     "agreement": labels["agreement"]})  # fmt: skip
        print(f"  seed {seed}: {found} of the {len(changed)} changed rows among the first suspects", flush=True)
    return rows


def write(costs: dict, found: list[dict], repeat: int) -> str:
    with_, without = costs["with"], costs["without"]
    summary = with_["last"]
    trust, recall = summary["trust"]["umap"]["mean"], summary["algorithms"][0]["metrics"]["knn_recall@10"]
    lines = [
        f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC by `python benchmarks/lenses.py`"
        f" on {os.cpu_count()} cores (shared; load average {os.getloadavg()[0]:.2f} at the end).",
        "",
        f"The cost on the digits (UMAP, `--no-cache`, fresh processes alternating, median of {repeat}; min to max in "
        "brackets):",
        "",
        "| run | wall s | lenses stage s | report stage s | page |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, c in (("with the lenses (default)", with_), ("`--no-lenses`", without)):
        lines.append(f"| {name} | {c['wall']:.2f} ({c['min']:.2f} to {c['max']:.2f}) | {c['lenses']:.3f} | "
                     f"{c['report']:.2f} | {c['bytes'] / 1e6:.2f} MB |")  # fmt: skip
    lines += [
        "",
        f"The lenses add {with_['wall'] / without['wall'] - 1:+.1%} to the median wall time (the budget is +10%): "
        f"their stage {with_['lenses'] * 1000:.0f} ms, the report stage {with_['report'] - without['report']:+.2f} s "
        f"(the colour choices, the suspects' table, the image layer), the page "
        f"{(with_['bytes'] - without['bytes']) / 1e3:+.0f} kB. The UMAP map's mean trust {trust:.4f}, its kNN "
        f"recall@10 {recall:.4f}.",
        "",
        "Label agreement on the digits with 5% of the labels changed to another class (PCA report; the suspects "
        "come from the original space's neighbours):",
        "",
        "| seed | changed rows | of them among the first (changed count) suspects | suspects in all | agreement |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in found:
        lines.append(f"| {r['seed']} | {r['changed']} | {r['found']} ({r['found'] / r['changed']:.0%}) | "
                     f"{r['suspects']} | {r['agreement']:.3f} |")  # fmt: skip
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    digits = ROOT / "fixtures" / "digits.parquet"
    if not digits.exists():
        sys.exit(f"{digits} is missing: run `make fixtures/digits.parquet`")
    with tempfile.TemporaryDirectory(prefix="embproj-lenses-") as tmp:
        work = Path(tmp)
        print("1. the cost on the digits", flush=True)
        costs = cost(digits, work, args.repeat)
        print("2. the labels changed on purpose", flush=True)
        found = suspects(digits, work)
    text = write(costs, found, args.repeat)
    print("\n" + text)
    if not args.no_write:
        results = RESULTS.read_text(encoding="utf-8")
        block = f"{START}\n{text}\n{END}"
        if START in results:
            head, _, rest = results.partition(START)
            results = head + block + rest.partition(END)[2]
        else:
            results = results.rstrip("\n") + "\n\n## The lenses (issue 29)\n\n" + block + "\n"
        RESULTS.write_text(results, encoding="utf-8")
        print(f"\nwrote the lenses section of {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
