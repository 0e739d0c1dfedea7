"""The Bokeh side of the report: one shared ColumnDataSource, one WebGL scatter per projection, the legend or
colour bar, and a hover tool whose CustomJS shows the nearest point only (the page draws the tooltip itself)."""

from __future__ import annotations

import numpy as np

from ..project import NAMES
from .data import ReportData
from .values import categories, display_strings

PALETTE_SIZE = 20


def build_layout(data: ReportData):
    from bokeh.layouts import row

    source, meta = build_source(data)
    last = len(data.projections) - 1
    figures = [_scatter(data, proj, source, meta, legend=(i == last)) for i, proj in enumerate(data.projections)]
    if len(figures) == 1:
        return figures[0], meta
    return row(*figures, sizing_mode="stretch_width", name="maps"), meta


def build_source(data: ReportData):
    from bokeh.models import ColumnDataSource

    n = len(data.row_ids)
    columns: dict = {"row": data.row_ids.astype(np.int32)}
    for proj in data.projections:
        columns[f"x_{proj.algo}"] = proj.xy[:, 0].astype(np.float32)
        columns[f"y_{proj.algo}"] = proj.xy[:, 1].astype(np.float32)
    fields = []
    for i, name in enumerate(data.hover):
        columns[f"f{i}"] = display_strings(data.table.column(name))
        fields.append(name)
    meta = {"fields": fields, "label": data.hover.index(data.label) if data.label in data.hover else -1}
    if data.images is not None:
        columns["img"] = [uri or "" for uri in data.images]
    if data.color and data.color_kind == "categorical":
        cats, factors, counts = categories(display_strings(data.table.column(data.color)))
        columns["cat"] = cats
        meta.update(factors=factors, counts=counts)
    elif data.color and data.color_kind == "continuous":
        values = data.table.column(data.color).to_numpy(zero_copy_only=False).astype(np.float32)
        columns["val"] = values
        finite = values[np.isfinite(values)]
        meta.update(low=float(finite.min()) if finite.size else 0.0, high=float(finite.max()) if finite.size else 1.0)
    meta["n"] = n
    return ColumnDataSource(columns, name="points"), meta


def _scatter(data: ReportData, proj, source, meta, legend: bool = True):
    from bokeh.models import CustomJS, HoverTool
    from bokeh.plotting import figure

    fig = figure(
        title=f"{NAMES[proj.algo]}",
        output_backend="webgl",
        sizing_mode="stretch_width",
        height=640,
        tools="pan,wheel_zoom,box_zoom,box_select,lasso_select,reset,save",
        active_scroll="wheel_zoom",
        toolbar_location="right",
        name=f"map_{proj.algo}",
    )
    fig.xaxis.visible = fig.yaxis.visible = False
    fig.grid.visible = False
    size = 8 if meta["n"] <= 2_000 else 5 if meta["n"] <= 20_000 else 3
    color = _color_spec(data, meta)
    renderer = fig.scatter(
        f"x_{proj.algo}", f"y_{proj.algo}", source=source, size=size, fill_alpha=0.75, line_color=None, **color
    )
    if legend and "factors" in meta:
        _legend(fig, renderer, meta)
    elif legend and "low" in meta:
        _colorbar(fig, renderer, data.color)
    hover = HoverTool(
        renderers=[renderer],
        tooltips=None,
        callback=CustomJS(
            args=dict(source=source, fig=fig, xcol=f"x_{proj.algo}", ycol=f"y_{proj.algo}", meta=meta),
            code="window.embproj.hover(cb_data, source, fig, xcol, ycol, meta);",
        ),
    )
    fig.add_tools(hover)
    return fig


def _color_spec(data: ReportData, meta: dict) -> dict:
    from bokeh.palettes import Category10, Category20, Viridis256
    from bokeh.transform import factor_cmap, linear_cmap

    if "factors" in meta:
        factors = meta["factors"]
        palette = Category10[10] if len(factors) <= 10 else Category20[20]
        return {"fill_color": factor_cmap("cat", list(palette[: max(3, len(factors))]), factors)}
    if "low" in meta:
        return {"fill_color": linear_cmap("val", Viridis256, meta["low"], meta["high"], nan_color="#bbbbbb")}
    return {"fill_color": "#1f77b4"}


def _legend(fig, renderer, meta: dict) -> None:
    from bokeh.models import Legend, LegendItem

    cats = renderer.data_source.data["cat"]
    first = {}
    for i, c in enumerate(cats):
        first.setdefault(c, i)
    items = [
        LegendItem(label=f"{f} ({meta['counts'][f]:,})", renderers=[renderer], index=first[f]) for f in meta["factors"]
    ]
    legend = Legend(items=items, location="top_left", title=None)
    fig.add_layout(legend, "right")


def _colorbar(fig, renderer, title: str) -> None:
    from bokeh.models import ColorBar

    bar = ColorBar(color_mapper=renderer.glyph.fill_color.transform, title=title, width=10)
    fig.add_layout(bar, "right")
