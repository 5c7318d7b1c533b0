"""HMM posterior decoding (hmm.posterior_decode) against the forward-backward posteriors of the
pure-Python reference, and its use as the output of an HMM-only run."""
import numpy as np
import pytest

from eegiza import Aligner, AlignerConfig
from eegiza.models import hmm
from eegiza.slot_source import SlotSource
from eegiza.train import align_direction
from eegiza.ttable import sentence_slots
from test_api import demo_sentences


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.9])
def test_posterior_decoding_links_the_most_probable_word_above_the_threshold(threshold):
    src, tgt = demo_sentences(150)
    model = Aligner(AlignerConfig(schedule="1^3 H^3", word_classes=3, cognate_lambda=0, lowercase=True)).train(src, tgt)
    d = model.fwd
    corpus = model.corpus(src, tgt)
    slots, slot_off = sentence_slots(corpus, d.ttable)
    args = (corpus.src.ids, corpus.src.offsets, corpus.tgt.offsets, SlotSource.stored(slots, slot_off).arrays(),
            d.ttable.probs, d.prob_smooth,
            d.src_class, d.jump, d.start, d.hmm_p_null, d.hmm_jump_smooth)
    links, loglik = hmm.posterior_decode(*args, threshold, 2)
    decided = 0
    for k in range(len(corpus)):
        e = corpus.src.ids[corpus.src.offsets[k]:corpus.src.offsets[k + 1]]
        m = corpus.tgt.offsets[k + 1] - corpus.tgt.offsets[k]
        gamma, ll = hmm.sentence_posteriors(e, m, slots[slot_off[k]:slot_off[k + 1]], d.ttable.probs, d.prob_smooth,
                                            d.src_class, d.jump, d.start, d.hmm_p_null, d.hmm_jump_smooth,
                                            np.zeros(d.jump.shape, np.int64), np.zeros(len(d.start), np.int64))
        assert loglik[k] == pytest.approx(ll)
        for j in range(m):
            got = links[corpus.tgt.offsets[k] + j]
            best = int(np.argmax(gamma[j, 1:])) + 1 if len(e) else 0
            if len(e) and gamma[j, best] >= threshold:
                assert got == best
                decided += 1
            else:
                assert got == 0
    assert decided > 0


def test_hmm_only_run_outputs_posterior_decoding_when_asked():
    src, tgt = demo_sentences(150)
    config = AlignerConfig(schedule="1^3 H^3", word_classes=3, cognate_lambda=0, hmm_link_posterior=0.5,
                           lowercase=True)
    model = Aligner(config).train(src, tgt)
    corpus = model.corpus(src, tgt)
    got, _ = align_direction(model.fwd, corpus)
    d = model.fwd
    slots, slot_off = sentence_slots(corpus, d.ttable)
    expected, _ = hmm.posterior_decode(corpus.src.ids, corpus.src.offsets, corpus.tgt.offsets,
                                       SlotSource.stored(slots, slot_off).arrays(),
                                       d.ttable.probs, d.prob_smooth, d.src_class, d.jump, d.start, d.hmm_p_null,
                                       d.hmm_jump_smooth, 0.5, 1)
    assert np.array_equal(got, expected)
    model.fwd.hmm_link_posterior = 0.0
    viterbi, _ = align_direction(model.fwd, corpus)
    assert not np.array_equal(viterbi, expected)   # the two decodings differ somewhere
