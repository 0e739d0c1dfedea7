"""Stage 1, read: `open_source`, the one way in, tells apart what a path is and hands it to its reader: other tools'
files and folders (W&B's table JSON and pandas' `split` and `table` JSON: tablejson.py; W&B run and artifact
folders: wandb.py; TensorBoard projector log folders: tensorboard.py; Hugging Face `save_to_disk` folders: hf.py;
Arrow IPC and Feather files: arrow.py; NumPy `.npy`/`.npz`: numpy_files.py), and tables of rows (CSV, TSV, Parquet
files, folders and patterns, JSON, JSON Lines: tables.py)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from embproj.errors import InputError
from embproj.read.base import Source
from embproj.read.choose import one_table
from embproj.read.tables import GLOB_CHARS, open_file, open_parquet_dir, open_parquet_glob

ARROW_SUFFIXES = (".arrow", ".feather", ".ipc")
NUMPY_SUFFIXES = (".npy", ".npz")
# The first key of the one object in a JSON file: wandb writes "columns" (a run's table) or "_type" (an
# artifact's, keys sorted); pandas' to_json writes "columns" (orient="split") or "schema" (orient="table").
TABLE_JSON_START = re.compile(rb'\A\s*\{\s*"(columns|_type|schema)"\s*:')


def open_source(
    path: Path | str,
    format: str | None = None,
    encoding: str | None = None,
    table: str | None = None,
    follow_symlinks: bool = False,
    *,
    header: bool | None = None,
) -> Source:
    """`table` chooses among the tables of a folder that holds several (W&B, TensorBoard, datasets).
    Every file read because `path` names it or holds it stays inside it (paths.py); `follow_symlinks` lets
    its symlinks lead out. `header` says whether a CSV or TSV file has a header row, when its format says so
    (None: detected)."""
    path = Path(path)
    name = str(path)
    if not path.exists() and GLOB_CHARS.search(name):
        return open_parquet_glob(name, follow_symlinks)
    if not path.exists():
        raise InputError("no such file or directory", "check the path", where=name)
    other = open_other(path, name, format, encoding, table, follow_symlinks)  # other tools' files, or None
    if other is not None:
        return other if path.is_dir() else replace(other, inputs=tuple(dict.fromkeys((path, *other.inputs))))
    if path.is_dir():
        return open_parquet_dir(path, name, follow_symlinks)
    return open_file(path, name, format, encoding, header)


def open_other(
    path: Path, name: str, format: str | None, encoding: str | None, table: str | None, follow: bool = False
) -> Source | None:
    """The `Source` for another tool's file or folder, or None when `path` is for read/source.py (`--format` given
    means so, except for folders). Errors that do not say where are located at `name`. The files it names or
    holds are read inside it (paths.py's rule), its symlinks followed out only when `follow`."""
    try:
        return _open_other(path, name, format, encoding, table, follow)
    except InputError as err:
        raise err.at(name) from None


def _open_other(
    path: Path, name: str, format: str | None, encoding: str | None, table: str | None, follow: bool
) -> Source | None:
    kind = None if format is not None and not path.is_dir() else kind_of(path)
    found = READERS[kind](path, name, encoding, table, follow) if kind is not None else None
    if (found is None or kind in SINGLE) and table is not None:
        raise one_table(table, name)
    return found


def _table_json(path: Path, name: str, encoding: str | None, table: str | None, follow: bool) -> Source | None:
    from embproj.read.tablejson import open_table_json

    # None: JSON Lines whose first row happens to start with one of those keys, for read/source.py
    return open_table_json(path, name, encoding, whole_file=path.name.lower().endswith(".table.json"), follow=follow)


def _arrow(path: Path, name: str, encoding: str | None, table: str | None, follow: bool) -> Source:
    from embproj.read.arrow import open_arrow

    return open_arrow(path, name)


def _numpy(path: Path, name: str, encoding: str | None, table: str | None, follow: bool) -> Source:
    from embproj.read.numpy_files import open_numpy

    return open_numpy(path, name)


def _tensorboard(path: Path, name: str, encoding: str | None, table: str | None, follow: bool) -> Source:
    from embproj.read.tensorboard import open_logdir

    return open_logdir(path if path.is_dir() else path.parent, table, follow)


def _hf(path: Path, name: str, encoding: str | None, table: str | None, follow: bool) -> Source:
    from embproj.read.hf import open_saved

    return open_saved(path, name, table, follow)


def _wandb(path: Path, name: str, encoding: str | None, table: str | None, follow: bool) -> Source:
    from embproj.read.wandb import open_wandb_folder

    return open_wandb_folder(path, name, encoding, table, follow)


READERS = {
    "table-json": _table_json,
    "arrow": _arrow,
    "numpy": _numpy,
    "tensorboard": _tensorboard,
    "hf": _hf,
    "wandb": _wandb,
}  # each reader imports its module only when a path of its kind comes
SINGLE = ("table-json", "arrow", "numpy")  # one table a file: --table has nothing to choose


def kind_of(path: Path) -> str | None:
    if path.is_dir():
        return _folder_kind(path)
    lower = path.name.lower()
    suffix = path.suffix.lower()
    if lower == "projector_config.pbtxt":
        return "tensorboard"
    if lower.endswith((".table.json", ".table.json.gz")):
        return "table-json"
    if lower.endswith((".json", ".json.gz")) and _starts_like_a_table(path):  # pandas' split or table JSON
        return "table-json"
    if suffix in ARROW_SUFFIXES:
        return "arrow"
    if suffix in NUMPY_SUFFIXES:
        return "numpy"
    return None


def _folder_kind(path: Path) -> str | None:
    if (path / "projector_config.pbtxt").is_file() or any(path.glob("*/projector_config.pbtxt")):
        return "tensorboard"
    if (path / "dataset_dict.json").is_file() or (
        (path / "state.json").is_file() and ((path / "dataset_info.json").is_file() or any(path.glob("data-*.arrow")))
    ):
        return "hf"
    from embproj.read.wandb import is_wandb_folder

    return "wandb" if is_wandb_folder(path) else None


def _starts_like_a_table(path: Path) -> bool:
    from embproj.read.jsonfile import open_binary, read_some

    with open_binary(path) as f:
        return bool(TABLE_JSON_START.match(read_some(f, 4096)))
