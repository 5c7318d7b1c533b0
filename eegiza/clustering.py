"""Word classes for the HMM and Model 4: exchange clustering of a class-bigram model (what mkcls does).

Model (Kneser & Ney 1993; Och 1995, the ML criterion of mkcls): the corpus is read as one stream
``$ s1 $ s2 $ ... $`` where ``$`` is the sentence boundary (vocabulary id 0, the NULL id, which never
occurs in a sentence). With a class map C, P(w_k | w_{k-1}) = p(C(w_k) | C(w_{k-1})) p(w_k | C(w_k)),
and the maximum-likelihood log-likelihood of the bigram tokens is

    LL(C) = F(C) + sum_w N(w) log N(w),
    F(C)  = sum_{c,c'} h(N(c, c')) - sum_c h(N_left(c)) - sum_c h(N_right(c)),   h(n) = n log n,

where N(c, c') counts class bigrams and N_left/N_right are the class counts as left/right word of a
bigram (equal for every class here, so F is the familiar sum h(N(c,c')) - 2 sum h(N(c))). Only F
depends on C; the exchange algorithm maximises it. The boundary ``$`` is alone in class 0 (as in
mkcls); real words are in classes 1..n_classes.

Algorithm (exchange, Martin, Liermann & Ney 1998): words are visited in decreasing frequency order;
each is taken out of its class and put into the class that maximises F. The change of F for putting
word w into class b only involves the cells N(b, c') for the classes c' of w's successors, the cells
N(c, b) for the classes c of w's predecessors, N(b, b) and the marginals of b, so one evaluation of
all classes costs O(n_classes * (#successor classes + #predecessor classes)). A sweep stops the
run when it improves F by less than ``tol`` nats per bigram token, or after ``max_sweeps``.

Initialisation of run r (deterministic for a given ``seed``): the n_classes - 1 most frequent words
get classes of their own and the other words start in the last class (Martin et al.), except a
random 20% of them (``SCATTER``) put into uniformly random classes, drawn from
``numpy.random.default_rng((seed, r))``. On 50 classes this scattering lowered the perplexity
reached by 1-3% against the plain Martin start, which was itself better than random or round-robin
starts on small corpora. ``n_runs`` runs (mkcls ``-n``) are independent, run on threads (the
kernels release the GIL), and the best F wins (ties: the lowest run index), so the result does not
depend on the number of threads. Finally classes are renumbered 1.. in order of their most frequent
word.

Rare words (count < ``min_count``) are parked in an extra class while the frequent words are
exchanged, then each is moved, in decreasing frequency order, to the class among 1..n_classes that
maximises F (one cheap pass). Word ids that never occur get class 1.

Files: ``word<TAB>class`` (the ``.classes`` file GIZA++ reads and mkcls ``-V`` writes) and mkcls's
``.cats`` listing; see :func:`read_classes_file`, :func:`write_classes_file`, :func:`write_cats_file`.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numba import njit

H_TABLE_SIZE = 1 << 16  # h(n) = n log n is tabulated below this count
SCATTER = 0.2  # share of the words outside the initial singleton classes that start in random classes


class ClassesFileError(ValueError):
    """A malformed word-classes file, with the file and line."""

    def __init__(self, path, line, message):
        self.path = str(path)
        self.line = line
        super().__init__(f"{self.path}:{line}: {message}")


# --------------------------------------------------------------------------- bigram statistics

@dataclass
class BigramStats:
    """Bigram counts of the stream ``$ s1 $ s2 $ ...`` (``$`` = id 0) as CSR in both directions.

    ``next_ptr/next_word/next_count``: row w lists the words following w and the bigram counts;
    ``prev_ptr/prev_word/prev_count``: the transpose. ``left[w]``/``right[w]``: how often w is the
    left/right word of a bigram (its corpus count, or the number of non-empty sentences for ``$``).
    """

    next_ptr: np.ndarray
    next_word: np.ndarray
    next_count: np.ndarray
    prev_ptr: np.ndarray
    prev_word: np.ndarray
    prev_count: np.ndarray
    left: np.ndarray
    right: np.ndarray

    @property
    def vocab_size(self) -> int:
        return len(self.left)

    @property
    def n_bigrams(self) -> int:
        return int(self.left.sum())


@njit(cache=True, nogil=True)
def _successor_buckets(ids, offsets, vocab_size):
    """For every word (``$`` = 0 included), the words following it in ``$ s1 $ s2 $ ...``, bucketed."""
    n_sent = len(offsets) - 1
    ptr = np.zeros(vocab_size + 1, np.int64)
    for k in range(n_sent):
        if offsets[k + 1] > offsets[k]:
            ptr[1] += 1  # $ -> first word
            for t in range(offsets[k], offsets[k + 1]):
                ptr[ids[t] + 1] += 1
    for r in range(vocab_size):
        ptr[r + 1] += ptr[r]
    fill = ptr[:-1].copy()
    succ = np.empty(ptr[vocab_size], np.int32)
    for k in range(n_sent):
        lo = offsets[k]
        hi = offsets[k + 1]
        if hi == lo:
            continue
        prev = 0
        for t in range(lo, hi + 1):
            w = ids[t] if t < hi else 0
            succ[fill[prev]] = w
            fill[prev] += 1
            prev = w
    return ptr, succ


@njit(cache=True, nogil=True)
def _count_buckets(ptr, succ, vocab_size):
    """CSR (ptr, col, count) of the distinct successors of each word, columns in increasing order."""
    acc = np.zeros(vocab_size, np.int64)
    touched = np.empty(vocab_size, np.int32)
    out_ptr = np.zeros(vocab_size + 1, np.int64)
    col = np.empty(len(succ), np.int32)
    cnt = np.empty(len(succ), np.int64)
    q = 0
    for r in range(vocab_size):
        n = 0
        for e in range(ptr[r], ptr[r + 1]):
            w = succ[e]
            if acc[w] == 0:
                touched[n] = w
                n += 1
            acc[w] += 1
        cols = np.sort(touched[:n])
        for i in range(n):
            col[q] = cols[i]
            cnt[q] = acc[cols[i]]
            acc[cols[i]] = 0
            q += 1
        out_ptr[r + 1] = q
    return out_ptr, col[:q].copy(), cnt[:q].copy()


@njit(cache=True, nogil=True)
def _transpose(ptr, col, cnt, vocab_size):
    """The transpose of a CSR matrix (columns of each new row in increasing order)."""
    t_ptr = np.zeros(vocab_size + 1, np.int64)
    for e in range(len(col)):
        t_ptr[col[e] + 1] += 1
    for r in range(vocab_size):
        t_ptr[r + 1] += t_ptr[r]
    fill = t_ptr[:-1].copy()
    t_col = np.empty(len(col), np.int32)
    t_cnt = np.empty(len(col), np.int64)
    for r in range(vocab_size):
        for e in range(ptr[r], ptr[r + 1]):
            q = fill[col[e]]
            t_col[q] = r
            t_cnt[q] = cnt[e]
            fill[col[e]] = q + 1
    return t_ptr, t_col, t_cnt


@njit(cache=True, nogil=True)
def _row_sums(ptr, values):
    sums = np.zeros(len(ptr) - 1, np.int64)
    for r in range(len(ptr) - 1):
        for e in range(ptr[r], ptr[r + 1]):
            sums[r] += values[e]
    return sums


def bigram_stats(ids: np.ndarray, offsets: np.ndarray, vocab_size: int) -> BigramStats:
    """Count the bigrams of the sentences (flat ``ids`` int32, ``offsets`` int64), ids in 1..V-1."""
    ids = np.ascontiguousarray(ids, np.int32)
    offsets = np.ascontiguousarray(offsets, np.int64)
    if vocab_size < 1:
        raise ValueError(f"vocab_size must be at least 1, got {vocab_size}")
    if len(offsets) == 0 or offsets[0] != 0 or offsets[-1] != len(ids) or np.any(np.diff(offsets) < 0):
        raise ValueError("offsets must start at 0, be non-decreasing and end at len(ids)")
    if len(ids) and (ids.min() < 1 or ids.max() >= vocab_size):
        raise ValueError(f"word ids must be in 1..{vocab_size - 1} (0 is NULL, used as the sentence "
                         f"boundary); got ids in {ids.min()}..{ids.max()}")
    next_ptr, next_word, next_count = _count_buckets(*_successor_buckets(ids, offsets, vocab_size), vocab_size)
    prev_ptr, prev_word, prev_count = _transpose(next_ptr, next_word, next_count, vocab_size)
    left = _row_sums(next_ptr, next_count)
    right = _row_sums(prev_ptr, prev_count)
    return BigramStats(next_ptr, next_word, next_count, prev_ptr, prev_word, prev_count, left, right)


# --------------------------------------------------------------------------- objective

def _h_table() -> np.ndarray:
    n = np.arange(H_TABLE_SIZE, dtype=np.float64)
    table = np.zeros(H_TABLE_SIZE)
    table[1:] = n[1:] * np.log(n[1:])
    return table


@njit(cache=True, nogil=True, inline="always")
def _h(n, table):
    if n < H_TABLE_SIZE:
        return table[n]
    return n * np.log(n)


@njit(cache=True, nogil=True)
def _class_counts(next_ptr, next_word, next_count, left, right, classes, n_slots):
    """Class-bigram matrix (flat, n_slots x n_slots) and the class marginals as left/right word."""
    m = np.zeros(n_slots * n_slots, np.int64)
    lm = np.zeros(n_slots, np.int64)
    rm = np.zeros(n_slots, np.int64)
    for w in range(len(left)):
        cw = classes[w]
        lm[cw] += left[w]
        rm[cw] += right[w]
        for e in range(next_ptr[w], next_ptr[w + 1]):
            m[cw * n_slots + classes[next_word[e]]] += next_count[e]
    return m, lm, rm


@njit(cache=True, nogil=True)
def _objective(m, lm, rm, table):
    f = 0.0
    for i in range(len(m)):
        f += _h(m[i], table)
    for c in range(len(lm)):
        f -= _h(lm[c], table) + _h(rm[c], table)
    return f


def class_counts(stats: BigramStats, classes: np.ndarray, n_slots: int):
    """(N(c,c') flat n_slots*n_slots, N_left(c), N_right(c)) for a class map (classes < n_slots)."""
    return _class_counts(stats.next_ptr, stats.next_word, stats.next_count, stats.left, stats.right,
                         np.ascontiguousarray(classes, np.int32), n_slots)


def objective(stats: BigramStats, classes: np.ndarray) -> float:
    """F(C) = sum h(N(c,c')) - sum h(N_left(c)) - sum h(N_right(c)) (natural log; to maximise)."""
    classes = np.ascontiguousarray(classes, np.int32)
    m, lm, rm = class_counts(stats, classes, int(classes.max()) + 1)
    return float(_objective(m, lm, rm, _h_table()))


def class_bigram_perplexity(stats: BigramStats, classes: np.ndarray) -> float:
    """Perplexity of the ML class-bigram model p(C(v)|C(w)) p(v|C(v)) on its own bigram tokens."""
    emission = float(np.sum(stats.right[stats.right > 0] * np.log(stats.right[stats.right > 0])))
    return float(np.exp(-(objective(stats, classes) + emission) / max(stats.n_bigrams, 1)))


# --------------------------------------------------------------------------- exchange kernels

@njit(cache=True, nogil=True)
def _gather(w, ptr, col, cnt, classes, acc, touched):
    """Sum w's bigram counts by the class of the other word (w itself excluded): acc[c], touched list."""
    n_touched = 0
    self_count = 0
    for e in range(ptr[w], ptr[w + 1]):
        v = col[e]
        if v == w:
            self_count += cnt[e]
            continue
        c = classes[v]
        if acc[c] == 0:
            touched[n_touched] = c
            n_touched += 1
        acc[c] += cnt[e]
    return n_touched, self_count


@njit(cache=True, nogil=True)
def _shift(w, c, sign, m, lm, rm, n_slots, acc_out, out_cls, n_out, acc_in, in_cls, n_in,
           self_count, left, right):
    """Add (sign=+1) or remove (sign=-1) word w's counts to/from class c."""
    for i in range(n_out):
        d = out_cls[i]
        if d != c:
            m[c * n_slots + d] += sign * acc_out[d]
    for i in range(n_in):
        d = in_cls[i]
        if d != c:
            m[d * n_slots + c] += sign * acc_in[d]
    m[c * n_slots + c] += sign * (acc_out[c] + acc_in[c] + self_count)
    lm[c] += sign * left[w]
    rm[c] += sign * right[w]


@njit(cache=True, nogil=True)
def _gains_into(w, lo, hi, m, lm, rm, n_slots, acc_out, out_cls, n_out, acc_in, in_cls, n_in,
                self_count, left, right, table, gains):
    """gains[b] = change of F for adding w (currently in no class) to class b, for b in lo..hi-1."""
    n1 = left[w]
    n2 = right[w]
    for b in range(lo, hi):
        g = 0.0
        row = b * n_slots
        for i in range(n_out):
            d = out_cls[i]
            if d != b:
                x = m[row + d]
                g += _h(x + acc_out[d], table) - _h(x, table)
        for i in range(n_in):
            d = in_cls[i]
            if d != b:
                x = m[d * n_slots + b]
                g += _h(x + acc_in[d], table) - _h(x, table)
        x = m[row + b]
        g += _h(x + acc_out[b] + acc_in[b] + self_count, table) - _h(x, table)
        g -= _h(lm[b] + n1, table) - _h(lm[b], table) + _h(rm[b] + n2, table) - _h(rm[b], table)
        gains[b] = g


@njit(cache=True, nogil=True)
def _exchange(words, lo, hi, next_ptr, next_word, next_count, prev_ptr, prev_word, prev_count,
              left, right, classes, m, lm, rm, n_slots, table):
    """Visit ``words`` in order and move each to its best class in lo..hi-1.

    A word stays unless another class is better by more than rounding noise; a word whose class is
    outside lo..hi-1 (the parking class of rare words) always moves. Returns (gain of F, moves,
    class evaluations).
    """
    acc_out = np.zeros(n_slots, np.int64)
    acc_in = np.zeros(n_slots, np.int64)
    out_cls = np.empty(n_slots, np.int64)
    in_cls = np.empty(n_slots, np.int64)
    gains = np.zeros(n_slots)
    total = 0.0
    moves = 0
    evaluations = 0
    for k in range(len(words)):
        w = words[k]
        a = classes[w]
        n_out, s_out = _gather(w, next_ptr, next_word, next_count, classes, acc_out, out_cls)
        n_in, _ = _gather(w, prev_ptr, prev_word, prev_count, classes, acc_in, in_cls)
        _shift(w, a, -1, m, lm, rm, n_slots, acc_out, out_cls, n_out, acc_in, in_cls, n_in, s_out, left, right)
        _gains_into(w, lo, hi, m, lm, rm, n_slots, acc_out, out_cls, n_out, acc_in, in_cls, n_in,
                    s_out, left, right, table, gains)
        evaluations += hi - lo
        inside = lo <= a < hi
        if not inside:
            _gains_into(w, a, a + 1, m, lm, rm, n_slots, acc_out, out_cls, n_out, acc_in, in_cls, n_in,
                        s_out, left, right, table, gains)
        best = lo
        for b in range(lo + 1, hi):
            if gains[b] > gains[best]:
                best = b
        stay = gains[a]
        if best != a and (not inside or gains[best] > stay + 1e-9 * (1.0 + abs(stay))):
            total += gains[best] - stay
            moves += 1
            a = best
            classes[w] = a
        _shift(w, a, 1, m, lm, rm, n_slots, acc_out, out_cls, n_out, acc_in, in_cls, n_in, s_out, left, right)
        for i in range(n_out):
            acc_out[out_cls[i]] = 0
        for i in range(n_in):
            acc_in[in_cls[i]] = 0
    return total, moves, evaluations


@njit(cache=True, nogil=True)
def _move_gains(w, next_ptr, next_word, next_count, prev_ptr, prev_word, prev_count,
                left, right, classes, m, lm, rm, n_slots, table):
    """Change of F for moving w from its class to each class 0..n_slots-1 (counts restored after)."""
    acc_out = np.zeros(n_slots, np.int64)
    acc_in = np.zeros(n_slots, np.int64)
    out_cls = np.empty(n_slots, np.int64)
    in_cls = np.empty(n_slots, np.int64)
    gains = np.zeros(n_slots)
    a = classes[w]
    n_out, s_out = _gather(w, next_ptr, next_word, next_count, classes, acc_out, out_cls)
    n_in, _ = _gather(w, prev_ptr, prev_word, prev_count, classes, acc_in, in_cls)
    _shift(w, a, -1, m, lm, rm, n_slots, acc_out, out_cls, n_out, acc_in, in_cls, n_in, s_out, left, right)
    _gains_into(w, 0, n_slots, m, lm, rm, n_slots, acc_out, out_cls, n_out, acc_in, in_cls, n_in,
                s_out, left, right, table, gains)
    _shift(w, a, 1, m, lm, rm, n_slots, acc_out, out_cls, n_out, acc_in, in_cls, n_in, s_out, left, right)
    return gains - gains[a]


def move_gains(stats: BigramStats, classes: np.ndarray, word: int, n_slots: int) -> np.ndarray:
    """Change of F for moving ``word`` to each class 0..n_slots-1, computed incrementally."""
    classes = np.ascontiguousarray(classes, np.int32)
    m, lm, rm = class_counts(stats, classes, n_slots)
    return _move_gains(word, stats.next_ptr, stats.next_word, stats.next_count, stats.prev_ptr,
                       stats.prev_word, stats.prev_count, stats.left, stats.right, classes, m, lm, rm,
                       n_slots, _h_table())


# --------------------------------------------------------------------------- driver

@dataclass
class ClusteringResult:
    """Classes (0 = ``$``/NULL, 1..n_classes), the objective F of the best run, and the optimiser's
    counters summed over all runs (sweeps, moves, class evaluations)."""

    classes: np.ndarray
    objective: float
    sweeps: int
    moves: int
    evaluations: int


def _initial_classes(n_words, frequent, rare, n_classes, seed, run):
    """Martin et al.'s start (n_classes - 1 most frequent words alone, the rest in the last class),
    with a random ``SCATTER`` share of the rest moved to uniformly random classes."""
    classes = np.ones(n_words, np.int32)
    classes[0] = 0
    classes[rare] = n_classes + 1
    head = frequent[:n_classes - 1]
    rest = frequent[n_classes - 1:]
    classes[head] = np.arange(1, len(head) + 1, dtype=np.int32)
    classes[rest] = n_classes
    rng = np.random.default_rng((seed, run))
    scattered = rest[rng.random(len(rest)) < SCATTER]
    classes[scattered] = rng.integers(1, n_classes + 1, len(scattered), dtype=np.int32)
    return classes


def _one_run(stats, frequent, rare, n_classes, seed, run, max_sweeps, tol, table):
    """One run: sweeps over the frequent words, then the pass placing the rare words."""
    n_slots = n_classes + 2  # 0 = $, 1..n_classes, n_classes + 1 = parking class of rare words
    classes = _initial_classes(stats.vocab_size, frequent, rare, n_classes, seed, run)
    m, lm, rm = class_counts(stats, classes, n_slots)
    args = (stats.next_ptr, stats.next_word, stats.next_count, stats.prev_ptr, stats.prev_word,
            stats.prev_count, stats.left, stats.right, classes, m, lm, rm, n_slots, table)
    threshold = tol * max(stats.n_bigrams, 1)
    sweeps = moves = evaluations = 0
    while sweeps < max_sweeps:
        gain, n_moves, n_eval = _exchange(frequent, 1, n_classes + 1, *args)
        sweeps += 1
        moves += n_moves
        evaluations += n_eval
        if n_moves == 0 or gain < threshold:
            break
    if len(rare):
        _, n_moves, n_eval = _exchange(rare, 1, n_classes + 1, *args)
        moves += n_moves
        evaluations += n_eval
    return ClusteringResult(classes, float(_objective(m, lm, rm, table)), sweeps, moves, evaluations)


def _renumber(classes, by_frequency):
    """Relabel classes 1.. in order of their most frequent word (class 0 stays 0)."""
    mapping = np.zeros(int(classes.max()) + 1, np.int32)
    seen = np.unique(classes[by_frequency], return_index=True)
    firsts = seen[0][np.argsort(seen[1])]
    firsts = firsts[firsts != 0]
    mapping[firsts] = np.arange(1, len(firsts) + 1, dtype=np.int32)
    out = mapping[classes]
    out[classes == 0] = 0
    return out


def exchange_clustering(stats: BigramStats, n_classes: int = 50, seed: int = 0, n_runs: int = 1,
                        max_sweeps: int = 20, min_count: int = 1, tol: float = 1e-4,
                        n_threads: int = 0) -> ClusteringResult:
    """Best of ``n_runs`` exchange runs on precomputed bigram statistics (see the module docstring).

    ``tol``: a run stops after a sweep that improves F by less than ``tol`` nats per bigram token.
    ``n_threads``: threads for the runs (0 = one per CPU); the result does not depend on it.
    """
    if n_classes < 1:
        raise ValueError(f"n_classes must be at least 1, got {n_classes}")
    if n_runs < 1:
        raise ValueError(f"n_runs must be at least 1, got {n_runs}")
    if max_sweeps < 0:
        raise ValueError(f"max_sweeps must be non-negative, got {max_sweeps}")
    counts = stats.left
    words = np.arange(1, len(counts), dtype=np.int64)
    by_frequency = words[np.lexsort((words, -counts[1:]))]
    by_frequency = by_frequency[counts[by_frequency] > 0]
    frequent = by_frequency[counts[by_frequency] >= min_count]
    rare = by_frequency[counts[by_frequency] < min_count]
    table = _h_table()
    workers = min(n_runs, n_threads if n_threads > 0 else (os.cpu_count() or 1))

    def run(r):
        return _one_run(stats, frequent, rare, n_classes, seed, r, max_sweeps, tol, table)

    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(run, range(n_runs)))
    else:
        results = [run(r) for r in range(n_runs)]
    best = max(range(n_runs), key=lambda r: (results[r].objective, -r))
    result = results[best]
    result.classes = _renumber(result.classes, by_frequency)
    result.classes[1:][counts[1:] == 0] = 1
    result.sweeps = sum(r.sweeps for r in results)
    result.moves = sum(r.moves for r in results)
    result.evaluations = sum(r.evaluations for r in results)
    return result


def cluster_words(sentences_ids, vocab_size: int, n_classes: int = 50, seed: int = 0, n_runs: int = 1,
                  max_sweeps: int = 20, min_count: int = 1, tol: float = 1e-4) -> np.ndarray:
    """Class of each word id (int32, length ``vocab_size``) for sentences ``(ids int32, offsets int64)``.

    Ids 1..vocab_size-1 are words; id 0 (NULL) gets class 0, which is also the class of the sentence
    boundary. Words get classes 1..n_classes (renumbered in order of their most frequent word);
    ids that never occur get class 1. Words rarer than ``min_count`` are placed cheaply after the
    exchange. Deterministic for a given ``seed``.
    """
    ids, offsets = sentences_ids
    stats = bigram_stats(ids, offsets, vocab_size)
    return exchange_clustering(stats, n_classes, seed, n_runs, max_sweeps, min_count, tol).classes


# --------------------------------------------------------------------------- files

def _as_bytes(word) -> bytes:
    return word if isinstance(word, bytes) else str(word).encode("utf-8")


def read_classes_file(path, word_to_id) -> np.ndarray:
    """Word classes from a ``word<TAB>class`` file (mkcls ``-V`` output), as GIZA++ reads them.

    ``word_to_id`` maps words (str) to ids 1..V-1. Returns int32 classes indexed by id (length
    max id + 1). Class labels become 1, 2, ... in order of first appearance in the file, except the
    label ``0``, which is class 0 like in GIZA++. Id 0 (NULL) and words missing from the file get
    class 0, a class no other label maps to. Lines for words not in ``word_to_id`` are ignored but
    still number their labels. Blank lines are skipped; a line without exactly two fields, or a word
    listed twice, raises :class:`ClassesFileError`.
    """
    size = max(word_to_id.values(), default=0) + 1
    classes = np.zeros(size, np.int32)
    labels = {"0": 0}
    seen = set()
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            try:
                fields = raw.decode("utf-8").split()
            except UnicodeDecodeError:
                raise ClassesFileError(path, lineno, "invalid UTF-8") from None
            if not fields:
                continue
            if len(fields) != 2:
                raise ClassesFileError(path, lineno, f"expected 'word<TAB>class', got {len(fields)} fields")
            word, label = fields
            if word in seen:
                raise ClassesFileError(path, lineno, f"word {word!r} is listed twice")
            seen.add(word)
            cls = labels.setdefault(label, len(labels))
            wid = word_to_id.get(word)
            if wid is not None:
                classes[wid] = cls
    return classes


def write_classes_file(path, words, classes) -> None:
    """Write ``word<TAB>class`` lines sorted by the word's UTF-8 bytes (mkcls ``-V`` format).

    ``words`` (str or bytes) and ``classes`` (integer labels) are parallel sequences; every pair is
    written. ``path`` may also be a binary file object.
    """
    if len(words) != len(classes):
        raise ValueError(f"{len(words)} words but {len(classes)} classes")
    pairs = sorted(zip((_as_bytes(w) for w in words), (int(c) for c in classes)))
    text = b"".join(b"%s\t%d\n" % pair for pair in pairs)
    if hasattr(path, "write"):
        path.write(text)
        return
    with open(path, "wb") as fh:
        fh.write(text)


def write_cats_file(path, words, classes, n_classes: int, result: ClusteringResult = None) -> None:
    """Write mkcls's ``.cats`` listing of the members of each class.

    Layout as mkcls writes it: ``;KategProblem:cats: N   words: W`` (W counts the boundary ``$``),
    ``0:$,`` then one line ``k:w1,w2,...,`` for every class k = 1..N+1 (words in byte order, labels
    as given in ``classes``; mkcls numbers real classes 2..N+1 and keeps 1 for rare words),
    ``;I have U categories used.``, an empty line and the optimiser statistics block (from
    ``result`` when given: ``#value`` = sweeps, ``#valueChange`` = class evaluations, ``#doChange`` =
    moves; zeros otherwise).
    """
    if len(words) != len(classes):
        raise ValueError(f"{len(words)} words but {len(classes)} classes")
    members = [[] for _ in range(n_classes + 2)]
    members[0].append(b"$")
    for word, cls in zip(words, classes):
        cls = int(cls)
        if not 1 <= cls <= n_classes + 1:
            raise ValueError(f"class {cls} of {word!r} is outside 1..{n_classes + 1}")
        members[cls].append(_as_bytes(word))
    lines = [b";KategProblem:cats: %d   words: %d\n" % (n_classes, len(words) + 1)]
    for k, group in enumerate(members):
        lines.append(b"%d:%s\n" % (k, b"".join(w + b"," for w in sorted(group))))
    lines.append(b";I have %d categories used.\n\n" % sum(1 for group in members if group))
    counters = (0, 0, 0) if result is None else (result.sweeps, result.evaluations, result.moves)
    lines.append(b"Problem(1,0,208)\n      #value: %d\n#valueChange: %d\n   #doChange: %d\n" % counters)
    with open(path, "wb") as fh:
        fh.write(b"".join(lines))
