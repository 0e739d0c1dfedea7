"""Stage 3, sample: choose at most `max_points` rows while streaming, holding only the sample.

Every row gets a seeded random key; the rows with the smallest keys are kept (a reservoir). The keys come from one
numpy stream, so the sample depends on the seed and the row order only, never on batch sizes. `stratified` keeps
the smallest keys per class of the colour column, then shares the places among classes so that every class is
represented (at least one row each, the rest in proportion to class size); classes are taken in the order of
their first row, so that ties in the shares fall the same way however the file is cut into batches or parts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from embproj.errors import InputError, OptionError
from embproj.options import say
from embproj.read.base import Source


@dataclass(frozen=True)
class Sample:
    table: pa.Table  # the kept columns, in file order
    row_ids: np.ndarray  # int64: each kept row's number in the file (0-based)
    rows_read: int
    method: str
    # with `vectors`: float32, one row per kept row (zeros where unusable); None once an engine holds them
    # (engine/base.py: on a Dask cluster, the workers)
    X: np.ndarray | None = None
    bad: np.ndarray | None = None  # with `vectors`: why a row's vector is unusable (matrix.REASONS), 0 if usable
    dims: int = 0
    gaps: np.ndarray | None = None  # on a Dask cluster: per numeric column, the sampled rows missing its number
    rounded: int = 0  # with `vectors`: rows read whose integers float32 could not hold exactly (matrix.Vectors)


class _Reservoir:
    """The candidate rows so far: their kept columns, keys, ids, classes and (when converted) vectors. With every
    row kept and the row count known, the vectors go straight into one matrix: no chunk is copied twice."""

    def __init__(self, rows_hint: int | None):
        self.rows_hint = rows_hint
        self.parts: list[pa.Table] = []
        self.keys = np.empty(0)
        self.ids = np.empty(0, dtype=np.int64)
        self.codes = np.empty(0, dtype=np.int64)
        self.X: np.ndarray | None = None  # preallocated, or the concatenated chunks
        self.chunks: list[np.ndarray] = []
        self.bad: list[np.ndarray] = []
        self.filled = 0
        self.rounded = 0

    def add(self, part: pa.Table, keys, ids, codes, vectors=None) -> None:
        self.parts.append(part)
        self.keys = np.concatenate([self.keys, keys])
        self.ids = np.concatenate([self.ids, ids])
        self.codes = np.concatenate([self.codes, codes])
        if vectors is None:
            return
        self.bad.append(vectors.bad)
        self.rounded += vectors.rounded
        if self.rows_hint is not None and self.X is None and not self.chunks:
            self.X = _preallocated(self.rows_hint, vectors.X.shape[1])
            self.rows_hint = None if self.X is None else self.rows_hint
        if self.X is not None and self.filled + len(vectors.X) <= len(self.X):
            self.X[self.filled : self.filled + len(vectors.X)] = vectors.X
            self.filled += len(vectors.X)
        else:
            self.chunks.append(vectors.X)

    def keep(self, idx: np.ndarray) -> None:
        idx = np.sort(idx)
        table = pa.concat_tables(self.parts) if len(self.parts) != 1 else self.parts[0]
        self.parts = [table.take(pa.array(idx))]
        self.keys, self.ids, self.codes = self.keys[idx], self.ids[idx], self.codes[idx]
        if self.bad:
            X, bad = self.vectors()
            self.X, self.chunks, self.bad, self.filled = X[idx], [], [bad[idx]], len(idx)
            self.rows_hint = None

    def vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """All candidates' vectors as one matrix (the preallocated one when it holds them all) and their codes."""
        bad = np.concatenate(self.bad) if len(self.bad) != 1 else self.bad[0]
        if self.X is not None and not self.chunks and self.filled == len(bad):
            return self.X[: self.filled], bad
        parts = ([self.X[: self.filled]] if self.X is not None else []) + self.chunks
        return np.concatenate(parts) if len(parts) != 1 else parts[0], bad

    def table(self) -> pa.Table:
        return pa.concat_tables(self.parts).combine_chunks() if self.parts else None


def _preallocated(rows: int, dims: int) -> np.ndarray | None:
    """One matrix for the rows the source says it has, or None (the rows are gathered as they come) when that is
    more than this machine's memory: a file's footer may claim any count, 10^12 rows of 8 floats is 29 TB."""
    if rows * dims * 4 > _memory_bytes():
        return None
    try:
        return np.empty((rows, dims), dtype=np.float32)
    except MemoryError:
        return None


def _memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not POSIX
        return 16 << 30


def no_colour() -> OptionError:
    """Stratified sampling asked for with no colour column to stratify by."""
    return OptionError(f"{say('sample', 'stratified')} needs a colour column", f"name one with {say('color')}")


@dataclass(frozen=True)
class Reading:
    """What is read of each row: `columns`; of those, `kept` stay as Arrow (default: every one), and `vectors(part)`
    converts the embedding of the candidate rows while the file streams (matrix.vectors)."""

    columns: Sequence[str]
    kept: Sequence[str] | None = None
    vectors: Callable[[pa.Table], Any] | None = None


@dataclass(frozen=True)
class Draw:
    """Which rows: at most `max_points` (None: every row), those of the smallest seeded keys, at random or
    stratified by the column `by` (the colour). `eligible(batch, row numbers)`: which rows of a batch may be kept
    (`embproj compare`: those in both tables); the others are read and counted, never kept, and draw their keys
    all the same, so that the rows kept are those the same seed keeps without the filter, less the others."""

    max_points: int | None
    seed: int = 0
    method: str = "random"
    by: str | None = None
    eligible: Callable[[pa.RecordBatch, np.ndarray], np.ndarray] | None = None


def sample_rows(source: Source, reading: Reading, draw: Draw, progress: Callable[[int], None] | None = None) -> Sample:
    """The rows `draw` keeps, as `reading` reads them; `progress(rows)` as the file streams."""
    columns, vectors = reading.columns, reading.vectors
    max_points, method, stratify_by, eligible = draw.max_points, draw.method, draw.by, draw.eligible
    if method == "stratified" and not stratify_by:
        raise no_colour()
    limit = max_points if max_points is not None else np.inf
    rng = np.random.default_rng(draw.seed)
    every_row = max_points is None or (source.num_rows is not None and source.num_rows <= max_points)
    res = _Reservoir(source.num_rows if every_row and vectors is not None else None)
    kept = list(columns if reading.kept is None else reading.kept)
    classes: dict = {}
    totals = np.zeros(0, dtype=np.int64)  # rows per class in the whole file, for proportional quotas
    first_rows: dict[int, int] = {}  # each class's first row
    offset = 0
    for batch in source.batches(columns):
        n = batch.num_rows
        if n == 0:
            continue
        keys = rng.random(n)
        ids = np.arange(offset, offset + n, dtype=np.int64)
        offset += n
        if progress is not None:
            progress(n)
        if eligible is not None:
            chosen = np.flatnonzero(eligible(batch, ids))
            if len(chosen) < n:
                batch, keys, ids, n = batch.take(pa.array(chosen)), keys[chosen], ids[chosen], len(chosen)
            if n == 0:
                continue
        codes = _class_codes(batch.column(stratify_by), classes) if method == "stratified" else np.zeros(n, np.int64)
        for code, at in zip(*np.unique(codes, return_index=True)):
            first_rows.setdefault(int(code), int(ids[at]))
        width = max(len(totals), int(codes.max()) + 1)
        totals = np.pad(totals, (0, width - len(totals))) + np.bincount(codes, minlength=width)
        if method == "random" and len(res.keys) >= limit:
            bound = np.partition(res.keys, int(limit) - 1)[int(limit) - 1]
            sel = np.flatnonzero(keys < bound)
            batch, keys, ids, codes = batch.take(pa.array(sel)), keys[sel], ids[sel], codes[sel]
        part = pa.Table.from_batches([batch]).select(kept)
        res.add(part, keys, ids, codes, vectors(batch) if vectors is not None else None)
        if len(res.keys) > 2 * limit + 65_536:
            res.keep(_smallest_per_class(res.keys, res.codes, int(limit)))
    if offset == 0:
        raise InputError("the table has no rows", "give a file with at least one data row")
    if len(res.keys) > limit:
        k = int(limit)
        if method == "random":
            res.keep(lowest_keys(res.keys, k))
        else:
            order = np.array(sorted(first_rows, key=first_rows.__getitem__))  # codes by first row
            rank = np.empty(len(totals), dtype=np.int64)
            rank[order] = np.arange(len(order))
            res.keep(stratified_keys(res.keys, rank[res.codes], totals[order], k))
    X, bad = res.vectors() if vectors is not None else (None, None)
    dims = X.shape[1] if X is not None else 0
    return Sample(res.table(), res.ids, offset, method, X, bad, dims, rounded=res.rounded)


def _class_codes(col: pa.Array, classes: dict) -> np.ndarray:
    encoded = pc.dictionary_encode(col)
    lookup = np.array([classes.setdefault(v, len(classes)) for v in encoded.dictionary.to_pylist()] + [-1])
    idx = encoded.indices.fill_null(len(encoded.dictionary)).to_numpy(zero_copy_only=False)
    codes = lookup[idx]
    if (codes == -1).any():
        codes[codes == -1] = classes.setdefault(None, len(classes))
    return codes.astype(np.int64)


def lowest_keys(keys: np.ndarray, k: int) -> np.ndarray:
    return np.argpartition(keys, k - 1)[:k] if len(keys) > k else np.arange(len(keys))


def _smallest_per_class(keys, codes, k) -> np.ndarray:
    return np.concatenate([np.flatnonzero(codes == c)[lowest_keys(keys[codes == c], k)] for c in np.unique(codes)])


def stratified_keys(keys: np.ndarray, codes: np.ndarray, totals: np.ndarray, k: int) -> np.ndarray:
    classes = np.unique(codes)
    quota = np.minimum(_quotas(totals[classes], k), np.bincount(codes)[classes])
    picks = []
    for c, q in zip(classes, quota):
        members = np.flatnonzero(codes == c)
        picks.append(members[lowest_keys(keys[members], int(q))] if q else members[:0])
    return np.concatenate(picks)


def _quotas(sizes: np.ndarray, k: int) -> np.ndarray:
    """Places per class: in proportion to class size (largest remainder), then at least one for every class
    while places last, taken from the classes with the most places."""
    share = sizes / sizes.sum() * k
    quota = np.floor(share).astype(np.int64)
    order = np.argsort(-(share - quota), kind="stable")
    quota[order[: k - quota.sum()]] += 1
    for c in np.argsort(-sizes, kind="stable"):
        if quota[c] == 0:
            donor = int(np.argmax(quota))
            if quota[donor] <= 1:
                break
            quota[donor] -= 1
            quota[c] = 1
    return quota
