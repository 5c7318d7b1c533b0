"""The lexical translation table t(f|e), stored as CSR over the co-occurring word pairs.

Row ``e`` (source word id, 0 = NULL) holds the sorted target ids ``f`` that occur in at least one
sentence pair together with ``e``: ``indices[indptr[e]:indptr[e+1]]``, with the matching
probabilities in ``probs``. The NULL row holds every target word. Pairs that never co-occur cannot
be aligned, so they need no storage: memory is proportional to the co-occurrences of the corpus,
which is what GIZA++'s ``.cooc`` file lists.

Kernels find the slot of (e, f) with :func:`find_slot` (binary search in row ``e``). Every lookup
is floored at ``PROB_FLOOR`` (GIZA's ``probsmooth``, 1e-7).

Probabilities are stored in float32 by default (``TTable.dtype``; GIZA++'s ``PROB`` is a float too):
half the memory of the largest arrays of a run, while every computation on them (E-step sums,
logs, M-step normalisation) is done in float64 or fixed point. Assigning ``probs`` converts to the
table's dtype, so no M-step or prior can silently bring float64 storage back.

Counts collected by the E-step kernels are fixed-point integers (``COUNT_SCALE`` units per
unit of probability mass): integer addition is associative, so the counts are bit-identical
whatever the number of threads and however sentences are split among them. The threads add into
one shared count array (:func:`eegiza.atomic.atomic_add`), so counting costs 8 bytes per slot
whatever the number of threads, or about 5 in the split layout of :mod:`eegiza.fixed_counts`
(agreement training and Models 3/4); :func:`fixed_to_float` turns it into float counts in place and
the M-step (:meth:`TTable.set_from_counts`) writes the new probabilities over the old ones.
"""
from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from numba import njit, prange

from .atomic import PREFETCH_AHEAD, atomic_add, prefetch_start, prefetch_through
from .fixed_counts import COUNT_SCALE, add_split, to_float, to_int64

PROB_FLOOR = 1e-7
#: storage of t(f|e): "float32" or "float64" (``AlignerConfig.storage_precision``: its
#: ``table_precision``, "auto" resolved to float32, or float64 with an embedding prior)
PRECISIONS = {"float32": np.float32, "float64": np.float64}


@njit(cache=True, nogil=True, inline="always")
def sorted_position(values, lo, hi, value):
    """Position of ``value`` in the sorted ``values[lo:hi]`` (an index into ``values``), or -1."""
    while lo < hi:
        mid = (lo + hi) >> 1
        v = values[mid]
        if v < value:
            lo = mid + 1
        elif v > value:
            hi = mid
        else:
            return mid
    return -1


@njit(cache=True, nogil=True, inline="always")
def find_slot(indptr, indices, e, f):
    """Position of (e, f) in the CSR arrays, or -1 if the pair does not co-occur."""
    return sorted_position(indices, indptr[e], indptr[e + 1], f)


@njit(cache=True, nogil=True)
def _source_postings(src_ids, src_off, n_src_vocab):
    """For every source word, the sentences it occurs in (CSR, each sentence once)."""
    n_sent = len(src_off) - 1
    last = np.full(n_src_vocab, -1, np.int64)
    sizes = np.zeros(n_src_vocab + 1, np.int64)
    for k in range(n_sent):
        for p in range(src_off[k], src_off[k + 1]):
            e = src_ids[p]
            if last[e] != k:
                last[e] = k
                sizes[e + 1] += 1
    ptr = np.cumsum(sizes)
    fill = ptr[:-1].copy()
    sent = np.empty(ptr[-1], np.int64)
    last[:] = -1
    for k in range(n_sent):
        for p in range(src_off[k], src_off[k + 1]):
            e = src_ids[p]
            if last[e] != k:
                last[e] = k
                sent[fill[e]] = k
                fill[e] += 1
    return ptr, sent


@njit(cache=True, nogil=True)
def _row_targets(e, post_ptr, post_sent, tgt_ids, tgt_off, stamp, out, count_only):
    """Distinct target words co-occurring with ``e``; written to ``out`` unless ``count_only``."""
    n = 0
    for q in range(post_ptr[e], post_ptr[e + 1]):
        k = post_sent[q]
        for p in range(tgt_off[k], tgt_off[k + 1]):
            f = tgt_ids[p]
            if stamp[f] != e:
                stamp[f] = e
                if not count_only:
                    out[n] = f
                n += 1
    return n


@njit(cache=True, nogil=True, parallel=True)
def _row_lengths(post_ptr, post_sent, tgt_ids, tgt_off, n_src_vocab, n_tgt_vocab, n_chunks):
    """The CSR row sizes: row 0 (NULL) every f >= 1, row e the distinct f co-occurring with e."""
    row_len = np.zeros(n_src_vocab, np.int64)
    row_len[0] = n_tgt_vocab - 1
    dummy = np.empty(0, np.int32)
    for c in prange(n_chunks):
        stamp = np.full(n_tgt_vocab, -1, np.int64)
        for e in range(1 + c, n_src_vocab, n_chunks):
            row_len[e] = _row_targets(e, post_ptr, post_sent, tgt_ids, tgt_off, stamp, dummy, True)
    return row_len


def cooccurring_pairs(corpus) -> int:
    """The number of distinct (source word, target word) pairs that share a sentence pair: the
    size of either direction's t-table without its NULL row, counted without building it."""
    post_ptr, post_sent = _source_postings(corpus.src.ids, corpus.src.offsets, len(corpus.src_vocab))
    row_len = _row_lengths(post_ptr, post_sent, corpus.tgt.ids, corpus.tgt.offsets, len(corpus.src_vocab),
                           len(corpus.tgt_vocab), numba.get_num_threads())
    return int(row_len[1:].sum())


@njit(cache=True, nogil=True, parallel=True)
def cooccurrence_csr(src_ids, src_off, tgt_ids, tgt_off, n_src_vocab, n_tgt_vocab, n_chunks):
    """CSR (indptr, indices) of the co-occurring (e, f) pairs; row 0 (NULL) holds every f >= 1."""
    post_ptr, post_sent = _source_postings(src_ids, src_off, n_src_vocab)
    row_len = _row_lengths(post_ptr, post_sent, tgt_ids, tgt_off, n_src_vocab, n_tgt_vocab, n_chunks)
    indptr = np.zeros(n_src_vocab + 1, np.int64)
    indptr[1:] = np.cumsum(row_len)
    indices = np.empty(indptr[-1], np.int32)
    for f in range(1, n_tgt_vocab):
        indices[f - 1] = f
    for c in prange(n_chunks):
        stamp = np.full(n_tgt_vocab, -1, np.int64)
        for e in range(1 + c, n_src_vocab, n_chunks):
            row = indices[indptr[e]:indptr[e + 1]]
            _row_targets(e, post_ptr, post_sent, tgt_ids, tgt_off, stamp, row, False)
            row.sort()
    return indptr, indices


@njit(cache=True, nogil=True)
def first_occurrences(ids):
    """For each position, the first position holding the same id (itself if none before): a word
    repeated in a sentence (a long one repeats a third of its words) has the same slots."""
    first = np.arange(len(ids))
    for a in range(len(ids)):
        for b in range(a):
            if ids[b] == ids[a]:
                first[a] = b
                break
    return first


@njit(cache=True, nogil=True, parallel=True)
def _fill_sentence_slots(src_ids, src_off, tgt_ids, tgt_off, indptr, indices, slot_off, slots):
    for k in prange(len(src_off) - 1):
        l = src_off[k + 1] - src_off[k]
        base = slot_off[k]
        for j in range(tgt_off[k + 1] - tgt_off[k]):
            f = tgt_ids[tgt_off[k] + j]
            row = base + j * (l + 1)
            slots[row] = find_slot(indptr, indices, 0, f)
            for i in range(l):
                slots[row + 1 + i] = find_slot(indptr, indices, src_ids[src_off[k] + i], f)


def slot_offsets(src_len: np.ndarray, tgt_len: np.ndarray) -> np.ndarray:
    """Where each sentence pair's block of slots starts (and the total at the end), as
    :func:`sentence_slots` lays them out: (l + 1) m slots a pair."""
    slot_off = np.zeros(len(src_len) + 1, np.int64)
    np.cumsum((np.asarray(src_len, np.int64) + 1) * tgt_len, out=slot_off[1:])
    return slot_off


def slot_dtype(nnz: int):
    """The type of a slot of a table of ``nnz`` entries: int32 while they fit."""
    return np.int32 if nnz < 2 ** 31 else np.int64


def slot_layout(src_len: np.ndarray, tgt_len: np.ndarray, nnz: int):
    """(an empty slot array, the slot offsets) of sentence pairs of these lengths in a table of
    ``nnz`` entries, as :func:`sentence_slots` lays them out."""
    slot_off = slot_offsets(src_len, tgt_len)
    return np.empty(slot_off[-1], slot_dtype(nnz)), slot_off


def sentence_slots(corpus, ttable: "TTable"):
    """The t-table slot of every (i, j) of every sentence pair, looked up once for all iterations:
    sentence k's block starts at ``slot_off[k]`` and holds ``slots[j * (l + 1) + i]`` for
    i = 0 (NULL) .. l and j = 0 .. m-1; -1 where the pair is not in the table (new text).
    Costs 4 bytes per (source + 1) x target word pair of the corpus."""
    slots, slot_off = slot_layout(np.diff(corpus.src.offsets), np.diff(corpus.tgt.offsets), ttable.nnz)
    _fill_sentence_slots(corpus.src.ids, corpus.src.offsets, corpus.tgt.ids, corpus.tgt.offsets, ttable.indptr,
                         ttable.indices, slot_off, slots)
    return slots, slot_off


@njit(cache=True, nogil=True, parallel=True)
def _lookup_all(indptr, indices, old_indptr, old_indices, old_probs, floor):
    out = np.empty(len(indices))
    n_old = len(old_indptr) - 1
    for e in prange(len(indptr) - 1):
        for s in range(indptr[e], indptr[e + 1]):
            t = find_slot(old_indptr, old_indices, e, indices[s]) if e < n_old else -1
            out[s] = old_probs[t] if t >= 0 else floor
    return out


@njit(cache=True, nogil=True, parallel=True)
def _find_slots(indptr, indices, e_ids, f_ids, out):
    n_src = len(indptr) - 1
    for k in prange(len(e_ids)):
        e = e_ids[k]
        out[k] = find_slot(indptr, indices, e, f_ids[k]) if 0 <= e < n_src else -1


@njit(cache=True, nogil=True)
def add_slot_counts(gamma, slots, counts):
    """Add one pair's link posteriors ``gamma[j, i]`` (i = 0: NULL), laid out like its block of
    :func:`sentence_slots`, to the fixed-point counts of the t-table slots (atomically: ``counts``
    is shared by every thread)."""
    flat = gamma.ravel()
    prefetch_start(counts, slots)
    for x in range(len(flat)):
        prefetch_through(counts, slots, x + PREFETCH_AHEAD)   # the miss overlaps the adds before it (eegiza.atomic)
        s = slots[x]
        if s >= 0:
            atomic_add(counts, s, np.int64(flat[x] * COUNT_SCALE + 0.5))


@njit(cache=True, nogil=True)
def add_split_slot_counts(gamma, slots, low, heavy):
    """:func:`add_slot_counts` into split counts (low, heavy) (:mod:`eegiza.fixed_counts`)."""
    flat = gamma.ravel()
    prefetch_start(low, slots)
    for x in range(len(flat)):
        prefetch_through(low, slots, x + PREFETCH_AHEAD)
        s = slots[x]
        if s >= 0:
            add_split(low, heavy, s, np.int64(flat[x] * COUNT_SCALE + 0.5))


@njit(cache=True, nogil=True, parallel=True)
def _reduce_chunks(chunk_counts):
    n_chunks, n = chunk_counts.shape
    out = np.empty(n, np.float64)
    scale = 1.0 / COUNT_SCALE
    for s in prange(n):
        acc = 0
        for c in range(n_chunks):
            acc += chunk_counts[c, s]
        out[s] = acc * scale
    return out


@njit(cache=True, nogil=True, parallel=True)
def _reduce_chunks_into_first(chunk_counts, out):
    n_chunks, n = chunk_counts.shape
    scale = 1.0 / COUNT_SCALE
    for s in prange(n):
        acc = 0
        for c in range(n_chunks):
            acc += chunk_counts[c, s]
        out[s] = acc * scale   # (out is row 0's memory: its entry s is read above, before this write)


def reduce_counts_in_place(chunk_counts: np.ndarray) -> np.ndarray:
    """:func:`reduce_counts` of 2-d int64 per-chunk counts in the first row's memory (the counts
    are consumed; the same values, no new array)."""
    out = chunk_counts[0].view(np.float64)
    _reduce_chunks_into_first(chunk_counts, out)
    return out


def reduce_counts(counts):
    """Float counts (a new array) from fixed-point counts: one shared row (1-d, or split:
    :mod:`eegiza.fixed_counts`) or one row per chunk of sentences (2-d, summed)."""
    if isinstance(counts, tuple):
        counts = to_int64(counts)
    if counts.ndim == 1:
        return counts * (1.0 / COUNT_SCALE)
    return _reduce_chunks(counts)


@njit(cache=True, nogil=True, parallel=True)
def _to_float_inplace(fixed, out):
    scale = 1.0 / COUNT_SCALE
    for s in prange(len(fixed)):
        out[s] = fixed[s] * scale


def fixed_to_float(counts, dtype=np.float32):
    """Float counts of ``dtype`` (the table's: a float32 table's M-step takes float32 counts, summed
    in float64) from fixed-point counts: split counts (:mod:`eegiza.fixed_counts`) in their own
    memory; a 1-d int64 array's memory reused (``counts`` is consumed: it then holds the float64
    bits); 2-d per-chunk counts summed into a new array. Every form gives the same values."""
    if isinstance(counts, tuple):
        return to_float(counts, dtype)
    if counts.ndim != 1 or counts.dtype != np.int64:
        out = reduce_counts(counts)
    else:
        out = counts.view(np.float64)
        _to_float_inplace(counts, out)
    return out if out.dtype == dtype else out.astype(dtype)


def row_sums(indptr, values) -> np.ndarray:
    """Each CSR row's sum, in float64 (float32 values are summed in float64 as they are read,
    without a float64 copy of the array)."""
    out = np.zeros(len(indptr) - 1)
    if values.dtype == np.float64:
        sizes = np.diff(indptr)
        nonempty = sizes > 0
        if len(values):
            out[nonempty] = np.add.reduceat(values, indptr[:-1][nonempty])
    else:
        _row_sums_into(indptr, values, out)
    return out


@njit(cache=True, nogil=True)
def _row_sums_into(indptr, values, out):
    for e in range(len(indptr) - 1):
        total = 0.0
        for s in range(indptr[e], indptr[e + 1]):
            total += values[s]
        out[e] = total


def normalise_rows(indptr, values, out=None):
    """Each CSR row divided by its sum (an all-zero row becomes uniform), into ``out`` (which may
    be ``values`` itself) or a new array."""
    if out is None:
        out = np.empty_like(values)
    _normalise_rows_into(indptr, values, out)
    return out


@njit(cache=True, nogil=True)
def _normalise_rows_into(indptr, values, out):
    for e in range(len(indptr) - 1):
        lo, hi = indptr[e], indptr[e + 1]
        total = 0.0
        for s in range(lo, hi):
            total += values[s]
        if total > 0.0:
            for s in range(lo, hi):
                out[s] = values[s] / total
        elif hi > lo:
            for s in range(lo, hi):
                out[s] = 1.0 / (hi - lo)


@dataclass
class TTable:
    """t(f|e) over co-occurring pairs (CSR); see the module docstring."""

    indptr: np.ndarray   # int64, n_src_vocab + 1
    indices: np.ndarray  # int32, nnz, sorted within each row
    probs: np.ndarray    # nnz, of ``dtype`` (float32 unless asked otherwise)
    dtype: type = np.float32

    def __setattr__(self, name, value):
        if name == "dtype":
            object.__setattr__(self, name, np.dtype(value).type)
            if "probs" in self.__dict__:
                object.__setattr__(self, "probs", np.asarray(self.probs, dtype=self.dtype))
            return
        if name == "probs" and "dtype" in self.__dict__:
            value = np.asarray(value, dtype=self.dtype)   # no copy when it already is
        object.__setattr__(self, name, value)

    def __post_init__(self):
        self.dtype = self.dtype   # converts probs, which dataclass init set before dtype

    @classmethod
    def from_corpus(cls, corpus, precision: str = "float32") -> "TTable":
        """The co-occurrence structure of ``corpus`` with uniform probabilities 1/|V_f|, stored in
        ``precision`` (:data:`PRECISIONS`)."""
        if precision not in PRECISIONS:
            raise ValueError(f"table precision {precision!r}: expected one of {', '.join(PRECISIONS)}")
        indptr, indices = cooccurrence_csr(corpus.src.ids, corpus.src.offsets, corpus.tgt.ids,
                                           corpus.tgt.offsets, len(corpus.src_vocab), len(corpus.tgt_vocab),
                                           numba.get_num_threads())
        dtype = PRECISIONS[precision]
        probs = np.full(len(indices), 1.0 / max(1, len(corpus.tgt_vocab) - 1), dtype=dtype)
        return cls(indptr, indices, probs, dtype)

    @property
    def n_src(self) -> int:
        return len(self.indptr) - 1

    @property
    def nnz(self) -> int:
        return len(self.indices)

    def row_ids(self) -> np.ndarray:
        """The source id of every slot (length nnz)."""
        return np.repeat(np.arange(self.n_src, dtype=np.int32), np.diff(self.indptr))

    def prob(self, e: int, f: int) -> float:
        """t(f|e), floored like every lookup in training (0 <= e < n_src, f >= 0)."""
        if not 0 <= e < self.n_src:
            return PROB_FLOOR
        s = find_slot(self.indptr, self.indices, e, f)
        return max(self.probs[s], PROB_FLOOR) if s >= 0 else PROB_FLOOR

    def find_slots(self, e_ids, f_ids) -> np.ndarray:
        """The slot of every pair (e_ids[k], f_ids[k]) (int64), -1 where the pair is not in the table
        (or e is not a row)."""
        e_ids, f_ids = np.asarray(e_ids, np.int64), np.asarray(f_ids, np.int64)
        out = np.empty(len(e_ids), np.int64)
        _find_slots(self.indptr, self.indices, e_ids, f_ids, out)
        return out

    def row(self, e: int):
        lo, hi = self.indptr[e], self.indptr[e + 1]
        return self.indices[lo:hi], self.probs[lo:hi]

    def set_from_counts(self, counts: np.ndarray) -> None:
        """M-step: t(f|e) = c(e, f) / sum_f' c(e, f'), written over the old probabilities (the
        array keeps its identity; :meth:`copy` first to keep them)."""
        out = self.probs if self.probs.shape == counts.shape else None
        self.probs = normalise_rows(self.indptr, counts, out)

    def probs_in(self, other: "TTable", floor: float = PROB_FLOOR) -> np.ndarray:
        """t(f|e) of ``other`` (same vocabulary ids) for every pair of this table, ``floor`` where
        ``other`` lacks the pair; not renormalised."""
        return _lookup_all(self.indptr, self.indices, other.indptr, other.indices, other.probs, floor)

    def take_probs_from(self, other: "TTable", floor: float = PROB_FLOOR) -> None:
        """Set every t(f|e) of this table's pairs from ``other`` (:meth:`probs_in`); rows are then
        renormalised (training restarted from a model trained earlier, e.g. MGIZA's ``-restart``
        with ``-previoust``)."""
        self.probs = normalise_rows(self.indptr, self.probs_in(other, floor))

    def copy(self) -> "TTable":
        return TTable(self.indptr, self.indices, self.probs.copy(), self.dtype)
