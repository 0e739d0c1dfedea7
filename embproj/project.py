"""Stage 5, project: n×d float32 → n×2, by a registry of projectors keyed by name (PCA, UMAP, t-SNE).

Each projector validates its parameters, adapts those that do not fit a small sample (with a note saying so), is
seeded, and refuses to hand back NaN. Libraries are imported inside the projector that needs them.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from .errors import InputError, OptionError
from .options import PcaParams, TsneParams, UmapParams

UMAP_METRICS = ("euclidean", "cosine", "manhattan", "correlation", "chebyshev", "minkowski")
TSNE_METRICS = ("euclidean", "cosine", "manhattan", "correlation")
MIN_ROWS = {"pca": 1, "umap": 4, "tsne": 4}
EXACT_TSNE_ROWS = 10_000  # below this exact neighbours beat openTSNE's Annoy index (digits: 1.7 s against 2.5 s)
NAMES = {"pca": "PCA", "umap": "UMAP", "tsne": "t-SNE"}


@dataclass(frozen=True)
class Projection:
    algo: str
    xy: np.ndarray  # float32, n × 2
    params: dict
    seconds: float
    notes: tuple[str, ...] = ()  # parameters lowered to fit the sample, and similar
    metrics: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return NAMES[self.algo]


def project(X: np.ndarray, algo: str, params, seed: int) -> Projection:
    validate(algo, params)
    n = len(X)
    if n < MIN_ROWS[algo]:
        raise InputError(
            f"{NAMES[algo]} needs at least {MIN_ROWS[algo]} rows with a usable vector, got {n}",
            "give more rows, or use --algo pca",
        )
    start = time.perf_counter()
    notes: list[str] = []
    if _distinct_rows(X) < 2:
        xy = np.zeros((n, 2), dtype=np.float32)
        notes.append(f"all {n:,} vectors are identical, so every point sits at (0, 0)")
        used = asdict(params)
    else:
        xy, used = PROJECTORS[algo](X, params, seed, notes)
    fitted = used.pop("_metrics", {})
    xy = np.asarray(xy, dtype=np.float32)
    if not np.isfinite(xy).all():
        raise InputError(
            f"{NAMES[algo]} returned NaN coordinates (the vectors are too alike to spread out)",
            "try --algo pca, or remove duplicate rows",
        )
    return Projection(algo, xy, used, time.perf_counter() - start, tuple(notes), fitted)


def validate(algo: str, params) -> None:
    """Raise `OptionError` for an unknown algorithm or a parameter out of range, before any work."""
    if algo not in PROJECTORS:
        raise OptionError(f'unknown --algo "{algo}"', f"use one of {', '.join([*PROJECTORS, 'all'])}")
    for check in CHECKS.get(algo, ()) if params is not None else ():
        check(params)


# -- projectors -----------------------------------------------------------------------------------------------


def _pca(X: np.ndarray, p: PcaParams, seed: int, notes: list[str]):
    from sklearn.decomposition import PCA

    k = min(2, X.shape[0], X.shape[1])
    pca = PCA(n_components=k, whiten=p.whiten, random_state=seed)
    Y = pca.fit_transform(X)
    if k < 2:  # one row or one dimension: the second axis is flat
        Y = np.column_stack([Y, np.zeros((len(Y), 2 - k))])
    ratio = [round(float(v), 4) for v in pca.explained_variance_ratio_]
    return Y, {"whiten": p.whiten, "_metrics": {"explained_variance_ratio": ratio}}


def _umap(X: np.ndarray, p: UmapParams, seed: int, notes: list[str]):
    n = len(X)
    k = p.n_neighbors
    if k >= n:
        k = n - 1
        notes.append(f"--n-neighbors {p.n_neighbors} is not below the {n} rows, lowered to {k}")
    from .umap_fast import fit_umap

    Y = fit_umap(X, n_neighbors=k, min_dist=p.min_dist, metric=p.metric, seed=seed)
    return Y, {"n_neighbors": k, "min_dist": p.min_dist, "metric": p.metric}


def _tsne(X: np.ndarray, p: TsneParams, seed: int, notes: list[str]):
    n = len(X)
    perplexity = p.perplexity
    limit = (n - 1) / 3
    if perplexity > limit:
        perplexity = max(1.0, float(np.floor(limit * 100) / 100))
        notes.append(f"--perplexity {p.perplexity:g} is above (n-1)/3 for {n} rows, lowered to {perplexity:g}")
    from openTSNE import TSNE

    metric = p.metric
    if metric == "correlation" and n >= EXACT_TSNE_ROWS:
        # openTSNE's Annoy search has no correlation distance; it is the cosine distance of mean-centred rows
        X, metric = X - X.mean(axis=1, keepdims=True), "cosine"
    tsne = TSNE(
        perplexity=perplexity,
        learning_rate="auto" if p.learning_rate is None else p.learning_rate,
        n_iter=p.iterations,
        early_exaggeration=p.early_exaggeration,
        metric=metric,
        n_jobs=-1,
        random_state=seed,
        verbose=False,
    )
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        affinities = _exact_affinities(X, perplexity, p.metric, seed) if n < EXACT_TSNE_ROWS else None
        Y = np.asarray(tsne.fit(X, affinities=affinities))
    used = {
        "perplexity": perplexity,
        "learning_rate": "auto" if p.learning_rate is None else p.learning_rate,
        "iterations": p.iterations,
        "early_exaggeration": p.early_exaggeration,
        "metric": p.metric,
    }
    return Y, used


def _exact_affinities(X: np.ndarray, perplexity: float, metric: str, seed: int):
    """openTSNE's exact neighbours come from a ball tree, slow in 50 dimensions; the same neighbours by brute
    force (scikit-learn) give the same affinities and the same map, half a second sooner on the digits."""
    from openTSNE import affinity
    from openTSNE.nearest_neighbors import PrecomputedNeighbors
    from sklearn.neighbors import NearestNeighbors

    k = min(len(X) - 1, int(3 * perplexity))  # openTSNE's own rule
    dists, idx = NearestNeighbors(n_neighbors=k + 1, algorithm="brute", metric=metric).fit(X).kneighbors(X)
    knn = PrecomputedNeighbors(idx[:, 1:], dists[:, 1:])
    return affinity.PerplexityBasedNN(knn_index=knn, perplexity=perplexity, n_jobs=-1, random_state=seed)


PROJECTORS: dict[str, Callable] = {"pca": _pca, "umap": _umap, "tsne": _tsne}


def _distinct_rows(X: np.ndarray, limit: int = 2) -> int:
    first = X[0]
    return 1 if np.all(X == first) else limit


# -- parameter checks -----------------------------------------------------------------------------------------


def _range(flag: str, value, low, high, *, low_open=False, integer=False) -> None:
    if value is None:
        return
    bad = (value <= low if low_open else value < low) or (high is not None and value > high)
    if bad or (integer and int(value) != value):
        lo = f"above {low:g}" if low_open else f"from {low:g}"
        hi = f" to {high:g}" if high is not None else " or more"
        kind = "a whole number" if integer else "a number"
        raise OptionError(f"{flag} {value:g} is out of range", f"give {kind} {lo}{hi}")


def _choice(flag: str, value: str, choices) -> None:
    if value not in choices:
        raise OptionError(f'{flag} "{value}" is not supported', f"use one of {', '.join(choices)}")


CHECKS: dict[str, tuple[Callable, ...]] = {
    "umap": (
        lambda p: _range("--n-neighbors", p.n_neighbors, 2, 1000, integer=True),
        lambda p: _range("--min-dist", p.min_dist, 0.0, 1.0),
        lambda p: _choice("--metric", p.metric, UMAP_METRICS),
    ),
    "tsne": (
        lambda p: _range("--perplexity", p.perplexity, 0.0, 1000, low_open=True),
        lambda p: _range("--learning-rate", p.learning_rate, 0.0, None, low_open=True),
        lambda p: _range("--iterations", p.iterations, 10, 100_000, integer=True),
        lambda p: _range("--early-exaggeration", p.early_exaggeration, 1.0, 1000),
        lambda p: _choice("--metric", p.metric, TSNE_METRICS),
    ),
}
