"""Scale: whether the embedding's columns share one scale, and the per-column rescaling when they do not.

The decision is the plan's (from the first rows, with its reason); the arithmetic is the matrix's, fitted on the
rows the maps are fitted on and applied to every row, here or on a Dask cluster's workers, before the neighbour
search and the PCA pre-reduction, so that the maps, the neighbours and the quality numbers share one space.

Columns measured in grams, millimetres and dollars do not share a scale: raw, the one with the largest numbers
holds nearly all the variance (penguins' `body_mass_g`: 99.96%), and the map orders the rows by it. An
embedding's dimensions or an image's pixels do share one, and rescaling them per dimension would change what
the model measured. What tells them apart is the spread of each column: within a few times of each other, one
scale; one column spread over many times the median's, not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embproj.options import DOMINANT_SHARE, SPREAD_RATIO, say
from embproj.plan.columns import ColumnInfo

FEWEST_ROWS = 10  # fewer rows than this in the head say nothing about the columns' spreads
BLOCK_ROWS = 65_536  # rows rescaled at a time: the temporaries of a 1,000,000-row matrix stay small
NAMES = {"standard": "standardised", "robust": "robust-scaled"}
SCALERS = {"standard": "scikit-learn's StandardScaler", "robust": "scikit-learn's RobustScaler"}


@dataclass(frozen=True)
class Scaling:
    """The plan's choice: "none", "standard" (mean 0, standard deviation 1) or "robust" (median 0, IQR 1)."""

    method: str
    reason: str

    @property
    def text(self) -> str:
        """`standardised (…why…)` or `as read (…why…)`: the header's, `inspect`'s and `--json`'s words."""
        return f"{NAMES.get(self.method, 'as read')} ({self.reason})"


def decide_scaling(kind: str, columns: list[ColumnInfo], asked: str) -> Scaling:
    """`asked` (--scale) wins; auto leaves one column of vectors as read, and rescales many numeric columns only
    when their spreads differ by SPREAD_RATIO or more, or when one of three or more would hold DOMINANT_SHARE of the
    variance as read."""
    if asked != "auto":
        how = f"{SCALERS[asked]}, " if asked in SCALERS else ""
        return Scaling(asked, f"{how}set by {say('scale', asked)}")
    if kind == "list":
        return Scaling(
            "none", f"one column of vectors: its dimensions share one scale; {say('scale', 'standard')} rescales them"
        )
    spread = [(c.std, c) for c in columns if c.std]
    if len(spread) < 2 or min(c.rows - c.missing for c in columns) < FEWEST_ROWS:
        return Scaling(
            "none", f"too few rows or varying columns to compare their spreads; {say('scale', 'standard')} rescales"
        )
    spread.sort(key=lambda s: s[0])
    median, (top, widest) = spread[(len(spread) - 1) // 2][0], spread[-1]
    ratio = top / median
    share = top**2 / sum(s * s for s, _ in spread)
    if ratio < SPREAD_RATIO and (share < DOMINANT_SHARE or len(spread) < 3):
        return Scaling("none", f"the columns' spreads are within {ratio:.1f}× of each other: one scale")
    # 99.96%, not 100%: the other columns still count
    held = f"{share:.0%}" if share < 0.99 else f"{share:.2%}" if share < 0.9999 else "over 99.99%"
    return Scaling(
        "standard",
        f"{SCALERS['standard']}: the columns' spreads differ {ratio:,.{0 if ratio >= 10 else 1}f}×, so as read "
        f'"{widest.name}" (standard deviation {top:,.4g}, the median column\'s {median:,.3g}) would hold {held} of '
        "the variance; "
        f"{say('scale', 'none')} keeps them as read",
    )


@dataclass(frozen=True)
class Scaler:
    """A fitted rescaling: (x - center) / scale per column, in float32, row by row (the same numbers whatever
    the block a row is in, so on any engine)."""

    center: np.ndarray  # float64, d
    scale: np.ndarray  # float64, d (1 where a column does not vary)
    method: str

    def __call__(self, X: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """X rescaled into `out` (X itself may be given: in place), block by block."""
        out = np.empty(X.shape, dtype=np.float32) if out is None else out
        for start in range(0, len(X), BLOCK_ROWS):
            block = out[start : start + BLOCK_ROWS]
            np.subtract(X[start : start + BLOCK_ROWS], self.center, out=block, casting="unsafe")
            np.divide(block, self.scale, out=block, casting="unsafe")
        return out


def fit_scaler(X: np.ndarray, method: str) -> Scaler | None:
    """scikit-learn's StandardScaler or RobustScaler fitted on the rows X (the rows the maps are fitted on, as
    the engine gathers them); None for "none". StandardScaler is fed a block of rows at a time (`partial_fit`), so
    that fitting on every row of a 1,000,000-row matrix makes no float64 copy of it; the scaler's center and scale
    are then applied by `Scaler` in float32, where the rows are (engine/base.py)."""
    if method not in SCALERS:
        return None
    from sklearn.preprocessing import RobustScaler, StandardScaler

    if method == "robust":
        robust = RobustScaler().fit(X)
        return Scaler(np.asarray(robust.center_, np.float64), np.asarray(robust.scale_, np.float64), method)
    standard = StandardScaler()
    for start in range(0, len(X), BLOCK_ROWS):
        standard.partial_fit(X[start : start + BLOCK_ROWS])
    return Scaler(np.asarray(standard.mean_, np.float64), np.asarray(standard.scale_, np.float64), method)
