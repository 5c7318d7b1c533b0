"""Where the E-step and alignment kernels get a sentence pair's t-table slots: stored for the whole
corpus, or looked up in a hashed index of the table as they go.

A kernel of Model 1 or the HMM reads, for every (source + NULL, target) word pair (i, j) of a
sentence pair, the t-table slot of (e_i, f_j) (:func:`eegiza.ttable.sentence_slots` lays them out).
Stored once for all iterations they cost 2 bytes per such pair of the corpus (compact, below; 4
before): 87 MB for de-en's 101k pairs, 1.3 GB for all 1.13M pairs of the Hansards, which would be
most of a large run's memory.
Looked up as the kernels go they cost nothing to hold but a search per pair and pass. On this
machine (one thread, de-en): a binary search in the table row 80 ns a pair; a hashed index 35 ns
(:func:`build_index`: open addressing with linear probing over the table's slots, 4 bytes per
bucket at 1.5 buckets per entry, each hit checked against the table's own row bounds and target
id, so the index stores no keys); 31 ns with the rows of NULL and of the most frequent source
words laid out densely (:func:`dense_rows`: the slot of every target id, :data:`DENSE_BYTES` in
all: one read, no probe); 25 ns with each row's buckets and entries prefetched before its lookups
(:func:`_prefetch_row`), so their misses overlap. A joint E-step then takes 1.7x (Model 1) and
1.3x (HMM) its time with stored slots.

``AlignerConfig.max_slot_mb`` decides (:func:`looks_up`): by default a corpus whose compact slots
would take more than 1 GB looks them up (of the shared pairs, only the whole Hansards: en-fr's
first 300,000 lines store 350 MB, all 1.13M lines would store 1.3 GB). Either way a kernel sees
the same slots, so results are bit-identical.

Stored slots are kept compact (:meth:`SlotSource.compact`): 2 bytes a pair instead of 4, each the
entry's position in its table row (the row's start added back as a kernel reads the pair's
block), :data:`COMPACT_MISSING` for a pair the table lacks, and :data:`COMPACT_DENSE` for the rows
longer than 16 bits address (NULL's and a frequent word's row when the other side has more than
65,534 words): those are read from dense rows as the index does. Only the pairs of distinct words
are stored: a word repeated in a sentence has its first occurrence's slots, copied as the block is
read (:func:`eegiza.ttable.first_occurrences`). de-en's forward slots take 66 MB instead of 174
(87 with repeated words: 76% of its pairs are distinct, 66% of en-fr 100k's and of all 1.13M
en-fr lines'); reading a
pair's block costs one add per pair more, and finding the repeated words. Slots of
4 bytes (:meth:`SlotSource.stored`) remain for what derives them elsewhere (the reverse direction's
slots transposed from the forward ones, small batches, a cluster's shards).

A :class:`SlotSource` hands the kernels one tuple (:meth:`SlotSource.arrays`): (stored slots,
their per-pair offsets, target ids, target offsets, table row pointers, table target ids, index
buckets, dense row of each source word, dense rows, compact slots); :func:`sentence_block` gives a
pair's block from it. With stored slots all but the first two are empty; with the index the first
two and the last; compact slots use the offsets, target ids and offsets, row pointers, the dense
rows and themselves; with none at all (:meth:`SlotSource.none`) the block is empty and a kernel that
takes one (Models 3/4) searches the table itself.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np
from numba import njit, prange

from .atomic import prefetch
from .slot_transpose import corpus_slot_count
from .tprune import remap_slots
from .ttable import find_slot, first_occurrences, slot_dtype, slot_offsets

BUCKETS_PER_ENTRY = 1.5
#: memory of the dense rows (NULL and the most frequent source words: all 1.13M en-fr lines have
#: 77,738 target words, so 107 rows; the 106 words hold 57% of the source tokens there)
DENSE_BYTES = 32 << 20
_EMPTY_I32 = np.zeros(0, np.int32)
_EMPTY_I64 = np.zeros(0, np.int64)
_EMPTY_DENSE = np.zeros((0, 0), np.int32)
_EMPTY_U16 = np.zeros(0, np.uint16)
#: a compact slot: the pair is not in the table
COMPACT_MISSING = 65534
#: a compact slot: the row is longer than :data:`COMPACT_MISSING` entries; the slot is in its dense row
COMPACT_DENSE = 65535
_MIX_E = np.uint64(0x9E3779B97F4A7C15)
_MIX_F = np.uint64(0xC2B2AE3D27D4EB4F)


def stored_bytes(corpus) -> int:
    """What storing the corpus' sentence slots in 4 bytes costs (per (source + 1) x target word pair:
    :func:`eegiza.ttable.sentence_slots`, :meth:`SlotSource.stored`)."""
    return 4 * corpus_slot_count(corpus)


def compact_bytes(corpus) -> int:
    """What storing the corpus' sentence slots compactly costs (2 bytes a pair of distinct words,
    :meth:`SlotSource.compact`; the dense rows of long table rows aside)."""
    return 2 * int(compact_offsets(corpus)[-1])


def index_bytes(nnz: int, n_src: int, n_tgt: int) -> int:
    """What a hashed index of a table of ``nnz`` entries, ``n_src`` rows and ``n_tgt`` target ids
    costs, with its dense rows."""
    return 4 * _bucket_count(nnz) + 4 * _dense_row_count(n_src, n_tgt, DENSE_BYTES) * n_tgt


def _dense_row_count(n_src: int, n_cols: int, budget: int) -> int:
    return max(1, min(n_src, budget // (4 * max(1, n_cols))))


def looks_up(corpus, max_slot_mb: float) -> bool:
    """Whether kernels on ``corpus`` look their slots up (True) rather than store them:
    storing them compactly could take more than ``max_slot_mb`` MB (negative: always store; 0: never)."""
    # decided on 2 bytes a (source + NULL) x target word pair, the most compact slots can take
    # (repeated words store none: de-en's take 76% of that, all 1.13M en-fr lines 65%)
    return max_slot_mb >= 0 and 2 * corpus_slot_count(corpus) > max_slot_mb * (1 << 20)


def _bucket_count(nnz: int) -> int:
    return int(nnz * BUCKETS_PER_ENTRY) + 1


@njit(cache=True, nogil=True, inline="always")
def _bucket(e, f, n_buckets):
    """The first bucket of (e, f): the high 32 bits of a multiplicative mix, scaled to the range."""
    mixed = (np.uint64(e) * _MIX_E) ^ (np.uint64(f) * _MIX_F)
    return np.int64(((mixed >> np.uint64(32)) * np.uint64(n_buckets)) >> np.uint64(32))


@njit(cache=True, nogil=True)
def _fill_index(indptr, indices, buckets):
    n = len(buckets)
    for e in range(len(indptr) - 1):
        for s in range(indptr[e], indptr[e + 1]):
            b = _bucket(e, indices[s], n)
            while buckets[b] >= 0:
                b = b + 1 if b + 1 < n else 0
            buckets[b] = s


@njit(cache=True, nogil=True, _nrt=False)   # not inline="always": that counts references per call (eegiza.atomic)
def indexed_slot(indptr, indices, buckets, e, f):
    """The slot of (e, f) through the index, or -1 if the table lacks the pair (or row e)."""
    if e >= len(indptr) - 1:
        return -1
    lo, hi = indptr[e], indptr[e + 1]
    n = len(buckets)
    b = _bucket(e, f, n)
    while True:
        s = buckets[b]
        if s < 0:
            return -1
        if lo <= s and s < hi and indices[s] == f:
            return s
        b = b + 1 if b + 1 < n else 0


def build_index(ttable) -> np.ndarray:
    """The hashed index of ``ttable``'s slots (see the module docstring)."""
    if ttable.nnz >= 2 ** 31:
        raise ValueError(f"a t-table of {ttable.nnz:,} entries is too large for an int32 slot index")
    buckets = np.full(_bucket_count(ttable.nnz), -1, np.int32)
    _fill_index(ttable.indptr, ttable.indices, buckets)
    return buckets


def dense_rows(ttable, src_counts: np.ndarray, budget: int = DENSE_BYTES):
    """(row of each source word in the dense table or -1, the dense table: the slot of every target
    id in that word's t-table row, -1 where absent) for NULL and the most frequent source words
    (``src_counts``: tokens per source id) that fit in ``budget`` bytes."""
    n_cols = int(ttable.indices.max(initial=0)) + 1
    n_rows = _dense_row_count(ttable.n_src, n_cols, budget)
    counts = np.asarray(src_counts, np.int64)[:ttable.n_src].copy()
    counts[0] = np.iinfo(np.int64).max   # NULL: in every sentence
    return _dense_table(ttable, np.argsort(-counts, kind="stable")[:n_rows], n_cols)


def _dense_table(ttable, chosen: np.ndarray, n_cols: int) -> tuple:
    """(row of each source word in the dense table or -1, the dense table of the rows ``chosen``:
    the slot of each of ``n_cols`` target ids, -1 where absent)."""
    dense_of = np.full(ttable.n_src, -1, np.int32)
    dense_of[chosen] = np.arange(len(chosen), dtype=np.int32)
    dense = np.full((len(chosen), n_cols), -1, np.int32)
    _fill_dense(ttable.indptr, ttable.indices, chosen, dense)
    return dense_of, dense


@njit(cache=True, nogil=True)
def _fill_dense(indptr, indices, chosen, dense):
    for r in range(len(chosen)):
        e = chosen[r]
        for s in range(indptr[e], indptr[e + 1]):
            dense[r, indices[s]] = s


@njit(cache=True, nogil=True, _nrt=False)
def _looked_up(indptr, indices, buckets, dense_of, dense, e, f):
    """The slot of (e, f): a dense row's entry, or through the hashed index."""
    r = dense_of[e] if e < len(dense_of) else -1
    if r >= 0:
        return dense[r, f] if f < dense.shape[1] else -1
    return indexed_slot(indptr, indices, buckets, e, f)


@njit(cache=True, nogil=True, _nrt=False)
def _prefetch_row(indptr, indices, buckets, dense_of, src, first_i, f):
    """Prefetch what looking up (src[i], f) through the index will read, for the whole row at once:
    the first buckets, then the table entries they name, so the misses overlap (eegiza.atomic)."""
    n = len(buckets)
    for i in range(len(src)):
        e = src[i]
        if first_i[i] == i and e < len(dense_of) and dense_of[e] < 0:
            prefetch(buckets, _bucket(e, f, n))
    for i in range(len(src)):
        e = src[i]
        if first_i[i] == i and e < len(dense_of) and dense_of[e] < 0:
            s = buckets[_bucket(e, f, n)]
            if s >= 0:
                prefetch(indices, s)


@njit(cache=True, nogil=True)
def sentence_block(source, k, src):
    """Pair k's t-table slots (``block[j * (l + 1) + i]``, i = 0 NULL, as
    :func:`eegiza.ttable.sentence_slots` lays them out) from a :meth:`SlotSource.arrays` tuple;
    ``src`` is its source sentence. Empty from :meth:`SlotSource.none`."""
    slots, slot_off, tgt_ids, tgt_off, indptr, indices, buckets, dense_of, dense, compact = source
    if len(compact) > 0:
        tgt = tgt_ids[tgt_off[k]:tgt_off[k + 1]]
        block = np.empty((len(src) + 1) * len(tgt), slots.dtype)
        _fill_compact_block(compact, slot_off[k], tgt, src, first_occurrences(src), first_occurrences(tgt), indptr,
                            dense_of, dense, block)
        return block
    if len(buckets) == 0:
        return slots[slot_off[k]:slot_off[k + 1]] if len(slot_off) > 0 else slots[0:0]
    l = len(src)
    tgt = tgt_ids[tgt_off[k]:tgt_off[k + 1]]
    block = np.empty((l + 1) * len(tgt), slots.dtype)
    first_i, first_j = first_occurrences(src), first_occurrences(tgt)   # repeated words: copied, not looked up
    for j in range(len(tgt)):
        row = j * (l + 1)
        if first_j[j] < j:
            before = first_j[j] * (l + 1)
            block[row:row + l + 1] = block[before:before + l + 1]
            continue
        f = tgt[j]
        block[row] = _looked_up(indptr, indices, buckets, dense_of, dense, 0, f)
        _prefetch_row(indptr, indices, buckets, dense_of, src, first_i, f)
        for i in range(l):
            i0 = first_i[i]
            block[row + 1 + i] = (block[row + 1 + i0] if i0 < i
                                  else _looked_up(indptr, indices, buckets, dense_of, dense, src[i], f))
    return block


@njit(cache=True, nogil=True, _nrt=False)
def _fill_compact_block(compact, first, tgt, src, first_i, first_j, indptr, dense_of, dense, block):
    """``block``: a pair's slots from its compact ones starting at ``compact[first]``
    (:meth:`SlotSource.compact`; a repeated word's slots are copied from its first occurrence's)."""
    l = len(src)
    x = first
    for j in range(len(tgt)):
        row = j * (l + 1)
        if first_j[j] < j:
            before = first_j[j] * (l + 1)
            for i in range(l + 1):
                block[row + i] = block[before + i]
            continue
        for i in range(l + 1):
            if i > 0 and first_i[i - 1] < i - 1:
                block[row + i] = block[row + 1 + first_i[i - 1]]
                continue
            e = 0 if i == 0 else src[i - 1]
            v = compact[x]
            x += 1
            if v < COMPACT_MISSING:
                block[row + i] = indptr[e] + v
            elif v == COMPACT_MISSING:
                block[row + i] = -1
            else:
                block[row + i] = dense[dense_of[e], tgt[j]]


@njit(cache=True, nogil=True)
def _distinct_count(first):
    """The number of distinct words of a sentence, from its :func:`eegiza.ttable.first_occurrences`."""
    n = 0
    for i in range(len(first)):
        if first[i] == i:
            n += 1
    return n


@njit(cache=True, nogil=True, parallel=True)
def _distinct_lengths(ids, offsets, out):
    for k in prange(len(offsets) - 1):
        out[k] = _distinct_count(first_occurrences(ids[offsets[k]:offsets[k + 1]]))


def distinct_lengths(side) -> np.ndarray:
    """The number of distinct words of each sentence of a corpus side."""
    out = np.empty(len(side.offsets) - 1, np.int64)
    _distinct_lengths(side.ids, side.offsets, out)
    return out


def compact_offsets(corpus) -> np.ndarray:
    """Where each pair's compact slots start (and the total at the end): (distinct source words +
    1) x distinct target words a pair."""
    return slot_offsets(distinct_lengths(corpus.src), distinct_lengths(corpus.tgt))


@njit(cache=True, nogil=True, parallel=True)
def _fill_compact(src_ids, src_off, tgt_ids, tgt_off, indptr, indices, dense_of, slot_off, out):
    n_rows = len(indptr) - 1
    for k in prange(len(src_off) - 1):
        src = src_ids[src_off[k]:src_off[k + 1]]
        tgt = tgt_ids[tgt_off[k]:tgt_off[k + 1]]
        first_i, first_j = first_occurrences(src), first_occurrences(tgt)
        x = slot_off[k]
        for j in range(len(tgt)):
            if first_j[j] < j:
                continue
            f = tgt[j]
            for i in range(len(src) + 1):
                if i > 0 and first_i[i - 1] < i - 1:
                    continue
                e = 0 if i == 0 else src[i - 1]
                if e >= n_rows:
                    out[x] = COMPACT_MISSING
                elif dense_of[e] >= 0:
                    out[x] = COMPACT_DENSE
                else:
                    s = find_slot(indptr, indices, e, f)
                    out[x] = COMPACT_MISSING if s < 0 else s - indptr[e]
                x += 1


@njit(cache=True, nogil=True, parallel=True)
def _remap_compact(src_ids, src_off, slot_off, old_indptr, new_indptr, remap, compact):
    for k in prange(len(src_off) - 1):
        src = src_ids[src_off[k]:src_off[k + 1]]
        first_i = first_occurrences(src)
        n_rows = 1 + _distinct_count(first_i)   # NULL and the distinct source words
        x = slot_off[k]
        for _ in range((slot_off[k + 1] - x) // n_rows):
            for i in range(len(src) + 1):
                if i > 0 and first_i[i - 1] < i - 1:
                    continue
                v = compact[x]
                if v < COMPACT_MISSING:
                    e = 0 if i == 0 else src[i - 1]
                    s = remap[old_indptr[e] + v]
                    compact[x] = COMPACT_MISSING if s < 0 else s - new_indptr[e]
                x += 1


@njit(cache=True, nogil=True, parallel=True)
def _remap_dense(dense, remap):
    for r in prange(dense.shape[0]):
        for f in range(dense.shape[1]):
            s = dense[r, f]
            if s >= 0:
                dense[r, f] = remap[s]


def long_rows(ttable) -> tuple:
    """(row of each source word in a dense table or -1, the dense table: the slot of every target id
    in that row, -1 where absent) for the rows of ``ttable`` too long for a compact slot."""
    chosen = np.flatnonzero(np.diff(ttable.indptr) > COMPACT_MISSING)
    return _dense_table(ttable, chosen, int(ttable.indices.max(initial=0)) + 1 if len(chosen) else 0)


@njit(cache=True, nogil=True, parallel=True)
def _looked_up_slots(source, src_ids, src_off, slot_off, out):
    for k in prange(len(src_off) - 1):
        out[slot_off[k]:slot_off[k + 1]] = sentence_block(source, k, src_ids[src_off[k]:src_off[k + 1]])


@dataclass
class SlotSource:
    """A corpus' t-table slots for the kernels: stored, or looked up through an index (module docstring)."""

    slots: np.ndarray
    slot_off: np.ndarray
    tgt_ids: np.ndarray
    tgt_off: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    buckets: np.ndarray
    dense_of: np.ndarray
    dense: np.ndarray
    compact_slots: np.ndarray = field(default_factory=lambda: _EMPTY_U16)

    @classmethod
    def stored(cls, slots: np.ndarray, slot_off: np.ndarray) -> "SlotSource":
        """Slots already in memory ((slots, slot offsets) of :func:`eegiza.ttable.sentence_slots`)."""
        return cls(slots, slot_off, _EMPTY_I32, _EMPTY_I64, _EMPTY_I64, _EMPTY_I32, _EMPTY_I32, _EMPTY_I32,
                   _EMPTY_DENSE)

    @classmethod
    def none(cls) -> "SlotSource":
        """No slots: :func:`sentence_block` gives empty blocks (the Models 3/4 kernels then search)."""
        return cls.stored(_EMPTY_I32, _EMPTY_I64)

    @classmethod
    def compact(cls, corpus, ttable) -> "SlotSource":
        """The slots of ``corpus`` in ``ttable``, searched once and stored in 2 bytes a pair (module
        docstring); the source holds the table's row pointers, not its target ids."""
        dense_of, dense = long_rows(ttable)
        slot_off = compact_offsets(corpus)
        empty = np.zeros(0, slot_dtype(ttable.nnz))   # the type of the blocks sentence_block gives
        compact = np.empty(slot_off[-1], np.uint16)
        _fill_compact(corpus.src.ids, corpus.src.offsets, corpus.tgt.ids, corpus.tgt.offsets, ttable.indptr,
                      ttable.indices, dense_of, slot_off, compact)
        return cls(empty, slot_off, corpus.tgt.ids, corpus.tgt.offsets, ttable.indptr, _EMPTY_I32, _EMPTY_I32,
                   dense_of, dense, compact)

    @classmethod
    def coerce(cls, slots) -> "SlotSource":
        """A :class:`SlotSource` from what callers hand the alignment functions: one, (slots, slot
        offsets) of :func:`eegiza.ttable.sentence_slots`, or None (no slots)."""
        if slots is None:
            return cls.none()
        return slots if isinstance(slots, SlotSource) else cls.stored(*slots)

    @classmethod
    def indexed(cls, corpus, ttable, dense_bytes: Optional[int] = None) -> "SlotSource":
        """Slots of ``corpus`` in ``ttable`` looked up through a hashed index and dense rows of
        ``dense_bytes`` (default :data:`DENSE_BYTES`) as the kernels go."""
        counts = np.bincount(corpus.src.ids, minlength=ttable.n_src)
        budget = DENSE_BYTES if dense_bytes is None else dense_bytes
        return cls(_EMPTY_I32, _EMPTY_I64, corpus.tgt.ids, corpus.tgt.offsets, ttable.indptr, ttable.indices,
                   build_index(ttable), *dense_rows(ttable, counts, budget))

    @classmethod
    def of(cls, corpus, ttable, look_up: bool) -> "SlotSource":
        """The slots of ``corpus`` in ``ttable``: looked up (``look_up``) or searched once and stored."""
        return cls.indexed(corpus, ttable) if look_up else cls.compact(corpus, ttable)

    @property
    def is_stored(self) -> bool:
        """Stored slots, of 4 bytes or compact (else: looked up through an index, or none)."""
        return len(self.buckets) == 0 and len(self.slot_off) > 0

    @property
    def gives_slots(self) -> bool:
        """Whether :func:`sentence_block` gives slots (not :meth:`none`)."""
        return len(self.slot_off) > 0 or len(self.buckets) > 0

    @property
    def is_compact(self) -> bool:
        return len(self.compact_slots) > 0

    @property
    def needs_table_indices(self) -> bool:
        """Whether :func:`sentence_block` reads the table's target ids (the index does; stored slots do not)."""
        return not self.is_stored

    def remap(self, corpus, old_indptr: np.ndarray, new_indptr: np.ndarray, remap: np.ndarray) -> None:
        """Renumber stored slots in place for the table pruned through ``remap`` (:func:`eegiza.tprune.prune_table`;
        ``old_indptr``/``new_indptr``: its row pointers before and after)."""
        if self.is_compact:
            _remap_compact(corpus.src.ids, corpus.src.offsets, self.slot_off, old_indptr, new_indptr, remap,
                           self.compact_slots)
            _remap_dense(self.dense, remap)
            self.indptr = new_indptr
        else:
            remap_slots(self.slots, remap)

    def arrays(self) -> tuple:
        """The tuple the kernels take (:func:`sentence_block`)."""
        return (self.slots, self.slot_off, self.tgt_ids, self.tgt_off, self.indptr, self.indices, self.buckets,
                self.dense_of, self.dense, self.compact_slots)

    def materialised(self, corpus) -> tuple:
        """(slots, slot offsets) of every pair, laid out as :func:`eegiza.ttable.sentence_slots` lays
        them out (what the tests compare the lookups with)."""
        if self.is_stored and not self.is_compact:
            return self.slots, self.slot_off
        slot_off = slot_offsets(corpus.src.lengths, corpus.tgt.lengths)
        out = np.empty(slot_off[-1], self.slots.dtype if self.is_compact else slot_dtype(len(self.indices)))
        _looked_up_slots(self.arrays(), corpus.src.ids, corpus.src.offsets, slot_off, out)
        return out, slot_off
