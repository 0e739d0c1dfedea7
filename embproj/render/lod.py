"""The large map's level of detail. Above `THRESHOLD` points a map no longer draws every point: it draws a density
image of all of them (per colour class, blended by count, so overlapping classes mix instead of hiding each
other) and over it at most `DRAWN` points, chosen in the view per cell and class so that every class and every
sparse region keep points; zooming in draws the view's points one by one. The page does the work (js/lod.js):
it bins the points, picks the drawn ones, and answers hover, click, search and selection on every row through a
grid index. Python declares the numbers and the models; the page reads the numbers from its JSON ("lod").

Why these numbers (headless Chromium, software WebGL, this 2-core machine, loaded): handing Bokeh a new set of
drawn points and repainting costs one task of ~0.37 s for 10,000 points, ~0.3 s for 5,000 and ~0.15 s for 3,000
(benchmarks/large_page.py); during a drag each repaint of the 1M map took ~0.2 s with 3,000 drawn points and ~0.1 s
with none (the density image and the canvas copies), so 2,000 keeps a pan's longest task near 0.25 s on a loaded
machine; a map of 20,000 points or fewer (~14 µs a point a repaint, ~0.3 s) is still drawn whole, as before."""

from __future__ import annotations

from embproj.render.names import DRAWN_POINTS, INDEX, drawn_marks, map_names, x_column, y_column
from embproj.structure.density import BINS

THRESHOLD = 20_000  # more points than this: the density image and at most DRAWN points
DRAWN = 2_000  # points drawn one by one at most, in the view
THIN_CELLS = 48  # the view is cut into this many cells a side to choose the drawn points (per cell and class)
INDEX_CELLS = 512  # the page's grid index for hit-testing: cells a side over the map's extent
PAN_POINTS = 1_000  # during a pan or zoom Bokeh draws every lod_factor-th point of the drawn ones above this
HOVER_PX = 6  # the large map's hover finds the nearest point within this many pixels, drawn or not
DENSITY_ALPHA = (0.25, 0.9)  # opacity of the lightest and the densest cell of the density image


def lod_meta(n: int) -> dict | None:
    """The page's level-of-detail settings, or None when every point is drawn."""
    if n <= THRESHOLD:
        return None
    return {
        "threshold": THRESHOLD,
        "drawn": DRAWN,
        "thin_cells": THIN_CELLS,
        "index_cells": INDEX_CELLS,
        "bins": BINS,
        "hover_px": HOVER_PX,
        "alpha": list(DENSITY_ALPHA),
    }


def drawn_source(columns: dict, algos: list[str], colour_keys: list[str]):
    """The points drawn one by one, filled by the page: their index into "points", coordinates and colours."""
    import numpy as np
    from bokeh.models import ColumnDataSource

    data = _drawn_rows(algos)
    for key in colour_keys:
        data[key] = np.zeros(0, columns[key].dtype)
    return ColumnDataSource(data, name=DRAWN_POINTS)


def marks_source(mark: str, algos: list[str]):
    """A ring layer's points (search hits, neighbours, the clicked point), filled by the page from its filter."""
    from bokeh.models import ColumnDataSource

    return ColumnDataSource(_drawn_rows(algos), name=drawn_marks(mark))


def _drawn_rows(algos: list[str]) -> dict:
    """No rows yet: their index into "points" and their place on each map."""
    import numpy as np

    data = {INDEX: np.zeros(0, np.int32)}
    for a in algos:
        data[x_column(a)] = data[y_column(a)] = np.zeros(0, np.float32)
    return data


def add_density(fig, algo: str) -> None:
    """The density image under the points, an empty image until the page paints it (image_rgba, on the canvas:
    its repaint costs the same at any number of points)."""
    import numpy as np
    from bokeh.models import ColumnDataSource

    names = map_names(algo)
    image = ColumnDataSource(
        {"image": [np.zeros((1, 1), np.uint32)], "x": [0.0], "y": [0.0], "dw": [1.0], "dh": [1.0]},
        name=names["density_image"],
    )
    fig.image_rgba(image="image", x="x", y="y", dw="dw", dh="dh", source=image, name=names["density"])
    fig.lod_threshold = PAN_POINTS
    fig.lod_factor = 10
    fig.lod_timeout = 300


def add_hit_events(fig, algo: str, models: list) -> None:
    """Hover, click and box or lasso selection answered by the page's grid index over every row. `models`: those
    the page reads and writes that no renderer holds (a document finds by name only the models its roots refer
    to, so the figure's callback refers to them)."""
    from bokeh.models import CustomJS

    args = {"fig": fig, "models": models}
    fig.js_on_event("mousemove", CustomJS(args=args, code=f"window.embproj.lodHover(cb_obj, fig, '{algo}');"))
    fig.js_on_event("mouseleave", CustomJS(code="window.embproj.lodHover(null);"))
    fig.js_on_event("selectiongeometry", CustomJS(args=args, code=f"window.embproj.lodSelect(cb_obj, '{algo}');"))
