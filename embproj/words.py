"""Words for messages: the name a user most likely meant, and lists that say how much they leave out."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

MAX_LISTED = 30  # names an error lists before it counts the rest
MAX_NAME = 80  # characters of a name an error shows: a file's header may hold a name of any length


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice a user most likely meant by `word`: the same name in another case, else the nearest spelling
    (difflib), else None."""
    folded: dict[str, str] = {}
    for name in choices:
        folded.setdefault(name.casefold(), name)
    if word.casefold() in folded:
        return folded[word.casefold()]
    near = difflib.get_close_matches(word.casefold(), list(folded), n=1, cutoff=0.6)
    return folded[near[0]] if near else None


def listing(names: Sequence[str], limit: int = MAX_LISTED, quote: bool = True) -> str:
    """`"a", "b", … and 36 more`: at most `limit` names, and the count of the others, never cut silently (a name
    longer than MAX_NAME is shown cut, with "…")."""
    shown = [f'"{_cut(n)}"' if quote else _cut(str(n)) for n in names[:limit]]
    if not shown:
        return "none"
    rest = len(names) - len(shown)
    return ", ".join(shown) + (f", … and {rest:,} more" if rest else "")


def guessed(guess: str | None, then: str) -> str:
    """A fix that offers `guess` first when there is one: `did you mean --color target? Columns are: …`."""
    if not guess:
        return then
    return f"did you mean {guess}? {then[:1].upper()}{then[1:]}"


def _cut(name: str) -> str:
    return name if len(name) <= MAX_NAME else name[: MAX_NAME - 1] + "…"
