"""embproj at this checkout against embproj at another commit, on the large tables of benchmarks/scale.py: the same
command from each, fresh processes taking turns (before, now, before, now, …) so that a noisy machine's swings fall
on both sides alike. Wall time, peak RSS and trustworthiness (k=10, the same seeded 3,000 rows) per run, and the
ratio of the medians.

  python benchmarks/against.py 4c5d278                      # 100k UMAP and 1M PCA, two turns each
  python benchmarks/against.py 4c5d278 --cases 1m-umap --repeat 1

The other commit is checked out into a temporary worktree and run with this venv (its dependencies must match).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import scale  # noqa: E402  (benchmarks/ is not a package)

CASES = {  # name: (rows, algo, extra options)
    "100k-umap": (100_000, "umap", ()),
    "1m-pca": (1_000_000, "pca", ("--no-metrics",)),
    "1m-umap": (1_000_000, "umap", ()),
}


def one(code: Path, data: Path, algo: str, extra: tuple[str, ...], work: Path) -> tuple[float, float, float]:
    """(wall s, peak RSS MB, trustworthiness) of one fresh `embproj project` run of the code at `code`."""
    os.environ["PYTHONPATH"] = str(code)
    try:
        seconds, rss, _ = scale.embproj(data, algo, work / "report.html", *extra)
    finally:
        del os.environ["PYTHONPATH"]
    return seconds, rss / 2**20, scale.trust(data, scale.coords_of(work / "report.parquet", algo))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", help="the commit to measure against")
    parser.add_argument("--cases", nargs="+", choices=tuple(CASES), default=["100k-umap", "1m-pca"])
    parser.add_argument("--repeat", type=int, default=2, help="turns per side (default 2)")
    args = parser.parse_args(argv)
    root = HERE.parent
    with tempfile.TemporaryDirectory(prefix="embproj-against-") as tmp:
        before, work = Path(tmp) / "before", Path(tmp)
        subprocess.run(["git", "-C", str(root), "worktree", "add", "-q", "--detach", str(before), args.rev], check=True)
        try:
            when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
            print(f"against {args.rev}, {when}, load average {os.getloadavg()[0]:.2f} before the runs; "
                  f"{args.repeat} turns a side, fresh processes taking turns")  # fmt: skip
            print("\n| case | commit | wall s (each) | median | ratio | peak RSS MB | trustworthiness |")
            print("|---|---|---|---:|---:|---:|---:|")
            for case in args.cases:
                rows, algo, extra = CASES[case]
                data = scale.make_table(scale.DATA / f"blobs-{'1m' if rows == 1_000_000 else '100k'}.parquet", rows)
                runs: dict[str, list[tuple[float, float, float]]] = {"before": [], "now": []}
                for _ in range(args.repeat):
                    for side, code in (("before", before), ("now", root)):
                        runs[side].append(one(code, data, algo, extra, work))
                base = statistics.median(s for s, _, _ in runs["before"])
                for side, label in (("before", args.rev), ("now", "this checkout")):
                    times = [s for s, _, _ in runs[side]]
                    med = statistics.median(times)
                    print(f"| {case} | {label} | {' · '.join(f'{s:.1f}' for s in times)} | {med:.1f} | "
                          f"{med / base:.2f}× | {max(r for _, r, _ in runs[side]):.0f} | "
                          f"{statistics.median(t for _, _, t in runs[side]):.4f} |", flush=True)  # fmt: skip
        finally:
            subprocess.run(["git", "-C", str(root), "worktree", "remove", "--force", str(before)], check=False)


if __name__ == "__main__":
    main()
