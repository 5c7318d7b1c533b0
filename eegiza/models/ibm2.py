"""IBM Model 2 (Brown et al. 1993, §4.2) and the position tables it shares with Model 3.

Model, for a source sentence e_1..e_l with the NULL word e_0 and a target sentence f_1..f_m::

    P(f, a | e) = prod_j  t(f_j | e_{a_j}) * a(a_j | j, l, m)

E-step: the posterior of aligning f_j to e_i is  t(f_j|e_i) a(i|j,l,m) / sum_{i'} t(f_j|e_{i'}) a(i'|j,l,m),
added to the counts c(e_i, f_j) and c(i | j, l, m). M-step: t by row normalisation;
a(i | j, l, m) = s / (l + 1) + (1 - s) * c(i|j,l,m) / sum_{i'} c(i'|j,l,m), s = GIZA's
``model23smoothfactor`` (default 0). Log-likelihood: sum_j log sum_i t(f_j|e_i) a(i|j,l,m).
Viterbi: a_j = argmax_i t(f_j|e_i) a(i|j,l,m) (first maximum: NULL wins ties).
Model 2 starts from the uniform a = 1/(l+1) (GIZA++ ``model2.cpp``).

Position tables (:class:`ATable`): one dense block per key that occurs in the corpus, no length cap.
A block holds the values v(i, j) for i = 0..L, j = 1..M at ``offset + (j-1)*(L+1) + i``. The key is
(l, m), or with GIZA's default ``compactadtable 1`` the a-table ignores m (a(i | j, l)) and the
Model-3 distortion table ignores l (d(j | i, m)); L and M are then the largest l and m of the
sentences sharing the key. A lookup outside the table (an unseen key, or a position beyond the
block) falls back to the uniform value. Counts are fixed-point per chunk of sentences (see
:mod:`eegiza.ttable`), so results do not depend on the number of threads.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from ..atomic import claim_block
from ..ttable import COUNT_SCALE, find_slot, reduce_counts, sorted_position

KEY_SHIFT = 32


@njit(cache=True, nogil=True, _nrt=False)
def table_key(l, m, ignore_l, ignore_m):
    """The key of a sentence with lengths (l, m) in a position table."""
    kl = np.int64(0) if ignore_l else np.int64(l)
    km = np.int64(0) if ignore_m else np.int64(m)
    return (kl << KEY_SHIFT) | km


@njit(cache=True, nogil=True, _nrt=False)
def find_block(keys, key):
    """Index of ``key`` in the sorted ``keys``, or -1."""
    return sorted_position(keys, 0, len(keys), key)


@njit(cache=True, nogil=True, _nrt=False)
def block_slot(offsets, dim_l, dim_m, b, i, j):
    """Slot of v(i, j) (i >= 0, j >= 1) in block ``b``, or -1 if outside the table."""
    if b < 0 or i > dim_l[b] or j > dim_m[b]:
        return np.int64(-1)
    return offsets[b] + np.int64(j - 1) * (dim_l[b] + 1) + i


@dataclass
class ATable:
    """A position table v(i, j | key); see the module docstring for the layout."""

    keys: np.ndarray     # int64, sorted
    dim_l: np.ndarray    # int64 per block: rows i = 0..dim_l
    dim_m: np.ndarray    # int64 per block: columns j = 1..dim_m
    offsets: np.ndarray  # int64, n_blocks + 1
    probs: np.ndarray    # float64
    ignore_l: bool
    ignore_m: bool

    @classmethod
    def layout(cls, src_off, tgt_off, ignore_l: bool, ignore_m: bool) -> "ATable":
        """The blocks needed by a corpus (sentence offsets), with zero values."""
        ls = np.diff(np.asarray(src_off)).astype(np.int64)
        ms = np.diff(np.asarray(tgt_off)).astype(np.int64)
        keys = ((np.zeros_like(ls) if ignore_l else ls) << KEY_SHIFT) | (np.zeros_like(ms) if ignore_m else ms)
        uniq, inverse = np.unique(keys, return_inverse=True)
        dim_l = np.zeros(len(uniq), np.int64)
        dim_m = np.zeros(len(uniq), np.int64)
        np.maximum.at(dim_l, inverse, ls)
        np.maximum.at(dim_m, inverse, ms)
        offsets = np.zeros(len(uniq) + 1, np.int64)
        np.cumsum((dim_l + 1) * dim_m, out=offsets[1:])
        return cls(uniq.astype(np.int64), dim_l, dim_m, offsets, np.zeros(offsets[-1]), ignore_l, ignore_m)

    def arrays(self):
        """The arrays the kernels take: keys, dim_l, dim_m, offsets, probs, ignore_l, ignore_m."""
        return self.keys, self.dim_l, self.dim_m, self.offsets, self.probs, self.ignore_l, self.ignore_m

    def value(self, i: int, j: int, l: int, m: int, distortion: bool = False) -> float:
        """v(i, j | l, m); outside the table the uniform value, 1/(l+1) for an a-table, 1/m for a
        ``distortion`` table d(j | i, l, m)."""
        b = find_block(self.keys, table_key(l, m, self.ignore_l, self.ignore_m))
        s = block_slot(self.offsets, self.dim_l, self.dim_m, b, i, j)
        if s < 0:
            return 1.0 / m if distortion else 1.0 / (l + 1)
        return float(self.probs[s])

    def to_arrays(self, prefix: str) -> dict:
        return {prefix + "keys": self.keys, prefix + "dim_l": self.dim_l, prefix + "dim_m": self.dim_m,
                prefix + "offsets": self.offsets, prefix + "probs": self.probs,
                prefix + "flags": np.array([self.ignore_l, self.ignore_m], np.int8)}

    @classmethod
    def from_arrays(cls, arrays: dict, prefix: str) -> "ATable":
        flags = arrays[prefix + "flags"]
        return cls(arrays[prefix + "keys"], arrays[prefix + "dim_l"], arrays[prefix + "dim_m"],
                   arrays[prefix + "offsets"], arrays[prefix + "probs"], bool(flags[0]), bool(flags[1]))


def init_atable(src_off, tgt_off, compact: bool = True) -> ATable:
    """Uniform a(i | j, l, m) = 1/(l+1) over the (l, m) of the corpus; ``compact`` (GIZA's
    ``compactadtable``, default 1) keys the table by l only, a(i | j, l)."""
    table = ATable.layout(src_off, tgt_off, ignore_l=False, ignore_m=compact)
    table.probs = np.repeat(1.0 / (table.dim_l + 1), (table.dim_l + 1) * table.dim_m)
    return table


@njit(cache=True, nogil=True)
def _sentence_counts(e_sent, f_sent, indptr, indices, probs, floor, keys, dim_l, dim_m, offsets, a_probs,
                     ignore_m, t_counts, a_counts, t_slots, a_slots, ps):
    l, m = len(e_sent), len(f_sent)
    b = find_block(keys, table_key(l, m, False, ignore_m))
    loglik = 0.0
    for j in range(m):
        f = f_sent[j]
        total = 0.0
        for i in range(l + 1):
            e = 0 if i == 0 else e_sent[i - 1]
            s = find_slot(indptr, indices, e, f)
            t_slots[i] = s
            t = max(probs[s], floor) if s >= 0 else floor
            sa = block_slot(offsets, dim_l, dim_m, b, i, j + 1)
            a_slots[i] = sa
            a = max(a_probs[sa], floor) if sa >= 0 else 1.0 / (l + 1)
            ps[i] = t * a
            total += ps[i]
        for i in range(l + 1):
            c = np.int64(ps[i] / total * COUNT_SCALE + 0.5)
            if t_slots[i] >= 0:
                t_counts[t_slots[i]] += c
            if a_slots[i] >= 0:
                a_counts[a_slots[i]] += c
        loglik += np.log(total)
    return loglik


@njit(cache=True, nogil=True, parallel=True)
def _estep(src_ids, src_off, tgt_ids, tgt_off, indptr, indices, probs, floor, keys, dim_l, dim_m, offsets,
           a_probs, ignore_m, n_chunks):
    n_sent = len(src_off) - 1
    n_chunks = max(1, min(n_chunks, n_sent))
    t_counts = np.zeros((n_chunks, len(indices)), np.int64)
    a_counts = np.zeros((n_chunks, len(a_probs)), np.int64)
    loglik = np.zeros(n_sent)
    max_l = 0
    for k in range(n_sent):
        max_l = max(max_l, src_off[k + 1] - src_off[k])
    counter = np.zeros(1, np.int64)   # the next sentence block (atomic.claim_block)
    for c in prange(n_chunks):
        t_slots = np.empty(max_l + 1, np.int64)
        a_slots = np.empty(max_l + 1, np.int64)
        ps = np.empty(max_l + 1)
        lo, hi = claim_block(counter, n_sent)
        while lo < n_sent:
            for k in range(lo, hi):
                loglik[k] = _sentence_counts(src_ids[src_off[k]:src_off[k + 1]], tgt_ids[tgt_off[k]:tgt_off[k + 1]],
                                             indptr, indices, probs, floor, keys, dim_l, dim_m, offsets, a_probs,
                                             ignore_m, t_counts[c], a_counts[c], t_slots, a_slots, ps)
            lo, hi = claim_block(counter, n_sent)
    return t_counts, a_counts, loglik


def estep(src_ids, src_off, tgt_ids, tgt_off, indptr, indices, probs, floor, keys, dim_l, dim_m, offsets,
          a_probs, ignore_l, ignore_m, n_chunks):
    """Expected counts: t counts fixed point per chunk (n_chunks, nnz), a counts as float64 in the
    a-table's layout, and per-sentence log-likelihoods. The a-table arguments are
    ``ATable.arrays()`` (``ignore_l`` must be False for an a-table)."""
    t_counts, a_chunks, loglik = estep_fixed(src_ids, src_off, tgt_ids, tgt_off, indptr, indices, probs, floor,
                                             keys, dim_l, dim_m, offsets, a_probs, ignore_l, ignore_m, n_chunks)
    return t_counts, reduce_counts(a_chunks), loglik


def estep_fixed(src_ids, src_off, tgt_ids, tgt_off, indptr, indices, probs, floor, keys, dim_l, dim_m, offsets,
                a_probs, ignore_l, ignore_m, n_chunks):
    """:func:`estep` with the a counts still fixed point, one row per chunk (the Dask engine sums
    them over shards before :func:`eegiza.ttable.reduce_counts`, exactly)."""
    if ignore_l:
        raise ValueError("an a-table is keyed by the source length l (ignore_l must be False)")
    return _estep(src_ids, src_off, tgt_ids, tgt_off, indptr, indices, probs, floor, keys, dim_l, dim_m, offsets,
                  a_probs, ignore_m, n_chunks)


@njit(cache=True, nogil=True)
def _normalise_a(dim_l, dim_m, offsets, counts, smooth):
    out = np.empty_like(counts)
    for b in range(len(dim_l)):
        n_i = dim_l[b] + 1
        for j in range(dim_m[b]):
            lo = offsets[b] + j * n_i
            total = 0.0
            for i in range(n_i):
                total += counts[lo + i]
            for i in range(n_i):
                p = counts[lo + i] / total if total > 0 else 1.0 / n_i
                out[lo + i] = smooth / n_i + (1.0 - smooth) * p
    return out


def mstep(table: ATable, a_counts: np.ndarray, smooth: float = 0.0) -> None:
    """a(i | j, l, m) from counts, normalised over i, interpolated with the uniform 1/(l+1) by
    ``smooth`` (GIZA's ``model23smoothfactor``); updates ``table.probs``."""
    table.probs = _normalise_a(table.dim_l, table.dim_m, table.offsets, a_counts, smooth)


def align_corpus(corpus, ttable, atable: ATable, floor: float):
    """:func:`viterbi` of a corpus under a t-table and an a-table: (links, scores)."""
    return viterbi(corpus.src.ids, corpus.src.offsets, corpus.tgt.ids, corpus.tgt.offsets, ttable.indptr,
                   ttable.indices, ttable.probs, floor, *atable.arrays())


@njit(cache=True, nogil=True, parallel=True)
def viterbi(src_ids, src_off, tgt_ids, tgt_off, indptr, indices, probs, floor, keys, dim_l, dim_m, offsets,
            a_probs, ignore_l, ignore_m):
    """Best source position (0 = NULL, else 1-based) of every target token, flat like ``tgt_ids``,
    and the log-probability of each sentence's Viterbi alignment."""
    n_sent = len(src_off) - 1
    links = np.zeros(len(tgt_ids), np.int32)
    scores = np.zeros(n_sent)
    for k in prange(n_sent):
        e_sent = src_ids[src_off[k]:src_off[k + 1]]
        l = len(e_sent)
        m = tgt_off[k + 1] - tgt_off[k]
        b = find_block(keys, table_key(l, m, False, ignore_m))
        score = 0.0
        for j in range(m):
            f = tgt_ids[tgt_off[k] + j]
            best, best_i = -1.0, 0
            for i in range(l + 1):
                e = 0 if i == 0 else e_sent[i - 1]
                s = find_slot(indptr, indices, e, f)
                t = max(probs[s], floor) if s >= 0 else floor
                sa = block_slot(offsets, dim_l, dim_m, b, i, j + 1)
                a = max(a_probs[sa], floor) if sa >= 0 else 1.0 / (l + 1)
                if t * a > best:
                    best, best_i = t * a, i
            links[tgt_off[k] + j] = best_i
            score += np.log(best)
        scores[k] = score
    return links, scores
