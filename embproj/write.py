"""Stage 9, write: every output reaches its path whole or not at all, and all of a run's outputs together. Each is
written to a temporary file beside its path; only when every one is complete are they renamed into place, so an
error or an interruption leaves the previous outputs as they were and no temporary file behind."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .errors import OptionError


@dataclass(frozen=True)
class Output:
    kind: str  # "report" | "coords"
    path: Path
    write: Callable[[BinaryIO], None]  # writes the content into an open binary file


@dataclass(frozen=True)
class Written:
    kind: str
    path: Path
    bytes: int


def text_output(kind: str, path: Path, text: str) -> Output:
    data = text.encode("utf-8")

    def write(f: BinaryIO) -> None:
        f.write(data)

    return Output(kind, Path(path), write)


def check_output(output: Path, inputs: tuple[Path, ...] = ()) -> None:
    """Fail before any work when an output could not be written, or would overwrite an input."""
    output = Path(output)
    if output.is_dir():
        raise OptionError(
            f"the output {output} is a directory", "give a file name such as report.html", where=str(output)
        )
    parent = _folder(output)
    if not parent.is_dir():
        raise OptionError(
            f"the output folder {parent} does not exist", "create it first or choose another -o path", where=str(output)
        )
    for source in inputs:
        if source is not None and _same_file(output, Path(source)):
            raise OptionError(
                "the output path is the input file",
                "choose another -o path; embproj never overwrites its input",
                where=str(output),
            )
    if output.exists() and not os.access(output, os.W_OK):
        raise OptionError("the output is not writable", "choose a file you can write to with -o", where=str(output))
    try:  # the only sure test, for root too: make the temp file the write will use
        fd, probe = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise OptionError(
            f"the output folder is not writable ({err.strerror})",
            "choose a folder you can write to with -o",
            where=str(output),
        ) from None


def write_outputs(outputs: Sequence[Output]) -> tuple[Written, ...]:
    """Write every output to a temporary file, then rename them all into place."""
    staged: list[tuple[Output, str, int]] = []
    try:
        for out in outputs:
            staged.append(_stage(out))
        for out, tmp, _ in staged:
            os.replace(tmp, out.path)
    except OSError as err:
        _discard(staged)
        where = next((str(o.path) for o, t, _ in staged if os.path.exists(t)), str(outputs[-1].path))
        raise OptionError(
            f"cannot write the output ({err.strerror or err})", "check the disk and the output path", where=where
        ) from None
    except BaseException:
        _discard(staged)
        raise
    return tuple(Written(out.kind, out.path, size) for out, _, size in staged)


def _stage(out: Output) -> tuple[Output, str, int]:
    fd, tmp = tempfile.mkstemp(prefix=f".{out.path.name}.", suffix=".tmp", dir=_folder(out.path))
    try:
        with os.fdopen(fd, "wb") as f:
            out.write(f)
            f.flush()
            os.fsync(f.fileno())
            size = f.tell()
        os.chmod(tmp, 0o644 & ~_umask())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out, tmp, size


def _discard(staged) -> None:
    for _, tmp, _ in staged:
        Path(tmp).unlink(missing_ok=True)


def _folder(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
