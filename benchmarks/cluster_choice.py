"""How HDBSCAN picks the map's clusters (embproj/structure/clusters.py): "excess of mass" (its default) against the
leaves of its tree, with a point's density over 5 neighbours or over half the minimum cluster size, on UMAP maps of the
digits (1,797 rows, 10 digits), a text-like table of 600 rows over 5 topics and one of 3,000 rows over 20 topics
(fixtures/make_topics.py), each made with 4 seeds: on another CPU a map is another map, and the choice must hold
on each. Prints the clusters found and the adjusted Rand index against the true classes (noise a class of its own)
for every map, and the mean.

  python benchmarks/cluster_choice.py
"""

from __future__ import annotations

import math
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "fixtures")]
SEEDS = range(4)
CHOICES = {  # (cluster_selection_method, min_samples as a function of the min cluster size)
    "excess of mass, 5 neighbours (before)": ("eom", lambda m: 5),
    "leaves, 5 neighbours": ("leaf", lambda m: 5),
    "excess of mass, m/2 neighbours": ("eom", lambda m: m // 2),
    "leaves, m/2 neighbours (now)": ("leaf", lambda m: m // 2),
}


def maps(folder: Path) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    import pandas as pd
    import pyarrow.parquet as pq
    from make_digits import write_digits
    from make_topics import topics_table

    tables = {
        "digits": folder / "digits.parquet",
        "topics 5": folder / "t5.parquet",
        "topics 20": folder / "t20.parquet",
    }
    write_digits(tables["digits"])
    pq.write_table(topics_table(rows=600, topics=5), tables["topics 5"])
    pq.write_table(topics_table(rows=3000, topics=20), tables["topics 20"])
    out: dict[str, list] = {}
    for name, path in tables.items():
        for seed in SEEDS:
            coords = folder / f"{path.stem}-{seed}.csv"
            subprocess.run(
                [sys.executable, "-m", "embproj", "project", str(path), "--algo", "umap", "--seed", str(seed),
                 "--clusters", "none", "--no-metrics", "--no-cache", "-q", "-o", "/dev/null", "--coords-out",
                 str(coords)],
                check=True,
            )  # fmt: skip
            c = pd.read_csv(coords)
            out.setdefault(name, []).append(
                (c[["umap_x", "umap_y"]].to_numpy(float), c.iloc[:, -1].astype(str).to_numpy())
            )
    return out


def main() -> None:
    from sklearn.cluster import HDBSCAN
    from sklearn.metrics import adjusted_rand_score

    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        found = maps(Path(tmp))
    print("| choice | " + " | ".join(found) + " | mean ARI |\n|---|" + "---|" * (len(found) + 1))
    for label, (method, samples) in CHOICES.items():
        cells, scores = [], []
        for xy_labels in found.values():
            seen = []
            for xy, truth in xy_labels:
                m = max(5, round(1.5 * math.sqrt(len(xy))))
                codes = HDBSCAN(min_cluster_size=m, min_samples=samples(m), cluster_selection_method=method,
                                copy=True).fit_predict(xy)  # fmt: skip
                scores.append(adjusted_rand_score(truth, codes))
                seen.append(f"{codes.max() + 1}")
            cells.append(f"clusters {', '.join(seen)} (of {len(set(xy_labels[0][1]))}); ARI {np.mean(scores[-4:]):.3f}")
        print(f"| {label} | " + " | ".join(cells) + f" | {np.mean(scores):.3f} |")


if __name__ == "__main__":
    main()
