"""Keep the report within --max-html-mb: first smaller thumbnails (64 → 48 → 32 px), then images for a seeded
subset of the points only; beyond the images, the neighbour table, then a seeded subset of the hover fields (never
the label, the clusters or a comparison's own), then a seeded subset of the points; and say each in a warning.

The page is rendered and measured, not guessed: each image adds exactly its data URI's length to the page, so
after one render the room left for images is known; a few sample cells re-encoded at each smaller size tell
which size fits; the chosen images are then encoded for real and trimmed to the byte. The points kept come from a
line through the last two renders' sizes (a page costs a fixed part plus so much a point). When the page is over
the limit even with the fewest points, it is written anyway (a report beats none) and the warning says by how
much; lower --max-points to make it smaller.

A report over SEND_MB also gets a warning that most mail services will not take it as an attachment, and what
`--max-html-mb 18` would leave out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import cast

import numpy as np

from embproj.options import say
from embproj.summary import ImageFacts

MB = 1_000_000  # --max-html-mb counts decimal megabytes, as file browsers show sizes
STEPS = (256, 192, 128, 96, 64, 48, 32)
SMALLEST = 32  # below this a hover image says too little to be worth its bytes; fewer images instead
MARGIN = 4_096  # bytes for header text (image counts, the warning) that change with the images shown
SAMPLE = 200  # cells re-encoded to estimate the bytes at a smaller size
# Most mail services take attachments up to ~25 MB, and base64 makes a file a third larger on its way: 18 MB
SEND_MB = 18.0
FEWEST = 100  # points the budget keeps at least: a map of fewer says little
TRIES = 5  # renders, after the fewest points', to find how many points fit


@dataclass(frozen=True)
class Cut:
    """What the budget leaves out beyond the images, for one render."""

    neighbours: bool = False  # True: the neighbour table(s) left out
    hover: tuple[str, ...] = ()  # the hover fields left out
    points: np.ndarray | None = None  # the positions of the points kept, ascending; None: every point


@dataclass(frozen=True)
class Parts:
    """What the page holds that the budget may leave out beyond the images."""

    table: int = 0  # the neighbour tables' bytes in the page; 0: none
    hover: tuple[str, ...] = ()  # the hover fields it may leave out
    points: int = 0  # the points the page shows
    needed: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # points it never leaves out


# (image data URIs or None, what they are, the budget's note, what else it leaves out) → HTML
Render = Callable[[list | None, ImageFacts | None, str | None, Cut], str]
ImageRender = Callable[[list | None, ImageFacts | None, str | None], str]  # the same, leaving out nothing else


@dataclass(frozen=True)
class Fitted:
    html: str
    images: ImageFacts | None
    note: str | None  # what the budget gave up, for the run's warnings
    sending: str | None = None  # the report is too large to send by mail: what would make it small enough
    cut: Cut = Cut()  # what the budget left out beyond the images


def fit_report(
    render: Render, images, max_html_mb: float, seed: int, column=None, parts: Parts | None = None
) -> Fitted:
    """Render the page within the limit. `images` is None (no image column) or an images.EncodedImages, as the
    pipeline encoded them at --thumb-size; `parts`, what else the budget may leave out (None: nothing)."""
    limit = int(max_html_mb * MB)
    parts = parts or Parts()

    def whole(uris, facts, note) -> str:
        return render(uris, facts, note, Cut())

    fitted = _fit_images(whole, images, max_html_mb, seed, column)
    beyond = parts.table or parts.hover or parts.points > FEWEST
    if _bytes(fitted.html) > limit and beyond:
        fitted = _fit_beyond_images(render, images, max_html_mb, seed, column, parts)
    return replace(fitted, sending=_sending(fitted, parts))


def _fit_images(render: ImageRender, images, max_html_mb: float, seed: int, column) -> Fitted:
    """The report within the limit by its images alone (or over it without any, with a note that says so)."""
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


def _fit_beyond_images(render: Render, images, max_html_mb: float, seed: int, column, parts: Parts) -> Fitted:
    """The report without images and, in turn, without the neighbour table, some hover fields, some points, until
    it fits; the note names each step with its counts."""
    limit = int(max_html_mb * MB)
    uris = None if images is None else [None] * len(images.uris)
    facts = image_facts(uris, images.size if images is not None else 0, column)
    shown = sum(1 for u in images.uris if u) if images is not None else 0
    steps = [f"images left out ({shown:,})"] if shown else []

    def attempt(cut: Cut, steps: list[str], tail: str = "") -> Fitted:
        note = f"to fit {say('max_html_mb', max_html_mb)}: {'; '.join(steps)}{tail}"
        return Fitted(render(uris, facts, note, cut), facts, note, cut=cut)

    cut, fitted = Cut(), None
    if parts.table:
        cut, steps = replace(cut, neighbours=True), [*steps, f"the neighbour table left out ({parts.points:,} rows)"]
        fitted = attempt(cut, steps)
    if parts.hover and (fitted is None or _bytes(fitted.html) > limit):
        order = [parts.hover[k] for k in np.random.default_rng(seed).permutation(len(parts.hover))]
        tries = [len(order)] if len(order) > 1 else []  # without them all first: if over still, on to the points
        for m in [*tries, *range(1, len(order) + 1)]:
            step = _hover_step(order[:m], len(order))
            fitted = attempt(replace(cut, hover=tuple(order[:m])), [*steps, step])
            if _bytes(fitted.html) <= limit or m == len(order):
                break
        cut, steps = replace(cut, hover=tuple(order[:m])), [*steps, step]
    if fitted is None or (_bytes(fitted.html) > limit and parts.points > FEWEST):
        size = _bytes(fitted.html) if fitted is not None else _bytes(attempt(cut, steps).html)
        cut, fitted, step = _fit_points(attempt, cut, steps, parts, seed, limit, size)
        steps = [*steps, step]
    over = _bytes(fitted.html) - limit
    if over > 0:  # written anyway: a report beats none
        fitted = attempt(cut, steps, f"; the report is still {_bytes(fitted.html) / MB:.1f} MB; {_smaller()}")
    return fitted


def _hover_step(left: list[str], of: int) -> str:
    named = ", ".join(f'"{h}"' for h in left)
    return f"hover field{'s' if len(left) > 1 else ''} {named} left out ({len(left)} of {of})"


def _fit_points(attempt, cut: Cut, steps: list[str], parts: Parts, seed: int, limit: int, size: int):
    """The most points of a seeded order (and those the page never leaves out) that fit: (the cut, the page, its
    step in words). The fewest points first, whose page is nearly the fixed part; then each try's count from the
    line between the largest page that fits and the smallest that does not, until they are within 1% of the
    points."""
    n = parts.points
    order = np.random.default_rng(seed).permutation(n)
    needed = np.asarray(parts.needed, np.int64)

    def keep(m: int):
        kept = np.union1d(np.sort(order[:m]), needed)
        step = f"points: a seeded {len(kept):,} of {n:,} kept"
        fitted = attempt(replace(cut, points=kept), [*steps, step])
        return replace(cut, points=kept), fitted, step

    best = keep(FEWEST)
    low, low_size, high, high_size = FEWEST, _bytes(best[1].html), n, size
    for _ in range(TRIES):
        if low_size > limit or high - low <= max(1, n // 100):
            break
        share = (limit - low_size) / max(1, high_size - low_size)
        gap = high - low  # within the middle three quarters: the bracket shrinks whichever way the try goes
        m = min(max(low + int(gap * share), low + gap // 8, low + 1), high - max(1, gap // 8))
        tried = keep(m)
        if _bytes(tried[1].html) <= limit:
            low, low_size, best = m, _bytes(tried[1].html), tried
        else:
            high, high_size = m, _bytes(tried[1].html)
    return best


def _sending(fitted: Fitted, parts: Parts) -> str | None:
    """Over SEND_MB (and allowed to be): a warning that most mail services will not take the file as an
    attachment, and what `--max-html-mb 18` would leave out (its images and table by their bytes, then hover
    fields and points until it fits)."""
    size = _bytes(fitted.html)
    if size <= SEND_MB * MB:
        return None
    gives, rest = [], size
    if fitted.images is not None and fitted.images.bytes:
        gives.append(f"shrink or leave out its images ({_weight(fitted.images.bytes)})")
        rest -= fitted.images.bytes
    if rest > SEND_MB * MB and parts.table and not fitted.cut.neighbours:
        gives.append(f"leave out the neighbour table ({_weight(parts.table)})")
        rest -= parts.table
    if rest > SEND_MB * MB:
        gives.append("leave out hover fields, then points (a seeded subset), until it fits")
    what = ", then ".join(gives)
    return (
        f"the report is {size / MB:.1f} MB, too large to attach to most mail services (~25 MB, and base64 makes a "
        f"file a third larger); {say('max_html_mb', SEND_MB)} would {what}"
    )


def image_facts(uris: list | None, size: int, column: str | None) -> ImageFacts | None:
    if uris is None:
        return None
    shown = [u for u in uris if u]
    return ImageFacts(column, len(shown), len(uris), size, sum(len(u) for u in shown))


def _with_note(render: ImageRender, uris, size: int, column, note: str) -> Fitted:
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


def _weight(size: int) -> str:
    return f"{size / MB:.1f} MB" if size >= MB / 10 else f"{size / 1000:.0f} kB"


def _smaller() -> str:
    return f"lower {say('max_points')} to make it smaller"


def _bytes(html: str) -> int:
    return len(html.encode("utf-8"))
