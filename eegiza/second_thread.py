"""One worker thread, started once per process, for running one direction of a few sentence pairs
while the calling thread runs the other (:mod:`eegiza.small_batch`).

The serial kernels of the small-batch path release the GIL, so the two directions of one long pair
run at once on two cores; the hand-off (submit, wait for the result) costs tens of microseconds,
which is why the caller uses this thread only for pairs long enough (see
:data:`eegiza.small_batch.CONCURRENT_MIN_CELLS`). :func:`submit_if_idle` hands work over only when
the thread is idle: several threads of a program aligning at once do not queue behind each other's
work on this one thread, each runs what the worker cannot take itself. The pool is created on first
use, and created again in a child process after ``fork`` (the child inherits the pool object but
not its thread, so work handed to the inherited one would wait forever).
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Optional

#: The worker thread's name (tests check which thread ran what).
THREAD_NAME = "eegiza-second"

_lock = threading.Lock()
_idle = threading.Semaphore(1)      # held while the worker has a job
_pool: Optional[ThreadPoolExecutor] = None


def _the_pool() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=THREAD_NAME)
        return _pool


def submit_if_idle(fn: Callable[[], object]) -> Optional[Future]:
    """``fn()`` started on the worker thread (its future) if the worker has nothing to do, else None
    (the caller runs ``fn`` itself)."""
    idle = _idle
    if not idle.acquire(blocking=False):
        return None

    def job():
        try:
            return fn()
        finally:
            idle.release()   # before the result is set: a caller's next call finds the worker idle

    try:
        return _the_pool().submit(job)
    except BaseException:
        idle.release()
        raise


def _forget_in_child() -> None:
    """After ``fork``, in the child: no pool (its thread was not copied), a fresh lock and an idle worker."""
    global _pool, _lock, _idle
    _pool, _lock, _idle = None, threading.Lock(), threading.Semaphore(1)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)
