"""Hostile input, round three (issue 25): one rule for every path a file names. Whatever embproj reads because a
file names it (a projector config's paths, a W&B table's images and arrays, a saved dataset's data files) or a
folder holds it (Parquet parts, a run's tables, a log folder's runs) is a regular file inside the folder the user
named, a symlink leading out is followed only with --follow-symlinks, and no output ever lands on one of them.
Each case ends as test_hostile.py's do: exit 2 with one `Error:` line and every input unchanged, or a report
whose decoded images hold nothing from outside."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import ROOT, blobs
from embproj.read.tablejson import media_holder
from test_hostile import GREY, RED, error_line, image_table, pixels, png, run_embproj, shown_images

FIXTURES = ROOT / "fixtures"
TB_DIGITS = FIXTURES / "tensorboard" / "digits"
ARTIFACT = FIXTURES / "wandb" / "artifacts" / "digits-v0"
HF_DIGITS = FIXTURES / "hf" / "digits"
CONFIG = "projector_config.pbtxt"
LINK_FIX = "copy the file into the folder, or give --follow-symlinks to read the files its symlinks lead to"
FIFO = "is a named pipe (FIFO), not a file, so it is not read, embproj reads only regular files: put the file itself "
FIFO += "there"


def copied(source: Path, to: Path) -> Path:
    shutil.copytree(source, to)
    return to


def bytes_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def serialized(artifact: Path) -> Path:
    """The .npz the artifact's table keeps its "pixels" column in (column_types' serialization_path)."""
    table = json.loads((artifact / "digits.table.json").read_text())
    return artifact / table["column_types"]["params"]["type_map"]["pixels"]["params"]["serialization_path"]["path"]


def wandb_table(path: Path, image_cells: list[str], npz: str | None = None) -> Path:
    """An artifact's table: an image-file column, a label and a 4-dim embedding; with `npz`, also a column wandb
    moved to that .npz."""
    X, labels = blobs(len(image_cells), dims=4, classes=2)
    cell = {"_type": "image-file", "format": "png", "width": 16, "height": 16, "sha256": "0" * 64}
    rows = [[{**cell, "path": c}, str(label), x.tolist()] for c, label, x in zip(image_cells, labels, X, strict=True)]
    columns = ["image", "label", "embedding"]
    types: dict = {}
    if npz is not None:
        columns.append("stored")
        rows = [[*row, None] for row in rows]
        where = {"path": npz, "key": "stored"}
        types = {"stored": {"wb_type": "ndarray", "params": {"serialization_path": where, "shape": [4]}}}
    table = {"_type": "table", "columns": columns, "data": rows, "column_types": {"params": {"type_map": types}}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(table))
    return path


def parts_folder(folder: Path, n: int = 3, rows: int = 20) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    X, labels = blobs(n * rows, dims=4, classes=2)
    for i in range(n):
        block = slice(i * rows, (i + 1) * rows)
        pq.write_table(pa.table({"label": labels[block], "emb": list(X[block])}), folder / f"part-{i}.parquet")
    return folder


def rows_of(result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()[0]


# -- 1. no output lands on a file a config or a table names ---------------------------------------------------


@pytest.mark.parametrize(
    "flag, named",
    [
        ("-o", "00000/digits/tensors.tsv"),
        ("-o", "00000/digits/metadata.tsv"),
        ("-o", "00000/digits/sprite.png"),
        ("--coords-out", "00000/digits/labels.csv"),  # a metadata_path may end in anything
    ],
)
def test_outputs_never_land_on_a_file_the_projector_config_names(cli, tmp_path, flag, named):
    logdir = copied(TB_DIGITS, tmp_path / "logs")
    config = logdir / CONFIG
    if named.endswith(".csv"):
        shutil.copy(logdir / "00000" / "digits" / "metadata.tsv", logdir / named)
        config.write_text(config.read_text().replace("00000/digits/metadata.tsv", named))
    before = bytes_of(logdir)
    spelt = logdir / "00000" / ".." / named  # another spelling of the same file
    line = error_line(cli("project", config, "--algo", "pca", flag, spelt))
    assert line.startswith(f"Error: {spelt}: the output path is an input, ")
    assert line.endswith("embproj never overwrites its input")
    assert bytes_of(logdir) == before


def test_outputs_never_land_on_the_npz_a_wandb_table_column_was_read_from(cli, tmp_path):
    artifact = copied(ARTIFACT, tmp_path / "artifact")
    npz = serialized(artifact)
    before = bytes_of(artifact)
    for out in (npz, npz.parent / "." / npz.name):
        line = error_line(cli("project", artifact / "digits.table.json", "--algo", "pca", "-o", out))
        assert line.startswith(f"Error: {out}: the output path is an input, ") and str(npz) in line
    assert bytes_of(artifact) == before


def test_a_file_a_followed_symlink_leads_to_is_an_input_too(cli, tmp_path):
    """With --follow-symlinks, a data file outside the folder is read, so it is protected like the others."""
    saved = copied(HF_DIGITS, tmp_path / "saved")
    outside = tmp_path / "elsewhere" / "data.arrow"
    outside.parent.mkdir()
    (saved / "data-00000-of-00001.arrow").rename(outside)
    (saved / "data-00000-of-00001.arrow").symlink_to(outside)
    before = outside.read_bytes()
    line = error_line(cli("project", saved, "--follow-symlinks", "--algo", "pca", "-o", outside))
    assert line.startswith(f"Error: {outside}: the output path is an input, ")
    assert outside.read_bytes() == before


def test_result_save_never_lands_on_an_input(tmp_path):
    import embproj
    from embproj.errors import OptionError

    logdir = copied(TB_DIGITS, tmp_path / "logs")
    tensors = logdir / "00000" / "digits" / "tensors.tsv"
    before = tensors.read_bytes()
    result = embproj.report(logdir / CONFIG, algo="pca", no_images=True)
    with pytest.raises(OptionError, match="the output path is an input"):
        result.save(tensors)
    assert tensors.read_bytes() == before


# -- 2. a W&B table's image root is its own folder, never one above ------------------------------------------


def test_a_wandb_table_file_never_takes_a_folder_above_it_as_its_image_root(cli, tmp_path):
    """tmp_path holds media/, as / holds /media on most systems: a table in a folder below it once took tmp_path
    (the folder holding the nearest media/) as its image root, so its cells could name any file below it."""
    secret = png(tmp_path / "media" / "images" / "secret.png", RED)
    stored = tmp_path / "media" / "serialized_data" / "stored.npz"
    stored.parent.mkdir()
    np.savez(stored, stored=np.full((20, 4), 7.0, np.float32))
    folder = tmp_path / "downloads"
    png(folder / "ok.png")
    cells = ["ok.png", "media/images/secret.png", "../media/images/secret.png", str(secret)] * 5
    table = wandb_table(folder / "t.table.json", cells, npz="media/serialized_data/stored.npz")
    assert media_holder(table) == folder
    out = tmp_path / "r.html"
    result = cli("project", table, "--algo", "pca", "-o", out)
    assert result.exit_code == 0, result.output
    imgs = shown_images(out.read_text())
    assert all(imgs[0::4]) and not any(imgs[1::4] + imgs[2::4] + imgs[3::4])
    assert all((pixels(u) == GREY).all() for u in imgs if u), "only the table's own folder's image is shown"
    assert f'column "stored" is stored in media/serialized_data/stored.npz, which is not in {folder}' in result.stderr


def test_a_run_table_file_reads_media_from_the_runs_files_folder():
    run = Path("/data/wandb/run-20261201_111224-abc/files")
    assert media_holder(run / "media" / "table" / "k_0_0123456789abcdef0123.table.json") == run
    assert media_holder(run / "media" / "table" / "a" / "k_0_0123456789abcdef0123.table.json") == run
    assert media_holder(Path("/media/table/t.table.json")) == Path("/media/table")  # not wandb's layout: not /
    assert media_holder(Path("/tmp/t.table.json")) == Path("/tmp")


# -- 3. symlinks that lead out of the folder ------------------------------------------------------------------


def test_a_parquet_part_that_links_out_of_its_folder_is_refused(cli, tmp_path):
    data = parts_folder(tmp_path / "data", n=2)
    secret = parts_folder(tmp_path / "outside", n=1) / "part-0.parquet"
    (data / "part-9.parquet").symlink_to(secret)
    refused = f'the part "part-9.parquet" is a symlink that leads outside data, so it is not read, {LINK_FIX}'
    assert error_line(cli("inspect", "data")) == f"Error: data: {refused}"
    assert error_line(cli("inspect", "data/*.parquet")) == f"Error: data/*.parquet: {refused}"
    assert "60 rows" in rows_of(cli("inspect", "data", "--follow-symlinks"))
    (data / "part-9.parquet").unlink()
    (data / ".store").mkdir()
    (data / ".store" / "kept.bin").write_bytes(secret.read_bytes())
    (data / "part-9.parquet").symlink_to(Path(".store") / "kept.bin")  # a symlink that stays inside is fine
    assert "60 rows" in rows_of(cli("inspect", "data"))
    assert "60 rows" in rows_of(cli("inspect", "data/*.parquet"))
    (tmp_path / "alias").symlink_to(data, target_is_directory=True)  # the folder given by another name,
    (data / "part-9.parquet").unlink()  # and a link spelt absolute through that name: inside all the same
    (data / "part-9.parquet").symlink_to(tmp_path / "alias" / ".store" / "kept.bin")
    assert "60 rows" in rows_of(cli("inspect", "alias"))


def test_a_wandb_table_that_links_out_of_its_artifact_or_run_is_refused(cli, tmp_path):
    artifact = copied(ARTIFACT, tmp_path / "artifact")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (artifact / "digits.table.json").rename(elsewhere / "digits.table.json")
    (artifact / "digits.table.json").symlink_to(elsewhere / "digits.table.json")
    line = error_line(cli("inspect", artifact))
    assert line == (
        f'Error: {artifact}: the table "digits.table.json" is a symlink that leads outside {artifact}, so it is not '
        f"read, {LINK_FIX}"
    )
    run = tmp_path / "wandb" / "run-20261201_111224-abc"
    (run / "files" / "media").mkdir(parents=True)
    (run / "files" / "media" / "table").symlink_to(elsewhere, target_is_directory=True)
    (elsewhere / "digits.table.json").rename(elsewhere / "digits_0_0123456789abcdef0123.table.json")
    line = error_line(cli("inspect", run))
    assert line.startswith(f'Error: {run}: the table "files/media/table/digits_0_0123456789abcdef0123.table.json" is')
    assert line.endswith(f"is a symlink that leads outside {run}, so it is not read, {LINK_FIX}")


def test_a_tensorboard_run_that_links_out_of_the_log_folder_is_refused(cli, tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "exp").symlink_to(copied(TB_DIGITS, tmp_path / "other" / "exp"), target_is_directory=True)
    assert error_line(cli("inspect", runs)) == (
        f'Error: {runs}: "exp/{CONFIG}" is a symlink that leads outside {runs}, so it is not read, {LINK_FIX}'
    )
    result = cli("inspect", runs, "--follow-symlinks")
    assert result.exit_code == 0 and '"exp/digits:00000"' in result.output, result.output
    logdir = copied(TB_DIGITS, tmp_path / "logs")  # a config path through a symlink that leads out
    (logdir / "00000" / "digits" / "tensors.tsv").unlink()
    (logdir / "00000" / "digits" / "tensors.tsv").symlink_to(tmp_path / "other" / "exp" / "00000/digits/tensors.tsv")
    assert error_line(cli("inspect", logdir)) == (
        f'Error: {logdir / CONFIG}: tensor_path "00000/digits/tensors.tsv" is a symlink that leads outside the log '
        f"folder, so it is not read, {LINK_FIX}"
    )


def test_a_saved_dataset_file_that_links_out_of_its_folder_is_refused(cli, tmp_path):
    saved = copied(HF_DIGITS, tmp_path / "saved")
    data = saved / "data-00000-of-00001.arrow"
    data.rename(tmp_path / "data.arrow")
    data.symlink_to(tmp_path / "data.arrow")
    refused = f"which is a symlink that leads outside the folder, so it is not read, {LINK_FIX}"
    assert error_line(cli("inspect", saved)) == f'Error: {saved}: state.json names "{data.name}", {refused}'
    (saved / "state.json").write_text('{"_data_files": []}')  # then the data-*.arrow files are listed: one rule
    assert error_line(cli("inspect", saved)) == (
        f'Error: {saved}: "{data.name}" is a symlink that leads outside the folder, so it is not read, {LINK_FIX}'
    )
    result = cli("inspect", saved, "--follow-symlinks")
    assert result.exit_code == 0 and "100 rows" in result.stdout, result.output


def test_follow_symlinks_reads_an_image_a_symlink_leads_to(cli, tmp_path):
    data, secret = tmp_path / "data", png(tmp_path / "cache" / "blob.png", RED)
    png(data / "ok.png")
    (data / "link.png").symlink_to(secret)
    table = image_table(["ok.png", "link.png", "../cache/blob.png"] * 4, data / "t.parquet")
    for follow, outside in (((), 8), (("--follow-symlinks",), 4)):
        out = tmp_path / "r.html"
        result = cli("project", table, "--algo", "pca", "-o", out, *follow)
        assert result.exit_code == 0, result.output
        imgs = shown_images(out.read_text())
        assert [bool(u) for u in imgs[:3]] == [True, bool(follow), False]  # text that leads out: always refused
        assert f"{outside} of 12 images could not be read: {outside} outside the data folder" in result.stderr
    assert (pixels(imgs[1]) == RED).all(), "the image the symlink leads to"


# -- 4. a named pipe or a device is never opened --------------------------------------------------------------


def _tb_fifo(tmp_path: Path, field: str) -> tuple[list, str]:
    logdir = copied(TB_DIGITS, tmp_path / "logs")
    named = {"tensor_path": "00000/digits/tensors.tsv", "metadata_path": "00000/digits/metadata.tsv",
             "image_path": "00000/digits/sprite.png"}[field]  # fmt: skip
    (logdir / named).unlink()
    os.mkfifo(logdir / named)
    return ["inspect", logdir], f'{logdir / CONFIG}: {field} "{named}" {FIFO}'


def _tb_run_config_fifo(tmp_path: Path) -> tuple[list, str]:
    runs = tmp_path / "runs"
    copied(TB_DIGITS, runs / "a")
    (runs / "b").mkdir()
    os.mkfifo(runs / "b" / CONFIG)
    return ["inspect", runs], f'{runs}: "b/{CONFIG}" {FIFO}'


def _wandb_npz_fifo(tmp_path: Path) -> tuple[list, str]:
    artifact = copied(ARTIFACT, tmp_path / "artifact")
    npz = serialized(artifact)
    npz.unlink()
    os.mkfifo(npz)
    rel = npz.relative_to(artifact).as_posix()
    return ["inspect", artifact], f'{artifact / "digits.table.json"}: column "pixels"\'s file "{rel}" {FIFO}'


def _wandb_run_table_fifo(tmp_path: Path) -> tuple[list, str]:
    run = tmp_path / "wandb" / "offline-run-20261201_111224-abc"
    (run / "files" / "media" / "table").mkdir(parents=True)
    rel = "files/media/table/digits_0_0123456789abcdef0123.table.json"
    os.mkfifo(run / rel)
    return ["inspect", run], f'{run}: the table "{rel}" {FIFO}'


def _hf_fifo(tmp_path: Path, name: str) -> tuple[list, str]:
    saved = copied(HF_DIGITS, tmp_path / "saved")
    (saved / name).unlink()
    os.mkfifo(saved / name)
    named = f'state.json names "{name}", which' if name.endswith(".arrow") else f'"{name}"'
    return ["inspect", saved], f"{saved}: {named} {FIFO}"


def _parquet_part_fifo(tmp_path: Path) -> tuple[list, str]:
    data = parts_folder(tmp_path / "data", n=2)
    os.mkfifo(data / "part-2.parquet")
    return ["inspect", data], f'{data}: the part "part-2.parquet" {FIFO}'


FIFOS = {
    "tensor_path": lambda d: _tb_fifo(d, "tensor_path"),
    "metadata_path": lambda d: _tb_fifo(d, "metadata_path"),
    "sprite image_path": lambda d: _tb_fifo(d, "image_path"),
    "a log folder's run config": _tb_run_config_fifo,
    "a W&B table's npz": _wandb_npz_fifo,
    "a W&B run's table": _wandb_run_table_fifo,
    "an HF data file": lambda d: _hf_fifo(d, "data-00000-of-00001.arrow"),
    "HF dataset_info.json": lambda d: _hf_fifo(d, "dataset_info.json"),
    "a Parquet part": _parquet_part_fifo,
}


@pytest.mark.parametrize("case", list(FIFOS))
def test_a_named_pipe_a_file_names_is_an_error_not_a_hang(tmp_path, case):
    """Opening a FIFO for reading blocks until someone writes to it: in a fresh process with a timeout, so that a
    regression fails this test instead of hanging the suite."""
    args, message = FIFOS[case](tmp_path)
    done = run_embproj(*map(str, args), cwd=tmp_path, timeout=60)
    lines = done.stderr.decode().strip().splitlines()
    assert done.returncode == 2 and b"Traceback" not in done.stderr, lines
    assert [line for line in lines if line.startswith("Error")] == [f"Error: {message}"]


IMAGE_CELLS = (  # encodes the cells of argv[2:] read inside the folder argv[1], as a report does; prints the result
    "import json, sys\n"
    "import pyarrow as pa\n"
    "from embproj.images.cells import encode_images\n"
    "found = encode_images(pa.chunked_array([pa.array(sys.argv[2:])]), 'image-path', 32, roots=(sys.argv[1],))\n"
    "print(json.dumps({'shown': [bool(u) for u in found.uris], 'warning': found.warning}))\n"
)


def test_an_image_cell_naming_a_named_pipe_is_a_counted_failure(tmp_path):
    """As a report's images are encoded, in a fresh process with a timeout (a regression would block on open)."""
    data = tmp_path / "data"
    png(data / "ok.png")
    os.mkfifo(data / "pipe.png")
    (data / "link.png").symlink_to("pipe.png")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-c", IMAGE_CELLS, str(data), "ok.png", "pipe.png", "link.png", "ok.png"]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == {
        "shown": [True, False, False, True],
        "warning": "2 of 4 images could not be read: 2 unreadable files",
    }
