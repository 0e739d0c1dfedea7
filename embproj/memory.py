"""The process's memory handed back to the system between steps that free much of it."""

from __future__ import annotations


def give_back() -> None:
    """What the process freed, returned to the system: glibc keeps freed blocks of a few MB in its heaps and in each
    thread's own arena, where memory the next step takes by other means (Python's objects, arrays past its mmap
    threshold) cannot reuse them. At a million rows the cell search's threads left ~700 MB so, and the stages
    after it ~200 MB (benchmarks/RESULTS.md, "Memory at a million rows"). glibc's `malloc_trim`; elsewhere (no
    such function) nothing."""
    import ctypes

    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass
