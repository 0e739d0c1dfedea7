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
    """The ColumnDataSource named `name` as sent: {column: numpy array or list}."""
    for model in models(page, "ColumnDataSource"):
        if model["attributes"].get("name") == name:
            return {key: decode(value) for key, value in model["attributes"]["data"]["entries"]}
    raise AssertionError(f"no ColumnDataSource named {name}")


def points(page: str) -> dict:
    """The report's `points` ColumnDataSource as {column: numpy array or list}, with each hover field as
    "f<j>" and the images as "img", decoded from their codes and word lists when sent that way."""
    data = source(page, "points")
    meta = page_data(page)
    for j, field in enumerate(meta["fields"]):
        data[f"f{j}"] = _words(data[field["key"]], field["words"])
    if meta["images"]:
        data["img"] = _words(data[meta["images"]["key"]], meta["images"]["words"])
    return data


def neighbours(page: str) -> np.ndarray | None:
    """The report's neighbour table, n × k int32, or None when the report carries none."""
    k = (page_data(page)["neighbours"] or {}).get("k")
    return None if k is None else source(page, "neighbours")["nn"].reshape(-1, k)


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
