"""The AFTER map aligned to the BEFORE map, so that a row whose neighbourhood did not change stays in place.

Procrustes: the rotation (or reflection), the one scale and the shift that bring the AFTER coordinates closest to
the BEFORE ones in the least-squares sense, each row weighted by how little its neighbourhood changed, so that the
rows that moved do not pull the others. A PCA or t-SNE map of AFTER is the one `project` draws, only turned and
scaled that way. UMAP starts from BEFORE's coordinates and refines that layout rather than laying it out again
(projectors.REFINE), then the same Procrustes fit takes out the turn, scale and shift the optimisation gave it.

Measured on the digits (benchmarks/compare_align.py, RESULTS.md), the median shift between the two maps of the
rows that kept their neighbourhood, as a share of the map's extent: PCA with Procrustes 0.1-0.5%; UMAP fitted
alone 9-27%, fitted again from BEFORE's coordinates 6.5-9.4%, refined from them 1.6-2.2% (trustworthiness 0.003
lower), umap-learn's AlignedUMAP 0.7-1.9% but in 16-22 s warm and ~90 s with its kernels compiled, where a whole
`project` report takes ~8 s: over the 2.5× a comparison may cost; t-SNE alone 1.3-2.3%, from BEFORE's coordinates
no better (2.2-2.8%; on the tests' four blobs 6.7% against 5.8% alone)."""

from __future__ import annotations

import numpy as np

from embproj.project.projectors import REFINE


def procrustes(moving: np.ndarray, fixed: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """`moving` (n × 2) turned, scaled and shifted onto `fixed` (n × 2), least squares weighted by `weights`."""
    moving = np.asarray(moving, dtype=np.float64)
    fixed = np.asarray(fixed, dtype=np.float64)
    n = len(moving)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    if n == 0 or w.sum() <= 0:
        return moving.astype(np.float32)
    w = w / w.sum()
    a, b = moving - w @ moving, fixed - w @ fixed
    u, s, vt = np.linalg.svd((a * w[:, None]).T @ b)
    spread = float(w @ (a**2).sum(axis=1))
    scale = float(s.sum()) / spread if spread > 0 else 1.0
    return ((a @ (u @ vt)) * scale + w @ fixed).astype(np.float32)


# How the AFTER map starts, by algorithm: "alone" (fitted as `project` fits it) or "before" (from BEFORE's
# coordinates of the same rows). Then Procrustes, for both (see above).
STARTS = {"pca": "alone", "umap": "before", "tsne": "alone"}


def aligned_map(fit_after, before, fit: np.ndarray, change: np.ndarray):
    """The AFTER map aligned to `before` (a Projection): `fit_after(init)` makes AFTER's map from the start
    `init` (the fitted rows' coordinates, or None for the projector's own), `change` weighs each row."""
    from dataclasses import replace

    start = before.xy[fit] if STARTS[before.algo] == "before" else None
    after = fit_after(start)
    return replace(after, xy=procrustes(after.xy, before.xy, 1.0 - change))


def how_aligned(algo: str) -> str:
    """How the AFTER map of `algo` was aligned to the BEFORE map, in words (the page's header, --json)."""
    turned = (
        "then turned (or mirrored), scaled and shifted onto BEFORE's map by a Procrustes fit that weighs each row by "
    )
    turned += "how little its neighbourhood changed"
    if algo == "umap":
        settings = f"learning rate {REFINE['learning_rate']:g}, {REFINE['n_epochs']} epochs"
        return f"refined on AFTER's vectors from BEFORE's coordinates ({settings}), {turned}"
    if STARTS[algo] == "before":
        return f"fitted on AFTER's vectors starting from BEFORE's coordinates, {turned}"
    return f"fitted on AFTER's vectors alone, {turned}"
