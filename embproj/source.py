"""Stage 1, source: open a table file and stream it as Arrow record batches.

Format comes from the suffix (`.csv`, `.tsv`, `.parquet`, `.json`, `.jsonl`, each optionally `.gz`), then from the
content when the suffix says nothing; `--format` overrides both. Nothing here loads a whole file except JSON arrays,
which have no streaming reader.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from .errors import InputError, OptionError
from .options import FORMATS

BATCH_ROWS = 16_384
CSV_BLOCK_BYTES = 4 << 20
PARQUET_BUFFER = 1 << 20
JSONL_STREAM_BYTES = 64 << 20  # smaller JSON Lines files are read whole: more forgiving of types that vary

SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
FORMAT_NAMES = {"csv": "CSV", "tsv": "TSV", "parquet": "Parquet", "json": "JSON", "jsonl": "JSON Lines"}


@dataclass(frozen=True)
class Source:
    """An opened table: its schema, its row count when the format knows it cheaply, and a batch stream."""

    name: str
    format: str
    schema: pa.Schema
    num_rows: int | None
    _open: Callable[[Sequence[str] | None], Iterator[pa.RecordBatch]]

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
            raise _read_error(self, err) from None

    def head(self, n: int = 1_000) -> pa.Table:
        """The first `n` rows (all columns), for detection."""
        taken, rows = [], 0
        for batch in self.batches():
            taken.append(batch.slice(0, n - rows))
            rows += taken[-1].num_rows
            if rows >= n:
                break
        if not taken:
            return self.schema.empty_table()
        return pa.Table.from_batches(taken, schema=taken[0].schema)


def open_source(path: Path | str, format: str | None = None, encoding: str | None = None) -> Source:
    path = Path(path)
    name = str(path)
    if not path.exists():
        raise InputError("no such file or directory", "check the path", where=name)
    if path.is_dir():
        return _open_parquet_dir(path, name)
    fmt = format or _format_from_suffix(path) or _sniff(path)
    if fmt is None:
        raise InputError(
            f'unknown file type "{"".join(path.suffixes) or path.name}"',
            f"use a .csv, .tsv, .parquet, .json or .jsonl file, or say which with --format {'|'.join(FORMATS)}",
            where=name,
        )
    if path.stat().st_size == 0:
        raise InputError("the file is empty", "give a file with a header row and at least one row", where=name)
    _check_content_matches(path, fmt, name)
    opener = {"csv": _open_csv, "tsv": _open_csv, "parquet": _open_parquet, "json": _open_json, "jsonl": _open_jsonl}
    try:
        return opener[fmt](path, name, fmt, encoding)
    except InputError as err:
        raise err.at(name) from None
    except (pa.ArrowException, OSError, ValueError, UnicodeDecodeError) as err:
        raise _read_error(Source(name, fmt, pa.schema([]), None, None), err) from None  # type: ignore[arg-type]


def from_table(table: pa.Table, name: str = "<table>", format: str = "arrow") -> Source:
    """A `Source` over an in-memory Arrow table (the Python API's way in)."""

    def batches(columns):
        yield from (table.select(list(columns)) if columns is not None else table).to_batches(BATCH_ROWS)

    return Source(name, format, table.schema, table.num_rows, batches)


# -- formats --------------------------------------------------------------------------------------------------


def _format_from_suffix(path: Path) -> str | None:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return SUFFIXES.get(suffixes[-1]) if suffixes else None


def _first_bytes(path: Path, n: int = 4096) -> bytes:
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    try:
        with opener(path, "rb") as f:
            return f.read(n)
    except (OSError, EOFError) as err:
        raise InputError(f"cannot read the file ({err})", "check that it is complete and not corrupt") from None


def _sniff(path: Path) -> str | None:
    head = _first_bytes(path)
    if head.startswith(b"PAR1"):
        return "parquet"
    text = head.lstrip()
    if text[:1] == b"[":
        return "json"
    if text[:1] == b"{":
        return "jsonl"
    return None


def _check_content_matches(path: Path, fmt: str, name: str) -> None:
    head = _first_bytes(path)
    is_parquet = head.startswith(b"PAR1")
    if fmt == "parquet" and not is_parquet:
        raise InputError(
            "not a Parquet file (no PAR1 magic bytes)",
            "check the file is complete, or give its real format with --format",
            where=name,
        )
    if fmt != "parquet" and (is_parquet or b"\x00" in head):
        what = "Parquet" if is_parquet else "binary"
        raise InputError(
            f"this {FORMAT_NAMES[fmt]} file holds {what} data",
            "rename it to its real type or give it with --format",
            where=name,
        )


def _open_csv(path: Path, name: str, fmt: str, encoding: str | None) -> Source:
    from pyarrow import csv

    delimiter = "\t" if fmt == "tsv" else ","
    headerless = _numbers_only(_first_bytes(path), delimiter)  # TensorBoard's tensors.tsv has no header row
    read = csv.ReadOptions(
        block_size=CSV_BLOCK_BYTES, encoding=encoding or "utf8", autogenerate_column_names=headerless
    )
    parse = csv.ParseOptions(delimiter=delimiter)

    def reader(columns=None):
        convert = csv.ConvertOptions(include_columns=list(columns) if columns is not None else None)
        stream = pa.input_stream(str(path), compression="detect")
        return csv.open_csv(stream, read_options=read, parse_options=parse, convert_options=convert)

    schema = reader().schema  # reads the first block: a bad header fails here, once
    binary = [f.name for f in schema if pa.types.is_binary(f.type)]
    if binary:  # pyarrow reads text that is not UTF-8 as binary
        raise InputError(
            f'not UTF-8 text (column "{binary[0]}")', "pass the file's encoding, for example --encoding latin-1"
        )

    def batches(columns):
        yield from reader(columns)

    return Source(name, fmt, schema, None, batches)


def _numbers_only(head: bytes, delimiter: str) -> bool:
    first = head.split(b"\n", 1)[0].decode("utf-8", "replace").strip()
    if not first:
        return False
    try:
        [float(v) for v in first.split(delimiter)]
    except ValueError:
        return False
    return True


def _open_parquet(path: Path, name: str, fmt: str, encoding: str | None) -> Source:
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(str(path))

    def batches(columns):
        # pre_buffer (pyarrow's default) caches every column chunk read: ~the whole file in memory
        reader = pq.ParquetFile(str(path), pre_buffer=False, buffer_size=PARQUET_BUFFER)
        yield from reader.iter_batches(batch_size=BATCH_ROWS, columns=list(columns) if columns is not None else None)

    return Source(name, "parquet", meta.schema_arrow, meta.metadata.num_rows, batches)


def _open_parquet_dir(path: Path, name: str) -> Source:
    import pyarrow.dataset as ds

    files = sorted(p for p in path.rglob("*") if p.is_file() and _format_from_suffix(p) == "parquet")
    if not files:
        raise InputError(
            "the directory holds no .parquet files",
            "give a data file, or a directory of Parquet part files",
            where=name,
        )
    try:
        dataset = ds.dataset([str(f) for f in files], format="parquet")
        num_rows = dataset.count_rows()
    except (pa.ArrowException, OSError) as err:
        raise InputError(
            f"cannot read the Parquet files ({_first_line(err)})", "check that each part file is complete", where=name
        ) from None

    def batches(columns):
        yield from dataset.to_batches(
            columns=list(columns) if columns is not None else None,
            batch_size=BATCH_ROWS,
            batch_readahead=2,
            fragment_readahead=1,
            fragment_scan_options=ds.ParquetFragmentScanOptions(pre_buffer=False, buffer_size=PARQUET_BUFFER),
        )

    return Source(name, "parquet", dataset.schema, num_rows, batches)


def _open_jsonl(path: Path, name: str, fmt: str, encoding: str | None) -> Source:
    from pyarrow import json as pajson

    if encoding and encoding.lower().replace("-", "") not in ("utf8",):
        table = _table_from_records(_read_text(path, encoding).splitlines(), name, lines=True)
    elif path.stat().st_size > JSONL_STREAM_BYTES and not path.suffix.lower() == ".gz":
        return _stream_jsonl(path, name)
    else:
        try:
            table = pajson.read_json(pa.input_stream(str(path), compression="detect"))
        except pa.ArrowInvalid:
            # pyarrow does not say which line; parsing again in Python finds it (or reads what pyarrow would not)
            table = _table_from_records(_read_text(path, encoding).splitlines(), name, lines=True)
    return from_table(table, name, "jsonl")


def _stream_jsonl(path: Path, name: str) -> Source:
    """Large JSON Lines files stream in blocks; types come from the first block (pyarrow's rule), so a column
    that changes type later is an error that names the fix."""
    from pyarrow import json as pajson

    def reader():
        return pajson.open_json(str(path), read_options=pajson.ReadOptions(block_size=CSV_BLOCK_BYTES))

    schema = reader().schema

    def batches(columns):
        yield from reader()

    return Source(name, "jsonl", schema, None, batches)


def _open_json(path: Path, name: str, fmt: str, encoding: str | None) -> Source:
    text = _read_text(path, encoding)
    stripped = text.lstrip()
    if stripped.startswith("{"):
        return _open_jsonl(path, name, "jsonl", encoding)
    try:
        records = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(
            f"invalid JSON at line {err.lineno}, column {err.colno} ({err.msg})",
            "fix the file or export it again",
            where=name,
        ) from None
    if isinstance(records, dict):
        records = _records_from_columns(records, name)
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise InputError(
            "the JSON is not a list of objects (one object per row)",
            'give [{"col": value, ...}, ...] or JSON Lines',
            where=name,
        )
    return from_table(_table_from_records(records, name), name, "json")


def _records_from_columns(obj: dict, name: str) -> list:
    """`{"col": [values…], …}` (pandas' `orient="list"`) is accepted too."""
    if obj and all(isinstance(v, list) for v in obj.values()):
        lengths = {len(v) for v in obj.values()}
        if len(lengths) == 1:
            n = lengths.pop()
            return [{k: v[i] for k, v in obj.items()} for i in range(n)]
    return obj  # type: ignore[return-value]


def _table_from_records(records: list, name: str, lines: bool = False) -> pa.Table:
    if lines:
        parsed = []
        for i, line in enumerate(records, start=1):
            if line.strip():
                try:
                    parsed.append(json.loads(line))
                except json.JSONDecodeError as err:
                    raise InputError(
                        f"invalid JSON on line {i} ({err.msg})", "fix or remove that line", where=name
                    ) from None
        records = parsed
    try:
        return pa.Table.from_pylist(records)
    except (pa.ArrowException, TypeError, ValueError) as err:
        raise InputError(
            f"the rows do not form a table ({_first_line(err)})",
            "give every row the same fields with consistent types",
            where=name,
        ) from None


def _read_text(path: Path, encoding: str | None) -> str:
    raw = gzip.open(path, "rb").read() if path.suffix.lower() == ".gz" else path.read_bytes()
    try:
        return raw.decode(encoding or "utf-8")
    except LookupError:
        raise OptionError(
            f'unknown --encoding "{encoding}"', "use a Python codec name such as latin-1 or cp1252"
        ) from None
    except UnicodeDecodeError as err:
        raise InputError(
            f"not UTF-8 text (byte 0x{raw[err.start]:02x} at offset {err.start})",
            "pass the file's encoding, for example --encoding latin-1",
        ) from None


# -- error translation ----------------------------------------------------------------------------------------


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def _read_error(source: Source, err: BaseException) -> InputError:
    """Turn a reader's exception into a one-line message with a fix."""
    text = _first_line(err)
    low = text.lower()
    fmt = FORMAT_NAMES.get(source.format, source.format)
    if isinstance(err, UnicodeDecodeError) or "utf8" in low or "utf-8" in low:
        return InputError(
            "not UTF-8 text", "pass the file's encoding, for example --encoding latin-1", where=source.name
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
