"""Neighbourhood link posteriors of the fertility models (Models 3 and 4) for one direction P(f | e).

The sum over all alignments is intractable for Models 3/4, so (as GIZA++ does when it collects
counts) the posterior is taken over the neighbourhood N(a) of the hill-climbed alignment a: a
itself, every *move* (one a_j changed to any other i in 0..l, keeping 2 phi_0 <= m and every real
fertility below ``maxfertility``) and every *swap* (a_j1 and a_j2 exchanged, a_j1 != a_j2)::

    P(a_j = i | e, f)  ~  sum_{b in N(a), b_j = i} P(f, b | e) / sum_{b in N(a)} P(f, b | e)

One Numba kernel per pair: the log ratios P(b) / P(a) of every move and swap come from the climb's
own neighbour scoring (:func:`eegiza.models.fertility_search._neighbour_deltas`, Model 4's exact
incremental distortion change, without the training's neighbour cut-off), so a pair costs one
climbing step, O((l + m) m) (plus Model 4's incremental terms), not the O(m) score of each of its
l m + m^2 / 2 neighbours. Then, with W the neighbourhood's total weight (the centre weighing 1),
P(a_j = i) for i != a_j is the weight of the move a_j := i plus the swaps of j with a j2 aligned to
i, and P(a_j = a_j) is W minus every move and swap that changes a_j. Pairs run in parallel, threads
taking blocks of pairs as they go (:func:`eegiza.atomic.claim_block`); every pair's result is its
own, so the output does not depend on the thread count. The tests check the kernel against the
pure-Python enumeration of each neighbourhood (``tests/reference_neighbourhood.py``) to 1e-9.

A pair whose given alignment breaks the fertility limits (no source words, or more target words
than the fertilities can hold: the climb leaves such pairs as they are) has no neighbourhood: each
target word gets posterior 1 at its given link (NULL if it is out of range). The layout is that of
:mod:`eegiza.models.posteriors`: pair k's rows (one per target word, over NULL, 1..l) at ``off[k]``.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from ..atomic import claim_block
from .fertility import P_CLAMP, corpus_tables, pass_logs
from .fertility_estep import sentence_tables
from .fertility_search import _neighbour_deltas


@njit(cache=True, nogil=True)
def _one_hot(a, l, m, out):
    for j in range(m):
        out[j * (l + 1) + (a[j] if 0 <= a[j] <= l else 0)] = 1.0


@njit(cache=True, nogil=True)
def _pair_posteriors(e_sent, f_sent, a_in, out, model4, indptr, indices, probs, log_t, floor, n_probs, log_n, dk, dl_,
                     dm_, doff, dprobs, log_d, d_ign_l, d_ign_m, log_p0, log_p1, deficient, src_class, tgt_class, m4):
    """Posteriors of one pair around its alignment ``a_in`` into ``out`` (flat (m, l + 1), zeroed)."""
    l, m = len(e_sent), len(f_sent)
    if m == 0:
        return
    maxfert = n_probs.shape[1]
    a = np.empty(m, np.int64)
    fert = np.zeros(l + 1, np.int64)
    valid = l > 0
    for j in range(m):
        a[j] = a_in[j]
        if 0 <= a[j] <= l:
            fert[a[j]] += 1
        else:
            valid = False
    if valid:
        valid = 2 * fert[0] <= m
        for i in range(1, l + 1):
            if fert[i] >= maxfert:
                valid = False
    if not valid:
        _one_hot(a, l, m, out)
        return
    lt, _, ld, _, lfert, _, lnull, ecls, fcls = sentence_tables(
        e_sent, f_sent, model4, indptr, indices, probs, log_t, floor, n_probs, log_n, dk, dl_, dm_, doff, dprobs,
        log_d, d_ign_l, d_ign_m, log_p0, log_p1, deficient, src_class, tgt_class, indices[0:0])
    st = np.zeros((6, l + 2), np.int64)
    nxtpos = np.zeros(m + 1, np.int64)
    terms = np.zeros((2, l + 1))
    dmove = np.full((l + 1, m), -np.inf)
    dswap = np.full((m, m), -np.inf)
    _neighbour_deltas(a, fert, l, m, maxfert, lt, lfert, lnull, ld, model4, ecls, fcls, m4, st, nxtpos, terms,
                      dmove, dswap)
    shift = 0.0                                    # the largest weight (the centre: log ratio 0) scaled to 1
    for j in range(m):
        for i in range(l + 1):
            shift = max(shift, dmove[i, j])
        for j2 in range(j + 1, m):
            shift = max(shift, dswap[j, j2])
    total = np.exp(-shift)
    leaving = np.zeros(m)
    for j in range(m):
        row = j * (l + 1)
        for i in range(l + 1):
            if dmove[i, j] > -np.inf:
                w = np.exp(dmove[i, j] - shift)
                total += w
                leaving[j] += w
                out[row + i] += w
        for j2 in range(j + 1, m):
            if dswap[j, j2] > -np.inf:
                w = np.exp(dswap[j, j2] - shift)
                total += w
                leaving[j] += w
                leaving[j2] += w
                out[row + a[j2]] += w
                out[j2 * (l + 1) + a[j]] += w
    for j in range(m):
        row = j * (l + 1)
        out[row + a[j]] = total - leaving[j]
        for i in range(l + 1):
            out[row + i] /= total


@njit(cache=True, nogil=True, parallel=True)
def _all_posteriors(src_ids, src_off, tgt_ids, tgt_off, positions, off, n_chunks, model4, indptr, indices, probs,
                    log_t, floor, n_probs, log_n, dk, dl_, dm_, doff, dprobs, log_d, d_ign_l, d_ign_m, log_p0, log_p1,
                    deficient, src_class, tgt_class, d1, d1_seen, db, db_seen, n_fcls, half, m4smooth):
    n_sent = len(src_off) - 1
    post = np.zeros(off[-1])
    no_counts = np.zeros(0, np.int64)
    m4 = (d1, d1_seen, db, db_seen, n_fcls, half, m4smooth, floor, no_counts, no_counts, -np.inf)   # no cut-off
    counter = np.zeros(1, np.int64)   # the next block of pairs (atomic.claim_block)
    for c in prange(n_chunks):
        lo, hi = claim_block(counter, n_sent)
        while lo < n_sent:
            for k in range(lo, hi):
                t_lo, t_hi = tgt_off[k], tgt_off[k + 1]
                _pair_posteriors(src_ids[src_off[k]:src_off[k + 1]], tgt_ids[t_lo:t_hi], positions[t_lo:t_hi],
                                 post[off[k]:off[k + 1]], model4, indptr, indices, probs, log_t, floor, n_probs,
                                 log_n, dk, dl_, dm_, doff, dprobs, log_d, d_ign_l, d_ign_m, log_p0, log_p1,
                                 deficient, src_class, tgt_class, m4)
            lo, hi = claim_block(counter, n_sent)
    return post


def fertility_posteriors(direction, corpus, positions: np.ndarray, tables=None, n_threads: int = 0):
    """(posteriors, offsets) of every pair of ``corpus`` around its hill-climbed alignment
    ``positions`` (flat, as :func:`eegiza.train.align_direction` returns) under ``direction``'s
    last model (3 or 4); ``n_threads`` workers (0: Numba's thread count). ``tables``:
    :func:`eegiza.models.fertility.corpus_tables` of the corpus the ids come from, when ``corpus``
    carries no vocabularies (a Dask shard)."""
    fert, tt = direction.fertility, direction.ttable
    prm, d = fert.params, fert.d_table
    src_len, tgt_len = corpus.src.lengths, corpus.tgt.lengths
    off = np.zeros(len(corpus) + 1, np.int64)
    np.cumsum((src_len + 1) * tgt_len, out=off[1:])
    p0 = min(max(fert.p0, P_CLAMP), 1.0 - P_CLAMP)
    positions = np.ascontiguousarray(positions, dtype=np.int32)
    if len(positions) != len(corpus.tgt.ids):
        raise ValueError(f"positions has {len(positions)} entries for {len(corpus.tgt.ids)} target tokens")
    n_chunks = max(1, min(n_threads or numba.get_num_threads(), len(corpus)))
    n_probs, src_class, tgt_class = tables if tables is not None else corpus_tables(fert, corpus)
    log_t, log_n, log_d = pass_logs(tt, n_probs, d.probs, prm.prob_smooth, corpus)
    post = _all_posteriors(corpus.src.ids, corpus.src.offsets, corpus.tgt.ids, corpus.tgt.offsets, positions, off,
                           n_chunks, direction.last_model == "4", tt.indptr, tt.indices, tt.probs, log_t,
                           prm.prob_smooth, n_probs, log_n, d.keys, d.dim_l, d.dim_m, d.offsets, d.probs, log_d,
                           d.ignore_l, d.ignore_m, np.log(p0), np.log(1.0 - p0),
                           int(prm.deficientdistortionforemptyword), src_class, tgt_class, fert.d1, fert.d1_seen,
                           fert.db, fert.db_seen, fert.n_tgt_classes, fert.half, prm.model4smoothfactor)
    return post, off
