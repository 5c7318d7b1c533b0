"""The cognate prior: the similarity kernel against a pure-Python reference, its distribution, the
prior chain, and its effect on gold AER."""
import math

import numpy as np
import pytest

from eegiza import Aligner, AlignerConfig, aer, read_gold
from eegiza.cli.demo import demo_files
from eegiza.cognates import cognate_prior_factory
from eegiza.corpus import corpus_from_sentences
from eegiza.embeddings.prior import EmbeddingPrior, PriorChain, chain_factories
from eegiza.ttable import TTable

from test_api import demo_sentences

SRC = ["the parliament adopted the resolution", "the minister of finance", "parliament and 2024 , 12",
       "a resolution of the minister"]
TGT = ["le parlement a adopté la résolution", "le ministre des finances", "parlement et 2024 , 12",
       "une résolution du ministre"]


def _dice(a: str, b: str) -> float:
    grams = [{w[i:i + 2] for i in range(len(w) - 1)} for w in (f"<{a}>", f"<{b}>")]
    return 2 * len(grams[0] & grams[1]) / (len(grams[0]) + len(grams[1]))


def _reference(ttable, src_words, tgt_words, min_similarity, temperature):
    out = np.zeros(ttable.nnz)
    for e in range(1, ttable.n_src):
        word = src_words[e]
        if len(word) < 3 or not any(ch.isalpha() for ch in word):
            continue
        lo, hi = ttable.indptr[e], ttable.indptr[e + 1]
        sims = {s: _dice(word, tgt_words[ttable.indices[s]]) for s in range(lo, hi) if ttable.indices[s] != 0}
        kept = {s: v for s, v in sims.items() if v >= min_similarity}
        if not kept:
            continue
        best = max(kept.values())
        weights = {s: math.exp((v - best) / temperature) for s, v in kept.items()}
        total = sum(weights.values())
        for s, w in weights.items():
            out[s] = w / total
    return out


def test_dice_of_a_hand_made_pair():
    # <abc> and <abd>: bigrams {<a, ab, bc, c>} and {<a, ab, bd, d>}, two shared of eight
    assert _dice("abc", "abd") == 0.5
    corpus = corpus_from_sentences(["abc"], ["abd xyz"])
    ttable = TTable.from_corpus(corpus)
    prior = cognate_prior_factory(corpus.src_vocab.words, corpus.tgt_vocab.words, min_similarity=0.5)(ttable)
    e = corpus.src_vocab.index["abc"]
    slots = {corpus.tgt_vocab.words[f]: prior.p_emb[s]
             for s, f in zip(range(ttable.indptr[e], ttable.indptr[e + 1]), ttable.row(e)[0])}
    assert slots == {"abd": 1.0, "xyz": 0.0}                       # a similarity of exactly 0.5 is kept


@pytest.mark.parametrize("min_similarity, temperature", [(0.5, 0.1), (0.3, 0.5), (0.8, 0.05)])
def test_kernel_matches_the_reference(min_similarity, temperature):
    corpus = corpus_from_sentences(SRC, TGT)
    for side in (corpus, corpus.reversed()):
        ttable = TTable.from_corpus(side)
        src, tgt = side.src_vocab.words, side.tgt_vocab.words
        prior = cognate_prior_factory(src, tgt, lam=2.0, min_similarity=min_similarity,
                                      temperature=temperature)(ttable)
        expected = _reference(ttable, src, tgt, min_similarity, temperature)
        np.testing.assert_allclose(prior.p_emb, expected, rtol=1e-12, atol=1e-15)
        rows = ttable.row_ids()
        sums = np.bincount(rows, weights=prior.p_emb, minlength=ttable.n_src)
        np.testing.assert_allclose(sums[prior.has_prior], 1.0)
        assert np.all(sums[~prior.has_prior] == 0) and not prior.has_prior[0]
        assert prior.lam == 2.0
    # the expected cognates are found, short words and numbers are not judged by spelling
    ttable = TTable.from_corpus(corpus)
    prior = cognate_prior_factory(corpus.src_vocab.words, corpus.tgt_vocab.words)(ttable)
    for e_word, f_word in (("parliament", "parlement"), ("minister", "ministre"), ("resolution", "résolution")):
        e, f = corpus.src_vocab.index[e_word], corpus.tgt_vocab.index[f_word]
        lo, hi = ttable.indptr[e], ttable.indptr[e + 1]
        best = ttable.indices[lo + int(np.argmax(prior.p_emb[lo:hi]))]
        assert best == f
    for word in ("of", "2024", "12"):
        assert not prior.has_prior[corpus.src_vocab.index[word]]


def test_prior_chain_applies_its_priors_in_order():
    corpus = corpus_from_sentences(SRC, TGT)
    ttable = TTable.from_corpus(corpus)
    rng = np.random.default_rng(0)
    counts = rng.random(ttable.nnz)
    src_counts = corpus.src_vocab.counts.astype(np.float64)

    def fresh():
        priors = []
        for lam, seed in ((1.0, 1), (30.0, 2)):
            p = np.random.default_rng(seed).random(ttable.nnz)
            priors.append(EmbeddingPrior(p, np.ones(ttable.n_src, bool), lam, src_counts, models="1H"))
        return priors

    first, second = fresh()
    expected = TTable.from_corpus(corpus)
    expected.set_from_counts(counts)
    first.apply(expected, counts)
    second.apply(expected, counts)
    chained = TTable.from_corpus(corpus)
    chained.set_from_counts(counts)
    chain = PriorChain(fresh())
    chain.current_model = "H"
    assert chain.active() and all(p.current_model == "H" for p in chain.priors)
    chain.apply(chained, counts)
    np.testing.assert_allclose(chained.probs, expected.probs, rtol=1e-14)
    chain.current_model = "3"                      # not one of the prior's models: nothing mixed in
    assert not chain.active()
    single = lambda tt: first                      # noqa: E731
    assert chain_factories(None, single) is single and chain_factories(None, None) is None
    assert isinstance(chain_factories(single, single)(ttable), PriorChain)


def test_cognate_prior_lowers_aer_on_gold():
    src, tgt = demo_sentences(1000)
    gold = read_gold(demo_files()["test.gold"])
    scores = {}
    for lam in (0.0, 1.0):
        model = Aligner(AlignerConfig(schedule="1^4 H^3", lowercase=True, cognate_lambda=lam, word_classes=0))
        links = model.train(src, tgt).align(src[-len(gold):], tgt[-len(gold):])
        scores[lam] = aer(gold, links).aer
    # 1,000 Hansards lines, gdfa: 0.194 AER without the prior, 0.166 with it (measured)
    assert scores[1.0] < scores[0.0] - 0.01, scores
