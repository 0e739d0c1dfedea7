"""NumPy files as tables: a `.npy` n×d matrix is the embedding (memory-mapped and streamed in batches; labels come
with `--metadata`), and a `.npz` archive is one column per array whose first dimension is the row count (n×d
vectors, n×H×W[×C] pixel arrays, n numbers or strings). Nothing is unpickled (`allow_pickle=False`), and an array
is loaded only once its header says it fits within MAX_ARRAY_BYTES, and the archive's directory says that the
members one table loads, all together, decompress to at most that (`Inflation`)."""

from __future__ import annotations

import math
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from embproj.errors import InputError
from embproj.read.base import BATCH_ROWS, Source
from embproj.read.choose import in_memory
from embproj.text.words import listing

MAX_ARRAY_BYTES = 4 << 30  # .npz members are decompressed whole: 4 GB at most in all (a .npy is memory-mapped)
# Real arrays compress a few times at most (floats ~1.1×, pixels ~5×); zeros compress ~1,000×, so that a 3 MB
# archive can hold 3 GB of them. Members may decompress to INFLATE_FREE, or this many times what they store.
MAX_INFLATION = 100
INFLATE_FREE = 256 << 20
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
        seen = listing([f"{key} {_shape(shape)}" for key, (shape, _) in shapes.items()], quote=False)
        raise InputError(
            f"no n×d matrix of numbers among the arrays ({seen})",
            "save the embedding as a 2-D array, for example np.savez(path, embedding=X, label=y)",
        )
    n = max(shapes[key][0][0] for key in matrices)  # the widest table the arrays make
    empty = [key for key, (shape, _) in shapes.items() if 0 in shape[1:]]  # rows of no values: nothing to show
    kept = [key for key, (shape, _) in shapes.items() if shape and shape[0] == n and len(shape) <= 4]
    kept = [key for key in kept if key not in empty]
    left = [f"{key} {_shape(shapes[key][0])}" for key in shapes if key not in kept and key not in empty]
    loaded = Inflation().load(path, kept)  # all of them checked before any is decompressed
    arrays = {key: ndarray_column(array) for key, array in loaded.items()}
    notes: tuple[str, ...] = ()
    if left:
        notes += (f"arrays left out, as they do not have {n:,} rows: {listing(left, quote=False)}",)
    if empty:
        shown = listing([f"{key} {_shape(shapes[key][0])}" for key in empty], quote=False)
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
                    data = f.tell()
                check_size(shape, dtype, member[: -len(".npy")])
                if math.prod(shape) * dtype.itemsize > archive.getinfo(member).file_size - data:
                    raise InputError(
                        f'array "{member[: -len(".npy")]}" is cut short: its header claims more data than the '
                        "archive holds",
                        "write it again with np.savez",
                    )
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


class Inflation:
    """What the .npz members one table loads decompress to, in all (an archive's, or those of the archives a W&B
    table's columns name), from each archive's directory: zipfile never gives more than a member's recorded size,
    and a member's array header may claim no more than that. Loading stops with an error before the member that
    would take the table over MAX_ARRAY_BYTES, or over MAX_INFLATION times what its members store."""

    def __init__(self) -> None:
        self.inflated = 0
        self.stored = 0

    def load(self, path: Path, keys: list[str]) -> dict[str, np.ndarray]:
        """The arrays `keys` of the archive, each a member `<key>.npy` that npz_shapes has read the header of."""
        try:
            with zipfile.ZipFile(path) as archive:
                members = [archive.getinfo(f"{key}.npy") for key in keys]
        except (zipfile.BadZipFile, KeyError, OSError) as err:
            raise InputError(f"not a readable .npz archive ({err})", "write it again with np.savez") from None
        inflated = self.inflated + sum(m.file_size for m in members)
        stored = self.stored + sum(m.compress_size for m in members)
        if inflated > MAX_ARRAY_BYTES:
            raise InputError(
                f"the arrays to load take {_amount(inflated)} once decompressed, more than embproj loads from .npz "
                f"archives ({_amount(MAX_ARRAY_BYTES)})",
                "save the embedding as .npy (read memory-mapped) or Parquet",
            )
        if inflated > max(INFLATE_FREE, MAX_INFLATION * stored):
            raise InputError(
                f"the arrays to load would decompress to {_amount(inflated)} from {_amount(stored)}, "
                f"{inflated / max(stored, 1):,.0f} times as much (arrays of real data compress a few times; more "
                f"than {MAX_INFLATION} times and {INFLATE_FREE >> 20} MB is refused)",
                "save them with np.savez (not np.savez_compressed), or as .npy or Parquet",
            )
        self.inflated, self.stored = inflated, stored
        with np.load(path, allow_pickle=False) as archive:
            return {key: _load(lambda key=key: archive[key]) for key in keys}


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


def _amount(size: int) -> str:
    return f"{size / 1e9:,.1f} GB" if size >= 1e9 else f"{size / 1e6:,.1f} MB"


def _dtype(dtype: np.dtype) -> str:
    """A dtype for messages: records by their field count (their whole description may run to pages)."""
    return f"records of {len(dtype.names):,} fields" if dtype.names else str(dtype)


def _shape(shape) -> str:
    return "×".join(map(str, shape)) if shape else "a scalar"
