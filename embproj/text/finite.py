"""JSON that every reader can parse: Python's `json` writes NaN and Infinity, which are not JSON (a CI step's
`jq` or a page's `JSON.parse` fails on them). A number that is not finite is written as null: unknown."""

from __future__ import annotations

import math
from typing import Any


def finite(value: Any) -> Any:
    """`value` with every float that is NaN or infinite, at any depth of dicts, lists and tuples, as None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    if hasattr(value, "dtype") and getattr(value, "shape", None) == ():  # a NumPy scalar
        return finite(value.item())
    return value
