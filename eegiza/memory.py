"""The peak memory of a training run, estimated from the corpus before any table is built.

Training holds, besides the corpus and the interpreter (:data:`BASELINE_MB`), arrays whose sizes
follow from three numbers of the corpus: the number P of distinct co-occurring word pairs
(:func:`eegiza.ttable.cooccurring_pairs`, counted without building the tables), the number of
(source + NULL, target) word pairs of its sentence pairs S = sum (l + 1) m, and the vocabulary
sizes. Each direction's t-table has nnz = P + |V_tgt| - 1 entries (the NULL row holds every target
word) of 4 bytes (target id) + 4 or 8 (probability, ``config.storage_precision``). Per phase:

* Model 1 / HMM by agreement: both tables, the forward sentence slots (4 S bytes), the reverse
  slot map (4 nnz_fwd), both directions' fixed-point counts (8 nnz each), the variational-Bayes
  M-step's blocks;
* a direction trained alone: its table, slots and counts, and the other direction's table;
* the reverse direction's slots derived from the forward ones (before the reverse direction's
  Models 3/4 after training by agreement, and in the final alignment pass; only for a corpus of
  at most :data:`eegiza.slot_transpose.REUSE_MAX_SLOTS` slots): both tables, both directions'
  slots, the slot map;
* Models 3/4 of one direction: both tables, that direction's slots, its fixed-point counts
  (the float counts take their place; the new probabilities overwrite the old) and the log of
  its t-table (8 nnz, :func:`eegiza.models.fertility.pass_logs`);
* the final alignment: both tables, one direction's slots and its t-table's log (one direction
  after the other).

Every phase in which the Models 3/4 kernels run (their training, and the final alignment and the
reverse slots derived for it after them) also holds memory the arrays above do not name: the
kernels' per-sentence and per-worker arrays, the fertility, distortion and alignment arrays of both
directions, and what the allocator keeps between frees within a phase. It is not derived but
measured (:data:`M34_WORKING_MB` + :data:`M34_WORKING_PER_ENTRY` bytes per entry of the larger
t-table): through ``eegiza align`` (2026-12-06, after :mod:`eegiza.heap`'s trimming) the Models 3/4
and final-pass peaks exceeded the counted arrays by 78 MB (ro-en, 2.6M entries), 190 MB (de-en, 11.1M)
and 135 MB (en-fr 100k, 6.8M); this term gives 78 / 185 / 132.

The estimate is the largest phase plus the corpus and the baseline. Measured through ``eegiza
align`` (peak / estimate): ro-en 412 / 434, de-en 958 / 997, en-fr 100k 951 / 982 MB (before the
working-memory term: 380 / 824 / 851, under the peak). It does not yet extrapolate: on all 1.13M
en-fr lines the estimate is 4,449 MB and the peak 5,412 (Models 3/4 of the reverse direction; the
working memory there was not measured apart). ``benchmarks/bench_align.py`` also holds the
text as Python strings (a few percent more). ``--max-memory`` refuses a run whose estimate exceeds
the limit (:class:`MemoryLimitError`), before any training work.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict

import numpy as np

from .config import AlignerConfig
from .schedule import parse_schedule
from .slot_transpose import REUSE_MAX_SLOTS
from .train import VB_BLOCK
from .ttable import cooccurring_pairs

MB = 1 << 20
BASELINE_MB = 240.0   # interpreter, NumPy, SciPy, Numba and the loaded kernels: a 200-line run's peak (warm cache)
INDEX_BYTES = 4       # target id of a table entry; its probability takes the table precision's size
COUNT_ENTRY = 8       # fixed-point count (int64), converted to a float count in place
SLOT = 4              # a sentence slot (int32)
LOG_ENTRY = 8         # log t of a table entry (float64) during a Model 3/4 pass
VB_BLOCK_BYTES = VB_BLOCK * 64   # the variational-Bayes M-step's temporaries per block (row ids, digammas)
M34_WORKING_MB = 46.0            # Models 3/4 working memory beyond the named arrays: a constant ...
M34_WORKING_PER_ENTRY = 13.1     # ... and bytes per t-table entry (measured, see the module docstring)


class MemoryLimitError(ValueError):
    """A run whose estimated peak memory exceeds ``--max-memory``."""


@dataclass
class MemoryEstimate:
    """Estimated peak resident memory of a training run, in MB, and the phase that sets it."""

    peak_mb: float
    phase: str
    parts: Dict[str, float]   # the peak phase's arrays, MB

    def describe(self) -> str:
        parts = ", ".join(f"{name} {mb:,.0f}" for name, mb in self.parts.items() if mb >= 0.5)
        return f"about {self.peak_mb:,.0f} MB at the peak ({self.phase}: {parts} MB)"


def estimate_training_memory(corpus, config: AlignerConfig) -> MemoryEstimate:
    """The :class:`MemoryEstimate` of training ``corpus`` with ``config`` (see the module docstring);
    the number of threads does not matter: every thread adds to the same count arrays."""
    src_len = np.diff(corpus.src.offsets).astype(np.int64)
    tgt_len = np.diff(corpus.tgt.offsets).astype(np.int64)
    slots_fwd = float(np.sum((src_len + 1) * tgt_len)) * SLOT
    slots_rev = float(np.sum((tgt_len + 1) * src_len)) * SLOT
    pairs = cooccurring_pairs(corpus)
    nnz_fwd = pairs + len(corpus.tgt_vocab) - 1
    nnz_rev = pairs + len(corpus.src_vocab) - 1
    tables = float(nnz_fwd + nnz_rev) * (INDEX_BYTES + np.dtype(config.storage_precision).itemsize)
    corpus_bytes = float(corpus.src.ids.nbytes + corpus.tgt.ids.nbytes + corpus.src.offsets.nbytes
                         + corpus.tgt.offsets.nbytes)
    models = {name for name, _ in parse_schedule(config.schedule)}
    phases: Dict[str, Dict[str, float]] = {}
    if models & set("12H"):
        if config.agreement:
            phases["Model 1/HMM by agreement"] = {
                "t-tables": tables, "slots": slots_fwd, "reverse slot map": float(nnz_fwd) * SLOT,
                "counts": float(nnz_fwd + nnz_rev) * COUNT_ENTRY, "M-step blocks": 2.0 * VB_BLOCK_BYTES}
        else:
            nnz, slots = max((nnz_fwd, slots_fwd), (nnz_rev, slots_rev))
            phases["Model 1/HMM, one direction"] = {
                "t-tables": tables, "slots": slots, "counts": float(nnz) * COUNT_ENTRY, "M-step blocks": VB_BLOCK_BYTES}
    fertility = bool(models & set("34"))
    working = {"Models 3/4 working memory":
               M34_WORKING_MB * MB + M34_WORKING_PER_ENTRY * float(max(nnz_fwd, nnz_rev))} if fertility else {}
    if models & set("1H") and slots_fwd / SLOT <= REUSE_MAX_SLOTS:
        phases["reverse slots derived from the forward ones"] = {
            "t-tables": tables, "slots": slots_fwd + slots_rev, "reverse slot map": float(nnz_fwd) * SLOT,
            **working}
    if fertility:
        nnz, slots = max((nnz_fwd, slots_fwd), (nnz_rev, slots_rev))
        phases["Models 3/4, one direction"] = {
            "t-tables": tables, "slots": slots, "counts": float(nnz) * COUNT_ENTRY, "log t": float(nnz) * LOG_ENTRY,
            **working}
        phases["final alignment"] = {"t-tables": tables, "slots": slots, "log t": float(nnz) * LOG_ENTRY, **working}
    else:
        phases["final alignment"] = {"t-tables": tables, "slots": max(slots_fwd, slots_rev)}
    phase, parts = max(phases.items(), key=lambda item: sum(item[1].values()))
    parts = {"corpus": corpus_bytes, **parts}
    parts_mb = {name: value / MB for name, value in parts.items()}
    return MemoryEstimate(BASELINE_MB + sum(parts_mb.values()), phase, parts_mb)


def check_memory_limit(estimate: MemoryEstimate, limit_mb: float) -> None:
    """Raise :class:`MemoryLimitError` if ``estimate`` exceeds ``limit_mb`` (0 = no limit)."""
    if limit_mb and estimate.peak_mb > limit_mb:
        raise MemoryLimitError(f"--max-memory {limit_mb:,.0f} MB: this run needs {estimate.describe()}; "
                               "raise the limit, or train on fewer lines (memory grows with the corpus)")
