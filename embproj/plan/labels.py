"""The plan's choices of what names a point and what classes it (plan/choose.py asks), each with its reason:

- the title on hover (the "label"): a column whose name says so, else the row names (R's write.csv and pandas'
  to_csv write them in a first column without a name), else text that is (nearly) unique per row and short, as
  names are in any language (states, cars, words), else the colour;
- the whole-number columns that code classes rather than measure (mtcars' `cyl`, `am`, `gear`; penguins' `year`;
  scikit-learn's `target`): colours, not dimensions.
"""

from __future__ import annotations

import re

from embproj.plan.columns import LABEL_NAMES, MAX_CATEGORIES, TITLE_NAMES, ColumnInfo
from embproj.plan.identifiers import ROW_NAMES, words

# Names that say class as well, after LABEL_NAMES' (a penguin's `sex` colours after its `species`)
CLASS_NAMES = re.compile(r"(^|_)(origin|cyl|cylinders|sex|gender|diagnosis|outcome|grade|region)($|_)", re.I)
# A class code among measurements holds at most this many distinct whole numbers (mtcars' cyl 3, gear 3, am 2;
# vega's Cylinders 5; penguins' year 3), where a count has more (mtcars' carb 6, Boston's rad 9: dimensions)
CODE_VALUES = 5
CODE_SHARE = 3  # and at most a third as many as its rows (a count in a 12-row table may have 4 values too)
COUNT_WORDS = {"number", "num", "n", "count", "counts", "nb"}  # number_of_rooms, n_children, visit_count: counts
NAME_SHARE = 0.75  # text distinct in this share of its rows names them (vega's cars repeat a few: 77%)
NAME_CHARS = 40  # and short: the median value at most this long (longer text is a document, not a name)


def names_a_label(c: ColumnInfo) -> bool:
    """Its name says label ("species", "target", "class"…). A numeric "y" says so only when it holds a few whole
    numbers (a class code): otherwise it is a coordinate or a measurement, and a dimension."""
    said = {m.group(2).lower() for m in LABEL_NAMES.finditer(c.name)}
    if said == {"y"} and c.numeric:
        return c.kind == "int" and c.distinct <= MAX_CATEGORIES
    return bool(said)


def class_rank(c: ColumnInfo) -> tuple[int, int]:
    """How strongly a label-like column asks to be the colour: its name says label, then class; then a category
    of text (ggplot2 movies' mpaa rating) before whole numbers taken for a code by their content alone (its 0/1
    genre columns); then fewest distinct values."""
    tier = 0 if names_a_label(c) else 1 if CLASS_NAMES.search(c.name) else 2 if c.kind == "category" else 3
    return tier, c.distinct


def class_name_says(c: ColumnInfo) -> str:
    return ("its name says label", "its name says class", "few distinct values", "few distinct values")[
        class_rank(c)[0]
    ]


def class_codes(info) -> dict[str, str]:
    """{column: why} for the whole-number columns that code classes: a name that says label or class with a few
    values, or, among at least two columns of fractions (measurements), a few distinct whole numbers whose name
    does not say count."""
    fractions = sum(1 for c in info if c.kind == "float" and c.std)
    codes = {}
    for c in info:
        if c.kind != "int" or c.distinct < 2:
            continue
        counted = {words(c.name)[0], words(c.name)[-1]} & COUNT_WORDS if words(c.name) else set()
        few = c.distinct <= CODE_VALUES and c.distinct * CODE_SHARE <= c.nonnull and not counted
        why = None
        if names_a_label(c) and c.distinct <= MAX_CATEGORIES:
            why = "its name says label"
        elif CLASS_NAMES.search(c.name) and few:
            why = "its name says class"
        elif few and fractions >= 2:
            why = "beside measurements with fractions"
        if why:
            codes[c.name] = f"a class code ({c.distinct} distinct whole numbers in the first rows, {why})"
    return codes


def choose_label(info, color: str | None, exclude: set) -> tuple[str | None, str]:
    """(column, why) of each point's title on hover, when --label does not say."""
    scalar = [c for c in info if c.name not in exclude and c.is_scalar]
    for c in scalar:
        if TITLE_NAMES.match(c.name):
            return c.name, "its name says title"
    names = [c for c in scalar if c.kind in ("text", "id") and not c.numbers and _names_rows(c)]
    for c in names:
        if ROW_NAMES.match(c.name):
            return c.name, "the row names (R's write.csv and pandas' to_csv write them first, without a column name)"
    for c in sorted(names, key=lambda c: c.kind == "id"):  # words before codes such as "u00017"
        return c.name, f"short text, {c.distinct:,} distinct values in {c.nonnull:,} rows: names"
    if color:
        return color, "the colour column"
    return None, "no title-like column; the row number is shown"


def _names_rows(c: ColumnInfo) -> bool:
    return c.nonnull >= 2 and c.distinct >= NAME_SHARE * c.nonnull and (c.chars or 0) <= NAME_CHARS
