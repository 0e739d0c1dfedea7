"""What the readers of other tools' folders share: choosing one table of several (`--table`), and a `Source` over a
table read whole."""

from __future__ import annotations

from pathlib import Path

from embproj.errors import OptionError
from embproj.options import say
from embproj.read.base import Source
from embproj.text.words import shown_names


def single(source: Source, table: str | None) -> Source:
    if table is not None:
        raise one_table(table, source.name)
    return source


def one_table(table: str, name: str) -> OptionError:
    """`--table` given for a file or folder that holds one table."""
    return OptionError(
        f"{say('table', table, quote=True)}: {name} holds a single table",
        f"leave {say('table')} out: it chooses among the tables of a W&B folder, the embeddings of a TensorBoard log "
        "folder or the splits of a saved DatasetDict",
    )


def in_memory(
    table, name: str, fmt: str, notes: tuple[str, ...] = (), image_root: Path | None = None, inputs=()
) -> Source:
    """A `Source` over a table read whole, with what reading it noted, where its image paths are read and the
    files it was read from."""
    from dataclasses import replace

    from embproj.read.base import from_table

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
            f"choose one with {say('table')}, for example {say('table', keys[0], quote=True)}",
        )
    if wanted in keys:
        return wanted
    if aliases and wanted in aliases:
        return aliases[wanted]
    raise OptionError(
        f"{say('table', wanted, quote=True)}: {where} holds no such {what[:-1]}", f"choose one of {listed(keys)}"
    )


def listed(names: list[str], most: int = 20) -> str:
    """Quoted names, "a", "b" and "c"; past `most` (or past what a message has room for), the first ones and how
    many more (never cut silently)."""
    shown = shown_names(names, most)
    if len(names) > len(shown):
        return ", ".join(shown) + f" and {len(names) - len(shown):,} more"
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
