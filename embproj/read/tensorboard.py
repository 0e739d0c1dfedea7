"""A TensorBoard log folder written by `add_embedding` (tensorboardX or torch.utils.tensorboard): its
`projector_config.pbtxt` (text protobuf, parsed here) lists the embeddings, each a headerless `tensors.tsv`, an
optional `metadata.tsv` (joined by read/metadata.py) and an optional `sprite.png`, cut into one image per row. Paths in
the config are read only inside the log folder, and only regular files (read/paths.py's rule). A folder whose runs
are its subfolders (`runs/`) lists theirs; a run that is a symlink out of it is refused unless --follow-symlinks."""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pyarrow as pa

from embproj.errors import InputError
from embproj.read.base import Source, shown_path
from embproj.read.choose import choose
from embproj.read.jsonfile import read_text
from embproj.read.paths import Root, as_named, listed_file, named_file

CONFIG = "projector_config.pbtxt"
MAX_CONFIG_BYTES = 1 << 20
MAX_NESTING = 50  # a projector config nests 2 deep (embeddings { sprite { } })
MAX_DIGITS = 20  # a 64-bit integer's digits at the most (Python refuses to read more than 4,300)
TOKEN = re.compile(
    r"""(?P<space>\s+|\#[^\n]*)|(?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')"""
    r"""|(?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?[fF]?)|(?P<name>[A-Za-z_][\w.]*)|(?P<punct>[{}<>:;,\[\]])"""
)
ESCAPE = re.compile(rb"\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)", re.S)
SIMPLE_ESCAPES = {b"n": b"\n", b"t": b"\t", b"r": b"\r", b"a": b"\a", b"b": b"\b", b"f": b"\f", b"v": b"\v"}


@dataclass(frozen=True)
class Embedding:
    name: str  # tensor_name, "digits:00000"; prefixed by its run's folder when listed from a folder of runs
    folder: Path  # the folder of the config that lists it: its paths are relative to it, and kept inside it
    entry: dict
    follow: bool = False  # --follow-symlinks: the folder's symlinks may lead out of it


def open_logdir(path: Path, table: str | None, follow: bool = False) -> Source:
    found = embeddings(path, follow)
    if not found:
        raise InputError(f"{CONFIG} lists no embeddings", "write one with add_embedding", where=shown_path(path))
    names = [e.name for e in found]
    counts = Counter(e.name.split(":")[0] for e in found)  # a tag logged at several steps names none of them
    tags = {e.name.split(":")[0]: e.name for e in found if counts[e.name.split(":")[0]] == 1}
    key = choose(names, table, "embeddings", f"{shown_path(path)} (TensorBoard)", aliases=tags)
    chosen = next(e for e in found if e.name == key)
    source, parts = _open_embedding(chosen)
    which = "its only embedding" if len(found) == 1 else f"one of {len(found):,} embeddings,"
    said = f'{shown_path(path)}: TensorBoard, {which} "{key}" ({", ".join(parts)})'
    inputs = (chosen.folder / CONFIG, *source.inputs)
    return replace(source, format="tensorboard", about=(said,), inputs=inputs)


def embeddings(path: Path, follow: bool = False) -> list[Embedding]:
    """Every embedding the folder's config lists, or its runs' (subfolders with a config) when it has none."""
    root = Root.of(path, follow)
    if os.path.lexists(path / CONFIG):
        listed_file(path / CONFIG, path, root, named=f'"{CONFIG}"', inside=shown_path(path), where=shown_path(path))
        return [
            Embedding(_first(e, "tensor_name") or f"embedding {i + 1}", path, e, follow)
            for i, e in enumerate(_entries(path))
        ]
    found = []
    for config in sorted(path.glob(f"*/{CONFIG}")):
        rel = shown_path(config.relative_to(path))
        listed_file(config, path, root, named=f'"{rel}"', inside=shown_path(path), where=shown_path(path))
        for i, e in enumerate(_entries(config.parent)):
            tag = _first(e, "tensor_name") or f"embedding {i + 1}"
            found.append(Embedding(f"{config.parent.name}/{tag}", config.parent, e, follow))
    return found


def _entries(folder: Path) -> list[dict]:
    text = read_text(folder / CONFIG, None, MAX_CONFIG_BYTES, fix="write the config again with add_embedding")
    try:
        config = parse_pbtxt(text)
    except InputError as err:
        raise err.at(shown_path(folder / CONFIG)) from None
    return [e for e in config.get("embeddings", []) if isinstance(e, dict)]


def _open_embedding(e: Embedding) -> tuple[Source, list[str]]:
    from embproj.read.metadata import with_metadata
    from embproj.read.tables import open_file

    tensors = _first(e.entry, "tensor_path")
    if tensors is None:
        raise InputError(
            f'embedding "{e.name}" has no tensor_path: its vectors are in a TensorFlow checkpoint, which embproj '
            "does not read",
            "write them with add_embedding (tensorboardX or torch.utils.tensorboard), which saves tensors.tsv",
            where=shown_path(e.folder / CONFIG),
        )
    path = _inside(e, "tensor_path", tensors)
    if path.suffix.lower() != ".tsv":
        raise InputError(
            f'tensor_path "{tensors}" is not a .tsv file', "write the vectors as tensors.tsv", where=str(path)
        )
    source = _as_vectors(open_file(path, str(path), "tsv", None, header=False))  # add_embedding writes no header
    parts = [path.relative_to(e.folder).as_posix()]
    meta = _first(e.entry, "metadata_path")
    if meta is not None:
        meta_path = _inside(e, "metadata_path", meta)
        source = with_metadata(source, meta_path)
        parts.append(meta_path.name)
    sprite = e.entry.get("sprite")
    if isinstance(sprite, list) and sprite and isinstance(sprite[0], dict):
        image = _first(sprite[0], "image_path")
        dims = _whole_numbers(sprite[0].get("single_image_dim", []))
        if image is not None:
            source, said = _with_sprite(source, _inside(e, "image_path", image), dims)
            parts.append(said)
    return source, parts


def _as_vectors(source: Source) -> Source:
    """tensors.tsv's columns as one column of vectors, "embedding": the metadata's numbers are fields, never
    dimensions."""
    text = [f.name for f in source.schema if not (pa.types.is_integer(f.type) or pa.types.is_floating(f.type))]
    if text:
        raise InputError(
            f"tensors.tsv has text in column {source.schema.names.index(text[0]) + 1:,}, not only numbers",
            "write one vector per line, its numbers separated by tabs, with no header (as add_embedding does)",
            where=source.name,
        )
    dims = len(source.schema)
    vectors = pa.field("embedding", pa.list_(pa.float32(), dims))

    def batches(columns):
        for batch in source._open(None):
            with np.errstate(over="ignore"):  # beyond float32: infinite, a row the matrix stage drops and counts
                block = np.column_stack([c.to_numpy(zero_copy_only=False) for c in batch.columns]).astype(np.float32)
            flat = pa.array(block.reshape(-1))
            yield pa.RecordBatch.from_arrays(
                [pa.FixedSizeListArray.from_arrays(flat, dims)], schema=pa.schema([vectors])
            )

    return replace(source, schema=pa.schema([vectors]), _open=batches, parts=())


def _inside(e: Embedding, field: str, text: str) -> Path:
    """The regular file a config path names, resolved inside the config's folder; an error when it is outside
    (by its text or a symlink's), missing, or not a regular file (a named pipe would block for ever)."""
    root = Root.of(e.folder, e.follow)
    found = named_file(
        text, root, named=f'{field} "{text}"', inside="the log folder",
        fix="keep the projector's files inside the folder that holds projector_config.pbtxt",
        missing="check the log folder is complete", where=shown_path(e.folder / CONFIG),
    )  # fmt: skip
    return as_named(found, e.folder, root)  # as the user named the folder, for messages


def _first(entry: dict, field: str) -> str | None:
    values = entry.get(field) or []
    if values and isinstance(values[0], dict):
        raise InputError(f"{field} holds a message, not a value", "write the config again with add_embedding")
    return str(values[0]) if values else None


def _whole_numbers(values: list) -> list[int]:
    """The values that are whole numbers (8, 8.0); a text, an infinity or NaN is left out."""
    return [
        int(v) for v in values
        if not isinstance(v, bool) and (isinstance(v, int) or (isinstance(v, float) and v.is_integer()))
    ]  # fmt: skip


# -- the sprite ---------------------------------------------------------------------------------------------------


def _with_sprite(source: Source, path: Path, dims: list[int]) -> tuple[Source, str]:
    """`source` with a column of pixel arrays cut from the sprite, row-major (TensorBoard's layout); rows past the
    images the sprite holds get none."""
    from embproj.read.metadata import join_columns
    from embproj.read.numpy_files import ndarray_column

    source = replace(source, inputs=(*source.inputs, path))
    try:
        tiles = _cut(path, dims)
    except InputError as err:  # the vectors are still worth a map
        note = f"{err.where}: {err.what}, so the map has no images ({err.fix})"
        return replace(source, notes=(*source.notes, note)), f"{path.name} (unreadable)"
    name = next(n for n in ("image", "sprite", "sprite_image") if n not in source.schema.names)
    column_type = ndarray_column(tiles[:0]).type

    def part(offset: int, rows: int) -> pa.Table:
        got = ndarray_column(tiles[offset : offset + rows])
        if len(got) < rows:
            got = pa.concat_arrays([got, pa.nulls(rows - len(got), column_type)])
        return pa.table({name: got})

    joined = join_columns(source, pa.schema([pa.field(name, column_type)]), part)
    return joined, f"{path.name} ({'×'.join(map(str, tiles.shape[1:3]))} images)"


def _cut(path: Path, dims: list[int]) -> np.ndarray:
    """The sprite's images, k × H × W (× 3 for colour): `single_image_dim` is [width, height]. Its size is checked
    from its header before it is decoded (as any image is: images.MAX_IMAGE_BYTES), and it is cut a row of images
    at a time, so memory holds the decoded sprite and the images, no other copy."""
    import warnings

    from PIL import Image

    from embproj.images.cells import MAX_IMAGE_BYTES, decoded_bytes

    where = shown_path(path)
    if len(dims) != 2 or min(dims) < 1:
        raise InputError(
            "the sprite's single_image_dim is not [width, height]", "write the config again with add_embedding",
            where=where,
        )  # fmt: skip
    width, height = dims
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=["PNG", "JPEG"]) as image:
                held = decoded_bytes(image)
                if held > MAX_IMAGE_BYTES:
                    raise InputError(
                        f"the sprite is {image.size[0]:,}×{image.size[1]:,} pixels, {held / 1e6:,.0f} MB once "
                        f"decoded, more than embproj decodes of one image ({MAX_IMAGE_BYTES / 1e6:,.0f} MB)",
                        "write a smaller sprite: TensorBoard's projector shows sprites up to 8192×8192",
                    )
                tiles = _tiles(image, width, height)
    except InputError as err:
        raise err.at(where) from None
    except Exception as err:  # Pillow raises many kinds on damaged or oversized files
        raise InputError(f"cannot read the sprite ({err})", "write it again with add_embedding", where=where) from None
    if tiles.ndim == 4 and (tiles[..., 0] == tiles[..., 1]).all() and (tiles[..., 1] == tiles[..., 2]).all():
        tiles = np.ascontiguousarray(tiles[..., 0])  # grey: one channel
    return tiles


def _tiles(image, width: int, height: int) -> np.ndarray:
    """The images of a sprite, row-major (TensorBoard's layout), one row of them converted at a time."""
    w, h = image.size
    per_row, rows = w // width, h // height
    if per_row == 0 or rows == 0:
        raise InputError(
            f"the sprite ({w}×{h}) is smaller than one {width}×{height} image", "write it again with add_embedding"
        )
    grey = image.mode in ("1", "L", "LA", "I") or image.mode.startswith("I;")
    tiles = np.empty((rows * per_row, height, width, *(() if grey else (3,))), np.uint8)
    for r in range(rows):
        strip = image.crop((0, r * height, per_row * width, (r + 1) * height)).convert("L" if grey else "RGB")
        cells = np.asarray(strip).reshape(height, per_row, width, *tiles.shape[3:])
        tiles[r * per_row : (r + 1) * per_row] = cells.swapaxes(0, 1)
    return tiles


# -- text protobuf --------------------------------------------------------------------------------------------


def parse_pbtxt(text: str) -> dict[str, list]:
    """A protobuf text message as {field: [values]}: a nested message is a dict, a scalar a str, int or float;
    every field is a list (fields repeat). Enough of the format for a projector config, with no protobuf."""
    tokens = [(m.lastgroup, m.group(), m.start()) for m in TOKEN.finditer(text) if m.lastgroup != "space"]
    if sum(len(m.group()) for m in TOKEN.finditer(text)) != len(text):
        at = _first_gap(text)
        raise InputError(f"unreadable text at line {text.count(chr(10), 0, at) + 1}", "write the config again")
    return _message(tokens, 0, text, None, 0)[0]


def _message(tokens: list, i: int, text: str, close: str | None, depth: int) -> tuple[dict[str, list], int]:
    if depth > MAX_NESTING:
        raise InputError(f"messages nested more than {MAX_NESTING} deep in the config", "write the config again")
    fields: dict[str, list] = {}
    while i < len(tokens):
        kind, value, at = tokens[i]
        if kind == "punct" and value == close:
            return fields, i + 1
        if kind != "name":
            raise _unexpected(value, at, text)
        i += 1
        if i < len(tokens) and tokens[i][1] == ":":
            i += 1
        if i >= len(tokens):
            raise _unexpected("the end", len(text), text)
        kind2, value2, at2 = tokens[i]
        if value2 in ("{", "<"):
            inner, i = _message(tokens, i + 1, text, "}" if value2 == "{" else ">", depth + 1)
            fields.setdefault(value, []).append(inner)
        elif value2 == "[":
            i += 1
            while i < len(tokens) and tokens[i][1] != "]":
                if tokens[i][1] != ",":
                    scalar, i = _scalar(tokens, i, text)
                    fields.setdefault(value, []).append(scalar)
                else:
                    i += 1
            i += 1
        else:
            scalar, i = _scalar(tokens, i, text)
            fields.setdefault(value, []).append(scalar)
        if i < len(tokens) and tokens[i][1] in (";", ","):
            i += 1
    if close is not None:
        raise _unexpected("the end", len(text), text)
    return fields, i


def _scalar(tokens: list, i: int, text: str):
    kind, value, at = tokens[i]
    if kind == "string":
        parts = []
        while i < len(tokens) and tokens[i][0] == "string":  # adjacent strings are one
            parts.append(_unquote(tokens[i][1]))
            i += 1
        return "".join(parts), i
    if kind == "number":
        number = value.rstrip("fF")
        if any(c in number for c in ".eE"):
            return float(number), i + 1  # too large is infinite, as protobuf reads it
        if len(number.lstrip("+-")) > MAX_DIGITS:  # beyond 64 bits: protobuf refuses it too
            line = text.count("\n", 0, at) + 1
            raise InputError(
                f"a number of {len(number.lstrip('+-')):,} digits at line {line:,} of the config, more than any of "
                "its fields holds",
                "write the config again",
            )
        return int(number), i + 1
    if kind == "name":  # an enum value, true or false
        return value, i + 1
    raise _unexpected(value, at, text)


def _unquote(token: str) -> str:
    body = token[1:-1].encode("utf-8")

    def one(m: re.Match) -> bytes:
        code = m.group(1)
        if code[:1] == b"x" and len(code) > 1:
            return bytes([int(code[1:], 16)])
        if code[:1].isdigit():
            return bytes([int(code, 8) & 0xFF])
        return SIMPLE_ESCAPES.get(code, code)

    return ESCAPE.sub(one, body).decode("utf-8", "replace")


def _unexpected(what: str, at: int, text: str) -> InputError:
    line = text.count("\n", 0, at) + 1
    return InputError(f'unexpected "{what[:40]}" at line {line:,} of the config', "write the config again")


def _first_gap(text: str) -> int:
    at = 0
    for m in TOKEN.finditer(text):
        if m.start() != at:
            return at
        at = m.end()
    return at
