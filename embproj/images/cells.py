"""Any image cell → a small PNG/JPEG data URI, decoded and re-encoded by Pillow.

Cells are pixel arrays (H×W grey, H×W×3/4 colour; ints 0..255 or floats 0..1, or flat lists with a given
shape), image file bytes, file paths, data URIs or bare base64. Only freshly encoded pixels reach the report,
never a cell's own bytes or text: metadata chunks, trailing bytes and colour profiles are left behind. A cell
that cannot be read becomes `None` and a counted reason, never an exception. Pillow's decompression-bomb guard
stays on, and only raster formats are parsed (no EPS/PDF, which would run Ghostscript).

Memory is bounded before a pixel is decoded: an image's header says what its first frame (the only one ever
decoded) takes once decoded, in bytes, its bit depth counted (Pillow's pixel guard counts pixels, so a 16-bit or
float image of the same size would take two to four times as much), and over `MAX_IMAGE_BYTES` it is refused. A
large image is then shrunk a tile at a time, so no full-size copy of it is made whatever its mode.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
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

from embproj.images.pixels import leaf_is_number, pixel_cells, range_of, to_bytes, value_range
from embproj.options import say
from embproj.plan.columns import is_base64_image, is_image_data
from embproj.read.paths import Root, confine, image_roots

JPEG_QUALITY = 80
FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF")
URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)
# One image's pixels in memory, decoded (as Pillow holds them: see `decoded_bytes`), or a pixel array's float32
# working copy: an 8192×8192 colour image (TensorBoard's largest sprite) takes 268 MB and fits; a 9000×9000 float
# TIFF (a file of 300 KB when its pixels are zeros) would take 324 MB, twice that through libtiff, and is refused.
MAX_IMAGE_BYTES = 300_000_000
# Decoded bytes per report, at most. A decode costs time in proportion to its bytes (~50 megapixels of colour, or
# ~200 MB, a second for PNG on one core), so this bounds a report's image work at about 20 s a pass, whatever the
# table holds: 5,000 phone photos (JPEGs decode at 1/8 scale, ~0.2 megapixels each) fit; 5,000 files near
# Pillow's 89-megapixel limit would take hours and are cut off after about a dozen. An image counts once per run
# however many rows name it, and however many sizes the --max-html-mb budget tries.
MAX_DECODED_BYTES = 4_000_000_000
REDUCING_GAP = 3  # an image over this many times the thumbnail is first reduced by a whole factor (Pillow's own)
TILE_BYTES = 8 << 20  # what one tile of a large image (or strip of a pixel array) takes while it is reduced

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
    "outside": ("outside the data folder", "outside the data folder"),
    "budget": ("left out over the decoding budget", "left out over the decoding budget"),
}


class ImageFailure(Exception):
    """A cell that is not a readable image; `reason` is a key of REASONS."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# -- options -------------------------------------------------------------------------------------------------


class ImageCells:
    """One column's plotted cells, ready to decode; `encode` runs again at a smaller size for the budget.

    `roots` are the folders path cells may be read from, the data folder first (`base_dir` alone is the same as
    `roots=(base_dir,)`); none means the current folder; `follow`: symlinks in them are followed out of them
    (--follow-symlinks). One run decodes each file (by resolved path) or each distinct image (by content) once
    per size, and at most MAX_DECODED_BYTES in all."""

    def __init__(self, column: pa.ChunkedArray, kind: str | None, shape=None, base_dir=None, roots=None, follow=False):
        self.kind = kind or ""
        self.shape = tuple(shape) if shape else None
        given = roots if roots is not None else (base_dir,)
        self.roots = tuple(Path(r) for r in given if r is not None)
        self.base_dir = self.roots[0] if self.roots else None
        self._roots = tuple(Root.of(r, follow) for r in self.roots or image_roots(None))
        numeric = leaf_is_number(column.type)
        self.range = value_range(column) if numeric else None
        self.cells = (pixel_cells(column, self.shape) if numeric else None) or column.to_pylist()
        self._uris: dict[tuple, str] = {}  # (file or content, size) → data URI
        self._failed: dict = {}  # file or content → reason: a file that failed once fails at every size
        self._admitted: set = set()  # what the decoding budget has paid for
        self._decoded = 0  # bytes

    def __len__(self) -> int:
        return len(self.cells)

    @property
    def files(self) -> set[Path]:
        """The image files (resolved) this column's cells named and the run opened or tried to."""
        keys = {key for key, _ in self._uris} | set(self._failed)
        return {key for key in keys if isinstance(key, Path)}

    def encode(self, size: int, indices: Sequence[int] | None = None) -> tuple[list[str | None], Counter]:
        """Data URIs for the cells at `indices` (default all), None where one failed; failures by reason."""
        from PIL import Image

        failures: Counter = Counter()
        out: list[str | None] = []
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            for i in range(len(self.cells)) if indices is None else indices:
                try:
                    out.append(self._uri(self.cells[i], size))
                except ImageFailure as err:
                    failures[err.reason] += 1
                    out.append(None)
        return out, failures

    def thumbnail(self, cell, size: int):
        if cell is None:
            raise ImageFailure("empty")
        if self._is_pixels(cell):
            return _thumbnail(_from_pixels(cell, self.shape, self.range), size)
        found = _open_cell(cell, self.kind, self._roots)
        return self._decode(_key(found), found, size)

    def _is_pixels(self, cell) -> bool:
        return isinstance(cell, (list, tuple, np.ndarray)) or self.range is not None

    def _uri(self, cell, size: int) -> str:
        if cell is None or self._is_pixels(cell):  # pixels are in memory already: nothing to save
            return _encode(self.thumbnail(cell, size))
        found = _open_cell(cell, self.kind, self._roots)
        key = _key(found)
        if (key, size) in self._uris:
            return self._uris[key, size]
        if key in self._failed:
            raise ImageFailure(self._failed[key])
        try:
            uri = _encode(self._decode(key, found, size))
        except ImageFailure as err:
            self._failed[key] = err.reason
            raise
        self._uris[key, size] = uri
        return uri

    def _decode(self, key, found: Path | bytes, size: int):
        try:
            fp = open(found, "rb") if isinstance(found, Path) else io.BytesIO(found)  # noqa: SIM115 (closed below)
        except OSError:
            raise ImageFailure("unreadable") from None
        return _from_file(fp, size, lambda held: self._pay(key, held))

    def _pay(self, key, held: int) -> None:
        """Charge the decoding budget for an image about to be decoded, once per image, or refuse it."""
        if key in self._admitted:
            return
        if self._decoded + held > MAX_DECODED_BYTES:
            raise ImageFailure("budget")
        self._decoded += held
        self._admitted.add(key)


@dataclass(frozen=True)
class EncodedImages:
    cells: ImageCells
    uris: list[str | None]  # one per plotted row, at `size`
    failures: Counter
    size: int

    @property
    def warning(self) -> str | None:
        return failure_warning(self.failures, len(self.uris), self.cells.roots)


def encode_images(
    column: pa.ChunkedArray, kind: str | None, size: int, shape=None, roots=None, follow: bool = False
) -> EncodedImages:
    """`roots`: the folders path cells may be read from, the data folder first (see `image_roots`); a single
    folder is taken as the data folder alone."""
    if isinstance(roots, (str, Path)):
        roots = (roots,)
    cells = ImageCells(column, kind, shape, roots=roots, follow=follow)
    uris, failures = cells.encode(size)
    return EncodedImages(cells, uris, failures, size)


def failure_warning(failures: Counter, total: int, roots=None) -> str | None:
    """`3 of 1,797 images could not be read: 2 missing files, 1 not an image`, or None when all were read."""
    failed = sum(failures.values())
    if not failed:
        return None
    if isinstance(roots, (str, Path)):
        roots = (roots,)
    folders = " or ".join(str(r) for r in roots or ())
    parts = ", ".join(f"{n:,} {REASONS[why][n != 1]}" for why, n in failures.most_common())
    text = f"{failed:,} of {total:,} images could not be read: {parts}"
    if failures.get("missing") and folders:
        text += f" (relative paths are looked up in {folders})"
    if failures.get("outside"):
        text += f" (image files are read only inside {folders or 'the current folder'})"
    if failures.get("budget"):
        text += (
            f" (a report decodes at most {MAX_DECODED_BYTES / 1e6:,.0f} MB of images; "
            f"lower {say('max_points')} or use smaller images)"
        )
    return text


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
    if arr.shape[0] * arr.shape[1] > (Image.MAX_IMAGE_PIXELS or math.inf) or arr.size * 4 > MAX_IMAGE_BYTES:
        raise ImageFailure("too-large")
    found = value_range or range_of(arr)
    out = np.empty(arr.shape, np.uint8)
    rows = max(1, TILE_BYTES // (16 * math.prod(arr.shape[1:])))  # to_bytes' float32 copies, a strip at a time
    for top in range(0, len(arr), rows):
        out[top : top + rows] = to_bytes(arr[top : top + rows], found)
    return Image.fromarray(out)


def decoded_bytes(image) -> int:
    """What an opened image's first frame takes in memory once decoded, from its header alone: its pixels as
    Pillow holds them (1 byte a pixel for 1, L and P, 2 for 16-bit grey, 4 for 32-bit grey, floats and every mode
    of several bands, RGB included), and for a TIFF the strip or tile libtiff decodes it through, which can be
    the whole image again."""
    from PIL import ImageMode

    try:
        mode = ImageMode.getmode(image.mode)
        per_pixel = np.dtype(mode.typestr).itemsize if len(mode.bands) == 1 else 4
    except (KeyError, TypeError):
        per_pixel = 4
    w, h = image.size
    held = w * h * per_pixel
    if image.format == "TIFF":
        tags = getattr(image, "tag_v2", {})
        tile_w, tile_h, rows = tags.get(322), tags.get(323), tags.get(278)  # TileWidth, TileLength, RowsPerStrip
        if isinstance(tile_w, int) and isinstance(tile_h, int):
            held += tile_w * tile_h * per_pixel
        else:
            held += w * min(h, rows if isinstance(rows, int) and rows > 0 else h) * per_pixel
    return held


def _from_file(fp, size: int, pay):
    """Decode an image file's first frame into a thumbnail; `pay(bytes)` is called with what decoding it will
    hold in memory (`decoded_bytes`) before any pixel is decoded, which can refuse it."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(fp, formats=FORMATS) as image:
            if image.format == "JPEG":
                image.draft(None, (size, size))  # decode big JPEGs at 1/2, 1/4 or 1/8 scale: much faster
            held = decoded_bytes(image)
            if held > MAX_IMAGE_BYTES:
                raise ImageFailure("too-large")
            pay(held)
            image.load()
            return _upright(_thumbnail(image, size), _orientation(image))
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


def _key(found: Path | bytes):
    """What the decode cache knows an image by: its resolved path, or a digest of its bytes."""
    return found if isinstance(found, Path) else hashlib.blake2b(found, digest_size=16).digest()


def _open_cell(cell, kind: str, roots: tuple[Root, ...]) -> Path | bytes:
    """The image file a cell names (a readable file inside `roots`) or holds (bytes, a data URI, base64)."""
    if isinstance(cell, dict):  # Hugging Face Image feature
        cell = cell.get("bytes") or cell.get("path")
        if cell is None:
            raise ImageFailure("empty")
    if isinstance(cell, (bytes, bytearray, memoryview)):
        if not len(cell):
            raise ImageFailure("empty")
        return bytes(cell)
    if not isinstance(cell, str):
        raise ImageFailure("not-image")
    text = cell.strip()
    if not text:
        raise ImageFailure("empty")
    if text[:5].lower() == "data:":
        header, _, payload = text.partition(",")
        if ";base64" not in header.lower():
            raise ImageFailure("not-image")
        return _b64(payload)
    if kind == "image-base64" or (kind != "image-path" and is_base64_image(text)):
        return _b64(text)
    if URL.match(text) and text[:5].lower() != "file:":
        raise ImageFailure("url")  # the report is offline and embproj makes no network requests
    return _file_inside(text, roots)


def _file_inside(text: str, roots: tuple[Root, ...]) -> Path:
    """The resolved file a path cell names. Outside the roots is one reason whatever is there, decided before
    anything outside is looked at; only a path known to be inside is checked for existence."""
    path = confine(text, roots)
    if path is None:
        raise ImageFailure("outside")
    try:
        if not path.exists():
            raise ImageFailure("missing")
        if not path.is_file():  # a folder, a FIFO or a device: never read
            raise ImageFailure("unreadable")
    except OSError:
        raise ImageFailure("unreadable") from None
    return path


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


def _orientation(image) -> int:
    """The EXIF orientation (1, upright, to 8), read before the thumbnail, which has no EXIF."""
    from PIL import ExifTags

    try:
        return int(image.getexif().get(ExifTags.Base.Orientation, 1))
    except Exception:  # a broken EXIF block only loses the rotation
        return 1


def _upright(thumbnail, orientation: int):
    """The thumbnail turned as the EXIF orientation says (ImageOps.exif_transpose's turns): turning the small
    image gives the same pixels as turning the large one first, without a full-size copy."""
    from PIL import Image

    turn = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }.get(orientation)
    return thumbnail.transpose(turn) if turn is not None else thumbnail


def _thumbnail(image, size: int):
    """Longest side `size`: photos shrink (Lanczos), tiny pixel art grows by a whole factor (nearest)."""
    from PIL import Image

    w, h = image.size
    longest = max(w, h)
    image, box = _shrunk(image, size)
    image = _plain_mode(image)
    if longest < size:
        factor = size // longest
        if factor > 1:
            image = image.resize((w * factor, h * factor), Image.Resampling.NEAREST)
    elif longest > size:
        scale = size / longest
        target = (max(1, round(w * scale)), max(1, round(h * scale)))
        image = image.resize(target, Image.Resampling.LANCZOS, box=box, reducing_gap=REDUCING_GAP)
    # a fresh image from the pixels alone: no text chunks, EXIF, ICC profile or anything else from the cell
    return Image.frombytes(image.mode, image.size, image.tobytes())


def _shrunk(image, size: int):
    """A large image reduced by a whole factor (box averages, as Pillow's resize does first with a reducing gap),
    a tile at a time, each tile in a mode `reduce` takes: no full-size copy is made, whatever the mode (16-bit
    grey, palette) would be converted to. With the box of the result the whole image maps to (a partial last box
    is left out, as Pillow's resize leaves it); smaller images as they are, and no box."""
    from PIL import Image

    w, h = image.size
    factor = max(w, h) // (size * REDUCING_GAP)
    if factor < 2:
        return image, None
    side = max(1, math.isqrt(TILE_BYTES // 8) // factor) * factor  # a multiple of the factor: tiles meet on box edges
    out = None
    for top in range(0, h, side):
        for left in range(0, w, side):
            part = _reducible(image.crop((left, top, min(w, left + side), min(h, top + side)))).reduce(factor)
            if out is None:
                out = Image.new(part.mode, (-(-w // factor), -(-h // factor)))
            out.paste(part, (left // factor, top // factor))
    return out, (0.0, 0.0, w / factor, h / factor)


def _reducible(image):
    """The image in a mode `reduce` takes: 16-bit grey as 32-bit, a palette as its colours, 1-bit as grey."""
    if image.mode.startswith("I;"):
        return image.convert("I")
    if image.mode in ("P", "PA"):
        return image.convert("RGBA" if "transparency" in image.info or image.mode == "PA" else "RGB")
    if image.mode == "1":
        return image.convert("L")
    return image


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
