"""Keep the report within --max-html-mb: first smaller thumbnails (64 → 48 → 32 px), then images for a seeded
subset of the points only, and say so in a warning.

The page is rendered and measured, not guessed: each image adds exactly its data URI's length to the page, so
after one render the room left for images is known; a few sample cells re-encoded at each smaller size tell
which size fits; the chosen images are then encoded for real and trimmed to the byte. A last render checks the
whole file. When the page is over the limit even without images, it is written anyway (a report beats none)
and the warning says by how much; lower --max-points to make it smaller.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import numpy as np

from .errors import OptionError

MB = 1_000_000  # --max-html-mb counts decimal megabytes, as file browsers show sizes
STEPS = (256, 192, 128, 96, 64, 48, 32)
SMALLEST = 32  # below this a hover image says too little to be worth its bytes; fewer images instead
MARGIN = 4_096  # bytes for header text (image counts, the warning) that change with the images shown
SAMPLE = 200  # cells re-encoded to estimate the bytes at a smaller size
SMALLER = "lower --max-points to make it smaller"

Render = Callable[[list | None, dict], str]  # (image data URIs or None, summary additions) → HTML


@dataclass(frozen=True)
class Fitted:
    html: str
    facts: dict  # summary additions: image_bytes, images (shown, points, size, bytes, text), warnings
    warning: str | None


def check_limit(max_html_mb: float, thumb_size: int) -> None:
    if not max_html_mb > 0:
        raise OptionError(f"--max-html-mb {max_html_mb:g} is out of range", "give a size in MB above 0, for example 50")
    if not 8 <= thumb_size <= 1024:
        raise OptionError(f"--thumb-size {thumb_size} is out of range", "give a whole number of pixels from 8 to 1024")


def fit_report(render: Render, images, max_html_mb: float, seed: int, column=None, warnings=()) -> Fitted:
    """Render the page within the limit. `images` is None (no image column) or an images.EncodedImages, as the
    pipeline encoded them at --thumb-size; `warnings` are the run's so far (the budget's own is added)."""
    limit = int(max_html_mb * MB)
    uris = None if images is None else list(images.uris)
    size = images.size if images is not None else 0
    facts = image_facts(uris, size, column)
    html = render(uris, facts)
    total = _bytes(html)
    if total <= limit:
        return Fitted(html, facts, None)
    shown = [i for i, u in enumerate(uris or ()) if u]
    if not shown:
        note = f"the report is {total / MB:.1f} MB, over --max-html-mb {max_html_mb:g}; {SMALLER}"
        return _with_note(render, uris, size, column, note, warnings)
    uris = cast(list, uris)  # some are shown, so there are images
    base = total - sum(len(uris[i]) for i in shown)
    room = limit - base - MARGIN
    order = _seeded_order(shown, seed)
    px, encoded = _choose(images, uris, order, room) if room > 0 else (size, {})
    for _ in range(4):  # the header text may grow a little with the warning: trim again until the file fits
        chosen = _prefix(encoded, order, room)
        note = _note(size, px, len(chosen), len(shown), max_html_mb, base)
        fitted = _with_note(render, [chosen.get(i) for i in range(len(uris))], px, column, note, warnings)
        over = _bytes(fitted.html) - limit
        if over <= 0 or not chosen:
            return fitted
        room -= over + MARGIN
    return _with_note(render, [None] * len(uris), size, column, _note(size, px, 0, 0, max_html_mb, base), warnings)


def image_facts(uris: list | None, size: int, column: str | None) -> dict:
    if uris is None:
        return {"image_bytes": 0, "images": None}
    shown = [u for u in uris if u]
    spent = sum(len(u) for u in shown)
    text = f"{len(shown):,} of {len(uris):,} points, {size} px, {spent / MB:.2f} MB"
    if column:
        text = f'"{column}": {text}'
    return {
        "image_bytes": spent,
        "images": {
            "column": column,
            "shown": len(shown),
            "points": len(uris),
            "size": size,
            "bytes": spent,
            "text": text,
        },
    }


def _with_note(render: Render, uris, size: int, column, note: str, warnings) -> Fitted:
    facts = {**image_facts(uris, size, column), "warnings": [*warnings, note]}
    return Fitted(render(uris, facts), facts, note)


def _choose(images, uris: list, order: list[int], room: int) -> tuple[int, dict[int, str]]:
    """The largest size whose images all fit (estimated, then encoded); else the smallest size for as many
    points as fit, in seeded order. Returns (size, {row: data URI}) trimmed to `room` bytes."""
    sample = order[:SAMPLE]
    sample_bytes = sum(len(uris[i]) for i in sample)
    all_bytes = sum(len(uris[i]) for i in order)
    sizes = [s for s in STEPS if SMALLEST <= s < images.size]
    px, per_image = images.size, all_bytes / len(order)
    for px in sizes:
        small, _ = images.cells.encode(px, sample)
        per_image = all_bytes / len(order) * sum(len(u or "") for u in small) / max(1, sample_bytes)
        if per_image * len(order) <= room:
            break
    if px == images.size:  # no smaller size to try (--thumb-size at or below 32): reuse what was encoded
        return px, _prefix({i: uris[i] for i in order}, order, room)
    batch = max(16, int(room / max(1.0, per_image) * 1.05))
    encoded: dict[int, str] = {}
    spent, pos = 0, 0
    while pos < len(order) and spent <= room:
        chunk = order[pos : pos + batch]
        for i, uri in zip(chunk, images.cells.encode(px, chunk)[0], strict=True):
            if uri:
                encoded[i] = uri
                spent += len(uri)
        pos += len(chunk)
    return px, _prefix(encoded, order, room)


def _prefix(encoded: dict[int, str], order: list[int], room: int) -> dict[int, str]:
    """The longest run of points, in seeded order, whose images fit in `room` bytes."""
    kept, spent = {}, 0
    for i in order:
        uri = encoded.get(i)
        if uri is None:
            continue
        if spent + len(uri) > room:
            break
        kept[i] = uri
        spent += len(uri)
    return kept


def _seeded_order(rows: list[int], seed: int) -> list[int]:
    rank = np.random.default_rng(seed).permutation(len(rows))
    return [rows[k] for k in rank]


def _note(size: int, px: int, kept: int, readable: int, max_html_mb: float, base: int) -> str:
    limit = f"--max-html-mb {max_html_mb:g}"
    if kept == 0 and base > max_html_mb * MB:
        return f"images left out, and the report is still {base / MB:.1f} MB, over {limit}; {SMALLER}"
    if kept == 0:
        return f"images left out to fit {limit}: the report is {base / MB:.1f} MB without them"
    shrunk = f"images shrunk from {size} to {px} px" if px != size else "images"
    if kept == readable:
        return f"{shrunk} to fit {limit}"
    return f"{shrunk} and kept for {kept:,} of {readable:,} points to fit {limit}"


def _bytes(html: str) -> int:
    return len(html.encode("utf-8"))
