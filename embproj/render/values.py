"""Table values → short display strings for hover and legend (the browser escapes them as text)."""

from __future__ import annotations

import math

import pyarrow as pa

MAX_TEXT = 200
MAX_CATEGORIES = 20
OTHER = "other"
MISSING = "(missing)"


def display_strings(col: pa.ChunkedArray) -> list[str]:
    return [_show(v) for v in col.to_pylist()]


def _show(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        return f"{v:.6g}"
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
    ordered = sorted(counts, key=lambda c: (-counts[c], _natural(c)))
    if len(ordered) <= MAX_CATEGORIES:
        return cats, sorted(ordered, key=_natural), counts
    keep = ordered[: MAX_CATEGORIES - 1]
    name = OTHER if OTHER not in keep else f"{OTHER} (folded)"
    kept = set(keep)
    folded = {c: counts[c] for c in keep}
    folded[name] = sum(counts[c] for c in ordered[MAX_CATEGORIES - 1 :])
    return [c if c in kept else name for c in cats], [*keep, name], folded


def _natural(text: str):
    """Sort "2" before "10", numbers before words."""
    try:
        return (0, float(text), "")
    except ValueError:
        return (1, 0.0, text)
