"""The names the page's script finds things by, declared once: the Bokeh models it drives (by name) and the
columns it reads. The render modules name their models and columns with these, and the page gets them in its
JSON as "names" (`page_names`), so templates/js spells none of them (js/core.js: `ep.names`, `ep.map`)."""

from __future__ import annotations

POINTS = "points"  # the ColumnDataSource of every plotted row
SHOWN = "shown"  # the BooleanFilter the legend hides classes through
LEGEND = "legend"
COLORBAR = "colorbar"
DRAWN_POINTS = "drawn"  # a large map's points drawn one by one (render/lod.py)
ROW = "row"  # a column of "points": each row's number in the input
CLUSTER = "cluster_id"  # a column of "points": each row's cluster, a code into the labels (the noise: the last)
FIT = "fit"  # a column of "points": 1 for a row the maps were fitted on, 0 for one placed (when some were)
INDEX = "idx"  # a column of the drawn sources: each drawn row's index into "points"
# The marks the page sets, by what they mark: each an IndexFilter of "points" by this name, drawn on each map as
# a ring layer named after what it marks ("search_pca")
MARKS = {"search": "search_hits", "neighbours": "nn_hits", "clicked": "nn_origin"}
# A comparison's page marks two more: a clicked point's neighbours in AFTER only (new) and in BEFORE only (gone)
COMPARE_MARKS = {"new": "nn_new", "gone": "nn_gone"}
CHANGE = "change"  # a column of "points" on a comparison's page: each row's neighbourhood change
# Columns of "points" on a page with the label lens (render/lenses.py): each row's share of its neighbours that
# carry its label, and the label most of them carry when it is not its own (-1 otherwise)
AGREE, AGREE_TO = "lens_agree", "lens_agree_to"
PLAIN = "lens_plain"  # a column of "points": one colour for every point, when the only other colours are lenses


def marks_of(compare: bool = False) -> dict[str, str]:
    """The marks of a page: a comparison's has two more."""
    return {**MARKS, **COMPARE_MARKS} if compare else dict(MARKS)


def x_column(algo: str) -> str:
    return f"x_{algo}"


def y_column(algo: str) -> str:
    return f"y_{algo}"


def drawn_marks(mark: str) -> str:
    """The large map's source of the points of `mark` (a key of MARKS or COMPARE_MARKS) in the view
    (render/lod.py)."""
    return f"{DRAWN_POINTS}_{marks_of(compare=True)[mark]}"


def chart_source(j: int) -> str:
    """The bars of chart j (render/charts.py)."""
    return f"chart_bars_{j}"


def map_names(algo: str, compare: bool = False, lenses: bool = False) -> dict:
    """The names of map `algo`'s own models: its figure, its scatter, the rings of each mark, the cluster labels
    and the two density layers (the contours, and the large map's image and its renderer). `algo` is the map's
    key (`Projection.key`): the algorithm, or in a comparison the algorithm and the side ("umap_after"), whose
    page has the rings of its two more marks. A page with the lenses (render/lenses.py) has each map's trust
    column and its layer of images too."""
    return {
        "algo": algo,
        "figure": f"map_{algo}",
        "points": f"points_{algo}",
        "x": x_column(algo),
        "y": y_column(algo),
        "rings": {mark: f"{mark}_{algo}" for mark in marks_of(compare)},
        "labels": f"cluster_labels_{algo}",
        "labels_shown": f"cluster_labels_shown_{algo}",
        "label_glyphs": f"labels_{algo}",
        "contours": f"density_{algo}",
        "density_image": f"density_image_{algo}",
        "density": f"lod_density_{algo}",
        **(_lens_map_names(algo) if lenses else {}),
    }


def _lens_map_names(algo: str) -> dict:
    return {
        "trust": trust_column(algo),
        "images": f"map_images_{algo}",  # the thumbnails drawn on the map, and their source
        "image_layer": f"map_image_layer_{algo}",
    }


def trust_column(algo: str) -> str:
    """The column of "points" that holds map `algo`'s trust per point (a lens)."""
    return f"lens_trust_{algo}"


def page_names(algos, compare: bool = False, lenses: bool = False) -> dict:
    """What the page's JSON says of the names: the shared models and columns, and each map's own (`algos`: the
    maps' keys); a comparison's page its two more marks and its change column too, a page with the lenses the
    label lens's columns and each map's lens names."""
    return {
        "points": POINTS,
        "shown": SHOWN,
        "legend": LEGEND,
        "colorbar": COLORBAR,
        "drawn": DRAWN_POINTS,
        "row": ROW,
        "fit": FIT,
        "index": INDEX,
        "marks": {mark: {"filter": name, "drawn": drawn_marks(mark)} for mark, name in marks_of(compare).items()},
        "maps": {algo: map_names(algo, compare, lenses) for algo in algos},
        **({"change": CHANGE} if compare else {}),
        **({"lenses": {"agree": AGREE, "agree_to": AGREE_TO}} if lenses else {}),
    }
