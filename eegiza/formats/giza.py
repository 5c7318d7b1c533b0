"""Readers and writers for the GIZA++ / MGIZA++ file formats (spec: shared/GIZA_FORMATS.md §4).

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
import re
import warnings
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

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


# ----------------------------------------------------------------------------- alignments
@dataclass
class A3Sentence:
    """One block of a GIZA alignment file (`.A3.final`, `.A1.N`, `.Ahmm.N` ...).

    `links[i] = (source word, [1-based target positions])` with i = 0 for NULL."""

    pair_no: int
    l: int
    m: int
    score: float
    score_text: str
    target_words: list[str]
    links: list[tuple[str, list[int]]]

    def viterbi(self) -> list[int]:
        """Source position (0 = NULL) of each target word j = 1..m, as a list of length m."""
        a = [0] * self.m
        for i, (_, js) in enumerate(self.links):
            for j in js:
                a[j - 1] = i
        return a


_A3_HEADER = re.compile(
    r"# Sentence pair \((\d+)\) source length (\d+) target length (\d+) alignment score : (\S+)")
_A3_LINK = re.compile(r"(\S*) \(\{ ((?:\d+ )*)\}\) ")


def _parse_a3_block(path, lineno: int, header: str, words: str, links: str) -> A3Sentence:
    h = _A3_HEADER.fullmatch(header.rstrip("\r"))
    if not h:
        raise GizaFormatError(path, lineno, f"bad alignment header {header!r}")
    pair_no, l, m = int(h.group(1)), int(h.group(2)), int(h.group(3))
    score_text = h.group(4)
    score = _float(score_text, path, lineno, "alignment score")
    target_words = words.split(" ")
    if target_words and target_words[-1] == "":
        target_words.pop()
    if len(target_words) != m:
        raise GizaFormatError(path, lineno + 1, f"{len(target_words)} target words, header says {m}")
    parsed: list[tuple[str, list[int]]] = []
    pos = 0
    for mt in _A3_LINK.finditer(links):
        if mt.start() != pos:
            break
        parsed.append((mt.group(1), [int(x) for x in mt.group(2).split()]))
        pos = mt.end()
    if pos != len(links.rstrip("\r")) or len(parsed) != l + 1:
        raise GizaFormatError(path, lineno + 2, f"bad alignment line (expected NULL + {l} source words)")
    seen = sorted(j for _, js in parsed for j in js)
    if seen != list(range(1, m + 1)):
        raise GizaFormatError(path, lineno + 2, "target positions must cover 1..m exactly once")
    return A3Sentence(pair_no, l, m, score, score_text, target_words, parsed)


def iter_a3(path) -> Iterator[A3Sentence]:
    """Read a GIZA alignment file block by block (3 lines per sentence pair)."""
    lines = iter_lines(path)
    for lineno, header in lines:
        try:
            _, words = next(lines)
            _, links = next(lines)
        except StopIteration:
            raise GizaFormatError(path, lineno, "incomplete alignment block (need 3 lines)") from None
        yield _parse_a3_block(path, lineno, header, words, links)


def read_a3(path) -> list[A3Sentence]:
    """All blocks of a GIZA alignment file."""
    return list(iter_a3(path))


def format_a3_block(pair_no: int, score, source_words: Sequence[str], target_words: Sequence[str],
                    viterbi: Sequence[int]) -> str:
    """One GIZA alignment block. `viterbi[j-1]` = source position (0 = NULL) of target word j;
    `source_words` excludes NULL. `score` may be a float (printed like C++) or a ready string."""
    l, m = len(source_words), len(target_words)
    if len(viterbi) != m:
        raise ValueError(f"viterbi has {len(viterbi)} entries for {m} target words")
    cept: list[list[int]] = [[] for _ in range(l + 1)]
    for j, i in enumerate(viterbi, 1):
        if not 0 <= i <= l:
            raise ValueError(f"alignment of target word {j} to {i} is outside 0..{l}")
        cept[int(i)].append(j)
    score_text = score if isinstance(score, str) else cpp_float(score)
    out = [f"# Sentence pair ({pair_no}) source length {l} target length {m} alignment score : {score_text}\n"]
    out.append("".join(w + " " for w in target_words) + "\n")
    names = ["NULL", *source_words]
    out.append("".join(f"{names[i]} ({{ {''.join(f'{j} ' for j in cept[i])}}}) " for i in range(l + 1)) + "\n")
    return "".join(out)


def format_a3_sentence(s: A3Sentence) -> str:
    """Re-serialise a read `A3Sentence` (keeps the score text and the words as read)."""
    out = [f"# Sentence pair ({s.pair_no}) source length {s.l} target length {s.m} "
           f"alignment score : {s.score_text}\n"]
    out.append("".join(w + " " for w in s.target_words) + "\n")
    out.append("".join(f"{w} ({{ {''.join(f'{j} ' for j in js)}}}) " for w, js in s.links) + "\n")
    return "".join(out)


def write_a3(path, blocks: Iterable) -> None:
    """Write an alignment file from `A3Sentence`s or already formatted block strings."""
    with atomic_open(path) as fh:
        for b in blocks:
            fh.write(b if isinstance(b, str) else format_a3_sentence(b))


def format_compact_block(viterbi: Sequence[int]) -> str:
    """`compactalignmentformat 1` line: `i-1 j-1 ` for every target j aligned to i >= 1."""
    return "".join(f"{i - 1} {j} " for j, i in enumerate(viterbi) if i) + "\n"


def read_compact(path) -> list[list[tuple[int, int]]]:
    """Read a compact alignment file: per line the 0-based (source, target) pairs."""
    out = []
    for lineno, line in iter_lines(path):
        toks = line.split()
        if len(toks) % 2:
            raise GizaFormatError(path, lineno, "odd number of positions")
        nums = [_int(t, path, lineno, "position") for t in toks]
        out.append(list(zip(nums[0::2], nums[1::2])))
    return out


def write_compact(path, viterbis: Iterable[Sequence[int]]) -> None:
    """Write a compact alignment file, one `format_compact_block` line per sentence pair."""
    with atomic_open(path) as fh:
        for v in viterbis:
            fh.write(format_compact_block(v))


def a3_to_pharaoh(sentence: A3Sentence) -> str:
    """Pharaoh links `(i-1)-(j-1)` for source i >= 1, in source then target order (no newline)."""
    return " ".join(f"{i - 1}-{j - 1}" for i, (_, js) in enumerate(sentence.links) if i for j in js)


def convert_a3_to_pharaoh(a3_path, out_path) -> int:
    """Convert a whole A3 file to a Pharaoh file (one line per block); returns the block count."""
    n = 0
    with atomic_open(out_path) as fh:
        for s in iter_a3(a3_path):
            fh.write(a3_to_pharaoh(s) + "\n")
            n += 1
    return n


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


def read_atable(path) -> tuple[np.ndarray, ...]:
    """Read an a- or d-table: five columns (int, int, int, int, float) as arrays in file order.
    For a-tables the columns are `i j l m value`, for d3 tables `j i l m p`."""
    rows = _numeric_rows(path, 5, "a/d table")
    cols = [np.array([_int(t[k], path, n, "position") for n, t in rows], dtype=np.int64) for k in range(4)]
    val = np.array([_float(t[4], path, n, "value") for n, t in rows], dtype=np.float64)
    return (*cols, val)


def _write_table5(path, c0, c1, l, m, values, sort_keys, probsmooth) -> None:
    c0, c1, l, m = (np.asarray(x, dtype=np.int64) for x in (c0, c1, l, m))
    values = np.asarray(values)
    keep = values > probsmooth
    c0, c1, l, m, values = c0[keep], c1[keep], l[keep], m[keep], values[keep]
    cols = {"c0": c0, "c1": c1, "l": l, "m": m}
    order = np.lexsort(tuple(cols[k] for k in reversed(sort_keys)))
    rows = zip(c0[order].tolist(), c1[order].tolist(), l[order].tolist(), m[order].tolist(), values[order].tolist())
    write_text(path, "".join(f"{a} {b} {c} {d} {cpp_float(v)}\n" for a, b, c, d, v in rows))


def write_atable(path, i, j, l, m, values, probsmooth: float = PROBSMOOTH) -> None:
    """Write an a-table `i j l m value` (values > probsmooth), GIZA's order: l, m, j, i.
    With `compactadtable 1` pass m = 100 (ml-1) for every row, as GIZA prints it."""
    _write_table5(path, i, j, l, m, values, ("l", "m", "c1", "c0"), probsmooth)


def write_d3table(path, j, i, l, m, values, probsmooth: float = PROBSMOOTH) -> None:
    """Write a d3 table `j i l m p` (values > probsmooth), GIZA's order: l, m, i, j.
    With `compactadtable 1` pass l = 100 for every row."""
    _write_table5(path, j, i, l, m, values, ("l", "m", "c1", "c0"), probsmooth)


def read_ntable(path) -> tuple[np.ndarray, np.ndarray]:
    """Read an n-table (`e p0 p1 ... pK-1 `) into (e ids, probs[n, K])."""
    ids, probs, width = [], [], None
    for lineno, line in iter_lines(path):
        toks = line.split()
        if not toks:
            continue
        if width is None:
            width = len(toks)
        if len(toks) != width or width < 2:
            raise GizaFormatError(path, lineno, "n-table rows must all have the same number of fields")
        ids.append(_int(toks[0], path, lineno, "word id"))
        probs.append([_float(t, path, lineno, "probability") for t in toks[1:]])
    return np.array(ids, dtype=np.int64), np.array(probs, dtype=np.float64).reshape(len(ids), -1)


def write_ntable(path, e_ids, probs, probsmooth: float = PROBSMOOTH) -> None:
    """Write an n-table: per word `e p(0) ... p(K-1) ` (every value followed by a space),
    values <= probsmooth printed as 0; rows in the given order (GIZA: ids ascending,
    only words with training frequency > 0)."""
    probs = np.asarray(probs)
    lines = []
    for e, row in zip(np.asarray(e_ids, dtype=np.int64).tolist(), probs.tolist()):
        lines.append(f"{e} " + "".join(("0" if v <= probsmooth else cpp_float(v)) + " " for v in row) + "\n")
    write_text(path, "".join(lines))


def read_p0(path) -> float:
    """Read a `.p0_3.*` file (one number)."""
    for lineno, line in iter_lines(path):
        toks = line.split()
        if toks:
            return _float(toks[0], path, lineno, "p0")
    raise GizaFormatError(path, None, "empty p0 file")


def write_p0(path, p0: float) -> None:
    """Write a `.p0_3.*` file: the number, no newline."""
    write_text(path, cpp_float(p0))


def read_d4(path) -> list[tuple[str, str, int, float]]:
    """Read a `.D4.*` table: (E class, F class, delta, prob); non-head rows have E class `-1`."""
    out = []
    for lineno, toks in _numeric_rows(path, 4, "D4 table"):
        out.append((toks[0], toks[1], _int(toks[2], path, lineno, "delta"), _float(toks[3], path, lineno, "prob")))
    return out


def write_d4(path, rows: Iterable[tuple[object, object, int, float]]) -> None:
    """Write a `.D4.*` table `Eclass Fclass delta prob` in the given order (head rows first,
    then non-head rows with Eclass -1)."""
    write_text(path, "".join(f"{ec} {fc} {int(d)} {cpp_float(p)}\n" for ec, fc, d, p in rows))


def format_d4_text(head_blocks, nonhead_blocks) -> str:
    """Text of a `.d4.*` dump. Each block is (key label, [(delta, count), ...]); the label is
    GIZA's key print, e.g. `F: 37 E: 9 ` (head) or `F: 37 ` (non-head). Blocks whose counts sum
    to 0 and zero counts are omitted, as GIZA does."""
    out = ["# Translation tables for Model 4 .\n", "# Table for head of cept.\n"]
    full = 0.0
    for title, blocks in ((None, head_blocks), ("# Table for non-head of cept.\n", nonhead_blocks)):
        if title:
            out.append(title)
        for label, entries in blocks:
            total = float(sum(c for _, c in entries))
            if total:
                out.append(label + "\n" + f"SUM: {cpp_float(total)} \n")
                out.extend(f"{int(d)} {cpp_float(c)}\n" for d, c in entries if c)
                out.append("\n")
            full += total
    out.append(f"\nFULL-SUM: {cpp_float(full)}\n")
    return "".join(out)


def write_d4_text(path, head_blocks, nonhead_blocks) -> None:
    """Write a `.d4.*` dump (see `format_d4_text`)."""
    write_text(path, format_d4_text(head_blocks, nonhead_blocks))


def read_hhmm(path) -> list[tuple[str, dict[int, float]]]:
    """Read GIZA++'s text `.hhmm.N` (also what eegiza writes): per block `Distribution for:
    previousClass: C  d:count; ...` the class label C and its jump counts {d: count}. MGIZA's
    machine-readable `.hhmm` (`l classPrev prev j ...` lines + `.alpha`/`.beta`) is rejected."""
    out: list[tuple[str, dict[int, float]]] = []
    for lineno, line in iter_lines(path):
        text = line.strip()
        if not text or text.startswith(("SUM:", "FULL-SUM:")):
            continue
        head = "Distribution for: previousClass:"
        if not text.startswith(head):
            raise GizaFormatError(path, lineno, "not a GIZA++/eegiza .hhmm dump ('Distribution for: previousClass: "
                                  "C  d:count; ...'); MGIZA's machine-readable .hhmm (+ .alpha/.beta) is not read")
        toks = text[len(head):].split()
        if not toks:
            raise GizaFormatError(path, lineno, "missing class label")
        jumps: dict[int, float] = {}
        for tok in toks[1:]:
            delta, sep, count = tok.rstrip(";").partition(":")
            if not sep:
                raise GizaFormatError(path, lineno, f"expected 'jump:count;', got {tok!r}")
            jumps[_int(delta, path, lineno, "jump")] = _float(count, path, lineno, "count")
        out.append((toks[0], jumps))
    return out


# ----------------------------------------------------------------------------- .perp
PERP_HEADER = "#trnsz\ttstsz\titer\tmodel\ttrn-pp\t\ttest-pp\t\ttrn-vit-pp\t\ttst-vit-pp\n"


@dataclass
class PerpRow:
    """One `.perp` row; None prints `N/A`."""

    model: str
    trn_pp: float | None
    test_pp: float | None = None
    trn_vit_pp: float | None = None
    tst_vit_pp: float | None = None


def format_perp(rows: Sequence[PerpRow], train_size: int, test_size: int = 0) -> str:
    """`.perp` text exactly as GIZA's generatePerplexityReport (iteration numbers from 0)."""
    out = [PERP_HEADER]
    for it, r in enumerate(rows):
        s = f"{train_size}\t{test_size}\t{it}\t{r.model}\t"
        s += "N/A\t\t" if r.trn_pp is None else cpp_float(r.trn_pp) + "\t\t"
        s += "N/A\t\t" if r.test_pp is None else cpp_float(r.test_pp) + "\t\t"
        s += "N/A\t" if r.trn_vit_pp is None else cpp_float(r.trn_vit_pp) + "\t\t"
        s += "N/A\n" if r.tst_vit_pp is None else cpp_float(r.tst_vit_pp) + "\n"
        out.append(s)
    return "".join(out)


def write_perp(path, rows: Sequence[PerpRow], train_size: int, test_size: int = 0) -> None:
    """Write a `.perp` file."""
    write_text(path, format_perp(rows, train_size, test_size))


def read_perp(path) -> tuple[int, int, list[PerpRow]]:
    """Read a `.perp` file: (train size, test size, rows)."""
    rows: list[PerpRow] = []
    sizes = (0, 0)
    for lineno, line in iter_lines(path):
        if not line or line.startswith("#"):
            continue
        f = [x for x in line.split("\t") if x != ""]
        if len(f) != 8:
            raise GizaFormatError(path, lineno, f"expected 8 fields, got {len(f)}")
        sizes = (_int(f[0], path, lineno, "train size"), _int(f[1], path, lineno, "test size"))
        vals = [None if x == "N/A" else _float(x, path, lineno, "perplexity") for x in f[4:]]
        rows.append(PerpRow(f[3], *vals))
    return sizes[0], sizes[1], rows


# ----------------------------------------------------------------------------- .Decoder.config
_DECODER_HEAD = (
    "# Template for Configuration File for the Rewrite Decoder\n# Syntax:\n"
    "#         <Variable> = <value>\n#         '#' is the comment character\n"
    "#================================================================\n"
    "#================================================================\n"
    "# LANGUAGE MODEL FILE\n# The full path and file name of the language model file:\n"
    "LanguageModelFile =\n"
    "#================================================================\n"
    "#================================================================\n"
    "# TRANSLATION MODEL FILES\n# The directory where the translation model tables as created\n"
    "# by Giza are located:\n#\n"
    "# Notes: - All translation model \"source\" files are assumed to be in\n"
    "#          TM_RawDataDir, the binaries will be put in TM_BinDataDir\n"
    "#\n#        - Attention: RELATIVE PATH NAMES DO NOT WORK!!!\n"
    "#\n#        - Absolute paths (file name starts with /) will override\n"
    "#          the default directory.\n\n"
)
_DECODER_NOTES = (
    "# file names of the TM tables\n# Notes:\n"
    "# 1. TTable and InversTTable are expected to use word IDs not\n"
    "#    strings (Giza produces both, whereby the *.actual.* files\n"
    "#    use strings and are THE WRONG CHOICE.\n"
    "# 2. FZeroWords, on the other hand, is a simple list of strings\n"
    "#    with one word per line. This file is typically edited\n"
    "#    manually. Hoeever, this one listed here is generated by GIZA\n\n"
)


def format_decoder_config(prefix: str, source_vcb: str, target_vcb: str) -> str:
    """`.Decoder.config` text for output prefix `prefix` (always the model-3 file names)."""
    cut = prefix.rfind("/") + 1
    path = prefix[:cut] or "."
    base = prefix[cut:]
    return (
        _DECODER_HEAD
        + f"TM_RawDataDir = {path}\nTM_BinDataDir = {path}\n\n"
        + _DECODER_NOTES
        + f"TTable = {base}.t3.final\nInverseTTable = {base}.ti.final\nNTable = {base}.n3.final\n"
        + f"D3Table = {base}.d3.final\nD4Table = {base}.D4.final\nPZero = {base}.p0_3.final\n"
        + f"Source.vcb = {source_vcb}\nTarget.vcb = {target_vcb}\n"
        + f"Source.classes = {source_vcb}.classes\nTarget.classes = {target_vcb}.classes\n"
        + f"FZeroWords       = {base}.fe0_3.final\n"
    )


def write_decoder_config(prefix: str, source_vcb: str, target_vcb: str, path=None) -> None:
    """Write `<prefix>.Decoder.config` (or `path`)."""
    write_text(path or prefix + ".Decoder.config", format_decoder_config(prefix, source_vcb, target_vcb))


def read_decoder_config(path) -> dict[str, str]:
    """`Variable = value` settings of a `.Decoder.config` (comments skipped)."""
    out = {}
    for _, line in iter_lines(path):
        if line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        out[key.strip()] = value.strip()
    return out
