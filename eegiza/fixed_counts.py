"""Fixed-point expected counts of the t-table, in about 5 bytes an entry instead of 8.

The E-step kernels add link posteriors to the counts of t-table entries as integers
(:data:`COUNT_SCALE` units a unit of probability mass), atomically, into one array every thread
shares: integer sums do not depend on the order of the adds, so the counts are bit-identical for
any number of threads (:mod:`eegiza.atomic`). An int64 an entry holds any count; this module holds
most of them in a uint32, exactly.

Bound. A target token's posteriors over the source positions (NULL included) sum to at most 1 in
every kernel that counts t: Model 1, the HMM, their agreement (which rescales each row to the mass
it had) and the Model 3/4 neighbourhoods (each alignment's weight is its share of the
neighbourhood). So the count of entry (e, f) is at most its number of *cells*: the (sentence,
source position, target position) triples whose slot is the entry. With ``n`` cells an entry's
fixed-point count is at most ``n * 2**30`` plus half a unit an add for rounding; an entry of at
most :data:`LIGHT_CELLS` = 3 cells stays below 3.0000001 * 2**30 < :data:`HEAVY_BASE` < 2**32.
Those *light* entries (89% of de-en's and ro-en's t-table entries, 82% of en-fr 100k's) keep their
count in the uint32; the others (*heavy*) in an int64 of their own: 4.9 and 5.4 bytes an entry.

Layout (:class:`CountLayout`, made once per table from a pass that counts the cells): ``low``, a
uint32 per entry, holds a light entry's count and, for a heavy entry, ``HEAVY_BASE`` + its index
in ``heavy``, a value no light count reaches and no add changes. A kernel reads ``low[s]`` to tell
which it is (a light value a concurrent add changes stays below ``HEAVY_BASE``) and adds
atomically to one or the other: the sums are the int64 sums, bit for bit (:func:`add_split`). :func:`to_float` then turns the counts into float32 in
``low``'s own memory for the M-step of a float32 table, which sums them in float64; the single
rounding of each count to float32 is below the precision the table is stored in (a float64
table gets float64 counts, in a new array).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from .atomic import atomic_add

COUNT_SCALE = float(2 ** 30)
#: entries with at most this many cells hold their count in 32 bits (see the module docstring)
LIGHT_CELLS = 3
#: a heavy entry's ``low`` value: HEAVY_BASE + its index in ``heavy``
HEAVY_BASE = 0xF000_0000
_MAX_HEAVY = 2 ** 32 - HEAVY_BASE


class CountLayout:
    """Which entries of a t-table (``nnz`` of them) hold their counts in 64 bits: ``heavy`` (sorted
    positions), those with more than :data:`LIGHT_CELLS` cells."""

    def __init__(self, nnz: int, heavy: np.ndarray):
        if len(heavy) >= _MAX_HEAVY:
            raise ValueError(f"{len(heavy)} heavy t-table entries: at most {_MAX_HEAVY - 1} fit the layout")
        self.nnz, self.heavy = int(nnz), np.asarray(heavy, np.int64)

    @classmethod
    def from_cells(cls, cells: np.ndarray) -> "CountLayout":
        """The layout of a table whose entry s has ``cells[s]`` cells (any integer dtype)."""
        return cls(len(cells), np.flatnonzero(cells > LIGHT_CELLS))

    def zeros(self) -> tuple:
        """Zero counts in this layout: (low, heavy) for :func:`add_split`."""
        low = np.zeros(self.nnz, np.uint32)
        low[self.heavy] = HEAVY_BASE + np.arange(len(self.heavy), dtype=np.uint32)
        return low, np.zeros(len(self.heavy), np.int64)

    @property
    def nbytes(self) -> int:
        """What one set of counts in this layout takes."""
        return 4 * self.nnz + 8 * len(self.heavy)


EMPTY_COUNTS = (np.zeros(0, np.uint32), np.zeros(0, np.int64))


@njit(cache=True, nogil=True, _nrt=False)   # no reference counting per add (eegiza.atomic's docstring)
def add_split(low, heavy, s, value):
    """``counts[s] += value`` atomically for split counts (low, heavy) of :meth:`CountLayout.zeros`
    (``value``: an int64 fixed-point value)."""
    v = low[s]
    if v < HEAVY_BASE:
        atomic_add(low, s, value)
    else:
        atomic_add(heavy, np.int64(v) - HEAVY_BASE, value)


@njit(cache=True, nogil=True)
def add_cells(block, cells):
    """One cell for every slot of a sentence's block (-1: none) into ``cells`` (atomically)."""
    for x in range(len(block)):
        s = block[x]
        if s >= 0:
            atomic_add(cells, s, 1)


@njit(cache=True, nogil=True, parallel=True)
def _split_to_float(low, heavy, out):
    scale = 1.0 / COUNT_SCALE
    for s in prange(len(low)):
        v = low[s]
        out[s] = (heavy[np.int64(v) - HEAVY_BASE] if v >= HEAVY_BASE else np.int64(v)) * scale


def to_float(counts: tuple, dtype=np.float32) -> np.ndarray:
    """Float counts from split counts: float32 in ``low``'s own memory (the counts are consumed),
    or float64 in a new array (for a table stored in float64: the counts as exact as int64 ones)."""
    low, heavy = counts
    out = low.view(np.float32) if np.dtype(dtype) == np.float32 else np.empty(len(low), np.float64)
    _split_to_float(low, heavy, out)
    return out


def to_int64(counts: tuple) -> np.ndarray:
    """The int64 fixed-point counts of split counts (a new array)."""
    low, heavy = counts
    out = low.astype(np.int64)
    is_heavy = low >= HEAVY_BASE
    out[is_heavy] = heavy[low[is_heavy].astype(np.int64) - HEAVY_BASE]
    return out
