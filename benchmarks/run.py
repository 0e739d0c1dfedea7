"""`make bench`: embproj against the scripts a user writes by hand, every run in a fresh process.

For each run: wall time, peak RSS (os.wait4 on that one child), the HTML's size, and a quality number beside
it, trustworthiness (k=10) of the 2-D coordinates against the input vectors. Runs of the two tools alternate,
so the noise of a shared machine falls on both; the table shows the median. The UMAP rows use a numba cache
folder made for this run: "cold" is the first run into the empty folder (what a user's very first run costs),
"warm" the runs after it. The table is printed and replaces the results section of benchmarks/RESULTS.md.

  python benchmarks/run.py              # digits (1,797 x 64): UMAP and t-SNE, 3 runs each
  python benchmarks/run.py --repeat 5   # more runs per row
  python benchmarks/run.py --large      # also t-SNE on 50,000 x 256 (scikit-learn's TSNE takes many minutes)
  python benchmarks/run.py --scale      # instead: 100k and 1M rows of every row on the map (benchmarks/scale.py)
  python benchmarks/run.py --explain    # instead: clusters, labels and charts (benchmarks/explain.py)
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "benchmarks"
DIGITS = ROOT / "fixtures" / "digits.parquet"
RESULTS = HERE / "RESULTS.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"
PACKAGES = (
    "umap-learn",
    "pynndescent",
    "numba",
    "openTSNE",
    "scikit-learn",
    "bokeh",
    "numpy",
    "pandas",
    "pyarrow",
)
QUALITY_ROWS = 5_000  # trustworthiness is O(n^2) in memory: score a seeded sample of rows beyond this


@dataclass
class Row:
    case: str
    tool: str
    seconds: list[float] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)
    html_bytes: int = 0
    quality: float | None = None
    baseline: Row | None = None  # the hand-written row this one is compared with
    breakdown: dict[str, float] = field(default_factory=dict)  # seconds per stage, from the last run's --json


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per row (default 3)")
    parser.add_argument("--large", action="store_true", help="also t-SNE on a generated 50,000 x 256 table")
    parser.add_argument("--no-write", action="store_true", help=f"print only, leave {RESULTS.name} alone")
    parser.add_argument("--scale", action="store_true", help="instead, the large tables (benchmarks/scale.py)")
    parser.add_argument("--explain", action="store_true", help="instead, clusters and charts (benchmarks/explain.py)")
    args = parser.parse_args(argv)
    if args.scale:
        sys.path.insert(0, str(HERE))
        from scale import main as scale

        return scale(["--no-write"] if args.no_write else [])
    if args.explain:
        sys.path.insert(0, str(HERE))
        from explain import main as explain

        return explain(["--no-write"] if args.no_write else [])
    if not DIGITS.exists():
        sys.exit(f"{DIGITS} is missing: run `make fixtures/digits.parquet` (or `make bench`, which makes it)")
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="embproj-bench-") as tmp:
        work = Path(tmp)
        env = _env(work / "xdg-cache")  # an empty numba cache for embproj: the first UMAP run is the cold one
        rows = umap_rows(DIGITS, work, env, args.repeat)
        rows += tsne_rows(DIGITS, work, env, args.repeat, "digits t-SNE")
        if args.large:
            large = make_large(work / "large.parquet")
            rows += tsne_rows(large, work, env, 1, "50,000 x 256 t-SNE", max_points=50_000)
    report = render(rows, args.repeat, load_before)
    print(report)
    if not args.no_write:
        write_results(report)
        print(f"\nwrote the results section of {RESULTS.relative_to(ROOT)}")


# -- the cases -----------------------------------------------------------------------------------------------


def umap_rows(data: Path, work: Path, env: dict, repeat: int) -> list[Row]:
    case = "digits UMAP"
    hand = Row(case, "hand-written umap-learn")
    cold = Row(case, "embproj, cold numba cache", baseline=hand)
    warm = Row(case, "embproj, warm numba cache", baseline=hand)
    _measure(cold, _embproj_cmd(data, work / "cold.html", "umap"), env)
    for _ in range(repeat):
        _measure(hand, _script_cmd("handwritten_umap.py", data, work / "hand-umap.html"), env)
        _measure(warm, _embproj_cmd(data, work / "warm.html", "umap"), env)
    reference = _vectors(data)
    hand.quality = _trust(reference, np.load(work / "hand-umap.npy"))
    xy = _embproj_coords(data, work / "coords-umap.html", "umap", env)
    warm.quality = cold.quality = _trust(reference, xy)
    return [hand, cold, warm]


def tsne_rows(data: Path, work: Path, env: dict, repeat: int, case: str, max_points: int | None = None) -> list[Row]:
    hand = Row(case, "hand-written scikit-learn TSNE")
    ours = Row(case, "embproj (openTSNE)", baseline=hand)
    extra = ["--max-points", str(max_points)] if max_points else []
    for _ in range(repeat):
        _measure(hand, _script_cmd("handwritten_tsne.py", data, work / "hand-tsne.html"), env)
        _measure(ours, _embproj_cmd(data, work / "tsne.html", "tsne", extra), env)
    reference = _vectors(data)
    hand.quality = _trust(reference, np.load(work / "hand-tsne.npy"))
    xy = _embproj_coords(data, work / "coords-tsne.html", "tsne", env, max_points)
    ours.quality = _trust(reference, xy)
    return [hand, ours]


def make_large(path: Path, n: int = 50_000, dims: int = 256, classes: int = 20, seed: int = 0) -> Path:
    """Gaussian clusters as an embedding table: a list<float32> column `embedding` and a text `label`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    labels = rng.integers(classes, size=n)
    X = (rng.normal(scale=3.0, size=(classes, dims))[labels] + rng.normal(size=(n, dims))).astype(np.float32)
    offsets = pa.array(np.arange(0, n * dims + 1, dims, dtype=np.int32))
    vectors = pa.ListArray.from_arrays(offsets, pa.array(X.ravel()))
    pq.write_table(pa.table({"label": pa.array([f"c{k}" for k in labels]), "embedding": vectors}), path)
    return path


# -- running one process -------------------------------------------------------------------------------------


def _measure(row: Row, cmd: list[str], env: dict) -> None:
    """One timed run; the HTML's path is the command's last path argument. embproj runs print their `--json`
    summary: its stage seconds make the row's breakdown."""
    seconds, rss, out = run_child(cmd, env)
    if "--json" in cmd:
        row.breakdown = {**json.loads(out)["seconds"], "wall": seconds}
    row.seconds.append(seconds)
    row.rss.append(rss)
    row.html_bytes = Path(next(a for a in reversed(cmd) if a.endswith(".html"))).stat().st_size
    print(f"  {row.case:<20} {row.tool:<32} {seconds:7.2f} s {rss / 2**20:7.0f} MB", flush=True)


def run_child(cmd: list[str], env: dict) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in bytes (the largest of the process and the children it waited for) and the
    stdout of one fresh process."""
    import time

    with tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err.read().decode(errors='replace')}")
        out.seek(0)
        printed = out.read().decode(errors="replace")
    return seconds, usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024), printed


def _env(cache_home: Path) -> dict:
    env = dict(os.environ)
    env.pop("NUMBA_CACHE_DIR", None)  # else embproj's kernels (and pynndescent's) would use the user's folder
    env.pop("EMBPROJ_NO_NUMBA_CACHE", None)
    env.pop("EMBPROJ_NO_FAST", None)  # every speed path on, as a user runs it
    env["XDG_CACHE_HOME"] = str(cache_home)
    return env


def _embproj_cmd(data: Path, out: Path, algo: str, extra: list[str] = ()) -> list[str]:
    script = Path(sys.executable).with_name("embproj")
    head = [str(script)] if script.exists() else [sys.executable, "-m", "embproj"]
    # --no-cache: every run computes its map (the projection cache would answer the runs after the first)
    return [*head, "project", str(data), "--algo", algo, "-o", str(out), "-q", "--json", "--no-cache", *extra]


def _script_cmd(script: str, data: Path, out: Path) -> list[str]:
    return [sys.executable, str(HERE / script), str(data), str(out)]


def _embproj_coords(data: Path, out: Path, algo: str, env: dict, max_points: int | None = None) -> np.ndarray:
    """The same pipeline through the Python API, for its coordinates (same seed: the same layout, tested)."""
    cmd = [sys.executable, str(HERE / "embproj_coords.py"), str(data), str(out), algo]
    run_child(cmd + ([str(max_points)] if max_points else []), env)
    return np.load(out.with_suffix(".npy"))


# -- quality -------------------------------------------------------------------------------------------------


def _vectors(data: Path) -> np.ndarray:
    import pandas as pd

    df = pd.read_parquet(data)
    if "embedding" in df.columns:
        return np.vstack(df["embedding"].to_numpy()).astype(np.float64)
    return df[[c for c in df.columns if c.startswith("pixel_")]].to_numpy(np.float64)


def _trust(X: np.ndarray, Y: np.ndarray) -> float:
    from sklearn.manifold import trustworthiness

    if len(Y) != len(X):
        raise SystemExit(f"got {len(Y)} coordinates for {len(X)} rows: rows were sampled out or dropped")
    if len(X) > QUALITY_ROWS:
        keep = np.sort(np.random.default_rng(0).choice(len(X), QUALITY_ROWS, replace=False))
        X, Y = X[keep], Y[keep]
    return float(trustworthiness(X, Y, n_neighbors=10))


# -- the report ----------------------------------------------------------------------------------------------


def render(rows: list[Row], repeat: int, load_before: float) -> str:
    versions = ", ".join(f"{p} {_version(p)}" for p in PACKAGES)
    lines = [
        f"Measured {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} by `make bench` "
        f"(`python benchmarks/run.py`, {repeat} runs per row unless the row says otherwise).",
        "",
        f"- Machine: {machine()}; load average {load_before:.2f} before the runs.",
        f"- Versions: {versions}, Python {platform.python_version()}.",
        "- Wall: median of the fresh-process runs (min to max in brackets). The ratio divides medians; "
        "in brackets, the fastest runs (less exposed to other load). RSS: peak memory of the process (os.wait4).",
        "- Trustworthiness (k=10, scikit-learn) of each layout against the input vectors (1 is best).",
        "",
        "| case | tool | runs | wall s | vs hand-written | peak RSS MB | HTML MB | trustworthiness |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        med = statistics.median(r.seconds)
        spread = f" ({min(r.seconds):.1f} to {max(r.seconds):.1f})" if len(r.seconds) > 1 else ""
        ratio = _ratio(r)
        quality = f"{r.quality:.3f}" if r.quality is not None else "n/a"
        rss = max(r.rss) / 2**20
        lines.append(
            f"| {r.case} | {r.tool} | {len(r.seconds)} | {med:.2f}{spread} | {ratio} | {rss:.0f} "
            f"| {r.html_bytes / 1e6:.2f} | {quality} |"
        )
    lines += [
        "",
        "Seconds per stage of embproj's last run of each row, from its `--json` (a stage includes the imports it "
        "triggers; what is left of the wall time is Python's start-up and the command line's imports):",
        "",
    ]
    for r in rows:
        if r.breakdown:
            wall = r.breakdown.get("wall", 0.0)
            parts = " · ".join(f"{k} {v:.2f}" for k, v in r.breakdown.items() if v >= 0.005 and k != "wall")
            lines.append(f"- {r.case}, {r.tool}: {parts}; wall {wall:.2f}.")
    return "\n".join(lines)


def _ratio(r: Row) -> str:
    if r.baseline is None:
        return "1"
    text = f"{statistics.median(r.seconds) / statistics.median(r.baseline.seconds):.2f}x"
    if len(r.seconds) > 1 and len(r.baseline.seconds) > 1:
        text += f" ({min(r.seconds) / min(r.baseline.seconds):.2f}x)"
    return text


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    memory = ""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
        memory = f", {kb / 2**20:.0f} GB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    return f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} logical cores{memory}"


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "absent"


def write_results(report: str) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else f"# Benchmarks\n\n## Results\n\n{START}\n{END}\n"
    if START not in text or END not in text:
        text = text.rstrip() + f"\n\n## Results\n\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    RESULTS.write_text(f"{head}{START}\n{report}\n{END}{tail}")


if __name__ == "__main__":
    main()
