"""A Hugging Face `datasets` folder written by `save_to_disk`: a Dataset is Arrow IPC stream files (`data-*.arrow`,
listed in `state.json`) with `dataset_info.json` (its features: a ClassLabel's names); a DatasetDict is
`dataset_dict.json` naming its splits, one Dataset folder each, chosen with `--table SPLIT`. The files are
memory-mapped and streamed (arrow.py); images are the Image feature's {bytes, path} cells. Every file read (the
JSON files, the data files `state.json` lists) is a regular file inside the folder given (read/paths.py's rule)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from embproj.errors import InputError
from embproj.read.base import Source, shown_path
from embproj.read.choose import choose, single
from embproj.read.paths import Root, as_named, listed_file, named_file

MAX_JSON = 16 << 20  # dataset_info.json holds the features and a description: never near this
DICT = "dataset_dict.json"
SAVE_AGAIN = "save the dataset again with save_to_disk"


def open_saved(path: Path, name: str, table: str | None, follow: bool = False) -> Source:
    root = Root.of(path, follow)
    splits = _splits(path, root)
    if splits is None:
        return single(open_dataset(path, name, follow), table)
    key = choose(splits, table, "splits", f"{name} (a saved DatasetDict)")
    folder = _split_folder(path, root, key)
    source = open_dataset(folder, shown_path(folder), follow)
    which = "its only split" if len(splits) == 1 else f"split {splits.index(key) + 1:,} of {len(splits):,},"
    said = f'{name}: a saved DatasetDict, {which} "{key}"'
    return replace(source, about=(said,), inputs=(*source.inputs, path / DICT))


def open_dataset(folder: Path, name: str, follow: bool = False) -> Source:
    from embproj.read.arrow import labels_of, stream_files

    root = Root.of(folder, follow)
    state = _json(folder, root, "state.json")
    files = [_inside(folder, root, f) for f in _listed_names(folder, state)] or _data_files(folder, root)
    if not files:
        raise InputError(
            "a saved dataset folder with no data-*.arrow files", "save it again with save_to_disk", where=name
        )
    source = stream_files(files, name, "hf-dataset")
    info = _json(folder, root, "dataset_info.json")  # its ClassLabels, for Arrow files whose metadata lacks them
    labels = labels_of(info.get("features"), source.schema) if info else {}
    read = [folder / f for f, found in (("state.json", state), ("dataset_info.json", info)) if found is not None]
    source = replace(source, inputs=(*source.inputs, *read))
    return _relabelled(source, labels) if labels else source


def _data_files(folder: Path, root: Root) -> list[Path]:
    files = sorted(folder.glob("data-*.arrow"))
    for f in files:
        listed_file(f, folder, root, named=f'"{f.name}"', inside="the folder", where=shown_path(folder))
    return files


def _listed_names(folder: Path, state: dict | None) -> list[str]:
    """The file names state.json lists (`"_data_files": [{"filename": …}, …]`), [] when it lists none."""
    listed = (state or {}).get("_data_files") or []
    names = [f.get("filename") for f in listed if isinstance(f, dict)] if isinstance(listed, list) else None
    if names is None or len(names) != len(listed) or not all(isinstance(n, str) and n for n in names):
        raise InputError(
            'state.json\'s "_data_files" is not a list of {"filename": "data-….arrow"}',
            "save the dataset again with save_to_disk",
            where=shown_path(folder),
        )
    return [str(n) for n in names]  # every one a text, checked above


def _relabelled(source: Source, labels: dict[str, list[str]]) -> Source:
    from embproj.read.arrow import labelled_schema, with_labels

    inner = source._open

    def batches(columns):
        for batch in inner(columns):
            yield with_labels(batch, {c: n for c, n in labels.items() if c in batch.schema.names})

    return replace(source, schema=labelled_schema(source.schema, labels), _open=batches, parts=())


def _splits(path: Path, root: Root) -> list[str] | None:
    found = _json(path, root, DICT)
    if found is None:
        return None
    splits = found.get("splits")
    if not isinstance(splits, list) or not all(isinstance(s, str) for s in splits) or not splits:
        raise InputError(
            'dataset_dict.json names no "splits"', "save the DatasetDict again with save_to_disk", where=str(path)
        )
    return splits


def _inside(folder: Path, root: Root, name: str) -> Path:
    """A data file `state.json` names: a regular file inside the dataset's folder."""
    found = named_file(
        name, root, named=f'state.json names "{name}", which', inside="the folder", fix=SAVE_AGAIN,
        missing=SAVE_AGAIN, where=shown_path(folder),
    )  # fmt: skip
    return as_named(found, folder, root)


def _split_folder(path: Path, root: Root, key: str) -> Path:
    """The folder of a split `dataset_dict.json` names, inside the DatasetDict's folder."""
    found = named_file(
        key, root, named=f'dataset_dict.json names "{key}", which', inside="the folder", fix=SAVE_AGAIN,
        missing=SAVE_AGAIN, where=shown_path(path), kind="a folder",
    )  # fmt: skip
    return as_named(found, path, root)


def _json(folder: Path, root: Root, name: str) -> dict | None:
    """One of the dataset's JSON files, or None when it has none (it is read only inside the folder)."""
    if not os.path.lexists(folder / name):
        return None
    from embproj.read.jsonfile import loads, read_text

    path = named_file(
        name, root, named=f'"{name}"', inside="the folder", fix=SAVE_AGAIN, missing=SAVE_AGAIN,
        where=shown_path(folder),
    )  # fmt: skip
    found = loads(read_text(path, None, MAX_JSON, fix=SAVE_AGAIN))
    if not isinstance(found, dict):
        raise InputError("not a JSON object", SAVE_AGAIN, where=str(folder / name))
    return found
