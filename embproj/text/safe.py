"""Text from the data, made safe where it leaves embproj: CSV cells a spreadsheet would run as a formula, and
characters that would steer a terminal. The formula rule is declared here once; the page's CSV export gets it
through the page's data (templates/js/selection.js)."""

from __future__ import annotations

import unicodedata

# A cell whose first character, after any leading whitespace, is one of these is a formula to a spreadsheet
# (the full-width forms too: some spreadsheets fold them to ASCII). Plain numbers such as -1.5 stay as they are.
FORMULA_TRIGGERS = "=+-@\uff1d\uff0b\uff0d\uff20"
LEADING_SPACE = " \t\r\n"
NUMBER = r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?"  # JavaScript and RE2 both read this


def formula_pattern() -> str:
    """The regular expression (RE2 and JavaScript alike) of a cell that needs the guard: a formula trigger after
    optional whitespace, or a tab, CR or LF first."""
    triggers = "".join("\\" + c if c in "-\\]^" else c for c in FORMULA_TRIGGERS)
    return f"^[ \\t\\r\\n]*[{triggers}]|^[\\t\\r\\n]"


def csv_cell(text: str) -> str:
    """`text` with a leading apostrophe when a spreadsheet would run it as a formula."""
    import re

    if re.match(formula_pattern(), text) and not re.fullmatch(NUMBER, text):
        return "'" + text
    return text


def guard_column(values):
    """An Arrow string column with `csv_cell` applied to every value (vectorised)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if getattr(pa.types, "is_string_view", lambda t: False)(values.type):  # pyarrow 16+: no regex kernel for it
        values = values.cast(pa.large_string())
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return values
    risky = pc.and_(
        pc.match_substring_regex(values, formula_pattern()),
        pc.invert(pc.match_substring_regex(values, f"^{NUMBER}$")),
    )
    # the apostrophe and the empty end of the same type as the values: the join has no kernel that mixes string
    # and large_string (pandas 3's strings reach Arrow as large_string)
    quote, end = pa.scalar("'", values.type), pa.scalar("", values.type)
    return pc.if_else(pc.fill_null(risky, False), pc.binary_join_element_wise(quote, values, end), values)


def terminal(text: str) -> str:
    """`text` with control and format characters shown as escapes (`\\x1b`, `\\u202e`, `\\x0a`), so that a value
    from the data cannot move the cursor, retitle the terminal or fake a line."""
    return "".join(_escape(c) if _is_control(c) else c for c in text)


def _is_control(c: str) -> bool:
    return unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp")


def _escape(c: str) -> str:
    code = ord(c)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by Python's surrogateescape (file names)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
