"""Pixel arrays: the `--image-shape` option, and whole columns of pixel cells turned into numpy at once."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pt

from embproj.errors import OptionError
from embproj.options import say


def shape_text(shape) -> str:
    return "x".join(map(str, shape))


def check_shape(column: str, values: int | None, shape: tuple[int, ...]) -> None:
    """Fail when `shape` does not hold the `values` numbers each cell of `column` has."""
    need = math.prod(shape)
    if values is not None and values != need:
        hint = guess_shape(values)
        fix = f"use {say('image_shape', hint)}" if hint else "give the height x width (x3 for colour) of the images"
        raise OptionError(
            f'{say("image_shape", shape_text(shape))} needs {need:,} values per cell, but column "{column}" has '
            f"{values:,}",
            fix,
        )


def guess_shape(values: int) -> str | None:
    """A square shape holding `values` numbers: 784 → 28x28, 3072 → 32x32x3."""
    for channels in (1, 3, 4):
        side = math.isqrt(values // channels)
        if values % channels == 0 and side > 1 and side * side * channels == values:
            return f"{side}x{side}" + (f"x{channels}" if channels > 1 else "")
    return None


# -- a column of cells ---------------------------------------------------------------------------------------


def leaf_is_number(t: pa.DataType) -> bool:
    depth = 0
    while pt.is_list(t) or pt.is_large_list(t) or pt.is_fixed_size_list(t):
        t, depth = t.value_type, depth + 1
    return depth > 0 and (pt.is_integer(t) or pt.is_floating(t))


def leaf_values(column: pa.ChunkedArray) -> pa.Array:
    arr = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    while pt.is_list(arr.type) or pt.is_large_list(arr.type) or pt.is_fixed_size_list(arr.type):
        arr = arr.flatten()
    return arr


def value_range(column: pa.ChunkedArray) -> tuple[float, float, bool] | None:
    """(lowest, highest, floats?) over the whole column, so every cell is scaled the same way."""
    leaves = leaf_values(column)
    if pt.is_floating(leaves.type):
        leaves = pc.filter(leaves, pc.is_finite(leaves))
    found = pc.min_max(leaves).as_py()
    if found["min"] is None:
        return None
    return float(found["min"]), float(found["max"]), pt.is_floating(leaves.type)


def pixel_cells(column: pa.ChunkedArray, shape) -> list | None:
    """One numpy array per row (None for a null row), in bulk when every cell has the same shape; else None.

    Going through Python lists costs seconds for a few thousand 32×32×3 cells; this takes milliseconds."""
    arr = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    valid = np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    dims, level, top = [], arr, True
    while pt.is_list(level.type) or pt.is_large_list(level.type) or pt.is_fixed_size_list(level.type):
        lengths = pc.list_value_length(level)
        if not top and lengths.null_count:
            return None
        found = pc.unique(lengths.drop_null())
        if len(found) > 1:
            return None
        dims.append(found[0].as_py() if len(found) else 0)
        level, top = level.flatten(), False
    values = level.to_numpy(zero_copy_only=False)
    if values.size != int(valid.sum()) * math.prod(dims):
        return None
    cell_shape = tuple(dims)
    if shape is not None and math.prod(shape) == math.prod(dims):
        cell_shape = tuple(shape)
    block = values.reshape((int(valid.sum()), *cell_shape))
    out: list = [None] * len(arr)
    for k, row in enumerate(np.flatnonzero(valid)):
        out[row] = block[k]
    return out


def range_of(arr: np.ndarray) -> tuple[float, float, bool]:
    if arr.dtype.kind != "f":
        return (float(arr.min()), float(arr.max()), False) if arr.size else (0.0, 0.0, False)
    finite = np.isfinite(arr)  # a mask, not a copy of the finite values
    if not finite.any():
        return 0.0, 0.0, True
    return float(arr.min(where=finite, initial=np.inf)), float(arr.max(where=finite, initial=-np.inf)), True


def to_bytes(arr: np.ndarray, value_range: tuple[float, float, bool]) -> np.ndarray:
    """Ints 0..255 stay; floats 0..1 (or −1..1) scale to 0..255; any other range is stretched to 0..255."""
    lo, hi, floats = value_range
    x = np.nan_to_num(arr.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    if lo >= 0:
        if floats and hi <= 1.0:
            x = x * 255.0
        elif hi > 255:
            x = x * (255.0 / hi)
    elif lo >= -1.0 and hi <= 1.0:
        x = (x + 1.0) * 127.5
    else:
        x = (x - lo) * (255.0 / (hi - lo))
    return np.ascontiguousarray(np.clip(np.rint(x), 0, 255).astype(np.uint8))


# -- files, bytes, base64 ------------------------------------------------------------------------------------
