"""eegiza.heap: the allocator's free memory goes back to the system between phases."""
from __future__ import annotations

import ctypes
import ctypes.util
import os

from eegiza.heap import release_free_memory

PAGE = os.sysconf("SC_PAGE_SIZE")


def _resident_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def _has_malloc_trim() -> bool:
    name = ctypes.util.find_library("c")
    return bool(name) and hasattr(ctypes.CDLL(name), "malloc_trim")


def test_freed_heap_memory_is_returned():
    if not _has_malloc_trim():   # macOS, musl: nothing to call, and it says so
        assert release_free_memory() is False
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    block, n = 64 * 1024, 1600   # 100 MB in blocks below the mmap threshold: they live in the heap
    blocks = [libc.malloc(block) for _ in range(n)]
    for b in blocks:
        ctypes.memset(b, 1, block)   # make them resident
    for b in blocks[:-1]:            # the last one stays and pins the heap's top: no automatic trim
        libc.free(b)
    before = _resident_bytes()
    assert release_free_memory() is True
    after = _resident_bytes()
    libc.free(blocks[-1])
    assert before - after > 0.5 * block * n, (before, after)
