"""Identifiers and codes: numbers that name a row or a thing (a row number, `countyid`, a postal code, a flight
number) rather than measure it, so never a dimension of the map nor its colour.

The content is read first: a sequence (each value above the one before, as row numbers are, also after rows were
filtered out) or the numbers 0 to n-1 each once (a 0-based index, shuffled). Then the name:
a word that says identifier or code, in any case and separator (`movieId`, `idcode`, `Postal Code`,
`Sample Number`), or a first column without a name (R's write.csv and pandas' to_csv write row names there).
Unique integers alone are not enough: a state's population or area is unique too, and a measurement; so are
ranks, 1 to n each once (Guerry's departments ranked by wealth).
"""

from __future__ import annotations

import re

import numpy as np

FEWEST = 10  # a sequence of fewer rows may be a measurement that happens to increase
# The column R's write.csv and pandas' to_csv write the row names in, without a name: pandas reads it back as
# "Unnamed: 0" (R's read.csv as "X", not used here: a coordinate too)
ROW_NAMES = re.compile(r"^(|unnamed: ?0|row[ ._]?names|rowname)$", re.I)
# Named only so: an identifier (a column named "number" alone is as often a count: R's kyphosis, polyps; "NO" a
# gas beside "NO2")
WHOLE_NAMES = {"index", "idx", "level_0"}
ID_WORDS = {"id", "ids", "idx", "uid", "uuid", "guid", "pk", "key", "rowid", "rownum", "rowno", "code", "codes",
            "zip", "zipcode", "postcode", "postalcode", "fips", "geoid", "sku", "isbn", "serial"}  # fmt: skip
SERIAL_WORDS = {"number", "num", "no", "nr", "nbr"}  # the last word of "Sample Number", "flight_num", "tail_no"
GLUED = ("id", "code", "number", "num")  # "countyid", "movieid", "zipcode", "flightnumber"; "idcode" begins so
# A name glued so may be a word ("afraid", a 0-3 mood score; "rancid"): it says identifier only of a column with at
# least this many distinct values in the head, as identifiers have (countyid: 85 counties; townid: 92 towns)
GLUED_DISTINCT = 10
# English words that end in "id" as "countyid" does (and every "…oid": steroid, android)
WORDS_IN_ID = {"fluid", "valid", "invalid", "humid", "rapid", "solid", "lipid", "timid", "vivid", "rigid", "squid",
               "liquid", "hybrid", "pyramid", "orchid", "candid", "splendid", "morbid", "horrid", "torrid", "placid",
               "lucid", "stupid", "cupid", "insipid", "intrepid", "arid", "avid", "paid", "unpaid", "prepaid", "said",
               "void", "avoid", "grid", "braid", "raid", "mermaid"}  # fmt: skip


def words(name: str) -> list[str]:
    """`movieId` → movie, id; `Postal Code` → postal, code; `IDCode` → id, code; `idcode` → idcode."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", name)
    return [w.lower() for w in re.split(r"[\W_]+", spaced) if w]


def name_says_id(name: str, distinct: int | None = None) -> str | None:
    """The word of `name` that says identifier or code, or None; a glued one ("countyid") only with `distinct`
    (the head's distinct values) of GLUED_DISTINCT or more, or not given."""
    if name.lower() in WHOLE_NAMES or ROW_NAMES.match(name):
        return name
    found = words(name)
    for w in found:
        if w in ID_WORDS:
            return w
    if len(found) > 1 and found[-1] in SERIAL_WORDS:
        return found[-1]  # "number" last, not first as in "number_of_rooms"
    if distinct is not None and distinct < GLUED_DISTINCT:
        return None
    for w in found:
        if w.startswith("id") and len(w) >= 5 and w[2:].isalpha():
            return w  # idcode, idnum
        if w in WORDS_IN_ID or w.endswith("oid"):
            continue
        if any(w.endswith(g) and len(w) - len(g) >= 3 and w[: -len(g)].isalpha() for g in GLUED):
            return w  # countyid, movieid, zipcode, flightnumber
    return None


def identifier_reason(name: str, numbers: np.ndarray, integers: bool) -> str | None:
    """Why a numeric column (its head's values as float64, NaN where missing) names rows rather than measures
    them, or None. Only whole numbers can be identifiers; a column of floats only by its name (a measurement in
    whole units may well increase down a table of floats: a count, a time)."""
    values = numbers[np.isfinite(numbers)]
    if len(values) == 0 or not np.array_equal(values, np.round(values)):
        return None
    complete = integers and len(values) == len(numbers)
    if complete and len(values) >= FEWEST and bool((np.diff(values) > 0).all()):
        return "a sequence: each value above the one before, as row numbers are"
    if complete and len(values) >= 2 * FEWEST and values.min() == 0 and values.max() == len(values) - 1:
        if len(np.unique(values)) == len(values):  # 1 to n each once may be ranks (Guerry's Wealth): measured
            return f"the numbers 0 to {len(values) - 1:,} each once, in another order: a 0-based row index"
    if ROW_NAMES.match(name):
        return "whole numbers where R's write.csv and pandas' to_csv write the row names"
    said = name_says_id(name, len(np.unique(values)))
    return None if said is None else f'its name says identifier or code ("{said}"), and it holds whole numbers'
