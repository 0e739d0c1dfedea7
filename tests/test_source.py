"""Stage 1: every format reads to the same Arrow table, streamed in batches."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from embproj.errors import EmbprojError
from embproj.source import from_table, open_source

ROWS = [{"id": i, "label": f"c{i % 3}", "x": float(i) / 2, "v": [float(i), float(-i), 0.5]} for i in range(7)]


def _read_all(path, **kw):
    source = open_source(path, **kw)
    return source, pa.Table.from_batches(list(source.batches()))


def test_parquet_file_keeps_lists_and_counts_rows(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.Table.from_pylist(ROWS), path)
    source, table = _read_all(path)
    assert (source.format, source.num_rows) == ("parquet", 7)
    assert table.column("v").to_pylist()[3] == [3.0, -3.0, 0.5]


def test_parquet_directory_of_part_files(tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    pq.write_table(pa.Table.from_pylist(ROWS[:4]), folder / "part-0.parquet")
    pq.write_table(pa.Table.from_pylist(ROWS[4:]), folder / "part-1.parquet")
    source, table = _read_all(folder)
    assert source.num_rows == 7
    assert sorted(table.column("id").to_pylist()) == list(range(7))


def test_csv_and_tsv_and_gzip(tmp_path):
    flat = pa.Table.from_pylist([{k: v for k, v in r.items() if k != "v"} for r in ROWS])
    pacsv.write_csv(flat, tmp_path / "t.csv")
    pacsv.write_csv(flat, tmp_path / "t.tsv", pacsv.WriteOptions(delimiter="\t"))
    (tmp_path / "t.csv.gz").write_bytes(gzip.compress((tmp_path / "t.csv").read_bytes()))
    for name, fmt in (("t.csv", "csv"), ("t.tsv", "tsv"), ("t.csv.gz", "csv")):
        source, table = _read_all(tmp_path / name)
        assert source.format == fmt
        assert table.column("label").to_pylist() == [r["label"] for r in ROWS]


def test_json_array_and_json_lines(tmp_path):
    (tmp_path / "t.json").write_text(json.dumps(ROWS))
    (tmp_path / "t.jsonl").write_text("\n".join(json.dumps(r) for r in ROWS))
    for name in ("t.json", "t.jsonl"):
        _, table = _read_all(tmp_path / name)
        assert table.column("v").to_pylist()[6] == [6.0, -6.0, 0.5]


def test_format_option_overrides_the_suffix(tmp_path):
    path = tmp_path / "data.txt"
    path.write_text("a,b\n1,2\n3,4\n")
    with pytest.raises(EmbprojError, match="unknown file type"):
        open_source(path)
    source, table = _read_all(path, format="csv")
    assert table.num_rows == 2


def test_latin1_needs_encoding(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("name,x,y\nJosé,1,2\nZoë,3,4\n".encode("latin-1"))
    with pytest.raises(EmbprojError, match="--encoding"):
        list(open_source(path).batches())
    _, table = _read_all(path, encoding="latin-1")
    assert table.column("name").to_pylist() == ["José", "Zoë"]


def test_batches_read_only_the_asked_columns(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.Table.from_pylist(ROWS), path)
    batch = next(open_source(path).batches(["label", "x"]))
    assert batch.schema.names == ["label", "x"]


def test_from_table_streams_in_memory_data():
    table = pa.table({"a": np.arange(200_000)})
    source = from_table(table)
    assert sum(b.num_rows for b in source.batches()) == 200_000
    assert source.head(10).num_rows == 10
