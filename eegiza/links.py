"""Alignment links between the model's flat per-token form and per-sentence (i, j) links.

A directional model aligns each of its target tokens to one source position (0 = NULL, else
1-based): a flat array parallel to its target ids. :func:`directional_links` turns that into links
``(i, j)`` of the *corpus* (i into the source side, j into the target side, 0-based) as flat arrays
with per-sentence offsets, the layout :func:`eegiza.symmetrize.symmetrize_flat` takes. For the
reverse model (trained on the swapped corpus) the pair is flipped back to source-first order.
"""
from __future__ import annotations

from typing import List, Tuple

import numpy as np

from .formats.pharaoh import gc_paused

Link = Tuple[int, int]


def directional_links(positions: np.ndarray, observed_offsets: np.ndarray, reverse: bool):
    """(i, j, offsets) of the non-NULL links; ``observed_offsets`` are the sentence offsets of the
    side whose tokens ``positions`` belongs to (the model's target side)."""
    n_sent = len(observed_offsets) - 1
    lengths = np.diff(observed_offsets)
    sentence = np.repeat(np.arange(n_sent, dtype=np.int64), lengths)
    token = np.arange(len(positions), dtype=np.int64) - observed_offsets[sentence]
    keep = positions > 0
    aligned = positions[keep].astype(np.int32) - 1   # int32 positions: a large corpus' links are many
    token = token[keep].astype(np.int32)
    per_sentence = np.bincount(sentence[keep], minlength=n_sent)
    offsets = np.zeros(n_sent + 1, np.int64)
    np.cumsum(per_sentence, out=offsets[1:])
    if reverse:
        return token, aligned, offsets
    return aligned, token, offsets


def to_lists(i: np.ndarray, j: np.ndarray, offsets: np.ndarray) -> List[List[Link]]:
    """Flat links -> one sorted list of (i, j) per sentence (sorted in NumPy, unless already
    sorted as the symmetrisations and the reverse direction give them: no Python sort per sentence).
    The tuples and lists are built with the cyclic garbage collector paused: they hold no cycles,
    and the collections their allocation triggers walk every tracked object of the process (in a
    program holding many, that was up to 3x the time of building them)."""
    if len(i) > 1:
        sentence = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
        key = (sentence * (int(i.max()) + 1) + i) * (int(j.max()) + 1) + j   # (sentence, i, j) order
        if np.any(key[1:] < key[:-1]):
            order = np.argsort(key, kind="stable")
            i, j = i[order], j[order]
    with gc_paused():
        pairs = _link_tuples(i, j)
        bounds = offsets.tolist()
        return [pairs[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


#: :func:`_link_tuples` makes one tuple per distinct link from this many links on.
SHARED_TUPLES = 1024


def _link_tuples(i: np.ndarray, j: np.ndarray) -> List[Link]:
    """The tuples (i[k], j[k]). Many links hold few distinct (i, j) (10,000 ro-en pairs: 116,658
    links), so a long list refers to one tuple per distinct link (equal tuples are the same object;
    tuples are immutable, so nothing can tell): 9 instead of 14 ms for those pairs' lists."""
    if len(i) < SHARED_TUPLES:
        return list(zip(i.tolist(), j.tolist()))
    n_j = int(j.max()) + 1
    keys, which = np.unique(np.asarray(i, np.int64) * n_j + j, return_inverse=True)
    distinct = list(zip((keys // n_j).tolist(), (keys % n_j).tolist()))
    return list(map(distinct.__getitem__, which.tolist()))
