"""How `embproj compare` aligns the AFTER map to the BEFORE map (issue 28), measured on the digits.

Three cases: "replaced" (AFTER is BEFORE with 90 seeded rows' vectors replaced by those of rows of another digit),
"noise" (AFTER is BEFORE plus a little noise: nothing should move) and "two models" (BEFORE the digits' PCA to 16
dims, AFTER the 32-unit hidden layer of a small scikit-learn MLP trained on them: everything changes). For each
map and each way to align: how far the rows that kept their neighbourhood (change < 0.2; in "replaced" also not
one of the 90) moved between the two maps, as a share of the BEFORE map's extent (median and 90th percentile), how
far the 90 replaced rows moved (the signal), the AFTER map's trustworthiness (k = 10, against AFTER's vectors: a
start must not buy alignment with a worse map), and the seconds of the AFTER fit (warm: numba compiled before).

Ways: "procrustes" (AFTER fitted alone, then the weighted Procrustes fit of comparison/align.py), "init" (AFTER
fitted from BEFORE's coordinates with the projector's own settings, then the same Procrustes fit; for UMAP
umap-learn called directly), "refine" (UMAP only: what embproj does, projectors.REFINE: BEFORE's coordinates turned
so that their bounding box is square, then a tenth of the learning rate, 50 epochs and a quarter of the repulsion,
then Procrustes), "aligned" (umap-learn's AlignedUMAP over both, every row related to itself; it makes BEFORE's
map too, so that map is not the one `project` draws).

  python benchmarks/compare_align.py [--no-write]
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
START, END = "<!-- compare-align:start -->", "<!-- compare-align:end -->"
sys.path[:0] = [str(ROOT)]
K = 10


def cases() -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """name → (BEFORE, AFTER, the replaced rows)."""
    from sklearn.datasets import load_digits
    from sklearn.decomposition import PCA
    from sklearn.neural_network import MLPClassifier

    X, y = load_digits(return_X_y=True)
    X = X.astype(np.float32)
    rng = np.random.default_rng(0)
    moved = np.sort(rng.choice(len(X), 90, replace=False))
    replaced = X.copy()
    for i in moved:
        others = np.flatnonzero(y != y[i])
        replaced[i] = X[rng.choice(others)]
    noisy = X + rng.normal(0, 0.05, X.shape).astype(np.float32)
    pca16 = PCA(16, random_state=0).fit_transform(X).astype(np.float32)
    mlp = MLPClassifier((32,), max_iter=60, random_state=0).fit(X / 16, y)
    hidden = np.maximum(0, (X / 16) @ mlp.coefs_[0] + mlp.intercepts_[0]).astype(np.float32)
    none = np.zeros(0, np.int64)
    return {"replaced": (X, replaced, moved), "noise": (X, noisy, none), "two models": (pca16, hidden, none)}


def fit(X: np.ndarray, algo: str, init=None) -> tuple[np.ndarray, float]:
    from embproj.neighbours.search import knn
    from embproj.options import DEFAULTS
    from embproj.project.projectors import neighbours_needed, project

    params = DEFAULTS.params_for(algo)
    graph = knn(X, max(neighbours_needed(algo, params, len(X)), 1), "euclidean", 0)
    start = time.perf_counter()
    made = project(X, algo, params, 0, graph, init=init)
    return made.xy, time.perf_counter() - start


def umap_from(X: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, float]:
    """umap-learn's own fit of X from `start`, as a user would call it (the run's neighbours handed over)."""
    import warnings

    import umap

    from embproj.neighbours.search import knn

    indices, distances = knn(X, 14, "euclidean", 0).with_self(15)
    began = time.perf_counter()
    model = umap.UMAP(n_neighbors=15, random_state=0, n_jobs=1, init=start.astype(np.float64), n_epochs=500,
                      precomputed_knn=(indices, distances, None))  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X)
    return model.embedding_, time.perf_counter() - began


def aligned_umap(before: np.ndarray, after: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    import warnings

    from umap import AlignedUMAP

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = AlignedUMAP(n_neighbors=15, min_dist=0.1, random_state=0).fit(
            [before, after], relations=[{i: i for i in range(len(before))}]
        )
    return model.embeddings_[0], model.embeddings_[1], time.perf_counter() - start


def measure(name, algo, way, before, after, xy_before, xy_after, seconds, moved, change) -> dict:
    from sklearn.manifold import trustworthiness

    extent = float(np.ptp(xy_before, axis=0).max())
    shift = np.linalg.norm(xy_after - xy_before, axis=1) / extent
    kept = (change < 0.2) & ~np.isin(np.arange(len(before)), moved)
    return {
        "case": name, "algo": algo, "way": way, "kept_rows": int(kept.sum()),
        "kept_median": float(np.median(shift[kept])) if kept.any() else float("nan"),
        "kept_p90": float(np.percentile(shift[kept], 90)) if kept.any() else float("nan"),
        "moved_median": float(np.median(shift[moved])) if len(moved) else float("nan"),
        "trust": float(trustworthiness(after, xy_after, n_neighbors=K)), "seconds": seconds,
    }  # fmt: skip


def run() -> list[dict]:
    from embproj.comparison.align import procrustes
    from embproj.comparison.change import neighbourhood_change
    from embproj.neighbours.search import knn

    fit(np.random.default_rng(0).normal(size=(300, 8)).astype(np.float32), "umap")  # numba compiled first
    rows = []
    for name, (before, after, moved) in cases().items():
        change = neighbourhood_change(knn(before, K).indices, knn(after, K).indices)
        weights = 1.0 - change
        for algo in ("pca", "umap", "tsne"):
            xy_before, _ = fit(before, algo)
            alone, seconds = fit(after, algo)
            found = procrustes(alone, xy_before, weights)
            rows.append(measure(name, algo, "procrustes", before, after, xy_before, found, seconds, moved, change))
            if algo == "pca":
                continue
            started, seconds = fit(after, algo, init=xy_before)
            found = procrustes(started, xy_before, weights)
            way = "refine" if algo == "umap" else "init"
            rows.append(measure(name, algo, way, before, after, xy_before, found, seconds, moved, change))
            if algo == "umap":
                started, seconds = umap_from(after, xy_before)
                found = procrustes(started, xy_before, weights)
                rows.append(measure(name, algo, "init", before, after, xy_before, found, seconds, moved, change))
                first, second, seconds = aligned_umap(before, after)
                found = procrustes(second, first, weights)
                rows.append(measure(name, algo, "aligned", before, after, first, found, seconds, moved, change))
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        "| case | map | way | unchanged rows | their shift, median | 90th pct | replaced rows' shift | AFTER trust "
        "| s |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        moved = "" if r["moved_median"] != r["moved_median"] else f"{r['moved_median']:.1%}"
        lines.append(
            f"| {r['case']} | {r['algo']} | {r['way']} | {r['kept_rows']:,} | {r['kept_median']:.1%} | "
            f"{r['kept_p90']:.1%} | {moved} | {r['trust']:.3f} | {r['seconds']:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    rows = run()
    text = table(rows)
    print(text)
    if args.no_write:
        return
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    block = f"{START}\nMeasured {when} by `python benchmarks/compare_align.py`.\n\n{text}\n{END}"
    old = RESULTS.read_text(encoding="utf-8")
    if START in old:
        new = old[: old.index(START)] + block + old[old.index(END) + len(END) :]
    else:
        new = old.rstrip("\n") + "\n\n## Compare: aligning the two maps (issue 28)\n\n" + block + "\n"
    RESULTS.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    main()
