"""Hostile input meets the outputs: no output lands on an input or on another output, pipes and devices are written
into (never replaced), a cancelled run leaves the old outputs whole, exports are safe to open, and the terminal
shows the data's control characters as escapes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from conftest import vector_table
from reportdata import page_data, points


def _one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in result.output
    return lines[0]


@pytest.fixture
def parts(tmp_path):
    """A data folder of two Parquet parts."""
    folder = tmp_path / "parts"
    folder.mkdir()
    table = vector_table(60)
    pq.write_table(table.slice(0, 30), folder / "a.parquet")
    pq.write_table(table.slice(30), folder / "b.parquet")
    return folder


def test_an_output_on_a_part_of_the_data_folder_is_refused(cli, parts):
    before = (parts / "b.parquet").read_bytes()
    for flag in ("-o", "--coords-out"):
        line = _one_error_line(cli("project", parts, "--algo", "pca", flag, parts / "b.parquet"))
        assert "is an input" in line and "embproj never overwrites its input" in line
    assert (parts / "b.parquet").read_bytes() == before


def test_hard_and_symbolic_links_to_the_input_are_the_input(cli, vectors_parquet, tmp_path):
    before = vectors_parquet.read_bytes()
    os.link(vectors_parquet, tmp_path / "hard.html")
    (tmp_path / "soft.csv").symlink_to(vectors_parquet)
    for args in (["-o", "hard.html"], ["--coords-out", "soft.csv"]):
        line = _one_error_line(cli("project", vectors_parquet, "--algo", "pca", *args))
        assert "the output path is the input file" in line
    assert vectors_parquet.read_bytes() == before


def test_a_data_path_from_the_home_folder_is_the_file_it_names(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # '~/…' as quoted from the shell: read, and protected, as $HOME/…
    (tmp_path / "t.tsv").write_text("".join(f"{i}\t{i % 3}\t{i * i % 7}\n" for i in range(12)))
    before = (tmp_path / "t.tsv").read_bytes()
    line = _one_error_line(cli("project", "~/t.tsv", "--algo", "pca", "-o", tmp_path / "t.tsv"))
    assert line.startswith(f"Error: {tmp_path / 't.tsv'}: the output path is the input file")
    assert (tmp_path / "t.tsv").read_bytes() == before


def test_the_metadata_file_is_an_input_too(cli, tmp_path):
    (tmp_path / "tensors.tsv").write_text("".join(f"{i}\t{i % 3}\t{i * i % 7}\n" for i in range(12)))
    (tmp_path / "metadata.tsv").write_text("".join(f"c{i % 2}\n" for i in range(12)))
    line = _one_error_line(
        cli("project", "tensors.tsv", "--metadata", "metadata.tsv", "--algo", "pca", "-o", "metadata.tsv")
    )
    assert "metadata.tsv: the output path is an input" in line


def test_an_output_on_an_image_the_report_reads_is_refused(cli, tmp_path):
    from PIL import Image

    Image.new("L", (8, 8), 90).save(tmp_path / "face.png")
    table = vector_table(12).append_column("photo", pa.array(["face.png"] * 12))
    pq.write_table(table, tmp_path / "t.parquet")
    before = (tmp_path / "face.png").read_bytes()
    line = _one_error_line(
        cli("project", "t.parquet", "--algo", "pca", "--coords-out", "face.csv", "-o", "face.png", "-q")
    )
    assert "face.png: the output path is an input" in line and "face.png" in line
    assert (tmp_path / "face.png").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["face.png", "t.parquet"]  # neither output written


def test_the_report_and_the_coordinates_cannot_be_one_file(cli, vectors_parquet, tmp_path):
    line = _one_error_line(cli("project", vectors_parquet, "--algo", "pca", "-o", "x.csv", "--coords-out", "./x.csv"))
    assert "-o and --coords-out name the same file, give --coords-out another path" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vectors.parquet"]


def test_a_pipe_is_written_into(cli, vectors_parquet, tmp_path):
    """`-o /dev/stdout | gzip`: the report goes into the pipe as it is (here a pipe of this process's, by its
    /dev/fd name: the test runner's own stdout is not a pipe to spare)."""
    read_end, write_end = os.pipe()
    got = _drain(read_end)
    try:
        result = cli("project", vectors_parquet, "--algo", "pca", "-o", f"/dev/fd/{write_end}", "-q")
    finally:
        os.close(write_end)
    data = got()
    assert result.exit_code == 0, result.stderr
    assert data.startswith(b"<!DOCTYPE html>") and len(points(data.decode())["x_pca"]) == 120
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vectors.parquet"]  # and no temporary file


def _drain(fd_or_path) -> Callable[[], bytes]:
    """Reads a pipe or a FIFO to its end in a thread (as the reader at the pipe's other end would), so that the
    report can be written into it from this thread; the returned function waits for and gives what was read."""
    chunks: list[bytes] = []

    def read() -> None:
        with open(fd_or_path, "rb") as f:
            chunks.append(f.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    def done() -> bytes:
        deadline = time.monotonic() + 60
        while reader.is_alive() and time.monotonic() < deadline:
            if not isinstance(fd_or_path, int):
                # If the run never opened the FIFO, the reader waits in open() (or is about to): a writer that
                # comes and goes lets it see the end. Without a reader (not there yet, or done) the
                # non-blocking open fails at once, where a blocking one would wait for a reader for ever.
                with contextlib.suppress(OSError):
                    os.close(os.open(fd_or_path, os.O_WRONLY | os.O_NONBLOCK))
            reader.join(timeout=0.05)
        assert not reader.is_alive(), f"nothing came out of {fd_or_path} in 60 s"
        return b"".join(chunks)

    return done


def test_dev_null_stays_a_device(cli, vectors_parquet):
    assert cli("project", vectors_parquet, "--algo", "pca", "-o", "/dev/null", "-q").exit_code == 0
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")
    assert not any(name.startswith(".null.") for name in os.listdir("/dev"))


def test_a_fifo_gets_the_report(cli, vectors_parquet, tmp_path):
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    got = _drain(fifo)
    result = cli("project", vectors_parquet, "--algo", "pca", "-o", fifo, "-q")
    data = got()
    assert result.exit_code == 0, result.stderr
    assert data.startswith(b"<!DOCTYPE html>") and fifo.is_fifo()


def test_outputs_follow_the_umask(cli, vectors_parquet, tmp_path):
    old = os.umask(0o027)
    try:
        assert cli("project", vectors_parquet, "--algo", "pca", "-o", "r.html", "--coords-out", "c.csv").exit_code == 0
    finally:
        os.umask(old)
    assert (tmp_path / "r.html").stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "c.csv").stat().st_mode & 0o777 == 0o640


def test_sigterm_leaves_the_previous_outputs_and_no_temporary_file(tmp_path):
    """CI cancels with SIGTERM: the run says so in one line, and the old report and coordinates stay."""
    big = tmp_path / "big.parquet"
    pq.write_table(vector_table(3000, dims=64), big)
    (tmp_path / "r.html").write_text("old report")
    (tmp_path / "c.csv").write_text("old coords")
    cmd = [sys.executable, "-m", "embproj", "project", str(big), "--algo", "tsne", "-o", "r.html"]
    proc = subprocess.Popen([*cmd, "--coords-out", "c.csv"], cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    said = []
    for line in proc.stderr:  # the neighbours are found: the t-SNE of 3,000 rows has begun
        said.append(line)
        if line.startswith("Finding each point's neighbours"):
            break
    proc.send_signal(signal.SIGTERM)
    err = "".join(said) + proc.communicate(timeout=60)[1]
    assert proc.returncode == 143 and err.strip().splitlines()[-1] == "Error: terminated, nothing was written"
    assert (tmp_path / "r.html").read_text() == "old report" and (tmp_path / "c.csv").read_text() == "old coords"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.parquet", "c.csv", "r.html"]


RISKY = ["=1+1", " =cmd|' /C calc'!A0", "\n=2+2", "\t+3", "＝SUM(A1)", "＋1", "－1", "＠x", "@SUM(A1)", "-2+3"]
SAFE = ["-1.5", "+7", "plain", "a=b"]


@pytest.mark.parametrize("text", [pa.string(), pa.large_string(), pa.string_view()], ids=str)
def test_the_coordinates_csv_guards_formulas(cli, tmp_path, text):
    """Whatever Arrow type the labels have: pandas 3's strings are saved as large_string."""
    labels = RISKY + SAFE
    n = len(labels)
    table = vector_table(n * 4).append_column("name", pa.array(labels * 4, text))
    pq.write_table(table.drop_columns(["label"]), tmp_path / "t.parquet")
    assert cli("project", "t.parquet", "--algo", "pca", "--label", "name", "--color", "", "--coords-out", "c.csv",
               "-q").exit_code == 0  # fmt: skip
    got = pacsv.read_csv(tmp_path / "c.csv").column("name").to_pylist()
    assert got[:n] == ["'" + v for v in RISKY] + SAFE
    assert pq.read_table(tmp_path / "t.parquet").column("name").to_pylist()[:n] == labels  # Parquet: as they are


def test_the_pages_csv_export_uses_the_same_rule(cli, vectors_parquet, tmp_path):
    import re

    from embproj.text.safe import csv_cell

    assert cli("project", vectors_parquet, "--algo", "pca", "-o", "r.html", "-q").exit_code == 0
    rule = page_data((tmp_path / "r.html").read_text())["csv"]
    for value in RISKY:
        assert re.search(rule["formula"], value) and not re.search(rule["number"], value)
        assert csv_cell(value) == "'" + value
    for value in SAFE:
        assert csv_cell(value) == value


def test_control_characters_from_the_data_are_escaped_on_the_terminal(cli, tmp_path):
    evil = "x\x1b]0;pwned\x07\r\nError: fake\u202e"
    table = vector_table(30).rename_columns(["id", evil, "embedding"])
    pq.write_table(table, tmp_path / "t.parquet")
    for args in (["inspect", "t.parquet"], ["project", "t.parquet", "--algo", "pca", "-o", "r.html"]):
        result = cli(*args)
        assert result.exit_code == 0, result.output
        shown = result.stdout + result.stderr
        assert "\x1b" not in shown and "\x07" not in shown and "\r" not in shown and "\u202e" not in shown
        assert "x\\x1b]0;pwned\\x07\\x0d\\x0aError: fake\\u202e" in shown
        assert not any(line.startswith("Error: fake") for line in shown.splitlines())
    line = _one_error_line(cli("project", "t.parquet", "--algo", "pca", "--color", "nope\x1b[2J"))
    assert "nope\\x1b[2J" in line and "\x1b" not in line
