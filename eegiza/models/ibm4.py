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
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..ttable import COUNT_SCALE


@njit(cache=True, nogil=True, inline="always")
def _bucket(delta, half):
    if delta > half:
        delta = half
    elif delta < -half:
        delta = -half
    return delta + half


@njit(cache=True, nogil=True)
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
    add = np.int64(weight * COUNT_SCALE + 0.5)
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
            s = key * width + _bucket(j - center, half)
            if counting:
                c1[s] += add
            elif d1_seen[key]:
                total += np.log(max(floor, smooth / (2 * m - 1) + (1.0 - smooth) * d1[s]))
            else:
                total += np.log(floor)
        else:
            s = cls_f * width + _bucket(j - last[i], half)
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
    probs = np.where(sums[:, None] > 0, c / np.where(sums > 0, sums, 1.0)[:, None], 1.0 / width)
    return probs.reshape(-1), (seen.astype(bool) | (sums > 0)).astype(np.int8)
