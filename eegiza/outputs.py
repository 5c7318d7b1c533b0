"""Writers of the per-sentence outputs beside the alignments: sentence scores and link posteriors.

Both write one line per input line, in input order, so line k of every output file belongs to line
k of the input (an empty pair gives empty fields, never a missing line). Files are written
atomically (:func:`eegiza.formats.atomic.atomic_open`); the path ``-`` writes to standard output.

Scores (``--scores FILE``): a header comment, then per pair, tab-separated (line 2 of the demo data)::

    # log P(tgt|src)  log P(src|tgt)  log P(tgt|src)/|tgt|  log P(src|tgt)/|src|  (natural log; ...)
    -13.182647	-10.153721	-2.636529	-1.692287

Posteriors (``--posteriors FILE``): per pair, the links of one alignment each with its posterior,
``i-j:p`` (0-based, source first, p with 4 decimals)::

    0-1:1.0000 2-3:1.0000 3-2:0.4952 4-3:0.4836 5-4:0.5448
"""
from __future__ import annotations

import contextlib
import sys
from typing import Iterable, List, Sequence

from .formats.atomic import atomic_open
from .formats.pharaoh import format_links
from .scoring import LinkPosteriors, SentenceScores

SCORE_COLUMNS = ("log P(tgt|src)", "log P(src|tgt)", "log P(tgt|src)/|tgt|", "log P(src|tgt)/|src|")


@contextlib.contextmanager
def output_file(path):
    """A text file opened atomically, or standard output for ``-``."""
    if str(path) == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    with atomic_open(path, "w") as handle:
        yield handle


def scores_header(scores: SentenceScores) -> str:
    return ("# " + "\t".join(SCORE_COLUMNS) + f"\t(natural log; fwd: {scores.fwd_kind}; rev: {scores.rev_kind}; "
            "empty fields: a side is empty)")


def format_score_row(row) -> str:
    if row is None:
        return "\t\t\t"
    return "\t".join(f"{x:.6f}" for x in row)


def write_scores(path, scores: SentenceScores) -> None:
    """The header comment and one line of four tab-separated scores per pair."""
    with output_file(path) as handle:
        handle.write(scores_header(scores) + "\n")
        for row in scores.rows():
            handle.write(format_score_row(row) + "\n")


def format_posterior_links(links: Sequence[tuple], post: LinkPosteriors, k: int, which: str) -> str:
    return " ".join(f"{i}-{j}:{post.link(k, i, j, which):.4f}" for i, j in links)


def write_posteriors(path, corpus_links: List[Sequence[tuple]], post: LinkPosteriors, which: str) -> None:
    """One line per pair: its links (``corpus_links[k]``) as ``i-j:p``; ``which`` is ``fwd``,
    ``rev`` or ``sym`` (the mean of both directions' posteriors)."""
    with output_file(path) as handle:
        for k, links in enumerate(corpus_links):
            handle.write(format_posterior_links(links, post, k, which) + "\n")


def write_links(path, corpus_links: Iterable[Iterable[tuple]]) -> None:
    """Pharaoh lines (``-``: standard output)."""
    with output_file(path) as handle:
        for links in corpus_links:
            handle.write(format_links(links) + "\n")
