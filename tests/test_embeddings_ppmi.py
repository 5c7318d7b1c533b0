"""Count-based PPMI-SVD vectors (:mod:`eegiza.embeddings.ppmi`) against a pure-Python reference, and
vectors of several kinds side by side (composite ``embed_kind``, cached view by view)."""
import math
from collections import defaultdict

import numpy as np
import pytest

from eegiza.embeddings.ppmi import cooccurrence, ppmi_matrix, ppmi_svd_vectors, vocabulary
from eegiza.embeddings.vectors import (WordVectors, cached_train_vectors, concatenate_views, train_vectors,
                                       view_kinds)


def _sentences(seed=0, n=400):
    """Two topics: words a0..a9 only ever share sentences with each other, b0..b9 likewise; each
    sentence has a few 'the' tokens and, rarely, a word 'rare'."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        topic = "a" if k % 2 == 0 else "b"
        words = [f"{topic}{i}" for i in rng.integers(0, 10, 7)] + ["the"] * 2
        out.append([words[i] for i in rng.permutation(len(words))] + (["rare"] if k == 5 else []))
    return out


def _reference_counts(sentences, words, window):
    index = {w: i for i, w in enumerate(words)}
    counts = defaultdict(float)
    for sentence in sentences:
        for i, a in enumerate(sentence):
            for j in range(max(0, i - window), min(len(sentence), i + window + 1)):
                if j != i and a in index and sentence[j] in index:
                    counts[index[a], index[sentence[j]]] += 1.0 / abs(i - j)
    return counts


def test_cooccurrence_and_ppmi_match_a_python_reference():
    sentences = _sentences(n=60)
    words = vocabulary(sentences, min_count=2)
    assert "rare" not in words and words[0] == "the"            # most frequent first, rare words out
    counts = cooccurrence(sentences, words, window=3)
    reference = _reference_counts(sentences, words, 3)
    dense = counts.toarray()
    assert set(zip(*np.nonzero(dense))) == set(reference)
    for (a, b), value in reference.items():
        assert dense[a, b] == pytest.approx(value)
    # dropped words keep their positions: "x rare y" puts x and y 2 apart
    two = cooccurrence([["x", "rare", "y"], ["x", "y"]], ["x", "y"], window=1).toarray()
    assert two[0, 1] == pytest.approx(1.0)                     # only the second sentence's neighbours
    ppmi = ppmi_matrix(counts, 0.75).toarray()
    row, col = dense.sum(1), dense.sum(0) ** 0.75
    for (a, b), value in reference.items():
        pmi = math.log(value * col.sum() / (row[a] * col[b]))
        assert ppmi[a, b] == pytest.approx(max(pmi, 0.0))
    assert (ppmi >= 0).all()


def test_ppmi_vectors_put_words_of_one_topic_together_and_are_deterministic():
    sentences = _sentences()
    words, matrix = ppmi_svd_vectors(sentences, dim=8, min_count=2)
    again_words, again = ppmi_svd_vectors(sentences, dim=8, min_count=2)
    assert words == again_words and np.array_equal(matrix, again)
    biggest = np.argmax(np.abs(matrix), axis=0)                 # each column's sign is fixed
    assert (matrix[biggest, np.arange(matrix.shape[1])] > 0).all()
    unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    index = {w: i for i, w in enumerate(words)}
    a = [index[f"a{i}"] for i in range(10)]
    b = [index[f"b{i}"] for i in range(10)]
    within = (unit[a] @ unit[a].T)[~np.eye(10, dtype=bool)].mean()
    across = (unit[a] @ unit[b].T).mean()
    assert within > across + 0.5


def test_a_small_vocabulary_gets_zero_padded_columns():
    words, matrix = ppmi_svd_vectors([["x", "y", "z", "w"]] * 3, dim=10, min_count=1)
    assert matrix.shape == (4, 10) and not matrix[:, 2:].any() and matrix[:, :2].any()


def test_view_kinds_are_checked():
    assert view_kinds("word2vec+ppmi+fasttext") == ["word2vec", "ppmi", "fasttext"]
    with pytest.raises(ValueError, match="glove"):
        view_kinds("word2vec+glove")
    with pytest.raises(ValueError, match="twice"):
        view_kinds("ppmi+ppmi")


def test_concatenated_views_keep_common_words_with_unit_parts():
    one = WordVectors(["x", "y", "z"], np.array([[3.0, 4.0], [1.0, 0.0], [0.0, 2.0]]))
    two = WordVectors(["z", "x"], np.array([[0.0, 0.0, 5.0], [2.0, 0.0, 0.0]]))
    both = concatenate_views([one, two])
    assert both.words == ["x", "z"] and both.dim == 5
    assert np.allclose(both.matrix, [[0.6, 0.8, 1.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0, 1.0]])


def test_composite_kind_trains_caches_and_reuses_each_view(tmp_path):
    text = tmp_path / "mono.txt"
    text.write_text("\n".join(" ".join(s) for s in _sentences(n=200)) + "\n")
    options = dict(kind="word2vec+ppmi", dim=6, epochs=2, min_count=2, threads=1)
    messages = []
    first, cached1 = cached_train_vectors(text, tmp_path / "cache", messages.append, **options)
    assert not cached1 and first.dim == 12 and "rare" not in first.words
    assert np.allclose(np.linalg.norm(first.matrix[:, :6], axis=1), 1, atol=1e-5)
    assert np.allclose(np.linalg.norm(first.matrix[:, 6:], axis=1), 1, atol=1e-5)
    assert len(list((tmp_path / "cache").iterdir())) == 2                      # one entry per view
    again, cached2 = cached_train_vectors(text, tmp_path / "cache", messages.append, **options)
    assert cached2 and again.words == first.words and np.array_equal(again.matrix, first.matrix)
    alone, cached3 = cached_train_vectors(text, tmp_path / "cache", None, **dict(options, kind="ppmi"))
    assert cached3 and np.allclose(alone.matrix[0] / np.linalg.norm(alone.matrix[0]),
                                   first.matrix[first.words.index(alone.words[0]), 6:], atol=1e-5)
    direct = train_vectors(text, **options)                      # uncached: the same vectors (1 thread)
    assert direct.words == first.words
    assert np.allclose(direct.matrix[:, 6:], first.matrix[:, 6:], atol=1e-5)   # PPMI part: deterministic


def test_training_with_monolingual_text_uses_the_three_views_by_default(tmp_path):
    """--src-mono/--tgt-mono with the default embed_kind: word2vec, PPMI and fastText vectors of
    embed_dim each, side by side, six cache entries (three views a side), reused by a second run."""
    from eegiza import Aligner, AlignerConfig
    from eegiza.corpus import corpus_from_sentences
    rng = np.random.default_rng(3)
    src_lines, tgt_lines = [], []
    for _ in range(120):
        ks = rng.integers(0, 30, 6)
        src_lines.append(" ".join(f"s{k}" for k in ks))
        tgt_lines.append(" ".join(f"t{k}" for k in rng.permutation(ks)))
    for side, prefix in (("src", "s"), ("tgt", "t")):
        (tmp_path / f"{side}.txt").write_text(
            "\n".join(" ".join(f"{prefix}{k}" for k in rng.integers(0, 30, 8)) for _ in range(300)) + "\n")
    config = dict(schedule="1^2 H^2", threads=1, src_mono=str(tmp_path / "src.txt"), tgt_mono=str(tmp_path / "tgt.txt"),
                  embed_dim=6, embed_epochs=2, vectors_cache=str(tmp_path / "cache"))
    assert AlignerConfig().embed_kind == "word2vec+ppmi+fasttext"
    corpus = corpus_from_sentences(src_lines, tgt_lines)
    messages = []
    model = Aligner(AlignerConfig(**config)).train_corpus(corpus, messages.append)
    assert model.prior_report["vectors"]["dim"] == 18
    assert len(list((tmp_path / "cache").iterdir())) == 6
    assert sum("trained in" in m for m in messages) == 6                  # one-time training, printed per view
    messages = []
    again = Aligner(AlignerConfig(**config)).train_corpus(corpus, messages.append)
    assert sum("reusing cached vectors" in m for m in messages) == 6
    assert again.prior_report["quality"] == model.prior_report["quality"]


def test_vectors_train_with_one_worker_whatever_threads_is(monkeypatch, tmp_path):
    """Several gensim workers give other vectors on every run: trained vectors (and so the prior and
    the alignment) must not depend on --threads."""
    from types import SimpleNamespace
    import eegiza.embeddings as embeddings
    seen = []

    def fake(path, cache_dir, progress, **options):
        seen.append(options["threads"])
        return WordVectors(["x"], np.ones((1, 2))), False

    monkeypatch.setattr(embeddings, "cached_train_vectors", fake)
    embeddings._get_vectors(SimpleNamespace(src_mono=str(tmp_path / "m.txt"), threads=4), "src", lambda m: None)
    assert seen == [1]
