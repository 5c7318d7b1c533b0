"""IBM Model 4: alignment probability with word classes, hill-climbing and neighbourhood counts
against the pure-Python references of test_ibm3.py, and an end-to-end AER check on real data."""
import lzma
import math
import time

import numpy as np
import pytest

from eegiza.clustering import cluster_words
from eegiza.config import AlignerConfig
from eegiza.corpus import corpus_from_bytes
from eegiza.evaluate import aer
from eegiza.links import directional_links, to_lists
from eegiza.models.fertility import FertilityParams, align_fertility, score_alignments, train_fertility
from eegiza.train import align_direction, train_direction
from test_ibm3 import (PAIRS, all_alignments, allowed, check_climbing, check_counts, diagonal_start, pair_lists,
                       random_model, ref_log_prob, repeated, small_corpus)

RO_EN = "/work/shared/data/ro-en"


@pytest.mark.parametrize("half", [None, 2])
def test_model4_probability_of_every_alignment_matches_formula(half):
    """half = 2 clips the displacements beyond +-2 into the end buckets."""
    corpus = small_corpus()
    model, tt = random_model(corpus, 5, FertilityParams(), half=half)
    model.last_model = "4"
    assert not model.d1_seen.all()  # one class pair without counts: probsmooth
    for src, tgt in pair_lists(corpus):
        als = all_alignments(len(src), len(tgt), model.params.maxfertility)
        rep = repeated(corpus, src, tgt, len(als))
        got = score_alignments(model, tt, rep, np.array(als, np.int32).ravel())
        expected = [ref_log_prob(model, tt, src, tgt, al, "4") for al in als]
        assert got == pytest.approx(expected, rel=1e-10, abs=1e-10)


def test_model4_hill_climbing_finds_the_best_alignment_from_its_neighbours():
    check_climbing("4", 6)


def ref_greedy_climb(model, tt, src, tgt, start):
    """GIZA's greedyClimb_WithIBM3Scoring from the formulas: the neighbours in decreasing order of
    their Model-3 change (ties: moves by (i, j), then swaps by (j1, j2)); the first that improves the
    Model-4 probability by more than the factor 1.00001 is applied, until none does."""
    l, m, mf = len(src), len(tgt), model.params.maxfertility
    al = tuple(start)
    for _ in range(61):
        base3, base4 = ref_log_prob(model, tt, src, tgt, al, "3"), ref_log_prob(model, tt, src, tgt, al, "4")
        cands = []
        for i in range(l + 1):
            for j in range(m):
                b = al[:j] + (i,) + al[j + 1:]
                if i != al[j] and allowed(b, l, m, mf):
                    cands.append((i * m + j, b))
        for j1 in range(m):
            for j2 in range(j1 + 1, m):
                if al[j1] != al[j2]:
                    b = list(al)
                    b[j1], b[j2] = b[j2], b[j1]
                    cands.append(((l + 1) * m + j1 * m + j2, tuple(b)))
        cands.sort(key=lambda c: (base3 - ref_log_prob(model, tt, src, tgt, c[1], "3"), c[0]))
        for _, b in cands:
            if ref_log_prob(model, tt, src, tgt, b, "4") - base4 > math.log(1.00001):
                al = b
                break
        else:
            return al
    return al


def test_model4_climb_takes_the_first_improving_neighbour_in_model3_order():
    corpus = small_corpus()
    model, tt = random_model(corpus, 8, FertilityParams(maxfertility=3))
    model.last_model = "4"
    for src, tgt in pair_lists(corpus):
        starts = all_alignments(len(src), len(tgt), model.params.maxfertility)[::5]
        rep = repeated(corpus, src, tgt, len(starts))
        pos, _ = align_fertility(model, tt, rep, np.array(starts, np.int32).ravel(), 2)
        m = len(tgt)
        for k, start in enumerate(starts):
            assert tuple(pos[k * m:(k + 1) * m]) == ref_greedy_climb(model, tt, src, tgt, start)


def test_model4_neighbourhood_counts_match_enumeration():
    corpus = small_corpus()
    model, tt = random_model(corpus, 7, FertilityParams(maxfertility=3, countincreasecutoffal=0.0))
    model.last_model = "4"
    check_counts(model, tt, corpus, diagonal_start(corpus), "4", collect_d4=True)


def ro_en_corpus(n_lines):
    src = lzma.open(f"{RO_EN}/train.ro.xz", "rb").read().decode().splitlines()[:n_lines]
    tgt = lzma.open(f"{RO_EN}/train.en.xz", "rb").read().decode().splitlines()[:n_lines]
    src += open(f"{RO_EN}/test.src", encoding="utf-8").read().splitlines()
    tgt += open(f"{RO_EN}/test.tgt", encoding="utf-8").read().splitlines()
    return corpus_from_bytes(("\n".join(src) + "\n").encode(), ("\n".join(tgt) + "\n").encode(), lowercase=True)


@pytest.mark.slow
def test_model4_is_not_worse_than_the_hmm_on_ro_en():
    t0 = time.perf_counter()
    corpus = ro_en_corpus(2000)
    src_class = cluster_words((corpus.src.ids, corpus.src.offsets), len(corpus.src_vocab), 50)
    tgt_class = cluster_words((corpus.tgt.ids, corpus.tgt.offsets), len(corpus.tgt_vocab), 50)
    hmm_model = train_direction(corpus, AlignerConfig(schedule="1^5 H^5", vb_alpha=0.0), src_class=src_class)
    start, _ = align_direction(hmm_model, corpus)
    model = train_fertility(corpus, hmm_model.ttable, start, [("3", 3), ("4", 3)], src_class, tgt_class)
    positions, scores = align_fertility(model, hmm_model.ttable, corpus, start)
    assert [e.model for e in model.log] == ["Model3"] * 3 + ["T3To4"] + ["Model4"] * 2
    assert np.isfinite([e.perplexity for e in model.log]).all() and np.isfinite(scores).all()
    gold = f"{RO_EN}/test.gold"
    hmm_aer = aer(gold, to_lists(*directional_links(start, corpus.tgt.offsets, False))).aer
    m4_aer = aer(gold, to_lists(*directional_links(positions, corpus.tgt.offsets, False))).aer
    print(f"ro-en 2000 + test, fwd AER: HMM {100 * hmm_aer:.2f}, Model 4 {100 * m4_aer:.2f} "
          f"({time.perf_counter() - t0:.1f} s)")
    assert m4_aer <= hmm_aer + 0.01


def test_fast_move_and_swap_changes_match_full_rescoring():
    """ibm4.move_change / swap_change (the fast path of hill-climbing and neighbourhood scoring)
    against rescoring the whole alignment with ibm4.distortion, on random tables, classes and
    alignments (many with neighbouring cepts, where move_change falls back to change_delta)."""
    from eegiza.models import ibm4
    rng = np.random.default_rng(3)
    smooth, floor = 0.2, 1e-7
    checked = 0
    for _ in range(200):
        l, m = int(rng.integers(1, 8)), int(rng.integers(2, 9))
        n_a, n_b, half = 3, 2, int(rng.integers(2, m + 2))
        width = 2 * half + 1
        d1, db = rng.random(n_a * n_b * width), rng.random(n_b * width)
        d1_seen = (rng.random(n_a * n_b) < 0.8).astype(np.int8)
        db_seen = (rng.random(n_b) < 0.8).astype(np.int8)
        empty = np.zeros(0, np.int64)
        m4 = (d1, d1_seen, db, db_seen, n_b, half, smooth, floor, empty, empty)
        ecls = rng.integers(0, n_a, l + 1).astype(np.int64)
        fcls = rng.integers(0, n_b, m).astype(np.int64)
        a = rng.integers(0, l + 1, m).astype(np.int64)
        scratch = np.empty((5, l + 1), np.int64)
        st, nxtpos, terms = np.zeros((6, l + 2), np.int64), np.zeros(m + 1, np.int64), np.zeros((2, l + 1))

        def score(b):
            return ibm4.distortion(b, l, ecls, fcls, d1, d1_seen, db, db_seen, n_b, half, smooth, floor, scratch,
                                   0.0, empty, empty, False)
        base = score(a)
        ibm4.build_state(a, l, ecls, fcls, m4, st, nxtpos, terms)
        for j in range(m):
            for i in range(l + 1):
                if i != a[j]:
                    b = a.copy()
                    b[j] = i
                    got = ibm4.move_change(a[j], j + 1, i, l, m, ecls, fcls, m4, st, nxtpos, terms)
                    general = ibm4.change_delta(a[j], j + 1, 0, i, 0, j + 1, l, m, ecls, fcls, m4, st, nxtpos, terms)
                    assert general == pytest.approx(score(b) - base, abs=1e-9)
                    assert got == pytest.approx(score(b) - base, abs=1e-9)
                    checked += 1
            for j2 in range(j + 1, m):
                if a[j2] != a[j]:
                    b = a.copy()
                    b[j], b[j2] = a[j2], a[j]
                    got = ibm4.swap_change(a[j], j + 1, a[j2], j2 + 1, l, m, ecls, fcls, m4, st, nxtpos, terms)
                    assert got == pytest.approx(score(b) - base, abs=1e-9)
                    checked += 1
    assert checked > 5000


def sentence_log_tables(model, tt, src, tgt, log_cut=-np.inf):
    """One pair's log tables as the climb kernels take them (lt, lfert, lnull, ld, ecls, fcls) and the
    model's Model-4 tuple ``m4`` with neighbour cut-off ``log_cut``, from a random_model."""
    from eegiza.models import ibm3
    prm, d, floor = model.params, model.d_table, model.params.prob_smooth
    l, m = len(src), len(tgt)
    es = [0] + list(src)
    lt = np.array([[math.log(tt.prob(es[i], f)) for f in tgt] for i in range(l + 1)])
    lfert = ibm3.fertility_log_probs(np.array(src, np.int32), model.n_table, ibm3.floored_logs(model.n_table, floor),
                                    floor, False)
    lnull = ibm3.null_log_probs(m, math.log(model.p0), math.log(1 - model.p0), 0)
    ld, _ = ibm3.distortion_logs(l, m, d.keys, d.dim_l, d.dim_m, d.offsets, d.probs,
                                 ibm3.floored_logs(d.probs, floor), d.ignore_l, d.ignore_m, floor)
    ecls = model.src_class[np.array(es)].astype(np.int64)
    fcls = model.tgt_class[np.array(tgt)].astype(np.int64)
    empty = np.zeros(0, np.int64)
    m4 = (model.d1, model.d1_seen, model.db, model.db_seen, model.n_tgt_classes, model.half,
          prm.model4smoothfactor, floor, empty, empty, log_cut)
    return (lt, lfert, lnull, ld, ecls, fcls), m4


def test_model4_neighbour_cutoff_leaves_out_exactly_the_neighbours_below_it():
    """With neighbourcutoff c, a Model-4 neighbour is left out (-inf) exactly when its change of the
    translation, fertility and NULL factors is below log c; every other neighbour keeps the same
    delta as without the cut-off (GIZA++'s full neighbourhood)."""
    from eegiza.models import fertility as fz
    from eegiza.models import fertility_search
    from eegiza.models import ibm3
    corpus = small_corpus()
    model, tt = random_model(corpus, 9, FertilityParams())
    prm = model.params
    log_cut = math.log(0.05)
    kept = dropped = 0
    for src, tgt in pair_lists(corpus):
        l, m = len(src), len(tgt)
        a = np.array([min(j, l) for j in range(m)], np.int64)
        fert = np.bincount(a, minlength=l + 1).astype(np.int64)
        deltas = {}
        for cut in (-np.inf, log_cut):
            (lt, lfert, lnull, ld, ecls, fcls), m4 = sentence_log_tables(model, tt, src, tgt, cut)
            dmove, dswap = np.full((l + 1, m), -np.inf), np.full((m, m), -np.inf)
            fertility_search._neighbour_deltas(a, fert, l, m, prm.maxfertility, lt, lfert, lnull, ld, True, ecls, fcls, m4,
                                 np.zeros((6, l + 2), np.int64), np.zeros(m + 1, np.int64), np.zeros((2, l + 1)),
                                 dmove, dswap)
            deltas[cut] = (dmove, dswap)
        (full_move, full_swap), (cut_move, cut_swap) = deltas[-np.inf], deltas[log_cut]
        for j in range(m):
            for i in range(l + 1):
                if np.isfinite(full_move[i, j]):
                    rest = ibm3.move_delta(a, fert, i, j, lt, lfert, lnull, ld, False)
                    if rest < log_cut:
                        assert cut_move[i, j] == -np.inf
                        dropped += 1
                    else:
                        assert cut_move[i, j] == full_move[i, j]
                        kept += 1
            for j2 in range(j + 1, m):
                if np.isfinite(full_swap[j, j2]):
                    rest = ibm3.swap_delta(a, j, j2, lt, ld, False)
                    assert cut_swap[j, j2] == (-np.inf if rest < log_cut else full_swap[j, j2])
    assert kept > 0 and dropped > 0


def test_incremental_neighbour_counts_equal_counting_every_neighbour_whole():
    """The E-step counts a neighbourhood's Model-4 displacements as the centre's once (summed weight)
    plus each neighbour's difference (ibm4.count_cepts, ibm4.change_count); the fixed-point counts
    must be exactly those of counting every alignment whole with ibm4.distortion."""
    from eegiza.models import ibm4
    rng = np.random.default_rng(11)
    checked = 0
    for _ in range(150):
        l, m = int(rng.integers(1, 8)), int(rng.integers(2, 9))
        n_a, n_b, half = 3, 2, int(rng.integers(2, m + 2))
        width = 2 * half + 1
        ecls = rng.integers(0, n_a, l + 1).astype(np.int64)
        fcls = rng.integers(0, n_b, m).astype(np.int64)
        a = rng.integers(0, l + 1, m).astype(np.int64)
        scratch = np.empty((5, l + 1), np.int64)
        st, nxtpos = np.zeros((6, l + 2), np.int64), np.zeros(m + 1, np.int64)
        dummy = np.zeros(1)
        whole_head, whole_later = np.zeros(n_a * n_b * width, np.int64), np.zeros(n_b * width, np.int64)
        inc_head, inc_later = np.zeros_like(whole_head), np.zeros_like(whole_later)

        def count_whole(b, w):
            ibm4.distortion(b, l, ecls, fcls, dummy, dummy, dummy, dummy, n_b, half, 0.2, 1e-7, scratch, w,
                            whole_head, whole_later, True)

        ibm4.cept_state(a, l, st, nxtpos)
        summed = ibm4.fixed_weight(0.5)
        count_whole(a, 0.5)
        for j in range(m):
            for i in range(l + 1):
                if i != a[j]:
                    b = a.copy()
                    b[j] = i
                    w = float(rng.random())
                    count_whole(b, w)
                    summed += ibm4.fixed_weight(w)
                    ibm4.change_count(a[j], j + 1, 0, i, 0, j + 1, l, ecls, fcls, n_b, half, st, nxtpos,
                                      ibm4.fixed_weight(w), inc_head, inc_later)
                    checked += 1
            for j2 in range(j + 1, m):
                if a[j2] != a[j]:
                    b = a.copy()
                    b[j], b[j2] = a[j2], a[j]
                    w = float(rng.random())
                    count_whole(b, w)
                    summed += ibm4.fixed_weight(w)
                    ibm4.change_count(a[j], j + 1, j2 + 1, a[j2], j2 + 1, j + 1, l, ecls, fcls, n_b, half, st,
                                      nxtpos, ibm4.fixed_weight(w), inc_head, inc_later)
                    checked += 1
        ibm4.count_cepts(l, ecls, fcls, n_b, half, st, nxtpos, summed, inc_head, inc_later)
        np.testing.assert_array_equal(inc_head, whole_head)
        np.testing.assert_array_equal(inc_later, whole_later)
    assert checked > 3000


def test_best_ranked_candidates_are_the_first_in_model3_order():
    """fertility_search._best_ranked (the candidates the Model-4 climb tries one by one) against
    sorting every candidate by (larger Model-3 change, lower index), with ties and non-candidates."""
    from eegiza.models.fertility_search import _best_ranked
    rng = np.random.default_rng(5)
    for _ in range(300):
        n = int(rng.integers(0, 120))
        proposal = rng.choice([-np.inf, -3.0, -1.0, 0.0, 0.5, 2.0], n) + (rng.random(n) < 0.5) * rng.random(n)
        best = np.empty(int(rng.integers(1, 40)), np.int64)
        got = _best_ranked(proposal, best)
        expected = sorted((k for k in range(n) if proposal[k] > -np.inf), key=lambda k: (-proposal[k], k))
        expected = expected[:len(best)]
        assert got == len(expected)
        assert list(best[:got]) == expected


def test_climb_keeps_only_model4_changes_a_step_cannot_alter():
    """The Model-4 climb keeps a candidate's change across a step unless the step touched its cepts
    or their neighbours (fertility_search._forget_stale). After random moves and swaps (with NULL
    among them: a swap with a NULL-aligned word keeps NULL's fertility but changes a_j), every
    change it keeps must equal the change recomputed in the new state, to the bit."""
    from eegiza.models import fertility_search as fs
    from eegiza.models import ibm3, ibm4
    corpus = small_corpus()
    model, tt = random_model(corpus, 9, FertilityParams(maxfertility=4))
    rng = np.random.default_rng(3)
    kept = recomputed = 0
    for src, tgt in pair_lists(corpus):
        l, m = len(src), len(tgt)
        (lt, lfert, lnull, ld, ecls, fcls), m4 = sentence_log_tables(model, tt, src, tgt)
        st, nxtpos, terms = np.zeros((6, l + 2), np.int64), np.zeros(m + 1, np.int64), np.zeros((2, l + 1))
        maxfert = model.params.maxfertility
        for _ in range(60):
            start = rng.integers(0, l + 1, m).astype(np.int32)
            start[rng.random(m) < 0.3] = 0
            a, fert = np.empty(m, np.int64), np.empty(l + 1, np.int64)
            fs._repair(start, l, m, lt, maxfert, a, fert)   # within the fertility limits, as a climb starts

            def all_changes():   # as the climb scores them: the moves the fertility limits allow
                ibm4.build_state(a, l, ecls, fcls, m4, st, nxtpos, terms)
                dmove, dswap = np.full((l + 1, m), -np.inf), np.full((m, m), -np.inf)
                for j in range(m):
                    for i in range(l + 1):
                        if i != a[j] and ibm3.move_allowed(i, fert, m, maxfert):
                            fs._move_try(i, j, a, fert, lt, lfert, lnull, ld, ecls, fcls, m4, st, nxtpos, terms, l, m,
                                         dmove)
                    for j2 in range(j + 1, m):
                        if a[j2] != a[j]:
                            fs._swap_try(j, j2, a, lt, ld, ecls, fcls, m4, st, nxtpos, terms, l, m, dswap)
                return dmove, dswap

            before_move, before_swap = all_changes()
            a_before, fert0_before = a.copy(), int(fert[0])
            st_before, terms_before = st.copy(), terms.copy()
            j = int(rng.integers(m))
            i = int(rng.integers(l + 1))
            if rng.random() < 0.5 and i != a[j] and ibm3.move_allowed(i, fert, m, maxfert):   # a move
                fert[a[j]] -= 1
                fert[i] += 1
                a[j] = i
            else:                    # a swap
                j2 = int(rng.integers(m))
                a[j], a[j2] = a[j2], a[j]
            after_move, after_swap = all_changes()
            assert not np.isnan(before_move).any() and not np.isnan(after_move).any()
            assert not np.isnan(before_swap).any() and not np.isnan(after_swap).any()
            fresh_moves, fresh_swaps = np.isfinite(before_move), np.isfinite(before_swap)   # the scored ones
            fs._forget_stale(a, a_before, fert0_before, fert, l, m, st, st_before, terms, terms_before,
                             np.empty(l + 1, np.bool_), fresh_moves, fresh_swaps)
            for jj in range(m):
                for i in range(l + 1):
                    if not (np.isfinite(before_move[i, jj]) and np.isfinite(after_move[i, jj])):
                        continue   # not a candidate in one of the states: the climb never reads its change
                    if fresh_moves[i, jj]:
                        assert after_move[i, jj] == before_move[i, jj]
                        kept += 1
                    else:
                        recomputed += 1
                for j2 in range(jj + 1, m):
                    if not (np.isfinite(before_swap[jj, j2]) and np.isfinite(after_swap[jj, j2])):
                        continue
                    if fresh_swaps[jj, j2]:
                        assert after_swap[jj, j2] == before_swap[jj, j2]
                        kept += 1
                    else:
                        recomputed += 1
    assert kept > 500 and recomputed > 500
