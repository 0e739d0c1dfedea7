"""The one exception type the CLI turns into `Error: …` and exit code 2.

Each message says what is wrong, where (the file, column or row), and how to fix it.
"""

from __future__ import annotations

from embproj.text.safe import terminal
from embproj.text.words import shortened

MAX_CHARS = 290  # of what and fix: a line a terminal shows whole whatever the table, beside the file's name
MAX_WORD = 80  # of one word of them (a name or a value from the data), when they are too long
MAX_PATH = 200  # of a file's name, the user's own: kept whole below this, else its start and its end


class EmbprojError(Exception):
    """Bad input or usage. `str(err)` is the whole one-line message (without the `Error: ` prefix), its what and
    fix at most MAX_CHARS long: `what`, `fix` and `where` keep the whole text."""

    def __init__(self, what: str, fix: str | None = None, *, where: str | None = None):
        self.what = what
        self.fix = fix
        self.where = where
        super().__init__(self.message)

    @property
    def message(self) -> str:
        # one line, its control characters shown as escapes (as the CLI prints them) before it is measured
        where, what, fix = (
            terminal(" ".join(part.split())) if part else "" for part in (self.where, self.what, self.fix)
        )
        # the data's text is what runs long (a struct's type, a list of 30,000 columns); a file's name is the
        # user's and is kept whole unless it alone is absurd, in the "where" and wherever it is quoted
        where = shortened(where, MAX_PATH, path=True)
        if _measured(what, fix) > MAX_CHARS:
            what, fix = (" ".join(_word(w) for w in part.split(" ")) for part in (what, fix))
        if _measured(what, fix) > MAX_CHARS:
            room = MAX_CHARS - (2 if fix else 0)  # for what and fix
            fix = shortened(fix, min(len(fix), max(room // 2, room - len(what))))
            what = shortened(what, room - len(fix))
        return _joined(where, what, fix)

    def at(self, where: str) -> EmbprojError:
        """The same error, located at `where` (a file name) unless it already says where."""
        if self.where is None:
            self.where = where
            self.args = (self.message,)
        return self

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):  # pickled whole (what, fix, where), as the forked worker sends it back
        return (_rebuild, (type(self), self.what, self.fix, self.where))


def _measured(what: str, fix: str) -> int:
    """The length of what and fix as the data makes it: file names (a word with a "/") not counted."""
    return sum(len(w) + 1 for part in (what, fix) for w in part.split(" ") if "/" not in w)


def _word(word: str) -> str:
    return shortened(word, MAX_PATH, path=True) if "/" in word else shortened(word, MAX_WORD)


def _joined(where: str, what: str, fix: str) -> str:
    text = f"{where}: {what}" if where else what
    return f"{text}, {fix}" if fix else text


def _rebuild(cls: type[EmbprojError], what: str, fix: str | None, where: str | None) -> EmbprojError:
    return cls(what, fix, where=where)


def located(where, fn, *args):
    """Run `fn(*args)`; an error that does not say where it happened is located at `where` (the input file)."""
    try:
        return fn(*args)
    except EmbprojError as err:
        raise err.at(str(where)) if where else err from None


class InputError(EmbprojError):
    """The data file cannot be read or holds nothing usable."""


class OptionError(EmbprojError):
    """An option names a column that does not exist, or a value out of range."""


class ClusterError(EmbprojError):
    """The Dask cluster cannot be reached, lost its workers, or did no work for too long (--engine dask)."""


class EmbprojWarning(UserWarning):
    """A run's warning in the Python API (rows dropped, a parameter lowered, a map left out); the CLI prints
    the same text as `Warning: …`."""
