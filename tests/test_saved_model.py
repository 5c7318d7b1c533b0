"""A saved model used on new text: save -> load -> align reproduces the in-memory alignments, unseen
words, version checks, sentence scores and link posteriors against the pure-Python references."""
import json
import math
from dataclasses import replace

import numpy as np
import pytest

from eegiza import Aligner, AlignerConfig, AlignmentModel
from eegiza.api import ModelFileError
from reference_models import hmm_loglik, hmm_posteriors, model1_loglik, model1_posteriors, t_dict
from test_api import demo_sentences

TOY_SRC = ["a b", "a c", "b c d", "d a", "c", "b d a c"]
TOY_TGT = ["x y", "x z", "y z w", "w x", "z", "y w x z"]


@pytest.fixture(scope="module")
def fertility_model():
    src, tgt = demo_sentences(400)
    model = Aligner(AlignerConfig(schedule="1^3 H^3 3^2 4^2", lowercase=True, threads=2)).train(src, tgt)
    return model, src, tgt


@pytest.fixture(scope="module")
def unpruned_fertility_model():
    """As ``fertility_model``, with every t entry kept (``t_cutoff`` 0): the two directions' tables
    then hold transposed pairs, and the reverse slots can be derived from the forward ones."""
    src, tgt = demo_sentences(400)
    model = Aligner(AlignerConfig(schedule="1^3 H^3 3^2 4^2", lowercase=True, threads=2, t_cutoff=0)).train(src, tgt)
    return model, src, tgt


def test_save_load_align_reproduces_the_training_alignments(fertility_model, tmp_path):
    model, src, tgt = fertility_model
    corpus = model.corpus(src, tgt)
    before = model.align_corpus(corpus, ["grow-diag-final-and"])
    path = tmp_path / "m.npz"
    model.save(path)
    loaded = AlignmentModel.load(path)
    after = loaded.align_corpus(loaded.corpus(src, tgt), ["grow-diag-final-and"])
    for which in ("fwd", "rev", "grow-diag-final-and"):
        assert after.links(which) == before.links(which)
    assert sum(map(len, after.links("grow-diag-final-and"))) > len(src)   # not trivially empty
    pairs = list(zip(src[:20], tgt[:20]))
    assert loaded.align(pairs) == model.align(src[:20], tgt[:20])
    assert loaded.align([f"{s} ||| {t}" for s, t in pairs]) == model.align(src[:20], tgt[:20])


def test_unseen_words_align_score_and_have_posteriors(fertility_model):
    model, _, _ = fertility_model
    pairs = [("the qqqunseen house .", "la zzzinconnu maison ."), ("wwwnew", "vvvneu"), ("", "la")]
    links = model.align(pairs)
    assert links[2] == [] and all(0 <= i < 4 and 0 <= j < 4 for i, j in links[0])
    rows = model.scores(pairs)
    assert rows[2] is None
    assert all(math.isfinite(x) for row in rows[:2] for x in row)
    assert rows[1][2] < rows[0][2] and rows[1][3] < rows[0][3]   # an unseen-only pair scores worse per word
    for fwd, rev in model.posteriors(pairs[:2]):
        assert np.isfinite(fwd).all() and np.isfinite(rev).all()
    n_src, n_tgt = len(model.src_vocab), len(model.tgt_vocab)
    model.align(pairs)
    assert (len(model.src_vocab), len(model.tgt_vocab)) == (n_src, n_tgt)   # the model's vocabularies unchanged


def _rewrite_meta(path, out, **changes):
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(bytes(arrays["meta"]).decode())
    meta.update(changes)
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez(out, **arrays)
    return meta


def test_model_records_the_version_and_other_versions_are_named(tmp_path):
    model = Aligner(AlignerConfig(schedule="1^2")).train(TOY_SRC, TOY_TGT)
    path = tmp_path / "m.npz"
    model.save(path)
    import eegiza
    meta = _rewrite_meta(path, tmp_path / "same.npz")
    assert meta["eegiza_version"] == eegiza.__version__ and meta["config"]["schedule"] == "1^2"
    _rewrite_meta(path, tmp_path / "future.npz", version=99, eegiza_version="9.9.9")
    with pytest.raises(ModelFileError, match=r"future.npz: model written by eegiza 9\.9\.9 \(model format 99\)"):
        AlignmentModel.load(tmp_path / "future.npz")
    _rewrite_meta(path, tmp_path / "v1.npz", version=1)   # format 1 (no version recorded) is still read
    assert AlignmentModel.load(tmp_path / "v1.npz").align(TOY_SRC, TOY_TGT) == model.align(TOY_SRC, TOY_TGT)
    with pytest.raises(ModelFileError, match="missing.npz: no such model file"):
        AlignmentModel.load(tmp_path / "missing.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ModelFileError, match="text.npz: not an eegiza model"):
        AlignmentModel.load(tmp_path / "text.npz")


def _ids(model, corpus, k):
    return corpus.src.sentence(k).tolist(), corpus.tgt.sentence(k).tolist()


@pytest.mark.parametrize("schedule", ["1^3", "1^2 H^3"])
def test_scores_and_posteriors_equal_the_reference(schedule):
    model = Aligner(AlignerConfig(schedule=schedule, agreement=False)).train(TOY_SRC, TOY_TGT)
    new_src, new_tgt = TOY_SRC + ["a q", ""], TOY_TGT + ["x", "y"]
    corpus = model.corpus(new_src, new_tgt)
    scores = model.corpus_scores(corpus)
    post = model.corpus_posteriors(corpus)
    rows = scores.rows()
    assert rows[-1] is None
    extended = dict(zip(("fwd", "rev"), model._directions(corpus)))    # unseen words: class 0, floor t
    for direction, c, values in (("fwd", corpus, scores.fwd), ("rev", corpus.reversed(), scores.rev)):
        d = extended[direction]
        t = t_dict(d.ttable)
        for k in range(len(new_src) - 1):
            e, f = c.src.sentence(k).tolist(), c.tgt.sentence(k).tolist()
            if schedule == "1^3":
                ref, ref_post = model1_loglik(e, f, t), model1_posteriors(e, f, t)
            else:
                args = (e, f, t, d.src_class, d.jump.tolist(), d.start.tolist(), d.hmm_p_null, d.hmm_jump_smooth)
                ref, ref_post = hmm_loglik(*args), hmm_posteriors(*args)
            assert values[k] == pytest.approx(ref, rel=1e-9, abs=1e-9)
            got = post.fwd_matrix(k) if direction == "fwd" else post.rev_matrix(k)
            np.testing.assert_allclose(got, np.array(ref_post), rtol=1e-9, atol=1e-12)
    for k in range(len(new_src) - 1):
        l, m = len(corpus.src.sentence(k)), len(corpus.tgt.sentence(k))
        np.testing.assert_allclose(post.fwd_matrix(k).sum(axis=1), np.ones(m), rtol=1e-12)
        np.testing.assert_allclose(post.rev_matrix(k).sum(axis=1), np.ones(l), rtol=1e-12)
        f, r, fw, rw = rows[k]
        assert fw == pytest.approx(f / m) and rw == pytest.approx(r / l)


def test_fertility_model_posteriors_sum_to_one_and_scores_are_the_alignment_scores(fertility_model):
    model, src, tgt = fertility_model
    corpus = model.corpus(src[-30:], tgt[-30:])
    alignment = model.align_corpus(corpus, ())
    scores = model.corpus_scores(corpus, alignment)
    np.testing.assert_array_equal(scores.fwd, alignment.fwd_scores)
    assert "Model 4" in scores.fwd_kind
    post = model.corpus_posteriors(corpus)
    assert post.fwd_model == "H"
    for k in range(len(corpus)):
        np.testing.assert_allclose(post.fwd_matrix(k).sum(axis=1), 1.0, rtol=1e-12)
        np.testing.assert_allclose(post.rev_matrix(k).sum(axis=1), 1.0, rtol=1e-12)


def test_small_batches_align_exactly_like_the_corpus_path(fertility_model):
    from eegiza.corpus import corpus_from_sentences
    from eegiza.small_batch import SMALL_BATCH, small_corpus
    model, src, tgt = fertility_model
    src = src[:2 * SMALL_BATCH] + ["The QQQ House .", ""]
    tgt = tgt[:2 * SMALL_BATCH] + ["la ZZZ maison .", "rien"]
    assert len(src) > SMALL_BATCH                     # the whole list takes the corpus path
    whole = model.align(src, tgt)
    pieces = [x for k in range(0, len(src), 8) for x in model.align(src[k:k + 8], tgt[k:k + 8])]
    singles = [model.align([s], [t])[0] for s, t in zip(src[-6:], tgt[-6:])]
    assert pieces == whole and singles == whole[-6:]
    for method in ("fwd", "rev"):
        assert [x for k in range(0, len(src), 8) for x in model.align(src[k:k + 8], tgt[k:k + 8], method=method)] \
            == model.align(src, tgt, method=method)
    small = small_corpus(model, src[-4:], tgt[-4:])
    big = corpus_from_sentences(src[-4:], tgt[-4:], lowercase=True, src_vocab=model.src_vocab,
                                tgt_vocab=model.tgt_vocab)
    for a, b in ((small.src, big.src), (small.tgt, big.tgt)):
        np.testing.assert_array_equal(a.ids, b.ids)
        np.testing.assert_array_equal(a.offsets, b.offsets)
    assert small.src_vocab.words == big.src_vocab.words


@pytest.mark.parametrize("agreement", [False, True])
def test_continued_training_starts_from_the_saved_model_and_grows_the_vocabulary(tmp_path, agreement):
    src, tgt = demo_sentences(800)
    first = Aligner(AlignerConfig(schedule="1^3 H^3", lowercase=True, agreement=agreement)).train(src[:400], tgt[:400])
    first.save(tmp_path / "m.npz")
    loaded = AlignmentModel.load(tmp_path / "m.npz")
    corpus = loaded.corpus(src, tgt)                               # 800 lines: new words on both sides
    assert len(corpus.src_vocab) > len(loaded.src_vocab) and len(corpus.tgt_vocab) > len(loaded.tgt_vocab)
    config = replace(loaded.config, schedule="H^2")
    continued = loaded.continue_training(corpus, config)
    fresh = Aligner(config).train_corpus(loaded.corpus(src, tgt))    # the same iterations from uniform tables
    assert continued.fwd.log[0].perplexity < 0.8 * fresh.fwd.log[0].perplexity
    assert continued.rev.log[0].perplexity < 0.8 * fresh.rev.log[0].perplexity
    assert len(continued.src_vocab) == len(corpus.src_vocab) and len(loaded.src_vocab) < len(corpus.src_vocab)
    new_word = corpus.src_vocab.words[-1]
    assert continued.translations(new_word, top=1)[0][1] > 0.05     # the new word has learnt a translation
    continued.save(tmp_path / "c.npz")
    again = AlignmentModel.load(tmp_path / "c.npz")
    assert again.align(src[-10:], tgt[-10:]) == continued.align(src[-10:], tgt[-10:])


def test_fertility_neighbourhood_posteriors_through_the_api(fertility_model):
    model, src, tgt = fertility_model
    corpus = model.corpus(src[-4:], tgt[-4:])
    post = model.corpus_posteriors(corpus, fertility=True)
    hmm_post = model.corpus_posteriors(corpus)
    assert (post.fwd_model, post.rev_model, hmm_post.fwd_model) == ("4", "4", "H")
    for k in range(len(corpus)):
        np.testing.assert_allclose(post.fwd_matrix(k).sum(axis=1), 1.0, rtol=1e-12)
        np.testing.assert_allclose(post.rev_matrix(k).sum(axis=1), 1.0, rtol=1e-12)
    fwd_links = model.align_corpus(corpus, ()).links("fwd")
    for k, links in enumerate(fwd_links):                     # the climbed alignment's links are its hood's modes here
        for i, j in links:
            assert post.fwd_matrix(k)[j].argmax() == i + 1


def test_reverse_slots_derived_from_the_forward_ones_equal_searched_ones(unpruned_fertility_model, monkeypatch):
    """The reverse direction's sentence slots derived through the transposed table map equal the
    binary-searched ones (known and new words); align_corpus with and without the derivation agree."""
    from eegiza import api
    from eegiza.slot_transpose import SlotTranspose
    from eegiza.ttable import TTable, sentence_slots
    model, src, tgt = unpruned_fertility_model
    corpus = model.corpus(src[:60] + ["qqq the house .", "", "the"], tgt[:60] + ["la zzz maison", "rien", ""])
    fwd, rev = model._directions(corpus)
    fwd_slots = sentence_slots(corpus, fwd.ttable)
    transpose = SlotTranspose(model.fwd.ttable, model.rev.ttable)
    derived = transpose.reverse_slots(corpus, fwd_slots)
    searched = sentence_slots(corpus.reversed(), rev.ttable)
    assert transpose.ok
    for a, b in zip(derived, searched):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype
    assert (derived[0] >= 0).sum() > 1000 and (derived[0] == -1).any()      # new words: not in the table
    with_map = model.align_corpus(corpus, ["grow-diag-final-and"])
    assert model._transpose is not None
    monkeypatch.setattr(api, "REUSE_MAX_SLOTS", 0)                        # each direction searches its own
    searched_run = model.align_corpus(corpus, ["grow-diag-final-and"])
    for which in ("fwd", "rev", "grow-diag-final-and"):
        assert with_map.links(which) == searched_run.links(which)
    np.testing.assert_array_equal(with_map.rev_scores, searched_run.rev_scores)
    tt = model.rev.ttable                                                  # a reverse table missing one pair
    drop = int(tt.indptr[2]) - 1
    indptr = tt.indptr.copy()
    indptr[2:] -= 1
    thinner = TTable(indptr, np.delete(tt.indices, drop), np.delete(tt.probs, drop))
    other = SlotTranspose(model.fwd.ttable, thinner)
    assert not other.ok and other.reverse_slots(corpus, fwd_slots) is None


@pytest.mark.parametrize("first, more, whole", [("1^5 H^3", "H^2", "1^5 H^5"), ("1^3", "1^1 H^2", "1^4 H^2")])
def test_continuing_a_saved_model_is_training_longer(tmp_path, first, more, whole):
    """Continuing a saved model on its training corpus (agreement, variational Bayes and the cognate
    prior on, the defaults) gives bit-identically the t-tables, jump tables and alignments of
    training the longer schedule directly, when the first training kept every t entry (pruning
    after its last Model 1/HMM iteration would floor entries the longer run keeps)."""
    src, tgt = demo_sentences(300)
    config = AlignerConfig(schedule=first, lowercase=True, threads=2, t_cutoff=0)
    assert config.agreement and config.vb_alpha > 0 and config.cognate_lambda > 0
    Aligner(config).train(src, tgt).save(tmp_path / "m.npz")
    loaded = AlignmentModel.load(tmp_path / "m.npz")
    continued = loaded.continue_training(loaded.corpus(src, tgt), replace(loaded.config, schedule=more))
    direct = Aligner(replace(config, schedule=whole)).train(src, tgt)
    for a, b in ((continued.fwd, direct.fwd), (continued.rev, direct.rev)):
        np.testing.assert_array_equal(a.ttable.indptr, b.ttable.indptr)
        np.testing.assert_array_equal(a.ttable.probs, b.ttable.probs)
        np.testing.assert_array_equal(a.jump, b.jump)
        np.testing.assert_array_equal(a.start, b.start)
        assert [x.perplexity for x in a.log] == [x.perplexity for x in b.log[-len(a.log):]]
    assert continued.align(src, tgt) == direct.align(src, tgt)
    assert continued.align(src, tgt, method="fwd") == direct.align(src, tgt, method="fwd")
    independent = loaded.continue_training(loaded.corpus(src, tgt), replace(loaded.config, schedule=more,
                                                                            agreement=False))
    assert not np.array_equal(independent.fwd.ttable.probs, direct.fwd.ttable.probs)   # agreement mattered
