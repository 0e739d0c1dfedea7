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
        "import sys, embproj.write as w\n"
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
