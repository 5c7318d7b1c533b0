"""A bilingual lexicon from a trained model: word pairs with both directions' translation probabilities.

Each row is ``src  tgt  p(tgt|src)  p(src|tgt)``: ``src`` a word of the model's source side (the SRC
file it was trained on), ``p(tgt|src)`` the forward model's t(f|e), ``p(src|tgt)`` the reverse
model's t(e|f) (the floor 1e-7 where a table lacks the pair). A pair is listed if either
probability is at least ``min_prob``; rows are sorted by source word, then by p(tgt|src)
descending (ties: target word). NULL rows are left out.

GIZA-format ``.t`` tables (``e f p`` lines, GIZA++'s ``.t3.final`` layout, p > 1e-7) can be written
beside ``.vcb`` files giving the ids: eegiza's own ids (0 = NULL), so the ``.t`` and ``.vcb`` files
belong together.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List

import numpy as np

from .formats.atomic import atomic_open
from .formats.giza import VcbEntry, write_ttable, write_vcb
from .ttable import PROB_FLOOR

HEADER = ("# source\ttarget\tp(target|source)\tp(source|target)\t(source = the model's source side, "
          "the SRC text it was trained on; p(target|source) from the forward model, p(source|target) from the "
          "reverse model)")


@dataclass
class Lexicon:
    """Parallel arrays: source ids, target ids, p(tgt|src), p(src|tgt), in lexicon order."""

    src: np.ndarray
    tgt: np.ndarray
    p_fwd: np.ndarray
    p_rev: np.ndarray

    def rows(self, model) -> List[tuple]:
        sw, tw = model.src_vocab.words, model.tgt_vocab.words
        return [(sw[e], tw[f], p, q) for e, f, p, q in
                zip(self.src.tolist(), self.tgt.tolist(), self.p_fwd.tolist(), self.p_rev.tolist())]


def _lookup(ttable, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    slots = ttable.find_slots(rows, cols)
    probs = np.where(slots >= 0, ttable.probs[np.maximum(slots, 0)], PROB_FLOOR)
    return np.maximum(probs, PROB_FLOOR)


def build_lexicon(model, min_prob: float = 0.01) -> Lexicon:
    """The lexicon of an :class:`eegiza.api.AlignmentModel` (see the module docstring)."""
    fwd, rev = model.fwd.ttable, model.rev.ttable
    e_f, f_f = fwd.row_ids().astype(np.int64), fwd.indices.astype(np.int64)
    keep = (e_f > 0) & (f_f > 0) & (fwd.probs >= min_prob)
    f_r, e_r = rev.row_ids().astype(np.int64), rev.indices.astype(np.int64)
    keep_r = (f_r > 0) & (e_r > 0) & (rev.probs >= min_prob)
    e = np.concatenate([e_f[keep], e_r[keep_r]])
    f = np.concatenate([f_f[keep], f_r[keep_r]])
    n_tgt = max(len(model.tgt_vocab), 1)
    key = np.unique(e * n_tgt + f)
    e, f = key // n_tgt, key % n_tgt
    p_fwd, p_rev = _lookup(fwd, e, f), _lookup(rev, f, e)
    src_rank = _alphabetical_rank(model.src_vocab.words)
    tgt_rank = _alphabetical_rank(model.tgt_vocab.words)
    order = np.lexsort((tgt_rank[f], -p_fwd, src_rank[e]))
    return Lexicon(e[order], f[order], p_fwd[order], p_rev[order])


def _alphabetical_rank(words: List[str]) -> np.ndarray:
    rank = np.empty(len(words), np.int64)
    rank[sorted(range(len(words)), key=words.__getitem__)] = np.arange(len(words))
    return rank


def write_lexicon(path, model, lexicon: Lexicon) -> None:
    """The header line, then ``src<TAB>tgt<TAB>p(tgt|src)<TAB>p(src|tgt)`` (6 significant digits)."""
    with atomic_open(path, "w") as handle:
        handle.write(HEADER + "\n")
        for s, t, p, q in lexicon.rows(model):
            handle.write(f"{s}\t{t}\t{p:.6g}\t{q:.6g}\n")


def write_giza_tables(prefix: str, model) -> List[str]:
    """``PREFIX.src.vcb``, ``PREFIX.tgt.vcb``, ``PREFIX.fwd.t`` (source id, target id, t(tgt|src))
    and ``PREFIX.rev.t`` (target id, source id, t(src|tgt)); returns the paths."""
    paths = [f"{prefix}.src.vcb", f"{prefix}.tgt.vcb", f"{prefix}.fwd.t", f"{prefix}.rev.t"]
    for path, vocab in zip(paths[:2], (model.src_vocab, model.tgt_vocab)):
        write_vcb(path, [VcbEntry(i, w, int(c)) for i, (w, c) in enumerate(zip(vocab.words, vocab.counts.tolist()))
                         if i > 0])
    for path, direction in zip(paths[2:], (model.fwd, model.rev)):
        tt = direction.ttable
        write_ttable(path, tt.row_ids(), tt.indices, tt.probs)
    return paths
