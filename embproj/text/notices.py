"""The run's warnings in words: each counts what was dropped, lowered or folded, and why."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from embproj.plan.columns import MAX_CATEGORIES
from embproj.vectors.missing import dropped_note


def run_warnings(sample, matrix, projections, table: pa.Table, color, images, columns=()) -> tuple[str, ...]:
    """Everything the user should know about this run's rows, parameters, legend and images, in that order.
    `columns`: the embedding's numeric columns, named when rows miss their numbers."""
    found = _dropped(sample, matrix, columns) + _rounded(sample) + [note for p in projections for note in p.notes]
    found += _folded(table, color)
    if images is not None and images.warning:
        found.append(images.warning)
    return tuple(found)


def _dropped(sample, matrix, columns) -> list[str]:
    if not matrix.dropped:
        return []
    reasons = ", ".join(f"{n:,} {why}" for why, n in matrix.dropped.items())
    if matrix.gaps and len(matrix.gaps) == len(columns):
        reasons += dropped_note(dict(zip(columns, matrix.gaps)))
    return [f"dropped {matrix.n_dropped:,} of {len(sample.row_ids):,} sampled rows: {reasons}"]


def _rounded(sample) -> list[str]:
    rows = sample.rounded
    if not rows:
        return []
    return [
        f"{rows:,} of {sample.rows_read:,} rows read hold integers beyond ±16,777,216 (2^24), which float32 cannot "
        "hold exactly: their vectors were rounded to float32, so they lost precision"
    ]


def _folded(table: pa.Table, color) -> list[str]:
    if not color.column or color.kind != "categorical":
        return []
    classes = pc.count_distinct(table.column(color.column), mode="all").as_py()
    if classes <= MAX_CATEGORIES:
        return []
    return [
        f'colour "{color.column}" has {classes:,} classes among the plotted rows: the legend shows the '
        f'{MAX_CATEGORIES - 1} largest and folds the rest into "other"'
    ]
