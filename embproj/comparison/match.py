"""Which row of AFTER is which row of BEFORE. By a key column (`--key`, or found: a column in both tables whose
values are each there once and whose name or content says identifier), else by the row order when the two tables
have as many rows (with a warning), else an error that asks for `--key`. Two vector columns of one table need no
matching: a row is itself. Rows whose key is in one table only are counted and listed, never dropped silently.

Keys are compared as text, so that 7 in a Parquet file matches "7" in a CSV (a whole float, 7.0, is "7" too)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from embproj.errors import InputError, OptionError
from embproj.options import say
from embproj.plan.columns import ColumnInfo, describe
from embproj.read.base import Source
from embproj.text.words import closest, guessed, listing

LISTED = 100  # keys of rows in one table only that the page and --json list (all are counted)
MIN_SHARED = 0.5  # a key found, not given, must match at least this share of the smaller table's rows
MOST_CANDIDATES = 4  # columns read whole to find the key: identifiers first, then short unique text
SHORT_TEXT = 64  # characters: text longer than this (captions, documents) is not tried as a key
ONLY_ONE = "(missing)"  # how a row whose key is empty is listed


@dataclass(frozen=True)
class Matching:
    """How the rows were matched, and what matched."""

    how: str  # "key", "order" (the row order of two tables) or "columns" (two vector columns of one table)
    key: str | None  # the key column
    reason: str  # why, in words, for the page and `--json`
    before_rows: int
    after_rows: int
    matched: int
    only_before: tuple[str, ...] = ()  # the keys of rows in one table only (the first LISTED)
    only_after: tuple[str, ...] = ()
    only_before_count: int = 0
    only_after_count: int = 0
    shared: pa.Array | None = None  # by key: the keys in both tables, as text
    notes: tuple[str, ...] = ()  # the run's warnings: matched by row order, rows in one table only

    def keys(self, table, ids: np.ndarray) -> pa.Array:
        """The rows' keys: the key column's values as text, or (by order, or in one table) their row numbers."""
        if self.key is None:
            return pa.array(np.asarray(ids, dtype=np.int64))
        return key_text(table.column(self.key))

    def eligible(self) -> Callable[[pa.RecordBatch, np.ndarray], np.ndarray] | None:
        """Which rows of a batch of BEFORE may be sampled: those with a key in AFTER (None: every row)."""
        if self.shared is None:
            return None
        shared = self.shared
        return lambda batch, ids: _mask(pc.is_in(key_text(batch.column(self.key)), value_set=shared))

    def facts(self) -> dict:
        """For `--json` and the page."""
        return {
            "how": self.how,
            "key": self.key,
            "reason": self.reason,
            "before_rows": self.before_rows,
            "after_rows": self.after_rows,
            "matched": self.matched,
            "only_before": self.only_before_count,
            "only_after": self.only_after_count,
            "only_before_keys": list(self.only_before),
            "only_after_keys": list(self.only_after),
        }


def sample_filter(matching: Matching, keys: pa.Array) -> Callable[[pa.RecordBatch, np.ndarray], np.ndarray]:
    """AFTER's sample: the rows whose key (or row number) is one of `keys`, those of BEFORE's sample."""
    if matching.key is None:
        wanted = np.asarray(keys.to_numpy(zero_copy_only=False))
        return lambda batch, ids: np.isin(ids, wanted)
    column = matching.key
    return lambda batch, ids: _mask(pc.is_in(key_text(batch.column(column)), value_set=keys))


def _mask(found) -> np.ndarray:
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


def key_text(column) -> pa.Array:
    """A key column's values as text (null stays null)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_string(column.type):
        return column
    return pc.cast(column, pa.string())


def one_table(source: Source) -> Matching:
    rows = _count(source)
    return Matching("columns", None, "two vector columns of one table: each row with itself", rows, rows, rows)


def match_rows(before: Source, after: Source, before_head: pa.Table, after_head: pa.Table, key: str | None):
    """How the rows of the two tables match (`key`: --key, or None to find one)."""
    if key is not None:
        for source, head in ((before, before_head), (after, after_head)):
            if key not in head.column_names:
                names = head.column_names
                raise OptionError(
                    f"{say('key', key, quote=True)}: no such column",
                    guessed(closest(key, names) and say("key", closest(key, names)), f"columns are: {listing(names)}"),
                ).at(source.name)
        return _by_key(key, _read_keys(before, [key])[key], _read_keys(after, [key])[key], before, after, "given")
    candidates = _candidates(describe(before_head), describe(after_head))
    if candidates:
        found_before, found_after = _read_keys(before, candidates), _read_keys(after, candidates)
        for name, why in candidates.items():
            a, b = found_before[name], found_after[name]
            if _repeated(a) is None and _repeated(b) is None and _shared(a, b) >= MIN_SHARED * min(len(a), len(b)):
                return _by_key(name, a, b, before, after, why)
        rows = len(next(iter(found_before.values()))), len(next(iter(found_after.values())))
    else:
        rows = _count(before), _count(after)
    if rows[0] != rows[1]:
        raise InputError(
            f"no column names the rows in both tables (one of unique identifiers in both), and they have "
            f"{rows[0]:,} and {rows[1]:,} rows, so the row order cannot match them either",
            f"give the column that names each row with {say('key', 'COLUMN')}",
            where=f"{before.name}, {after.name}",
        )
    note = (
        f"rows matched by their order (row 0 with row 0): no column names the rows in both tables; give "
        f"{say('key', 'COLUMN')} to match them by a column"
    )
    return Matching("order", None, "the row order: the tables have as many rows", *rows, rows[0], notes=(note,))


def _candidates(before: list[ColumnInfo], after: list[ColumnInfo]) -> dict[str, str]:
    """Columns of both tables that may name the rows, identifiers first, each with why: {name: reason}."""
    theirs = {c.name: c for c in after}
    ids, texts = {}, {}
    for c in before:
        other = theirs.get(c.name)
        if other is None:
            continue
        if c.kind == "id" or other.kind == "id":
            ids[c.name] = f"an identifier in both tables ({(c if c.kind == 'id' else other).note})"
        elif c.kind in ("text", "int") and c.distinct == c.nonnull > 0 and other.distinct == other.nonnull:
            if c.kind == "int" or (c.chars or 0) <= SHORT_TEXT:
                texts[c.name] = "in both tables, each value once"
    return dict(list({**ids, **texts}.items())[:MOST_CANDIDATES])


def _read_keys(source: Source, columns) -> dict[str, pa.Array]:
    """Whole key columns as text (one pass over only those columns)."""
    parts: dict[str, list] = {c: [] for c in columns}
    for batch in source.batches(list(columns)):
        for c in columns:
            parts[c].append(batch.column(c))
    out = {}
    for c, chunks in parts.items():
        try:
            out[c] = key_text(pa.chunked_array(chunks, type=chunks[0].type) if chunks else pa.array([], pa.string()))
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
            raise OptionError(
                f'column "{c}" holds {chunks[0].type if chunks else "nothing"}, which cannot name rows',
                f"give a column of text or whole numbers with {say('key', 'COLUMN')}",
                where=source.name,
            ) from None
    return out


def _repeated(keys: pa.Array) -> list[str] | None:
    """The values found more than once (the first few), or None."""
    counts = pc.value_counts(keys.drop_null())
    twice = counts.filter(pc.greater(counts.field("counts"), 1))
    return None if len(twice) == 0 else [str(v) for v in twice.field("values")[:3].to_pylist()]


def _shared(a: pa.Array, b: pa.Array) -> int:
    return int(pc.sum(pc.is_in(a.drop_null(), value_set=b.drop_null())).as_py() or 0)


def _by_key(key: str, before: pa.Array, after: pa.Array, before_src: Source, after_src: Source, why: str) -> Matching:
    for keys, source in ((before, before_src), (after, after_src)):
        twice = _repeated(keys)
        if twice is not None:
            raise InputError(
                f'column "{key}" holds {listing(twice)} more than once, so it cannot match rows one to one',
                f"give a column whose values are each there once with {say('key', 'COLUMN')}",
                where=source.name,
            )
    in_after = _mask(pc.is_in(before, value_set=after.drop_null()))
    in_before = _mask(pc.is_in(after, value_set=before.drop_null()))
    matched = int(in_after.sum())
    if matched == 0:
        raise InputError(
            f'no value of column "{key}" is in both tables (BEFORE has {listing(before[:3].to_pylist())}, AFTER '
            f"{listing(after[:3].to_pylist())})",
            f"give the column that names each row in both with {say('key', 'COLUMN')}",
            where=f"{before_src.name}, {after_src.name}",
        )
    only_before, only_after = np.flatnonzero(~in_after), np.flatnonzero(~in_before)
    reason = f'column "{key}": ' + ("given" if why == "given" else why)
    notes: tuple[str, ...] = ()
    if len(only_before) or len(only_after):
        notes = (_one_sided(key, before, after, only_before, only_after),)
    return Matching(
        "key", key, reason, len(before), len(after), matched, _listed(before, only_before),
        _listed(after, only_after), len(only_before), len(only_after), before.filter(pa.array(in_after)), notes,
    )  # fmt: skip


def _listed(keys: pa.Array, rows: np.ndarray) -> tuple[str, ...]:
    return tuple(ONLY_ONE if v is None else str(v) for v in keys.take(pa.array(rows[:LISTED])).to_pylist())


def _one_sided(key: str, before: pa.Array, after: pa.Array, only_before: np.ndarray, only_after: np.ndarray) -> str:
    parts = []
    for side, keys, rows in (("BEFORE", before, only_before), ("AFTER", after, only_after)):
        if len(rows):
            shown = listing(list(_listed(keys, rows[:5])), 3)
            parts.append(f"{len(rows):,} row{'s' if len(rows) != 1 else ''} only in {side} ({shown})")
    return f'{" and ".join(parts)} by "{key}": not compared, listed in the report'


def _count(source: Source) -> int:
    if source.num_rows is not None:
        return source.num_rows
    return sum(batch.num_rows for batch in source.batches([source.schema.names[0]]))
