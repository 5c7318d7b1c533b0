"""The Dask engine: EM's E-steps mapped over shards of the corpus held by Dask workers, reduced on
the client in shard order, so every table and alignment is bit-identical to the local run.

What lives where:

* client: the corpus, the vocabularies, the word classes, the global t-table and every other
  table, the M-steps; per shard and direction the map from the shard's table slots to the global
  ones (``slot_map``, int64, one entry per pair co-occurring in the shard).
* workers: the shards (contiguous sentence ranges, :class:`eegiza.distributed.tasks.ShardData`)
  and per shard and direction its own co-occurrence table and sentence slots
  (:class:`~eegiza.distributed.tasks.ShardSlots`), built once and held between iterations as Dask
  futures. The tasks that build them carry the shard's arrays, so a lost worker's shards are
  rebuilt elsewhere by the scheduler and the iteration's result does not change.
* per iteration, to each shard: its slice ``probs[slot_map]`` of each t-table it needs, and the
  small tables (jump and start counts, word classes; for Models 3/4 the fertility, distortion and
  p0 tables); back from each shard: integer counts of its slots, its per-sentence log-likelihoods
  (and alignments where the step produces them).

Reductions: fixed-point counts are integers, summed shard by shard (exact, as the local kernels'
per-chunk rows are); jump/start counts come back as the integers the kernels' fixed-point units
sum to; per-sentence log-likelihoods are concatenated in sentence order and summed by the same
code as the local run. Identical results follow, whatever the number of workers and threads.
(The HMM's jump and start counts are floats in the local kernels, sums of per-chunk fixed-point
values: exact, hence equal to the integer sums here, while a jump bucket's total stays below 2^23
expected jumps; beyond that the local run itself depends on its number of threads.)

Link posteriors and sentence scores (``--posteriors``/``--scores``, Model 1 or the HMM) run on the
shards too, each sentence's by the same kernel as locally, and so do the Models 3/4
neighbourhood posteriors of ``--fertility-posteriors``. Not distributed: word clustering,
vocabularies, the co-occurrence table and the M-steps.
"""
from __future__ import annotations

import atexit
import logging
import os
import time
import warnings
from dataclasses import dataclass, field, replace
from typing import Callable, Dict, List, Optional

import numpy as np

from ..ttable import COUNT_SCALE, reduce_counts
from . import tasks
from .errors import SchedulerLostError


@dataclass
class IterationTransfer:
    """One distributed step: bytes to and from the workers, wall time and the slowest shard's compute time."""

    label: str
    sent: int
    received: int
    seconds: float
    compute: float

    @property
    def transfer(self) -> float:
        """Time not spent computing on the slowest shard: transfer, (de)serialisation, scheduling."""
        return max(0.0, self.seconds - self.compute)

    def line(self) -> str:
        share = 100.0 * self.transfer / self.seconds if self.seconds > 0 else 0.0
        return (f"dask {self.label}: sent {self.sent / 1e6:.2f} MB, received {self.received / 1e6:.2f} MB; "
                f"{self.seconds:.2f} s = compute {self.compute:.2f} s + transfer/scheduling {self.transfer:.2f} s "
                f"({share:.0f}%)")


def _nbytes(obj) -> int:
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    if isinstance(obj, (tuple, list)):
        return sum(_nbytes(x) for x in obj)
    if isinstance(obj, dict):
        return sum(_nbytes(x) for x in obj.values())
    if hasattr(obj, "__dataclass_fields__"):
        return sum(_nbytes(getattr(obj, f)) for f in obj.__dataclass_fields__)
    return 8


@dataclass
class ShardSet:
    """The shards of one corpus (forward orientation), and their slot structures per direction."""

    src: object
    tgt: object
    bounds: List[int]
    futures: list
    slots: Dict[bool, list] = field(default_factory=dict)
    maps: Dict[tuple, tuple] = field(default_factory=dict)

    def sides(self, reverse: bool):
        return (self.tgt, self.src) if reverse else (self.src, self.tgt)


class DaskEngine:
    """E-steps, Models 3/4 and the alignment pass on a Dask cluster (``address``: a scheduler's
    address, or ``local:N`` for a LocalCluster of N worker processes)."""

    def __init__(self, address: str, client=None):
        from distributed import Client, LocalCluster
        self.cluster = None
        if client is not None:
            self.client = client
        elif address.startswith("local:"):
            n = int(address.split(":", 1)[1] or 0) or None
            threads = max(1, (os.cpu_count() or 1) // (n or os.cpu_count() or 1))   # the cores shared out
            self.cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                                        silence_logs=logging.ERROR, env={"NUMBA_NUM_THREADS": str(threads)})
            self.client = Client(self.cluster)
        else:
            try:
                self.client = Client(address, timeout="30s")
            except (OSError, TimeoutError) as err:
                raise SchedulerLostError(f"cannot reach the Dask scheduler at {address}: {err}") from err
        self.address = address
        self.log: List[IterationTransfer] = []
        self.progress: Optional[Callable[[str], None]] = None
        self.before_gather: Optional[Callable] = None    # tests: called with (engine, label) once tasks are out
        self._sets: Dict[tuple, ShardSet] = {}

    # ------------------------------------------------------------------ plumbing
    def n_workers(self) -> int:
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def _submit(self, fn, *args):
        with warnings.catch_warnings():   # the arrays are meant to travel in the task (rebuildable shards)
            warnings.simplefilter("ignore")
            return self.client.submit(fn, *args, pure=False)

    def _gather(self, futures):
        try:
            return self.client.gather(futures)
        except Exception as err:
            if self.client.status not in ("running",) or type(err).__name__ in (
                    "CommClosedError", "CancelledError", "FutureCancelledError", "TimeoutError", "OSError"):
                raise SchedulerLostError(f"lost the Dask scheduler at {self.address} "
                                         f"({type(err).__name__}: {err})") from err
            raise

    def _map(self, label: str, fn, per_shard_args: list, shared_futures: list):
        """Submit ``fn(*futures, *args)`` per shard, gather in shard order; logs the transfer."""
        t0 = time.perf_counter()
        sent = sum(_nbytes(a) for a in per_shard_args)
        futures = [self._submit(fn, *fut, *args) for fut, args in zip(shared_futures, per_shard_args)]
        if self.before_gather is not None:
            self.before_gather(self, label)
        results = self._gather(futures)
        outs = [r[0] for r in results]
        entry = IterationTransfer(label, sent, sum(_nbytes(o) for o in outs), time.perf_counter() - t0,
                                  max(r[1] for r in results))
        self.log.append(entry)
        if self.progress is not None:
            self.progress(entry.line())
        return outs

    # ------------------------------------------------------------------ shards
    def shards(self, corpus):
        """(shard set, reverse) of ``corpus`` (or of the corpus it is the reverse of)."""
        key = (id(corpus.src), id(corpus.tgt))
        if key in self._sets:
            return self._sets[key], False
        rkey = (id(corpus.tgt), id(corpus.src))
        if rkey in self._sets:
            return self._sets[rkey], True
        n_sent = len(corpus)
        n_shards = max(1, min(self.n_workers(), n_sent))
        bounds = [k * n_sent // n_shards for k in range(n_shards + 1)]
        t0 = time.perf_counter()
        futures, sent = [], 0
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            sub = corpus.subset(lo, hi)
            args = (lo, hi, sub.src.ids, sub.src.offsets, sub.tgt.ids, sub.tgt.offsets)
            sent += _nbytes(args)
            futures.append(self._submit(tasks.make_shard, *args))
        entry = IterationTransfer(f"shards ({n_shards})", sent, 0, time.perf_counter() - t0, 0.0)
        self.log.append(entry)
        shard_set = ShardSet(corpus.src, corpus.tgt, bounds, futures)
        self._sets[key] = shard_set
        return shard_set, False

    def _slot_maps(self, corpus, ttable):
        """(shard set, reverse, slot futures, maps): ``maps[k]`` the global slot of each of shard
        k's table slots (-1: not in ``ttable``, new text)."""
        shard_set, reverse = self.shards(corpus)
        if reverse not in shard_set.slots:
            n_src, n_tgt = len(corpus.src_vocab), len(corpus.tgt_vocab)
            shard_set.slots[reverse] = [self._submit(tasks.make_slots, f, reverse, n_src, n_tgt)
                                        for f in shard_set.futures]
        key = (reverse, id(ttable.indptr), id(ttable.indices))
        if key not in shard_set.maps:
            t0 = time.perf_counter()
            pairs = self._gather([self._submit(tasks.slot_pairs, f) for f in shard_set.slots[reverse]])
            maps = [ttable.find_slots(rows, cols) for rows, cols in pairs]
            self.log.append(IterationTransfer("slot maps", 0, sum(_nbytes(p) for p in pairs),
                                              time.perf_counter() - t0, 0.0))
            shard_set.maps[key] = (ttable.indptr, ttable.indices, maps)
        return shard_set, reverse, shard_set.slots[reverse], shard_set.maps[key][2]

    @staticmethod
    def _slices(probs, maps, floor):
        """Each shard's t probabilities; ``floor`` where the table lacks the shard's pair (new
        text, or pruned after Model 1/HMM): the local kernels take the float64 floor there, so a
        shard with such pairs gets float64 values (a float32 slice would round the floor)."""
        return [np.where(m >= 0, probs[np.maximum(m, 0)], np.float64(floor) if (m < 0).any() else floor)
                for m in maps]

    @staticmethod
    def _counts(shard_counts, maps, nnz):
        """Integer counts of the global table, shard by shard, as one fixed-point 'chunk' row."""
        total = np.zeros(nnz, np.int64)
        for counts, m in zip(shard_counts, maps):
            ok = m >= 0
            total[m[ok]] += counts[ok]
        return total.reshape(1, -1)

    # ------------------------------------------------------------------ E-steps
    def agreement_estep(self, is_hmm: bool, config, corpus, fwd, rev):
        """The joint E-step of Model 1 or the HMM for both directions (``fwd``/``rev``: the
        directions' ``_DirectionTraining``); returns what :func:`eegiza.models.agreement.estep` does."""
        from ..models import hmm
        shard_set, _, f_slots, f_maps = self._slot_maps(corpus, fwd.model.ttable)
        _, _, r_slots, r_maps = self._slot_maps(corpus.reversed(), rev.model.ttable)
        floor = config.prob_smooth
        f_probs = self._slices(fwd.model.ttable.probs, f_maps, floor)
        r_probs = self._slices(rev.model.ttable.probs, r_maps, floor)

        def small(d):
            m = d.model
            jump, start = (m.jump, m.start) if m.jump is not None else hmm.initial_jump_counts(1)
            return m.src_class, jump, start

        fs, rs = small(fwd), small(rev)
        args = [(is_hmm, config.agreement_power, floor, config.hmm_p_null, config.hmm_jump_smooth,
                 f_probs[k], *fs, r_probs[k], *rs) for k in range(len(f_maps))]
        futs = [(shard_set.futures[k], f_slots[k], r_slots[k]) for k in range(len(f_maps))]
        label = f"{'HMM' if is_hmm else 'Model 1'} E-step (agreement)"
        outs = self._map(label, tasks.agreement_task, args, futs)
        f_counts = self._counts([o[0] for o in outs], f_maps, fwd.model.ttable.nnz)
        r_counts = self._counts([o[4] for o in outs], r_maps, rev.model.ttable.nnz)
        return (f_counts, self._float(outs, 1), self._float(outs, 2), np.concatenate([o[3] for o in outs]),
                r_counts, self._float(outs, 5), self._float(outs, 6), np.concatenate([o[7] for o in outs]))

    @staticmethod
    def _float(outs, i):
        total = outs[0][i].copy()
        for o in outs[1:]:
            total += o[i]
        return total / COUNT_SCALE

    def direction_estep(self, training, name: str):
        """One direction's own E-step of Model 1 or the HMM, as ``_DirectionTraining.estep``."""
        model, config = training.model, training.config
        shard_set, _, slots, maps = self._slot_maps(training.corpus, model.ttable)
        probs = self._slices(model.ttable.probs, maps, config.prob_smooth)
        args = [(name, probs[k], config.prob_smooth, model.src_class, model.jump, model.start, config.hmm_p_null,
                 config.hmm_jump_smooth) for k in range(len(maps))]
        futs = [(shard_set.futures[k], slots[k]) for k in range(len(maps))]
        label = f"{'Model 1' if name == '1' else 'HMM'} E-step {training.tag}".strip()
        outs = self._map(label, tasks.direction_task, args, futs)
        counts = self._counts([o[0] for o in outs], maps, model.ttable.nnz)
        loglik = np.concatenate([o[3] for o in outs])
        if name == "H":
            training.set_jumps(self._float(outs, 1), self._float(outs, 2))
        return counts, loglik

    def model2_estep(self, training):
        """One direction's Model-2 E-step: (fixed-point t counts as one row, float a counts,
        per-sentence log-likelihoods), as :func:`eegiza.models.ibm2.estep` gives them."""
        model, config = training.model, training.config
        shard_set, _, slots, maps = self._slot_maps(training.corpus, model.ttable)
        probs = self._slices(model.ttable.probs, maps, config.prob_smooth)
        a_arrays = model.atable.arrays()
        args = [(probs[k], config.prob_smooth, a_arrays) for k in range(len(maps))]
        futs = [(shard_set.futures[k], slots[k]) for k in range(len(maps))]
        outs = self._map(f"Model 2 E-step {training.tag}".strip(), tasks.model2_task, args, futs)
        a_counts = outs[0][1].copy()
        for o in outs[1:]:
            a_counts += o[1]
        return (self._counts([o[0] for o in outs], maps, model.ttable.nnz), reduce_counts(a_counts),
                np.concatenate([o[2] for o in outs]))

    # ------------------------------------------------------------------ alignment
    def align(self, model, corpus):
        """:func:`eegiza.train.align_direction` on the cluster: (links, scores)."""
        from ..models.fertility import align_fertility
        if model.last_model in "34":
            start, _ = self.align(replace(model, last_model=model.base_model), corpus)
            return align_fertility(model.fertility, model.ttable, corpus, start, None, model.min_link_posterior,
                                   run_corpus=self.run_corpus)
        shard_set, reverse, slots, maps = self._slot_maps(corpus, model.ttable)
        probs = self._slices(model.ttable.probs, maps, model.prob_smooth)
        if model.last_model == "2":
            args = [(probs[k], model.prob_smooth, model.atable.arrays()) for k in range(len(maps))]
            futs = [(shard_set.futures[k], slots[k]) for k in range(len(maps))]
            outs = self._map(f"alignment {'rev' if reverse else 'fwd'}", tasks.model2_align_task, args, futs)
            return np.concatenate([o[0] for o in outs]), np.concatenate([o[1] for o in outs])
        args = [(model.last_model, probs[k], model.prob_smooth, model.src_class, model.jump, model.start,
                 model.hmm_p_null, model.hmm_jump_smooth, model.hmm_link_posterior) for k in range(len(maps))]
        futs = [(shard_set.futures[k], slots[k]) for k in range(len(maps))]
        outs = self._map(f"alignment {'rev' if reverse else 'fwd'}", tasks.align_task, args, futs)
        return np.concatenate([o[0] for o in outs]), np.concatenate([o[1] for o in outs])

    def posteriors(self, model, corpus):
        """:func:`eegiza.models.posteriors.direction_posteriors` on the cluster: (posteriors,
        offsets, log-likelihoods, model name); the shards' rows concatenated in sentence order."""
        from ..models.posteriors import posterior_model
        name = posterior_model(model)
        shard_set, reverse, slots, maps = self._slot_maps(corpus, model.ttable)
        probs = self._slices(model.ttable.probs, maps, model.prob_smooth)
        jump, start = (model.jump, model.start) if name == "H" else (np.zeros((1, 1)), np.zeros(1))
        args = [(name, probs[k], model.prob_smooth, model.src_class, jump, start, model.hmm_p_null,
                 model.hmm_jump_smooth) for k in range(len(maps))]
        futs = [(shard_set.futures[k], slots[k]) for k in range(len(maps))]
        outs = self._map(f"posteriors {'rev' if reverse else 'fwd'}", tasks.posterior_task, args, futs)
        offsets, base = [np.zeros(1, np.int64)], 0
        for _, off, _ in outs:
            offsets.append(off[1:] + base)
            base += int(off[-1])
        return (np.concatenate([o[0] for o in outs]), np.concatenate(offsets), np.concatenate([o[2] for o in outs]),
                name)

    def fertility_posteriors(self, model, corpus, positions):
        """:func:`eegiza.models.neighbourhood.fertility_posteriors` on the cluster: (posteriors,
        offsets) around ``positions``, the shards' rows concatenated in sentence order."""
        from ..models.fertility import corpus_tables
        shard_set, reverse, slots, maps = self._slot_maps(corpus, model.ttable)
        probs = self._slices(model.ttable.probs, maps, model.prob_smooth)
        fertility = replace(model.fertility, log=[], a_table=None, output=None)
        tables = corpus_tables(model.fertility, corpus)
        t_off = corpus.tgt.offsets
        args = [(fertility, model.last_model, probs[k], np.ascontiguousarray(positions[t_off[lo]:t_off[hi]]), tables)
                for k, (lo, hi) in enumerate(zip(shard_set.bounds[:-1], shard_set.bounds[1:]))]
        futs = [(shard_set.futures[k], slots[k]) for k in range(len(maps))]
        outs = self._map(f"neighbourhood posteriors {'rev' if reverse else 'fwd'}", tasks.fertility_posterior_task,
                         args, futs)
        off = np.zeros(len(corpus) + 1, np.int64)
        np.cumsum((corpus.src.lengths + 1) * corpus.tgt.lengths, out=off[1:])
        return np.concatenate([o[0] for o in outs]), off

    # ------------------------------------------------------------------ Models 3/4
    def run_corpus(self, model, ttable, corpus, start, n_probs, src_class, tgt_class, climb, neighbours,
                   from_model4, collect, collect_d4, n_chunks, min_posterior: float = 0.0, decode: bool = False,
                   slots=None):
        """:func:`eegiza.models.fertility._run_corpus` over the shards: same return values, the
        counts as one fixed-point row each."""
        shard_set, reverse, shard_slots, maps = self._slot_maps(corpus, ttable)
        probs = self._slices(ttable.probs, maps, model.params.prob_smooth)
        t_off = corpus.tgt.offsets
        start = np.ascontiguousarray(start, dtype=np.int32)
        flags = (climb, neighbours, from_model4, collect, collect_d4)
        n_probs = None if n_probs is model.n_table else n_probs    # sent once, in the model
        model = replace(model, log=[], a_table=None, output=None)   # what the kernels do not use stays here
        args = []
        for k, (lo, hi) in enumerate(zip(shard_set.bounds[:-1], shard_set.bounds[1:])):
            args.append((model, probs[k], start[t_off[lo]:t_off[hi]], n_probs, src_class, tgt_class, flags,
                         float(min_posterior), decode))
        futs = [(shard_set.futures[k], shard_slots[k]) for k in range(len(maps))]
        label = ("Model 3/4 iteration" if collect and neighbours else "Model 3/4 transfer" if collect
                 else "Model 3/4 alignment") + (" rev" if reverse else " fwd")
        outs = self._map(label, tasks.fertility_task, args, futs)
        positions = np.concatenate([o[0] for o in outs])
        scores = np.concatenate([o[1] for o in outs])
        loglik = np.concatenate([o[2] for o in outs])
        decoded = np.concatenate([o[4] for o in outs])
        tc = self._counts([o[3][0] for o in outs], maps, ttable.nnz) if collect else np.zeros((1, 0), np.int64)
        rest = []
        for i in range(1, 6):
            total = outs[0][3][i].copy()
            for o in outs[1:]:
                total += o[3][i]
            rest.append(total.reshape(1, -1))
        return (positions, scores, loglik, tc, *rest, decoded)


_ENGINES: Dict[str, DaskEngine] = {}


def engine_for(address: str) -> DaskEngine:
    """The engine of ``address`` (one per address and process, connected on first use)."""
    engine = _ENGINES.get(address)
    if engine is None or engine.client.status not in ("running", "connecting"):
        if not _ENGINES:
            atexit.register(close_engines)
        engine = _ENGINES[address] = DaskEngine(address)
    return engine


def close_engines() -> None:
    """Close every engine's client (and LocalCluster) of this process."""
    while _ENGINES:
        _, engine = _ENGINES.popitem()
        try:
            engine.close()
        except Exception:   # closing a broken connection: nothing more to do
            pass
