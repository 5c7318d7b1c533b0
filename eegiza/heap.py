"""Give the C allocator's free memory back to the system between the phases of a run.

The kernels allocate per-sentence and per-worker arrays on every thread, and glibc keeps what they
free in its per-thread arenas (and, after a large block is freed, raises its mmap threshold so
that later blocks of that size stay in the arenas too). Without a trim, the memory one phase
freed stays resident while the next phase allocates its own tables, and the peaks add up.
``malloc_trim(0)`` returns the free pages of every arena; it costs milliseconds, so training calls
:func:`release_free_memory` after every iteration and before the final alignment pass. Measured
(de-en all lines, default schedule, per-phase peaks of ``benchmarks/bench_align.py --profile``):
peak 1,104 -> 1,009 MB in back-to-back runs, the same wall time. Tried before and not adopted: fixed malloc
thresholds (``MALLOC_MMAP_THRESHOLD_``), which returned memory at every free and made runs 3-7%
slower.

Where the C library has no ``malloc_trim`` (macOS, musl), this does nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util
from typing import Callable, Optional


def _load_trim() -> Optional[Callable[[int], int]]:
    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None
    if trim is not None:
        trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


_TRIM = _load_trim()


def release_free_memory() -> bool:
    """Return the allocator's free memory to the system; True if it could (glibc)."""
    if _TRIM is None:
        return False
    _TRIM(0)
    return True
