"""The Bokeh side of the report: one shared ColumnDataSource "points", one WebGL scatter per projection,
rings for the search hits and for a clicked point's neighbours, the legend or colour bar, and the callbacks
that hand each event to the page's script (templates/js/). The page draws tooltip, table and controls."""

from __future__ import annotations

from embproj.render.charts import chart_figures, follow_selection
from embproj.render.clusters import add_map_layers, label_settings
from embproj.render.data import ReportData
from embproj.render.encode import Encoded, encode
from embproj.render.gear import ALGO as GEAR
from embproj.render.gear import GearMap, gear_columns
from embproj.render.legend import add_keys, color_mappers, fill_color, keys_figure
from embproj.render.lenses import add_image_layer, lenses_on
from embproj.render.lod import add_density, add_hit_events, drawn_source, lod_meta, marks_source
from embproj.render.names import COMPARE_MARKS, POINTS, SHOWN, map_names, marks_of, page_names

ALPHA = 0.75
SEARCH_RING = "#e4007c"
NEIGHBOUR_RING = "#111111"
NEW_RING = "#1a9850"  # a comparison: a neighbour in AFTER only
GONE_RING = "#5e3c99"  # and one in BEFORE only
COMPARE_RINGS = {"new": NEW_RING, "gone": GONE_RING}  # a comparison's rings, by mark (names.COMPARE_MARKS)
HEIGHT = 640
# What the wheel does, said under the controls (the page swaps the text when a map is armed: js/zoom.js).
ZOOM_NOTE = {
    "idle": "the wheel scrolls the page: click a map, or hold Ctrl or ⌘, to zoom it with the wheel",
    "armed": "the wheel zooms this map; move the pointer off it to scroll the page again",
}


def build_layout(data: ReportData):
    """(the root layout, the page's JSON meta, the callback to run once the document is ready)."""
    from bokeh.layouts import column, row
    from bokeh.models import BooleanFilter, ColumnDataSource, CustomJS, IndexFilter

    encoded = encode(data)
    maps = [*data.projections, *((GearMap(),) if data.gear is not None else ())]  # the gear's: hidden, empty
    if data.gear is not None:
        encoded.columns.update(gear_columns(len(data.row_ids)))
    source = ColumnDataSource(encoded.columns, name=POINTS)
    shown = BooleanFilter(name=SHOWN)  # no booleans: every point; the legend hides classes through it
    compare = data.compare is not None  # a comparison's page marks two more: neighbours new and gone
    marks = {mark: IndexFilter(indices=[], name=name) for mark, name in marks_of(compare).items()}
    mappers = color_mappers(encoded.colors)
    size = point_size(len(data.row_ids))
    lod = lod_meta(len(data.row_ids))
    drawn = {**_drawn_sources(encoded, data), "held": [source, shown, *marks.values()]} if lod else None
    ranges = _shared_ranges(data) if compare else None
    figures = [_figure(proj, source, shown, marks, encoded, mappers, size, drawn, ranges) for proj in maps]
    if data.gear is not None:
        figures[-1].visible = False
    for fig, proj in zip(figures, data.projections):
        add_map_layers(fig, proj, data)  # cluster labels and density contours (clusters.py)
        add_image_layer(fig, proj.key, data)  # the images on the map (lenses.py)
    keys = keys_figure(encoded.colors, HEIGHT)
    items = add_keys(keys, encoded.colors, mappers, size, ALPHA) if keys is not None else []
    source.selected.js_on_change("indices", CustomJS(code="window.embproj.selectionChanged();"))
    args = {"items": items, "mappers": mappers, "figures": figures}
    ready = CustomJS(args=args, code="window.embproj.ready(items, mappers, figures);")
    panels = [*figures, keys] if keys is not None else figures
    layout = panels[0] if len(panels) == 1 else row(*panels, sizing_mode="stretch_width", name="maps")
    charts = chart_figures(encoded.meta["charts"], source)  # linked to the maps (charts.py)
    if charts is not None:
        follow_selection(source)
        layout = column(layout, charts, sizing_mode="stretch_width", name="page")
    names = page_names([p.key for p in maps], compare, lenses_on(data))  # what the page finds its models by
    meta = {**encoded.meta, "zoom": ZOOM_NOTE, "label_font": label_settings(), "lod": lod, "names": names}
    if data.gear is not None:
        meta["gear"] = data.gear.meta
    return layout, meta, ready


def _drawn_sources(encoded: Encoded, data: ReportData) -> dict:
    """The large map's small sources: the drawn points ("points") and each mark's points."""
    algos = [p.key for p in data.projections] + ([GEAR] if data.gear is not None else [])
    keys = [key for c in encoded.colors for key in c.every_key]
    marks = {m: marks_source(m, algos) for m in marks_of(data.compare is not None)}
    return {"points": drawn_source(encoded.columns, algos, keys), **marks}


def point_size(n: int) -> int:
    return 8 if n <= 2_000 else 5 if n <= 20_000 else 3


def _shared_ranges(data: ReportData) -> tuple:
    """A comparison's two maps, aligned, share their ranges: a row that stayed is at the same place on both, and
    panning or zooming one moves the other."""
    import numpy as np

    xy = np.concatenate([p.xy for p in data.projections])
    return _fixed_range(xy[:, 0]), _fixed_range(xy[:, 1])


def _figure(proj, source, shown, marks: dict, encoded: Encoded, mappers: list, size: int, drawn, ranges=None):
    from bokeh.models import CDSView, CustomJS, HoverTool
    from bokeh.plotting import figure

    x_range, y_range = ranges or (_fixed_range(proj.xy[:, 0]), _fixed_range(proj.xy[:, 1]))
    names = map_names(proj.key, compare=COMPARE_MARKS.keys() <= marks.keys())
    fig = figure(
        x_range=x_range,  # fixed: hiding a class must not move the map
        y_range=y_range,
        title=proj.name,
        output_backend="webgl",
        sizing_mode="stretch_width",
        height=HEIGHT,
        tools="pan,wheel_zoom,box_zoom,box_select,lasso_select,reset,save",
        active_scroll=None,  # the wheel scrolls the page; templates/js/zoom.js arms it on a click or Ctrl/⌘
        toolbar_location="right",
        name=names["figure"],
        x_axis_type=None,  # no axes and so no grids: a map's axes mean nothing, and each is ~5 models to write
        y_axis_type=None,
    )
    x, y, rings = names["x"], names["y"], names["rings"]
    if drawn:
        return _large_figure(fig, names, drawn, encoded, mappers, size)
    main = fig.scatter(
        x, y, source=source, view=CDSView(filter=shown), size=size, fill_alpha=ALPHA, line_color=None,
        name=names["points"], **fill_color(encoded.colors, mappers),
    )  # fmt: skip
    _ring(fig, x, y, source, shown & marks["search"], size + 6, SEARCH_RING, 1.5, rings["search"])
    _ring(fig, x, y, source, shown & marks["neighbours"], size + 6, NEIGHBOUR_RING, 2.5, rings["neighbours"])
    for mark in (m for m in COMPARE_MARKS if m in marks):
        _ring(fig, x, y, source, shown & marks[mark], size + 6, COMPARE_RINGS[mark], 2.5, rings[mark])
    _ring(fig, x, y, source, marks["clicked"], size + 12, NEIGHBOUR_RING, 3.0, rings["clicked"], marker="cross")
    _select_on(fig, main)
    axes = {"fig": fig, "xcol": x, "ycol": y}
    fig.add_tools(
        HoverTool(
            renderers=[main],
            tooltips=None,
            callback=CustomJS(
                args={"source": source, **axes},
                code="window.embproj.hover(cb_data, source, fig, xcol, ycol);",
            ),
        )
    )
    tap = CustomJS(args=axes, code="window.embproj.tap(cb_obj, fig, xcol, ycol);")
    fig.js_on_event("tap", tap)
    fig.js_on_event("doubletap", tap)  # a second click soon after the first, on another point
    return fig


def _select_on(fig, main) -> None:
    from bokeh.models import BoxSelectTool, LassoSelectTool

    for tool in fig.tools:
        if isinstance(tool, (BoxSelectTool, LassoSelectTool)):
            tool.renderers = [main]


def _large_figure(fig, names: dict, drawn: dict, encoded: Encoded, mappers: list, size: int):
    """The map above lod.THRESHOLD points: the density image, the drawn points and the rings from the page's
    small sources, and hover, click and selection answered by the page over every row (js/lod.js). `names`: the
    map's (names.map_names)."""
    from bokeh.models import CustomJS

    algo, x, y, rings = names["algo"], names["x"], names["y"], names["rings"]
    add_density(fig, algo)
    main = fig.scatter(
        x, y, source=drawn["points"], size=size, fill_alpha=ALPHA, line_color=None, name=names["points"],
        **fill_color(encoded.colors, mappers),
    )  # fmt: skip
    _ring(fig, x, y, drawn["search"], None, size + 6, SEARCH_RING, 1.5, rings["search"])
    _ring(fig, x, y, drawn["neighbours"], None, size + 6, NEIGHBOUR_RING, 2.5, rings["neighbours"])
    for mark in (m for m in COMPARE_MARKS if m in drawn):
        _ring(fig, x, y, drawn[mark], None, size + 6, COMPARE_RINGS[mark], 2.5, rings[mark])
    _ring(fig, x, y, drawn["clicked"], None, size + 12, NEIGHBOUR_RING, 3.0, rings["clicked"], marker="cross")
    _select_on(fig, main)
    add_hit_events(fig, algo, drawn["held"])
    tap = CustomJS(args={"fig": fig, "xcol": x, "ycol": y}, code="window.embproj.tap(cb_obj, fig, xcol, ycol);")
    fig.js_on_event("tap", tap)
    fig.js_on_event("doubletap", tap)
    return fig


def _fixed_range(values):
    import numpy as np
    from bokeh.models import Range1d

    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    pad = (high - low) * 0.04 or 1.0
    return Range1d(low - pad, high + pad)


def _ring(fig, x, y, source, view_filter, size, color, width, name, marker="circle"):
    from bokeh.models import CDSView, Scatter

    view = CDSView(filter=view_filter) if view_filter is not None else CDSView()
    glyph = Scatter(x=x, y=y, size=size, marker=marker, fill_color=None, line_color=color, line_width=width)
    return fig.add_glyph(
        source, glyph, view=view, name=name,
        selection_glyph=glyph, nonselection_glyph=glyph,  # a ring stays as strong outside a selection
    )  # fmt: skip
