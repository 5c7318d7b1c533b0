"""eegiza.longlines: which pairs are long, emptying them without shifting lines, and the Model 1
fallback (which must equal Model 1's own Viterbi alignment when the model is Model 1)."""
import random

import numpy as np
import pytest

from eegiza import Aligner, AlignerConfig
from eegiza.corpus import CorpusError, corpus_from_sentences
from eegiza.longlines import blank_pairs, check_long_pairs, fallback_alignment, line_list, long_pairs


def sentences(n=150, seed=4):
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(40)]
    src, tgt = [], []
    for _ in range(n):
        sent = [rng.choice(words) for _ in range(rng.randint(2, 9))]
        src.append(" ".join(sent))
        tgt.append(" ".join("x" + w for w in reversed(sent)))
    return src, tgt


def test_long_pairs_by_length_and_ratio():
    corpus = corpus_from_sentences(["a b c", "a " * 12, "a", "", "a b"], ["x y z", "x", "x " * 10, "x", "x y"])
    assert long_pairs(corpus, 10, 9).tolist() == [1, 2]       # 12 tokens; ratio 10 (empty sides are not long)
    assert long_pairs(corpus, 0, 9).tolist() == [1, 2]        # by ratio alone (12:1, 1:10)
    assert long_pairs(corpus, 11, 0).tolist() == [1]
    assert long_pairs(corpus, 0, 0).tolist() == []
    with pytest.raises(CorpusError, match=r"s.txt:2: sentence pair has 12 tokens"):
        check_long_pairs(corpus, long_pairs(corpus, 10, 9), "s.txt", "t.txt", 10, 9)
    assert line_list(list(range(15)), limit=3) == "1, 2, 3 and 12 more"


def test_blank_pairs_keeps_every_line_and_the_vocabularies():
    src, tgt = sentences(10)
    corpus = corpus_from_sentences(src, tgt)
    blanked = blank_pairs(corpus, np.array([2, 7]))
    assert len(blanked) == len(corpus) and blanked.src_vocab is corpus.src_vocab
    assert blanked.src.lengths[2] == blanked.tgt.lengths[7] == 0
    for k in (0, 3, 9):
        assert blanked.src.sentence(k).tolist() == corpus.src.sentence(k).tolist()
        assert blanked.tgt.sentence(k).tolist() == corpus.tgt.sentence(k).tolist()


def test_fallback_equals_model1_viterbi():
    src, tgt = sentences()
    config = AlignerConfig(schedule="1^3", agreement=False, word_classes=0, cognate_lambda=0, vb_alpha=0)
    corpus = corpus_from_sentences(src, tgt)
    model = Aligner(config).train_corpus(corpus)
    picked = np.array([0, 5, 17, 99])
    ours = fallback_alignment(model, corpus, picked, ["grow-diag-final-and"])
    reference = model.align_corpus(corpus, ["grow-diag-final-and"])
    for which in ("fwd", "rev", "grow-diag-final-and"):
        assert ours[which] == [reference.links(which)[k] for k in picked], which
    assert any(ours["fwd"])                                      # not trivially empty
