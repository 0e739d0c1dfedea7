"""Table values → short display strings for hover and legend (the browser escapes them as text)."""

from __future__ import annotations

import math
import re

import numpy as np
import pyarrow as pa

from embproj.plan.columns import MAX_CATEGORIES

MAX_TEXT = 200
PRECISION = 6  # the significant digits a float shows ("%g"); render/packed.py sends floats at this precision
OTHER = "other"
MISSING = "(missing)"
ONE_COLOUR = "#1f77b4"  # every point's, on a map of no colour choice


def display_strings(col: pa.ChunkedArray) -> list[str]:
    return [_show(v) for v in col.to_pylist()]


def _show(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        return f"{v:.{PRECISION}g}"
    if isinstance(v, (bytes, bytearray)):
        return f"<{len(v):,} bytes>"
    if isinstance(v, (list, tuple)):
        inner = ", ".join(_show(x) for x in v[:8])
        return f"[{inner}{', …' if len(v) > 8 else ''}] ({len(v)})"
    text = str(v)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def categories(values: list[str]) -> tuple[list[str], list[str], dict[str, int]]:
    """(per-row category, factors in legend order, count per factor). Classes beyond the palette fold into
    "other"; the legend is ordered by count, ties by name, so it is stable."""
    counts: dict[str, int] = {}
    cats = [v if v != "" else MISSING for v in values]
    for v in cats:
        counts[v] = counts.get(v, 0) + 1
    factors, folded, into = fold(counts)
    return cats if len(factors) == len(counts) else [into[c] for c in cats], factors, folded


def fold(counts: dict[str, int]) -> tuple[list[str], dict[str, int], dict[str, str]]:
    """(factors in legend order, count per factor, each class's factor) of classes counted `counts`: every class
    its own factor when they fit the palette, else the most common ones and "other" for the rest."""
    ordered = sorted(counts, key=lambda c: (-counts[c], natural_order(c)))
    if len(ordered) <= MAX_CATEGORIES:
        return sorted(ordered, key=natural_order), counts, {c: c for c in counts}
    keep = ordered[: MAX_CATEGORIES - 1]
    name = OTHER if OTHER not in keep else f"{OTHER} (folded)"
    kept = set(keep)
    folded = {c: counts[c] for c in keep}
    folded[name] = sum(counts[c] for c in ordered[MAX_CATEGORIES - 1 :])
    return [*keep, name], folded, {c: c if c in kept else name for c in counts}


def code_dtype(count: int):
    """The smallest signed integer type that numbers `count` things (Bokeh sends it as binary)."""
    return np.int8 if count <= 127 else np.int16 if count <= 32_767 else np.int32


def category_codes(values: list[str]) -> tuple[np.ndarray, list[str], dict[str, int]]:
    """`categories` as integer codes: row i's class is factors[codes[i]]."""
    cats, factors, counts = categories(values)
    index = {f: k for k, f in enumerate(factors)}
    return (
        np.fromiter((index[c] for c in cats), dtype=code_dtype(len(factors)), count=len(cats)),
        factors,
        counts,
    )


def dictionary(values: list, min_rows: int = 8) -> tuple[np.ndarray, list] | None:
    """Codes and words when a column repeats itself (at most half as many words as rows), else None."""
    if len(values) < min_rows:
        return None
    index: dict = {}
    for v in values:
        if v not in index:
            index[v] = len(index)
            if 2 * len(index) > len(values):
                return None
    codes = np.fromiter((index[v] for v in values), dtype=code_dtype(len(index)), count=len(values))
    return codes, list(index)


def natural_order(text: str):
    """Sort "2" before "10" and "t2" before "t10"; plain numbers (also negative or decimal) before words."""
    try:
        return (0, float(text), ())
    except ValueError:
        parts = re.split(r"(\d+)", text)
        return (1, 0.0, tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p))


def palette(count: int) -> list[str]:
    """The categorical colours for `count` classes (Category10, Category20 past ten)."""
    from bokeh.palettes import Category10, Category20

    palette = Category10[10] if count <= 10 else Category20[20]
    return list(palette[: max(3, count)])
