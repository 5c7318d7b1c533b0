"""A loaded model aligning a few pairs with new words builds no vocabulary-sized table: the climb
takes the rows of the ids the pairs use (fertility.used_tables), the directions' t-table rows and
classes of new words are views of arrays padded once (AlignmentModel._extended). Same links and
scores as the full tables."""
import numpy as np
import pytest

from eegiza import api
from eegiza.models import fertility
from eegiza.small_batch import _slots, small_corpus
from test_saved_model import fertility_model  # noqa: F401  (the module-scoped fixture)

LONG_WORD = "q" * 80                       # longer than any training word: the all-words fertility row
NEW_PAIRS = [("the qqqunseen house .", "la zzzinconnu maison ."), (f"wwwnew {LONG_WORD} the", "vvvneu la"),
             ("house", "maison")]


def _pairs(src, tgt):
    return list(zip(src[:6], tgt[:6])) + NEW_PAIRS


def test_used_tables_hold_the_full_tables_rows_of_the_used_ids(fertility_model):  # noqa: F811
    model, src, tgt = fertility_model
    pairs = _pairs(src, tgt)
    corpus = small_corpus(model, [s for s, _ in pairs], [t for _, t in pairs])
    for d, c in zip(model._directions(corpus), (corpus, corpus.reversed())):
        fert = d.fertility
        assert len(c.src_vocab) > len(fert.n_table)                 # new words beyond the trained table
        local, rows, src_class, tgt_class = fertility.used_tables(fert, c)
        full_rows, full_src, full_tgt = fertility.corpus_tables(fert, c)
        src_used = np.unique(np.concatenate([[0], c.src.ids]))
        tgt_used = np.unique(c.tgt.ids)
        np.testing.assert_array_equal(src_used[local.src.ids], c.src.ids)
        np.testing.assert_array_equal(tgt_used[local.tgt.ids], c.tgt.ids)
        np.testing.assert_array_equal(local.src.offsets, c.src.offsets)
        np.testing.assert_array_equal(rows, full_rows[src_used])
        np.testing.assert_array_equal(src_class, full_src[src_used])
        np.testing.assert_array_equal(tgt_class, full_tgt[tgt_used])
        assert len(rows) == len(src_used) < len(fert.n_table) and local.src.ids.dtype == np.int32
        assert not np.array_equal(rows[-1], rows[0])               # the rows differ: a real check


@pytest.mark.parametrize("min_posterior", [0.0, 0.9])
def test_the_climb_on_used_tables_equals_the_climb_on_full_tables(fertility_model, min_posterior,  # noqa: F811
                                                                  monkeypatch):
    model, src, tgt = fertility_model
    pairs = _pairs(src, tgt)
    corpus = small_corpus(model, [s for s, _ in pairs], [t for _, t in pairs])
    from eegiza.small_batch import _hmm_viterbi_serial
    for d, c in zip(model._directions(corpus), (corpus, corpus.reversed())):
        slots = _slots(c, d.ttable)
        start, _ = _hmm_viterbi_serial(c.src.ids, c.src.offsets, c.tgt.offsets, *slots, d.ttable.probs,
                                       d.prob_smooth, d.src_class, d.jump, d.start, d.hmm_p_null, d.hmm_jump_smooth)
        # run_corpus given: the full (concatenated) tables, as the Dask engine and large corpora take them
        full = fertility.align_fertility(d.fertility, d.ttable, c, start, 1, min_posterior, slots,
                                         run_corpus=fertility._run_corpus)
        with monkeypatch.context() as m:
            m.setattr(fertility, "_fertility_rows", None)        # the used-tables path builds no full table
            m.setattr(fertility, "_pad", None)
            used = fertility.align_fertility(d.fertility, d.ttable, c, start, 1, min_posterior, slots)
        np.testing.assert_array_equal(used[0], full[0])
        np.testing.assert_array_equal(used[1], full[1])
        assert (full[0] > 0).sum() > len(c.tgt.ids) // 3 and np.isfinite(full[1]).sum() > len(pairs) // 2


def test_model_align_of_pairs_with_new_words_equals_the_corpus_path(fertility_model):  # noqa: F811
    model, src, tgt = fertility_model
    pairs = _pairs(src, tgt)
    one_by_one = [model.align([p])[0] for p in pairs]
    corpus = model.corpus(src[:40] + [s for s, _ in pairs], tgt[:40] + [t for _, t in pairs])    # > SMALL_BATCH
    assert one_by_one == model.align_corpus(corpus, [model.config.symmetrization]).links(
        model.config.symmetrization)[40:]


def test_extended_directions_are_views_of_arrays_padded_once(fertility_model, monkeypatch):  # noqa: F811
    model, src, tgt = fertility_model
    fwd_before, indptr_before = model.fwd, model.fwd.ttable.indptr.copy()
    a = model._directions(small_corpus(model, ["the qqqunseen house"], ["la maison"]))[0]
    b = model._directions(small_corpus(model, ["aaanew bbbnew cccnew"], ["la"]))[0]
    n = model.fwd.ttable.n_src
    assert (a.ttable.n_src, b.ttable.n_src) == (n + 1, n + 3) and len(b.src_class) == n + 3
    assert np.shares_memory(a.ttable.indptr, b.ttable.indptr) and np.shares_memory(a.src_class, b.src_class)
    np.testing.assert_array_equal(b.ttable.indptr[:n + 1], indptr_before)
    assert (b.ttable.indptr[n:] == indptr_before[-1]).all() and (b.src_class[n:] == 0).all()
    np.testing.assert_array_equal(b.src_class[:n], model.fwd.src_class)
    assert model.fwd is fwd_before and model._directions(model.corpus(["the house"], ["la maison"]))[0] is model.fwd
    monkeypatch.setattr(api, "PADDING", 2)
    model._padded.clear()
    small = model._directions(small_corpus(model, ["aaanew"], ["la"]))[0]
    more = model._directions(small_corpus(model, ["aaanew bbbnew cccnew dddnew eeenew"], ["la"]))[0]
    assert small.ttable.n_src == n + 1 and more.ttable.n_src == n + 5              # grown past the padding
    assert (more.ttable.indptr[n:] == indptr_before[-1]).all() and (more.src_class[n:] == 0).all()


def test_serial_slots_with_repeated_words_equal_sentence_slots(fertility_model):  # noqa: F811
    """small_batch._slots copies the slots of a repeated word's first occurrence: the same slots,
    layout and dtype as ttable.sentence_slots."""
    from eegiza.ttable import sentence_slots
    model, src, tgt = fertility_model
    pairs = _pairs(src, tgt) + [(f"{src[0]} {src[0]} qqqunseen {src[1]}", f"{tgt[1]} {tgt[0]} {tgt[1]} la la")]
    corpus = small_corpus(model, [s for s, _ in pairs], [t for _, t in pairs])
    assert len(set(corpus.src.sentence(len(pairs) - 1).tolist())) < corpus.src.lengths[-1]   # repeats
    for d, c in zip(model._directions(corpus), (corpus, corpus.reversed())):
        slots, off = sentence_slots(c, d.ttable)
        small_slots, small_off = _slots(c, d.ttable)
        assert small_slots.dtype == slots.dtype
        np.testing.assert_array_equal(small_off, off)
        np.testing.assert_array_equal(small_slots, slots)
        assert (slots >= 0).sum() > len(slots) // 4 and (slots < 0).any()
