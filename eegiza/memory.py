"""The peak memory of a training run, estimated from the corpus before any table is built.

Training holds, besides the corpus and the interpreter (:data:`BASELINE_MB`), arrays whose sizes
follow from three numbers of the corpus: the number P of distinct co-occurring word pairs
(:func:`eegiza.ttable.cooccurring_pairs`, counted without building the tables), the number of
(source + NULL, target) word pairs of its sentence pairs S = sum (l + 1) m, and the vocabulary
sizes. Each direction's t-table has nnz = P + |V_tgt| - 1 entries (the NULL row holds every target
word) of 4 bytes (target id) + 4 or 8 (probability, ``config.storage_precision``). Sentence slots
are stored compactly, 2 bytes a pair of distinct words (:meth:`eegiza.slot_source.SlotSource.compact`;
the dense rows of rows longer than 65,534 entries are not counted: a few of them, 4 bytes per
target word each). Fixed-point counts take 8 bytes an entry, or :data:`SPLIT_COUNT_ENTRY` in the
split layout of :mod:`eegiza.fixed_counts` (training by agreement, Models 3/4).
Arrays a phase does not read are out of memory (:mod:`eegiza.offload`): the tables' target ids in
the joint Model 1/HMM iterations, the idle direction's table while the other one trains. Per phase:

A corpus whose slots would take more than ``config.max_slot_mb`` looks them up instead
(:mod:`eegiza.slot_source`): wherever slots are named below it holds a hashed index of the table
(4 bytes per bucket, 1.5 buckets per entry, and dense rows of at most 32 MB), and Models 3/4 hold
none.

* Model 1 / HMM by agreement: both tables' probabilities (their target ids too if the slots are
  looked up or Model 2 trains), the forward sentence slots (2 S bytes), the reverse slot map
  (4 nnz_fwd), both directions' split fixed-point counts, the variational-Bayes M-step's
  blocks;
* a direction trained alone: its table, slots and counts (the other direction's table is offloaded);
* the reverse direction's slots derived from the forward ones (before the reverse direction's
  Models 3/4 after training by agreement, and in the final alignment pass; only for a corpus of
  at most :data:`eegiza.slot_transpose.REUSE_MAX_SLOTS` slots and without pruning): both tables,
  the forward compact slots and both directions' slots of 4 bytes, the slot map;
* Models 3/4 of one direction: its table's probabilities (its target ids and the other table are
  offloaded when the slots are stored), its slots and its split fixed-point counts (the float
  counts take their place; the new probabilities overwrite the old);
  the logs of t are taken per cell (:func:`eegiza.models.fertility.pass_logs`);
* the final alignment: both tables and one direction's slots (one direction after the other).

After the Model 1/2/HMM iterations each t-table loses its entries below ``effective_t_cutoff``
(:mod:`eegiza.tprune`); the later phases count :data:`PRUNED_SHARE` of their entries.

Every phase in which the Models 3/4 kernels run (their training, and the final alignment and the
reverse slots derived for it after them) also holds, per direction (:func:`_fertility_arrays`,
the larger direction's): the distortion table d(j | i, m) (old and new at an M-step) and one count row per
worker, the position table a(i | j, l) (old and new while an iteration rebuilds it), the fertility
and Model-4 displacement tables likewise, and the alignments (4 bytes per target token for the
start alignment, the iteration's and the last one's, and the other direction's last; without a
final alignment pass the training output too). What remains (the kernels' per-sentence and
per-worker arrays, what the allocator keeps between frees) is measured, not derived:
:data:`M34_WORKING_PER_TOKEN` bytes per target token, fitted (2026-12-06) to the Models 3/4 peaks
of ``eegiza align`` above these arrays: 4 MB (ro-en, 0.7M target tokens), 35 (de-en, 1.8M), 5
(en-fr 100k, 2.1M), 67 (en-fr 300k, 6.4M), 271 (all 1.13M en-fr lines, 23.7M).

The estimate is the largest phase plus the corpus and the baseline. Measured through ``eegiza
align`` before pruning (peak / estimate, 2026-12-06): ro-en 408 / 410, de-en 944 / 977, en-fr 100k
939 / 995, en-fr 300k 1,724 / 1,734, all 1,130,551 en-fr lines 4,868 / 4,879 MB (before these
terms, with one fitted per t-table entry: 4,449 against a peak of 5,412); with pruning, through
``benchmarks/bench_align.py``: ro-en 411 / 392, de-en 866 / 863, en-fr 100k 762 / 800 (then
with the text as Python strings, since dropped: de-en 832 / 863); with slots looked up, all
1,130,551 en-fr lines under the ``--fast`` preset through ``eegiza align``: 1,806 / 1,785. With
compact slots, offloaded arrays and the Models 3/4 logs taken per cell (stop 29, peak / estimate
through ``benchmarks/bench_align.py``): ro-en 345 / 345, de-en 640 / 653, en-fr 100k 568 / 601;
all en-fr lines through ``eegiza align`` 1,795 / 1,785. With split counts, slots of distinct words
and a direction's own target ids offloaded in its Models 3/4 (stop 30): ro-en 325 / 342, de-en
562 / 620, en-fr 100k 498 / 561. The
count rows grow with ``--threads``: each worker adds one of d (78 MB on all en-fr lines).
``--max-memory`` refuses a run whose estimate exceeds the limit (:class:`MemoryLimitError`),
before any training work.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict

import numpy as np

from .config import AlignerConfig
from .models.ibm2 import ATable
from .schedule import parse_schedule
from .slot_source import distinct_lengths, index_bytes, looks_up
from .slot_transpose import REUSE_MAX_SLOTS
from .train import VB_BLOCK, fertility_params_of, thread_count
from .ttable import cooccurring_pairs

MB = 1 << 20
BASELINE_MB = 240.0   # interpreter, NumPy, SciPy, Numba and the loaded kernels: a 200-line run's peak (warm cache)
INDEX_BYTES = 4       # target id of a table entry; its probability takes the table precision's size
COUNT_ENTRY = 8       # fixed-point count (int64), converted to a float count in place
#: a count in eegiza.fixed_counts' split layout: 4 bytes, and 8 more for the heavy entries (measured
#: before pruning: 11% of de-en's and ro-en's entries, 18% of en-fr 100k's; pruning removes light ones)
SPLIT_COUNT_ENTRY = 4 + 8 * 0.2
SLOT = 4              # a sentence slot (int32)
COMPACT_SLOT = 2      # a compact sentence slot (eegiza.slot_source.SlotSource.compact)
FLOAT = 8             # an entry of the Models 3/4 d, a, n and Model-4 tables and their counts
ALIGNMENT = 4         # a target token's aligned position (int32)
VB_BLOCK_BYTES = VB_BLOCK * 64   # the variational-Bayes M-step's temporaries per block (row ids, digammas)
M34_WORKING_PER_TOKEN = 12.5     # Models 3/4 memory beyond the named arrays, bytes per target token (measured)
#: share of a t-table's entries left after pruning at ``t_cutoff`` (eegiza.tprune), taken for every
#: cutoff > 0: measured at 1e-7 on de-en 0.72 (forward) and 0.57 (reverse); a larger cutoff keeps fewer
PRUNED_SHARE = 0.8


class MemoryLimitError(ValueError):
    """A run whose estimated peak memory exceeds ``--max-memory``."""


@dataclass
class MemoryEstimate:
    """Estimated peak resident memory of a training run, in MB, and the phase that sets it."""

    peak_mb: float
    phase: str
    parts: Dict[str, float]   # the peak phase's arrays, MB
    phases: Dict[str, float] = field(default_factory=dict)   # every phase's estimate, MB

    def describe(self) -> str:
        parts = ", ".join(f"{name} {mb:,.0f}" for name, mb in self.parts.items() if mb >= 0.5)
        return f"about {self.peak_mb:,.0f} MB at the peak ({self.phase}: {parts} MB)"


def estimate_training_memory(corpus, config: AlignerConfig) -> MemoryEstimate:
    """The :class:`MemoryEstimate` of training ``corpus`` with ``config`` (see the module docstring);
    the number of threads does not matter: every thread adds to the same count arrays."""
    src_len = np.diff(corpus.src.offsets).astype(np.int64)
    tgt_len = np.diff(corpus.tgt.offsets).astype(np.int64)
    cells_fwd = float(np.sum((src_len + 1) * tgt_len))
    cells_rev = float(np.sum((tgt_len + 1) * src_len))
    src_words, tgt_words = distinct_lengths(corpus.src), distinct_lengths(corpus.tgt)   # compact slots: distinct words
    slots_fwd = float(np.sum((src_words + 1) * tgt_words)) * COMPACT_SLOT
    slots_rev = float(np.sum((tgt_words + 1) * src_words)) * COMPACT_SLOT
    pairs = cooccurring_pairs(corpus)
    nnz_fwd = pairs + len(corpus.tgt_vocab) - 1
    nnz_rev = pairs + len(corpus.src_vocab) - 1
    look_up = looks_up(corpus, config.max_slot_mb)
    if look_up:   # a hashed index of the table in place of the corpus' slots (Models 3/4 hold neither)
        slots_fwd = float(index_bytes(nnz_fwd, len(corpus.src_vocab), len(corpus.tgt_vocab)))
        slots_rev = float(index_bytes(nnz_rev, len(corpus.tgt_vocab), len(corpus.src_vocab)))
    prob_bytes = np.dtype(config.storage_precision).itemsize
    tables = float(nnz_fwd + nnz_rev) * (INDEX_BYTES + prob_bytes)
    larger_table = float(max(nnz_fwd, nnz_rev)) * (INDEX_BYTES + prob_bytes)
    corpus_bytes = float(corpus.src.ids.nbytes + corpus.tgt.ids.nbytes + corpus.src.offsets.nbytes
                         + corpus.tgt.offsets.nbytes)
    models = {name for name, _ in parse_schedule(config.schedule)}
    phases: Dict[str, Dict[str, float]] = {}
    if models & set("12H"):
        if config.agreement:
            ids_offloaded = not look_up and "2" not in models   # train._unread_in_joint_estep
            phases["Model 1/HMM by agreement"] = {
                "t-tables": float(nnz_fwd + nnz_rev) * prob_bytes if ids_offloaded else tables,
                "slots": slots_fwd, "reverse slot map": float(nnz_fwd) * SLOT,
                "counts": float(nnz_fwd + nnz_rev) * SPLIT_COUNT_ENTRY, "M-step blocks": 2.0 * VB_BLOCK_BYTES}
        else:
            nnz, slots = max((nnz_fwd, slots_fwd), (nnz_rev, slots_rev))
            phases["Model 1/HMM, one direction"] = {
                "t-tables": larger_table, "slots": slots, "counts": float(nnz) * COUNT_ENTRY, "M-step blocks": VB_BLOCK_BYTES}
    fertility = bool(models & set("34"))
    working = (max(_fertility_arrays(corpus, config), _fertility_arrays(corpus.reversed(), config),
                   key=lambda parts: sum(parts.values())) if fertility else {})
    # the tables after Model 1/HMM (eegiza.tprune): the later phases hold PRUNED_SHARE of their entries
    share = PRUNED_SHARE if config.effective_t_cutoff > 0 and models & set("12H") else 1.0
    pruned_tables = tables * share
    # without pruning the reverse direction's slots come from the forward ones (train._train_pair):
    # then both tables stay in memory through Models 3/4
    derives_reverse = bool(models & set("1H")) and not look_up and cells_fwd <= REUSE_MAX_SLOTS \
        and not config.effective_t_cutoff
    if derives_reverse:
        phases["reverse slots derived from the forward ones"] = {
            "t-tables": tables, "slots": slots_fwd + (cells_fwd + cells_rev) * SLOT,
            "reverse slot map": float(nnz_fwd) * SLOT, **working}
    if fertility:
        nnz, slots = max((nnz_fwd, slots_fwd), (nnz_rev, slots_rev))
        nnz = nnz * share
        own_table = float(max(nnz_fwd, nnz_rev)) * (prob_bytes if not look_up else INDEX_BYTES + prob_bytes)
        phases["Models 3/4, one direction"] = {
            "t-tables": (tables if derives_reverse else own_table) * share, "slots": 0.0 if look_up else slots,
            "counts": nnz * SPLIT_COUNT_ENTRY, **working}
        phases["final alignment"] = {"t-tables": pruned_tables, "slots": slots, **working}
    else:
        phases["final alignment"] = {"t-tables": pruned_tables, "slots": max(slots_fwd, slots_rev)}
    phase, parts = max(phases.items(), key=lambda item: sum(item[1].values()))
    parts = {"corpus": corpus_bytes, **parts}
    parts_mb = {name: value / MB for name, value in parts.items()}
    each = {name: BASELINE_MB + (corpus_bytes + sum(arrays.values())) / MB for name, arrays in phases.items()}
    return MemoryEstimate(BASELINE_MB + sum(parts_mb.values()), phase, parts_mb, each)


def _fertility_arrays(corpus, config: AlignerConfig) -> Dict[str, float]:
    """Bytes of what the Models 3/4 kernels of the direction P(tgt | src) of ``corpus`` hold
    beyond the t-table arrays (see the module docstring): the distortion table d(j | i, m) (its
    old and new values at an M-step and one count row per worker), the position table a(i | j, l) (the old and
    the new one while an iteration rebuilds it), the fertility and Model-4 displacement tables
    (old and new values, one count row per worker), the alignments (4 bytes per token: the start
    alignment, this and the last iteration's, without a final alignment pass the output too; and
    the last of the direction trained before) with four per-sentence arrays; and the measured rest
    (:data:`M34_WORKING_PER_TOKEN`)."""
    workers = thread_count(config.threads)
    params = fertility_params_of(config)
    d_entries = len(ATable.layout(corpus.src.offsets, corpus.tgt.offsets, ignore_l=params.compactadtable,
                                  ignore_m=False).probs)   # zero-filled, not yet resident: only its size
    a_entries = len(ATable.layout(corpus.src.offsets, corpus.tgt.offsets, ignore_l=False,
                                  ignore_m=params.compactadtable).probs)
    kept = 3 if config.final_alignment_pass else 4   # start, this and the last iteration's (and the output)
    other = 1 if config.final_alignment_pass else 2  # the other direction's last (and output)
    classes = config.word_classes + 1
    width = 2 * int(corpus.tgt.lengths.max(initial=0)) + 1   # Model-4 displacement buckets
    per_table = (len(corpus.src_vocab) * params.maxfertility + (classes * classes + classes) * width) * FLOAT
    return {"Models 3/4 d and a tables": ((2 + workers) * d_entries + 2 * a_entries) * FLOAT,
            "Models 3/4 n and Model-4 tables": (2 + workers) * per_table,
            "Models 3/4 alignments": ALIGNMENT * (kept * len(corpus.tgt.ids) + other * len(corpus.src.ids))
            + 4.0 * FLOAT * len(corpus),
            "Models 3/4 working memory": M34_WORKING_PER_TOKEN * len(corpus.tgt.ids)}


def check_memory_limit(estimate: MemoryEstimate, limit_mb: float) -> None:
    """Raise :class:`MemoryLimitError` if ``estimate`` exceeds ``limit_mb`` (0 = no limit)."""
    if limit_mb and estimate.peak_mb > limit_mb:
        raise MemoryLimitError(f"--max-memory {limit_mb:,.0f} MB: this run needs {estimate.describe()}; "
                               "raise the limit, or train on fewer lines (memory grows with the corpus)")
