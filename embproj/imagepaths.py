"""Which image files a report may read: only those that resolve inside the data folder or a folder the caller names.

A table often comes from someone else and the report is emailed on, so a path cell must not pull `~/.ssh/…`,
`/etc/…` or a network share into the page. A path is judged by its text first: `~`, `~user`, `..` escapes, drive
letters, UNC paths and `file://host/…` are refused, and absolute paths are kept only when they name a place under
a root, all without touching the file system. What is left is resolved beneath its root one name at a time, as
`open` would follow it, and a symlink whose target is outside is refused from the link's text alone: nothing
outside a root is ever looked at (`Path.resolve()` would stat the target). Every refusal gets the same answer,
so a report never tells which outside files exist.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from .errors import OptionError

DRIVE = re.compile(r"^[A-Za-z]:")  # C:\x.png, C:/x.png and C:x.png (relative to that drive's current folder)
MAX_LINKS = 40  # symlinks followed for one path, as the kernel allows: a loop ends as outside


@dataclass(frozen=True)
class Root:
    """A folder images may come from: as given (made absolute, for absolute cells written against it) and resolved."""

    given: PurePosixPath
    real: Path

    @classmethod
    def of(cls, folder: Path | str) -> Root:
        return cls(PurePosixPath(os.path.abspath(folder)), Path(folder).resolve())


def image_roots(source_name: str | None, extra=()) -> tuple[Path, ...]:
    """The data file's folder (the dataset folder itself for a folder of part files; the current folder for an
    in-memory table, as Python's `open` would look), then each `extra` folder (`--image-root`), checked."""
    data = Path(source_name) if source_name else None
    if data is not None and data.is_dir():
        first = data
    elif data is not None and data.exists():
        first = data.parent
    else:
        first = Path.cwd()
    for folder in extra:
        if not Path(folder).is_dir():
            raise OptionError(f'--image-root "{folder}" is not a folder', "give a folder that holds the images")
    return (first, *(Path(f) for f in extra))


def confine(text: str, roots: tuple[Root, ...]) -> Path | None:
    """The resolved file `text` names inside one of `roots` (it may not exist), or None when it is outside.

    A relative path is looked up in each root in turn and the first that exists wins; only paths already known
    to be inside a root are ever checked for existence."""
    found = None
    for root, rel in _candidates(text, roots):
        path = _beneath(root.real, rel)
        if path is None:
            continue  # a symlink, or a symlinked folder, that leads out
        if path.exists():
            return path
        found = found or path
    return found


def _beneath(root: Path, rel: str) -> Path | None:
    """`rel` resolved under `root` (a resolved folder), or None if it leads out. Only names already inside are
    looked at (lstat, readlink); a symlink's target is judged by its text before it is followed."""
    top = str(root)
    current, pending, links = top, rel.split("/"), 0
    while pending:
        name = pending.pop(0)
        if name in ("", "."):
            continue
        if name == "..":
            current = os.path.dirname(current)
            if not _inside(current, top):
                return None
            continue
        step = os.path.join(current, name)
        try:
            mode = os.lstat(step).st_mode
        except OSError:  # not there: the rest is only text, judged as text
            rest = os.path.normpath(os.path.join(step, *pending))
            return Path(rest) if _inside(rest, top) else None
        if not stat.S_ISLNK(mode):
            current = step
            continue
        links += 1
        target = os.readlink(step) if links <= MAX_LINKS else "/"
        if target.startswith("/"):
            target = os.path.normpath(target)
            if not _inside(target, top):
                return None
            current, target = top, os.path.relpath(target, top)
        pending[:0] = target.split("/")
    return Path(current)


def _inside(path: str, top: str) -> bool:
    return path == top or path.startswith(top.rstrip("/") + "/")


def _candidates(text: str, roots: tuple[Root, ...]) -> list[tuple[Root, str]]:
    """(root, relative path) pairs that the text may name, decided on the text alone."""
    clean = _plain_path(text)
    if clean is None:
        return []
    if clean.startswith("/"):
        spot = PurePosixPath(os.path.normpath(clean))
        return [
            (root, str(spot.relative_to(base)))
            for root in roots
            for base in dict.fromkeys((root.given, PurePosixPath(root.real)))
            if spot.is_relative_to(base)
        ]
    rel = os.path.normpath(clean)
    if rel == ".." or rel.startswith("../"):
        return []
    return [(root, clean) for root in roots]  # joined unnormalised: `link/..` must mean what `open` makes of it


def _plain_path(text: str) -> str | None:
    """The cell as a POSIX path, or None when its text alone says it is outside (or no path at all)."""
    if text[:5].lower() == "file:":
        parts = urlsplit(text)
        if parts.netloc not in ("", "localhost"):
            return None  # file://server/share/…: a network path
        text = unquote(parts.path)
    text = text.replace("\\", "/")  # a table written on Windows: imgs\a.png, ..\..\secret.png
    if "\x00" in text or text.startswith(("~", "//")) or DRIVE.match(text):
        return None
    return text
