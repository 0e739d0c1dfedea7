"""UMAP without its two slow paths on small data, computing the same thing.

Below 4,096 rows umap-learn finds exact neighbours by calling a numba metric once per pair from Python; we hand it
the same exact neighbours from scikit-learn as `precomputed_knn`, which umap-learn then uses unchanged.
"""

from __future__ import annotations

import warnings

import numpy as np


def exact_knn(X: np.ndarray, k: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k nearest rows including itself, as umap-learn's own exact path orders them."""
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(n_neighbors=k, metric=metric, algorithm="brute", n_jobs=1).fit(X)
    dists, idx = nn.kneighbors(X, n_neighbors=k)
    return idx.astype(np.int32), dists.astype(np.float32)


def fit_umap(X: np.ndarray, *, n_neighbors: int, min_dist: float, metric: str, seed: int) -> np.ndarray:
    import umap

    idx, dists = exact_knn(X, n_neighbors, metric)
    model = umap.UMAP(
        n_neighbors=n_neighbors,
        min_dist=min_dist,
        metric=metric,
        random_state=seed,
        n_jobs=1,
        init="spectral" if len(X) > n_neighbors + 2 else "random",
        precomputed_knn=(idx, dists, None),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit_transform(X)
