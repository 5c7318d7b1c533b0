"""The HMM Viterbi kernel (hmm._sentence_viterbi: the maximum over previous states taken with the
previous state in the outer loop, so the inner loop runs along a row of the jump matrix) against a
pure-Python recursion taking, for each state, the maximum over previous states one state at a time
in increasing order (the first one on ties, as the kernel did before): the same links and scores,
on random tables and on tables full of ties (uniform jumps, repeated words)."""
import math

import numpy as np
import pytest

from eegiza.models import hmm


def reference_viterbi(R, S, er, en, p_null):
    """Viterbi path (0 = NULL, else 1-based source position) and log-score of one pair, the states
    being the l real positions, their l NULL twins and the start-NULL state, as the kernel has them."""
    m, l = er.shape
    q = 1.0 - p_null
    n = 2 * l + 1
    d = [0.0] * n
    for i in range(l):
        d[i] = q * S[i] * er[0, i]
    d[2 * l] = p_null * en[0]
    back = [[0] * n for _ in range(m)]
    score, ties = 0.0, 0
    for j in range(m):
        if j > 0:
            mem = [(d[l + p], l + p) if d[l + p] > d[p] else (d[p], p) for p in range(l)]
            nd = [0.0] * n
            for i in range(l):
                best, arg = d[2 * l] * S[i], 2 * l
                for p in range(l):
                    v = mem[p][0] * R[p, i]
                    ties += v == best
                    if v > best:
                        best, arg = v, mem[p][1]
                nd[i] = er[j, i] * q * best
                back[j][i] = arg
            for p in range(l):
                nd[l + p] = en[j] * p_null * mem[p][0]
                back[j][l + p] = mem[p][1]
            nd[2 * l] = en[j] * p_null * d[2 * l]
            back[j][2 * l] = 2 * l
            d = nd
        z = max([0.0] + d)
        score += math.log(z)
        d = [x / z for x in d]
    state = max(range(n), key=lambda s: (d[s], -s))   # the first state of the largest value
    out = [0] * m
    for j in range(m - 1, -1, -1):
        out[j] = state + 1 if state < l else 0
        state = back[j][state]
    return out, score, ties


def _case(rng, l, m, n_words, uniform):
    """A pair of l source and m target words with its slots into a random (or uniform) t-table."""
    e_sent = rng.integers(1, n_words, l).astype(np.int32)
    n_slots = 2 * n_words
    probs = np.full(n_slots, 0.25) if uniform else rng.uniform(0.01, 1.0, n_slots)
    tgt = rng.integers(0, n_words, m)
    slots = np.empty(m * (l + 1), np.int64)
    for j in range(m):
        slots[j * (l + 1)] = n_words + tgt[j]                              # the NULL row
        for i in range(l):                                                 # slot of (e_i, f_j), -1 for some
            slots[j * (l + 1) + 1 + i] = -1 if (e_sent[i] + tgt[j]) % 7 == 0 else (e_sent[i] * 3 + tgt[j]) % n_words
    n_classes = 3
    src_class = rng.integers(0, n_classes, n_words).astype(np.int32)
    jump = np.ones((n_classes, hmm.N_JUMP_BUCKETS)) if uniform else rng.uniform(0.5, 2.0, (n_classes,
                                                                                         hmm.N_JUMP_BUCKETS))
    start = np.ones(hmm.MAX_JUMP + 1) if uniform else rng.uniform(0.5, 2.0, hmm.MAX_JUMP + 1)
    return e_sent, m, slots, probs, src_class, jump, start


@pytest.mark.parametrize("uniform", [False, True])
def test_viterbi_kernel_equals_the_state_by_state_recursion(uniform):
    rng = np.random.default_rng(11 if uniform else 5)
    ties = 0
    for l, m in [(1, 1), (1, 4), (3, 2), (7, 9), (20, 18), (33, 40)]:
        for smooth, p_null in [(0.2, 0.2), (0.0, 0.05)]:
            e_sent, m, slots, probs, src_class, jump, start = _case(rng, l, m, 12, uniform)
            out = np.zeros(m, np.int32)
            score = hmm._sentence_viterbi(e_sent, m, slots, probs, 1e-7, src_class, jump, start, p_null, smooth, out)
            R, S = hmm._transitions(e_sent, src_class, jump, start, smooth)
            er, en = hmm._emissions(l, m, slots, probs, 1e-7)
            expected, expected_score, n_ties = reference_viterbi(R, S, er, en, p_null)
            assert out.tolist() == expected
            assert score == pytest.approx(expected_score, rel=1e-12)
            ties += n_ties
    if uniform:   # the tie rule is exercised (a last-on-ties rule gives other links in 3 of these cases)
        assert ties > 100
