"""Symmetrisation heuristics on hand-made cases, and the Numba corpus kernel against the
plain-Python per-sentence version."""
import random

import numpy as np
import pytest

from eegiza.symmetrize import METHODS, symmetrize, symmetrize_corpus, symmetrize_flat

# A 5x5 sentence pair where all five methods give different answers.
# fwd (each target word once): 0-0 1-1 4-2 0-3 2-4;  rev (each source word once): 0-0 1-1 2-2 3-4 4-3
FWD = [(0, 0), (1, 1), (4, 2), (0, 3), (2, 4)]
REV = [(0, 0), (1, 1), (2, 2), (3, 4), (4, 3)]


def test_intersection_and_union():
    assert symmetrize(FWD, REV, 5, 5, "intersection") == [(0, 0), (1, 1)]
    assert symmetrize(FWD, REV, 5, 5, "union") == [
        (0, 0), (0, 3), (1, 1), (2, 2), (2, 4), (3, 4), (4, 2), (4, 3)]


def test_grow_diag():
    # Start: {0-0, 1-1}. Candidates in (i, j) order: 0-3 2-2 2-4 3-4 4-2 4-3.
    # 0-3: target 3 unaligned but no neighbour in the alignment -> no.
    # 2-2: source 2 unaligned, diagonal neighbour 1-1 -> added (needs the diagonal neighbourhood).
    # 2-4, 3-4, 4-2, 4-3: no neighbour among {0-0, 1-1, 2-2} -> no; a second pass adds nothing.
    assert symmetrize(FWD, REV, 5, 5, "grow-diag") == [(0, 0), (1, 1), (2, 2)]


def test_grow_diag_final():
    # After grow-diag: sources {0,1,2} and targets {0,1,2} aligned.
    # fwd links in order: 0-3 (target 3 free) add; 2-4 (target 4 free) add; 4-2 (source 4 free) add.
    # rev links: 3-4 (source 3 free) add; 4-3: source 4 (by 4-2) and target 3 (by 0-3) taken -> no.
    assert symmetrize(FWD, REV, 5, 5, "grow-diag-final") == [
        (0, 0), (0, 3), (1, 1), (2, 2), (2, 4), (3, 4), (4, 2)]


def test_grow_diag_final_and():
    # Same start, but both words must be free:
    # fwd 0-3 (source 0 taken) no; 2-4 (source 2 taken) no; 4-2 (target 2 taken by 2-2) no.
    # rev 3-4: both free -> add; 4-3: both free -> add.
    assert symmetrize(FWD, REV, 5, 5, "grow-diag-final-and") == [
        (0, 0), (1, 1), (2, 2), (3, 4), (4, 3)]


def test_final_takes_fwd_before_rev():
    # Nothing to grow from; fwd 0-0 and rev 1-0 compete for target word 0.
    # final-and: fwd 0-0 (both free) added first, then rev 1-0 has target 0 taken -> dropped.
    assert symmetrize([(0, 0)], [(1, 0)], 2, 1, "grow-diag-final-and") == [(0, 0)]
    assert symmetrize([(1, 0)], [(0, 0)], 2, 1, "grow-diag-final-and") == [(1, 0)]
    # final (or): rev 1-0 still has source 1 free -> both kept.
    assert symmetrize([(0, 0)], [(1, 0)], 2, 1, "grow-diag-final") == [(0, 0), (1, 0)]


def test_grow_repeats_passes_until_nothing_changes():
    # Start {2-2}; candidates 0-0, 1-1. Pass 1: 0-0 has no aligned neighbour yet, 1-1 touches 2-2
    # and is added. Pass 2: 0-0 now touches 1-1 and is added.
    assert symmetrize([(0, 0), (1, 1), (2, 2)], [(2, 2)], 3, 3, "grow-diag") == [
        (0, 0), (1, 1), (2, 2)]


def test_grow_needs_an_unaligned_word():
    # 0-1 touches 0-0 and 1-1, but source 0 and target 1 are both aligned already: never added,
    # not even by "final" (which also needs one free word).
    fwd, rev = [(0, 0), (1, 1), (0, 1)], [(0, 0), (1, 1)]
    for method in ("grow-diag", "grow-diag-final", "grow-diag-final-and"):
        assert symmetrize(fwd, rev, 2, 2, method) == [(0, 0), (1, 1)]


def test_bad_input():
    with pytest.raises(ValueError, match="unknown symmetrisation method"):
        symmetrize(FWD, REV, 5, 5, "grow")
    with pytest.raises(ValueError, match="outside"):
        symmetrize([(5, 0)], [], 5, 5, "union")
    with pytest.raises(ValueError, match="sentence 1"):
        symmetrize_corpus([[], [(0, 3)]], [[], []], [2, 2], [2, 3], "union")
    with pytest.raises(ValueError, match="corpus sizes differ"):
        symmetrize_corpus([[]], [[], []], [1, 1], [1, 1], "union")


def _random_corpus(rng, n):
    fwd, rev, src_lens, tgt_lens = [], [], [], []
    for _ in range(n):
        l, m = rng.randint(0, 9), rng.randint(0, 9)
        if rng.random() < 0.5 and l and m:  # directional, like real aligners
            f = [(rng.randrange(l), j) for j in range(m) if rng.random() < 0.7]
            r = [(i, rng.randrange(m)) for i in range(l) if rng.random() < 0.7]
        else:  # arbitrary link sets, duplicates included
            f = [(rng.randrange(l), rng.randrange(m)) for _ in range(rng.randint(0, 12))] if l and m else []
            r = [(rng.randrange(l), rng.randrange(m)) for _ in range(rng.randint(0, 12))] if l and m else []
        fwd.append(f)
        rev.append(r)
        src_lens.append(l)
        tgt_lens.append(m)
    return fwd, rev, src_lens, tgt_lens


@pytest.mark.parametrize("method", METHODS)
def test_corpus_kernel_matches_per_sentence(method):
    fwd, rev, src_lens, tgt_lens = _random_corpus(random.Random(7), 3000)
    expected = [symmetrize(f, r, l, m, method) for f, r, l, m in zip(fwd, rev, src_lens, tgt_lens)]
    assert symmetrize_corpus(fwd, rev, src_lens, tgt_lens, method) == expected


def test_flat_layout():
    # Sentence 0 = the 5x5 case above, sentence 1 empty, sentence 2 = the fwd-before-rev case.
    fwd_i, fwd_j = zip(*(FWD + [(0, 0)]))
    rev_i, rev_j = zip(*(REV + [(1, 0)]))
    out_i, out_j, out_off = symmetrize_flat(
        np.array(fwd_i), np.array(fwd_j), [0, 5, 5, 6], np.array(rev_i), np.array(rev_j),
        [0, 5, 5, 6], [5, 0, 2], [5, 0, 1], "grow-diag-final-and")
    assert out_off.tolist() == [0, 5, 5, 6]
    assert list(zip(out_i.tolist(), out_j.tolist())) == [
        (0, 0), (1, 1), (2, 2), (3, 4), (4, 3), (0, 0)]


@pytest.mark.parametrize("bad,message", [(2 ** 32, "outside 0..2147483647"), (-1, "outside"),
                                         (0.5, "must be integers")])
def test_flat_layout_refuses_positions_int32_cannot_hold(bad, message):
    """2**32 would wrap to 0, a position inside the sentence: refused, not silently changed."""
    fwd_i = np.array([0, bad], dtype=np.float64 if isinstance(bad, float) else np.int64)
    with pytest.raises(ValueError, match=message):
        symmetrize_flat(fwd_i, np.array([0, 0]), [0, 2], np.array([0]), np.array([0]), [0, 1], [2], [1])
