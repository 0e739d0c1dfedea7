"""Decode what the browser gets: the Bokeh document embedded in a report, and its `points` data source."""

from __future__ import annotations

import base64
import gzip
import html
import json
import re

import numpy as np

OWN = '(?!ep-manifest"|ep-data")'  # the page's own JSON, not Bokeh's
DOC = re.compile(r'<script type="application/json" id="' + OWN + r'[^"]+">\s*(.*?)\s*</script>', re.S)
MANIFEST = re.compile(r'<script type="application/json" id="ep-manifest">(.*?)</script>', re.S)
PAGE_DATA = re.compile(r'<script type="application/json" id="ep-data">(.*?)</script>', re.S)


def document(page: str) -> dict:
    match = DOC.search(page)
    assert match, "no Bokeh document in the page"
    docs = json.loads(html.unescape(match.group(1)))
    return next(iter(docs.values()))


def manifest(page: str) -> dict:
    """The report's own record of how it was made (plain JSON, "<" escaped as \\u003c)."""
    match = MANIFEST.search(page)
    assert match, "no manifest in the page"
    return json.loads(match.group(1))


def page_data(page: str) -> dict:
    """The page's own JSON (#ep-data): hover fields and their word lists, colour choices, neighbours."""
    match = PAGE_DATA.search(page)
    assert match, "no ep-data in the page"
    return json.loads(match.group(1))


def _objects(page: str) -> list[dict]:
    """Every serialized model of the document, in document order."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "object" and "id" in node:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document(page))
    return found


def models(page: str, name: str) -> list[dict]:
    """Every serialized model of Bokeh type `name` (e.g. "ColumnDataSource", "LegendItem")."""
    return [node for node in _objects(page) if node.get("name") == name]


def decode(value):
    if isinstance(value, dict) and value.get("type") == "ndarray":
        array = value["array"]
        if isinstance(array, dict) and array.get("type") == "bytes":
            raw = base64.b64decode(array["data"])
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
            return np.frombuffer(raw, dtype=value["dtype"]).reshape(value["shape"])
        return np.asarray(array, dtype=value["dtype"])
    return value


def source(page: str, name: str) -> dict:
    """The ColumnDataSource named `name` as sent: {column: numpy array or list}; for "points", its integer
    columns sent by their content rebuilt (as int64, see `unpack`) and each point's cluster with -1 for noise."""
    for model in models(page, "ColumnDataSource"):
        if model["attributes"].get("name") == name:
            data = {key: decode(value) for key, value in model["attributes"]["data"]["entries"]}
            if name == "points":
                meta = page_data(page)
                for key, spec in meta.get("packed", {}).items():
                    data[key] = unpack(data.get(key), spec, meta["n"])
                for chart in meta.get("charts") or []:  # a chart read from the colour's codes: its bars rebuilt
                    if chart.get("from"):
                        data[chart["key"]] = np.asarray(chart["from"]["bars"])[data[chart["from"]["key"]]]
                if meta.get("clusters"):  # the noise's code is the last one: -1 here, as structure/ numbers it
                    key, noise = meta["clusters"]["key"], len(meta["clusters"]["labels"])
                    data[key] = np.where(data[key] == noise, -1, data[key])
            return data
    raise AssertionError(f"no ColumnDataSource named {name}")


def sent(page: str, name: str = "points") -> dict:
    """The ColumnDataSource named `name` exactly as sent, packed columns as they travel (or absent)."""
    for model in models(page, "ColumnDataSource"):
        if model["attributes"].get("name") == name:
            return {key: decode(value) for key, value in model["attributes"]["data"]["entries"]}
    raise AssertionError(f"no ColumnDataSource named {name}")


def unpack(column, spec: dict, n: int) -> np.ndarray:
    """An integer column sent by its content (embproj/render/packed.py), decoded independently of the encoder:
    a range, differences from the start, or offsets from it. Every value must stay exact in the page's float64."""
    if "step" in spec:
        assert column is None, "a range travels as two numbers, not a column"
        values = [spec["start"] + i * spec["step"] for i in range(n)]
    else:
        assert column is not None and len(column) == n, "a packed column of another length"
        sent = [int(v) for v in column]
        if spec.get("delta"):
            assert sent[0] == 0, "the first difference is 0"
            values, v = [], spec["start"]
            for d in sent:
                v += d
                values.append(v)
        else:
            values = [spec["start"] + d for d in sent]
    assert all(abs(v) < 2**53 for v in values), "beyond the page's exact integers"
    return np.array(values, dtype=np.int64)


def points(page: str) -> dict:
    """The report's `points` ColumnDataSource as {column: numpy array or list}, with each hover field as
    "f<j>" and the images as "img", decoded from their codes and word lists when sent that way."""
    data = source(page, "points")
    meta = page_data(page)
    for j, field in enumerate(meta["fields"]):
        column = data[field["key"]]
        if field.get("decimal"):
            data[f"f{j}"] = _decimals(column, data[field["decimal"]["exponent"]], field["decimal"])
        elif field["key"] in meta.get("packed", {}):  # integers: the page shows String(v), their digits
            data[f"f{j}"] = [str(v) for v in column]
        else:
            data[f"f{j}"] = _words(column, field["words"])
    if meta["images"]:
        data["img"] = _words(data[meta["images"]["key"]], meta["images"]["words"])
    return data


TABLE = re.compile(r'<script type="application/octet-stream" id="ep-neighbour-table">(.*?)</script>', re.S)


def neighbours(page: str) -> np.ndarray | None:
    """The report's neighbour table, n × k (each row's neighbours ascending), or None when it carries none."""
    info = page_data(page)["neighbours"]
    if info is None:
        assert not TABLE.search(page), "a neighbour table the page does not announce"
        return None
    match = TABLE.search(page)
    assert match, "no neighbour table in the page"
    code, data = info["code"], source(page, "points")
    xy = np.column_stack([data["x_" + code["algo"]], data["y_" + code["algo"]]])
    groups = data[code["group"]] if code.get("group") else None
    return decode_neighbours(match.group(1).strip(), code, xy, info["k"], groups)


def _decimals(significands, exponents, decimal: dict) -> list[str]:
    """A float column sent as its digits (embproj/render/packed.py), decoded independently of the encoder: the
    nearest float to significand × 10^(exponent - its digits + 1), in Python's "%g" at the page's precision."""
    out = []
    for m, e in zip(significands.tolist(), exponents.tolist(), strict=True):
        if m == 0:
            out.append(decimal["specials"][e])
        else:
            out.append(f"{float(f'{m}e{e - len(str(abs(m))) + 1}'):.{decimal['precision']}g}")
    return out


def _words(column, words):
    return list(column) if words is None else [words[int(code)] for code in column]


def legend_labels(page: str) -> list[str]:
    """The legend's entries as the page first shows them (the first colour choice's): the Legend model's items,
    its references resolved (other colour choices, such as the clusters, have items of their own)."""
    by_id = {node["id"]: node for node in _objects(page)}
    legends = models(page, "Legend")
    if not legends:
        return []
    labels = []
    for ref in legends[0]["attributes"]["items"]:
        label = by_id[ref["id"]]["attributes"]["label"]
        labels.append(label["value"] if isinstance(label, dict) else label)
    return labels


def decode_neighbours(text: str, code: dict, xy: np.ndarray, k: int, groups=None) -> np.ndarray:
    """The page's neighbour table from its compact code (embproj/render/neighbours.py), decoded independently of
    the encoder: n × k, each row's neighbours ascending. `groups`: the codes of the column named code["group"],
    when the rows are grouped by it."""
    import zlib

    n = len(xy)
    alphabet = code["alphabet"]
    raw = _b85(text, alphabet)
    body = zlib.decompress(raw)
    flag_bytes = (code["flags"] + 7) // 8
    flags = np.unpackbits(np.frombuffer(body[:flag_bytes], np.uint8))[: code["flags"]]
    at = flag_bytes
    firsts, at = _unplane(body, at, code["firsts"], code["first_planes"])
    gaps, at = _unplane(body, at, code["gaps"], code["gap_planes"])
    assert at == len(body), "bytes left over"
    order = _z_order(xy, code)
    if code.get("group"):  # each group's rows in Z-order, the groups by their code
        order = np.concatenate([order[np.asarray(groups)[order] == g] for g in np.unique(groups)])
    asked: list[list[int]] = [[] for _ in range(n)]
    near = np.empty((n, k), np.int64)
    f = a = g = 0
    for p in range(n):
        mine = []
        for q in reversed(asked[p]):  # the latest asker first
            if flags[f]:
                mine.append(q)
            f += 1
        if len(mine) < k:
            z = int(firsts[a])
            a += 1
            s = p + ((z >> 1) ^ -(z & 1))
            mine.append(s)
            for _ in range(k - len(mine)):
                s += int(gaps[g]) + 1
                g += 1
                mine.append(s)
        for s in mine:
            if s > p:
                asked[s].append(p)
        near[p] = mine
    assert (f, a, g) == (code["flags"], code["firsts"], code["gaps"])
    table = np.empty((n, k), np.int64)
    table[order] = order[near]
    return np.sort(table, axis=1).astype(np.int32)


def _b85(text: str, alphabet: str) -> bytes:
    digits = {c: i for i, c in enumerate(alphabet)}
    out = bytearray()
    for start in range(0, len(text), 5):
        group = [digits[c] for c in text[start : start + 5]]
        pad = 5 - len(group)
        value = 0
        for d in group + [84] * pad:
            value = value * 85 + d
        out += value.to_bytes(4, "big")[: 4 - pad]
    return bytes(out)


def _unplane(body: bytes, at: int, count: int, planes: int) -> tuple[np.ndarray, int]:
    values = np.zeros(count, np.int64)
    for b in range(planes):
        values |= np.frombuffer(body[at : at + count], np.uint8).astype(np.int64) << (8 * b)
        at += count
    return values, at


def _z_order(xy: np.ndarray, code: dict) -> np.ndarray:
    top = (1 << code["bits"]) - 1

    def cell(v, low):
        t = (np.asarray(v, np.float32).astype(np.float64) - low) * code["scale"]
        return np.array([min(int(np.floor(x)), top) if x >= 0 else 0 for x in t], np.int64)

    cx, cy = cell(xy[:, 0], code["x0"]), cell(xy[:, 1], code["y0"])
    bits = range(code["bits"])
    key = [sum(((x >> b) & 1) << (2 * b) | ((y >> b) & 1) << (2 * b + 1) for b in bits) for x, y in zip(cx, cy)]
    return np.array(sorted(range(len(key)), key=lambda i: (key[i], i)), np.int64)
