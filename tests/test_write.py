"""Stage 9: every output reaches its path whole or not at all, and a run's outputs together."""

from __future__ import annotations

import os

import pytest

from embproj.errors import EmbprojError
from embproj.write.files import Output, check_output, text_output, write_outputs


def test_outputs_replace_whole(tmp_path):
    out = tmp_path / "r.html"
    out.write_text("old")
    (written,) = write_outputs([text_output("report", out, "new ✓")])
    assert written.bytes == len("new ✓".encode()) and written.path == out
    assert out.read_text() == "new ✓"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_interrupted_write_leaves_old_files_and_no_temp(tmp_path, monkeypatch):
    out = tmp_path / "r.html"
    out.write_text("old")

    def killed(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        write_outputs([text_output("report", out, "new")])
    assert out.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_a_failing_second_output_keeps_the_first_as_it_was(tmp_path):
    report, coords = tmp_path / "r.html", tmp_path / "c.csv"
    report.write_text("old report")

    def broken(f):
        f.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(EmbprojError, match="cannot write the output .No space left on device."):
        write_outputs([text_output("report", report, "new report"), Output("coords", coords, broken)])
    assert report.read_text() == "old report" and not coords.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o500)
    with pytest.raises(EmbprojError, match="not writable"):
        check_output(folder / "r.html")


def test_output_is_a_directory(tmp_path):
    with pytest.raises(EmbprojError, match="is a directory, give a file name"):
        check_output(tmp_path)
