"""The functions Dask workers run (no Dask import here: these are plain NumPy/Numba calls).

A *shard* is a contiguous range of sentence pairs: both sides' ids and offsets
(:class:`ShardData`). It is built by a task whose arguments are the shard's arrays, so when the
worker holding it is lost the scheduler can build it again elsewhere from the task itself.

A shard's *slot structure* for one direction (:class:`ShardSlots`) is the shard's own
co-occurrence table (CSR over the pairs of its sentences, :func:`eegiza.ttable.cooccurrence_csr`)
and the slot of every (i, j) of every sentence in it (:func:`eegiza.ttable.sentence_slots`).
The client maps the shard's table slots to the global table's once (``slot_map``, sorted, since
both tables are sorted by (e, f)); every iteration it then sends the shard ``probs[slot_map]``
only, and gets back fixed-point counts of the shard's slots, which it adds at ``slot_map``.

Every E-step task returns integer counts (the per-chunk fixed-point rows summed, exactly),
per-sentence log-likelihoods and its own compute time, so the client's reduction in shard order is
bit-identical to the local engine's.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numba
import numpy as np

from ..corpus import ParallelCorpus, Side, Vocab
from ..fixed_counts import to_int64
from ..slot_source import SlotSource
from ..ttable import COUNT_SCALE, TTable, cooccurrence_csr, sentence_slots


@dataclass
class ShardData:
    """Sentence pairs ``start:stop`` of the corpus (forward orientation)."""

    start: int
    stop: int
    src: Side
    tgt: Side

    def corpus(self, reverse: bool) -> ParallelCorpus:
        """The shard as a corpus (vocabularies empty: the kernels only use ids and offsets)."""
        empty = Vocab([], np.zeros(0, np.int64), {})
        return ParallelCorpus(self.tgt, self.src, empty, empty) if reverse else \
            ParallelCorpus(self.src, self.tgt, empty, empty)


@dataclass
class ShardSlots:
    """One direction of one shard: its own co-occurrence table and sentence slots."""

    reverse: bool
    indptr: np.ndarray
    indices: np.ndarray
    slots: np.ndarray
    slot_off: np.ndarray

    def source(self) -> tuple:
        """The slots as the kernels take them (:meth:`eegiza.slot_source.SlotSource.arrays`)."""
        return SlotSource.stored(self.slots, self.slot_off).arrays()


def make_shard(start, stop, src_ids, src_off, tgt_ids, tgt_off) -> ShardData:
    return ShardData(start, stop, Side(src_ids, src_off), Side(tgt_ids, tgt_off))


def make_slots(shard: ShardData, reverse: bool, n_src_vocab: int, n_tgt_vocab: int) -> ShardSlots:
    corpus = shard.corpus(reverse)
    indptr, indices = cooccurrence_csr(corpus.src.ids, corpus.src.offsets, corpus.tgt.ids, corpus.tgt.offsets,
                                       n_src_vocab, n_tgt_vocab, numba.get_num_threads())
    slots, slot_off = sentence_slots(corpus, TTable(indptr, indices, np.zeros(0)))
    return ShardSlots(reverse, indptr, indices, slots, slot_off)


def slot_pairs(slots: ShardSlots):
    """(row ids, target ids) of the shard table's slots: the client maps them to global slots."""
    rows = np.repeat(np.arange(len(slots.indptr) - 1, dtype=np.int32), np.diff(slots.indptr))
    return rows, slots.indices


def as_int_counts(values: np.ndarray) -> np.ndarray:
    """Float counts that are sums of fixed-point units back to the exact integer units."""
    return np.rint(np.asarray(values) * COUNT_SCALE).astype(np.int64)


def _sum_rows(chunk_counts: np.ndarray) -> np.ndarray:
    return chunk_counts.sum(axis=0, dtype=np.int64) if chunk_counts.ndim == 2 else chunk_counts


def agreement_task(shard: ShardData, fwd: ShardSlots, rev: ShardSlots, use_hmm, power, floor, p_null, smooth,
                   fwd_probs, fwd_class, fwd_jump, fwd_start, rev_probs, rev_class, rev_jump, rev_start):
    """The joint E-step (:func:`eegiza.models.agreement.estep`) of one shard."""
    from ..models import agreement
    t0 = time.perf_counter()
    if getattr(rev, "from_forward", None) is None:   # the reverse slots as the forward ones mapped, kept on the worker
        rev.from_forward = agreement.reverse_slot_map(TTable(fwd.indptr, fwd.indices, np.zeros(0)),
                                                      TTable(rev.indptr, rev.indices, np.zeros(0)))
        rev.count_layouts = agreement.count_layouts(shard.corpus(False), fwd.source(), *rev.from_forward,
                                                    len(fwd.indices), len(rev.indices))
    f_counts, f_jumps, f_starts, f_ll, r_counts, r_jumps, r_starts, r_ll = agreement.estep(
        use_hmm, power, shard.src.ids, shard.src.offsets, shard.tgt.ids, shard.tgt.offsets, floor, p_null, smooth,
        numba.get_num_threads(), fwd.source(), fwd_probs, fwd_class, fwd_jump, fwd_start,
        *rev.from_forward, rev_probs, rev_class, rev_jump, rev_start,
        rev.count_layouts[0].zeros(), rev.count_layouts[1].zeros())
    out = (to_int64(f_counts), as_int_counts(f_jumps), as_int_counts(f_starts), f_ll,
           to_int64(r_counts), as_int_counts(r_jumps), as_int_counts(r_starts), r_ll)
    return out, time.perf_counter() - t0


def direction_task(shard: ShardData, sl: ShardSlots, name, probs, floor, src_class, jump, start, p_null, smooth):
    """One direction's own E-step of Model 1 or the HMM on one shard."""
    from ..models import hmm, ibm1
    t0 = time.perf_counter()
    c = shard.corpus(sl.reverse)
    if name == "1":
        counts, loglik = ibm1.estep(c.src.ids, c.src.offsets, c.tgt.offsets, sl.source(), probs, floor,
                                    numba.get_num_threads())
        jumps, starts = np.zeros(0, np.int64), np.zeros(0, np.int64)
    else:
        counts, jumps, starts, loglik = hmm.estep(c.src.ids, c.src.offsets, c.tgt.offsets, sl.source(),
                                                  probs, floor, src_class, jump, start, p_null, smooth,
                                                  numba.get_num_threads())
        jumps, starts = as_int_counts(jumps), as_int_counts(starts)
    return (_sum_rows(counts), jumps, starts, loglik), time.perf_counter() - t0


def model2_task(shard: ShardData, sl: ShardSlots, probs, floor, a_arrays):
    """One direction's Model-2 E-step on one shard: fixed-point t counts of the shard's slots, a
    counts in the global a-table's layout (``a_arrays``: ``ATable.arrays()``; it covers every
    (l, m) of the corpus), per-sentence log-likelihoods."""
    from ..models import ibm2
    t0 = time.perf_counter()
    c = shard.corpus(sl.reverse)
    t_counts, a_counts, loglik = ibm2.estep_fixed(c.src.ids, c.src.offsets, c.tgt.ids, c.tgt.offsets, sl.indptr,
                                                  sl.indices, probs, floor, *a_arrays, numba.get_num_threads())
    return (_sum_rows(t_counts), _sum_rows(a_counts), loglik), time.perf_counter() - t0


def model2_align_task(shard: ShardData, sl: ShardSlots, probs, floor, a_arrays):
    """Model-2 Viterbi alignment of one shard: (links, scores)."""
    from ..models import ibm2
    t0 = time.perf_counter()
    c = shard.corpus(sl.reverse)
    out = ibm2.viterbi(c.src.ids, c.src.offsets, c.tgt.ids, c.tgt.offsets, sl.indptr, sl.indices, probs, floor,
                       *a_arrays)
    return tuple(out), time.perf_counter() - t0


def posterior_task(shard: ShardData, sl: ShardSlots, name, probs, floor, src_class, jump, start, p_null, smooth):
    """Link posteriors and marginal log-likelihoods of one shard under Model 1 or the HMM
    (:func:`eegiza.models.posteriors.slot_posteriors`): (posteriors, the shard's offsets, log-likelihoods)."""
    from ..models.posteriors import slot_posteriors
    t0 = time.perf_counter()
    c = shard.corpus(sl.reverse)
    post, loglik = slot_posteriors(name, c.src.ids, c.src.offsets, c.tgt.offsets, sl.slots, sl.slot_off, probs,
                                   floor, src_class, jump, start, p_null, smooth)
    return (post, sl.slot_off, loglik), time.perf_counter() - t0


def fertility_posterior_task(shard: ShardData, sl: ShardSlots, fertility, last_model, probs, positions, tables):
    """Models 3/4 neighbourhood posteriors of one shard around its hill-climbed alignment
    ``positions`` (:func:`eegiza.models.neighbourhood.fertility_posteriors`, under the shard's own
    table with the global probabilities; ``tables``: n rows and word classes of the whole corpus)."""
    from types import SimpleNamespace

    from ..models.neighbourhood import fertility_posteriors
    t0 = time.perf_counter()
    direction = SimpleNamespace(fertility=fertility, ttable=TTable(sl.indptr, sl.indices, probs, probs.dtype),
                                last_model=last_model)
    post, _ = fertility_posteriors(direction, shard.corpus(sl.reverse), positions, tables)
    return (post,), time.perf_counter() - t0


def align_task(shard: ShardData, sl: ShardSlots, name, probs, floor, src_class, jump, start, p_null, smooth,
               link_posterior):
    """Viterbi (or HMM posterior decoding) alignment of one shard: (links, scores)."""
    from ..models import hmm, ibm1
    t0 = time.perf_counter()
    c = shard.corpus(sl.reverse)
    s_off, t_off = c.src.offsets, c.tgt.offsets
    if name == "1":
        out = ibm1.viterbi(c.src.ids, s_off, t_off, sl.source(), probs, floor)
    elif link_posterior > 0:
        out = hmm.posterior_decode(c.src.ids, s_off, t_off, sl.source(), probs, floor, src_class, jump,
                                   start, p_null, smooth, link_posterior, numba.get_num_threads())
    else:
        out = hmm.viterbi(c.src.ids, s_off, t_off, sl.source(), probs, floor, src_class, jump, start,
                          p_null, smooth)
    return tuple(out), time.perf_counter() - t0


def fertility_task(shard: ShardData, sl: ShardSlots, model, probs, start, n_probs, src_class, tgt_class, flags,
                   min_posterior, decode):
    """Models 3/4 on one shard (:func:`eegiza.models.fertility._run_corpus`: hill-climbing per
    sentence, counts when collecting) under the shard's own table with the global probabilities."""
    from ..models import fertility
    t0 = time.perf_counter()
    c = shard.corpus(sl.reverse)
    table = TTable(sl.indptr, sl.indices, probs, probs.dtype)   # the client's precision
    climb, neighbours, from_model4, collect, collect_d4 = flags
    n_probs = model.n_table if n_probs is None else n_probs
    positions, scores, loglik, tc, nc, dc, pc, c1, cb, decoded = fertility._run_corpus(
        model, table, c, start, n_probs, src_class, tgt_class, climb, neighbours, from_model4, collect, collect_d4,
        numba.get_num_threads(), min_posterior, decode=decode, slots=(sl.slots, sl.slot_off))
    counts = tuple(_sum_rows(x) for x in (to_int64(tc), nc, dc, pc, c1, cb))
    return (positions, scores, loglik, counts, decoded), time.perf_counter() - t0
