"""Distance buckets shared by the jump and distortion tables of the HMM and Model 4."""
from numba import njit


@njit(cache=True, nogil=True, inline="always")
def clamped_bucket(delta, half):
    """Index of a jump or displacement ``delta`` in a table of width 2 * half + 1: widths beyond
    +-half share the end buckets."""
    if delta > half:
        delta = half
    elif delta < -half:
        delta = -half
    return delta + half
