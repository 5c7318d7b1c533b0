"""The Python API: train, align new sentences, probabilities, save and load."""
import lzma
from dataclasses import replace

import numpy as np
import pytest

from eegiza import Aligner, AlignerConfig, AlignmentModel, aer, read_gold
from eegiza.cli.demo import demo_files
from eegiza.corpus import corpus_from_sentences


def demo_sentences(n_train):
    files = demo_files()
    src = lzma.decompress(files["train.en.xz"].read_bytes()).decode().splitlines()[:n_train]
    tgt = lzma.decompress(files["train.fr.xz"].read_bytes()).decode().splitlines()[:n_train]
    return src + files["test.en"].read_text().splitlines(), tgt + files["test.fr"].read_text().splitlines()


@pytest.fixture(scope="module")
def trained():
    src, tgt = demo_sentences(3000)
    model = Aligner(AlignerConfig(schedule="1^4 H^3", lowercase=True)).train(src, tgt)
    return model, src, tgt


def test_alignment_quality_on_gold(trained):
    model, src, tgt = trained
    gold = read_gold(demo_files()["test.gold"])
    links = model.align(src[-len(gold):], tgt[-len(gold):])
    scores = aer(gold, links)
    # 3,000 Hansards lines, HMM, grow-diag-final-and: far better than chance (AER ~ 1)
    assert scores.aer < 0.30 and scores.precision > 0.7


def test_translation_probabilities(trained):
    model, _, _ = trained
    assert model.translation_probability("house", "chambre") > 0.1
    best, p = model.translations("house", top=1)[0]
    assert best == "chambre" and p == pytest.approx(model.translation_probability("house", "chambre"))
    assert model.translation_probability("no-such-word", "chambre") == pytest.approx(1e-7)
    rev = model.translation_probability("house", "chambre", reverse=True)
    assert 0 < rev <= 1 and rev != model.translation_probability("house", "chambre")


def test_align_new_sentences_with_unknown_words(trained):
    model, _, _ = trained
    links = model.align(["the house zzzunseen .", ""], ["la chambre qqqinconnu .", "bonjour"])
    assert len(links) == 2 and links[1] == []
    assert (0, 0) in links[0] and (1, 1) in links[0] and (3, 3) in links[0]
    assert all(0 <= i < 4 and 0 <= j < 4 for i, j in links[0])
    fwd = model.align(["the house ."], ["la chambre ."], method="fwd")[0]
    assert len({j for _, j in fwd}) == len(fwd)  # fwd: each target word at most once


def test_save_and_load_round_trip(trained, tmp_path):
    model, src, tgt = trained
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = AlignmentModel.load(path)
    assert loaded.config == model.config
    assert loaded.src_vocab.words == model.src_vocab.words
    np.testing.assert_array_equal(loaded.fwd.ttable.probs, model.fwd.ttable.probs)
    np.testing.assert_array_equal(loaded.rev.jump, model.rev.jump)
    sample_src, sample_tgt = src[-50:], tgt[-50:]
    assert loaded.align(sample_src, sample_tgt) == model.align(sample_src, sample_tgt)
    assert [x.perplexity for x in loaded.fwd.log] == [x.perplexity for x in model.fwd.log]


def test_load_rejects_other_files(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, meta=np.frombuffer(b'{"format": "x"}', np.uint8))
    with pytest.raises(ValueError, match="not an eegiza model"):
        AlignmentModel.load(path)


def test_word_classes_condition_the_hmm_jumps(tmp_path):
    src, tgt = demo_sentences(300)
    model = Aligner(AlignerConfig(schedule="1^2 H^2", lowercase=True, word_classes=4)).train(src, tgt)
    assert model.fwd.jump.shape[0] == 5 and model.rev.jump.shape[0] == 5  # class 0 (NULL) + 4 classes
    assert set(np.unique(model.fwd.src_class[1:])) <= {1, 2, 3, 4}
    # classes read from a word<TAB>class file instead: two classes by first letter
    path = tmp_path / "src.classes"
    vocab = sorted(model.src_vocab.index)
    path.write_text("".join(f"{w}\t{'A' if w < 'm' else 'B'}\n" for w in vocab))
    model = Aligner(AlignerConfig(schedule="1^1 H^1", lowercase=True, src_classes=str(path))).train(src, tgt)
    cls = model.fwd.src_class
    assert cls[model.src_vocab.index["house"]] == cls[model.src_vocab.index["a"]] != cls[model.src_vocab.index["the"]]


def test_training_corpus_alignment_comes_from_the_last_iteration_unless_realigned():
    """align_corpus on the training corpus reuses the alignment the last Model-3/4 iteration found
    (no second pass) when final_alignment_pass is off; realign=True (or final_alignment_pass, the
    default) aligns it again under the final tables.
    Both are alignments of the same model family, so they mostly agree; a copy of the corpus (not
    the object trained on) is always aligned again."""
    src, tgt = demo_sentences(300)
    aligner = Aligner(AlignerConfig(lowercase=True, schedule="1^2 H^2 3^1 4^2", word_classes=5,
                                    final_alignment_pass=False))
    corpus = corpus_from_sentences(src, tgt, lowercase=True)
    model = aligner.train_corpus(corpus)
    reused = model.align_corpus(corpus)
    assert np.array_equal(reused.fwd_scores, model.fwd.fertility.output[1])
    realigned = model.align_corpus(corpus, realign=True)
    copy = corpus_from_sentences(src, tgt, lowercase=True, src_vocab=corpus.src_vocab, tgt_vocab=corpus.tgt_vocab)
    assert model.align_corpus(copy).links("fwd") == realigned.links("fwd")
    model.config = replace(model.config, final_alignment_pass=True)
    assert model.align_corpus(corpus).links("fwd") == realigned.links("fwd")
    a, b = reused.links("grow-diag-final-and"), realigned.links("grow-diag-final-and")
    same = sum(len(set(x) & set(y)) for x, y in zip(a, b))
    total = sum(len(set(x) | set(y)) for x, y in zip(a, b))
    assert 0.8 < same / total < 1.0
