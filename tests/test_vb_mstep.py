"""The variational-Bayes M-step (train.variational_bayes_probs) against its formula, row by row:
t(f|e) = exp(psi(c(e,f) + a) - psi(c(e) + a V_e)), computed in blocks of whole rows."""
import math

import numpy as np
import pytest
from scipy.special import digamma

from eegiza import train


def _reference(indptr, counts, alpha):
    out = np.zeros(len(counts))
    for e in range(len(indptr) - 1):
        lo, hi = indptr[e], indptr[e + 1]
        denom = digamma(sum(counts[lo:hi]) + alpha * (hi - lo))
        for s in range(lo, hi):
            out[s] = math.exp(digamma(counts[s] + alpha) - denom)
    return out


@pytest.mark.parametrize("block", [3, 7, 1 << 17])
def test_vb_probs_follow_the_formula_in_any_block_size(monkeypatch, block):
    monkeypatch.setattr(train, "VB_BLOCK", block)
    rng = np.random.default_rng(5)
    sizes = np.array([4, 0, 1, 12, 0, 0, 5, 2, 9, 0, 3])   # empty rows and rows longer than a block
    indptr = np.zeros(len(sizes) + 1, np.int64)
    np.cumsum(sizes, out=indptr[1:])
    counts = rng.random(indptr[-1]) * 4
    counts[::5] = 0.0
    got = train.variational_bayes_probs(indptr, counts, 0.1)
    np.testing.assert_allclose(got, _reference(indptr, counts, 0.1), rtol=1e-12, atol=0)
    out = np.empty(len(counts), np.float32)              # float32 storage: the same values, rounded
    train.variational_bayes_probs(indptr, counts, 0.1, out)
    np.testing.assert_array_equal(out, got.astype(np.float32))
