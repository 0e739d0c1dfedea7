"""What a point costs in the page, column by column, on issue 30's table: an integer `id` 0..n-1, a label of 20
classes and a 128-dim embedding (20 Gaussian blobs, scale.py's make_table plus the id).

    .venv/bin/python benchmarks/bytes_a_point.py [--rows 100000] [--neighbours 0,10]

Each run is `embproj project DATA --algo pca -n all --no-cache` in a fresh process; the bytes a point are the
whole file's over the rows (BokehJS, ~1.5 MB, included), then each column of the points' source as sent (gzip +
base64), the neighbour table and the page's own JSON.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from scale import make_table as blobs  # noqa: E402

import reportdata  # noqa: E402 (the page's decoders live with the tests)


def measure(data: Path, out: Path, k: int) -> str:
    cmd = [sys.executable, "-m", "embproj", "project", str(data), "-o", str(out), "--algo", "pca", "-n", "all"]
    subprocess.run([*cmd, "--no-cache", "--neighbours", str(k), "-q"], check=True)
    page = out.read_text(encoding="utf-8")
    n = reportdata.page_data(page)["n"]
    sizes = {}
    for model in reportdata.models(page, "ColumnDataSource"):
        if model["attributes"].get("name") == "points":
            sizes = {key: len(json.dumps(v)) for key, v in model["attributes"]["data"]["entries"]}
    table = reportdata.TABLE.search(page)
    own = reportdata.PAGE_DATA.search(page)
    columns = " · ".join(f"{key} {size / n:.2f}" for key, size in sizes.items())
    return (
        f"k = {k}: {len(page) / 1e6:.2f} MB, {len(page) / n:.2f} B a point; the points' columns {columns} "
        f"(together {sum(sizes.values()) / n:.2f}); the neighbour table {len(table.group(1)) / n if table else 0:.2f}; "
        f"the page's JSON {len(own.group(1)) / n:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--neighbours", default="0,10", help="the k of each run, comma-separated")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data = blobs(Path(folder) / "blobs.parquet", args.rows, ids=True)
        for k in (int(v) for v in args.neighbours.split(",")):
            print(f"{args.rows:,} rows, " + measure(data, Path(folder) / "r.html", k), flush=True)


if __name__ == "__main__":
    main()
