"""The click-for-neighbours table as the page gets it: every plotted row's k nearest rows in a compact code that
the page decodes on the first click (templates/js/neighbours.js; tests/reportdata.py decodes it too).

The code numbers the rows along a Z-order (Morton) curve of the first map: the page computes that order itself
from the coordinates it holds (float32 → a 2^BITS grid over the map's extent, `x0`, `y0` and `scale` in its
JSON; a stable sort by the interleaved bits), so the order costs no byte and rows near on the map get near
numbers. When the page's first colour is a column of classes, the rows are also tried grouped by its codes, each
class in Z-order ("group" in the code: the points' column of those codes), and the smaller code is sent: on a map
where the classes overlap, a row's neighbours then lie among its class's rows (issue 30's 100,000 blobs on a PCA
map: 17.0 → 16.0 B a point). Then, row by row in that order, for row p:

1. one bit for each earlier row q whose list holds p, the latest q first: does p's list hold q too? (About 40%
   of a k-nearest-neighbour graph's pairs are mutual: such a neighbour costs one bit instead of a number.)
2. its other neighbours' numbers, ascending: the first as a zigzag difference from p, the rest as the gaps
   between them less one.

The bits (packed, the first bit the high one) and the numbers (the firsts, then the gaps; each set as byte
planes, the low bytes of every number first) are deflated (zlib) and sent as base85 text (RFC 1924's alphabet,
"," for "<", which must not appear in a script element) in a <script type="application/octet-stream">.
A row's neighbours come out as a set (the page lists them by row), not nearest first: the order would cost
log2(k!) bits a row, 2.7 bytes at k = 10.

Measured on 20 Gaussian blobs in 16 dims, PCA map, k = 10 (bytes a point before base85; benchmarks/RESULTS.md):
int32 gzipped 27.5 at 100,000 rows and 31.6 at 1,000,000; the ids sorted as varint gaps, no reordering, 21.4 /
26.2; the Z-order with varint gaps 16.0 / 20.0; byte planes instead of varints 15.1 / 18.5; the mutual bits too
12.6 / 15.3. In the page, with base85: 15.8 / 19.3 B a point. On the cell search's graphs, which replaced
NN-descent's (recall 0.99 / 0.46 instead of 0.99 / 0.99), 16.1 / 20.1, and with zlib's Z_FILTERED strategy
19.8 at 1,000,000."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

BITS = 16  # the Z-order's grid: 2^BITS cells a side
LEVEL = 6  # zlib's: 9 took 5.6 s instead of 1.1 s on a million points, for 0.4% fewer bytes
# zlib's Z_FILTERED strategy (matches found, but more of the bytes left to the Huffman code): on the 1M-point
# table, 1.5% fewer bytes than the default strategy (19.8 instead of 20.1 B a point in the page), 1.1 s instead
# of 1.0; any deflate stream decodes the same in the page
STRATEGY = zlib.Z_FILTERED
ENCODING = "z-order, mutual bits, byte planes, deflate, base85"
B85 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~"  # RFC 1924's
HOLDS_KEYS = 1 << 20  # keys looked up at a time: two int64 arrays of 8 MB, not of 80 at a million rows × k = 10
SENT = str.maketrans("<", ",")  # "<" could start "<!--" or "</script" in the page: "," is not in the alphabet


@dataclass(frozen=True)
class NeighbourTable:
    """The encoded table: `text` goes into the page as it is, `code` into its JSON (how to decode it)."""

    text: str
    code: dict
    rows: int
    k: int
    group: str | None = None  # the column whose codes group the rows before the Z-order (the page's "group")

    def facts(self) -> dict:
        """For `--json`: how the table is sent and what it weighs."""
        size = len(self.text)
        return {
            "encoding": ENCODING + (f", rows grouped by {self.group!r}" if self.group else ""),
            "rows": self.rows,
            "k": self.k,
            "bytes": size,
            "per_point": round(size / self.rows, 2),
        }


def encode_neighbours(
    indices: np.ndarray, xy: np.ndarray, algo: str, groups: np.ndarray | None = None, group: str | None = None
) -> NeighbourTable:
    """`indices`: each row's k nearest other rows, n × k, distinct; `xy`: the map (of `algo`) whose Z-order
    numbers the rows, as the page gets it (float32). `groups`: each row's code (≥ 0) in column `group`, which the
    page holds too: the rows are also tried grouped by it, each group in Z-order, and the smaller code is kept
    (where the neighbours share a label the map mixes, fewer rows lie between them)."""
    n, k = indices.shape
    frame = _frame(np.asarray(xy, dtype=np.float32))
    order = z_order(xy, frame)
    text, streams = _encode(indices, order)
    grouped_by = None
    if groups is not None and n:
        grouped = order[np.argsort(np.asarray(groups)[order], kind="stable")]
        other, other_streams = _encode(indices, grouped)
        if len(other) < len(text):
            text, streams, grouped_by = other, other_streams, group
    code = {**frame, "algo": algo, "bits": BITS, **streams, "alphabet": B85.translate(SENT)}
    return NeighbourTable(text, code, n, k, grouped_by)


def _encode(indices: np.ndarray, order: np.ndarray) -> tuple[str, dict]:
    """The table's text with the rows numbered in `order`, and the sizes of its streams."""
    n = len(order)
    position = np.empty(n, np.int64)
    position[order] = np.arange(n)
    near = np.sort(position[indices[order]], axis=1)  # row p (in the order): its neighbours' numbers, ascending
    flags, firsts, gaps = _streams(near)
    body = [np.packbits(flags).tobytes(), *_planes(firsts), *_planes(gaps)]
    streams = {
        "flags": int(flags.size),
        "firsts": int(firsts.size),
        "gaps": int(gaps.size),
        "first_planes": _width(firsts),
        "gap_planes": _width(gaps),
    }
    return base85(_deflate(b"".join(body))), streams


def _deflate(body: bytes) -> bytes:
    """zlib's format, as zlib.compress writes it (the page inflates it with DecompressionStream("deflate"))."""
    packer = zlib.compressobj(LEVEL, zlib.DEFLATED, zlib.MAX_WBITS, 9, STRATEGY)
    return packer.compress(body) + packer.flush()


def _frame(xy: np.ndarray) -> dict:
    """The Z-order's grid over the map: its corner and cells per unit (one scale for both axes)."""
    finite = xy[np.isfinite(xy).all(axis=1)].astype(np.float64)
    low = finite.min(axis=0) if len(finite) else np.zeros(2)
    span = float((finite.max(axis=0) - low).max()) if len(finite) else 0.0
    return {"x0": float(low[0]), "y0": float(low[1]), "scale": (1 << BITS) / (span or 1.0)}


def z_order(xy: np.ndarray, frame: dict) -> np.ndarray:
    """The rows in Z-order of their cells, ties in row order: what the page computes (in float64, as here)."""
    xy = np.asarray(xy, dtype=np.float32).astype(np.float64)
    code = _spread(_cell(xy[:, 0], frame["x0"], frame["scale"])) | (
        _spread(_cell(xy[:, 1], frame["y0"], frame["scale"])) << np.uint32(1)
    )
    return np.argsort(code, kind="stable")


def _cell(v: np.ndarray, low: float, scale: float) -> np.ndarray:
    t = (v - low) * scale
    with np.errstate(invalid="ignore"):
        inside = t >= 0  # NaN: cell 0, as in the page
    return np.where(inside, np.minimum(np.floor(np.where(inside, t, 0)), (1 << BITS) - 1), 0).astype(np.uint32)


def _spread(v: np.ndarray) -> np.ndarray:
    """The 16 bits of v at the even bit positions of a 32-bit number."""
    v = v & np.uint32(0xFFFF)
    for shift, mask in ((8, 0x00FF00FF), (4, 0x0F0F0F0F), (2, 0x33333333), (1, 0x55555555)):
        v = (v | (v << np.uint32(shift))) & np.uint32(mask)
    return v


def _streams(near: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The mutual bits, the first numbers and the gaps of the table `near` (n × k, each row ascending)."""
    # n × k int64 arrays weigh 80 MB each at a million rows: a row's number is its entry's place // k, not an
    # array of its own, and each one goes as soon as it is read
    n, k = near.shape
    cols = near.ravel().astype(np.int64, copy=False)
    edges = np.repeat(np.arange(n, dtype=np.int64) * n, k)
    edges += cols  # row * n + neighbour: ascending, by row, then by neighbour
    # p lists a later row q: q, when its turn comes, gets a bit "do you list p?"
    later = np.flatnonzero(edges // n < cols)
    asks = cols[later] * n + later // k
    del later
    asks.sort()  # by the row that gets the bit, then by the row asked about
    flags = _holds(edges, asks)
    answered = _holds(asks[flags], edges)  # p lists q < p and q listed p: p's bit for q said so
    del edges
    flags = _latest_first(flags, asks // n, n)
    del asks
    told = np.flatnonzero(~answered)
    del answered
    rows, cols = told // k, cols[told]
    del told
    first = np.ones(len(rows), bool)
    first[1:] = rows[1:] != rows[:-1]
    firsts = cols[first] - rows[first]
    firsts = ((firsts << 1) ^ (firsts >> 63)).astype(np.uint32)  # zigzag: 0, -1, 1, -2 … → 0, 1, 2, 3 …
    gaps = (cols[~first] - np.roll(cols, 1)[~first] - 1).astype(np.uint32)
    return flags, firsts, gaps


def _latest_first(flags: np.ndarray, asker: np.ndarray, n: int) -> np.ndarray:
    """Each row's bits in reverse (its latest asker first: the page pushes askers onto a list and reads it back)."""
    bounds = np.searchsorted(asker, np.arange(n + 1))
    out = np.empty_like(flags)
    out[bounds[asker] + bounds[asker + 1] - 1 - np.arange(len(flags))] = flags
    return out


def _holds(haystack: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Which of `keys` are in the sorted `haystack` (sorted keys search fastest), `HOLDS_KEYS` keys at a time."""
    out = np.zeros(len(keys), bool)
    if not haystack.size:
        return out
    for start in range(0, len(keys), HOLDS_KEYS):
        part = keys[start : start + HOLDS_KEYS]
        at = np.searchsorted(haystack, part)
        np.minimum(at, len(haystack) - 1, out=at)
        out[start : start + HOLDS_KEYS] = haystack[at] == part
    return out


def base85(raw: bytes) -> str:
    """`base64.b85encode(raw)` (RFC 1924, no padding), with "," for "<"; vectorised (b85encode takes ~2.5 s
    for the 15 MB of a million points)."""
    pad = -len(raw) % 4
    groups = np.frombuffer(raw + b"\0" * pad, dtype=">u4").astype(np.uint64)
    digits = np.empty((len(groups), 5), np.uint8)
    for j in range(4, -1, -1):
        groups, digits[:, j] = np.divmod(groups, np.uint64(85))
    alphabet = np.frombuffer(B85.translate(SENT).encode("ascii"), np.uint8)
    return alphabet[digits].tobytes()[: len(digits) * 5 - pad].decode("ascii")


def _width(values: np.ndarray) -> int:
    return max(1, (int(values.max()).bit_length() + 7) // 8) if values.size else 1


def _planes(values: np.ndarray) -> list[bytes]:
    return [((values >> np.uint32(8 * b)) & np.uint32(255)).astype(np.uint8).tobytes() for b in range(_width(values))]
