"""Pharaoh alignment format: one line per sentence pair, links ``i-j`` separated by spaces.

``i`` is the 0-based source token index and ``j`` the 0-based target token index (source
first). A sentence pair without links is an empty line. This is the format of Moses, fast_align,
eflomal and the benchmark protocol in shared/data/README.md.
"""
from __future__ import annotations

import gc
import re
from contextlib import contextmanager
from typing import Iterable, List, Optional, Tuple

from .atomic import atomic_open

Link = Tuple[int, int]


class AlignmentFormatError(ValueError):
    """A malformed alignment line; the message names the file and line when they are known."""


def error_location(path, lineno) -> str:
    """``"file:line: "`` prefix for error messages (parts that are unknown are left out)."""
    parts = [str(p) for p in (path, lineno) if p is not None]
    return ":".join(parts) + ": " if parts else ""


def format_links(links: Iterable[Link]) -> str:
    """Pharaoh line for one sentence: distinct links sorted by i then j, e.g. ``"0-0 1-2"``."""
    return " ".join(f"{i}-{j}" for i, j in sorted(set((int(i), int(j)) for i, j in links)))


_TOKEN = re.compile(r"[0-9]+-[0-9]+")
_LINE = re.compile(r"\s*(?:[0-9]+-[0-9]+(?:\s+|\Z))*")


def parse_links(line: str, path=None, lineno: Optional[int] = None) -> List[Link]:
    """Links of one Pharaoh line, in the order written; raises AlignmentFormatError on bad tokens."""
    if not _LINE.fullmatch(line):
        bad = next(token for token in line.split() if not _TOKEN.fullmatch(token))
        raise AlignmentFormatError(f"{error_location(path, lineno)}malformed alignment token "
                                   f"{bad!r} (expected i-j, 0-based)")
    numbers = map(int, line.replace("-", " ").split())
    return list(zip(numbers, numbers))


def read_lines(path) -> List[str]:
    """Lines of a text file without their line ends; a final newline does not start a new line."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    if not text:
        return []
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    return lines


@contextmanager
def gc_paused():
    """Pause the cyclic garbage collector while building millions of small tuples (which
    contain no cycles); collection passes triggered by them would double the time taken."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def read_pharaoh(path) -> List[List[Link]]:
    """All sentences of a Pharaoh file, one list of links per line."""
    lines = read_lines(path)
    with gc_paused():
        return [parse_links(line, path, n) for n, line in enumerate(lines, start=1)]


def write_pharaoh(path, corpus_links: Iterable[Iterable[Link]]) -> None:
    """Write one Pharaoh line per sentence, atomically (temporary file in the same folder, then
    ``os.replace``), so a reader never sees a half-written file."""
    with atomic_open(path, "w") as handle:
        for links in corpus_links:
            handle.write(format_links(links))
            handle.write("\n")
