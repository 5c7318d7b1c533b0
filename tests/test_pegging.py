"""Pegging for Models 3 and 4: the pegged hill-climb against enumeration of every alignment, and the
counts over the union of the centres' neighbourhoods against a pure-Python reference that
enumerates the union as a set (each alignment once, weighted by P / sum_union P)."""
import math
from collections import defaultdict

import numba
import numpy as np
import pytest

from eegiza.models import fertility as fz
from eegiza.models import fertility_search
from eegiza.models import ibm3
from eegiza.models.fertility import FertilityParams, align_fertility
from eegiza.ttable import TTable, reduce_counts
from test_ibm3 import (all_alignments, allowed, d_slot, neighbours, pair_lists, random_model, ref_log_prob,
                       ref_weighted_counts, small_corpus, toy_training_corpus)

GAIN = math.log(1.00001)


def no_null_start(l, m):
    """a_j = 1 + j mod l: allowed for the small corpus with maxfertility 3."""
    return tuple(1 + j % l for j in range(m))


def pegged_neighbours(al, l, m, maxfert, peg):
    """The neighbours of ``al`` that keep a_peg (no move of peg, no swap involving it)."""
    return [b for b in neighbours(al, l, m, maxfert) if b[peg] == al[peg]]


def ref_climb(model, tt, src, tgt, start, name, peg):
    """Hill-climbing from the formulas, position ``peg`` fixed (None: free). Model 3: steepest ascent
    (GIZA's hillClimb_std). Model 4: the first improving neighbour in decreasing order of the Model-3
    change, ties by index, moves (i m + j) before swaps (GIZA's greedyClimb_WithIBM3Scoring)."""
    l, m, mf = len(src), len(tgt), model.params.maxfertility
    al = tuple(start)
    for _ in range(61):
        cands = []
        for i in range(l + 1):
            for j in range(m):
                b = al[:j] + (i,) + al[j + 1:]
                if i != al[j] and j != peg and allowed(b, l, m, mf):
                    cands.append((i * m + j, b))
        for j1 in range(m):
            for j2 in range(j1 + 1, m):
                if al[j1] != al[j2] and peg not in (j1, j2):
                    b = list(al)
                    b[j1], b[j2] = b[j2], b[j1]
                    cands.append(((l + 1) * m + j1 * m + j2, tuple(b)))
        base = ref_log_prob(model, tt, src, tgt, al, name)
        if name == "3":
            improving = [b for _, b in cands if ref_log_prob(model, tt, src, tgt, b, "3") - base > GAIN]
            if not improving:
                return al
            al = max(improving, key=lambda b: ref_log_prob(model, tt, src, tgt, b, "3"))
            continue
        base3 = ref_log_prob(model, tt, src, tgt, al, "3")
        cands.sort(key=lambda c: (base3 - ref_log_prob(model, tt, src, tgt, c[1], "3"), c[0]))
        for _, b in cands:
            if ref_log_prob(model, tt, src, tgt, b, "4") - base > GAIN:
                al = b
                break
        else:
            return al
    return al


def kernel_climb(model, tt, src, tgt, start, name, peg):
    """fertility._climb on the per-sentence tables of one pair (as fertility._sentence builds them)."""
    prm, d = model.params, model.d_table
    l, m, floor = len(src), len(tgt), prm.prob_smooth
    es = [0] + list(src)
    lt = np.array([[math.log(tt.prob(es[i], f)) for f in tgt] for i in range(l + 1)])
    e_sent = np.array(src, np.int32)
    no_logs = np.zeros((0, model.n_table.shape[1]))   # the kernels take each log themselves
    lfert = ibm3.fertility_log_probs(e_sent, model.n_table, no_logs, floor, name == "3")
    lfert3 = ibm3.fertility_log_probs(e_sent, model.n_table, no_logs, floor, True)
    lnull = ibm3.null_log_probs(m, math.log(model.p0), math.log(1 - model.p0), 0)
    ld, _ = ibm3.distortion_logs(l, m, d.keys, d.dim_l, d.dim_m, d.offsets, d.probs, no_logs[:, 0], d.ignore_l,
                                 d.ignore_m, floor)
    ecls = model.src_class[np.array(es)].astype(np.int64)
    fcls = model.tgt_class[np.array(tgt)].astype(np.int64)
    empty = np.zeros(0, np.int64)
    m4 = (model.d1, model.d1_seen, model.db, model.db_seen, model.n_tgt_classes, model.half,
          prm.model4smoothfactor, floor, empty, empty, -np.inf)   # no neighbour cut-off, as GIZA++
    a = np.array(start, np.int64)
    fert = np.bincount(a, minlength=l + 1).astype(np.int64)
    fertility_search._climb(a, fert, l, m, prm.maxfertility, lt, lfert, lfert3, lnull, ld, name == "4", ecls, fcls, m4,
              np.zeros((6, l + 2), np.int64), np.zeros(m + 1, np.int64), np.zeros((2, l + 1)),
              np.full((l + 1, m), -np.inf), np.full((m, m), -np.inf), peg)
    assert np.array_equal(fert, np.bincount(a, minlength=l + 1))
    return tuple(int(x) for x in a)


@pytest.mark.parametrize("name", ["3", "4"])
def test_pegged_climb_keeps_the_peg_and_ends_at_a_pegged_local_optimum(name):
    """For every peg (i, j): the climb from the start with a_j := i keeps a_j = i and ends where no
    move or swap keeping the peg improves by more than 1.00001, as the reference climb does; from
    the best alignment with a_j = i (found by enumeration) it stays there, and for Model 3 (steepest
    ascent) it reaches that best alignment from each of its neighbours that keep the peg."""
    corpus = small_corpus()
    model, tt = random_model(corpus, 11, FertilityParams(maxfertility=3))
    mf = model.params.maxfertility
    n_reached = 0
    for src, tgt in pair_lists(corpus):
        l, m = len(src), len(tgt)
        als = all_alignments(l, m, mf)
        scores = {al: ref_log_prob(model, tt, src, tgt, al, name) for al in als}
        for j in range(m):
            for i in range(l + 1):
                pegged = [al for al in als if al[j] == i]
                best = max(pegged, key=scores.get)
                start = list(no_null_start(l, m))
                start[j] = i
                starts = [tuple(start)] if allowed(start, l, m, mf) else []
                starts += [best] + (pegged_neighbours(best, l, m, mf, j) if name == "3" else [])
                for k, s in enumerate(starts):
                    res = kernel_climb(model, tt, src, tgt, s, name, j)
                    assert res[j] == i and allowed(res, l, m, mf)
                    assert all(scores[b] <= scores[res] + GAIN + 1e-12 for b in pegged_neighbours(res, l, m, mf, j))
                    assert res == ref_climb(model, tt, src, tgt, s, name, j)
                    if s == best or (name == "3" and k > 0):
                        n_reached += s != best
                        assert scores[res] == pytest.approx(scores[best], abs=1e-12)
    assert name == "4" or n_reached > 20


def ref_pegged_centres(model, tt, src, tgt, start, name, cutoff, link_cache):
    """Centres (a* first) and the index of the best, as the module docstring defines them."""
    l, m, mf = len(src), len(tgt), model.params.maxfertility
    es = [0] + list(src)
    log_cut = math.log(cutoff) if cutoff > 0 else -math.inf
    centres = [ref_climb(model, tt, src, tgt, start, name, None)]
    scores = [ref_log_prob(model, tt, src, tgt, centres[0], name)]
    best = 0
    found = set(enumerate(start)) if link_cache else set()
    for j in range(m):
        for i in range(l + 1):
            if (j, i) in found or math.log(tt.prob(es[i], tgt[j])) <= math.log(tt.prob(es[start[j]], tgt[j])) + log_cut:
                continue
            b = start[:j] + (i,) + start[j + 1:]
            if not allowed(b, l, m, mf):
                continue
            c = ref_climb(model, tt, src, tgt, b, name, j)
            if link_cache:
                found.update(enumerate(c))
            s = ref_log_prob(model, tt, src, tgt, c, name)
            if s <= scores[best] + log_cut or c in centres:
                continue
            centres.append(c)
            scores.append(s)
            if s > scores[best] + GAIN:
                best = len(centres) - 1
    return centres, best


@pytest.mark.parametrize("name,cutoff,link_cache", [("3", 0.0, False), ("3", 0.3, False), ("4", 0.0, False),
                                                     ("3", 0.03, True), ("4", 0.03, True)])
def test_counts_over_the_union_of_pegged_neighbourhoods_match_enumeration(name, cutoff, link_cache):
    """One E-step with pegging (with Model-4 counts, as in GIZA's "T3To4"): positions = the best
    centre, log-likelihoods and every count against the union enumerated as a set; every peg and
    centre kept, or GIZA's cutoffs and link cache."""
    corpus = small_corpus()
    params = FertilityParams(maxfertility=3, countincreasecutoffal=0.0, pegging=True, peggedcutoff=cutoff,
                             uselinkcache=link_cache)
    model, tt = random_model(corpus, 12 if name == "3" else 13, params)
    model.last_model = name
    pairs = pair_lists(corpus)
    starts = [no_null_start(len(s), len(t)) for s, t in pairs]
    out = fz._run_corpus(model, tt, corpus, np.concatenate(starts).astype(np.int32), model.n_table,
                         model.src_class, model.tgt_class, True, True, name == "4", True, True, 2)
    positions, scores, loglik, tc, nc, dc, pc, c1, cb, _ = out
    counts = (defaultdict(float), defaultdict(float), defaultdict(float), [0.0, 0.0], defaultdict(float),
              defaultdict(float))
    offs = corpus.tgt.offsets
    n_centres = []
    for k, ((src, tgt), start) in enumerate(zip(pairs, starts)):
        l, m = len(src), len(tgt)
        centres, best = ref_pegged_centres(model, tt, src, tgt, start, name, cutoff, link_cache)
        n_centres.append(len(centres))
        assert tuple(positions[offs[k]:offs[k + 1]]) == centres[best]
        assert scores[k] == pytest.approx(ref_log_prob(model, tt, src, tgt, centres[best], name), abs=1e-9)
        union = set(centres)
        for c in centres:
            union.update(neighbours(c, l, m, model.params.maxfertility))
        ref = ref_weighted_counts(model, tt, src, tgt, sorted(union), name, True, counts)
        assert loglik[k] == pytest.approx(ref, abs=1e-9)
    assert max(n_centres) > 2  # the union is more than one neighbourhood
    t, n, d, p, d1, db = counts
    expected_t = np.zeros(tt.nnz)
    for (e, f), v in t.items():
        lo, hi = tt.indptr[e], tt.indptr[e + 1]
        expected_t[lo + int(np.searchsorted(tt.indices[lo:hi], f))] += v
    assert np.abs(reduce_counts(tc) - expected_t).max() < 1e-6
    expected_n = np.zeros(model.n_table.shape)
    for (e, phi), v in n.items():
        expected_n[e, phi] += v
    assert np.abs(reduce_counts(nc).reshape(expected_n.shape) - expected_n).max() < 1e-6
    expected_d = np.zeros(len(model.d_table.probs))
    for (i, j, l, m), v in d.items():
        expected_d[d_slot(model.d_table, i, j, l, m)] += v
    assert np.abs(reduce_counts(dc) - expected_d).max() < 1e-6
    assert reduce_counts(pc) == pytest.approx(p, abs=1e-6)
    for got, ref in ((reduce_counts(c1), d1), (reduce_counts(cb), db)):
        expected = np.zeros(len(got))
        for s, v in ref.items():
            expected[s] += v
        assert np.abs(got - expected).max() < 1e-6


def test_pegged_training_is_identical_with_one_and_two_threads():
    corpus = toy_training_corpus()
    src_class = (np.arange(len(corpus.src_vocab)) % 3).astype(np.int32)
    tgt_class = (np.arange(len(corpus.tgt_vocab)) % 2).astype(np.int32)
    start = np.concatenate([no_null_start(l, m) for l, m in zip(corpus.src.lengths, corpus.tgt.lengths)])
    start = start.astype(np.int32)
    results = []
    for threads, chunks in ((1, 1), (2, 3)):
        numba.set_num_threads(threads)
        tt = TTable.from_corpus(corpus)
        params = FertilityParams(pegging=True, peggedcutoff=0.0)
        model = fz.train_fertility(corpus, tt, start, [("3", 2), ("4", 2)], src_class, tgt_class, params, chunks)
        results.append((model, tt, align_fertility(model, tt, corpus, start)))
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    (m1, t1, al1), (m2, t2, al2) = results
    for name, value in m1.to_arrays().items():
        if name != "log_values":
            assert np.array_equal(value, m2.to_arrays()[name]), name
    assert np.array_equal(t1.probs, t2.probs)
    assert np.array_equal(al1[0], al2[0]) and np.array_equal(al1[1], al2[1])


def test_pegged_e_step_is_thread_independent_and_sums_over_more_than_the_neighbourhood():
    """Same counts with 1 worker and 3 workers on 2 threads; a* is a centre, so each sentence's sum
    over the union is at least that over N(a*), and larger where the union adds alignments."""
    corpus = small_corpus()
    pairs = pair_lists(corpus)
    start = np.concatenate([no_null_start(len(s), len(t)) for s, t in pairs]).astype(np.int32)
    results = {}
    for peg, threads, chunks in ((True, 1, 1), (True, 2, 3), (False, 2, 2)):
        numba.set_num_threads(threads)
        model, tt = random_model(corpus, 14, FertilityParams(maxfertility=3, pegging=peg))
        model.last_model = "4"
        out = fz._run_corpus(model, tt, corpus, start, model.n_table, model.src_class, model.tgt_class, True, True,
                             True, True, True, chunks)
        results[(peg, chunks)] = [out[0], out[1], out[2]] + [reduce_counts(c) for c in out[3:9]]
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    for got, expected in zip(results[(True, 1)], results[(True, 3)]):
        assert np.array_equal(got, expected)
    pegged, plain = results[(True, 1)][2], results[(False, 2)][2]
    assert (pegged >= plain - 1e-12).all() and (pegged > plain + 1e-3).sum() >= len(pairs) // 2


def test_peggedcutoff_out_of_range_is_rejected():
    corpus = toy_training_corpus()
    start = np.ones(len(corpus.tgt.ids), np.int32)
    classes = np.zeros(len(corpus.src_vocab), np.int32), np.zeros(len(corpus.tgt_vocab), np.int32)
    with pytest.raises(ValueError, match="peggedcutoff"):
        fz.train_fertility(corpus, TTable.from_corpus(corpus), start, [("3", 1)], *classes,
                           FertilityParams(pegging=True, peggedcutoff=1.5))
