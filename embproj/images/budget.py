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

from embproj.options import say
from embproj.summary import ImageFacts

MB = 1_000_000  # --max-html-mb counts decimal megabytes, as file browsers show sizes
STEPS = (256, 192, 128, 96, 64, 48, 32)
SMALLEST = 32  # below this a hover image says too little to be worth its bytes; fewer images instead
MARGIN = 4_096  # bytes for header text (image counts, the warning) that change with the images shown
SAMPLE = 200  # cells re-encoded to estimate the bytes at a smaller size

# (image data URIs or None, what they are, the budget's note) → HTML
Render = Callable[[list | None, ImageFacts | None, str | None], str]


@dataclass(frozen=True)
class Fitted:
    html: str
    images: ImageFacts | None
    note: str | None  # what the budget gave up, for the run's warnings


def fit_report(render: Render, images, max_html_mb: float, seed: int, column=None) -> Fitted:
    """Render the page within the limit. `images` is None (no image column) or an images.EncodedImages, as the
    pipeline encoded them at --thumb-size."""
    limit = int(max_html_mb * MB)
    uris = None if images is None else list(images.uris)
    size = images.size if images is not None else 0
    facts = image_facts(uris, size, column)
    html = render(uris, facts, None)
    total = _bytes(html)
    if total <= limit:
        return Fitted(html, facts, None)
    shown = [i for i, u in enumerate(uris or ()) if u]
    if not shown:
        note = f"the report is {total / MB:.1f} MB, over {say('max_html_mb', max_html_mb)}; {_smaller()}"
        return _with_note(render, uris, size, column, note)
    uris = cast(list, uris)  # some are shown, so there are images
    base = total - sum(len(uris[i]) for i in shown)
    room = limit - base - MARGIN
    order = _seeded_order(shown, seed)
    px, encoded = _choose(images, uris, order, room) if room > 0 else (size, {})
    for _ in range(4):  # the header text may grow a little with the warning: trim again until the file fits
        chosen = _prefix(encoded, order, room)
        note = _note(size, px, len(chosen), len(shown), max_html_mb, base)
        fitted = _with_note(render, [chosen.get(i) for i in range(len(uris))], px, column, note)
        over = _bytes(fitted.html) - limit
        if over <= 0 or not chosen:
            return fitted
        room -= over + MARGIN
    return _with_note(render, [None] * len(uris), size, column, _note(size, px, 0, 0, max_html_mb, base))


def image_facts(uris: list | None, size: int, column: str | None) -> ImageFacts | None:
    if uris is None:
        return None
    shown = [u for u in uris if u]
    return ImageFacts(column, len(shown), len(uris), size, sum(len(u) for u in shown))


def _with_note(render: Render, uris, size: int, column, note: str) -> Fitted:
    facts = image_facts(uris, size, column)
    return Fitted(render(uris, facts, note), facts, note)


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
    limit = say("max_html_mb", max_html_mb)
    if kept == 0 and base > max_html_mb * MB:
        return f"images left out, and the report is still {base / MB:.1f} MB, over {limit}; {_smaller()}"
    if kept == 0:
        return f"images left out to fit {limit}: the report is {base / MB:.1f} MB without them"
    shrunk = f"images shrunk from {size} to {px} px" if px != size else "images"
    if kept == readable:
        return f"{shrunk} to fit {limit}"
    return f"{shrunk} and kept for {kept:,} of {readable:,} points to fit {limit}"


def _smaller() -> str:
    return f"lower {say('max_points')} to make it smaller"


def _bytes(html: str) -> int:
    return len(html.encode("utf-8"))
