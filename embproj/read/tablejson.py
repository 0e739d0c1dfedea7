"""A table in one JSON object: W&B's Table JSON, and pandas' `to_json(orient="split")` and `orient="table"`.

- A W&B run's `files/media/table/<key>_<step>_<hash>.table.json`: `{"columns": [...], "data": [[...], ...]}`.
  wandb (0.31) writes each media cell there as its class name, so a column of images holds only "Image": such a
  column is a placeholder, left out with a note saying where the images are.
- A W&B artifact's `<name>.table.json`: `{"_type": "table", "columns", "data", "column_types", ...}`. Image cells are
  `{"_type": "image-file", "path": "media/images/<hash>.png", ...}`, relative to the folder that holds `media/`
  (the artifact's root, a run's `files/`): that folder becomes the image root, so no path outside it is read.
  Given a table file, that is the file's own folder, or the run's `files/` for a file in its `media/table/`;
  never a folder above (the file system's `/media` would make the image root `/`).
  Array columns wider than an embedding are moved to `media/serialized_data/*.npz` (their cells null,
  `column_types` naming the file and key) and loaded from there with numpy.
- pandas: `split` is `{"columns", "index", "data"}`, `table` is `{"schema": {"fields", "primaryKey"}, "data": [{...}]}`.

The file is read whole, within read/jsonfile.py's bounds (64 MB).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa

from embproj.errors import InputError
from embproj.read.base import Source
from embproj.read.choose import in_memory
from embproj.read.jsonfile import loads, read_text
from embproj.read.numpy_files import Inflation, ndarray_column, npz_shapes
from embproj.read.paths import OUTSIDE, Root, file_kind, locate, named_file

# wandb's media classes, as a run's table file names them in place of the media
MEDIA_PLACEHOLDERS = {
    "Image": "images",
    "Audio": "audio clips",
    "Video": "videos",
    "Html": "HTML pages",
    "Object3D": "3D objects",
    "Molecule": "molecules",
    "Plotly": "Plotly charts",
    "Bokeh": "Bokeh plots",
}
TOO_LARGE = "export the table as Parquet, for example table.get_dataframe().to_parquet(path)"
SHAPES = 'W&B\'s {"columns": [...], "data": [[...], ...]}, or pandas\' to_json(orient="split") or orient="table"'
RUN_FILE = re.compile(
    r"(?:^|/)(?:offline-)?run-[^/]*-(?P<run>[a-z0-9]+)/files/media/table/(?P<key>[\w.-]+)_\d+_[0-9a-f]{20}\.table\.json$"
)
RUN_MEDIA = ("files", "media", "table")  # where a run keeps its tables: their media paths are relative to files/


def open_table_json(
    path: Path,
    name: str,
    encoding: str | None,
    whole_file: bool = True,
    root: Path | None = None,
    follow: bool = False,
) -> Source | None:
    """The table in the file; None when `whole_file` is False and the file holds more than one JSON value (JSON
    Lines). `root` is the folder that holds `media/`, when the caller knows it (a run or artifact folder); the
    files the table names are read inside it, its symlinks followed out only when `follow`."""
    text = read_text(path, encoding, fix=TOO_LARGE)
    try:
        obj = loads(text)
    except InputError as err:
        if not whole_file and "Extra data" in err.what:
            return None
        raise err.at(name) from None
    root = root or media_holder(path)
    try:
        table, fmt, notes, read = parse(obj, Root.of(root, follow), run_artifact(path))
    except InputError as err:
        raise err.at(name) from None
    return in_memory(table, name, fmt, notes, root, (path, *read))


def media_holder(path: Path) -> Path:
    """The folder a table file's media paths are relative to, from the path as given: a run's `files/` for a
    table in its `files/media/table/`, else the file's own folder (an artifact's root holds its tables beside
    `media/`; a table nested deeper in an artifact is read with its images when the artifact's folder is given).
    Never a folder above those: one found higher up would let a table name any file below it."""
    names = path.absolute().parts
    for i in range(len(names) - len(RUN_MEDIA) - 1, 0, -1):
        if names[i : i + len(RUN_MEDIA)] == RUN_MEDIA:
            return Path(*names[: i + 1])
    return path.absolute().parent


def run_artifact(path: Path) -> str:
    """The name of the table artifact wandb logs beside a run's table file: run-<run id>-<key>."""
    found = RUN_FILE.search(path.as_posix())
    return f"run-{found['run']}-{found['key']}" if found else "run-<run id>-<key>"


def parse(obj, root: Root, artifact: str = "") -> tuple[pa.Table, str, tuple[str, ...], tuple[Path, ...]]:
    """(table, format, notes, the files its arrays were read from) from the file's JSON value; `artifact` names
    the run's table artifact."""
    if isinstance(obj, dict) and isinstance(obj.get("schema"), dict) and isinstance(obj.get("data"), list):
        return (*_pandas_table(obj), ())
    if not (isinstance(obj, dict) and isinstance(obj.get("columns"), list) and isinstance(obj.get("data"), list)):
        raise InputError("not a table in one JSON object", f"give {SHAPES}")
    names = [str(c) for c in obj["columns"]]
    rows = obj["data"]
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != len(names):
            got = f"{len(row)} values" if isinstance(row, list) else "not a list"
            raise InputError(f"row {i + 1:,} is {got}, expected {len(names)} (one per column)", "write the table again")
    wandb = "index" not in obj
    fmt = "wandb-table" if wandb else "pandas-split"
    stored = _serialized_columns(obj, names)
    inflation = Inflation()  # what the columns' .npz members take, in all
    columns: list[tuple[str, pa.Array]] = []  # a list: repeated names are kept, for read/tidy.py to rename
    notes: list[str] = []
    read: list[Path] = []
    for j, column in enumerate(names):
        if column in stored:
            array, note, found = _from_npz(column, stored[column], root, len(rows), inflation)
            read += [found] if found else []
        else:
            array, note = _column(column, [row[j] for row in rows], placeholders=wandb, artifact=artifact)
        notes += [note] if note else []
        if array is not None:
            columns.append((column, array))
    if not wandb:
        columns = _with_index(columns, obj.get("index"), len(rows))
    if obj.get("log_mode") == "INCREMENTAL":
        notes.append("this is one increment of an incremental W&B table: only the rows it holds are read")
    return _table(columns), fmt, tuple(notes), tuple(dict.fromkeys(read))


def _table(columns: list[tuple[str, pa.Array]]) -> pa.Table:
    return pa.Table.from_arrays([a for _, a in columns], names=[n for n, _ in columns]) if columns else pa.table({})


# -- cells -----------------------------------------------------------------------------------------------------


def _column(name: str, values: list, placeholders: bool, artifact: str = "") -> tuple[pa.Array | None, str | None]:
    """One column's cells as an Arrow array, or None and a note when it is only wandb's media placeholder."""
    present = {v if isinstance(v, str) else None for v in values if v is not None}
    if placeholders and len(present) == 1 and next(iter(present)) in MEDIA_PLACEHOLDERS:
        kind = str(next(iter(present)))
        return None, (
            f'column "{name}" holds only "{kind}", which wandb writes in place of {MEDIA_PLACEHOLDERS[kind]} in a '
            f"run's table file: the {MEDIA_PLACEHOLDERS[kind]} were not stored in this file, so the column is left "
            f"out (the table artifact wandb logs with the run keeps them: download it with wandb artifact get "
            f"ENTITY/PROJECT/{artifact or 'run-<run id>-<key>'}:latest and give its folder)"
        )
    refs = sum(1 for v in values if isinstance(v, dict) and "path" not in v and "artifact_path" in v)
    cells = [_cell(v) for v in values]
    note = f'{refs:,} cells of column "{name}" refer to files in another artifact, which are not read' if refs else None
    try:
        return pa.array(cells), note
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        text = [None if v is None else v if isinstance(v, str) else json.dumps(v) for v in cells]
        return pa.array(
            text, pa.string()
        ), f'column "{name}" mixes kinds of values (such as numbers and text): read as text'


def _cell(value):
    """A media cell (`{"_type": "image-file", "path": …}`) as its path; any other object as JSON text."""
    if isinstance(value, dict):
        if isinstance(value.get("path"), str) and str(value.get("_type", "")).endswith("-file"):
            return value["path"]
        if "artifact_path" in value:
            return None
        return json.dumps(value, sort_keys=True)
    return value


def _serialized_columns(obj: dict, names: list[str]) -> dict[str, dict]:
    """column → {"path", "key"} for the columns wandb moved to .npz files, from `column_types` (a part of it
    that is not what wandb writes says nothing: the cells are read as they are)."""
    types = _at(obj, "column_types", "params", "type_map")
    found = {}
    for column in names:
        for t in _alternatives(_at(types, column)):
            where = _at(t, "params", "serialization_path") if t.get("wb_type") == "ndarray" else None
            if isinstance(where, dict) and isinstance(where.get("path"), str):
                found[column] = where
    return found


def _alternatives(t) -> list[dict]:
    if not isinstance(t, dict):
        return []
    if t.get("wb_type") == "union":
        allowed = _at(t, "params", "allowed_types")
        return [a for a in allowed if isinstance(a, dict)] if isinstance(allowed, list) else []
    return [t]


def _at(value, *keys):
    """value[k1][k2]…, or None where a step is not an object or lacks the key: a file's JSON holds anything."""
    for k in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(k)
    return value


def _from_npz(
    column: str, where: dict, root: Root, n: int, inflation: Inflation
) -> tuple[pa.Array | None, str | None, Path | None]:
    """The column's array, or None and a note; and the file read."""
    text = where["path"]
    found = locate(text, (root,))
    if found == OUTSIDE or (isinstance(found, Path) and file_kind(found) == "missing"):
        note = f'column "{column}" is stored in {text}, which is not in {root.given}: left out (download the '
        return None, note + "whole artifact, with its media folder, and give its folder)", None
    found = named_file(  # a symlink out of the folder, or no regular file: an error that says which
        text, root, named=f'column "{column}"\'s file "{text}"', inside=str(root.given), fix="", missing="",
        where=None,
    )  # fmt: skip
    key = str(where.get("key", column))
    shapes = npz_shapes(found)
    if key not in shapes:
        return None, f'column "{column}": {text} has no array "{key}", so the column is left out', found
    try:  # its size checked by npz_shapes, and with the other columns' by `inflation`
        array = inflation.load(found, [key])[key]
    except InputError as err:
        raise InputError(f'column "{column}" ({text}): {err.what}', err.fix) from None
    if array.ndim == 0 or array.shape[0] != n:
        return None, f'column "{column}": {text} holds {len(array) if array.ndim else 0:,} rows, not {n:,}', found
    if 0 in array.shape[1:]:
        return None, f'column "{column}": its rows in {text} hold no values, so the column is left out', found
    return ndarray_column(array), None, found


# -- pandas ----------------------------------------------------------------------------------------------------


def _pandas_table(obj: dict) -> tuple[pa.Table, str, tuple[str, ...]]:
    fields = obj["schema"].get("fields")
    names = [str(f.get("name")) for f in fields if isinstance(f, dict)] if isinstance(fields, list) else []
    rows = obj["data"]
    if not all(isinstance(r, dict) for r in rows):
        raise InputError('orient="table" JSON whose "data" is not a list of objects', f"give {SHAPES}")
    names = names or list(dict.fromkeys(k for r in rows for k in r))
    columns, notes = [], []
    for name in dict.fromkeys(names):
        array, note = _column(name, [r.get(name) for r in rows], placeholders=False)
        notes += [note] if note else []
        if array is not None:
            columns.append((name, array))
    key = obj["schema"].get("primaryKey")
    if key == ["index"] and [a.to_pylist() for n, a in columns if n == "index"] == [list(range(len(rows)))]:
        columns = [(n, a) for n, a in columns if n != "index"]  # pandas' default RangeIndex, not data
    return _table(columns), "pandas-table", tuple(notes)


def _with_index(columns: list, index, n: int) -> list:
    """pandas' split index first, as a column "index", unless it is the default 0..n-1."""
    if not isinstance(index, list) or len(index) != n or index == list(range(n)) or "index" in dict(columns):
        return columns
    array, _ = _column("index", index, placeholders=False)
    return [("index", array), *columns]
