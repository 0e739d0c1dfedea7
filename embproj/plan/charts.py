"""The plan's choices for what explains the map (plan/choose.py asks): which columns get a chart beside it, and what
names its clusters. Each with its reason; an option always wins."""

from __future__ import annotations

from embproj.errors import OptionError
from embproj.options import MAX_CHARTS, Options, say
from embproj.plan.columns import MAX_CATEGORIES, ColumnInfo


def choose_charts(info, by_name, opts: Options, used: set) -> tuple[tuple[tuple[str, str], ...], str]:
    """((column, "histogram" | "bars"), …) and why: label-like and numeric columns outside the embedding and the
    image, in file order, at most MAX_CHARTS; `--charts` wins (`--charts ''`: none)."""
    if opts.charts is not None:
        if len(opts.charts) > MAX_CHARTS:
            raise OptionError(f"{say('charts', opts.charts)} names {len(opts.charts)} columns",
                              f"give at most {MAX_CHARTS}")  # fmt: skip
        for name in opts.charts:
            c = by_name[name]
            if not c.is_scalar:
                raise OptionError(f"{say('charts', (name,), quote=True)} holds {c.type} values, which cannot be "
                                  "charted", "chart columns of numbers, labels or text")  # fmt: skip
        return tuple(
            (n, chart_kind(by_name[n])) for n in opts.charts
        ), f"set by {say('charts')}" if opts.charts else "none"
    fits = [c for c in info if c.name not in used and c.distinct >= 2 and c.kind in ("float", "int", "category")]
    reason = "label-like and numeric columns outside the embedding"
    if len(fits) > MAX_CHARTS:
        reason += f", the first {MAX_CHARTS}; choose others with {say('charts')}"
    return tuple((c.name, chart_kind(c)) for c in fits[:MAX_CHARTS]), reason if fits else "no such column"


def chart_kind(c: ColumnInfo) -> str:
    """A histogram for numbers, a bar chart of the top categories for anything else."""
    return "histogram" if c.numeric else "bars"


def choose_names(by_name, opts: Options, columns) -> tuple[str | None, str, str | None]:
    """(column, why, kind) of what a cluster's label says: its most distinctive words (--text, kind "words"), else
    the majority value of the label-like column among `columns` ("majority"), else its number (None)."""
    if opts.text is not None:
        c = by_name[opts.text]
        if c.numeric or not c.is_scalar:
            raise OptionError(f"{say('text', c.name, quote=True)} holds {c.type} values, not text",
                              "give a column of text (titles, sentences, documents)")  # fmt: skip
        return c.name, f'the most distinctive words of "{c.name}" in each ({say("text")})', "words"
    name = majority_column(by_name, columns)
    if name is not None:
        return name, f'the majority value of "{name}" in each, and its share', "majority"
    return None, f"numbers (no label-like column; {say('text', 'COL')} names them by their words)", None


def majority_column(by_name, columns) -> str | None:
    """The first of `columns` (the label, the colour) with few distinct values: a cluster's purity is the share of
    its most common value there."""
    for name in columns:
        c = by_name.get(name or "")
        if c is not None and (c.kind == "category" or (c.kind == "int" and c.distinct <= MAX_CATEGORIES)):
            return c.name
    return None
