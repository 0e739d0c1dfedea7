"""Decode what the browser gets: the Bokeh document embedded in a report, and its `points` data source."""

from __future__ import annotations

import base64
import gzip
import html
import json
import re

import numpy as np

DOC = re.compile(r'<script type="application/json" id="(?!ep-manifest)[^"]+">\s*(.*?)\s*</script>', re.S)
MANIFEST = re.compile(r'<script type="application/json" id="ep-manifest">(.*?)</script>', re.S)


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


def models(page: str, name: str) -> list[dict]:
    """Every serialized model of Bokeh type `name` (e.g. "ColumnDataSource", "LegendItem")."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "object" and node.get("name") == name:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document(page))
    return found


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


def points(page: str) -> dict:
    """The report's `points` ColumnDataSource as {column: numpy array or list}."""
    for source in models(page, "ColumnDataSource"):
        if source["attributes"].get("name") == "points":
            entries = source["attributes"]["data"]["entries"]
            return {key: decode(value) for key, value in entries}
    raise AssertionError("no ColumnDataSource named points")


def legend_labels(page: str) -> list[str]:
    labels = []
    for item in models(page, "LegendItem"):
        label = item["attributes"]["label"]
        labels.append(label["value"] if isinstance(label, dict) else label)
    return labels
