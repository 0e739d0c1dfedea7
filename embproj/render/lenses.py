"""The lenses as the page gets them (structure/lenses.py computed them; templates/js/lenses.js draws them): each
row's label agreement as a colour choice, a hover line and the suspect labels' table, with the numbers the page
shows in its JSON ("lenses"). The column keys travel in that JSON, so the page's script spells none of them."""

from __future__ import annotations

import numpy as np

from embproj.render.values import ONE_COLOUR, code_dtype

AGREEMENT = "label agreement"  # the colour choice's name, in the colour menu and over its colour bar
# columns of "points": the share, and the label most of the neighbours carry when it is not the row's own (or -1)
AGREE_KEY, AGREE_TO_KEY = "lens_agree", "lens_agree_to"
PLAIN, PLAIN_KEY = "all points", "lens_plain"  # a map that has no other colour: one for every point
PAGE_SUSPECTS = 10_000  # the suspects the page lists (and its CSV holds), worst first; --json's count is of all


def low_to_high() -> list[str]:
    """A share from 0 (red: the neighbours disagree) through yellow to 1 (blue: they agree)."""
    from bokeh.palettes import RdYlBu11

    return list(reversed(RdYlBu11))


def lens_colors(data, columns: dict, others: int) -> list[dict]:
    """The colour choices the lenses add (render/encode.py's ColorChoice's fields but the mapper), their columns
    added to "points". `others`: the page's other colour choices; with none, the first is one colour for every
    point, so that the map is not coloured by a lens until the reader chooses it."""
    lenses = data.lenses
    if lenses is None or lenses.labels is None:
        return []
    labels = lenses.labels
    columns[AGREE_KEY] = labels.agreement.astype(np.float32)
    other = np.where(labels.majority != labels.codes, labels.majority, -1)  # the label most carry, when not its own
    columns[AGREE_TO_KEY] = other.astype(code_dtype(len(labels.labels) + 1))
    added = [{"name": AGREEMENT, "kind": "continuous", "key": AGREE_KEY, "low": 0.0, "high": 1.0,
              "palette": low_to_high()}]  # fmt: skip
    if others:
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
    return {"labels": _labels_meta(lenses.labels), "notes": list(lenses.notes)}


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
        "classes": [_class(c) for c in labels.classes],
        "confused": [{"labels": list(c.labels), "links": c.links, "share": c.share} for c in labels.confused],
    }


def _class(c) -> dict:
    return {"label": c.label, "rows": c.rows, "agreement": c.agreement, "suspects": c.suspects}
