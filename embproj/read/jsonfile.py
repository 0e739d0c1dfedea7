"""JSON and JSON Lines, read within bounds whatever a file holds (part of stage 1, with read/source.py).

JSON arrays have no streaming reader, so they are parsed whole, and only up to MAX_JSON_BYTES. JSON Lines are read
in pieces of whole lines, so memory stays bounded however large the file is, compressed or not, and a line of any
length up to MAX_LINE_BYTES is read. Each line's nesting is checked before pyarrow parses it: its parser recurses,
and a line nested ~10,000 deep crashes the process instead of raising.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Generator
from pathlib import Path

import numpy as np
import pyarrow as pa

from embproj.errors import InputError, OptionError
from embproj.options import say

MB = 1 << 20
# Python's json makes objects ~11 times the size of their text (34 MB of 64-dim vectors peaked at 390 MB), so
# 64 MB of JSON array is ~0.7 GB at the peak and ~5 s of parsing; larger tables stream as JSON Lines or Parquet.
MAX_JSON_BYTES = 64 * MB
JSONL_WHOLE_BYTES = 64 * MB  # JSON Lines up to this size are parsed in one go: a column's type may vary by row
MAX_LINE_BYTES = 64 * MB  # one row of JSON Lines, at most: a piece holds at least one whole line
PIECE_BYTES = 4 * MB  # parsed at a time when streaming; the column types come from the first piece
MAX_DEPTH = 1_000  # nesting levels; Python's json stops near here too, pyarrow's parser crashes near 10,000
READ_BYTES = 1 * MB
WINDOW = 64 << 10  # bytes whose brackets are counted at a time: few enough that most windows need no more
TOO_LARGE = "convert it to JSON Lines (one object per line, for example jq -c '.[]' in.json > out.jsonl) or Parquet"
TOO_DEEP = "flatten it: one object per row, holding numbers, text or lists of numbers"
WHITESPACE_ONLY = "check that this is the file you meant"


# -- reading bytes, within bounds -------------------------------------------------------------------------------


def open_binary(path: Path):
    """The file's bytes, decompressed when it ends in .gz (a Python file: any file name works)."""
    try:
        return gzip.open(path, "rb") if path.suffix.lower() == ".gz" else open(path, "rb")  # noqa: SIM115
    except OSError as err:
        raise InputError(f"cannot read the file ({err.strerror or err})", "check that it is readable") from None


def read_some(f, n: int) -> bytes:
    try:
        return f.read(n)
    except (OSError, EOFError, zlib.error) as err:
        raise InputError(f"cannot read the file ({err})", "check that it is complete and not corrupt") from None


def read_text(path: Path, encoding: str | None, limit: int = MAX_JSON_BYTES, fix: str = TOO_LARGE) -> str:
    """The whole file as text, when it is at most `limit` bytes (once decompressed)."""
    with open_binary(path) as f:
        raw = read_some(f, limit + 1)
    if len(raw) > limit:
        unpacked = " once decompressed" if path.suffix.lower() == ".gz" else ""
        raise InputError(f"the file is over {limit // MB} MB{unpacked}, too large to read whole", fix)
    try:
        return raw.decode(encoding or "utf-8-sig")  # a UTF-8 byte-order mark is no character of the text
    except LookupError:
        raise OptionError(
            f"unknown {say('encoding', encoding, quote=True)}", "use a Python codec name such as latin-1 or cp1252"
        ) from None
    except UnicodeDecodeError as err:
        raise InputError(
            f"not UTF-8 text (byte 0x{raw[err.start]:02x} at offset {err.start})",
            f"pass the file's encoding, for example {say('encoding', 'latin-1')}",
        ) from None


def first_byte(path: Path) -> bytes:
    """The first byte that is not whitespace (b"" for none), looked for within MAX_JSON_BYTES."""
    with open_binary(path) as f:
        for _ in range(MAX_JSON_BYTES // READ_BYTES):
            chunk = read_some(f, READ_BYTES)
            if not chunk.strip():
                if not chunk:
                    return b""
                continue
            return chunk.lstrip()[:1]
    raise InputError(f"the first {MAX_JSON_BYTES // MB} MB are only whitespace", WHITESPACE_ONLY)


# -- JSON arrays ----------------------------------------------------------------------------------------------


def read_json_array(path: Path, encoding: str | None):
    """A JSON array of objects (or pandas' {"col": [values]}) as a table; None when the file is JSON Lines."""
    if first_byte(path) == b"{":
        return None
    records = loads(read_text(path, encoding))
    if isinstance(records, dict):
        records = _records_from_columns(records)
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise InputError(
            "the JSON is not a list of objects (one object per row)", 'give [{"col": value, ...}, ...] or JSON Lines'
        )
    return table_from_records(records)


def loads(text: str, line: int | None = None):
    """json.loads, with integers beyond 64 bits read as floats and every failure an InputError."""
    try:
        return json.loads(text, parse_int=_int)
    except json.JSONDecodeError as err:
        if line is not None:
            raise InputError(f"invalid JSON on line {line:,} ({err.msg})", "fix or remove that line") from None
        raise InputError(
            f"invalid JSON at line {err.lineno:,}, column {err.colno:,} ({err.msg})", "fix the file or export it again"
        ) from None
    except RecursionError:
        where = f"line {line:,}" if line is not None else "the JSON"
        raise InputError(f"{where} is nested more than {MAX_DEPTH:,} levels deep", TOO_DEEP) from None


def _int(text: str) -> int | float:
    """Integers Arrow cannot hold in 64 bits become floats (ids that large are text in disguise: still shown)."""
    if len(text) < 19:
        return int(text)
    value = int(text) if len(text) < 4_000 else None  # Python refuses to parse longer digit strings
    return value if value is not None and -(2**63) <= value < 2**63 else float(text)


def _records_from_columns(obj: dict):
    """`{"col": [values…], …}` (pandas' `orient="list"`) is accepted too."""
    if obj and all(isinstance(v, list) for v in obj.values()):
        lengths = {len(v) for v in obj.values()}
        if len(lengths) == 1:
            n = lengths.pop()
            return [{k: v[i] for k, v in obj.items()} for i in range(n)]
    return obj


def table_from_records(records: list) -> pa.Table:
    wrong = next((i for i, r in enumerate(records) if not isinstance(r, dict)), None)
    if wrong is not None:
        raise InputError(f"row {wrong + 1:,} is {_kind(records[wrong])}, not an object", "give one object a row")
    try:
        return pa.Table.from_pylist(records)
    except (pa.ArrowException, TypeError, ValueError, OverflowError) as err:
        raise InputError(
            f"the rows do not form a table ({first_line(err)})",
            "give every row the same fields with consistent types",
        ) from None


def table_from_lines(lines: list[str], first: int = 1) -> pa.Table:
    """JSON Lines parsed in Python: slower than pyarrow, but it names the line that is wrong."""
    records = []
    for i, text in enumerate(lines):
        if text.strip():
            record = loads(text, first + i)
            if not isinstance(record, dict):
                raise InputError(f"line {first + i:,} is {_kind(record)}, not an object", "give one JSON object a line")
            records.append(record)
    return table_from_records(records)


def _kind(value) -> str:
    """A JSON value's kind, as an error names it."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return {int: "a number", float: "a number", str: "a string", list: "an array"}.get(type(value), "not an object")


def first_line(err: BaseException, limit: int = 300) -> str:
    """An exception's first line, cut short: readers quote whole cells, and a cell may be megabytes."""
    text = str(err).strip().splitlines()
    line = text[0] if text else type(err).__name__
    return line if len(line) <= limit else line[:limit] + "…"


# -- JSON Lines ----------------------------------------------------------------------------------------------


def read_json_lines(path: Path, encoding: str | None):
    """The table, when the file holds at most JSONL_WHOLE_BYTES; else (schema, batches) to stream it."""
    if encoding and encoding.lower().replace("-", "").replace("_", "") != "utf8":
        return table_from_lines(read_text(path, encoding).splitlines())
    pieces = _pieces(path, JSONL_WHOLE_BYTES)
    first, line = next(pieces, (b"", 1))
    if next(pieces, None) is None:
        return _parse(first, line) if first.strip() else pa.table({})
    pieces.close()
    if not first.strip():
        raise InputError(f"the first {JSONL_WHOLE_BYTES // MB} MB hold no rows, only whitespace", WHITESPACE_ONLY)
    schema = _parse(*next((p, at) for p, at in _pieces(path, PIECE_BYTES) if p.strip())).schema

    def batches():
        for piece, at in _pieces(path, PIECE_BYTES):
            if piece.strip():
                yield from _parse(piece, at, schema).to_batches()

    return schema, batches


def _pieces(path: Path, size: int) -> Generator[tuple[bytes, int], None, None]:
    """Whole lines, `size` bytes or more a piece (but the last), each checked; with its first line's number."""
    buf, line = bytearray(), 1
    with open_binary(path) as f:
        while True:
            chunk = read_some(f, READ_BYTES)
            buf += chunk
            if chunk and len(buf) < size:
                continue
            cut = buf.rfind(b"\n") + 1 if chunk else len(buf)
            if len(buf) - cut > MAX_LINE_BYTES:
                raise _long_line(buf, cut, line + buf.count(b"\n", 0, cut))
            if cut:
                piece = bytes(buf[:cut])
                del buf[:cut]
                check_nesting(piece, line)
                yield piece, line
                line += piece.count(b"\n")
            if not chunk:
                return


def _long_line(buf: bytearray, start: int, line: int) -> InputError:
    if not bytes(buf[start:]).strip():
        return InputError(f"line {line:,} is over {MAX_LINE_BYTES // MB} MB of whitespace", WHITESPACE_ONLY)
    return InputError(
        f"line {line:,} is over {MAX_LINE_BYTES // MB} MB long, more than one row of JSON Lines may hold",
        "convert the file to Parquet, or keep large cells (such as images) in files the table names",
    )


def _parse(piece: bytes, line: int, schema: pa.Schema | None = None) -> pa.Table:
    """A piece of whole lines as a table; with `schema` (streaming) every piece must fit the first one's."""
    from pyarrow import json as pajson

    parse = pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error") if schema else None
    for block in (1 * MB, len(piece) + 1):  # pyarrow's 1 MB blocks parse in parallel; a longer line needs one
        try:
            return pajson.read_json(
                pa.BufferReader(piece), read_options=pajson.ReadOptions(block_size=block), parse_options=parse
            )
        except pa.ArrowInvalid as err:
            if "straddl" not in str(err) or block > len(piece):
                failed = err
                break
    if schema is None:  # read whole: Python finds the line that is wrong, or reads what pyarrow would not
        return table_from_lines(piece.decode("utf-8", "replace").splitlines(), line)
    raise _piece_error(piece, line, schema, failed)


def _piece_error(piece: bytes, line: int, schema: pa.Schema, err: pa.ArrowInvalid) -> InputError:
    known = set(schema.names)
    for i, text in enumerate(piece.decode("utf-8", "replace").splitlines()):
        row = loads(text, line + i) if text.strip() else {}  # an invalid line raises with its number
        extra = [k for k in row if k not in known] if isinstance(row, dict) else []
        if extra:
            return InputError(
                f'line {line + i:,} has a field "{extra[0]}" that the first rows do not have',
                "give every row the same fields, or convert the file to Parquet",
            )
    return InputError(
        f"a column changes type part-way through the file, after line {line:,} ({first_line(err)})",
        "make each column hold one type, or convert the file to Parquet",
    )


# -- nesting depth ------------------------------------------------------------------------------------------


def check_nesting(piece: bytes, first: int) -> None:
    """Refuse a piece with a line nested deeper than MAX_DEPTH. A line with no more opening brackets than that
    cannot be, so only the few lines with more are measured exactly."""
    for start, end in _bracket_heavy_lines(piece):
        if _depth(piece, start, end) > MAX_DEPTH:
            line = first + piece.count(b"\n", 0, start)
            raise InputError(f"line {line:,} is nested more than {MAX_DEPTH:,} levels deep", TOO_DEEP)


def _bracket_heavy_lines(piece: bytes) -> list[tuple[int, int]]:
    """(start, end) of each line holding more than MAX_DEPTH opening brackets."""
    heavy, start, opens = [], 0, 0  # the current line: where it starts, its opening brackets so far
    for w in range(0, len(piece), WINDOW):
        e = min(w + WINDOW, len(piece))
        count = piece.count(b"[", w, e) + piece.count(b"{", w, e)
        last = piece.rfind(b"\n", w, e)
        if opens + count <= MAX_DEPTH:  # no line touching this window can be heavy
            if last >= 0:
                start, opens = last + 1, piece.count(b"[", last + 1, e) + piece.count(b"{", last + 1, e)
            else:
                opens += count
            continue
        b = np.frombuffer(piece, np.uint8, e - w, w)
        seen = np.cumsum((b == 91) | (b == 123), dtype=np.int64)
        ends = np.flatnonzero(b == 10)
        per_line = np.diff(seen[ends], prepend=0)
        if len(per_line):
            per_line[0] += opens
        for k in np.flatnonzero(per_line > MAX_DEPTH).tolist():
            heavy.append((start if k == 0 else w + int(ends[k - 1]) + 1, w + int(ends[k])))
        if len(ends):
            start, opens = w + int(ends[-1]) + 1, int(seen[-1] - seen[ends[-1]])
        else:
            opens += int(seen[-1])
    if opens > MAX_DEPTH:
        heavy.append((start, len(piece)))
    return heavy


def _depth(piece: bytes, start: int, end: int) -> int:
    """The deepest nesting of brackets outside strings in piece[start:end] (one line), 1 MB at a time."""
    deepest, depth, inside, slashes = 0, 0, 0, 0  # carried across blocks: a string or an escape may straddle
    for w in range(start, end, READ_BYTES):
        b = np.frombuffer(piece, np.uint8, min(READ_BYTES, end - w), w)
        at = np.arange(len(b))
        plain = np.maximum.accumulate(np.where(b == 92, -1, at))  # the last byte at or before that is not "\"
        quotes = np.flatnonzero(b == 34)
        before = np.maximum(quotes - 1, 0)
        run = np.where(quotes > 0, quotes - 1 - plain[before], 0)  # backslashes just before each quote
        run = run + np.where((quotes == 0) | (plain[before] < 0), slashes, 0)
        toggles = np.zeros(len(b), np.int64)
        toggles[quotes[run % 2 == 0]] = 1  # an unescaped quote opens or closes a string
        in_string = (np.cumsum(toggles) + inside) % 2 == 1
        step = ((b == 91) | (b == 123)).astype(np.int64) - ((b == 93) | (b == 125))
        levels = depth + np.cumsum(np.where(in_string, 0, step))
        deepest = max(deepest, int(levels.max()))
        depth, inside = int(levels[-1]), int(in_string[-1])
        slashes = len(b) - 1 - int(plain[-1]) + (slashes if plain[-1] < 0 else 0)
    return deepest
