"""The GIZA++ file-format basics shared by eegiza's own outputs and the GIZA commands (spec:
shared/GIZA_FORMATS.md §4): C++ number printing, GIZA's text conventions, `.vcb` vocabularies and
t-tables (`eegiza lexicon` writes both). The formats only the GIZA commands use are in
:mod:`eegiza.giza` (``corpus_files``, ``alignment_files``, ``table_files``; all in :mod:`eegiza.giza.files`).

GIZA "source" is the `-s` side (e, gets NULL at position 0), GIZA "target" the `-t` side (f).
Files are handled as bytes-compatible text: UTF-8 with `surrogateescape`, so any byte sequence
round-trips unchanged, and lines are split on `\\n` only (like C++ `getline`). Tokens are split on
ASCII whitespace (like `istream >>`). Numbers printed by C++ `operator<<` with the default
precision are reproduced by `cpp_float` (`%g`, 6 significant digits).

Every writer writes atomically: into a temporary file in the target directory, then `os.replace`,
so an output file is either complete or absent. Bad input raises `GizaFormatError` (a
`ValueError`) naming the file and line.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Iterator

import numpy as np
from numba import njit

from .atomic import atomic_open as _atomic_open

ENCODING = "utf-8"
ERRORS = "surrogateescape"
#: GIZA's default `probsmooth` (a C++ float): tables print only values above it.
PROBSMOOTH = float(np.float32(1e-7))


class GizaFormatError(ValueError):
    """Malformed GIZA file; the message names the file and the 1-based line."""

    def __init__(self, path, lineno: int | None, message: str):
        where = f"{path}" if lineno is None else f"{path}, line {lineno}"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.lineno = lineno


# ----------------------------------------------------------------------------- basics
def cpp_float(x) -> str:
    """Format a number like C++ `ostream << double` with default flags (`%g`, 6 digits).

    >>> cpp_float(0.05561591), cpp_float(5.335724e-07), cpp_float(1.0), cpp_float(2.689417)
    ('0.0556159', '5.33572e-07', '1', '2.68942')
    """
    x = float(x)
    if math.isnan(x):
        return "-nan" if math.copysign(1.0, x) < 0 else "nan"
    return "%g" % x


def decode(data: bytes) -> str:
    """Bytes -> str, byte-preserving (undecodable bytes become surrogates)."""
    return data.decode(ENCODING, ERRORS)


def iter_lines(path) -> Iterator[tuple[int, str]]:
    """Yield (1-based line number, line without its `\\n`) splitting on `\\n` only."""
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if raw.endswith(b"\n"):
                raw = raw[:-1]
            yield lineno, decode(raw)


def atomic_open(path, mode: str = "w"):
    """:func:`eegiza.formats.atomic.atomic_open` with GIZA's text encoding (UTF-8, surrogateescape)."""
    return _atomic_open(path, mode, ENCODING, ERRORS)


def write_text(path, text: str) -> None:
    """Write `text` to `path` atomically."""
    with atomic_open(path) as fh:
        fh.write(text)


def _int(tok: str, path, lineno: int, what: str) -> int:
    try:
        return int(tok)
    except ValueError:
        raise GizaFormatError(path, lineno, f"{what} {tok!r} is not an integer") from None


def _float(tok: str, path, lineno: int, what: str) -> float:
    try:
        return float(tok)
    except ValueError:
        raise GizaFormatError(path, lineno, f"{what} {tok!r} is not a number") from None


def _number_text(x) -> str:
    """Integers print as integers, everything else like C++ doubles."""
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return str(int(x))
    return cpp_float(x)


# ----------------------------------------------------------------------------- .vcb
@dataclass(frozen=True)
class VcbEntry:
    """One `.vcb` line: `id word count` (count int, or float for weighted `.trn.*.vcb`)."""

    id: int
    word: str
    count: float | int


def read_vcb(path) -> list[VcbEntry]:
    """Read a `.vcb` (also `.trn.src.vcb`/`.trn.trg.vcb`); space or TAB separated.

    Blank lines are skipped; a missing count reads as 0 (GIZA ignores it anyway). Id 0 and
    duplicate ids are errors, as in GIZA. Moses' `1 UNK 0` line is returned like any other.
    """
    entries: list[VcbEntry] = []
    seen: set[int] = set()
    for lineno, line in iter_lines(path):
        toks = line.split()
        if not toks:
            continue
        if len(toks) < 2:
            raise GizaFormatError(path, lineno, f"expected 'id word count', got {line!r}")
        wid = _int(toks[0], path, lineno, "word id")
        if wid <= 0:
            raise GizaFormatError(path, lineno, f"token id {wid} is reserved for NULL or negative")
        if wid in seen:
            raise GizaFormatError(path, lineno, f"token id {wid} is assigned twice")
        seen.add(wid)
        count: float | int = 0
        if len(toks) >= 3:
            try:
                count = int(toks[2])
            except ValueError:
                count = _float(toks[2], path, lineno, "count")
        entries.append(VcbEntry(wid, toks[1], count))
    return entries


def format_vcb(entries: Iterable, sep: str = " ") -> str:
    """Text of a `.vcb`: `id<sep>word<sep>count` per entry ((id, word, count) tuples or VcbEntry)."""
    out = []
    for e in entries:
        wid, word, count = (e.id, e.word, e.count) if isinstance(e, VcbEntry) else e
        out.append(f"{int(wid)}{sep}{word}{sep}{_number_text(count)}\n")
    return "".join(out)


def write_vcb(path, entries: Iterable, sep: str = " ") -> None:
    """Write a `.vcb` (plain2snt style `sep=' '`, Moses style `sep='\\t'`), also `.trn.*.vcb`."""
    write_text(path, format_vcb(entries, sep))


def vcb_to_dict(entries: Iterable[VcbEntry]) -> dict[int, str]:
    """id -> word mapping of a read `.vcb`."""
    return {e.id: e.word for e in entries}


# ----------------------------------------------------------------------------- t/a/d/n/p0 tables
def _numeric_rows(path, ncols: int, what: str) -> list[tuple[int, list[str]]]:
    rows = []
    for lineno, line in iter_lines(path):
        toks = line.split()
        if not toks:
            continue
        if len(toks) != ncols:
            raise GizaFormatError(path, lineno, f"{what}: expected {ncols} fields, got {len(toks)}")
        rows.append((lineno, toks))
    return rows


def read_ttable(path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read a t-table (`e_id f_id p(f|e)`) into arrays (e int64, f int64, p float64).
    Well-formed files are parsed vectorised; anything else line by line (for the error message)."""
    with open(path, "rb") as fh:
        toks = fh.read().split()
    if len(toks) % 3 == 0:
        try:
            return (np.array(toks[0::3]).astype(np.int64), np.array(toks[1::3]).astype(np.int64),
                    np.array(toks[2::3]).astype(np.float64))
        except ValueError:
            pass
    rows = _numeric_rows(path, 3, "t-table")
    e = np.array([_int(t[0], path, n, "e id") for n, t in rows], dtype=np.int64)
    f = np.array([_int(t[1], path, n, "f id") for n, t in rows], dtype=np.int64)
    p = np.array([_float(t[2], path, n, "probability") for n, t in rows], dtype=np.float64)
    return e, f, p


def g_digits(x: np.ndarray):
    """For every value the 6 significant digits (100000..999999, negative for x < 0) and the
    decimal exponent that `%g` prints, rounded like printf; ``special`` marks the values left to
    printf (0, nan, inf, |x| outside 1e-300..1e300, and the rare values within 1e-9 of a rounding
    tie, which a float64 product cannot decide)."""
    ax = np.abs(x)
    ok = np.isfinite(ax) & (ax >= 1e-300) & (ax <= 1e300)
    safe = np.where(ok, ax, 1.0)
    exponent = np.floor(np.log10(safe)).astype(np.int64)
    for _ in range(2):  # log10 may be off by one next to powers of ten
        mant = safe * np.power(10.0, 5 - exponent)
        exponent += (mant >= 1e6).astype(np.int64) - (mant < 1e5).astype(np.int64)
    mant = safe * np.power(10.0, 5 - exponent)
    frac = mant - np.floor(mant)
    special = ~ok | (np.abs(frac - 0.5) < 1e-9)
    digits = np.floor(mant + 0.5).astype(np.int64)
    carry = digits >= 1000000
    digits = np.where(carry, 100000, digits)
    exponent = exponent + carry
    return np.where(x < 0, -digits, digits), exponent, special


@njit(cache=True, nogil=True)
def _put_int(buf, pos, v):
    """Write integer v as decimal ASCII at buf[pos:]; returns the new position."""
    if v < 0:
        buf[pos] = 45
        pos += 1
        v = -v
    n = 1
    t = v
    while t >= 10:
        t //= 10
        n += 1
    for k in range(n - 1, -1, -1):
        buf[pos + k] = 48 + v % 10
        v //= 10
    return pos + n


@njit(cache=True, nogil=True)
def _put_g(buf, pos, digits, exponent, d):
    """Write `%g` of digits * 10^(exponent - 5) (|digits| has 6 significant digits); ``d`` is
    scratch space for the 6 digits."""
    if digits < 0:
        buf[pos] = 45
        pos += 1
        digits = -digits
    for k in range(5, -1, -1):
        d[k] = digits % 10
        digits //= 10
    last = 5
    while last > 0 and d[last] == 0:
        last -= 1
    if -4 <= exponent < 6:
        if exponent >= 0:
            for k in range(exponent + 1):
                buf[pos] = 48 + d[k]
                pos += 1
            if last > exponent:
                buf[pos] = 46
                pos += 1
                for k in range(exponent + 1, last + 1):
                    buf[pos] = 48 + d[k]
                    pos += 1
        else:
            buf[pos] = 48
            buf[pos + 1] = 46
            pos += 2
            for _ in range(-exponent - 1):
                buf[pos] = 48
                pos += 1
            for k in range(last + 1):
                buf[pos] = 48 + d[k]
                pos += 1
        return pos
    buf[pos] = 48 + d[0]
    pos += 1
    if last > 0:
        buf[pos] = 46
        pos += 1
        for k in range(1, last + 1):
            buf[pos] = 48 + d[k]
            pos += 1
    buf[pos] = 101
    buf[pos + 1] = 45 if exponent < 0 else 43
    pos += 2
    a = -exponent if exponent < 0 else exponent
    if a < 10:
        buf[pos] = 48
        pos += 1
    return _put_int(buf, pos, a)


@njit(cache=True, nogil=True)
def _ttable_bytes(e, f, digits, exponent, special):
    """`e f p` lines as bytes; the value is left out where ``special`` (filled in by printf)."""
    buf = np.empty(len(e) * 64, np.uint8)
    scratch = np.empty(6, np.int64)
    pos = 0
    for k in range(len(e)):
        pos = _put_int(buf, pos, e[k])
        buf[pos] = 32
        pos = _put_int(buf, pos + 1, f[k])
        buf[pos] = 32
        pos += 1
        if not special[k]:
            pos = _put_g(buf, pos, digits[k], exponent[k], scratch)
        buf[pos] = 10
        pos += 1
    return buf[:pos]


def format_ttable_lines(e, f, p) -> bytes:
    """`e f p` lines (p printed like C++ `<<`, i.e. :func:`cpp_float`) in the given order, as
    bytes: the `%g` digits are computed vectorised (:func:`g_digits`), the lines written by a
    Numba kernel; the few values g_digits leaves to printf go through :func:`cpp_float`."""
    e = np.ascontiguousarray(e, dtype=np.int64)
    f = np.ascontiguousarray(f, dtype=np.int64)
    p = np.asarray(p, dtype=np.float64)
    digits, exponent, special = g_digits(p)
    out = _ttable_bytes(e, f, digits, exponent, special).tobytes()
    if not special.any():
        return out
    lines = out.split(b"\n")
    for k in np.flatnonzero(special).tolist():
        lines[k] += cpp_float(p[k]).encode()
    return b"\n".join(lines)


def write_ttable(path, e, f, p, probsmooth: float = PROBSMOOTH) -> None:
    """Write a t-table: rows with p > probsmooth, sorted by e then f, `e f p` (p like C++)."""
    e = np.asarray(e, dtype=np.int64)
    f = np.asarray(f, dtype=np.int64)
    p = np.asarray(p, dtype=np.float64)
    keep = p > probsmooth
    e, f, p = e[keep], f[keep], p[keep]
    order = np.lexsort((f, e))
    with atomic_open(path, "wb") as fh:
        fh.write(format_ttable_lines(e[order], f[order], p[order]))
