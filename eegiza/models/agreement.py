"""Alignment by agreement: Model 1 and the HMM of both directions trained together (Liang, Taskar &
Klein 2006, "Alignment by Agreement", HLT-NAACL), in a soft, tempered form.

The forward model P(f | e) and the reverse model P(e | f) each give, for a sentence pair, link
posteriors: gamma_fwd[j, i] that f_j is aligned to e_i (i = 0: NULL) and gamma_rev[i, j] that e_i
is aligned to f_j (j = 0: NULL). Independent EM lets each direction make its own mistakes (rare
words "collecting" translations, one-to-many links the other direction rules out). Joint training
collects the translation counts of both models from the links they agree on::

    q[j, i] = (gamma_fwd[j, i] * gamma_rev[i, j]) ^ p                          (i, j >= 1)
    forward counts:  c(e_i, f_j) += q[j, i] * (1 - gamma_fwd[j, 0]) / sum_i' q[j, i']
    reverse counts:  c(f_j, e_i) += q[j, i] * (1 - gamma_rev[i, 0]) / sum_j' q[j', i]

i.e. the agreed link score, renormalised to the mass each model gives to real (non-NULL) links;
NULL counts and the HMM's jump and start counts stay each model's own. p = 1 is Liang et al.'s
product; p = 0.5 the geometric mean; smaller p flattens the agreed posterior (tempering), which
helps most with little data. Measured, full schedule, gdfa AER (ro-en / de-en / en-fr, 1,000
lines): independent 46.71 / 39.43 / 20.88; p = 1: 42.58 (ro-en); p = 0.5: 41.15 / 34.95 / 17.79;
p = 0.3: 38.67 / 34.12 / 17.27. The M-steps are the usual ones, per direction. A row whose
agreement mass underflows to zero keeps its own posteriors.

Cost: the E-steps of both directions, as in independent training; both directions' t-tables are
held at once, but only the forward direction's sentence slots: the reverse direction's slots of a
pair are the transpose of the forward ones mapped through
:func:`eegiza.slot_transpose.reverse_slot_map` (one int per
table entry instead of one per (source, target) word pair of the corpus). Counts are fixed point
(translation counts in one shared array per direction, split into 4- and 8-byte entries by
:mod:`eegiza.fixed_counts`, whose layout :func:`count_layouts` finds), so results do not depend on
the number of threads or on which thread takes which sentences.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..atomic import WORKERS, claim_block
from ..fixed_counts import CountLayout, add_cells
from ..slot_source import sentence_block
from ..slot_transpose import reverse_block, reverse_slot_map  # noqa: F401 (reverse_slot_map: for estep's callers)
from ..ttable import COUNT_SCALE, add_split_slot_counts
from . import hmm, ibm1


@njit(cache=True, nogil=True)
def _rescale_to_own_mass(gamma, q):
    """Row r of ``gamma`` (NULL in column 0) takes q[r] in its real columns, scaled to the real mass
    the row had; rows where q is all zero keep their own posteriors."""
    for r in range(gamma.shape[0]):
        own, joint = 0.0, 0.0
        for c in range(q.shape[1]):
            own += gamma[r, c + 1]
            joint += q[r, c]
        if joint > 0.0:
            for c in range(q.shape[1]):
                gamma[r, c + 1] = q[r, c] * own / joint


@njit(cache=True, nogil=True)
def agree(gamma_fwd, gamma_rev, power):
    """Replace the real-link posteriors of both directions (in place) by their agreement with
    exponent ``power``, as in the module docstring: ``gamma_fwd`` is (m, l + 1), ``gamma_rev`` is
    (l, m + 1)."""
    m = gamma_fwd.shape[0]
    l = gamma_rev.shape[0]
    q = np.empty((m, l))
    # x ** p as exp(p log x) for x > 0: glibc's pow was 12% of agreement training's samples, exp
    # and log cost about half; the counts are fixed point, so the last bits rarely reach them
    # (en-fr 20k: the same t-tables to the bit). x = 0 keeps pow's 0 ** p (1 for p = 0).
    zero_power = 0.0 ** power
    for j in range(m):
        for i in range(l):
            x = gamma_fwd[j, i + 1] * gamma_rev[i, j + 1]
            q[j, i] = np.exp(power * np.log(x)) if x > 0.0 else zero_power
    _rescale_to_own_mass(gamma_fwd, q)
    _rescale_to_own_mass(gamma_rev, q.T)


def count_layouts(corpus, fwd_source, rev_map, rev_null, fwd_nnz: int, rev_nnz: int) -> tuple:
    """The (forward, reverse) :class:`eegiza.fixed_counts.CountLayout` of the joint E-step's
    translation counts (arguments as :func:`estep`'s; the cells of a pair are those its posteriors
    reach there)."""
    fwd_cells = np.zeros(fwd_nnz, np.uint32)
    rev_cells = np.zeros(rev_nnz, np.uint32)
    _count_cells(corpus.src.ids, corpus.src.offsets, corpus.tgt.offsets, fwd_source, rev_map, rev_null,
                 fwd_cells, rev_cells)
    fwd_layout = CountLayout.from_cells(fwd_cells)
    del fwd_cells
    return fwd_layout, CountLayout.from_cells(rev_cells)


@njit(cache=True, nogil=True)
def _longest_reverse_block(src_off, tgt_off):
    """The size of the largest reverse block, (m + 1) l, of the pairs (each thread's buffer for
    :func:`reverse_block`)."""
    longest = 0
    for k in range(len(src_off) - 1):
        longest = max(longest, (tgt_off[k + 1] - tgt_off[k] + 1) * (src_off[k + 1] - src_off[k]))
    return longest


@njit(cache=True, nogil=True, parallel=True)
def _count_cells(src_ids, src_off, tgt_off, fwd_source, rev_map, rev_null, fwd_cells, rev_cells):
    n_sent = len(src_off) - 1
    longest = _longest_reverse_block(src_off, tgt_off)
    counter = np.zeros(1, np.int64)
    for _ in prange(WORKERS):
        rev_buffer = np.empty(longest, fwd_source[0].dtype)
        lo, hi = claim_block(counter, n_sent)
        while lo < n_sent:
            for k in range(lo, hi):
                src = src_ids[src_off[k]:src_off[k + 1]]
                fwd_block = sentence_block(fwd_source, k, src)
                add_cells(fwd_block, fwd_cells)
                add_cells(reverse_block(fwd_block, src, tgt_off[k + 1] - tgt_off[k], rev_map, rev_null, rev_buffer),
                          rev_cells)
            lo, hi = claim_block(counter, n_sent)


@njit(cache=True, nogil=True, parallel=True)
def estep(use_hmm, power, src_ids, src_off, tgt_ids, tgt_off, floor, p_null, smooth, n_chunks,
          fwd_source, fwd_probs, fwd_class, fwd_jump, fwd_start,
          rev_map, rev_null, rev_probs, rev_class, rev_jump, rev_start, fwd_t, rev_t):
    """Joint E-step of Model 1 (``use_hmm`` False; the jump arguments are ignored) or the HMM for
    both directions, agreement exponent ``power``. ``fwd_*``: P(tgt | src) with the slots of the
    corpus (:meth:`eegiza.slot_source.SlotSource.arrays`); ``rev_*``: P(src | tgt), its slots derived from the forward ones with ``rev_map`` and
    ``rev_null`` (:func:`reverse_slot_map`). ``fwd_t``, ``rev_t``: zero split counts of each
    table (:meth:`eegiza.fixed_counts.CountLayout.zeros` of :func:`count_layouts`), which the
    translation counts are added to (fixed point, shared by the chunks). Returns, per direction,
    those counts, jump and start counts (zero for Model 1) and per-sentence log-likelihoods:
    (fwd_counts, fwd_jumps, fwd_starts, fwd_loglik, rev_counts, rev_jumps, rev_starts, rev_loglik)."""
    n_sent = len(src_off) - 1
    n_chunks = max(1, min(n_chunks, n_sent))
    fwd_low, fwd_heavy = fwd_t
    rev_low, rev_heavy = rev_t
    fwd_j = np.zeros((n_chunks, fwd_jump.shape[0], fwd_jump.shape[1]), np.int64)
    rev_j = np.zeros((n_chunks, rev_jump.shape[0], rev_jump.shape[1]), np.int64)
    fwd_s = np.zeros((n_chunks, len(fwd_start)), np.int64)
    rev_s = np.zeros((n_chunks, len(rev_start)), np.int64)
    fwd_ll = np.zeros(n_sent)
    rev_ll = np.zeros(n_sent)
    longest = _longest_reverse_block(src_off, tgt_off)
    counter = np.zeros(1, np.int64)   # the next sentence block (atomic.claim_block)
    for c in prange(n_chunks):
        rev_buffer = np.empty(longest, fwd_source[0].dtype)
        lo, hi = claim_block(counter, n_sent)
        while lo < n_sent:
            for k in range(lo, hi):
                src = src_ids[src_off[k]:src_off[k + 1]]
                tgt = tgt_ids[tgt_off[k]:tgt_off[k + 1]]
                fwd_block = sentence_block(fwd_source, k, src)
                rev_block = reverse_block(fwd_block, src, len(tgt), rev_map, rev_null, rev_buffer)
                if use_hmm:
                    g_fwd, fwd_ll[k] = hmm.sentence_posteriors(src, len(tgt), fwd_block, fwd_probs, floor, fwd_class,
                                                               fwd_jump, fwd_start, p_null, smooth, fwd_j[c], fwd_s[c])
                    g_rev, rev_ll[k] = hmm.sentence_posteriors(tgt, len(src), rev_block, rev_probs, floor, rev_class,
                                                               rev_jump, rev_start, p_null, smooth, rev_j[c], rev_s[c])
                else:
                    g_fwd, fwd_ll[k] = ibm1.sentence_posteriors(len(src), len(tgt), fwd_block, fwd_probs, floor)
                    g_rev, rev_ll[k] = ibm1.sentence_posteriors(len(tgt), len(src), rev_block, rev_probs, floor)
                agree(g_fwd, g_rev, power)
                add_split_slot_counts(g_fwd, fwd_block, fwd_low, fwd_heavy)
                add_split_slot_counts(g_rev, rev_block, rev_low, rev_heavy)
            lo, hi = claim_block(counter, n_sent)
    fwd_jumps = np.zeros(fwd_jump.shape)
    rev_jumps = np.zeros(rev_jump.shape)
    fwd_starts = np.zeros(len(fwd_start))
    rev_starts = np.zeros(len(rev_start))
    for c in range(n_chunks):
        fwd_jumps += fwd_j[c] / COUNT_SCALE
        rev_jumps += rev_j[c] / COUNT_SCALE
        fwd_starts += fwd_s[c] / COUNT_SCALE
        rev_starts += rev_s[c] / COUNT_SCALE
    return fwd_t, fwd_jumps, fwd_starts, fwd_ll, rev_t, rev_jumps, rev_starts, rev_ll
