"""Every format × every embedding form reaches the same map (PCA), read from files made in code."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from conftest import blobs
from reportdata import points

X, LABELS = blobs(n=60, dims=6, classes=3)
X = np.round(X, 3)
DIMS = [f"d{i}" for i in range(6)]


def _arrow(form: str, value_type=pa.float32()) -> pa.Table:
    cols = {"label": pa.array(LABELS)}
    if form == "columns":
        for j, name in enumerate(DIMS):
            cols[name] = pa.array(X[:, j]).cast(value_type, safe=False)
    else:
        scale = 10 if pa.types.is_integer(value_type) else 1
        flat = pa.array(X.reshape(-1) * scale).cast(value_type, safe=False)
        offsets = pa.array(np.arange(0, X.size + 1, 6, dtype=np.int32))
        cols["emb"] = {
            "list": lambda: pa.ListArray.from_arrays(offsets, flat),
            "large_list": lambda: pa.LargeListArray.from_arrays(offsets.cast(pa.int64()), flat),
            "fixed_size_list": lambda: pa.FixedSizeListArray.from_arrays(flat, 6),
        }[form]()
    return pa.table(cols)


def _write(tmp_path, fmt: str, form: str):
    if fmt == "parquet":
        pq.write_table(_arrow(form), tmp_path / "t.parquet")
        return tmp_path / "t.parquet"
    rows = [
        {"label": label, **({n: float(v) for n, v in zip(DIMS, vec)} if form == "columns" else {"emb": vec.tolist()})}
        for label, vec in zip(LABELS, X)
    ]
    if fmt == "json":
        (tmp_path / "t.json").write_text(json.dumps(rows))
        return tmp_path / "t.json"
    if fmt == "jsonl":
        (tmp_path / "t.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
        return tmp_path / "t.jsonl"
    delimiter = "," if fmt.startswith("csv") else "\t"
    header = delimiter.join(rows[0])
    lines = [delimiter.join(json.dumps(v) if isinstance(v, list) else str(v) for v in r.values()) for r in rows]
    if fmt.startswith("csv"):  # "[…]" cells need CSV quoting
        lines = [",".join(f'"{v}"' if "[" in v else v for v in _split_list_cells(r)) for r in rows]
    text = header + "\n" + "\n".join(lines) + "\n"
    if fmt == "csv.gz":
        (tmp_path / "t.csv.gz").write_bytes(gzip.compress(text.encode()))
        return tmp_path / "t.csv.gz"
    (tmp_path / f"t.{fmt}").write_text(text)
    return tmp_path / f"t.{fmt}"


def _split_list_cells(row: dict) -> list[str]:
    return [json.dumps(v) if isinstance(v, list) else str(v) for v in row.values()]


def _map(cli, path, *extra):
    result = cli("project", path, "--algo", "pca", "-o", "r.html", *extra)
    assert result.exit_code == 0, result.output
    return result, points((path.parent / "r.html").read_text())


@pytest.fixture(scope="module")
def expected():
    from sklearn.decomposition import PCA

    return PCA(n_components=2, random_state=0).fit_transform(X.astype(np.float32))


@pytest.mark.parametrize("fmt", ["parquet", "csv", "csv.gz", "tsv", "json", "jsonl"])
@pytest.mark.parametrize("form", ["list", "columns"])
def test_format_and_form(cli, tmp_path, expected, fmt, form):
    result, data = _map(cli, _write(tmp_path, fmt, form))
    xy = np.column_stack([data["x_pca"], data["y_pca"]])
    np.testing.assert_allclose(np.abs(xy), np.abs(expected), rtol=1e-3, atol=1e-3)  # PCA signs may flip
    assert data["f0"] == list(LABELS)
    assert ("6 numeric columns" if form == "columns" else '"emb", 6 dims') in result.stderr


@pytest.mark.parametrize("form", ["large_list", "fixed_size_list"])
@pytest.mark.parametrize("value_type", [pa.float16(), pa.float64(), pa.int32()])
def test_parquet_list_kinds_and_value_types(cli, tmp_path, form, value_type):
    pq.write_table(_arrow(form, value_type), tmp_path / "t.parquet")
    _, data = _map(cli, tmp_path / "t.parquet")
    assert len(data["x_pca"]) == 60 and np.isfinite(data["x_pca"]).all()


def test_parquet_directory_of_parts(cli, tmp_path):
    (tmp_path / "parts").mkdir()
    table = _arrow("list")
    pq.write_table(table.slice(0, 30), tmp_path / "parts" / "part-00000.parquet")
    pq.write_table(table.slice(30), tmp_path / "parts" / "part-00001.parquet")
    result = cli("project", tmp_path / "parts", "--algo", "pca", "-o", tmp_path / "r.html")
    assert result.exit_code == 0, result.output
    assert len(points((tmp_path / "r.html").read_text())["x_pca"]) == 60


def test_columns_glob_picks_dimensions(cli, tmp_path):
    table = _arrow("columns").append_column("score", pa.array(np.linspace(0, 1, 60)))
    pq.write_table(table, tmp_path / "t.parquet")
    result, _ = _map(cli, tmp_path / "t.parquet", "--columns", "d[0-2],d5")
    assert 'embedding: 4 columns "d0", "d1", "d2" … "d5"' in result.stderr


def test_tensorboard_projector_files(cli, tmp_path):
    (tmp_path / "tensors.tsv").write_text("\n".join("\t".join(f"{v:.3f}" for v in vec) for vec in X) + "\n")
    (tmp_path / "metadata.tsv").write_text(
        "word\tclass\n" + "\n".join(f"w{i}\t{c}" for i, c in enumerate(LABELS)) + "\n"
    )
    result, data = _map(cli, tmp_path / "tensors.tsv", "--metadata", tmp_path / "metadata.tsv")
    assert 'label: "word" (its name says title)' in result.stderr
    assert 'colour: "class"' in result.stderr
    assert data["f0"][:2] == ["w0", "w1"]


def test_tensorboard_single_column_metadata_has_no_header(cli, tmp_path):
    (tmp_path / "tensors.tsv").write_text("\n".join("\t".join(f"{v:.3f}" for v in vec) for vec in X) + "\n")
    (tmp_path / "meta.tsv").write_text("\n".join(LABELS) + "\n")
    _, data = _map(cli, tmp_path / "tensors.tsv", "--metadata", tmp_path / "meta.tsv")
    assert data["f0"] == list(LABELS)


def test_metadata_row_count_must_match(cli, tmp_path):
    (tmp_path / "tensors.tsv").write_text("\n".join("\t".join(f"{v:.3f}" for v in vec) for vec in X) + "\n")
    (tmp_path / "meta.tsv").write_text("\n".join(LABELS[:50]) + "\n")
    result = cli("project", tmp_path / "tensors.tsv", "--metadata", tmp_path / "meta.tsv", "--algo", "pca")
    assert result.exit_code == 2
    assert "meta.tsv has 50 rows, fewer than the vectors, give one metadata row per vector" in result.stderr


def test_stratified_sample_through_the_cli(cli, tmp_path):
    labels = ["big"] * 990 + ["rare"] * 10
    rng = np.random.default_rng(0)
    table = pa.table({"label": labels, "a": rng.normal(size=1000), "b": rng.normal(size=1000)})
    pacsv.write_csv(table, tmp_path / "t.csv")
    result, data = _map(cli, tmp_path / "t.csv", "--max-points", "50", "--sample", "stratified")
    assert len(data["x_pca"]) == 50 and "rare" in data["f0"]
    assert "stratified, 50 of 1,000 rows" in (tmp_path / "r.html").read_text()
