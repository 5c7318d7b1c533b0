"""Sentence slots looked up through a hashed index as the kernels go (eegiza.slot_source,
``AlignerConfig.max_slot_mb``): the same slots as the binary search, so the same training and
alignments, bit for bit."""
import numpy as np
import pytest

from eegiza import Aligner, AlignerConfig
from eegiza.corpus import corpus_from_sentences
from eegiza import slot_source
from eegiza.slot_source import SlotSource, build_index, index_bytes, indexed_slot, looks_up, stored_bytes
from eegiza.tprune import own_keep, prune_table
from eegiza.ttable import TTable, sentence_slots
from test_models import random_corpus
from test_tprune import translated_corpus


def _pruned_table(seed):
    """A table of a random corpus with about half its entries removed, so that lookups also miss."""
    corpus = random_corpus(seed, 150, 60, (1, 12), (1, 12))
    table = TTable.from_corpus(corpus, "float64")
    rng = np.random.default_rng(seed)
    table.probs = rng.choice([1e-9, 0.2], size=table.nnz)
    prune_table(table, own_keep(table, 1e-7))
    return corpus, table


def test_the_index_finds_every_entry_and_nothing_else():
    corpus, table = _pruned_table(3)
    buckets = build_index(table)
    assert np.sum(buckets >= 0) == table.nnz
    source = SlotSource.indexed(corpus, table)
    assert index_bytes(table.nnz, table.n_src, len(corpus.tgt_vocab)) == len(buckets) * 4 + source.dense.nbytes
    present = {(e, int(f)): s for e in range(table.n_src)
               for s, f in zip(range(table.indptr[e], table.indptr[e + 1]), table.row(e)[0])}
    for (e, f), s in present.items():
        assert indexed_slot(table.indptr, table.indices, buckets, e, f) == s
    n_tgt = len(corpus.tgt_vocab)
    misses = [(e, f) for e in range(table.n_src + 3) for f in range(n_tgt + 2) if (e, f) not in present]
    assert len(misses) > 1000   # absent pairs, rows past the table's last (new words) and new target ids
    assert all(indexed_slot(table.indptr, table.indices, buckets, e, f) == -1 for e, f in misses)


@pytest.mark.parametrize("seed,dense_rows", [(5, 1), (6, 1), (5, 8), (6, 1000)])
def test_looked_up_slots_equal_the_searched_ones(seed, dense_rows):
    """Through the index alone (only NULL's row dense), partly dense, every row dense."""
    corpus, table = _pruned_table(seed)
    slots, slot_off = sentence_slots(corpus, table)
    source = SlotSource.indexed(corpus, table, dense_bytes=4 * dense_rows * len(corpus.tgt_vocab))
    assert len(source.dense) == min(dense_rows, table.n_src) and source.dense_of[0] == 0
    looked_up, looked_up_off = source.materialised(corpus)
    assert np.array_equal(slot_off, looked_up_off)
    assert np.array_equal(slots, looked_up)
    assert np.any(slots < 0) and np.any(slots >= 0)


def test_only_a_corpus_over_the_limit_looks_its_slots_up():
    corpus = corpus_from_sentences(["a b", "c"], ["x y z", "w"])
    assert stored_bytes(corpus) == 4 * (3 * 3 + 2 * 1)
    assert not looks_up(corpus, -1) and not looks_up(corpus, 1.0)
    assert looks_up(corpus, 0) and looks_up(corpus, 40 / (1 << 20))
    assert not looks_up(corpus, 44 / (1 << 20))
    assert not AlignerConfig().max_slot_mb * (1 << 20) < stored_bytes(translated_corpus(1, 300, 60))


@pytest.mark.parametrize("settings", [
    dict(schedule="1^2 H^2 3^1 4^1"),                                          # by agreement, pruned, Models 3/4
    dict(schedule="1^2 H^2 3^1 4^1", agreement=False),                         # each direction alone
    dict(schedule="1^2 H^3", hmm_link_posterior=0.5, agreement_power=0.5),     # the --fast preset
    dict(schedule="1^3", t_cutoff=0),                                          # Model 1's Viterbi
])
def test_training_and_aligning_that_look_slots_up_equal_storing_them(settings, monkeypatch):
    # a few dense rows: most pairs go through the index
    monkeypatch.setattr(slot_source, "DENSE_BYTES", 4 * 3 * 60)
    corpus = translated_corpus(23, 250, 60)
    runs = []
    for max_slot_mb in (-1, 0):
        model = Aligner(AlignerConfig(threads=2, word_classes=3, **settings, max_slot_mb=max_slot_mb)).train_corpus(corpus)
        runs.append((model, model.align_corpus(corpus)))
    (stored, stored_out), (looked_up, looked_up_out) = runs
    for a, b in ((stored.fwd, looked_up.fwd), (stored.rev, looked_up.rev)):
        assert np.array_equal(a.ttable.indices, b.ttable.indices)
        assert np.array_equal(a.ttable.probs, b.ttable.probs)
    for method in ("fwd", "rev", "grow-diag-final-and"):
        assert stored_out.links(method) == looked_up_out.links(method)
    assert sum(len(links) for links in stored_out.links("fwd")) > 200
