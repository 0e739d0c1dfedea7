"""Stage 7, structure: what the maps show beyond their points. Clusters found by scikit-learn's HDBSCAN on the run's
first UMAP or t-SNE map (else its PCA map), each named (structure/names.py) and placed on every map; and each map's
density (structure/density.py), for the contours.

Why the map and not the embedding: on the digits and on a text-like table (fixtures/make_topics.py), HDBSCAN
finds the true classes on the UMAP map (adjusted Rand index 0.92 and 0.82) far better than on the pre-reduced
50-dim embedding (0.48 and at best 0.08, whatever the min cluster size), where it calls a quarter of the digits and
over half of the documents noise; and five times faster (benchmarks/explain.py, RESULTS.md). The clusters are
then also what the reader sees: blobs on the map, each with its label on it."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from embproj.options import ALGO_NAMES, CLUSTER_MIN_ROWS, MIN_CLUSTER_SCALE, Options, say

NOISE = -1
NOISE_LABEL = "noise"  # a noise point's cluster, as the page says it
SPACES = ("umap", "tsne", "pca")  # the map clustered: the first of these the run made
# HDBSCAN builds its tree over every pair of points (O(n²)): 0.1 s at 5,000 points, 1.9 s at 20,000 and 11 s at
# 50,000 on one core. Above this many a seeded sample is clustered; every other point joins the cluster of its
# nearest sampled point on the map.
CLUSTER_POINTS = 10_000
# HDBSCAN's cluster choice: the leaves of its tree (each blob that does not split into two of at least the minimum
# size), with a point's density measured over half the minimum cluster size of neighbours. Its default choice,
# "excess of mass" with 5 neighbours, merged two topics that the map shows as two blobs with a gap between them
# (fixtures/make_topics.py, 600 rows of 5 topics: 4 clusters, one of purity 0.54, on 3 of 4 seeds); leaves with
# smooth densities found 5 on all 4 seeds and the digits' 10 on all 4 (eom: 10, 10, 10, 9), and the adjusted Rand
# index against the true classes over those 12 maps and 20 topics' went 0.81 -> 0.84 (benchmarks/RESULTS.md).
SELECTION = "leaf"
DENSITY_SHARE = 0.5  # × the minimum cluster size: the neighbours a point's core distance is measured over
DENSITY_SCOPE = 0.5  # × Scott's bandwidth: Scott's rule assumes one bump and would smooth clusters together
LEVELS = (0.1, 0.3, 0.5, 0.7, 0.9)  # each contour encloses this share of the points, the densest first
CONTOUR_ROOM = 0.12  # the grid's margin around the points, a share of their range (the map shows 4%)


@dataclass(frozen=True)
class Cluster:
    label: str  # on the map and in the cluster table: "7 · 96%", "orbit, rocket, nasa", "cluster 3"
    size: int
    purity: float | None  # the share of its most common value of the label column; None without one
    centres: dict[str, tuple[float, float]]  # algo → where its label sits on that map: its point nearest its median


@dataclass(frozen=True)
class Density:
    """One map's kernel density estimate on structure/density.py's grid, and the levels its contours are drawn at."""

    x: np.ndarray  # the cells' centres across (nx)
    y: np.ndarray  # and up (ny)
    z: np.ndarray  # ny × nx
    levels: tuple[float, ...]  # ascending; empty when the points have no shape to draw (too few, all equal)


@dataclass(frozen=True)
class Structure:
    codes: np.ndarray | None  # int32 a point: its cluster (0 the biggest) or NOISE; None when not clustered
    clusters: tuple[Cluster, ...]  # biggest first
    density: dict[str, Density]  # algo → its map's density
    about: str  # how they were found, or why not, in words
    space: str | None = None  # the algorithm whose map was clustered
    min_cluster_size: int | None = None
    clustered: int = 0  # the points HDBSCAN saw (a seeded sample above CLUSTER_POINTS)
    names: str = ""  # what the labels say (plan.names' reason)

    @property
    def noise(self) -> int:
        return 0 if self.codes is None else int((self.codes == NOISE).sum())

    def facts(self) -> dict:
        """For `--json`: what was found, on which map, with which options."""
        if self.codes is None:
            return {"found": 0, "about": self.about}
        return {
            "found": len(self.clusters),
            "noise": self.noise,
            "map": self.space,
            "map_name": ALGO_NAMES[self.space] if self.space else None,
            "min_cluster_size": self.min_cluster_size,
            "clustered_points": self.clustered,
            "names": self.names,
            "clusters": [{"label": c.label, "size": c.size, "purity": c.purity} for c in self.clusters],
        }


def find_structure(opts: Options, plan, sample, matrix, projections) -> Structure:
    """The clusters of the plotted rows (when `--clusters` and their number allow), named as the plan says, and
    every map's density."""
    density = {p.key: map_density(p.xy) for p in projections}
    n = len(matrix.keep)
    space = next((p for algo in SPACES for p in projections if p.algo == algo), None)
    if space is None or opts.clusters == "none" or n < CLUSTER_MIN_ROWS:
        why = say("clusters", "none") if opts.clusters == "none" else f"fewer than {CLUSTER_MIN_ROWS:,} points"
        return Structure(None, (), density, f"no clusters: {why}")
    size = opts.min_cluster_size or default_min_cluster_size(n)
    codes, seen = cluster(space.xy, size, opts.seed)
    k = int(codes.max()) + 1
    labels, purity = _names(plan, _plotted(sample.table, matrix.keep, plan), codes, k)
    clusters = tuple(
        Cluster(labels[c], int((codes == c).sum()), purity[c] if purity else None, centres(projections, codes, c))
        for c in range(k)
    )
    about = f"HDBSCAN on the {space.name} map, min cluster size {size:,}"
    return Structure(codes, clusters, density, about, space.algo, size, seen, plan.names.reason)


def default_min_cluster_size(n: int) -> int:
    """MIN_CLUSTER_SCALE × √n, at least 5: 64 for the digits' 1,797 points, 106 for 5,000, 474 for 100,000. A
    cluster is then a smaller share of a bigger map: more points show finer structure."""
    return max(5, round(MIN_CLUSTER_SCALE * math.sqrt(n)))


def cluster(xy: np.ndarray, min_size: int, seed: int) -> tuple[np.ndarray, int]:
    """(each point's cluster, numbered from the biggest, or NOISE; the number of points HDBSCAN saw). The same map
    and seed give the same clusters."""
    from sklearn.cluster import HDBSCAN

    n = len(xy)
    seen = np.arange(n) if n <= CLUSTER_POINTS else np.sort(_sample(n, seed))
    scaled = max(2, round(min_size * len(seen) / n))  # a cluster's share of the map, in the sample
    size = min(scaled, len(seen))
    found = HDBSCAN(
        min_cluster_size=size,
        min_samples=max(1, min(round(DENSITY_SHARE * size), len(seen) - 1)),
        cluster_selection_method=SELECTION,
        copy=True,
    )
    raw = found.fit_predict(np.asarray(xy[seen], dtype=np.float64))
    codes = np.full(n, NOISE, dtype=np.int32)
    codes[seen] = raw
    if len(seen) < n:
        codes = _nearest_cluster(xy, seen, codes)
    return _biggest_first(codes), len(seen)


def _sample(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).choice(n, size=CLUSTER_POINTS, replace=False)


def _nearest_cluster(xy: np.ndarray, seen: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Every point HDBSCAN did not see takes the cluster (or the noise) of its nearest seen point on the map."""
    from scipy.spatial import cKDTree

    rest = np.setdiff1d(np.arange(len(xy)), seen, assume_unique=True)
    _, nearest = cKDTree(np.asarray(xy[seen], dtype=np.float64)).query(np.asarray(xy[rest], dtype=np.float64))
    out = codes.copy()
    out[rest] = codes[seen[nearest]]
    return out


def _biggest_first(codes: np.ndarray) -> np.ndarray:
    """Clusters renumbered by size, biggest first; ties by the first point in each, so the order is stable."""
    found = np.unique(codes[codes >= 0])
    if not len(found):
        return codes
    sizes = np.array([(codes == c).sum() for c in found])
    firsts = np.array([np.argmax(codes == c) for c in found])
    order = found[np.lexsort((firsts, -sizes))]
    remap = np.full(int(found.max()) + 1, NOISE, dtype=np.int32)
    remap[order] = np.arange(len(order), dtype=np.int32)
    return np.where(codes >= 0, remap[np.maximum(codes, 0)], NOISE).astype(np.int32)


def centres(projections, codes: np.ndarray, c: int) -> dict[str, tuple[float, float]]:
    """Where cluster c's label goes on each map: the cluster's point nearest its median, so that it sits on the
    cluster even when the cluster is a crescent or a ring (its mean might fall outside it)."""
    inside = np.flatnonzero(codes == c)
    out = {}
    for p in projections:
        xy = p.xy[inside].astype(np.float64)
        finite = np.isfinite(xy).all(axis=1)
        if not finite.any():
            continue
        xy = xy[finite]
        median = np.median(xy, axis=0)
        x, y = xy[int(np.argmin(((xy - median) ** 2).sum(axis=1)))]
        out[p.key] = (float(x), float(y))
    return out


def _plotted(table: pa.Table, keep: np.ndarray, plan) -> pa.Table:
    """The naming and purity columns of the plotted rows."""
    wanted = [c for c in dict.fromkeys((plan.names.column, plan.purity)) if c]
    table = table.select(wanted)
    return table.take(pa.array(keep)) if len(keep) < table.num_rows else table


def _names(plan, table: pa.Table, codes: np.ndarray, k: int) -> tuple[list[str], list[float] | None]:
    """Each cluster's label (unique) and purity (None without a label-like column)."""
    from embproj.structure.names import distinctive_words, majority, unique

    purity = majority(codes, k, table.column(plan.purity))[1] if plan.purity else None
    numbered = [f"cluster {c + 1}" for c in range(k)]
    if plan.names.kind == "words":
        words = distinctive_words(codes, k, table.column(plan.names.column))
        return unique([", ".join(w) if w else numbered[c] for c, w in enumerate(words)]), purity
    if plan.names.kind == "majority":
        tops, shares = majority(codes, k, table.column(plan.names.column))
        return unique([f"{top} · {share:.0%}" for top, share in zip(tops, shares, strict=True)]), purity
    return numbered, purity


def _around(xy: np.ndarray) -> tuple[float, float, float, float] | None:
    """The points' range and CONTOUR_ROOM more on every side: contours near the map's edge close, outside it."""
    if not len(xy):
        return None
    low, high = xy.min(axis=0), xy.max(axis=0)
    pad = np.where(high > low, (high - low) * CONTOUR_ROOM, 1.0)
    return float(low[0] - pad[0]), float(high[0] + pad[0]), float(low[1] - pad[1]), float(high[1] + pad[1])


def map_density(xy: np.ndarray) -> Density:
    """The map's kernel density estimate on structure/density.py's grid (a little wider than the map, see `_around`),
    smoothed by half Scott's bandwidth, and the levels that enclose LEVELS of the points."""
    from embproj.structure.density import grid

    finite = xy[np.isfinite(xy).all(axis=1)].astype(np.float64)
    g = grid(finite, extent=_around(finite))
    ny, nx = g.counts.shape[1:]
    x, y = g.x0 + (np.arange(nx) + 0.5) * g.dx, g.y0 + (np.arange(ny) + 0.5) * g.dy
    if len(finite) < 10 or not (finite.std(axis=0) > 0).all() or min(nx, ny) < 2:  # a line has no contours
        return Density(x, y, np.zeros((ny, nx)), ())
    scott = len(finite) ** (-1 / 6) * finite.std(axis=0)  # Scott's rule in 2-D, per axis
    sigma = float(np.clip(DENSITY_SCOPE * min(scott[0] / g.dx, scott[1] / g.dy), 1.0, 24.0))
    z = g.smoothed(sigma)
    i = np.clip(((finite[:, 0] - g.x0) / g.dx).astype(np.int64), 0, nx - 1)
    j = np.clip(((finite[:, 1] - g.y0) / g.dy).astype(np.int64), 0, ny - 1)
    at_points = z[j, i]
    levels = sorted({float(np.quantile(at_points, 1 - share)) for share in LEVELS})
    return Density(x, y, z, tuple(v for v in levels if v > 0))
