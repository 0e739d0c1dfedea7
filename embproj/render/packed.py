"""Integer columns sent by their content: a row number 0..n-1 or any arithmetic progression as two numbers, a
sorted column as its differences, any other as its distance from its least value, each at the narrowest width
that holds it (Bokeh sends the array as gzip + base64 binary). The page rebuilds the values once, exactly
(templates/js/core.js: `ep.column`; tests/reportdata.py decodes them too).

The page's JSON says how, per column of "points" (`packed`):

- {"start": a, "step": s}: value i is a + i·s; the points' source carries no column;
- {"start": a, "delta": true}: the column holds the differences (the first 0): value i is a plus the sum of
  the first i + 1;
- {"start": a}: the column holds value - a.

Measured on 100,000 rows: an `id` 0..n-1 sent as text cost 8.9 B a point and the row numbers as int32 1.9; as
ranges both cost nothing.

Float hover columns travel as the digits the page shows (`pack_decimals`, below): 100,000 normal float64 values
cost 12.2 B a point as text, 4.7 as digits."""

from __future__ import annotations

import re

import numpy as np

from embproj.render.values import PRECISION

SAFE = 2**53 - 1  # the page's numbers are float64: every integer up to this is exact, and prints as its digits
SIGNED = (np.int8, np.int16, np.int32)
UNSIGNED = (np.uint8, np.uint16, np.uint32)


def pack_ints(values: np.ndarray) -> tuple[np.ndarray | None, dict] | None:
    """(the column the points' source carries, or None for a range; how the page rebuilds the values), or None
    when some value is beyond what the page's numbers hold exactly."""
    values = np.asarray(values)
    if values.dtype.kind not in "iu":
        return None
    if not values.size:
        return None, {"start": 0, "step": 0}
    low, high = int(values.min()), int(values.max())
    if max(-low, high, high - low) > SAFE:
        return None
    start = int(values[0])
    wide = values.astype(np.int64)  # every value within SAFE: fits
    steps = np.diff(wide)
    if steps.size == 0 or (steps == steps[0]).all():
        return None, {"start": start, "step": int(steps[0]) if steps.size else 0}
    offsets = _narrowest(wide - low, UNSIGNED)
    deltas = _narrowest(np.concatenate(([0], steps)), SIGNED)
    sorted_ = bool((steps >= 0).all() or (steps <= 0).all())
    if deltas.itemsize < offsets.itemsize or (sorted_ and deltas.itemsize == offsets.itemsize):
        return deltas, {"start": start, "delta": True}
    return offsets, {"start": low}


def _narrowest(values: np.ndarray, types: tuple) -> np.ndarray:
    """`values` in the first of `types` that holds them all, else float64 (exact: they are within SAFE)."""
    low, high = int(values.min()), int(values.max())
    for t in types:
        info = np.iinfo(t)
        if info.min <= low and high <= info.max:
            return values.astype(t)
    return values.astype(np.float64)


def costs_nothing(values: np.ndarray) -> bool:
    """Integers the page gets as two numbers (a range): leaving them out would save no byte."""
    found = pack_ints(values)
    return found is not None and found[0] is None


# Float columns sent as the digits the page shows (values.display_strings: six significant digits, "%g"): each
# value as its significand, trailing zeros dropped, signed (int32: at most 999,999), and the decimal exponent of
# its first digit (int8, or int16 past ±127); a significand of 0 says the text is SPECIALS[exponent]. The page
# writes the text back as "%g" does (templates/js/core.js: `ep.decimal`), so hover, search and the CSV show what
# they showed when the column travelled as text: 11 bytes a point for "0.123457" and its quotes and comma.
SPECIALS = ("0", "-0", "NaN", "inf", "-inf", "")
SIGNIFICANT = PRECISION  # the digits display_strings shows
_NUMBER = re.compile(r"(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?")


def pack_decimals(strings: list[str]) -> tuple[np.ndarray, np.ndarray] | None:
    """(significands, exponents) of display strings that are all a float's "%g" text, or None when some is not
    (then the column travels as text)."""
    special = {s: k for k, s in enumerate(SPECIALS)}
    significands = np.zeros(len(strings), np.int32)
    exponents = np.zeros(len(strings), np.int16)
    for i, text in enumerate(strings):
        if text in special:
            exponents[i] = special[text]
            continue
        found = _NUMBER.fullmatch(text)
        if found is None:
            return None
        sign, whole, fraction, power = found.groups()
        digits = whole + (fraction or "")
        lead = len(digits) - len(digits.lstrip("0"))  # zeros before the first digit
        kept = digits.strip("0")
        if not kept or len(kept) > SIGNIFICANT:
            return None
        exponent = len(whole) - 1 - lead + int(power or 0)
        if not -(2**15) < exponent < 2**15 or decimal_text(int(sign + kept), exponent) != text:
            return None
        significands[i], exponents[i] = int(sign + kept), exponent
    narrow = exponents.astype(np.int8)
    return significands, narrow if (narrow == exponents).all() else exponents


def decimal_text(significand: int, exponent: int) -> str:
    """The "%g" text (six significant digits) of significand × 10^(exponent - its digits + 1): what the page
    writes (js/core.js), checked against the text for every value before a column is sent this way."""
    if significand == 0:
        return SPECIALS[exponent]
    digits = str(abs(significand))
    if exponent < -4 or exponent >= SIGNIFICANT:
        text = digits[0] + ("." + digits[1:] if len(digits) > 1 else "") + f"e{exponent:+03d}"
    elif exponent >= 0:
        whole = digits.ljust(exponent + 1, "0")
        text = whole[: exponent + 1] + ("." + digits[exponent + 1 :] if len(digits) > exponent + 1 else "")
    else:
        text = "0." + "0" * (-exponent - 1) + digits
    return ("-" if significand < 0 else "") + text
