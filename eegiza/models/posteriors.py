"""Link posteriors and sentence likelihoods of new text under a trained direction P(f | e).

``e`` is the model's source side (conditioning, NULL = position 0), ``f`` its target side. For
every target word f_j the posterior P(a_j = i | e, f), i = 0 (NULL) .. l, is computed by the
model's own E-step formulas, without collecting counts:

* Model 1: t(f_j|e_i) / sum_i' t(f_j|e_i') (:func:`eegiza.models.ibm1.sentence_posteriors`);
* the HMM: forward-backward state posteriors, NULL twins summed into i = 0
  (:func:`eegiza.models.hmm.sentence_posteriors`, the training E-step's kernel);
* Models 2, 3 and 4: the posteriors of the base model they started from (Model 1 or the HMM;
  Model 2 falls back to Model 1 posteriors under its t-table). Models 3/4 have no tractable exact
  posterior; see :mod:`eegiza.scoring` for what their score is.

The log-likelihood returned beside the posteriors is the marginal log P(f | e) of the same model
(sum over all alignments: the forward algorithm for the HMM, the closed form for Model 1).
Each row of the flat posterior array sums to one (the rows of all pairs are stacked: pair k's
block starts at ``off[k]`` and holds ``m_k`` rows of ``l_k + 1`` values, row-major).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..ttable import sentence_slots
from . import hmm, ibm1


@njit(cache=True, nogil=True, parallel=True)
def _model1_all(src_off, tgt_off, slots, slot_off, probs, floor):
    n_sent = len(src_off) - 1
    post = np.empty(slot_off[-1])
    loglik = np.zeros(n_sent)
    for k in prange(n_sent):
        l = src_off[k + 1] - src_off[k]
        m = tgt_off[k + 1] - tgt_off[k]
        gamma, loglik[k] = ibm1.sentence_posteriors(l, m, slots[slot_off[k]:slot_off[k + 1]], probs, floor)
        post[slot_off[k]:slot_off[k + 1]] = gamma.ravel()
    return post, loglik


@njit(cache=True, nogil=True, parallel=True)
def _hmm_all(src_ids, src_off, tgt_off, slots, slot_off, probs, floor, src_class, jump, start, p_null, smooth):
    n_sent = len(src_off) - 1
    post = np.empty(slot_off[-1])
    loglik = np.zeros(n_sent)
    for k in prange(n_sent):
        jscratch = np.zeros(jump.shape, np.int64)    # the kernel adds expected jump counts: discarded
        sscratch = np.zeros(len(start), np.int64)
        gamma, loglik[k] = hmm.sentence_posteriors(src_ids[src_off[k]:src_off[k + 1]], tgt_off[k + 1] - tgt_off[k],
                                                   slots[slot_off[k]:slot_off[k + 1]], probs, floor, src_class,
                                                   jump, start, p_null, smooth, jscratch, sscratch)
        post[slot_off[k]:slot_off[k + 1]] = gamma.ravel()
    return post, loglik


def posterior_model(model) -> str:
    """The model whose posteriors are computed for a direction: its last model if 1 or H, else
    the HMM if it has jump tables, else Model 1."""
    if model.last_model in ("1", "H"):
        return model.last_model
    return "H" if model.jump is not None else "1"


def direction_posteriors(model, corpus):
    """(posteriors, offsets, log-likelihoods, model name) of every pair of ``corpus`` under the
    direction ``model`` (a :class:`eegiza.train.DirectionModel` whose t-table covers the
    corpus' source ids). See the module docstring for the layout."""
    tt = model.ttable
    slots, slot_off = sentence_slots(corpus, tt)
    name = posterior_model(model)
    post, loglik = slot_posteriors(name, corpus.src.ids, corpus.src.offsets, corpus.tgt.offsets, slots, slot_off,
                                   tt.probs, model.prob_smooth, model.src_class, model.jump, model.start,
                                   model.hmm_p_null, model.hmm_jump_smooth)
    return post, slot_off, loglik, name


def slot_posteriors(name, src_ids, src_off, tgt_off, slots, slot_off, probs, floor, src_class, jump, start, p_null,
                    smooth):
    """(posteriors, log-likelihoods) of every pair under Model 1 or the HMM (``name``), given the
    pairs' sentence slots in a t-table and its probabilities (the Dask engine's shards call it
    with their own slots)."""
    if name == "1":
        return _model1_all(src_off, tgt_off, slots, slot_off, probs, floor)
    return _hmm_all(src_ids, src_off, tgt_off, slots, slot_off, probs, floor, src_class, jump, start, p_null, smooth)


def posterior_matrix(post: np.ndarray, off: np.ndarray, k: int, l: int, m: int) -> np.ndarray:
    """Pair k's posteriors as an (m, l + 1) array: row j over NULL, e_1 .. e_l."""
    return post[off[k]:off[k + 1]].reshape(m, l + 1)
