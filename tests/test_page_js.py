"""The page's JavaScript without a browser: tests/js/*.test.js under Node's own test runner (the scripts of
templates/js run in a V8 context with stand-ins for the DOM and BokehJS, tests/js/page.js). Python hands them
what only Python makes: neighbour tables encoded by embproj/render/neighbours.py with their graphs and
tests/reportdata.py's decoding of them, and the CSV guard's cases with embproj/text/safe.py's answers, so the
page's decoder and guard are checked against Python's. Skipped without Node, except under CI=true."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess

import numpy as np
import pyarrow as pa
import pytest

from conftest import ROOT
from embproj.options import ALGOS, DEFAULTS
from embproj.render.gear import ALGO as GEAR
from embproj.render.gear import PageVectors, encode_sample
from embproj.render.names import page_names
from embproj.render.neighbours import encode_neighbours
from embproj.render.packed import SIGNIFICANT, SPECIALS, pack_decimals, pack_ints
from embproj.render.values import display_strings
from embproj.text.safe import NUMBER, csv_cell, formula_pattern
from reportdata import decode_neighbours

NODE_MAJOR = 20  # package.json's engines: the oldest Node the page's tools are run with


def node_path() -> str:
    """Node.js for the page's unit tests; under CI (CI=true) its absence is a failure, not a skip."""
    node = shutil.which("node")
    ci = os.environ.get("CI", "").lower() == "true"
    if node is None:
        if ci:
            pytest.fail("CI=true but no node was found: the page's unit tests need Node.js")
        pytest.skip("node is not installed: the page's JavaScript unit tests need Node.js 20 or newer")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < NODE_MAJOR:
        (pytest.fail if ci else pytest.skip)(f"node {version} is older than {NODE_MAJOR}")
    return node


def exact_knn(X: np.ndarray, k: int) -> np.ndarray:
    d = ((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=2)
    np.fill_diagonal(d, np.inf)
    return np.argsort(d, axis=1, kind="stable")[:, :k].astype(np.int32)


def random_graph(n: int, k: int, rng) -> np.ndarray:
    """Each row's k distinct other rows, at random: few mutual pairs, far-apart numbers."""
    return np.array([rng.choice(np.delete(np.arange(n), i), k, replace=False) for i in range(n)], np.int32)


def neighbour_case(name: str, indices: np.ndarray, xy: np.ndarray, python: bool = True, groups=None) -> dict:
    xy = np.asarray(xy, np.float32)
    table = encode_neighbours(indices, xy, "pca", groups, "kind" if groups is not None else None)
    code = {**table.code, "group": "cat"} if table.group else table.code  # the first colour's codes (encode.py)
    k = indices.shape[1]
    return {
        "name": name,
        "k": k,
        "text": table.text,
        "code": code,
        "group": None if groups is None else np.asarray(groups).tolist(),
        "x": [None if np.isnan(v) else float(v) for v in xy[:, 0]],  # JSON has no NaN: the page's is null here
        "y": [None if np.isnan(v) else float(v) for v in xy[:, 1]],
        "truth": np.sort(indices, axis=1).tolist(),
        "python": decode_neighbours(table.text, code, xy, k, groups).tolist() if python else None,
    }


def neighbour_cases() -> list[dict]:
    rng = np.random.default_rng(7)
    classes = rng.integers(6, size=600).astype(np.int8)
    X = (rng.normal(scale=5, size=(6, 8))[classes] + rng.normal(size=(600, 8))).astype(np.float32)
    own = rng.normal(size=(300, 2)).astype(np.float32)
    spots = np.repeat(rng.normal(size=(30, 2)), 10, axis=0).astype(np.float32)  # ten rows on each spot
    spots[:50, 1] = 0.0
    spots[7] = [np.nan, 1.0]
    big = 70_000  # more rows than two bytes can number: the firsts take three byte planes
    return [
        neighbour_case("a k-nearest graph in 8 dimensions, k = 10", exact_knn(X, 10), X[:, :2]),
        neighbour_case(  # the map (random) knows nothing of the neighbours, the classes all: the rows grouped
            "a k-nearest graph grouped by its classes, k = 10",
            exact_knn(X, 10),
            rng.normal(size=(600, 2)),
            groups=classes,
        ),
        neighbour_case("the map's own nearest neighbours, k = 5", exact_knn(own, 5), own),  # shows "5 of 5"
        *(
            neighbour_case(f"a random graph, k = {k}", random_graph(400, k, rng), rng.normal(size=(400, 2)))
            for k in (1, 3)
        ),
        neighbour_case("nine rows, each all the others", exact_knn(own[:9], 8), own[:9]),
        neighbour_case("two rows", np.array([[1], [0]], np.int32), own[:2]),
        neighbour_case("repeated points, a flat line and a NaN", random_graph(300, 5, rng), spots),
        neighbour_case("every row on one spot", random_graph(300, 5, rng), np.zeros((300, 2))),
        neighbour_case(
            f"{big:,} rows, k = 1",
            ((np.arange(big) + rng.integers(1, big, size=big)) % big).astype(np.int32)[:, None],
            rng.normal(size=(big, 2)),
            python=False,  # tests/reportdata.py's decoder takes over a second here: the graph is the truth
        ),
    ]


def gear_case() -> dict:
    """A sample as render/gear.py encodes it for the page's projector, with numpy's answers: the rows, the
    covariance's top eigenvectors and eigenvalues, and each row's nearest rows (itself first)."""
    rng = np.random.default_rng(11)
    ROWS = 120  # the projector's maps run three times in tests/js: a small sample keeps them to a few seconds
    classes = np.arange(ROWS) % 4
    X = (rng.normal(scale=5, size=(4, 12))[classes] + rng.normal(size=(ROWS, 12))).astype(np.float32)
    sample = encode_sample(PageVectors(X, np.arange(ROWS), (), "12 dims"), DEFAULTS, "umap", {})
    values, vectors = np.linalg.eigh(np.cov(X.astype(np.float64), rowvar=False))
    top = np.argsort(values)[::-1][:3]
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    cosine = np.argsort(1 - unit @ unit.T, axis=1, kind="stable")[:, :6]
    return {
        "text": sample.text,
        "code": sample.meta["code"],
        "X": X.astype(float).tolist(),
        "classes": classes.tolist(),
        "axes": vectors[:, top].T.tolist(),
        "values": values[top].tolist(),
        "euclidean": np.hstack([np.arange(ROWS)[:, None], exact_knn(X, 5)]).tolist(),
        "cosine": cosine.tolist(),
    }


def packed_cases() -> list[dict]:
    """Integer columns as render/packed.py packs them for the page, with the text Python shows for each value."""
    rng = np.random.default_rng(13)
    columns = {
        "a range 0..n-1": np.arange(500),
        "a falling progression": 10**15 - 7 * np.arange(400),
        "sorted ids with gaps": 2**40 + np.cumsum(rng.integers(0, 120, 600)),
        "sorted ids with wide gaps": np.cumsum(rng.integers(0, 70_000, 300)),
        "unordered negatives": rng.integers(-30_000, 30_000, 500),
        "a span past 32 bits": rng.integers(-(2**50), 2**50, 200),
        "one value": np.array([-3]),
    }
    cases = []
    for name, values in columns.items():
        column, spec = pack_ints(values)
        sent = None if column is None else {"dtype": column.dtype.name, "values": column.tolist()}
        cases.append({"name": name, "spec": spec, "sent": sent, "text": [str(int(v)) for v in values]})
    return cases


def decimal_cases() -> dict:
    """A float column as render/packed.py sends its digits, with the text Python shows for each value: every
    exponent "%g" writes in fixed or scientific notation, the specials, float32's and float64's extremes."""
    rng = np.random.default_rng(17)
    values = (rng.normal(size=400) * 10.0 ** rng.integers(-9, 10, 400)).tolist()
    values += [0.0, -0.0, math.nan, math.inf, -math.inf, None, 1234565.0, 999999.5, 1e-5, 0.0001, 123456.0, 1e6]
    values += [5e-324, 1.7976931348623157e308, 12.5, -0.5, 100.0, 3.4028234663852886e38, 0.1]
    strings = display_strings(pa.array(values, pa.float64()))
    significands, exponents = pack_decimals(strings)
    return {"significands": significands.tolist(), "exponents": exponents.tolist(), "specials": list(SPECIALS),
            "precision": SIGNIFICANT, "dtype": exponents.dtype.name, "text": strings}  # fmt: skip


CSV_CELLS = ["plain", "", "=1+1", "+1", "-1.5", "+.5", "1e5", "-", "-x", "@sum", " =x", "\t1", "\r", "\n=", "\uff1d1",
             "\uff0b", "\uff0d3", "\uff20x", "a,b", 'say "hi"', " padded ", "two\nlines", '="a",b']  # fmt: skip


def python_cases() -> dict:
    return {
        "names": page_names((*ALGOS, GEAR), lenses=True),  # what the page finds its models and columns by
        "neighbours": neighbour_cases(),
        "gear": gear_case(),
        "gear_map": GEAR,  # the gear's map's key, as names.py names maps
        "packed": packed_cases(),
        "decimals": decimal_cases(),
        "csv": {
            "formula": formula_pattern(),
            "number": f"^{NUMBER}$",
            "cells": [[text, csv_cell(text)] for text in CSV_CELLS],
        },
    }


def test_the_page_scripts_pass_their_unit_tests(tmp_path):
    node = node_path()
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps(python_cases()), encoding="utf-8")
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests" / "js").glob("*.test.js"))
    run = subprocess.run(
        [node, "--test", "--test-reporter=spec", *files],
        cwd=ROOT,
        env={**os.environ, "EMBPROJ_JS_CASES": str(cases), "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    counts = {name: int(n) for name, n in re.findall(r"^\S* ?(pass|fail|skipped|todo) (\d+)$", out, re.M)}
    assert counts.get("pass", 0) > 0 and counts.get("fail") == 0, out
    assert counts.get("skipped") == 0, out  # with Python's cases, none is skipped
