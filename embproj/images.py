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

from .columns import is_base64_image, is_image_data
from .pixels import leaf_is_number, pixel_cells, range_of, to_bytes, value_range

JPEG_QUALITY = 80
FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF")
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


class ImageCells:
    """One column's plotted cells, ready to decode; `encode` runs again at a smaller size for the budget."""

    def __init__(self, column: pa.ChunkedArray, kind: str | None, shape=None, base_dir: Path | None = None):
        self.kind = kind or ""
        self.shape = tuple(shape) if shape else None
        self.base_dir = base_dir
        numeric = leaf_is_number(column.type)
        self.range = value_range(column) if numeric else None
        self.cells = (pixel_cells(column, self.shape) if numeric else None) or column.to_pylist()

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
    return Image.fromarray(to_bytes(arr, value_range or range_of(arr)))


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
        image = Image.fromarray(to_bytes(arr, range_of(arr)))
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
