"""Pruning of negligible t(f|e) entries once Model 1 and the HMM are trained (GIZA++'s ``probcutoff``).

A t-table holds every co-occurring (e, f) pair, but after Model 1 and the HMM many carry no more
than the floor every lookup takes anyway (``prob_smooth``, 1e-7): on de-en (101k pairs) 28% of
the forward entries and 43% of the reverse ones are below 1e-7. Models 3/4 and the final alignment
pass hold, besides the tables, one count and one log per entry. GIZA++ removes the entries below
``probcutoff`` (1e-7) at every normalisation; eegiza removes them once, when a direction's Model
1/2/HMM iterations are done (``AlignerConfig.t_cutoff``, :meth:`eegiza.train._DirectionTraining.prune_negligible_t`),
each direction from its own table. Measured with ``eegiza align`` (2026-12-06, gdfa AER and peak
MB, cutoff 0 -> 1e-7): ro-en 25.61 -> 25.73, 405 -> 384; de-en 22.72 -> 22.68, 944 -> 830; en-fr
100k 6.88 -> 6.90, 964 -> 747. That is training by agreement, the default; trained independently
(``--no-agreement --min-link-posterior 0 --cognate-lambda 0``, GIZA++-like) the same cutoff cost
ro-en 0.56, de-en 0.17 and en-fr 0.14 AER, so there the default cutoff is 0
(``AlignerConfig.effective_t_cutoff``): the joint E-step already gives a pair that one direction
rates below 1e-7 almost no count. Part of the memory is the slots: the two directions' tables no
longer hold the same pairs, so the reverse direction searches its sentence slots instead of
deriving them from the forward ones (:mod:`eegiza.slot_transpose`), and the two slot arrays are
never held at once. Higher cutoffs cost accuracy (measured with both tables pruned together): 1e-6
gave en-fr 100k 7.13 (+0.25), 1e-5 ro-en 26.14 (+0.5); Models 3/4 can no longer raise a removed
pair (a rare word's translation the HMM left small).

The NULL row is never pruned. Rows are not renormalised (the next M-step normalises them; the mass
removed is below the cutoff times the row's length). A pruned table replaces its arrays; whatever
numbers its entries (the corpus' sentence slots, a prior's sparse slots) is renumbered with the
old-to-new map :func:`prune_table` returns (-1: removed, then looked up as the floor).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange


def own_keep(ttable, cutoff: float) -> np.ndarray:
    """The entries of ``ttable`` to keep: t >= ``cutoff``, and the whole NULL row."""
    keep = np.asarray(ttable.probs >= cutoff)
    keep[ttable.indptr[0]:ttable.indptr[1]] = True
    return keep


@njit(cache=True, nogil=True)
def _pruned_arrays(indptr, indices, probs, keep):
    """(indptr, indices, probs) of the kept entries."""
    n_kept = 0
    for s in range(len(keep)):
        if keep[s]:
            n_kept += 1
    new_indptr = np.zeros(len(indptr), np.int64)
    new_indices = np.empty(n_kept, indices.dtype)
    new_probs = np.empty(n_kept, probs.dtype)
    t = 0
    for e in range(len(indptr) - 1):
        for s in range(indptr[e], indptr[e + 1]):
            if keep[s]:
                new_indices[t] = indices[s]
                new_probs[t] = probs[s]
                t += 1
        new_indptr[e + 1] = t
    return new_indptr, new_indices, new_probs


@njit(cache=True, nogil=True)
def _fill_remap(keep, remap):
    t = 0
    for s in range(len(keep)):
        if keep[s]:
            remap[s] = t
            t += 1
        else:
            remap[s] = -1


def prune_table(ttable, keep: np.ndarray) -> np.ndarray:
    """Keep only the entries ``keep`` of ``ttable`` (its arrays are replaced); returns the slot
    map: new slot of each old slot, -1 for a removed entry (int32 while slots fit). The map is
    made once the old arrays are gone (their memory, not the map's, is what the new arrays need)."""
    keep = np.ascontiguousarray(keep, np.bool_)
    ttable.indptr, ttable.indices, ttable.probs = _pruned_arrays(ttable.indptr, ttable.indices, ttable.probs, keep)
    remap = np.empty(len(keep), np.int32 if len(keep) < 2 ** 31 else np.int64)
    _fill_remap(keep, remap)
    return remap


def slot_map(old_table, new_table) -> np.ndarray:
    """The map :func:`prune_table` returned for ``old_table`` -> ``new_table`` (the pruned table),
    recomputed from the two tables (a run resumed after pruning renumbers its prior with it)."""
    remap = np.full(old_table.nnz, -1, np.int32 if old_table.nnz < 2 ** 31 else np.int64)
    old = old_table.find_slots(new_table.row_ids(), new_table.indices)
    if np.any(old < 0):
        raise ValueError("the pruned t-table holds pairs the full one does not")
    remap[old] = np.arange(new_table.nnz)
    return remap


@njit(cache=True, nogil=True, parallel=True)
def remap_slots(slots, remap):
    """Renumber sentence slots in place through a :func:`prune_table` map (-1 stays -1)."""
    for k in prange(len(slots)):
        s = slots[k]
        if s >= 0:
            slots[k] = remap[s]
