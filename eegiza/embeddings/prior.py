"""The embedding prior on t(f|e) and its interpolation into EM (EE-GIZA++-style).

For a source word e with a (mapped) vector x_e, the candidates are the target words f that
co-occur with e in some sentence pair (the slots of the t-table's row e) and have a vector z_f:

    s(e, f) = 2 cos(x_e, z_f) - r(z_f),   r(z) = mean cosine of z's ``csls_k`` nearest source vectors
    p_emb(f | e) = softmax over the ``top_k`` best candidates of s / temperature  (0 elsewhere)

After every M-step of the models the prior touches:

    t(f|e) <- (c(e) t(f|e) + lambda p_emb(f|e)) / (c(e) + lambda)

on the rows of source words with a vector; other rows (and NULL, id 0) keep the EM estimate.
c(e) is the corpus count of e (the paper's choice; constant over iterations) when the factory is
given the source counts, else the row sum of the iteration's expected counts (then the update is
the posterior mean under a Dirichlet(lambda p_emb) prior).

The driver contract: ``prior = factory(ttable)`` once per direction; before each M-step the driver
may set ``prior.current_model`` ("1", "2", "H", ...); ``prior.apply(ttable, counts)`` then mixes the
prior in if the model is one of ``prior.models`` (always, if ``current_model`` is None).
"""
from __future__ import annotations

import copy
from typing import Callable, Optional, Sequence

import numpy as np
from numba import njit, prange

from ..ttable import row_sums
from .mapping import MappingError, topk_mean_similarity, unit_rows


@njit(cache=True, nogil=True, parallel=True)
def _prior_probs(indptr, indices, src_row, tgt_row, x, z, r, top_k, temperature):
    """p_emb for every slot of the CSR t-table (0 where e or f has no vector or f is not in the
    top k of row e); ``src_row[e]`` / ``tgt_row[f]`` = the vector row of a word, -1 = none."""
    out = np.zeros(len(indices), np.float64)
    d = x.shape[1]
    for e in prange(1, len(indptr) - 1):
        xe = src_row[e]
        lo, hi = indptr[e], indptr[e + 1]
        if xe < 0 or hi == lo:
            continue
        n = 0
        slots = np.empty(hi - lo, np.int64)
        scores = np.empty(hi - lo, np.float64)
        for s in range(lo, hi):
            zf = tgt_row[indices[s]]
            if zf < 0:
                continue
            dot = 0.0
            for c in range(d):
                dot += x[xe, c] * z[zf, c]
            slots[n] = s
            scores[n] = 2.0 * dot - r[zf]
            n += 1
        if n == 0:
            continue
        kept = np.argsort(-scores[:n], kind="mergesort")[:top_k]
        softmax_into_slots(out, slots[kept], scores[kept], temperature)
    return out


@njit(cache=True, nogil=True)
def softmax_into_slots(out, slots, scores, temperature):
    """out[slots[q]] = exp(scores[q] / temperature) / sum_q' exp(scores[q'] / temperature): one
    row's prior over its candidate slots (computed stably, relative to the best score)."""
    best = scores.max()
    total = 0.0
    for q in range(len(scores)):
        total += np.exp((scores[q] - best) / temperature)
    for q in range(len(scores)):
        out[slots[q]] = np.exp((scores[q] - best) / temperature) / total


@njit(cache=True, nogil=True, parallel=True)
def _interpolate(indptr, probs, row_ptr, slots, values, has_prior, weight_counts, lam):
    """t <- (c t + lam p) / (c + lam) on the rows with ``has_prior``; p is sparse: the nonzero
    entries of row e are ``slots``/``values`` [row_ptr[e], row_ptr[e + 1]) (ascending slots).
    Each new t is computed in float64 and stored once, so a float32 table is rounded once and
    needs no float64 copy."""
    for e in prange(len(indptr) - 1):
        if not has_prior[e]:
            continue
        c = weight_counts[e]
        denom = c + lam
        if denom <= 0.0:
            continue
        k, k_end = row_ptr[e], row_ptr[e + 1]
        for s in range(indptr[e], indptr[e + 1]):
            v = c * probs[s]
            while k < k_end and slots[k] == s:
                v += lam * values[k]
                k += 1
            probs[s] = v / denom


class EmbeddingPrior:
    """A prior over one direction's t-table slots, kept sparse, and its interpolation into EM (the
    embedding prior's p_emb; the cognate prior of :mod:`eegiza.cognates` uses it too)."""

    def __init__(self, p_emb: np.ndarray, has_prior: np.ndarray, lam: float = 1e4,
                 src_counts: Optional[np.ndarray] = None, models: str = "1H"):
        p_emb = np.asarray(p_emb, np.float64)
        self.n_slots = len(p_emb)
        self.slots = np.flatnonzero(p_emb)              # kept sparse: most slots of a row get no mass
        self.values = p_emb[self.slots]
        self.has_prior = np.ascontiguousarray(has_prior, np.bool_)
        self.lam = float(lam)
        self.src_counts = None if src_counts is None else np.asarray(src_counts, np.float64)
        self.models = models
        self.current_model: Optional[str] = None

    def active(self) -> bool:
        return self.lam > 0 and (self.current_model is None or self.current_model in self.models)

    def apply(self, ttable, counts: np.ndarray) -> None:
        """Mix the prior into ``ttable.probs`` in place (see the module docstring)."""
        if self.n_slots != ttable.nnz or len(self.has_prior) != ttable.n_src:
            raise ValueError(f"prior built for a t-table with {self.n_slots} slots / {len(self.has_prior)} "
                             f"rows, applied to one with {ttable.nnz} / {ttable.n_src}")
        if not self.active():
            return
        if self.src_counts is not None:
            weight = self.src_counts
        else:
            weight = row_sums(ttable.indptr, counts)
        row_ptr = np.searchsorted(self.slots, ttable.indptr)
        _interpolate(ttable.indptr, ttable.probs, row_ptr, self.slots, self.values, self.has_prior, weight,
                     self.lam)   # in place, in the table's own precision

    def restricted(self, remap: np.ndarray, nnz: int) -> "EmbeddingPrior":
        """This prior on a pruned t-table (:func:`eegiza.tprune.prune_table`'s map ``remap``, -1 for
        a removed entry; ``nnz`` entries remain): the prior of a removed entry goes with it. A new
        object: calibration trains several times with the same prior."""
        new_slots = remap[self.slots]
        kept = new_slots >= 0
        out = copy.copy(self)
        out.slots, out.values, out.n_slots = new_slots[kept].astype(np.int64), self.values[kept], int(nnz)
        return out

    @property
    def p_emb(self) -> np.ndarray:
        """The prior of every slot of the t-table, zeros included."""
        dense = np.zeros(self.n_slots)
        dense[self.slots] = self.values
        return dense

    @property
    def coverage(self) -> float:
        """Fraction of the real source words (id >= 1) that get a prior."""
        return float(self.has_prior[1:].mean()) if len(self.has_prior) > 1 else 0.0


class PriorChain:
    """Several priors on one t-table, mixed in one after another after each M-step (e.g. the
    cognate prior, then the embedding prior); the driver contract of :class:`EmbeddingPrior`."""

    def __init__(self, priors: Sequence):
        self.priors = list(priors)

    @property
    def current_model(self) -> Optional[str]:
        return self.priors[0].current_model if self.priors else None

    @current_model.setter
    def current_model(self, name: Optional[str]) -> None:
        for prior in self.priors:
            prior.current_model = name

    def active(self) -> bool:
        return any(prior.active() for prior in self.priors)

    def restricted(self, remap: np.ndarray, nnz: int) -> "PriorChain":
        return PriorChain([prior.restricted(remap, nnz) for prior in self.priors])

    def apply(self, ttable, counts: np.ndarray) -> None:
        for prior in self.priors:
            prior.apply(ttable, counts)


def chain_factories(*factories: Optional[Callable]) -> Optional[Callable]:
    """One prior factory from several (None entries skipped): a :class:`PriorChain` of their priors."""
    present = [f for f in factories if f is not None]
    if len(present) <= 1:
        return present[0] if present else None
    return lambda ttable: PriorChain([f(ttable) for f in present])


def as_word_matrix(vectors) -> tuple:
    """(words, float32 matrix) from a (words, matrix) pair, a KeyedVectors-like or a dict."""
    if isinstance(vectors, tuple) and len(vectors) == 2:
        words, matrix = vectors
    elif hasattr(vectors, "index_to_key") and hasattr(vectors, "vectors"):
        words, matrix = vectors.index_to_key, vectors.vectors
    elif hasattr(vectors, "words") and hasattr(vectors, "matrix"):
        words, matrix = vectors.words, vectors.matrix
    else:
        words = list(vectors.keys())
        matrix = np.stack([np.asarray(vectors[w], np.float32) for w in words]) if words else np.zeros((0, 0))
    matrix = np.asarray(matrix, np.float32)
    if matrix.ndim != 2 or len(words) != len(matrix):
        raise MappingError(f"vectors: {len(words)} words but a matrix of shape {matrix.shape}")
    return list(words), matrix


def vocab_rows(vocab_words: Sequence[str], emb_words: Sequence[str]) -> np.ndarray:
    """For every vocabulary id, the row of its vector, or -1; id 0 (NULL) never has one."""
    index = {w: i for i, w in enumerate(emb_words)}
    rows = np.fromiter((index.get(w, -1) for w in vocab_words), np.int64, len(vocab_words))
    if len(rows):
        rows[0] = -1
    return rows


def compute_prior_probs(ttable, src_rows: np.ndarray, tgt_rows: np.ndarray, x: np.ndarray, z: np.ndarray,
                        r: np.ndarray, top_k: int = 100, temperature: float = 0.1) -> np.ndarray:
    """p_emb for the slots of ``ttable`` (unit vectors x, z; r per row of z)."""
    if temperature <= 0:
        raise ValueError(f"prior temperature must be positive, got {temperature}")
    if top_k < 1:
        raise ValueError(f"prior top-k must be at least 1, got {top_k}")
    return _prior_probs(ttable.indptr, ttable.indices, src_rows, tgt_rows, np.ascontiguousarray(x, np.float32),
                        np.ascontiguousarray(z, np.float32), np.asarray(r, np.float64), int(top_k),
                        float(temperature))


def make_prior_factory(src_words: Sequence[str], tgt_words: Sequence[str], src_vectors, tgt_vectors,
                       lam: float = 1e4, temperature: float = 0.1, top_k: int = 100, csls_k: int = 10,
                       src_counts: Optional[np.ndarray] = None, models: str = "1H",
                       r_limit: int = 200000) -> Callable:
    """A ``prior_factory`` for :func:`eegiza.train.train_direction`.

    ``src_words[id]`` / ``tgt_words[id]``: the direction's vocabularies (id 0 = NULL). The vectors
    are already mapped into one space, as (words, matrix), KeyedVectors or a dict; r(z_f) is taken
    over the first ``r_limit`` source vectors (the whole source embedding vocabulary by default up
    to 200k, most frequent first). ``src_counts``: c(e) (corpus counts); None = expected-count row sums.
    """
    s_words, x = as_word_matrix(src_vectors)
    t_words, z = as_word_matrix(tgt_vectors)
    if x.shape[1] != z.shape[1]:
        raise MappingError(f"source vectors have dimension {x.shape[1]}, target vectors {z.shape[1]}")
    x, z = unit_rows(x), unit_rows(z)
    src_rows, tgt_rows = vocab_rows(src_words, s_words), vocab_rows(tgt_words, t_words)
    if not (src_rows >= 0).any() or not (tgt_rows >= 0).any():
        raise MappingError(f"no vocabulary overlap: {int((src_rows >= 0).sum())} source and "
                           f"{int((tgt_rows >= 0).sum())} target words of the bitext have a vector")
    used = np.unique(tgt_rows[tgt_rows >= 0])
    r = np.zeros(len(z), np.float32)
    r[used] = topk_mean_similarity(z[used], x[:r_limit], csls_k)

    def factory(ttable) -> EmbeddingPrior:
        if ttable.n_src != len(src_words):
            raise ValueError(f"t-table has {ttable.n_src} source rows, the prior's vocabulary {len(src_words)}")
        p = compute_prior_probs(ttable, src_rows, tgt_rows, x, z, r, top_k, temperature)
        has_prior = row_sums(ttable.indptr, p) > 0
        return EmbeddingPrior(p, has_prior, lam, src_counts, models)

    return factory
