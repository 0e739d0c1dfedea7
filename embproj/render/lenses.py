"""The lenses as the page gets them (structure/lenses.py computed them; templates/js/lenses.js draws them): each
row's label agreement as a colour choice, a hover line and the suspect labels' table; each map's trust per point as
a colour choice (each map coloured by its own) and a hover line; with the numbers the page shows in its JSON
("lenses"). The column keys travel in that JSON, so the page's script spells none of them.

And the images on the map: for a table with images, each map gets a layer of thumbnails, empty in the file; the
page fills it with the points in the view when they are few enough to see (`IMAGES_IN_VIEW`), each from the same
data URI the hover shows (no second copy in the file), sized to the room each point has and so growing as the map
zooms in (`IMAGE_PX`). Where the map shows many more points the grid index of js/lod.js stops counting at
`IMAGES_IN_VIEW`: a view of a million points costs no more than one of a few hundred."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np

from embproj.render.names import INDEX, map_names
from embproj.render.values import ONE_COLOUR, code_dtype

AGREEMENT = "label agreement"  # the colour choice's name, in the colour menu and over its colour bar
# columns of "points": the share, and the label most of the neighbours carry when it is not the row's own (or -1)
AGREE_KEY, AGREE_TO_KEY = "lens_agree", "lens_agree_to"
TRUST = "map trust"
PLAIN, PLAIN_KEY = "all points", "lens_plain"  # a map that has no other colour: one for every point
IMAGES_IN_VIEW = 400  # the most points in a map's view whose images are drawn on it
# an image's longest side, in pixels on screen: ROOM × √(the map's area / points in view), within these bounds
IMAGE_PX = (16, 96)
IMAGE_ROOM = 0.9
PAGE_SUSPECTS = 10_000  # the suspects the page lists (and its CSV holds), worst first; --json's count is of all


def trust_key(algo: str) -> str:
    """The column of "points" that holds map `algo`'s trust per point."""
    return f"lens_trust_{algo}"


def low_to_high() -> list[str]:
    """A share from 0 (red: the neighbours disagree, or the map lost them) through yellow to 1 (blue)."""
    from bokeh.palettes import RdYlBu11

    return list(reversed(RdYlBu11))


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
        columns[AGREE_KEY] = labels.agreement.astype(np.float32)
        other = np.where(labels.majority != labels.codes, labels.majority, -1)  # the label most carry, not its own
        columns[AGREE_TO_KEY] = other.astype(code_dtype(len(labels.labels) + 1))
        added.append({"name": AGREEMENT, "kind": "continuous", "key": AGREE_KEY, "low": 0.0, "high": 1.0,
                      "palette": low_to_high()})  # fmt: skip
    if lenses.trust:
        keys = {algo: trust_key(algo) for algo in lenses.trust}
        for algo, t in lenses.trust.items():
            columns[keys[algo]] = t.kept.astype(np.float32)
        first = next(iter(keys.values()))  # each map is coloured by its own (js/colour.js)
        added.append({"name": TRUST, "kind": "continuous", "key": first, "keys": keys, "low": 0.0, "high": 1.0,
                      "palette": low_to_high()})  # fmt: skip
    if others or not added:
        return added
    n = len(data.row_ids)
    columns[PLAIN_KEY] = np.zeros(n, dtype=np.int8)
    plain = {"name": PLAIN, "kind": "categorical", "key": PLAIN_KEY, "factors": [PLAIN], "counts": [n],
             "palette": [ONE_COLOUR]}  # fmt: skip
    return [plain, *added]


def lens_meta(data) -> dict | None:
    """The page's JSON "lenses": what the label lens found (its table's rows, worst first), or None."""
    lenses = data.lenses
    if lenses is None or not lenses.on:
        return None
    return {
        "labels": _labels_meta(lenses.labels),
        "trust": _trust_meta(data),
        "images": {"in_view": IMAGES_IN_VIEW, "px": list(IMAGE_PX), "room": IMAGE_ROOM} if _has_images(data) else None,
        "notes": list(lenses.notes),
    }


def _has_images(data) -> bool:
    return data.lenses is not None and data.lenses.on and data.images is not None and any(data.images)


def add_image_layer(fig, algo: str, data) -> None:
    """Map `algo`'s layer of images, right above its points and under the rings and the labels; empty until the page
    fills it (js/lenses.js)."""
    from bokeh.models import ColumnDataSource, ImageURL

    if not _has_images(data):
        return
    names = map_names(algo)
    empty: dict[str, list] = {c: [] for c in (INDEX, "url", "x", "y", "w", "h", "alpha")}  # INDEX: into "points"
    source = ColumnDataSource(empty, name=names["images"])
    glyph = ImageURL(url="url", x="x", y="y", w="w", h="h", global_alpha="alpha", anchor="center")
    layer = fig.add_glyph(source, glyph, name=names["image_layer"])
    main = next(k for k, r in enumerate(fig.renderers) if r.name == names["points"])
    fig.renderers = [*fig.renderers[: main + 1], layer, *(r for r in fig.renderers[main + 1 :] if r is not layer)]


def _trust_meta(data) -> dict:
    """Each map's trust: its column, k, and mean; and the kNN recall the header reports, on how many rows."""
    out = {}
    for p in data.projections:
        t = data.lenses.trust.get(p.algo)
        if t is None:
            continue
        measured = p.metrics.get("measured_on_rows")
        out[p.algo] = {"key": trust_key(p.algo), "k": t.k, "mean": t.mean, "name": p.name,
                       "recall": p.metrics.get(f"knn_recall@{t.k}"), "measured_on": measured}  # fmt: skip
    return out


def _labels_meta(labels) -> dict | None:
    if labels is None:
        return None
    shown = labels.suspects[:PAGE_SUSPECTS]
    return {
        "column": labels.column,
        "k": labels.k,
        "agreement": labels.mean,
        "labels": list(labels.labels),
        "key": AGREE_KEY,
        "to_key": AGREE_TO_KEY,
        "suspects": shown.tolist(),  # positions in "points", worst first
        "own": labels.codes[shown].tolist(),  # each one's label (a code into "labels")
        "share": [round(float(v), 4) for v in labels.share[shown]],  # the share of its neighbours' label
        "total": len(labels.suspects),
        "classes": [asdict(c) for c in labels.classes],
        "confused": [asdict(c) for c in labels.confused],
    }
