"""Symmetrisation of two directional word alignments (Koehn, Axelrod, Birch et al. 2005,
"Edinburgh System Description for the 2005 IWSLT Speech Translation Evaluation").

Links are ``(i, j)``: ``i`` a 0-based source position, ``j`` a 0-based target position. ``fwd`` is
the alignment of the model P(tgt | src) (each target word linked to at most one source word),
``rev`` that of P(src | tgt), both already written in (i, j) order. Methods:

* ``intersection`` / ``union`` of the two link sets;
* ``grow-diag``: start from the intersection, then repeatedly add a union link (i, j) when source
  word i or target word j is still unaligned and one of its 8 neighbours (horizontal, vertical,
  diagonal) is already in the alignment; passes go over the remaining candidates in (i, j) order,
  each pass seeing the links added earlier in it, until a pass adds nothing;
* ``grow-diag-final``: then add the fwd links, then the rev links (each in (i, j) order) whose
  source word OR target word is still unaligned;
* ``grow-diag-final-and``: the same, where source word AND target word are both unaligned.

This is the behaviour of fast_align's ``atools`` (same links as ``atools -c <method>`` on whole
benchmark corpora). ``symmetrize`` is the plain-Python version for one sentence;
``symmetrize_flat``/``symmetrize_corpus`` run the same algorithm in a Numba kernel over a corpus.
"""
from __future__ import annotations

from itertools import chain
from typing import Iterable, List, Sequence, Tuple

import numpy as np
from numba import njit

from .links import to_lists

Link = Tuple[int, int]

METHODS = ("intersection", "union", "grow-diag", "grow-diag-final", "grow-diag-final-and")
_INTERSECTION, _UNION, _GROW_DIAG, _GDF, _GDFA = range(len(METHODS))
_NEIGHBOURS = ((-1, 0), (0, -1), (1, 0), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))


def _method_code(method: str) -> int:
    try:
        return METHODS.index(method)
    except ValueError:
        raise ValueError(f"unknown symmetrisation method {method!r}; choose one of {METHODS}") from None


def _check_links(links: Iterable[Link], src_len: int, tgt_len: int, what: str) -> set:
    links = set((int(i), int(j)) for i, j in links)
    for i, j in links:
        if not (0 <= i < src_len and 0 <= j < tgt_len):
            raise ValueError(f"{what} link {i}-{j} outside a {src_len}x{tgt_len} sentence pair")
    return links


def symmetrize(fwd_links: Iterable[Link], rev_links: Iterable[Link], src_len: int, tgt_len: int,
               method: str = "grow-diag-final-and") -> List[Link]:
    """Symmetrised alignment of one sentence pair, as a sorted list of (i, j)."""
    code = _method_code(method)
    fwd = _check_links(fwd_links, src_len, tgt_len, "fwd")
    rev = _check_links(rev_links, src_len, tgt_len, "rev")
    if code == _INTERSECTION:
        return sorted(fwd & rev)
    if code == _UNION:
        return sorted(fwd | rev)

    alignment = set()
    src_aligned = [False] * src_len
    tgt_aligned = [False] * tgt_len

    def add(i, j):
        alignment.add((i, j))
        src_aligned[i] = tgt_aligned[j] = True

    for i, j in fwd & rev:
        add(i, j)
    candidates = sorted((fwd | rev) - alignment)
    while True:  # grow-diag
        added = []
        for i, j in candidates:
            if (not (src_aligned[i] and tgt_aligned[j])
                    and any((i + di, j + dj) in alignment for di, dj in _NEIGHBOURS)):
                add(i, j)
                added.append((i, j))
        if not added:
            break
        candidates = [link for link in candidates if link not in alignment]
    if code in (_GDF, _GDFA):  # final(-and): fwd links first, then rev links
        for i, j in chain(sorted(fwd), sorted(rev)):
            if (i, j) in alignment:
                continue
            if code == _GDF:
                ok = not (src_aligned[i] and tgt_aligned[j])
            else:
                ok = not src_aligned[i] and not tgt_aligned[j]
            if ok:
                add(i, j)
    return sorted(alignment)


# --- whole corpus -------------------------------------------------------------------------------
# Grid cell bits for the current sentence (cell = i * m + j).
_FWD, _REV, _OUT = 1, 2, 4


@njit(cache=True, nogil=True)
def _symmetrize_kernel(fwd_i, fwd_j, fwd_off, rev_i, rev_j, rev_off, src_lens, tgt_lens, code,
                       out_i, out_j, out_off):
    n = src_lens.shape[0]
    max_cells = 1
    max_l = 1
    max_m = 1
    for s in range(n):
        max_cells = max(max_cells, src_lens[s] * tgt_lens[s])
        max_l = max(max_l, src_lens[s])
        max_m = max(max_m, tgt_lens[s])
    grid = np.zeros(max_cells, np.uint8)
    src_aligned = np.zeros(max_l, np.bool_)
    tgt_aligned = np.zeros(max_m, np.bool_)
    pos = 0
    out_off[0] = 0
    for s in range(n):
        l = src_lens[s]
        m = tgt_lens[s]
        nf = fwd_off[s + 1] - fwd_off[s]
        nr = rev_off[s + 1] - rev_off[s]
        cells = np.empty(nf + nr, np.int64)
        for k in range(nf):
            c = fwd_i[fwd_off[s] + k] * m + fwd_j[fwd_off[s] + k]
            grid[c] |= _FWD
            cells[k] = c
        for k in range(nr):
            c = rev_i[rev_off[s] + k] * m + rev_j[rev_off[s] + k]
            grid[c] |= _REV
            cells[nf + k] = c
        cells.sort()
        # distinct union cells, in (i, j) order
        n_union = 0
        for k in range(nf + nr):
            if n_union == 0 or cells[k] != cells[n_union - 1]:
                cells[n_union] = cells[k]
                n_union += 1
        src_aligned[:l] = False
        tgt_aligned[:m] = False
        for k in range(n_union):
            c = cells[k]
            b = grid[c]
            if code == _UNION or (b & (_FWD | _REV)) == (_FWD | _REV):  # union, or the intersection
                grid[c] |= _OUT
                src_aligned[c // m] = True
                tgt_aligned[c % m] = True
        if code >= _GROW_DIAG:
            pending = np.empty(n_union, np.int64)
            n_pending = 0
            for k in range(n_union):
                if (grid[cells[k]] & _OUT) == 0:
                    pending[n_pending] = cells[k]
                    n_pending += 1
            grown = True
            while grown:  # grow-diag passes over the remaining union links
                grown = False
                kept = 0
                for k in range(n_pending):
                    c = pending[k]
                    i = c // m
                    j = c % m
                    ok = False
                    if not (src_aligned[i] and tgt_aligned[j]):
                        for di in range(-1, 2):
                            for dj in range(-1, 2):
                                ii = i + di
                                jj = j + dj
                                if ((di != 0 or dj != 0) and 0 <= ii < l and 0 <= jj < m
                                        and (grid[ii * m + jj] & _OUT) != 0):
                                    ok = True
                    if ok:
                        grid[c] |= _OUT
                        src_aligned[i] = True
                        tgt_aligned[j] = True
                        grown = True
                    else:
                        pending[kept] = c
                        kept += 1
                n_pending = kept
            if code >= _GDF:  # final / final-and: fwd links, then rev links
                for direction in (_FWD, _REV):
                    for k in range(n_union):
                        c = cells[k]
                        if (grid[c] & direction) != 0 and (grid[c] & _OUT) == 0:
                            i = c // m
                            j = c % m
                            if code == _GDF:
                                ok = not (src_aligned[i] and tgt_aligned[j])
                            else:
                                ok = not src_aligned[i] and not tgt_aligned[j]
                            if ok:
                                grid[c] |= _OUT
                                src_aligned[i] = True
                                tgt_aligned[j] = True
        for k in range(n_union):
            c = cells[k]
            if grid[c] & _OUT:
                out_i[pos] = c // m
                out_j[pos] = c % m
                pos += 1
            grid[c] = 0
        out_off[s + 1] = pos
    return pos


@njit(cache=True, nogil=True)
def _first_outside(i, j, off, src_lens, tgt_lens):
    """(sentence, link) of the first link outside its sentence pair, or (-1, -1)."""
    for s in range(src_lens.shape[0]):
        for k in range(off[s], off[s + 1]):
            if i[k] < 0 or j[k] < 0 or i[k] >= src_lens[s] or j[k] >= tgt_lens[s]:
                return s, k
    return -1, -1


def _check_flat(i, j, off, src_lens, tgt_lens, what):
    n = src_lens.shape[0]
    if off.shape[0] != n + 1 or off[0] != 0 or np.any(np.diff(off) < 0) or off[-1] != i.shape[0]:
        raise ValueError(f"{what} offsets do not describe {n} sentences over {i.shape[0]} links")
    s, k = _first_outside(i, j, off, src_lens, tgt_lens)
    if s >= 0:
        raise ValueError(f"{what} link {i[k]}-{j[k]} of sentence {s} (0-based) outside its "
                         f"{src_lens[s]}x{tgt_lens[s]} sentence pair")


def _positions(values, what: str) -> np.ndarray:
    """Link positions as int32, refusing what would not survive the conversion (a position of 2^31
    or more would wrap to another one, a fraction be cut)."""
    arr = np.asarray(values)
    if arr.dtype != np.int32 and arr.size:
        if not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"{what} link positions must be integers, not {arr.dtype}")
        lowest, highest = arr.min(), arr.max()
        if lowest < 0 or highest > np.iinfo(np.int32).max:
            raise ValueError(f"{what} link position {int(lowest if lowest < 0 else highest)} "
                             "is outside 0..2147483647")
    return np.ascontiguousarray(arr, dtype=np.int32)


def symmetrize_flat(fwd_i, fwd_j, fwd_offsets, rev_i, rev_j, rev_offsets, src_lens, tgt_lens,
                    method: str = "grow-diag-final-and"):
    """Symmetrise a corpus given as flat arrays: the links of sentence s are
    ``(x_i[k], x_j[k])`` for ``x_offsets[s] <= k < x_offsets[s + 1]``.
    Returns ``(out_i, out_j, out_offsets)`` in the same layout, each sentence sorted by (i, j);
    positions are int32 (a large corpus has many links), offsets int64."""
    code = _method_code(method)
    fwd_i, fwd_j, rev_i, rev_j = (_positions(a, what) for a, what in
                                  ((fwd_i, "fwd"), (fwd_j, "fwd"), (rev_i, "rev"), (rev_j, "rev")))
    fwd_offsets, rev_offsets, src_lens, tgt_lens = (
        np.ascontiguousarray(a, dtype=np.int64) for a in (fwd_offsets, rev_offsets, src_lens, tgt_lens))
    if src_lens.shape != tgt_lens.shape or src_lens.ndim != 1:
        raise ValueError("src_lens and tgt_lens must be 1-D and of the same length")
    if fwd_i.shape != fwd_j.shape or rev_i.shape != rev_j.shape:
        raise ValueError("i and j arrays of a direction must have the same length")
    _check_flat(fwd_i, fwd_j, fwd_offsets, src_lens, tgt_lens, "fwd")
    _check_flat(rev_i, rev_j, rev_offsets, src_lens, tgt_lens, "rev")
    size = fwd_i.shape[0] + rev_i.shape[0]
    out_i = np.empty(size, np.int32)
    out_j = np.empty(size, np.int32)
    out_off = np.empty(src_lens.shape[0] + 1, np.int64)
    n_out = _symmetrize_kernel(fwd_i, fwd_j, fwd_offsets, rev_i, rev_j, rev_offsets,
                               src_lens, tgt_lens, code, out_i, out_j, out_off)
    return out_i[:n_out].copy(), out_j[:n_out].copy(), out_off


def _flatten(corpus: Sequence[Iterable[Link]]):
    counts = np.fromiter(map(len, corpus), np.int64, len(corpus))
    offsets = np.zeros(len(corpus) + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    flat = np.fromiter(chain.from_iterable(chain.from_iterable(corpus)), np.int64,
                       2 * int(offsets[-1]))
    return flat[0::2], flat[1::2], offsets


def symmetrize_corpus(fwd: Sequence[Iterable[Link]], rev: Sequence[Iterable[Link]], src_lens,
                      tgt_lens, method: str = "grow-diag-final-and") -> List[List[Link]]:
    """``symmetrize`` on every sentence of a corpus (lists of per-sentence link lists), fast."""
    if not (len(fwd) == len(rev) == len(src_lens) == len(tgt_lens)):
        raise ValueError(f"corpus sizes differ: fwd {len(fwd)}, rev {len(rev)}, "
                         f"src_lens {len(src_lens)}, tgt_lens {len(tgt_lens)}")
    out_i, out_j, out_off = symmetrize_flat(*_flatten(fwd), *_flatten(rev), src_lens, tgt_lens,
                                            method)
    return to_lists(out_i, out_j, out_off)
