"""W&B's folders: a run (`wandb/run-…`, `wandb/offline-run-…`, `wandb/latest-run`, or its `files/`), whose tables
are `files/media/table/<key>_<step>_<hash>.table.json`, and an artifact as `artifact.download()` lays it out, whose
tables are `<name>.table.json` anywhere in it. The folder's tables are listed by key: the only one, or the one
`--table KEY` names, is read (tablejson.py), and the run says which. A key logged at several steps is read at its
last step; `--table` also takes a file's own name (without `.table.json`) for another step. The table read, its
`files/` and what it names stay inside the folder given (read/paths.py's rule)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from embproj.errors import InputError
from embproj.options import say
from embproj.read.base import Source, shown_path
from embproj.read.choose import choose
from embproj.read.paths import Root, listed_file

SUFFIX = ".table.json"
RUN_TABLE = re.compile(r"^(?P<key>.+)_(?P<step>\d+)_(?P<hash>[0-9a-f]{20})\.table\.json$")
RUN_NAME = re.compile(r"^(offline-)?run-|^latest-run$")


def is_wandb_folder(path: Path) -> bool:
    return _run_files(path) is not None or _is_runs_folder(path) or any(_artifact_tables(path))


def open_wandb_folder(path: Path, name: str, encoding: str | None, table: str | None, follow: bool = False) -> Source:
    from embproj.read.tablejson import open_table_json

    files = _run_files(path)
    if files is not None:
        tables, steps = _run_tables(files)
        root, what = files, "W&B run"
        if not tables:
            raise InputError(
                "this W&B run logged no tables (files/media/table is empty or missing)",
                'log one with run.log({"key": wandb.Table(...)}), or give the folder of an artifact that holds one',
                where=name,
            )
    elif _is_runs_folder(path):
        runs = [p for p in path.iterdir() if RUN_NAME.match(p.name) and p.name != "latest-run" and p.is_dir()]
        raise InputError(
            f"this is wandb's folder of {len(runs):,} runs, not one run",
            f"give one run's folder, for example {shown_path(path / 'latest-run')} (the newest)",
            where=name,
        )
    else:
        root, what = path, "W&B artifact"
        tables = {_key(p.relative_to(path)): p for p in sorted(_artifact_tables(path))}
        steps = {}
    others = {p.name[: -len(SUFFIX)]: p for found in steps.values() for _, p in found}
    key = choose(sorted(tables), table, "tables", f"{name} ({what})", aliases={stem: stem for stem in others})
    chosen = tables.get(key) or others[key]
    named = Root.of(path, follow)
    rel = shown_path(chosen.relative_to(path))  # a symlink out of the folder, or out of the run's files/, is refused
    listed_file(chosen, path, named, named=f'the table "{rel}"', inside=name, where=name)
    source = open_table_json(chosen, str(chosen), encoding, root=root, follow=follow)
    assert source is not None  # a whole file is one table, or an error
    return replace(source, about=(_said(name, what, key, chosen.relative_to(path), len(tables), steps.get(key, [])),))


def _said(name: str, what: str, key: str, rel: Path, count: int, steps: list) -> str:
    which = f'its only table, "{key}"' if count == 1 else f'table "{key}" of {count:,}'
    text = f"{name}: {what}, {which} ({rel.as_posix()})"
    if len(steps) > 1 and steps[-1][1].name == rel.name:
        again = say("table", steps[-2][1].name[: -len(SUFFIX)], bare=True)
        text += f", the last of the {len(steps):,} steps it was logged at (an earlier one: {again})"
    return text


def _run_files(path: Path) -> Path | None:
    """The run's files/ folder, when `path` is a run folder or that folder itself."""
    if (path / "files").is_dir() and (RUN_NAME.match(path.name) or any(path.glob("*.wandb"))):
        return path / "files"
    if (path / "files" / "media" / "table").is_dir():
        return path / "files"
    if path.name == "files" and (path / "media" / "table").is_dir():
        return path
    return None


def _is_runs_folder(path: Path) -> bool:
    return (path / "latest-run").is_dir() or any(p.is_dir() for p in (*path.glob("offline-run-*"), *path.glob("run-*")))


def _run_tables(files: Path) -> tuple[dict[str, Path], dict[str, list[tuple[int, Path]]]]:
    """key → its last step's file, and key → every (step, file), for a run's logged tables."""
    folder = files / "media" / "table"
    steps: dict[str, list[tuple[int, Path]]] = {}
    for p in sorted(folder.rglob("*" + SUFFIX)) if folder.is_dir() else ():
        found = RUN_TABLE.match(p.name)
        rel = p.relative_to(folder)
        key = (rel.parent / found["key"]).as_posix() if found else _key(rel)
        steps.setdefault(key, []).append((int(found["step"]) if found else -1, p))
    for logged in steps.values():
        logged.sort(key=lambda step: step[0])
    return {key: logged[-1][1] for key, logged in steps.items()}, steps


def _artifact_tables(path: Path):
    return (p for p in path.rglob("*" + SUFFIX) if p.is_file())


def _key(rel: Path) -> str:
    return rel.as_posix()[: -len(SUFFIX)]
