"""Any image cell → a small PNG/JPEG data URI, decoded and re-encoded by Pillow.

Only re-encoded pixels reach the report, never a cell's own bytes or text. A cell that cannot be read becomes
`None` and a counted reason, never an exception.
"""

from __future__ import annotations

import base64
import binascii
import io
import warnings
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np

JPEG_QUALITY = 80


class ImageFailure(Exception):
    """A cell that is not a readable image; the message is the reason counted in the summary."""


def encode_column(
    cells: Iterable, kind: str, thumb_size: int, base_dir: Path | None = None
) -> tuple[list[str | None], Counter]:
    """Data URIs for `cells` (None where a cell failed) and a count of failures by reason."""
    from PIL import Image

    failures: Counter = Counter()
    out: list[str | None] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        for cell in cells:
            try:
                out.append(to_data_uri(cell, kind, thumb_size, base_dir))
            except ImageFailure as err:
                failures[str(err)] += 1
                out.append(None)
    return out, failures


def to_data_uri(cell, kind: str, thumb_size: int, base_dir: Path | None = None) -> str:
    if cell is None:
        raise ImageFailure("empty cells")
    image = _decode(cell, kind, base_dir)
    image = _thumbnail(image, thumb_size)
    return _encode(image)


def _decode(cell, kind: str, base_dir: Path | None):
    from PIL import Image, UnidentifiedImageError

    if kind == "pixels" or isinstance(cell, (list, np.ndarray)):
        return _from_pixels(cell)
    try:
        data = _bytes_of(cell, kind, base_dir)
        image = Image.open(io.BytesIO(data))
        image.load()
        return image
    except (UnidentifiedImageError, SyntaxError):
        raise ImageFailure("not an image") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageFailure("too many pixels (decompression bomb guard)") from None
    except (OSError, ValueError):
        raise ImageFailure("corrupt image data") from None


def _bytes_of(cell, kind: str, base_dir: Path | None) -> bytes:
    if isinstance(cell, (bytes, bytearray, memoryview)):
        return bytes(cell)
    if not isinstance(cell, str):
        raise ImageFailure("not an image")
    text = cell.strip()
    if text.startswith("data:"):
        header, _, payload = text.partition(",")
        if ";base64" not in header:
            raise ImageFailure("not an image")
        return _b64(payload)
    if kind == "image-base64":
        return _b64(text)
    path = Path(text).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.is_file():
        raise ImageFailure("missing files")
    try:
        return path.read_bytes()
    except OSError:
        raise ImageFailure("unreadable files") from None


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError):
        raise ImageFailure("invalid base64") from None


def _from_pixels(cell):
    from PIL import Image

    try:
        arr = np.asarray(cell, dtype=np.float64)
    except (ValueError, TypeError):
        raise ImageFailure("ragged or non-numeric pixel arrays") from None
    if arr.ndim == 3 and arr.shape[2] not in (1, 3, 4) or arr.ndim not in (2, 3) or 0 in arr.shape:
        raise ImageFailure("arrays that are not H×W, H×W×3 or H×W×4")
    if not np.isfinite(arr).all():
        arr = np.nan_to_num(arr, nan=0.0, posinf=0.0, neginf=0.0)
    if arr.max(initial=0) <= 1.0 and arr.min(initial=0) >= 0.0:
        arr = arr * 255.0
    pixels = np.clip(np.rint(arr), 0, 255).astype(np.uint8)
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    mode = {2: "L"}.get(pixels.ndim) or {3: "RGB", 4: "RGBA"}[pixels.shape[2]]
    return Image.fromarray(pixels, mode=mode)


def _thumbnail(image, size: int):
    from PIL import Image

    if image.mode not in ("L", "RGB", "RGBA", "LA"):
        image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")
    w, h = image.size
    longest = max(w, h)
    if longest < size:  # pixel art (8×8 digits): enlarge by a whole factor so pixels stay square and crisp
        factor = max(1, size // longest)
        return image.resize((w * factor, h * factor), Image.Resampling.NEAREST)
    image = image.copy()
    image.thumbnail((size, size), Image.Resampling.LANCZOS)
    return image


def _encode(image) -> str:
    buf = io.BytesIO()
    photo = image.mode == "RGB" and min(image.size) >= 48 and _colours(image) > 256
    if photo:
        image.save(buf, format="JPEG", quality=JPEG_QUALITY, optimize=True)
        mime = "image/jpeg"
    else:
        image.save(buf, format="PNG", optimize=True)
        mime = "image/png"
    return f"data:{mime};base64,{base64.b64encode(buf.getvalue()).decode('ascii')}"


def _colours(image) -> int:
    found = image.getcolors(maxcolors=257)
    return 257 if found is None else len(found)
