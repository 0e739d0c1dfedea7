"""The density of a map: a 2D histogram of its points over a fixed grid, per colour class, smoothed into a kernel
density estimate. One grid serves the large map's density image (the points drawn as density where there are too
many to draw one by one) and the density contours drawn under the cluster labels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BINS = 256  # cells along the longer side of the map
SMOOTH = 1.5  # the kernel's width, in cells


@dataclass(frozen=True)
class Grid:
    """Counts of points per cell, per class: `counts[c, j, i]` is class c's points in row j (y), column i (x)."""

    counts: np.ndarray  # float32, classes × ny × nx
    x0: float
    y0: float
    dx: float  # a cell's width and height, in map units
    dy: float

    @property
    def total(self) -> np.ndarray:
        return self.counts.sum(axis=0)

    def smoothed(self, sigma: float = SMOOTH) -> np.ndarray:
        """The kernel density estimate of every class together (a Gaussian of `sigma` cells), per unit area of map."""
        from scipy.ndimage import gaussian_filter

        return gaussian_filter(self.total, sigma=sigma) / (self.dx * self.dy * max(1.0, self.counts.sum()))


def grid(xy: np.ndarray, classes: np.ndarray | None = None, bins: int = BINS, extent=None) -> Grid:
    """Count the points `xy` (n × 2) per cell of a grid over `extent` ((x0, x1, y0, y1), default the points' own
    range), per class (`classes`: an int code per point, default one class). The same points give the same grid."""
    x, y = xy[:, 0].astype(np.float64), xy[:, 1].astype(np.float64)
    x0, x1, y0, y1 = extent if extent is not None else _extent(x, y)
    width, height = max(x1 - x0, 1e-12), max(y1 - y0, 1e-12)
    nx, ny = (
        (bins, max(1, round(bins * height / width)))
        if width >= height
        else (max(1, round(bins * width / height)), bins)
    )
    i = np.clip(((x - x0) / width * nx).astype(np.int64), 0, nx - 1)
    j = np.clip(((y - y0) / height * ny).astype(np.int64), 0, ny - 1)
    codes = np.zeros(len(xy), dtype=np.int64) if classes is None else np.asarray(classes, dtype=np.int64)
    n_classes = int(codes.max()) + 1 if len(codes) else 1
    flat = np.bincount((codes * ny + j) * nx + i, minlength=n_classes * ny * nx)
    counts = flat.reshape(n_classes, ny, nx).astype(np.float32)
    return Grid(counts, x0, y0, width / nx, height / ny)


def _extent(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float]:
    finite = np.isfinite(x) & np.isfinite(y)
    if not finite.any():
        return 0.0, 1.0, 0.0, 1.0
    pad_x = (x[finite].max() - x[finite].min()) * 0.04 or 1.0
    pad_y = (y[finite].max() - y[finite].min()) * 0.04 or 1.0
    return x[finite].min() - pad_x, x[finite].max() + pad_x, y[finite].min() - pad_y, y[finite].max() + pad_y
