"""The fertility kernels' log tables: taken once per pass (``ibm3.logs_if_used``) or per cell when
a pass is small; the two ways must give the same bits, for float32 and float64 t-table storage."""
import numpy as np
import pytest

from eegiza.models import fertility_estep, ibm3
from eegiza.models.fertility import pass_logs

FLOOR = 1e-7


def _tables(rng, dtype):
    n_src, n_tgt, maxfert = 6, 7, 5
    indptr = np.arange(0, n_src * n_tgt + 1, n_tgt, dtype=np.int64)     # every pair co-occurs
    indices = np.tile(np.arange(n_tgt, dtype=np.int32), n_src)
    probs = rng.random(n_src * n_tgt).astype(dtype)
    probs[6] = 1e-12                                                   # t(f=6 | NULL) below the floor
    n_probs = rng.random((n_src, maxfert))
    return indptr, indices, probs, n_probs


def test_logs_if_used_is_empty_for_a_small_pass_and_floored_otherwise():
    values = np.array([0.5, 1e-12, 0.25])
    assert ibm3.logs_if_used(values, FLOOR, 2).shape == (0,)
    assert ibm3.logs_if_used(np.ones((4, 3)), FLOOR, 5).shape == (0, 3)
    full = ibm3.logs_if_used(values, FLOOR, 3)
    assert full.tolist() == [np.log(0.5), np.log(FLOOR), np.log(0.25)]
    assert ibm3.logs_if_used(values.astype(np.float32), FLOOR, 3).dtype == np.float64


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sentence_tables_are_the_same_with_and_without_the_pass_logs(dtype):
    rng = np.random.default_rng(5)
    indptr, indices, probs, n_probs = _tables(rng, dtype)
    keys = np.zeros(0, np.int64)                       # empty distortion table: uniform d
    dims = np.zeros(0, np.int64)
    offsets = np.zeros(1, np.int64)
    dprobs = np.zeros(0)
    e_sent = np.array([1, 2, 5, 3], np.int32)
    f_sent = np.array([0, 6, 2], np.int32)
    classes = np.zeros(8, np.int32)
    common = (keys, dims, dims, offsets, dprobs)

    def tables(log_t, log_n, log_d):
        return fertility_estep.sentence_tables(e_sent, f_sent, True, indptr, indices, probs, log_t, FLOOR, n_probs,
                                               log_n, *common, log_d, False, True, np.log(0.9), np.log(0.1), 0,
                                               classes, classes, np.zeros(0, np.int32))

    per_cell = tables(probs[:0], n_probs[:0], dprobs[:0])
    per_pass = tables(ibm3.floored_logs(probs, FLOOR), ibm3.floored_logs(n_probs, FLOOR),
                      ibm3.floored_logs(dprobs, FLOOR))
    for a, b in zip(per_cell, per_pass):
        assert np.array_equal(a, b)
    lt = per_cell[0]
    assert lt[1, 0] == np.log(np.float64(probs[indptr[1] + 0]))   # e_1 = 1, f_1 = 0: the stored probability's log
    assert lt[0, 1] == np.log(FLOOR)                              # NULL, f_2 = 6: floored


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_tables_take_their_logs_serially_with_the_parallel_kernels_bits(dtype):
    """floored_logs of a table below ibm3.SERIAL_LOGS entries runs on this thread (a parallel
    launch cost more than the logs of a few pairs' tables); both kernels give the same bits."""
    rng = np.random.default_rng(11)
    values = rng.random(5000).astype(dtype) ** 8                       # many below the floor
    values[:3] = [0.0, 1.0, FLOOR]
    serial, parallel = np.empty(len(values)), np.empty(len(values))
    ibm3._floored_logs_serial(values, FLOOR, serial)
    ibm3._floored_logs(values, FLOOR, parallel)
    assert (values < FLOOR).sum() > 100
    np.testing.assert_array_equal(serial.view(np.int64), parallel.view(np.int64))
    np.testing.assert_array_equal(ibm3.floored_logs(values.reshape(50, 100), FLOOR), serial.reshape(50, 100))
    assert serial[0] == np.log(FLOOR) and serial[1] == 0.0
