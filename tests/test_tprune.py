"""Pruning of negligible t entries after Model 1/HMM (eegiza.tprune, ``AlignerConfig.t_cutoff``)."""
import numpy as np
import pytest

from eegiza import Aligner, AlignerConfig, AlignmentModel
from eegiza.embeddings.prior import EmbeddingPrior
from eegiza.train import train_pair
from eegiza.tprune import own_keep, prune_table, remap_slots, slot_map
from eegiza.ttable import TTable, sentence_slots
from eegiza.corpus import corpus_from_sentences
from test_models import random_corpus


def translated_corpus(seed, n_pairs, n_words):
    """Pairs whose target side translates the source word by word (w3 -> v3), shuffled a little:
    after Model 1 and the HMM most co-occurring pairs are below 1e-5 (on so few pairs, none below 1e-7)."""
    rng = np.random.default_rng(seed)
    src, tgt = [], []
    for _ in range(n_pairs):
        words = rng.integers(0, n_words, rng.integers(2, 10))
        order = np.argsort(np.arange(len(words)) + rng.normal(0, 1.0, len(words)))
        src.append(" ".join(f"w{w}" for w in words))
        tgt.append(" ".join(f"v{words[k]}" for k in order))
    return corpus_from_sentences(src, tgt)


def _random_table(seed=3):
    corpus = random_corpus(seed, 120, 40, (1, 9), (1, 9))
    table = TTable.from_corpus(corpus, "float64")
    rng = np.random.default_rng(seed)
    table.probs = rng.choice([1e-9, 5e-8, 2e-7, 0.01, 0.3], size=table.nnz)
    return corpus, table


def test_pruning_keeps_the_entries_at_or_above_the_cutoff_and_the_null_row():
    corpus, table = _random_table()
    before = {(e, int(f)): float(p) for e in range(table.n_src) for f, p in zip(*table.row(e))}
    keep = own_keep(table, 1e-7)
    remap = prune_table(table, keep)
    # reference: the same pairs, dropped one by one in Python
    expected = {(e, f): p for (e, f), p in before.items() if p >= 1e-7 or e == 0}
    after = {(e, int(f)): float(p) for e in range(table.n_src) for f, p in zip(*table.row(e))}
    assert after == expected
    assert len(after) < len(before)
    assert table.indptr[1] - table.indptr[0] == len(corpus.tgt_vocab) - 1   # the NULL row whole
    for e in range(table.n_src):
        assert np.all(np.diff(table.row(e)[0]) > 0)                          # rows still sorted
    # the map sends each kept old slot to its new slot, the others to -1
    assert int((remap >= 0).sum()) == table.nnz
    assert np.array_equal(remap[remap >= 0], np.arange(table.nnz))


def test_remapped_sentence_slots_equal_slots_searched_in_the_pruned_table():
    corpus, table = _random_table(5)
    slots, slot_off = sentence_slots(corpus, table)
    full = table.copy()
    remap = prune_table(table, own_keep(table, 1e-7))
    remap_slots(slots, remap)
    searched, searched_off = sentence_slots(corpus, table)
    assert np.array_equal(slot_off, searched_off)
    assert np.array_equal(slots, searched)
    assert np.any(slots < 0)   # removed pairs: looked up as the floor
    assert np.array_equal(slot_map(full, table), remap)


def test_a_prior_follows_the_pruned_table():
    corpus, table = _random_table(7)
    rng = np.random.default_rng(1)
    p_emb = np.where(rng.random(table.nnz) < 0.3, rng.random(table.nnz), 0.0)
    prior = EmbeddingPrior(p_emb, np.ones(table.n_src, bool))
    remap = prune_table(table, own_keep(table, 1e-7))
    pruned = prior.restricted(remap, table.nnz)
    assert pruned.n_slots == table.nnz
    assert np.array_equal(pruned.p_emb, p_emb[remap >= 0])
    assert np.array_equal(prior.p_emb, p_emb)   # the prior itself unchanged (calibration reuses it)


def test_training_prunes_each_direction_once_and_the_cutoff_0_keeps_every_pair():
    corpus = translated_corpus(11, 300, 60)
    full = TTable.from_corpus(corpus)
    for agreement in (True, False):
        kept = train_pair(corpus, AlignerConfig(schedule="1^3 H^2 3^1 4^1", threads=2, agreement=agreement,
                                                t_cutoff=1e-5))
        whole = train_pair(corpus, AlignerConfig(schedule="1^3 H^2 3^1 4^1", threads=2, agreement=agreement,
                                                 t_cutoff=0))
        for model, unpruned in zip(kept, whole):
            assert model.t_pruned_below == 1e-5 and unpruned.t_pruned_below == 0
            assert model.ttable.nnz < unpruned.ttable.nnz
            assert unpruned.ttable.nnz in (full.nnz, TTable.from_corpus(corpus.reversed()).nnz)
    # the forward pairs kept are pairs of the full table
    fwd = kept[0].ttable
    assert np.all(full.find_slots(fwd.row_ids(), fwd.indices) >= 0)


def test_pruned_models_align_the_same_with_1_and_2_threads_and_after_saving(tmp_path):
    corpus = translated_corpus(13, 200, 50)
    links = []
    for threads in (1, 2):
        model = Aligner(AlignerConfig(schedule="1^2 H^2 3^1 4^1", threads=threads, t_cutoff=1e-5)).train_corpus(corpus)
        assert model.fwd.ttable.nnz < TTable.from_corpus(corpus).nnz
        links.append(model.align_corpus(corpus).links("grow-diag-final-and"))
    assert links[0] == links[1]
    model.save(tmp_path / "m.npz")
    loaded = AlignmentModel.load(tmp_path / "m.npz")
    assert loaded.fwd.t_pruned_below == pytest.approx(1e-5)
    assert loaded.align_corpus(corpus).links("grow-diag-final-and") == links[1]


def test_a_run_stopped_after_pruning_resumes_to_the_uninterrupted_model(monkeypatch):
    """Stopped when the reverse direction starts Models 3/4 (both tables pruned, the forward
    direction done): the states carry the pruned tables, and resuming them gives the same model."""
    from eegiza import train as train_module
    from eegiza.distributed.errors import SchedulerLostError
    corpus = translated_corpus(17, 300, 60)
    config = AlignerConfig(schedule="1^3 H^2 3^1 4^1", threads=2, t_cutoff=1e-5, final_alignment_pass=False)
    whole = train_pair(corpus, config)
    real = train_module.train_fertility
    calls = []

    def stop_at_the_reverse_direction(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise SchedulerLostError("stopped for the test")
        return real(*args, **kwargs)

    monkeypatch.setattr(train_module, "train_fertility", stop_at_the_reverse_direction)
    with pytest.raises(SchedulerLostError) as stopped:
        train_pair(corpus, config)
    monkeypatch.setattr(train_module, "train_fertility", real)
    fwd_state, rev_state = stopped.value.state
    assert (fwd_state.done, rev_state.done) == (7, 5)
    assert rev_state.model.t_pruned_below == 1e-5
    assert rev_state.model.ttable.nnz < TTable.from_corpus(corpus.reversed()).nnz
    resumed = train_pair(corpus, config, resume=(fwd_state, rev_state))
    for a, b in zip(whole, resumed):
        assert np.array_equal(a.ttable.indices, b.ttable.indices)
        assert np.array_equal(a.ttable.probs, b.ttable.probs)
        assert all(np.array_equal(u, v) for u, v in zip(a.fertility.output, b.fertility.output))


def test_the_default_cutoff_prunes_only_training_by_agreement():
    # measured (benchmarks/README.md): by agreement 1e-7 keeps the AER; trained independently
    # (GIZA++-like) it cost ro-en 0.56, so there the default keeps every entry
    assert AlignerConfig().t_cutoff is None and AlignerConfig().effective_t_cutoff == 1e-7
    assert AlignerConfig(agreement=False).effective_t_cutoff == 0
    assert AlignerConfig(agreement=False, t_cutoff=1e-6).effective_t_cutoff == 1e-6
    assert AlignerConfig(t_cutoff=0).effective_t_cutoff == 0
    corpus = translated_corpus(19, 200, 50)
    fwd, rev = train_pair(corpus, AlignerConfig(schedule="1^2 H^1", threads=1, agreement=False))
    assert fwd.t_pruned_below == 0 and fwd.ttable.nnz == TTable.from_corpus(corpus).nnz


def test_cli_refuses_a_cutoff_that_is_no_probability(tmp_path):
    from test_cli_robustness import eegiza, files_in, make_corpus
    src, tgt, _, _ = make_corpus(tmp_path)
    run = eegiza("align", src, tgt, "-o", tmp_path / "out" / "a", "--t-cutoff", "1.5")
    assert run.returncode == 2 and "--t-cutoff 1.5: give a probability below 1" in run.stderr
    assert files_in(tmp_path / "out") == []
