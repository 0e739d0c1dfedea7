"""The map's density grid: counts per class and cell, and its kernel density estimate."""

from __future__ import annotations

import numpy as np

from embproj.structure.density import grid


def test_counts_every_point_once_per_class_and_cell():
    rng = np.random.default_rng(0)
    xy = np.vstack([rng.normal(0, 1, size=(300, 2)), rng.normal(8, 1, size=(200, 2))]).astype(np.float32)
    classes = np.repeat([0, 1], [300, 200])
    g = grid(xy, classes, bins=64)
    assert g.counts.shape[0] == 2 and g.counts.shape[2] == 64
    assert g.counts[0].sum() == 300 and g.counts[1].sum() == 200
    j, i = np.unravel_index(g.counts[1].argmax(), g.counts[1].shape)
    assert abs(g.x0 + (i + 0.5) * g.dx - 8) < 1.5 and abs(g.y0 + (j + 0.5) * g.dy - 8) < 1.5  # class 1 is at (8, 8)
    np.testing.assert_array_equal(grid(xy, classes, bins=64).counts, g.counts)


def test_the_smoothed_density_integrates_to_one():
    xy = np.random.default_rng(1).normal(size=(1000, 2)).astype(np.float32)
    g = grid(xy, bins=100)
    assert abs(g.smoothed().sum() * g.dx * g.dy - 1.0) < 0.02
