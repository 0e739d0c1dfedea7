"""--max-html-mb beyond the images (embproj/images/budget.py): the neighbour table first, then a seeded subset of
the hover fields, then a seeded subset of the points, each named in the warning with its counts; and a report too
large to send by mail says so, with what --max-html-mb 18 would leave out."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from reportdata import TABLE, neighbours, page_data, points, sent

N = 800
MB = 1_000_000


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    rng = np.random.default_rng(2)
    classes = rng.integers(0, 4, N)
    X = (rng.normal(scale=6, size=(4, 8))[classes] + rng.normal(size=(N, 8))).astype(np.float32)
    table = pa.table(
        {
            "id": np.arange(N),  # a range: costs the page nothing, so never left out
            "label": [f"class {k}" for k in classes],
            "note": [f"note {rng.integers(10**9)}" for _ in range(N)],
            "code": [f"c{rng.integers(10**6)}" for _ in range(N)],
            "embedding": pa.array(list(X), type=pa.list_(pa.float32())),
        }
    )
    path = tmp_path_factory.mktemp("budget") / "rows.parquet"
    pq.write_table(table, path)
    return path, table


def run(path, out, *options):
    from embproj.cli import app

    args = ["project", str(path), "--algo", "pca", "-o", str(out), "--label", "label", "--page-sample", "50"]
    args += ["--hover", "label,id,note,code", "--no-cache", *options]
    return CliRunner().invoke(app, args, catch_exceptions=False)


@pytest.fixture(scope="module")
def whole(data, tmp_path_factory):
    """The report within the default budget, and what its parts weigh."""
    path, _ = data
    out = tmp_path_factory.mktemp("whole") / "whole.html"
    done = run(path, out)
    assert done.exit_code == 0 and "Warning" not in done.output, done.output
    page = out.read_text(encoding="utf-8")
    meta, columns = page_data(page), sent(page)
    fields = {f["name"]: f["key"] for f in meta["fields"]}
    field_bytes = sum(len(json.dumps(list(columns[fields[name]]))) for name in ("note", "code"))
    xy_bytes = sum(columns[k].nbytes for k in ("x_pca", "y_pca"))
    return {
        "size": len(page.encode()),
        "table": len(TABLE.search(page).group(1)),
        "fields": field_bytes,
        "xy": xy_bytes,
    }


def warnings(done) -> list[str]:
    return [line for line in done.output.splitlines() if line.startswith("Warning:")]


def test_the_neighbour_table_goes_first(data, whole, tmp_path):
    path, _ = data
    limit = round((whole["size"] - whole["table"] // 2) / MB, 4)
    out = tmp_path / "r.html"
    done = run(path, out, "--max-html-mb", f"{limit:g}")
    assert done.exit_code == 0, done.output
    assert warnings(done) == [f"Warning: to fit --max-html-mb {limit:g}: the neighbour table left out ({N:,} rows)"]
    page = out.read_text(encoding="utf-8")
    assert len(page.encode()) <= limit * MB
    assert neighbours(page) is None
    assert page_data(page)["neighbours_note"] == f"no neighbour table: left out to fit --max-html-mb {limit:g}"
    assert page_data(page)["n"] == N and {"label", "id", "note", "code"} <= {
        f["name"] for f in page_data(page)["fields"]
    }


def test_then_hover_fields_then_points_each_named_with_counts(data, whole, tmp_path):
    path, table = data
    without = whole["size"] - whole["table"]
    limit = round((without - whole["fields"] // 3) / MB, 4)  # one of the two text fields must go, maybe both
    out = tmp_path / "fields.html"
    done = run(path, out, "--max-html-mb", f"{limit:g}")
    assert done.exit_code == 0, done.output
    [warning] = warnings(done)
    assert warning.startswith(f"Warning: to fit --max-html-mb {limit:g}: the neighbour table left out ({N:,} rows); ")
    assert " left out (1 of 2)" in warning or " left out (2 of 2)" in warning
    assert "points" not in warning
    page = out.read_text(encoding="utf-8")
    shown = [f["name"] for f in page_data(page)["fields"]]
    assert "label" in shown and "id" in shown, "the label and a field that costs nothing stay"
    assert all(name not in shown for name in ("note", "code") if f'"{name}"' in warning)
    assert len(page.encode()) <= limit * MB and page_data(page)["n"] == N
    assert "on the page" not in done.output and "on the page" not in page

    limit = round((without - whole["fields"] - whole["xy"] // 3) / MB, 4)  # now points must go too
    out = tmp_path / "points.html"
    done = run(path, out, "--max-html-mb", f"{limit:g}")
    assert done.exit_code == 0, done.output
    [warning] = warnings(done)
    assert 'hover fields "' in warning and "(2 of 2)" in warning and f" of {N:,} kept" in warning
    page = out.read_text(encoding="utf-8")
    kept = int(warning.split("points: a seeded ")[1].split(" of ")[0].replace(",", ""))
    data_ = points(page)
    assert page_data(page)["n"] == kept == len(data_["row"]) and N // 10 < kept < N
    # the run's last line and the page's header count the points the page holds, beside those plotted
    assert f"{kept:,} points on the page ({N:,} plotted) of {N:,} rows" in " ".join(done.output.split())
    assert f"{N:,} plotted · {kept:,} on the page" in page
    assert len(page.encode()) <= limit * MB
    rows = data_["row"].tolist()
    assert rows == sorted(set(rows)) and set(rows) <= set(range(N))
    ids, labels = table.column("id").to_pylist(), table.column("label").to_pylist()
    fields = [f["name"] for f in page_data(page)["fields"]]
    assert data_[f"f{fields.index('id')}"] == [str(ids[r]) for r in rows]
    assert data_[f"f{fields.index('label')}"] == [labels[r] for r in rows]
    assert page_data(page)["gear"]["n"] == 50, "the gear's sample stays"
    for lens in ("lens_agree", "lens_trust_pca"):  # the lenses' values a point, taken at the kept points too
        assert len(data_[lens]) == kept and np.nanmax(data_[lens]) <= 1, lens
    again = tmp_path / "again.html"
    assert run(path, again, "--max-html-mb", f"{limit:g}").exit_code == 0
    other = set(points(again.read_text(encoding="utf-8"))["row"].tolist())  # the page's timings move its size
    assert other <= set(rows) or set(rows) <= other, "the same seed keeps the same points, as many as fit"


def test_a_report_too_large_to_mail_says_so(data, whole, tmp_path, monkeypatch):
    import embproj.images.budget

    path, _ = data
    send = round((whole["size"] - whole["table"] // 2) / MB, 4)  # a lower line than 18 MB, for a small report
    monkeypatch.setattr(embproj.images.budget, "SEND_MB", send)
    done = run(path, tmp_path / "r.html")
    assert done.exit_code == 0, done.output
    [warning] = warnings(done)
    size = whole["size"] / MB
    assert warning == (
        f"Warning: the report is {size:.1f} MB, too large to attach to most mail services (~25 MB, and base64 "
        f"makes a file a third larger); --max-html-mb {send:g} would leave out the neighbour table "
        f"({whole['table'] / 1000:.0f} kB)"
    )
    monkeypatch.setattr(embproj.images.budget, "SEND_MB", send / 2)
    done = run(path, tmp_path / "r.html")
    assert warnings(done)[0].endswith(", then leave out hover fields, then points (a seeded subset), until it fits")
