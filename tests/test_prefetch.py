"""The prefetching kernels (eegiza.atomic.prefetch) against plain Python: prefetching must change no
value, for blocks shorter and longer than the look-ahead, with missing slots (-1) among them."""
import numpy as np
import pytest

from eegiza.atomic import PREFETCH_AHEAD
from eegiza.models import hmm, ibm1
from eegiza.ttable import COUNT_SCALE, add_slot_counts


def random_block(rng, l, m, nnz):
    slots = rng.integers(-1, nnz, m * (l + 1)).astype(np.int32)
    slots[rng.random(len(slots)) < 0.2] = -1
    return slots


@pytest.mark.parametrize("l, m", [(1, 1), (3, 4), (9, 11), (30, 25)])   # blocks of 2 to 775 slots
def test_add_slot_counts_adds_every_posterior_once(l, m):
    rng = np.random.default_rng(l * 100 + m)
    nnz = 500
    slots = random_block(rng, l, m, nnz)
    gamma = rng.random((m, l + 1))
    counts = np.zeros(nnz, np.int64)
    add_slot_counts(gamma, slots, counts)
    expected = np.zeros(nnz, np.int64)
    for x, s in enumerate(slots):
        if s >= 0:
            expected[s] += int(gamma.ravel()[x] * COUNT_SCALE + 0.5)
    np.testing.assert_array_equal(counts, expected)


def test_the_parameters_cover_blocks_on_both_sides_of_the_look_ahead():
    sizes = [m * (l + 1) for l, m in [(1, 1), (3, 4), (9, 11), (30, 25)]]
    assert min(sizes) < PREFETCH_AHEAD < max(sizes)


@pytest.mark.parametrize("l, m", [(2, 3), (30, 25)])
def test_gathers_read_the_slots_probabilities(l, m):
    rng = np.random.default_rng(7 + l)
    nnz, floor = 400, 1e-4
    slots = random_block(rng, l, m, nnz)
    probs = rng.random(nnz) * 0.01
    def p(s):
        return max(probs[s], floor) if s >= 0 else floor
    gamma, _ = ibm1.sentence_posteriors(l, m, slots, probs, floor)
    for j in range(m):
        row = [p(slots[j * (l + 1) + i]) for i in range(l + 1)]
        assert gamma[j] == pytest.approx(np.array(row) / sum(row), rel=1e-12)
    er, en = hmm._emissions(l, m, slots, probs, floor)
    for j in range(m):
        assert en[j] == p(slots[j * (l + 1)])
        assert list(er[j]) == [p(slots[j * (l + 1) + 1 + i]) for i in range(l)]
