"""TensorBoard's projector files: `tensors.tsv` (no header, one vector per line) with `--metadata metadata.tsv`
(per-row fields; a header row unless it has one column), joined row by row. `join_columns` is that join for any
columns that come row by row beside a source (a TensorBoard sprite's images too)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pyarrow as pa

from embproj.errors import InputError
from embproj.options import say
from embproj.read.base import Source
from embproj.read.jsonfile import first_line as _first_line
from embproj.read.jsonfile import read_text as _read_text
from embproj.read.tidy import rename_notes, unique_names


def with_metadata(source: Source, path: Path | str, encoding: str | None = None) -> Source:
    """Join a per-row metadata table (TensorBoard's metadata.tsv: a header row unless it has one column) to
    `source`, row by row. Row counts must match."""
    path = Path(path)
    meta = read_metadata(path, encoding)
    own = unique_names(meta.column_names)  # repeated or empty names, as pandas names them
    notes = rename_notes(meta.column_names, own)
    theirs = source.schema.names
    wanted = [f"meta_{c}" if c in theirs else c for c in own]
    meta = meta.rename_columns(unique_names([*theirs, *wanted])[len(theirs) :])  # "meta_x" may be taken too

    def part(offset: int, rows: int) -> pa.Table:
        found = meta.slice(offset, rows)
        if found.num_rows < rows:
            raise InputError(
                f"{path.name} has {meta.num_rows:,} rows, fewer than the vectors", "give one metadata row per vector"
            )
        return found

    def end(rows: int) -> None:
        if rows != meta.num_rows:
            raise InputError(
                f"{path.name} has {meta.num_rows:,} rows but there are {rows:,} vectors",
                "give one metadata row per vector",
            )

    joined = join_columns(source, meta.schema, part, end)
    notes = (*joined.notes, *(f"{path.name}: {note}" for note in notes))
    return replace(joined, inputs=(*joined.inputs, path), notes=notes)


def read_metadata(path: Path, encoding: str | None = None) -> pa.Table:
    from pyarrow import csv

    if not path.is_file():
        raise InputError("no such metadata file", f"check the {say('metadata')} path", where=str(path))
    text = _read_text(path, encoding, fix="split the vectors and their metadata into smaller files")
    lines = [line for line in text.splitlines() if line.strip()]
    single = bool(lines) and all("\t" not in line for line in lines)
    body = ("label\n" + text) if single else text
    try:
        return csv.read_csv(
            pa.BufferReader(body.encode()),
            parse_options=csv.ParseOptions(delimiter="\t"),
            convert_options=csv.ConvertOptions(strings_can_be_null=False),
        )
    except pa.ArrowInvalid as err:
        raise InputError(
            f"malformed metadata ({_first_line(err)})", "give one TSV row per vector", where=str(path)
        ) from None


def join_columns(
    source: Source,
    extra: pa.Schema,
    part: Callable[[int, int], pa.Table],
    end: Callable[[int], None] | None = None,
) -> Source:
    """`source` with the columns of `extra` after its own, row by row: `part(offset, rows)` gives them for that
    many rows from `offset`; `end(rows)` checks the count once every row was read."""

    def batches(columns):
        want = None if columns is None else [c for c in columns if c in source.schema.names]
        offset = 0
        for batch in source._open(want):
            found = part(offset, batch.num_rows)
            offset += batch.num_rows
            merged = pa.Table.from_batches([batch]).combine_chunks()
            for name in found.column_names:
                if columns is None or name in columns:
                    merged = merged.append_column(name, found.column(name))
            yield from merged.to_batches()
        if end is not None:
            end(offset)

    return replace(source, schema=pa.schema(list(source.schema) + list(extra)), _open=batches, parts=())
