"""The Python API's keywords (`embproj.report(data, algo="pca", max_points=10_000)`): the CLI's option names with
underscores, checked and turned into `Options` from the declarations in options.py."""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

from embproj.errors import OptionError
from embproj.options import Options, declared, python_literal
from embproj.text.words import closest, guessed

ARTICLED = {"int": "an int", "float": "a float", "str": "a str", "bool": "a bool", "Path": "a path",
            "tuple": "a list"}  # fmt: skip


def from_keywords(command: str = "project", /, **keywords: Any) -> Options:
    """`Options` from the Python API's keywords (the CLI's names with underscores) for `command` ("project" for
    `report`, "compare" for `compare`): unknown names and values of the wrong type are an `OptionError` that lists
    what is accepted."""
    names = [f.name for f, _ in declared(command)]
    words = {f.name: d.words for f, d in declared()}
    values: dict[str, Any] = {}
    hints = typing.get_type_hints(Options)
    for key, value in keywords.items():
        if key not in names:
            guess = closest(key, names)
            raise OptionError(f'unknown option "{key}"', guessed(guess, f"use one of {', '.join(sorted(names))}"))
        if isinstance(value, str) and value in words[key]:
            values[key] = words[key][value]
        else:
            values[key] = _coerce(key, value, hints[key])
    return Options(**values)


def _coerce(key: str, value, hint):
    """The value as the field holds it (str paths → Path, lists → tuples), or an error naming the type wanted."""
    if value is None:
        return None
    kinds = tuple(typing.get_origin(a) or a for a in typing.get_args(hint) or (hint,) if a is not type(None))
    if Path in kinds and isinstance(value, (str, Path)):
        return Path(value)
    if tuple in kinds and isinstance(value, (list, tuple)):
        inner = typing.get_args(next(a for a in typing.get_args(hint) or (hint,) if typing.get_origin(a) is tuple))
        return tuple(Path(v) for v in value) if inner and inner[0] is Path else tuple(value)
    if isinstance(value, bool):
        ok = bool in kinds
    elif isinstance(value, int):
        ok = int in kinds or float in kinds
    elif isinstance(value, float):
        ok = float in kinds or (int in kinds and value.is_integer())
    else:
        ok = isinstance(value, kinds)
    if not ok:
        wanted = " or ".join(
            ARTICLED.get(k.__name__, f"a {k.__name__}") for k in sorted(kinds, key=lambda k: k.__name__)
        )
        raise OptionError(f"option {key}={python_literal(value)} is a {type(value).__name__}", f"give {wanted}")
    return value
