"""The joint (pseudo-bilingual) embedding space of :mod:`eegiza.embeddings.joint`: the seed keeps
held-out words out, substitutions follow the dictionary and are deterministic for a seed, and one
space trained on two synthetic "languages" finds held-out translations."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from eegiza.embeddings import _embedding_priors
from eegiza.embeddings.joint import (SRC_TAG, TGT_TAG, PseudoBilingualText, identical_words, mixed_pair,
                                     seed_word_pairs, split_joint, train_joint_vectors, without_words)
from eegiza.embeddings.mapping import normalize

SRC_WORDS = ["NULL", "haus", "katze", "hund", "baum", "7"]
TGT_WORDS = ["NULL", "house", "cat", "dog", "tree", "7"]


def test_seed_pairs_drop_every_word_of_the_held_out_pairs():
    fit = np.array([[1, 1], [2, 3], [4, 4]])         # haus-house, katze-dog (wrong), baum-tree
    held = np.array([[3, 3]])                        # hund-dog held out: katze-dog touches "dog"
    pairs = seed_word_pairs(SRC_WORDS, TGT_WORDS, fit, held, identical=["7", "hund"])
    assert pairs == [("7", "7"), ("baum", "tree"), ("haus", "house")]
    held_src = {SRC_WORDS[e] for e in held[:, 0]}
    held_tgt = {TGT_WORDS[f] for f in held[:, 1]}
    assert not any(s in held_src or t in held_tgt for s, t in pairs)


def test_gate_bitext_loses_the_held_out_words():
    bitext = [(["haus", "hund", "7"], ["house", "dog", "7"]), (["hund"], ["cat"])]
    held = np.array([[3, 3]])                         # hund-dog
    assert without_words(bitext, SRC_WORDS, TGT_WORDS, held) == [(["haus", "7"], ["house", "7"]), ([], ["cat"])]
    assert without_words(bitext, SRC_WORDS, TGT_WORDS, None) == bitext


def _reference_ok(original, tag, out, translations):
    """Pure-Python check of one substituted sentence: each token is the tagged original word or,
    for a seed word, one of its translations (tagged with the other side)."""
    other = TGT_TAG if tag == SRC_TAG else SRC_TAG
    for word, token in zip(original, out):
        if token != tag + word and token not in {other + t for t in translations.get(word, ())}:
            return False
    return len(original) == len(out)


def test_substitution_follows_the_dictionary_and_is_deterministic():
    rng = np.random.default_rng(5)
    src = [list(rng.choice(["haus", "katze", "hund", "baum", "der"], 8)) for _ in range(200)]
    tgt = [list(rng.choice(["house", "cat", "dog", "tree", "the"], 7)) for _ in range(150)]
    pairs = seed_word_pairs(SRC_WORDS, TGT_WORDS, np.array([[1, 1], [2, 2], [4, 4]]), np.array([[3, 3]]))
    fwd, rev = {}, {}
    for s, t in pairs:
        fwd.setdefault(s, []).append(t)
        rev.setdefault(t, []).append(s)
    stream = PseudoBilingualText(src, tgt, pairs, prob=0.5, seed=11)
    first = stream.sentences(3)
    assert first == PseudoBilingualText(src, tgt, pairs, prob=0.5, seed=11).sentences(3)   # same seed, pass
    assert first != stream.sentences(4)                                                   # redrawn per pass
    assert first != PseudoBilingualText(src, tgt, pairs, prob=0.5, seed=12).sentences(3)
    assert len(first) == len(src) + len(tgt)
    out_src = [s for s in first if len(s) == 8]
    out_tgt = [s for s in first if len(s) == 7]
    assert all(_reference_ok(o, SRC_TAG, s, fwd) for o, s in zip(src, out_src))
    assert all(_reference_ok(o, TGT_TAG, s, rev) for o, s in zip(tgt, out_tgt))
    tokens = [t for s in first for t in s]
    # held-out words are never replaced, nor produced as a replacement
    assert tokens.count(SRC_TAG + "hund") == sum(s.count("hund") for s in src)
    assert tokens.count(TGT_TAG + "dog") == sum(s.count("dog") for s in tgt)
    seeded = sum(w in fwd for s in src for w in s)
    swapped = sum(t.startswith(TGT_TAG) for s in out_src for t in s)
    assert 0.4 < swapped / seeded < 0.6                         # probability 0.5
    none = PseudoBilingualText(src, tgt, pairs, prob=0.0, seed=11).sentences(1)
    assert none[0] == [SRC_TAG + w for w in src[0]]
    every = PseudoBilingualText(src, tgt, pairs, prob=1.0, seed=11).sentences(1)
    assert all(not t.startswith(SRC_TAG) or t[2:] not in fwd for t in every[0])
    with pytest.raises(ValueError, match="probability"):
        PseudoBilingualText(src, tgt, pairs, prob=1.5)


def test_mixed_pair_and_bitext_sentences_in_the_stream():
    assert mixed_pair(["a", "b"], ["x", "y", "z"]) == [TGT_TAG + "x", SRC_TAG + "a", TGT_TAG + "y",
                                                     SRC_TAG + "b", TGT_TAG + "z"]
    stream = PseudoBilingualText([["a"]] * 4, [["x"]] * 4, [], bitext=[(["a"], ["x"])] * 2)
    sentences = stream.sentences(0)
    assert len(sentences) == 10 and sentences.count([SRC_TAG + "a", TGT_TAG + "x"]) == 2
    assert identical_words([["7", "a", "7"]], [["7", "7", "b", "a"]], min_count=2) == ["7"]
    src, tgt = split_joint([SRC_TAG + "a", TGT_TAG + "a", SRC_TAG + "b"], np.eye(3))
    assert src.words == ["a", "b"] and tgt.words == ["a"] and np.array_equal(tgt.matrix, [[0, 1, 0]])


def _two_languages(n_sentences: int, seed: int):
    """Sentences of a random bigram language over 30 words, and of the "same" language with every
    word renamed (independent sentences): a perfect shared structure."""
    rng = np.random.default_rng(seed)
    words = [f"w{k}" for k in range(30)]
    nxt = rng.integers(0, 30, (30, 3))
    def sentences(prefix):
        out = []
        for _ in range(n_sentences):
            k = int(rng.integers(30))
            sent = []
            for _ in range(10):
                sent.append(prefix + words[k])
                k = int(nxt[k, rng.integers(3)])
            out.append(sent)
        return out
    return sentences("s"), sentences("t")


def test_joint_space_finds_held_out_translations_deterministically(tmp_path):
    src, tgt = _two_languages(1500, 3)
    pairs = [(f"sw{k}", f"tw{k}") for k in range(0, 30, 2)]            # even words seeded, odd held out
    kwargs = dict(dim=20, epochs=5, window=2, min_count=1, sample=0.0, threads=1, seed=4)
    s1, t1, cached = train_joint_vectors(src, tgt, pairs, **kwargs, cache_dir=tmp_path)
    assert not cached
    s2, t2, cached = train_joint_vectors(src, tgt, pairs, **kwargs, cache_dir=tmp_path)
    assert cached and s1.words == s2.words and np.array_equal(s1.matrix, s2.matrix)
    s3, t3, _ = train_joint_vectors(src, tgt, pairs, **kwargs)                   # retrained: same bits
    assert np.array_equal(s1.matrix, s3.matrix) and np.array_equal(t1.matrix, t3.matrix)
    x, z = normalize(s1.matrix)[0], normalize(t1.matrix)[0]
    best = (x @ z.T).argmax(axis=1)
    held = [k for k in range(1, 30, 2) if f"sw{k}" in s1.index]
    hits = sum(t1.words[best[s1.index[f"sw{k}"]]] == f"tw{k}" for k in held)
    assert hits / len(held) > 0.5, f"{hits} of {len(held)} held-out words found"
    _, unseeded, _ = train_joint_vectors(src, tgt, [], **kwargs)       # no seed: nothing shared
    z0 = normalize(unseeded.matrix)[0]
    s0 = normalize(train_joint_vectors(src, tgt, [], **kwargs)[0].matrix)[0]
    hits0 = sum(unseeded.words[(s0 @ z0.T)[k].argmax()] == f"tw{k}" for k in range(30))
    assert hits0 < hits


def test_joint_space_needs_monolingual_text_and_a_known_space():
    from eegiza.corpus import corpus_from_sentences
    corpus = corpus_from_sentences(["a b", "b c"], ["x y", "y z"])
    config = SimpleNamespace(embed_space="joint", src_vectors="s.vec", tgt_vectors="t.vec", threads=1)
    with pytest.raises(ValueError, match="--src-mono and --tgt-mono"):
        _embedding_priors(corpus, config, 1.0, {"seconds": {}}, print)
    with pytest.raises(ValueError, match="unknown embed_space"):
        _embedding_priors(corpus, SimpleNamespace(embed_space="shared"), 1.0, {"seconds": {}}, print)
