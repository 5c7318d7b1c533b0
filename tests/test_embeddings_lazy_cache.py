"""Issue 16: the benchmark protocol's interleaved monolingual texts, lazy loading of vector files
(only the corpus vocabulary kept), and the cache of trained vectors (a second run skips training)."""
import sys
from pathlib import Path

import numpy as np
import pytest

from eegiza.embeddings.vectors import WordVectors, cached_train_vectors, load_vectors, save_word2vec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from protocol import interleave_halves, mono_halves  # noqa: E402


def test_interleave_halves_takes_even_source_and_odd_target_lines():
    src = [f"s{k} word" for k in range(7)]
    tgt = [f"t{k} mot" for k in range(7)]
    mono_src, mono_tgt = interleave_halves(src, tgt)
    assert mono_src == [src[k] for k in (0, 2, 4, 6)]
    assert mono_tgt == [tgt[k] for k in (1, 3, 5)]
    # no sentence has its translation on the other side
    assert not {s.split()[0][1:] for s in mono_src} & {t.split()[0][1:] for t in mono_tgt}


def test_mono_halves_reads_the_training_text_interleaved(tmp_path):
    import lzma
    folder = tmp_path / "xx-yy"
    folder.mkdir()
    for lang, prefix in (("xx", "Src"), ("yy", "Tgt")):
        with lzma.open(folder / f"train.{lang}.xz", "wt", encoding="utf-8") as handle:
            handle.write("".join(f"{prefix} {k}\n" for k in range(9)))
    src, tgt = mono_halves("xx-yy", 6, tmp_path)
    assert src == ["src 0", "src 2", "src 4"]          # lower-cased, even 0-based lines
    assert tgt == ["tgt 1", "tgt 3", "tgt 5"]          # odd lines


@pytest.fixture
def vector_file(tmp_path):
    rng = np.random.default_rng(3)
    words = [f"w{k}" for k in range(500)] + ["été", "naïve"]
    vec = WordVectors(words, rng.normal(size=(len(words), 6)).astype(np.float32))
    return vec, tmp_path


@pytest.mark.parametrize("binary", [False, True])
def test_lazy_loading_keeps_only_wanted_words(vector_file, binary):
    vec, tmp_path = vector_file
    path = tmp_path / ("v.bin" if binary else "v.vec")
    save_word2vec(path, vec, binary=binary)
    corpus_words = {"w7", "w400", "été", "absent-word"}
    lazy = load_vectors(path, keep=corpus_words)
    present = corpus_words & set(vec.words)
    assert len(lazy) == len(present) < len(vec)
    assert set(lazy.words) == present
    for word in present:
        assert np.allclose(lazy.matrix[lazy.index[word]], vec.matrix[vec.index[word]], atol=1e-5)
    top = load_vectors(path, keep=corpus_words, keep_top=10)
    assert top.words[:10] == vec.words[:10] and len(top) == 10 + len(present - set(vec.words[:10]))


def random_text(path, seed: int, prefix: str, n_words: int):
    """200 lines of 8 random words ``prefix0`` .. ``prefix{n_words-1}``, written to ``path``."""
    rng = np.random.default_rng(seed)
    words = [f"{prefix}{k}" for k in range(n_words)]
    path.write_text("\n".join(" ".join(rng.choice(words, 8)) for _ in range(200)) + "\n")
    return path


def test_lazy_loading_of_a_gensim_fasttext_model_builds_unseen_words(tmp_path):
    pytest.importorskip("gensim")
    from eegiza.embeddings.vectors import train_vectors
    text = random_text(tmp_path / "mono.txt", 0, "word", 40)
    model = tmp_path / "ft.model"
    full = train_vectors(text, kind="fasttext", dim=8, epochs=1, min_count=1, threads=1, save_path=model)
    lazy = load_vectors(model, keep={"word3", "word17x"})
    assert sorted(lazy.words) == ["word17x", "word3"] and lazy.oov is None
    assert np.allclose(lazy.matrix[lazy.index["word3"]], full.matrix[full.index["word3"]])


def test_trained_vectors_are_cached_and_reused(tmp_path):
    pytest.importorskip("gensim")
    text = random_text(tmp_path / "mono.txt", 1, "v", 30)
    options = dict(kind="fasttext", dim=8, epochs=2, min_count=1, threads=1)
    cache = tmp_path / "cache"
    first_msgs, second_msgs = [], []
    first, cached1 = cached_train_vectors(text, cache, first_msgs.append, **options)
    second, cached2 = cached_train_vectors(text, cache, second_msgs.append, **options)
    assert not cached1 and cached2
    assert any(m.startswith("embedding epoch") for m in first_msgs)
    assert not any(m.startswith("embedding epoch") for m in second_msgs)    # no training the 2nd time
    assert any("reusing cached vectors" in m for m in second_msgs)
    assert second.words == first.words and np.allclose(second.matrix, first.matrix)
    assert second.oov is not None                                           # subwords kept
    # other options or another text: trained again
    _, cached3 = cached_train_vectors(text, cache, None, **dict(options, dim=6))
    text.write_text(text.read_text() + "v1 v2 v3\n")
    _, cached4 = cached_train_vectors(text, cache, None, **options)
    assert not cached3 and not cached4
    assert len(list(cache.iterdir())) == 3


def test_window_and_sample_reach_training_and_key_the_cache(tmp_path):
    pytest.importorskip("gensim")
    from types import SimpleNamespace
    from eegiza.embeddings import _get_vectors, _training_extras
    assert _training_extras(SimpleNamespace()) == {}
    assert _training_extras(SimpleNamespace(embed_window="2", embed_sample="1e-3")) == {"window": 2, "sample": 1e-3}
    text = random_text(tmp_path / "mono.txt", 2, "u", 30)
    cache = tmp_path / "cache"
    base = dict(src_mono=str(text), vectors_cache=str(cache), embed_kind="word2vec", embed_dim=8,
                embed_epochs=2, embed_min_count=1, threads=1)
    # the defaults (no window/sample set) use the cache entry of a plain training with the same options
    plain, _ = cached_train_vectors(text, cache, None, kind="word2vec", dim=8, epochs=2, min_count=1,
                                    threads=1, lowercase=False)
    plain_entry = cached_train_vectors.last_entry
    msgs = []
    default = _get_vectors(SimpleNamespace(**base), "src", msgs.append)
    assert cached_train_vectors.last_entry == plain_entry and any("reusing cached" in m for m in msgs)
    assert np.array_equal(default.matrix, plain.matrix)
    # another window: a new entry, trained with it (different vectors)
    msgs = []
    narrow = _get_vectors(SimpleNamespace(**base, embed_window=1), "src", msgs.append)
    assert cached_train_vectors.last_entry != plain_entry
    assert any(m.startswith("embedding epoch") for m in msgs)
    assert narrow.words == plain.words and not np.array_equal(narrow.matrix, plain.matrix)
    assert len(list(cache.iterdir())) == 2
