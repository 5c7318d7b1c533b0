"""Models 3/4 neighbourhood link posteriors against the pure-Python enumeration of the neighbourhood."""
from types import SimpleNamespace

import numpy as np
import pytest

from eegiza.models.neighbourhood import fertility_posteriors
from test_ibm3 import climbed_neighbourhoods, climbed_toy_model


@pytest.mark.parametrize("name", ["3", "4"])
def test_neighbourhood_posteriors_equal_the_enumeration(name):
    corpus, params, model, tt, positions, _ = climbed_toy_model(7, name)
    direction = SimpleNamespace(fertility=model, ttable=tt, last_model=name)
    post, off = fertility_posteriors(direction, corpus, positions)
    uncertain = 0
    hoods = climbed_neighbourhoods(model, tt, corpus, positions, name, params.maxfertility)
    for k, (src, tgt, centre, hood, weights) in enumerate(hoods):
        l, m = len(src), len(tgt)
        expected = np.zeros((m, l + 1))
        for b, w in zip(hood, weights):
            for j in range(m):
                expected[j, b[j]] += w / sum(weights)
        got = post[off[k]:off[k + 1]].reshape(m, l + 1)
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-12)
        np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-12)
        uncertain += int((got.max(axis=1) < 0.95).sum())
    assert uncertain > 0       # the random models leave some words uncertain: the test is not trivial
