"""What the report shows, gathered by the pipeline: plain data, no Bokeh."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa


@dataclass(frozen=True)
class ReportData:
    title: str
    projections: tuple  # of project.Projection, same rows in the same order
    table: pa.Table  # the plotted rows (hover, colour and label columns)
    row_ids: np.ndarray  # each plotted row's number in the input
    color: str | None
    color_kind: str | None  # categorical | continuous
    label: str | None
    hover: tuple[str, ...]
    images: list | None  # data URI or None per plotted row
    summary: dict = field(default_factory=dict)  # header/footer facts: source, counts, dims, timings, versions
