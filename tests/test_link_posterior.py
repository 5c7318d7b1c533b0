"""Posterior decoding of Models 3/4 (align_fertility's ``min_link_posterior``): a word stays linked
only if its link holds enough of the climbed alignment's neighbourhood probability, checked against
the pure-Python enumeration of that neighbourhood."""
import math

import numpy as np
import pytest

from eegiza.models.fertility import FertilityParams, align_fertility
from test_ibm3 import diagonal_start, neighbours, pair_lists, random_model, ref_log_prob, small_corpus


@pytest.mark.parametrize("name", ["3", "4"])
def test_uncertain_links_are_unaligned_by_their_neighbourhood_posterior(name):
    corpus = small_corpus()
    params = FertilityParams(maxfertility=3)
    model, tt = random_model(corpus, 5, params)
    model.last_model = name
    start = diagonal_start(corpus)
    viterbi, scores = align_fertility(model, tt, corpus, start, 2)
    off = corpus.tgt.offsets
    posteriors = []
    for k, (src, tgt) in enumerate(pair_lists(corpus)):
        centre = tuple(int(x) for x in viterbi[off[k]:off[k + 1]])
        hood = [centre] + neighbours(centre, len(src), len(tgt), params.maxfertility)
        weights = [math.exp(ref_log_prob(model, tt, src, tgt, b, name)) for b in hood]
        total = sum(weights)
        posteriors += [sum(w for b, w in zip(hood, weights) if b[j] == centre[j]) / total for j in range(len(tgt))]
    posteriors = np.array(posteriors)
    assert 0.05 < posteriors.min() < 0.95    # the toy models leave some links uncertain
    for threshold in (0.5, 0.9):
        decoded, decoded_scores = align_fertility(model, tt, corpus, start, 2, min_link_posterior=threshold)
        expected = np.where(posteriors < threshold, 0, viterbi)
        np.testing.assert_array_equal(decoded, expected)
        np.testing.assert_array_equal(decoded_scores, scores)   # the scores stay those of the climbed alignment
