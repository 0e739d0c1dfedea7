"""The releases of each dependency whose private names fast/ was read against, declared once, and the one check a
speed path makes before it leans on them: is the installed release one of those, and has the user turned the path
off (EMBPROJ_NO_FAST=umap_transform,bokeh_ids, or 1 for every path)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import cache

from embproj.environment import NO_FAST

Release = tuple[int, int, int]

# [low, high): the releases whose private names were read and tested; pyproject.toml pins umap-learn and Bokeh
# to the same ranges, so a range is left only by an install that ignores the pins.
CHECKED: dict[str, tuple[Release, Release]] = {
    "umap-learn": ((0, 5, 5), (0, 6, 0)),  # its numba kernels; transform's steps and the fitted _a, _b
    "pynndescent": ((0, 5, 0), (0, 8, 0)),  # NNDescent, as umap-learn's transform uses it (query with epsilon)
    "bokeh": ((3, 4, 0), (4, 0, 0)),  # its id counter and id functions
}
PATHS: dict[str, tuple[str, ...]] = {  # each speed path (a module of fast/) and whose private names it reads
    "umap_kernels": ("umap-learn",),
    "umap_search": ("umap-learn", "pynndescent"),
    "umap_transform": ("umap-learn",),
    "bokeh_ids": ("bokeh",),
}
EVERY_PATH = ("1", "all")


def refused(path: str, environ: Mapping[str, str] = os.environ) -> str | None:
    """Why `path` must take the public way (the user turned it off, or a release outside CHECKED), or None."""
    if turned_off(path, environ):
        return f"{NO_FAST} turns it off"
    return next(filter(None, map(unchecked, PATHS[path])), None)


def turned_off(path: str, environ: Mapping[str, str] = os.environ) -> bool:
    names = {name.strip() for name in environ.get(NO_FAST, "").split(",")}
    return path in names or any(name in names for name in EVERY_PATH)


def unchecked(distribution: str) -> str | None:
    """Why the installed release may not hold the names fast/ reads ("umap-learn 0.6.1 is outside the checked
    range 0.5.5 to <0.6.0"), or None when it is within CHECKED."""
    found = installed(distribution)
    if found is None:
        return f"{distribution} is not installed"
    low, high = CHECKED[distribution]
    if low <= release(found) < high:
        return None
    return f"{distribution} {found} is outside the checked range {dotted(low)} to <{dotted(high)}"


@cache
def installed(distribution: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def release(text: str) -> Release:
    """A release's first three numbers: "0.5.12" → (0, 5, 12), "4.0.0rc1" → (4, 0, 0), "3" → (3, 0, 0)."""
    parts = [int(p) for p in re.findall(r"\d+", text)[:3]]
    return (*parts, 0, 0, 0)[:3]  # type: ignore[return-value]


def dotted(parts: Release) -> str:
    return ".".join(map(str, parts))
