"""Other tools' files, read as tables (part of stage 1, with source.py): W&B's table JSON and pandas' `split` and
`table` JSON (tablejson.py), W&B run and artifact folders (wandb.py), TensorBoard projector log folders
(tensorboard.py), Hugging Face `save_to_disk` folders (hf.py), Arrow IPC and Feather files (arrow.py), NumPy
`.npy`/`.npz` (numpy_files.py). `open_other` tells them apart by what the path is; a path of none of these kinds is
left to source.py's own readers (CSV, Parquet, JSON, JSON Lines)."""

from __future__ import annotations

import re
from pathlib import Path

from embproj.errors import InputError, OptionError
from embproj.source import Source
from embproj.words import shown_names

ARROW_SUFFIXES = (".arrow", ".feather", ".ipc")
NUMPY_SUFFIXES = (".npy", ".npz")
# The first key of the one object in a JSON file: wandb writes "columns" (a run's table) or "_type" (an
# artifact's, keys sorted); pandas' to_json writes "columns" (orient="split") or "schema" (orient="table").
TABLE_JSON_START = re.compile(rb'\A\s*\{\s*"(columns|_type|schema)"\s*:')
TABLE_FLAG_FIX = (
    "leave --table out: it chooses among the tables of a W&B folder, the embeddings of a TensorBoard log folder "
    "or the splits of a saved DatasetDict"
)


def open_other(
    path: Path, name: str, format: str | None, encoding: str | None, table: str | None, follow: bool = False
) -> Source | None:
    """The `Source` for another tool's file or folder, or None when `path` is for source.py (`--format` given
    means so, except for folders). Errors that do not say where are located at `name`. The files it names or
    holds are read inside it (imagepaths.py's rule), its symlinks followed out only when `follow`."""
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
        raise OptionError(f'--table "{table}": {name} holds a single table', TABLE_FLAG_FIX)
    return found


def _table_json(path: Path, name: str, encoding: str | None, table: str | None, follow: bool) -> Source | None:
    from embproj.formats.tablejson import open_table_json

    # None: JSON Lines whose first row happens to start with one of those keys, for source.py
    return open_table_json(path, name, encoding, whole_file=path.name.lower().endswith(".table.json"), follow=follow)


def _arrow(path: Path, name: str, encoding: str | None, table: str | None, follow: bool) -> Source:
    from embproj.formats.arrow import open_arrow

    return open_arrow(path, name)


def _numpy(path: Path, name: str, encoding: str | None, table: str | None, follow: bool) -> Source:
    from embproj.formats.numpy_files import open_numpy

    return open_numpy(path, name)


def _tensorboard(path: Path, name: str, encoding: str | None, table: str | None, follow: bool) -> Source:
    from embproj.formats.tensorboard import open_logdir

    return open_logdir(path if path.is_dir() else path.parent, table, follow)


def _hf(path: Path, name: str, encoding: str | None, table: str | None, follow: bool) -> Source:
    from embproj.formats.hf import open_saved

    return open_saved(path, name, table, follow)


def _wandb(path: Path, name: str, encoding: str | None, table: str | None, follow: bool) -> Source:
    from embproj.formats.wandb import open_wandb_folder

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
    from embproj.formats.wandb import is_wandb_folder

    return "wandb" if is_wandb_folder(path) else None


def _starts_like_a_table(path: Path) -> bool:
    from embproj.jsonfile import open_binary, read_some

    with open_binary(path) as f:
        return bool(TABLE_JSON_START.match(read_some(f, 4096)))


def single(source: Source, table: str | None) -> Source:
    if table is not None:
        raise OptionError(f'--table "{table}": {source.name} holds a single table', TABLE_FLAG_FIX)
    return source


def in_memory(
    table, name: str, fmt: str, notes: tuple[str, ...] = (), image_root: Path | None = None, inputs=()
) -> Source:
    """A `Source` over a table read whole, with what reading it noted, where its image paths are read and the
    files it was read from."""
    from dataclasses import replace

    from embproj.source import from_table

    source = from_table(table, name, fmt)
    return replace(source, notes=(*source.notes, *notes), image_root=image_root, inputs=tuple(inputs))


def choose(keys: list[str], wanted: str | None, what: str, where: str, aliases: dict[str, str] | None = None) -> str:
    """The one key, or the key `wanted` (`--table`) names, itself or by an alias: an `OptionError` listing the
    keys when there are several and none was named, or when the name is none of them. `what` is the plural."""
    if wanted is None:
        if len(keys) == 1:
            return keys[0]
        raise OptionError(
            f"{where} holds {len(keys):,} {what}: {listed(keys)}",
            f'choose one with --table, for example --table "{keys[0]}"',
        )
    if wanted in keys:
        return wanted
    if aliases and wanted in aliases:
        return aliases[wanted]
    raise OptionError(f'--table "{wanted}": {where} holds no such {what[:-1]}', f"choose one of {listed(keys)}")


def listed(names: list[str], most: int = 20) -> str:
    """Quoted names, "a", "b" and "c"; past `most` (or past what a message has room for), the first ones and how
    many more (never cut silently)."""
    shown = shown_names(names, most)
    if len(names) > len(shown):
        return ", ".join(shown) + f" and {len(names) - len(shown):,} more"
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
