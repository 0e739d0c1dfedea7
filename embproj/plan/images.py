"""The plan's choice of the column shown as each point's image (plan/choose.py asks), with its reason; an option always
wins, and an image option that cannot work is an error that says why."""

from __future__ import annotations

import math

from embproj.errors import OptionError
from embproj.images.pixels import check_shape, guess_shape, shape_text
from embproj.options import Options, parse_image_shape, say
from embproj.plan.columns import IMAGE_NAMES, ColumnInfo


def choose_image(info, by_name, opts: Options) -> tuple:
    """(column, why, kind, shape), plan.Role's fields, of the image shown on hover; `--image` and `--image-shape`
    win."""
    if opts.no_images or opts.image == "":
        return (None, "turned off")
    shape = parse_image_shape(opts.image_shape)
    if opts.image:
        return _image_role(by_name[opts.image], f"set by {say('image')}", shape)
    if shape:
        fits = [c for c in info if c.kind in ("vector", "pixels") and _values_per_cell(c) == math.prod(shape)]
        if not fits:
            raise OptionError(
                f"{say('image_shape', shape_text(shape))}: no column has {math.prod(shape):,} numbers per row",
                f"name the column of pixel lists with {say('image', 'COL')}",
            )
        best = sorted(fits, key=lambda c: not IMAGE_NAMES.search(c.name))[0]
        return _image_role(
            best, f"{math.prod(shape):,} numbers per row, shown as {shape_text(shape)} ({say('image_shape')})", shape
        )
    for c in info:
        if c.is_image:
            return (c.name, _image_reason(c), c.kind)
    for c in info:
        if c.kind == "vector" and IMAGE_NAMES.search(c.name) and guess_shape(c.dims or 0):
            return (
                None,
                f'"{c.name}" may be flat images: show them with {say("image_shape", guess_shape(c.dims or 0))}',
            )
    return (None, "no column of pixel arrays, image bytes, paths or data URIs")


def _image_role(col: ColumnInfo, reason: str, shape) -> tuple:
    """The image role for `col`, or an error saying why its cells cannot be images."""
    if shape:
        if col.kind not in ("vector", "pixels"):
            raise OptionError(
                f'{say("image_shape")} is for lists of pixel numbers, but "{col.name}" is {col.type}',
                f"leave {say('image_shape')} out for image files, paths and base64 text",
            )
        check_shape(col.name, _values_per_cell(col), shape)
        return (col.name, reason, "pixels", shape)
    if col.kind == "vector":
        raise OptionError(
            f"{say('image', col.name, quote=True)} holds flat lists of {col.dims} numbers",
            f"give their shape with {say('image_shape', guess_shape(col.dims or 0) or 'HxW')}",
        )
    if col.numbers or col.kind == "text-vector":
        raise OptionError(
            f"{say('image', col.name, quote=True)} holds {col.type} values, not images",
            "choose a column of pixel arrays, image bytes, file paths, data URIs or base64 text",
        )
    return (col.name, reason, col.kind)


def _values_per_cell(c: ColumnInfo) -> int | None:
    return c.dims if c.kind == "vector" else math.prod(c.shape) if c.shape else None


def _image_reason(c: ColumnInfo) -> str:
    if c.kind == "pixels":
        return f"{'×'.join(map(str, c.shape or ()))} arrays of numbers (pixels)"
    return {
        "image-bytes": "binary cells holding image files",
        "image-uri": "data:image URIs",
        "image-path": "paths to image files",
        "image-base64": "base64 text",
    }[c.kind]
