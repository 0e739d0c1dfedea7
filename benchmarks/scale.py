"""`make bench BENCH_ARGS=--scale`: embproj at the sizes users have, beside the plain script, every run a fresh
process (wall time and peak RSS from os.wait4), with trustworthiness (k=10) on the same seeded 3,000 rows.

  python benchmarks/scale.py                  # 100k UMAP and the 1M runs (about an hour on 2 cores)
  python benchmarks/scale.py --only 100k      # one case: 100k, 1m-pca, 1m-umap, 1m-tsne, bytes
  python benchmarks/scale.py --plain-1m       # also the plain script on all 1M rows (stopped after an hour)
  python benchmarks/scale.py --only plain-1m  # the plain script on all 1M rows alone
  python benchmarks/scale.py --only sklearn-tsne  # scikit-learn's TSNE on 100k rows, scaled to 1M by n log n
  python benchmarks/scale.py --only dask      # --engine dask: the tables in 20 Parquet parts, a 2-worker LocalCluster

The data: 20 Gaussian blobs in 128 dims, float32, a text label (benchmarks/data/, made once, not committed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
RESULTS = HERE / "RESULTS.md"
START, END = "<!-- scale:start -->", "<!-- scale:end -->"
QUALITY_ROWS = 3_000


def make_table(path: Path, n: int, dims: int = 128, classes: int = 20, seed: int = 0, ids: bool = False) -> Path:
    """The blobs, written in slices of 100,000 rows (the generator never holds more); `ids`: with an integer `id`
    column 0..n-1 first (issue 30's table)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    centers = np.random.default_rng(seed + 1).normal(scale=3.0, size=(classes, dims))
    rng = np.random.default_rng(seed)
    writer = None
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        labels = rng.integers(classes, size=m)
        X = (centers[labels] + rng.normal(size=(m, dims))).astype(np.float32)
        vectors = pa.FixedSizeListArray.from_arrays(pa.array(X.ravel()), dims)
        table = pa.table({"label": pa.array([f"c{k}" for k in labels]), "embedding": vectors})
        if ids:
            table = table.add_column(0, "id", pa.array(np.arange(start, start + m)))
        writer = writer or pq.ParquetWriter(str(path), table.schema)
        writer.write_table(table)
    writer.close()
    return path


HOUR = 3600.0


def run(cmd: list[str], limit: float | None = None) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (bytes) and stdout of one fresh process. The peak is the process's own high-water
    mark (VmHWM, read until it exits): `ru_maxrss` would count this process's memory, which the child holds
    between fork and exec. A process still running after `limit` seconds is stopped: its stdout is then None."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, high_water(proc.pid))
            if limit is not None and time.perf_counter() - start > limit:
                proc.kill()
                proc.wait()
                return time.perf_counter() - start, peak, None  # type: ignore[return-value]
            time.sleep(0.05)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            err.seek(0)
            sys.exit(f"failed: {' '.join(cmd)}\n{err.read().decode(errors='replace')[-2000:]}")
        out.seek(0)
        return seconds, peak, out.read().decode(errors="replace")


def high_water(pid: int) -> int:
    """A live process's peak resident memory so far, in bytes (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def embproj(data: Path, algo: str, out: Path, *extra: str, cache: bool = False) -> tuple[float, int, dict]:
    cmd = [sys.executable, "-m", "embproj", "project", str(data), "--algo", algo, "--max-points", "all"]
    seconds, rss, printed = run([*cmd, "-o", str(out), "--coords-out", str(out.with_suffix(".parquet")), "-q",
                                 "--json", *([] if cache else ["--no-cache"]), *extra])  # fmt: skip
    return seconds, rss, json.loads(printed)


def trust(data: Path, coords: np.ndarray) -> float:
    """Trustworthiness on the same seeded 3,000 rows for every tool."""
    import pyarrow.parquet as pq
    from sklearn.manifold import trustworthiness

    table = pq.read_table(data, columns=["embedding"])
    rows = np.sort(np.random.default_rng(0).choice(table.num_rows, QUALITY_ROWS, replace=False))
    X = table.column("embedding").combine_chunks().take(rows).flatten().to_numpy().reshape(len(rows), -1)
    return float(trustworthiness(X, coords[rows], n_neighbors=10))


def coords_of(path: Path, algo: str) -> np.ndarray:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    order = np.argsort(table.column("row").to_numpy())
    return np.column_stack([table.column(f"{algo}_x").to_numpy(), table.column(f"{algo}_y").to_numpy()])[order]


def case_100k(work: Path) -> list[str]:
    data = make_table(DATA / "blobs-100k.parquet", 100_000)
    plain_s, plain_rss, _ = run([sys.executable, str(HERE / "plain_umap.py"), str(data), str(work / "plain.npy")])
    ours_s, ours_rss, summary = embproj(data, "umap", work / "umap100k.html")
    plain_t, ours_t = (
        trust(data, np.load(work / "plain.npy")),
        trust(data, coords_of(work / "umap100k.parquet", "umap")),
    )
    stages = " · ".join(f"{k} {v:.1f}" for k, v in summary["seconds"].items() if v >= 0.05)
    return [
        f"| 100,000 × 128 UMAP, every row | plain script (PCA to 50, `umap.UMAP(random_state=0)`) | {plain_s:.1f} "
        f"| 1 | {plain_rss / 2**20:.0f} | {plain_t:.4f} |",
        f"| 100,000 × 128 UMAP, every row | embproj (fit on 20,000, 80,000 placed) | {ours_s:.1f} "
        f"| {ours_s / plain_s:.2f}× | {ours_rss / 2**20:.0f} | {ours_t:.4f} |",
        f"|  | embproj's stages (s): {stages} | | | | |",
    ]


def case_1m(work: Path, algo: str, plain: bool = False) -> list[str]:
    data = make_table(DATA / "blobs-1m.parquet", 1_000_000)
    os.environ["XDG_CACHE_HOME"] = str(work / "cache")  # a cache of this run's own: the first run is a miss
    extra = ["--no-metrics"] if algo == "pca" else []
    ours_s, ours_rss, summary = embproj(data, algo, work / f"{algo}1m.html", *extra, cache=True)
    quality = trust(data, coords_of(work / f"{algo}1m.parquet", algo))
    stages = " · ".join(f"{k} {v:.1f}" for k, v in summary["seconds"].items() if v >= 0.05)
    lines = [
        f"| 1,000,000 × 128 {algo.upper() if algo != 'tsne' else 't-SNE'}, every row | embproj | {ours_s:.1f} | "
        f"| {ours_rss / 2**20:.0f} | {quality:.4f} |",
        f"|  | embproj's stages (s): {stages} | | | | |",
    ]
    if algo == "umap":  # the same run with only the title changed: the map from the projection cache
        hit_s, hit_rss, hit = embproj(data, algo, work / "hit.html", *extra, "--title", "again", cache=True)
        assert hit["algorithms"][0]["cache"] == "hit", hit["algorithms"]
        lines.append(f"| 1,000,000 × 128 UMAP, every row, again with a new title | embproj, projection cache hit "
                     f"| {hit_s:.1f} | | {hit_rss / 2**20:.0f} | |")  # fmt: skip
    if plain and algo == "umap":
        lines += case_plain_1m(work, ours_s)
    return lines


def case_plain_1m(work: Path, ours_s: float | None = None) -> list[str]:
    """The plain UMAP script on all 1M rows, stopped after an hour (the issue asks for its time if it finishes
    within one). `ours_s`: embproj's time on the same file in this run, for the ratio."""
    data = make_table(DATA / "blobs-1m.parquet", 1_000_000)
    cmd = [sys.executable, str(HERE / "plain_umap.py"), str(data), str(work / "plain1m.npy")]
    plain_s, plain_rss, printed = run(cmd, limit=HOUR)
    tool = "plain script (PCA to 50, `umap.UMAP(random_state=0)`)"
    if printed is None:
        return [f"| 1,000,000 × 128 UMAP, every row | {tool}: not finished within an hour, stopped "
                f"| > {plain_s:.0f} | | > {plain_rss / 2**20:.0f} | |"]  # fmt: skip
    ratio = f"{ours_s / plain_s:.2f}×" if ours_s else ""
    plain_t = trust(data, np.load(work / "plain1m.npy"))
    return [f"| 1,000,000 × 128 UMAP, every row | {tool} | {plain_s:.1f} | {ratio} "
            f"| {plain_rss / 2**20:.0f} | {plain_t:.4f} |"]  # fmt: skip


def case_sklearn_tsne(work: Path) -> list[str]:
    """scikit-learn's TSNE on the 100k table (every row), and its time scaled to 1M rows by n log n, to stand
    beside embproj's 1M t-SNE (scikit-learn on the 1M rows would take many hours on 2 cores)."""
    import math

    data = make_table(DATA / "blobs-100k.parquet", 100_000)
    seconds, rss, printed = run(
        [sys.executable, str(HERE / "plain_tsne.py"), str(data), str(work / "tsne100k.npy")], limit=HOUR
    )
    tool = "plain script (PCA to 50, scikit-learn `TSNE(random_state=0)`)"
    if printed is None:
        return [f"| 100,000 × 128 t-SNE, every row | {tool}: not finished within an hour, stopped "
                f"| > {seconds:.0f} | | > {rss / 2**20:.0f} | |"]  # fmt: skip
    quality = trust(data, np.load(work / "tsne100k.npy"))
    scaled = seconds * 10 * math.log(1e6) / math.log(1e5)
    return [
        f"| 100,000 × 128 t-SNE, every row | {tool} | {seconds:.1f} | | {rss / 2**20:.0f} | {quality:.4f} |",
        f"| 1,000,000 × 128 t-SNE, every row | that plain script, scaled by n log n (not run) | {scaled:.0f} | | | |",
    ]


def case_bytes(work: Path) -> list[str]:
    """The page's bytes a point on issue 30's table (an `id`, a label of 20 classes, 128 dims), PCA of every row,
    without and with the neighbour table (benchmarks/bytes_a_point.py, which also gives them column by column)."""
    import bytes_a_point

    data = make_table(DATA / "blobs-1m-id.parquet", 1_000_000, ids=True)
    return [
        f"| 1,000,000 × 128 with an `id`, PCA, every row: the page (targets 16 and 36 B a point) | "
        f"{bytes_a_point.measure(data, work / 'bytes.html', k)} | | | | |"
        for k in (0, 10)
    ]


def make_parts(table: Path, parts: int) -> Path:
    """`table` split into `parts` Parquet files of consecutive rows, in a folder beside it."""
    import pyarrow.parquet as pq

    folder = table.with_name(f"{table.stem}-{parts}-parts")
    if folder.exists():
        return folder
    folder.mkdir()
    source = pq.ParquetFile(table)
    bounds = np.linspace(0, source.metadata.num_rows, parts + 1).astype(int)
    whole = pq.read_table(table)
    for p in range(parts):
        pq.write_table(whole.slice(bounds[p], bounds[p + 1] - bounds[p]), folder / f"part-{p:02d}.parquet")
    return folder


def case_dask(work: Path) -> list[str]:
    """The same tables in 20 parts, on the local engine and through a LocalCluster of 2 single-thread workers
    started here (the embproj process is the client: its peak RSS is the client's)."""
    from distributed import LocalCluster

    lines = []
    cases = [("pca", DATA / "blobs-1m.parquet", 1_000_000), ("umap", DATA / "blobs-100k.parquet", 100_000)]
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None, silence_logs=50) as cluster:
        for algo, table, n in cases:
            parts = make_parts(make_table(table, n), 20)
            extra = ["--no-metrics"] if algo == "pca" else []
            local_s, local_rss, _ = embproj(parts, algo, work / f"local-{algo}.html", *extra)
            dask_s, dask_rss, _ = embproj(parts, algo, work / f"dask-{algo}.html", *extra, "--engine", "dask",
                                          "--scheduler", cluster.scheduler_address)  # fmt: skip
            same = np.array_equal(
                coords_of(work / f"local-{algo}.parquet", algo), coords_of(work / f"dask-{algo}.parquet", algo)
            )
            quality = trust(table, coords_of(work / f"dask-{algo}.parquet", algo))
            name = f"{n:,} × 128 {algo.upper()}, every row, 20 parts"
            lines += [
                f"| {name} | embproj, local engine | {local_s:.1f} | 1 | {local_rss / 2**20:.0f} | |",
                f"| {name} | embproj --engine dask, 2 workers (client's RSS) | {dask_s:.1f} | {dask_s / local_s:.2f}× "
                f"| {dask_rss / 2**20:.0f} | {quality:.4f} ({'the same' if same else 'NOT the same'} coordinates) |",
            ]
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        choices=("100k", "1m-pca", "1m-umap", "1m-tsne", "bytes", "dask", "sklearn-tsne", "plain-1m"),
        action="append",
    )
    parser.add_argument("--plain-1m", action="store_true", help="also the plain UMAP script on 1M rows")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--append", action="store_true", help="add to the table RESULTS.md holds")
    args = parser.parse_args(argv)
    chosen = args.only or ["100k", "1m-pca", "1m-umap", "1m-tsne", "bytes", "dask"]
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `python benchmarks/scale.py`; load "
        f"average {os.getloadavg()[0]:.2f} before the runs. Every run a fresh process; RSS is its peak.",
        "",
        "| case | tool | wall s | vs plain | peak RSS MB | trustworthiness (3,000 rows) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    text = RESULTS.read_text()
    if args.append and START in text:
        lines = text[text.index(START) + len(START) : text.index(END)].strip().splitlines()
        lines[0] = lines[0].rstrip(".") + f"; more rows {time.strftime('%H:%M UTC', time.gmtime())}, load average "
        lines[0] += f"{os.getloadavg()[0]:.2f}."
    with tempfile.TemporaryDirectory(prefix="embproj-scale-") as tmp:
        work = Path(tmp)
        for case in chosen:
            print(f"running {case} …", flush=True)
            if case == "dask":
                lines += case_dask(work)
            elif case == "sklearn-tsne":
                lines += case_sklearn_tsne(work)
            elif case == "plain-1m":
                lines += case_plain_1m(work)
            elif case == "bytes":
                lines += case_bytes(work)
            else:
                lines += case_100k(work) if case == "100k" else case_1m(work, case[3:], args.plain_1m)
            print("\n".join(lines[-3:]), flush=True)
            if not args.no_write:  # after each case: a long run stopped early keeps what it measured
                write_results("\n".join(lines))


def write_results(report: str) -> None:
    text = RESULTS.read_text()
    if START in text:
        text = text[: text.index(START)] + f"{START}\n{report}\n{END}" + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip() + f"\n\n## Every row, at scale\n\n{START}\n{report}\n{END}\n"
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
