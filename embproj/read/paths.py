"""The one rule for every file a run reads because a file names it or a folder holds it: an image cell, a config's
`tensor_path`, a W&B table's image and array paths, a Hugging Face `state.json`'s data files, a Parquet part, a
table in a run or artifact folder. It must resolve inside the folder the user named (or `--image-root`), and be a
regular file: a named pipe would block the run for ever, a device would never end.

A table often comes from someone else and the report is emailed on, so a path cell must not pull `~/.ssh/…`,
`/etc/…` or a network share into the page. A path is judged by its text first: `~`, `~user`, `..` escapes, drive
letters, UNC paths and `file://host/…` are refused, and absolute paths are kept only when they name a place under
a root, all without touching the file system. What is left is resolved beneath its root one name at a time, as
`open` would follow it, and a symlink whose target is outside is refused from the link's text alone: nothing
outside a root is ever looked at (`Path.resolve()` would stat the target). Every refusal of an image gets the same
answer, so a report never tells which outside files exist. Symlinks that stay inside are followed; one that leads
out is followed only when the user says so (`--follow-symlinks`: a folder of links into a cache, such as a Hugging
Face hub snapshot or a DVC checkout), as the user then trusts where the folder's links lead.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from embproj.errors import InputError, OptionError
from embproj.options import say

DRIVE = re.compile(r"^[A-Za-z]:")  # C:\x.png, C:/x.png and C:x.png (relative to that drive's current folder)
MAX_LINKS = 40  # symlinks followed for one path, as the kernel allows: a loop is refused
OUTSIDE, LINK_OUT = "outside", "link"  # why a path is refused: its text leads out, or a symlink inside does
KINDS = (  # what a path is when it is not a regular file, for messages
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
)
NOT_A_FILE_FIX = "embproj reads only regular files: put the file itself there"


@dataclass(frozen=True)
class Root:
    """A folder files may come from: as given (made absolute, for absolute cells written against it) and
    resolved; `follow`: symlinks inside it are followed wherever they lead (`--follow-symlinks`)."""

    given: PurePosixPath
    real: Path
    follow: bool = False

    @classmethod
    def of(cls, folder: Path | str, follow: bool = False) -> Root:
        return cls(PurePosixPath(os.path.abspath(folder)), Path(folder).resolve(), follow)


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
            raise OptionError(
                f"{say('image_roots', (folder,), quote=True)} is not a folder", "give a folder that holds the images"
            )
    return (first, *(Path(f) for f in extra))


def confine(text: str, roots: tuple[Root, ...]) -> Path | None:
    """The resolved file `text` names inside one of `roots` (it may not exist), or None when it is outside."""
    found = locate(text, roots)
    return found if isinstance(found, Path) else None


def locate(text: str, roots: tuple[Root, ...]) -> Path | str:
    """The resolved file `text` names inside one of `roots` (it may not exist), or why it is refused: OUTSIDE
    (its text leads out) or LINK_OUT (a symlink inside leads out, and the root does not follow such links).

    A relative path is looked up in each root in turn and the first that exists wins; only paths already known
    to be inside a root are ever checked for existence."""
    found: Path | None = None
    why = OUTSIDE
    for root, rel in _candidates(text, roots):
        path = _beneath(root, rel)
        if isinstance(path, str):
            why = path if why == OUTSIDE else why  # a symlink, or a symlinked folder, that leads out
            continue
        if path.exists():
            return path
        found = found or path
    return found or why


def named_file(
    text: str,
    root: Root,
    *,
    named: str,
    inside: str,
    fix: str,
    missing: str,
    where: str | None,
    kind: str = "a file",
) -> Path:
    """The regular file (or folder, for `kind="a folder"`) `text` names inside `root`, for a reader, or an
    `InputError` at `where` that says why not. `named` says what names it (`tensor_path "x.tsv"`), `inside` the
    folder in words ("the log folder"); `fix` answers a path that leads outside, `missing` one that is not
    there."""
    found = locate(text, (root,))
    if found == OUTSIDE:
        raise InputError(f"{named} is outside {inside}, so it is not read", fix, where=where)
    if found == LINK_OUT:
        raise InputError(
            f"{named} is a symlink that leads outside {inside}, so it is not read",
            f"copy the file into the folder, or give {say('follow_symlinks', True)} to read the files its symlinks "
            "lead to",
            where=where,
        )
    assert isinstance(found, Path)
    found_kind = file_kind(found)
    if found_kind == "missing":
        raise InputError(f"{named} is missing", missing, where=where)
    if found_kind != kind:
        raise InputError(
            f"{named} is {found_kind}, not {kind}, so it is not read",
            NOT_A_FILE_FIX if kind == "a file" else missing,
            where=where,
        )
    return found


def listed_file(path: Path, folder: Path, root: Root, *, named: str, inside: str, where: str) -> None:
    """Check a file found by listing `folder` (whose root is `root`): the same rule as `named_file`. A listing
    only finds names that are there, so what can fail is a symlink leading out or a file that is not regular."""
    rel = path.relative_to(folder).as_posix()
    fix = "give the folder the files are in"
    named_file(rel, root, named=named, inside=inside, fix=fix, missing="check the folder is complete", where=where)


def file_kind(path: Path) -> str:
    """What `path` is, symlinks followed: "a file" (a regular one), "missing", "a folder", "a named pipe (FIFO)"…"""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return "missing"
    if stat.S_ISREG(mode):
        return "a file"
    return next((kind for test, kind in KINDS if test(mode)), "not a regular file")


def as_named(found: Path, folder: Path, root: Root) -> Path:
    """A resolved path inside `root` spelt under `folder` as the user named it, for messages; as it is when a
    followed symlink took it outside."""
    try:
        return folder / found.relative_to(root.real)
    except ValueError:
        return found


def _beneath(root: Root, rel: str) -> Path | str:
    """`rel` resolved under `root`, or why it leads out: OUTSIDE when its own names do, LINK_OUT when a symlink's
    do. Only names already inside are looked at (lstat, readlink); a symlink's target is judged by its text
    before it is followed. A root that follows links lets the system resolve them, wherever they lead."""
    top = str(root.real)
    if root.follow:
        return Path(os.path.realpath(os.path.join(top, rel)))
    current, pending, links = top, [(name, False) for name in rel.split("/")], 0  # (name, from a link's target)
    while pending:
        name, linked = pending.pop(0)
        if name in ("", "."):
            continue
        if name == "..":
            current = os.path.dirname(current)
            if not _inside(current, top):
                return LINK_OUT if linked else OUTSIDE
            continue
        step = os.path.join(current, name)
        try:
            mode = os.lstat(step).st_mode
        except OSError:  # not there: the rest is only text, judged as text
            rest = os.path.normpath(os.path.join(step, *(n for n, _ in pending)))
            if _inside(rest, top):
                return Path(rest)
            return LINK_OUT if linked or any(from_link for _, from_link in pending) else OUTSIDE
        if not stat.S_ISLNK(mode):
            current = step
            continue
        links += 1
        if links > MAX_LINKS:  # a loop
            return LINK_OUT
        target = os.readlink(step)
        if target.startswith("/"):
            target = os.path.normpath(target)
            base = next((b for b in (top, str(root.given)) if _inside(target, b)), None)  # either spelling
            if base is None:
                return LINK_OUT
            current, target = top, os.path.relpath(target, base)
        pending[:0] = [(n, True) for n in target.split("/")]
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
