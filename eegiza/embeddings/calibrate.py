"""How far to trust the embedding prior: the mapping's quality and the prior weight lambda.

Quality: precision@1 of the mapping's CSLS nearest neighbours against two references the bitext
gives for free, the identical strings of the two vocabularies and the mutual-best Model 1
dictionary (for a seeded mapping these overlap its seed, so they are optimistic there).

Weight: train the whole schedule on (a sample of) the bitext once per candidate lambda, both
directions as :func:`eegiza.train.train_pair` does, and judge each lambda by the log-likelihood its
final models give the sample, summed over the two directions (the choice: below). The prior
enters the M-steps of the early models (``prior_models``, Model 1 and the HMM); the final ones (Models 3/4 in the
default schedule) train by plain EM from where the prior led, so the candidates are EM runs from
different starting points, compared as restarts are, by the likelihood they reach. Alignment
aligns the training text itself, so the likelihood of that text is the quantity that matters; a
held-out criterion (used before) rewards generalisation to unseen pairs instead and chose lambda
1,000 on en-fr with 1,000 lines, where the final-likelihood choice (1) aligns better (gdfa AER
12.93 vs 11.87). A wrong prior leads EM to a worse optimum: on ro-en with 1,000 lines and a poor
mapping, the likelihood falls steadily from lambda 0 (0.3: gdfa AER 38.37 -> 42.0). Likelihood is
still not AER: the cognate prior (:mod:`eegiza.cognates`) lowers it slightly and the error sharply,
so that prior has a fixed weight and is not calibrated.

Candidates are tried in increasing order and the search stops at the first that scores below its
predecessor (the likelihood has one peak over lambda on the pairs measured). The choice is the
smallest lambda whose likelihood is within ``min_gain`` (:data:`MIN_GAIN`, 0.01 nats per token)
of the best one's, so lambda > 0 needs a gain of at least that over no prior, and a larger weight
must earn its place (the rule of parsimony of cross-validation's "one standard error"). The
likelihood of the training text keeps rising a little past the weight that aligns best: on de-en,
1,000 lines, lambda 0 / 0.1 / 1 score -3.7819 / -3.7414 / -3.7399 per token and align with gdfa
AER 31.40 / 29.84 / 33.19 (0.1 is chosen); with word2vec vectors alone lambda 0.1 scores -3.7808,
0.0011 above lambda 0, and aligns worse (31.75): 0 is chosen, where the best likelihood took 0.1.
With fastText trained on a smaller n-gram table, lambda 1 scored 0.0063 above 0.1 and aligned
2.1 points worse (33.52), hence 0.01 rather than 0.005. On en-fr the weights that help gain
0.02-0.07 a step (benchmarks/README.md, "issue 16, stop 31"). Large corpora are subsampled
(``max_pairs``); lambda is rescaled by the sampling rate, since the prior's weight in row e is
lambda / (c(e) + lambda) and c(e) grows with the corpus. When the corpus is not subsampled, the
models trained with the chosen lambda are the final models (``keep_models``): the training is not
repeated.
"""
from __future__ import annotations

from dataclasses import fields
from typing import Callable, Optional, Sequence

import numpy as np

from ..config import AlignerConfig
from ..corpus import ParallelCorpus, Side
from ..train import train_pair
from ..ttable import TTable
from .mapping import csls_nearest, topk_mean_similarity
from .prior import PriorChain

#: nats per token: lambda is the smallest candidate within this of the best likelihood (module docstring)
MIN_GAIN = 0.01


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


def split_dictionary(pairs: np.ndarray, holdout_every: int = 2) -> tuple:
    """(fit, held_out) parts of a dictionary of (e, f) id pairs, deterministic: pairs sorted by
    (e, f), every ``holdout_every``-th of them (1st, (k+1)-th, ...) held out, so both parts span the
    same frequency range (ids are frequency ranks). A mapping is fitted on the first part and
    judged on the second, which it has never seen."""
    pairs = np.asarray(pairs, np.int64).reshape(-1, 2)
    if holdout_every < 2:
        raise ValueError(f"holdout_every must be at least 2, got {holdout_every}")
    order = np.lexsort((pairs[:, 1], pairs[:, 0]))
    pairs = pairs[order]
    held = np.zeros(len(pairs), bool)
    held[::holdout_every] = True
    return pairs[~held], pairs[held]


def confident_pairs(fwd: TTable, rev: TTable, src_counts, tgt_counts, min_prob: float = 0.0,
                    min_count: int = 1) -> np.ndarray:
    """Mutual-best (e, f) pairs (:func:`mutual_best_pairs`) with t(f|e) and t(e|f) both at least
    ``min_prob`` and both words seen at least ``min_count`` times in the bitext: the pairs the
    bitext is sure of, as a seed and as a reference for the mapping."""
    pairs = mutual_best_pairs(fwd, rev)
    if not len(pairs):
        return pairs
    e, f = pairs[:, 0], pairs[:, 1]
    ok = (np.asarray(src_counts)[e] >= min_count) & (np.asarray(tgt_counts)[f] >= min_count)
    if min_prob > 0:
        p_fe = fwd.probs[fwd.find_slots(e, f)]
        p_ef = rev.probs[rev.find_slots(f, e)]
        ok &= (p_fe >= min_prob) & (p_ef >= min_prob)
    return pairs[ok]


# --------------------------------------------------------------------------- the prior weight

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


def training_config(config) -> AlignerConfig:
    """The training options of ``config`` (any object with some of AlignerConfig's attribute names)."""
    names = {f.name for f in fields(AlignerConfig)}
    return AlignerConfig(**{k: v for k, v in vars(config).items() if k in names and v is not None})


def train_candidate(sample: ParallelCorpus, config: AlignerConfig, fwd_prior, rev_prior,
                    classes: tuple = (None, None)) -> tuple:
    """Train ``config.schedule`` on ``sample`` in both directions with the priors mixed in, as
    :func:`eegiza.train.train_pair` does. Returns (log-likelihood of the last iteration summed over
    the two directions, (fwd, rev) models). ``classes``: the (source, target) word classes of
    Model 4, or None."""
    fwd, rev = train_pair(sample, config, classes[0], classes[1],
                          fwd_prior=lambda _: fwd_prior, rev_prior=lambda _: rev_prior)
    return fwd.log[-1].loglik + rev.log[-1].loglik, (fwd, rev)


def choose_lambda(corpus: ParallelCorpus, config, fwd_factory: Callable, rev_factory: Callable,
                  lambdas: Sequence[float], classes: tuple = (None, None), base: tuple = (None, None),
                  max_pairs: int = 20000,
                  min_gain: float = MIN_GAIN, seed: int = 0, progress: Optional[Callable[[str], None]] = None,
                  keep_models: bool = False) -> dict:
    """Pick one lambda for both directions (for the whole corpus) by the likelihood the trained
    models give (a sample of) the corpus, as the module docstring describes; returns a report with
    the chosen value and the per-token log-likelihood of every candidate tried. ``base``: (fwd,
    rev) factories of priors with a fixed weight applied before this one (or None).

    ``keep_models``: when the corpus was not subsampled, the report's ``"models"`` are the (fwd,
    rev) models trained with the chosen lambda: the very models a training of the corpus with that
    weight gives, so the caller need not train them again."""
    n = len(corpus)
    if n > max_pairs:
        rows = np.sort(np.random.default_rng(seed).permutation(n)[:max_pairs])
        sample = take_sentences(corpus, rows)
    else:
        sample = corpus
    rate = len(sample) / max(n, 1)
    cfg = training_config(config)
    priors, chains = [], []
    for factory, base_factory, side_corpus in ((fwd_factory, base[0], sample),
                                               (rev_factory, base[1], sample.reversed())):
        ttable = TTable.from_corpus(side_corpus)
        prior = factory(ttable)
        fixed = base_factory(ttable) if base_factory is not None else None
        for p in (prior, fixed):
            if p is not None and p.src_counts is not None:
                p.src_counts = np.bincount(side_corpus.src.ids, minlength=len(p.src_counts)).astype(np.float64)
        if fixed is not None:
            fixed.lam *= rate
        priors.append(prior)
        chains.append(prior if fixed is None else PriorChain([fixed, prior]))
    n_tokens = max(1, len(sample.src.ids) + len(sample.tgt.ids))
    keep_models = keep_models and sample is corpus
    scores, models, previous = {}, {}, None
    for lam in sorted(set(float(x) for x in lambdas) | {0.0}):
        for prior in priors:
            prior.lam = lam * rate
        loglik, trained = train_candidate(sample, cfg, *chains, classes)
        scores[lam] = loglik / n_tokens
        if keep_models:                  # only candidates within min_gain of the best so far stay in memory
            models[lam] = trained
            best = max(scores.values())
            models = {k: v for k, v in models.items() if scores[k] >= best - min_gain}
        del trained
        if progress is not None:
            progress(f"calibration: lambda {lam:g}: log-likelihood {scores[lam]:.4f} per token")
        if previous is not None and scores[lam] < previous:
            break                                   # past the peak
        previous = scores[lam]
    best = max(scores.values())
    chosen = min(lam for lam, score in scores.items() if score >= best - min_gain)
    gain = scores[chosen] - scores[0.0]
    report = {"lambda": chosen,
              "criterion": "final training log-likelihood: the smallest lambda within min_gain of the best",
              "sample_pairs": len(sample), "loglik_per_token": scores, "gain_over_no_prior": gain,
              "min_gain": min_gain}
    if keep_models:
        report["models"] = models[chosen]
    return report
