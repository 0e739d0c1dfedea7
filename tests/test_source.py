"""Stage 1: every format reads to the same Arrow table, streamed in batches."""

from __future__ import annotations

import codecs
import gzip
import json

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from embproj.errors import EmbprojError
from embproj.read.base import from_table
from embproj.read.source import open_source

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
    path = tmp_path / "data.dat"
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


# -- files as people save them: the delimiter, the header row and the encoding from the content ----------------

SPECIES = ("setosa", "versicolor", "virginica")
MEASURES = [[5.1, 3.5, 1.4], [4.9, 3.0, 1.4], [6.4, 3.2, 4.5], [6.9, 3.1, 4.9], [6.3, 3.3, 6.0], [5.8, 2.7, 5.1]]


def _lines(sep: str, header: bool = True, decimal: str = ".") -> str:
    rows = [sep.join(["species", "sepal", "width", "petal"])] if header else []
    for i, values in enumerate(MEASURES):
        rows.append(sep.join([SPECIES[i // 2], *(str(v).replace(".", decimal) for v in values)]))
    return "\n".join(rows) + "\n"


def _measures(table: pa.Table, names=("sepal", "width", "petal")) -> list[list[float]]:
    return [list(row) for row in zip(*(table.column(n).to_pylist() for n in names), strict=True)]


@pytest.mark.parametrize(
    ("name", "text", "about"),
    [
        (
            "semicolon.csv",
            _lines(";", decimal=","),
            "read as semicolon-separated with decimal commas (1,5 is 1.5), as its content says",
        ),
        ("semicolon-points.csv", _lines(";"), "read as semicolon-separated, as its content says"),
        ("pipe.csv", _lines("|"), "read as pipe-separated, as its content says"),
        ("tabs.csv", _lines("\t"), "read as tab-separated, as its content says"),
        ("tabs-commas.tsv", _lines("\t", decimal=","), "read with decimal commas (1,5 is 1.5), as its content says"),
        ("commas.tsv", _lines(","), "read as comma-separated, as its content says"),
        ("plain.csv", _lines(","), None),
    ],
)
def test_the_delimiter_and_decimal_commas_come_from_the_content(tmp_path, name, text, about):
    """statsmodels ships .csv files separated by tabs or semicolons; European Excel writes `;` with 1,5."""
    (tmp_path / name).write_text(text)
    source, table = _read_all(tmp_path / name)
    assert table.column_names == ["species", "sepal", "width", "petal"]
    assert _measures(table) == MEASURES and table.column("species").to_pylist()[0] == "setosa"
    assert source.notes == ()
    assert [line.split(": ", 1)[1] for line in source.about] == ([about] if about else [])


def test_a_headerless_decimal_comma_file_is_not_read_as_comma_separated(tmp_path):
    """csv.Sniffer prefers the comma when it splits every row evenly, as 1,5;2,5 does: the semicolon wins."""
    import csv

    text = _lines(";", header=False, decimal=",")
    assert csv.Sniffer().sniff(text, delimiters=",;").delimiter == ","  # the failure guarded against
    (tmp_path / "nohead.csv").write_text(text)
    source, table = _read_all(tmp_path / "nohead.csv")
    assert _measures(table, ("column_2", "column_3", "column_4")) == MEASURES


@pytest.mark.parametrize("sep", [",", "\t", ";"])
def test_a_file_without_a_header_row_gets_numbered_names_and_a_warning(tmp_path, sep):
    """The first row `setosa,5.1,3.5,1.4` holds numbers where the rows below do: it is data, not names."""
    (tmp_path / "iris.csv").write_text(_lines(sep, header=False))
    source, table = _read_all(tmp_path / "iris.csv")
    assert table.column_names == ["column_1", "column_2", "column_3", "column_4"]
    assert table.num_rows == len(MEASURES) and table.column("column_1").to_pylist()[0] == "setosa"
    assert _measures(table, ("column_2", "column_3", "column_4")) == MEASURES
    (note,) = source.notes
    assert note.startswith("no header row: the first row holds numbers where the rows below do, so it is read")
    assert "named column_1 … column_4; give the file a header row to name them" in note


@pytest.mark.parametrize(
    "header",
    [
        "a,b,c,d",  # names
        ",0,1,2",  # pandas' unnamed index and a NumPy array's numbered columns
        "country,1960,1961,1962",  # years, as the World Bank's tables have
        "sample,400,402.5,405",  # a spectrum's wavelengths
        "id,x,y,z",
    ],
)
def test_a_header_row_stays_the_header(tmp_path, header):
    rows = [header, "fr,1.5,2.5,3.5", "de,2,3.5,4", "it,3.25,1,0.5"]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    source, table = _read_all(tmp_path / "t.csv")
    assert table.num_rows == 3 and source.notes in ((), ('renamed 1 column as pandas does: column 1 (no name) is '
                                                          '"Unnamed: 0"',))  # fmt: skip
    assert table.column_names[1:] == header.split(",")[1:]


def test_a_table_of_text_keeps_its_header(tmp_path):
    """csv.Sniffer.has_header would call this header data: its columns of text vote by their lengths."""
    (tmp_path / "words.csv").write_text("word,text\nhello,some long text\nworld,other\n")
    _, table = _read_all(tmp_path / "words.csv")
    assert table.column_names == ["word", "text"] and table.num_rows == 2


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("excel.txt", _lines("\t").replace("\n", "\r\n").encode("utf-16")),  # Excel's "Unicode Text": UTF-16 LE
        ("le.tsv", codecs.BOM_UTF16_LE + _lines("\t").encode("utf-16-le")),
        ("be.csv", codecs.BOM_UTF16_BE + _lines(",").encode("utf-16-be")),
        ("wide.csv", _lines(";", decimal=",").encode("utf-32")),
        ("bom.csv", _lines(",").encode("utf-8-sig")),
        ("bom.csv.gz", gzip.compress(_lines(",").encode("utf-16"))),
    ],
)
def test_text_with_a_byte_order_mark_is_read_without_options(tmp_path, name, data):
    (tmp_path / name).write_bytes(data)
    _, table = _read_all(tmp_path / name)
    assert table.column_names == ["species", "sepal", "width", "petal"]
    assert _measures(table) == MEASURES


def test_encoding_utf16_is_read_and_utf16_without_a_mark_is_named(tmp_path):
    path = tmp_path / "u.tsv"
    path.write_bytes(_lines("\t").encode("utf-16"))
    _, table = _read_all(path, encoding="utf-16")
    assert _measures(table) == MEASURES
    path.write_bytes(_lines("\t").encode("utf-16-le"))  # no byte-order mark
    with pytest.raises(EmbprojError, match="UTF-16-LE text with no byte-order mark, give its encoding with --enc"):
        open_source(path)
    _, table = _read_all(path, encoding="utf-16-le")
    assert _measures(table) == MEASURES


def test_a_txt_file_is_read_when_its_rows_split_evenly(tmp_path):
    (tmp_path / "notes.txt").write_text("just some words\nthat are no table\n")
    with pytest.raises(EmbprojError, match='unknown file type ".txt"'):
        open_source(tmp_path / "notes.txt")
    (tmp_path / "t.txt").write_text(_lines(";"))
    source, table = _read_all(tmp_path / "t.txt")
    assert source.format == "csv" and _measures(table) == MEASURES


def test_the_sample_may_end_inside_a_quoted_cell_of_several_lines(tmp_path):
    """Only the first 64 KB are sniffed: the row they cut (here inside a quoted review of two lines) is left out."""
    from embproj.read.dialect import SNIFF_BYTES

    rows = [f'"review {i}\nsecond line; with a semicolon";{i % 10},5;{i % 3}' for i in range(6_000)]
    text = "text;score;stars\n" + "\n".join(rows) + "\n"
    assert len(text) > 4 * SNIFF_BYTES
    (tmp_path / "reviews.csv").write_text(text)
    source, table = _read_all(tmp_path / "reviews.csv")
    assert table.column_names == ["text", "score", "stars"] and table.num_rows == 6_000
    assert table.column("score").to_pylist()[:3] == [0.5, 1.5, 2.5]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-32"])
def test_json_with_a_byte_order_mark(tmp_path, encoding):
    (tmp_path / "t.json").write_bytes(json.dumps(ROWS).encode(encoding))
    (tmp_path / "t.jsonl").write_bytes("\n".join(json.dumps(r) for r in ROWS).encode(encoding))
    for name in ("t.json", "t.jsonl"):
        _, table = _read_all(tmp_path / name)
        assert table.column("v").to_pylist()[6] == [6.0, -6.0, 0.5]
