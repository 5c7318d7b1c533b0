"""Sentence slots looked up through a hashed index as the kernels go (eegiza.slot_source,
``AlignerConfig.max_slot_mb``), or stored compactly in 2 bytes a pair: the same slots as the binary
search, so the same training and alignments, bit for bit."""
import numpy as np
import pytest

from eegiza import Aligner, AlignerConfig
from eegiza.corpus import corpus_from_sentences
from eegiza import slot_source
from eegiza.slot_source import (COMPACT_DENSE, COMPACT_MISSING, SlotSource, build_index, compact_bytes, index_bytes,
                                indexed_slot, looks_up, stored_bytes)
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


def _long_row_corpus(n_pairs=700, width=100):
    """Every target word new in its pair (70,000 target words, more than a compact slot addresses
    in one row): NULL's row and that of "a" (in every pair) are long; the rows of "w<k>" short."""
    src = [f"a w{k} a" for k in range(n_pairs)]
    tgt = [" ".join(f"v{k}_{j}" for j in range(width)) for k in range(n_pairs)]
    return corpus_from_sentences(src, tgt)


@pytest.mark.parametrize("long_rows", [False, True])
def test_compact_slots_equal_the_searched_ones_before_and_after_pruning(long_rows):
    corpus, table = (_long_row_corpus(), TTable.from_corpus(_long_row_corpus(), "float64")) if long_rows \
        else _pruned_table(7)
    slots, slot_off = sentence_slots(corpus, table)
    source = SlotSource.compact(corpus, table)
    assert source.is_stored and source.is_compact and not source.needs_table_indices
    assert source.compact_slots.dtype == np.uint16 and source.compact_slots.nbytes == compact_bytes(corpus)
    assert np.array_equal(source.materialised(corpus)[0], slots)
    assert np.array_equal(source.materialised(corpus)[1], slot_off)
    a = corpus.src_vocab.get("a", -1)
    assert (source.dense_of[0] >= 0 and source.dense_of[a] >= 0 and np.sum(source.dense_of >= 0) == 2
            if long_rows else np.all(source.dense_of < 0))
    assert np.any(source.compact_slots == COMPACT_DENSE) == long_rows
    # pruned: the compact slots renumbered in place equal those searched in the pruned table
    rng = np.random.default_rng(1)
    table.probs = rng.choice([1e-9, 0.2], size=table.nnz)
    old_indptr = table.indptr
    remap = prune_table(table, own_keep(table, 1e-7))
    source.remap(corpus, old_indptr, table.indptr, remap)
    pruned, _ = sentence_slots(corpus, table)
    assert np.any(pruned < 0) and np.any(pruned >= 0)
    assert np.array_equal(source.materialised(corpus)[0], pruned)
    assert np.array_equal(SlotSource.compact(corpus, table).materialised(corpus)[0], pruned)
    assert np.any(source.compact_slots == COMPACT_MISSING)


def test_kernels_read_the_same_slots_compact_stored_and_from_no_source():
    """The HMM's Viterbi alignment through compact slots, 4-byte slots, and (Models 3/4) the search."""
    corpus = translated_corpus(4, 120, 30)
    model = Aligner(AlignerConfig(schedule="1^2 H^2 3^1 4^1", word_classes=3)).train_corpus(corpus)
    from dataclasses import replace
    from eegiza.models.fertility import align_fertility
    from eegiza.train import align_direction
    hmm_model = replace(model.fwd, last_model="H")
    compact = SlotSource.compact(corpus, model.fwd.ttable)
    plain = sentence_slots(corpus, model.fwd.ttable)
    for m in (hmm_model, model.fwd):
        a, b = align_direction(m, corpus, compact), align_direction(m, corpus, plain)
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    start, _ = align_direction(hmm_model, corpus, plain)
    for slots in (SlotSource.none(), compact):   # Models 3/4 with no slots search the table
        a = align_fertility(model.fwd.fertility, model.fwd.ttable, corpus, start, 2, 0.0, slots)
        b = align_fertility(model.fwd.fertility, model.fwd.ttable, corpus, start, 2, 0.0, plain)
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert np.array_equal(align_direction(model.fwd, corpus, SlotSource.none())[0],
                          align_direction(model.fwd, corpus, plain)[0])


def test_only_a_corpus_over_the_limit_looks_its_slots_up():
    corpus = corpus_from_sentences(["a b", "c"], ["x y z", "w"])
    assert stored_bytes(corpus) == 4 * (3 * 3 + 2 * 1) and compact_bytes(corpus) == 2 * (3 * 3 + 2 * 1)
    assert not looks_up(corpus, -1) and not looks_up(corpus, 1.0)
    assert looks_up(corpus, 0) and looks_up(corpus, 20 / (1 << 20))
    assert not looks_up(corpus, 22 / (1 << 20))
    assert not AlignerConfig().max_slot_mb * (1 << 20) < compact_bytes(translated_corpus(1, 300, 60))


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
