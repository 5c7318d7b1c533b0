"""Both directions of a few pairs (small_batch.align_both_small): derived reverse slots equal searched
ones, and give the same links and scores."""
import numpy as np

from eegiza.small_batch import _slots, align_both_small, small_corpus
from eegiza.train import align_direction
from test_saved_model import fertility_model  # noqa: F401  (the module-scoped fixture)

NEW_PAIRS = [("the qqqunseen house .", "la zzzinconnu maison ."), ("wwwnew the the house", "vvvneu la la")]


def _corpus(model, src, tgt, n=6):
    pairs = list(zip(src[:n], tgt[:n])) + NEW_PAIRS
    return small_corpus(model, [s for s, _ in pairs], [t for _, t in pairs])


def _both(model, corpus, transpose=None):
    (fp, fs), (rp, rs) = align_both_small(*model._directions(corpus), corpus, align_direction, transpose)
    return fp.tobytes(), fs.tobytes(), rp.tobytes(), rs.tobytes()


def test_derived_small_batch_reverse_slots_equal_searched_ones(fertility_model):  # noqa: F811
    model, src, tgt = fertility_model
    corpus = _corpus(model, src, tgt)
    fwd, rev = model._directions(corpus)
    transpose = model._slot_transpose()
    assert transpose.ok
    fwd_slots = _slots(corpus, fwd.ttable)
    derived = transpose.reverse_slots(corpus, fwd_slots, serial=True)
    searched = _slots(corpus.reversed(), rev.ttable)
    parallel = transpose.reverse_slots(corpus, fwd_slots)
    for got in (derived, parallel):
        assert got[0].dtype == searched[0].dtype
        np.testing.assert_array_equal(got[1], searched[1])
        np.testing.assert_array_equal(got[0], searched[0])
    assert (searched[0] >= 0).sum() > len(searched[0]) // 4 and (searched[0] < 0).any()   # new words: -1


def test_derived_reverse_slots_give_the_same_links_and_scores(fertility_model):  # noqa: F811
    model, src, tgt = fertility_model
    corpus = _corpus(model, src, tgt)
    searched = _both(model, corpus)
    derived = _both(model, corpus, model._slot_transpose())
    assert derived == searched
    assert np.frombuffer(searched[0], np.int32).any() and np.frombuffer(searched[2], np.int32).any()   # real links
