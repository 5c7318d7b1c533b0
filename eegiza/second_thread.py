"""One worker thread, started once per process, for running one direction of a few sentence pairs
while the calling thread runs the other (:mod:`eegiza.small_batch`).

The serial kernels of the small-batch path release the GIL, so the two directions of one long pair
run at once on two cores; the hand-off (submit, wait for the result) costs tens of microseconds,
which is why the caller uses this thread only for pairs long enough (see
:data:`eegiza.small_batch.CONCURRENT_MIN_CELLS`). The pool is created on first use, and created
again in a child process after ``fork`` (the child inherits the pool object but not its thread,
so work handed to the inherited one would wait forever).
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

_lock = threading.Lock()
_pool: Optional[ThreadPoolExecutor] = None


def second_thread() -> ThreadPoolExecutor:
    """The process's one-worker thread pool (created on first call)."""
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="eegiza-second")
        return _pool


def _forget_in_child() -> None:
    """After ``fork``, in the child: no pool (its thread was not copied) and a fresh lock."""
    global _pool, _lock
    _pool, _lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)
