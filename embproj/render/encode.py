"""The data the page gets, compact: float32 coordinates, integer columns by their content and float hover
columns as the digits the page shows (packed.py), integer codes plus a word list for categories and for
repetitive text, float32 numbers for numeric colours. What the page shows twice travels once: a hover field of a
colour's column reads the colour's codes, the cluster's hover field and colour read "cluster_id" (the colour
through `factor_of`), a chart of a colour's column the colour's codes (charts.py). Bokeh sends every numpy column
as gzip + base64 binary; the word lists travel in the page's own JSON, the neighbour table in its own compact code
(neighbours.py), outside the Bokeh document."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from embproj.render.charts import chart_meta
from embproj.render.clusters import cluster_meta, cluster_words, density_maps, faint_noise
from embproj.render.data import CompareView, ReportData
from embproj.render.lenses import lens_colors, lens_meta
from embproj.render.names import CHANGE, CLUSTER, FIT, ROW, x_column, y_column
from embproj.render.packed import SIGNIFICANT, SPECIALS, pack_decimals, pack_ints
from embproj.render.values import MISSING, category_codes, code_dtype, dictionary, display_strings, fold, palette
from embproj.summary import color_fact
from embproj.text.safe import NUMBER, formula_pattern

NAN_COLOR = "#bbbbbb"


@dataclass
class ColorChoice:
    """One column the page can colour by: its data column in "points" and how it maps to colours."""

    name: str
    kind: str  # categorical | continuous
    key: str
    mapper: str  # the Bokeh colour mapper's name
    factors: list[str] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    palette: list[str] = field(default_factory=list)
    low: float = 0.0
    high: float = 1.0
    ramp: str = "viridis"  # a numeric colour's palette (legend.ramp): "change" for a comparison's change
    keys: dict[str, str] = field(default_factory=dict)  # a map's key → its own column, for a map that has one
    factor_of: list[int] = field(default_factory=list)  # each code's factor, when `key` holds another's codes

    @property
    def every_key(self) -> list[str]:
        return list(dict.fromkeys([self.key, *self.keys.values()]))

    def as_json(self) -> dict:
        out: dict[str, object] = {"name": self.name, "kind": self.kind, "key": self.key, "mapper": self.mapper}
        if self.keys:
            out["keys"] = self.keys
        out["fact"] = color_fact(self.name, self.kind)  # the header's "colour" once the page switches to it
        if self.kind == "categorical":
            out.update(factors=self.factors, counts=self.counts, palette=self.palette)
            if self.factor_of:
                out["factor_of"] = self.factor_of
        else:
            out.update(low=self.low, high=self.high)
        return out


@dataclass
class Encoded:
    columns: dict  # the "points" ColumnDataSource
    colors: list[ColorChoice]
    meta: dict  # the page's JSON: fields and their words, colour choices, neighbours


def encode(data: ReportData) -> Encoded:
    n = len(data.row_ids)
    columns: dict = {}
    packed: dict = {}  # the integer columns sent by their content (packed.py): how the page rebuilds each
    if not _pack(ROW, np.asarray(data.row_ids), columns, packed):
        columns[ROW] = np.asarray(data.row_ids, dtype=np.int32)
    for proj in data.projections:
        columns[x_column(proj.key)] = np.ascontiguousarray(proj.xy[:, 0], dtype=np.float32)
        columns[y_column(proj.key)] = np.ascontiguousarray(proj.xy[:, 1], dtype=np.float32)
    clusters = cluster_meta(data, columns)  # each point's cluster, the one column its colour and field read
    colors, shared = [], {}
    if clusters is not None:
        shared[data.cluster_column] = (CLUSTER, cluster_words(data))
    for j, (name, kind) in enumerate(data.color_choices):
        if clusters is not None and name == data.cluster_column:
            colors.append(_cluster_color(data, j, name, columns[CLUSTER]))
            continue
        choice, reusable = _color(data, j, name, kind, columns)
        colors.append(choice)
        if reusable:
            shared[name] = (choice.key, choice.factors)
    faint_noise(colors, data)
    added = lens_colors(data, columns, len(colors))
    colors += [ColorChoice(mapper=f"color_{len(colors) + j}", **c) for j, c in enumerate(added)]
    fields = [_field(data, j, name, columns, shared.get(name), packed) for j, name in enumerate(data.hover)]
    images = None
    if data.images is not None:
        images = _text_column("img", [uri or "" for uri in data.images], columns)
    if data.fit is not None:  # which rows the model was fitted on, which it placed: one int8 a point
        fitted = np.zeros(n, dtype=np.int8)
        fitted[data.fit] = 1
        columns[FIT] = fitted
    meta = {
        "n": n,
        "packed": packed,
        "algos": [{"algo": p.key, "name": p.name} for p in data.projections],  # a map's key (compare: umap_after)
        "fields": fields,
        "more_fields": f"… and {data.hover_more:,} more dimensions" if data.hover_more else "",
        "label": data.hover.index(data.label) if data.label in data.hover else -1,
        "images": images,
        "colors": [c.as_json() for c in colors],
        "neighbours": _neighbours(data, colors),
        "neighbours_note": data.neighbours_note,
        "csv": {"formula": formula_pattern(), "number": f"^{NUMBER}$"},  # the export's guard (text/safe.py)
        "clusters": clusters,  # what explains the map: render/clusters.py and charts.py
        "charts": chart_meta(data, columns, colors),
        "density": density_maps(data),
        "lenses": lens_meta(data),
    }
    if data.compare is not None:  # a report's page says nothing of it
        meta["compare"] = _compare(data.compare, data, columns)
    return Encoded(columns, colors, meta)


def _neighbours(data: ReportData, colors: list[ColorChoice]) -> dict | None:
    """What the page says of its neighbour table and needs to decode it (the table itself: render_html): with
    rows grouped by a column, the points' column of its codes (the colour's, as assemble.py grouped them)."""
    table = data.neighbours
    if table is None:
        return None
    about = {"k": table.k, "metric": data.neighbours_metric, "exact": data.neighbours_exact}
    code = table.code
    if table.group is not None:
        keys = [c.key for c in colors if c.name == table.group and c.kind == "categorical" and not c.factor_of]
        if not keys:
            raise ValueError(f"the neighbour table is grouped by {table.group!r}, which the page has no codes of")
        code = {**code, "group": keys[0]}
    return {**about, "recall": data.neighbours_recall, "code": code}


def _compare(c: CompareView, data: ReportData, columns: dict) -> dict:
    """A comparison's part of the page's JSON: the movers, and AFTER's neighbour table's code (BEFORE's is
    "neighbours"); each row's change goes into the points' float32 column names.CHANGE."""
    columns[CHANGE] = np.asarray(c.change, dtype=np.float32)
    out: dict = {
        "field": data.hover.index(c.column),
        "key_field": data.hover.index(c.key) if c.key in data.hover else -1,
        "movers": [int(i) for i in c.movers],
        "k": c.k,
        "neighbours_after": None,
    }
    if c.after is not None:
        about = {"k": c.after.k, "metric": data.neighbours_metric, "exact": c.after_exact}
        out["neighbours_after"] = {**about, "recall": c.after_recall, "code": c.after.code}
    return out


def _color(data: ReportData, j: int, name: str, kind: str, columns: dict) -> tuple[ColorChoice, bool]:
    """The colour choice for column `name`, its data added to `columns`; and whether its codes can stand for the
    hover field of the same name too (every value its own class)."""
    suffix = "" if j == 0 else str(j)
    col = data.table.column(name)
    if kind == "continuous":
        values = col.to_numpy(zero_copy_only=False).astype(np.float32)
        finite = values[np.isfinite(values)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        columns[f"val{suffix}"] = values
        if data.compare is not None and name == data.compare.column:  # 0 to 1 whatever the rows: comparable
            return ColorChoice(name, kind, f"val{suffix}", f"color_{j}", low=0.0, high=1.0, ramp="change"), False
        return ColorChoice(name, kind, f"val{suffix}", f"color_{j}", low=low, high=high), False
    strings = display_strings(col)
    codes, factors, counts = category_codes(strings)
    columns[f"cat{suffix}"] = codes
    choice = ColorChoice(
        name,
        kind,
        f"cat{suffix}",
        f"color_{j}",
        factors,
        [counts[f] for f in factors],
        palette(len(factors)),
    )
    return choice, set(strings) == set(factors)  # nothing folded into "other", no "(missing)" standing for ""


def _cluster_color(data: ReportData, j: int, name: str, codes: np.ndarray) -> ColorChoice:
    """The colour by cluster, read from the points' cluster codes through `factor_of` (code → its factor): the
    same factors, counts and palette as the cluster column's own codes would give, no column of its own."""
    classes = [word or MISSING for word in cluster_words(data)]
    counts: dict[str, int] = {}
    for word, count in zip(classes, np.bincount(codes, minlength=len(classes)).tolist(), strict=True):
        if count:  # a label two clusters share is one class, as the column's text is
            counts[word] = counts.get(word, 0) + count
    factors, folded, into = fold(counts)
    index = {f: k for k, f in enumerate(factors)}
    factor_of = [index[into[c]] if c in into else -1 for c in classes]
    return ColorChoice(name, "categorical", CLUSTER, f"color_{j}", factors, [folded[f] for f in factors],
                       palette(len(factors)), factor_of=factor_of)  # fmt: skip


def _field(data: ReportData, j: int, name: str, columns: dict, shared, packed: dict) -> dict:
    if shared is not None:
        key, words = shared
        return {"name": name, "key": key, "words": words}
    col = data.table.column(name)
    if pa.types.is_integer(col.type) and not col.null_count and _pack(f"f{j}", col.to_numpy(), columns, packed):
        return {"name": name, "key": f"f{j}", "words": None}
    strings = display_strings(col)
    if pa.types.is_floating(col.type) and dictionary(strings) is None:
        found = _decimals(f"f{j}", strings, columns)
        if found is not None:
            return {"name": name, "key": f"f{j}", "words": None, "decimal": found}
    return {"name": name, **_text_column(f"f{j}", strings, columns)}


def _decimals(key: str, strings: list[str], columns: dict) -> dict | None:
    """A float column as the digits the page shows (packed.py), when that is smaller than its text; what the
    page's JSON says of it (its exponents' column, the texts of a significand of 0, the digits "%g" keeps), or
    None."""
    found = pack_decimals(strings)
    if found is None:
        return None
    significands, exponents = found
    if _sent_size(significands) + _sent_size(exponents) >= len(json.dumps(strings)):
        return None
    columns[key], columns[f"{key}_e"] = significands, exponents
    return {"exponent": f"{key}_e", "specials": list(SPECIALS), "precision": SIGNIFICANT}


def _sent_size(values: np.ndarray) -> int:
    """About what Bokeh sends of an array: gzipped, in base64."""
    return len(zlib.compress(values.tobytes(), 6)) * 4 // 3


def _pack(key: str, values: np.ndarray, columns: dict, packed: dict) -> bool:
    """Integers sent by their content (packed.py), unless a word list codes them narrower or the page's numbers
    cannot hold them; False: not packed."""
    found = pack_ints(values)
    if found is None:
        return False
    column, spec = found
    if column is not None:
        distinct = len(np.unique(values))
        if 2 * distinct <= len(values) and np.dtype(code_dtype(distinct)).itemsize < column.itemsize:
            return False
        columns[key] = column
    packed[key] = spec
    return True


def _text_column(key: str, values: list[str], columns: dict) -> dict:
    coded = dictionary(values)
    if coded is None:
        columns[key] = values
        return {"key": key, "words": None}
    columns[key], words = coded
    return {"key": key, "words": words}
