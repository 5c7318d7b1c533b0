"""Split fixed-point counts (eegiza.fixed_counts): the cells that decide an entry's width, counted
against a pure-Python count; the bound they rest on; and the split sums equal to int64 sums, bit
for bit, in the joint E-step and in Models 3/4."""
from collections import Counter

import numpy as np
import pytest

from eegiza.fixed_counts import COUNT_SCALE, HEAVY_BASE, LIGHT_CELLS, CountLayout, to_float, to_int64
from eegiza.models import agreement
from eegiza.models import fertility as fz
from eegiza.slot_source import SlotSource
from eegiza.ttable import TTable
from test_ibm3 import random_model
from test_models import hmm_setup, pairs_of, random_corpus


def ref_cells(pairs, table):
    """Cells per entry of ``table`` (a TTable of the pairs' direction): one per (source position or
    NULL, target position) of every pair."""
    rows = table.row_ids()
    entry = {(int(e), int(f)): s for s, (e, f) in enumerate(zip(rows, table.indices))}
    cells = Counter()
    for src, tgt in pairs:
        for e in [0] + list(src):
            for f in tgt:
                if (e, f) in entry:
                    cells[entry[e, f]] += 1
    out = np.zeros(table.nnz, np.int64)
    for s, n in cells.items():
        out[s] = n
    return out


def all_heavy(nnz):
    return CountLayout(nnz, np.arange(nnz))


@pytest.fixture(scope="module")
def corpus():
    # few words, so many entries have more than LIGHT_CELLS cells and many have fewer
    return random_corpus(5, 300, 40, (0, 9), (0, 11))


def test_layout_marks_the_entries_of_more_than_three_cells_and_zeros_hold_their_sentinels():
    cells = np.array([0, 3, 4, 1, 100, 3, 5], np.uint32)
    layout = CountLayout.from_cells(cells)
    np.testing.assert_array_equal(layout.heavy, [2, 4, 6])
    low, heavy = layout.zeros()
    np.testing.assert_array_equal(low, [0, 0, HEAVY_BASE, 0, HEAVY_BASE + 1, 0, HEAVY_BASE + 2])
    assert heavy.dtype == np.int64 and len(heavy) == 3 and not heavy.any()
    assert layout.nbytes == 4 * 7 + 8 * 3


def test_split_counts_convert_to_the_int64_and_float_values_they_hold():
    low = np.array([0, 5, HEAVY_BASE + 1, 3 * 2 ** 30, HEAVY_BASE], np.uint32)
    heavy = np.array([7 * 2 ** 40 + 3, 2 ** 33 + 1], np.int64)
    want = np.array([0, 5, 2 ** 33 + 1, 3 * 2 ** 30, 7 * 2 ** 40 + 3], np.int64)
    np.testing.assert_array_equal(to_int64((low, heavy)), want)
    np.testing.assert_array_equal(to_float((low.copy(), heavy), np.float64), want / COUNT_SCALE)
    got = to_float((low, heavy), np.float32)
    assert got.dtype == np.float32 and np.shares_memory(got, low)
    np.testing.assert_array_equal(got, (want / COUNT_SCALE).astype(np.float32))


def test_joint_estep_cells_match_a_count_of_the_pairs_and_bound_the_counts(corpus):
    rev_corpus = corpus.reversed()
    fwd_tt, src_class, fwd_jump, fwd_start = hmm_setup(corpus)
    rev_tt, tgt_class, rev_jump, rev_start = hmm_setup(rev_corpus)
    source = SlotSource.compact(corpus, fwd_tt).arrays()
    rev_map = agreement.reverse_slot_map(fwd_tt, rev_tt)
    fwd_cells, rev_cells = ref_cells(pairs_of(corpus), fwd_tt), ref_cells(pairs_of(rev_corpus), rev_tt)
    layouts = agreement.count_layouts(corpus, source, *rev_map, fwd_tt.nnz, rev_tt.nnz)
    np.testing.assert_array_equal(layouts[0].heavy, np.flatnonzero(fwd_cells > LIGHT_CELLS))
    np.testing.assert_array_equal(layouts[1].heavy, np.flatnonzero(rev_cells > LIGHT_CELLS))
    assert 0 < len(layouts[0].heavy) < fwd_tt.nnz   # both kinds of entry

    for use_hmm in (False, True):
        results = []
        for fwd_layout, rev_layout in (layouts, (all_heavy(fwd_tt.nnz), all_heavy(rev_tt.nnz))):
            out = agreement.estep(use_hmm, 0.5, corpus.src.ids, corpus.src.offsets, corpus.tgt.ids,
                                  corpus.tgt.offsets, 1e-7, 0.2, 0.2, 2, source, fwd_tt.probs, src_class, fwd_jump,
                                  fwd_start, *rev_map, rev_tt.probs, tgt_class, rev_jump, rev_start,
                                  fwd_layout.zeros(), rev_layout.zeros())
            results.append((to_int64(out[0]), to_int64(out[4])))
        (fwd_split, rev_split), (fwd_wide, rev_wide) = results
        np.testing.assert_array_equal(fwd_split, fwd_wide)   # the same integer sums, bit for bit
        np.testing.assert_array_equal(rev_split, rev_wide)
        # the bound the layout rests on: at most one unit of mass a cell (plus rounding)
        assert np.all(fwd_wide <= fwd_cells * (COUNT_SCALE + 1))
        assert np.all(rev_wide <= rev_cells * (COUNT_SCALE + 1))
        assert fwd_wide.max() > LIGHT_CELLS * COUNT_SCALE   # some entries needed 64 bits


@pytest.mark.parametrize("slots", ["compact", "none"])
def test_model3_cells_match_a_count_of_the_pairs_and_split_counts_equal_int64_ones(corpus, slots):
    model, tt = random_model(corpus, 4)
    source = SlotSource.compact(corpus, tt) if slots == "compact" else SlotSource.none()
    cells = ref_cells(pairs_of(corpus), tt)
    layout = fz.t_count_layout(tt, corpus, source)
    np.testing.assert_array_equal(layout.heavy, np.flatnonzero(cells > LIGHT_CELLS))
    start = np.concatenate([[1 + j % l if l else 0 for j in range(m)]   # a_j = 1 + j mod l: fertilities allowed
                            for l, m in zip(corpus.src.lengths, corpus.tgt.lengths)]).astype(np.int32)
    outs = []
    for count_layout in (layout, all_heavy(tt.nnz)):
        out = fz._run_corpus(model, tt, corpus, start, model.n_table, model.src_class, model.tgt_class, True, True,
                             False, True, False, 2, slots=source, count_layout=count_layout)
        outs.append(to_int64(out[3]))
    np.testing.assert_array_equal(outs[0], outs[1])
    assert np.all(outs[0] <= cells * (COUNT_SCALE + 1)) and outs[0].max() > LIGHT_CELLS * COUNT_SCALE


def test_an_entry_the_table_lacks_gets_no_cell():
    corpus = random_corpus(2, 50, 12, (1, 6), (1, 6))
    tt = TTable.from_corpus(corpus)
    keep = np.arange(tt.nnz) % 3 != 0   # a table missing a third of the pairs (as after pruning)
    rows = np.repeat(np.arange(tt.n_src), np.diff(tt.indptr))[keep]
    pruned = TTable(np.searchsorted(rows, np.arange(tt.n_src + 1)).astype(tt.indptr.dtype), tt.indices[keep],
                    tt.probs[keep])
    layout_cells = np.zeros(pruned.nnz, np.uint32)
    fz.count_cells(corpus.src.ids, corpus.src.offsets, corpus.tgt.ids, corpus.tgt.offsets, pruned.indptr,
                   pruned.indices, SlotSource.none().arrays(), layout_cells)
    np.testing.assert_array_equal(layout_cells, ref_cells(pairs_of(corpus), pruned))
