"""How far to trust the embedding prior: the mapping's quality and the prior weight lambda.

Quality: precision@1 of the mapping's CSLS nearest neighbours against two references the bitext
gives for free, the identical strings of the two vocabularies and the mutual-best Model 1
dictionary (for a seeded mapping these overlap its seed, so they are optimistic there).

Weight: hold out a random part of the sentence pairs, train the Model 1 / HMM part of the schedule
on the rest once per candidate lambda (0 included), both directions as :func:`eegiza.train.train_pair`
does (by agreement, if configured; one lambda for both), and score the held-out pairs'
log-likelihood under the last model, summed over the two directions. (Likelihood is not AER: on
en-fr, 1,000 lines, with agreement, it prefers lambda 1,000, while 100 aligns better, gdfa AER 14.71
vs 13.99.) Held-out likelihood rewards smoothing of any kind (plain EM
gives rare pairs too little mass), so the same lambdas are also tried with a uniform
p(f|e) over the row (additive smoothing, no information): a lambda > 0 is chosen only if the
embedding prior beats plain EM and every smoothing control by ``min_gain`` nats per held-out
token (and plain EM by more than one standard error of the paired per-sentence difference);
otherwise lambda = 0, and a poor embedding space falls back to plain EM. Among the lambdas within
one standard error of the best, the smallest is taken (trust the prior as little as the data allow).
The t-table covers the training part only, so pairs seen only in held-out sentences get the floor
under every candidate alike.
Large corpora are subsampled (``max_pairs``); lambda is rescaled by the sampling rate, since the
prior's weight in row e is lambda / (c(e) + lambda) and c(e) grows with the corpus.
"""
from __future__ import annotations

from dataclasses import fields
from typing import Callable, Optional, Sequence

import numba
import numpy as np

from ..config import AlignerConfig
from ..corpus import ParallelCorpus, Side
from ..models import hmm, ibm1
from ..schedule import parse_schedule
from ..train import train_pair
from ..ttable import TTable, sentence_slots
from .mapping import csls_nearest, topk_mean_similarity
from .prior import EmbeddingPrior


# --------------------------------------------------------------------------- mapping quality

def induction_precision(x: np.ndarray, z: np.ndarray, x_database: np.ndarray, pairs: Sequence[tuple],
                        csls_k: int = 10) -> Optional[float]:
    """Share of reference pairs (row of x, row of z) whose CSLS nearest row of z (r over
    ``x_database``) is the reference; None without pairs. Several references per x row: any."""
    if not len(pairs):
        return None
    pairs = np.asarray(pairs, np.int64)
    queries = np.unique(pairs[:, 0])
    r_z = topk_mean_similarity(z, x_database, csls_k)
    best, _ = csls_nearest(x[queries], z, r_z)
    guess = dict(zip(queries.tolist(), best.tolist()))
    hits = {int(a) for a, b in pairs.tolist() if guess[a] == b}
    return len(hits) / len(queries)


def mutual_best_pairs(fwd: TTable, rev: TTable, min_prob: float = 0.0) -> np.ndarray:
    """(e, f) pairs, e >= 1 and f >= 1, where f is e's best translation in ``fwd`` and e is f's best
    in ``rev`` (the reverse t-table, rows f)."""
    def best(tt: TTable) -> np.ndarray:
        out = np.full(tt.n_src, -1, np.int64)
        rows = tt.row_ids()
        order = np.lexsort((-tt.probs, rows))
        first = order[np.r_[0, np.flatnonzero(np.diff(rows[order])) + 1]] if len(order) else order
        good = tt.probs[first] > min_prob
        out[rows[first][good]] = tt.indices[first][good]
        return out
    bf, br = best(fwd), best(rev)
    e = np.arange(1, len(bf))
    f = bf[1:]
    ok = (f >= 1) & (f < len(br))
    e, f = e[ok], f[ok]
    ok = br[f] == e
    return np.stack([e[ok], f[ok]], axis=1)


# --------------------------------------------------------------------------- held-out lambda

def take_sentences(corpus: ParallelCorpus, rows: np.ndarray) -> ParallelCorpus:
    """The sentence pairs ``rows`` (in that order), sharing the vocabularies."""
    def take(side: Side) -> Side:
        lengths = side.lengths[rows]
        offsets = np.zeros(len(rows) + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        starts = side.offsets[rows]
        idx = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
        return Side(side.ids[idx], offsets)
    return ParallelCorpus(take(corpus.src), take(corpus.tgt), corpus.src_vocab, corpus.tgt_vocab)


def _base_config(config) -> AlignerConfig:
    """The training options of ``config`` (any object with AlignerConfig's attribute names) with
    only the Model 1 / HMM part of its schedule (Model 1 x5 if it has neither)."""
    names = {f.name for f in fields(AlignerConfig)}
    options = {k: v for k, v in vars(config).items() if k in names and v is not None}
    base = [(n, k) for n, k in parse_schedule(options.get("schedule", AlignerConfig.schedule)) if n in "1H"]
    options["schedule"] = " ".join(f"{n}^{k}" for n, k in base or [("1", 5)])
    options["word_classes"] = 0
    return AlignerConfig(**options)


def _loglik_per_pair(model, corpus: ParallelCorpus, config: AlignerConfig) -> np.ndarray:
    """Log-likelihood of every pair of ``corpus`` under the last model of one trained direction."""
    tt = model.ttable
    slots, slot_off = sentence_slots(corpus, tt)
    if model.last_model == "1":
        return ibm1.estep(corpus.src.offsets, corpus.tgt.offsets, slots, slot_off, tt.probs, config.prob_smooth,
                          numba.get_num_threads())[1]
    return hmm.estep(corpus.src.ids, corpus.src.offsets, corpus.tgt.offsets, slots, slot_off, tt.probs,
                     config.prob_smooth, model.src_class, model.jump, model.start, config.hmm_p_null,
                     config.hmm_jump_smooth, numba.get_num_threads())[3]


def heldout_loglik(train: ParallelCorpus, held: ParallelCorpus, config, fwd_prior, rev_prior) -> np.ndarray:
    """Train the Model 1 / HMM part of ``config.schedule`` on ``train`` in both directions with the
    priors mixed in, as :func:`eegiza.train.train_pair` does (jointly by agreement if configured;
    no word classes); the held-out log-likelihood of each pair, summed over the two directions."""
    cfg = _base_config(config)
    fwd, rev = train_pair(train, cfg, fwd_prior=lambda _: fwd_prior, rev_prior=lambda _: rev_prior)
    return _loglik_per_pair(fwd, held, cfg) + _loglik_per_pair(rev, held.reversed(), cfg)


def choose_lambda(corpus: ParallelCorpus, config, fwd_factory: Callable, rev_factory: Callable,
                  lambdas: Sequence[float], heldout_fraction: float = 0.1, max_pairs: int = 20000,
                  min_gain: float = 1e-3, seed: int = 0, progress: Optional[Callable[[str], None]] = None) -> dict:
    """Pick one lambda for both directions (for the whole corpus) by held-out log-likelihood; returns
    a report with the chosen value and the per-token held-out log-likelihood of every candidate."""
    rng = np.random.default_rng(seed)
    n = len(corpus)
    n_held = max(1, int(round(heldout_fraction * min(n, max_pairs))))
    order = rng.permutation(n)
    n_train = min(n - n_held, max_pairs - n_held) if n > n_held else 0
    if n_train <= 0:
        return {"lambda": 0.0, "reason": "corpus too small to hold out sentences", "candidates": {}}
    held = take_sentences(corpus, np.sort(order[:n_held]))
    train = take_sentences(corpus, np.sort(order[n_held:n_held + n_train]))
    counts = (np.bincount(train.src.ids, minlength=len(corpus.src_vocab)).astype(np.float64),
              np.bincount(train.tgt.ids, minlength=len(corpus.tgt_vocab)).astype(np.float64))
    candidates = []
    for factory, ttable, src_counts in ((fwd_factory, TTable.from_corpus(train), counts[0]),
                                        (rev_factory, TTable.from_corpus(train.reversed()), counts[1])):
        prior = factory(ttable)
        if prior.src_counts is not None:
            prior.src_counts = src_counts
        sizes = np.diff(ttable.indptr)
        control = EmbeddingPrior(np.repeat(1.0 / np.maximum(sizes, 1), sizes), prior.has_prior, prior.lam,
                                 prior.src_counts, prior.models)
        candidates.append((prior, control))
    rate = n_train / n
    n_tokens = max(1, len(held.tgt.ids) + len(held.src.ids))
    scores, smoothing, per_pair = {}, {}, {}
    for lam in lambdas:
        for kind, table in (("prior", scores), ("uniform", smoothing)):
            if lam == 0 and kind == "uniform":
                continue
            pair = [c[0] if kind == "prior" else c[1] for c in candidates]
            for prior in pair:
                prior.lam = lam * rate
            loglik = heldout_loglik(train, held, config, *pair)
            table[float(lam)] = float(loglik.sum()) / n_tokens
            if kind == "prior":
                per_pair[float(lam)] = loglik
            if progress is not None:
                progress(f"calibration: lambda {lam:g}, {kind}: held-out log-likelihood "
                         f"{table[float(lam)]:.4f} per token")
    chosen, gain = _select(scores, smoothing, per_pair, n_tokens, min_gain)
    return {"lambda": chosen, "heldout_pairs": n_held, "train_pairs": n_train,
            "loglik_per_token": scores, "uniform_loglik_per_token": smoothing, "gain_over_reference": gain}


def _clearly_better(a: np.ndarray, b: np.ndarray) -> bool:
    """Is the paired per-sentence log-likelihood a above b by more than one standard error?"""
    d = a - b
    return float(d.sum()) > float(np.sqrt(len(d)) * d.std(ddof=1)) if len(d) > 1 else float(d.sum()) > 0


def _select(scores: dict, smoothing: dict, per_pair: dict, n_tokens: int, min_gain: float) -> tuple:
    """The smallest lambda > 0 within one standard error of the best one, provided the best beats
    plain EM (clearly, and by ``min_gain`` per token) and every uniform-smoothing control."""
    positive = [lam for lam in scores if lam > 0]
    if not positive:
        return 0.0, None
    best = max(positive, key=scores.get)
    reference = max(list(smoothing.values()) + [scores.get(0.0, -np.inf)])
    gain = scores[best] - reference
    if gain < min_gain or (0.0 in per_pair and not _clearly_better(per_pair[best], per_pair[0.0])):
        return 0.0, gain
    chosen = min(lam for lam in positive if not _clearly_better(per_pair[best], per_pair[lam]))
    return chosen, gain
