"""What each speed path of embproj/fast/ gains: the same run with every path on, then with one path turned off
(EMBPROJ_NO_FAST=<path>), every run a fresh process, on the 100,000 × 128 blobs of scale.py (UMAP of every row:
fitted on 20,000, 80,000 placed). The UMAP stage is split where its rows start to be placed (the stage's first
tick), so that the stage at 1,000,000 rows (fitted on the same 20,000, 980,000 placed in the same batches) can be
estimated as the fit plus the placing scaled by rows.

  python benchmarks/fast_paths.py              # every path, written into RESULTS.md (~15 min on 2 cores)
  python benchmarks/fast_paths.py --no-write   # printed only
  python benchmarks/fast_paths.py --rows 300000 --paths umap_search --no-write   # one path, a larger table
  python benchmarks/fast_paths.py --alternate  # one process, one fit; placing with a path on and off, in turns

The fresh-process runs are exposed to the machine's load, which drifts over their minutes; `--alternate` places
the same rows into one fitted model with umap_transform and umap_kernels on and off in turns (both are read at
every batch), so that the load falls on both sides alike.

The kernel cache is a temporary folder (XDG_CACHE_HOME), filled by one small UMAP run first, as a user's
second run finds it. bokeh_ids is not a speed path (it makes a report made twice the same bytes); its cost is
the digits' report stage with it and without.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from scale import DATA, RESULTS, make_table, run, trust  # noqa: E402

START, END = "<!-- fast:start -->", "<!-- fast:end -->"
DIGITS = HERE.parent / "fixtures" / "digits.parquet"
SPEED_PATHS = ("umap_kernels", "umap_search", "umap_transform")
PLACED_100K, PLACED_1M = 80_000, 980_000


class Timing:
    """A pipeline reporter that keeps when each stage began, when its rows started to be placed (its first tick,
    given as the fit ends), and when it ended."""

    def __init__(self) -> None:
        self.stages: dict[str, list[float]] = {}

    def stage(self, name: str, total: int | None = None):
        from contextlib import contextmanager

        @contextmanager
        def timed():
            times = self.stages.setdefault(name, [time.perf_counter()])

            def tick(rows: int) -> None:
                if len(times) == 1:
                    times.append(time.perf_counter())

            yield tick
            times.append(time.perf_counter())

        return timed()

    def timed(self, name: str, seconds: float) -> None:
        pass

    def info(self, message: str) -> None:
        pass

    def warn(self, message: str) -> None:
        pass


def child(data: Path, algo: str, out: Path) -> None:
    """One run in this process; prints its facts as JSON, saves the coordinates to `out`."""
    from embproj.fast.status import status
    from embproj.options import Options
    from embproj.pipeline import run as run_pipeline

    timing = Timing()
    result = run_pipeline(Options(data=data, algo=algo, max_points=None, cache=False), reporter=timing)
    np.save(out, result.projections[0].xy)
    projecting = [times for label, times in timing.stages.items() if label.startswith("Projecting")]
    begun, *rest = projecting[0]
    facts = {"seconds": result.seconds, "fast": status(), "bytes": len(result.html.encode())}
    if len(rest) == 2:
        facts["fit"], facts["place"] = rest[0] - begun, rest[1] - rest[0]
    print(json.dumps(facts))


def one(data: Path, algo: str, out: Path, off: str | None) -> dict:
    env_off = {"EMBPROJ_NO_FAST": off} if off else {}
    os.environ.update(env_off)
    try:
        seconds, rss, printed = run([sys.executable, __file__, "--child", str(data), algo, str(out)])
    finally:
        for name in env_off:
            os.environ.pop(name)
    facts = json.loads(printed.strip().splitlines()[-1])
    return facts | {"wall": seconds, "rss": rss, "xy": np.load(out)}


def alternate(data: Path, rows: int = 40_000, rounds: int = 4) -> list[str]:
    """Placing `rows` rows into one model fitted on 20,000, a batch a thread as the pipeline does, with each of
    umap_transform and umap_kernels on and off in turns (on, off, then off, on: a load that drifts falls on both
    alike). Kernels off: umap-learn's own, compiled here once (a first, untimed round pays that), and one thread
    (they hold Python's lock)."""
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow.parquet as pq
    from sklearn.decomposition import PCA

    from embproj.neighbours.search import knn
    from embproj.options import Options
    from embproj.project.projectors import PLACE_BATCH, fit_map, fit_rows, neighbours_needed

    table = pq.read_table(data, columns=["embedding"])
    X = table.column("embedding").combine_chunks().flatten().to_numpy().reshape(table.num_rows, -1)
    X = PCA(50, random_state=0).fit_transform(X).astype(np.float32)
    fit = fit_rows(len(X), 20_000, 0)
    params = Options().params_for("umap")
    graph = knn(X[fit], neighbours_needed("umap", params, len(fit)), index=True)
    _, placer = fit_map(X[fit], "umap", params, 0, graph)
    rest = np.setdiff1d(np.arange(len(X)), fit)[:rows]
    batches = [rest[i : i + PLACE_BATCH] for i in range(0, len(rest), PLACE_BATCH)]

    def place() -> tuple[float, np.ndarray]:
        start = time.perf_counter()
        threads = placer.threads()
        with ThreadPoolExecutor(threads) as pool:
            xy = np.vstack(list(pool.map(lambda b: placer(X[b]), batches)))
        return time.perf_counter() - start, xy

    switches = {
        "umap_transform": {"EMBPROJ_NO_FAST": "umap_transform"},
        "umap_kernels": {"EMBPROJ_NO_NUMBA_CACHE": "1"},
    }
    seconds: dict[tuple[str, bool], list[float]] = {}
    for path, switch in switches.items():
        os.environ.update(switch)
        place()  # untimed: umap-learn's own kernels compile on first use
        for name in switch:
            os.environ.pop(name)
        _, on_xy = place()
        for turn in range(rounds):
            for off in (False, True) if turn % 2 == 0 else (True, False):
                os.environ.update(switch if off else {})
                took, xy = place()
                for name in switch if off else {}:
                    os.environ.pop(name)
                assert np.array_equal(xy, on_xy), f"{path} off placed the rows elsewhere"
                seconds.setdefault((path, off), []).append(took)
                print(path, "off" if off else "on", f"{took:.1f} s", flush=True)
    lines = [
        f"| path | placing {rows:,} rows into one fitted model (s, in the order run) | with it (median) "
        "| without it (median) | gain |",
        "|---|---|---:|---:|---:|",
    ]
    for path in switches:
        on, off = seconds[(path, False)], seconds[(path, True)]
        a, b = float(np.median(on)), float(np.median(off))
        lines.append(f"| {path} | {', '.join(f'{t:.1f}' for t in on)} with; {', '.join(f'{t:.1f}' for t in off)} "
                     f"without | {a:.1f} | {b:.1f} | {b - a:+.1f} s ({b / a:.2f}×) |")  # fmt: skip
    return lines


def estimate_1m(facts: dict, placed: int = PLACED_100K) -> float:
    return facts["fit"] + facts["place"] * PLACED_1M / placed


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the blobs table (default 100,000)")
    parser.add_argument("--paths", nargs="+", choices=SPEED_PATHS, default=SPEED_PATHS, help="paths to turn off")
    parser.add_argument("--alternate", action="store_true", help="one process: placing with paths on and off")
    args = parser.parse_args(argv)
    if args.child:
        data, algo, out = args.child
        return child(Path(data), algo, Path(out))
    if args.alternate:
        load = os.getloadavg()[0]
        lines = alternate(make_table(DATA / "blobs-100k.parquet", 100_000))
        print(f"load average {load:.2f} before, {os.getloadavg()[0]:.2f} after")
        print("\n".join(lines))
        return None
    load = os.getloadavg()[0]
    began = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    name = "blobs-100k.parquet" if args.rows == 100_000 else f"blobs-{args.rows}.parquet"
    data = make_table(DATA / name, args.rows)
    if not DIGITS.exists():  # as `make fixtures/digits.parquet` writes it
        run([sys.executable, str(DIGITS.with_name("make_digits.py")), str(DIGITS)])
    with tempfile.TemporaryDirectory(prefix="embproj-fast-") as tmp:
        work = Path(tmp)
        os.environ["XDG_CACHE_HOME"] = str(work / "cache")  # the kernel cache: empty, then filled by the digits
        os.environ["EMBPROJ_NO_CACHE"] = "1"
        cold = one(DIGITS, "umap", work / "cold.npy", None)
        print(f"kernel cache filled: digits UMAP {cold['wall']:.1f} s", flush=True)
        runs = {}
        for off in (None, *args.paths):
            runs[off] = one(data, "umap", work / f"{off}.npy", off)
            runs[off]["trust"] = trust(data, runs[off]["xy"])
            print(off or "every path on", {k: v for k, v in runs[off].items() if k != "xy"}, flush=True)
        ids = {off: one(DIGITS, "pca", work / f"ids-{off}.npy", off) for off in (None, "bokeh_ids")}
    lines = table(runs, ids, cold, args.rows)
    lines.insert(0, f"Measured {began} by `python benchmarks/fast_paths.py`; load average {load:.2f} before the runs "
                 f"and {os.getloadavg()[0]:.2f} after. Every run a fresh process.\n")  # fmt: skip
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_results(text)


def table(runs: dict, ids: dict, cold: dict, rows: int) -> list[str]:
    on = runs[None]
    lines = [
        "| path | case | with it | without it | gain | the same coordinates |",
        "|---|---|---:|---:|---:|---|",
    ]
    placed = rows - 20_000
    for path in (p for p in SPEED_PATHS if p in runs):
        off = runs[path]
        same = "yes, to the bit" if np.array_equal(off["xy"], on["xy"]) else "no"
        for case, a, b in (
            (f"{rows:,} rows UMAP, wall s (fresh process)", on["wall"], off["wall"]),
            ("fit s (20,000 rows)", on["fit"], off["fit"]),
            (f"placing s ({placed:,} rows)", on["place"], off["place"]),
            (
                f"1M UMAP, stage s (estimated: fit + placing × {PLACED_1M / placed:.2f})",
                estimate_1m(on, placed),
                estimate_1m(off, placed),
            ),
        ):
            lines.append(f"| {path} | {case} | {a:.1f} | {b:.1f} | {b - a:+.1f} s ({b / a:.2f}×) | {same} |")
        lines.append(f"| | trustworthiness (3,000 rows) | {on['trust']:.4f} | {off['trust']:.4f} | | |")
        lines.append(f"| | without it, `--json` said | | | | {off['fast'][path]} |")
    a, b = ids[None]["seconds"]["report"], ids["bokeh_ids"]["seconds"]["report"]
    lines.append(f"| bokeh_ids | digits PCA, report stage s | {a:.2f} | {b:.2f} | {b - a:+.2f} s | "
                 f"without it: {ids['bokeh_ids']['fast']['bokeh_ids']} |")  # fmt: skip
    lines.append("")
    lines.append(f"With every path on, `--json` said: {json.dumps(on['fast'])}. The kernel cache was filled by a "
                 f"digits UMAP run first ({cold['wall']:.1f} s, compiling the kernels once).")  # fmt: skip
    return lines


def write_results(report: str) -> None:
    text = RESULTS.read_text()
    if START in text:
        text = text[: text.index(START)] + f"{START}\n{report}\n{END}" + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip() + f"\n\n## The speed paths (embproj/fast/), each on and off\n\n{START}\n{report}\n{END}\n"
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
