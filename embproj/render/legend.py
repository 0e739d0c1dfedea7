"""Colour: one mapper per colour choice, one legend whose items are swapped when the colour changes, one
colour bar whose mapper is swapped. Both sit in a figure of their own beside the maps ("keys"), as wide as the
widest legend any choice needs: switching the colour then never resizes a map, and the maps of `--algo all`
are equally wide. A legend item's swatch is a one-point stand-in renderer of that class's colour (drawn at NaN),
so that Bokeh's own "hide" click policy greys the item out; the page then hides the class's points through the
shared BooleanFilter (templates/js/colour.js)."""

from __future__ import annotations

from embproj.render.encode import NAN_COLOR, ColorChoice
from embproj.render.names import COLORBAR, LEGEND
from embproj.render.values import ONE_COLOUR

CHAR_PX = 7.5  # an average character of Bokeh's 13 px legend font: a generous estimate, so labels fit
KEYS_PX = (110, 340)  # the keys figure's narrowest and widest


CHANGE_RAMP = ("#b3bcc7", "#f4a259", "#d7301f", "#7f0000")  # a quiet grey for no change, to a dark red for all


def ramp(name: str) -> list[str]:
    """A numeric colour's palette: Viridis; for a comparison's change CHANGE_RAMP (each step darker than the
    one before), so that the rows that stayed recede and the ones that moved stand out; for a lens's share
    (render/lenses.py) red at 0 (the neighbours disagree, or the map lost them) through yellow to blue at 1."""
    from bokeh.palettes import RdYlBu11, Viridis256, interp_palette

    if name == "change":
        return list(interp_palette(CHANGE_RAMP, 256))
    if name == "share":
        return list(reversed(RdYlBu11))
    return list(Viridis256)


def color_mappers(colors: list[ColorChoice]) -> list:
    from bokeh.models import LinearColorMapper

    from embproj.render.models import CodeColorMapper

    mappers = []
    for c in colors:
        if c.kind == "categorical":
            mapper = CodeColorMapper(factors=c.factors, palette=c.palette, nan_color=NAN_COLOR, name=c.mapper)
            if c.factor_of:
                mapper.factor_of = c.factor_of
            mappers.append(mapper)
        else:
            palette = ramp(c.ramp)
            mappers.append(LinearColorMapper(palette, low=c.low, high=c.high, nan_color=NAN_COLOR, name=c.mapper))
    return mappers


def fill_color(colors: list[ColorChoice], mappers: list) -> dict:
    if not colors:
        return {"fill_color": ONE_COLOUR}
    return {"fill_color": {"field": colors[0].key, "transform": mappers[0]}}


def keys_figure(colors: list[ColorChoice], height: int):
    """The figure that holds the legend and the colour bar: no axes, no tools, a fixed width that fits the
    longest entry of every colour choice (None without colours)."""
    from bokeh.models import Range1d
    from bokeh.plotting import figure

    if not colors:
        return None
    labels = [f"{f} ({n:,})" for c in colors for f, n in zip(c.factors, c.counts, strict=True)]
    widest = max([len(label) * CHAR_PX + 50 for label in labels] + [len(c.name) * CHAR_PX + 20 for c in colors])
    return figure(
        width=int(min(max(widest, KEYS_PX[0]), KEYS_PX[1])), height=height, x_range=Range1d(0, 1),
        y_range=Range1d(0, 1), tools="", toolbar_location=None, outline_line_color=None, min_border=0,
        name="keys", sizing_mode="fixed", x_axis_type=None, y_axis_type=None,
    )  # fmt: skip


def add_keys(fig, colors: list[ColorChoice], mappers: list, size: int, alpha: float) -> list[list]:
    """The legend and the colour bar inside `fig` (the keys figure); returns each choice's legend items (empty
    for numeric ones)."""
    from bokeh.models import CDSView, ColorBar, ColumnDataSource, CustomJS, Legend

    items: list[list] = [[] for _ in colors]
    categorical = [j for j, c in enumerate(colors) if c.kind == "categorical"]
    if categorical:
        # one stand-in point, and one view of it, for every swatch
        stand_in = (ColumnDataSource({"x": [float("nan")], "y": [float("nan")]}, name="legend_swatches"), CDSView())
        changed = CustomJS(code="window.embproj.legendChanged();")
        swatches: dict[str, object] = {}
        for j in categorical:
            items[j] = [
                _item(fig, stand_in, swatches, colors[j].palette[k], label, count, size, alpha, changed)
                for k, (label, count) in enumerate(zip(colors[j].factors, colors[j].counts, strict=True))
            ]
        first = 0 if colors[0].kind == "categorical" else categorical[0]
        legend = Legend(
            items=items[first], location="top_left", title=None, click_policy="hide", name=LEGEND,
            visible=first == 0,
        )  # fmt: skip
        fig.add_layout(legend, "left")
    numeric = [j for j, c in enumerate(colors) if c.kind == "continuous"]
    if numeric:
        first = 0 if colors[0].kind == "continuous" else numeric[0]
        bar = ColorBar(
            color_mapper=mappers[first],
            title=colors[first].name,
            width=10,
            name=COLORBAR,
            visible=first == 0,
        )
        fig.add_layout(bar, "left")
    return items


def _item(fig, stand_in, swatches: dict, color: str, label: str, count: int, size: int, alpha: float, changed):
    from bokeh.models import Ellipse, LegendItem

    swatch = swatches.get(color)
    if swatch is None:
        # An ellipse, not a scatter marker: Bokeh has no WebGL ellipse, and every WebGL renderer costs a copy of
        # the WebGL canvas on each repaint (slow where the GPU is software, as in headless Chromium). Its
        # selection and mute looks are left to BokehJS ("auto"): never used, and each would be a model to write.
        glyph = Ellipse(
            x="x", y="y", width=max(size, 8), height=max(size, 8), width_units="screen", height_units="screen",
            fill_color=color, fill_alpha=alpha, line_color=None,
        )  # fmt: skip
        source, view = stand_in
        swatch = fig.add_glyph(source, glyph, view=view, name="swatch")
        swatch.js_on_change("visible", changed)
        swatches[color] = swatch
    return LegendItem(label=f"{label} ({count:,})", renderers=[swatch])
