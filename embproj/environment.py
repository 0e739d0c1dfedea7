"""The environment variables embproj reads, each named once, and the one way to read a switch."""

from __future__ import annotations

import os
from collections.abc import Mapping

NO_NUMBA_CACHE = "EMBPROJ_NO_NUMBA_CACHE"  # run umap-learn's kernels as shipped, compiled in every process
NO_FAST = "EMBPROJ_NO_FAST"  # fast/'s speed paths to leave for the public path: names, comma-separated, or 1 for all
SOURCE_DATE_EPOCH = "SOURCE_DATE_EPOCH"  # the time a reproducible report records (reproducible-builds.org)
NUMBA_CACHE_DIR = "NUMBA_CACHE_DIR"  # numba's own: where compiled kernels go, when the user chose
NO_CACHE = "EMBPROJ_NO_CACHE"  # compute every map, as --no-cache does (the test suite sets it)


def switched_on(name: str, environ: Mapping[str, str] = os.environ) -> bool:
    """A switch is on when set to anything but nothing or 0."""
    return environ.get(name, "").strip() not in ("", "0")


def source_date_epoch(environ: Mapping[str, str] = os.environ) -> int | None:
    """SOURCE_DATE_EPOCH as whole seconds, or None when unset or not a number."""
    value = environ.get(SOURCE_DATE_EPOCH, "").strip()
    return int(value) if value.isdigit() else None
