"""Per-sentence scores and per-link posteriors of aligned text, for both directions.

Scores: ``fwd`` is log P(tgt | src) under the forward model, ``rev`` log P(src | tgt) under the
reverse model (natural logarithms), each also divided by the number of words predicted (target
words for ``fwd``, source words for ``rev``). Which quantity depends on the direction's last model:

* Model 1 and the HMM: the marginal log-likelihood, summed over all alignments (the closed form for
  Model 1, the forward algorithm for the HMM), with NULL and the probability floor as in training;
* Model 2: log P(f, a | e) of the Viterbi alignment;
* Models 3 and 4: log P(f, a | e) of the hill-climbed alignment written to the output (the
  score of GIZA++'s A3 files): the sum over all alignments is intractable for the fertility models.

A pair with an empty side has no score (``defined`` is False; writers leave the fields empty).
Words the model never saw get the probability floor (1e-7) in every table.

Posteriors: P(a_j = i | e, f) of every target word under each direction
(:mod:`eegiza.models.posteriors`: Model 1 or HMM; on request, Models 3/4 neighbourhood posteriors,
:mod:`eegiza.models.neighbourhood`). The posterior of a symmetrised link (i, j) is the mean of the
forward posterior of f_j aligned to e_i and the reverse posterior of e_i aligned to f_j.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import List

import numpy as np

from .models.neighbourhood import fertility_posteriors
from .models.posteriors import direction_posteriors
from .train import align_direction


@dataclass
class SentenceScores:
    """Per-pair log-probabilities (``fwd``: log P(tgt|src), ``rev``: log P(src|tgt)), the numbers
    of target and source words, the quantity of each direction, and which pairs have a score."""

    fwd: np.ndarray
    rev: np.ndarray
    tgt_len: np.ndarray
    src_len: np.ndarray
    fwd_kind: str
    rev_kind: str

    @property
    def defined(self) -> np.ndarray:
        return (self.tgt_len > 0) & (self.src_len > 0)

    def rows(self) -> List[tuple]:
        """(fwd, rev, fwd per target word, rev per source word) per pair, None for an empty pair."""
        out = []
        for k, ok in enumerate(self.defined.tolist()):
            if not ok:
                out.append(None)
                continue
            f, r = float(self.fwd[k]), float(self.rev[k])
            out.append((f, r, f / int(self.tgt_len[k]), r / int(self.src_len[k])))
        return out


KIND = {"1": "Model 1 marginal log-likelihood", "H": "HMM forward-algorithm marginal log-likelihood",
        "2": "Model 2 Viterbi alignment log-probability",
        "3": "Model 3 log-probability of the hill-climbed alignment",
        "4": "Model 4 log-probability of the hill-climbed alignment"}


def direction_scores(model, corpus, viterbi_scores: np.ndarray, engine=None) -> np.ndarray:
    """The score of every pair under one direction (see the module docstring); ``viterbi_scores``
    are those :func:`eegiza.train.align_direction` returned for ``corpus``. ``engine``: the Dask
    engine (issue 17), or None."""
    if model.last_model in ("1", "H"):
        return _posteriors(model, corpus, engine)[2]
    return np.asarray(viterbi_scores, np.float64)


@dataclass
class LinkPosteriors:
    """Both directions' posteriors (:mod:`eegiza.models.posteriors` layout). ``fwd`` rows: target
    words over NULL + source positions; ``rev`` rows: source words over NULL + target positions."""

    fwd: np.ndarray
    fwd_off: np.ndarray
    rev: np.ndarray
    rev_off: np.ndarray
    src_len: np.ndarray
    tgt_len: np.ndarray
    fwd_model: str
    rev_model: str

    def fwd_matrix(self, k: int) -> np.ndarray:
        """Pair k, forward: (m, l + 1), row j = P(a_j = NULL, 1 .. l)."""
        l, m = int(self.src_len[k]), int(self.tgt_len[k])
        return self.fwd[self.fwd_off[k]:self.fwd_off[k + 1]].reshape(m, l + 1)

    def rev_matrix(self, k: int) -> np.ndarray:
        """Pair k, reverse: (l, m + 1), row i = P(b_i = NULL, 1 .. m)."""
        l, m = int(self.src_len[k]), int(self.tgt_len[k])
        return self.rev[self.rev_off[k]:self.rev_off[k + 1]].reshape(l, m + 1)

    def link(self, k: int, i: int, j: int, which: str = "sym") -> float:
        """Posterior of link (i, j) (0-based, source first) of pair k: ``fwd``, ``rev`` or ``sym``
        (their mean)."""
        l, m = int(self.src_len[k]), int(self.tgt_len[k])
        pf = float(self.fwd[self.fwd_off[k] + j * (l + 1) + i + 1])
        pr = float(self.rev[self.rev_off[k] + i * (m + 1) + j + 1])
        return {"fwd": pf, "rev": pr, "sym": 0.5 * (pf + pr)}[which]


def _posteriors(model, corpus, engine):
    return direction_posteriors(model, corpus) if engine is None else engine.posteriors(model, corpus)


def link_posteriors(fwd_model, rev_model, corpus, fertility: bool = False, engine=None) -> LinkPosteriors:
    """Posteriors of both directions on ``corpus`` (models extended to its vocabularies). With
    ``fertility``, a direction whose last model is 3 or 4 gives its neighbourhood posteriors around
    its hill-climbed alignment (:mod:`eegiza.models.neighbourhood`): the climb's own result, before
    ``min_link_posterior`` unaligns uncertain links (that output need not keep the NULL limit, so it
    would have no neighbourhood). ``engine``: the Dask engine (issue 17; every posterior on its
    shards), or None."""
    out = []
    for model, c in ((fwd_model, corpus), (rev_model, corpus.reversed())):
        if fertility and model.last_model in ("3", "4"):
            positions, _ = align_direction(replace(model, min_link_posterior=0.0), c, engine=engine)
            post, off = (fertility_posteriors(model, c, positions) if engine is None else
                         engine.fertility_posteriors(model, c, positions))
            out.append((post, off, model.last_model))
        else:
            post, off, _, name = _posteriors(model, c, engine)
            out.append((post, off, name))
    (fwd, fwd_off, fwd_name), (rev, rev_off, rev_name) = out
    return LinkPosteriors(fwd, fwd_off, rev, rev_off, corpus.src.lengths, corpus.tgt.lengths, fwd_name, rev_name)
