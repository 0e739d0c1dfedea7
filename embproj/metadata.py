"""TensorBoard's projector files: `tensors.tsv` (no header, one vector per line) with `--metadata metadata.tsv`
(per-row fields; a header row unless it has one column), joined row by row."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from .errors import InputError
from .jsonfile import first_line as _first_line
from .jsonfile import read_text as _read_text
from .source import Source


def with_metadata(source: Source, path: Path | str, encoding: str | None = None) -> Source:
    """Join a per-row metadata table (TensorBoard's metadata.tsv: a header row unless it has one column) to
    `source`, row by row. Row counts must match."""
    from pyarrow import csv

    path = Path(path)
    if not path.is_file():
        raise InputError("no such metadata file", "check the --metadata path", where=str(path))
    text = _read_text(path, encoding, fix="split the vectors and their metadata into smaller files")
    lines = [line for line in text.splitlines() if line.strip()]
    single = bool(lines) and all("\t" not in line for line in lines)
    body = ("label\n" + text) if single else text
    try:
        meta = csv.read_csv(
            pa.BufferReader(body.encode()),
            parse_options=csv.ParseOptions(delimiter="\t"),
            convert_options=csv.ConvertOptions(strings_can_be_null=False),
        )
    except pa.ArrowInvalid as err:
        raise InputError(
            f"malformed metadata ({_first_line(err)})", "give one TSV row per vector", where=str(path)
        ) from None
    clash = set(meta.column_names) & set(source.schema.names)
    if clash:
        meta = meta.rename_columns([f"meta_{c}" if c in clash else c for c in meta.column_names])

    def batches(columns):
        want = None if columns is None else [c for c in columns if c in source.schema.names]
        offset = 0
        for batch in source._open(want):
            part = meta.slice(offset, batch.num_rows)
            if part.num_rows < batch.num_rows:
                raise InputError(
                    f"{path.name} has {meta.num_rows:,} rows, fewer than the vectors",
                    "give one metadata row per vector",
                )
            offset += batch.num_rows
            merged = pa.Table.from_batches([batch]).combine_chunks()
            for name in part.column_names:
                if columns is None or name in columns:
                    merged = merged.append_column(name, part.column(name))
            yield from merged.to_batches()
        if offset != meta.num_rows:
            raise InputError(
                f"{path.name} has {meta.num_rows:,} rows but there are {offset:,} vectors",
                "give one metadata row per vector",
            )

    schema = pa.schema(list(source.schema) + list(meta.schema))
    return Source(source.name, source.format, schema, source.num_rows, batches, source.notes)
