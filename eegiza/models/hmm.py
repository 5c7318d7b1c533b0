"""The HMM alignment model (Vogel, Ney & Tillmann 1996) with GIZA++'s NULL handling (Och & Ney 2003).

For a source sentence e_1..e_l (NULL = e_0) and a target sentence f_1..f_m, the hidden state of
target position j is the source position a_j it is aligned to::

    P(f, a | e) = prod_j  p(a_j | a_{j-1}, l) * t(f_j | e_{a_j})

Jumps: from real position i' to real position i the probability depends on the width d = i - i'
and on the word class of the source word e_{i'} (GIZA++'s ``emalignmentdependencies 2``)::

    p(i | i', l) = (1 - p_null) * [ (1 - s) * c(d | C(e_{i'})) / sum_{i''=1..l} c(i'' - i' | C(e_{i'})) + s / l ]

with jump counts c(d | C) (widths beyond +-MAX_JUMP share the end buckets) and smoothing
s = ``emalsmooth`` (0.2). The first position uses a separate start distribution c_start(i).
NULL (Och & Ney 2003, §2.3): each real position i' has a NULL twin state that remembers i'; it is
entered with probability p_null and left like i' itself, so a NULL-aligned word does not break the
jump chain. A further NULL state covers target words before the first real alignment.
Emissions: t(f_j | e_i) for real states, t(f_j | NULL) for every NULL state (floored at 1e-7).

E-step: forward-backward with per-position scaling (no underflow on long sentences); expected
translation counts from the state posteriors gamma_j, expected jump counts from xi_j(i' -> i).
M-step: t(f|e) by row normalisation; the jump table is the expected jump counts.
Viterbi: max-product over the same lattice with back-pointers; NULL states map to a_j = 0.

Complexity per sentence O(m l^2). Translation counts are fixed point, added atomically to one
shared array (jump and start counts per thread), so results do not depend on the number of threads
or on which thread takes which sentences (:mod:`eegiza.ttable`, :mod:`eegiza.atomic`).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..atomic import PREFETCH_AHEAD, WORKERS, claim_block, prefetch_start, prefetch_through
from ..slot_source import sentence_block
from ..ttable import COUNT_SCALE, add_slot_counts
from .buckets import clamped_bucket

MAX_JUMP = 100
N_JUMP_BUCKETS = 2 * MAX_JUMP + 1


def initial_jump_counts(n_classes: int):
    """Uniform jump and start counts, the state before the first HMM iteration."""
    return np.ones((max(1, n_classes), N_JUMP_BUCKETS)), np.ones(MAX_JUMP + 1)


@njit(cache=True, nogil=True)
def _transitions(e_sent, src_class, jump, start, smooth):
    """Row-normalised, smoothed jump matrix R[i', i] and start distribution S[i] of one sentence."""
    l = len(e_sent)
    R = np.empty((l, l))
    for p in range(l):
        cls = src_class[e_sent[p]]
        z = 0.0
        for i in range(l):
            v = jump[cls, clamped_bucket(i - p, MAX_JUMP)]
            R[p, i] = v
            z += v
        for i in range(l):
            R[p, i] = (1.0 - smooth) * (R[p, i] / z if z > 0 else 1.0 / l) + smooth / l
    S = np.empty(l)
    z = 0.0
    for i in range(l):
        S[i] = start[min(i, MAX_JUMP)]
        z += S[i]
    for i in range(l):
        S[i] = (1.0 - smooth) * (S[i] / z if z > 0 else 1.0 / l) + smooth / l
    return R, S


@njit(cache=True, nogil=True)
def _emissions(l, m, slots, probs, floor):
    """Emission probabilities (floored): real states [j, i] and NULL [j] (``slots`` is the
    sentence's block from :func:`eegiza.ttable.sentence_slots`)."""
    er = np.empty((m, l))
    en = np.empty(m)
    prefetch_start(probs, slots)
    for j in range(m):
        row = j * (l + 1)
        prefetch_through(probs, slots, row + PREFETCH_AHEAD)
        s = slots[row]
        en[j] = max(probs[s], floor) if s >= 0 else floor
        for i in range(l):
            prefetch_through(probs, slots, row + 1 + i + PREFETCH_AHEAD)
            s = slots[row + 1 + i]
            er[j, i] = max(probs[s], floor) if s >= 0 else floor
    return er, en


@njit(cache=True, nogil=True)
def _null_only_loglik(m, slots, probs, floor):
    """Log-likelihood of a pair with an empty source side: every target word comes from NULL."""
    loglik = 0.0
    for j in range(m):
        s = slots[j]
        loglik += np.log(max(probs[s], floor) if s >= 0 else floor)
    return loglik


@njit(cache=True, nogil=True)
def _forward_backward(er, en, R, S, p_null):
    """Scaled forward/backward: alpha over real states, NULL-twin states, and the start-NULL state."""
    m, l = er.shape
    ar = np.zeros((m, l))
    an = np.zeros((m, l))
    a_s = np.zeros(m)
    scale = np.empty(m)
    q = 1.0 - p_null
    for i in range(l):
        ar[0, i] = q * S[i] * er[0, i]
    a_s[0] = p_null * en[0]
    mass = np.empty(l)
    acc_row = np.empty(l)
    for j in range(m):
        if j > 0:
            for i in range(l):
                acc_row[i] = a_s[j - 1] * S[i]
            for p in range(l):
                mp = ar[j - 1, p] + an[j - 1, p]
                mass[p] = mp
                for i in range(l):
                    acc_row[i] += mp * R[p, i]
            for i in range(l):
                ar[j, i] = er[j, i] * q * acc_row[i]
            for p in range(l):
                an[j, p] = en[j] * p_null * mass[p]
            a_s[j] = en[j] * p_null * a_s[j - 1]
        z = a_s[j]
        for i in range(l):
            z += ar[j, i] + an[j, i]
        scale[j] = z
        for i in range(l):
            ar[j, i] /= z
            an[j, i] /= z
        a_s[j] /= z
    b = np.ones((m, l))
    b_s = np.ones(m)
    w = np.empty(l)
    # sum_i R[p, i] w[i] for every p, accumulated over i in the outer loop so the inner loop runs
    # over p on contiguous memory (vectorised; a dot product per p is a serial chain of dependent
    # additions). Each p still adds its terms in ascending i: the same sums to the last bit.
    RT = np.ascontiguousarray(R.T)
    acc = np.empty(l)
    for j in range(m - 2, -1, -1):
        for i in range(l):
            w[i] = er[j + 1, i] * b[j + 1, i]
        acc[:] = 0.0
        for i in range(l):
            wi = w[i]
            for p in range(l):
                acc[p] += RT[i, p] * wi
        for p in range(l):
            b[j, p] = (q * acc[p] + p_null * en[j + 1] * b[j + 1, p]) / scale[j + 1]
        acc_s = 0.0
        for i in range(l):
            acc_s += S[i] * w[i]
        b_s[j] = (q * acc_s + p_null * en[j + 1] * b_s[j + 1]) / scale[j + 1]
    return ar, an, a_s, b, b_s, scale


@njit(cache=True, nogil=True)
def sentence_posteriors(e_sent, m, slots, probs, floor, src_class, jump, start, p_null, smooth, jcounts, scounts):
    """State posteriors of one pair, laid out like its t-table slots: ``gamma[j, 0]`` that f_j is
    NULL-aligned (all NULL states), ``gamma[j, i]`` that it is aligned to e_i. Adds the pair's
    expected jump and start counts to ``jcounts``/``scounts``; returns (gamma, log-likelihood)."""
    l = len(e_sent)
    gamma = np.zeros((m, l + 1))
    if m == 0:
        return gamma, 0.0
    if l == 0:
        gamma[:, 0] = 1.0
        return gamma, _null_only_loglik(m, slots, probs, floor)
    R, S = _transitions(e_sent, src_class, jump, start, smooth)
    er, en = _emissions(l, m, slots, probs, floor)
    ar, an, a_s, b, b_s, scale = _forward_backward(er, en, R, S, p_null)
    loglik = 0.0
    q = 1.0 - p_null
    trans = np.zeros((l, l))   # expected transitions from position p to i, summed over j
    starts = np.zeros(l)       # expected transitions from the start to i
    w = np.empty(l)
    for j in range(m):
        loglik += np.log(scale[j])
        g_null = a_s[j] * b_s[j]
        for i in range(l):
            gamma[j, i + 1] = ar[j, i] * b[j, i]
            g_null += an[j, i] * b[j, i]
        gamma[j, 0] = g_null
        if j == 0:
            for i in range(l):
                starts[i] += ar[0, i] * b[0, i]
            continue
        for i in range(l):
            w[i] = q * er[j, i] * b[j, i] / scale[j]
            starts[i] += a_s[j - 1] * S[i] * w[i]
        for p in range(l):
            mp = ar[j - 1, p] + an[j - 1, p]
            for i in range(l):
                trans[p, i] += mp * R[p, i] * w[i]
    for i in range(l):
        scounts[min(i, MAX_JUMP)] += np.int64(starts[i] * COUNT_SCALE + 0.5)
    for p in range(l):
        cls = src_class[e_sent[p]]
        for i in range(l):
            jcounts[cls, clamped_bucket(i - p, MAX_JUMP)] += np.int64(trans[p, i] * COUNT_SCALE + 0.5)
    return gamma, loglik


@njit(cache=True, nogil=True, parallel=True)
def estep(src_ids, src_off, tgt_off, source, probs, floor, src_class, jump, start, p_null, smooth, n_chunks):
    """Expected translation counts (fixed point, one array shared by the chunks), expected jump and start
    counts, and per-sentence log-likelihoods. ``source``: the pairs' slots
    (:meth:`eegiza.slot_source.SlotSource.arrays`)."""
    n_sent = len(src_off) - 1
    n_chunks = max(1, min(n_chunks, n_sent))
    tcounts = np.zeros(len(probs), np.int64)
    jcounts = np.zeros((n_chunks, jump.shape[0], jump.shape[1]), np.int64)
    scounts = np.zeros((n_chunks, len(start)), np.int64)
    loglik = np.zeros(n_sent)
    counter = np.zeros(1, np.int64)   # the next sentence block (atomic.claim_block)
    for c in prange(n_chunks):
        lo, hi = claim_block(counter, n_sent)
        while lo < n_sent:
            for k in range(lo, hi):
                e_sent = src_ids[src_off[k]:src_off[k + 1]]
                block = sentence_block(source, k, e_sent)
                gamma, loglik[k] = sentence_posteriors(e_sent, tgt_off[k + 1] - tgt_off[k],
                                                       block, probs, floor, src_class, jump, start, p_null, smooth,
                                                       jcounts[c], scounts[c])
                add_slot_counts(gamma, block, tcounts)
            lo, hi = claim_block(counter, n_sent)
    jsum = np.zeros(jump.shape)
    ssum = np.zeros(len(start))
    for c in range(n_chunks):
        jsum += jcounts[c] / COUNT_SCALE
        ssum += scounts[c] / COUNT_SCALE
    return tcounts, jsum, ssum, loglik


@njit(cache=True, nogil=True)
def _sentence_viterbi(e_sent, m, slots, probs, floor, src_class, jump, start, p_null, smooth, out):
    """Viterbi alignment of one pair into ``out`` (0 = NULL, else 1-based source position)."""
    l = len(e_sent)
    if m == 0:
        return 0.0
    if l == 0:
        out[:] = 0
        return _null_only_loglik(m, slots, probs, floor)
    R, S = _transitions(e_sent, src_class, jump, start, smooth)
    er, en = _emissions(l, m, slots, probs, floor)
    q = 1.0 - p_null
    n_states = 2 * l + 1  # real 0..l-1, NULL twin l..2l-1, start-NULL 2l
    back = np.empty((m, n_states), np.int32)
    d = np.zeros(n_states)
    nd = np.zeros(n_states)
    for i in range(l):
        d[i] = q * S[i] * er[0, i]
    d[2 * l] = p_null * en[0]
    score = 0.0
    best_mem = np.empty(l)
    best_mem_state = np.empty(l, np.int32)
    best = np.empty(l)
    arg = np.empty(l, np.int32)
    for j in range(m):
        if j > 0:
            for p in range(l):
                if d[l + p] > d[p]:
                    best_mem[p] = d[l + p]
                    best_mem_state[p] = l + p
                else:
                    best_mem[p] = d[p]
                    best_mem_state[p] = p
            # best[i] = max(d[start-NULL] S[i], max_p best_mem[p] R[p, i]), the first p on ties: p in the
            # outer loop, so the inner one runs along row p of R (contiguous, vectorised) for every i
            for i in range(l):
                best[i] = d[2 * l] * S[i]
                arg[i] = 2 * l
            for p in range(l):
                from_p = best_mem[p]
                state_p = best_mem_state[p]
                for i in range(l):
                    v = from_p * R[p, i]
                    if v > best[i]:
                        best[i] = v
                        arg[i] = state_p
            for i in range(l):
                nd[i] = er[j, i] * q * best[i]
                back[j, i] = arg[i]
            for p in range(l):
                nd[l + p] = en[j] * p_null * best_mem[p]
                back[j, l + p] = best_mem_state[p]
            nd[2 * l] = en[j] * p_null * d[2 * l]
            back[j, 2 * l] = 2 * l
            d[:] = nd
        z = 0.0
        for s in range(n_states):
            z = max(z, d[s])
        score += np.log(z)
        for s in range(n_states):
            d[s] /= z
    state = 0
    for s in range(n_states):
        if d[s] > d[state]:
            state = s
    for j in range(m - 1, -1, -1):
        out[j] = state + 1 if state < l else 0
        if j > 0:
            state = back[j, state]
    return score


@njit(cache=True, nogil=True, parallel=True)
def viterbi(src_ids, src_off, tgt_off, source, probs, floor, src_class, jump, start, p_null, smooth):
    """Viterbi source position (0 = NULL) of every target token, flat like the target ids, and the
    log-probability of each sentence's Viterbi alignment."""
    n_sent = len(src_off) - 1
    links = np.zeros(tgt_off[-1], np.int32)
    scores = np.zeros(n_sent)
    counter = np.zeros(1, np.int64)   # the next sentence block (atomic.claim_block)
    for _ in prange(WORKERS):   # each thread's first worker takes blocks until none are left
        lo, hi = claim_block(counter, n_sent)
        while lo < n_sent:
            for k in range(lo, hi):
                e_sent = src_ids[src_off[k]:src_off[k + 1]]
                scores[k] = _sentence_viterbi(e_sent, tgt_off[k + 1] - tgt_off[k], sentence_block(source, k, e_sent),
                                              probs, floor, src_class, jump, start, p_null, smooth,
                                              links[tgt_off[k]:tgt_off[k + 1]])
            lo, hi = claim_block(counter, n_sent)
    return links, scores


@njit(cache=True, nogil=True, parallel=True)
def posterior_decode(src_ids, src_off, tgt_off, source, probs, floor, src_class, jump, start, p_null,
                     smooth, min_posterior, n_chunks):
    """Posterior decoding: every target token goes to the source position whose link posterior
    (forward-backward, :func:`sentence_posteriors`) is largest, if it is at least ``min_posterior``,
    else to NULL (0); flat like the target ids, as :func:`viterbi`. With ``min_posterior`` >= 0.5 a
    link is more likely than all others together (Liang et al. 2006 align by posteriors; here it
    lowered gdfa AER of an HMM-only run from 26.97 to 25.68 on de-en, 27.47 to 27.10 on ro-en).
    Also returns each pair's log-likelihood."""
    n_sent = len(src_off) - 1
    links = np.zeros(tgt_off[-1], np.int32)
    loglik = np.zeros(n_sent)
    n_chunks = max(1, min(n_chunks, n_sent))
    counter = np.zeros(1, np.int64)   # the next sentence block (atomic.claim_block)
    for c in prange(n_chunks):
        jcounts = np.zeros(jump.shape, np.int64)     # the E-step's jump and start counts, not used here
        scounts = np.zeros(len(start), np.int64)
        lo, hi = claim_block(counter, n_sent)
        while lo < n_sent:
            for k in range(lo, hi):
                e_sent = src_ids[src_off[k]:src_off[k + 1]]
                m = tgt_off[k + 1] - tgt_off[k]
                gamma, loglik[k] = sentence_posteriors(e_sent, m, sentence_block(source, k, e_sent), probs, floor,
                                                       src_class, jump, start, p_null, smooth, jcounts, scounts)
                for j in range(m):
                    best, arg = min_posterior, 0
                    for i in range(1, len(e_sent) + 1):
                        if gamma[j, i] >= best:
                            best, arg = gamma[j, i], i
                    links[tgt_off[k] + j] = arg
            lo, hi = claim_block(counter, n_sent)
    return links, loglik
