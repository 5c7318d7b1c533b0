"""IBM Model 4 distortion with word classes (Brown et al. 1993, §4.5), as GIZA++ scores it
(``transpair_model4.cpp``, ``D4Tables.h`` with the default ``depm4 76``).

Model 4 keeps Model 3's NULL, fertility and translation parts, without the phi_i! factor (GIZA++
leaves it out as well), and replaces d(j | i, l, m) by a distortion of the *cepts*. The cept of a
source position i with phi_i > 0 is the ascending list of target positions aligned to it; its
*head* is the first of them and its *center* the ceiling of their average. With rho(i) the
previous source position that has a cept (0 if none; the center of 0 is 0, its class that of NULL):

    head of cept i at j:       d1(j - center(rho(i)) | A(e_rho(i)), B(f_j))
    later word of cept i at j: d>1(j - j_prev | B(f_j)),   j_prev the previous word of the same cept

A = source word classes, B = target word classes. A lookup is GIZA's
max(probsmooth, s / (2m - 1) + (1 - s) d1) for heads and max(probsmooth, s / (m - 1) + (1 - s) d>1)
for the others, s = ``model4smoothfactor``; a class (pair) that never received counts gives
probsmooth. Displacements are stored for |delta| <= D (the longest training target sentence) and
clipped beyond, so there is no length cap.

Tables are flat: d1[(A * n_B + B) * W + delta + D], d>1[B * W + delta + D], W = 2D + 1.
M-step: each (A, B) (resp. B) vector is normalised over delta; an empty vector is uniform.

:func:`distortion` scores (or counts) a whole alignment in O(l + m); :func:`change_delta` gives the
change of a move or swap from the state of :func:`build_state` by rescoring only the cepts it
touches and the cepts that follow them, which is what makes Model-4 hill-climbing affordable.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..ttable import COUNT_SCALE
from .buckets import clamped_bucket


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def fixed_weight(weight):
    """The fixed-point count (``COUNT_SCALE``) a displacement gets from an alignment of this weight."""
    return np.int64(weight * COUNT_SCALE + 0.5)


@njit(cache=True, nogil=True, _nrt=False)
def distortion(a, l, ecls, fcls, d1, d1_seen, db, db_seen, n_fcls, half, smooth, floor, scratch,
               weight, c1, cb, counting):
    """Model-4 distortion of alignment ``a`` (0-based target positions, values 0..l): its log
    probability, or (``counting``) add ``weight`` (fixed point) to the counts ``c1``/``cb`` of every
    displacement it uses and return 0. ``scratch`` is an int64 (5, >= l + 1) work array."""
    m = len(a)
    width = 2 * half + 1
    fert, psum, head, last, prev = scratch[0], scratch[1], scratch[2], scratch[3], scratch[4]
    for i in range(l + 1):
        fert[i] = 0
        psum[i] = 0
        head[i] = 0
        last[i] = 0
    for j in range(m):
        i = a[j]
        if i > 0:
            fert[i] += 1
            psum[i] += j + 1
            if head[i] == 0:
                head[i] = j + 1
    p = 0
    for i in range(1, l + 1):
        prev[i] = p
        if fert[i] > 0:
            p = i
    add = fixed_weight(weight)
    total = 0.0
    for j in range(1, m + 1):
        i = a[j - 1]
        if i == 0:
            continue
        cls_f = fcls[j - 1]
        if j == head[i]:
            ep = prev[i]
            center = 0 if ep == 0 else (psum[ep] + fert[ep] - 1) // fert[ep]
            key = ecls[ep] * n_fcls + cls_f
            s = key * width + clamped_bucket(j - center, half)
            if counting:
                c1[s] += add
            elif d1_seen[key]:
                total += np.log(max(floor, smooth / (2 * m - 1) + (1.0 - smooth) * d1[s]))
            else:
                total += np.log(floor)
        else:
            s = cls_f * width + clamped_bucket(j - last[i], half)
            if counting:
                cb[s] += add
            elif db_seen[cls_f]:
                total += np.log(max(floor, smooth / (m - 1) + (1.0 - smooth) * db[s]))
            else:
                total += np.log(floor)
        last[i] = j
    return total


def normalise_rows(counts: np.ndarray, seen: np.ndarray, width: int):
    """Normalise every ``width``-long vector of ``counts`` (uniform if empty); returns the
    probabilities and the updated "has ever had counts" flags."""
    c = counts.reshape(-1, width)
    sums = c.sum(axis=1)
    probs = c / np.where(sums > 0, sums, 1.0)[:, None]   # (one table-sized temporary: the result)
    probs[~(sums > 0)] = 1.0 / width
    return probs.reshape(-1), (seen.astype(bool) | (sums > 0)).astype(np.int8)


# --------------------------------------------------------------------------- incremental deltas
# A move or swap changes at most two cepts c1, c2; the terms that can change are those of c1, c2 and
# of the cepts following them before and after the change (their head depends on the previous
# cept's center and class). ``st`` rows hold, per source position, the state of the current
# alignment: 0 fertility, 1 sum of target positions, 2 head (first position), 3 previous cept,
# 4 next cept (l + 1 if none), 5 center; ``nxtpos[j]`` is the next position of j's cept (0 = end),
# ``terms[0, i]`` the log distortion of cept i, ``terms[1, i]`` that of its head alone (a cept that
# keeps its words but gets another previous cept or center changes only its head term).
# ``m4`` = (d1, d1_seen, db, db_seen, n_B, half, s, floor).

@njit(cache=True, nogil=True, inline="always", _nrt=False)
def _head_log(m4, cls_e, cls_f, delta, m):
    key = cls_e * m4[4] + cls_f
    if not m4[1][key]:
        return np.log(m4[7])
    v = m4[0][key * (2 * m4[5] + 1) + clamped_bucket(delta, m4[5])]
    return np.log(max(m4[7], m4[6] / (2 * m - 1) + (1.0 - m4[6]) * v))


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def _later_log(m4, cls_f, delta, m):
    if not m4[3][cls_f]:
        return np.log(m4[7])
    v = m4[2][cls_f * (2 * m4[5] + 1) + clamped_bucket(delta, m4[5])]
    return np.log(max(m4[7], m4[6] / (m - 1) + (1.0 - m4[6]) * v))


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def _cept_first(first, nxtpos, skip):
    """Start of the walk over a cept's positions from ``first`` (via ``nxtpos``) without ``skip``."""
    return nxtpos[first] if skip != 0 and first == skip else first


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def _cept_next(p, pend, nxtpos, skip):
    """One step of the walk: (the next position in increasing order, the rest of the list, the
    position still to add (0 = none)); the walk ends when both are 0."""
    if pend != 0 and (p == 0 or pend < p):
        return pend, p, 0
    q = nxtpos[p]
    if skip != 0 and q == skip:
        q = nxtpos[q]
    return p, q, pend


@njit(cache=True, nogil=True, _nrt=False)
def _cept_log(first, nxtpos, skip, add, center_prev, cls_prev, fcls, m4, m):
    """Log distortion of the cept whose positions are the list from ``first`` (via ``nxtpos``)
    without ``skip`` and with ``add`` (0 = none), after a cept with this center and class."""
    total = 0.0
    last = 0
    p, pend = _cept_first(first, nxtpos, skip), add
    while p != 0 or pend != 0:
        j, p, pend = _cept_next(p, pend, nxtpos, skip)
        if last == 0:
            total += _head_log(m4, cls_prev, fcls[j - 1], j - center_prev, m)
        else:
            total += _later_log(m4, fcls[j - 1], j - last, m)
        last = j
    return total


@njit(cache=True, nogil=True, _nrt=False)
def build_state(a, l, ecls, fcls, m4, st, nxtpos, terms):
    """Fill the cept state of alignment ``a`` and its log terms; returns its total log distortion."""
    m = len(a)
    cept_state(a, l, st, nxtpos)
    total = 0.0
    for i in range(1, l + 1):
        terms[0, i] = 0.0
        terms[1, i] = 0.0
        if st[0, i] > 0:
            ep = st[3, i]
            terms[0, i] = _cept_log(st[2, i], nxtpos, 0, 0, st[5, ep], ecls[ep], fcls, m4, m)
            terms[1, i] = _head_log(m4, ecls[ep], fcls[st[2, i] - 1], st[2, i] - st[5, ep], m)
            total += terms[0, i]
    return total


@njit(cache=True, nogil=True, _nrt=False)
def cept_state(a, l, st, nxtpos):
    """Fill the cept state ``st``/``nxtpos`` of alignment ``a`` (rows described above), no logs."""
    m = len(a)
    for r in range(6):
        for i in range(l + 2):
            st[r, i] = 0
    nxtpos[0] = 0
    for j in range(m, 0, -1):
        i = a[j - 1]
        if i > 0:
            nxtpos[j] = st[2, i]
            st[2, i] = j
            st[0, i] += 1
            st[1, i] += j
    p = 0
    for i in range(1, l + 2):
        st[3, i] = p
        if i <= l and st[0, i] > 0:
            p = i
            st[5, i] = (st[1, i] + st[0, i] - 1) // st[0, i]
    n = l + 1
    for i in range(l, -1, -1):
        st[4, i] = n
        if i > 0 and st[0, i] > 0:
            n = i


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def _changed(k, c, s, a):
    """(fertility change, position-sum change) of cept k from the change (c loses s, gains a)."""
    if k != c:
        return 0, 0
    return (1 if a != 0 else 0) - (1 if s != 0 else 0), a - s


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def _fert_new(k, st, c1, s1, a1, c2, s2, a2):
    return st[0, k] + _changed(k, c1, s1, a1)[0] + _changed(k, c2, s2, a2)[0]


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def _center_new(k, st, c1, s1, a1, c2, s2, a2):
    if k == 0:
        return 0
    f = _fert_new(k, st, c1, s1, a1, c2, s2, a2)
    s = st[1, k] + _changed(k, c1, s1, a1)[1] + _changed(k, c2, s2, a2)[1]
    return (s + f - 1) // f


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def _prev_new(k, st, c1, s1, a1, c2, s2, a2):
    p = st[3, k]
    while p > 0 and _fert_new(p, st, c1, s1, a1, c2, s2, a2) == 0:
        p = st[3, p]
    if 0 < c1 < k and c1 > p and _fert_new(c1, st, c1, s1, a1, c2, s2, a2) > 0:
        p = c1
    if 0 < c2 < k and c2 > p and _fert_new(c2, st, c1, s1, a1, c2, s2, a2) > 0:
        p = c2
    return p


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def _next_new(k, l, st, c1, s1, a1, c2, s2, a2):
    n = st[4, k]
    while n <= l and _fert_new(n, st, c1, s1, a1, c2, s2, a2) == 0:
        n = st[4, n]
    if k < c1 < n and _fert_new(c1, st, c1, s1, a1, c2, s2, a2) > 0:
        n = c1
    if k < c2 < n and _fert_new(c2, st, c1, s1, a1, c2, s2, a2) > 0:
        n = c2
    return n


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def _touched_cepts(c1, s1, a1, c2, s2, a2, l, st):
    """The cepts whose displacements the change (as :func:`change_delta`) can alter: c1, c2 and the
    cepts after each before and after the change (l + 1 = none; a cept may appear twice)."""
    none = l + 1
    cand = (none, none, none, none, none, none)
    if c1 > 0:
        cand = (c1, st[4, c1], _next_new(c1, l, st, c1, s1, a1, c2, s2, a2), none, none, none)
    if c2 > 0:
        cand = (cand[0], cand[1], cand[2], c2, st[4, c2], _next_new(c2, l, st, c1, s1, a1, c2, s2, a2))
    return cand


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def _first_touched(cand, q, l):
    """cand[q] is a cept (<= l) not listed before q."""
    k = cand[q]
    if k > l:
        return False
    for r in range(q):
        if cand[r] == k:
            return False
    return True


@njit(cache=True, nogil=True, _nrt=False)
def change_delta(c1, s1, a1, c2, s2, a2, l, m, ecls, fcls, m4, st, nxtpos, terms):
    """Change of the log distortion when cept c1 loses position s1 and gains a1, and cept c2 loses
    s2 and gains a2 (0 = none; c = 0 is NULL, which has no distortion): the general case, for any
    two cepts (:func:`move_change` and :func:`swap_change` are the fast paths)."""
    cand = _touched_cepts(c1, s1, a1, c2, s2, a2, l, st)
    delta = 0.0
    for q in range(6):
        k = cand[q]
        if not _first_touched(cand, q, l):
            continue
        if _fert_new(k, st, c1, s1, a1, c2, s2, a2) == 0:
            delta -= terms[0, k]
            continue
        ep = _prev_new(k, st, c1, s1, a1, c2, s2, a2)
        center = _center_new(ep, st, c1, s1, a1, c2, s2, a2)
        if k != c1 and k != c2:  # same words: only the head term can change
            if ep != st[3, k] or center != st[5, ep]:
                delta += _head_log(m4, ecls[ep], fcls[st[2, k] - 1], st[2, k] - center, m) - terms[1, k]
            continue
        delta -= terms[0, k] if st[0, k] > 0 else 0.0
        skip, add = (s1, a1) if k == c1 else (s2, a2)
        delta += _cept_log(st[2, k], nxtpos, skip, add, center, ecls[ep], fcls, m4, m)
    return delta




# --------------------------------------------------------------------------- incremental counts
# The E-step adds every neighbour's displacements to the counts with the neighbour's weight. A
# neighbour differs from the centre only in the cepts change_delta rescores, so its displacements
# are the centre's minus those of the touched cepts in the centre plus those in the neighbour:
# the centre's are added once with the summed weight, and each neighbour adds only its difference.
# The counts are fixed-point integers, so the sums are exactly those of counting every neighbour
# whole (tests/test_ibm4.py).

@njit(cache=True, nogil=True, _nrt=False)
def _cept_count(first, nxtpos, skip, add, center_prev, cls_prev, fcls, n_fcls, half, weight, head_counts,
                later_counts):
    """Add ``weight`` (fixed point, may be negative) to the counts of every displacement of the cept
    whose positions are the list from ``first`` without ``skip`` and with ``add`` (as :func:`_cept_log`)."""
    width = 2 * half + 1
    last = 0
    p, pend = _cept_first(first, nxtpos, skip), add
    while p != 0 or pend != 0:
        j, p, pend = _cept_next(p, pend, nxtpos, skip)
        if last == 0:
            head_counts[(cls_prev * n_fcls + fcls[j - 1]) * width + clamped_bucket(j - center_prev, half)] += weight
        else:
            later_counts[fcls[j - 1] * width + clamped_bucket(j - last, half)] += weight
        last = j


@njit(cache=True, nogil=True, _nrt=False)
def count_cepts(l, ecls, fcls, n_fcls, half, st, nxtpos, weight, head_counts, later_counts):
    """Add ``weight`` (fixed point) to the counts of every displacement of the alignment whose
    state :func:`cept_state` left in ``st``/``nxtpos`` (what :func:`distortion` counts)."""
    for i in range(1, l + 1):
        if st[0, i] > 0:
            ep = st[3, i]
            _cept_count(st[2, i], nxtpos, 0, 0, st[5, ep], ecls[ep], fcls, n_fcls, half, weight, head_counts,
                        later_counts)


@njit(cache=True, nogil=True, _nrt=False)
def change_count(c1, s1, a1, c2, s2, a2, l, ecls, fcls, n_fcls, half, st, nxtpos, weight, head_counts,
                 later_counts):
    """Add ``weight`` (fixed point) times (the neighbour's displacements - the centre's) to the
    counts, for the change of :func:`change_delta` (same arguments) from the state of
    :func:`cept_state`: the cepts it touches lose their displacements in the centre and gain
    those in the neighbour."""
    width = 2 * half + 1
    cand = _touched_cepts(c1, s1, a1, c2, s2, a2, l, st)
    for q in range(6):
        k = cand[q]
        if not _first_touched(cand, q, l):
            continue
        f_new = _fert_new(k, st, c1, s1, a1, c2, s2, a2)
        ep_old = st[3, k]
        if k != c1 and k != c2:  # same words: only the head can change
            ep = _prev_new(k, st, c1, s1, a1, c2, s2, a2)
            center = _center_new(ep, st, c1, s1, a1, c2, s2, a2)
            if ep != ep_old or center != st[5, ep_old]:
                cls_f = fcls[st[2, k] - 1]
                head_counts[(ecls[ep_old] * n_fcls + cls_f) * width
                            + clamped_bucket(st[2, k] - st[5, ep_old], half)] -= weight
                head_counts[(ecls[ep] * n_fcls + cls_f) * width + clamped_bucket(st[2, k] - center, half)] += weight
            continue
        if st[0, k] > 0:
            _cept_count(st[2, k], nxtpos, 0, 0, st[5, ep_old], ecls[ep_old], fcls, n_fcls, half, -weight,
                        head_counts, later_counts)
        if f_new > 0:
            ep = _prev_new(k, st, c1, s1, a1, c2, s2, a2)
            center = _center_new(ep, st, c1, s1, a1, c2, s2, a2)
            skip, add = (s1, a1) if k == c1 else (s2, a2)
            _cept_count(st[2, k], nxtpos, skip, add, center, ecls[ep], fcls, n_fcls, half, weight, head_counts,
                        later_counts)


# --------------------------------------------------------------------------- fast neighbour changes
# A move changes the distortion through two independent parts when the cepts it leaves (c1) and
# joins (c2) have another non-empty cept between them: the removal (c1's term, and the head term
# of the cept after c1) and the insertion (c2's term, and the head term of the cept after c2), each
# computed from the current state alone. Moves between neighbouring cepts fall back to
# :func:`change_delta`. A swap keeps every fertility, so no cept appears or vanishes and only the
# two cepts and the heads after them change. Both agree with :func:`change_delta` up to rounding
# (tests/test_ibm4.py) and skip its general bookkeeping (20-25% of Model-4 neighbourhood scoring).

@njit(cache=True, nogil=True, inline="always", _nrt=False)
def _removal_change(c, p, l, m, ecls, fcls, m4, st, nxtpos, terms):
    """Change when cept c (> 0) loses position p, assuming the cept that gains it is not next to c."""
    f, nxt, ep = st[0, c], st[4, c], st[3, c]
    if f == 1:
        d = -terms[0, c]
        if nxt <= l:
            d += _head_log(m4, ecls[ep], fcls[st[2, nxt] - 1], st[2, nxt] - st[5, ep], m) - terms[1, nxt]
        return d
    center = (st[1, c] - p + f - 2) // (f - 1)
    d = _cept_log(st[2, c], nxtpos, p, 0, st[5, ep], ecls[ep], fcls, m4, m) - terms[0, c]
    if nxt <= l and center != st[5, c]:
        d += _head_log(m4, ecls[c], fcls[st[2, nxt] - 1], st[2, nxt] - center, m) - terms[1, nxt]
    return d


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def _insertion_change(c, p, l, m, ecls, fcls, m4, st, nxtpos, terms):
    """Change when cept c (> 0, possibly empty) gains position p, assuming the cept that loses it
    is not next to c."""
    f, nxt, ep = st[0, c], st[4, c], st[3, c]
    if f == 0:
        d = _head_log(m4, ecls[ep], fcls[p - 1], p - st[5, ep], m)
        if nxt <= l:
            d += _head_log(m4, ecls[c], fcls[st[2, nxt] - 1], st[2, nxt] - p, m) - terms[1, nxt]
        return d
    center = (st[1, c] + p + f) // (f + 1)
    d = _cept_log(st[2, c], nxtpos, 0, p, st[5, ep], ecls[ep], fcls, m4, m) - terms[0, c]
    if nxt <= l and center != st[5, c]:
        d += _head_log(m4, ecls[c], fcls[st[2, nxt] - 1], st[2, nxt] - center, m) - terms[1, nxt]
    return d


@njit(cache=True, nogil=True, _nrt=False)
def move_change(c1, p, c2, l, m, ecls, fcls, m4, st, nxtpos, terms):
    """Change of the log distortion when target position p (1-based) moves from cept c1 to cept
    c2 (0 = NULL), from the state of :func:`build_state`."""
    if c1 > 0 and c2 > 0:
        lo, hi = min(c1, c2), max(c1, c2)
        if st[4, lo] >= hi:  # no cept in between: the two changes interact
            return change_delta(c1, p, 0, c2, 0, p, l, m, ecls, fcls, m4, st, nxtpos, terms)
    d = 0.0
    if c1 > 0:
        d += _removal_change(c1, p, l, m, ecls, fcls, m4, st, nxtpos, terms)
    if c2 > 0:
        d += _insertion_change(c2, p, l, m, ecls, fcls, m4, st, nxtpos, terms)
    return d


@njit(cache=True, nogil=True, _nrt=False)
def swap_change(c1, p1, c2, p2, l, m, ecls, fcls, m4, st, nxtpos, terms):
    """Change of the log distortion when positions p1 (in cept c1) and p2 (in cept c2 != c1)
    exchange their cepts, from the state of :func:`build_state`."""
    f1, f2 = st[0, c1], st[0, c2]
    center1 = st[5, c1] if c1 == 0 else (st[1, c1] - p1 + p2 + f1 - 1) // f1
    center2 = st[5, c2] if c2 == 0 else (st[1, c2] - p2 + p1 + f2 - 1) // f2
    d = 0.0
    for side in range(2):
        c, lose, gain, center = (c1, p1, p2, center1) if side == 0 else (c2, p2, p1, center2)
        if c == 0:
            continue
        ep = st[3, c]
        center_prev = center1 if ep == c1 else (center2 if ep == c2 else st[5, ep])
        d += _cept_log(st[2, c], nxtpos, lose, gain, center_prev, ecls[ep], fcls, m4, m) - terms[0, c]
        nxt = st[4, c]
        if nxt <= l and nxt != c1 and nxt != c2 and center != st[5, c]:
            d += _head_log(m4, ecls[c], fcls[st[2, nxt] - 1], st[2, nxt] - center, m) - terms[1, nxt]
    return d
