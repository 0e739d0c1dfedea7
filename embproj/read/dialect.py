"""How a delimited text file was saved, from its first bytes (part of stage 1, with read/source.py): its encoding when a
byte-order mark says it, its delimiter (comma, tab, semicolon or pipe), whether its first row is a header, and
whether its numbers are written with a decimal comma.

The suffix only hints: statsmodels ships `.csv` files that are tab- or `;`-separated, European Excel writes `;`
with decimal commas (`1,5`), R and NumPy write files without a header row, and Excel's "Unicode Text" is UTF-16
with tabs. What a user expects, and what this reads:

- delimiter: the one that splits every row of the sample into the same number of fields (two or more); of
  several, the suffix's own, then `csv.Sniffer`'s choice; a comma last, as a `;`- or tab-separated row of decimal
  commas splits evenly on its commas too (and Sniffer, which prefers the comma, calls such a file comma-separated);
- header: the first row is data when it holds numbers where the rows below hold numbers, as `csv.Sniffer.has_header`
  compares the first row's types with the rest's (its vote on text columns by their lengths is left out: it calls
  the header of an all-text table data); a first row of numbers in equal steps (0, 1, 2 …, years, wavelengths) is
  a header of numbered columns;
- decimal comma: in a file not separated by commas, numbers such as `1,5` are read as 1.5 when the sample holds
  such numbers and none with a decimal point; thousands separators (`1.234,5`) are not read, and stay text. In a
  comma-separated file a comma always separates.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
from dataclasses import dataclass

from embproj.errors import OptionError
from embproj.options import say

SNIFF_BYTES = 64 << 10  # the sample: the first rows of any table, a few milliseconds to split
SNIFFER_CHARS = 8 << 10  # what csv.Sniffer reads: its cost grows faster than the text (0.1 s for 64 KB of quotes)
HEADER_ROWS = 50  # rows below the first whose types it is compared with
DELIMITERS = (",", "\t", ";", "|")
NAMES = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}
BOMS = (  # longest first: UTF-32 LE's mark starts with UTF-16 LE's
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)  # a UTF-8 mark needs no name: every reader here skips it
# pyarrow's default null values, and Python's float words, which say nothing of a column's type
MISSING = {"", "#n/a", "#n/a n/a", "#na", "-1.#ind", "-1.#qnan", "-nan", "1.#ind", "1.#qnan", "n/a", "na", "null",
           "nan", "none", "inf", "-inf", "infinity", "-infinity"}  # fmt: skip
POINT_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
COMMA_NUMBER = re.compile(r"[+-]?\d*,\d+([eE][+-]?\d+)?")


@dataclass(frozen=True)
class Dialect:
    delimiter: str
    header: bool
    decimal_comma: bool = False
    encoding: str | None = None  # None: UTF-8 (with or without its byte-order mark)
    from_mark: bool = False  # the encoding is the byte-order mark's, not --encoding's

    def about(self, default: str) -> str | None:
        """What was read otherwise than the suffix says, for the run's first lines; None when nothing was."""
        kinds = [f"{self.encoding.upper()} text"] if self.encoding and self.from_mark else []
        if self.delimiter != default:
            kinds.append(f"{NAMES[self.delimiter]}-separated")
        if not kinds and not self.decimal_comma:
            return None
        said = f"read as {', '.join(kinds)}" if kinds else "read"
        if self.decimal_comma:
            said += " with decimal commas (1,5 is 1.5)"
        return f"{said}, as its content says"


def mark_encoding(head: bytes) -> str | None:
    """The encoding a byte-order mark at the start of `head` names (UTF-16 or UTF-32), else None."""
    return next((name for mark, name in BOMS if head.startswith(mark)), None)


def text_of(head: bytes, encoding: str | None) -> str:
    """The first bytes as text, in `encoding` (or the byte-order mark's, else UTF-8); a character cut at the end,
    or bytes of another encoding, become U+FFFD."""
    try:
        return head.decode(encoding or mark_encoding(head) or "utf-8-sig", errors="replace")
    except LookupError:
        raise OptionError(
            f"unknown {say('encoding', encoding, quote=True)}", "use a Python codec name such as latin-1 or cp1252"
        ) from None


def sniff(
    head: bytes, complete: bool, default: str, encoding: str | None = None, header: bool | None = None
) -> Dialect:
    """The dialect of a file whose first bytes are `head` (all of it when `complete`). `default`: the suffix's
    delimiter; `encoding`: --encoding; `header`: known beforehand (True, False) or to detect (None)."""
    mark = None if encoding else mark_encoding(head)
    sample = _whole_lines(text_of(head, encoding), complete)
    delimiter = _delimiter(sample, complete, default) or default
    split = _split(sample, delimiter, complete) or []
    comma = delimiter != "," and _decimal_comma(split)
    if header is None:
        header = _has_header(split, comma)
    return Dialect(delimiter, header, comma, encoding or mark, mark is not None)


def delimited(head: bytes, complete: bool, encoding: str | None = None) -> str | None:
    """The delimiter that splits the rows of a file whose first bytes are `head` evenly, or None when none does
    (text that is not a table)."""
    return _delimiter(_whole_lines(text_of(head, encoding), complete), complete, None)


def wide_text(head: bytes) -> str | None:
    """The name of UTF-16-LE or UTF-16-BE text without a byte-order mark when `head` reads as such (every other byte
    zero, as in Latin text), else None."""
    even, odd = head[0::2], head[1::2]
    if len(odd) < 2:
        return None
    if odd.count(0) == len(odd) and 0 not in even:
        return "UTF-16-LE"
    if even.count(0) == len(even) and 0 not in odd:
        return "UTF-16-BE"
    return None


def _whole_lines(text: str, complete: bool) -> str:
    """The sample without the line cut at its end (unless that is its only line)."""
    if complete or "\n" not in text:
        return text
    return text[: text.rindex("\n") + 1]


def _split(text: str, delimiter: str, complete: bool) -> list[list[str]] | None:
    """The sample's rows split as a CSV reader splits them (quotes keep a delimiter or a line break in a cell),
    blank rows left out, and the last row too when the sample ends inside it (the file goes on, perhaps inside a
    quoted cell); None when the sample is not CSV (a NUL character)."""
    try:
        rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        found = [row for row in rows if any(cell.strip() for cell in row)]
    except csv.Error:
        return None
    return found[:-1] if not complete and len(found) > 1 else found


def _delimiter(text: str, complete: bool, default: str | None) -> str | None:
    """The delimiter that splits every row into as many fields (two or more): of several, not the comma, then
    `default` (the suffix's), then csv.Sniffer's choice; None when none does."""
    even = []
    for d in DELIMITERS:
        rows = _split(text, d, complete)
        if rows and len(rows[0]) > 1 and all(len(row) == len(rows[0]) for row in rows):
            even.append(d)
    if not even:  # one column, or rows of uneven lengths: the reader says which row, with the suffix's delimiter
        return None
    if len(even) > 1 and "," in even:
        even.remove(",")
    if default in even:
        return default
    if len(even) == 1:
        return even[0]
    sample = _whole_lines(text[:SNIFFER_CHARS], len(text) <= SNIFFER_CHARS)
    try:
        found = csv.Sniffer().sniff(sample, delimiters="".join(even)).delimiter
    except csv.Error:  # "Could not determine delimiter"
        found = even[0]
    return found if found in even else even[0]


def _decimal_comma(rows: list[list[str]]) -> bool:
    cells = [cell.strip() for row in rows for cell in row]
    return any(COMMA_NUMBER.fullmatch(c) for c in cells) and not any(
        "." in c and POINT_NUMBER.fullmatch(c) for c in cells
    )


def _kind(cell: str, decimal_comma: bool) -> str:
    """What a cell says of its column's type: "number", "missing" (no answer) or "text"."""
    text = cell.strip()
    if text.lower() in MISSING:
        return "missing"
    number = COMMA_NUMBER if decimal_comma and "," in text else POINT_NUMBER
    return "number" if number.fullmatch(text) else "text"


def _has_header(rows: list[list[str]], decimal_comma: bool) -> bool:
    """False when the first row holds numbers (or nothing) in the columns whose other values are all numbers, at
    least one number, and not numbers in equal steps (which name numbered columns); True when a name is there or it
    cannot tell."""
    if len(rows) < 2:
        return True
    first, rest = rows[0], [row for row in rows[1 : HEADER_ROWS + 1] if len(row) == len(rows[0])]
    numeric = []
    for j in range(len(first)):
        kinds = {_kind(row[j], decimal_comma) for row in rest} - {"missing"}
        if kinds == {"number"}:
            numeric.append(j)
    if not numeric:
        return True
    firsts = [_kind(first[j], decimal_comma) for j in numeric]
    if "text" in firsts or "number" not in firsts:
        return True
    return _numbered([first[j] for j, kind in zip(numeric, firsts, strict=True) if kind == "number"])


def _numbered(cells: list[str]) -> bool:
    """A header of numbered columns: numbers in equal steps, three or more (0, 1, 2 … as pandas names a NumPy
    array's columns; years; a spectrum's wavelengths 400, 410, 420 …), which a row of data hardly ever is."""
    if len(cells) < 3:
        return False
    values = [float(c.strip().replace(",", ".")) for c in cells]
    step = values[1] - values[0]
    return step != 0 and all(math.isclose(b - a, step, rel_tol=1e-6) for a, b in zip(values, values[1:], strict=False))
