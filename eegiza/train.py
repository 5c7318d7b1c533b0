"""EM driver: trains the aligner (one direction, or both jointly) through a schedule, logging every iteration.

A :class:`DirectionModel` holds everything a trained direction needs to align new text: the
t-table, the Model 2 a-table, the HMM jump tables and word classes, the Model 3/4 tables, and the
name of the last model trained. Training is ``train_direction(corpus, config)`` for one direction
(as GIZA++) or ``train_pair(corpus, config)`` for both (jointly by agreement if configured); alignment is
``align_direction(model, corpus)`` under the last model of the schedule: Viterbi for Models 1, 2
and the HMM; for Models 3 and 4, hill-climbing from the Viterbi alignment of the last of those
(GIZA++'s procedure).
"""
from __future__ import annotations

import copy
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Callable, List, Optional

import numba
import numpy as np
from scipy.special import digamma

from .config import AlignerConfig
from .distributed.errors import SchedulerLostError
from .heap import release_free_memory
from .iterations import IterationLog, perplexity
from .models import agreement, hmm, ibm1, ibm2
from .models.fertility import FertilityModel, FertilityParams, align_fertility, train_fertility
from .offload import Offloaded
from .phases import NO_PROFILE, PhaseProfile
from .schedule import MODEL_NAMES, ScheduleError, parse_schedule
from .slot_source import SlotSource, looks_up
from .slot_transpose import REUSE_MAX_SLOTS, SlotTranspose, corpus_slot_count
from .tprune import own_keep, prune_table, slot_map
from .ttable import TTable, fixed_to_float, row_sums


@dataclass
class DirectionModel:
    """One trained direction P(tgt | src): every table needed to align new text."""

    ttable: TTable
    last_model: str
    src_class: np.ndarray
    jump: Optional[np.ndarray] = None
    start: Optional[np.ndarray] = None
    hmm_p_null: float = 0.2
    hmm_jump_smooth: float = 0.2
    prob_smooth: float = 1e-7
    log: List[IterationLog] = field(default_factory=list)
    atable: Optional[ibm2.ATable] = None
    fertility: Optional[FertilityModel] = None
    base_model: str = ""   # the last of Models 1, 2, H: its Viterbi alignment seeds Models 3/4
    # the alignment (links, scores) found in the last Model-3/4 iteration, under the model before its update
    found: Optional[tuple] = None
    a_counts: Optional[np.ndarray] = None  # the last Model-2 iteration's a counts (GIZA's `.a2.N`)
    min_link_posterior: float = 0.0   # Models 3/4 output: unalign uncertain links (align_fertility)
    hmm_link_posterior: float = 0.0   # HMM output: posterior decoding at this threshold (0 = Viterbi)
    t_pruned_below: float = 0.0       # the t-table lost its entries below this after Model 1/HMM (eegiza.tprune)


@dataclass
class DirectionState:
    """Where one direction's training stands, enough to resume it bit for bit (:mod:`eegiza.checkpoint`):
    ``done`` iterations of the schedule completed (in the order they run: Models 1, 2, H, then 3/4),
    ``model`` its tables after them (None when ``done`` is 0) and ``start``, the Models 3/4 start
    alignment (the base model's Viterbi alignment, which they climb from in every iteration), once
    computed. Models 3/4 keep the rest in the model: ``model.fertility`` (n, p0, d and Model-4
    tables), ``model.found`` (the last iteration's alignment: the next climb's start with
    ``climb_from_previous``) and ``model.fertility.output`` (the training corpus' alignment)."""

    done: int
    model: Optional[DirectionModel] = None
    start: Optional[np.ndarray] = None


def schedule_length(schedule: str) -> int:
    """The number of iterations of a schedule (per direction)."""
    return sum(n for _, n in parse_schedule(schedule))


ProgressFn = Callable[[str], None]
PHASE_NAMES = {"1": "Model 1", "2": "Model 2", "H": "HMM", "Model3": "Model 3", "T3To4": "Model 3->4",
               "Model4": "Model 4"}


def thread_count(threads: int) -> int:
    """The worker threads a run with ``--threads threads`` uses (0 = all cores, at most all)."""
    return numba.config.NUMBA_NUM_THREADS if threads <= 0 else min(threads, numba.config.NUMBA_NUM_THREADS)


def set_threads(threads: int) -> None:
    """Use ``threads`` worker threads (0 = all cores) in the Numba kernels."""
    numba.set_num_threads(thread_count(threads))


def m_step(ttable: TTable, counts: np.ndarray, config: AlignerConfig, prior=None, bayes: bool = True) -> None:
    """New t(f|e) from expected counts: maximum likelihood, or (``bayes`` and ``config.vb_alpha``
    > 0) variational Bayes with a symmetric Dirichlet(vb_alpha), then the optional prior mixed in
    (``prior.apply``). The new probabilities are written over the old ones (same array)."""
    if bayes and config.vb_alpha > 0:
        out = ttable.probs if ttable.probs.shape == counts.shape else None
        ttable.probs = variational_bayes_probs(ttable.indptr, counts, config.vb_alpha, out)
    else:
        ttable.set_from_counts(counts)
    if prior is not None:
        prior.apply(ttable, counts)


VB_BLOCK = 1 << 17   # table slots per block of the variational-Bayes M-step (its temporaries: about 8 MB)


def variational_bayes_probs(indptr: np.ndarray, counts: np.ndarray, alpha: float,
                            out: Optional[np.ndarray] = None) -> np.ndarray:
    """t(f|e) = exp(psi(c(e,f) + a)) / exp(psi(c(e) + a * V_e)), V_e the row's size (Riley &
    Gildea 2012; fast_align ``-v``). Sub-normalised: rare words stop "collecting" translations.
    Computed in blocks of :data:`VB_BLOCK` slots, so the only table-sized array is the result
    (``out``, if given, which may not be ``counts``); float32 counts are summed in float64."""
    sizes = np.diff(indptr)
    row_denom = digamma(row_sums(indptr, counts) + alpha * sizes)
    out = np.empty(len(counts)) if out is None else out
    first = 0   # blocks of whole rows, about VB_BLOCK slots each (one row if it is longer)
    while first < len(sizes):
        end = max(first + 1, int(np.searchsorted(indptr, indptr[first] + VB_BLOCK, side="right")) - 1)
        lo, hi = indptr[first], indptr[end]
        out[lo:hi] = np.exp(digamma(np.asarray(counts[lo:hi], np.float64) + alpha)
                            - np.repeat(row_denom[first:end], sizes[first:end]))
        first = end
    return out


def _log_iteration(model: DirectionModel, name: str, it: int, loglik: float, n_tokens: int, t0: float,
                   progress: Optional[ProgressFn]) -> None:
    entry = IterationLog(MODEL_NAMES[name], it, perplexity(loglik, n_tokens), loglik, time.perf_counter() - t0)
    model.log.append(entry)
    if progress is not None:
        progress(f"{entry.model} iteration {it}: perplexity {entry.perplexity:.4g} ({entry.seconds:.2f} s)")


def fertility_params_of(config: AlignerConfig) -> FertilityParams:
    """The Model 3/4 parameters of a configuration."""
    return FertilityParams(p0=config.p0, nsmooth=config.nsmooth, model4smoothfactor=config.model4_smooth,
                           maxfertility=config.max_fertility, prob_smooth=config.prob_smooth,
                           pegging=config.pegging, warm_start=config.climb_from_previous,
                           neighbourcutoff=config.model4_neighbour_cutoff)


def train_direction(corpus, config: AlignerConfig, src_class: Optional[np.ndarray] = None,
                    prior_factory=None, progress: Optional[ProgressFn] = None,
                    on_iteration=None, initial: Optional[DirectionModel] = None,
                    tgt_class: Optional[np.ndarray] = None,
                    fertility_params: Optional[FertilityParams] = None,
                    initial_as_is: bool = False) -> DirectionModel:
    """Train P(tgt | src) on ``corpus`` through ``config.schedule`` (independently of the other
    direction, as GIZA++ does; :func:`train_pair` trains both, by agreement if configured).

    ``prior_factory(ttable)``, if given, is called once with the co-occurrence t-table of this
    direction and returns an object whose ``apply(ttable, counts)`` mixes a prior into t(f|e)
    after every M-step (see :mod:`eegiza.embeddings`). ``on_iteration(name, iteration, model)``,
    if given, is called after every iteration with the model as it stands (``model.last_model``
    is the model being trained), e.g. to dump tables and alignments as GIZA++ does.
    ``initial``: a model trained before (same vocabulary ids) to start from instead of uniform
    tables: its t(f|e) (pairs it lacks get the floor; rows renormalised when a model of 1, 2, H
    trains, as given when training starts with Model 3/4) and, for the HMM, its jump tables. A
    schedule of Models 3/4 only needs an ``initial`` with a ``base_model`` (its HMM jump tables,
    Model 2 a-table or t alone give the start alignments) and optionally its ``fertility`` tables
    (then the transfer is skipped: MGIZA's ``-restart 9..11``).
    ``tgt_class``: target word classes (Model 4's non-head distortion); ``fertility_params``
    override the Model 3/4 parameters of ``config``. ``initial_as_is``: take the initial t(f|e)
    without renormalising the rows (continued training: on the same corpus, training on from a
    saved model is then training longer; the first M-step normalises)."""
    training = _DirectionTraining(corpus, config, src_class, prior_factory, progress, on_iteration, initial,
                                  initial_as_is=initial_as_is)
    return training.run(tgt_class, fertility_params)


def train_pair(corpus, config: AlignerConfig, src_class: Optional[np.ndarray] = None,
               tgt_class: Optional[np.ndarray] = None, fwd_prior=None, rev_prior=None,
               fwd_progress: Optional[ProgressFn] = None, rev_progress: Optional[ProgressFn] = None,
               profile: PhaseProfile = NO_PROFILE, resume: Optional[tuple] = None,
               initial: Optional[tuple] = None, initial_as_is: bool = False):
    """Train both directions, (P(tgt | src), P(src | tgt)). With ``config.agreement`` the Model 1 and
    HMM iterations of both run in lockstep with a joint E-step (:mod:`eegiza.models.agreement`);
    Model 2, 3 and 4 iterations stay per direction. Otherwise as two :func:`train_direction` calls.
    ``fwd_prior``/``rev_prior``: each direction's ``prior_factory``; ``profile`` gets a mark after
    every iteration (:mod:`eegiza.phases`). ``resume``: the (forward, reverse) :class:`DirectionState`
    of an interrupted run of the same corpus and configuration: only the iterations after them run,
    and the result is the uninterrupted run's, bit for bit. ``initial``: (forward, reverse) models to
    start from and ``initial_as_is``, as :func:`train_direction` takes them (continued training).

    A lost Dask scheduler (:class:`eegiza.distributed.SchedulerLostError`) leaves with both
    directions' state after their last completed iteration in the error's ``state``."""
    resume = resume or (None, None)
    states = {"fwd": resume[0] or DirectionState(0), "rev": resume[1] or DirectionState(0)}
    try:
        return _train_pair(corpus, config, src_class, tgt_class, fwd_prior, rev_prior, fwd_progress, rev_progress,
                           profile, resume, states, initial, initial_as_is)
    except SchedulerLostError as err:
        err.state = tuple(s() if callable(s) else s for s in (states["fwd"], states["rev"]))
        raise


def _train_pair(corpus, config, src_class, tgt_class, fwd_prior, rev_prior, fwd_progress, rev_progress, profile,
                resume, states, initial, initial_as_is):
    """:func:`train_pair`; ``states[tag]``: the direction's state, or the function that takes it."""
    rev_corpus = corpus.reversed()
    engine = _engine(config, fwd_progress)
    fwd_initial, rev_initial = initial if initial is not None else (None, None)
    fwd = _DirectionTraining(corpus, config, src_class, fwd_prior, fwd_progress, initial=fwd_initial,
                             profile=profile, tag="fwd", resume=resume[0], initial_as_is=initial_as_is)
    states["fwd"] = fwd.state
    if not config.agreement:   # one direction after the other; its tables count to its first model's phase
        fwd_model = fwd.run(tgt_class)
        states["fwd"] = fwd.state()
        del fwd
        with Offloaded(_table_arrays(fwd_model.ttable) if engine is None else []):   # unread while rev trains
            rev = _DirectionTraining(rev_corpus, config, tgt_class, rev_prior, rev_progress, initial=rev_initial,
                                     profile=profile, tag="rev", resume=resume[1], initial_as_is=initial_as_is)
            states["rev"] = rev.state
            return fwd_model, rev.run(src_class)
    # the reverse direction's slots in the joint E-step are the forward ones, mapped (agreement.reverse_slot_map)
    rev = _DirectionTraining(rev_corpus, config, tgt_class, rev_prior, rev_progress, initial=rev_initial,
                             profile=profile, tag="rev", own_slots=False, resume=resume[1],
                             initial_as_is=initial_as_is)
    states["rev"] = rev.state
    if min(fwd.done, fwd.n_base) != min(rev.done, rev.n_base):
        raise ValueError(f"cannot resume: the directions' Model 1/HMM iterations ({fwd.done}, {rev.done}) differ, "
                         "but they train in lockstep (agreement)")
    # (on a cluster each shard maps its own slots; none is needed once Model 1/HMM are done: resumed
    # after them, the tables may be pruned, each direction its own)
    rev_slot_map = (agreement.reverse_slot_map(fwd.model.ttable, rev.model.ttable)
                    if engine is None and fwd.done < fwd.n_base else None)
    release_free_memory()
    profile.mark("co-occurrence tables")
    with ThreadPoolExecutor(max_workers=1) as m_steps, Offloaded(_unread_in_joint_estep(fwd, rev, rev_slot_map)):
        # the translation counts in 4-byte entries where they fit (eegiza.fixed_counts)
        layouts = (agreement.count_layouts(corpus, fwd.estep_arrays()[0], *rev_slot_map, fwd.model.ttable.nnz,
                                           rev.model.ttable.nnz) if rev_slot_map is not None else None)
        for name, it in fwd.base_iterations():
            if it == 1:
                fwd.begin(name)
                rev.begin(name)
            t0 = time.perf_counter()
            if name == "2":
                fwd.end_iteration(name, it, *fwd.estep(name), t0)
                rev.end_iteration(name, it, *rev.estep(name), t0)
                continue
            # (the iteration's profile mark, under the model's name, comes from rev.close_iteration)
            is_hmm = name == "H"
            if engine is not None:   # issue 17: the same E-step on the Dask cluster's shards
                (f_counts, f_jumps, f_starts, f_loglik, r_counts, r_jumps, r_starts,
                 r_loglik) = engine.agreement_estep(is_hmm, config, corpus, fwd, rev)
            else:
                (f_counts, f_jumps, f_starts, f_loglik, r_counts, r_jumps, r_starts,
                 r_loglik) = agreement.estep(
                    is_hmm, config.agreement_power, corpus.src.ids, corpus.src.offsets, corpus.tgt.ids,
                    corpus.tgt.offsets, config.prob_smooth, config.hmm_p_null, config.hmm_jump_smooth,
                    numba.get_num_threads(), *fwd.estep_arrays(), *rev_slot_map, *rev.estep_arrays()[1:],
                    layouts[0].zeros(), layouts[1].zeros())
            if is_hmm:
                fwd.set_jumps(f_jumps, f_starts)
                rev.set_jumps(r_jumps, r_starts)
            # float counts in the fixed-point arrays' memory; then both M-steps at once (mostly
            # NumPy/SciPy, one core each; the directions share nothing)
            f_counts = fixed_to_float(f_counts, fwd.model.ttable.probs.dtype)
            r_counts = fixed_to_float(r_counts, rev.model.ttable.probs.dtype)
            if _concurrent_kernels_ok():
                rev_update = m_steps.submit(rev.update_t, name, r_counts)
                fwd.update_t(name, f_counts)
                rev_update.result()
            else:
                fwd.update_t(name, f_counts)
                rev.update_t(name, r_counts)
            del f_counts, r_counts
            fwd.close_iteration(name, it, f_loglik, t0)
            rev.close_iteration(name, it, r_loglik, t0)
        # each direction prunes its own t-table (eegiza.tprune), one after the other while the
        # other's target ids are still out of memory; the pruned arrays replace the offloaded ones
        del rev_slot_map, layouts
        fwd.prune_negligible_t()
        rev.prune_negligible_t()   # (now: its table is held, smaller, while the forward direction trains)
    # Models 3/4 one direction after the other (both cores are busy within each); without pruning
    # the reverse direction's slots are the forward ones transposed (slot_transpose), built when it
    # gets there; after pruning it searches its own
    keep_slots = (rev.wants_slots() and corpus_slot_count(corpus) <= REUSE_MAX_SLOTS
                  and not (fwd.model.t_pruned_below or rev.model.t_pruned_below))
    # each direction's table is out of memory while the other one's Models 3/4 train (eegiza.offload)
    idle = engine is None and not keep_slots and bool(fwd.fertility_items)
    with Offloaded(_table_arrays(rev.model.ttable) if idle else []):
        fwd_model = fwd.finish(tgt_class, keep_slots=keep_slots)
    fwd_slots, fwd.kept_slots = fwd.kept_slots, None
    if fwd_slots is not None:
        rev.take_slots(SlotTranspose(fwd.model.ttable, rev.model.ttable).reverse_slots(corpus, fwd_slots))
    del fwd_slots
    with Offloaded(_table_arrays(fwd_model.ttable) if idle else []):
        return fwd_model, rev.finish(src_class)


def _table_arrays(ttable) -> list:
    """A t-table's arrays for :class:`eegiza.offload.Offloaded`, the row pointers aside (small)."""
    return [(ttable, "indices"), (ttable, "probs")]


def _unread_in_joint_estep(fwd, rev, rev_slot_map) -> list:
    """The arrays the joint Model 1/HMM iterations do not read (:mod:`eegiza.offload`): both tables'
    target ids, when the forward slots are stored (an index reads them), the reverse ones are mapped
    from them, and no Model 2 iteration (its kernels search the table) is left."""
    if (rev_slot_map is None or fwd.source is None or fwd.source.needs_table_indices
            or any(name == "2" for name, _ in fwd.base_items)):
        return []
    return [(fwd.model.ttable, "indices"), (rev.model.ttable, "indices")]


def _concurrent_kernels_ok() -> bool:
    """Parallel Numba kernels (the priors' M-step kernels) may run from two threads at once: not
    with Numba's 'workqueue' threading layer (used when neither OpenMP nor TBB is installed)."""
    try:
        return numba.threading_layer() != "workqueue"
    except ValueError:   # no parallel kernel has run yet
        return False


def _engine(config: AlignerConfig, progress: Optional[ProgressFn] = None):
    """The Dask engine of ``config.scheduler`` (issue 17, :mod:`eegiza.distributed`), or None: local."""
    if not getattr(config, "scheduler", None):
        return None
    from .distributed import engine_for
    engine = engine_for(config.scheduler)
    if progress is not None:   # its lines (transfer per step) say which direction they are about
        engine.progress = progress
    return engine


class _DirectionTraining:
    """One direction while it trains: Models 1, 2 and the HMM iteration by iteration (``begin``,
    ``estep``, ``end_iteration``), then Models 3/4 in ``finish``. See :func:`train_direction` for
    the arguments."""

    def __init__(self, corpus, config: AlignerConfig, src_class, prior_factory, progress, on_iteration=None,
                 initial: Optional[DirectionModel] = None, profile: PhaseProfile = NO_PROFILE, tag: str = "",
                 own_slots: bool = True, resume: Optional[DirectionState] = None,
                 initial_as_is: bool = False):
        schedule = parse_schedule(config.schedule)
        self.base_items = [(n, c) for n, c in schedule if n in "12H"]
        self.fertility_items = [(n, c) for n, c in schedule if n in "34"]
        if self.fertility_items and not self.base_items and (initial is None or not initial.base_model):
            raise ScheduleError(f"schedule {config.schedule!r}: Models 3/4 start from the alignment of Model 1, 2 "
                                "or the HMM; train at least one of those first (or start from a model that has one)")
        set_threads(config.threads)
        if src_class is None:
            src_class = np.zeros(len(corpus.src_vocab), np.int32)
        self.n_classes = int(src_class.max()) + 1 if len(src_class) else 1
        ttable = TTable.from_corpus(corpus, config.storage_precision)
        if initial is not None:
            if self.base_items and not initial_as_is:
                ttable.take_probs_from(initial.ttable, config.prob_smooth)
            else:
                ttable.probs = ttable.probs_in(initial.ttable, config.prob_smooth)
        self.prior = prior_factory(ttable) if prior_factory is not None else None
        self.model = DirectionModel(ttable, schedule[-1][0], src_class, hmm_p_null=config.hmm_p_null,
                                    hmm_jump_smooth=config.hmm_jump_smooth, prob_smooth=config.prob_smooth,
                                    min_link_posterior=config.min_link_posterior,
                                    hmm_link_posterior=config.hmm_link_posterior)
        if initial is not None and not self.base_items:
            self.model.jump, self.model.start, self.model.atable = initial.jump, initial.start, initial.atable
        self.n_base = sum(n for _, n in self.base_items)
        self.done, self.start = 0, None    # iterations completed; the Models 3/4 start alignment
        self.kept_slots = None             # see finish(keep_slots=True)
        if resume is not None and resume.done > 0:
            self._restore(resume, ttable, schedule)
        # the corpus' t-table slots for Models 1 and H, stored or looked up (eegiza.slot_source; own_slots
        # False: the E-step gets them elsewhere; on a Dask cluster the workers hold their shards' slots)
        self.engine = _engine(config)   # issue 17: None = the local engine
        self.look_up = looks_up(corpus, config.max_slot_mb)
        self.source = (SlotSource.of(corpus, self.model.ttable, self.look_up) if self.base_items and own_slots
                       and self.engine is None else None)
        self.corpus, self.config, self.progress, self.on_iteration, self.initial = (
            corpus, config, progress, on_iteration, initial)
        self.profile, self.tag = profile, tag

    def _restore(self, state: DirectionState, ttable: TTable, schedule) -> None:
        """Continue from ``state`` (a run of the same corpus and schedule): its tables, its t
        probabilities on this run's t-table (the same pairs, or after Model 1/HMM the pairs pruning
        kept), its Models 3/4 start alignment."""
        total = sum(n for _, n in schedule)
        model = state.model
        pruned = model is not None and model.t_pruned_below > 0 and state.done >= self.n_base
        if (model is None or not 0 < state.done <= total or model.ttable.n_src != ttable.n_src
                or (model.ttable.nnz != ttable.nnz and not pruned)):
            raise ValueError(f"cannot resume: a state of {state.done} iterations (t-table of "
                             f"{None if model is None else model.ttable.nnz} pairs) does not fit a schedule of "
                             f"{total} iterations on this corpus ({ttable.nnz} pairs)")
        if state.done > self.n_base and state.done < total and (state.start is None or model.fertility is None):
            raise ValueError("cannot resume Models 3/4: the state lacks their start alignment or tables")
        if pruned:   # the pairs pruning kept (the prior renumbered to them)
            if self.prior is not None:
                self.prior = self.prior.restricted(slot_map(ttable, model.ttable), model.ttable.nnz)
            ttable = TTable(model.ttable.indptr, model.ttable.indices, model.ttable.probs, ttable.dtype)
        # copies of what training updates in place, so ``state`` can be resumed again
        ttable.probs = model.ttable.probs.copy()
        self.model = replace(model, ttable=ttable, log=list(model.log), atable=copy.deepcopy(model.atable),
                             fertility=copy.deepcopy(model.fertility))
        self.done, self.start = state.done, state.start

    def state(self) -> DirectionState:
        """This direction's :class:`DirectionState` (after its last completed iteration)."""
        return DirectionState(self.done, self.model if self.done else None, self.start)

    def base_iterations(self):
        """(model name, iteration) of the Model 1, 2 and HMM iterations not yet done."""
        k = 0
        for name, n_iter in self.base_items:
            for it in range(1, n_iter + 1):
                k += 1
                if k > self.done:
                    yield name, it

    def run(self, tgt_class: Optional[np.ndarray] = None,
            fertility_params: Optional[FertilityParams] = None) -> DirectionModel:
        """The whole schedule of this direction alone (no agreement)."""
        for name, it in self.base_iterations():
            if it == 1:
                self.begin(name)
            t0 = time.perf_counter()
            self.end_iteration(name, it, *self.estep(name), t0)
        return self.finish(tgt_class, fertility_params)

    def _phase(self, label: str) -> str:
        """A profile phase name: the model, and this direction's tag (both directions at once
        when Model 1 and the HMM train by agreement)."""
        if self.config.agreement and label in ("Model 1", "HMM"):
            return f"{label} (fwd+rev, agreement)"
        return f"{label} {self.tag}".strip()

    def _end_phase(self, label: str) -> None:
        """The end of a phase: the memory its kernels freed goes back to the system before the next
        phase allocates (:mod:`eegiza.heap`), and the profile gets its mark."""
        release_free_memory()
        self.profile.mark(self._phase(label))

    def begin(self, name: str) -> None:
        """Fresh Model 2 a-table or HMM jump tables (the initial model's, if it has them)."""
        model, initial = self.model, self.initial
        if name == "2":
            model.atable = ibm2.init_atable(self.corpus.src.offsets, self.corpus.tgt.offsets, compact=True)
        if name == "H":
            if initial is not None and initial.jump is not None and initial.jump.shape[0] == self.n_classes:
                model.jump, model.start = initial.jump.copy(), initial.start.copy()
            else:
                model.jump, model.start = hmm.initial_jump_counts(self.n_classes)

    def estep_arrays(self):
        """(slots (:meth:`SlotSource.arrays`, None if it has none), t probabilities, word classes, jump counts,
        start counts) for :func:`eegiza.models.agreement.estep`."""
        model = self.model
        jump, start = (model.jump, model.start) if model.jump is not None else hmm.initial_jump_counts(1)
        source = self.source.arrays() if self.source is not None else None
        return source, model.ttable.probs, model.src_class, jump, start

    def set_jumps(self, jumps: np.ndarray, starts: np.ndarray) -> None:
        self.model.jump, self.model.start = jumps + 1e-6, starts + 1e-6

    def estep(self, name: str):
        """This direction's own E-step of Model ``name``: (chunk counts, per-sentence log-likelihoods);
        updates the a-table (Model 2) or the jump tables (HMM)."""
        corpus, config, model = self.corpus, self.config, self.model
        s_ids, s_off, t_off = corpus.src.ids, corpus.src.offsets, corpus.tgt.offsets
        probs, floor = model.ttable.probs, config.prob_smooth
        if self.engine is not None and name in "1H":   # issue 17: on the Dask cluster's shards
            return self.engine.direction_estep(self, name)
        if name == "1":
            return ibm1.estep(s_ids, s_off, t_off, self.source.arrays(), probs, floor, numba.get_num_threads())
        if name == "2":
            tt = model.ttable
            if self.engine is not None:
                chunk_counts, a_counts, loglik = self.engine.model2_estep(self)
            else:
                chunk_counts, a_counts, loglik = ibm2.estep(s_ids, s_off, corpus.tgt.ids, t_off, tt.indptr,
                                                            tt.indices, probs, floor, *model.atable.arrays(),
                                                            numba.get_num_threads())
            ibm2.mstep(model.atable, a_counts)
            model.a_counts = a_counts
            return chunk_counts, loglik
        chunk_counts, jumps, starts, loglik = hmm.estep(
            s_ids, s_off, t_off, self.source.arrays(), probs, floor, model.src_class, model.jump, model.start,
            config.hmm_p_null, config.hmm_jump_smooth, numba.get_num_threads())
        self.set_jumps(jumps, starts)
        return chunk_counts, loglik

    def end_iteration(self, name: str, it: int, chunk_counts, loglik, t0: float) -> None:
        """M-step of t(f|e) (with the prior, if any), the iteration's log line and callback.
        ``chunk_counts``: fixed-point counts (int64: one shared array, or one row per chunk), or float counts."""
        self.update_t(name, chunk_counts)
        del chunk_counts
        self.close_iteration(name, it, loglik, t0)

    def update_t(self, name: str, chunk_counts) -> None:
        """The M-step of t(f|e) (with the prior, if any) from fixed-point counts (consumed) or
        float counts."""
        counts = (fixed_to_float(chunk_counts, self.model.ttable.probs.dtype)
                  if isinstance(chunk_counts, tuple) or chunk_counts.dtype == np.int64 else chunk_counts)
        del chunk_counts
        if self.prior is not None:
            self.prior.current_model = name
        m_step(self.model.ttable, counts, self.config, self.prior)

    def close_iteration(self, name: str, it: int, loglik, t0: float) -> None:
        """The iteration's log line, callback and profile mark (after :meth:`update_t`)."""
        _log_iteration(self.model, name, it, float(np.sum(loglik)), len(self.corpus.tgt.ids), t0, self.progress)
        self.done += 1
        if self.on_iteration is not None:
            self.model.last_model = name
            self.on_iteration(name, it, self.model)
        if not (self.config.agreement and name in "1H" and self.tag == "fwd"):   # lockstep: marked once, by rev
            self._end_phase(PHASE_NAMES[name])

    def prune_negligible_t(self) -> None:
        """Once the Model 1/2/HMM iterations are done: remove the t entries below the configured cutoff
        (:mod:`eegiza.tprune`) and renumber what numbers them, the corpus' sentence slots (if
        stored; an index of the old table is dropped) and the prior's slots. Does nothing the second
        time, or with a cutoff of 0 (:attr:`eegiza.config.AlignerConfig.effective_t_cutoff`)."""
        cutoff = self.config.effective_t_cutoff
        if not cutoff or self.model.t_pruned_below:
            return
        old_indptr = self.model.ttable.indptr
        remap = prune_table(self.model.ttable, own_keep(self.model.ttable, cutoff))
        if self.source is not None and self.source.is_stored:
            self.source.remap(self.corpus, old_indptr, self.model.ttable.indptr, remap)
        else:   # an index of the old table (or none)
            self.source = None
        if self.prior is not None:
            self.prior = self.prior.restricted(remap, self.model.ttable.nnz)
        self.model.t_pruned_below = cutoff

    def _fertility_left(self) -> bool:
        return bool(self.fertility_items) and self.done - self.n_base < sum(n for _, n in self.fertility_items)

    def wants_slots(self) -> bool:
        """:meth:`finish` will use the corpus' stored t-table slots (and search them if it has none;
        a corpus that looks its slots up stores none: the Models 3/4 kernels search their own)."""
        return bool(self._fertility_left() and self.base_items and self.engine is None and not self.look_up)

    def take_slots(self, slots: Optional[tuple]) -> None:
        """(slots, slot offsets) of this direction's corpus, derived elsewhere, for :meth:`finish`
        (None: it searches its own)."""
        if slots is not None:
            self.source = SlotSource.stored(*slots)

    def finish(self, tgt_class: Optional[np.ndarray] = None,
               fertility_params: Optional[FertilityParams] = None, keep_slots: bool = False) -> DirectionModel:
        """Models 3/4 of the schedule, from the Viterbi alignment of the last of Models 1, 2, H.
        ``keep_slots``: leave the corpus' t-table slots (if it had them) in ``self.kept_slots``
        (the other direction derives its own from them)."""
        fertility_done = max(0, self.done - self.n_base)   # Models 3/4 iterations done before a resume
        self.prune_negligible_t()
        fertility_left = self._fertility_left()
        if self.source is None and self.wants_slots():
            self.source = SlotSource.compact(self.corpus, self.model.ttable)
        # stored slots are reused by Models 3/4 (an index is not: they search the pairs' slots themselves)
        stored = self.source is not None and self.source.is_stored
        slots = self.source if stored else None
        self.source = None
        self.kept_slots = slots.materialised(self.corpus) if keep_slots and stored else None
        model, config = self.model, self.config
        model.base_model = self.base_items[-1][0] if self.base_items else self.initial.base_model
        if fertility_left:
            # the table's target ids are unread from here to the end of Models 3/4 when the slots are stored
            with Offloaded([(model.ttable, "indices")] if stored and self.engine is None else []):
                self._fertility(model, slots, fertility_done, tgt_class, fertility_params)
        model.last_model = parse_schedule(config.schedule)[-1][0]
        return model

    def _fertility(self, model, slots, fertility_done, tgt_class, fertility_params) -> None:
        """:meth:`finish`'s Models 3/4: the start alignment, then the iterations left."""
        corpus, config, prior = self.corpus, self.config, self.prior
        model.last_model = model.base_model
        if self.start is None:
            self.start, _ = align_direction(model, corpus, slots, engine=self.engine,
                                            max_slot_mb=config.max_slot_mb)
        start = self.start
        self._end_phase("Model 3/4 start alignment")
        params = fertility_params or fertility_params_of(config)
        if tgt_class is None:
            tgt_class = np.zeros(len(corpus.tgt_vocab), np.int32)

        def fertility_t_update(table, counts, model_name):
            # maximum likelihood: a variational-Bayes t made Models 3/4 worse (ro-en gdfa 30.75 -> 31.85,
            # en-fr 10.33 -> 11.05); the embedding prior applies if prior_models names the model
            if prior is not None:
                prior.current_model = model_name
            m_step(table, counts, config, prior, bayes=False)

        def fertility_iteration(name, it, fertility, positions, scores):
            model.fertility, model.last_model, model.found = fertility, name, (positions, scores)
            model.log.append(fertility.log[-1])
            self.done += 1
            self._end_phase(PHASE_NAMES[fertility.log[-1].model])
            if self.on_iteration is not None:
                self.on_iteration(name, it, model)

        initial = self.initial
        # the last iteration's alignment is the training corpus' output only without a final
        # alignment pass (api.align_corpus); otherwise it would be 4 bytes per target token unused
        output_posterior = None if config.final_alignment_pass else model.min_link_posterior
        model.fertility = train_fertility(corpus, model.ttable, start, self.fertility_items, model.src_class,
                                          tgt_class, params, numba.get_num_threads(), self.progress,
                                          t_update=fertility_t_update,
                                          initial=None if initial is None or self.base_items else initial.fertility,
                                          on_iteration=fertility_iteration,
                                          output_posterior=output_posterior, slots=slots,
                                          run_corpus=None if self.engine is None else self.engine.run_corpus,
                                          resume=(model.fertility, fertility_done, model.found[0])
                                          if fertility_done else None)
        self.start = None   # all Models 3/4 iterations done: no resume needs the start alignment


def training_alignment(model: DirectionModel):
    """(links, scores) of the training corpus as the last Model-3/4 iteration found them (posterior
    decoding included; see :func:`eegiza.models.fertility.train_fertility`), or None when the last
    model is not a fertility model (then :func:`align_direction` is as cheap as it gets)."""
    if model.last_model in "34" and model.fertility is not None:
        return model.fertility.output
    return None


def align_direction(model: DirectionModel, corpus, slots=None, engine=None,
                    max_slot_mb: float = AlignerConfig.max_slot_mb):
    """Alignment under the last trained model: (links, scores). ``links`` is flat like the target
    ids: the aligned source position of each target token, 0 = NULL, else 1-based; ``scores`` the
    log-probability of each pair's alignment. Viterbi for Models 1, 2 and the HMM (posterior
    decoding with ``model.hmm_link_posterior`` > 0: then the score is the pair's likelihood); hill-climbing
    from the Viterbi alignment of the base model for Models 3 and 4 (uncertain links unaligned if
    ``model.min_link_posterior`` > 0). ``slots``: the corpus' slots in the t-table, if at hand (a
    :class:`eegiza.slot_source.SlotSource`, or (slots, slot offsets) of
    :func:`eegiza.ttable.sentence_slots`); else they are searched and stored compactly, or looked up
    as the kernels go for a corpus whose slots would take more than ``max_slot_mb``
    (:mod:`eegiza.slot_source`). ``engine``: the Dask engine (issue 17), or None."""
    if engine is not None:
        return engine.align(model, corpus)
    if isinstance(slots, SlotSource) and not slots.gives_slots:
        slots = None
    look_up = looks_up(corpus, max_slot_mb)
    if model.last_model in "34":   # the start alignment's slots serve the hill-climbing too
        if slots is None and model.base_model in "1H" and not look_up:
            slots = SlotSource.compact(corpus, model.ttable)
        start, _ = align_direction(replace(model, last_model=model.base_model), corpus, slots,
                                   max_slot_mb=max_slot_mb)
        return align_fertility(model.fertility, model.ttable, corpus, start, numba.get_num_threads(),
                               model.min_link_posterior, slots)
    tt = model.ttable
    if model.last_model == "2":
        return ibm2.align_corpus(corpus, tt, model.atable, model.prob_smooth)
    source = (SlotSource.coerce(slots) if slots is not None else SlotSource.of(corpus, tt, look_up)).arrays()
    s_ids, s_off, t_off = corpus.src.ids, corpus.src.offsets, corpus.tgt.offsets
    probs, floor = tt.probs, model.prob_smooth
    if model.last_model == "1":
        return ibm1.viterbi(s_ids, s_off, t_off, source, probs, floor)
    if model.hmm_link_posterior > 0:
        return hmm.posterior_decode(s_ids, s_off, t_off, source, probs, floor, model.src_class,
                                    model.jump, model.start, model.hmm_p_null, model.hmm_jump_smooth,
                                    model.hmm_link_posterior, numba.get_num_threads())
    return hmm.viterbi(s_ids, s_off, t_off, source, probs, floor, model.src_class, model.jump,
                       model.start, model.hmm_p_null, model.hmm_jump_smooth)
