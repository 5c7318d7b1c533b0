"""SIGINT and SIGTERM for the command-line programs: a short ``PROG: interrupted`` on stderr, exit
status 128 + signal (130 for Ctrl-C, 143 for ``kill``), no traceback, no partial output set.

    sys.exit(run_interruptible("eegiza align", command, args))

How: while ``command`` runs, a handler turns the first SIGINT/SIGTERM into :class:`Interrupted`
(a KeyboardInterrupt) in the main thread; the ``with OutputSet`` blocks of
:mod:`eegiza.cli.outputs` remove their temporaries as it unwinds, and :func:`run_interruptible`
prints the message and returns the exit status. Any other exception raised after a signal
(a compiled kernel or a library can turn the interrupt into a SystemError) counts as the interrupt
too. Further signals are ignored while the run cleans up.

A Numba kernel holds the main thread until it returns, so Python sees the signal only then. To end
within a second or two anyway, ``signal.set_wakeup_fd`` also wakes a watchdog thread as the signal
arrives; if the main thread has not finished within ``grace`` seconds, the watchdog removes every
uncommitted temporary (:func:`eegiza.cli.outputs.discard_live_sets`, under the lock that keeps a
set's renames together), prints the message and ends the process with ``os._exit``.
"""
from __future__ import annotations

import os
import signal
import socket
import sys
import threading
from typing import Callable

from .outputs import COMMIT_LOCK, COMMITTING, discard_live_sets

SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: seconds the main thread gets to unwind before the watchdog ends the process
GRACE_SECONDS = 1.5


class Interrupted(KeyboardInterrupt):
    """Raised in the main thread by SIGINT or SIGTERM."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_status(signum: int) -> int:
    return 128 + int(signum)


class _Guard:
    def __init__(self, prog: str, grace: float):
        self.prog, self.grace = prog, grace
        self.signum = None
        self.finished = threading.Event()
        self.reported = threading.Lock()
        self.old_handlers = {}
        self.old_wakeup = -1
        self.reader = self.writer = None
        self.watchdog = None

    # -- installed in the main thread only (signal handlers cannot be set elsewhere)
    def install(self) -> bool:
        if threading.current_thread() is not threading.main_thread():
            return False
        self.reader, self.writer = socket.socketpair()
        self.writer.setblocking(False)
        for sig in SIGNALS:
            self.old_handlers[sig] = signal.signal(sig, self._handle)
        self.old_wakeup = signal.set_wakeup_fd(self.writer.fileno(), warn_on_full_buffer=False)
        self.watchdog = threading.Thread(target=self._watch, name="eegiza-interrupt-watchdog", daemon=True)
        self.watchdog.start()
        return True

    def uninstall(self) -> None:
        self.finished.set()
        if self.signum is None:
            self.signum = 0              # a signal from here on is ignored by _handle
        signal.set_wakeup_fd(self.old_wakeup)
        for sig, handler in self.old_handlers.items():
            signal.signal(sig, handler)
        try:
            self.writer.send(b"\0")      # wakes the watchdog, which sees `finished` and returns
        except OSError:
            pass
        self.watchdog.join(timeout=5)
        self.reader.close()
        self.writer.close()

    def _handle(self, signum, frame) -> None:
        if self.signum is not None:
            return                       # already unwinding: let the cleanup finish
        self.signum = signum
        if COMMITTING.is_set():
            return                       # renaming an output set: finish it, then report
        raise Interrupted(signum)

    def _watch(self) -> None:
        while True:
            try:
                data = self.reader.recv(16)
            except OSError:
                return
            if self.finished.is_set() or not data:
                return
            signums = [b for b in data if b in SIGNALS]
            if signums:
                break
        if self.finished.wait(self.grace):
            return
        with COMMIT_LOCK:                # never between two renames of one output set
            if self.finished.is_set():
                return
            discard_live_sets()
            self.report(signums[0])
            os._exit(exit_status(signums[0]))

    def report(self, signum: int) -> None:
        if self.reported.acquire(blocking=False):
            try:
                sys.stderr.write(f"\n{self.prog}: interrupted ({signal.Signals(signum).name})\n")
                sys.stderr.flush()
            except (OSError, ValueError):
                pass


def run_interruptible(prog: str, command: Callable[..., int], *args, grace: float = GRACE_SECONDS) -> int:
    """``command(*args)``'s exit status, or 130/143 with ``PROG: interrupted`` on SIGINT/SIGTERM."""
    guard = _Guard(prog, grace)
    installed = guard.install()
    try:
        status = command(*args)
        if guard.signum is not None:     # arrived while an output set was renamed: the set is whole
            guard.finished.set()
            guard.report(guard.signum)
            return exit_status(guard.signum)
        return status
    except BaseException:
        if guard.signum is None:
            raise
        guard.finished.set()
        guard.report(guard.signum)
        return exit_status(guard.signum)
    finally:
        if installed:
            guard.uninstall()
