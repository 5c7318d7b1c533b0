"""Training and alignment with the fertility models, IBM Models 3 and 4, the way GIZA++ does it
(``model3.cpp``, ``model3_viterbi_with_tricks.cpp``, ``collCounts.cpp``).

There is no exact E-step for Models 3 and 4. For every sentence pair, iteration k:

1. *Start*: the HMM Viterbi alignment (GIZA++ uses it in every iteration), repaired where it breaks
   the fertility limits (phi_i < ``maxfertility``, 2 phi_0 <= m): a word that does not fit goes to
   its best allowed position by t(f | e).
2. *Hill-climbing* under the *from* model of the iteration: repeatedly apply the best single move
   (a_j := i) or swap (a_j1 <-> a_j2) while it multiplies P(f, a | e) by more than 1.00001 (GIZA's
   ``hillClimb_std``; at most 61 steps). Moves must respect the fertility limits. For Model 4, as in
   GIZA's ``greedyClimb_WithIBM3Scoring``, candidates are tried in decreasing order of their Model-3
   score change (ties by index, moves before swaps; the order comes lazily from a heap) and the
   first that improves the Model-4 probability is applied; Model-4 changes are computed
   incrementally from the few cepts a move or swap touches. Both stop at a local
   optimum: no allowed move or swap improves the from-model's probability by more than 1.00001.
3. *Counts* over the neighbourhood N(a*) = {a*} + every allowed move + every swap, each alignment
   weighted by P(f, a | e) / sum_{N(a*)} P (``collectCountsOverNeighborhood``): t and d counts, the
   fertility counts n(phi | e) (the moves change one fertility by +-1), p0/p1 counts (p1 gets
   phi_0, p0 gets m - 2 phi_0), and, when the *to* model is 4, the Model-4 head and non-head
   displacement counts of every alignment of N(a*) whose weight exceeds ``countincreasecutoffal``.
   t and d counts below that cutoff are dropped as in GIZA++. The iteration's log-likelihood is
   sum_sentences log sum_{N(a*)} P(f, a | e) (GIZA's Model-3/4 "perplexity").
4. *M-step*: t by row normalisation (or the driver's M-step: variational Bayes, the embedding
   prior), n with ``nsmooth`` length smoothing, d over j with
   ``model23smoothfactor``, p1 = c(p1) / (c(p0) + c(p1)) unless ``p0`` is fixed (>= 0), and the
   Model-4 tables (:mod:`eegiza.models.ibm4`).

The schedule ``[("3", 3), ("4", 3)]`` runs GIZA's "H333444": iterations 3->3 (x3), 3->4, 4->4 (x2),
where the first Model-3 iteration starts from tables *transferred* from the HMM: t(f | e) as the HMM
left it, and n, d, p0 estimated (with the same smoothing) from the HMM Viterbi alignments counted
once each. (GIZA++ instead scores the first iteration's neighbourhoods with the HMM itself.)
With ``initial`` (tables trained before, MGIZA's ``-restart 9..11``) there is no transfer: the
first iteration is scored with ``initial.last_model`` and its tables laid out for the corpus
(:func:`continued_model`). After every iteration ``a_table`` holds a(i | j, l) counted from the
iteration's hill-climbed alignments (:func:`position_table`, GIZA's ``.a3`` dump, which GIZA++
counts over the neighbourhoods).

*Pegging* (``pegging 1``, GIZA's ``viterbi_loop_with_tricks`` with ``Peg``): step 3 sums over the
union of the neighbourhoods of several centres (each alignment once, :mod:`eegiza.models.pegging`):
a* and, for every peg (i, j) in order j = 1..m, i = 0..l, the climb from the start alignment with
a_j := i that never moves nor swaps j (a*_{i<-j}, the best alignment with a_j = i that hill-climbing
finds). As in GIZA++, a peg is skipped when a_j := i breaks the fertility limits or t(f_j | e_i) <=
``peggedcutoff`` t(f_j | e_{a_j}) of the start, and a pegged alignment is no centre when its
probability is <= ``peggedcutoff`` times the best centre's so far (a centre better by a factor
1.00001 becomes the best: the alignment output), and with ``uselinkcache`` (GIZA's
``UseLinkCache``, on) a peg is skipped when its link i-j is in the start alignment or in the result
of an earlier pegged climb. ``peggedcutoff 0`` with ``uselinkcache`` off climbs every peg and keeps
every centre (Brown et al.'s pegging, up to hill-climbing).

Alignment (:func:`align_fertility`): the climb of step 2 under the last model; with
``min_link_posterior`` > 0, a word whose link holds less than that share of the neighbourhood
probability of step 3 (its posterior within N(a*)) is left unaligned (posterior decoding; GIZA++
outputs a* itself).

Sentences with an empty side, or too long a target side
for any allowed alignment (m > l (maxfertility - 1) + m // 2; GIZA++ shortens those), are skipped in
training and keep their start alignment, with score -inf, in :func:`align_fertility`.
Blocks of sentences are handed out in turn to ``numba.get_num_threads()`` workers on a thread pool
(the kernels release the GIL; a plain pool compiles much faster than a ``prange`` over this many
arguments). All counts are fixed point, the t counts in one array the workers add to atomically,
the smaller tables one row per worker (:mod:`eegiza.ttable`), so the result does not depend on
the number of threads or on which worker took which block. Probabilities p0 and p1 are kept
within [1e-10, 1 - 1e-10].

Beyond GIZA++ (off in :class:`FertilityParams` by default, on in ``eegiza align``; measured on
ro-en, full schedule, 2 threads): with ``neighbourcutoff`` c > 0, Model 4 leaves out (weight 0,
never climbed to) every neighbour whose change of the translation, fertility and NULL factors
alone is below c, without scoring its distortion (the costly part): at c = e^-10 its distortion
would have to gain a factor of 22,000 for it to matter (Model 4 time -35%, gdfa AER unchanged);
with ``warm_start`` the Model-4 climb of an iteration starts from the alignment the previous
iteration found instead of the HMM's (fewer steps); the HMM's sentence slots
(:func:`eegiza.ttable.sentence_slots`) replace the per-pair t-table look-ups; and
``train_fertility(output_posterior=...)`` keeps the last iteration's alignment as the output, so
the training corpus needs no second alignment pass.

Where the code is: this module holds the parameters and tables (:class:`FertilityParams`,
:class:`FertilityModel`), the corpus loop on the thread pool and the M-step (the driver);
steps 1 and 2 (start repair, hill-climbing, pegging) are :mod:`eegiza.models.fertility_search`,
step 3 (neighbourhood counts, one sentence and one block of sentences) is
:mod:`eegiza.models.fertility_estep`.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from typing import Callable, Optional

import numba
import numpy as np

from ..corpus import ParallelCorpus, Side
from ..fixed_counts import CountLayout
from ..iterations import IterationLog, perplexity
from ..slot_source import SlotSource
from ..ttable import PROB_FLOOR, fixed_to_float, reduce_counts, reduce_counts_in_place
from . import ibm3, ibm4
from .fertility_estep import _chunk, count_cells
from .ibm2 import KEY_SHIFT, ATable
BLOCKS_PER_WORKER = 32       # sentence blocks per worker thread (load balancing)
P_CLAMP = 1e-10
ITERATION_NAMES = {("3", "3"): "Model3", ("3", "4"): "T3To4", ("4", "4"): "Model4"}


@dataclass
class FertilityParams:
    """GIZA++ parameters of Models 3 and 4 (names and defaults as GIZA++)."""

    p0: float = -1.0                         # probability of not inserting NULL words; < 0: learned
    nsmooth: float = 64.0                    # weight of the word-length fertility distribution
    nsmoothgeneral: float = 0.0              # weight of the word-independent fertility distribution
    model23smoothfactor: float = 0.0         # interpolation of d(j | i, l, m) with 1/m
    model4smoothfactor: float = 0.2          # interpolation of the Model-4 tables with uniform
    maxfertility: int = 10                   # fertilities 0 .. maxfertility - 1
    deficientdistortionforemptyword: int = 0
    depm4: int = 76                          # only 76: head d1(. | A, B), non-head d>1(. | B)
    compactadtable: bool = True              # d(j | i, m): the Model-3 distortion ignores l
    pegging: bool = False                    # centres a*_{i<-j} besides a* (see the module docstring)
    prob_smooth: float = PROB_FLOOR          # floor of every t, n, d lookup
    countincreasecutoffal: float = 1e-5      # smallest neighbourhood count added
    peggedcutoff: float = 0.03               # relative t and probability cutoff of pegging
    uselinkcache: bool = True                # pegging skips pegs whose link a climb has found
    neighbourcutoff: float = 0.0             # Model 4 leaves out neighbours below this factor (not GIZA++)
    warm_start: bool = False                 # Model 4 climbs from the previous iteration's alignment (not GIZA++)


@dataclass
class FertilityModel:
    """Every table of a trained Model 3/4 except t(f | e), which stays in the TTable."""

    params: FertilityParams
    last_model: str
    src_class: np.ndarray       # int32 per source id (NULL = 0)
    tgt_class: np.ndarray       # int32 per target id
    n_table: np.ndarray         # (n_src_vocab, maxfertility): n(phi | e)
    n_by_length: np.ndarray     # (max byte length + 1, maxfertility): fertility by word length
    n_general: np.ndarray       # (maxfertility,): fertility of all words
    d_table: ATable             # Model-3 d(j | i, [l,] m)
    p0: float
    d1: np.ndarray              # flat (n_A * n_B * W): head displacements
    d1_seen: np.ndarray         # int8 (n_A * n_B)
    db: np.ndarray              # flat (n_B * W): non-head displacements
    db_seen: np.ndarray         # int8 (n_B)
    half: int                   # displacements stored for |delta| <= half, W = 2 half + 1
    log: list = field(default_factory=list)
    a_table: Optional[ATable] = None  # a(i | j, l) of the last iteration's alignments (GIZA's `.a3`)
    output: Optional[tuple] = None    # (positions, scores) of the training corpus (train_fertility)

    @property
    def n_tgt_classes(self) -> int:
        return len(self.db_seen)

    def to_arrays(self) -> dict:
        out = {"params": np.array([float(v) for v in asdict(self.params).values()]),
               "last_model": np.array(self.last_model), "src_class": self.src_class,
               "tgt_class": self.tgt_class, "n_table": self.n_table, "n_by_length": self.n_by_length,
               "n_general": self.n_general, "p0": np.array(self.p0), "d1": self.d1,
               "d1_seen": self.d1_seen, "db": self.db, "db_seen": self.db_seen, "half": np.array(self.half),
               "log_model": np.array([e.model for e in self.log], dtype=str),
               "log_values": np.array([[e.iteration, e.perplexity, e.loglik, e.seconds] for e in self.log],
                                      dtype=float).reshape(-1, 4)}
        out.update(self.d_table.to_arrays("d_"))
        if self.a_table is not None:
            out.update(self.a_table.to_arrays("a_"))
        return out

    @classmethod
    def from_arrays(cls, arrays: dict) -> "FertilityModel":
        values = arrays["params"]
        kwargs = {f.name: type(f.default)(v) for f, v in zip(fields(FertilityParams), values)}
        log = [IterationLog(str(name), int(v[0]), float(v[1]), float(v[2]), float(v[3]))
               for name, v in zip(arrays["log_model"], arrays["log_values"])]
        return cls(FertilityParams(**kwargs), str(arrays["last_model"]), arrays["src_class"], arrays["tgt_class"],
                   arrays["n_table"], arrays["n_by_length"], arrays["n_general"], ATable.from_arrays(arrays, "d_"),
                   float(arrays["p0"]), arrays["d1"], arrays["d1_seen"], arrays["db"], arrays["db_seen"],
                   int(arrays["half"]), log, ATable.from_arrays(arrays, "a_") if "a_keys" in arrays else None)


def _pad(classes: np.ndarray, size: int) -> np.ndarray:
    """Classes for ids 0..size-1 (ids beyond the given array get class 0)."""
    out = np.zeros(size, np.int32)
    n = min(size, len(classes))
    out[:n] = classes[:n]
    return out


def pass_logs(ttable, n_probs: np.ndarray, d_probs: np.ndarray, floor: float, corpus):
    """(log_t, log_n, log_d) for one pass of the fertility kernels over ``corpus``: empty arrays of
    the tables' ranks, so the kernels take the log of each entry of the t, fertility and distortion
    tables as they use it (:func:`eegiza.models.ibm3.entry_log`, the same bits as
    :func:`eegiza.models.ibm3.logs_if_used`'s tables). A table of the logs would cost 8 bytes an
    entry while the pass runs (de-en: 63 MB for the forward t-table, 9 for n, 8 for d) and saves
    little: the hill-climbing dominates (the demo's final Model-4 pass, 2026-12-06, 2 threads:
    0.75 s either way without the t logs; 0.77 s with the n and d logs, 0.80 without)."""
    return (np.empty(0), np.empty((0,) + np.shape(n_probs)[1:]), np.empty((0,) + np.shape(d_probs)[1:]))


def t_count_layout(ttable, corpus, source: SlotSource) -> CountLayout:
    """The :class:`eegiza.fixed_counts.CountLayout` of the Models 3/4 t counts of ``corpus`` in
    ``ttable`` (``source``: its slots)."""
    cells = np.zeros(ttable.nnz, np.uint32)
    count_cells(corpus.src.ids, corpus.src.offsets, corpus.tgt.ids, corpus.tgt.offsets, ttable.indptr,
                _searched_ids(ttable, source), source.arrays(), cells)
    return CountLayout.from_cells(cells)


def _searched_ids(ttable, source: SlotSource) -> np.ndarray:
    """The table's target ids for the kernels, which read them only to search the pairs ``source``
    does not give: empty when it gives them (the ids may then be out of memory, :mod:`eegiza.offload`)."""
    return np.zeros(0, np.int32) if source.gives_slots else ttable.indices


def _run_corpus(model: FertilityModel, ttable, corpus, start, n_probs, src_class, tgt_class, climb, neighbours,
                from_model4, collect, collect_d4, n_chunks, min_posterior: float = 0.0, decode: bool = False,
                slots=None, count_layout: Optional[CountLayout] = None):
    """Every sentence: positions, scores, neighbourhood log-sums, and the counts (fixed point: the t
    counts one shared array, split as ``count_layout`` says (:func:`t_count_layout` if None), the
    others one row per worker) when ``collect``; with ``decode`` (and
    ``collect``) also the alignment with uncertain links unaligned (``min_posterior``), else that is
    an empty array. ``slots``: this corpus' slots in the table, if at hand: a
    :class:`eegiza.slot_source.SlotSource` or (slots, slot offsets) of :func:`eegiza.ttable.sentence_slots`.
    ``n_chunks`` workers on a thread pool (the kernels release the GIL) take blocks of sentences in
    turn, so a block of long sentences does not hold up the rest."""
    prm = model.params
    p0 = min(max(model.p0, P_CLAMP), 1.0 - P_CLAMP)
    d = model.d_table
    start = np.ascontiguousarray(start, dtype=np.int32)
    tgt_ids, src_off = corpus.tgt.ids, corpus.src.offsets
    if len(start) != len(tgt_ids):
        raise ValueError(f"start_positions has {len(start)} entries for {len(tgt_ids)} target tokens")
    n_sent = len(corpus)
    n_chunks = max(1, min(int(n_chunks), n_sent))
    slot_source = SlotSource.coerce(slots)
    source, t_ids = slot_source.arrays(), _searched_ids(ttable, slot_source)
    if collect:   # t counts: one (split) array, added to atomically
        tc = (count_layout or t_count_layout(ttable, corpus, slot_source)).zeros()
    else:
        tc = (np.zeros(0, np.uint32), np.zeros(0, np.int64))
    nc = np.zeros((n_chunks, n_probs.size if collect else 0), np.int64)
    dc = np.zeros((n_chunks, len(d.probs) if collect else 0), np.int64)
    pc = np.zeros((n_chunks, 2), np.int64)
    c1 = np.zeros((n_chunks, len(model.d1) if collect_d4 else 0), np.int64)
    cb = np.zeros((n_chunks, len(model.db) if collect_d4 else 0), np.int64)
    positions = np.zeros(len(tgt_ids), np.int32)
    decoded = np.zeros(len(tgt_ids) if decode else 0, np.int32)
    scores = np.zeros(n_sent)
    loglik = np.zeros(n_sent)

    log_t, log_n, log_d = pass_logs(ttable, n_probs, d.probs, prm.prob_smooth, corpus)
    log_pegcut = float(np.log(prm.peggedcutoff)) if prm.peggedcutoff > 0 else -np.inf
    log_neighbour_cut = float(np.log(prm.neighbourcutoff)) if prm.neighbourcutoff > 0 else -np.inf
    n_blocks = min(n_sent, n_chunks * BLOCKS_PER_WORKER)
    blocks = iter(range(n_blocks))
    lock = threading.Lock()

    def work(c):
        while True:
            with lock:
                b = next(blocks, -1)
            if b < 0:
                return
            _chunk(b * n_sent // n_blocks, (b + 1) * n_sent // n_blocks, corpus.src.ids, src_off, tgt_ids,
                   corpus.tgt.offsets, start, climb, neighbours, from_model4, collect, collect_d4, ttable.indptr,
                   t_ids, ttable.probs, log_t, prm.prob_smooth, n_probs, log_n, d.keys, d.dim_l, d.dim_m,
                   d.offsets, d.probs, log_d, d.ignore_l, d.ignore_m, np.log(p0), np.log(1.0 - p0),
                   int(prm.deficientdistortionforemptyword), src_class, tgt_class, model.d1, model.d1_seen, model.db,
                   model.db_seen, model.n_tgt_classes, model.half, prm.model4smoothfactor,
                   prm.countincreasecutoffal, bool(prm.pegging), log_pegcut, bool(prm.uselinkcache),
                   float(min_posterior), tc, nc[c], dc[c], pc[c], c1[c], cb[c], positions, scores, loglik,
                   decoded, source, log_neighbour_cut)

    if n_chunks == 1:   # one worker: this thread (starting a pool thread costs more than a short sentence)
        work(0)
    else:
        with ThreadPoolExecutor(max_workers=min(n_chunks, numba.get_num_threads())) as pool:
            list(pool.map(work, range(n_chunks)))
    return positions, scores, loglik, tc, nc, dc, pc, c1, cb, decoded


def normalise_t(ttable, counts: np.ndarray, model_name: str = "3") -> None:
    """GIZA++'s t M-step: t(f | e) = c(e, f) / c(e), by maximum likelihood (for either model)."""
    ttable.set_from_counts(counts)


def _m_step(model: FertilityModel, ttable, lengths, tc, nc, dc, pc, c1, cb, update_t, update_d4,
            t_update: Callable = normalise_t, model_name: str = "3") -> None:
    prm = model.params
    if update_t:
        t_update(ttable, fixed_to_float(tc, ttable.probs.dtype), model_name)   # float32: in tc's own memory
    # (the per-worker rows are summed into their first row's memory: no new count arrays)
    n_counts = _reduced(nc).reshape(model.n_table.shape)
    model.n_table, model.n_by_length, model.n_general = ibm3.normalise_fertility(
        n_counts, lengths, prm.nsmooth, prm.nsmoothgeneral, prm.prob_smooth)
    d = model.d_table
    d.probs = ibm3.normalise_distortion(d.dim_l, d.dim_m, d.offsets, _reduced(dc), prm.model23smoothfactor)
    if prm.p0 >= 0:
        model.p0 = prm.p0
    else:
        p0c, p1c = reduce_counts(pc)
        model.p0 = p0c / (p0c + p1c) if p0c + p1c > 0 else 0.5
    if update_d4:
        width = 2 * model.half + 1
        model.d1, model.d1_seen = ibm4.normalise_rows(_reduced(c1), model.d1_seen, width)
        model.db, model.db_seen = ibm4.normalise_rows(_reduced(cb), model.db_seen, width)


def _reduced(chunk_counts: np.ndarray) -> np.ndarray:
    """Float counts from a Models 3/4 count array (one row per worker, or the Dask engine's one)."""
    if chunk_counts.ndim == 2 and chunk_counts.dtype == np.int64 and len(chunk_counts) > 0:
        return reduce_counts_in_place(chunk_counts)
    return reduce_counts(chunk_counts)


def _check_schedule(schedule_items) -> str:
    sequence = "".join(name * int(count) for name, count in schedule_items)
    if not sequence or set(sequence) - {"3", "4"} or sequence != "".join(sorted(sequence)):
        raise ValueError(f"fertility schedule {schedule_items!r}: expected Model 3 and/or 4 items, 3 before 4")
    return sequence


def train_fertility(corpus, ttable, start_positions, schedule_items, src_class, tgt_class,
                    params: Optional[FertilityParams] = None, n_chunks: Optional[int] = None,
                    progress: Optional[Callable[[str], None]] = None,
                    t_update: Callable = normalise_t, initial: Optional[FertilityModel] = None,
                    on_iteration: Optional[Callable] = None,
                    output_posterior: Optional[float] = None, slots=None, run_corpus=None,
                    resume: Optional[tuple] = None) -> FertilityModel:
    """Train Models 3/4 on ``corpus`` (see the module docstring); ``start_positions`` is the HMM
    Viterbi alignment (flat, per target token, 0 = NULL, else 1-based). ``ttable.probs`` is replaced
    by the new t(f | e) after every iteration (the TTable object itself is updated), by
    ``t_update(ttable, counts, to_model)`` given the iteration's expected counts of the t-table's slots
    (default: maximum likelihood, :func:`normalise_t`; the training driver passes its own M-step,
    so variational Bayes and the embedding prior also apply to Models 3 and 4).

    ``initial``: Model-3/4 tables trained before (MGIZA's ``-restart 9..11``): the transfer is
    skipped and the first iteration starts from them (:func:`continued_model`), scored with
    ``initial.last_model``. ``on_iteration(to_model, iteration, model, positions, scores)`` is called
    after every iteration with the alignment found in it (under the model before the update).

    ``output_posterior`` (not None): the last iteration also keeps its alignment as the output of
    training, in ``model.output`` = (positions, scores), with the links whose neighbourhood
    posterior is below ``output_posterior`` unaligned (as :func:`align_fertility` would, but under
    the model before the last update, as GIZA++ writes its ``A3.final`` during the last iteration):
    the training corpus then needs no second alignment pass. ``slots``: the slots of ``corpus`` in
    ``ttable`` (the HMM's, reused): a :class:`eegiza.slot_source.SlotSource`, (slots, slot offsets)
    of :func:`eegiza.ttable.sentence_slots`, or None (the kernels search the table).
    ``run_corpus``: replaces :func:`_run_corpus` (the Dask engine's, issue 17).

    ``resume``: (model, k, positions) to continue an interrupted training (:mod:`eegiza.checkpoint`)
    after its k-th iteration: the model as that iteration left it (updated in place from there on),
    and the alignment it found (the next climb's start with ``warm_start``); ``ttable`` holds the
    t(f | e) of that iteration. The remaining iterations then give the uninterrupted run's result."""
    params = params or FertilityParams()
    if not 0 <= params.peggedcutoff <= 1:
        raise ValueError(f"peggedcutoff {params.peggedcutoff}: expected a value in [0, 1]")
    if params.depm4 != 76:
        raise NotImplementedError(f"depm4 {params.depm4}: only 76 (head: source and target class) is implemented")
    sequence = _check_schedule(schedule_items)
    n_chunks = numba.get_num_threads() if n_chunks is None else n_chunks
    n_src, n_tgt = len(corpus.src_vocab), len(corpus.tgt_vocab)
    src_class, tgt_class = _pad(np.asarray(src_class), n_src), _pad(np.asarray(tgt_class), n_tgt)
    n_a, n_b = int(src_class.max()) + 1, int(tgt_class.max()) + 1
    half = max(1, int(corpus.tgt.lengths.max()) if len(corpus) else 1)
    width = 2 * half + 1
    d_table = ATable.layout(corpus.src.offsets, corpus.tgt.offsets, ignore_l=params.compactadtable, ignore_m=False)
    d_table.probs = np.repeat(1.0 / np.maximum(d_table.dim_m, 1), (d_table.dim_l + 1) * d_table.dim_m)
    maxfert = int(params.maxfertility)
    lengths = ibm3.word_byte_lengths(corpus.src_vocab.words)
    n_tokens = len(corpus.tgt.ids)
    if run_corpus is None:   # the t counts' layout once for all iterations (the table's entries stay)
        layout = t_count_layout(ttable, corpus, SlotSource.coerce(slots))

        def run(*args, **kwargs):
            return _run_corpus(*args, **kwargs, count_layout=layout)
    else:
        run = run_corpus
    done, positions = 0, None
    if resume is not None:
        model, done, positions = resume
        first_from = model.last_model
        if not 0 < done < len(sequence) or model.last_model != sequence[done - 1]:
            raise ValueError(f"cannot resume fertility schedule {schedule_items!r} after iteration {done} "
                             f"of a Model-{model.last_model} model")
    elif initial is None:
        model = FertilityModel(params, sequence[-1], src_class, tgt_class, np.zeros((n_src, maxfert)),
                               np.zeros((1, maxfert)), np.full(maxfert, 1.0 / maxfert), d_table,
                               params.p0 if params.p0 >= 0 else 0.5, np.full(n_a * n_b * width, 1.0 / width),
                               np.zeros(n_a * n_b, np.int8), np.full(n_b * width, 1.0 / width),
                               np.zeros(n_b, np.int8), half)
        # transfer: n, d, p0 from the HMM Viterbi alignments, t as the HMM left it
        out = run(model, ttable, corpus, start_positions, model.n_table, src_class, tgt_class, False, False,
                  False, True, False, n_chunks, slots=slots)
        _m_step(model, ttable, lengths, *out[3:9], update_t=False, update_d4=False)
        del out   # the transfer's counts, freed before the first iteration's
        first_from = "3"
    else:
        model = continued_model(initial, corpus, src_class, tgt_class, params, start_positions)
        first_from = initial.last_model
        if (first_from, sequence[0]) not in ITERATION_NAMES:
            raise ValueError(f"fertility schedule {schedule_items!r} cannot continue a Model-{first_from} model")
    for it, to_model in enumerate(sequence, 1):
        if it <= done:
            continue
        t0 = time.perf_counter()
        from_model = first_from if it == 1 else sequence[it - 2]
        warm = params.warm_start and positions is not None and from_model == "4"
        climb_start = positions if warm else start_positions
        last = it == len(sequence) and output_posterior is not None
        positions, scores, loglik, *counts, decoded = run(
            model, ttable, corpus, climb_start, model.n_table, src_class, tgt_class, True, True,
            from_model == "4", True, to_model == "4", n_chunks, output_posterior or 0.0, decode=last, slots=slots)
        if last:
            model.output = (decoded, scores)
        _m_step(model, ttable, lengths, *counts, update_t=True, update_d4=to_model == "4", t_update=t_update,
                model_name=to_model)
        del counts
        model.a_table = position_table(corpus, positions, params.compactadtable)
        model.last_model = to_model
        total = float(loglik[np.isfinite(loglik)].sum())
        entry = IterationLog(ITERATION_NAMES[(from_model, to_model)], it, perplexity(total, n_tokens), total,
                             time.perf_counter() - t0)
        model.log.append(entry)
        if progress is not None:
            progress(f"{entry.model} iteration {it}: perplexity {entry.perplexity:.4g} p0 {model.p0:.4f} "
                     f"({entry.seconds:.2f} s)")
        if on_iteration is not None:
            on_iteration(to_model, it, model, positions, scores)
    return model


def position_table(corpus, positions, compact: bool = True) -> ATable:
    """a(i | j, l[, m]) from one alignment per sentence (flat ``positions``, 0 = NULL), one count per
    link, normalised over i (columns without counts stay 0): GIZA's Model-3 `.a3` table, here
    counted from the iteration's hill-climbed alignments instead of their neighbourhoods.
    ``compact`` (``compactadtable``) ignores m. Counted sentence by sentence
    (:func:`_position_probs`): no per-token temporaries (at 1.13M pairs each one of int64 was 190 MB)."""
    table = ATable.layout(corpus.src.offsets, corpus.tgt.offsets, ignore_l=False, ignore_m=compact)
    ls, ms = corpus.src.lengths.astype(np.int64), corpus.tgt.lengths.astype(np.int64)
    keys = (ls << KEY_SHIFT) | (np.zeros_like(ms) if compact else ms)
    _position_probs(np.searchsorted(table.keys, keys), corpus.tgt.offsets, np.asarray(positions), table.offsets,
                    table.dim_l, table.dim_m, table.probs)
    return table


@numba.njit(cache=True, nogil=True)
def _position_probs(block_of, tgt_off, positions, offsets, dim_l, dim_m, probs):
    """:func:`position_table`'s values into ``probs`` (zeros, laid out like an :class:`ATable`):
    sentence k's link j -> positions[tgt_off[k] + j] counts once in its block ``block_of[k]``, then
    each column (block, j) is divided by its sum (integer counts, so the sums are exact)."""
    for k in range(len(block_of)):
        b = block_of[k]
        for j in range(tgt_off[k + 1] - tgt_off[k]):
            probs[offsets[b] + j * (dim_l[b] + 1) + positions[tgt_off[k] + j]] += 1.0
    for b in range(len(offsets) - 1):
        for j in range(dim_m[b]):
            lo = offsets[b] + j * (dim_l[b] + 1)
            total = 0.0
            for i in range(dim_l[b] + 1):
                total += probs[lo + i]
            if total > 0.0:
                for i in range(dim_l[b] + 1):
                    probs[lo + i] = probs[lo + i] / total


def _relayout_displacements(values, seen, n_rows, old_half, half):
    """Model-4 displacement rows (``seen`` flags per row, width 2 old_half + 1) for ``n_rows`` rows
    of width 2 half + 1: rows beyond the old ones are unseen, displacements beyond +-half are
    added to the end buckets."""
    old_width, width = 2 * old_half + 1, 2 * half + 1
    old = np.asarray(values, float).reshape(-1, old_width)
    rows = min(n_rows, len(old))
    out = np.full((n_rows, width), 1.0 / width)
    out[:rows] = 0.0
    target = np.clip(np.arange(old_width) - old_half, -half, half) + half
    for k in range(old_width):
        out[:rows, target[k]] += old[:rows, k]
    flags = np.zeros(n_rows, np.int8)
    flags[:rows] = np.asarray(seen)[:rows]
    return out.ravel(), flags


def continued_model(initial: FertilityModel, corpus, src_class, tgt_class, params: FertilityParams,
                    start_positions) -> FertilityModel:
    """``initial`` laid out for ``corpus`` and the given classes: source ids beyond its n table, or
    with an empty row, get the fertility distribution of its words of the same byte length; d(j |
    i, m) blocks (and rows i) it lacks are uniform; the Model-4 rows are padded (unseen) or cut to
    the classes and re-bucketed to the corpus' longest target sentence. A p0 < 0 (not known) is
    estimated from ``start_positions`` as the transfer would: p1 = phi_0 / (m - phi_0)."""
    n_src = len(corpus.src_vocab)
    n_table = np.array(_fertility_rows(initial, corpus.src_vocab.words)[:n_src], float)
    if len(n_table) < n_src:
        n_table = np.concatenate([n_table, np.zeros((n_src - len(n_table), n_table.shape[1]))])
    empty = np.flatnonzero(n_table.sum(axis=1) <= 0)
    empty = empty[empty > 0]
    if len(empty):
        lengths = ibm3.word_byte_lengths(corpus.src_vocab.words)[empty]
        by_len = initial.n_by_length
        n_table[empty] = np.where((lengths < len(by_len))[:, None], by_len[np.minimum(lengths, len(by_len) - 1)],
                                  initial.n_general)
    d = ATable.layout(corpus.src.offsets, corpus.tgt.offsets, ignore_l=params.compactadtable, ignore_m=False)
    d.probs = np.repeat(1.0 / np.maximum(d.dim_m, 1), (d.dim_l + 1) * d.dim_m)
    old = initial.d_table
    for b, key in enumerate(d.keys.tolist()):
        ob = int(np.searchsorted(old.keys, key))
        if ob >= len(old.keys) or old.keys[ob] != key or old.dim_m[ob] != d.dim_m[b]:
            continue
        rows = min(int(old.dim_l[ob]), int(d.dim_l[b])) + 1
        block = d.probs[d.offsets[b]:d.offsets[b + 1]].reshape(d.dim_m[b], d.dim_l[b] + 1)
        block[:, :rows] = old.probs[old.offsets[ob]:old.offsets[ob + 1]].reshape(old.dim_m[ob],
                                                                                   old.dim_l[ob] + 1)[:, :rows]
    n_a, n_b = int(src_class.max()) + 1, int(tgt_class.max()) + 1
    half = max(1, int(corpus.tgt.lengths.max()) if len(corpus) else 1)
    old_b = len(initial.db_seen)
    old_a = len(initial.d1_seen) // max(1, old_b)
    d1_old = np.asarray(initial.d1, float).reshape(old_a, old_b, -1)[:n_a, :n_b]
    seen1_old = np.asarray(initial.d1_seen).reshape(old_a, old_b)[:n_a, :n_b]
    d1 = np.zeros((n_a, n_b, 2 * half + 1))
    seen1 = np.zeros((n_a, n_b), np.int8)
    for a in range(d1_old.shape[0]):
        d1[a, :d1_old.shape[1]] = _relayout_displacements(d1_old[a], seen1_old[a], d1_old.shape[1], initial.half,
                                                          half)[0].reshape(-1, 2 * half + 1)
        seen1[a, :d1_old.shape[1]] = seen1_old[a]
    db, db_seen = _relayout_displacements(initial.db, initial.db_seen, n_b, initial.half, half)
    p0 = initial.p0
    if not p0 >= 0:
        phi0 = int(np.count_nonzero(np.asarray(start_positions) == 0))
        m = len(start_positions)
        p0 = 1.0 - phi0 / (m - phi0) if m > phi0 else 0.5
    return FertilityModel(params, initial.last_model, src_class, tgt_class, n_table, initial.n_by_length,
                          initial.n_general, d, min(max(p0, P_CLAMP), 1.0 - P_CLAMP), d1.ravel(), seen1.ravel(),
                          db, db_seen, half)


def _fertility_rows(model: FertilityModel, words) -> np.ndarray:
    """n(phi | e) for every id of ``words`` (a vocabulary that may extend the training one): ids
    beyond the training table get the distribution of training words with the same byte length."""
    n_train = len(model.n_table)
    if len(words) <= n_train:
        return model.n_table
    return np.concatenate([model.n_table, _length_rows(model, ibm3.word_byte_lengths(words, n_train))])


def _length_rows(model: FertilityModel, lengths: np.ndarray) -> np.ndarray:
    """The fertility rows of words unseen in training with these UTF-8 byte lengths: the
    distribution of the training words of the same length, else that of all words."""
    by_len = model.n_by_length
    return np.where((lengths < len(by_len))[:, None], by_len[np.minimum(lengths, len(by_len) - 1)], model.n_general)


def _classes_of(classes: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """The class of each id (:func:`_pad`'s: ids beyond ``classes`` get class 0), int32."""
    out = np.zeros(len(ids), np.int32)
    inside = ids < len(classes)
    out[inside] = classes[ids[inside]]
    return out


def used_tables(model: FertilityModel, corpus) -> tuple:
    """(corpus, n(phi | e) rows, source classes, target classes) with every id of ``corpus``
    renumbered to its rank among the ids the corpus uses (NULL stays 0) and the tables holding the
    rows of those ids only: the rows :func:`corpus_tables` gives them, without a table the size of
    the vocabulary (one new word otherwise copies the whole fertility table, 1.2 ms on de-en).
    Given the sentence slots and not collecting counts, the fertility kernels see an id only
    through these tables (:func:`eegiza.models.fertility_estep.sentence_tables`), so they align
    the renumbered corpus exactly as the original. The returned corpus has no vocabularies."""
    n_train = len(model.n_table)
    src_used = np.unique(np.concatenate([np.zeros(1, corpus.src.ids.dtype), corpus.src.ids]))
    tgt_used = np.unique(corpus.tgt.ids)
    n_known = int(np.searchsorted(src_used, n_train))
    lengths = ibm3.word_byte_lengths(corpus.src_vocab.words, ids=src_used[n_known:])
    rows = np.concatenate([model.n_table[src_used[:n_known]], _length_rows(model, lengths)])
    local = ParallelCorpus(Side(np.searchsorted(src_used, corpus.src.ids).astype(np.int32), corpus.src.offsets),
                           Side(np.searchsorted(tgt_used, corpus.tgt.ids).astype(np.int32), corpus.tgt.offsets),
                           None, None)
    return local, rows, _classes_of(model.src_class, src_used), _classes_of(model.tgt_class, tgt_used)


def align_fertility(model: FertilityModel, ttable, corpus, start_positions, n_chunks: Optional[int] = None,
                    min_link_posterior: float = 0.0, slots=None, run_corpus=None):
    """Hill-climb from ``start_positions`` (the HMM Viterbi alignment of ``corpus``) under the last
    trained model: (positions int32 flat per target token, 0 = NULL, log-probability per sentence
    of the climbed alignment). With ``min_link_posterior`` > 0 (and no pegging), a target word is
    left unaligned when its link holds less than that share of the probability of the climbed
    alignment's neighbourhood (the alignment plus every move and swap), an approximation of the
    link's posterior (posterior decoding; Model 4's neighbourhoods are peaked, so useful values
    are close to 1). ``slots``: the slots of ``corpus`` in ``ttable``, if at hand, as
    :func:`train_fertility` takes them (else the t-table is searched); with slots of 4 bytes
    (:meth:`eegiza.slot_source.SlotSource.stored`, which do not need the source ids), a corpus with
    new source words (which would extend the fertility table by a copy) and fewer source tokens
    than the table has rows (a few pairs aligned with a loaded model) is aligned through
    :func:`used_tables` (same links and scores, no vocabulary-sized tables). ``run_corpus``: replaces :func:`_run_corpus` (the Dask engine's, issue 17)."""
    n_chunks = numba.get_num_threads() if n_chunks is None else n_chunks
    n_train = len(model.n_table)
    source = SlotSource.coerce(slots)
    plain_slots = source.is_stored and not source.is_compact   # (used_tables renumbers the source ids)
    if plain_slots and run_corpus is None and len(corpus.src_vocab) > n_train > len(corpus.src.ids):
        corpus, n_probs, src_class, tgt_class = used_tables(model, corpus)
    else:
        n_probs = _fertility_rows(model, corpus.src_vocab.words)
        src_class = _pad(model.src_class, len(corpus.src_vocab))
        tgt_class = _pad(model.tgt_class, len(corpus.tgt_vocab))
    run = run_corpus or _run_corpus
    positions, scores, *_ = run(model, ttable, corpus, start_positions, n_probs, src_class, tgt_class, True,
                                False, model.last_model == "4", False, False, n_chunks, min_link_posterior,
                                slots=source)
    return positions, scores


def corpus_tables(model: FertilityModel, corpus) -> tuple:
    """(n(phi | e) rows, source classes, target classes) for every id of ``corpus``' vocabularies
    (which may extend the training ones: see :func:`_fertility_rows`; new words get class 0)."""
    return (_fertility_rows(model, corpus.src_vocab.words), _pad(model.src_class, len(corpus.src_vocab)),
            _pad(model.tgt_class, len(corpus.tgt_vocab)))


def score_alignments(model: FertilityModel, ttable, corpus, positions, model_name: Optional[str] = None,
                     tables: Optional[tuple] = None):
    """log P(f, a | e) of the given alignments (flat, 0 = NULL) under Model 3 or 4 (default: the
    last trained model), without hill-climbing; alignments breaking the fertility limits are
    repaired first as in training. ``tables``: :func:`corpus_tables` of the corpus the ids come
    from, when ``corpus`` carries no vocabularies (a Dask shard)."""
    name = model.last_model if model_name is None else model_name
    n_probs, src_class, tgt_class = tables if tables is not None else corpus_tables(model, corpus)
    _, scores, *_ = _run_corpus(model, ttable, corpus, positions, n_probs, src_class, tgt_class, False, False,
                                name == "4", False, False, numba.get_num_threads())
    return scores
