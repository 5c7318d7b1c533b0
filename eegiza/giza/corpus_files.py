"""GIZA++'s corpus-side files (spec: shared/GIZA_FORMATS.md §4): the `.snt` sentence-pair files of
`plain2snt.out` (a count line, then the GIZA ids of the `-s` and `-t` sides; fast numpy reading in
:func:`read_snt_arrays`), the `.cooc` co-occurrence pairs of `snt2cooc.out` (sorted, unique `e f`
lines), and `mkcls`' `.classes` (`word<TAB>class`) and `.cats` files. Conventions (encoding,
atomic writes, :class:`GizaFormatError`) as in :mod:`eegiza.formats.giza`.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

import numpy as np

from ..formats.giza import GizaFormatError, _float, atomic_open, cpp_float, iter_lines, write_text

# ----------------------------------------------------------------------------- .snt
@dataclass(frozen=True)
class SntPair:
    """One `.snt` sentence pair: count (weight; negative = dictionary entry), source and target ids."""

    count: float
    src: list[int]
    tgt: list[int]


_ONE_LINE_SPLIT = re.compile(r"[|#*]")


def _ids(text: str, path, lineno: int) -> list[int]:
    try:
        ids = [int(t) for t in text.split()]
    except ValueError:
        raise GizaFormatError(path, lineno, f"word ids must be integers: {text.strip()!r}") from None
    if any(i < 0 for i in ids):
        raise GizaFormatError(path, lineno, "negative word id")
    return ids


def iter_snt(path) -> Iterator[SntPair]:
    """Read a `.snt`: 3-line blocks (count / source ids / target ids), or MGIZA's one-line
    `count | src | tgt` form (split on any of `|#*`). Like MGIZA, a line with 2 or more than 3
    such fields ends the corpus; an incomplete trailing 3-line block is an error."""
    lines = iter_lines(path)
    for lineno, line in lines:
        fields = _ONE_LINE_SPLIT.split(line)
        if len(fields) == 3:
            count_text, src_text, tgt_text = fields
            src_no = tgt_no = lineno
        elif len(fields) == 1:
            count_text = line
            try:
                src_no, src_text = next(lines)
                tgt_no, tgt_text = next(lines)
            except StopIteration:
                raise GizaFormatError(path, lineno, "incomplete sentence pair (need 3 lines)") from None
        else:
            return
        toks = count_text.split()
        if not toks:
            raise GizaFormatError(path, lineno, "missing sentence-pair count")
        count = _float(toks[0], path, lineno, "count")
        yield SntPair(count, _ids(src_text, path, src_no), _ids(tgt_text, path, tgt_no))


def read_snt(path) -> list[SntPair]:
    """All pairs of a `.snt` file (see `iter_snt`)."""
    return list(iter_snt(path))


def format_snt_pair(count, src: Sequence[int], tgt: Sequence[int]) -> str:
    """3-line `.snt` block exactly as plain2snt writes it (trailing space after every id)."""
    s = "".join(f"{int(i)} " for i in src)
    t = "".join(f"{int(i)} " for i in tgt)
    return f"{cpp_float(count)}\n{s}\n{t}\n"


def write_snt(path, pairs: Iterable) -> None:
    """Write a `.snt` from SntPair or (count, src, tgt) tuples."""
    with atomic_open(path) as fh:
        for p in pairs:
            count, src, tgt = (p.count, p.src, p.tgt) if isinstance(p, SntPair) else p
            fh.write(format_snt_pair(count, src, tgt))


@dataclass
class SntArrays:
    """A `.snt` corpus as flat arrays: sentence k's source ids are
    `src_ids[src_offsets[k]:src_offsets[k+1]]` (no NULL), likewise the target side."""

    counts: np.ndarray
    src_ids: np.ndarray
    src_offsets: np.ndarray
    tgt_ids: np.ndarray
    tgt_offsets: np.ndarray

    def __len__(self) -> int:
        return len(self.counts)


def read_snt_arrays(path) -> SntArrays:
    """Read a `.snt` into flat int64 arrays (`SntArrays`), for fast corpus-wide processing.

    Plain 3-line files are parsed vectorised; anything else (one-line form, errors) goes
    through `iter_snt`, which also produces the error messages."""
    with open(path, "rb") as fh:
        data = fh.read()
    fast = _snt_arrays_fast(data)
    return fast if fast is not None else _snt_arrays_slow(path)


def _parse_id_lines(lines: list[bytes]) -> tuple[np.ndarray, np.ndarray] | None:
    lengths = np.fromiter((len(x.split()) for x in lines), dtype=np.int64, count=len(lines))
    offsets = np.zeros(len(lines) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            ids = np.fromstring(b" ".join(lines), dtype=np.int64, sep=" ") if offsets[-1] else np.zeros(0, np.int64)
        except (DeprecationWarning, ValueError):
            return None
    if ids.size != offsets[-1] or (ids.size and ids.min() < 0):
        return None
    return ids, offsets


def _snt_arrays_fast(data: bytes) -> SntArrays | None:
    if b"|" in data or b"#" in data or b"*" in data:
        return None
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if len(lines) % 3:
        return None
    try:
        counts = np.array([float(x.split()[0]) for x in lines[0::3]], dtype=np.float64)
    except (ValueError, IndexError):
        return None
    src = _parse_id_lines(lines[1::3])
    tgt = _parse_id_lines(lines[2::3])
    if src is None or tgt is None:
        return None
    return SntArrays(counts, src[0], src[1], tgt[0], tgt[1])


def _snt_arrays_slow(path) -> SntArrays:
    counts: list[float] = []
    src_chunks: list[np.ndarray] = []
    tgt_chunks: list[np.ndarray] = []
    src_len = [0]
    tgt_len = [0]
    for pair in iter_snt(path):
        counts.append(pair.count)
        src_chunks.append(np.asarray(pair.src, dtype=np.int64))
        tgt_chunks.append(np.asarray(pair.tgt, dtype=np.int64))
        src_len.append(len(pair.src))
        tgt_len.append(len(pair.tgt))
    empty = np.zeros(0, dtype=np.int64)
    return SntArrays(
        counts=np.asarray(counts, dtype=np.float64),
        src_ids=np.concatenate(src_chunks) if src_chunks else empty,
        src_offsets=np.cumsum(src_len, dtype=np.int64),
        tgt_ids=np.concatenate(tgt_chunks) if tgt_chunks else empty,
        tgt_offsets=np.cumsum(tgt_len, dtype=np.int64),
    )


# ----------------------------------------------------------------------------- .cooc
def _read_int_columns(path, ncols: int, what: str) -> np.ndarray:
    with open(path, "rb") as fh:
        data = fh.read()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            flat = np.fromstring(data, dtype=np.int64, sep=" ")
        except (DeprecationWarning, ValueError):
            flat = None
    n_lines = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    if flat is not None and flat.size == n_lines * ncols:
        return flat.reshape(-1, ncols)
    rows = []  # blank lines or bad input: parse line by line
    for lineno, line in iter_lines(path):
        toks = line.split()
        if not toks:
            continue
        if len(toks) != ncols or not all(re.fullmatch(r"[+-]?\d+", t) for t in toks):
            raise GizaFormatError(path, lineno, f"expected {ncols} integers per line in {what}: {line!r}")
        rows.append([int(t) for t in toks])
    return np.array(rows, dtype=np.int64).reshape(-1, ncols)


def read_cooc(path) -> tuple[np.ndarray, np.ndarray]:
    """Read a `.cooc` file (`e f` per line) into int64 arrays (e, f); must be sorted and unique."""
    table = _read_int_columns(path, 2, ".cooc file")
    e, f = table[:, 0].copy(), table[:, 1].copy()
    if e.size > 1:
        bad = (e[1:] < e[:-1]) | ((e[1:] == e[:-1]) & (f[1:] <= f[:-1]))
        if bad.any():
            k = int(np.argmax(bad)) + 2
            raise GizaFormatError(path, k, ".cooc must be sorted by (e, f) without duplicates")
    if (e < 0).any() or (f < 0).any():
        raise GizaFormatError(path, int(np.argmax((e < 0) | (f < 0))) + 1, "negative word id")
    return e, f


def format_cooc(e: np.ndarray, f: np.ndarray) -> str:
    """`e f` lines for the given (already ordered) pairs."""
    if len(e) == 0:
        return ""
    table = np.column_stack([np.asarray(e, dtype=np.int64), np.asarray(f, dtype=np.int64)])
    return "\n".join(f"{a} {b}" for a, b in table.tolist()) + "\n"


def write_cooc(path, e: np.ndarray, f: np.ndarray) -> None:
    """Write a `.cooc`; the pairs are sorted by (e, f) and made unique first."""
    e = np.asarray(e, dtype=np.int64)
    f = np.asarray(f, dtype=np.int64)
    if e.size:
        order = np.lexsort((f, e))
        e, f = e[order], f[order]
        keep = np.ones(e.size, dtype=bool)
        keep[1:] = (e[1:] != e[:-1]) | (f[1:] != f[:-1])
        e, f = e[keep], f[keep]
    write_text(path, format_cooc(e, f))


# ----------------------------------------------------------------------------- .classes / .cats
def read_classes(path) -> list[tuple[str, str]]:
    """Read a mkcls `.classes` file: (word, class label) in file order (`word<TAB>class`)."""
    out = []
    for lineno, line in iter_lines(path):
        if not line.strip():
            continue
        if "\t" in line:
            word, _, label = line.rpartition("\t")
        else:
            toks = line.split()
            if len(toks) != 2:
                raise GizaFormatError(path, lineno, f"expected 'word<TAB>class', got {line!r}")
            word, label = toks
        label = label.strip()
        if not word or not label:
            raise GizaFormatError(path, lineno, f"expected 'word<TAB>class', got {line!r}")
        out.append((word, label))
    return out


def class_ids(pairs: Iterable[tuple[str, str]]) -> tuple[dict[str, int], dict[str, int]]:
    """GIZA's mapping: class strings -> ids 1.. in order of first appearance; returns
    (word -> class id, class string -> class id)."""
    label_id: dict[str, int] = {}
    word_class: dict[str, int] = {}
    for word, label in pairs:
        cid = label_id.setdefault(label, len(label_id) + 1)
        word_class[word] = cid
    return word_class, label_id


def write_classes(path, pairs: Iterable[tuple[str, object]]) -> None:
    """Write `word<TAB>class` lines in the given order (mkcls sorts by word bytes)."""
    write_text(path, "".join(f"{w}\t{c}\n" for w, c in pairs))


_CATS_HEADER = re.compile(r";KategProblem:cats:\s*(\d+)\s+words:\s*(\d+)")
_CATS_LINE = re.compile(r"(\d+):(.*)")


def read_cats(path) -> dict[int, list[str]]:
    """Read a mkcls `.cats` file: class number -> words (from the `k:w1,w2,` lines)."""
    cats: dict[int, list[str]] = {}
    for lineno, line in iter_lines(path):
        m = _CATS_LINE.fullmatch(line)
        if not m:
            continue
        body = m.group(2)
        if body and not body.endswith(","):
            raise GizaFormatError(path, lineno, "word list must end with ','")
        cats[int(m.group(1))] = body.split(",")[:-1] if body else []
    return cats


def format_cats(cats: dict[int, Sequence[str]], n_classes: int, n_words: int, trailer: str = "") -> str:
    """`.cats` text: `;KategProblem:cats: C   words: W`, then `k:w1,w2,` for k = 0..max(cats),
    then `trailer` verbatim (mkcls appends optimisation statistics there)."""
    lines = [f";KategProblem:cats: {n_classes}   words: {n_words}\n"]
    for k in range(max(cats) + 1 if cats else 0):
        lines.append(f"{k}:" + "".join(f"{w}," for w in cats.get(k, ())) + "\n")
    return "".join(lines) + trailer


def write_cats(path, cats: dict[int, Sequence[str]], n_classes: int, n_words: int, trailer: str = "") -> None:
    """Write a `.cats` file (see `format_cats`)."""
    write_text(path, format_cats(cats, n_classes, n_words, trailer))
