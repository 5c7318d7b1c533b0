"""EM driver: trains one direction of the aligner through a schedule, logging every iteration.

A :class:`DirectionModel` holds everything a trained direction needs to align new text: the
t-table, the HMM jump tables and word classes, and the name of the last model trained. Training is
``train_direction(corpus, config)``; alignment is ``align_direction(model, corpus)``, which uses the
last model of the schedule (Viterbi).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, List, Optional

import numba
import numpy as np
from scipy.special import digamma

from .config import AlignerConfig
from .models import hmm, ibm1
from .schedule import MODEL_NAMES, parse_schedule
from .ttable import TTable, reduce_counts, sentence_slots


@dataclass
class IterationLog:
    model: str
    iteration: int
    perplexity: float
    loglik: float
    seconds: float


@dataclass
class DirectionModel:
    ttable: TTable
    last_model: str
    src_class: np.ndarray
    jump: Optional[np.ndarray] = None
    start: Optional[np.ndarray] = None
    hmm_p_null: float = 0.2
    hmm_jump_smooth: float = 0.2
    prob_smooth: float = 1e-7
    log: List[IterationLog] = field(default_factory=list)


ProgressFn = Callable[[str], None]


def set_threads(threads: int) -> None:
    """Use ``threads`` worker threads (0 = all cores) in the Numba kernels."""
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS if threads <= 0 else
                          min(threads, numba.config.NUMBA_NUM_THREADS))


def perplexity(loglik: float, n_tokens: int) -> float:
    """GIZA-style perplexity 2^(-log2 P / N) of the target tokens."""
    if n_tokens == 0:
        return 1.0
    return 2.0 ** (-loglik / math.log(2.0) / n_tokens)


def m_step(ttable: TTable, counts: np.ndarray, config: AlignerConfig, prior=None) -> None:
    """New t(f|e) from expected counts: maximum likelihood, or variational Bayes with a
    symmetric Dirichlet(vb_alpha), then the optional prior mixed in (``prior.apply``)."""
    if config.vb_alpha > 0:
        ttable.probs = variational_bayes_probs(ttable.indptr, counts, config.vb_alpha)
    else:
        ttable.set_from_counts(counts)
    if prior is not None:
        prior.apply(ttable, counts)


def variational_bayes_probs(indptr: np.ndarray, counts: np.ndarray, alpha: float) -> np.ndarray:
    """t(f|e) = exp(psi(c(e,f) + a)) / exp(psi(c(e) + a * V_e)), V_e the row's size (Riley &
    Gildea 2012; fast_align ``-v``). Sub-normalised: rare words stop "collecting" translations."""
    sizes = np.diff(indptr)
    row_total = np.add.reduceat(counts, indptr[:-1][sizes > 0]) if len(counts) else np.zeros(0)
    totals = np.zeros(len(sizes))
    totals[sizes > 0] = row_total
    denom = np.repeat(digamma(totals + alpha * sizes), sizes)
    return np.exp(digamma(counts + alpha) - denom)


def _log_iteration(model: DirectionModel, name: str, it: int, loglik: float, n_tokens: int, t0: float,
                   progress: Optional[ProgressFn]) -> None:
    entry = IterationLog(MODEL_NAMES[name], it, perplexity(loglik, n_tokens), loglik, time.perf_counter() - t0)
    model.log.append(entry)
    if progress is not None:
        progress(f"{entry.model} iteration {it}: perplexity {entry.perplexity:.4g} ({entry.seconds:.2f} s)")


def train_direction(corpus, config: AlignerConfig, src_class: Optional[np.ndarray] = None,
                    prior_factory=None, progress: Optional[ProgressFn] = None,
                    on_iteration=None, initial: Optional[DirectionModel] = None) -> DirectionModel:
    """Train P(tgt | src) on ``corpus`` through ``config.schedule``.

    ``prior_factory(ttable)``, if given, is called once with the co-occurrence t-table of this
    direction and returns an object whose ``apply(ttable, counts)`` mixes a prior into t(f|e)
    after every M-step (see :mod:`eegiza.embeddings`). ``on_iteration(name, iteration, model)``,
    if given, is called after every iteration with the model as it stands (``model.last_model``
    is the model being trained), e.g. to dump tables and alignments as GIZA++ does.
    ``initial``: a model trained before (same vocabulary ids) to start from instead of uniform
    tables: its t(f|e) (pairs it lacks get the floor) and, for the HMM, its jump tables."""
    schedule = parse_schedule(config.schedule)
    unsupported = [n for n, _ in schedule if n not in "1H"]
    if unsupported:
        raise NotImplementedError(f"model(s) {', '.join(unsupported)} of schedule {config.schedule!r} "
                                  "are not available yet; use Model 1 and HMM ('1^5 H^5')")
    set_threads(config.threads)
    if src_class is None:
        src_class = np.zeros(len(corpus.src_vocab), np.int32)
    n_classes = int(src_class.max()) + 1 if len(src_class) else 1
    ttable = TTable.from_corpus(corpus)
    if initial is not None:
        ttable.take_probs_from(initial.ttable, config.prob_smooth)
    prior = prior_factory(ttable) if prior_factory is not None else None
    model = DirectionModel(ttable, schedule[-1][0], src_class, hmm_p_null=config.hmm_p_null,
                           hmm_jump_smooth=config.hmm_jump_smooth, prob_smooth=config.prob_smooth)
    slots, slot_off = sentence_slots(corpus, ttable)
    s_ids, s_off, t_off = corpus.src.ids, corpus.src.offsets, corpus.tgt.offsets
    n_tokens = len(corpus.tgt.ids)
    floor = config.prob_smooth
    for name, n_iter in schedule:
        if name == "H":
            if initial is not None and initial.jump is not None and initial.jump.shape[0] == n_classes:
                model.jump, model.start = initial.jump.copy(), initial.start.copy()
            else:
                model.jump, model.start = hmm.initial_jump_counts(n_classes)
        for it in range(1, n_iter + 1):
            t0 = time.perf_counter()
            if name == "1":
                chunk_counts, loglik = ibm1.estep(s_off, t_off, slots, slot_off, ttable.probs, floor,
                                                  numba.get_num_threads())
            else:
                chunk_counts, jump, start, loglik = hmm.estep(
                    s_ids, s_off, t_off, slots, slot_off, ttable.probs, floor, src_class, model.jump, model.start,
                    config.hmm_p_null, config.hmm_jump_smooth, numba.get_num_threads())
                model.jump, model.start = jump + 1e-6, start + 1e-6
            counts = reduce_counts(chunk_counts)
            del chunk_counts
            m_step(ttable, counts, config, prior)
            _log_iteration(model, name, it, float(np.sum(loglik)), n_tokens, t0, progress)
            if on_iteration is not None:
                model.last_model = name
                on_iteration(name, it, model)
    model.last_model = schedule[-1][0]
    return model


def align_direction(model: DirectionModel, corpus):
    """Viterbi alignment under the last trained model: (links, scores). ``links`` is flat like the
    target ids: the aligned source position of each target token, 0 = NULL, else 1-based."""
    slots, slot_off = sentence_slots(corpus, model.ttable)
    s_off, t_off, probs, floor = corpus.src.offsets, corpus.tgt.offsets, model.ttable.probs, model.prob_smooth
    if model.last_model == "1":
        return ibm1.viterbi(s_off, t_off, slots, slot_off, probs, floor)
    return hmm.viterbi(corpus.src.ids, s_off, t_off, slots, slot_off, probs, floor, model.src_class, model.jump,
                       model.start, model.hmm_p_null, model.hmm_jump_smooth)
