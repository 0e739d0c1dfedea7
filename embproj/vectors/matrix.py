"""Stage 4, matrix: the sampled embedding as a float32 n×d matrix, with unusable rows dropped and counted.

Rows are dropped (never silently) when their vector is missing, empty, of the wrong length, holds text that is not
a number, holds NaN/±inf, or holds a value beyond ±`LARGEST` (whose squares overflow float32 distances). Wide
matrices are pre-reduced with PCA to `max_dims` before UMAP and t-SNE.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from embproj.errors import InputError
from embproj.options import say
from embproj.plan.choose import Embedding

EIGH_DIMS = 2048  # widest matrix pre-reduced through its covariance (d² floats); wider goes to scikit-learn
BLOCK_VALUES = 4_000_000  # float64 values per row block while pre-reducing
BLOCK_ROWS = 65_536  # rows moved at a time while dropping unusable rows in place
# The largest magnitude kept: a squared distance sums d squares, which stays below float32's 3.4e38 up to 10^8
# dimensions; a row beyond it would get NaN and infinite distances, and so no neighbours.
LARGEST = 1e15


@dataclass(frozen=True)
class Matrix:
    """What became of the sampled vectors: the rows kept, why the others were dropped, any pre-reduction. The
    vectors themselves (float32, a row per kept row) stay with the engine (engine/base.py), which hands the
    stages the rows they need."""

    keep: np.ndarray  # int64 positions of the kept rows in the sample table
    dims: int  # dimensions of the embedding as read
    dropped: dict[str, int] = field(default_factory=dict)  # reason -> rows
    reduced_to: int | None = None  # PCA pre-reduction target, when applied
    reduced_variance: float | None = None  # share of variance the pre-reduction kept
    seconds: float = 0.0
    gaps: tuple[int, ...] = ()  # numeric columns: per column, the dropped rows missing its number

    @property
    def rows(self) -> int:
        return len(self.keep)

    @property
    def n_dropped(self) -> int:
        return sum(self.dropped.values())


# Why a row's vector is not used; a row's code is 1 + its reason's index (0: usable). "{dims}" is the length kept.
REASONS = (
    "missing vectors",
    "empty vectors",
    "vectors not of length {dims}",
    "vectors holding text that is not a number",
    "NaN or infinite values",
    "values beyond ±1e15, too large to measure distances",
    "missing numbers",  # a numeric column's null or NaN (the columns are named in the warning: vectors/missing.py)
)
MISSING, EMPTY, WRONG, TEXT, NOT_FINITE, TOO_LARGE, GAP = range(1, 8)


@dataclass(frozen=True)
class Vectors:
    """A table's (or batch's) vectors: one float32 row per input row (zeros where unusable), and why not."""

    X: np.ndarray
    bad: np.ndarray  # int8 per row: 0, or the code of the reason in REASONS
    dims: int
    rounded: int = 0  # usable rows holding integers that float32 cannot hold exactly (beyond ±2^24): rounded


def vectors(table: pa.Table | pa.RecordBatch, embedding: Embedding) -> Vectors:
    """The embedding of each row as float32: one column of lists (Arrow lists or "[…]" text), or one number per
    column. The length kept is the plan's (the head's most common), else this table's most common."""
    if embedding.kind == "list":
        X, bad, dims, inexact = _from_list(table.column(embedding.columns[0]), embedding.text, embedding.dims)
    else:
        X, bad, dims, inexact = _from_columns(table, embedding.columns, embedding.fill)
    for begin in range(0, len(X) if X.size else 0, BLOCK_ROWS):  # a block at a time: the checks' temporaries stay small
        block = X[begin : begin + BLOCK_ROWS]
        within = ((block >= -LARGEST) & (block <= LARGEST)).all(axis=1)  # NaN is neither
        out = np.flatnonzero((bad[begin : begin + len(block)] == 0) & ~within)
        bad[begin + out] = np.where(np.isfinite(block[out]).all(axis=1), TOO_LARGE, NOT_FINITE)
    rounded = int(np.count_nonzero(inexact & (bad == 0))) if inexact is not None else 0
    return Vectors(X, bad, dims, rounded)


def build_matrix(table: pa.Table, embedding: Embedding, where: str = "") -> tuple[np.ndarray, Matrix]:
    """The usable vectors of `table` (bad rows dropped and counted), and what became of the others."""
    v = vectors(table, embedding)
    return matrix_from(v.X, v.bad, v.dims, where)


def matrix_from(X: np.ndarray, bad: np.ndarray, dims: int, where: str = "", gaps=None) -> tuple[np.ndarray, Matrix]:
    """The usable rows of X, compacted in place (a large X is not copied), and the `counted` rest; `gaps` (which
    numeric columns the dropped rows miss) is counted here unless given."""
    start = time.perf_counter()
    if gaps is None and (bad == GAP).any():
        gaps = np.isnan(X[bad == GAP]).sum(axis=0)
    matrix = counted(bad, dims, where, gaps)
    keep = matrix.keep
    if len(keep) < len(X):
        for begin in range(0, len(keep), BLOCK_ROWS):  # forward, block by block: a row only moves up
            rows = keep[begin : begin + BLOCK_ROWS]
            X[begin : begin + len(rows)] = X[rows]
        X = X[: len(keep)]
    X = np.ascontiguousarray(X, dtype=np.float32)
    return X, replace(matrix, seconds=time.perf_counter() - start)


def counted(bad: np.ndarray, dims: int, where: str = "", gaps=None) -> Matrix:
    """The rows kept (`bad` 0) and the others counted by reason, or an error when none is usable; `gaps`: per
    numeric column, the dropped rows missing its number (a Dask cluster's workers count them where the rows are)."""
    start = time.perf_counter()
    gaps = tuple(int(g) for g in gaps) if gaps is not None else ()
    codes = np.bincount(bad, minlength=len(REASONS) + 1)
    dropped = {REASONS[c - 1].format(dims=dims): int(codes[c]) for c in range(1, len(REASONS) + 1) if codes[c]}
    keep = np.flatnonzero(bad == 0)
    if len(keep) == 0:
        reasons = "; ".join(f"{n:,} {why}" for why, n in dropped.items()) or "no rows"
        fill = f" ({say('missing', 'fill')} fills missing numbers)" if codes[GAP] else ""
        raise InputError(
            f"no usable rows: every vector was dropped ({reasons})",
            f"check the embedding column, or choose another with {say('embedding')}/{say('columns')}{fill}",
            where=where or None,
        )
    return Matrix(keep, dims, dropped, seconds=time.perf_counter() - start, gaps=gaps)


def _from_list(col, text: bool, dims: int | None) -> tuple[np.ndarray, np.ndarray, int, np.ndarray | None]:
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    bad = np.zeros(len(arr), dtype=np.int8)
    bad_text = np.zeros(len(arr), dtype=bool)
    if text:
        arr, bad_text = _parse_text_vectors(arr)
    lengths = pc.list_value_length(arr).fill_null(-1).to_numpy(zero_copy_only=False)
    present = lengths[lengths > 0]
    if not dims:
        dims = int(np.bincount(present).argmax()) if len(present) else 0
    bad[bad_text] = TEXT
    bad[(lengths > 0) & (lengths != dims)] = WRONG
    bad[lengths == 0] = EMPTY
    bad[lengths == -1] = MISSING
    X = np.zeros((len(arr), dims), dtype=np.float32)
    inexact = None
    valid = np.flatnonzero(bad == 0)
    if len(valid):
        kept = arr.take(pa.array(valid)) if len(valid) < len(arr) else arr
        values = kept.flatten()
        X[valid] = _as_float32(values).reshape(len(valid), dims)
        if pa.types.is_integer(values.type):
            inexact = np.zeros(len(arr), dtype=bool)
            inexact[valid] = _inexact(values, X[valid].reshape(-1)).reshape(len(valid), dims).any(axis=1)
    return X, bad, dims, inexact


def _as_float32(values: pa.Array) -> np.ndarray:
    """Numbers as float32: an integer float32 cannot hold (beyond ±2^24) is rounded to the nearest it can, not
    refused (`_inexact` finds them)."""
    return pc.cast(values, pa.float32(), safe=False).to_numpy(zero_copy_only=False)


def _inexact(ints: pa.Array, as_float32: np.ndarray) -> np.ndarray:
    """Where float32 rounded an integer: compared in float64, which holds every integer up to 2^53 exactly."""
    exact = pc.cast(ints, pa.float64(), safe=False).to_numpy(zero_copy_only=False)
    with np.errstate(invalid="ignore"):  # nulls are NaN: not rounded, and dropped anyway
        return (exact != as_float32.astype(np.float64)) & ~np.isnan(exact)


def _parse_text_vectors(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """`"[0.1, 0.2]"` strings → list<float64>, vectorised in Arrow; tokens that are not numbers become NaN and are
    flagged so the row is dropped with its own reason."""
    inner = pc.replace_substring_regex(arr, r"^\s*\[|\]\s*$", "")
    blank = pc.equal(pc.utf8_trim_whitespace(inner), "").fill_null(False)
    tokens = pc.split_pattern(pc.if_else(blank, pa.scalar(None, pa.string()), inner), ",")
    flat = pc.utf8_trim_whitespace(tokens.flatten())
    numbers = pc.cast(flat, pa.float64(), safe=False) if _all_numbers(flat) else _coerce(flat)
    parsed = pa.ListArray.from_arrays(tokens.offsets, numbers, mask=pc.is_null(tokens))
    is_bad = pc.is_null(numbers).to_numpy(zero_copy_only=False)
    row_of = np.repeat(np.arange(len(arr)), pc.list_value_length(tokens).fill_null(0).to_numpy(zero_copy_only=False))
    bad = np.zeros(len(arr), dtype=bool)
    bad[row_of[is_bad]] = True
    empty_rows = blank.to_numpy(zero_copy_only=False)
    parsed = pc.if_else(pa.array(empty_rows), pa.scalar([], parsed.type), parsed)
    return parsed, bad


def _all_numbers(flat: pa.Array) -> bool:
    try:
        pc.cast(flat, pa.float64())
        return True
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False


def _coerce(flat: pa.Array) -> pa.Array:
    import pandas as pd

    values = pd.to_numeric(pd.Series(flat.to_pylist(), dtype=object), errors="coerce")
    return pa.array(values.to_numpy(dtype=np.float64), mask=values.isna().to_numpy())


def _from_columns(table, columns, fill=()) -> tuple[np.ndarray, np.ndarray, int, np.ndarray | None]:
    """One float32 number per column; a row missing one (null or NaN) is flagged GAP, or with `fill` (--missing
    fill) given that column's number."""
    X = np.empty((table.num_rows, len(columns)), dtype=np.float32)
    inexact = None
    for j, name in enumerate(columns):
        column = table.column(name)
        X[:, j] = _as_float32(column)
        if pa.types.is_integer(column.type):
            found = _inexact(column, X[:, j])
            inexact = found if inexact is None else inexact | found
        if fill:
            X[np.isnan(X[:, j]), j] = fill[j]
    bad = np.zeros(table.num_rows, dtype=np.int8)
    bad[np.isnan(X).any(axis=1)] = GAP
    return X, bad, len(columns), inexact


def needs_reduction(matrix: Matrix, algos, max_dims: int) -> bool:
    """UMAP and t-SNE see at most `max_dims` dimensions (PCA first); PCA alone sees the vectors as read."""
    return any(a in ("umap", "tsne") for a in algos) and matrix.dims > max_dims


@dataclass(frozen=True)
class Reducer:
    """A fitted PCA pre-reduction: each row's coordinates on the top components, row by row (the same numbers
    whatever the block a row is in, so on any engine)."""

    mean: np.ndarray  # float64, d
    components: np.ndarray  # float64, d × target
    target: int
    variance: float  # the share of variance kept
    pca: Any = None  # scikit-learn's PCA instead, for matrices wider than EIGH_DIMS

    def __call__(self, X: np.ndarray) -> np.ndarray:
        if self.pca is not None:
            return self.pca.transform(X).astype(np.float32)
        Y = np.empty((len(X), self.target), dtype=np.float32)
        step = max(1, BLOCK_VALUES // max(1, X.shape[1]))
        for start in range(0, len(X), step):
            Y[start : start + step] = (X[start : start + step] - self.mean) @ self.components
        return Y


def fit_reducer(X: np.ndarray, max_dims: int, seed: int) -> Reducer | None:
    """PCA to `max_dims` (fewer when there are fewer rows), None when X is narrow enough: the eigenvectors of the
    d×d covariance, built in float64 over row blocks (so no n×d float64 copy), signs fixed as scikit-learn's
    `svd_flip` fixes them. Wider than `EIGH_DIMS`, scikit-learn's randomized PCA."""
    n, d = X.shape
    target = min(max_dims, n - 1)
    if d <= max_dims or target < 2:
        return None
    if d > EIGH_DIMS:
        from sklearn.decomposition import PCA

        pca = PCA(n_components=target, random_state=seed).fit(X)
        return Reducer(np.zeros(d), np.zeros((d, target)), target, float(pca.explained_variance_ratio_.sum()), pca)
    mean = X.mean(axis=0, dtype=np.float64)
    step = max(1, BLOCK_VALUES // d)
    cov = np.zeros((d, d))
    for start in range(0, n, step):
        block = X[start : start + step] - mean
        cov += block.T @ block
    values, vectors = np.linalg.eigh(cov)  # ascending
    top = np.argsort(values, kind="stable")[::-1][:target]
    V = vectors[:, top]
    signs = np.sign(V[np.abs(V).argmax(axis=0), np.arange(target)])
    V *= np.where(signs == 0, 1.0, signs)
    total = float(np.clip(values, 0, None).sum())
    return Reducer(mean, V, target, float(values[top].sum() / total) if total > 0 else 1.0)


def pre_reduce(X: np.ndarray, max_dims: int, seed: int) -> tuple[np.ndarray, int | None, float | None]:
    """X reduced by a PCA fitted on all of it: (Y, target, variance kept), or X itself when narrow enough."""
    reducer = fit_reducer(X, max_dims, seed)
    return (X, None, None) if reducer is None else (reducer(X), reducer.target, reducer.variance)
