"""Stage 7: the report reaches its path whole or not at all."""

from __future__ import annotations

import os

import pytest

from embproj.errors import EmbprojError
from embproj.write import check_output, write_atomic


def test_atomic_write_replaces_whole(tmp_path):
    out = tmp_path / "r.html"
    out.write_text("old")
    assert write_atomic(out, "new ✓") == len("new ✓".encode())
    assert out.read_text() == "new ✓"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_interrupted_write_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    out = tmp_path / "r.html"
    out.write_text("old")

    def killed(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(out, "new")
    assert out.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o500)
    with pytest.raises(EmbprojError, match="not writable"):
        check_output(folder / "r.html")


def test_output_is_a_directory(tmp_path):
    with pytest.raises(EmbprojError, match="is a directory, give a file name"):
        check_output(tmp_path)
