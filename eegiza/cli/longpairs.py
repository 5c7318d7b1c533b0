"""``eegiza align``'s handling of long and empty sentence pairs (policy and messages; the
mechanics are :mod:`eegiza.longlines`)."""
from __future__ import annotations

import numpy as np

from ..config import AlignerConfig
from ..longlines import blank_pairs, check_long_pairs, fallback_alignment, line_list, long_pairs, too_big_for_fallback


class _Patched:
    """A :class:`eegiza.api.CorpusAlignment` whose lines of long pairs are replaced (``lines[which]``:
    the long pairs' lines, in the order of ``long_idx``) as its links are read."""

    def __init__(self, base, long_idx, lines: dict):
        self.base, self.lines = base, lines
        self.long_idx = long_idx.tolist()

    def iter_links(self, which: str):
        replaced = dict(zip(self.long_idx, self.lines[which])) if which in self.lines else {}
        for k, line in enumerate(self.base.iter_links(which)):
            yield replaced.get(k, line)

    def links(self, which: str):
        return list(self.iter_links(which))

    def __getattr__(self, name):
        return getattr(self.base, name)


def set_aside_long_pairs(config: AlignerConfig, corpus, reporter, src=None, tgt=None, joint=None):
    """Apply ``config.on_long``: (training corpus, indices of the long pairs). Under ``error`` a long
    pair stops the run (:class:`eegiza.corpus.CorpusError` naming file and line); otherwise the long
    pairs are emptied for training and counted in a warning with their line numbers."""
    cap, ratio = config.max_sentence_length or None, config.max_length_ratio or None
    long_idx = long_pairs(corpus, cap, ratio)
    if len(long_idx) == 0:
        return corpus, long_idx
    if config.on_long == "error":
        check_long_pairs(corpus, long_idx, joint or src or "<source>", joint or tgt or "<target>", cap, ratio)
    what = ((f"over {cap} tokens a side" if cap else "") + (" or " if cap and ratio else "")
            + (f"with a length ratio over {ratio:g}" if ratio else ""))
    if config.on_long == "skip":
        fate = "their output lines are empty"
    else:
        fate = "they are aligned by Model 1's rule under the trained t-tables"
        too_big = too_big_for_fallback(corpus, long_idx)
        if len(too_big):
            fate += f" (lines {line_list(too_big)} are too long even for that and stay empty)"
    reporter.warn(f"{len(long_idx)} sentence pair(s) {what} left out of training (lines {line_list(long_idx)}); "
                  f"{fate}. --max-sentence-length N (0 = no cap) and --on-long error|skip|fallback change this.")
    return blank_pairs(corpus, long_idx), long_idx


def report_empty_pairs(corpus, reporter) -> None:
    """A warning counting the pairs with an empty side (their output lines are empty)."""
    empty = np.flatnonzero((corpus.src.lengths == 0) | (corpus.tgt.lengths == 0))
    if len(empty):
        reporter.warn(f"{len(empty)} sentence pair(s) with an empty side (lines {line_list(empty)}): "
                      "nothing to align, their output lines are empty")


def with_fallback(config: AlignerConfig, model, long_corpus, long_idx, alignment, heuristics):
    """``alignment`` (of the training corpus) with the lines of the long pairs aligned by the
    fallback, under ``on_long="fallback"``; unchanged otherwise. ``long_corpus``: the long pairs
    (:func:`eegiza.longlines.select_pairs` of the corpus at ``long_idx``)."""
    if len(long_idx) == 0 or config.on_long != "fallback":
        return alignment
    lines = fallback_alignment(model, long_corpus, np.arange(len(long_idx)), heuristics)
    return _Patched(alignment, long_idx, lines)
