"""``eegiza align``'s handling of long and empty sentence pairs (policy and messages; the
mechanics are :mod:`eegiza.longlines`)."""
from __future__ import annotations

import numpy as np

from ..config import AlignerConfig
from ..longlines import blank_pairs, check_long_pairs, fallback_alignment, line_list, long_pairs, too_big_for_fallback


class _Patched:
    """A :class:`eegiza.api.CorpusAlignment` whose lines of long pairs were replaced."""

    def __init__(self, base, lists: dict):
        self.base, self.lists = base, lists

    def links(self, which: str):
        return self.lists[which] if which in self.lists else self.base.links(which)

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


def with_fallback(config: AlignerConfig, model, corpus, long_idx, alignment, heuristics):
    """``alignment`` (of the training corpus) with the lines of the long pairs aligned by the
    fallback, under ``on_long="fallback"``; unchanged otherwise."""
    if len(long_idx) == 0 or config.on_long != "fallback":
        return alignment
    lists = {which: alignment.links(which) for which in ["fwd", "rev"] + list(heuristics)}
    for which, links in fallback_alignment(model, corpus, long_idx, heuristics).items():
        for k, line in zip(long_idx.tolist(), links):
            lists[which][k] = line
    return _Patched(alignment, lists)
