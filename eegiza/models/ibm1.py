"""IBM Model 1 (Brown et al. 1993, "The Mathematics of Statistical Machine Translation", §4.1).

Model, for a source sentence e_1..e_l with the NULL word e_0 and a target sentence f_1..f_m::

    P(f, a | e) = prod_j  t(f_j | e_{a_j}) / (l + 1)

E-step: the posterior of aligning f_j to e_i is  t(f_j|e_i) / sum_{i'=0..l} t(f_j|e_{i'}),
added to the expected count c(e_i, f_j). M-step: t(f|e) = c(e, f) / sum_f' c(e, f').
Sentence log-likelihood: sum_j log( sum_i t(f_j|e_i) / (l + 1) ).
Viterbi alignment: a_j = argmax_i t(f_j|e_i) (the first maximum, so NULL wins ties as in GIZA++).

Every t lookup is floored at GIZA's ``probsmooth`` (1e-7). Counts are fixed point (one array
shared by the threads) (see :mod:`eegiza.ttable`), so results do not depend on the number of threads.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..atomic import PREFETCH_AHEAD, claim_block, prefetch_start, prefetch_through
from ..slot_source import sentence_block
from ..ttable import add_slot_counts


@njit(cache=True, nogil=True)
def sentence_posteriors(l, m, slots, probs, floor):
    """Posteriors of one pair, laid out like its t-table slots: ``gamma[j, i]`` =
    t(f_j|e_i) / sum_i' t(f_j|e_i'), i = 0 being NULL (``slots[j * (l + 1) + i]`` is the slot of
    (e_i, f_j)); returns (gamma, log-likelihood)."""
    gamma = np.empty((m, l + 1))
    loglik = 0.0
    prefetch_start(probs, slots)
    for j in range(m):
        row = j * (l + 1)
        total = 0.0
        for i in range(l + 1):
            prefetch_through(probs, slots, row + i + PREFETCH_AHEAD)
            s = slots[row + i]
            p = probs[s] if s >= 0 else floor
            if p < floor:
                p = floor
            gamma[j, i] = p
            total += p
        for i in range(l + 1):
            gamma[j, i] /= total
        loglik += np.log(total / (l + 1))
    return gamma, loglik


@njit(cache=True, nogil=True, parallel=True)
def estep(src_ids, src_off, tgt_off, source, probs, floor, n_chunks):
    """Expected counts (fixed point, one array shared by the chunks) and per-sentence
    log-likelihoods. ``source``: the pairs' slots (:meth:`eegiza.slot_source.SlotSource.arrays`)."""
    n_sent = len(src_off) - 1
    n_chunks = max(1, min(n_chunks, n_sent))
    counts = np.zeros(len(probs), np.int64)
    loglik = np.zeros(n_sent)
    counter = np.zeros(1, np.int64)   # the next sentence block (atomic.claim_block)
    for c in prange(n_chunks):
        lo, hi = claim_block(counter, n_sent)
        while lo < n_sent:
            for k in range(lo, hi):
                block = sentence_block(source, k, src_ids[src_off[k]:src_off[k + 1]])
                gamma, loglik[k] = sentence_posteriors(src_off[k + 1] - src_off[k], tgt_off[k + 1] - tgt_off[k], block,
                                                       probs, floor)
                add_slot_counts(gamma, block, counts)
            lo, hi = claim_block(counter, n_sent)
    return counts, loglik


@njit(cache=True, nogil=True, parallel=True)
def viterbi(src_ids, src_off, tgt_off, source, probs, floor):
    """Best source position (0 = NULL) of every target token, flat like the target ids, and the
    log-probability of each sentence's Viterbi alignment (``source``: as :func:`estep` takes it)."""
    n_sent = len(src_off) - 1
    links = np.zeros(tgt_off[-1], np.int32)
    scores = np.zeros(n_sent)
    for k in prange(n_sent):
        l = src_off[k + 1] - src_off[k]
        slots = sentence_block(source, k, src_ids[src_off[k]:src_off[k + 1]])
        score = 0.0
        for j in range(tgt_off[k + 1] - tgt_off[k]):
            row = j * (l + 1)
            best, best_i = -1.0, 0
            for i in range(l + 1):
                s = slots[row + i]
                p = probs[s] if s >= 0 else floor
                if p < floor:
                    p = floor
                if p > best:
                    best, best_i = p, i
            links[tgt_off[k] + j] = best_i
            score += np.log(best / (l + 1))
        scores[k] = score
    return links, scores
