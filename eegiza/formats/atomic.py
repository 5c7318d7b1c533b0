"""Output files that are written completely or not at all."""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_open(path, mode: str = "w", encoding: str = "utf-8", errors: str = "strict"):
    """Open a temporary file beside ``path`` for writing; on success it replaces ``path`` (with
    the permissions a plain ``open`` would give). ``mode`` is "w" (text, ``\\n`` newlines) or "wb".
    On an exception the temporary file is removed and ``path`` is left untouched."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        if mode == "wb":
            fh = os.fdopen(fd, "wb")
        elif mode == "w":
            fh = os.fdopen(fd, "w", encoding=encoding, errors=errors, newline="\n")
        else:
            os.close(fd)
            raise ValueError(f"atomic_open: unsupported mode {mode!r}")
        with fh:
            yield fh
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
