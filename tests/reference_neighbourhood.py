"""The pure-Python reference of the Models 3/4 neighbourhood posteriors (eegiza.models.neighbourhood
before its kernel): every alignment of the neighbourhood N(a) of the climbed alignment a listed
explicitly (a, every allowed move, every swap) and scored by the model's own
:func:`eegiza.models.fertility.score_alignments`, then

    P(a_j = i | e, f)  ~  sum_{b in N(a), b_j = i} P(f, b | e) / sum_{b in N(a)} P(f, b | e)

Layout as :func:`eegiza.models.neighbourhood.fertility_posteriors`: pair k's rows (one per target
word, over NULL, 1..l) at ``off[k]``. A pair whose neighbourhood has no probability (no source
words: every alignment breaks the NULL limit) gets NaN rows here.
"""
from __future__ import annotations

import numpy as np

from eegiza.corpus import ParallelCorpus, Side
from eegiza.models.fertility import score_alignments

CHUNK = 64


def neighbourhood(a: np.ndarray, l: int, maxfert: int) -> np.ndarray:
    """The centre ``a`` (0 = NULL, else 1-based) then every allowed move and every swap, one row each."""
    m = len(a)
    fert = np.bincount(a, minlength=l + 1)
    rows = [a.copy()]
    for j in range(m):
        for i in range(l + 1):
            if i == a[j]:
                continue
            f0 = fert[0] - (a[j] == 0) + (i == 0)
            if 2 * f0 > m or (i > 0 and fert[i] + 1 >= maxfert):
                continue
            b = a.copy()
            b[j] = i
            rows.append(b)
    for j1 in range(m):
        for j2 in range(j1 + 1, m):
            if a[j1] != a[j2]:
                b = a.copy()
                b[j1], b[j2] = a[j2], a[j1]
                rows.append(b)
    return np.array(rows, np.int32).reshape(len(rows), m)


def reference_fertility_posteriors(direction, corpus: ParallelCorpus, positions: np.ndarray):
    """(posteriors, offsets) of every pair of ``corpus`` around its alignment ``positions`` (flat)
    under ``direction``'s last model (3 or 4)."""
    fert = direction.fertility
    maxfert = fert.params.maxfertility
    src_len, tgt_len = corpus.src.lengths, corpus.tgt.lengths
    off = np.zeros(len(corpus) + 1, np.int64)
    np.cumsum((src_len + 1) * tgt_len, out=off[1:])
    post = np.zeros(off[-1])
    for lo in range(0, len(corpus), CHUNK):
        hoods, owners = [], []
        for k in range(lo, min(lo + CHUNK, len(corpus))):
            m = int(tgt_len[k])
            if m == 0:
                continue
            a = positions[corpus.tgt.offsets[k]:corpus.tgt.offsets[k + 1]].astype(np.int32)
            hoods.append(neighbourhood(a, int(src_len[k]), maxfert))
            owners.append(k)
        if not owners:
            continue
        counts = [len(h) for h in hoods]
        reps = np.repeat(np.array(owners), counts)
        big = ParallelCorpus(_repeat_side(corpus.src, reps), _repeat_side(corpus.tgt, reps), corpus.src_vocab,
                             corpus.tgt_vocab)
        flat = np.concatenate([h.ravel() for h in hoods])
        scores = score_alignments(fert, direction.ttable, big, flat, direction.last_model)
        start = 0
        for k, h, n in zip(owners, hoods, counts):
            s = scores[start:start + n]
            start += n
            with np.errstate(invalid="ignore"):
                w = np.exp(s - s.max())
            l, m = int(src_len[k]), int(tgt_len[k])
            p = np.zeros((m, l + 1))
            for j in range(m):
                np.add.at(p[j], h[:, j], w)
            with np.errstate(invalid="ignore"):
                post[off[k]:off[k + 1]] = (p / w.sum()).ravel()
    return post, off


def _repeat_side(side: Side, sentences: np.ndarray) -> Side:
    """A side holding ``side``'s sentences in the order (and multiplicity) of ``sentences``."""
    lengths = side.lengths[sentences]
    offsets = np.zeros(len(sentences) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    starts = side.offsets[sentences]
    idx = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
    return Side(side.ids[idx].astype(np.int32), offsets)
