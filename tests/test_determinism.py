"""Issue 13's checks on the compact, threaded training: the same result for 1 and 2 threads with
every model of the schedule (joint Model 1 and HMM by agreement, Model 2, Models 3 and 4), and
t-tables stored in float32 aligning as well as float64 ones on real text (the ro-en sample)."""
from __future__ import annotations

import lzma

import numba
import numpy as np
import pytest

from conftest import SHARED
from eegiza.api import Aligner
from eegiza.config import AlignerConfig
from eegiza.corpus import corpus_from_sentences
from eegiza.evaluate import aer, read_gold
from eegiza.train import align_direction, train_pair
from test_models import random_corpus

RO_EN = SHARED / "data" / "ro-en"
N_TRAIN = 3000


def _train_and_align(corpus, config):
    fwd, rev = train_pair(corpus, config, None, None)
    out = []
    for model, c in ((fwd, corpus), (rev, corpus.reversed())):
        links, scores = align_direction(model, c)
        out += [model.ttable.probs.copy(), links, scores]
        if model.jump is not None:
            out.append(model.jump.copy())
        if model.fertility is not None:
            out += [model.fertility.n_table.copy(), model.fertility.d1.copy(), model.fertility.db.copy()]
    return out


@pytest.mark.parametrize("schedule", ["1^2 H^2 3^2 4^2", "1^2 2^2 3^1 4^1"])
def test_every_model_is_identical_with_one_and_two_threads(schedule):
    corpus = random_corpus(3, 300, 40, (1, 12), (1, 12))
    results = [_train_and_align(corpus, AlignerConfig(schedule=schedule, threads=threads)) for threads in (1, 2)]
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    assert len(results[0]) == len(results[1])
    for one, two in zip(*results):
        assert np.array_equal(one, two)


def _ro_en_sample():
    def read(path, n):
        with lzma.open(path, "rt", encoding="utf-8") as fh:
            return [next(fh).rstrip("\n").lower() for _ in range(n)]
    src = read(RO_EN / "train.ro.xz", N_TRAIN) + (RO_EN / "test.src").read_text(encoding="utf-8").lower().splitlines()
    tgt = read(RO_EN / "train.en.xz", N_TRAIN) + (RO_EN / "test.tgt").read_text(encoding="utf-8").lower().splitlines()
    return src, tgt


def test_float32_tables_align_as_well_as_float64_on_the_ro_en_sample():
    src, tgt = _ro_en_sample()
    gold = read_gold(RO_EN / "test.gold")
    scores = {}
    for precision in ("float32", "float64"):
        corpus = corpus_from_sentences(src, tgt)
        model = Aligner(AlignerConfig(table_precision=precision)).train_corpus(corpus)
        assert model.fwd.ttable.probs.dtype == np.dtype(precision)
        assert model.rev.ttable.probs.dtype == np.dtype(precision)
        links = model.align_corpus(corpus).links("grow-diag-final-and")
        scores[precision] = 100 * aer(gold, links[-len(gold):]).aer
    assert abs(scores["float32"] - scores["float64"]) <= 0.1, scores
    assert scores["float32"] < 50   # a real alignment, not two equally broken ones


def test_auto_precision_is_float32_but_float64_with_an_embedding_prior():
    # low-resource runs with an embedding prior keep float64 (its seed dictionary is float64 in any case)
    assert AlignerConfig().storage_precision == "float32"
    assert AlignerConfig(src_mono="a.txt", tgt_mono="b.txt").storage_precision == "float64"
    assert AlignerConfig(src_vectors="a.vec", tgt_vectors="b.vec").storage_precision == "float64"
    assert AlignerConfig(src_mono="a.txt", tgt_mono="b.txt", table_precision="float32").storage_precision == "float32"
    assert AlignerConfig(table_precision="float64").storage_precision == "float64"
