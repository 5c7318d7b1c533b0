"""The embedding prior: p_emb against a direct computation of the formula, the EM interpolation
exactly, the top-k cut, the model option, and errors."""
import math

import numpy as np
import pytest

from eegiza.config import AlignerConfig
from eegiza.corpus import corpus_from_sentences
from eegiza.embeddings.mapping import MappingError
from eegiza.embeddings.prior import EmbeddingPrior, make_prior_factory
from eegiza.train import train_direction
from eegiza.ttable import TTable

SRC = ["the house", "the cat", "a house", "cat"]
TGT = ["la maison", "le chat", "une maison", "chat"]


def _vectors(words, rng, dim=4):
    return {w: rng.normal(size=dim).astype(np.float32) for w in words}


def _cos(a, b):
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def _reference(corpus, ttable, xs, zs, top_k, temperature, csls_k):
    """p_emb(f|e) by the formula, word by word."""
    src_emb = list(xs.values())
    out = {}
    for e in range(1, len(corpus.src_vocab)):
        we = corpus.src_vocab.words[e]
        if we not in xs:
            continue
        fs, _ = ttable.row(e)
        cands = []
        for f in fs:
            wf = corpus.tgt_vocab.words[f]
            if wf not in zs:
                continue
            sims = sorted((_cos(zs[wf], x) for x in src_emb), reverse=True)[:csls_k]
            cands.append((2 * _cos(xs[we], zs[wf]) - sum(sims) / len(sims), int(f)))
        cands.sort(reverse=True)
        cands = cands[:top_k]
        z = sum(math.exp(s / temperature) for s, _ in cands)
        for s, f in cands:
            out[(e, f)] = math.exp(s / temperature) / z
    return out


@pytest.mark.parametrize("top_k", [1, 2, 100])
def test_prior_probabilities_match_formula(top_k):
    rng = np.random.default_rng(1)
    corpus = corpus_from_sentences(SRC, TGT)
    ttable = TTable.from_corpus(corpus)
    xs = _vectors(["the", "house", "cat", "extra"], rng)        # "a" has no vector
    zs = _vectors(["la", "maison", "chat", "une", "le"], rng)
    ref = _reference(corpus, ttable, xs, zs, top_k, 0.1, 2)
    prior = make_prior_factory(corpus.src_vocab.words, corpus.tgt_vocab.words, xs, zs, lam=5.0,
                               temperature=0.1, top_k=top_k, csls_k=2)(ttable)
    rows = ttable.row_ids()
    for s in range(ttable.nnz):
        expected = ref.get((int(rows[s]), int(ttable.indices[s])), 0.0)
        assert prior.p_emb[s] == pytest.approx(expected, rel=1e-5, abs=1e-9)
    a = corpus.src_vocab.index["a"]
    assert not prior.has_prior[0] and not prior.has_prior[a]
    assert prior.has_prior[corpus.src_vocab.index["house"]]


def test_apply_is_the_interpolation_formula():
    corpus = corpus_from_sentences(SRC, TGT)
    ttable = TTable.from_corpus(corpus)
    rng = np.random.default_rng(2)
    p_emb = rng.random(ttable.nnz)
    has = np.array([False, True, False, True, True])[:ttable.n_src]
    counts = rng.random(ttable.nnz) * 3
    src_counts = np.array([0.0, 2.0, 1.0, 2.0, 1.0])[:ttable.n_src]
    lam = 7.0
    ttable.set_from_counts(counts)
    before = ttable.probs.copy()
    prior = EmbeddingPrior(p_emb, has, lam=lam, src_counts=src_counts)
    prior.apply(ttable, counts)
    rows = ttable.row_ids()
    for s in range(ttable.nnz):
        e = rows[s]
        if has[e]:
            c = src_counts[e]
            assert ttable.probs[s] == pytest.approx((c * before[s] + lam * p_emb[s]) / (c + lam), rel=1e-12)
        else:
            assert ttable.probs[s] == before[s]
    # c(e) = row sum of the expected counts when no corpus counts are given
    ttable.set_from_counts(counts)
    EmbeddingPrior(p_emb, has, lam=lam).apply(ttable, counts)
    for s in range(ttable.nnz):
        e = rows[s]
        if has[e]:
            c = counts[ttable.indptr[e]:ttable.indptr[e + 1]].sum()
            assert ttable.probs[s] == pytest.approx((c * before[s] + lam * p_emb[s]) / (c + lam), rel=1e-12)


def test_models_option_and_zero_lambda():
    corpus = corpus_from_sentences(SRC, TGT)
    ttable = TTable.from_corpus(corpus)
    p = np.full(ttable.nnz, 0.5)
    has = np.ones(ttable.n_src, bool)
    before = ttable.probs.copy()
    prior = EmbeddingPrior(p, has, lam=10.0, src_counts=np.ones(ttable.n_src), models="1")
    prior.current_model = "H"
    prior.apply(ttable, np.ones(ttable.nnz))
    assert np.array_equal(ttable.probs, before)
    prior.current_model = "1"
    prior.apply(ttable, np.ones(ttable.nnz))
    assert not np.array_equal(ttable.probs, before)
    zero = EmbeddingPrior(p, has, lam=0.0)
    after = ttable.probs.copy()
    zero.apply(ttable, np.ones(ttable.nnz))
    assert np.array_equal(ttable.probs, after)


def test_prior_in_training_pulls_towards_embeddings():
    """With a huge lambda, t(f|e) of a word with a vector is (almost) p_emb."""
    corpus = corpus_from_sentences(SRC * 3, TGT * 3)
    d = 3
    eye = np.eye(d, dtype=np.float32)
    xs = {"house": eye[0], "cat": eye[1], "the": eye[2]}
    zs = {"maison": eye[0], "chat": eye[1], "la": eye[2]}
    factory = make_prior_factory(corpus.src_vocab.words, corpus.tgt_vocab.words, xs, zs, lam=1e6,
                                 src_counts=corpus.src_vocab.counts)
    model = train_direction(corpus, AlignerConfig(schedule="1^2 H^2", threads=1), prior_factory=factory)
    assert model.ttable.prob(corpus.src_vocab.index["house"], corpus.tgt_vocab.index["maison"]) > 0.99
    assert model.ttable.prob(corpus.src_vocab.index["cat"], corpus.tgt_vocab.index["chat"]) > 0.99


def test_errors():
    corpus = corpus_from_sentences(SRC, TGT)
    ttable = TTable.from_corpus(corpus)
    rng = np.random.default_rng(0)
    with pytest.raises(MappingError, match="dimension"):
        make_prior_factory(corpus.src_vocab.words, corpus.tgt_vocab.words, _vectors(["house"], rng, 3),
                           _vectors(["maison"], rng, 4))
    with pytest.raises(MappingError, match="overlap"):
        make_prior_factory(corpus.src_vocab.words, corpus.tgt_vocab.words, _vectors(["zzz"], rng),
                           _vectors(["maison"], rng))
    prior = EmbeddingPrior(np.zeros(3), np.zeros(2, bool))
    with pytest.raises(ValueError, match="slots"):
        prior.apply(ttable, np.zeros(ttable.nnz))
