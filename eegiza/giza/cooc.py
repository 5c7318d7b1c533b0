"""The co-occurrence set of a `.snt` corpus, as `snt2cooc.out` writes it (:mod:`eegiza.cli.giza_tools`):
every pair (e, f) of a source word e (NULL = 0 or a source id) and a target word f that occur in one
sentence pair, sorted by e then f, each once (with `-counts`: how many sentence pairs have it).

It is built in chunks: a Numba kernel writes the key e*V+f of every (e, f) pair of a chunk of
sentence pairs; the sorted unique keys of the chunk (a radix sort) are merged into the running sorted
key set in linear time (searchsorted + insert). No Python loop over pairs; memory is bounded by
``PAIRS_PER_CHUNK`` pairs at a time.
"""
from __future__ import annotations

import numpy as np
from numba import njit

#: Approximate number of (e, f) pairs materialised at once by `cooc_tables`.
PAIRS_PER_CHUNK = 1 << 24


@njit(cache=True, nogil=True)
def _pair_keys_kernel(src_ids, src_offsets, tgt_ids, tgt_offsets, first, last, width, out):
    n = 0
    for k in range(first, last):
        t0, t1 = tgt_offsets[k], tgt_offsets[k + 1]
        for j in range(t0, t1):  # NULL row
            out[n] = tgt_ids[j]
            n += 1
        for i in range(src_offsets[k], src_offsets[k + 1]):
            base = src_ids[i] * width
            for j in range(t0, t1):
                out[n] = base + tgt_ids[j]
                n += 1
    return n


def sentence_pair_keys(src_ids, src_offsets, tgt_ids, tgt_offsets, first: int, last: int, width: int) -> np.ndarray:
    """Keys e*width+f of every (e, f) pair of sentences first..last-1, e over NULL (0) and the
    source ids, f over the target ids (with repetitions, in sentence order)."""
    sl = src_offsets[first + 1:last + 1] - src_offsets[first:last] + 1  # + NULL
    tl = tgt_offsets[first + 1:last + 1] - tgt_offsets[first:last]
    out = np.empty(int((sl * tl).sum()), dtype=np.int64)
    _pair_keys_kernel(src_ids, src_offsets, tgt_ids, tgt_offsets, first, last, width, out)
    return out


def _chunk_bounds(src_offsets, tgt_offsets, budget: int) -> list[tuple[int, int]]:
    sizes = (np.diff(src_offsets) + 1) * np.diff(tgt_offsets)
    cum = np.cumsum(sizes)
    bounds, first, n = [], 0, len(sizes)
    while first < n:
        base = cum[first - 1] if first else 0
        last = int(np.searchsorted(cum, base + budget, side="right"))
        last = max(last, first + 1)
        bounds.append((first, min(last, n)))
        first = last
    return bounds


def _merge(keys_a, counts_a, keys_b, counts_b):
    """Union of two sorted unique key arrays (counts added), in linear time via searchsorted."""
    if keys_a.size == 0:
        return keys_b, counts_b
    pos = np.searchsorted(keys_a, keys_b)
    found = pos < keys_a.size
    found[found] = keys_a[pos[found]] == keys_b[found]
    novel = ~found
    keys = np.insert(keys_a, pos[novel], keys_b[novel])
    if counts_a is None:
        return keys, None
    counts_a = counts_a.copy()
    counts_a[pos[found]] += counts_b[found]  # keys_b is unique, so no index repeats
    return keys, np.insert(counts_a, pos[novel], counts_b[novel])


@njit(cache=True, nogil=True)
def _radix_sort(keys, bits):
    """LSD radix sort (11-bit digits) of non-negative int64 keys below 2**bits; returns a copy."""
    src = keys.copy()
    dst = np.empty_like(keys)
    shift = 0
    while shift < bits:
        count = np.zeros(2049, np.int64)
        for x in src:
            count[((x >> shift) & 2047) + 1] += 1
        for d in range(2048):
            count[d + 1] += count[d]
        for x in src:
            d = (x >> shift) & 2047
            dst[count[d]] = x
            count[d] += 1
        src, dst = dst, src
        shift += 11
    return src


def _unique(keys, with_counts: bool):
    """Sorted unique keys (and their multiplicities), via radix sort (faster than np.unique)."""
    if keys.size:
        keys = _radix_sort(keys, int(keys.max()).bit_length())
    start = np.ones(keys.size, dtype=bool)
    start[1:] = keys[1:] != keys[:-1]
    uniq = keys[start]
    if not with_counts:
        return uniq, None
    first = np.flatnonzero(start)
    return uniq, np.diff(np.append(first, keys.size)).astype(np.int64)


def cooc_tables(snt, with_counts: bool = False, flush_limit: int = 0,
                pairs_per_chunk: int = PAIRS_PER_CHUNK):
    """Co-occurrence tables of a corpus (`SntArrays`), as snt2cooc computes them.

    Yields (e, f, counts, flushed): arrays sorted by (e, f); counts (number of (i, j)
    token-pair occurrences) only if `with_counts`, else None. With `flush_limit` > 0 (snt2cooc
    -counts) a table is emitted (flushed=True) as soon as it holds more than `flush_limit`
    distinct pairs after a sentence pair, and a new one started, exactly as snt2cooc does; the
    last table yielded has flushed=False."""
    src_ids = np.asarray(snt.src_ids, dtype=np.int64)
    tgt_ids = np.asarray(snt.tgt_ids, dtype=np.int64)
    so = np.asarray(snt.src_offsets, dtype=np.int64)
    to = np.asarray(snt.tgt_offsets, dtype=np.int64)
    width = int(tgt_ids.max()) + 1 if tgt_ids.size else 1
    keys = np.zeros(0, dtype=np.int64)
    counts = np.zeros(0, dtype=np.int64) if with_counts else None

    def table(k, c, flushed):
        return k // width, k % width, c, flushed

    def keys_of(a, b):
        return _unique(sentence_pair_keys(src_ids, so, tgt_ids, to, a, b, width), with_counts)

    for first, last in _chunk_bounds(so, to, pairs_per_chunk):
        new_keys, new_counts = _merge(keys, counts, *keys_of(first, last))
        while flush_limit and new_keys.size > flush_limit:
            # smallest prefix first..cut of this chunk after which the table overflows
            lo, hi = first + 1, last
            while lo < hi:
                mid = (lo + hi) // 2
                if _merge(keys, counts, *keys_of(first, mid))[0].size > flush_limit:
                    hi = mid
                else:
                    lo = mid + 1
            yield table(*_merge(keys, counts, *keys_of(first, lo)), True)
            keys = np.zeros(0, dtype=np.int64)
            counts = np.zeros(0, dtype=np.int64) if with_counts else None
            first = lo
            new_keys, new_counts = (_merge(keys, counts, *keys_of(first, last))
                                    if first < last else (keys, counts))
        keys, counts = new_keys, new_counts
    yield table(keys, counts, False)


def format_cooc_table(e, f, counts=None, rows_per_chunk: int = 1 << 20):
    """Yield the bytes of `e f` lines (or `count e f` lines), in chunks."""
    for s in range(0, len(e), rows_per_chunk):
        el = e[s:s + rows_per_chunk].tolist()
        fl = f[s:s + rows_per_chunk].tolist()
        if counts is None:
            text = "".join([f"{a} {b}\n" for a, b in zip(el, fl)])
        else:
            cl = counts[s:s + rows_per_chunk].tolist()
            text = "".join([f"{c} {a} {b}\n" for c, a, b in zip(cl, el, fl)])
        yield text.encode()
