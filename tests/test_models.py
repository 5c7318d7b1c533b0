"""Model 1 and HMM kernels against the pure-Python references in reference_models.py."""
import math

import numba
import numpy as np
import pytest

import reference_models as ref
from eegiza.config import AlignerConfig
from eegiza.corpus import corpus_from_sentences
from eegiza.models import hmm, ibm1
from eegiza.slot_source import SlotSource
from eegiza.train import align_direction, train_direction
from eegiza.ttable import TTable, reduce_counts, sentence_slots

TOY = [("das haus ist klein", "the house is small"),
       ("das haus", "the house"),
       ("das buch ist klein", "the book is small"),
       ("ein buch", "a book"),
       ("klein ist das haus", "small is the house")]


def toy_corpus():
    return corpus_from_sentences([s for s, _ in TOY], [t for _, t in TOY])


def pairs_of(corpus):
    return [(list(corpus.src.sentence(k)), list(corpus.tgt.sentence(k))) for k in range(len(corpus))]


def table_dict(tt: TTable):
    rows = tt.row_ids()
    return {(int(e), int(f)): float(p) for e, f, p in zip(rows, tt.indices, tt.probs)}


def test_cooccurrence_table_lists_exactly_the_cooccurring_pairs():
    corpus = toy_corpus()
    tt = TTable.from_corpus(corpus)
    expected = {(e, f) for src, tgt in pairs_of(corpus) for e in src for f in tgt}
    expected |= {(0, f) for f in range(1, len(corpus.tgt_vocab))}
    got = set(zip(tt.row_ids().tolist(), tt.indices.tolist()))
    assert got == expected
    for e in range(tt.n_src):  # rows sorted, as the binary search needs
        ids, _ = tt.row(e)
        assert list(ids) == sorted(ids)


def test_find_slots_locates_every_pair_and_only_those():
    corpus = toy_corpus()
    tt = TTable.from_corpus(corpus)
    slot_of = {(int(e), int(f)): k for k, (e, f) in enumerate(zip(tt.row_ids(), tt.indices))}
    pairs = [(e, f) for e in range(-1, tt.n_src + 2) for f in range(-1, len(corpus.tgt_vocab) + 2)]
    got = tt.find_slots([e for e, _ in pairs], [f for _, f in pairs])
    assert got.tolist() == [slot_of.get(pair, -1) for pair in pairs]
    assert (got >= 0).sum() == tt.nnz                      # every slot found once, nothing else


def model1_kernel_iteration(corpus, tt):
    slots, slot_off = sentence_slots(corpus, tt)
    chunks, loglik = ibm1.estep(corpus.src.ids, corpus.src.offsets, corpus.tgt.offsets,
                                SlotSource.stored(slots, slot_off).arrays(), tt.probs, 1e-7, 2)
    tt.set_from_counts(reduce_counts(chunks))
    return float(loglik.sum())


@pytest.mark.parametrize("precision,tol", [("float64", 1e-9), ("float32", 1e-6)])
def test_model1_iterations_match_reference(precision, tol):
    corpus = toy_corpus()
    tt = TTable.from_corpus(corpus, precision)   # float32 storage: each stored t rounded to ~6e-8
    t_ref = table_dict(tt)
    for _ in range(3):
        loglik = model1_kernel_iteration(corpus, tt)
        t_ref, loglik_ref = ref.model1_iteration(pairs_of(corpus), t_ref)
        assert loglik == pytest.approx(loglik_ref, rel=tol)
        got = table_dict(tt)
        for key, value in t_ref.items():
            assert got[key] == pytest.approx(value, abs=10 * tol)


@pytest.mark.parametrize("look_up", [False, True])
def test_model1_viterbi_is_the_best_source_word(look_up):
    corpus = toy_corpus()
    tt = TTable.from_corpus(corpus)
    for _ in range(4):
        model1_kernel_iteration(corpus, tt)
    links, scores = ibm1.viterbi(corpus.src.ids, corpus.src.offsets, corpus.tgt.offsets,
                                 SlotSource.of(corpus, tt, look_up).arrays(), tt.probs, 1e-7)
    t = table_dict(tt)
    for k, (src, tgt) in enumerate(pairs_of(corpus)):
        es = [0] + src
        expected = [max(range(len(es)), key=lambda i: (ref.t_prob(t, es[i], f), -i)) for f in tgt]
        assert list(links[corpus.tgt.offsets[k]:corpus.tgt.offsets[k + 1]]) == expected
        assert scores[k] == pytest.approx(sum(math.log(ref.t_prob(t, es[a], f) / len(es))
                                              for a, f in zip(expected, tgt)))
    # "haus" is learnt as the translation of "house"
    house = corpus.tgt_vocab.index["house"]
    haus = corpus.src_vocab.index["haus"]
    row_ids, row_p = tt.row(haus)
    assert row_ids[np.argmax(row_p)] == house


def hmm_setup(corpus, n_classes=2):
    tt = TTable.from_corpus(corpus)
    for _ in range(2):
        model1_kernel_iteration(corpus, tt)
    rng = np.random.default_rng(3)
    src_class = rng.integers(0, n_classes, len(corpus.src_vocab)).astype(np.int32)
    jump = rng.uniform(0.5, 2.0, (n_classes, hmm.N_JUMP_BUCKETS))
    start = rng.uniform(0.5, 2.0, hmm.MAX_JUMP + 1)
    return tt, src_class, jump, start


@pytest.mark.parametrize("p_null,smooth,look_up", [(0.2, 0.2, False), (0.05, 0.0, False), (0.2, 0.2, True)])
def test_hmm_estep_matches_enumeration(p_null, smooth, look_up):
    corpus = toy_corpus()
    tt, src_class, jump, start = hmm_setup(corpus)
    t_before = table_dict(tt)
    chunks, jcounts, scounts, loglik = hmm.estep(
        corpus.src.ids, corpus.src.offsets, corpus.tgt.offsets, SlotSource.of(corpus, tt, look_up).arrays(), tt.probs,
        1e-7, src_class, jump, start, p_null, smooth, 2)
    tt.set_from_counts(reduce_counts(chunks))
    t_ref, j_ref, s_ref, loglik_ref = ref.hmm_iteration(pairs_of(corpus), t_before, src_class, jump.tolist(),
                                                        start.tolist(), p_null, smooth)
    assert loglik.sum() == pytest.approx(loglik_ref, rel=1e-9)
    got = table_dict(tt)
    for key, value in t_ref.items():
        assert got[key] == pytest.approx(value, abs=1e-7)
    np.testing.assert_allclose(jcounts, np.array(j_ref), atol=1e-7)
    np.testing.assert_allclose(scounts, np.array(s_ref), atol=1e-7)


@pytest.mark.parametrize("look_up", [False, True])
def test_hmm_viterbi_matches_enumeration(look_up):
    corpus = toy_corpus()
    tt, src_class, jump, start = hmm_setup(corpus)
    t = table_dict(tt)
    links, scores = hmm.viterbi(corpus.src.ids, corpus.src.offsets, corpus.tgt.offsets,
                                SlotSource.of(corpus, tt, look_up).arrays(), tt.probs, 1e-7, src_class, jump, start, 0.2, 0.2)
    for k, (src, tgt) in enumerate(pairs_of(corpus)):
        expected, best = ref.hmm_viterbi(src, tgt, t, src_class, jump.tolist(), start.tolist(), 0.2, 0.2)
        assert list(links[corpus.tgt.offsets[k]:corpus.tgt.offsets[k + 1]]) == expected
        assert scores[k] == pytest.approx(best, rel=1e-9)


def test_hmm_posteriors_sum_to_one_and_handle_long_sentences():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(30)]
    src = [" ".join(rng.choice(words, 150)) for _ in range(3)]
    tgt = [" ".join(rng.choice(words, 160)) for _ in range(3)]
    corpus = corpus_from_sentences(src, tgt)
    model = train_direction(corpus, AlignerConfig(schedule="1^2 H^2"))
    assert all(math.isfinite(x.loglik) for x in model.log)
    tt = model.ttable
    slots, slot_off = sentence_slots(corpus, tt)
    for k in range(3):
        gamma, loglik = hmm.sentence_posteriors(
            corpus.src.ids[corpus.src.offsets[k]:corpus.src.offsets[k + 1]], 160, slots[slot_off[k]:slot_off[k + 1]],
            tt.probs, 1e-7, model.src_class, model.jump, model.start, 0.2, 0.2,
            np.zeros(model.jump.shape, np.int64), np.zeros(len(model.start), np.int64))
        assert gamma.shape == (160, 151) and np.all(gamma >= 0) and math.isfinite(loglik)
        assert np.allclose(gamma.sum(axis=1), 1.0)
    links, scores = align_direction(model, corpus)
    assert np.all(np.isfinite(scores)) and np.all(links <= 150)


def test_empty_sides_align_to_nothing():
    corpus = corpus_from_sentences(["a b", "", "c"], ["x y", "z", ""])
    model = train_direction(corpus, AlignerConfig(schedule="1^2 H^2"))
    links, scores = align_direction(model, corpus)
    assert links[corpus.tgt.offsets[1]:corpus.tgt.offsets[2]].tolist() == [0]  # "z" from NULL
    assert np.all(np.isfinite(scores))


def random_corpus(seed, n_pairs, n_words, src_lengths, tgt_lengths):
    """``n_pairs`` random pairs over the words w0 .. w{n_words-1}; each side's length is drawn
    from the half-open range ``src_lengths`` / ``tgt_lengths``."""
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(n_words)]
    src = [" ".join(rng.choice(vocab, rng.integers(*src_lengths))) for _ in range(n_pairs)]
    tgt = [" ".join(rng.choice(vocab, rng.integers(*tgt_lengths))) for _ in range(n_pairs)]
    return corpus_from_sentences(src, tgt)


def test_training_is_identical_with_one_and_two_threads():
    corpus = random_corpus(1, 400, 60, (1, 12), (1, 12))
    results = []
    for threads in (1, 2):
        model = train_direction(corpus, AlignerConfig(schedule="1^3 H^3", threads=threads))
        links, scores = align_direction(model, corpus)
        results.append((model.ttable.probs.copy(), model.jump.copy(), links, scores))
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    for a, b in zip(*results):
        assert np.array_equal(a, b)


def test_training_can_start_from_an_earlier_model():
    corpus = toy_corpus()
    first = train_direction(corpus, AlignerConfig(schedule="1^3 H^2", vb_alpha=0))
    # one more HMM iteration from the first model == the 3rd HMM iteration of a longer run
    more = train_direction(corpus, AlignerConfig(schedule="H^1", vb_alpha=0), initial=first)
    longer = train_direction(corpus, AlignerConfig(schedule="1^3 H^3", vb_alpha=0))
    np.testing.assert_allclose(more.ttable.probs, longer.ttable.probs, rtol=1e-6, atol=1e-9)
    # a model of a smaller corpus: pairs it never saw start at the floor, rows renormalised
    small = corpus.subset(0, 2)
    part = train_direction(small, AlignerConfig(schedule="1^2", vb_alpha=0))
    tt = TTable.from_corpus(corpus)
    tt.take_probs_from(part.ttable)
    for e in range(1, len(small.src_vocab)):
        ids, probs = tt.row(e)
        assert probs.sum() == pytest.approx(1.0)
