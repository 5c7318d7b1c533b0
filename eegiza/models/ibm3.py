"""IBM Model 3 (Brown et al. 1993, §4.4 and eq. 32), scored as GIZA++ does (``transpair_model3.cpp``).

For a source sentence e_1..e_l (NULL = e_0), a target sentence f_1..f_m and an alignment a with
fertilities phi_i = |{j : a_j = i}|::

    P(f, a | e) = C(m - phi_0, phi_0) p0^(m - 2 phi_0) p1^phi_0
                  * prod_{i=1..l} phi_i! n(phi_i | e_i)
                  * prod_{j=1..m} t(f_j | e_{a_j})  * prod_{j: a_j > 0} d(j | a_j, l, m)

(the "NULL part" C(.) p0 p1 is written as prod_{k=1..phi_0} (m - phi_0 - k + 1) / k, or with GIZA's
``deficientdistortionforemptyword`` D > 0 the denominator max(2, m) // D). Every t, n and d lookup is
floored at ``probsmooth``; fertilities >= ``maxfertility`` are not allowed (GIZA's MAX_FERTILITY), nor
2 phi_0 > m. Model 4 (:mod:`eegiza.models.ibm4`) reuses the NULL, fertility (without phi!) and t parts.

Everything here works in log space on per-sentence arrays: ``lt[i, j]`` = log t(f_j | e_i),
``ld[i, j]`` = log d(j | i, l, m), ``lfert[i, phi]`` = log n(phi | e_i) (+ log phi! for Model 3) and
``lnull[phi_0]``; positions j are 0-based in the arrays (target position j + 1).
A move (a_j := i) and a swap (a_j1 <-> a_j2) change the score by the closed-form log ratios
:func:`move_delta` and :func:`swap_delta` (GIZA's ``scoreOfMove``/``scoreOfSwap``).

M-step helpers: the distortion table d(j | i, l, m) is normalised over j (with ``model23smoothfactor``
interpolation with 1/M); the fertility table n(phi | e) is smoothed towards the fertility distribution
of source words with the same length in bytes, weight ``nsmooth`` (GIZA's ``NTables.h``).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from .ibm2 import block_slot, find_block, table_key


@njit(cache=True, nogil=True)
def null_log_probs(m, log_p0, log_p1, deficient):
    """log of the NULL part for phi_0 = 0..m // 2."""
    out = np.empty(m // 2 + 1)
    for f0 in range(m // 2 + 1):
        v = (m - 2 * f0) * log_p0 + f0 * log_p1
        for k in range(1, f0 + 1):
            den = (max(2, m) // deficient) if deficient > 0 else k
            v += np.log((m - f0 - k + 1) / den)
        out[f0] = v
    return out


#: :func:`floored_logs` of a smaller table runs on this thread: waking the worker threads costs
#: more CPU than the logs (a few pairs aligned with a loaded model: 7 ms for 720 entries).
SERIAL_LOGS = 1 << 16


@njit(cache=True, nogil=True, parallel=True)
def _floored_logs(values, floor, out):
    for k in prange(len(values)):   # each entry on its own: the same bits for any thread count
        out[k] = np.log(max(np.float64(values[k]), floor))


@njit(cache=True, nogil=True)
def _floored_logs_serial(values, floor, out):
    for k in range(len(values)):    # the same expression as _floored_logs: the same bits
        out[k] = np.log(max(np.float64(values[k]), floor))


def floored_logs(values: np.ndarray, floor: float) -> np.ndarray:
    """log max(v, floor) of every entry, float64, in the shape of ``values`` (on the worker threads
    from :data:`SERIAL_LOGS` entries on)."""
    flat = np.ascontiguousarray(values).reshape(-1)
    out = np.empty(len(flat))
    (_floored_logs if len(flat) >= SERIAL_LOGS else _floored_logs_serial)(flat, float(floor), out)
    return out.reshape(np.shape(values))


def logs_if_used(values: np.ndarray, floor: float, n_uses: int) -> np.ndarray:
    """:func:`floored_logs` of a table when a pass over the corpus would take at least as many
    logs of its entries (``n_uses``) as it has: the t, fertility and distortion tables' logs are
    then taken once per pass instead of once per sentence and cell. Otherwise (a few pairs aligned
    with a large model) an empty array of the same rank: the kernels take the log of each entry
    they use, with the same bits."""
    if n_uses < values.size:
        return np.empty((0,) + np.shape(values)[1:])
    return floored_logs(values, floor)


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def entry_log(s, log_table, probs, floor, missing):
    """log max(probs[s], floor): from ``log_table`` (:func:`logs_if_used`) unless it is empty;
    ``missing`` where there is no entry (s < 0)."""
    if s < 0:
        return missing
    if len(log_table) > 0:
        return log_table[s]
    return np.log(max(probs[s], floor))


@njit(cache=True, nogil=True)
def fertility_log_probs(e_sent, n_probs, log_n, floor, with_factorial):
    """lfert[i, phi] for i = 1..l (row 0 unused) and phi < maxfertility: log n(phi | e_i) (from
    ``log_n``, :func:`logs_if_used` of ``n_probs``, unless it is empty), plus log phi! if
    ``with_factorial``."""
    l = len(e_sent)
    maxfert = n_probs.shape[1]
    lfact = np.zeros(maxfert)
    for phi in range(1, maxfert):
        lfact[phi] = lfact[phi - 1] + np.log(phi)
    out = np.zeros((l + 1, maxfert))
    for i in range(1, l + 1):
        e = e_sent[i - 1]
        for phi in range(maxfert):
            v = log_n[e, phi] if len(log_n) > 0 else np.log(max(n_probs[e, phi], floor))
            out[i, phi] = v + (lfact[phi] if with_factorial else 0.0)
    return out


@njit(cache=True, nogil=True)
def distortion_logs(l, m, keys, dim_l, dim_m, offsets, probs, log_probs, ignore_l, ignore_m, floor):
    """ld[i, j] = log d(j+1 | i, l, m) (from ``log_probs``, :func:`logs_if_used` of ``probs``,
    unless it is empty) and the table slot of each (-1 outside: uniform 1/m)."""
    ld = np.zeros((l + 1, m))
    slots = np.full((l + 1, m), -1, np.int64)
    uniform = np.log(max(1.0 / m, floor))
    b = find_block(keys, table_key(l, m, ignore_l, ignore_m))
    for i in range(1, l + 1):
        for j in range(m):
            s = block_slot(offsets, dim_l, dim_m, b, i, j + 1)
            slots[i, j] = s
            ld[i, j] = entry_log(s, log_probs, probs, floor, uniform)
    return ld, slots


@njit(cache=True, nogil=True, _nrt=False)
def move_allowed(i, fert, m, maxfert):
    """GIZA's constraints on a move to i: 2 (phi_0 + 1) <= m for NULL, phi_i + 1 < maxfertility."""
    if i == 0:
        return 2 * (fert[0] + 1) <= m
    return fert[i] + 1 < maxfert


@njit(cache=True, nogil=True, _nrt=False)
def move_delta(a, fert, i_new, j, lt, lfert, lnull, ld, use_d):
    """log P(a with a_j := i_new) - log P(a), without the Model-4 distortion."""
    i_old = a[j]
    delta = lt[i_new, j] - lt[i_old, j]
    if i_old == 0:
        delta += lnull[fert[0] - 1] - lnull[fert[0]]
    else:
        delta += lfert[i_old, fert[i_old] - 1] - lfert[i_old, fert[i_old]]
        if use_d:
            delta -= ld[i_old, j]
    if i_new == 0:
        delta += lnull[fert[0] + 1] - lnull[fert[0]]
    else:
        delta += lfert[i_new, fert[i_new] + 1] - lfert[i_new, fert[i_new]]
        if use_d:
            delta += ld[i_new, j]
    return delta


@njit(cache=True, nogil=True, _nrt=False)
def swap_delta(a, j1, j2, lt, ld, use_d):
    """log P(a with a_j1 and a_j2 exchanged) - log P(a), without the Model-4 distortion."""
    i1, i2 = a[j1], a[j2]
    delta = lt[i2, j1] + lt[i1, j2] - lt[i1, j1] - lt[i2, j2]
    if use_d:
        if i1 > 0:
            delta += ld[i1, j2] - ld[i1, j1]
        if i2 > 0:
            delta += ld[i2, j1] - ld[i2, j2]
    return delta


@njit(cache=True, nogil=True)
def log_prob(a, fert, lt, lfert, lnull, ld, use_d):
    """log P(f, a | e) without the Model-4 distortion (the whole Model-3 score when ``use_d``)."""
    total = lnull[fert[0]]
    for i in range(1, len(fert)):
        total += lfert[i, fert[i]]
    for j in range(len(a)):
        total += lt[a[j], j]
        if use_d and a[j] > 0:
            total += ld[a[j], j]
    return total


@njit(cache=True, nogil=True)
def normalise_distortion(dim_l, dim_m, offsets, counts, smooth):
    """d(j | i, key) = smooth / M + (1 - smooth) c(j | i) / sum_j' c(j' | i); an empty row is uniform."""
    out = np.empty_like(counts)
    for b in range(len(dim_l)):
        n_i = dim_l[b] + 1
        n_j = dim_m[b]
        for i in range(n_i):
            total = 0.0
            for j in range(n_j):
                total += counts[offsets[b] + j * n_i + i]
            for j in range(n_j):
                s = offsets[b] + j * n_i + i
                p = counts[s] / total if total > 0 else 1.0 / n_j
                out[s] = smooth / n_j + (1.0 - smooth) * p
    return out


def word_byte_lengths(words, start: int = 0, ids=None) -> np.ndarray:
    """Length in UTF-8 bytes of the vocabulary words from id ``start`` on, or of the words ``ids``
    (GIZA's ``word.length()``); NULL (id 0) gets 0."""
    ids = range(start, len(words)) if ids is None else ids
    return np.array([0 if i == 0 else len(words[i].encode("utf-8")) for i in ids], np.int64)


def normalise_fertility(counts: np.ndarray, lengths: np.ndarray, nsmooth: float, nsmoothgeneral: float,
                        floor: float):
    """n(phi | e) from counts (rows = source ids, row 0 unused), as GIZA's ``nmodel::normalize``:

        n(phi | e) = (c(e, phi) + nsmooth * p_len(phi | |e|)) / (sum c(e, .) + nsmooth [+ nsmoothgeneral])
                     + nsmoothgeneral * p_gen(phi)

    with every count floored at ``floor``, p_len the fertility distribution of the words with the same
    byte length and p_gen that of all words. Returns (n table, p_len table, p_gen)."""
    c = np.maximum(counts, floor)
    c[0] = 0.0
    max_len = int(lengths.max()) if len(lengths) else 0
    by_len = np.zeros((max_len + 1, c.shape[1]))
    np.add.at(by_len, lengths[1:], c[1:])
    general = by_len.sum(axis=0)
    general = general / general.sum() if general.sum() > 0 else np.full(c.shape[1], 1.0 / c.shape[1])
    sums = by_len.sum(axis=1, keepdims=True)
    p_len = np.where(sums > 0, by_len / np.where(sums > 0, sums, 1.0), general)
    if nsmooth == 0 and nsmoothgeneral == 0:
        n = c / np.maximum(c.sum(axis=1, keepdims=True), 1e-300)
    else:
        num = c + nsmooth * p_len[lengths]
        den = num.sum(axis=1, keepdims=True) + nsmoothgeneral
        n = num / den + nsmoothgeneral * general
    n[0] = 0.0
    return n, p_len, general
