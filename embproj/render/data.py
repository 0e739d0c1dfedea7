"""What the report shows, gathered by the pipeline: plain data, no Bokeh."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa


@dataclass(frozen=True)
class CompareView:
    """What a comparison's page shows beside its two maps (the first BEFORE's, the second AFTER's)."""

    change: np.ndarray  # float32, each plotted row's neighbourhood change, 0 to 1
    column: str  # the column of the table that holds it (a hover field, a colour choice)
    key: str | None  # the column that names the rows in both tables (a hover field); None: their numbers
    movers: np.ndarray  # the rows that changed most, most first
    k: int  # the neighbours the change is measured over
    after: Any = None  # render.neighbours.NeighbourTable: each row's nearest rows in AFTER's space; None: none
    after_exact: bool = True
    after_recall: float | None = None


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
    summary: Any  # summary.RunSummary: the header's and footer's facts, and the manifest
    image_facts: Any = None  # summary.ImageFacts: the images this rendering carries (the size budget's choice)
    budget_note: str | None = None  # what the size budget gave up for this rendering, a warning
    colors: tuple[tuple[str, str], ...] = ()  # (column, kind) the page can colour by; the first is `color`
    neighbours: Any = None  # render.neighbours.NeighbourTable: each row's nearest rows in the original space, encoded
    neighbours_note: str = ""  # why there are none, when there are none
    neighbours_metric: str = "euclidean"  # the distance they are nearest by
    neighbours_exact: bool = True  # False: found by an approximate search (neighbours/search.py)
    neighbours_recall: float | None = None  # approximate: the share of true neighbours found (knn.recall)
    fit: np.ndarray | None = None  # positions of the rows the maps were fitted on; None: every row
    hover_more: int = 0  # dimensions left off the hover (a table of nothing else shows its first ones)
    structure: Any = None  # structure.Structure: clusters, their labels and each map's density; None for none
    cluster_column: str | None = None  # the column of `table` that holds each row's cluster, as text
    charts: tuple[tuple[str, str], ...] = ()  # (column, "histogram" | "bars") charted beside the maps
    compare: CompareView | None = None  # `embproj compare`: the change, the movers, AFTER's neighbours
    gear: Any = None  # render.gear.PageSample: the rows the page's gear maps again; None for no gear
    lenses: Any = None  # structure.lenses.Lenses: label agreement; None without them

    @property
    def color_choices(self) -> tuple[tuple[str, str], ...]:
        first = ((self.color, self.color_kind),) if self.color and self.color_kind else ()
        return tuple(dict.fromkeys(first + tuple(c for c in self.colors if c[0] != self.color)))
