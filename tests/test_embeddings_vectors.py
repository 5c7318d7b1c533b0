"""Word vectors: gensim training (Word2Vec, FastText with subword vectors for unseen words),
word2vec text/binary and gensim files, round trips and malformed files."""
import numpy as np
import pytest

from eegiza.embeddings.vectors import VectorFileError, WordVectors, load_vectors, save_word2vec, train_vectors


@pytest.fixture(scope="module")
def text(tmp_path_factory):
    rng = np.random.default_rng(0)
    words = [f"w{k}" for k in range(30)]
    lines = [" ".join(rng.choice(words, 8)) for _ in range(300)]
    path = tmp_path_factory.mktemp("mono") / "mono.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("kind", ["word2vec", "fasttext"])
def test_train_and_progress(text, tmp_path, kind):
    messages = []
    model_path = tmp_path / "m.model"
    vec = train_vectors(text, kind=kind, dim=8, epochs=2, min_count=1, threads=1, progress=messages.append,
                        save_path=model_path)
    assert vec.dim == 8 and len(vec) == 30 and set(vec.words) == {f"w{k}" for k in range(30)}
    assert sum(m.startswith("embedding epoch") for m in messages) == 2
    mask, _ = vec.lookup(["w1", "w99x"])
    assert mask[0] and mask[1] == (kind == "fasttext")       # subwords give unseen words a vector
    again = load_vectors(model_path)
    assert again.words == vec.words and np.allclose(again.matrix, vec.matrix)


@pytest.mark.parametrize("binary", [False, True])
def test_word2vec_round_trip(tmp_path, binary):
    rng = np.random.default_rng(1)
    vec = WordVectors(["a", "été", "x"], rng.normal(size=(3, 5)).astype(np.float32))
    path = tmp_path / "v.bin"
    save_word2vec(path, vec, binary=binary)
    back = load_vectors(path)
    assert back.words == vec.words
    assert np.allclose(back.matrix, vec.matrix, atol=1e-5)
    assert load_vectors(path, limit=2).words == ["a", "été"]


def test_gensim_written_binary_is_read(tmp_path):
    from gensim.models import KeyedVectors
    kv = KeyedVectors(4)
    kv.add_vectors(["b", "c"], np.arange(8, dtype=np.float32).reshape(2, 4))
    kv.save_word2vec_format(str(tmp_path / "g.bin"), binary=True)
    kv.save_word2vec_format(str(tmp_path / "g.txt"), binary=False)
    for name in ("g.bin", "g.txt"):
        back = load_vectors(tmp_path / name)
        assert back.words == ["b", "c"] and np.array_equal(back.matrix, kv.vectors)


def test_malformed_files(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("2 3\na 1 2 3\nb 1 2\n")
    with pytest.raises(VectorFileError, match=r"bad.txt:3: expected a word and 3 numbers"):
        load_vectors(bad)
    count = tmp_path / "count.txt"
    count.write_text("3 2\na 1 2\n")
    with pytest.raises(VectorFileError, match="header says 3 words"):
        load_vectors(count)
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"hello world, this is not a vector file\n")
    with pytest.raises(VectorFileError, match="neither a word2vec file"):
        load_vectors(junk)
    trunc = tmp_path / "trunc.bin"
    trunc.write_bytes(b"2 4\na " + np.zeros(4, "<f4").tobytes() + b"\nb " + b"\x00\x01")
    with pytest.raises(VectorFileError, match="truncated"):
        load_vectors(trunc)


def test_embed_command(text, tmp_path):
    import argparse
    from eegiza.cli.embed import add_embed_arguments, run_embed
    parser = argparse.ArgumentParser()
    add_embed_arguments(parser)
    out = tmp_path / "v.txt"
    args = parser.parse_args([str(text), "-o", str(out), "--kind", "word2vec", "--dim", "6", "--epochs", "1",
                              "--min-count", "1", "--threads", "1", "--quiet"])
    assert run_embed(args) == 0
    vec = load_vectors(out)
    assert len(vec) == 30 and vec.dim == 6


def test_embed_command_composite_kind(text, tmp_path):
    import argparse
    from eegiza.cli.embed import add_embed_arguments, run_embed
    parser = argparse.ArgumentParser()
    add_embed_arguments(parser)
    out = tmp_path / "v.bin"
    base = [str(text), "-o", str(out), "--dim", "4", "--epochs", "1", "--min-count", "1", "--threads", "1", "--quiet"]
    assert run_embed(parser.parse_args(base + ["--kind", "word2vec+ppmi", "--binary"])) == 0
    vec = load_vectors(out)
    assert len(vec) == 30 and vec.dim == 8
    with pytest.raises(ValueError, match="--gensim"):
        run_embed(parser.parse_args(base + ["--kind", "word2vec+ppmi", "--gensim"]))
    with pytest.raises(SystemExit):
        parser.parse_args(base + ["--kind", "word2vec+glove"])


@pytest.mark.parametrize("kind", ["word2vec", "fasttext"])
def test_one_worker_vectors_are_the_same_in_every_process(text, tmp_path, kind):
    """Vectors trained with one worker (what --src-mono trains) are a function of the text and the
    options: the same in two processes with different hash randomisation."""
    import os
    import subprocess
    import sys
    script = ("import sys, numpy as np; from eegiza.embeddings.vectors import train_vectors; "
              f"v = train_vectors(sys.argv[1], kind='{kind}', dim=6, epochs=2, min_count=1, threads=1); "
              "np.save(sys.argv[2], v.matrix)")
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-c", script, str(text), str(tmp_path / f"m{seed}.npy")], check=True, env=env)
    assert np.array_equal(np.load(tmp_path / "m1.npy"), np.load(tmp_path / "m2.npy"))
