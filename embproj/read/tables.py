"""Tables of rows (part of stage 1, read): open a CSV, TSV, Parquet (a file, a folder of parts, a pattern), JSON or
JSON Lines file and stream it as Arrow record batches.

Format comes from the suffix (`.csv`, `.tsv`, `.parquet`, `.json`, `.jsonl`, each optionally `.gz`), then from the
content when the suffix says nothing; `--format` overrides both. A delimited file's delimiter, header row, decimal
comma and byte-order mark come from its first bytes (read/dialect.py), whatever its suffix. Nothing here loads a whole
file except JSON arrays, which have no streaming reader (see read/jsonfile.py for the bounds). Whatever the file, the
stages after this one see unique, non-empty column names and no dictionary (pandas Categorical) or view columns.
"""

from __future__ import annotations

import glob
import gzip
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pyarrow as pa

from embproj.errors import InputError, located
from embproj.options import FORMATS, say
from embproj.read.base import BATCH_ROWS, FORMAT_NAMES, Source, from_table, read_error, readable, shown_path, utf8_name
from embproj.read.dialect import SNIFF_BYTES, delimited, mark_encoding, sniff, text_of, wide_text
from embproj.read.jsonfile import first_line as _first_line
from embproj.read.jsonfile import read_json_array, read_json_lines
from embproj.read.tidy import rename_notes, unique_names
from embproj.text.words import shortened

GLOB_CHARS = re.compile(r"[*?[]")
CSV_BLOCK_BYTES = 4 << 20
# A CSV cell must fit in about two blocks; a longer one makes the reader start again with blocks 4 times larger,
# up to this (pyarrow holds a few blocks at once, so ~0.3 GB at the most).
MAX_CSV_BLOCK_BYTES = 64 << 20
PARQUET_BUFFER = 1 << 20
COMPRESSION = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd", ".lz4": "lz4"}

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


def open_file(path: Path, name: str, format: str | None, encoding: str | None, header: bool | None) -> Source:
    """A CSV, TSV, Parquet, JSON or JSON Lines file (the format from `format`, else the suffix, else the content)."""
    fmt = format or format_from_suffix(path) or located(name, _sniff, path, encoding)
    if fmt is None:
        raise InputError(
            f'unknown file type "{"".join(path.suffixes) or path.name}"',
            "use a .csv, .tsv, .parquet, .json or .jsonl file, or say which with "
            + say("format", "|".join(FORMATS), bare=True),
            where=name,
        )
    if path.stat().st_size == 0:
        raise InputError("the file is empty", "give a file with a header row and at least one row", where=name)
    located(name, _check_content_matches, path, fmt, name, encoding)
    try:
        if fmt in ("csv", "tsv"):
            return replace(_open_csv(path, name, fmt, encoding, header), inputs=(path,))
        opener = {"parquet": open_parquet, "json": _open_json, "jsonl": _open_jsonl}
        return replace(opener[fmt](path, name, fmt, encoding or mark_encoding(_first_bytes(path))), inputs=(path,))
    except InputError as err:
        raise err.at(name) from None
    except (pa.ArrowException, OSError, ValueError, UnicodeDecodeError) as err:
        raise read_error(Source(name, fmt, pa.schema([]), None, None), err) from None  # type: ignore[arg-type]


# -- formats --------------------------------------------------------------------------------------------------


def format_from_suffix(path: Path) -> str | None:
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


def _sniff(path: Path, encoding: str | None) -> str | None:
    """The format of a file whose suffix says nothing, from its content: Parquet's magic bytes, JSON's first
    character, and for a `.txt` file (what Excel's "Unicode Text" and many tools save) rows split evenly by a
    comma, tab, semicolon or pipe."""
    head = _first_bytes(path, SNIFF_BYTES)
    if head.startswith(b"PAR1"):
        return "parquet"
    text = text_of(head[:4096], encoding).lstrip()
    if text[:1] == "[":
        return "json"
    if text[:1] == "{":
        return "jsonl"
    if _plain_suffix(path) == ".txt" and "\x00" not in text:
        found = delimited(head, len(head) < SNIFF_BYTES, encoding)
        return None if found is None else "tsv" if found == "\t" else "csv"
    return None


def _plain_suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    return suffixes[-1] if suffixes else ""


def _check_content_matches(path: Path, fmt: str, name: str, encoding: str | None) -> None:
    head = _first_bytes(path)
    is_parquet = head.startswith(b"PAR1")
    if fmt == "parquet" and not is_parquet:
        raise InputError(
            "not a Parquet file (no PAR1 magic bytes)",
            f"check the file is complete, or give its real format with {say('format')}",
            where=name,
        )
    if fmt == "parquet":
        return
    wide = None if encoding or mark_encoding(head) else wide_text(head)
    if wide:
        raise InputError(
            f"this looks like {wide} text with no byte-order mark",
            f"give its encoding with {say('encoding', wide.lower())}",
            where=name,
        )
    if is_parquet or "\x00" in text_of(head, encoding):  # UTF-16 and UTF-32 text hold zero bytes, not characters
        what = "Parquet" if is_parquet else "binary"
        raise InputError(
            f"this {FORMAT_NAMES[fmt]} file holds {what} data",
            f"rename it to its real type or give it with {say('format')}",
            where=name,
        )


def _open_csv(path: Path, name: str, fmt: str, encoding: str | None, header: bool | None = None) -> Source:
    from pyarrow import csv

    head = _first_bytes(path, SNIFF_BYTES)
    if not head.strip():  # pyarrow would call it "empty", which a file of blank space is not
        raise InputError(
            "the file is empty once decompressed" if not head else "the file begins with only whitespace",
            "give a file with a header row and at least one row",
        )
    default = "\t" if fmt == "tsv" else ","
    dialect = sniff(head, len(head) < SNIFF_BYTES, default, encoding, header)
    parse = csv.ParseOptions(delimiter=dialect.delimiter)

    def reader(block: int, columns=None, types=None, names=None):
        read = csv.ReadOptions(
            block_size=block,
            encoding=dialect.encoding or "utf8",
            autogenerate_column_names=not dialect.header and names is None,
            column_names=names,
            skip_rows=1 if names and dialect.header else 0,  # the header, whose names repeat or are empty
        )
        convert = csv.ConvertOptions(
            include_columns=list(columns) if columns is not None else None,
            column_types=types,
            decimal_point="," if dialect.decimal_comma else ".",
        )
        stream = _csv_stream(path)
        return csv.open_csv(stream, read_options=read, parse_options=parse, convert_options=convert)

    block = CSV_BLOCK_BYTES
    while True:  # reads the first block: a bad header fails here, once; a first row too long grows the block
        try:
            schema = reader(block).schema
            break
        except pa.ArrowInvalid as err:
            block = _larger_block(block, err)
    binary = [f.name for f in schema if pa.types.is_binary(f.type)]
    if binary:  # pyarrow reads text that is not UTF-8 as binary
        raise InputError(
            f'not UTF-8 text (column "{shortened(binary[0])}")',
            f"pass the file's encoding, for example {say('encoding', 'latin-1')}",
        )
    if dialect.header:  # the reader's own names: its options name columns, and must be unique
        names = unique_names(schema.names)
        notes = rename_notes(schema.names, names)
    else:
        names = [f"column_{i + 1}" for i in range(len(schema))]
        notes = (_headerless_note(names),) if header is None else ()
    renamed = names if names != schema.names else None
    schema = pa.schema([f.with_name(n) for f, n in zip(schema, names, strict=True)])
    types = {f.name: f.type for f in schema}  # a reader started again must give the same types

    def batches(columns):
        yield from _growing(lambda size: reader(size, columns, types, renamed), block)

    about = dialect.about(default)
    return Source(name, fmt, schema, None, batches, notes, (f"{shown_path(name)}: {about}",) if about else ())


def _headerless_note(names: list[str]) -> str:
    last = f" … {names[-1]}" if len(names) > 2 else f", {names[-1]}" if len(names) == 2 else ""
    return (
        "no header row: the first row holds numbers where the rows below do, so it is read as data, and the "
        f"columns are named {names[0]}{last}; give the file a header row to name them"
    )


def _csv_stream(path: Path):
    opened = readable(path)
    if isinstance(opened, str):
        return pa.input_stream(opened, compression="detect")
    return pa.input_stream(opened, compression=COMPRESSION.get(path.suffix.lower()))


def _growing(open_reader, block: int) -> Iterator[pa.RecordBatch]:
    """The reader's batches; when a cell is longer than two blocks, the reader starts again with larger blocks
    and the rows already given are skipped."""
    given = 0
    while True:
        try:
            seen = 0
            for batch in open_reader(block):
                skip = min(max(given - seen, 0), batch.num_rows)
                seen += batch.num_rows
                if skip < batch.num_rows:
                    yield batch.slice(skip)
                    given = seen
            return
        except pa.ArrowInvalid as err:
            block = _larger_block(block, err)


def _larger_block(block: int, err: pa.ArrowInvalid) -> int:
    if "straddl" not in str(err):
        raise err
    if block >= MAX_CSV_BLOCK_BYTES:
        raise InputError(
            f"a cell is over {MAX_CSV_BLOCK_BYTES >> 20} MB, more than embproj reads of a CSV file at once",
            "convert the file to Parquet, or keep large cells (such as images) in files the table names",
        ) from None
    return min(block * 4, MAX_CSV_BLOCK_BYTES)


def open_parquet(path: Path, name: str, fmt: str, encoding: str | None) -> Source:
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(readable(path))

    def batches(columns):
        # pre_buffer (pyarrow's default) caches every column chunk read: ~the whole file in memory
        reader = pq.ParquetFile(readable(path), pre_buffer=False, buffer_size=PARQUET_BUFFER)
        yield from reader.iter_batches(batch_size=BATCH_ROWS, columns=list(columns) if columns is not None else None)

    return Source(name, "parquet", meta.schema_arrow, footer_rows(meta.metadata), batches, parts=(path,))


def footer_rows(meta) -> int | None:
    """The row count a Parquet footer states, or None (counted while reading) when its own numbers deny it: the
    row groups' rows add up to the file's, and every row puts at least one value (or null) in each column."""
    groups = [meta.row_group(i) for i in range(meta.num_row_groups)]
    if meta.num_rows < 0 or sum(g.num_rows for g in groups) != meta.num_rows:
        return None
    if any(g.num_columns and g.num_rows > g.column(0).num_values for g in groups):
        return None
    return meta.num_rows


def open_parquet_dir(path: Path, name: str, follow: bool) -> Source:
    # a folder named like a part is not one (Spark writes table.parquet/ folders of parts)
    files = sorted(p for p in path.rglob("*") if format_from_suffix(p) == "parquet" and not p.is_dir())
    _check_parts(files, path, name, follow)
    if not files:
        raise InputError(
            "the directory holds no .parquet files",
            "give a data file, a directory of Parquet part files, a W&B run or artifact folder, a TensorBoard log "
            "folder or a folder saved with datasets' save_to_disk",
            where=name,
        )
    return _open_parquet_files(files, name, shown_path(path))


def open_parquet_glob(pattern: str, follow: bool) -> Source:
    """Parquet part files named by a pattern (`parts/*.parquet`, `data/**/*.parquet`), read in name order: only
    inside the folder before its first wildcard."""
    files = sorted(Path(p) for p in glob.glob(pattern, recursive=True) if not Path(p).is_dir())
    if not files:
        raise InputError("no file matches the pattern", "check the path and the pattern", where=pattern)
    others = [f for f in files if format_from_suffix(f) != "parquet"]
    if others:
        raise InputError(
            f'"{shown_path(others[0])}" is not a .parquet file',
            "a pattern reads Parquet part files only: narrow it, e.g. to *.parquet",
            where=pattern,
        )
    _check_parts(files, _glob_folder(pattern), pattern, follow)
    return _open_parquet_files(files, pattern, pattern)


def _check_parts(files: list[Path], folder: Path, where: str, follow: bool) -> None:
    """Each part a regular file inside `folder` (a symlink that leads out is refused unless `follow`)."""
    from embproj.read.paths import Root, listed_file

    root = Root.of(folder, follow)
    for f in files:
        shown = shown_path(f.relative_to(folder))
        listed_file(f, folder, root, named=f'the part "{shown}"', inside=shown_path(folder), where=where)


def _glob_folder(pattern: str) -> Path:
    """The folder a pattern searches: its names up to the first with a wildcard."""
    names = Path(pattern).parts
    fixed = next((i for i, n in enumerate(names) if GLOB_CHARS.search(n)), len(names))
    return Path(*names[:fixed]) if fixed else Path(".")


def _open_parquet_files(files: list[Path], name: str, where: str) -> Source:
    import pyarrow.dataset as ds

    for f in files:
        if not utf8_name(f):  # pyarrow's datasets take UTF-8 paths only
            raise InputError(f'the file name "{shown_path(f)}" is not UTF-8', "rename it, then run again", where=where)
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

    return Source(name, "parquet", dataset.schema, num_rows, batches, parts=tuple(files), inputs=tuple(files))


def _open_jsonl(path: Path, name: str, fmt: str, encoding: str | None) -> Source:
    found = read_json_lines(path, encoding)
    if isinstance(found, pa.Table):
        return from_table(found, name, "jsonl")
    schema, stream = found
    return Source(name, "jsonl", schema, None, lambda columns: stream())


def _open_json(path: Path, name: str, fmt: str, encoding: str | None) -> Source:
    table = read_json_array(path, encoding)
    if table is None:  # it starts with "{": JSON Lines
        return _open_jsonl(path, name, "jsonl", encoding)
    return from_table(table, name, "json")
