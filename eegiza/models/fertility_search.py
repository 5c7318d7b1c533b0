"""Hill-climbing search of the fertility models (IBM Models 3 and 4): steps 1 and 2 of
:mod:`eegiza.models.fertility`, GIZA++'s ``hillClimb_std`` and ``greedyClimb_WithIBM3Scoring``
(``model3_viterbi_with_tricks.cpp``).

From a start alignment a (repaired to the fertility limits phi_i < maxfertility, 2 phi_0 <= m), apply
the best single move a_j := i or swap a_j1 <-> a_j2 while it multiplies P(f, a | e) by more than
1.00001, at most 61 steps. Model 3 scores every neighbour exactly (:mod:`eegiza.models.ibm3`);
Model 4 tries candidates in decreasing order of their Model-3 score change and takes the
first that improves the Model-4 probability, computed incrementally (:mod:`eegiza.models.ibm4`).
Pegging (Brown et al. 1993, sec. 6; GIZA's ``Peg``) climbs once per allowed link i-j with a_j fixed
and keeps the good results as centres (:func:`_pegged_centres`, :mod:`eegiza.models.pegging`).
All functions are Numba kernels over one sentence pair; the neighbour score changes they leave in
``dmove``/``dswap`` are what :mod:`eegiza.models.fertility_estep` counts over.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from . import ibm3, ibm4, pegging

LOG_CLIMB_GAIN = float(np.log(1.00001))
MAX_CLIMB_STEPS = 61
#: Model-4 climb: the best-ranked candidates tried one by one before every candidate is scored
TRIED_IN_ORDER = 32

@njit(cache=True, nogil=True)
def _repair(start, l, m, lt, maxfert, a, fert):
    """Copy the start alignment into ``a``, moving words that break the fertility limits."""
    fert[:] = 0
    for j in range(m):
        i = start[j]
        if i < 0 or i > l:
            i = 0
        if not ibm3.move_allowed(i, fert, m, maxfert):
            best, i = -np.inf, -1
            for i2 in range(l + 1):
                if ibm3.move_allowed(i2, fert, m, maxfert) and lt[i2, j] > best:
                    best, i = lt[i2, j], i2
        a[j] = i
        fert[i] += 1


@njit(cache=True, nogil=True, _nrt=False)
def _move_proposal(a, fert, i, j, m, maxfert, lt, lfert, lnull, ld, peg):
    """Model-3 log change of the move a_j := i (distortion included), -inf if it is not a neighbour
    (i = a_j, j pegged, or the fertility limits forbid it)."""
    if i == a[j] or j == peg or not ibm3.move_allowed(i, fert, m, maxfert):
        return -np.inf
    return ibm3.move_delta(a, fert, i, j, lt, lfert, lnull, ld, True)


@njit(cache=True, nogil=True, _nrt=False)
def _swap_proposal(a, j, j2, lt, ld, peg):
    """Model-3 log change of exchanging a_j and a_j2 (j < j2), -inf if it is not a neighbour."""
    if a[j2] == a[j] or j == peg or j2 == peg:
        return -np.inf
    return ibm3.swap_delta(a, j, j2, lt, ld, True)


@njit(cache=True, nogil=True, _nrt=False)
def _model3_changes(a, fert, l, m, maxfert, lt, lfert, lnull, ld, peg, pm, ps):
    """Every neighbour's Model-3 log change: pm[i, j] for the moves, ps[j, j2] (j < j2) for the
    swaps, -inf where there is no such neighbour."""
    for j in range(m):
        for i in range(l + 1):
            pm[i, j] = _move_proposal(a, fert, i, j, m, maxfert, lt, lfert, lnull, ld, peg)
        for j2 in range(j + 1, m):
            ps[j, j2] = _swap_proposal(a, j, j2, lt, ld, peg)


@njit(cache=True, nogil=True, _nrt=False)
def _update_model3_changes(a, fert, l, m, maxfert, lt, lfert, lnull, ld, peg, pm, ps, j1, j2, i_old, i_new):
    """Bring :func:`_model3_changes` up to date after one step, recomputing only what it changed:
    a move of a_j1 from ``i_old`` to ``i_new`` (``j2`` = -1) or a swap of a_j1, a_j2 (``i_old`` =
    ``i_new`` = -1). A move's change depends on a_j, the fertilities of a_j and of the new i and
    the two cells; a swap's on a_j1 and a_j2 alone. So a move step changes the columns of j1 and of
    every j whose a_j is i_old or i_new, and the rows i_old and i_new; a swap step the columns of
    j1 and j2; both, the swaps that involve j1 or j2. Each entry is recomputed by the same function
    as in :func:`_model3_changes`, so the result is the same bits."""
    for j in range(m):
        if j == j1 or j == j2 or (i_old >= 0 and (a[j] == i_old or a[j] == i_new)):   # the whole column
            for i in range(l + 1):
                pm[i, j] = _move_proposal(a, fert, i, j, m, maxfert, lt, lfert, lnull, ld, peg)
        elif i_old >= 0:
            pm[i_old, j] = _move_proposal(a, fert, i_old, j, m, maxfert, lt, lfert, lnull, ld, peg)
            pm[i_new, j] = _move_proposal(a, fert, i_new, j, m, maxfert, lt, lfert, lnull, ld, peg)
    for p in (j1, j2):
        if p < 0:
            continue
        for q in range(m):
            if q < p:
                ps[q, p] = _swap_proposal(a, q, p, lt, ld, peg)
            elif q > p:
                ps[p, q] = _swap_proposal(a, p, q, lt, ld, peg)


@njit(cache=True, nogil=True)
def _neighbour_deltas(a, fert, l, m, maxfert, lt, lfert, lnull, ld, model4, ecls, fcls, m4, st, nxtpos, terms,
                      dmove, dswap):
    """Log ratio P(neighbour) / P(a) of every move (dmove[i, j]) and swap (dswap[j1, j2], j1 < j2);
    -inf where the neighbour does not exist or is not allowed: Model 3's are
    :func:`_model3_changes`; Model 4's, :func:`_move_try`/:func:`_swap_try` of each (the incremental distortion
    change, -inf for neighbours whose other factors change by less than the log cut-off ``m4[10]``)."""
    if not model4:
        _model3_changes(a, fert, l, m, maxfert, lt, lfert, lnull, ld, -1, dmove, dswap)
        return
    ibm4.build_state(a, l, ecls, fcls, m4, st, nxtpos, terms)
    for j in range(m):
        aj = a[j]
        for i in range(l + 1):
            if i == aj or not ibm3.move_allowed(i, fert, m, maxfert):
                dmove[i, j] = -np.inf
            else:
                _move_try(i, j, a, fert, lt, lfert, lnull, ld, ecls, fcls, m4, st, nxtpos, terms, l, m, dmove)
        for j2 in range(j + 1, m):
            if a[j2] == aj:
                dswap[j, j2] = -np.inf
            else:
                _swap_try(j, j2, a, lt, ld, ecls, fcls, m4, st, nxtpos, terms, l, m, dswap)


@njit(cache=True, nogil=True)
def _climb_model3(a, fert, l, m, maxfert, lt, lfert, lnull, ld, ecls, fcls, m4, st, nxtpos, terms, dmove,
                  dswap, peg):
    """Model-3 steepest-ascent hill-climbing over moves and swaps (GIZA's ``hillClimb_std``); returns
    True if it stopped at a local optimum, whose neighbour deltas are then in ``dmove``/``dswap``.
    ``peg`` >= 0: position ``peg`` is never moved nor swapped (and False is returned). The deltas
    are computed once and then updated after each step (:func:`_update_model3_changes`)."""
    _model3_changes(a, fert, l, m, maxfert, lt, lfert, lnull, ld, peg, dmove, dswap)
    for _ in range(MAX_CLIMB_STEPS):
        best, kind, v1, v2 = LOG_CLIMB_GAIN, 0, 0, 0
        for j in range(m):
            for j2 in range(j + 1, m):
                if dswap[j, j2] > best:
                    best, kind, v1, v2 = dswap[j, j2], 1, j, j2
            for i in range(l + 1):
                if dmove[i, j] > best:
                    best, kind, v1, v2 = dmove[i, j], 2, i, j
        if kind == 0:
            return peg < 0
        if kind == 1:
            i1 = a[v1]
            a[v1] = a[v2]
            a[v2] = i1
            _update_model3_changes(a, fert, l, m, maxfert, lt, lfert, lnull, ld, peg, dmove, dswap, v1, v2, -1,
                                   -1)
        else:
            i_old = a[v2]
            fert[i_old] -= 1
            fert[v1] += 1
            a[v2] = v1
            _update_model3_changes(a, fert, l, m, maxfert, lt, lfert, lnull, ld, peg, dmove, dswap, v2, -1, i_old,
                                   v1)
    return False


@njit(cache=True, nogil=True, _nrt=False)
def _move_try(i, j, a, fert, lt, lfert, lnull, ld, ecls, fcls, m4, st, nxtpos, terms, l, m, dmove):
    """Model-4 log change of the move a_j := i, also stored in ``dmove[i, j]`` (-inf when its other
    factors change by less than the log cut-off ``m4[10]``)."""
    d = ibm3.move_delta(a, fert, i, j, lt, lfert, lnull, ld, False)
    d = -np.inf if d < m4[10] else d + ibm4.move_change(a[j], j + 1, i, l, m, ecls, fcls, m4, st, nxtpos, terms)
    dmove[i, j] = d
    return d


@njit(cache=True, nogil=True, _nrt=False)
def _swap_try(j, j2, a, lt, ld, ecls, fcls, m4, st, nxtpos, terms, l, m, dswap):
    """Model-4 log change of the swap of a_j and a_j2, also stored in ``dswap[j, j2]`` (as :func:`_move_try`)."""
    d = ibm3.swap_delta(a, j, j2, lt, ld, False)
    d = -np.inf if d < m4[10] else d + ibm4.swap_change(a[j], j + 1, a[j2], j2 + 1, l, m, ecls, fcls, m4, st,
                                                       nxtpos, terms)
    dswap[j, j2] = d
    return d


@njit(cache=True, nogil=True, _nrt=False)
def _model4_try(k, a, fert, l, m, lt, lfert, lnull, ld, ecls, fcls, m4, st, nxtpos, terms, dmove, dswap):
    """Model-4 log change of candidate k (move k = i m + j, swap k = (l + 1) m + j1 m + j2), also
    stored in ``dmove``/``dswap``."""
    n_moves = (l + 1) * m
    if k < n_moves:
        return _move_try(k // m, k % m, a, fert, lt, lfert, lnull, ld, ecls, fcls, m4, st, nxtpos, terms, l, m, dmove)
    return _swap_try((k - n_moves) // m, (k - n_moves) % m, a, lt, ld, ecls, fcls, m4, st, nxtpos, terms, l, m, dswap)


@njit(cache=True, nogil=True, _nrt=False)
def _best_improving(a, fert, l, m, lt, lfert, lnull, ld, ecls, fcls, m4, st, nxtpos, terms, dmove, dswap, moves,
                    swaps, fresh_moves, fresh_swaps):
    """Score every candidate (``moves``/``swaps``: their Model-3 changes, -inf = no candidate) under
    Model 4 into ``dmove``/``dswap`` (-inf for the non-candidates; a candidate whose ``fresh_*``
    flag is set keeps the change it has, see :func:`_forget_stale`) and return the best-ranked one
    that improves Model 4 (larger Model-3 change first, ties: the lower index k), -1 if none."""
    n_moves = (l + 1) * m
    best_k, best_v = -1, -np.inf
    for j in range(m):
        for i in range(l + 1):
            v = moves[i, j]
            if v == -np.inf:
                dmove[i, j] = -np.inf
                fresh_moves[i, j] = False
                continue
            if not fresh_moves[i, j]:
                _move_try(i, j, a, fert, lt, lfert, lnull, ld, ecls, fcls, m4, st, nxtpos, terms, l, m, dmove)
                fresh_moves[i, j] = True
            if dmove[i, j] > LOG_CLIMB_GAIN:
                k = i * m + j
                if best_k < 0 or v > best_v or (v == best_v and k < best_k):
                    best_k, best_v = k, v
        for j2 in range(j + 1, m):
            v = swaps[j, j2]
            if v == -np.inf:
                dswap[j, j2] = -np.inf
                fresh_swaps[j, j2] = False
                continue
            if not fresh_swaps[j, j2]:
                _swap_try(j, j2, a, lt, ld, ecls, fcls, m4, st, nxtpos, terms, l, m, dswap)
                fresh_swaps[j, j2] = True
            if dswap[j, j2] > LOG_CLIMB_GAIN:
                k = n_moves + j * m + j2
                if best_k < 0 or v > best_v or (v == best_v and k < best_k):
                    best_k, best_v = k, v
    return best_k


@njit(cache=True, nogil=True, _nrt=False)
def _model4_change(k, a, fert, l, m, lt, lfert, lnull, ld, ecls, fcls, m4, st, nxtpos, terms, dmove, dswap, fresh):
    """:func:`_model4_try` of candidate k, or the change it already has if ``fresh[k]``."""
    if not fresh[k]:
        _model4_try(k, a, fert, l, m, lt, lfert, lnull, ld, ecls, fcls, m4, st, nxtpos, terms, dmove, dswap)
        fresh[k] = True
    n_moves = (l + 1) * m
    if k < n_moves:
        return dmove[k // m, k % m]
    return dswap[(k - n_moves) // m, (k - n_moves) % m]


@njit(cache=True, nogil=True, _nrt=False)
def _forget_stale(a, a_before, fert0_before, fert, l, m, st, st_before, terms, terms_before, stale, fresh_moves,
                  fresh_swaps):
    """After a step, clear the ``fresh`` flag of every candidate whose Model-4 change the step may
    have altered, comparing the alignment (``a_before``), the cept state (``st_before``,
    ``terms_before``) and NULL's fertility (``fert0_before``) before the step with those after it
    (:func:`eegiza.models.ibm4.build_state` of the new alignment).

    A move a_j := i reads the state of the cepts a_j and i and of the cepts before and after each
    (``st`` rows 3 and 4, defined for empty positions too), and NULL's fertility if a_j or i is NULL;
    a swap the same of a_j1 and a_j2, without NULL's fertility; and both read a_j (which a swap
    with a NULL-aligned word changes without changing NULL's fertility) (:mod:`eegiza.models.ibm3`,
    :func:`eegiza.models.ibm4.move_change`, ``swap_change``, ``change_delta``). A cept whose
    positions changed has another position sum, so comparing the state columns finds every cept
    the step touched; a candidate none of whose cepts or their neighbours changed would be
    recomputed from identical values, so keeping its change gives the same bits."""
    stale[0] = fert[0] != fert0_before
    for k in range(1, l + 1):
        stale[k] = _changed_cept(k, st, st_before, terms, terms_before)
    for k in range(1, l + 1):   # a neighbour's change makes a cept stale too (row 3: 0 = none, row 4: l + 1)
        if not stale[k]:
            before, after = st[3, k], st[4, k]
            if (before > 0 and _changed_cept(before, st, st_before, terms, terms_before)) or \
                    (after <= l and _changed_cept(after, st, st_before, terms, terms_before)):
                stale[k] = True
    for i in range(l + 1):   # the moves into a stale cept
        if stale[i]:
            fresh_moves[i, :] = False
    for j in range(m):
        moved_j = a[j] != a_before[j]
        if moved_j or stale[a[j]]:   # the moves of j
            fresh_moves[:, j] = False
        if moved_j or (a[j] > 0 and stale[a[j]]):   # the swaps with j
            fresh_swaps[j, j + 1:] = False
            fresh_swaps[:j, j] = False


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def _changed_cept(k, st, st_before, terms, terms_before):
    """Source position k's cept state or log terms differ before and after a step."""
    if terms[0, k] != terms_before[0, k] or terms[1, k] != terms_before[1, k]:
        return True
    for r in range(6):
        if st[r, k] != st_before[r, k]:
            return True
    return False


@njit(cache=True, nogil=True, _nrt=False)
def _best_ranked(proposal, best):
    """The best-ranked candidates (larger Model-3 change first, ties: the lower index k; -inf: no
    candidate), at most ``len(best)`` of them, in order into ``best``; returns how many."""
    n, cap = 0, len(best)
    for k in range(len(proposal)):
        v = proposal[k]
        if v == -np.inf or (n == cap and v <= proposal[best[cap - 1]]):
            continue
        if n < cap:
            pos = n
            n += 1
        else:
            pos = cap - 1   # the last one drops out
        while pos > 0 and proposal[best[pos - 1]] < v:
            best[pos] = best[pos - 1]
            pos -= 1
        best[pos] = k
    return n


@njit(cache=True, nogil=True)
def _climb_model4(a, fert, l, m, maxfert, lt, lfert, lfert3, lnull, ld, ecls, fcls, m4, st, nxtpos, terms, dmove,
                  dswap, peg):
    """Model-4 hill-climbing as GIZA's ``greedyClimb_WithIBM3Scoring``: the moves and swaps are tried
    in decreasing order of their Model-3 score change (ties: by index, moves first) and the first one
    that multiplies the Model-4 probability by more than 1.00001 is applied. Returns True at a local
    optimum, where every neighbour has been scored: ``dmove``/``dswap`` then hold the Model-4 deltas.

    The same choice, without sorting them all: the ``TRIED_IN_ORDER`` best-ranked candidates
    (:func:`_best_ranked`, one pass) are tried in order (most steps of a climb take one of the
    first); if none improves, every candidate is scored (:func:`_best_improving`, as it must be at
    a local optimum anyway) and the best-ranked improving one is applied. The Model-3
    changes are computed once and updated after each step (:func:`_update_model3_changes`); a
    candidate's Model-4 change, once computed, is kept across the steps that cannot alter it
    (:func:`_forget_stale`), so a climb of several steps scores most candidates once.
    ``peg`` >= 0: position ``peg`` is never moved nor swapped (and False is returned)."""
    n_moves = (l + 1) * m
    n_all = n_moves + m * m
    proposal = np.full(n_all, -np.inf)
    moves = proposal[:n_moves].reshape((l + 1, m))   # views: candidate k = i m + j
    swaps = proposal[n_moves:].reshape((m, m))       # k = (l + 1) m + j1 m + j2
    _model3_changes(a, fert, l, m, maxfert, lt, lfert3, lnull, ld, peg, moves, swaps)
    fresh = np.zeros(n_all, np.bool_)   # dmove/dswap hold candidate k's Model-4 change in this state
    fresh_moves = fresh[:n_moves].reshape((l + 1, m))
    fresh_swaps = fresh[n_moves:].reshape((m, m))
    st_before = np.empty_like(st)
    terms_before = np.empty_like(terms)
    stale = np.empty(l + 1, np.bool_)
    a_before = np.empty_like(a)
    fert0_before = fert[0]
    best = np.empty(TRIED_IN_ORDER, np.int64)
    for step in range(MAX_CLIMB_STEPS):
        top, top_v = -1, -np.inf   # the best-ranked candidate (ties: the lower index)
        for k in range(n_all):
            if proposal[k] > top_v:
                top, top_v = k, proposal[k]
        if step > 0:
            st_before[:] = st
            terms_before[:] = terms
        ibm4.build_state(a, l, ecls, fcls, m4, st, nxtpos, terms)
        if step > 0:
            _forget_stale(a, a_before, fert0_before, fert, l, m, st, st_before, terms, terms_before, stale,
                          fresh_moves, fresh_swaps)
        fert0_before = fert[0]
        a_before[:] = a
        chosen = -1
        if top >= 0 and _model4_change(top, a, fert, l, m, lt, lfert, lnull, ld, ecls, fcls, m4, st, nxtpos, terms,
                                       dmove, dswap, fresh) > LOG_CLIMB_GAIN:
            chosen = top
        elif top >= 0 and step > 0:   # (a climb's first step is mostly its last: from a good start)
            n_best = _best_ranked(proposal, best)
            for r in range(1, n_best):
                if _model4_change(best[r], a, fert, l, m, lt, lfert, lnull, ld, ecls, fcls, m4, st, nxtpos, terms,
                                  dmove, dswap, fresh) > LOG_CLIMB_GAIN:
                    chosen = best[r]
                    break
        if chosen < 0:
            chosen = _best_improving(a, fert, l, m, lt, lfert, lnull, ld, ecls, fcls, m4, st, nxtpos, terms, dmove,
                                     dswap, moves, swaps, fresh_moves, fresh_swaps)
        if chosen < 0:
            return peg < 0
        if chosen < n_moves:
            i, j = chosen // m, chosen % m
            i_old = a[j]
            fert[i_old] -= 1
            fert[i] += 1
            a[j] = i
            _update_model3_changes(a, fert, l, m, maxfert, lt, lfert3, lnull, ld, peg, moves, swaps, j, -1, i_old,
                                   i)
        else:
            j, j2 = (chosen - n_moves) // m, (chosen - n_moves) % m
            i1 = a[j]
            a[j] = a[j2]
            a[j2] = i1
            _update_model3_changes(a, fert, l, m, maxfert, lt, lfert3, lnull, ld, peg, moves, swaps, j, j2, -1,
                                   -1)
    return False


@njit(cache=True, nogil=True)
def _climb(a, fert, l, m, maxfert, lt, lfert, lfert3, lnull, ld, model4, ecls, fcls, m4, st, nxtpos, terms, dmove,
           dswap, peg):
    """Hill-climb ``a`` under Model 3 or 4 (``peg`` >= 0: a_peg stays); True at a local optimum whose
    neighbour deltas are in ``dmove``/``dswap``."""
    if model4:
        return _climb_model4(a, fert, l, m, maxfert, lt, lfert, lfert3, lnull, ld, ecls, fcls, m4, st, nxtpos, terms,
                             dmove, dswap, peg)
    return _climb_model3(a, fert, l, m, maxfert, lt, lfert, lnull, ld, ecls, fcls, m4, st, nxtpos, terms, dmove,
                         dswap, peg)


@njit(cache=True, nogil=True, _nrt=False)
def _score(a, fert, l, lt, lfert, lnull, ld, model4, ecls, fcls, m4, scratch):
    """log P(f, a | e) under Model 3 or 4."""
    score = ibm3.log_prob(a, fert, lt, lfert, lnull, ld, not model4)
    if model4:
        score += ibm4.distortion(a, l, ecls, fcls, m4[0], m4[1], m4[2], m4[3], m4[4], m4[5], m4[6], m4[7],
                                 scratch, 0.0, m4[8], m4[9], False)
    return score


@njit(cache=True, nogil=True)
def _pegged_centres(a0, fert0, a_best, score_best, l, m, maxfert, lt, lfert, lfert3, lnull, ld, model4, ecls, fcls,
                    m4, st, nxtpos, terms, dmove, dswap, scratch, log_pegcut, link_cache):
    """The centres of pegging: a* (``a_best``) and, for every peg (i, j) in order j, i, the climb
    from the start ``a0`` with a_j := i that never moves j, unless the peg breaks the fertility
    limits, t(f_j | e_i) <= peggedcutoff t(f_j | e_{a0_j}), (``link_cache``) the link i-j is in the
    start or in an earlier pegged climb's result, the result scores <= peggedcutoff times the best
    centre so far, or it is already a centre. Returns (centres, their log-probabilities, their
    number, the index of the best: a later centre replaces it when better by > 1.00001)."""
    cap = 1 + (l + 1) * m
    centres = np.empty((cap, m), np.int64)
    cscores = np.empty(cap)
    centres[0] = a_best
    cscores[0] = score_best
    n, best = 1, 0
    b = np.empty(m, np.int64)
    fb = np.empty(l + 1, np.int64)
    pos = np.empty(4, np.int64)
    linked = np.zeros((l + 1, m), np.bool_)
    for j in range(m):
        linked[a0[j], j] = link_cache
    for j in range(m):
        for i in range(l + 1):
            if linked[i, j] or lt[i, j] <= lt[a0[j], j] + log_pegcut:
                continue
            b[:] = a0
            fb[:] = fert0
            if i != a0[j]:
                if not ibm3.move_allowed(i, fb, m, maxfert):
                    continue
                fb[a0[j]] -= 1
                fb[i] += 1
                b[j] = i
            _climb(b, fb, l, m, maxfert, lt, lfert, lfert3, lnull, ld, model4, ecls, fcls, m4, st, nxtpos, terms,
                   dmove, dswap, j)
            for j2 in range(m):
                linked[b[j2], j2] = link_cache
            s = _score(b, fb, l, lt, lfert, lnull, ld, model4, ecls, fcls, m4, scratch)
            if s <= cscores[best] + log_pegcut:
                continue
            known = False
            for k in range(n):
                if pegging.differences(centres[k], b, pos) == 0:
                    known = True
                    break
            if known:
                continue
            centres[n] = b
            cscores[n] = s
            if s > cscores[best] + LOG_CLIMB_GAIN:
                best = n
            n += 1
    return centres, cscores, n, best
