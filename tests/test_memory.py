"""The peak-memory estimate (eegiza.memory) and ``--max-memory``."""
import numpy as np
import pytest

from eegiza import Aligner, AlignerConfig
from eegiza.memory import (M34_WORKING_PER_TOKEN, MB, PRUNED_SHARE, SPLIT_COUNT_ENTRY, MemoryLimitError,
                           _fertility_arrays, estimate_training_memory)
from eegiza.slot_source import SlotSource
from eegiza.ttable import TTable, cooccurring_pairs
from test_cli_robustness import eegiza, files_in, make_corpus
from test_models import random_corpus


def test_the_estimate_counts_the_arrays_training_builds():
    corpus = random_corpus(11, 300, 80, (0, 14), (1, 11))
    fwd, rev = TTable.from_corpus(corpus), TTable.from_corpus(corpus.reversed())
    assert cooccurring_pairs(corpus) == fwd.nnz - (len(corpus.tgt_vocab) - 1) == rev.nnz - (len(corpus.src_vocab) - 1)
    estimate = estimate_training_memory(corpus, AlignerConfig(schedule="1^2 H^2", threads=1))
    assert estimate.phase == "Model 1/HMM by agreement"
    parts = estimate.parts
    # the tables' target ids are offloaded while the joint E-steps run (eegiza.offload); slots compact
    assert parts["t-tables"] == pytest.approx((fwd.probs.nbytes + rev.probs.nbytes) / MB)
    assert parts["slots"] == pytest.approx(SlotSource.compact(corpus, fwd).compact_slots.nbytes / MB)
    with_model_2 = estimate_training_memory(corpus, AlignerConfig(schedule="1^2 2^1 H^2", threads=1)).parts
    assert with_model_2["t-tables"] == pytest.approx((fwd.indices.nbytes + fwd.probs.nbytes + rev.indices.nbytes
                                                      + rev.probs.nbytes) / MB)
    assert parts["counts"] == pytest.approx((fwd.nnz + rev.nnz) * SPLIT_COUNT_ENTRY / MB)   # eegiza.fixed_counts
    assert estimate.peak_mb == pytest.approx(sum(parts.values()) + 240.0)
    bigger = estimate_training_memory(random_corpus(11, 3000, 80, (0, 14), (1, 11)), AlignerConfig(threads=1))
    assert bigger.peak_mb > estimate.peak_mb


def test_a_corpus_that_looks_its_slots_up_counts_the_index_and_no_slots_in_models_3_4():
    corpus = random_corpus(11, 300, 80, (0, 14), (1, 11))
    fwd = TTable.from_corpus(corpus)
    stored = estimate_training_memory(corpus, AlignerConfig(threads=1, max_slot_mb=-1))
    looked_up = estimate_training_memory(corpus, AlignerConfig(threads=1, max_slot_mb=0))
    index = SlotSource.indexed(corpus, fwd)
    # looking up: the index instead of the compact slots, and the tables' target ids stay in memory
    assert looked_up.phases["Model 1/HMM by agreement"] - stored.phases["Model 1/HMM by agreement"] == pytest.approx(
        (index.buckets.nbytes + index.dense.nbytes - SlotSource.compact(corpus, fwd).compact_slots.nbytes
         + fwd.indices.nbytes + TTable.from_corpus(corpus.reversed()).indices.nbytes) / MB, abs=0.05)
    assert looked_up.phases["Models 3/4, one direction"] < stored.phases["Models 3/4, one direction"]
    assert "reverse slots derived from the forward ones" not in looked_up.phases


def test_models_3_4_count_their_tables_alignments_and_measured_rest():
    corpus = random_corpus(11, 300, 80, (0, 14), (1, 11))
    config = AlignerConfig(schedule="1^2 H^2 3^1 4^1", threads=2)
    base_only = estimate_training_memory(corpus, AlignerConfig(schedule="1^2 H^2", threads=2))
    with_fertility = estimate_training_memory(corpus, config)
    assert not any(name.startswith("Models 3/4") for name in base_only.parts)
    # the parts are those of one direction's arrays, as training builds them
    model = Aligner(config).train_corpus(corpus).fwd.fertility
    fwd = _fertility_arrays(corpus, config)
    assert fwd["Models 3/4 d and a tables"] == 8 * (4 * len(model.d_table.probs) + 2 * len(model.a_table.probs))
    assert fwd["Models 3/4 n and Model-4 tables"] == 4 * (model.n_table.nbytes + model.d1.nbytes + model.db.nbytes)
    assert fwd["Models 3/4 alignments"] == 4 * (3 * len(corpus.tgt.ids) + len(corpus.src.ids)) + 32 * len(corpus)
    assert fwd["Models 3/4 working memory"] == pytest.approx(M34_WORKING_PER_TOKEN * len(corpus.tgt.ids))
    # the estimate takes the larger direction's; every worker adds its count rows
    rev = _fertility_arrays(corpus.reversed(), config)
    larger = max(fwd, rev, key=lambda parts: sum(parts.values()))
    tables = [TTable.from_corpus(corpus), TTable.from_corpus(corpus.reversed())]
    nnz, slots = max((t.nnz, SlotSource.compact(c, t).compact_slots.nbytes)
                     for t, c in zip(tables, (corpus, corpus.reversed())))
    # after Model 1/HMM the t-tables are pruned (eegiza.tprune): the larger one's probabilities (its
    # target ids and the other table are offloaded) and its split counts count at PRUNED_SHARE of
    # the full ones'; the logs of t are taken per cell
    named = (PRUNED_SHARE * (max(t.probs.nbytes for t in tables) + SPLIT_COUNT_ENTRY * nnz) + slots
             + corpus.src.ids.nbytes + corpus.tgt.ids.nbytes + corpus.src.offsets.nbytes + corpus.tgt.offsets.nbytes)
    assert with_fertility.phases["Models 3/4, one direction"] == pytest.approx(
        240.0 + (named + sum(larger.values())) / MB)
    unpruned = estimate_training_memory(corpus, AlignerConfig(schedule=config.schedule, threads=2, t_cutoff=0))
    assert unpruned.phases["Models 3/4, one direction"] > with_fertility.phases["Models 3/4, one direction"]
    assert with_fertility.peak_mb == max(with_fertility.phases.values()) >= base_only.peak_mb
    one_worker = _fertility_arrays(corpus, AlignerConfig(schedule=config.schedule, threads=1))
    assert one_worker["Models 3/4 d and a tables"] < fwd["Models 3/4 d and a tables"]


def test_max_memory_refuses_before_training():
    corpus = random_corpus(2, 50, 20, (1, 6), (1, 6))
    with pytest.raises(MemoryLimitError, match=r"--max-memory 10 MB: this run needs about \d+ MB"):
        Aligner(AlignerConfig(schedule="1^1", max_memory=10)).train_corpus(corpus)
    model = Aligner(AlignerConfig(schedule="1^1", max_memory=100_000)).train_corpus(corpus)
    assert np.all(np.isfinite(model.fwd.ttable.probs))


def test_cli_prints_the_estimate_and_max_memory_stops_with_no_output(tmp_path):
    src, tgt, _, _ = make_corpus(tmp_path)
    ok = eegiza("align", src, tgt, "-o", tmp_path / "out" / "a", "--schedule", "1^1 H^1")
    assert ok.returncode == 0 and "estimated peak memory: about" in ok.stderr
    refused = eegiza("align", src, tgt, "-o", tmp_path / "no" / "a", "--schedule", "1^1 H^1", "--max-memory", "50")
    assert refused.returncode == 2
    assert "--max-memory 50 MB: this run needs about" in refused.stderr
    assert files_in(tmp_path / "no") == []
