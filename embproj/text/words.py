"""Words for messages: the name a user most likely meant, and lists that say how much they leave out."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

MAX_LISTED = 30  # names an error lists before it counts the rest
MAX_NAME = 60  # characters of one name or value in a message (a struct's type alone can run to 30,000)
MAX_LIST_CHARS = 120  # characters of a list in a message: the names past it are counted, not shown


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


def shortened(text: str, most: int = MAX_NAME, path: bool = False) -> str:
    """`text` as it is when short, else its start and its end with "…" between: `most` characters in all (of a
    path, more of its end, where the file's name is)."""
    text = str(text)
    if len(text) <= most:
        return text
    head = (most - 1) // 3 if path else (most - 1) * 2 // 3
    return text[:head] + "…" + text[len(text) - (most - 1 - head) :]


def shown_names(names: Sequence[str], limit: int, quote: bool = True, chars: int = MAX_LIST_CHARS) -> list[str]:
    """The first names of `names` as a message shows them (each shortened, quoted), as many as fit in `chars`
    characters, at most `limit`, and at least one."""
    shown: list[str] = []
    used = 0
    for name in names[:limit]:
        item = f'"{shortened(name)}"' if quote else shortened(name)
        if shown and used + len(item) > chars:
            break
        shown.append(item)
        used += len(item) + 2
    return shown


def listing(names: Sequence[str], limit: int = MAX_LISTED, quote: bool = True) -> str:
    """`"a", "b", … and 36 more`: the first names (at most `limit`, and what fits in MAX_LIST_CHARS), and the
    count of the others, never cut silently."""
    shown = shown_names(names, limit, quote)
    if not shown:
        return "none"
    rest = len(names) - len(shown)
    return ", ".join(shown) + (f", … and {rest:,} more" if rest else "")


def guessed(guess: str | None, then: str) -> str:
    """A fix that offers `guess` first when there is one: `did you mean --color target? Columns are: …`."""
    if not guess:
        return then
    return f"did you mean {guess}? {then[:1].upper()}{then[1:]}"
