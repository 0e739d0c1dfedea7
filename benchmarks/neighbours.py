"""What the click-for-neighbours table costs at 1,000,000 rows × 128 dims (20 Gaussian blobs, benchmarks/scale.py's
data): a PCA report of every row with the default 10 neighbours (the cell search over every row, neighbours/search.py)
beside the
same report with `--neighbours 0`. One fresh process each (wall time and peak RSS as scale.py measures them),
the neighbours stage's seconds, the search's measured recall and the table's bytes from `--json`.

    .venv/bin/python benchmarks/neighbours.py [--rows 1000000] [--write]

`--write` puts the table into benchmarks/RESULTS.md between the neighbours markers.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from scale import DATA, embproj, make_table  # noqa: E402

START, END = "<!-- neighbours:start -->", "<!-- neighbours:end -->"


def measure(rows: int) -> list[str]:
    data = make_table(DATA / ("blobs-1m.parquet" if rows == 1_000_000 else f"blobs-{rows}.parquet"), rows)
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `python benchmarks/neighbours.py`; "
        f"load average {os.getloadavg()[0]:.2f} before the runs. {rows:,} rows × 128 dims, `--algo pca "
        "--max-points all`, a fresh process each.",
        "",
        "| neighbours | wall s | neighbours stage s | peak RSS MB | search | recall | table | file |",
        "|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for k in (10, 0):
        out = DATA / f"neighbours-{rows}-nn{k}.html"
        seconds, rss, summary = embproj(data, "pca", out, "--neighbours", str(k))
        table = summary["neighbours"].get("table", {})
        found = summary["neighbours"].get("original", {})
        search = "" if not found else "exact" if found.get("exact") else "cells"
        per_point = f"{table['bytes'] / 1e6:.1f} MB, {table['per_point']:.1f} B a point" if "bytes" in table else "—"
        lines.append(
            f"| {k} | {seconds:.1f} | {summary['seconds'].get('neighbours', 0):.1f} | {rss / 2**20:.0f} | {search} "
            f"| {found.get('recall', '')} | {per_point} | {summary['bytes'] / 1e6:.1f} MB |"
        )
        print(lines[-1], flush=True)
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    text = "\n".join(measure(args.rows))
    print(text)
    if args.write:
        path = ROOT / "benchmarks" / "RESULTS.md"
        page, block = path.read_text(encoding="utf-8"), f"{START}\n{text}\n{END}"
        if START in page:
            page = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, page, flags=re.S)
        else:
            page += f"\n{block}\n"
        path.write_text(page, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
