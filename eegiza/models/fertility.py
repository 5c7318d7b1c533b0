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
arguments). All counts are fixed-point, one row per worker (:mod:`eegiza.ttable`), so the result
does not depend on the number of threads or on which worker took which block. Probabilities p0
and p1 are kept within [1e-10, 1 - 1e-10].

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
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from typing import Callable, List, Optional

import numba
import numpy as np
from numba import njit

from ..ttable import COUNT_SCALE, PROB_FLOOR, find_slot, normalise_rows, reduce_counts
from . import ibm3, ibm4, pegging
from .ibm2 import KEY_SHIFT, ATable

LOG_CLIMB_GAIN = float(np.log(1.00001))
MAX_CLIMB_STEPS = 61
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
        from ..train import IterationLog
        values = arrays["params"]
        kwargs = {f.name: type(f.default)(v) for f, v in zip(fields(FertilityParams), values)}
        log = [IterationLog(str(name), int(v[0]), float(v[1]), float(v[2]), float(v[3]))
               for name, v in zip(arrays["log_model"], arrays["log_values"])]
        return cls(FertilityParams(**kwargs), str(arrays["last_model"]), arrays["src_class"], arrays["tgt_class"],
                   arrays["n_table"], arrays["n_by_length"], arrays["n_general"], ATable.from_arrays(arrays, "d_"),
                   float(arrays["p0"]), arrays["d1"], arrays["d1_seen"], arrays["db"], arrays["db_seen"],
                   int(arrays["half"]), log, ATable.from_arrays(arrays, "a_") if "a_keys" in arrays else None)


# --------------------------------------------------------------------------- per-sentence kernels

@njit(cache=True, nogil=True)
def _repair(start, l, m, lt, maxfert, a, fert):
    """Copy the start alignment into ``a``, moving words that break the fertility limits."""
    fert[:] = 0
    for j in range(m):
        i = start[j]
        if i < 0 or i > l:
            i = 0
        if not ibm3.move_allowed(i, fert, m, maxfert):
            best, i = -np.inf, -1
            for i2 in range(l + 1):
                if ibm3.move_allowed(i2, fert, m, maxfert) and lt[i2, j] > best:
                    best, i = lt[i2, j], i2
        a[j] = i
        fert[i] += 1


@njit(cache=True, nogil=True)
def _neighbour_deltas(a, fert, l, m, maxfert, lt, lfert, lnull, ld, model4, ecls, fcls, m4, st, nxtpos, terms,
                      dmove, dswap):
    """Log ratio P(neighbour) / P(a) of every move (dmove[i, j]) and swap (dswap[j1, j2], j1 < j2);
    -inf where the neighbour does not exist or is not allowed. Model 4 adds the incremental
    distortion change (:func:`eegiza.models.ibm4.move_change`, ``swap_change``), except for
    neighbours whose other factors change by less than the log cut-off ``m4[10]`` (-inf there)."""
    if model4:
        ibm4.build_state(a, l, ecls, fcls, m4, st, nxtpos, terms)
    for j in range(m):
        aj = a[j]
        for i in range(l + 1):
            if i == aj or not ibm3.move_allowed(i, fert, m, maxfert):
                dmove[i, j] = -np.inf
                continue
            d = ibm3.move_delta(a, fert, i, j, lt, lfert, lnull, ld, not model4)
            if model4:
                if d < m4[10]:
                    d = -np.inf
                else:
                    d += ibm4.move_change(aj, j + 1, i, l, m, ecls, fcls, m4, st, nxtpos, terms)
            dmove[i, j] = d
        for j2 in range(j + 1, m):
            if a[j2] == aj:
                dswap[j, j2] = -np.inf
                continue
            d = ibm3.swap_delta(a, j, j2, lt, ld, not model4)
            if model4:
                if d < m4[10]:
                    d = -np.inf
                else:
                    d += ibm4.swap_change(aj, j + 1, a[j2], j2 + 1, l, m, ecls, fcls, m4, st, nxtpos, terms)
            dswap[j, j2] = d


@njit(cache=True, nogil=True)
def _climb_model3(a, fert, l, m, maxfert, lt, lfert, lnull, ld, ecls, fcls, m4, st, nxtpos, terms, dmove,
                  dswap, peg):
    """Model-3 steepest-ascent hill-climbing over moves and swaps (GIZA's ``hillClimb_std``); returns
    True if it stopped at a local optimum, whose neighbour deltas are then in ``dmove``/``dswap``.
    ``peg`` >= 0: position ``peg`` is never moved nor swapped (and False is returned)."""
    for _ in range(MAX_CLIMB_STEPS):
        _neighbour_deltas(a, fert, l, m, maxfert, lt, lfert, lnull, ld, False, ecls, fcls, m4, st, nxtpos, terms,
                          dmove, dswap)
        if peg >= 0:
            dmove[:, peg] = -np.inf
            dswap[peg, :] = -np.inf
            dswap[:, peg] = -np.inf
        best, kind, v1, v2 = LOG_CLIMB_GAIN, 0, 0, 0
        for j in range(m):
            for j2 in range(j + 1, m):
                if dswap[j, j2] > best:
                    best, kind, v1, v2 = dswap[j, j2], 1, j, j2
            for i in range(l + 1):
                if dmove[i, j] > best:
                    best, kind, v1, v2 = dmove[i, j], 2, i, j
        if kind == 0:
            return peg < 0
        if kind == 1:
            i1 = a[v1]
            a[v1] = a[v2]
            a[v2] = i1
        else:
            fert[a[v2]] -= 1
            fert[v1] += 1
            a[v2] = v1
    return False


@njit(cache=True, nogil=True)
def _model4_try(k, a, fert, l, m, lt, lfert, lnull, ld, ecls, fcls, m4, st, nxtpos, terms, dmove, dswap):
    """Model-4 log change of candidate k (move k = i m + j, swap k = (l + 1) m + j1 m + j2), also
    stored in ``dmove``/``dswap``."""
    n_moves = (l + 1) * m
    if k < n_moves:
        i, j = k // m, k % m
        d = ibm3.move_delta(a, fert, i, j, lt, lfert, lnull, ld, False)
        d = -np.inf if d < m4[10] else d + ibm4.move_change(a[j], j + 1, i, l, m, ecls, fcls, m4, st, nxtpos, terms)
        dmove[i, j] = d
    else:
        j, j2 = (k - n_moves) // m, (k - n_moves) % m
        d = ibm3.swap_delta(a, j, j2, lt, ld, False)
        d = -np.inf if d < m4[10] else d + ibm4.swap_change(a[j], j + 1, a[j2], j2 + 1, l, m, ecls, fcls, m4, st,
                                                           nxtpos, terms)
        dswap[j, j2] = d
    return d


@njit(cache=True, nogil=True)
def _ranked_before(proposal, k1, k2):
    """Candidate k1 comes before k2: larger Model-3 change, on ties the lower index."""
    return proposal[k1] > proposal[k2] or (proposal[k1] == proposal[k2] and k1 < k2)


@njit(cache=True, nogil=True)
def _sift_down(heap, n, pos, proposal):
    """Restore the max-heap (by :func:`_ranked_before`) of heap[:n] below ``pos``."""
    k = heap[pos]
    while True:
        child = 2 * pos + 1
        if child >= n:
            break
        if child + 1 < n and _ranked_before(proposal, heap[child + 1], heap[child]):
            child += 1
        if not _ranked_before(proposal, heap[child], k):
            break
        heap[pos] = heap[child]
        pos = child
    heap[pos] = k


@njit(cache=True, nogil=True)
def _climb_model4(a, fert, l, m, maxfert, lt, lfert, lfert3, lnull, ld, ecls, fcls, m4, st, nxtpos, terms, dmove,
                  dswap, peg):
    """Model-4 hill-climbing as GIZA's ``greedyClimb_WithIBM3Scoring``: the moves and swaps are tried
    in decreasing order of their Model-3 score change (ties: by index, moves first) and the first one
    that multiplies the Model-4 probability by more than 1.00001 is applied. Returns True at a local
    optimum, where every neighbour has been scored: ``dmove``/``dswap`` then hold the Model-4 deltas.

    The order comes lazily from a heap; after a quarter of the candidates have been tried in vain,
    the rest are all scored (as they must be at a local optimum) and the best-ranked improving one,
    if any, is applied: the same choice as trying them all in order. ``peg`` >= 0: position ``peg``
    is never moved nor swapped (and False is returned)."""
    n_moves = (l + 1) * m
    proposal = np.empty(n_moves + m * m)
    heap = np.empty(n_moves + m * m, np.int64)
    for _ in range(MAX_CLIMB_STEPS):
        n = 0
        for j in range(m):
            aj = a[j]
            for i in range(l + 1):
                k = i * m + j
                if i == aj or j == peg or not ibm3.move_allowed(i, fert, m, maxfert):
                    proposal[k] = -np.inf
                else:
                    proposal[k] = ibm3.move_delta(a, fert, i, j, lt, lfert3, lnull, ld, True)
                    heap[n] = k
                    n += 1
            for j2 in range(j + 1, m):
                if a[j2] != aj and j != peg and j2 != peg:
                    k = n_moves + j * m + j2
                    proposal[k] = ibm3.swap_delta(a, j, j2, lt, ld, True)
                    heap[n] = k
                    n += 1
        for pos in range(n // 2 - 1, -1, -1):
            _sift_down(heap, n, pos, proposal)
        dmove[:] = -np.inf
        dswap[:] = -np.inf
        ibm4.build_state(a, l, ecls, fcls, m4, st, nxtpos, terms)
        chosen = -1
        in_order = n // 4 + 8
        while n > 0 and in_order > 0 and chosen < 0:
            k = heap[0]
            n -= 1
            heap[0] = heap[n]
            _sift_down(heap, n, 0, proposal)
            in_order -= 1
            if _model4_try(k, a, fert, l, m, lt, lfert, lnull, ld, ecls, fcls, m4, st, nxtpos, terms, dmove,
                           dswap) > LOG_CLIMB_GAIN:
                chosen = k
        if chosen < 0:
            for r in range(n):
                k = heap[r]
                if _model4_try(k, a, fert, l, m, lt, lfert, lnull, ld, ecls, fcls, m4, st, nxtpos, terms, dmove,
                               dswap) > LOG_CLIMB_GAIN and (chosen < 0 or _ranked_before(proposal, k, chosen)):
                    chosen = k
        if chosen < 0:
            return peg < 0
        if chosen < n_moves:
            i, j = chosen // m, chosen % m
            fert[a[j]] -= 1
            fert[i] += 1
            a[j] = i
        else:
            j, j2 = (chosen - n_moves) // m, (chosen - n_moves) % m
            i1 = a[j]
            a[j] = a[j2]
            a[j2] = i1
    return False


@njit(cache=True, nogil=True)
def _fixed(x):
    return np.int64(max(x, 0.0) * COUNT_SCALE + 0.5)


@njit(cache=True, nogil=True)
def _hood_total(l, m, dmove, dswap, centre_weight):
    """sum_N P / P(a) over the neighbourhood whose deltas are ``dmove``/``dswap`` (-inf: left out),
    the centre counting ``centre_weight`` (1, or 0 when left out)."""
    total = centre_weight
    for j in range(m):
        for i in range(l + 1):
            if dmove[i, j] > -np.inf:
                total += np.exp(dmove[i, j])
        for j2 in range(j + 1, m):
            if dswap[j, j2] > -np.inf:
                total += np.exp(dswap[j, j2])
    return total


@njit(cache=True, nogil=True)
def _collect(e_sent, a, fert, l, m, maxfert, dmove, dswap, tslot, dslot, cutoff, collect_d4, ecls, fcls, m4,
             scratch, tc, nc, dc, pc, c1, cb, centre_weight, scale):
    """Add the neighbourhood counts of centre ``a`` (the centre itself weighing ``centre_weight``,
    1 or 0), each alignment weighted by P / P(a) * ``scale``, or, if ``scale`` < 0, by its share
    of this neighbourhood alone; returns log of sum_N P / P(a)."""
    total = centre_weight
    wmove = np.zeros((l + 1, m))
    cswap = np.zeros((l + 1, m))
    negmove = np.zeros(m)
    negswap = np.zeros(m)
    plus1 = np.zeros(l + 1)
    minus1 = np.zeros(l + 1)
    for j in range(m):
        for i in range(l + 1):
            if dmove[i, j] > -np.inf:
                w = np.exp(dmove[i, j])
                wmove[i, j] = w
                total += w
                negmove[j] += w
                plus1[i] += w
                minus1[a[j]] += w
        for j2 in range(j + 1, m):
            if dswap[j, j2] > -np.inf:
                w = np.exp(dswap[j, j2])
                total += w
                cswap[a[j], j2] += w
                cswap[a[j2], j] += w
                negswap[j] += w
                negswap[j2] += w
    inv = 1.0 / total if scale < 0 else scale
    for j in range(m):
        for i in range(l + 1):
            if i == a[j]:
                v = (total - negmove[j] - negswap[j]) * inv
            else:
                v = (cswap[i, j] + wmove[i, j]) * inv
            if v > cutoff:
                if tslot[i, j] >= 0:
                    tc[tslot[i, j]] += _fixed(v)
                if i > 0 and dslot[i, j] >= 0:
                    dc[dslot[i, j]] += _fixed(v)
    for i in range(1, l + 1):
        row = e_sent[i - 1] * maxfert
        phi = fert[i]
        nc[row + phi] += _fixed((total - minus1[i] - plus1[i]) * inv)
        if phi > 0:
            nc[row + phi - 1] += _fixed(minus1[i] * inv)
        if phi + 1 < maxfert:
            nc[row + phi + 1] += _fixed(plus1[i] * inv)
    f0 = fert[0]
    stay = (total - minus1[0] - plus1[0]) * inv
    p1c = stay * f0
    p0c = stay * (m - 2 * f0)
    if f0 > 0:
        p1c += minus1[0] * inv * (f0 - 1)
        p0c += minus1[0] * inv * (m - 2 * (f0 - 1))
    if m - 2 * (f0 + 1) >= 0:
        p1c += plus1[0] * inv * (f0 + 1)
        p0c += plus1[0] * inv * (m - 2 * (f0 + 1))
    pc[0] += _fixed(p0c)
    pc[1] += _fixed(p1c)
    if collect_d4:
        if centre_weight > 0:
            ibm4.distortion(a, l, ecls, fcls, m4[0], m4[1], m4[2], m4[3], m4[4], m4[5], m4[6], m4[7], scratch,
                            centre_weight * inv, c1, cb, True)
        for j in range(m):
            for i in range(l + 1):
                w = wmove[i, j] * inv
                if w > cutoff:
                    old = a[j]
                    a[j] = i
                    ibm4.distortion(a, l, ecls, fcls, m4[0], m4[1], m4[2], m4[3], m4[4], m4[5], m4[6], m4[7],
                                    scratch, w, c1, cb, True)
                    a[j] = old
            for j2 in range(j + 1, m):
                if dswap[j, j2] > -np.inf:
                    w = np.exp(dswap[j, j2]) * inv
                    if w > cutoff:
                        i1 = a[j]
                        a[j] = a[j2]
                        a[j2] = i1
                        ibm4.distortion(a, l, ecls, fcls, m4[0], m4[1], m4[2], m4[3], m4[4], m4[5], m4[6],
                                        m4[7], scratch, w, c1, cb, True)
                        a[j2] = a[j]
                        a[j] = i1
    return np.log(total)


@njit(cache=True, nogil=True)
def _climb(a, fert, l, m, maxfert, lt, lfert, lfert3, lnull, ld, model4, ecls, fcls, m4, st, nxtpos, terms, dmove,
           dswap, peg):
    """Hill-climb ``a`` under Model 3 or 4 (``peg`` >= 0: a_peg stays); True at a local optimum whose
    neighbour deltas are in ``dmove``/``dswap``."""
    if model4:
        return _climb_model4(a, fert, l, m, maxfert, lt, lfert, lfert3, lnull, ld, ecls, fcls, m4, st, nxtpos, terms,
                             dmove, dswap, peg)
    return _climb_model3(a, fert, l, m, maxfert, lt, lfert, lnull, ld, ecls, fcls, m4, st, nxtpos, terms, dmove,
                         dswap, peg)


@njit(cache=True, nogil=True)
def _score(a, fert, l, lt, lfert, lnull, ld, model4, ecls, fcls, m4, scratch):
    """log P(f, a | e) under Model 3 or 4."""
    score = ibm3.log_prob(a, fert, lt, lfert, lnull, ld, not model4)
    if model4:
        score += ibm4.distortion(a, l, ecls, fcls, m4[0], m4[1], m4[2], m4[3], m4[4], m4[5], m4[6], m4[7],
                                 scratch, 0.0, m4[8], m4[9], False)
    return score


@njit(cache=True, nogil=True)
def _pegged_centres(a0, fert0, a_best, score_best, l, m, maxfert, lt, lfert, lfert3, lnull, ld, model4, ecls, fcls,
                    m4, st, nxtpos, terms, dmove, dswap, scratch, log_pegcut, link_cache):
    """The centres of pegging: a* (``a_best``) and, for every peg (i, j) in order j, i, the climb
    from the start ``a0`` with a_j := i that never moves j, unless the peg breaks the fertility
    limits, t(f_j | e_i) <= peggedcutoff t(f_j | e_{a0_j}), (``link_cache``) the link i-j is in the
    start or in an earlier pegged climb's result, the result scores <= peggedcutoff times the best
    centre so far, or it is already a centre. Returns (centres, their log-probabilities, their
    number, the index of the best: a later centre replaces it when better by > 1.00001)."""
    cap = 1 + (l + 1) * m
    centres = np.empty((cap, m), np.int64)
    cscores = np.empty(cap)
    centres[0] = a_best
    cscores[0] = score_best
    n, best = 1, 0
    b = np.empty(m, np.int64)
    fb = np.empty(l + 1, np.int64)
    pos = np.empty(4, np.int64)
    linked = np.zeros((l + 1, m), np.bool_)
    for j in range(m):
        linked[a0[j], j] = link_cache
    for j in range(m):
        for i in range(l + 1):
            if linked[i, j] or lt[i, j] <= lt[a0[j], j] + log_pegcut:
                continue
            b[:] = a0
            fb[:] = fert0
            if i != a0[j]:
                if not ibm3.move_allowed(i, fb, m, maxfert):
                    continue
                fb[a0[j]] -= 1
                fb[i] += 1
                b[j] = i
            _climb(b, fb, l, m, maxfert, lt, lfert, lfert3, lnull, ld, model4, ecls, fcls, m4, st, nxtpos, terms,
                   dmove, dswap, j)
            for j2 in range(m):
                linked[b[j2], j2] = link_cache
            s = _score(b, fb, l, lt, lfert, lnull, ld, model4, ecls, fcls, m4, scratch)
            if s <= cscores[best] + log_pegcut:
                continue
            known = False
            for k in range(n):
                if pegging.differences(centres[k], b, pos) == 0:
                    known = True
                    break
            if known:
                continue
            centres[n] = b
            cscores[n] = s
            if s > cscores[best] + LOG_CLIMB_GAIN:
                best = n
            n += 1
    return centres, cscores, n, best


@njit(cache=True, nogil=True)
def _union_part(centres, k, fert, l, m, maxfert, lt, lfert, lnull, ld, model4, ecls, fcls, m4, st, nxtpos, terms,
                dmove, dswap):
    """Fertilities and neighbour deltas of centre k, the members of earlier centres' neighbourhoods
    set to -inf; returns the centre's own weight (0 if an earlier neighbourhood has it)."""
    c = centres[k]
    fert[:] = 0
    for j in range(m):
        fert[c[j]] += 1
    _neighbour_deltas(c, fert, l, m, maxfert, lt, lfert, lnull, ld, model4, ecls, fcls, m4, st, nxtpos, terms,
                      dmove, dswap)
    weight = 1.0
    for k2 in range(k):
        if pegging.drop_covered(c, centres[k2], l, m, dmove, dswap):
            weight = 0.0
    return weight


@njit(cache=True, nogil=True)
def _collect_union(e_sent, centres, cscores, n, l, m, maxfert, lt, lfert, lnull, ld, model4, ecls, fcls, m4, st,
                   nxtpos, terms, dmove, dswap, tslot, dslot, cutoff, collect_d4, scratch, tc, nc, dc, pc, c1, cb):
    """Add the counts of the union of the centres' neighbourhoods (:mod:`eegiza.models.pegging`),
    every alignment weighted by P / sum_union P; returns log sum_union P."""
    logs = np.empty(n)
    fert = np.empty(l + 1, np.int64)
    for k in range(n):
        weight = _union_part(centres, k, fert, l, m, maxfert, lt, lfert, lnull, ld, model4, ecls, fcls, m4, st,
                             nxtpos, terms, dmove, dswap)
        logs[k] = cscores[k] + np.log(_hood_total(l, m, dmove, dswap, weight))
    top = logs.max()
    z = 0.0
    for k in range(n):
        z += np.exp(logs[k] - top)
    log_z = top + np.log(z)
    for k in range(n):
        weight = _union_part(centres, k, fert, l, m, maxfert, lt, lfert, lnull, ld, model4, ecls, fcls, m4, st,
                             nxtpos, terms, dmove, dswap)
        _collect(e_sent, centres[k], fert, l, m, maxfert, dmove, dswap, tslot, dslot, cutoff, collect_d4, ecls, fcls,
                 m4, scratch, tc, nc, dc, pc, c1, cb, weight, np.exp(cscores[k] - log_z))
    return log_z


@njit(cache=True, nogil=True)
def _drop_uncertain_links(l, m, dmove, dswap, min_posterior, out):
    """Unalign (out[j] = 0) every target word whose link keeps less than ``min_posterior`` of the
    probability of the neighbourhood whose deltas are ``dmove``/``dswap`` (the moves and swaps that
    change a_j take the rest)."""
    total = 1.0
    leaving = np.zeros(m)
    for j in range(m):
        for i in range(l + 1):
            if dmove[i, j] > -np.inf:
                w = np.exp(dmove[i, j])
                total += w
                leaving[j] += w
        for j2 in range(j + 1, m):
            if dswap[j, j2] > -np.inf:
                w = np.exp(dswap[j, j2])
                total += w
                leaving[j] += w
                leaving[j2] += w
    for j in range(m):
        if (total - leaving[j]) / total < min_posterior:
            out[j] = 0


@njit(cache=True, nogil=True)
def _sentence(e_sent, f_sent, start, out, climb, neighbours, model4, collect, collect_d4, indptr, indices, probs,
              floor, n_probs, dk, dl_, dm_, doff, dprobs, d_ign_l, d_ign_m, log_p0, log_p1, deficient, src_class,
              tgt_class, m4, cutoff, pegged, log_pegcut, link_cache, min_posterior, tc, nc, dc, pc, c1, cb, decoded,
              slots):
    """Align one pair (start, climb; with ``pegged`` also the pegged climbs) into ``out``, add its
    counts if ``collect``; returns (log P of the alignment under the from model, log of its
    neighbourhood sum, or with pegging of the union's sum). Without pegging, ``min_posterior`` > 0
    unaligns the words whose link is uncertain: in ``out`` without ``collect``
    (:func:`align_fertility`), in ``decoded`` (if not empty: the output alignment of the last
    training iteration) with it; ``decoded`` otherwise gets ``out``. ``slots``: the pair's t-table
    slots (:func:`eegiza.ttable.sentence_slots`), or empty to look them up here."""
    l, m = len(e_sent), len(f_sent)
    if m == 0:
        return 0.0, 0.0
    maxfert = n_probs.shape[1]
    if l == 0 or l * (maxfert - 1) + m // 2 < m:
        for j in range(m):
            out[j] = start[j] if 0 <= start[j] <= l else 0
        if len(decoded) > 0:
            decoded[:] = out
        return -np.inf, 0.0
    n_rows = len(indptr) - 1  # source words unseen in training have no t-table row
    lt = np.empty((l + 1, m))
    tslot = np.empty((l + 1, m), np.int64)
    for i in range(l + 1):
        e = 0 if i == 0 else e_sent[i - 1]
        for j in range(m):
            if len(slots) > 0:
                s = slots[j * (l + 1) + i]
            else:
                s = find_slot(indptr, indices, e, f_sent[j]) if e < n_rows else -1
            tslot[i, j] = s
            lt[i, j] = np.log(max(probs[s], floor)) if s >= 0 else np.log(floor)
    ld, dslot = ibm3.distortion_logs(l, m, dk, dl_, dm_, doff, dprobs, d_ign_l, d_ign_m, floor)
    lfert = ibm3.fertility_log_probs(e_sent, n_probs, floor, not model4)
    lnull = ibm3.null_log_probs(m, log_p0, log_p1, deficient)
    ecls = np.zeros(l + 1, np.int64)
    for i in range(1, l + 1):
        ecls[i] = src_class[e_sent[i - 1]]
    ecls[0] = src_class[0]
    fcls = np.empty(m, np.int64)
    for j in range(m):
        fcls[j] = tgt_class[f_sent[j]]
    a = np.empty(m, np.int64)
    fert = np.zeros(l + 1, np.int64)
    _repair(start, l, m, lt, maxfert, a, fert)
    a0, fert0 = a.copy(), fert.copy()
    scratch = np.empty((5, l + 1), np.int64)
    st = np.zeros((6, l + 2), np.int64)
    nxtpos = np.zeros(m + 1, np.int64)
    terms = np.zeros((2, l + 1))
    dmove = np.full((l + 1, m), -np.inf)
    dswap = np.full((m, m), -np.inf)
    lfert3 = ibm3.fertility_log_probs(e_sent, n_probs, floor, True) if model4 else lfert
    current = False
    if climb:
        current = _climb(a, fert, l, m, maxfert, lt, lfert, lfert3, lnull, ld, model4, ecls, fcls, m4, st, nxtpos,
                         terms, dmove, dswap, -1)
    score = _score(a, fert, l, lt, lfert, lnull, ld, model4, ecls, fcls, m4, scratch)
    if climb and pegged:
        centres, cscores, n, best = _pegged_centres(a0, fert0, a, score, l, m, maxfert, lt, lfert, lfert3, lnull, ld,
                                                    model4, ecls, fcls, m4, st, nxtpos, terms, dmove, dswap, scratch,
                                                    log_pegcut, link_cache)
        for j in range(m):
            out[j] = centres[best, j]
        if len(decoded) > 0:
            decoded[:] = out
        if not collect:
            return cscores[best], cscores[best]
        return cscores[best], _collect_union(e_sent, centres, cscores, n, l, m, maxfert, lt, lfert, lnull, ld, model4,
                                             ecls, fcls, m4, st, nxtpos, terms, dmove, dswap, tslot, dslot, cutoff,
                                             collect_d4, scratch, tc, nc, dc, pc, c1, cb)
    for j in range(m):
        out[j] = a[j]
    if not collect:
        if min_posterior > 0.0:
            if not current:
                _neighbour_deltas(a, fert, l, m, maxfert, lt, lfert, lnull, ld, model4, ecls, fcls, m4, st, nxtpos,
                                  terms, dmove, dswap)
            _drop_uncertain_links(l, m, dmove, dswap, min_posterior, out)
        return score, score
    if neighbours and not current:
        _neighbour_deltas(a, fert, l, m, maxfert, lt, lfert, lnull, ld, model4, ecls, fcls, m4, st, nxtpos, terms,
                          dmove, dswap)
    elif not neighbours:
        dmove[:] = -np.inf
        dswap[:] = -np.inf
    if len(decoded) > 0:
        decoded[:] = out
        if min_posterior > 0.0 and neighbours:
            _drop_uncertain_links(l, m, dmove, dswap, min_posterior, decoded)
    return score, score + _collect(e_sent, a, fert, l, m, maxfert, dmove, dswap, tslot, dslot, cutoff,
                                   collect_d4, ecls, fcls, m4, scratch, tc, nc, dc, pc, c1, cb, 1.0, -1.0)


@njit(cache=True, nogil=True)
def _chunk(lo, hi, src_ids, src_off, tgt_ids, tgt_off, start, climb, neighbours, model4, collect, collect_d4,
           indptr, indices, probs, floor, n_probs, dk, dl_, dm_, doff, dprobs, d_ign_l, d_ign_m, log_p0, log_p1,
           deficient, src_class, tgt_class, d1, d1_seen, db, db_seen, n_fcls, half, m4smooth, cutoff, pegged,
           log_pegcut, link_cache, min_posterior, tc, nc, dc, pc, c1, cb, positions, scores, loglik, decoded, slots,
           slot_off, log_neighbour_cut):
    """Sentences lo..hi-1 (one block; counts into the rows of the worker that runs it); ``slots``
    and ``slot_off`` as :func:`eegiza.ttable.sentence_slots` gives them, or empty."""
    m4 = (d1, d1_seen, db, db_seen, n_fcls, half, m4smooth, floor, c1, cb, log_neighbour_cut)
    for k in range(lo, hi):
        t_lo, t_hi = tgt_off[k], tgt_off[k + 1]
        block = slots[slot_off[k]:slot_off[k + 1]] if len(slot_off) > 0 else slots[0:0]
        scores[k], loglik[k] = _sentence(
            src_ids[src_off[k]:src_off[k + 1]], tgt_ids[t_lo:t_hi], start[t_lo:t_hi], positions[t_lo:t_hi], climb,
            neighbours, model4, collect, collect_d4, indptr, indices, probs, floor, n_probs, dk, dl_, dm_, doff,
            dprobs, d_ign_l, d_ign_m, log_p0, log_p1, deficient, src_class, tgt_class, m4, cutoff, pegged,
            log_pegcut, link_cache, min_posterior, tc, nc, dc, pc, c1, cb,
            decoded[t_lo:t_hi], block)  # decoded: empty when not decoding


# --------------------------------------------------------------------------- driver

def _pad(classes: np.ndarray, size: int) -> np.ndarray:
    """Classes for ids 0..size-1 (ids beyond the given array get class 0)."""
    out = np.zeros(size, np.int32)
    n = min(size, len(classes))
    out[:n] = classes[:n]
    return out


def _run_corpus(model: FertilityModel, ttable, corpus, start, n_probs, src_class, tgt_class, climb, neighbours,
                from_model4, collect, collect_d4, n_chunks, min_posterior: float = 0.0, decode: bool = False,
                slots=None):
    """Every sentence: positions, scores, neighbourhood log-sums, and the counts (fixed point, one
    row per worker) when ``collect``; with ``decode`` (and ``collect``) also the alignment with
    uncertain links unaligned (``min_posterior``), else that is an empty array. ``slots``: (slots,
    slot offsets) of :func:`eegiza.ttable.sentence_slots` for this corpus and table, if at hand.
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
    tc = np.zeros((n_chunks, ttable.nnz if collect else 0), np.int64)
    nc = np.zeros((n_chunks, n_probs.size if collect else 0), np.int64)
    dc = np.zeros((n_chunks, len(d.probs) if collect else 0), np.int64)
    pc = np.zeros((n_chunks, 2), np.int64)
    c1 = np.zeros((n_chunks, len(model.d1) if collect_d4 else 0), np.int64)
    cb = np.zeros((n_chunks, len(model.db) if collect_d4 else 0), np.int64)
    positions = np.zeros(len(tgt_ids), np.int32)
    decoded = np.zeros(len(tgt_ids) if decode else 0, np.int32)
    scores = np.zeros(n_sent)
    loglik = np.zeros(n_sent)

    log_pegcut = float(np.log(prm.peggedcutoff)) if prm.peggedcutoff > 0 else -np.inf
    log_neighbour_cut = float(np.log(prm.neighbourcutoff)) if prm.neighbourcutoff > 0 else -np.inf
    slot_arr, slot_off = slots if slots is not None else (np.zeros(0, np.int32), np.zeros(0, np.int64))
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
                   ttable.indices, ttable.probs, prm.prob_smooth, n_probs, d.keys, d.dim_l, d.dim_m, d.offsets,
                   d.probs, d.ignore_l, d.ignore_m, np.log(p0), np.log(1.0 - p0),
                   int(prm.deficientdistortionforemptyword), src_class, tgt_class, model.d1, model.d1_seen, model.db,
                   model.db_seen, model.n_tgt_classes, model.half, prm.model4smoothfactor,
                   prm.countincreasecutoffal, bool(prm.pegging), log_pegcut, bool(prm.uselinkcache),
                   float(min_posterior), tc[c], nc[c], dc[c], pc[c], c1[c], cb[c], positions, scores, loglik,
                   decoded, slot_arr, slot_off, log_neighbour_cut)

    with ThreadPoolExecutor(max_workers=min(n_chunks, numba.get_num_threads())) as pool:
        list(pool.map(work, range(n_chunks)))
    return positions, scores, loglik, tc, nc, dc, pc, c1, cb, decoded


def normalise_t(ttable, counts: np.ndarray, model_name: str = "3") -> None:
    """GIZA++'s t M-step: t(f | e) = c(e, f) / c(e), by maximum likelihood (for either model)."""
    ttable.probs = normalise_rows(ttable.indptr, counts)


def _m_step(model: FertilityModel, ttable, lengths, tc, nc, dc, pc, c1, cb, update_t, update_d4,
            t_update: Callable = normalise_t, model_name: str = "3") -> None:
    prm = model.params
    if update_t:
        t_update(ttable, reduce_counts(tc), model_name)
    n_counts = reduce_counts(nc).reshape(model.n_table.shape)
    model.n_table, model.n_by_length, model.n_general = ibm3.normalise_fertility(
        n_counts, lengths, prm.nsmooth, prm.nsmoothgeneral, prm.prob_smooth)
    d = model.d_table
    d.probs = ibm3.normalise_distortion(d.dim_l, d.dim_m, d.offsets, reduce_counts(dc), prm.model23smoothfactor)
    if prm.p0 >= 0:
        model.p0 = prm.p0
    else:
        p0c, p1c = reduce_counts(pc)
        model.p0 = p0c / (p0c + p1c) if p0c + p1c > 0 else 0.5
    if update_d4:
        width = 2 * model.half + 1
        model.d1, model.d1_seen = ibm4.normalise_rows(reduce_counts(c1), model.d1_seen, width)
        model.db, model.db_seen = ibm4.normalise_rows(reduce_counts(cb), model.db_seen, width)


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
                    output_posterior: Optional[float] = None, slots=None, run_corpus=None) -> FertilityModel:
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
    the training corpus then needs no second alignment pass. ``slots``: (slots, slot offsets) of
    :func:`eegiza.ttable.sentence_slots` for ``corpus`` and ``ttable`` (the HMM's, reused), or None.
    ``run_corpus``: replaces :func:`_run_corpus` (the Dask engine's, issue 17)."""
    from ..train import IterationLog, perplexity
    _run_corpus = run_corpus or globals()["_run_corpus"]
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
    if initial is None:
        model = FertilityModel(params, sequence[-1], src_class, tgt_class, np.zeros((n_src, maxfert)),
                               np.zeros((1, maxfert)), np.full(maxfert, 1.0 / maxfert), d_table,
                               params.p0 if params.p0 >= 0 else 0.5, np.full(n_a * n_b * width, 1.0 / width),
                               np.zeros(n_a * n_b, np.int8), np.full(n_b * width, 1.0 / width),
                               np.zeros(n_b, np.int8), half)
        # transfer: n, d, p0 from the HMM Viterbi alignments, t as the HMM left it
        out = _run_corpus(model, ttable, corpus, start_positions, model.n_table, src_class, tgt_class, False, False,
                          False, True, False, n_chunks, slots=slots)
        _m_step(model, ttable, lengths, *out[3:9], update_t=False, update_d4=False)
        first_from = "3"
    else:
        model = continued_model(initial, corpus, src_class, tgt_class, params, start_positions)
        first_from = initial.last_model
        if (first_from, sequence[0]) not in ITERATION_NAMES:
            raise ValueError(f"fertility schedule {schedule_items!r} cannot continue a Model-{first_from} model")
    positions = None
    for it, to_model in enumerate(sequence, 1):
        t0 = time.perf_counter()
        from_model = first_from if it == 1 else sequence[it - 2]
        warm = params.warm_start and positions is not None and from_model == "4"
        climb_start = positions if warm else start_positions
        last = it == len(sequence) and output_posterior is not None
        positions, scores, loglik, *counts, decoded = _run_corpus(
            model, ttable, corpus, climb_start, model.n_table, src_class, tgt_class, True, True,
            from_model == "4", True, to_model == "4", n_chunks, output_posterior or 0.0, decode=last, slots=slots)
        if last:
            model.output = (decoded, scores)
        _m_step(model, ttable, lengths, *counts, update_t=True, update_d4=to_model == "4", t_update=t_update,
                model_name=to_model)
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
    ``compact`` (``compactadtable``) ignores m."""
    table = ATable.layout(corpus.src.offsets, corpus.tgt.offsets, ignore_l=False, ignore_m=compact)
    ls, ms = corpus.src.lengths.astype(np.int64), corpus.tgt.lengths.astype(np.int64)
    keys = (ls << KEY_SHIFT) | (np.zeros_like(ms) if compact else ms)
    block = np.repeat(np.searchsorted(table.keys, keys), ms)
    j = np.arange(len(positions)) - np.repeat(corpus.tgt.offsets[:-1], ms)
    i = np.asarray(positions, np.int64)
    counts = np.bincount(table.offsets[block] + j * (table.dim_l[block] + 1) + i, minlength=len(table.probs))
    column = np.repeat(np.arange(int(table.dim_m.sum())), np.repeat(table.dim_l + 1, table.dim_m))
    sums = np.bincount(column, weights=counts, minlength=int(table.dim_m.sum()))
    table.probs = np.where(sums[column] > 0, counts / np.maximum(sums[column], 1), 0.0)
    return table


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
    extra = ibm3.word_byte_lengths(words)[n_train:]
    rows = np.where((extra < len(model.n_by_length))[:, None],
                    model.n_by_length[np.minimum(extra, len(model.n_by_length) - 1)], model.n_general)
    return np.concatenate([model.n_table, rows])


def align_fertility(model: FertilityModel, ttable, corpus, start_positions, n_chunks: Optional[int] = None,
                    min_link_posterior: float = 0.0, run_corpus=None):
    """Hill-climb from ``start_positions`` (the HMM Viterbi alignment of ``corpus``) under the last
    trained model: (positions int32 flat per target token, 0 = NULL, log-probability per sentence
    of the climbed alignment). With ``min_link_posterior`` > 0 (and no pegging), a target word is
    left unaligned when its link holds less than that share of the probability of the climbed
    alignment's neighbourhood (the alignment plus every move and swap), an approximation of the
    link's posterior (posterior decoding; Model 4's neighbourhoods are peaked, so useful values
    are close to 1). ``run_corpus``: replaces :func:`_run_corpus` (the Dask engine's, issue 17)."""
    n_chunks = numba.get_num_threads() if n_chunks is None else n_chunks
    n_probs = _fertility_rows(model, corpus.src_vocab.words)
    src_class = _pad(model.src_class, len(corpus.src_vocab))
    tgt_class = _pad(model.tgt_class, len(corpus.tgt_vocab))
    run = run_corpus or _run_corpus
    positions, scores, *_ = run(model, ttable, corpus, start_positions, n_probs, src_class, tgt_class, True,
                                False, model.last_model == "4", False, False, n_chunks, min_link_posterior)
    return positions, scores


def score_alignments(model: FertilityModel, ttable, corpus, positions, model_name: Optional[str] = None):
    """log P(f, a | e) of the given alignments (flat, 0 = NULL) under Model 3 or 4 (default: the
    last trained model), without hill-climbing; alignments breaking the fertility limits are
    repaired first as in training."""
    name = model.last_model if model_name is None else model_name
    n_probs = _fertility_rows(model, corpus.src_vocab.words)
    src_class = _pad(model.src_class, len(corpus.src_vocab))
    tgt_class = _pad(model.tgt_class, len(corpus.tgt_vocab))
    _, scores, *_ = _run_corpus(model, ttable, corpus, positions, n_probs, src_class, tgt_class, False, False,
                                name == "4", False, False, numba.get_num_threads())
    return scores
