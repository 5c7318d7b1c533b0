"""Posterior decoding of Models 3/4 (align_fertility's ``min_link_posterior``): a word stays linked
only if its link holds enough of the climbed alignment's neighbourhood probability, checked against
the pure-Python enumeration of that neighbourhood."""

import numpy as np
import pytest

from eegiza.models.fertility import align_fertility
from test_ibm3 import climbed_neighbourhoods, climbed_toy_model, diagonal_start


@pytest.mark.parametrize("name", ["3", "4"])
def test_uncertain_links_are_unaligned_by_their_neighbourhood_posterior(name):
    corpus, params, model, tt, viterbi, scores = climbed_toy_model(5, name)
    start = diagonal_start(corpus)
    posteriors = []
    for src, tgt, centre, hood, weights in climbed_neighbourhoods(model, tt, corpus, viterbi, name,
                                                                  params.maxfertility):
        total = sum(weights)
        posteriors += [sum(w for b, w in zip(hood, weights) if b[j] == centre[j]) / total for j in range(len(tgt))]
    posteriors = np.array(posteriors)
    assert 0.05 < posteriors.min() < 0.95    # the toy models leave some links uncertain
    for threshold in (0.5, 0.9):
        decoded, decoded_scores = align_fertility(model, tt, corpus, start, 2, min_link_posterior=threshold)
        expected = np.where(posteriors < threshold, 0, viterbi)
        np.testing.assert_array_equal(decoded, expected)
        np.testing.assert_array_equal(decoded_scores, scores)   # the scores stay those of the climbed alignment
