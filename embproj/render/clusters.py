"""The structure layers of each map (structure/clusters.py found them): every cluster's label at its centre, drawn as
text in
data coordinates so that it stays on its cluster when the map is zoomed or panned (templates/js/clusters.js
shows, biggest cluster first, only the labels that do not collide with a bigger one), and the density contours,
a switchable layer under the points. Also what the page's cluster table needs: each point's cluster as a code."""

from __future__ import annotations

from embproj.render.names import CLUSTER, map_names
from embproj.render.values import code_dtype, display_strings, palette

NOISE_COLOR = "#d9dce1"  # a noise point in the cluster colouring: visible, but faint beside any cluster's colour
LABEL_FONT = {"text_font": "helvetica", "text_font_size": "13px", "text_font_style": "bold"}  # js/clusters.js too
LABEL_PADDING = 3  # pixels around a label's text, inside its white box
CONTOUR_COLOR = "#3c4657"


def cluster_meta(data, columns: dict) -> dict | None:
    """Each point's cluster added to the points' `columns` as "cluster_id" (codes into the labels, the noise the
    last: the hover field reads them through `cluster_words` and the cluster colour through its `factor_of`, so the
    page carries each point's cluster once); the page's JSON for the cluster table: labels, sizes and purities,
    biggest first."""
    import numpy as np

    s = data.structure
    if s is None or s.codes is None:
        return None
    noise = len(s.clusters)
    columns[CLUSTER] = np.where(s.codes < 0, noise, s.codes).astype(code_dtype(noise + 1))
    return {
        "key": CLUSTER,
        "column": data.cluster_column,
        "labels": [c.label for c in s.clusters],
        "sizes": [c.size for c in s.clusters],
        "purity": [None if c.purity is None else round(float(c.purity), 4) for c in s.clusters],
        "noise": int(np.sum(s.codes < 0)),
        "about": s.about,
    }


def cluster_words(data) -> list[str]:
    """The text of each code of the "cluster_id" column: the clusters' labels, then the noise's (as the cluster
    column of the table says them: render/assemble.py)."""
    import pyarrow as pa

    from embproj.structure.clusters import NOISE_LABEL

    return display_strings(pa.array([c.label for c in data.structure.clusters] + [NOISE_LABEL]))


def density_maps(data) -> list[str]:
    """The maps that have density contours to switch on."""
    s = data.structure
    return [] if s is None else [algo for algo, d in s.density.items() if d.levels]


def faint_noise(colors: list, data) -> None:
    """The cluster colouring: the clusters in the palette's colours, the noise faint (NOISE_COLOR)."""
    from embproj.structure.clusters import NOISE_LABEL

    for c in colors:
        if c.name == data.cluster_column and NOISE_LABEL in c.factors:
            clusters = iter(palette(len(c.factors) - 1))
            c.palette = [NOISE_COLOR if f == NOISE_LABEL else next(clusters) for f in c.factors]


def add_map_layers(fig, proj, data) -> None:
    """Density contours (hidden until the page's switch shows them) and the cluster labels, on one map."""
    s = data.structure
    if s is None:
        return
    density = s.density.get(proj.key)
    if density is not None and density.levels:
        _contours(fig, proj.key, density)
    if s.codes is not None:
        _labels(fig, proj.key, s.clusters)


def _contours(fig, algo: str, density) -> None:
    contour = fig.contour(
        density.x, density.y, density.z, list(density.levels), line_color=CONTOUR_COLOR, line_alpha=0.5,
        line_width=1.2, fill_color=None,
    )  # fmt: skip
    contour.name = map_names(algo)["contours"]
    contour.level = "underlay"  # under the points: the contours show where they crowd, not hide them
    # Hidden by its lines, not by itself: BokehJS never draws a contour renderer that starts invisible.
    contour.line_renderer.visible = False


def _labels(fig, algo: str, clusters) -> None:
    from bokeh.core.properties import value
    from bokeh.models import CDSView, ColumnDataSource, CustomJS, IndexFilter, Text

    placed, named = [(c.centres[algo], c.label) for c in clusters if algo in c.centres], map_names(algo)
    source = ColumnDataSource(
        {"x": [xy[0] for xy, _ in placed], "y": [xy[1] for xy, _ in placed], "text": [t for _, t in placed]},
        name=named["labels"],
    )
    shown = IndexFilter(indices=[], name=named["labels_shown"])  # js/clusters.js places them
    glyph = Text(
        x="x", y="y", text="text", text_align="center", text_baseline="middle", text_color="#111827",
        background_fill_color="white", background_fill_alpha=0.82, padding=LABEL_PADDING, border_radius=3,
        text_font=value(LABEL_FONT["text_font"]), text_font_size=LABEL_FONT["text_font_size"],
        text_font_style=LABEL_FONT["text_font_style"],
    )  # fmt: skip
    # over the points and their rings, a label is read first; its selection and mute looks are BokehJS's own
    fig.add_glyph(source, glyph, view=CDSView(filter=shown), name=named["label_glyphs"], level="overlay")
    place = CustomJS(code="window.embproj.placeLabels();")
    for model, names in ((fig.x_range, ("start", "end")), (fig.y_range, ("start", "end")),
                         (fig, ("inner_width", "inner_height"))):  # fmt: skip
        for name in names:
            model.js_on_change(name, place)


def label_settings() -> dict:
    """What js/clusters.js needs to measure a label as Bokeh draws it."""
    font = LABEL_FONT
    return {"font": f"{font['text_font_style']} {font['text_font_size']} {font['text_font']}", "padding": LABEL_PADDING}
