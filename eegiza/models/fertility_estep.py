"""E-step kernels of the fertility models (IBM Models 3 and 4): step 3 of
:mod:`eegiza.models.fertility`, GIZA++'s ``collectCountsOverNeighborhood`` (``collCounts.cpp``).

For one sentence pair, after the climb of :mod:`eegiza.models.fertility_search` has found a*, every
alignment a of the neighbourhood N(a*) = {a*} + every allowed move + every swap (with pegging: the
union of the centres' neighbourhoods, each alignment once) gets the weight
P(f, a | e) / sum_{N(a*)} P(f, a' | e), and adds it to the t, d, n(phi | e), p0/p1 and (to Model 4)
head/non-head displacement counts; the sentence's log-likelihood is log sum_{N(a*)} P(f, a | e).
Counts are fixed-point integers (``COUNT_SCALE``, :mod:`eegiza.ttable`): the t counts in one array
the workers add to atomically (:mod:`eegiza.atomic`; split into 4- and 8-byte entries by
:mod:`eegiza.fixed_counts`, whose layout :func:`count_cells` finds), the smaller tables one row per
worker, so sums do not depend on the order the workers add them. :func:`_chunk` runs :func:`_sentence` over a block
of sentences; :func:`eegiza.models.fertility._run_corpus` hands the blocks to the threads.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..atomic import PREFETCH_AHEAD, WORKERS, atomic_add, claim_block, prefetch_through
from ..fixed_counts import add_cells, add_split
from ..slot_source import sentence_block
from ..ttable import COUNT_SCALE, find_slot
from . import ibm3, ibm4, pegging
from .fertility_search import _climb, _neighbour_deltas, _pegged_centres, _repair, _score

@njit(cache=True, nogil=True)
def _fixed(x):
    return np.int64(max(x, 0.0) * COUNT_SCALE + 0.5)


@njit(cache=True, nogil=True)
def _hood_total(l, m, dmove, dswap, centre_weight):
    """sum_N P / P(a) over the neighbourhood whose deltas are ``dmove``/``dswap`` (-inf: left out),
    the centre counting ``centre_weight`` (1, or 0 when left out)."""
    total = centre_weight
    for j in range(m):
        for i in range(l + 1):
            if dmove[i, j] > -np.inf:
                total += np.exp(dmove[i, j])
        for j2 in range(j + 1, m):
            if dswap[j, j2] > -np.inf:
                total += np.exp(dswap[j, j2])
    return total


@njit(cache=True, nogil=True)
def _collect(e_sent, a, fert, l, m, maxfert, dmove, dswap, tslot, dslot, cutoff, collect_d4, ecls, fcls, m4,
             st, nxtpos, tc, nc, dc, pc, c1, cb, centre_weight, scale):
    """Add the neighbourhood counts of centre ``a`` (the centre itself weighing ``centre_weight``,
    1 or 0), each alignment weighted by P / P(a) * ``scale``, or, if ``scale`` < 0, by its share
    of this neighbourhood alone; returns log of sum_N P / P(a). ``tc``: split counts
    (:mod:`eegiza.fixed_counts`)."""
    tc_low, tc_heavy = tc
    total = centre_weight
    wmove = np.zeros((l + 1, m))
    cswap = np.zeros((l + 1, m))
    negmove = np.zeros(m)
    negswap = np.zeros(m)
    plus1 = np.zeros(l + 1)
    minus1 = np.zeros(l + 1)
    for j in range(m):
        for i in range(l + 1):
            if dmove[i, j] > -np.inf:
                w = np.exp(dmove[i, j])
                wmove[i, j] = w
                total += w
                negmove[j] += w
                plus1[i] += w
                minus1[a[j]] += w
        for j2 in range(j + 1, m):
            if dswap[j, j2] > -np.inf:
                w = np.exp(dswap[j, j2])
                total += w
                cswap[a[j], j2] += w
                cswap[a[j2], j] += w
                negswap[j] += w
                negswap[j2] += w
    inv = 1.0 / total if scale < 0 else scale
    for j in range(m):
        for i in range(l + 1):
            if i == a[j]:
                v = (total - negmove[j] - negswap[j]) * inv
            else:
                v = (cswap[i, j] + wmove[i, j]) * inv
            if v > cutoff:
                if tslot[i, j] >= 0:
                    add_split(tc_low, tc_heavy, tslot[i, j], _fixed(v))   # tc is shared by the workers
                if i > 0 and dslot[i, j] >= 0:
                    dc[dslot[i, j]] += _fixed(v)
    for i in range(1, l + 1):
        row = e_sent[i - 1] * maxfert
        phi = fert[i]
        nc[row + phi] += _fixed((total - minus1[i] - plus1[i]) * inv)
        if phi > 0:
            nc[row + phi - 1] += _fixed(minus1[i] * inv)
        if phi + 1 < maxfert:
            nc[row + phi + 1] += _fixed(plus1[i] * inv)
    f0 = fert[0]
    stay = (total - minus1[0] - plus1[0]) * inv
    p1c = stay * f0
    p0c = stay * (m - 2 * f0)
    if f0 > 0:
        p1c += minus1[0] * inv * (f0 - 1)
        p0c += minus1[0] * inv * (m - 2 * (f0 - 1))
    if m - 2 * (f0 + 1) >= 0:
        p1c += plus1[0] * inv * (f0 + 1)
        p0c += plus1[0] * inv * (m - 2 * (f0 + 1))
    pc[0] += _fixed(p0c)
    pc[1] += _fixed(p1c)
    if collect_d4:   # the centre's displacements once, with the summed weight; each neighbour its difference
        n_fcls, half = m4[4], m4[5]
        ibm4.cept_state(a, l, st, nxtpos)
        summed = ibm4.fixed_weight(centre_weight * inv) if centre_weight > 0 else np.int64(0)
        for j in range(m):
            for i in range(l + 1):
                w = wmove[i, j] * inv
                if w > cutoff:
                    add = ibm4.fixed_weight(w)
                    summed += add
                    ibm4.change_count(a[j], j + 1, 0, i, 0, j + 1, l, ecls, fcls, n_fcls, half, st, nxtpos, add, c1,
                                      cb)
            for j2 in range(j + 1, m):
                if dswap[j, j2] > -np.inf:
                    w = np.exp(dswap[j, j2]) * inv
                    if w > cutoff:
                        add = ibm4.fixed_weight(w)
                        summed += add
                        ibm4.change_count(a[j], j + 1, j2 + 1, a[j2], j2 + 1, j + 1, l, ecls, fcls, n_fcls, half, st,
                                          nxtpos, add, c1, cb)
        if summed != 0:
            ibm4.count_cepts(l, ecls, fcls, n_fcls, half, st, nxtpos, summed, c1, cb)
    return np.log(total)


@njit(cache=True, nogil=True)
def _union_part(centres, k, fert, l, m, maxfert, lt, lfert, lnull, ld, model4, ecls, fcls, m4, st, nxtpos, terms,
                dmove, dswap):
    """Fertilities and neighbour deltas of centre k, the members of earlier centres' neighbourhoods
    set to -inf; returns the centre's own weight (0 if an earlier neighbourhood has it)."""
    c = centres[k]
    fert[:] = 0
    for j in range(m):
        fert[c[j]] += 1
    _neighbour_deltas(c, fert, l, m, maxfert, lt, lfert, lnull, ld, model4, ecls, fcls, m4, st, nxtpos, terms,
                      dmove, dswap)
    weight = 1.0
    for k2 in range(k):
        if pegging.drop_covered(c, centres[k2], l, m, dmove, dswap):
            weight = 0.0
    return weight


@njit(cache=True, nogil=True)
def _collect_union(e_sent, centres, cscores, n, l, m, maxfert, lt, lfert, lnull, ld, model4, ecls, fcls, m4, st,
                   nxtpos, terms, dmove, dswap, tslot, dslot, cutoff, collect_d4, tc, nc, dc, pc, c1, cb):
    """Add the counts of the union of the centres' neighbourhoods (:mod:`eegiza.models.pegging`),
    every alignment weighted by P / sum_union P; returns log sum_union P."""
    logs = np.empty(n)
    fert = np.empty(l + 1, np.int64)
    for k in range(n):
        weight = _union_part(centres, k, fert, l, m, maxfert, lt, lfert, lnull, ld, model4, ecls, fcls, m4, st,
                             nxtpos, terms, dmove, dswap)
        logs[k] = cscores[k] + np.log(_hood_total(l, m, dmove, dswap, weight))
    top = logs.max()
    z = 0.0
    for k in range(n):
        z += np.exp(logs[k] - top)
    log_z = top + np.log(z)
    for k in range(n):
        weight = _union_part(centres, k, fert, l, m, maxfert, lt, lfert, lnull, ld, model4, ecls, fcls, m4, st,
                             nxtpos, terms, dmove, dswap)
        _collect(e_sent, centres[k], fert, l, m, maxfert, dmove, dswap, tslot, dslot, cutoff, collect_d4, ecls, fcls,
                 m4, st, nxtpos, tc, nc, dc, pc, c1, cb, weight, np.exp(cscores[k] - log_z))
    return log_z


@njit(cache=True, nogil=True)
def _drop_uncertain_links(l, m, dmove, dswap, min_posterior, out):
    """Unalign (out[j] = 0) every target word whose link keeps less than ``min_posterior`` of the
    probability of the neighbourhood whose deltas are ``dmove``/``dswap`` (the moves and swaps that
    change a_j take the rest)."""
    total = 1.0
    leaving = np.zeros(m)
    for j in range(m):
        for i in range(l + 1):
            if dmove[i, j] > -np.inf:
                w = np.exp(dmove[i, j])
                total += w
                leaving[j] += w
        for j2 in range(j + 1, m):
            if dswap[j, j2] > -np.inf:
                w = np.exp(dswap[j, j2])
                total += w
                leaving[j] += w
                leaving[j2] += w
    for j in range(m):
        if (total - leaving[j]) / total < min_posterior:
            out[j] = 0


@njit(cache=True, nogil=True, _nrt=False)
def _prefetch_entry(log_t, probs, slots, x):
    """Prefetch what :func:`eegiza.models.ibm3.entry_log` will read for ``slots[x]``."""
    if len(log_t) > 0:
        prefetch_through(log_t, slots, x)
    else:
        prefetch_through(probs, slots, x)


@njit(cache=True, nogil=True)
def sentence_tables(e_sent, f_sent, model4, indptr, indices, probs, log_t, floor, n_probs, log_n, dk, dl_, dm_, doff,
                    dprobs, log_d, d_ign_l, d_ign_m, log_p0, log_p1, deficient, src_class, tgt_class, slots):
    """One pair's log tables for the climb and the neighbourhood: (log t[i, j] (i = 0 NULL), its
    t-table slots (-1: not in the table), log d and its slots, log n(phi | e_i) of the model and
    of Model 3, log of the NULL-insertion terms, source and target word classes). ``log_t``,
    ``log_n``, ``log_d``: :func:`eegiza.models.ibm3.logs_if_used` of the t-table ``probs``, the
    fertility table ``n_probs`` and the distortion table ``dprobs`` (empty: the logs are taken here;
    the same bits either way).
    ``slots``: the pair's t-table slots (:func:`eegiza.ttable.sentence_slots`), or empty to look
    them up here."""
    l, m = len(e_sent), len(f_sent)
    n_rows = len(indptr) - 1  # source words unseen in training have no t-table row
    lt = np.empty((l + 1, m))
    tslot = np.empty((l + 1, m), np.int64)
    log_floor = np.log(floor)
    if len(slots) > 0:   # the slots in memory order, prefetching the scattered logs ahead (eegiza.atomic)
        for x in range(PREFETCH_AHEAD):
            _prefetch_entry(log_t, probs, slots, x)
        for j in range(m):
            for i in range(l + 1):
                x = j * (l + 1) + i
                _prefetch_entry(log_t, probs, slots, x + PREFETCH_AHEAD)
                s = slots[x]
                tslot[i, j] = s
                lt[i, j] = ibm3.entry_log(s, log_t, probs, floor, log_floor)
    else:
        for i in range(l + 1):
            e = 0 if i == 0 else e_sent[i - 1]
            for j in range(m):
                s = find_slot(indptr, indices, e, f_sent[j]) if e < n_rows else -1
                tslot[i, j] = s
                lt[i, j] = ibm3.entry_log(s, log_t, probs, floor, log_floor)
    ld, dslot = ibm3.distortion_logs(l, m, dk, dl_, dm_, doff, dprobs, log_d, d_ign_l, d_ign_m, floor)
    lfert = ibm3.fertility_log_probs(e_sent, n_probs, log_n, floor, not model4)
    lfert3 = ibm3.fertility_log_probs(e_sent, n_probs, log_n, floor, True) if model4 else lfert
    lnull = ibm3.null_log_probs(m, log_p0, log_p1, deficient)
    ecls = np.zeros(l + 1, np.int64)
    for i in range(1, l + 1):
        ecls[i] = src_class[e_sent[i - 1]]
    ecls[0] = src_class[0]
    fcls = np.empty(m, np.int64)
    for j in range(m):
        fcls[j] = tgt_class[f_sent[j]]
    return lt, tslot, ld, dslot, lfert, lfert3, lnull, ecls, fcls


@njit(cache=True, nogil=True)
def _sentence(e_sent, f_sent, start, out, climb, neighbours, model4, collect, collect_d4, indptr, indices, probs,
              log_t, floor, n_probs, log_n, dk, dl_, dm_, doff, dprobs, log_d, d_ign_l, d_ign_m, log_p0, log_p1,
              deficient, src_class, tgt_class, m4, cutoff, pegged, log_pegcut, link_cache, min_posterior, tc, nc, dc,
              pc, c1, cb, decoded, slots):
    """Align one pair (start, climb; with ``pegged`` also the pegged climbs) into ``out``, add its
    counts if ``collect``; returns (log P of the alignment under the from model, log of its
    neighbourhood sum, or with pegging of the union's sum). Without pegging, ``min_posterior`` > 0
    unaligns the words whose link is uncertain: in ``out`` without ``collect``
    (:func:`align_fertility`), in ``decoded`` (if not empty: the output alignment of the last
    training iteration) with it; ``decoded`` otherwise gets ``out``. ``slots``: the pair's t-table
    slots (:func:`eegiza.ttable.sentence_slots`), or empty to look them up here."""
    l, m = len(e_sent), len(f_sent)
    if m == 0:
        return 0.0, 0.0
    maxfert = n_probs.shape[1]
    if l == 0 or l * (maxfert - 1) + m // 2 < m:
        for j in range(m):
            out[j] = start[j] if 0 <= start[j] <= l else 0
        if len(decoded) > 0:
            decoded[:] = out
        return -np.inf, 0.0
    lt, tslot, ld, dslot, lfert, lfert3, lnull, ecls, fcls = sentence_tables(
        e_sent, f_sent, model4, indptr, indices, probs, log_t, floor, n_probs, log_n, dk, dl_, dm_, doff, dprobs,
        log_d, d_ign_l, d_ign_m, log_p0, log_p1, deficient, src_class, tgt_class, slots)
    a = np.empty(m, np.int64)
    fert = np.zeros(l + 1, np.int64)
    _repair(start, l, m, lt, maxfert, a, fert)
    a0, fert0 = a.copy(), fert.copy()
    scratch = np.empty((5, l + 1), np.int64)
    st = np.zeros((6, l + 2), np.int64)
    nxtpos = np.zeros(m + 1, np.int64)
    terms = np.zeros((2, l + 1))
    dmove = np.full((l + 1, m), -np.inf)
    dswap = np.full((m, m), -np.inf)
    current = False
    if climb:
        current = _climb(a, fert, l, m, maxfert, lt, lfert, lfert3, lnull, ld, model4, ecls, fcls, m4, st, nxtpos,
                         terms, dmove, dswap, -1)
    score = _score(a, fert, l, lt, lfert, lnull, ld, model4, ecls, fcls, m4, scratch)
    if climb and pegged:
        centres, cscores, n, best = _pegged_centres(a0, fert0, a, score, l, m, maxfert, lt, lfert, lfert3, lnull, ld,
                                                    model4, ecls, fcls, m4, st, nxtpos, terms, dmove, dswap, scratch,
                                                    log_pegcut, link_cache)
        for j in range(m):
            out[j] = centres[best, j]
        if len(decoded) > 0:
            decoded[:] = out
        if not collect:
            return cscores[best], cscores[best]
        return cscores[best], _collect_union(e_sent, centres, cscores, n, l, m, maxfert, lt, lfert, lnull, ld, model4,
                                             ecls, fcls, m4, st, nxtpos, terms, dmove, dswap, tslot, dslot, cutoff,
                                             collect_d4, tc, nc, dc, pc, c1, cb)
    for j in range(m):
        out[j] = a[j]
    if not collect:
        if min_posterior > 0.0:
            if not current:
                _neighbour_deltas(a, fert, l, m, maxfert, lt, lfert, lnull, ld, model4, ecls, fcls, m4, st, nxtpos,
                                  terms, dmove, dswap)
            _drop_uncertain_links(l, m, dmove, dswap, min_posterior, out)
        return score, score
    if neighbours and not current:
        _neighbour_deltas(a, fert, l, m, maxfert, lt, lfert, lnull, ld, model4, ecls, fcls, m4, st, nxtpos, terms,
                          dmove, dswap)
    elif not neighbours:
        dmove[:] = -np.inf
        dswap[:] = -np.inf
    if len(decoded) > 0:
        decoded[:] = out
        if min_posterior > 0.0 and neighbours:
            _drop_uncertain_links(l, m, dmove, dswap, min_posterior, decoded)
    return score, score + _collect(e_sent, a, fert, l, m, maxfert, dmove, dswap, tslot, dslot, cutoff,
                                   collect_d4, ecls, fcls, m4, st, nxtpos, tc, nc, dc, pc, c1, cb, 1.0, -1.0)


@njit(cache=True, nogil=True)
def _chunk(lo, hi, src_ids, src_off, tgt_ids, tgt_off, start, climb, neighbours, model4, collect, collect_d4,
           indptr, indices, probs, log_t, floor, n_probs, log_n, dk, dl_, dm_, doff, dprobs, log_d, d_ign_l,
           d_ign_m, log_p0, log_p1, deficient, src_class, tgt_class, d1, d1_seen, db, db_seen, n_fcls, half, m4smooth,
           cutoff, pegged, log_pegcut, link_cache, min_posterior, tc, nc, dc, pc, c1, cb, positions, scores, loglik,
           decoded, source, log_neighbour_cut):
    """Sentences lo..hi-1 (one block; counts into the shared t counts and the rows of the worker that
    runs it); ``source``: the corpus' slots (:meth:`eegiza.slot_source.SlotSource.arrays`; none: the
    kernels search the table)."""
    m4 = (d1, d1_seen, db, db_seen, n_fcls, half, m4smooth, floor, c1, cb, log_neighbour_cut)
    for k in range(lo, hi):
        t_lo, t_hi = tgt_off[k], tgt_off[k + 1]
        e_sent = src_ids[src_off[k]:src_off[k + 1]]
        block = sentence_block(source, k, e_sent)
        scores[k], loglik[k] = _sentence(
            e_sent, tgt_ids[t_lo:t_hi], start[t_lo:t_hi], positions[t_lo:t_hi], climb,
            neighbours, model4, collect, collect_d4, indptr, indices, probs, log_t, floor, n_probs, log_n, dk, dl_,
            dm_, doff, dprobs, log_d, d_ign_l, d_ign_m, log_p0, log_p1, deficient, src_class, tgt_class, m4, cutoff,
            pegged, log_pegcut, link_cache, min_posterior, tc, nc, dc, pc, c1, cb,
            decoded[t_lo:t_hi], block)  # decoded: empty when not decoding


# --------------------------------------------------------------------------- driver


@njit(cache=True, nogil=True, parallel=True)
def count_cells(src_ids, src_off, tgt_ids, tgt_off, indptr, indices, source, cells):
    """Add to ``cells`` (uint32, one per t-table entry) the cells :func:`_collect` can add t counts
    to, sentence by sentence: every (source position or NULL, target position) whose pair the
    table holds (:mod:`eegiza.fixed_counts`); ``source`` as :func:`_chunk`'s."""
    n_sent = len(src_off) - 1
    n_rows = len(indptr) - 1
    counter = np.zeros(1, np.int64)
    for _ in prange(WORKERS):
        lo, hi = claim_block(counter, n_sent)
        while lo < n_sent:
            for k in range(lo, hi):
                e_sent = src_ids[src_off[k]:src_off[k + 1]]
                block = sentence_block(source, k, e_sent)
                if len(block) > 0:
                    add_cells(block, cells)
                    continue
                for i in range(len(e_sent) + 1):   # no stored slots: searched, as sentence_tables does
                    e = 0 if i == 0 else e_sent[i - 1]
                    if e >= n_rows:
                        continue
                    for j in range(tgt_off[k], tgt_off[k + 1]):
                        s = find_slot(indptr, indices, e, tgt_ids[j])
                        if s >= 0:
                            atomic_add(cells, s, 1)
            lo, hi = claim_block(counter, n_sent)
