"""Bokeh's ids made from the report's own content, so that a report made twice from the same input is the same
bytes (`--reproducible`).

Bokeh names models with a process-wide counter (`bokeh.util.serialization._simple_id`: the hundredth report of a
Python session would number its models from where the ninety-ninth stopped) and documents and their elements with
random UUIDs (`make_globally_unique_id`, `make_globally_unique_css_safe_id`, as `bokeh.embed.util` and
`bokeh.embed.elements` hold them); neither has a public seed. While `stable_ids` is entered, the counter restarts
and the UUIDs become `ep-<prefix>-<n>`. These are names Bokeh does not document, so they stay here: when one is
missing or not what it was, the release is outside the range fast/versions.py checked, or EMBPROJ_NO_FAST names
bokeh_ids, the page is rendered with Bokeh's own ids (the same page, but two renderings differ in their ids, so
`--reproducible` no longer gives the same bytes), and `status()` says so, for `--json`.
"""

from __future__ import annotations

import importlib
import itertools
import threading
from contextlib import contextmanager

from embproj.fast.versions import installed, refused
from embproj.options import say

COUNTER = ("bokeh.util.serialization", "_simple_id")
UUIDS = (  # every place a UUID function is called from while a standalone page is made
    ("bokeh.embed.util", "make_globally_unique_id"),
    ("bokeh.embed.util", "make_globally_unique_css_safe_id"),
    ("bokeh.embed.elements", "make_globally_unique_css_safe_id"),
)
STABLE = "stable: made from the report's content (a report made twice is the same bytes)"
STATE = {"status": "not used"}
_LOCK = threading.Lock()  # the counter and the functions are Bokeh's, for the whole process


@contextmanager
def stable_ids(prefix: str):
    """Bokeh's ids restarted and derived from `prefix` while entered, or Bokeh's own when that cannot be done."""
    with _LOCK:
        modules, why = _holders()
        if modules is None:
            STATE["status"] = f"Bokeh's own: {why}; a report made twice differs in its ids, {say('reproducible')} too"
            yield
            return
        counter = itertools.count(1)

        def make(*_):
            return f"ep-{prefix}-{next(counter)}"

        saved = [getattr(modules[module], name) for module, name in UUIDS]
        counting, name = modules[COUNTER[0]], COUNTER[1]
        start = getattr(counting, name)
        setattr(counting, name, 999)  # Bokeh's own first value: the first model is p1000, as in a fresh process
        for module, function in UUIDS:
            setattr(modules[module], function, make)
        STATE["status"] = STABLE
        try:
            yield
        finally:
            for (module, function), old in zip(UUIDS, saved):
                setattr(modules[module], function, old)
            setattr(counting, name, max(start, getattr(counting, name)))  # ids made later stay unique


def status() -> str:
    """How the last page of this process got its ids: STABLE, or Bokeh's own and why; "not used" before."""
    return STATE["status"]


def _holders():
    """The modules that hold COUNTER and UUIDS by name, or None and why they cannot be used."""
    why = refused("bokeh_ids")
    if why:
        return None, why
    try:
        modules = {module: importlib.import_module(module) for module, _ in (COUNTER, *UUIDS)}
    except ImportError as err:
        return None, f"{type(err).__name__}: {err}"
    release = f"bokeh {installed('bokeh')}"
    for module, function in UUIDS:
        if not callable(getattr(modules[module], function, None)):
            return None, f"{release} has no {module}.{function}"
    if type(getattr(modules[COUNTER[0]], COUNTER[1], None)) is not int:
        return None, f"{release} has no counter {'.'.join(COUNTER)}"
    return modules, None
