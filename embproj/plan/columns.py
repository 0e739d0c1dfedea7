"""What each column looks like: the evidence `plan` decides on. Reads types and a few hundred head values only."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pt

from embproj.plan.identifiers import identifier_reason, name_says_id

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff")
IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"II*\x00", b"MM\x00*")  # + RIFF….WEBP, see is_image_data
LABEL_NAMES = re.compile(
    r"(^|_)(label|labels|target|class|category|cluster|species|genre|kind|type|tag|group|y)($|_)", re.I
)
EMBEDDING_NAMES = re.compile(r"emb|vec|feature|represent|latent|encoding", re.I)
IMAGE_NAMES = re.compile(r"image|img|picture|photo|thumb|pixel", re.I)
TITLE_NAMES = re.compile(r"^(name|title|text|caption|sentence|word|token|filename|file|path)$", re.I)
# Sniffing reads cells someone else wrote, so each test is one pass over at most SNIFF_CHARS characters: one
# character class under one quantifier, matched against text already stripped, so nothing can backtrack.
SNIFF_CHARS = 1 << 20  # 1 MB: a 16,384-dim vector written out in full is ~400 kB
VECTOR_BODY = re.compile(r"[-+0-9.eE,\s naNinfINF]*")
BASE64 = re.compile(r"[A-Za-z0-9+/\s]+={0,2}")
MOSTLY = 0.8  # share of the head's cells that must look like images: a few broken cells do not hide the column
# The most classes the map tells apart (its palette): a column with more distinct values is not taken for a label,
# and a colour column chosen with more has its smallest classes folded into "other" in the legend.
MAX_CATEGORIES = 20


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str
    kind: str  # vector | text-vector | pixels | image-bytes | image-uri | image-path | image-base64 |
    #            float | int | category | id | text | time | other
    distinct: int  # in the head rows
    nonnull: int  # in the head rows
    dims: int | None = None  # vector length or image shape size
    shape: tuple[int, ...] | None = None  # pixel array shape
    rows: int = 0  # the head's rows
    missing: int = 0  # cells with no number in the head: null, or NaN
    std: float | None = None  # numbers: their standard deviation in the head (as StandardScaler measures it)
    numbers: bool = False  # numbers in Arrow (kind float or int, or an identifier kept in numbers)
    chars: int | None = None  # text: the median length of the head's first values
    note: str = ""  # an identifier: why it is one

    @property
    def numeric(self) -> bool:
        return self.kind in ("float", "int")

    @property
    def is_vector(self) -> bool:
        return self.kind in ("vector", "text-vector")

    @property
    def is_image(self) -> bool:
        return self.kind.startswith("image") or self.kind == "pixels"

    @property
    def is_scalar(self) -> bool:
        return not (self.is_vector or self.is_image or self.kind == "other")


def describe(head: pa.Table) -> list[ColumnInfo]:
    return [describe_column(name, head.column(name)) for name in head.column_names]


def describe_column(name: str, col: pa.ChunkedArray) -> ColumnInfo:
    t = col.type
    values = col.drop_null()
    nonnull = len(values)
    base: dict[str, Any] = dict(name=name, type=_type_name(t), nonnull=nonnull, distinct=_distinct(values))
    base["rows"] = len(col)
    depth, leaf = _list_depth(t)
    if depth == 1 and _is_number(leaf):
        return ColumnInfo(kind="vector", dims=_typical_length(values), **base)
    if depth in (2, 3) and _is_number(leaf):
        return ColumnInfo(kind="pixels", shape=_array_shape(values), **base)
    if depth:
        return ColumnInfo(kind="other", **base)
    if pt.is_binary(t) or pt.is_large_binary(t) or pt.is_fixed_size_binary(t):
        sample = [v for v in values.slice(0, 20).to_pylist()]
        is_image = _mostly(sample, is_image_data)
        return ColumnInfo(kind="image-bytes" if is_image or IMAGE_NAMES.search(name) else "other", **base)
    if pt.is_struct(t) and t.get_field_index("bytes") >= 0 and t.get_field_index("path") >= 0:
        return ColumnInfo(kind="image-bytes", **base)  # Hugging Face datasets' Image feature: {bytes, path}
    if pt.is_dictionary(t) or pt.is_boolean(t):
        return ColumnInfo(kind="category", **base)
    if pt.is_floating(t) or pt.is_decimal(t) or pt.is_integer(t):
        return _describe_numbers(name, col, pt.is_integer(t), base)
    if pt.is_string(t) or pt.is_large_string(t):
        return _describe_strings(name, values, base)
    if pt.is_temporal(t):
        return ColumnInfo(kind="time", **base)  # dates and times: shown on hover, never a dimension
    return ColumnInfo(kind="other", **base)


def _describe_strings(name: str, values: pa.ChunkedArray, base: dict) -> ColumnInfo:
    sample = [v for v in values.slice(0, 50).to_pylist() if v and v.strip()]
    base = {**base, "chars": sorted(len(v) for v in sample)[len(sample) // 2] if sample else None}
    vectors = [v for v in sample if is_text_vector(v)]
    if sample and all(v.lstrip().startswith("[") for v in sample) and len(vectors) >= 0.8 * len(sample):
        # "[0.1, 0.2]" cells; a few bad ones are dropped and counted later, not a reason to miss the column
        lengths = [v.count(",") + 1 for v in vectors]
        return ColumnInfo(kind="text-vector", dims=max(set(lengths), key=lengths.count), **base)
    if _mostly(sample, lambda v: v.lstrip()[:11].lower() == "data:image/"):
        return ColumnInfo(kind="image-uri", **base)
    if _mostly(sample, lambda v: v.lower().rstrip().endswith(IMAGE_SUFFIXES)):
        return ColumnInfo(kind="image-path", **base)
    if _mostly(sample, is_base64_image):
        return ColumnInfo(kind="image-base64", **base)
    n, distinct = base["nonnull"], base["distinct"]
    if distinct <= MAX_CATEGORIES and (distinct <= 0.5 * n or n < 20) and distinct < n:
        return ColumnInfo(kind="category", **base)
    if LABEL_NAMES.search(name) and distinct <= MAX_CATEGORIES:
        return ColumnInfo(kind="category", **base)
    said = name_says_id(name)
    if distinct == n and sample and not any(" " in v for v in sample) and said:
        return ColumnInfo(kind="id", note=f'unique text without spaces, its name says identifier ("{said}")', **base)
    return ColumnInfo(kind="text", **base)


def is_text_vector(text: str) -> bool:
    """`[0.1, -2e3, nan]`: brackets around numbers, commas and spaces only, checked within SNIFF_CHARS (a bad
    cell further on is dropped and counted when the matrix is built)."""
    text = text.strip()
    inner_end = min(len(text) - 1, SNIFF_CHARS)
    return len(text) >= 2 and text[0] == "[" and text[-1] == "]" and bool(VECTOR_BODY.fullmatch(text, 1, inner_end))


def is_image_data(data: bytes) -> bool:
    """The first bytes are those of a PNG, JPEG, GIF, WebP, BMP or TIFF file."""
    head = bytes(data[:12])
    return head.startswith(IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def is_base64_image(text: str) -> bool:
    """Bare base64 text whose decoded first bytes are an image file's (so long words are not mistaken for it)."""
    text = text[:SNIFF_CHARS].strip()  # only the first 256 characters are tested
    if len(text) < 64 or not BASE64.fullmatch(text[:256].rstrip()):
        return False
    try:
        return is_image_data(base64.b64decode("".join(text[:64].split())[:16]))
    except (binascii.Error, ValueError):
        return False


def _mostly(sample: list, test) -> bool:
    return bool(sample) and sum(1 for v in sample if test(v)) >= MOSTLY * len(sample)


def _type_name(t: pa.DataType) -> str:
    return str(t).replace("element: ", "").replace("item: ", "")


def _list_depth(t: pa.DataType) -> tuple[int, pa.DataType]:
    depth = 0
    while pt.is_list(t) or pt.is_large_list(t) or pt.is_fixed_size_list(t) or _is_list_view(t):
        depth += 1
        t = t.value_type
    return depth, t


def _is_list_view(t: pa.DataType) -> bool:
    return getattr(pt, "is_list_view", lambda _: False)(t) or getattr(pt, "is_large_list_view", lambda _: False)(t)


def _is_number(t: pa.DataType) -> bool:
    return pt.is_integer(t) or pt.is_floating(t) or pt.is_null(t)


def _distinct(values: pa.ChunkedArray) -> int:
    try:
        return len(pc.unique(values))
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        return len(values)


def _typical_length(values: pa.ChunkedArray) -> int | None:
    if not len(values):
        return None
    lengths = pc.list_value_length(values).to_numpy(zero_copy_only=False)
    counts: dict[int, int] = {}
    for n in lengths[:1000].tolist():
        counts[n] = counts.get(n, 0) + 1
    return max(counts, key=counts.get)  # type: ignore[arg-type]  # every key is in counts: never None


def _array_shape(values: pa.ChunkedArray) -> tuple[int, ...] | None:
    if not len(values):
        return None
    first = values[0].as_py()
    shape = []
    while isinstance(first, list):
        shape.append(len(first))
        first = first[0] if first else None
    return tuple(shape)


def _describe_numbers(name: str, col: pa.ChunkedArray, integers: bool, base: dict) -> ColumnInfo:
    """A number per row: a measurement (float, int), or an identifier (plan/identifiers.py says why)."""
    numbers = pc.cast(col, pa.float64(), safe=False).to_numpy(zero_copy_only=False)
    finite = numbers[np.isfinite(numbers)]
    std = float(finite.std()) if len(finite) > 1 else None
    std = std if std is not None and np.isfinite(std) else None  # beyond float64: no spread to compare
    facts: dict[str, Any] = dict(missing=len(numbers) - len(finite) - int(np.isinf(numbers).sum()), std=std)
    facts["numbers"] = True
    note = identifier_reason(name, numbers, integers)
    if note:
        return ColumnInfo(kind="id", note=note, **base, **facts)
    return ColumnInfo(kind="int" if integers else "float", **base, **facts)
