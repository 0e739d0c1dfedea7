"""The one exception type the CLI turns into `Error: …` and exit code 2.

Each message says what is wrong, where (the file, column or row), and how to fix it.
"""

from __future__ import annotations


class EmbprojError(Exception):
    """Bad input or usage. `str(err)` is the whole one-line message (without the `Error: ` prefix)."""

    def __init__(self, what: str, fix: str | None = None, *, where: str | None = None):
        self.what = what
        self.fix = fix
        self.where = where
        super().__init__(self.message)

    @property
    def message(self) -> str:
        text = self.what if not self.where else f"{self.where}: {self.what}"
        if self.fix:
            text = f"{text}, {self.fix}"
        return " ".join(text.split())  # one line, always

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
