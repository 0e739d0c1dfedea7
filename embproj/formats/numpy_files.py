"""NumPy files as tables: a `.npy` n×d matrix is the embedding (memory-mapped and streamed in batches; labels come
with `--metadata`), and a `.npz` archive is one column per array whose first dimension is the row count (n×d
vectors, n×H×W[×C] pixel arrays, n numbers or strings). Nothing is unpickled (`allow_pickle=False`), and an array
is loaded only once its header says it fits within MAX_ARRAY_BYTES."""

from __future__ import annotations

import math
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from embproj.errors import InputError
from embproj.formats import in_memory
from embproj.source import BATCH_ROWS, Source

MAX_ARRAY_BYTES = 4 << 30  # an .npz member is decompressed whole: 4 GB at most (a .npy is memory-mapped instead)
NUMERIC = "biuf"  # bool, signed and unsigned ints, floats
PICKLED_FIX = "save plain numbers or text, for example np.save(path, X.astype(np.float32))"


def open_numpy(path: Path, name: str) -> Source:
    if path.suffix.lower() == ".npz":
        return _open_npz(path, name)
    return _open_npy(path, name)


# -- .npy: one matrix, streamed -----------------------------------------------------------------------------------


def _open_npy(path: Path, name: str) -> Source:
    matrix = _load(lambda: np.load(path, mmap_mode="r", allow_pickle=False))
    if matrix.ndim != 2 or matrix.dtype.kind not in NUMERIC:
        raise InputError(
            f"the array is {_shape(matrix.shape)} of {_dtype(matrix.dtype)}, not an n×d matrix of numbers",
            "save one row per item, for example np.save(path, X.reshape(len(X), -1).astype(np.float32))",
        )
    if not matrix.size:
        raise InputError(
            f"the array is {_shape(matrix.shape)}: it holds no numbers",
            "save one row of numbers per item, for example np.save(path, X.astype(np.float32))",
        )
    n = matrix.shape[0]
    schema = pa.schema([pa.field("embedding", ndarray_column(matrix[:0]).type)])

    def batches(columns) -> Iterator[pa.RecordBatch]:
        rows = np.load(path, mmap_mode="r", allow_pickle=False)
        for start in range(0, n, BATCH_ROWS):
            block = ndarray_column(np.asarray(rows[start : start + BATCH_ROWS]))
            yield pa.RecordBatch.from_arrays([block], schema=schema)

    return Source(name, "npy", schema, n, batches)


# -- .npz: one column per array --------------------------------------------------------------------------------


def _open_npz(path: Path, name: str) -> Source:
    shapes = npz_shapes(path)
    matrices = [key for key, (shape, kind) in shapes.items() if len(shape) == 2 and kind in NUMERIC and all(shape)]
    if not matrices:
        seen = ", ".join(f"{key} {_shape(shape)}" for key, (shape, _) in shapes.items()) or "none"
        raise InputError(
            f"no n×d matrix of numbers among the arrays ({seen})",
            "save the embedding as a 2-D array, for example np.savez(path, embedding=X, label=y)",
        )
    n = max(shapes[key][0][0] for key in matrices)  # the widest table the arrays make
    empty = [key for key, (shape, _) in shapes.items() if 0 in shape[1:]]  # rows of no values: nothing to show
    kept = [key for key, (shape, _) in shapes.items() if shape and shape[0] == n and len(shape) <= 4]
    kept = [key for key in kept if key not in empty]
    left = [f"{key} {_shape(shapes[key][0])}" for key in shapes if key not in kept and key not in empty]
    arrays = {}
    with np.load(path, allow_pickle=False) as archive:
        for key in kept:
            arrays[key] = ndarray_column(_load(lambda key=key: archive[key]))
    notes: tuple[str, ...] = (f"arrays left out, as they do not have {n:,} rows: {', '.join(left)}",) if left else ()
    if empty:
        shown = ", ".join(f"{key} {_shape(shapes[key][0])}" for key in empty)
        notes += (f"arrays left out, as their rows hold no values: {shown}",)
    return in_memory(pa.table(arrays), name, "npz", notes)


def npz_shapes(path: Path) -> dict[str, tuple[tuple[int, ...], str]]:
    """Each member's shape and dtype kind, read from its header alone; an error when one would not fit."""
    found: dict[str, tuple[tuple[int, ...], str]] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if not member.endswith(".npy"):
                    continue
                with archive.open(member) as f:
                    version = np.lib.format.read_magic(f)
                    header = np.lib.format.read_array_header_1_0 if version == (1, 0) else None
                    shape, _, dtype = (header or np.lib.format.read_array_header_2_0)(f)
                check_size(shape, dtype, member[: -len(".npy")])
                found[member[: -len(".npy")]] = (tuple(shape), dtype.kind)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as err:
        raise InputError(f"not a readable .npz archive ({err})", "write it again with np.savez") from None
    return found


def check_size(shape, dtype: np.dtype, key: str) -> None:
    size = math.prod(shape) * dtype.itemsize
    if size > MAX_ARRAY_BYTES:
        raise InputError(
            f'array "{key}" is {size / 1e9:,.1f} GB once decompressed, more than embproj loads from an .npz',
            "save it as .npy (read memory-mapped) or Parquet",
        )
    if dtype.kind == "O":
        raise InputError(f'array "{key}" holds Python objects (pickled), which embproj does not load', PICKLED_FIX)


# -- arrays as Arrow ------------------------------------------------------------------------------------------


def ndarray_column(arr: np.ndarray) -> pa.Array:
    """An n×… array as one Arrow column: numbers as nested fixed-size lists (float16 as float32), text as
    strings."""
    kind = arr.dtype.kind
    if 0 in arr.shape[1:]:  # Arrow has no fixed-size list of no values to build from them
        raise InputError(f"an array of {_shape(arr.shape)} holds no values a row", "save rows of at least one value")
    if not arr.dtype.isnative:  # saved on a big-endian machine
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if kind == "b" and arr.ndim > 1:  # a matrix of flags: numbers, so that it can be an embedding
        arr, kind = arr.astype(np.uint8), "u"
    if kind in "US":
        flat = pa.array(arr.astype(str).reshape(-1))
    elif kind in NUMERIC:
        values = arr.astype(np.float32) if arr.dtype == np.float16 else arr
        flat = pa.array(np.ascontiguousarray(values).reshape(-1))
    else:
        raise InputError(f"an array of {_dtype(arr.dtype)} cannot be read", PICKLED_FIX)
    for size in reversed(arr.shape[1:]):
        flat = pa.FixedSizeListArray.from_arrays(flat, size)
    return flat


def _load(read):
    try:
        return read()
    except ValueError as err:
        if "pickle" in str(err).lower() or "python objects" in str(err).lower():
            raise InputError(
                "the array holds Python objects (pickled), which embproj does not load", PICKLED_FIX
            ) from None
        raise InputError(f"not a readable NumPy file ({err})", "write it again with np.save") from None
    except (OSError, EOFError) as err:
        raise InputError(f"cannot read the NumPy file ({err})", "check that it is complete") from None


def _dtype(dtype: np.dtype) -> str:
    """A dtype for messages: records by their field count (their whole description may run to pages)."""
    return f"records of {len(dtype.names):,} fields" if dtype.names else str(dtype)


def _shape(shape) -> str:
    return "×".join(map(str, shape)) if shape else "a scalar"
