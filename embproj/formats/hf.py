"""A Hugging Face `datasets` folder written by `save_to_disk`: a Dataset is Arrow IPC stream files (`data-*.arrow`,
listed in `state.json`) with `dataset_info.json` (its features: a ClassLabel's names); a DatasetDict is
`dataset_dict.json` naming its splits, one Dataset folder each, chosen with `--table SPLIT`. The files are
memory-mapped and streamed (arrow.py); images are the Image feature's {bytes, path} cells."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from embproj.errors import InputError
from embproj.formats import choose, single
from embproj.imagepaths import Root, confine
from embproj.source import Source, shown_path

MAX_JSON = 16 << 20  # dataset_info.json holds the features and a description: never near this


def open_saved(path: Path, name: str, table: str | None) -> Source:
    splits = _splits(path)
    if splits is None:
        return single(open_dataset(path, name), table)
    key = choose(splits, table, "splits", f"{name} (a saved DatasetDict)")
    folder = _inside(path, key, "dataset_dict.json")
    source = open_dataset(folder, shown_path(folder))
    which = "its only split" if len(splits) == 1 else f"split {splits.index(key) + 1:,} of {len(splits):,},"
    return replace(source, about=(f'{name}: a saved DatasetDict, {which} "{key}"',))


def open_dataset(folder: Path, name: str) -> Source:
    from embproj.formats.arrow import labels_of, stream_files

    listed = _data_files(folder, _json(folder / "state.json"))
    files = [_inside(folder, f, "state.json") for f in listed] or sorted(folder.glob("data-*.arrow"))
    if not files:
        raise InputError(
            "a saved dataset folder with no data-*.arrow files", "save it again with save_to_disk", where=name
        )
    source = stream_files(files, name, "hf-dataset")
    info = _json(folder / "dataset_info.json")  # its ClassLabels, for Arrow files whose metadata lacks them
    labels = labels_of(info.get("features"), source.schema) if info else {}
    return _relabelled(source, labels) if labels else source


def _data_files(folder: Path, state: dict | None) -> list[str]:
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
    from embproj.formats.arrow import _labelled_schema, _with_labels

    inner = source._open

    def batches(columns):
        for batch in inner(columns):
            yield _with_labels(batch, {c: n for c, n in labels.items() if c in batch.schema.names})

    return replace(source, schema=_labelled_schema(source.schema, labels), _open=batches, parts=())


def _splits(path: Path) -> list[str] | None:
    found = _json(path / "dataset_dict.json")
    if found is None:
        return None
    splits = found.get("splits")
    if not isinstance(splits, list) or not all(isinstance(s, str) for s in splits) or not splits:
        raise InputError(
            'dataset_dict.json names no "splits"', "save the DatasetDict again with save_to_disk", where=str(path)
        )
    return splits


def _inside(folder: Path, name: str, listed_in: str) -> Path:
    found = confine(name, (Root.of(folder),))
    if found is None or not found.exists():
        raise InputError(
            f'{listed_in} names "{name}", which is not inside the folder'
            if found is None
            else f'{listed_in} names "{name}", which is missing',
            "save the dataset again with save_to_disk",
            where=shown_path(folder),
        )
    return folder / found.relative_to(Root.of(folder).real)


def _json(path: Path) -> dict | None:
    if not path.is_file():
        return None
    from embproj.jsonfile import loads, read_text

    found = loads(read_text(path, None, MAX_JSON, fix="save the dataset again with save_to_disk"))
    if not isinstance(found, dict):
        raise InputError("not a JSON object", "save the dataset again with save_to_disk", where=str(path))
    return found
