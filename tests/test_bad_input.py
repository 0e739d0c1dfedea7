"""Bad input, table-driven. Every case ends in exactly one of:
(a) exit 2, one line `Error: <file>: <what>, <fix>` on stderr, no traceback, no output file; or
(b) a report, exit 0, and a warning that counts what was dropped and why."""

from __future__ import annotations

import gzip
import html
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import short_line
from reportdata import points

NAN, INF = float("nan"), float("inf")


def _file(name: str, data: bytes):
    def write(d):
        (d / name).write_bytes(data)
        return d / name

    return write


def _csv(text: str, name="data.csv", encoding="utf-8"):
    return _file(name, text.encode(encoding))


def _parquet(table: pa.Table, name="data.parquet"):
    def write(d):
        pq.write_table(table, d / name)
        return d / name

    return write


def _jsonl(rows: list, name="data.jsonl"):
    return _file(name, "\n".join(json.dumps(r) for r in rows).encode())


def _vectors(rows: list, **extra) -> pa.Table:
    return pa.table({"v": pa.array(rows, type=pa.list_(pa.float64())), **extra})


def _blob_rows(n: int, dims: int = 4) -> list:
    return np.random.default_rng(n).normal(size=(n, dims)).tolist()


def _truncated_parquet(d):
    path = _parquet(_vectors(_blob_rows(50)))(d)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _bad_images(d):
    """24 rows whose `image` paths include a missing file, corrupt bytes, a text file and a decompression bomb."""
    import io
    import struct
    import zlib

    from PIL import Image

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 30_000, 30_000, 8, 0, 0, 0, 0)  # 900 megapixels claimed, under 1 kB stored
    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 30_001))
        + chunk(b"IEND", b"")
    )
    names = []
    for i in range(24):
        buf = io.BytesIO()
        Image.fromarray(np.full((8, 8), i * 10, np.uint8)).save(buf, format="PNG")
        (d / f"{i}.png").write_bytes(buf.getvalue())
        names.append(f"{i}.png")
    (d / "1.png").unlink()  # missing
    (d / "2.png").write_bytes(buf.getvalue()[:40])  # corrupt (cut short)
    (d / "3.png").write_text("just some text")  # a text file
    (d / "4.png").write_bytes(bomb)
    table = pa.table({"image": names, "a": np.arange(24.0), "b": np.arange(24.0) % 5})
    pq.write_table(table, d / "data.parquet")
    return d / "data.parquet"


def _empty_dir(d):
    (d / "parts").mkdir()
    (d / "parts" / "notes.txt").write_text("nothing here")
    return d / "parts"


def _npy(array: np.ndarray, name="data.npy"):
    def write(d):
        np.save(d / name, array)
        return d / name

    return write


TENSORS = "".join("\t".join(f"{v:.4f}" for v in row) + "\n" for row in _blob_rows(20, dims=3))
CONFIG = 'embeddings {\n  tensor_name: "emb:00000"\n  tensor_path: "tensors.tsv"\n%s}\n'


def _tensorboard(fields: str = "", metadata: str | None = None, sprite: bool = False):
    """A TensorBoard log folder of 20 three-dim vectors; `fields` go in its config's embedding."""

    def write(d):
        from PIL import Image

        log = d / "logs"
        log.mkdir()
        (log / "projector_config.pbtxt").write_text(CONFIG % fields)
        (log / "tensors.tsv").write_text(TENSORS)
        if metadata is not None:
            (log / "metadata.tsv").write_text(metadata)
        if sprite:
            Image.new("L", (40, 40), 90).save(log / "sprite.png")
        return log

    return write


def _table_json(obj: dict, name="t.table.json"):
    return _file(name, json.dumps(obj).encode())


WANDB_ROWS = [[row, f"c{i % 2}"] for i, row in enumerate(_blob_rows(12))]


def _hf_saved(state: dict, metadata: str | None = None):
    """A save_to_disk folder of 12 rows, its state.json as given; `metadata`: the Arrow schema's huggingface JSON."""

    def write(d):
        saved = d / "saved"
        saved.mkdir()
        table = _vectors(_blob_rows(12), label=pa.array(np.arange(12) % 3))
        if metadata is not None:
            table = table.replace_schema_metadata({"huggingface": metadata})
        with pa.ipc.new_stream(saved / "data-00000-of-00001.arrow", table.schema) as out:
            out.write_table(table)
        (saved / "state.json").write_text(json.dumps(state))
        (saved / "dataset_info.json").write_text(json.dumps({"features": {}}))
        return saved

    return write


def _arrow(table: pa.Table, name="data.arrow"):
    def write(d):
        with pa.ipc.new_file(d / name, table.schema) as out:
            out.write_table(table)
        return d / name

    return write


def _parquet_claiming(rows: int):
    """A Parquet file of 30 rows whose footer says it holds `rows` (the file's count; its row group is left)."""
    import struct

    def varint(n: int) -> bytes:  # thrift's compact protocol: a zigzag varint
        n, out = n << 1, bytearray()
        while n >= 0x80:
            out.append(n & 0x7F | 0x80)
            n >>= 7
        return bytes([*out, n])

    def write(d):
        path = _parquet(_vectors(_blob_rows(30)))(d)
        data = path.read_bytes()
        size = struct.unpack("<I", data[-8:-4])[0]
        footer = data[-8 - size : -8]
        told = b"\x16" + varint(30)  # field 3 of FileMetaData, num_rows (an i64), after the schema
        assert told in footer
        footer = footer.replace(told, b"\x16" + varint(rows), 1)
        path.write_bytes(data[: -8 - size] + footer + struct.pack("<I", len(footer)) + b"PAR1")
        assert pq.ParquetFile(path).metadata.num_rows == rows
        return path

    return write


ERRORS = {
    "missing file": (lambda d: d / "nope.parquet", [], "nope.parquet: no such file or directory, check the path"),
    "directory with no data files": (_empty_dir, [], "the directory holds no .parquet files, give a data file"),
    "unknown suffix": (_csv("a,b\n1,2\n", "data.xyz"), [], 'unknown file type ".xyz", use a .csv, .tsv, .parquet'),
    "CSV named .parquet": (_csv("a,b\n1,2\n", "data.parquet"), [], "not a Parquet file (no PAR1 magic bytes)"),
    "Parquet named .csv": (
        lambda d: (_parquet(_vectors(_blob_rows(5)))(d).rename(d / "data.csv"), d / "data.csv")[1],
        [],
        "this CSV file holds Parquet data, rename it to its real type or give it with --format",
    ),
    "empty file": (_csv(""), [], "the file is empty, give a file with a header row"),
    "a JSON Lines line that is a number": (
        _file("d.jsonl", b'{"a": 1}\n0\n'),
        [],
        "line 2 is a number, not an object, give one JSON object a line",
    ),
    "header only": (_csv("a,b,c\n"), [], "the table has a header but no rows, give a file with at least one data row"),
    "zero rows after dropping": (
        _parquet(_vectors([[NAN, 1.0]] * 5 + [[INF, 0.0]] * 3)),
        [],
        "no usable rows: every vector was dropped (8 NaN or infinite values)",
    ),
    "non-numeric strings in embedding column": (
        _csv('v\n"[a, b]"\n"[c, d]"\n"[e, f]"\n'),
        ["--embedding", "v"],
        '--embedding "v" is string, not a list of numbers, choose a column of vectors',
    ),
    "no embedding found": (
        _csv("name,city\nann,paris\nbob,rome\n"),
        [],
        "no embedding found: no column of vectors and no numeric columns; columns seen: name (string), city (string), "
        "choose one with --embedding COL",
    ),
    "no embedding among a struct of 3,000 fields and 500 long names": (  # was a 34,000-character line
        _jsonl([{"meta": {f"field_{j}": j for j in range(3_000)}, **{f"{'n' * 200}{k}": "x" for k in range(500)}}]),
        [],
        "int64>), … and 500 more, choose one with --embedding COL",  # the columns past the first counted
    ),
    "a single numeric column": (
        _csv("name,score\na,0.5\nb,0.25\nc,0.125\n"),
        [],
        "no embedding found: only one numeric column",
    ),
    "malformed CSV": (_csv("a,b,c\n1,2,3\n4,5,6,7\n"), [], "malformed CSV (CSV parse error: Expected 3 columns, got 4"),
    "invalid JSON": (
        _file("d.json", b'[{"a": 1},\n {"a": }]'),
        [],
        "invalid JSON at line 2, column 8",
    ),
    "invalid JSON Lines": (
        _file("d.jsonl", b'{"a": [1, 2]}\n{"a": [3, }\n'),
        [],
        "invalid JSON on line 2",
    ),
    "truncated Parquet": (
        _truncated_parquet,
        [],
        "cannot read the Parquet file (Parquet magic bytes not found in footer",
    ),
    "non-UTF-8 text": (
        _csv("name,a,b\nJosé,1,2\nZoë,3,4\n", encoding="latin-1"),
        [],
        'not UTF-8 text (column "name"), pass the file\'s encoding, for example --encoding latin-1',
    ),
    "unknown --algo": (
        _parquet(_vectors(_blob_rows(9))),
        ["--algo", "lda"],
        '--algo "lda" is not supported, use one of pca',
    ),
    "unknown column in --color": (
        _parquet(_vectors(_blob_rows(9))),
        ["--color", "nope"],
        '--color "nope": no such column, columns are: "v"',
    ),
    "unknown column in --color, 5,000 characters long": (
        _parquet(_vectors(_blob_rows(9))),
        ["--color", "c" * 5_000],
        'no such column, columns are: "v"',
    ),
    "unknown column in --hover": (
        _parquet(_vectors(_blob_rows(9))),
        ["--hover", "v,zz"],
        '--hover "zz": no such column',
    ),
    "unknown column in --charts": (
        _parquet(_vectors(_blob_rows(9))),
        ["--charts", "v,zz"],
        '--charts "zz": no such column, columns are: "v"',
    ),
    "too many --charts": (
        _parquet(pa.table({"v": _blob_rows(9), **{f"c{i}": [i] * 9 for i in range(7)}})),
        ["--charts", "c0,c1,c2,c3,c4,c5,c6"],
        "--charts c0,c1,c2,c3,c4,c5,c6 names 7 columns, give at most 6",
    ),
    "--charts a column of vectors": (
        _parquet(_vectors(_blob_rows(9))),
        ["--charts", "v"],
        '--charts "v" holds list<double> values, which cannot be charted, chart columns of numbers, labels or text',
    ),
    "--text a column of numbers": (
        _parquet(pa.table({"v": _blob_rows(9), "s": np.arange(9.0)})),
        ["--text", "s"],
        '--text "s" holds double values, not text, give a column of text (titles, sentences, documents)',
    ),
    "unknown --clusters": (
        _parquet(_vectors(_blob_rows(9))),
        ["--clusters", "some"],
        '--clusters "some" is not supported, use one of auto, none',
    ),
    "--min-cluster-size below 2": (
        _parquet(_vectors(_blob_rows(9))),
        ["--min-cluster-size", "1"],
        "--min-cluster-size 1 is out of range, give a whole number, 2 or more",
    ),
    "parameter out of range": (
        _parquet(_vectors(_blob_rows(9))),
        ["--perplexity", "-3"],
        "--perplexity -3 is out of range",
    ),
    "negative seed": (_parquet(_vectors(_blob_rows(9))), ["--seed", "-3"], "--seed -3 is out of range, give a whole"),
    "seed too large": (_parquet(_vectors(_blob_rows(9))), ["--seed", str(2**32)], "--seed 4294967296 is out of range"),
    "UTF-16 text with no byte-order mark": (
        _csv("a,b\n1,2\n3,5\n", encoding="utf-16-le"),
        [],
        "this looks like UTF-16-LE text with no byte-order mark, give its encoding with --encoding utf-16-le",
    ),
    "unknown --format": (
        _csv("a,b\n1,2\n"),
        ["--format", "xlsx"],
        '--format "xlsx" is not supported, use one of csv, tsv',
    ),
    "unknown --encoding": (_csv("a,b\n1,2\n", "d.json"), ["--encoding", "klingon"], 'unknown --encoding "klingon"'),
    "output folder does not exist": (
        _parquet(_vectors(_blob_rows(9))),
        ["-o", "no/dir/r.html"],
        "the output folder no/dir does not exist",
    ),
    "output is the input": (
        _parquet(_vectors(_blob_rows(9))),
        ["-o", "data.parquet"],
        "the output path is the input file",
    ),
    "output folder not writable": (
        _parquet(_vectors(_blob_rows(9))),
        ["-o", "/proc/r.html"],
        "the output folder is not writable",
    ),
    "a .npy matrix of rows with no values": (
        _npy(np.zeros((5, 0), np.float32)),
        [],
        "data.npy: the array is 5×0: it holds no numbers, save one row of numbers per item",
    ),
    "a projector config with a number of 5,000 digits": (
        _tensorboard("  tensor_shape: " + "9" * 5000 + "\n"),
        [],
        "projector_config.pbtxt: a number of 5,000 digits at line 4 of the config, more than any of its fields holds",
    ),
    "a projector config with a message for a path": (
        _tensorboard("  metadata_path { }\n"),
        [],
        "metadata_path holds a message, not a value, write the config again with add_embedding",
    ),
    "a saved dataset whose state.json lists its files as a number": (
        _hf_saved({"_data_files": 5}),
        [],
        'saved: state.json\'s "_data_files" is not a list of {"filename": "data-….arrow"}, save the dataset again',
    ),
}

WARNINGS = {
    "NaN or inf in some vectors": (
        _parquet(_vectors(_blob_rows(20) + [[NAN, 1, 2, 3], [1, INF, 2, 3], [1, 2, -INF, 3]])),
        [],
        "dropped 3 of 23 sampled rows: 3 NaN or infinite values",
        20,
    ),
    "values too large to measure distances between": (  # squared, 1e30 overflows float32: no neighbours
        _parquet(_vectors(_blob_rows(20) + [[0, 1, 2, -1e30], [3e20, 1, 2, 3]])),
        [],
        "dropped 2 of 22 sampled rows: 2 values beyond ±1e15, too large to measure distances",
        20,
    ),
    "ragged embedding lists": (
        _jsonl([{"v": r} for r in _blob_rows(20)] + [{"v": [1.0, 2.0]}, {"v": [1.0] * 7}]),
        [],
        "dropped 2 of 22 sampled rows: 2 vectors not of length 4",
        20,
    ),
    "nulls in the embedding": (
        _parquet(_vectors(_blob_rows(20) + [None, None])),
        [],
        "dropped 2 of 22 sampled rows: 2 missing vectors",
        20,
    ),
    "text vectors with a few non-numbers": (
        _csv("v\n" + "\n".join(f'"[{i}, 1, {i % 3}]"' if i % 10 else '"[x, 1, 2]"' for i in range(30))),
        [],
        "dropped 3 of 30 sampled rows: 3 vectors holding text that is not a number",
        27,
    ),
    "image cells: missing, corrupt, text, decompression bomb": (
        _bad_images,
        [],
        "4 of 24 images could not be read: 1 missing file",
        24,
    ),
    "a CSV without a header row": (
        _csv("".join(f"c{i % 3},{i * 0.5},{i % 7},{i % 5}\n" for i in range(30))),
        [],
        "no header row: the first row holds numbers where the rows below do, so it is read as data, and the "
        "columns are named column_1 … column_4",
        30,
    ),
    "all rows identical": (
        _csv("a,b\n" + "1,2\n" * 30),
        [],
        "all 30 vectors are identical, so every point sits at (0, 0)",
        30,
    ),
    "integer vectors beyond float32's exact range": (
        _parquet(pa.table({"v": pa.array([[2**40 + i, i, 2**24 + 1] for i in range(20)], pa.list_(pa.int64()))})),
        [],
        "20 of 20 rows read hold integers beyond ±16,777,216 (2^24), which float32 cannot hold exactly: their "
        "vectors were rounded to float32, so they lost precision",
        20,
    ),
    "integer columns beyond float32's exact range": (
        _parquet(pa.table({"a": np.arange(20) % 5 * 3 + 2**30 + 1, "b": np.arange(20) % 7, "c": np.arange(20) % 3})),
        [],
        "20 of 20 rows read hold integers beyond ±16,777,216 (2^24)",
        20,
    ),
    "metadata.tsv with a column name twice": (
        _tensorboard('  metadata_path: "metadata.tsv"\n', "label\tlabel\n" + "a\tb\n" * 20),
        [],
        'metadata.tsv: renamed 1 column as pandas does: column 2 ("label" again) is "label.1"',
        20,
    ),
    "Hugging Face metadata nested past Python's limit": (
        _hf_saved({"_data_files": [{"filename": "data-00000-of-00001.arrow"}]}, '{"info": ' * 5000 + "{}" + "}" * 5000),
        [],
        "data-00000-of-00001.arrow: the schema's Hugging Face metadata is nested too deep to read, so class labels "
        "are shown as numbers",
        12,
    ),
}

OK_WITH_WARNING = {
    "100,000 distinct colour values": (
        _parquet(pa.table({"k": [f"id{i}" for i in range(100_000)], "a": np.arange(100_000.0), "b": np.ones(100_000)})),
        ["--color", "k", "--max-points", "2000"],
        'colour "k" has 2,000 classes among the plotted rows: the legend shows the 19 largest',
        2000,
    ),
}

OK = {
    "many duplicate rows": (
        _csv("a,b,c\n" + "1,2,3\n" * 200 + "".join(f"{i},{i % 7},{i % 3}\n" for i in range(40))),
        [],
        240,
    ),
    "a constant column": (_csv("a,b,c\n" + "".join(f"{i},{i * 3 % 11},5\n" for i in range(40))), [], 40),
    "very wide vectors": (_parquet(_vectors(_blob_rows(60, dims=10_000))), [], 60),
    "a .csv separated by semicolons, with decimal commas": (
        _csv("k;a;b\n" + "".join(f"c{i % 3};{i},5;{i % 7},25\n" for i in range(30))),
        [],
        30,
    ),
    "a .csv separated by pipes": (_csv("k|a|b\n" + "".join(f"c{i % 3}|{i}.5|{i % 7}\n" for i in range(30))), [], 30),
    "a .csv separated by tabs": (_csv("k\ta\tb\n" + "".join(f"c{i % 3}\t{i}.5\t{i % 7}\n" for i in range(30))), [], 30),
    "Excel's Unicode Text: UTF-16 with tabs, in a .txt": (
        _csv("k\ta\tb\r\n" + "".join(f"é{i % 3}\t{i}.5\t{i % 7}\r\n" for i in range(30)), "data.txt", "utf-16"),
        [],
        30,
    ),
    "gzip CSV": (
        _file("d.csv.gz", gzip.compress(b"a,b\n1,2\n3,5\n4,4\n")),
        [],
        3,
    ),
    "a W&B table whose column_types is a list": (
        _table_json({"_type": "table", "columns": ["v", "label"], "data": WANDB_ROWS, "column_types": [1]}),
        [],
        12,
    ),
    "a W&B union type whose allowed types are a number": (
        _table_json(
            {
                "_type": "table",
                "columns": ["v", "label"],
                "data": WANDB_ROWS,
                "column_types": {"params": {"type_map": {"v": {"wb_type": "union", "params": {"allowed_types": 5}}}}},
            }
        ),
        [],
        12,
    ),  # fmt: skip
    "pandas table JSON whose schema fields are a number": (
        _table_json({"schema": {"fields": 5}, "data": [{"v": v, "label": k} for v, k in WANDB_ROWS]}, "t.json"),
        [],
        12,
    ),
    "an Arrow dictionary column of lists": (
        _arrow(
            pa.table(
                {
                    "v": pa.DictionaryArray.from_arrays(
                        pa.array(np.arange(12) % 4, pa.int32()), pa.array(_blob_rows(4), pa.list_(pa.float32()))
                    )
                }
            )
        ),
        [],
        12,
    ),  # fmt: skip
    "a sprite whose image size is infinite": (
        _tensorboard(
            '  sprite {\n    image_path: "sprite.png"\n    single_image_dim: 1e400\n    single_image_dim: 8\n  }\n',
            sprite=True,
        ),
        [],
        20,
    ),  # fmt: skip
    "a Parquet footer that claims 10^12 rows": (_parquet_claiming(10**12), ["--max-points", "all"], 30),
}


def _run(cli, tmp_path, make, extra, algo="pca"):
    data = make(tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    args = ["project", data, "--algo", algo, *extra]
    if "-o" not in extra:
        args += ["-o", tmp_path / "report.html"]
    return cli(*args), before


@pytest.mark.parametrize("case", list(ERRORS))
def test_error_cases(cli, tmp_path, case):
    make, extra, message = ERRORS[case]
    result, before = _run(cli, tmp_path, make, extra)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("Error: ") and message in lines[-1]
    assert sum(line.startswith("Error") for line in lines) == 1
    assert short_line(lines[-1]), "an error line is short, whatever the table"
    assert "Traceback" not in result.output
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert after == before, "an error must write nothing and change nothing"


@pytest.mark.parametrize("case", [*WARNINGS, *OK_WITH_WARNING])
def test_warning_cases(cli, tmp_path, case):
    make, extra, warning, plotted = {**WARNINGS, **OK_WITH_WARNING}[case]
    result, _ = _run(cli, tmp_path, make, extra)
    assert result.exit_code == 0, result.output
    assert f"Warning: {warning}" in result.stderr
    page = (tmp_path / "report.html").read_text()
    assert len(points(page)["x_pca"]) == plotted
    assert warning in html.unescape(page)  # the report says it too


@pytest.mark.parametrize("case", list(OK))
def test_awkward_but_valid_inputs(cli, tmp_path, case):
    make, extra, plotted = OK[case]
    result, _ = _run(cli, tmp_path, make, extra)
    assert result.exit_code == 0, result.output
    data = points((tmp_path / "report.html").read_text())
    assert len(data["x_pca"]) == plotted
    assert np.isfinite(data["x_pca"]).all() and np.isfinite(data["y_pca"]).all()


@pytest.mark.parametrize("n", [1, 2, 3, 5])
@pytest.mark.parametrize("algo", ["pca", "umap", "tsne"])
def test_tiny_tables_for_each_algorithm(cli, tmp_path, algo, n):
    result, _ = _run(cli, tmp_path, _parquet(_vectors(_blob_rows(n))), [], algo=algo)
    if algo != "pca" and n < 4:
        assert result.exit_code == 2
        assert (
            f"needs at least 4 rows with a usable vector, got {n}, give more rows, or use --algo pca" in result.stderr
        )
        assert not (tmp_path / "report.html").exists()
    else:
        assert result.exit_code == 0, result.output
        data = points((tmp_path / "report.html").read_text())
        assert np.isfinite(data[f"x_{algo}"]).all() and len(data[f"x_{algo}"]) == n


# -- property: random small tables give a report or a clean error, nothing else ---------------------------------

cells = st.one_of(
    st.none(),
    st.integers(-5, 5),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.text(max_size=6),
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), max_size=4),
)


@st.composite
def tables(draw):
    n_cols = draw(st.integers(1, 4))
    n_rows = draw(st.integers(0, 8))
    names = draw(st.lists(st.text(min_size=1, max_size=5), min_size=n_cols, max_size=n_cols, unique=True))
    return [{name: draw(cells) for name in names} for _ in range(n_rows)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=tables())
def test_random_tables_report_or_fail_cleanly(cli, tmp_path, rows):
    path = tmp_path / "random.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    out = tmp_path / "random.html"
    out.unlink(missing_ok=True)
    for args in (["inspect", path], ["project", path, "--algo", "pca", "-o", out, "-q"]):
        result = cli(*args)
        assert result.exit_code in (0, 2), result.output
        if result.exit_code == 2:
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("Error: ") and short_line(lines[0])
            if args[0] == "project":
                assert not out.exists()
        elif args[0] == "project":
            assert np.isfinite(points(out.read_text())["x_pca"]).all()


def test_killed_while_writing_leaves_the_old_report(tmp_path):
    """SIGKILL in the middle of a large write: the old report is still whole (only a temp file may remain)."""
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "r.html"
    out.write_text("the previous report")
    code = (
        "import sys, embproj.write.files as w\n"
        "w.write_outputs([w.text_output('report', __import__('pathlib').Path(sys.argv[1]), 'x' * 300_000_000)])\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(out)])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(p.name.endswith(".tmp") for p in tmp_path.iterdir()):
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert out.read_text() == "the previous report"


def test_a_table_of_only_the_embedding_gets_its_clusters(cli, tmp_path):
    """No column but the vectors: the page's table starts with no column, and the clusters found are its first."""
    from conftest import blobs

    X, _ = blobs(n=300, dims=8, classes=3, seed=2)
    pq.write_table(pa.table({"embedding": pa.array(list(X), type=pa.list_(pa.float32()))}), tmp_path / "only.parquet")
    result = cli("project", "only.parquet", "--algo", "pca", "-o", "r.html", "--json", "-q")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["clusters"]["clusters"]) >= 2
    data = points((tmp_path / "r.html").read_text(encoding="utf-8"))
    assert len(data["x_pca"]) == 300


# -- the projection cache: an entry that cannot be used is deleted, said, and computed again ------------------------


def _rewrite(entry, **arrays) -> None:
    """The entry saved again with some arrays replaced (a pickle among them, which numpy only writes if asked)."""
    with np.load(entry) as found:
        kept = {k: found[k] for k in found.files}
    np.savez(entry, **{**kept, **arrays})


def _facts(entry, **changed) -> None:
    with np.load(entry) as found:
        facts = json.loads(bytes(found["facts"]).decode())
    _rewrite(entry, facts=np.frombuffer(json.dumps({**facts, **changed}).encode(), np.uint8))


CORRUPTED = {  # done to every entry of the run (its PCA map and its neighbour graph)
    "cut short": lambda e: e.write_bytes(e.read_bytes()[:100]),
    "not an archive": lambda e: e.write_bytes(b"not a zip file at all"),
    "empty": lambda e: e.write_bytes(b""),
    "a folder": lambda e: (e.unlink(), e.mkdir()),
    "a pickle inside": lambda e: _rewrite(e, facts=np.array([{"a": 1}], dtype=object)),
    "numbers of another type": lambda e: _rewrite(e, **{k: np.zeros((3, 3), "U1") for k in ("xy", "indices")}),
    "NaN inside": lambda e: _rewrite(e, **{k: np.full((40, 2), np.nan) for k in ("xy", "distances")}),
    "facts of the wrong types": lambda e: _facts(e, seconds="soon", metric=5),
}


@pytest.mark.parametrize("corrupted", list(CORRUPTED))
def test_a_corrupted_cache_entry_is_discarded_with_a_warning_and_computed_again(cli, tmp_path, monkeypatch, corrupted):
    monkeypatch.delenv("EMBPROJ_NO_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    data = _parquet(_vectors(_blob_rows(40)))(tmp_path)
    args = ("project", data, "--algo", "pca", "-o", "r.html", "--json")
    first = cli(*args)
    assert first.exit_code == 0, first.output
    made = points((tmp_path / "r.html").read_text())
    entries = sorted((tmp_path / "cache" / "embproj" / "projections").glob("*.npz"))
    assert len(entries) == 2  # the map and the graph over every row
    for entry in entries:
        CORRUPTED[corrupted](entry)
    again = cli(*args)
    assert again.exit_code == 0 and "Traceback" not in again.output, again.output
    said = [line for line in again.stderr.splitlines() if line.startswith("Warning: the projection cache's entry")]
    assert len(said) == 2 and all(
        "could not be used (" in s and s.endswith("deleted, and computed again") for s in said
    )
    summary = json.loads(again.stdout)
    assert summary["algorithms"][0]["cache"] == "miss" and summary["neighbours"]["original"].get("cache") is None
    np.testing.assert_array_equal(points((tmp_path / "r.html").read_text())["x_pca"], made["x_pca"])
    third = cli(*args)  # stored again, whole
    assert json.loads(third.stdout)["algorithms"][0]["cache"] == "hit" and "Warning" not in third.stderr
