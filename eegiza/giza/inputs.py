"""Reading a GIZA++ run's inputs: the `.vcb` vocabularies, the `.snt` corpus, the `.cooc` check, the
word classes and the `-d` dictionary, mapped onto eegiza's dense corpus (:mod:`eegiza.giza.run`).

GIZA ids (from the `.vcb` files, from 2, any order, gaps allowed; NULL = 0) become eegiza's dense
ids 1.. in order of first appearance in the training corpus, then the test corpus
(:func:`build_corpora`), so the same text gets the ids `eegiza align` gives it. The dictionary
(`-d`, lines `tgt_id src_id`) restricts the counts of Model 1's first iteration as GIZA's
`model1.cpp` does (:class:`DictionaryConstraint`); :func:`hmm_position_counts` is the extra
forward-backward pass behind GIZA's `.ahmm.N` dump (posterior of a_j = i summed per (i, j, l)).
Errors GIZA would stop on raise :class:`GizaRunError` with the message the command prints.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
from numba import njit

from ..api import word_classes
from ..config import AlignerConfig
from ..corpus import ParallelCorpus, Side, Vocab
from ..formats.giza import GizaFormatError, read_vcb
from ..models import hmm
from ..models.ibm2 import block_slot, find_block, table_key
from ..ttable import find_slot, normalise_rows
from .corpus_files import SntArrays, read_classes, read_snt_arrays
from .params import GizaParams
from .table_files import read_p0
from .writers import IdMap, class_labels


class GizaRunError(ValueError):
    """An input problem GIZA would stop on; the message is what the command prints."""


Log = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- input
def check_cooc(path: str, block: int = 1 << 26) -> None:
    """Check that a `.cooc` file exists and its `e f` lines are sorted by (e, f) without
    repeats (read in blocks, so huge files need little memory)."""
    if not path:
        raise GizaRunError("ERROR: NO COOCURRENCE FILE GIVEN!")
    try:
        fh = open(path, "rb")
    except OSError:
        raise GizaRunError(f"ERROR: cannot open the co-occurrence file {path}") from None
    last = (-1, -1)
    line_no = 0
    rest = b""
    with fh:
        while True:
            data = fh.read(block)
            chunk = rest + data
            if data:
                cut = chunk.rfind(b"\n") + 1
                chunk, rest = chunk[:cut], chunk[cut:]
            toks = chunk.split()
            if toks:
                n_lines = sum(1 for x in chunk.split(b"\n") if x.strip())
                try:
                    pairs = np.array(toks).astype(np.int64).reshape(-1, 2) if len(toks) == 2 * n_lines else None
                except ValueError:
                    pairs = None
                if pairs is None:
                    raise GizaFormatError(path, None, "expected 'e f' (two integers) on every line")
                keys = np.concatenate([[last], pairs])
                bad = (keys[1:, 0] < keys[:-1, 0]) | ((keys[1:, 0] == keys[:-1, 0]) & (keys[1:, 1] <= keys[:-1, 1]))
                if bad.any():
                    raise GizaFormatError(path, line_no + int(np.argmax(bad)) + 1,
                                          "the co-occurrence file must be sorted by (e, f) without repeats")
                last = tuple(pairs[-1])
                line_no += n_lines
            if not data:
                break


def read_vocabulary(path: str, what: str) -> dict[int, str]:
    """GIZA id -> word of a `.vcb` file (`-s` / `-t`)."""
    if not path:
        raise GizaRunError(f"ERROR: no {what} vocabulary file given (-{what[0]})")
    try:
        return {e.id: e.word for e in read_vcb(path)}
    except OSError:
        raise GizaRunError(f"ERROR: cannot open the {what} vocabulary file {path}") from None


def read_corpus_file(path: str, what: str) -> SntArrays:
    """A `.snt` file as flat arrays."""
    if not path:
        raise GizaRunError(f"ERROR: no {what} corpus file given")
    try:
        return read_snt_arrays(path)
    except OSError:
        raise GizaRunError(f"ERROR: cannot open the {what} corpus file {path}") from None


def _truncate(ids: np.ndarray, offsets: np.ndarray, cap: Optional[int]):
    """Keep the first ``cap`` tokens of every sentence; returns (ids, offsets, n truncated)."""
    lengths = np.diff(offsets)
    if cap is None or not len(lengths) or lengths.max() <= cap:
        return ids, offsets, 0
    position = np.arange(len(ids)) - np.repeat(offsets[:-1], lengths)
    new_offsets = np.zeros_like(offsets)
    np.cumsum(np.minimum(lengths, cap), out=new_offsets[1:])
    return ids[position < cap], new_offsets, int((lengths > cap).sum())


def dense_ids(flat: np.ndarray):
    """Dense ids 1.. in order of first appearance: (dense flat ids, dense -> original id)."""
    uniq, first, inverse = np.unique(flat, return_index=True, return_inverse=True)
    rank = np.empty(len(uniq), np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(uniq))
    to_orig = np.zeros(len(uniq) + 1, np.int64)
    to_orig[rank + 1] = uniq
    return (rank[inverse.ravel()] + 1).astype(np.int32), to_orig


@dataclass
class GizaCorpus:
    """A `.snt` corpus in eegiza's dense ids (see the module docstring)."""

    corpus: ParallelCorpus
    pair_numbers: np.ndarray                  # 1-based GIZA sentence numbers
    src_freq: np.ndarray = field(repr=False)  # training frequency per dense id
    tgt_freq: np.ndarray = field(repr=False)


def build_corpora(snts: list[SntArrays], paths: list[str], src_vcb: dict[int, str], tgt_vcb: dict[int, str],
                  cap: Optional[int], log: Log = _stderr):
    """Number the training corpus (``snts[0]``) and an optional test corpus with shared dense
    ids; returns ([GizaCorpus, ...], IdMap). Unknown ids raise GIZA's error."""
    sides = []
    for snt, path in zip(snts, paths):
        s_ids, s_off, n1 = _truncate(snt.src_ids, snt.src_offsets, cap)
        t_ids, t_off, n2 = _truncate(snt.tgt_ids, snt.tgt_offsets, cap)
        if n1 or n2:
            log(f"WARNING: {path}: {max(n1, n2)} sentence pair(s) cut to {cap} tokens (-ml {cap + 1}).")
        empty = int(((np.diff(s_off) == 0) | (np.diff(t_off) == 0)).sum())
        if empty:
            log(f"WARNING: {path}: {empty} sentence pair(s) with an empty side; they are kept (numbering "
                "unchanged) and get an empty alignment.")
        odd = int((snt.counts != 1).sum())
        if odd:
            log(f"WARNING: {path}: {odd} sentence pair(s) with a weight other than 1; eegiza trains "
                "every pair with weight 1.")
        sides.append((s_ids, s_off, t_ids, t_off))
    maps = []
    for k, (vcb, what) in enumerate(((src_vcb, "source"), (tgt_vcb, "target"))):
        flat = np.concatenate([s[2 * k] for s in sides]).astype(np.int64)
        known = np.fromiter(vcb.keys(), np.int64, len(vcb))
        present = np.unique(flat)
        missing = present[~np.isin(present, known)]
        if len(missing):
            raise GizaRunError(f"ERROR: {what} word {int(missing[0])} is not in the vocabulary list "
                               f"({len(missing)} unknown id(s) in {', '.join(paths)})")
        dense, to_giza = dense_ids(flat)
        maps.append((dense, to_giza, Vocab.from_words(["NULL"] + [vcb[int(g)] for g in to_giza[1:]])))
    ids = IdMap(maps[0][1], maps[1][1])
    out = []
    starts = [0, 0]
    for (s_ids, s_off, t_ids, t_off), snt in zip(sides, snts):
        pieces = []
        for k, n in ((0, len(s_ids)), (1, len(t_ids))):
            pieces.append(maps[k][0][starts[k]:starts[k] + n])
            starts[k] += n
        corpus = ParallelCorpus(Side(pieces[0], s_off.astype(np.int64)), Side(pieces[1], t_off.astype(np.int64)),
                                maps[0][2], maps[1][2])
        src_freq = np.bincount(pieces[0], minlength=len(maps[0][2])).astype(np.float64)
        tgt_freq = np.bincount(pieces[1], minlength=len(maps[1][2])).astype(np.float64)
        out.append(GizaCorpus(corpus, np.arange(1, len(snt) + 1), src_freq, tgt_freq))
    return out, ids


def read_word_classes(path: str, vocab: Vocab, log: Log = _stderr):
    """Classes of a side from a mkcls file (GIZA: `<vcb>.classes`): (class per dense id, labels).
    A missing file gives GIZA's `ERROR: can not read` and every word in class 0."""
    if not path or not os.path.exists(path):
        log(f"ERROR: can not read {path}")
        return np.zeros(len(vocab), np.int32), ["0"]
    classes = word_classes(None, vocab, path, AlignerConfig())
    return classes, class_labels(read_classes(path))


def to_dense(giza: np.ndarray, to_giza: np.ndarray) -> np.ndarray:
    """GIZA ids -> dense ids of an :class:`IdMap` side (-1 where the id is not in the corpus)."""
    order = np.argsort(to_giza, kind="stable")
    pos = np.clip(np.searchsorted(to_giza[order], giza), 0, len(to_giza) - 1)
    dense = order[pos]
    return np.where(to_giza[dense] == giza, dense, -1)


def read_dictionary(path: str, src_to_giza: np.ndarray, tgt_to_giza: np.ndarray, width: int) -> np.ndarray:
    """A `-d` dictionary (`tgt_id src_id` per line, GIZA ids) as sorted keys e * width + f in
    dense ids; pairs of words absent from the corpus are dropped."""
    try:
        with open(path, "rb") as fh:
            toks = fh.read().split()
    except OSError:
        raise GizaRunError(f"ERROR: Can't open dictionary: {path}") from None
    try:
        nums = np.array([int(t) for t in toks[:len(toks) // 2 * 2]], np.int64).reshape(-1, 2)
    except ValueError:
        raise GizaFormatError(path, None, "dictionary lines must be 'target_id source_id'") from None
    f_giza, e_giza = nums[:, 0], nums[:, 1]
    e, f = to_dense(e_giza, src_to_giza), to_dense(f_giza, tgt_to_giza)
    keep = (e >= 0) & (f >= 0) & ((e > 0) | (f > 0))
    return np.unique(e[keep] * width + f[keep])


@njit(cache=True, nogil=True)
def dictionary_counts(src_ids, src_off, tgt_ids, tgt_off, indptr, indices, keys, width):
    """Model-1 iteration-1 counts under a dictionary (GIZA++ `model1.cpp`): from uniform t, f_j
    counts 1/(l+1) for e_i if (e_i, f_j) is in the dictionary, or if neither e_i nor f_j has a
    dictionary partner in the sentence."""
    counts = np.zeros(len(indices))
    for k in range(len(src_off) - 1):
        l = src_off[k + 1] - src_off[k]
        m = tgt_off[k + 1] - tgt_off[k]
        e_sent = np.zeros(l + 1, np.int64)
        for i in range(l):
            e_sent[i + 1] = src_ids[src_off[k] + i]
        indict = np.zeros((m, l + 1), np.bool_)
        e_in = np.zeros(l + 1, np.bool_)
        f_in = np.zeros(m, np.bool_)
        for j in range(m):
            f = tgt_ids[tgt_off[k] + j]
            for i in range(l + 1):
                key = e_sent[i] * width + f
                p = np.searchsorted(keys, key)
                if p < len(keys) and keys[p] == key:
                    indict[j, i] = True
                    e_in[i] = True
                    f_in[j] = True
        for j in range(m):
            f = tgt_ids[tgt_off[k] + j]
            for i in range(l + 1):
                if indict[j, i] or (not f_in[j] and not e_in[i]):
                    s = find_slot(indptr, indices, e_sent[i], f)
                    if s >= 0:
                        counts[s] += 1.0 / (l + 1)
    return counts


@njit(cache=True, nogil=True)
def hmm_position_counts(src_ids, src_off, tgt_off, slots, slot_off, probs, floor, src_class, jump, start, p_null,
                        smooth, keys, dim_l, dim_m, offsets):
    """GIZA++'s HMM alignment-count table (`.ahmm.N`): the posterior of a_j = i (0 = any NULL
    state) of every target position, summed into the blocks of an a-table layout (key l)."""
    counts = np.zeros(offsets[-1])
    scratch_jumps, scratch_starts = np.zeros(jump.shape, np.int64), np.zeros(len(start), np.int64)
    for k in range(len(src_off) - 1):
        e_sent = src_ids[src_off[k]:src_off[k + 1]]
        l, m = len(e_sent), tgt_off[k + 1] - tgt_off[k]
        if m == 0 or l == 0:
            continue
        b = find_block(keys, table_key(l, m, False, True))
        gamma, _ = hmm.sentence_posteriors(e_sent, m, slots[slot_off[k]:slot_off[k + 1]], probs, floor, src_class,
                                           jump, start, p_null, smooth, scratch_jumps, scratch_starts)
        for j in range(m):
            z = gamma[j].sum()
            for i in range(l + 1):
                s = block_slot(offsets, dim_l, dim_m, b, i, j + 1)
                if s >= 0 and z > 0:
                    counts[s] += gamma[j, i] / z
    return counts


class DictionaryConstraint:
    """A `prior_factory` object for train_direction: after the first M-step (Model 1, iteration
    1) it replaces t(f|e) by the dictionary-constrained estimate (:func:`dictionary_counts`)."""

    def __init__(self, corpus: ParallelCorpus, keys: np.ndarray, width: int):
        self.corpus, self.keys, self.width, self.used = corpus, keys, width, False

    def __call__(self, ttable):
        return self

    def restricted(self, remap, nnz: int) -> "DictionaryConstraint":
        """Itself on a pruned t-table: it keeps nothing per table entry (and acts only once, first)."""
        return self

    def apply(self, ttable, counts) -> None:
        if self.used:
            return
        self.used = True
        c = self.corpus
        new = dictionary_counts(c.src.ids, c.src.offsets, c.tgt.ids, c.tgt.offsets, ttable.indptr, ttable.indices,
                                self.keys, self.width)
        ttable.probs = normalise_rows(ttable.indptr, new)


def restart_p0(params: GizaParams, log: Log = _stderr) -> float:
    """p0 for an MGIZA restart into Models 3/4: `-p0` if set, else the number in `-previousp0`,
    else -1 (learned) with a warning (MGIZA runs with p0 = -1 then and gets NaN)."""
    if params["p0"] != -1:
        return float(params["p0"])
    if params["previousp0"]:
        return read_p0(params["previousp0"])
    log("WARNING: neither -p0 nor -previousp0 given; p0 is learned from the data.")
    return -1.0
