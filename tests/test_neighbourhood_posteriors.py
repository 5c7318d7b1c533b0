"""Models 3/4 neighbourhood link posteriors against the pure-Python enumeration of the neighbourhood."""
import math
from types import SimpleNamespace

import numpy as np
import pytest

from eegiza.models.fertility import FertilityParams, align_fertility
from eegiza.models.neighbourhood import fertility_posteriors
from test_ibm3 import diagonal_start, neighbours, pair_lists, random_model, ref_log_prob, small_corpus


@pytest.mark.parametrize("name", ["3", "4"])
def test_neighbourhood_posteriors_equal_the_enumeration(name):
    corpus = small_corpus()
    params = FertilityParams(maxfertility=3)
    model, tt = random_model(corpus, 7, params)
    model.last_model = name
    positions, _ = align_fertility(model, tt, corpus, diagonal_start(corpus), 2)
    direction = SimpleNamespace(fertility=model, ttable=tt, last_model=name)
    post, off = fertility_posteriors(direction, corpus, positions)
    tgt_off = corpus.tgt.offsets
    uncertain = 0
    for k, (src, tgt) in enumerate(pair_lists(corpus)):
        l, m = len(src), len(tgt)
        centre = tuple(int(x) for x in positions[tgt_off[k]:tgt_off[k + 1]])
        hood = [centre] + neighbours(centre, l, m, params.maxfertility)
        weights = [math.exp(ref_log_prob(model, tt, src, tgt, b, name)) for b in hood]
        expected = np.zeros((m, l + 1))
        for b, w in zip(hood, weights):
            for j in range(m):
                expected[j, b[j]] += w / sum(weights)
        got = post[off[k]:off[k + 1]].reshape(m, l + 1)
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-12)
        np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-12)
        uncertain += int((got.max(axis=1) < 0.95).sum())
    assert uncertain > 0       # the random models leave some words uncertain: the test is not trivial
