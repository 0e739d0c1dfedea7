"""Stage 7, write: the report reaches its path whole or not at all (temp file in the same folder, then rename)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import OptionError


def check_output(output: Path, inputs: tuple[Path, ...] = ()) -> None:
    """Fail before any work when the report could not be written, or would overwrite an input."""
    output = Path(output)
    if output.is_dir():
        raise OptionError(
            f"the output {output} is a directory", "give a file name such as report.html", where=str(output)
        )
    parent = output.parent if str(output.parent) else Path(".")
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


def write_atomic(output: Path, text: str) -> int:
    """Write `text` to `output` atomically; returns the number of bytes written."""
    output = Path(output)
    data = text.encode("utf-8")
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{output.name}.", suffix=".tmp", dir=output.parent if str(output.parent) else "."
        )
    except OSError as err:
        raise OptionError(f"cannot write the report ({err.strerror})", "check the -o path", where=str(output)) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644 & ~_umask())
        os.replace(tmp, output)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise OptionError(
            f"cannot write the report ({err.strerror or err})", "check the disk and -o path", where=str(output)
        ) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(data)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
