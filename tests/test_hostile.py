"""Hostile input, round two (issue 17, the input side): image paths stay inside the data, nothing hangs or explodes,
and no input gives a traceback. Each case ends as test_bad_input.py's do: exit 2 with one `Error: <file>: <what>,
<fix>` line, or a report whose decoded payload shows what was read and a warning that counts what was not."""

from __future__ import annotations

import base64
import csv
import gzip
import io
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from PIL import Image

import embproj
from conftest import ROOT, blobs
from embproj.errors import OptionError
from embproj.images.cells import ImageCells, image_roots
from embproj.read.source import open_source
from reportdata import legend_labels, page_data, points

GREY, RED = 90, (255, 0, 0)  # the data's images are grey; the secret outside the data folder is red


def png(path: Path, colour=GREY, size=(16, 16)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB" if isinstance(colour, tuple) else "L", size, colour).save(path)
    return path


def image_table(cells: list, path: Path, column: str = "file") -> Path:
    X, labels = blobs(len(cells), dims=4, classes=2)
    table = pa.table({"label": labels, **{f"d{j}": X[:, j] for j in range(4)}, column: pa.array(cells, pa.string())})
    pq.write_table(table, path)
    return path


def shown_images(page: str) -> list[str]:
    data = points(page)
    by_row = dict(zip(data["row"].tolist(), data["img"], strict=True))
    return [by_row[i] for i in range(len(by_row))]


def pixels(uri: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB"))


def error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, result.output
    assert sum(line.startswith("Error") for line in lines) == 1 and lines[-1].startswith("Error: "), lines
    assert "Traceback" not in result.output
    return lines[-1]


# -- 1. image paths stay inside the data ----------------------------------------------------------------------


@pytest.fixture
def data_and_secret(tmp_path) -> tuple[Path, Path]:
    """data/ with images (and symlinks out of it), and a real PNG in outside/ that no report may show."""
    data, secret = tmp_path / "data", png(tmp_path / "outside" / "secret.png", RED)
    png(data / "ok.png")
    png(data / "imgs" / "a.png")
    (data / "link.png").symlink_to(secret)
    (data / "linkdir").symlink_to(secret.parent, target_is_directory=True)
    (data / "inlink.png").symlink_to(data / "ok.png")  # a symlink that stays inside is fine
    return data, secret


def cells_for(data: Path, secret: Path) -> tuple[list[str], list[str]]:
    inside = ["ok.png", "imgs/a.png", "imgs\\a.png", str(data / "ok.png"), f"file://{data}/imgs/a.png"]
    inside += ["inlink.png", "./imgs/../ok.png"]
    outside = [str(secret), "../outside/secret.png", "imgs/../../outside/secret.png", "link.png"]
    outside += ["linkdir/secret.png", f"file://{secret}", "file://server/share/secret.png", "~/secret.png"]
    outside += ["~nosuchuser/x.png", "~root/x.png", "C:\\secret.png", "c:/secret.png", "\\\\server\\share\\s.png"]
    outside += ["//server/share/secret.png", "/etc/passwd.png", f"{data}/../outside/secret.png"]
    return inside, outside


def test_image_paths_outside_the_data_folder_are_refused(cli, data_and_secret):
    data, secret = data_and_secret
    inside, outside = cells_for(data, secret)
    cells = inside + outside + ["nothere.png"]
    out = data / "r.html"
    result = cli("project", image_table(cells, data / "table.parquet"), "--algo", "pca", "-o", out)
    assert result.exit_code == 0, result.output
    n_out = len(outside)
    warning = f"{n_out + 1} of {len(cells)} images could not be read: {n_out} outside the data folder, 1 missing file"
    assert f"Warning: {warning}" in result.stderr
    assert f"(image files are read only inside {data})" in result.stderr
    imgs = shown_images(out.read_text())
    assert all(imgs[: len(inside)]) and imgs[len(inside) :] == [""] * (n_out + 1)
    assert all((pixels(u) == GREY).all() for u in imgs if u), "only the data folder's grey images are shown"


def test_refused_paths_are_decided_without_touching_the_outside(data_and_secret, monkeypatch):
    """No stat() or open() on anything outside the data folder (resolve() may follow a symlink's name)."""
    data, secret = data_and_secret
    _, outside = cells_for(data, secret)
    touched = []
    real_stat, real_open = os.stat, open

    def stat(path, *args, **kwargs):
        touched.append(os.fspath(path))
        return real_stat(path, *args, **kwargs)

    def opened(path, *args, **kwargs):
        touched.append(os.fspath(path) if isinstance(path, (str, os.PathLike)) else "")
        return real_open(path, *args, **kwargs)

    cells = ImageCells(pa.chunked_array([pa.array(outside)]), "image-path", roots=(data,))
    monkeypatch.setattr(os, "stat", stat)
    monkeypatch.setattr("builtins.open", opened)
    out, failures = cells.encode(32)
    monkeypatch.undo()
    assert out == [None] * len(outside) and failures == Counter(outside=len(outside))
    assert [p for p in touched if not Path(p).resolve().is_relative_to(data.resolve())] == []


def test_refusals_do_not_tell_which_outside_files_exist(data_and_secret):
    data, secret = data_and_secret
    there = [str(secret), "../outside/secret.png", "link.png"]
    not_there = [str(secret.with_name("no.png")), "../outside/no.png", "../../no/such/dir.png"]
    answers = []
    for cells in (there, not_there):
        images = embproj.images.cells.encode_images(
            pa.chunked_array([pa.array(cells)]), "image-path", 32, roots=(data,)
        )
        answers.append((images.uris, images.failures, images.warning))
    assert answers[0] == answers[1]
    assert (
        answers[0][2]
        == f"3 of 3 images could not be read: 3 outside the data folder (image files are read only inside {data})"
    )


def test_extra_image_roots_are_read_too(tmp_path, data_and_secret):
    data, secret = data_and_secret
    extra = tmp_path / "pictures"
    png(extra / "b.png", 170)
    cells = ["b.png", str(extra / "b.png"), "ok.png", str(secret), "../pictures/b.png"]
    images = embproj.images.cells.encode_images(
        pa.chunked_array([pa.array(cells)]), "image-path", 32, roots=(data, extra)
    )
    assert [bool(u) for u in images.uris] == [True, True, True, False, False]
    assert [int(pixels(u)[0, 0, 0]) for u in images.uris[:3]] == [170, 170, GREY]
    assert images.failures == Counter(outside=2)
    (data / "table.parquet").write_bytes(b"")
    assert image_roots(str(data / "table.parquet"), (extra,)) == (data, extra)
    with pytest.raises(OptionError, match='--image-root ".*nope" is not a folder'):
        image_roots(str(data / "table.parquet"), (tmp_path / "nope",))


def test_image_root_on_the_command_line(cli, tmp_path, data_and_secret):
    data, secret = data_and_secret
    extra = png(tmp_path / "pictures" / "b.png", 170).parent
    table = image_table(["b.png", "ok.png", str(extra / "b.png"), str(secret)] * 3, data / "t.parquet")
    result = cli("project", table, "--algo", "pca", "-o", tmp_path / "r.html", "--image-root", extra)
    assert result.exit_code == 0, result.output
    shown = shown_images((tmp_path / "r.html").read_text())
    assert [bool(u) for u in shown[:4]] == [True, True, True, False]
    assert int(pixels(shown[0])[0, 0, 0]) == 170
    assert "3 of 12 images could not be read: 3 outside the data folder" in result.stderr
    assert f"--image-root {extra}" in manifest_command(tmp_path / "r.html")
    line = error_line(cli("project", table, "--algo", "pca", "--image-root", tmp_path / "nope"))
    assert line.endswith(
        '--image-root "' + str(tmp_path / "nope") + '" is not a folder, give a folder that holds the images'
    )


def manifest_command(page: Path) -> str:
    from reportdata import manifest

    return manifest(page.read_text())["command"]


# -- 3. nothing hangs or explodes -----------------------------------------------------------------------------

MB = 1 << 20
# The first three took the old TEXT_VECTOR regex ~40 minutes each (it backtracked: O(n²)); the last one guards.
SLOW_CELLS = {
    "brackets and spaces": "[" + " " * MB,
    "a bracket, then spaces and one letter": "[" + " " * (MB // 2) + "x" + " " * (MB // 2),
    "spaces around a bracket": " " * (MB // 2) + "[" + " " * (MB // 2),
    "digits and commas, never closed": "[" + "1, " * (MB // 3),
}


@pytest.mark.parametrize("case", list(SLOW_CELLS))
def test_column_sniffing_takes_linear_time(cli, tmp_path, case):
    rows = "".join(f'"[{i}, {i % 3}]",{i}\n' for i in range(20))
    path = tmp_path / "cells.csv"
    path.write_text(f'v,n\n"{SLOW_CELLS[case]}",1\n{rows}')
    start = time.perf_counter()
    result = cli("inspect", path)
    assert time.perf_counter() - start < 5, "sniffing a 1 MB cell must not backtrack"
    assert result.exit_code == 0, result.output
    assert 'embedding: "v", 2 dims' in result.stdout  # the other cells are vectors; the odd one is dropped later


def gz_of_spaces(path: Path, gigabytes: int = 3) -> Path:
    """`gigabytes` GB of spaces in a few MB: one compressed 64 MB gzip member, written again and again."""
    member = gzip.compress(b" " * (64 * MB), compresslevel=9)
    with open(path, "wb") as f:
        for _ in range(gigabytes * 16):
            f.write(member)
    return path


PEAK_RSS = (  # runs argv as its one child, then prints the child's peak RSS (kB) on the last line of stderr
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    "print('peak', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def run_embproj(*args, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """The CLI in a fresh process, as a user runs it; argv may hold bytes (file names that are not UTF-8)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "embproj", *args], cwd=cwd, env=env, capture_output=True, timeout=timeout
    )


@pytest.mark.parametrize(
    "name, message",
    [
        ("spaces.json.gz", "the first 64 MB are only whitespace, check that this is the file you meant"),
        ("spaces.jsonl.gz", "line 1 is over 64 MB of whitespace, check that this is the file you meant"),
        ("spaces.csv.gz", "the file begins with only whitespace, give a file with a header row and at least one row"),
    ],
)
def test_compressed_whitespace_ends_in_an_error_within_bounded_memory(tmp_path, name, message):
    path = gz_of_spaces(tmp_path / name)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-c", PEAK_RSS, sys.executable, "-m", "embproj", "inspect", str(path)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert lines[-2] == f"Error: {path}: {message}"
    peak_mb = int(lines[-1].split()[1]) / 1024
    assert peak_mb <= 600, f"peak RSS {peak_mb:.0f} MB"


def test_one_image_named_by_many_rows_is_decoded_once(cli, tmp_path, monkeypatch):
    """With a decoding budget that pays for one decode of the big image, every row that names it still shows it."""
    png(tmp_path / "big.png", 120, size=(2000, 1500))
    monkeypatch.setattr(embproj.images.cells, "MAX_DECODED_BYTES", 4_000_000)
    cells = ["big.png", "./big.png", str(tmp_path / "big.png")] * 40
    out = tmp_path / "r.html"
    result = cli("project", image_table(cells, tmp_path / "t.parquet"), "--algo", "pca", "-o", out)
    assert result.exit_code == 0, result.output
    assert "could not be read" not in result.stderr
    imgs = shown_images(out.read_text())
    assert len(imgs) == 120 and len(set(imgs)) == 1 and (pixels(imgs[0]) == 120).all()
    thumb = base64.b64decode(imgs[0].split(",")[1])  # 64×48: the same bytes in many rows are decoded once too
    other = io.BytesIO()
    Image.new("L", (64, 48), 7).save(other, format="PNG")
    monkeypatch.setattr(embproj.images.cells, "MAX_DECODED_BYTES", 64 * 48 + 1)
    cells = ImageCells(pa.chunked_array([pa.array([thumb] * 50 + [other.getvalue()], pa.binary())]), "image-bytes")
    uris, failures = cells.encode(32)
    assert all(uris[:50]) and uris[50] is None and failures == Counter(budget=1)


def test_a_pixel_budget_bounds_the_images_decoded(cli, tmp_path, monkeypatch):
    for i in range(30):
        png(tmp_path / f"{i}.png", i * 8, size=(400, 250))  # 0.1 megapixels each
    monkeypatch.setattr(embproj.images.cells, "MAX_DECODED_BYTES", 1_000_000)
    out = tmp_path / "r.html"
    result = cli(
        "project", image_table([f"{i}.png" for i in range(30)], tmp_path / "t.parquet"), "--algo", "pca", "-o", out
    )
    assert result.exit_code == 0, result.output
    warning = (
        "20 of 30 images could not be read: 20 left out over the decoding budget (a report decodes at most "
        "1 MB of images; lower --max-points or use smaller images)"
    )
    assert f"Warning: {warning}" in result.stderr
    imgs = shown_images(out.read_text())
    assert [bool(u) for u in imgs] == [True] * 10 + [False] * 20  # first come, first decoded: the same each run


# -- 4. no traceback, ever ----------------------------------------------------------------------------------


def categorical_frame(n: int = 60) -> pd.DataFrame:
    X, labels = blobs(n, dims=4, classes=3)
    names = pd.Categorical(
        np.array(["cat", "dog", "eel"])[[int(v[1]) for v in labels]], categories=["eel", "dog", "cat"]
    )
    return pd.DataFrame(X, columns=[f"d{j}" for j in range(4)]).assign(label=names)


def test_a_categorical_label_column_colours_the_map(cli, tmp_path):
    path = tmp_path / "cats.parquet"
    categorical_frame().to_parquet(path)
    assert pa.types.is_dictionary(pq.read_schema(path).field("label").type)
    result = cli("project", path, "--algo", "pca", "-o", tmp_path / "r.html")
    assert result.exit_code == 0, result.output
    page = (tmp_path / "r.html").read_text()
    assert sorted(legend_labels(page)) == ["cat (20)", "dog (20)", "eel (20)"]
    colour = page_data(page)["colors"][0]
    assert colour["name"] == "label" and sorted(colour["factors"]) == ["cat", "dog", "eel"]


def test_a_categorical_label_column_through_the_python_api():
    result = embproj.report(categorical_frame(), algo="pca")
    assert result.plan.color.column == "label" and result.plan.label.column == "label"
    assert sorted(legend_labels(result.html)) == ["cat (20)", "dog (20)", "eel (20)"]
    assert sorted(set(points(result.html)["f0"])) == ["cat", "dog", "eel"]


def test_duplicate_and_empty_column_names_are_renamed_as_pandas_does(cli, tmp_path):
    path = tmp_path / "names.csv"
    path.write_text("a,a,,b\n" + "".join(f"x{i % 3},{i},{i * 7 % 11},{i % 5}\n" for i in range(30)))
    result = cli("inspect", path)
    assert result.exit_code == 0, result.output
    note = 'renamed 2 columns as pandas does: column 2 ("a" again) is "a.1"; column 3 (no name) is "Unnamed: 2"'
    assert result.stdout.splitlines()[1] == f"Warning: {note}"
    assert [line.split()[0] for line in result.stdout.splitlines()[4:8]] == ["a", "a.1", "Unnamed:", "b"]
    assert open_source(path).notes == (note,)
    result = cli("project", path, "--algo", "pca", "-o", tmp_path / "r.html", "--hover", "a,a.1,Unnamed: 2")
    assert result.exit_code == 0, result.output
    assert f"Warning: {note}" in result.stderr and str(escape(note)) in (tmp_path / "r.html").read_text()
    fields = [f["name"] for f in page_data((tmp_path / "r.html").read_text())["fields"]]
    assert fields == ["a", "a.1", "Unnamed: 2"]


def test_duplicate_and_empty_column_names_in_a_dataframe():
    X, _ = blobs(30, dims=3)
    result = embproj.report(pd.DataFrame(X, columns=["a", "a", ""]), algo="pca")
    assert result.plan.embedding.columns == ("a", "a.1", "Unnamed: 2")
    assert len(points(result.html)["x_pca"]) == 30


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _gz(name: str, text: str):
    def write(d: Path) -> Path:
        (d / name).write_bytes(gzip.compress(text.encode()))
        return d / name

    return write


def _text(name: str, text: str):
    def write(d: Path) -> Path:
        (d / name).write_text(text)
        return d / name

    return write


ROWS = [{"a": i * 1.5, "b": i % 4, "c": (i * 7) % 5} for i in range(20)]
JSONL = "\n".join(json.dumps(r) for r in ROWS)
TOO_DEEP = "is nested more than 1,000 levels deep, flatten it: one object per row"
ERRORS = {
    "a JSON array nested 100,000 deep": (_text("d.json", nested(100_000)), f"the JSON {TOO_DEEP}"),
    "a JSON row nested 100,000 deep": (_text("d.json", f'[{{"a": {nested(100_000)}}}]'), f"the JSON {TOO_DEEP}"),
    "a JSON Lines row nested 100,000 deep": (
        _text("d.jsonl", JSONL + f'\n{{"a": {nested(100_000)}}}'),
        f"line 21 {TOO_DEEP}",
    ),
    "the same, gzipped": (_gz("d.jsonl.gz", f'{{"a": {nested(100_000)}}}\n' + JSONL), f"line 1 {TOO_DEEP}"),
    "brackets hidden in strings do not hide the depth": (
        _text("d.jsonl", JSONL + '\n{"s": "' + "]" * 3000 + '", "a": ' + nested(3000) + "}"),
        f"line 21 {TOO_DEEP}",
    ),
    "a JSON array over 64 MB": (
        _text("big.json", "[" + " " * (64 * MB) + "]"),
        "the file is over 64 MB, too large to read whole, convert it to JSON Lines",
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_error_cases(cli, tmp_path, case):
    make, message = ERRORS[case]
    path = make(tmp_path)
    line = error_line(cli("project", path, "--algo", "pca", "-o", tmp_path / "r.html"))
    assert line.startswith(f"Error: {path}: {message}"), line
    assert not (tmp_path / "r.html").exists()


def test_deep_but_legal_nesting_is_read(cli, tmp_path):
    """Lines with thousands of brackets that nest only a little (an image as nested lists) are not refused."""
    image = np.arange(48 * 48 * 3).reshape(48, 48, 3) % 256
    rows = [{"v": [i, i % 3, i % 5], "image": image.tolist(), "s": "[[[[" * 500} for i in range(12)]
    path = tmp_path / "images.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    result = cli("project", path, "--algo", "pca", "-o", tmp_path / "r.html")
    assert result.exit_code == 0, result.output
    assert all(shown_images((tmp_path / "r.html").read_text()))


@pytest.mark.parametrize("suffix", ["csv", "json", "jsonl"])
def test_integers_too_large_for_64_bits(cli, tmp_path, suffix):
    huge = [10**30, -(10**25), 2**64 + 1, 10**4200]
    rows = [{"a": i, "b": (i * 7) % 5, "big": huge[i % 4] if i % 5 == 0 else i} for i in range(20)]
    path = tmp_path / f"ints.{suffix}"
    if suffix == "csv":
        path.write_text("a,b,big\n" + "".join(f"{r['a']},{r['b']},{r['big']}\n" for r in rows))
    else:
        text = [json.dumps(r) for r in rows]
        path.write_text("\n".join(text) if suffix == "jsonl" else "[" + ",".join(text) + "]")
    result = cli("project", path, "--algo", "pca", "-o", tmp_path / "r.html", "--columns", "a,b", "--hover", "big")
    assert result.exit_code == 0, result.output
    shown = points((tmp_path / "r.html").read_text())
    assert len(shown["x_pca"]) == 20 and shown["f0"][0] == "1e+30" and shown["f0"][5] == "-1e+25"


def test_a_cell_larger_than_the_csv_block(cli, tmp_path, monkeypatch):
    import embproj.read.tables as source

    cell = "x" * (9 * MB)  # over two 4 MB blocks: pyarrow alone says "straddling object"
    rows = "".join(f"w{i},{i % 7},{i % 3}\n" for i in range(30))
    path = tmp_path / "long.csv"
    path.write_text(f"a,b,c\n{rows}{cell},1,2\n{rows}")
    result = cli("project", path, "--algo", "pca", "-o", tmp_path / "r.html")
    assert result.exit_code == 0, result.output  # the reader grew its blocks and started again
    assert len(points((tmp_path / "r.html").read_text())["x_pca"]) == 61
    monkeypatch.setattr(source, "MAX_CSV_BLOCK_BYTES", source.CSV_BLOCK_BYTES)
    line = error_line(cli("project", path, "--algo", "pca", "-o", tmp_path / "r2.html"))
    assert line == (
        f"Error: {path}: a cell is over 4 MB, more than embproj reads of a CSV file at once, convert the file to "
        "Parquet, or keep large cells (such as images) in files the table names"
    )


def test_a_json_lines_row_over_the_line_limit(cli, tmp_path, monkeypatch):
    import embproj.read.jsonfile as jsonfile

    monkeypatch.setattr(jsonfile, "MAX_LINE_BYTES", 2 * MB)
    monkeypatch.setattr(jsonfile, "JSONL_WHOLE_BYTES", 1 * MB)  # streamed, as a file over 64 MB is
    path = tmp_path / "long.jsonl"
    path.write_text(JSONL + '\n{"a": 1, "b": 2, "c": "' + "x" * (3 * MB) + '"}\n' + JSONL)
    line = error_line(cli("project", path, "--algo", "pca", "-o", tmp_path / "r.html"))
    assert line == (
        f"Error: {path}: line 21 is over 2 MB long, more than one row of JSON Lines may hold, convert the file to "
        "Parquet, or keep large cells (such as images) in files the table names"
    )


def test_file_name_and_title_that_are_not_utf8(tmp_path):
    name = b"caf\xe9.parquet"  # Latin-1 bytes, as another system wrote them
    with open(os.fsdecode(bytes(tmp_path) + b"/" + name), "wb") as f:
        categorical_frame().to_parquet(f)
    done = run_embproj("project", name, "--algo", "pca", "--title", b"ti\xfftle", "-o", b"r\xe9.html", cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    assert b"Traceback" not in done.stderr
    page = (tmp_path / os.fsdecode(b"r\xe9.html")).read_text(encoding="utf-8")
    assert "<title>ti\ufffdtle</title>" in page and len(points(page)["x_pca"]) == 60
    done = run_embproj("inspect", b"nowhere\xff.csv", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.count(b"Error: ") == 1 and b"Traceback" not in done.stderr


# -- property: random bytes and random small tables, in every format ---------------------------------------------

SUFFIXES = ["csv", "tsv", "json", "jsonl", "parquet", "csv.gz", "jsonl.gz"]
ODD = st.sampled_from(
    ["[", "[ ", "~nosuchuser/x.png", "../x.png", "/etc/passwd.png", "C:\\x.png", "data:image/png;base64,x"]
)
CELLS = {  # a column's kind decides its cells, now and then one that does not fit
    "float": st.floats(-1e3, 1e3) | st.sampled_from([float("nan"), float("inf"), None]),
    "int": st.integers(-5, 5) | st.sampled_from([2**64 + 1, -(10**30)]),
    "label": st.sampled_from(["cat", "dog", "", None]),
    "vector": st.lists(st.floats(-5, 5, width=32), min_size=3, max_size=3) | st.lists(st.integers(0, 9), max_size=4),
    "text vector": st.sampled_from(["[1, 2, 3]", "[0.5, -1e3, nan]", "[]"]) | ODD,
    "path": st.sampled_from(["a.png", "sub/b.png"]) | ODD,
    "anything": st.none() | st.booleans() | st.text(max_size=6) | st.floats() | ODD,
}


@st.composite
def table_files(draw):
    """(suffix, column names, rows): names that repeat or are empty; columns of one kind, mostly."""
    names = draw(st.lists(st.sampled_from(["a", "a", "", "label", "v", "image", "x y", "é"]), min_size=1, max_size=5))
    kinds = [draw(st.sampled_from(["float", "float", "vector", *CELLS])) for _ in names]  # numbers, mostly
    rows = [
        {f"{n}#{j}": draw(CELLS[k]) for j, (n, k) in enumerate(zip(names, kinds))}
        for _ in range(draw(st.integers(0, 8)))
    ]
    return draw(st.sampled_from(SUFFIXES)), names, rows


def write_table(path: Path, suffix: str, names: list[str], rows: list[dict]) -> None:
    keys = [f"{n}#{j}" for j, n in enumerate(names)]
    if suffix.startswith(("csv", "tsv")):
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter="\t" if suffix == "tsv" else ",")
        writer.writerow(names)
        for r in rows:
            writer.writerow(
                ["" if r[k] is None else json.dumps(r[k]) if isinstance(r[k], list) else r[k] for k in keys]
            )
        data = buf.getvalue().encode()
    elif suffix == "parquet":
        try:
            table = pa.Table.from_pylist(rows) if rows else pa.table({k: pa.array([], pa.null()) for k in keys})
        except (pa.ArrowException, OverflowError):
            table = pa.table({k: [json.dumps(r[k]) for r in rows] for k in keys})
        sink = pa.BufferOutputStream()
        pq.write_table(table.rename_columns(names), sink)
        data = sink.getvalue().to_pybytes()
    else:
        lines = [json.dumps({n: r[k] for n, k in zip(names, keys)}) for r in rows]
        data = ("\n".join(lines) if suffix.startswith("jsonl") else "[" + ",".join(lines) + "]").encode()
    path.write_bytes(gzip.compress(data) if suffix.endswith(".gz") else data)


def report_or_clean_error(cli, path: Path, out: Path) -> None:
    out.unlink(missing_ok=True)
    for args in (["inspect", path], ["project", path, "--algo", "pca", "-o", out, "-q"]):
        result = cli(*args)
        assert result.exit_code in (0, 2) and "Traceback" not in result.output, result.output
        if result.exit_code == 2:
            error_line(result)
            assert not out.exists()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200), st.sampled_from(SUFFIXES))
def test_random_bytes_get_a_report_or_a_clean_error(cli, tmp_path, data, suffix):
    path = tmp_path / f"random.{suffix}"
    path.write_bytes(data)
    report_or_clean_error(cli, path, tmp_path / "random.html")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table_files())
def test_random_tables_get_a_report_or_a_clean_error(cli, tmp_path, drawn):
    suffix, names, rows = drawn
    path = tmp_path / f"table.{suffix}"
    write_table(path, suffix, names, rows)
    report_or_clean_error(cli, path, tmp_path / "table.html")
