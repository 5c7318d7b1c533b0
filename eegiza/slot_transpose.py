"""The reverse direction's sentence slots from the forward direction's, without searching the table.

Aligning a corpus in both directions needs, per direction, the t-table slot of every (source,
target) word pair of every sentence pair (:func:`eegiza.ttable.sentence_slots`: a binary search in
the table row for each). The two directions' t-tables are built from the same co-occurrences, so
the reverse table holds (f, e) exactly when the forward table holds (e, f), and the reverse slots
of a sentence pair are the transpose of its forward slots mapped entry by entry. Both users of
that fact share this module: the joint (agreement) E-step of training, which stores only the
forward slots (:func:`reverse_slot_map`, :func:`reverse_block`), and the alignment of a corpus in
both directions (:class:`SlotTranspose`).

:class:`SlotTranspose` builds that map once for a pair of tables (one pass over the forward table:
the reverse table's row f lists its e in increasing order, so walking the forward rows in increasing
e fills every reverse row in order) and checks on the way that the supports are transposes of each
other; if they are not (tables not from one corpus), :meth:`SlotTranspose.reverse_slots` returns
None and the caller searches. The map costs 4 bytes per table entry and is built in about the time
of a tenth of one direction's slot search over 10,000 pairs; deriving a corpus' reverse slots from
its forward ones is several times faster than searching them. The derived slots are identical to
searched ones (tested), for words of the tables and new words (-1: not in the table) alike.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from numba import njit, prange

from .atomic import PREFETCH_AHEAD, prefetch_start, prefetch_through

#: A corpus' reverse slots are derived from its forward ones (training's reverse Models 3/4 and
#: the final alignment pass) when it has at most this many (source + 1) x target word pairs: both
#: directions' slots (4 bytes each) and the map are held at once while deriving, 256 MB per
#: direction at this size (de-en's 101k pairs have 45M, en-fr's first 100k 61M); a larger corpus
#: has each direction search its own, so memory stays one direction's slots (memory.py).
REUSE_MAX_SLOTS = 1 << 26


def corpus_slot_count(corpus) -> int:
    """The corpus' number of (source + 1) x target word pairs: its forward slots."""
    return int(np.dot(corpus.src.lengths.astype(np.int64) + 1, corpus.tgt.lengths))


@njit(cache=True, nogil=True)
def _transpose_map(fwd_indptr, fwd_indices, rev_indptr, rev_indices, out, null_out):
    """Fill ``out[s]`` (the reverse slot of forward slot s, s in rows e >= 1) and ``null_out[e]``
    (the reverse slot of (NULL, e), -1 if absent); False if the supports are not transposes."""
    n_rev = len(rev_indptr) - 1
    cursor = rev_indptr[:-1].copy()
    for e in range(1, len(fwd_indptr) - 1):
        for s in range(fwd_indptr[e], fwd_indptr[e + 1]):
            f = fwd_indices[s]
            if f <= 0 or f >= n_rev:
                return False
            t = cursor[f]
            if t >= rev_indptr[f + 1] or rev_indices[t] != e:
                return False
            out[s] = t
            cursor[f] += 1
    for f in range(1, n_rev):
        if cursor[f] != rev_indptr[f + 1]:
            return False
    null_out[:] = -1
    if n_rev > 0:
        for t in range(rev_indptr[0], rev_indptr[1]):
            e = rev_indices[t]
            if 0 <= e < len(null_out):
                null_out[e] = t
    return True


@njit(cache=True, nogil=True)
def reverse_block(fwd_block, src, m, rev_map, rev_null, out):
    """One pair's reverse slots (laid out as :func:`eegiza.ttable.sentence_slots` lays out the
    reversed corpus: ``out[i * (m + 1) + j]``, j = 0 NULL) from its forward ones
    (``fwd_block[j * (l + 1) + i]``, i = 0 NULL); returns that part of ``out``. A source word the
    map does not know (a new word) has no NULL slot (-1)."""
    l = len(src)
    for i in range(l):
        out[i * (m + 1)] = rev_null[src[i]] if src[i] < len(rev_null) else -1
    prefetch_start(rev_map, fwd_block)
    for j in range(m):   # the forward block in memory order, so the map's misses can be prefetched
        for i in range(l):
            x = j * (l + 1) + 1 + i
            prefetch_through(rev_map, fwd_block, x + PREFETCH_AHEAD)
            s = fwd_block[x]
            out[i * (m + 1) + 1 + j] = rev_map[s] if s >= 0 else -1
    return out[:l * (m + 1)]


@njit(cache=True, nogil=True, parallel=True)
def _reverse_slots(src_ids, src_off, tgt_off, fwd_slots, fwd_off, rev_map, rev_null, rev_off, out):
    """The reversed corpus' slots (pair k at ``out[rev_off[k]:]``) from the forward ones."""
    for k in prange(len(src_off) - 1):
        reverse_block(fwd_slots[fwd_off[k]:fwd_off[k + 1]], src_ids[src_off[k]:src_off[k + 1]],
                      tgt_off[k + 1] - tgt_off[k], rev_map, rev_null, out[rev_off[k]:rev_off[k + 1]])


@njit(cache=True, nogil=True)
def _reverse_slots_serial(src_ids, src_off, tgt_off, fwd_slots, fwd_off, rev_map, rev_null, rev_off, out):
    """:func:`_reverse_slots` in one thread (a few pairs: waking the worker threads costs more)."""
    for k in range(len(src_off) - 1):
        reverse_block(fwd_slots[fwd_off[k]:fwd_off[k + 1]], src_ids[src_off[k]:src_off[k + 1]],
                      tgt_off[k + 1] - tgt_off[k], rev_map, rev_null, out[rev_off[k]:rev_off[k + 1]])


class SlotTranspose:
    """The forward-to-reverse slot map of two t-tables (forward P(f|e), reverse P(e|f))."""

    def __init__(self, fwd_table, rev_table):
        dtype = np.int32 if max(fwd_table.nnz, rev_table.nnz) < 2 ** 31 else np.int64
        self.map = np.full(fwd_table.nnz, -1, dtype)
        self.null = np.empty(fwd_table.n_src, dtype)
        self.ok = bool(_transpose_map(fwd_table.indptr, fwd_table.indices, rev_table.indptr, rev_table.indices,
                                      self.map, self.null))

    def reverse_slots(self, corpus, fwd_slots, serial: bool = False) -> Optional[tuple]:
        """(slots, slot offsets) of ``corpus.reversed()`` in the reverse table, as
        :func:`eegiza.ttable.sentence_slots` gives them, from ``fwd_slots`` = (slots, slot offsets)
        of ``corpus`` in the forward table; None if the tables' supports differ. ``serial``: in this
        thread only (a few pairs, :mod:`eegiza.small_batch`); the same slots."""
        if not self.ok:
            return None
        slots, slot_off = fwd_slots
        src_len, tgt_len = corpus.src.lengths, corpus.tgt.lengths
        rev_off = np.zeros(len(src_len) + 1, np.int64)
        np.cumsum((tgt_len + 1) * src_len, out=rev_off[1:])
        out = np.empty(rev_off[-1], np.result_type(slots.dtype, self.map.dtype))
        fill = _reverse_slots_serial if serial else _reverse_slots
        fill(corpus.src.ids, corpus.src.offsets, corpus.tgt.offsets, slots, slot_off, self.map, self.null, rev_off, out)
        return out, rev_off


def reverse_slot_map(fwd_table, rev_table):
    """(map, null slots) of the two t-tables of one corpus, for the joint E-step
    (:func:`eegiza.models.agreement.estep`) and :func:`reverse_block`: ``map[s]`` = the reverse
    table's slot of the pair (f, e) whose forward slot is s (-1 for the forward NULL row), ``null
    slots[e]`` = the reverse table's slot of (NULL, e)."""
    transpose = SlotTranspose(fwd_table, rev_table)
    if not transpose.ok:
        raise ValueError("the forward and reverse t-tables do not hold the same word pairs (not built from one corpus)")
    return transpose.map, transpose.null
