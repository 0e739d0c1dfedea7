"""Any image cell → a small PNG/JPEG data URI, decoded and re-encoded by Pillow.

Cells are pixel arrays (H×W grey, H×W×3/4 colour; ints 0..255 or floats 0..1, or flat lists with a given
shape), image file bytes, file paths, data URIs or bare base64. Only freshly encoded pixels reach the report,
never a cell's own bytes or text: metadata chunks, trailing bytes and colour profiles are left behind. A cell
that cannot be read becomes `None` and a counted reason, never an exception. Pillow's decompression-bomb guard
stays on, and only raster formats are parsed (no EPS/PDF, which would run Ghostscript).
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import re
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pt

from .columns import is_base64_image, is_image_data
from .errors import OptionError

JPEG_QUALITY = 80
FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF")
SHAPE = re.compile(r"^\s*(\d+)\s*[x×*,]\s*(\d+)\s*(?:[x×*,]\s*(\d+)\s*)?$", re.I)
URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)

REASONS = {  # reason → (one, many), as the warning counts them
    "empty": ("empty cell", "empty cells"),
    "missing": ("missing file", "missing files"),
    "unreadable": ("unreadable file", "unreadable files"),
    "url": ("URL (not downloaded)", "URLs (not downloaded)"),
    "not-image": ("not an image", "not images"),
    "corrupt": ("corrupt image", "corrupt images"),
    "too-large": ("too large to decode safely", "too large to decode safely"),
    "base64": ("invalid base64 text", "invalid base64 texts"),
    "array": ("array that is not H×W, H×W×3 or H×W×4", "arrays that are not H×W, H×W×3 or H×W×4"),
    "length": ("pixel list of the wrong length", "pixel lists of the wrong length"),
}


class ImageFailure(Exception):
    """A cell that is not a readable image; `reason` is a key of REASONS."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# -- options -------------------------------------------------------------------------------------------------


def parse_image_shape(value) -> tuple[int, ...] | None:
    """`28x28` or `32x32x3` (or a tuple) → (28, 28) / (32, 32, 3); None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        match = SHAPE.match(value)
        shape = tuple(int(g) for g in match.groups() if g is not None) if match else ()
    else:
        shape = tuple(int(v) for v in value)
    if len(shape) not in (2, 3) or 0 in shape or (len(shape) == 3 and shape[2] not in (1, 3, 4)):
        shown = value if isinstance(value, str) else "x".join(map(str, value))
        raise OptionError(
            f'--image-shape "{shown}" is not HxW or HxWxC',
            "give height x width, and x3 or x4 for colour, for example --image-shape 28x28 or 32x32x3",
        )
    return shape


def shape_text(shape) -> str:
    return "x".join(map(str, shape))


def check_shape(column: str, values: int | None, shape: tuple[int, ...]) -> None:
    """Fail when `shape` does not hold the `values` numbers each cell of `column` has."""
    need = math.prod(shape)
    if values is not None and values != need:
        hint = guess_shape(values)
        fix = f"use --image-shape {hint}" if hint else "give the height x width (x3 for colour) of the images"
        raise OptionError(
            f'--image-shape {shape_text(shape)} needs {need:,} values per cell, but column "{column}" has {values:,}',
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


class ImageCells:
    """One column's plotted cells, ready to decode; `encode` runs again at a smaller size for the budget."""

    def __init__(self, column: pa.ChunkedArray, kind: str | None, shape=None, base_dir: Path | None = None):
        self.kind = kind or ""
        self.shape = tuple(shape) if shape else None
        self.base_dir = base_dir
        numeric = _leaf_is_number(column.type)
        self.range = _value_range(column) if numeric else None
        self.cells = (_pixel_cells(column, self.shape) if numeric else None) or column.to_pylist()

    def __len__(self) -> int:
        return len(self.cells)

    def encode(self, size: int, indices: Sequence[int] | None = None) -> tuple[list[str | None], Counter]:
        """Data URIs for the cells at `indices` (default all), None where one failed; failures by reason."""
        from PIL import Image

        failures: Counter = Counter()
        out: list[str | None] = []
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            for i in range(len(self.cells)) if indices is None else indices:
                try:
                    out.append(_encode(self.thumbnail(self.cells[i], size)))
                except ImageFailure as err:
                    failures[err.reason] += 1
                    out.append(None)
        return out, failures

    def thumbnail(self, cell, size: int):
        if cell is None:
            raise ImageFailure("empty")
        if isinstance(cell, (list, tuple, np.ndarray)) or self.range is not None:
            return _thumbnail(_from_pixels(cell, self.shape, self.range), size)
        return _from_file(cell, self.kind, self.base_dir, size)


@dataclass(frozen=True)
class EncodedImages:
    cells: ImageCells
    uris: list[str | None]  # one per plotted row, at `size`
    failures: Counter
    size: int

    @property
    def warning(self) -> str | None:
        return failure_warning(self.failures, len(self.uris), self.cells.base_dir)


def encode_images(column: pa.ChunkedArray, kind: str | None, size: int, shape=None, base_dir=None) -> EncodedImages:
    cells = ImageCells(column, kind, shape, base_dir)
    uris, failures = cells.encode(size)
    return EncodedImages(cells, uris, failures, size)


def failure_warning(failures: Counter, total: int, base_dir: Path | None = None) -> str | None:
    """`3 of 1,797 images could not be read: 2 missing files, 1 not an image`, or None when all were read."""
    failed = sum(failures.values())
    if not failed:
        return None
    parts = ", ".join(f"{n:,} {REASONS[why][n != 1]}" for why, n in failures.most_common())
    text = f"{failed:,} of {total:,} images could not be read: {parts}"
    if failures.get("missing") and base_dir is not None:
        text += f" (relative paths are looked up in {base_dir})"
    return text


def image_base_dir(source_name: str) -> Path | None:
    """Relative paths in a table resolve against the data file's folder (or the dataset folder itself)."""
    path = Path(source_name)
    if path.is_dir():
        return path
    return path.parent if path.exists() else None


# -- pixels --------------------------------------------------------------------------------------------------


def _leaf_is_number(t: pa.DataType) -> bool:
    depth = 0
    while pt.is_list(t) or pt.is_large_list(t) or pt.is_fixed_size_list(t):
        t, depth = t.value_type, depth + 1
    return depth > 0 and (pt.is_integer(t) or pt.is_floating(t))


def _leaves(column: pa.ChunkedArray) -> pa.Array:
    arr = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    while pt.is_list(arr.type) or pt.is_large_list(arr.type) or pt.is_fixed_size_list(arr.type):
        arr = arr.flatten()
    return arr


def _value_range(column: pa.ChunkedArray) -> tuple[float, float, bool] | None:
    """(lowest, highest, floats?) over the whole column, so every cell is scaled the same way."""
    leaves = _leaves(column)
    if pt.is_floating(leaves.type):
        leaves = pc.filter(leaves, pc.is_finite(leaves))
    found = pc.min_max(leaves).as_py()
    if found["min"] is None:
        return None
    return float(found["min"]), float(found["max"]), pt.is_floating(leaves.type)


def _pixel_cells(column: pa.ChunkedArray, shape) -> list | None:
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


def _from_pixels(cell, shape, value_range):
    from PIL import Image

    try:
        arr = np.asarray(cell)
    except (ValueError, TypeError):
        raise ImageFailure("array") from None
    if arr.dtype.kind not in "iuf" or arr.size == 0:
        raise ImageFailure("array")
    if shape is not None:
        if arr.size != math.prod(shape):
            raise ImageFailure("length")
        arr = arr.reshape(shape)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (3, 4))):
        raise ImageFailure("array")
    if arr.shape[0] * arr.shape[1] > (Image.MAX_IMAGE_PIXELS or math.inf):
        raise ImageFailure("too-large")
    return Image.fromarray(_to_bytes(arr, value_range or _range_of(arr)))


def _range_of(arr: np.ndarray) -> tuple[float, float, bool]:
    finite = arr[np.isfinite(arr)] if arr.dtype.kind == "f" else arr
    if finite.size == 0:
        return 0.0, 0.0, arr.dtype.kind == "f"
    return float(finite.min()), float(finite.max()), arr.dtype.kind == "f"


def _to_bytes(arr: np.ndarray, value_range: tuple[float, float, bool]) -> np.ndarray:
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


def _from_file(cell, kind: str, base_dir: Path | None, size: int):
    from PIL import Image, UnidentifiedImageError

    fp = _open_cell(cell, kind, base_dir)
    try:
        with Image.open(fp, formats=FORMATS) as image:
            if image.format == "JPEG":
                image.draft(None, (size, size))  # decode big JPEGs at 1/2, 1/4 or 1/8 scale: much faster
            image.load()
            return _thumbnail(_upright(image), size)
    except UnidentifiedImageError:
        fp.seek(0)
        raise ImageFailure("corrupt" if is_image_data(fp.read(12)) else "not-image") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning, MemoryError):
        raise ImageFailure("too-large") from None
    except ImageFailure:
        raise
    except Exception:  # Pillow raises many kinds (OSError, SyntaxError, struct.error, …) on damaged files
        raise ImageFailure("corrupt") from None
    finally:
        fp.close()


def _open_cell(cell, kind: str, base_dir: Path | None):
    """A binary file object for a cell of bytes, a data URI, base64 text or a path."""
    if isinstance(cell, dict):  # Hugging Face Image feature
        cell = cell.get("bytes") or cell.get("path")
        if cell is None:
            raise ImageFailure("empty")
    if isinstance(cell, (bytes, bytearray, memoryview)):
        if not len(cell):
            raise ImageFailure("empty")
        return io.BytesIO(bytes(cell))
    if not isinstance(cell, str):
        raise ImageFailure("not-image")
    text = cell.strip()
    if not text:
        raise ImageFailure("empty")
    if text[:5].lower() == "data:":
        header, _, payload = text.partition(",")
        if ";base64" not in header.lower():
            raise ImageFailure("not-image")
        return io.BytesIO(_b64(payload))
    if kind == "image-base64" or (kind != "image-path" and is_base64_image(text)):
        return io.BytesIO(_b64(text))
    if text[:7].lower() == "file://":
        text = text[7:]
    elif URL.match(text):
        raise ImageFailure("url")  # the report is offline and embproj makes no network requests
    return _open_path(text, base_dir)


def _open_path(text: str, base_dir: Path | None):
    path = Path(text).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    try:
        if not path.exists():
            raise ImageFailure("missing")
        if not path.is_file():  # a folder, a FIFO or a device: never read
            raise ImageFailure("unreadable")
        return open(path, "rb")  # noqa: SIM115 (closed by _from_file)
    except OSError:
        raise ImageFailure("unreadable") from None


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        pass
    try:  # URL-safe alphabet, or missing padding
        cleaned = "".join(text.split()).replace("-", "+").replace("_", "/")
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ImageFailure("base64") from None


# -- thumbnail and encoding ----------------------------------------------------------------------------------


def _upright(image):
    from PIL import ImageOps

    try:
        return ImageOps.exif_transpose(image) or image
    except Exception:  # a broken EXIF block only loses the rotation
        return image


def _thumbnail(image, size: int):
    """Longest side `size`: photos shrink (Lanczos), tiny pixel art grows by a whole factor (nearest)."""
    from PIL import Image

    image = _plain_mode(image)
    w, h = image.size
    longest = max(w, h)
    if longest < size:
        factor = size // longest
        if factor > 1:
            image = image.resize((w * factor, h * factor), Image.Resampling.NEAREST)
    elif longest > size:
        scale = size / longest
        target = (max(1, round(w * scale)), max(1, round(h * scale)))
        image = image.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
    # a fresh image from the pixels alone: no text chunks, EXIF, ICC profile or anything else from the cell
    return Image.frombytes(image.mode, image.size, image.tobytes())


def _plain_mode(image):
    """L, LA, RGB or RGBA; an alpha channel that is fully opaque is dropped."""
    from PIL import Image

    mode = image.mode
    if mode in ("I", "F") or mode.startswith("I;"):
        arr = np.asarray(image, dtype=np.float32)
        image = Image.fromarray(_to_bytes(arr, _range_of(arr)))
    elif mode == "P" or mode == "PA":
        image = image.convert("RGBA" if "transparency" in image.info or mode == "PA" else "RGB")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() or "a" in mode else ("L" if mode == "1" else "RGB"))
    if image.mode in ("LA", "RGBA") and image.getchannel("A").getextrema() == (255, 255):
        image = image.convert(image.mode[:-1])
    return image


def _encode(image) -> str:
    """JPEG for colourful photos (small), PNG for the rest (exact): grey, flat colours, pixel art, alpha."""
    buf = io.BytesIO()
    if image.mode == "RGB" and _colours(image) > 256:
        image.save(buf, format="JPEG", quality=JPEG_QUALITY, optimize=True)
        mime = "image/jpeg"
    else:  # zlib's default level: within 2% of optimize=True at a twentieth of the time
        image.save(buf, format="PNG")
        mime = "image/png"
    return f"data:{mime};base64,{base64.b64encode(buf.getvalue()).decode('ascii')}"


def _colours(image) -> int:
    found = image.getcolors(maxcolors=257)
    return 257 if found is None else len(found)
