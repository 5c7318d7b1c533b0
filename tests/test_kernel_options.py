"""The per-neighbour kernels of Models 3/4 are compiled without Numba's reference counting.

With it, every call of these small functions incremented and decremented the reference count of
each array argument with an atomic instruction (Numba's pruning pass misses the branchy patterns),
which cost half of a Model-4 iteration. The flag is easy to lose in an edit, so it is checked here;
that the kernels still compute the same thing is the job of test_ibm3.py / test_ibm4.py.
"""
import pytest

from eegiza.models import fertility_search, ibm2, ibm3, ibm4

PER_NEIGHBOUR_KERNELS = [
    ibm2.table_key, ibm2.find_block, ibm2.block_slot,  # per cell in ibm3.distortion_logs and the Model-2 E-step
    ibm3.entry_log, ibm3.move_delta, ibm3.swap_delta, ibm3.move_allowed,
    ibm4.distortion, ibm4.build_state, ibm4.change_delta, ibm4.move_change, ibm4.swap_change, ibm4._cept_log,
    ibm4.cept_state, ibm4.count_cepts, ibm4.change_count, ibm4._cept_count,
    fertility_search._model4_try, fertility_search._move_try, fertility_search._swap_try,
    fertility_search._best_improving, fertility_search._best_ranked,
    fertility_search._score,
]


@pytest.mark.parametrize("kernel", PER_NEIGHBOUR_KERNELS, ids=lambda k: k.py_func.__qualname__)
def test_per_neighbour_kernel_has_no_reference_counting(kernel):
    assert kernel.targetoptions.get("_nrt") is False
    assert kernel.targetoptions.get("nogil") is True
