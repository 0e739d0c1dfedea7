"""Missing numbers in an embedding of numeric columns: they cost a column, not the rows.

A row missing any of its dimensions cannot be placed, so one mostly-empty column would drop most rows (ggplot2's
movies: `budget` is missing in 91% of them). With `--missing auto` (the default), when fewer than KEEP_ROWS of
the first rows have every dimension, the columns missing most are left out, as many as leave the map the most
numbers (rows kept × dimensions kept; columns missing in exactly the same rows leave together), with a warning
that names them; the rows still missing a number are dropped and counted by column. So one mostly-empty column
leaves (movies' `budget`; R's votes.repub: the 9 elections before some states were states), and numbers missing
row by row rather than column by column cost those rows (R's pbc: a quarter of the patients lack most lab
results, and no column holds that).
`--missing drop` keeps every column and drops those rows; `--missing fill` keeps both, each gap filled with its
column's median in the first rows (the same numbers on every engine). Columns chosen with `--columns` are kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from embproj.options import say

KEEP_ROWS = 0.8  # leave columns out only when fewer of the first rows than this have every dimension
FEWEST_DIMS = 2
FEWEST_ROWS = 10  # fewer first rows say too little of which column misses most: rows are dropped, as asked by drop


@dataclass(frozen=True)
class Settled:
    columns: tuple[str, ...]  # the dimensions kept
    fill: tuple[float, ...] = ()  # --missing fill: the number each one's gaps are filled with
    left: tuple[tuple[str, float], ...] = ()  # (column, share of the first rows missing it) left out for it
    note: str | None = None  # the warning that names them


def settle_missing(columns: list[str], head: pa.Table, asked: str, chosen: bool) -> Settled:
    """The numeric columns of an embedding with those left out for their missing numbers (auto), or with the
    numbers that fill the gaps (fill); `chosen`: the columns came from --columns, and are kept."""
    if asked == "fill":
        return Settled(tuple(columns), tuple(_median(head.column(c)) for c in columns))
    gaps = np.column_stack([_gaps(head.column(c)) for c in columns]) if columns else np.zeros((0, 0), bool)
    if asked == "drop" or chosen or not gaps.any() or head.num_rows < FEWEST_ROWS:
        return Settled(tuple(columns))
    if _complete(gaps, columns, columns) >= KEEP_ROWS:
        return Settled(tuple(columns))
    units: dict[bytes, list[str]] = {}  # columns missing in exactly the same rows leave together
    for j, c in enumerate(columns):
        units.setdefault(gaps[:, j].tobytes(), []).append(c)
    order = sorted(units.values(), key=lambda u: -gaps[:, columns.index(u[0])].mean())
    best, numbers, out = [], _complete(gaps, columns, columns) * len(columns), []
    for unit in order:
        out += unit
        kept = [c for c in columns if c not in out]
        if len(kept) < FEWEST_DIMS:
            break
        if _complete(gaps, columns, kept) * len(kept) > numbers:
            best, numbers = list(out), _complete(gaps, columns, kept) * len(kept)
    left = [(c, float(gaps[:, columns.index(c)].mean())) for c in best]
    kept = [c for c in columns if c not in best]
    if not left:
        return Settled(tuple(columns))
    names = ", ".join(f'"{name}" ({share:.0%})' for name, share in left)
    note = (
        f"left {names} out of the dimensions: missing in that share of the first {head.num_rows:,} rows, which "
        f"would have dropped those rows; {say('missing', 'drop')} keeps {'it' if len(left) == 1 else 'them'} and "
        f"drops the rows, {say('missing', 'fill')} fills the gaps with each column's median, {say('columns')} "
        "chooses the dimensions"
    )
    return Settled(tuple(kept), (), tuple(left), note)


def dropped_note(gaps: dict[str, int]) -> str:
    """The warning's tail when rows were dropped for missing numbers: which columns, and the options."""
    counts = ", ".join(f'"{name}" {n:,}' for name, n in sorted(gaps.items(), key=lambda g: -g[1]) if n)
    return (
        f" (missing in {counts}); {say('missing', 'fill')} keeps them, each gap filled with its column's median, "
        f"{say('columns')} chooses the dimensions"
    )


def _complete(gaps: np.ndarray, columns: list[str], kept: list[str]) -> float:
    """The share of the rows that have every one of `kept`."""
    return float((~gaps[:, [columns.index(c) for c in kept]].any(axis=1)).mean())


def _gaps(col: pa.ChunkedArray) -> np.ndarray:
    numbers = pc.cast(col, pa.float64(), safe=False).to_numpy(zero_copy_only=False)
    return ~np.isfinite(numbers)


def _median(col: pa.ChunkedArray) -> float:
    numbers = pc.cast(col, pa.float64(), safe=False).to_numpy(zero_copy_only=False)
    finite = numbers[np.isfinite(numbers)]
    return float(np.median(finite)) if len(finite) else 0.0
