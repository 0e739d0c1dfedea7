"""What stage 1 hands on, whatever the file: a `Source` (a table's schema, its row count when known, and a stream of
Arrow record batches), and the words for a reader's errors. Every reader in this package makes one."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from embproj.errors import InputError
from embproj.options import say
from embproj.read.jsonfile import first_line as _first_line
from embproj.read.tidy import plain_type, rename_notes, tidy_batches, unique_names

BATCH_ROWS = 16_384
FORMAT_NAMES = {"csv": "CSV", "tsv": "TSV", "parquet": "Parquet", "json": "JSON", "jsonl": "JSON Lines"}


@dataclass(frozen=True)
class Source:
    """An opened table: its schema, its row count when the format knows it cheaply, and a batch stream."""

    name: str
    format: str
    schema: pa.Schema
    num_rows: int | None
    _open: Callable[[Sequence[str] | None], Iterator[pa.RecordBatch]]
    notes: tuple[str, ...] = ()  # what reading changed, for the run's warnings (columns renamed)
    about: tuple[str, ...] = ()  # what was read, said before the plan (which table of a folder of several)
    image_root: Path | None = None  # image paths are read inside this folder, not the data file's (W&B's media/)
    # Parquet read as it is: the files, in order (what a Dask cluster's workers read); () when the batches are
    # changed on the way (a metadata file joined, class labels decoded), which only this process can do
    parts: tuple[Path, ...] = ()
    # every file read besides the one the user named (a config's tensors, a table's arrays, a dataset's data
    # files, a folder's parts): no output may land on one
    inputs: tuple[Path, ...] = ()

    def __post_init__(self) -> None:  # every source, however made, keeps read/tidy.py's promises
        old = self.schema.names
        names = unique_names(old)
        coded = any(plain_type(f.type) != f.type for f in self.schema)  # dictionaries, views
        if names == old and not coded:
            return
        fields = [pa.field(new, plain_type(f.type), f.nullable) for f, new in zip(self.schema, names, strict=True)]
        object.__setattr__(self, "schema", pa.schema(fields, metadata=self.schema.metadata))
        object.__setattr__(self, "_open", tidy_batches(self._open, names, renamed=names != old))
        object.__setattr__(self, "notes", (*self.notes, *rename_notes(old, names)))

    def batches(self, columns: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
        """Stream the rows, reading only `columns` where the format allows it. Errors become `InputError`."""
        try:
            for batch in self._open(columns):
                if columns is not None:
                    batch = pa.RecordBatch.from_arrays([batch.column(c) for c in columns], names=list(columns))
                yield batch
        except InputError as err:
            raise err.at(self.name) from None
        except (pa.ArrowException, OSError, ValueError, UnicodeDecodeError) as err:
            raise read_error(self, err) from None

    def head(self, n: int = 1_000) -> pa.Table:
        """The first `n` rows (all columns), for detection."""
        taken, rows = [], 0
        for batch in self.batches():
            taken.append(batch.slice(0, n - rows))
            rows += taken[-1].num_rows
            if rows >= n:
                break
        if not taken:  # (schema.empty_table() fails on a dictionary of nulls: pyarrow has no converter for it)
            return pa.Table.from_batches([], schema=self.schema)
        return pa.Table.from_batches(taken, schema=taken[0].schema)


def from_table(table: pa.Table, name: str = "<table>", format: str = "arrow") -> Source:
    """A `Source` over an in-memory Arrow table (the Python API's way in)."""

    def batches(columns):
        yield from (table.select(list(columns)) if columns is not None else table).to_batches(BATCH_ROWS)

    return Source(name, format, table.schema, table.num_rows, batches)


# -- file names -------------------------------------------------------------------------------------------


def readable(path: Path):
    """What pyarrow opens: the path, or a Python file when the name is not UTF-8 (pyarrow takes only UTF-8)."""
    if utf8_name(path):
        return str(path)
    return open(path, "rb")  # noqa: SIM115 (pyarrow reads it; it closes when the reader is dropped)


def utf8_name(path: Path) -> bool:
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:  # bytes from another system's encoding, which Python keeps as lone surrogates
        return False
    return True


def shown_path(path: Path | str) -> str:
    """A file name for messages: bytes that are not UTF-8 shown as \\xNN, as the terminal cannot print them."""
    return os.fsencode(str(path)).decode("utf-8", "backslashreplace")


# -- error translation ----------------------------------------------------------------------------------------


def read_error(source: Source, err: BaseException) -> InputError:
    """Turn a reader's exception into a one-line message with a fix."""
    text = _first_line(err)
    low = text.lower()
    fmt = FORMAT_NAMES.get(source.format, source.format)
    if isinstance(err, UnicodeDecodeError) or "utf8" in low or "utf-8" in low:
        return InputError(
            "not UTF-8 text", f"pass the file's encoding, for example {say('encoding', 'latin-1')}", where=source.name
        )
    if "expected" in low and "columns" in low:
        return InputError(
            f"malformed {fmt} ({text})", "make every row have as many fields as the header", where=source.name
        )
    if "empty" in low and source.format in ("csv", "tsv"):
        return InputError("the file is empty", "give a file with a header row and at least one row", where=source.name)
    if source.format == "parquet":
        return InputError(
            f"cannot read the Parquet file ({text})",
            "the file may be truncated or corrupt: write it again",
            where=source.name,
        )
    if "conversion" in low or "convert" in low:
        return InputError(
            f"a column changes type part-way through the file ({text})",
            "make each column hold one type, or convert the file to Parquet",
            where=source.name,
        )
    return InputError(f"cannot read the {fmt} file ({text})", "check that it is valid and complete", where=source.name)
