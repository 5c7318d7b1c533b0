"""Alignment quality against a gold standard: AER, precision, recall and F (Och & Ney 2003).

Gold files have one line per sentence pair; ``i-j`` is a sure link and ``i?j`` a possible link
(0-based, source index first); an empty line has no links. Every sure link also counts as possible
(S ⊆ P). For a hypothesis A, micro-averaged over the whole test set:

    AER = 1 - (|A∩S| + |A∩P|) / (|A| + |S|)
    precision = |A∩P| / |A|,   recall = |A∩S| / |S|,   F = 2 P R / (P + R)

Ratios whose denominator is 0 are NaN (F is 0 when P = R = 0).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import FrozenSet, Iterable, List, NamedTuple, Sequence, Tuple, Union

from .formats.pharaoh import AlignmentFormatError, error_location, read_lines, read_pharaoh

Link = Tuple[int, int]


class GoldSentence(NamedTuple):
    """Gold links of one sentence pair; ``possible`` includes every ``sure`` link."""
    sure: FrozenSet[Link]
    possible: FrozenSet[Link]


@dataclass(frozen=True)
class AlignmentScores:
    aer: float
    precision: float
    recall: float
    f1: float
    n_sentences: int
    n_hyp: int            # |A|
    n_sure: int           # |S|
    n_possible: int       # |P| (sure links included)
    hyp_sure: int         # |A∩S|
    hyp_possible: int     # |A∩P|


def _parse_gold_line(line: str, path, lineno: int) -> GoldSentence:
    sure, possible = set(), set()
    for token in line.split():
        for sep, kind in (("-", sure), ("?", possible)):
            i, found, j = token.partition(sep)
            if found:
                break
        if not (found and i.isdigit() and j.isdigit() and i.isascii() and j.isascii()):
            raise AlignmentFormatError(
                f"{error_location(path, lineno)}malformed gold token {token!r} "
                "(expected i-j for sure or i?j for possible, 0-based)")
        kind.add((int(i), int(j)))
    return GoldSentence(frozenset(sure), frozenset(possible | sure))


def read_gold(path) -> List[GoldSentence]:
    """All sentences of a gold file."""
    return [_parse_gold_line(line, path, n) for n, line in enumerate(read_lines(path), start=1)]


def _ratio(num: int, den: int) -> float:
    return num / den if den else float("nan")


def aer(gold: Union[str, Path, Sequence[GoldSentence]],
        hyp: Union[str, Path, Sequence[Iterable[Link]]],
        test_at_end: bool = True) -> AlignmentScores:
    """Score hypothesis alignments (per-sentence link lists, or a Pharaoh file) against gold
    (``read_gold`` output, or a gold file).

    ``test_at_end=True`` (the benchmark protocol: the test set is appended to the training corpus)
    scores the LAST ``len(gold)`` hypothesis lines; ``False`` requires exactly ``len(gold)`` lines.
    A hypothesis with fewer lines than the gold is always an error."""
    if isinstance(gold, (str, Path)):
        gold = read_gold(gold)
    if isinstance(hyp, (str, Path)):
        hyp = read_pharaoh(hyp)
    n = len(gold)
    if len(hyp) < n or (len(hyp) != n and not test_at_end):
        raise ValueError(f"hypothesis has {len(hyp)} lines for {n} gold sentences"
                         + ("" if test_at_end else " (test_at_end=False needs equal counts)"))
    hyp = hyp[len(hyp) - n:]
    n_hyp = n_sure = n_possible = hyp_sure = hyp_possible = 0
    for g, links in zip(gold, hyp):
        a = set((int(i), int(j)) for i, j in links)
        n_hyp += len(a)
        n_sure += len(g.sure)
        n_possible += len(g.possible)
        hyp_sure += len(a & g.sure)
        hyp_possible += len(a & g.possible)
    precision = _ratio(hyp_possible, n_hyp)
    recall = _ratio(hyp_sure, n_sure)
    return AlignmentScores(
        aer=1.0 - _ratio(hyp_sure + hyp_possible, n_hyp + n_sure),
        precision=precision,
        recall=recall,
        f1=0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall),
        n_sentences=n, n_hyp=n_hyp, n_sure=n_sure, n_possible=n_possible,
        hyp_sure=hyp_sure, hyp_possible=hyp_possible)
