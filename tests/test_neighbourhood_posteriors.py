"""Models 3/4 neighbourhood link posteriors: the kernel against the pure-Python enumeration of the
neighbourhood (the model's own scores, tests/reference_neighbourhood.py, and the independent
reference model of test_ibm3), on random toy models and on a model trained on real text."""
from types import SimpleNamespace

import numpy as np
import pytest

from eegiza import Aligner, AlignerConfig
from eegiza.models.neighbourhood import fertility_posteriors
from eegiza.train import align_direction
from reference_neighbourhood import reference_fertility_posteriors
from test_api import demo_sentences
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


@pytest.mark.parametrize("name", ["3", "4"])
@pytest.mark.parametrize("seed", [3, 11])
def test_kernel_equals_the_python_driver_on_toy_models(name, seed):
    corpus, _, model, tt, positions, _ = climbed_toy_model(seed, name)
    direction = SimpleNamespace(fertility=model, ttable=tt, last_model=name)
    post, off = fertility_posteriors(direction, corpus, positions)
    ref, ref_off = reference_fertility_posteriors(direction, corpus, positions)
    np.testing.assert_array_equal(off, ref_off)
    np.testing.assert_allclose(post, ref, rtol=0, atol=1e-9)
    one, _ = fertility_posteriors(direction, corpus, positions, n_threads=1)
    np.testing.assert_array_equal(one, post)                 # bit-identical for any thread count
    # from alignments that are not local maxima (neighbours more probable than the centre): where
    # the alignment keeps the fertility limits, as the reference; elsewhere one-hot at the given links
    shifted = positions.copy()
    shifted[::3] = 0
    post, _ = fertility_posteriors(direction, corpus, shifted)
    ref, _ = reference_fertility_posteriors(direction, corpus, shifted)
    n_valid = 0
    for k in range(len(corpus)):
        l, m = int(corpus.src.lengths[k]), int(corpus.tgt.lengths[k])
        a = shifted[corpus.tgt.offsets[k]:corpus.tgt.offsets[k + 1]]
        fert = np.bincount(a, minlength=l + 1)
        got = post[off[k]:off[k + 1]].reshape(m, l + 1)
        if l > 0 and 2 * fert[0] <= m and fert[1:].max() < model.params.maxfertility:
            n_valid += 1
            np.testing.assert_allclose(got, ref[off[k]:off[k + 1]].reshape(m, l + 1), rtol=0, atol=1e-9)
        else:
            np.testing.assert_array_equal(got, np.eye(l + 1)[a])
    assert 0 < n_valid < len(corpus)


@pytest.fixture(scope="module")
def real_model():
    src, tgt = demo_sentences(300)
    src = src + ["", "la maison"]
    tgt = tgt + ["the house", ""]
    model = Aligner(AlignerConfig(schedule="1^2 H^2 3^1 4^2", lowercase=True, threads=2)).train(src, tgt)
    return model, model.corpus(src, tgt)


@pytest.mark.parametrize("direction_name", ["fwd", "rev"])
def test_kernel_equals_the_python_driver_on_real_pairs(real_model, direction_name):
    model, corpus = real_model
    direction, c = (model.fwd, corpus) if direction_name == "fwd" else (model.rev, corpus.reversed())
    assert direction.last_model == "4"
    sub = c.subset(len(c) - 60, len(c))                      # the last 60 pairs, two with an empty side
    positions, _ = align_direction(direction, sub)
    post, off = fertility_posteriors(direction, sub, positions)
    ref, _ = reference_fertility_posteriors(direction, sub, positions)
    defined = np.isfinite(ref)
    assert defined.sum() > 0.95 * len(ref)
    np.testing.assert_allclose(post[defined], ref[defined], rtol=0, atol=1e-9)
    for k in range(len(sub)):
        l, m = int(sub.src.lengths[k]), int(sub.tgt.lengths[k])
        p = post[off[k]:off[k + 1]].reshape(m, l + 1)
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
        if l == 0:                                           # no source words: no neighbourhood, all NULL
            assert m > 0 and (p[:, 0] == 1.0).all() and not np.isfinite(ref[off[k]:off[k + 1]]).any()
    assert (post[defined] > 0.01).sum() > (post[defined] > 0.99).sum()   # not one-hot: real uncertainty
