"""The Python API: the reference product's five ways to build a table, all ending in the CLI's pipeline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import embproj
from conftest import blobs
from embproj.errors import EmbprojError
from reportdata import points

X, LABELS = blobs(n=40, dims=5, classes=2)


def _check(result, n=40, label_values=None):
    data = points(result.html)
    assert len(data["x_pca"]) == n and np.isfinite(data["x_pca"]).all()
    if label_values is not None:
        assert data["f0"] == list(label_values)
    return data


def test_from_a_dataframe_with_array_cells():
    df = pd.DataFrame({"label": LABELS, "embedding": list(X)})
    result = embproj.report(df, algo="pca")
    _check(result, label_values=LABELS)
    assert result.plan.embedding.columns == ("embedding",)


def test_from_a_dataframe_with_one_number_per_column():
    df = pd.DataFrame(X, columns=[f"d{i}" for i in range(5)]).assign(label=LABELS)
    result = embproj.report(df, algo="pca")
    assert result.plan.embedding.kind == "columns" and len(result.plan.embedding.columns) == 5
    _check(result)


def test_from_rows_and_column_names():
    rows = [[label, vec.tolist()] for label, vec in zip(LABELS, X)]
    _check(embproj.report(data=rows, columns=["label", "vec"], algo="pca"), label_values=LABELS)


def test_row_by_row_with_ints_and_floats():
    table = embproj.Table(columns=["label", "embedding"])
    for label, vec in zip(LABELS, X):
        table.add_row(label, [int(v * 10) for v in vec])
    assert len(table) == 40
    _check(table.report(algo="pca"), label_values=LABELS)


def test_adding_an_embedding_column_and_a_computed_one():
    table = embproj.Table(columns=["label"], data=[[label] for label in LABELS])
    table.add_column("embedding", list(X))
    table.add_computed_column("norm", lambda row: float(np.linalg.norm(row["embedding"])))
    table.add_computed_columns(lambda i, row: {"parity": "even" if i % 2 == 0 else "odd"})
    result = table.report(algo="pca", hover=["label", "norm", "parity"])
    data = _check(result)
    assert data["f1"][0] == f"{np.linalg.norm(X[0]):.6g}"
    assert data["f2"][:2] == ["even", "odd"]


def test_result_saves_and_shows_in_jupyter(tmp_path):
    result = embproj.report(
        pa.table({"label": LABELS, "e": pa.array(list(X), type=pa.list_(pa.float32()))}), algo="pca"
    )
    path = result.save(tmp_path / "map.html")
    assert path.read_text(encoding="utf-8") == result.html
    frame = result._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and "&lt;html" in frame


def test_api_errors_are_embproj_errors():
    with pytest.raises(EmbprojError, match='unknown option "colour"'):
        embproj.report(pd.DataFrame(X), colour="x")
    with pytest.raises(EmbprojError, match="add_data got 1 value for 2 columns"):
        embproj.Table(columns=["a", "b"]).add_row(1)
    with pytest.raises(EmbprojError, match="cannot make a table from int"):
        embproj.report(5)
    with pytest.raises(EmbprojError, match='option max_points="many" is a str, give an int'):
        embproj.report(pd.DataFrame(X), max_points="many")
    with pytest.raises(EmbprojError, match="option whiten=1 is a int, give a bool"):
        embproj.report(pd.DataFrame(X), whiten=1)
