"""Stage 9, write: every output reaches its path whole or not at all, and all of a run's outputs together. Each is
written to a temporary file beside its path; only when every one is complete are they renamed into place, so an
error or an interruption leaves the previous outputs as they were and no temporary file behind. An output that
exists and is not a regular file (a pipe such as /dev/stdout, a terminal, /dev/null) is never replaced: the
content is written into it, last. No output may be a file the run reads, or another output."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from embproj.errors import OptionError
from embproj.options import say


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


def check_outputs(outputs: Sequence[tuple[str, Path]], inputs: Sequence[Path]) -> None:
    """Each (flag, path) writable and none of them an input or another output (symlinks and hard links
    resolved), before any work."""
    files = [f for path in inputs for f in _files(Path(path))]
    for i, (flag, path) in enumerate(outputs):
        check_output(path, files, flag)
        for other_flag, other in outputs[:i]:
            if _same_path(Path(path), Path(other)):
                raise OptionError(
                    f"{other_flag} and {flag} name the same file", f"give {flag} another path", where=str(path)
                )


def check_output(output: Path, inputs: Sequence[Path] = (), flag: str = "") -> None:
    """Fail before any work when the output could not be written, or would overwrite an input; `flag`: the option
    that names it (default -o)."""
    output = Path(output)
    if output.is_dir():
        raise OptionError(
            f"the output {output} is a directory", "give a file name such as report.html", where=str(output)
        )
    if _special(output):
        if stat.S_ISSOCK(output.stat().st_mode):
            raise OptionError("the output is a socket", "give a file, a pipe or a terminal", where=str(output))
        return  # written into, never renamed over: no temporary file beside it
    parent, flag = _folder(output), flag or say("output", short=True)
    if not parent.is_dir():
        raise OptionError(
            f"the output folder {parent} does not exist",
            f"create it first or choose another {flag} path",
            where=str(output),
        )
    for source in inputs:
        if _same_path(output, Path(source)):
            raise OptionError(
                "the output path is the input file" if len(inputs) == 1 else f"the output path is an input, {source}",
                f"choose another {flag} path; embproj never overwrites its input",
                where=str(output),
            )
    if output.exists() and not os.access(output, os.W_OK):
        raise OptionError(
            "the output is not writable", f"choose a file you can write to with {flag}", where=str(output)
        )
    try:  # the only sure test, for root too: make the temp file the write will use
        fd, probe = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise OptionError(
            f"the output folder is not writable ({err.strerror})",
            f"choose a folder you can write to with {flag}",
            where=str(output),
        ) from None


def write_outputs(outputs: Sequence[Output]) -> tuple[Written, ...]:
    """Write every output to a temporary file, then rename them all into place (pipes and devices: written
    into, after the others are staged)."""
    staged: list[tuple[Output, str, int]] = []
    direct = [out for out in outputs if _special(out.path)]
    try:
        for out in outputs:
            if out not in direct:
                staged.append(_stage(out))
        sizes = {id(out): _write_into(out) for out in direct}
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
    done = {id(out): size for out, _, size in staged} | sizes
    return tuple(Written(out.kind, out.path, done[id(out)]) for out in outputs)


def _write_into(out: Output) -> int:
    with open(out.path, "wb") as f:  # noqa: PTH123 - a pipe or a device: opened as it is, never created
        out.write(f)
        f.flush()
        return f.tell() if f.seekable() else _size_written(out)


def _size_written(out: Output) -> int:
    import io

    buffer = io.BytesIO()
    out.write(buffer)
    return buffer.tell()


def _stage(out: Output) -> tuple[Output, str, int]:
    fd, tmp = tempfile.mkstemp(prefix=f".{out.path.name}.", suffix=".tmp", dir=_folder(out.path))
    try:
        with os.fdopen(fd, "wb") as f:
            out.write(f)
            f.flush()
            os.fsync(f.fileno())
            size = f.tell()
        os.chmod(tmp, 0o666 & ~_umask())  # as a file made by open() would be: the umask decides
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out, tmp, size


def _discard(staged) -> None:
    for _, tmp, _ in staged:
        Path(tmp).unlink(missing_ok=True)


def _folder(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


def _special(path: Path) -> bool:
    """An existing output that is not a regular file or a folder: a pipe, a device, a socket."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _files(path: Path) -> list[Path]:
    """The files a data path stands for: itself, or every file in a data folder."""
    try:
        return [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
    except OSError:
        return [path]


def _same_path(a: Path, b: Path) -> bool:
    """The same file (symlinks followed, hard links by inode), or the same path once resolved."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return a.resolve() == b.resolve()
    except (OSError, RuntimeError):
        return a.absolute() == b.absolute()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
