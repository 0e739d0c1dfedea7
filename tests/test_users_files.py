"""The files other tools' users already have (issue 12, points 1 to 3), read from the fixtures that wandb,
tensorboardX and datasets wrote (fixtures/make_users_files.py) and from files pandas, pyarrow and numpy write here.
Each test runs `embproj project` (or `inspect`) as a user types it and asserts what they see: the exit code, the
lines on stderr, and the decoded page (rows, colour classes, embedding dims, each row's own image)."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pytest
from PIL import Image

from conftest import ROOT, blobs, short_line
from embproj.errors import InputError
from embproj.read.source import open_source
from embproj.read.tensorboard import parse_pbtxt
from reportdata import legend_labels, manifest, page_data, points

FIXTURES = ROOT / "fixtures"
WANDB = FIXTURES / "wandb"
ARTIFACT = WANDB / "artifacts" / "digits-v0"
HF_DIGITS = FIXTURES / "hf" / "digits"
TB_DIGITS = FIXTURES / "tensorboard" / "digits"
TB_TWO = FIXTURES / "tensorboard" / "two"
SPRITE = TB_DIGITS / "00000" / "digits" / "sprite.png"
LABELS = (TB_DIGITS / "00000" / "digits" / "metadata.tsv").read_text().split()  # the first 100 digits' classes


def run_folder(run_id: str) -> Path:
    (found,) = WANDB.glob(f"offline-run-*-{run_id}")
    return found


def project(cli, data, out: Path, *options) -> tuple[object, dict, str]:
    """`embproj project DATA -o OUT --json …`: the result, the --json summary and the page."""
    result = cli("project", data, "-o", out, "--json", *options)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result, json.loads(result.stdout), out.read_text()


def error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and len(lines) == 1 and lines[0].startswith("Error: "), lines
    return lines[0]


def shown_by_row(page: str) -> dict[int, str | None]:
    data = points(page)
    return dict(zip(data["row"].tolist(), data.get("img", [None] * len(data["row"])), strict=True))


def grey(uri: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("L"))


def enlarged(pixels: np.ndarray, size: int = 64) -> np.ndarray:
    factor = size // max(pixels.shape)
    return np.kron(pixels, np.ones((factor, factor), dtype=pixels.dtype))


def digit_legend(labels) -> list[str]:
    counts = Counter(labels)
    return [f"{d} ({counts[d]:,})" for d in sorted(counts, key=int)]


# -- 1. W&B ---------------------------------------------------------------------------------------------------


def test_wandb_artifact_folder_projects_its_table_with_the_images(cli, tmp_path):
    result, summary, page = project(cli, ARTIFACT, tmp_path / "r.html")
    assert f'{ARTIFACT}: W&B artifact, its only table, "digits" (digits.table.json)' in result.stderr
    assert summary["rows"]["plotted"] == 100 and summary["format"] == "wandb-table"
    assert summary["dims"] == 64 and summary["columns"]["embedding"] == ["embedding"]
    assert legend_labels(page) == digit_legend(LABELS)
    table = json.loads((ARTIFACT / "digits.table.json").read_text())
    shown = shown_by_row(page)
    assert len(shown) == 100 and all(shown.values()), "every row's image-file cell is shown"
    for row in (0, 7, 99):
        cell = table["data"][row][0]
        assert cell["_type"] == "image-file" and cell["path"].startswith("media/images/")
        own = np.asarray(Image.open(ARTIFACT / cell["path"]).convert("L"))
        assert np.array_equal(grey(shown[row]), enlarged(own)), f"row {row}: not its own image"
    assert summary["warnings"] == []


def test_wandb_artifact_npz_column_is_loaded_with_numpy():
    source = open_source(ARTIFACT / "digits.table.json")
    table = source.head()
    types = json.loads((ARTIFACT / "digits.table.json").read_text())["column_types"]["params"]["type_map"]
    stored = types["pixels"]["params"]["serialization_path"]
    expected = np.load(ARTIFACT / stored["path"])[stored["key"]]
    assert expected.shape == (100, 8, 8)
    assert np.array_equal(np.array(table.column("pixels").to_pylist()), expected)
    assert source.image_root == ARTIFACT.resolve()


def test_wandb_run_table_file_with_image_placeholders(cli, tmp_path):
    """W&B's digits example logs a DataFrame of wandb.Image cells: the run's file holds "Image" in each."""
    (path,) = (run_folder("digits") / "files" / "media" / "table").glob("digits_0_*.table.json")
    assert {row[0] for row in json.loads(path.read_text())["data"]} == {"Image"}
    result, summary, page = project(cli, path, tmp_path / "r.html")
    note = (
        'column "image" holds only "Image", which wandb writes in place of images in a run\'s table file: the '
        "images were not stored in this file, so the column is left out"
    )
    fix = "(the table artifact wandb logs with the run keeps them: download it with wandb artifact get "
    fix += "ENTITY/PROJECT/run-digits-digits:latest and give its folder)"
    assert f"Warning: {note} {fix}" in result.stderr and f"{note} {fix}" in summary["warnings"]
    columns = manifest(page)["columns"]
    assert columns["color"] == columns["label"] == "target" and "image" not in columns["hover"]
    assert columns["image"] is None and page_data(page)["images"] is None
    assert summary["dims"] == 64 and summary["rows"]["plotted"] == 100
    assert legend_labels(page) == digit_legend(LABELS)


def test_wandb_hello_world_run_folder(cli, tmp_path):
    """W&B's 3-row Hello World. UMAP needs 4 rows or more (issue 12 point 4 handles that), so PCA here."""
    run = run_folder("hello")
    result, summary, page = project(cli, run, tmp_path / "r.html", "--algo", "pca")
    assert f'{run}: W&B run, its only table, "embeddings" (files/media/table/embeddings_0_' in result.stderr
    assert summary["rows"]["plotted"] == 3 and summary["dims"] == 5
    assert summary["columns"]["embedding"] == ["D1", "D2", "D3", "D4", "D5"]
    assert len(points(page)["x_pca"]) == 3


def test_wandb_run_with_two_tables_lists_them_and_takes_table(cli, tmp_path):
    latest = tmp_path / "wandb" / "latest-run"  # as wandb links it to the last run
    latest.parent.mkdir()
    latest.symlink_to(run_folder("tables"), target_is_directory=True)
    for folder in (latest, run_folder("tables")):
        assert error_line(cli("project", folder, "-o", tmp_path / "r.html")) == (
            f'Error: {folder} (W&B run) holds 2 tables: "test" and "train", choose one with --table, for '
            'example --table "test"'
        )
    assert error_line(cli("inspect", latest, "--table", "valid")) == (
        f'Error: --table "valid": {latest} (W&B run) holds no such table, choose one of "test" and "train"'
    )
    assert not (tmp_path / "r.html").exists()

    result, summary, page = project(cli, latest, tmp_path / "r.html", "--table", "train")
    assert f'{latest}: W&B run, table "train" of 2 (files/media/table/train_0_' in result.stderr
    assert summary["rows"]["plotted"] == 60 and summary["dims"] == 16  # the column add_column added
    columns = manifest(page)["columns"]
    assert columns["embedding"] == ["embedding"] and {"norm", "parity"} <= {columns["color"], *columns["hover"]}
    assert "--table train" in manifest(page)["command"]

    result = cli("inspect", latest, "--table", "test")  # its embedding came from add_computed_columns
    assert result.exit_code == 0, result.output
    assert f'{latest}: W&B run, table "test" of 2' in result.stdout  # inspect says which table it read, too
    assert "test_0_" in result.stdout and '"embedding", 16 dims' in result.stdout and "40 rows" in result.stdout


def test_wandb_table_file_of_the_add_column_run_projects_without_options(cli, tmp_path):
    (path,) = (run_folder("tables") / "files" / "media" / "table").glob("train_0_*.table.json")
    result, summary, page = project(cli, path, tmp_path / "r.html")
    assert summary["rows"]["plotted"] == 60 and summary["dims"] == 16 and "x_umap" in points(page)


def test_table_flag_on_a_single_table_says_so(cli, tmp_path):
    (path,) = (run_folder("tables") / "files" / "media" / "table").glob("train_0_*.table.json")
    line = error_line(cli("inspect", path, "--table", "train"))
    assert line.startswith('Error: --table "train": ') and short_line(line)
    assert f"{path.name} holds a single table, leave --table out" in line


def old_style_run(tmp_path: Path, extra_cells: list[str]) -> Path:
    """A run folder as older wandb releases wrote it: files/media/table/ holds the table with image-file cells,
    files/media/images/ the images (made from the artifact fixture). `extra_cells` are more rows' paths."""
    files = tmp_path / "wandb" / "run-20240101_000000-old" / "files"
    shutil.copytree(ARTIFACT / "media", files / "media")
    table = json.loads((ARTIFACT / "digits.table.json").read_text())
    for k, cell in enumerate(extra_cells):
        row = json.loads(json.dumps(table["data"][k]))
        row[0]["path"] = cell
        table["data"].append(row)
    (files / "media" / "table").mkdir()
    (files / "media" / "table" / "digits_3_0123456789abcdef0123.table.json").write_text(json.dumps(table))
    return files.parent


def test_wandb_image_cells_are_read_only_inside_the_folder_that_holds_media(cli, tmp_path, monkeypatch):
    secret = tmp_path / "wandb" / "secret.png"
    outside = ["media/../../secret.png", str(secret), "../secret.png", "media/images/../../../secret.png"]
    run = old_style_run(tmp_path, outside)
    Image.new("L", (8, 8), 255).save(secret)  # beside the run folder, outside its files/
    touched: list[str] = []
    real_open, real_stat = open, os.stat

    def opened(path, *args, **kwargs):
        touched.append(os.fspath(path) if isinstance(path, (str, os.PathLike)) else "")
        return real_open(path, *args, **kwargs)

    def stat(path, *args, **kwargs):
        touched.append(os.fspath(path) if isinstance(path, (str, os.PathLike)) else "")
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", opened)
    monkeypatch.setattr(os, "stat", stat)
    result, summary, page = project(cli, run, tmp_path / "r.html", "--algo", "pca")
    monkeypatch.undo()
    assert not [p for p in touched if Path(p).name == "secret.png"], "a path outside files/ was looked at"
    shown = shown_by_row(page)
    assert all(shown[r] for r in range(100)) and not any(shown[r] for r in range(100, 104))
    warning = "4 of 104 images could not be read: 4 outside the data folder"
    warning += f" (image files are read only inside {run / 'files'})"
    assert f"Warning: {warning}" in result.stderr
    assert f'{run}: W&B run, its only table, "digits"' in result.stderr


def test_wandb_key_logged_at_several_steps_reads_the_last(cli, tmp_path):
    run = old_style_run(tmp_path, [])
    folder = run / "files" / "media" / "table"
    first = json.loads((folder / "digits_3_0123456789abcdef0123.table.json").read_text())
    first["data"] = first["data"][:50]
    (folder / "digits_1_aaaaaaaaaaaaaaaaaaaa.table.json").write_text(json.dumps(first))
    result = cli("inspect", run)
    assert result.exit_code == 0 and "100 rows" in result.stdout, result.output
    result = cli("inspect", run, "--table", "digits_1_aaaaaaaaaaaaaaaaaaaa")
    assert result.exit_code == 0 and "50 rows" in result.stdout, result.output
    project_lines = cli("project", run, "--algo", "pca", "--no-images", "-o", tmp_path / "r.html").stderr
    assert (
        f'{run}: W&B run, its only table, "digits" (files/media/table/digits_3_0123456789abcdef0123.table.json), '
        "the last of the 2 steps it was logged at (an earlier one: --table digits_1_aaaaaaaaaaaaaaaaaaaa)"
    ) in project_lines


def test_wandb_folder_of_runs_asks_for_one(cli):
    assert error_line(cli("inspect", WANDB)) == (
        f"Error: {WANDB}: this is wandb's folder of 3 runs, not one run, give one run's folder, for example "
        f"{WANDB / 'latest-run'} (the newest)"
    )


def test_pandas_split_and_table_json(cli, tmp_path):
    X, labels = blobs(n=40, dims=6, classes=4)
    df = pd.DataFrame({"label": labels, "emb": [list(map(float, v)) for v in X], "score": np.arange(40) / 40})
    df.index = [f"r{i}" for i in range(40)]
    df.to_json(tmp_path / "split.json", orient="split")
    df.reset_index(drop=True).to_json(tmp_path / "table.json", orient="table")
    result = cli("inspect", tmp_path / "split.json")
    assert result.exit_code == 0, result.output
    assert "split.json: pandas-split, 4 columns, 40 rows" in result.stdout  # the index that is not 0..n-1 is kept
    assert '"emb", 6 dims' in result.stdout and 'colour: "label"' in result.stdout
    result, summary, page = project(cli, tmp_path / "table.json", tmp_path / "r.html", "--algo", "pca")
    assert summary["format"] == "pandas-table" and summary["dims"] == 6 and summary["rows"]["plotted"] == 40
    assert sorted(legend_labels(page)) == ["c0 (10)", "c1 (10)", "c2 (10)", "c3 (10)"]
    assert "index" not in manifest(page)["columns"]["hover"]  # pandas' default index is not data


# -- 2. TensorBoard, Hugging Face, Arrow, NumPy ---------------------------------------------------------------


def sprite_tile(row: int) -> np.ndarray:
    sprite = np.asarray(Image.open(SPRITE).convert("L"))
    per_row = sprite.shape[1] // 8
    return sprite[(row // per_row) * 8 : (row // per_row + 1) * 8, (row % per_row) * 8 : (row % per_row + 1) * 8]


def test_tensorboard_log_folder_with_a_sprite(cli, tmp_path):
    result, summary, page = project(cli, TB_DIGITS, tmp_path / "r.html")
    said = f'{TB_DIGITS}: TensorBoard, its only embedding "digits:00000" (00000/digits/tensors.tsv, metadata.tsv, '
    assert said + "sprite.png (8×8 images))" in result.stderr
    assert summary["rows"]["plotted"] == 100 and summary["dims"] == 64
    assert summary["columns"]["embedding"] == ["embedding"] and summary["columns"]["image"] == "image"
    assert legend_labels(page) == digit_legend(LABELS)
    shown = shown_by_row(page)
    assert all(shown.values())
    for row in (0, 42, 99):
        assert np.array_equal(grey(shown[row]), enlarged(sprite_tile(row))), f"row {row}: not its sprite tile"


def test_tensorboard_folder_of_two_embeddings(cli, tmp_path):
    assert error_line(cli("project", TB_TWO, "-o", tmp_path / "r.html")) == (
        f'Error: {TB_TWO} (TensorBoard) holds 2 embeddings: "digits:00000" and "features:00001", choose one '
        'with --table, for example --table "digits:00000"'
    )
    result, summary, page = project(cli, TB_TWO, tmp_path / "r.html", "--table", "features", "--algo", "pca")
    assert 'one of 2 embeddings, "features:00001" (00001/features/tensors.tsv, metadata.tsv)' in result.stderr
    assert summary["dims"] == 8 and summary["columns"]["image"] is None
    columns = manifest(page)["columns"]
    assert {"digit", "parity"} <= {columns["color"], *columns["hover"]}  # the metadata header's columns
    assert columns["embedding"] == ["embedding"]  # its numbers are fields, never dimensions


def test_tensorboard_config_paths_stay_inside_the_log_folder(cli, tmp_path):
    logdir = tmp_path / "runs"
    shutil.copytree(TB_DIGITS, logdir)
    (tmp_path / "secret.tsv").write_text("1\t2\n3\t4\n")
    (logdir / "projector_config.pbtxt").write_text('embeddings { tensor_name: "x" tensor_path: "../secret.tsv" }\n')
    assert error_line(cli("inspect", logdir)) == (
        f'Error: {logdir / "projector_config.pbtxt"}: tensor_path "../secret.tsv" is outside the log folder, so it '
        "is not read, keep the projector's files inside the folder that holds projector_config.pbtxt"
    )
    (logdir / "projector_config.pbtxt").write_text('embeddings { tensor_name: "emb" metadata_path: "m.tsv" }\n')
    line = error_line(cli("inspect", logdir))
    assert 'embedding "emb" has no tensor_path: its vectors are in a TensorFlow checkpoint' in line
    sprite = logdir / "00000" / "digits" / "sprite.png"
    shutil.copy(TB_DIGITS / "projector_config.pbtxt", logdir / "projector_config.pbtxt")
    sprite.write_bytes(b"\x89PNG\r\n\x1a\n broken")
    result = cli("inspect", logdir)
    assert result.exit_code == 0, result.output
    assert f"Warning: {sprite}: cannot read the sprite (" in result.stdout
    assert "so the map has no images (write it again with add_embedding)" in result.stdout
    (logdir / "00000" / "digits" / "tensors.tsv").write_text("1\t2\nx\t3\n")
    assert "tensors.tsv has text in column 1, not only numbers" in error_line(cli("inspect", logdir))
    (logdir / "projector_config.pbtxt").write_text("embeddings { tensor_name: 'x' \n")
    assert error_line(cli("inspect", logdir)).endswith(
        'unexpected "the end" at line 2 of the config, write the config again'
    )


def test_pbtxt_parser_reads_what_tensorboard_and_torch_write():
    text = """# written by torch.utils.tensorboard
embeddings {
  tensor_name: "default:00000"
  tensor_path: "00000/default/tensors.tsv"
  sprite {
    image_path: "00000/default/sprite.png"
    single_image_dim: 28
    single_image_dim: 28
  }
}
embeddings < tensor_name: 'caf\\303\\251 \\"x\\"' tensor_shape: [10, 3]; >
"""
    config = parse_pbtxt(text)
    first, second = config["embeddings"]
    assert first["tensor_path"] == ["00000/default/tensors.tsv"]
    assert first["sprite"] == [{"image_path": ["00000/default/sprite.png"], "single_image_dim": [28, 28]}]
    assert second == {"tensor_name": ['café "x"'], "tensor_shape": [10, 3]}
    with pytest.raises(InputError, match="nested more than 50 deep"):
        parse_pbtxt("a {" * 10_000)


def test_hugging_face_saved_dataset(cli, tmp_path):
    result, summary, page = project(cli, HF_DIGITS, tmp_path / "r.html")
    assert summary["format"] == "hf-dataset" and summary["rows"]["plotted"] == 100 and summary["dims"] == 64
    assert legend_labels(page) == digit_legend(LABELS)  # ClassLabel ints as their names
    stream = pa.ipc.open_stream(pa.memory_map(str(HF_DIGITS / "data-00000-of-00001.arrow"))).read_all()
    shown = shown_by_row(page)
    assert all(shown.values())
    for row in (0, 50):
        own = np.asarray(Image.open(io.BytesIO(stream.column("image")[row]["bytes"].as_py())).convert("L"))
        assert np.array_equal(grey(shown[row]), enlarged(own)), f"row {row}: not its own image"


def test_hugging_face_dataset_dict_chooses_a_split(cli, tmp_path):
    saved = tmp_path / "dd"
    for split in ("train", "test"):
        shutil.copytree(HF_DIGITS, saved / split)
    (saved / "dataset_dict.json").write_text('{"splits": ["train", "test"]}')
    assert error_line(cli("inspect", saved)) == (
        f'Error: {saved} (a saved DatasetDict) holds 2 splits: "train" and "test", choose one with --table, for '
        'example --table "train"'
    )
    result = cli("inspect", saved, "--table", "test")
    assert result.exit_code == 0, result.output
    assert f"{saved / 'test'}: hf-dataset, 3 columns, 100 rows" in result.stdout


def test_arrow_and_feather_files(cli, tmp_path):
    X, labels = blobs(n=30, dims=5, classes=3)
    table = pa.table({"label": labels, "vec": pa.array(list(X), pa.list_(pa.float32()))})
    feather.write_feather(table, tmp_path / "t.feather")  # Feather V2: the IPC file format
    with pa.ipc.new_stream(tmp_path / "t.arrow", table.schema) as writer:  # the stream format, as datasets writes
        writer.write_table(table, max_chunksize=7)
    flat = pa.table({"label": labels, **{f"d{j}": X[:, j] for j in range(5)}})
    with pytest.warns(DeprecationWarning):  # pyarrow 25 deprecates writing V1; files of it are still about
        feather.write_feather(flat, tmp_path / "v1.feather", version=1)
    for name, dims in (("t.feather", '"vec", 5 dims'), ("t.arrow", '"vec", 5 dims'), ("v1.feather", "5 columns")):
        result = cli("inspect", tmp_path / name)
        assert result.exit_code == 0, result.output
        assert f"{name}: arrow, " in result.stdout and "30 rows" in result.stdout and dims in result.stdout
    assert "Warning: v1.feather is a Feather V1 file, which pyarrow has stopped writing" in result.stdout
    result, summary, page = project(cli, tmp_path / "t.arrow", tmp_path / "r.html", "--algo", "pca")
    assert summary["rows"]["plotted"] == 30 and sorted(legend_labels(page)) == ["c0 (10)", "c1 (10)", "c2 (10)"]
    (tmp_path / "bad.arrow").write_bytes(b"not arrow at all")
    assert "not an Arrow IPC or Feather file" in error_line(cli("inspect", tmp_path / "bad.arrow"))


def test_numpy_matrix_with_metadata_labels(cli, tmp_path):
    X, labels = blobs(n=30, dims=4, classes=3)
    np.save(tmp_path / "emb.npy", X)
    (tmp_path / "labels.tsv").write_text("\n".join(labels) + "\n")
    args = ("--metadata", tmp_path / "labels.tsv", "--algo", "pca")
    result, summary, page = project(cli, tmp_path / "emb.npy", tmp_path / "r.html", *args)
    assert summary["format"] == "npy" and summary["dims"] == 4 and summary["rows"]["plotted"] == 30
    assert sorted(legend_labels(page)) == ["c0 (10)", "c1 (10)", "c2 (10)"]
    np.save(tmp_path / "flat.npy", X[:, 0])
    assert "the array is 30 of float32, not an n×d matrix of numbers" in error_line(
        cli("inspect", tmp_path / "flat.npy")
    )
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    assert "holds Python objects (pickled)" in error_line(cli("inspect", tmp_path / "objects.npy"))


def test_numpy_archive_of_columns(cli, tmp_path):
    X, labels = blobs(n=30, dims=4, classes=3)
    images = (np.arange(30)[:, None, None] * np.ones((30, 6, 6))).astype(np.uint8)
    np.savez_compressed(tmp_path / "a.npz", embedding=X, label=labels, images=images, other=np.zeros(7))
    result, summary, page = project(cli, tmp_path / "a.npz", tmp_path / "r.html", "--algo", "pca")
    assert summary["columns"]["embedding"] == ["embedding"] and summary["columns"]["image"] == "images"
    assert "arrays left out, as they do not have 30 rows: other 7" in result.stderr
    shown = shown_by_row(page)
    assert all(shown.values()) and int(grey(shown[29])[0, 0]) == 29
