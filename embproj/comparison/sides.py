"""The two sides of a comparison, read by the stages `project` runs (read, plan, sample, matrix) and paired: the
same rows, in BEFORE's order, each with a usable vector on both sides.

BEFORE is planned as `project` plans it (its colour, label, image and hover are the page's); AFTER only for its
embedding. BEFORE's rows are sampled as `project` samples them, among the rows whose key is in AFTER too; AFTER's
sample is then exactly those rows, found by their key (or their row number)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from embproj.comparison.match import Matching, match_rows, one_table, sample_filter
from embproj.errors import InputError, OptionError, located
from embproj.options import Options, say
from embproj.pipeline import inspect
from embproj.plan.choose import Plan
from embproj.read.base import Source
from embproj.read.metadata import with_metadata
from embproj.read.source import open_source
from embproj.sample import Draw, Reading, Sample, sample_rows
from embproj.text.words import closest, guessed, listing
from embproj.vectors.matrix import REASONS, Matrix, matrix_from, vectors


@dataclass(frozen=True)
class Planned:
    """One embedding of the rows, planned: its table and its plan."""

    name: str  # "before" or "after"
    source: Source
    plan: Plan


@dataclass(frozen=True)
class Side(Planned):
    """One embedding of the rows, read: its sample, its matrix and its vectors too, the rows in BEFORE's order."""

    sample: Sample
    matrix: Matrix
    X: np.ndarray  # float32, a row per kept row (`matrix.keep`), as read: compare runs in this process

    @property
    def embedding(self) -> str:
        """The table and its embedding in words: `before.parquet, "emb" (64 dims)`."""
        e = self.plan.embedding
        what = f'"{e.columns[0]}"' if e.kind == "list" else f"{len(e.columns)} numeric columns"
        return f"{Path(self.source.name).name}, {what} ({self.matrix.dims} dims)"


def open_table(opts: Options, path: Path) -> Source:
    """A table the user named, opened as `project` opens DATA."""
    source = open_source(Path(path).expanduser(), opts.format, opts.encoding, opts.table, opts.follow_symlinks)
    return with_metadata(source, opts.metadata, opts.encoding) if opts.metadata else source


def planned(opts: Options, before: Source, after: Source | None) -> tuple[Planned, Planned]:
    """Both sides planned. `after` None: one table, whose --against column is AFTER's embedding."""
    same = after is None
    source, plan = inspect(opts, before)
    if same and plan.embedding.columns == (opts.against,) and opts.embedding is None:
        others = [c for c in plan.embedding.alternatives if c != opts.against]
        if not others:
            raise OptionError(
                f"{say('against', opts.against, quote=True)} is the only column of vectors",
                f"name BEFORE's with {say('embedding', 'COL')}",
                where=source.name,
            )
        source, plan = inspect(opts.with_(embedding=others[0]), source)
    if same and plan.embedding.columns == (opts.against,):
        raise OptionError(
            f"{say('embedding')} and {say('against')} name the same column",
            "give AFTER's embedding another column",
            where=source.name,
        )
    table = source if after is None else after
    names = table.schema.names
    if opts.against is not None and opts.against not in names:
        guess = closest(opts.against, names)
        raise OptionError(
            f"{say('against', opts.against, quote=True)}: no such column",
            guessed(guess and say("against", guess), f"columns are: {listing(names)}"),
            where=table.name,
        )
    theirs = opts.with_(  # only AFTER's embedding is planned: the page shows BEFORE's fields
        embedding=opts.against or (None if same else opts.embedding), columns=() if same else opts.columns,
        color="", label="", image=None, hover=(), charts=(), text=None, metadata=None if same else opts.metadata,
    )  # fmt: skip
    after_source, after_plan = inspect(theirs, table)
    return Planned("before", source, plan), Planned("after", after_source, after_plan)


def match(opts: Options, before: Planned, after: Planned) -> Matching:
    if before.source is after.source:
        if opts.key is not None:
            raise OptionError(
                f"{say('key')} matches the rows of two tables; the two columns of one table are already row for row",
                f"leave {say('key')} out",
                where=before.source.name,
            )
        return one_table(before.source)
    heads = before.source.head(1_000), after.source.head(1_000)
    return match_rows(before.source, after.source, *heads, opts.key)


def sampled(opts: Options, before: Planned, after: Planned, matching: Matching, tick) -> tuple[Sample, Sample]:
    """BEFORE's rows sampled as `project` samples them (among those in both tables), then the same rows of AFTER."""
    key = [matching.key] if matching.key else []
    first = _sample(opts, before, matching.eligible(), opts.max_points, key, tick)
    chosen = matching.keys(first.table, first.row_ids)
    return first, _sample(opts, after, sample_filter(matching, chosen), None, key, tick)


def _sample(opts: Options, side: Planned, eligible, limit, key: list[str], tick) -> Sample:
    plan = side.plan
    convert = partial(vectors, embedding=plan.embedding)
    needed = list(dict.fromkeys([*plan.needed_columns, *key]))
    shown = list(dict.fromkeys([*plan.shown_columns, *key]))
    method = opts.sample if limit is not None else "random"  # AFTER: every eligible row, whatever the method
    draw = Draw(limit, opts.seed, method, plan.color.column, eligible)
    sample = located(side.source.name, sample_rows, side.source, Reading(needed, shown, convert), draw, tick)
    pa.default_memory_pool().release_unused()
    return sample


def paired(before: Planned, after: Planned, samples: tuple[Sample, Sample], matching: Matching) -> tuple[Side, Side]:
    """Both matrices over the same rows in BEFORE's order: the sampled rows with a usable vector on both sides.
    A row dropped on one side is counted among BEFORE's dropped rows, with the side and the reason."""
    sample_b, sample_a = samples
    Xb, mb = located(before.source.name, _matrix, sample_b)
    Xa, ma = located(after.source.name, _matrix, sample_a)
    keys_before = matching.keys(sample_b.table, sample_b.row_ids).take(pa.array(mb.keep))
    keys_after = matching.keys(sample_a.table, sample_a.row_ids)
    at = _positions(pc.index_in(keys_before, value_set=keys_after))  # each row of BEFORE in AFTER's sample
    usable = np.full(len(keys_after), -1, dtype=np.int64)
    usable[ma.keep] = np.arange(len(ma.keep))
    rows = np.flatnonzero(usable[at] >= 0)
    dropped = {f"{why} in BEFORE": n for why, n in mb.dropped.items()}
    if sample_a.bad is not None:
        codes = np.bincount(sample_a.bad[at[usable[at] < 0]], minlength=len(REASONS) + 1)
        dropped |= {
            f"{REASONS[c - 1].format(dims=ma.dims)} in AFTER": int(codes[c]) for c in np.flatnonzero(codes) if c
        }
    if len(rows) < 2:
        raise InputError(
            f"{len(rows)} row{'' if len(rows) == 1 else 's'} with a usable vector in both tables",
            "compare needs at least 2 rows with a vector on both sides",
            where=f"{before.source.name}, {after.source.name}",
        )
    theirs = usable[at[rows]]
    (Xb, mb), (Xa, ma) = _rows(Xb, mb, rows), _rows(Xa, ma, theirs)
    first = Side(before.name, before.source, before.plan, replace(sample_b, X=None), replace(mb, dropped=dropped), Xb)
    second = Side(after.name, after.source, after.plan, replace(sample_a, X=None), replace(ma, dropped={}), Xa)
    return first, second


def _positions(found) -> np.ndarray:
    if found.null_count:  # every row BEFORE sampled is in AFTER's sample: it was sampled by those very keys
        raise AssertionError("a sampled row of BEFORE is missing from AFTER's sample")
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.int64)


def _matrix(sample: Sample) -> tuple[np.ndarray, Matrix]:
    assert sample.X is not None, "sampled in this process: its vectors are here"
    bad = sample.bad if sample.bad is not None else np.zeros(len(sample.row_ids), np.int8)
    return matrix_from(sample.X, bad, sample.dims, "", sample.gaps)


def _rows(X: np.ndarray, matrix: Matrix, rows: np.ndarray) -> tuple[np.ndarray, Matrix]:
    """The kept rows `rows` (positions among them, ascending for BEFORE, in BEFORE's order for AFTER)."""
    if len(rows) == len(matrix.keep) and (rows == np.arange(len(rows))).all():
        return X, matrix
    return np.ascontiguousarray(X[rows]), replace(matrix, keep=matrix.keep[rows])
