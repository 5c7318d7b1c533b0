"""Sentence pairs too long, or too lopsided, to train on.

The HMM's E-step costs l^2 m per pair, so one 2,000-token pair costs what a million ordinary ones
do (and its forward-backward tables take gigabytes). A pair is *long* when a side has more than
``max_len`` tokens, or when the longer side has more than ``max_ratio`` times the tokens of the
shorter one (beyond what a fertility model can generate: each word has fewer than ``max_fertility``
= 10 aligned words, so the default ratio is 9, as Moses' ``clean-corpus-n.perl``). What happens to
long pairs (``AlignerConfig.on_long``):

* ``error``: the run stops with an error naming the file and line of the first one;
* ``skip``: they are left out of training and aligning, and their output lines are empty;
* ``fallback`` (default): left out of training, then aligned by Model 1's decision rule under the
  trained models' t-tables (each word to its most probable translation in the other sentence,
  NULL allowed), both directions, symmetrised as the other pairs are. Cost l*m lookups per pair;
  pairs of more than :data:`FALLBACK_MAX_LINKS` token pairs stay empty.

A long pair keeps its place: :func:`blank_pairs` empties its two sides in the training corpus
(the vocabularies are unchanged), so every input line still has its output line.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence

import numpy as np

from .corpus import CorpusError, ParallelCorpus, Side
from .links import directional_links, to_lists
from .symmetrize import symmetrize_flat

POLICIES = ("error", "skip", "fallback")
#: largest l*m the fallback aligns (a 5,000 x 5,000-token pair); larger pairs are left empty
FALLBACK_MAX_LINKS = 25_000_000
#: token pairs looked up at once by the fallback (bounds its memory to some 100 MB)
_CHUNK = 4_000_000


def long_pairs(corpus: ParallelCorpus, max_len: Optional[int], max_ratio: Optional[float]) -> np.ndarray:
    """Indices (0-based, ascending) of the pairs with a side over ``max_len`` tokens or a length
    ratio over ``max_ratio`` (pairs with an empty side are not long; 0 or None turns a test off)."""
    l, m = corpus.src.lengths, corpus.tgt.lengths
    bad = np.zeros(len(corpus), bool)
    if max_len:
        bad |= (l > max_len) | (m > max_len)
    if max_ratio:
        short, longer = np.minimum(l, m), np.maximum(l, m)
        bad |= (short > 0) & (longer > max_ratio * short)
    return np.flatnonzero(bad)


def why_long(corpus: ParallelCorpus, k: int, max_len: Optional[int], max_ratio: Optional[float]) -> str:
    """Why pair ``k`` is long, for messages."""
    l, m = int(corpus.src.lengths[k]), int(corpus.tgt.lengths[k])
    if max_len and max(l, m) > max_len:
        return (f"{max(l, m)} tokens, more than the maximum sentence length {max_len} "
                f"(source {l}, target {m})")
    return f"{l} source and {m} target tokens, a length ratio over {max_ratio:g}"


def line_list(indices: Sequence[int], limit: int = 10) -> str:
    """``"3, 17, 250"`` (1-based line numbers), shortened to ``limit`` numbers and a count."""
    lines = [str(int(k) + 1) for k in indices[:limit]]
    more = len(indices) - len(lines)
    return ", ".join(lines) + (f" and {more} more" if more > 0 else "")


def check_long_pairs(corpus: ParallelCorpus, indices: np.ndarray, src_name, tgt_name,
                     max_len: Optional[int], max_ratio: Optional[float]) -> None:
    """The ``error`` policy: raise :class:`CorpusError` at the first long pair."""
    if len(indices) == 0:
        return
    k = int(indices[0])
    l, m = int(corpus.src.lengths[k]), int(corpus.tgt.lengths[k])
    if max_len and l > max_len:
        name = src_name
    elif max_len and m > max_len:
        name = tgt_name
    else:                                   # the length ratio: both files are concerned
        name = src_name if src_name == tgt_name else f"{src_name} / {tgt_name}"
    raise CorpusError(name, k + 1, f"sentence pair has {why_long(corpus, k, max_len, max_ratio)} "
                                   f"({len(indices)} such pairs in all; --on-long skip or fallback "
                                   "leaves them out of training, --max-sentence-length 0 lifts the cap)")


def _blank_side(side: Side, blank: np.ndarray) -> Side:
    lengths = side.lengths.copy()
    keep_tokens = np.repeat(~blank, lengths)
    lengths[blank] = 0
    offsets = np.zeros(len(side) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return Side(side.ids[keep_tokens], offsets)


def blank_pairs(corpus: ParallelCorpus, indices: np.ndarray) -> ParallelCorpus:
    """The corpus with pairs ``indices`` emptied (same vocabularies, same number of pairs)."""
    blank = np.zeros(len(corpus), bool)
    blank[np.asarray(indices, np.int64)] = True
    return ParallelCorpus(_blank_side(corpus.src, blank), _blank_side(corpus.tgt, blank),
                          corpus.src_vocab, corpus.tgt_vocab)


def select_pairs(corpus: ParallelCorpus, indices: np.ndarray) -> ParallelCorpus:
    """Pairs ``indices`` only, in that order, sharing the corpus' vocabularies."""
    def side(s: Side) -> Side:
        parts = [s.sentence(int(k)) for k in indices]
        lengths = np.array([len(p) for p in parts], np.int64)
        offsets = np.zeros(len(parts) + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        ids = np.concatenate(parts) if parts else np.zeros(0, np.int32)
        return Side(ids.astype(np.int32, copy=False), offsets)
    return ParallelCorpus(side(corpus.src), side(corpus.tgt), corpus.src_vocab, corpus.tgt_vocab)


def model1_positions(ttable, e_sent: np.ndarray, f_sent: np.ndarray, floor: float) -> np.ndarray:
    """For each word of ``f_sent``: 0 (NULL) or 1 + the position in ``e_sent`` of its most probable
    translation t(f|e) (the first on ties, as Model 1's Viterbi alignment)."""
    e_all = np.concatenate([[0], np.asarray(e_sent, np.int64)])
    best_p = np.full(len(f_sent), -1.0)
    best_i = np.zeros(len(f_sent), np.int64)
    rows = max(1, _CHUNK // max(len(e_all), 1))
    for j0 in range(0, len(f_sent), rows):
        f = np.asarray(f_sent[j0:j0 + rows], np.int64)
        slots = ttable.find_slots(np.tile(e_all, len(f)), np.repeat(f, len(e_all))).reshape(len(f), len(e_all))
        p = np.where(slots >= 0, ttable.probs[np.maximum(slots, 0)], floor)
        np.maximum(p, floor, out=p)
        best_i[j0:j0 + len(f)] = np.argmax(p, axis=1)
        best_p[j0:j0 + len(f)] = p.max(axis=1)
    return best_i


def fallback_alignment(model, corpus: ParallelCorpus, indices: np.ndarray,
                       methods: Sequence[str]) -> Dict[str, List[list]]:
    """Links of pairs ``indices`` of ``corpus`` by Model 1's rule under ``model``'s t-tables
    (``model``: an :class:`eegiza.api.AlignmentModel`): ``{"fwd": [...], "rev": [...], method: [...]}``,
    one link list per index, empty for pairs over :data:`FALLBACK_MAX_LINKS`."""
    sub = select_pairs(corpus, indices)
    floor = float(model.config.prob_smooth)
    fwd_pos, rev_pos = [], []
    for k in range(len(sub)):
        e, f = sub.src.sentence(k), sub.tgt.sentence(k)
        if len(e) * len(f) > FALLBACK_MAX_LINKS:
            fwd_pos.append(np.zeros(len(f), np.int64))
            rev_pos.append(np.zeros(len(e), np.int64))
            continue
        fwd_pos.append(model1_positions(model.fwd.ttable, e, f, floor))
        rev_pos.append(model1_positions(model.rev.ttable, f, e, floor))
    flat = (lambda parts: np.concatenate(parts) if parts else np.zeros(0, np.int64))
    fwd = directional_links(flat(fwd_pos), sub.tgt.offsets, reverse=False)
    rev = directional_links(flat(rev_pos), sub.src.offsets, reverse=True)
    out = {"fwd": to_lists(*fwd), "rev": to_lists(*rev)}
    for method in methods:
        out[method] = to_lists(*symmetrize_flat(*fwd, *rev, sub.src.lengths, sub.tgt.lengths, method))
    return out


def too_big_for_fallback(corpus: ParallelCorpus, indices: np.ndarray) -> np.ndarray:
    """The pairs among ``indices`` that :func:`fallback_alignment` leaves empty."""
    indices = np.asarray(indices, np.int64)
    size = corpus.src.lengths[indices].astype(np.int64) * corpus.tgt.lengths[indices]
    return indices[size > FALLBACK_MAX_LINKS]
