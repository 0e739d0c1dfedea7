"""The lenses as the page gets them (structure/lenses.py computed them; templates/js/lenses.js draws them): each
row's label agreement as a colour choice, a hover line and the suspect labels' table; each map's trust per point as
a colour choice (each map coloured by its own) and a hover line; with the numbers the page shows in its JSON
("lenses"). Their columns' and models' names are render/names.py's, in the page's JSON "names" (a page with the
lenses only), so the page's script spells none of them.

And the images on the map: for a table with images, each map gets a layer of thumbnails, empty in the file; the
page fills it with the points in the view when they are few enough to see (`IMAGES_IN_VIEW`), each from the same
data URI the hover shows (no second copy in the file), sized to the room each point has and so growing as the map
zooms in (`IMAGE_PX`). Where the map shows many more points the grid index of js/lod.js stops counting at
`IMAGES_IN_VIEW`: a view of a million points costs no more than one of a few hundred."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np

from embproj.render.gear import ALGO as GEAR
from embproj.render.names import AGREE, AGREE_TO, INDEX, PLAIN, map_names, trust_column
from embproj.render.values import ONE_COLOUR, code_dtype

AGREEMENT = "label agreement"  # the colour choice's name, in the colour menu and over its colour bar
TRUST = "map trust"
SHARE = "share"  # the colour ramp of both (legend.ramp): a share from 0, red, through yellow to 1, blue
PLAIN_NAME = "all points"  # a map that has no other colour: one for every point
IMAGES_IN_VIEW = 400  # the most points in a map's view whose images are drawn on it
# an image's longest side, in pixels on screen: ROOM × √(the map's area / points in view), within these bounds
IMAGE_PX = (16, 96)
IMAGE_ROOM = 0.9
PAGE_SUSPECTS = 10_000  # the suspects the page lists (and its CSV holds), worst first; --json's count is of all


def lenses_on(data) -> bool:
    """Whether the page has the lenses (and so their names: names.page_names): a comparison's page has none."""
    return data.lenses is not None and data.lenses.on


def lens_colors(data, columns: dict, others: int) -> list[dict]:
    """The colour choices the lenses add (render/encode.py's ColorChoice's fields but the mapper), their columns
    added to "points". `others`: the page's other colour choices; with none, the first is one colour for every
    point, so that the map is not coloured by a lens until the reader chooses it."""
    lenses = data.lenses
    if lenses is None:
        return []
    added = []
    if lenses.labels is not None:
        labels = lenses.labels
        columns[AGREE] = labels.agreement.astype(np.float32)
        other = np.where(labels.majority != labels.codes, labels.majority, -1)  # the label most carry, not its own
        columns[AGREE_TO] = other.astype(code_dtype(len(labels.labels) + 1))
        added.append({"name": AGREEMENT, "kind": "continuous", "key": AGREE, "low": 0.0, "high": 1.0, "ramp": SHARE})
    if lenses.trust:
        keys = {key: trust_column(key) for key in lenses.trust}
        for key, t in lenses.trust.items():
            columns[keys[key]] = t.kept.astype(np.float32)
        if data.gear is not None:  # the map the page computes: its trust is measured there when drawn (js/gear.js)
            keys[GEAR] = trust_column(GEAR)
            columns[keys[GEAR]] = np.full(len(data.row_ids), np.nan, dtype=np.float32)
        first = next(iter(keys.values()))  # each map is coloured by its own (js/colour.js)
        added.append({"name": TRUST, "kind": "continuous", "key": first, "keys": keys, "low": 0.0, "high": 1.0,
                      "ramp": SHARE})  # fmt: skip
    if others or not added:
        return added
    n = len(data.row_ids)
    columns[PLAIN] = np.zeros(n, dtype=np.int8)
    plain = {"name": PLAIN_NAME, "kind": "categorical", "key": PLAIN, "factors": [PLAIN_NAME], "counts": [n],
             "palette": [ONE_COLOUR]}  # fmt: skip
    return [plain, *added]


def lens_meta(data) -> dict | None:
    """The page's JSON "lenses": what the label lens found (its table's rows, worst first), or None."""
    if not lenses_on(data):
        return None
    lenses = data.lenses
    return {
        "labels": _labels_meta(lenses.labels),
        "trust": _trust_meta(data),
        "images": {"in_view": IMAGES_IN_VIEW, "px": list(IMAGE_PX), "room": IMAGE_ROOM} if _has_images(data) else None,
        "notes": list(lenses.notes),
    }


def _has_images(data) -> bool:
    return lenses_on(data) and data.images is not None and any(data.images)


def add_image_layer(fig, key: str, data) -> None:
    """Map `key`'s layer of images, right above its points and under the rings and the labels; empty until the page
    fills it (js/lenses.js)."""
    from bokeh.models import ColumnDataSource, ImageURL

    if not _has_images(data):
        return
    names = map_names(key, lenses=True)
    empty: dict[str, list] = {c: [] for c in (INDEX, "url", "x", "y", "w", "h", "alpha")}  # INDEX: into "points"
    source = ColumnDataSource(empty, name=names["images"])
    glyph = ImageURL(url="url", x="x", y="y", w="w", h="h", global_alpha="alpha", anchor="center")
    layer = fig.add_glyph(source, glyph, name=names["image_layer"])
    main = next(k for k, r in enumerate(fig.renderers) if r.name == names["points"])
    fig.renderers = [*fig.renderers[: main + 1], layer, *(r for r in fig.renderers[main + 1 :] if r is not layer)]


def _trust_meta(data) -> dict:
    """Each map's trust, by the map's key (its column: names.map_names' "trust"): k, and mean; and the kNN recall
    the header reports, on how many rows."""
    out = {}
    for p in data.projections:
        t = data.lenses.trust.get(p.key)
        if t is None:
            continue
        measured = p.metrics.get("measured_on_rows")
        out[p.key] = {"k": t.k, "mean": t.mean, "name": p.name, "recall": p.metrics.get(f"knn_recall@{t.k}"),
                      "measured_on": measured}  # fmt: skip
    return out


def _labels_meta(labels) -> dict | None:
    if labels is None:
        return None
    shown = labels.suspects[:PAGE_SUSPECTS]
    return {
        "column": labels.column,
        "k": labels.k,
        "agreement": labels.mean,
        "labels": list(labels.labels),  # (its columns: names.page_names' "lenses")
        "suspects": shown.tolist(),  # positions in "points", worst first
        "own": labels.codes[shown].tolist(),  # each one's label (a code into "labels")
        "share": [round(float(v), 4) for v in labels.share[shown]],  # the share of its neighbours' label
        "total": len(labels.suspects),
        "classes": [asdict(c) for c in labels.classes],
        "confused": [asdict(c) for c in labels.confused],
    }
