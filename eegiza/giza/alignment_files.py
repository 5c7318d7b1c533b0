"""GIZA++'s alignment files (spec: shared/GIZA_FORMATS.md §4): the three-line `.A3`-style blocks
(`# Sentence pair (N) source length L target length M alignment score : P`, the target words, then
`NULL ({ j.. }) e_1 ({ j.. }) ...`) of `.A1.N .Ahmm.N .A3.final`, GIZA's compact format
(`compactalignmentformat`), and the conversion of a block to Pharaoh `i-j` links. Conventions as in
:mod:`eegiza.formats.giza`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

from ..formats.giza import GizaFormatError, _float, _int, atomic_open, cpp_float, iter_lines

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
