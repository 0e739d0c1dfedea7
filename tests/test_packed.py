"""Integer columns sent by their content (embproj/render/packed.py): the row numbers and an `id` 0..n-1 as two
numbers, a sorted column as its differences, any other as offsets from its least value, each at the narrowest
width; float columns as the digits the page shows. The page shows, searches and exports exactly the values it
showed when they travelled as text."""

from __future__ import annotations

import csv
import io

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from embproj.render.packed import pack_ints
from embproj.render.values import display_strings
from reportdata import page_data, points, sent

pytest_plugins = ["pagetools"]

N = 300
INTS = ("id", "serial", "code", "step", "huge")
FLOATS = ("score", "ratio", "odd")


def ints_table() -> pa.Table:
    """Four integer columns of different shapes, a label and an embedding of three far-apart blobs."""
    rng = np.random.default_rng(5)
    classes = np.arange(N) % 3
    X = (rng.normal(scale=10.0, size=(3, 5))[classes] + rng.normal(size=(N, 5))).astype(np.float32)
    return pa.table(
        {
            "id": np.arange(N, dtype=np.int64),  # 0..n-1: a range
            "serial": 1_000_000_000 + np.cumsum(rng.integers(1, 100, N)),  # sorted, irregular: differences
            "code": rng.integers(-50_000, 50_000, N),  # no order: offsets from the least
            "step": -7 + 3 * np.arange(N, dtype=np.int32)[::-1],  # a falling progression: a range
            "huge": (2**60 + rng.integers(0, 1000, N)).astype(np.int64),  # beyond the page's exact integers: text
            "score": rng.normal(size=N) * 10.0 ** rng.integers(-7, 9, N),  # fixed and scientific notation
            "ratio": rng.random(N).astype(np.float32),
            "odd": pa.array(
                [
                    [None, float("nan"), float("inf"), -0.0, 0.0][i % 5] if i % 7 == 0 else float(i) / 7
                    for i in range(N)
                ],
                pa.float64(),
            ),  # fmt: skip
            "label": [f"class {k}" for k in classes],
            "embedding": pa.array(list(X), type=pa.list_(pa.float32())),
        }
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from embproj.cli import app

    folder = tmp_path_factory.mktemp("packed")
    table = ints_table()
    pq.write_table(table, folder / "ints.parquet")
    out = folder / "report.html"
    args = ["project", str(folder / "ints.parquet"), "--algo", "pca", "-o", str(out), "-q", "--label", "label"]
    args += ["--hover", ",".join(INTS + FLOATS), "--color", "label"]
    done = CliRunner().invoke(app, args, catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return out, table


def test_each_integer_column_travels_by_its_content(report):
    path, table = report
    page = path.read_text(encoding="utf-8")
    meta, columns = page_data(page), sent(page)
    key = {f["name"]: f["key"] for f in meta["fields"]}
    packed = meta["packed"]
    assert packed["row"] == {"start": 0, "step": 1} and "row" not in columns
    assert packed[key["id"]] == {"start": 0, "step": 1} and key["id"] not in columns
    assert packed[key["step"]] == {"start": -7 + 3 * (N - 1), "step": -3} and key["step"] not in columns
    assert packed[key["serial"]]["delta"] is True and columns[key["serial"]].dtype == np.int8
    assert packed[key["code"]] == {"start": int(min(table.column("code").to_pylist()))}
    assert columns[key["code"]].dtype == np.uint32  # a span of ~100,000: more than 16 bits
    assert key["huge"] not in packed, "past 2^53 the page's numbers would round: sent as text"
    for name in FLOATS:  # their digits, not their text
        field = next(f for f in meta["fields"] if f["name"] == name)
        assert columns[key[name]].dtype == np.int32 and columns[field["decimal"]["exponent"]].dtype == np.int8


def test_the_page_decodes_the_values_it_showed_as_text(report):
    path, table = report
    data = points(path.read_text(encoding="utf-8"))
    rows = data["row"].tolist()
    assert rows == list(range(N))
    meta = page_data(path.read_text(encoding="utf-8"))
    for j, field in enumerate(meta["fields"]):
        if field["name"] in INTS + FLOATS:
            assert data[f"f{j}"] == display_strings(table.column(field["name"]).take(rows)), field["name"]
    odd = next(data[f"f{j}"] for j, f in enumerate(meta["fields"]) if f["name"] == "odd")
    assert {"", "NaN", "inf", "-0", "0"} <= set(odd), "every text a float column can show"


@pytest.mark.parametrize(
    ("values", "spec", "dtype"),
    [
        ([], {"start": 0, "step": 0}, None),
        ([42], {"start": 42, "step": 0}, None),
        ([5, 5, 5], {"start": 5, "step": 0}, None),
        ([3, 1, 200, 4], {"start": 1}, np.uint8),
        ([10, 300, 301, 305], {"start": 10, "delta": True}, np.int16),  # differences ≤ 290, as wide as offsets
        ([-(2**40), 2**40, 0, 7], {"start": -(2**40)}, np.float64),  # wider than 32 bits: exact float64
    ],
)
def test_pack_ints_picks_the_narrowest_code(values, spec, dtype):
    column, got = pack_ints(np.array(values, dtype=np.int64))
    assert got == spec
    assert (column is None) if dtype is None else column.dtype == dtype


def test_integers_past_2_to_the_53_are_not_packed():
    assert pack_ints(np.array([0, 2**53], dtype=np.int64)) is None
    assert pack_ints(np.array([2**63 + 1, 0], dtype=np.uint64)) is None


@pytest.mark.browser
def test_hover_search_and_csv_show_the_packed_ids(open_report, report):
    path, table = report
    page = open_report(path)
    page.page.wait_for_function("() => document.documentElement.dataset.epReady === '1'", timeout=10_000)
    records = table.to_pylist()
    shown = {name: display_strings(table.column(name)) for name in FLOATS}  # the text they travelled as before
    rows = [int(r) for r in page.column("row")]
    assert rows == list(range(N))
    for i in (0, 7, N - 1):
        tip = page.hover(i, "pca")
        assert tip.visible and tip.index is not None, f"no tooltip for point {i}"
        record = records[rows[tip.index]]
        for name in INTS:
            assert tip.fields[name] == str(record[name]), name
        for name in FLOATS:
            assert tip.fields[name] == shown[name][rows[tip.index]], name

    wanted = str(records[123]["serial"])[-5:]  # its last digits: also inside a few other serials
    page.page.fill("#ep-search", wanted)
    page.page.press("#ep-search", "Enter")
    page.page.wait_for_function("() => document.getElementById('ep-search-count').textContent !== ''")
    ringed = sorted(page.js("() => Array.from(embproj.model('search_hits').indices)"))
    assert 123 in ringed
    assert ringed == [i for i, r in enumerate(records) if any(wanted in str(r[k]) for k in (*INTS, "label"))]
    digits = shown["score"][45][:4]  # a float's first digits, as the page shows them
    texts = [[str(r[k]) for k in (*INTS, "label")] + [shown[name][i] for name in FLOATS] for i, r in enumerate(records)]
    expected = [i for i in range(N) if any(digits in t for t in texts[i])]
    page.page.fill("#ep-search", digits)
    page.page.press("#ep-search", "Enter")
    page.page.wait_for_function(f"() => document.getElementById('ep-search-count').dataset.count === '{len(expected)}'")
    assert sorted(page.js("() => Array.from(embproj.model('search_hits').indices)")) == expected and 45 in expected

    text = page.js("() => { embproj.points().selected.indices = [0, 123, 299]; return embproj.selectionCsv(); }")
    saved = list(csv.DictReader(io.StringIO(text)))
    assert [int(r["row"]) for r in saved] == [0, 123, 299]
    for r in saved:
        for name in INTS:
            assert r[name] == str(records[int(r["row"])][name]), name
        for name in FLOATS:
            assert r[name] == shown[name][int(r["row"])], name
    page.assert_quiet()
