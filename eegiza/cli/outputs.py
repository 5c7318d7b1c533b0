"""The files one command writes: checked before any work starts, written under temporary names,
and renamed together at the end, so a run leaves its whole output set or none of it.

    outputs = OutputSet(["out/de-en.fwd", "out/de-en.rev", "out/de-en.gdfa"])   # checked here
    with outputs:                      # an exception (error, interrupt, full disk) removes the temporaries
        write_pharaoh(outputs.temp("out/de-en.fwd"), links)    # any writer that takes a path
        ...
        outputs.commit()               # every temporary renamed to its final name, signals held off

``OutputSet`` creates missing folders and probes that each folder can take a new file, so a run
that would fail at the end fails before training, with a message naming the user's path (never a
temporary name). ``-`` means standard output and is not a file. Renaming is atomic per file; the
renames of one set run back to back under :data:`COMMIT_LOCK`, which the signal handling of
:mod:`eegiza.cli.signals` respects, so an interrupt lands before the first rename or after the last.
"""
from __future__ import annotations

import os
import sys
import tempfile
import threading
from contextlib import contextmanager
from typing import Dict, Iterable, List

from ..formats.pharaoh import format_links, write_pharaoh

STDOUT = "-"

#: held while a set is being renamed into place (see :mod:`eegiza.cli.signals`).
COMMIT_LOCK = threading.RLock()
#: set while a set is being renamed: the signal handler then records the signal without raising
COMMITTING = threading.Event()
_LIVE: List["OutputSet"] = []   # sets with temporaries on disk, for the interrupt watchdog


class OutputPathError(ValueError):
    """An output path the run could not write, named as the user gave it."""


def check_output_path(path: str) -> None:
    """Create the missing folders of ``path`` and check that a file can be created there; raise
    :class:`OutputPathError` naming ``path`` otherwise. ``-`` (standard output) is always fine."""
    if path == STDOUT:
        return
    if os.path.isdir(path):
        raise OutputPathError(f"cannot write {path}: it is a folder")
    folder = os.path.dirname(os.path.abspath(path))
    existing = folder
    while not os.path.exists(existing) and os.path.dirname(existing) != existing:
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        shown = os.path.relpath(existing) if not os.path.isabs(path) else existing
        raise OutputPathError(f"cannot write {path}: {shown} is a file, not a folder")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as err:
        raise OutputPathError(f"cannot write {path}: cannot create its folder "
                              f"{os.path.dirname(path) or '.'} ({err.strerror})") from None
    try:   # a probe file: os.access says yes to root and knows nothing of read-only file systems
        fd, probe = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".probe", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise OutputPathError(f"cannot write {path}: its folder {os.path.dirname(path) or '.'} "
                              f"does not accept new files ({err.strerror})") from None


def discard_live_sets() -> None:
    """Remove the temporaries of every set not yet committed (the interrupt watchdog's cleanup)."""
    for outputs in list(_LIVE):
        outputs.discard()


class OutputSet:
    """Final paths of one run; see the module docstring."""

    def __init__(self, paths: Iterable[str]):
        self.paths = [os.fspath(p) for p in paths]
        seen = set()
        for path in self.paths:
            if path != STDOUT and os.path.abspath(path) in seen:
                raise OutputPathError(f"{path} would be written twice by this run")
            seen.add(os.path.abspath(path))
            check_output_path(path)
        self._temps: Dict[str, str] = {}
        self.committed = False

    def temp(self, path: str) -> str:
        """The temporary file (created empty, beside ``path``) to write in place of ``path``."""
        path = os.fspath(path)
        if path not in self.paths or path == STDOUT:
            raise ValueError(f"{path} is not a file of this output set")
        if path not in self._temps:
            folder = os.path.dirname(os.path.abspath(path))
            fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".part", dir=folder)
            os.close(fd)
            self._temps[path] = tmp
            if self not in _LIVE:
                _LIVE.append(self)
        return self._temps[path]

    @contextmanager
    def writing(self, path: str):
        """Write ``path``'s temporary inside this block; an OSError (a full disk, a file size limit)
        becomes an :class:`OutputPathError` naming ``path``, not the temporary."""
        try:
            yield self.temp(path)
        except OSError as err:
            raise OutputPathError(f"cannot write {path}: {err.strerror or err}") from None

    def commit(self) -> None:
        """Rename every temporary to its final name (files never written are left alone)."""
        with COMMIT_LOCK:
            COMMITTING.set()
            try:
                for path in self.paths:
                    tmp = self._temps.get(path)
                    if tmp is not None:
                        os.chmod(tmp, 0o666 & ~_umask())
                        os.replace(tmp, path)
                self._temps.clear()
                self.committed = True
                if self in _LIVE:
                    _LIVE.remove(self)
            finally:
                COMMITTING.clear()

    def discard(self) -> None:
        """Remove every temporary; final paths are untouched."""
        with COMMIT_LOCK:
            for tmp in self._temps.values():
                _remove(tmp)
                # a writer's own atomic temporary beside it (eegiza.formats.atomic.atomic_open)
                folder, name = os.path.split(tmp)
                try:
                    for entry in os.listdir(folder):
                        if entry.startswith("." + name + ".") and entry.endswith(".tmp"):
                            _remove(os.path.join(folder, entry))
                except OSError:
                    pass
            self._temps.clear()
            if self in _LIVE:
                _LIVE.remove(self)

    def __enter__(self) -> "OutputSet":
        return self

    def __exit__(self, kind, value, tb) -> None:
        self.discard()   # after commit() there is nothing left to remove


def write_links(path: str, links) -> None:
    """Pharaoh lines to ``path`` (atomically) or, for ``-``, to standard output."""
    if path == STDOUT:
        out = sys.stdout
        for line in links:
            out.write(format_links(line))
            out.write("\n")
        out.flush()
    else:
        write_pharaoh(path, links)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
