"""IBM Model 1 (Brown et al. 1993, "The Mathematics of Statistical Machine Translation", §4.1).

Model, for a source sentence e_1..e_l with the NULL word e_0 and a target sentence f_1..f_m::

    P(f, a | e) = prod_j  t(f_j | e_{a_j}) / (l + 1)

E-step: the posterior of aligning f_j to e_i is  t(f_j|e_i) / sum_{i'=0..l} t(f_j|e_{i'}),
added to the expected count c(e_i, f_j). M-step: t(f|e) = c(e, f) / sum_f' c(e, f').
Sentence log-likelihood: sum_j log( sum_i t(f_j|e_i) / (l + 1) ).
Viterbi alignment: a_j = argmax_i t(f_j|e_i) (the first maximum, so NULL wins ties as in GIZA++).

Every t lookup is floored at GIZA's ``probsmooth`` (1e-7). Counts are fixed-point per chunk of
sentences (see :mod:`eegiza.ttable`), so results do not depend on the number of threads.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from ..ttable import COUNT_SCALE, find_slot


@njit(cache=True, nogil=True)
def _sentence_counts(e_sent, f_sent, indptr, indices, probs, floor, counts, slots, ps):
    """Add one sentence pair's Model 1 posteriors to ``counts``; returns its log-likelihood."""
    l = len(e_sent)
    loglik = 0.0
    for j in range(len(f_sent)):
        f = f_sent[j]
        total = 0.0
        for i in range(l + 1):
            e = 0 if i == 0 else e_sent[i - 1]
            s = find_slot(indptr, indices, e, f)
            slots[i] = s
            p = probs[s] if s >= 0 else floor
            if p < floor:
                p = floor
            ps[i] = p
            total += p
        for i in range(l + 1):
            if slots[i] >= 0:
                counts[slots[i]] += np.int64(ps[i] / total * COUNT_SCALE + 0.5)
        loglik += np.log(total / (l + 1))
    return loglik


@njit(cache=True, nogil=True, parallel=True)
def estep(src_ids, src_off, tgt_ids, tgt_off, indptr, indices, probs, floor, n_chunks):
    """Expected counts (fixed point, one row per chunk) and per-sentence log-likelihoods."""
    n_sent = len(src_off) - 1
    n_chunks = max(1, min(n_chunks, n_sent))
    counts = np.zeros((n_chunks, len(indices)), np.int64)
    loglik = np.zeros(n_sent)
    max_l = 0
    for k in range(n_sent):
        max_l = max(max_l, src_off[k + 1] - src_off[k])
    for c in prange(n_chunks):
        slots = np.empty(max_l + 1, np.int64)
        ps = np.empty(max_l + 1)
        for k in range(c * n_sent // n_chunks, (c + 1) * n_sent // n_chunks):
            loglik[k] = _sentence_counts(src_ids[src_off[k]:src_off[k + 1]], tgt_ids[tgt_off[k]:tgt_off[k + 1]],
                                         indptr, indices, probs, floor, counts[c], slots, ps)
    return counts, loglik


@njit(cache=True, nogil=True, parallel=True)
def viterbi(src_ids, src_off, tgt_ids, tgt_off, indptr, indices, probs, floor):
    """Best source position (0 = NULL) of every target token, flat like ``tgt_ids``, and the
    log-probability of each sentence's Viterbi alignment."""
    n_sent = len(src_off) - 1
    links = np.zeros(len(tgt_ids), np.int32)
    scores = np.zeros(n_sent)
    for k in prange(n_sent):
        e_sent = src_ids[src_off[k]:src_off[k + 1]]
        l = len(e_sent)
        score = 0.0
        for j in range(tgt_off[k], tgt_off[k + 1]):
            f = tgt_ids[j]
            best, best_i = -1.0, 0
            for i in range(l + 1):
                e = 0 if i == 0 else e_sent[i - 1]
                s = find_slot(indptr, indices, e, f)
                p = probs[s] if s >= 0 else floor
                if p < floor:
                    p = floor
                if p > best:
                    best, best_i = p, i
            links[j] = best_i
            score += np.log(best / (l + 1))
        scores[k] = score
    return links, scores
