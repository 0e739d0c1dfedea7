"""Charts of other columns under the maps, linked to them: a histogram for a number, a bar chart of the top
categories for anything else. Each point carries its bar's number (one int8 a point, "chart<j>" in the points'
source), so the page counts a selection's bars in one pass (templates/js/charts.js): selecting on the map draws
the selection's bars over the whole's in every chart, and clicking a bar or brushing a range of bars selects
those rows on the map (the selection table and its CSV follow)."""

from __future__ import annotations

import numpy as np

from embproj.render.names import chart_source
from embproj.render.values import MISSING, OTHER, display_strings, natural_order

HISTOGRAM_BINS = 30
BARS = 12  # categories shown; the rest are one "other" bar
LABEL_CHARS = 24  # a category's name on the axis, cut beyond (the whole name is in the page's JSON)
HEIGHT = 220
PER_ROW = 3
WHOLE, SELECTED, BRUSHED = "#cfd5dd", "#2563eb", "#8a96a8"


def chart_meta(data, columns: dict, colors: list | tuple = ()) -> list[dict]:
    """Each chart's bars (their names or edges, and their counts) for the page's JSON; every point's bar, or -1
    for a missing value, added to the points' `columns` as "chart<j>", unless the chart is of a column the page
    colours by (`colors`, render/encode.py's choices): then the bars are read from the colour's codes through
    "from" (each class's bar), and the page carries the column once."""
    out = []
    for j, (name, kind) in enumerate(data.charts):
        col = data.table.column(name)
        codes, bars = _histogram(col) if kind == "histogram" else _categories(col)
        key = f"chart{j}"
        shared = _from_colour(codes, name, kind, colors, columns)
        if shared is None:
            columns[key] = codes
        counts = np.bincount(codes[codes >= 0], minlength=len(bars["labels"])).tolist()
        out.append({"name": name, "kind": kind, "key": key, "source": chart_source(j), "counts": counts,
                    "missing": int((codes < 0).sum()), **bars, **({"from": shared} if shared else {})})  # fmt: skip
    return out


def _from_colour(codes: np.ndarray, name: str, kind: str, colors, columns: dict) -> dict | None:
    """{"key": the colour's codes column, "bars": each code's bar} when the bars of chart column `name` are a
    function of the codes of the colour by the same column (every class of the colour in one bar), else None."""
    choice = next((c for c in colors if c.name == name and c.kind == "categorical" and not c.factor_of), None)
    if kind != "bars" or choice is None:
        return None
    colour = np.asarray(columns[choice.key]).astype(np.int64)
    bars = np.full(len(choice.factors), -1, np.int64)
    bars[colour] = codes
    if not np.array_equal(bars[colour], codes):  # a class of the colour split over two bars: not a function
        return None
    return {"key": choice.key, "bars": bars.tolist()}


def _histogram(col) -> tuple[np.ndarray, dict]:
    """Bins of equal width over the values' range; one bin per value for whole numbers over a short range."""
    values = col.to_numpy(zero_copy_only=False).astype(np.float64)
    finite = np.isfinite(values)
    if not finite.any():
        return np.full(len(values), -1, dtype=np.int8), {"edges": [0.0, 1.0], "labels": [""]}
    low, high = float(values[finite].min()), float(values[finite].max())
    whole = bool(np.all(values[finite] == np.round(values[finite])))
    if whole and high - low < HISTOGRAM_BINS:
        edges = np.arange(low - 0.5, high + 1.0, 1.0)
    else:
        edges = np.linspace(low, high if high > low else low + 1.0, HISTOGRAM_BINS + 1)
    codes = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)
    codes = np.where(finite, codes, -1).astype(np.int8)
    labels = [f"{_number(a)} to {_number(b)}" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    return codes, {"edges": edges.tolist(), "labels": labels}


def _categories(col) -> tuple[np.ndarray, dict]:
    """Every value in natural order ("2" before "10") when they fit; else the BARS - 1 most common, most common
    first (ties in natural order too), and "other" for the rest."""
    strings = [s if s != "" else MISSING for s in display_strings(col)]
    values, counts = np.unique(np.array(strings, dtype=object), return_counts=True)
    folded = len(values) > BARS
    if folded:
        order = sorted(range(len(values)), key=lambda k: (-counts[k], natural_order(str(values[k]))))
        top = [str(values[k]) for k in order[: BARS - 1]]
    else:
        top = sorted(map(str, values), key=natural_order)
    index = {v: k for k, v in enumerate(top)}
    codes = np.fromiter((index.get(s, len(top)) for s in strings), dtype=np.int8, count=len(strings))
    return codes, {"labels": top + ([_other(top)] if folded else []), "folded": folded}


def _other(top: list[str]) -> str:
    return OTHER if OTHER not in top else f"{OTHER} (folded)"


def _number(v: float) -> str:
    return f"{v:.4g}"


def chart_figures(charts: list[dict], points):
    """The charts' figures in rows of PER_ROW, or None without charts."""
    from bokeh.layouts import column, row
    from bokeh.models import Spacer

    if not charts:
        return None
    figures = [_chart(j, c, points) for j, c in enumerate(charts)]
    rows = []
    for k in range(0, len(figures), PER_ROW):
        few = figures[k : k + PER_ROW]
        room = [Spacer(sizing_mode="stretch_width") for _ in range(PER_ROW - len(few))]  # every chart a third wide
        rows.append(row(*few, *room, sizing_mode="stretch_width"))
    return column(*rows, sizing_mode="stretch_width", name="charts")


def _chart(j: int, chart: dict, points):
    from bokeh.models import BoxSelectTool, ColumnDataSource, CustomJS, FixedTicker, Grid, PlainText, Range1d, TapTool
    from bokeh.plotting import figure

    n = len(chart["labels"])
    zeros = [0] * n
    histogram = chart["kind"] == "histogram"
    data = {"whole": chart["counts"], "sel": zeros, "label": chart["labels"]}
    if histogram:
        data.update(left=chart["edges"][:-1], right=chart["edges"][1:])
    else:
        data.update(y=list(range(n)))
    source = ColumnDataSource(data, name=chart["source"])
    ranges = {} if histogram else {"y_range": Range1d(n - 0.5, -0.5)}  # bars top down, the first on top
    fig = figure(
        height=HEIGHT, sizing_mode="stretch_width", tools="", toolbar_location=None, name=f"chart_{j}",
        min_border_left=8, **ranges,
    )  # fmt: skip
    fig.title.text = PlainText(text=_title(chart))  # a name or value like "$$x$$" as written, not TeX
    fig.center = [r for r in fig.center if not isinstance(r, Grid)]  # no grid lines: fewer models to write
    fig.title.text_font_size = "12px"
    if histogram:
        whole = fig.quad(left="left", right="right", bottom=0, top="whole", source=source, fill_color=WHOLE,
                         line_color="white", name=f"chart_whole_{j}")  # fmt: skip
        sel = fig.quad(left="left", right="right", bottom=0, top="sel", source=source, fill_color=SELECTED,
                       line_color=None, name=f"chart_sel_{j}")  # fmt: skip
        fig.y_range.start = 0
    else:
        whole = fig.hbar(y="y", left=0, right="whole", height=0.8, source=source, fill_color=WHOLE, line_color=None,
                         name=f"chart_whole_{j}")  # fmt: skip
        sel = fig.hbar(y="y", left=0, right="sel", height=0.8, source=source, fill_color=SELECTED, line_color=None,
                       name=f"chart_sel_{j}")  # fmt: skip
        fig.x_range.start = 0
        fig.yaxis.ticker = FixedTicker(ticks=list(range(n)))
        fig.yaxis.major_label_overrides = {k: PlainText(text=_short(label)) for k, label in enumerate(chart["labels"])}
    whole.selection_glyph = whole.glyph.clone(fill_color=BRUSHED)
    whole.nonselection_glyph = whole.glyph.clone(fill_alpha=0.45)
    sel.selection_glyph = sel.nonselection_glyph = sel.glyph  # the selection's bars never fade
    brush = BoxSelectTool(dimensions="width" if histogram else "height", renderers=[whole])
    tap = TapTool(renderers=[whole])
    fig.add_tools(brush, tap)
    fig.toolbar.active_drag = brush
    fig.toolbar.active_tap = tap
    source.selected.js_on_change("indices", CustomJS(code=f"window.embproj.chartBrushed({j});"))
    return fig


def _title(chart: dict) -> str:
    folded = f" (top {BARS - 1}, then the others)" if chart.get("folded") else ""
    missing = f" · {chart['missing']:,} missing" if chart["missing"] else ""
    return f"{chart['name']}{folded}{missing}"


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def follow_selection(points) -> None:
    """The charts redraw the selection's bars whenever the map's selection changes."""
    from bokeh.models import CustomJS

    points.selected.js_on_change("indices", CustomJS(code="window.embproj.chartsFollow();"))
