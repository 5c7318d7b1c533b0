"""Pegging for Models 3 and 4 (Brown et al. 1993, §5.2; GIZA++'s ``pegging 1``): the union of the
neighbourhoods of several centre alignments, each distinct alignment counted once.

With pegging, the E-step of :mod:`eegiza.models.fertility` sums over the union of N(c) for the
centres c = a* and a*_{i<-j}, the best alignments found with a_j pegged to i. Two neighbourhoods
N(c) = {c} + moves + swaps can only share alignments if c and c' differ in at most 4 positions
(each member differs from its centre in at most 2). The centres are taken in order; every member
of N(c) that is also in N(c') of an earlier centre c' is dropped from N(c) (:func:`drop_covered`),
so the union is the disjoint union of what is left. All members are allowed alignments (within
the fertility limits), so an alignment b is in N(c') exactly when b = c', or b differs from c' in
one position (a move), or in two positions whose values are exchanged (a swap).
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def differences(x, y, pos):
    """Number of positions where alignments x and y differ, the first of them in ``pos`` (length
    4); 5 stands for "more than 4"."""
    n = 0
    for j in range(len(x)):
        if x[j] != y[j]:
            if n == 4:
                return 5
            pos[n] = j
            n += 1
    return n


@njit(cache=True, nogil=True)
def _member(c, other, pos, n, p1, v1, p2, v2):
    """Whether b = c with b[p1] = v1 and b[p2] = v2 (p = -1: unchanged) is in {other} + N(other);
    ``pos[:n]`` are the positions where c and other differ."""
    n_diff, x, y = 0, -1, -1
    for k in range(n + 2):
        if k < n:
            q = pos[k]
        else:
            q = p1 if k == n else p2
            if q < 0 or (k == n + 1 and q == p1):
                continue
            seen = False
            for r in range(n):
                seen = seen or pos[r] == q
            if seen:
                continue
        bq = v1 if q == p1 else (v2 if q == p2 else c[q])
        if bq != other[q]:
            n_diff += 1
            if n_diff > 2:
                return False
            if n_diff == 1:
                x = q
            else:
                y = q
    if n_diff < 2:
        return True
    bx = v1 if x == p1 else (v2 if x == p2 else c[x])
    by = v1 if y == p1 else (v2 if y == p2 else c[y])
    return bx == other[y] and by == other[x]


@njit(cache=True, nogil=True)
def drop_covered(c, other, l, m, dmove, dswap):
    """Set to -inf the moves (``dmove[i, j]``) and swaps (``dswap[j1, j2]``, j1 < j2) of centre c
    that are in {other} + N(other); returns whether c itself is."""
    pos = np.empty(4, np.int64)
    n = differences(c, other, pos)
    if n > 4:
        return False
    for k in range(n):  # moves and swaps that touch a differing position
        p = pos[k]
        for i in range(l + 1):
            if dmove[i, p] > -np.inf and _member(c, other, pos, n, p, i, -1, 0):
                dmove[i, p] = -np.inf
        for q in range(m):
            j1, j2 = min(p, q), max(p, q)
            if q != p and dswap[j1, j2] > -np.inf and _member(c, other, pos, n, j1, c[j2], j2, c[j1]):
                dswap[j1, j2] = -np.inf
    if n == 1:  # a move elsewhere can only meet N(other) as a swap of other's differing position
        p = pos[0]
        i = other[p]
        for j in range(m):
            if j != p and dmove[i, j] > -np.inf and _member(c, other, pos, n, j, i, -1, 0):
                dmove[i, j] = -np.inf
    return n <= 2 and _member(c, other, pos, n, -1, 0, -1, 0)
