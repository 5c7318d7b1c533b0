"""Writers for the files of a GIZA++ training run, from eegiza's models (spec: GIZA_FORMATS.md §4).

Everything here takes plain arrays indexed by eegiza's dense ids plus an :class:`IdMap` that turns
them back into GIZA's vocabulary ids (the ids of the `.vcb` files) and class labels (the strings
of the `.classes` files). Line formats, value thresholds (`probsmooth`) and row orders follow
GIZA++; the low-level line writers are in :mod:`eegiza.giza.files`.

* alignment files (`.A1.N .Ahmm.N .A3.N .A3.final`, also MGIZA's per-thread `.partNNN` split and
  `compactalignmentformat 1`): :func:`write_alignments`;
* t-tables (`.t1.N .thmm.N .t3.final`): :func:`write_ttable_dense`;
* HMM jump counts (`.hhmm.N`, GIZA++'s text layout, plus the start counts in the class-0 block):
  :func:`format_hhmm`;
* position tables `i j l m value` (`.a2.N` Model-2 counts, `.ahmm.N` HMM counts, `.a3.N`):
  :func:`write_a3`;
* Model 3/4 tables from a dict of arrays (``FertilityModel.to_arrays()``):
  :func:`write_fertility_tables` (`.n3 .d3 .a3 .p0_3 .d4 .D4`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from ..formats.giza import PROBSMOOTH, atomic_open, cpp_float, write_text, write_ttable
from .alignment_files import format_a3_block, format_compact_block
from .table_files import format_d4_text, write_atable, write_d3table, write_d4, write_ntable, write_p0

#: ATable keys hold l in the high 32 bits and m in the low 32 bits (see eegiza.models.ibm2).
KEY_SHIFT = 32


@dataclass
class IdMap:
    """Dense eegiza ids -> GIZA ids and class labels, for one direction of training.

    ``src_ids[k]`` / ``tgt_ids[k]`` is the GIZA id of dense id k (index 0 = NULL = 0);
    ``src_labels[c]`` / ``tgt_labels[c]`` the class string of class id c (class 0 prints "0")."""

    src_ids: np.ndarray
    tgt_ids: np.ndarray
    src_labels: Sequence[str] = ("0",)
    tgt_labels: Sequence[str] = ("0",)


def class_labels(pairs: Sequence[tuple[str, str]]) -> list[str]:
    """Class id -> label, numbered like :func:`eegiza.clustering.read_classes_file` (label "0" is
    class 0, the others 1, 2, ... in order of first appearance); ``pairs`` = (word, label) lines."""
    ids = {"0": 0}
    for _, label in pairs:
        ids.setdefault(label, len(ids))
    out = [""] * len(ids)
    for label, k in ids.items():
        out[k] = label
    return out


def _label(labels: Sequence[str], k: int) -> str:
    return labels[k] if 0 <= k < len(labels) else str(k)


# ----------------------------------------------------------------------------- alignments
def part_names(path: str, n_parts: int, model: str) -> list[str]:
    """MGIZA's per-thread file names: Model 1 `X.part0`, `X.part001`, ...; the other models
    `X.part000`, `X.part001`, ..."""
    first = ".part0" if model == "1" else ".part000"
    return [path + (first if k == 0 else ".part%03d" % k) for k in range(n_parts)]


def alignment_block(k: int, pair_no: int, corpus, positions: np.ndarray, score: float, compact: bool) -> str:
    """The alignment block (or compact line) of sentence k of ``corpus`` (dense ids)."""
    lo, hi = corpus.tgt.offsets[k], corpus.tgt.offsets[k + 1]
    viterbi = positions[lo:hi].tolist()
    if compact:
        return format_compact_block(viterbi)
    src_words, tgt_words = corpus.src_vocab.words, corpus.tgt_vocab.words
    source = [src_words[i] for i in corpus.src.sentence(k).tolist()]
    target = [tgt_words[i] for i in corpus.tgt.sentence(k).tolist()]
    return format_a3_block(pair_no, score, source, target, viterbi)


def write_alignments(path: str, corpus, positions: np.ndarray, scores: np.ndarray, pair_numbers: np.ndarray,
                     compact: bool = False, n_parts: int = 0, model: str = "3") -> list[str]:
    """Write the Viterbi alignment of every sentence pair: one file `path`, or with ``n_parts`` > 0
    MGIZA's split into `n_parts` files of consecutive pairs (:func:`part_names`), which
    `merge_alignment.py` joins back. ``scores`` are natural-log Viterbi probabilities (printed as
    probabilities); ``pair_numbers`` the 1-based numbers in the headers. Returns the paths."""
    n = len(corpus)
    paths = part_names(path, n_parts, model) if n_parts > 0 else [path]
    bounds = np.linspace(0, n, len(paths) + 1).astype(np.int64)
    for p, lo, hi in zip(paths, bounds[:-1], bounds[1:]):
        with atomic_open(p) as fh:
            for k in range(int(lo), int(hi)):
                s = float(scores[k])
                score = math.exp(s) if s > -745.0 else 0.0
                fh.write(alignment_block(k, int(pair_numbers[k]), corpus, positions, score, compact))
    return paths


# ----------------------------------------------------------------------------- tables
def write_ttable_dense(path: str, ttable, ids: IdMap, probsmooth: float = PROBSMOOTH) -> None:
    """Write a t-table `e f p(f|e)` in GIZA ids (rows with p > probsmooth, sorted by e, f)."""
    e = ids.src_ids[ttable.row_ids()]
    f = ids.tgt_ids[ttable.indices]
    write_ttable(path, e, f, ttable.probs, probsmooth)


def format_hhmm(jump: np.ndarray, labels: Sequence[str], max_jump: int, offset: float = 0.0,
                start: Optional[np.ndarray] = None) -> str:
    """GIZA++'s `.hhmm.N` text: per previous-word class a block
    `\\n\\nDistribution for: previousClass: C  d:count; ...\\n\\nSUM: s\\n`, then `FULL-SUM: x`.
    ``jump[c, d + max_jump]`` holds the jump counts of class c; ``offset`` (a constant added to
    every count, e.g. eegiza's 1e-6 floor) is subtracted and non-positive counts are left out.
    ``start[i]`` (counts of the first target word's source position i, 0-based) is written as GIZA++
    counts it: a jump from position -1, d = i + 1, in the block of class 0."""
    out = []
    full = 0.0
    for c in range(jump.shape[0]):
        row = dict(enumerate((jump[c] - offset).tolist()))
        if c == 0 and start is not None:
            for i, v in enumerate((np.asarray(start) - offset).tolist()):
                row[i + 1 + max_jump] = row.get(i + 1 + max_jump, 0.0) + v
        keep = sorted(d for d, v in row.items() if v > 0)
        if not keep:
            continue
        total = float(sum(row[d] for d in keep))
        items = "".join(f"{int(d) - max_jump}:{cpp_float(row[d])}; " for d in keep)
        out.append(f"\n\nDistribution for: previousClass: {_label(labels, c)}  {items}\n\nSUM: {cpp_float(total)}\n")
        full += total
    out.append(f"FULL-SUM: {cpp_float(full)}\n")
    return "".join(out)


def _atable_rows(arrays: dict, prefix: str):
    """(i, j, l, m, value) of every cell of a position table given as arrays (ibm2.ATable)."""
    keys, dim_l, dim_m = arrays[prefix + "keys"], arrays[prefix + "dim_l"], arrays[prefix + "dim_m"]
    offsets, probs = arrays[prefix + "offsets"], arrays[prefix + "probs"]
    cols = [[], [], [], [], []]
    for b in range(len(keys)):
        L, M = int(dim_l[b]), int(dim_m[b])
        jj, ii = np.meshgrid(np.arange(1, M + 1), np.arange(L + 1), indexing="ij")
        block = probs[int(offsets[b]):int(offsets[b + 1])].reshape(M, L + 1)
        n = ii.size
        cols[0].append(ii.ravel())
        cols[1].append(jj.ravel())
        cols[2].append(np.full(n, int(keys[b]) >> KEY_SHIFT))
        cols[3].append(np.full(n, int(keys[b]) & ((1 << KEY_SHIFT) - 1)))
        cols[4].append(block.ravel())
    if not cols[0]:
        return tuple(np.zeros(0) for _ in range(5))
    return tuple(np.concatenate(c) for c in cols)


def write_d3(path: str, arrays: dict, compact_length: int, probsmooth: float = PROBSMOOTH, prefix: str = "d_") -> None:
    """`.d3.*` lines `j i l m p` from a Model-3 distortion table d(j | i, [l,] m) stored as
    v(i, j) blocks; an ignored l (``compactadtable 1``) prints as ``compact_length`` (ml - 1)."""
    i, j, l, m, v = _atable_rows(arrays, prefix)
    flags = arrays.get(prefix + "flags", np.array([0, 0]))
    if flags[0]:
        l = np.full(len(l), compact_length)
    write_d3table(path, j, i, l, m, v, probsmooth)


def write_a3(path: str, arrays: dict, compact_length: int, probsmooth: float = PROBSMOOTH, prefix: str = "a_") -> None:
    """`.a3.*`/`.a2.*` lines `i j l m value` from a position table a(i | j, l, [m]); an ignored m
    prints as ``compact_length`` (ml - 1)."""
    i, j, l, m, v = _atable_rows(arrays, prefix)
    flags = arrays.get(prefix + "flags", np.array([0, 0]))
    if flags[1]:
        m = np.full(len(m), compact_length)
    write_atable(path, i, j, l, m, v, probsmooth)


def write_n3(path: str, n_table: np.ndarray, ids: IdMap, src_freq: np.ndarray, probsmooth: float = PROBSMOOTH) -> None:
    """`.n3.*`: a row `e p(0) ... p(K-1) ` per source word with training frequency > 0 (not
    NULL), GIZA ids ascending."""
    dense = np.flatnonzero(src_freq[:len(n_table)] > 0)
    dense = dense[dense > 0]
    giza = ids.src_ids[dense]
    order = np.argsort(giza, kind="stable")
    write_ntable(path, giza[order], np.asarray(n_table)[dense[order]], probsmooth)


def _d4_rows(arrays: dict, values_key: str):
    """Per displacement table the non-empty entries: head rows (A, B, delta, value) keyed by
    (target class B, source class A), non-head rows (B, delta, value)."""
    half = int(arrays["half"])
    width = 2 * half + 1
    n_b = len(arrays["db_seen"])
    n_a = len(arrays["d1_seen"]) // max(1, n_b)
    d1 = np.asarray(arrays[values_key % "d1"]).reshape(n_a, n_b, width)
    db = np.asarray(arrays[values_key % "db"]).reshape(n_b, width)
    seen1 = np.asarray(arrays["d1_seen"]).reshape(n_a, n_b)
    seenb = np.asarray(arrays["db_seen"])
    head = []
    for b in range(n_b):
        for a in range(n_a):
            if seen1[a, b]:
                nz = np.flatnonzero(d1[a, b] > 0)
                head.append((a, b, [(int(k) - half, float(d1[a, b, k])) for k in nz]))
    nonhead = []
    for b in range(n_b):
        if seenb[b]:
            nz = np.flatnonzero(db[b] > 0)
            nonhead.append((b, [(int(k) - half, float(db[b, k])) for k in nz]))
    return head, nonhead


def write_d4_tables(text_path: Optional[str], table_path: Optional[str], arrays: dict, ids: IdMap) -> None:
    """`.d4.*` (text dump of the displacement counts: ``d1_counts``/``db_counts`` if the arrays have
    them, else the probabilities) and `.D4.*` (`Eclass Fclass delta prob`, non-head Eclass -1)."""
    head_p, nonhead_p = _d4_rows(arrays, "%s")
    if table_path:
        rows = [(_label(ids.src_labels, a), _label(ids.tgt_labels, b), d, p) for a, b, entries in head_p
                for d, p in entries]
        rows += [(-1, _label(ids.tgt_labels, b), d, p) for b, entries in nonhead_p for d, p in entries]
        write_d4(table_path, rows)
    if text_path:
        key = "%s_counts" if "d1_counts" in arrays and "db_counts" in arrays else "%s"
        head, nonhead = _d4_rows(arrays, key)
        write_text(text_path, format_d4_text(
            [(f"F: {_label(ids.tgt_labels, b)} E: {_label(ids.src_labels, a)} ", e) for a, b, e in head],
            [(f"F: {_label(ids.tgt_labels, b)} ", e) for b, e in nonhead]))


def write_fertility_tables(prefix: str, suffix: str, arrays: dict, ids: IdMap, src_freq: np.ndarray,
                           compact_length: int = 100, probsmooth: float = PROBSMOOTH,
                           model4: bool = False) -> list[str]:
    """Write the Model-3/4 tables of one dump: `prefix.n3.suffix`, `.d3.`, `.p0_3.`, `.a3.` (only if
    the arrays hold an ``a_`` position table) and with ``model4`` `.d4.` and `.D4.`.

    ``arrays`` is a dict like ``FertilityModel.to_arrays()``: ``n_table`` (V_e x maxfertility,
    dense source ids), ``d_keys/d_dim_l/d_dim_m/d_offsets/d_probs/d_flags`` (the Model-3
    distortion blocks), ``p0``, and for Model 4 ``d1`` (n_A x n_B x W, flat), ``d1_seen``, ``db``
    (n_B x W), ``db_seen``, ``half`` (W = 2 half + 1), optionally ``d1_counts``/``db_counts``.
    Returns the paths written."""
    written = []

    def name(kind):
        written.append(f"{prefix}.{kind}.{suffix}")
        return written[-1]

    write_n3(name("n3"), arrays["n_table"], ids, src_freq, probsmooth)
    write_d3(name("d3"), arrays, compact_length, probsmooth)
    write_p0(name("p0_3"), float(arrays["p0"]))
    if "a_keys" in arrays:
        write_a3(name("a3"), arrays, compact_length, probsmooth)
    if model4:
        write_d4_tables(name("d4"), name("D4"), arrays, ids)
    return written
