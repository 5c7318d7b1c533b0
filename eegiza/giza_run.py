"""The GIZA++ / MGIZA++ training run behind the `GIZA++` and `mgiza` commands.

`run_giza(params)` takes parsed GIZA parameters (:mod:`eegiza.giza_params`) and does what GIZA's
`main` does (spec: shared/GIZA_FORMATS.md §2, §3, §4, §6): reads the `.vcb` files (`-s`, `-t`),
the `.snt` corpus (`-c`) and the word classes (`<vcb>.classes`; MGIZA: `sourcevocabularyclasses` /
`targetvocabularyclasses`), trains the schedule `m1 m2 mh m3 m4` with
:func:`eegiza.train.train_direction`, and writes GIZA's files under the prefix `outputpath/o`:
`.gizacfg` (always, at start), the per-iteration dumps (`.A1.N .t1.N .Ahmm.N .thmm.N .hhmm.N
.ahmm.N .A2.N .t2.N .a2.N`, for Models 3/4 `.A3.N .t3.N .n3.N .d3.N .p0_3.N .a3.N .d4.N .D4.N`, the last
one of the Model-3/4 loop named `final`) under GIZA's dump rules, and unless `nodumps`: `.perp`,
`.trn.src.vcb .trn.trg.vcb .tst.src.vcb .tst.trg.vcb`, `.Decoder.config`. With `-nodumps 1
-onlyaldumps 1` (Moses) the output is `.gizacfg` + `.A3.final`. For mgiza (`-ncpus N`) the
alignment files of Model 1, HMM and Models 3/4 are split into N `.partNNN` files that
`merge_alignment.py` joins.

Vocabulary ids: GIZA ids (from the `.vcb` files, from 2, any order, gaps allowed; NULL = 0) are
mapped to eegiza's dense ids 1.. in order of first appearance in the training corpus (then the
test corpus), which is exactly how `eegiza align` numbers the same text, and mapped back when
writing. The co-occurrence file (`-CoocurrenceFile`) is required and checked (exists, `e f`
lines sorted and unique, as GIZA's binary search needs), but not used for training: eegiza builds
the same set of co-occurring pairs from the corpus itself (:class:`eegiza.ttable.TTable`).

Parameters that change training: `m1 m2 mh m3 m4` (the schedule), `ml`, `probsmooth`, `emalsmooth`,
`emprobforempty`, `ncpus` (threads), `d` (a dictionary `tgt_id src_id` constrains the counts of
Model 1's first iteration as in GIZA's `model1.cpp`, applied through train_direction's prior hook),
and for Models 3/4 `p0 nsmooth nsmoothgeneral model23smoothfactor model4smoothfactor maxfertility
deficientdistortionforemptyword depm4 compactadtable pegging countincreasecutoffal`
(:func:`giza_fertility_params`, passed to train_direction). Output: dump
frequencies, `nodumps`, `onlyaldumps`, `compactalignmentformat`, `outputpath`, `o`; `tc` adds the
test columns of `.perp` (test perplexity under Model 1, `N/A` for other models; Viterbi test
perplexity for all), `.tst.*.vcb` and `.tst.A*.N`. Accepted and ignored: `log`, `l`, `verbose`,
`verbosesentence`, `nbestalignments`, `transferdumpfrequency`, `readtableprefix`, the
count/probability cut-offs of GIZA's Model-1/HMM loops, `emalignmentdependencies` (always the
previous word's class) and the MGIZA count-dump options.

Deliberate differences from GIZA++ (what users asked for; everything else follows GIZA):

* `$USER` unset: the default prefix uses `USER` instead of crashing (GIZA++ segfaults).
* A run that fails (bad input, Models 5/6 asked for, an interrupt) removes the `.gizacfg` it wrote
  and exits 1; Models 5/6 (`-m5`, `-m6` > 0) are refused before any file is written.
* Pairs with an empty side are kept, not dropped, so pair numbers stay in step with the lines of
  the other direction; an empty target has nothing to align, an empty source aligns everything to
  NULL. One warning counts them (GIZA++ prints `Forbidden zero sentence length` per pair;
  plain2snt drops them with a warning per pair).
* No 100-token cap: GIZA++ cuts every sentence to `ml - 1` = 100 tokens. eegiza cuts only when
  `-ml` is set to something other than its default 101 (then to `ml - 1` tokens, both sides, one
  warning counting the pairs), and never shortens pairs by the fertility ratio (GIZA++ does in one
  direction only, which breaks giza2bal's lock-step reading).
* Alignment dumps `.A1.N`, `.Ahmm.N`, ... hold the Viterbi alignment under the model *after*
  iteration N's update (GIZA++ writes the one found during iteration N's E-step, one update
  earlier). So the last dump is the final model's alignment, the one `eegiza align` writes.
* HMM parameters map onto eegiza's HMM: `emalsmooth` -> jump smoothing; `emprobforempty` p -> NULL
  probability p / (1 + p) (GIZA adds p to a normalised jump row and renormalises); `probsmooth` ->
  the probability floor. `.hhmm.N` lists the jump counts per previous-word class (GIZA++ layout)
  plus the start counts as jumps d = i + 1 in the class-0 block (how GIZA++ counts the first
  position; GIZA++'s own dump leaves them out). `.ahmm.N` is GIZA++'s HMM alignment-count table
  (posterior of a_j = i summed per (i, j, l)), computed by an extra forward-backward pass when
  dumped (:func:`hmm_position_counts`); `.a2.N` the Model-2 a counts; `.a3.N` a(i | j, l)
  counted from the iteration's hill-climbed alignments (GIZA++: from their neighbourhoods).
* Sentence weights (first `.snt` line) other than 1 are not supported: one warning, weight 1.
* `.vcb` ids need not be ascending (GIZA++ rejects ids above the last line's id).
* mgiza: part files hold consecutive blocks of pairs and the results do not depend on `-ncpus`
  (MGIZA distributes pairs by thread timing and its sums vary with the thread count).

MGIZA restarts (`-restart R -previoust T [-previoushmm H]`, GIZA_FORMATS.md §7; mgiza only):
R = 1 trains Model 1 from the t-table T, R = 4 the HMM from T with uniform jumps, R = 5/6 the HMM
from T and, if given, the jump counts of H; the models before the restarted one are skipped (their
`-mN` are ignored), the later ones follow as usual. T (`.t1.N`, `.thmm.N`, `.t3.final`, GIZA ids)
is mapped onto this run's corpus through the `.vcb` ids (force alignment: plain2snt-hasvcb.py
keeps the old ids); pairs T lacks start at the floor, and training of Model 1 / the HMM
renormalises the rows over the new corpus' pairs (``train_direction(initial=...)``). H is the
GIZA++-layout `.hhmm.N` that GIZA++ and eegiza write (classes matched by their mkcls labels, so
pass the training class files, e.g. `-sourcevocabularyclasses`); the start distribution is read
from its class-0 block (eegiza's dumps have it; GIZA++'s do not, which restarts uniform). MGIZA's
machine-readable `.hhmm` + `.alpha`/`.beta` is refused with a clear error. `-previousa` is not
used before R = 7 (eegiza's HMM has no alignment-count table).
Differences: with 0 iterations left (e.g. `-restart 6 -mh 0`) MGIZA stops; eegiza writes the
Viterbi alignment under the loaded tables as they are (not renormalised), `.Ahmm.0` / `.A1.0`
(split into parts for mgiza): "align only". With iterations, the alignment dumps follow the rule
above (after the update: `-mh 1` gives the alignment after one EM iteration on the new text).
R = 7..11 (Models 3/4, as MGIZA's `main.cpp` / `model3.cpp`): the start alignment of every
iteration is the HMM Viterbi alignment if `-previoushmm` is given (required for R = 7), else the
Model-2 Viterbi alignment under the `-previousa` table (`.a3.final`, `.a2.N`), else Model 1's; t
is used as loaded (not renormalised). R = 7/8 transfer n, d, p0 from those start alignments
(Model 3 initialised from the HMM / Model 2) and need `-m3`/`-m4` iterations; R = 9/10 continue
from the `-previousn -previousd` tables and p0 (:func:`restart_p0`: `-p0`, else `-previousp0`,
else estimated from the start alignments, never NaN), R = 10 with Model 4 tables initialised
uniformly, R = 11 with the `-previousd42` (`.D4.final`) tables; the first iteration is scored
with Model 3 (R = 9, 10) or Model 4 (R = 11) as MGIZA's loop string `3..`/`4..` says (R = 9/10
with an HMM: named `H..` in `.perp`, still scored with the loaded Model 3). New source words
get the fertility distribution of loaded words with the same byte length. Model 3 is skipped for
R = 10/11 (as Model 1 for R = 4; MGIZA would run `-m3` iterations for R = 10 and abort for 11).
The Model-3/4 alignment files of a restart hold the alignment found in the iteration, under the
loaded / previous model (as MGIZA; the force-alignment recipe `-m3 0 -m4 1` thus writes the
loaded model's alignment), not the one after the update. Without iterations R = 9..11 align
only (`.A3.0`). `-previousd4` (the count dump) is not read, `.D4` holds the probabilities. R =
2/3 (Model 2) are refused.
"""
from __future__ import annotations

import inspect
import os
import sys
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
from numba import njit

from .api import word_classes
from .config import AlignerConfig
from .corpus import ParallelCorpus, Side, Vocab
from .formats.giza import (GizaFormatError, PerpRow, SntArrays, format_vcb, read_atable, read_classes, read_d4,
                           read_hhmm, read_ntable, read_p0, read_snt_arrays, read_ttable, read_vcb,
                           write_decoder_config, write_perp, write_text)
from .giza_params import GizaParams, write_gizacfg
from .giza_writers import (IdMap, class_labels, format_hhmm, write_a3, write_alignments, write_fertility_tables,
                           write_ttable_dense)
from .models import hmm, ibm3
from .models.fertility import FertilityModel
from .models.ibm2 import KEY_SHIFT, ATable, block_slot, find_block, table_key
from .schedule import format_schedule, parse_schedule
from .iterations import perplexity
from .train import DirectionModel, align_direction, train_direction
from .ttable import TTable, find_slot, normalise_rows, sentence_slots

DEFAULT_ML = 101
SHORT_NAMES = {"1": "1", "2": "2", "H": "hmm", "3": "3", "4": "3"}
DUMP_FREQ = {"1": "model1dumpfrequency", "2": "model2dumpfrequency", "H": "hmmdumpfrequency"}


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


# ----------------------------------------------------------------------------- MGIZA restarts
#: The model a `-restart R` run starts training with (GIZA_FORMATS.md §7).
RESTART_MODEL = {1: "1", 2: "2", 3: "2", 4: "H", 5: "H", 6: "H", 7: "3", 8: "3", 9: "3", 10: "4", 11: "4"}
#: `-previous*` files each restart level needs.
RESTART_NEEDS = {1: ("previoust",), 4: ("previoust",), 5: ("previoust",), 6: ("previoust",),
                 7: ("previoust", "previoushmm"), 8: ("previoust", "previousa"),
                 9: ("previoust", "previousn", "previousd"), 10: ("previoust", "previousn", "previousd"),
                 11: ("previoust", "previousn", "previousd", "previousd42")}


def restart_level(params: GizaParams) -> int:
    """MGIZA's `-restart R` (0 for GIZA++, which has no such parameter)."""
    level = int(params["restart"]) if "restart" in params else 0
    if not 0 <= level <= 11:
        raise GizaRunError(f"ERROR: -restart {level} is not a restart level (0..11)")
    if level in (2, 3):
        raise GizaRunError(f"ERROR: -restart {level} continues Model 2, which eegiza's GIZA++ mode does not train")
    for name in RESTART_NEEDS.get(level, ()):
        if not params[name]:
            raise GizaRunError(f"ERROR: -restart {level} needs -{name}")
    return level


def read_previous_ttable(path: str, ids: IdMap, n_src: int) -> TTable:
    """A `-previoust` file (`e f p` in GIZA ids, e.g. `.thmm.5`, `.t3.final`) as a TTable over the
    dense ids of this run; pairs of words absent from the corpus are dropped."""
    try:
        e_g, f_g, p = read_ttable(path)
    except OSError:
        raise GizaRunError(f"ERROR: cannot open the t-table {path} (-previoust)") from None
    e, f = to_dense(e_g, ids.src_ids), to_dense(f_g, ids.tgt_ids)
    keep = (e >= 0) & (f >= 0)
    e, f, p = e[keep], f[keep], p[keep]
    order = np.lexsort((f, e))
    indptr = np.zeros(n_src + 1, np.int64)
    np.cumsum(np.bincount(e, minlength=n_src), out=indptr[1:])
    return TTable(indptr, f[order].astype(np.int32), p[order])


def read_previous_jumps(path: str, labels, n_classes: int, log: Log = _stderr):
    """A `-previoushmm` file (the `.hhmm.N` jump counts GIZA++ and eegiza write) as eegiza's HMM
    tables (jump counts per source class + 1e-6 as after training). The start counts are the
    positive jumps d of the class-0 block (GIZA++ counts the first position i as a jump from -1,
    d = i + 1, in class 0; they also stay class-0 jump counts as in GIZA++); without a class-0
    block the start is uniform. Classes are matched by label; unknown labels are skipped."""
    try:
        blocks = read_hhmm(path)
    except OSError:
        raise GizaRunError(f"ERROR: cannot open the HMM table {path} (-previoushmm)") from None
    index = {label: k for k, label in enumerate(labels) if k < n_classes}
    jump, start = hmm.initial_jump_counts(n_classes)
    jump[:] = 1e-6
    unknown = 0
    for label, counts in blocks:
        if label not in index:
            unknown += 1
            continue
        for delta, count in counts.items():
            jump[index[label], min(max(delta, -hmm.MAX_JUMP), hmm.MAX_JUMP) + hmm.MAX_JUMP] += count
        if index[label] == 0:
            first = {d - 1: c for d, c in counts.items() if 1 <= d <= len(start)}
            if first:
                start[:] = 1e-6
                for i, c in first.items():
                    start[i] += c
    if unknown:
        log(f"WARNING: {path}: {unknown} class(es) not among this run's source classes; their jumps are ignored.")
    return jump, start


def read_previous_fertility(params: GizaParams, ids: IdMap, n_src: int, log: Log = _stderr) -> dict:
    """The Model-3/4 tables of a restart (R >= 7) as arrays in this run's dense ids: ``n_table``
    (n_src x maxfertility, from `-previousn`), ``d3`` (j, i, l, m, p from `-previousd`), ``a``
    (i, j, l, m, value from `-previousa`), ``d1``/``d1_seen``/``db``/``db_seen``/``half`` (the
    Model-4 displacement tables of `-previousd42`, laid out like FertilityModel; classes by
    label) and ``p0`` (:func:`restart_p0`). Only the files given are read."""
    out: dict = {"p0": restart_p0(params, log)}
    if params["previousn"]:
        e_g, probs = read_ntable(params["previousn"])
        e = to_dense(e_g, ids.src_ids)
        table = np.zeros((n_src, probs.shape[1]))
        table[e[e >= 0]] = probs[e >= 0]
        out["n_table"] = table
    if params["previousd"]:
        out["d3"] = read_atable(params["previousd"])
    if params["previousa"]:
        out["a"] = read_atable(params["previousa"])
    if params["previousd42"]:
        rows = read_d4(params["previousd42"])
        a_index = {label: k for k, label in enumerate(ids.src_labels)}
        b_index = {label: k for k, label in enumerate(ids.tgt_labels)}
        half = max([abs(d) for _, _, d, _ in rows] + [1])
        n_a, n_b, width = len(ids.src_labels), len(ids.tgt_labels), 2 * half + 1
        d1, db = np.zeros((n_a, n_b, width)), np.zeros((n_b, width))
        for a_label, b_label, delta, prob in rows:
            b = b_index.get(b_label)
            if b is None:
                continue
            if a_label == "-1":
                db[b, delta + half] = prob
            elif a_label in a_index:
                d1[a_index[a_label], b, delta + half] = prob
        out.update(d1=d1.ravel(), d1_seen=(d1.sum(axis=2) > 0).astype(np.int8).ravel(), db=db.ravel(),
                   db_seen=(db.sum(axis=1) > 0).astype(np.int8), half=half)
    return out


def loaded_model(ttable: TTable, corpus: ParallelCorpus, model: str, src_class: np.ndarray, jump, start,
                 config: AlignerConfig) -> DirectionModel:
    """The loaded tables as a DirectionModel over ``corpus`` without any training: t(f|e) exactly
    as loaded (the floor where the loaded table lacks a pair), ``model`` ("1" or "H") aligns."""
    table = TTable.from_corpus(corpus)
    table.probs = table.probs_in(ttable, config.prob_smooth)
    if model == "H" and jump is None:
        jump, start = hmm.initial_jump_counts(int(src_class.max()) + 1 if len(src_class) else 1)
    return DirectionModel(table, model, src_class, jump=jump, start=start, hmm_p_null=config.hmm_p_null,
                          hmm_jump_smooth=config.hmm_jump_smooth, prob_smooth=config.prob_smooth)


def read_position_table(path: str, corpus: ParallelCorpus, distortion: bool, compact: bool, floor: float,
                        what: str) -> ATable:
    """A `-previousa` (`i j l m value`, e.g. `.a3.final`, `.a2.N`) or `-previousd` (`j i l m p`,
    `.d3.final`) file as a position table over the sentence lengths of ``corpus``: cells the file
    lacks in a block it has get ``floor`` (GIZA prints only values > probsmooth), blocks it lacks
    stay uniform (the lookup's default). ``compact``: the a-table ignores m, the d-table l."""
    try:
        c0, c1, l, m, v = read_atable(path)
    except OSError:
        raise GizaRunError(f"ERROR: cannot open the {what} table {path} (-previous{what[0]})") from None
    i, j = (c1, c0) if distortion else (c0, c1)
    ignore_l, ignore_m = (compact, False) if distortion else (False, compact)
    table = ATable.layout(corpus.src.offsets, corpus.tgt.offsets, ignore_l=ignore_l, ignore_m=ignore_m)
    if distortion:
        table.probs = np.repeat(1.0 / np.maximum(table.dim_m, 1), (table.dim_l + 1) * table.dim_m)
    else:
        table.probs = np.repeat(1.0 / (table.dim_l + 1), (table.dim_l + 1) * table.dim_m)
    keys = ((np.zeros_like(l) if ignore_l else l) << KEY_SHIFT) | (np.zeros_like(m) if ignore_m else m)
    block = np.clip(np.searchsorted(table.keys, keys), 0, max(len(table.keys) - 1, 0))
    known = (table.keys[block] == keys) if len(table.keys) else np.zeros(len(keys), bool)
    for b in np.unique(block[known]):
        table.probs[table.offsets[b]:table.offsets[b + 1]] = floor
    inside = known & (i >= 0) & (i <= table.dim_l[block]) & (j >= 1) & (j <= table.dim_m[block])
    b = block[inside]
    table.probs[table.offsets[b] + (j[inside] - 1) * (table.dim_l[b] + 1) + i[inside]] = v[inside]
    return table


def previous_fertility_model(arrays: dict, corpus: ParallelCorpus, d_table: ATable, src_class: np.ndarray,
                             tgt_class: np.ndarray, fparams, last_model: str) -> FertilityModel:
    """The Model-3/4 tables of a restart (:func:`read_previous_fertility`, d from `-previousd`) as a
    FertilityModel; the fertility distribution by word length (for words the n table lacks) is
    that of the loaded rows; without `-previousd42` the Model-4 tables are uniform and unseen."""
    n_src = len(corpus.src_vocab)
    maxfert = int(fparams.maxfertility)
    n_table = np.zeros((n_src, maxfert))
    loaded = arrays.get("n_table", np.zeros((n_src, maxfert)))
    k = min(maxfert, loaded.shape[1])
    n_table[:, :k] = loaded[:n_src, :k]
    lengths = ibm3.word_byte_lengths(corpus.src_vocab.words)
    _, by_length, general = ibm3.normalise_fertility(n_table, lengths, 0.0, 0.0, 0.0)
    if "d1" in arrays:
        d1, d1_seen, db, db_seen, half = (arrays[name] for name in ("d1", "d1_seen", "db", "db_seen", "half"))
    else:
        n_a, n_b, half = int(src_class.max()) + 1, int(tgt_class.max()) + 1, 1
        d1, d1_seen = np.full(n_a * n_b * 3, 1.0 / 3), np.zeros(n_a * n_b, np.int8)
        db, db_seen = np.full(n_b * 3, 1.0 / 3), np.zeros(n_b, np.int8)
    return FertilityModel(fparams, last_model, src_class, tgt_class, n_table, by_length, general, d_table,
                          float(arrays["p0"]), d1, d1_seen, db, db_seen, int(half))


# ----------------------------------------------------------------------------- configuration
def giza_schedule(params: GizaParams, first: Optional[str] = None) -> str:
    """`m1 m2 mh m3 m4` as an eegiza schedule, e.g. `1^5 H^5 3^3 4^3` (m5/m6 are refused); with
    ``first`` (a restart) the models before it are left out and the schedule may be empty."""
    if params["m5"] > 0 or params["m6"] > 0:
        raise GizaRunError("ERROR: Models 5 and 6 are not implemented in eegiza (use -m5 0 -m6 0)")
    order = (("1", "m1"), ("2", "m2"), ("H", "mh"), ("3", "m3"), ("4", "m4"))
    skip = [name for name, _ in order].index(first) if first else 0
    items = [(name, int(params[key])) for name, key in order[skip:] if params[key] > 0]
    if not items and first is None:
        raise GizaRunError("ERROR: no training iterations (m1 = m2 = mh = m3 = m4 = 0)")
    return format_schedule(items)


def _number(params: GizaParams, name: str) -> float:
    """A float parameter as printed (so float32 values like probsmooth read back as 1e-07)."""
    return float(params.value_text(name))


def giza_config(params: GizaParams, mgiza: bool = False, first: Optional[str] = None) -> AlignerConfig:
    """The :class:`AlignerConfig` that trains what these GIZA parameters ask for (see the module
    docstring for the HMM mapping; ``first``: the model a restart starts with). `eegiza align`
    with these options (and the same class files) trains the same model, except that it rejects
    sentences longer than `ml - 1` where the GIZA commands cut them."""
    p = _number(params, "emprobforempty")
    cap = int(params["ml"]) - 1 if int(params["ml"]) != DEFAULT_ML else None
    return AlignerConfig(schedule=giza_schedule(params, first), max_sentence_length=cap,
                         threads=int(params["ncpus"]) if mgiza else 0, prob_smooth=_number(params, "probsmooth"),
                         hmm_p_null=p / (1.0 + p), hmm_jump_smooth=_number(params, "emalsmooth"),
                         vb_alpha=0.0, agreement=False, min_link_posterior=0.0, cognate_lambda=0.0,
                         p0=_number(params, "p0"), nsmooth=_number(params, "nsmooth"),
                         model4_smooth=_number(params, "model4smoothfactor"),
                         max_fertility=int(params["maxfertility"]))


def giza_fertility_params(params: GizaParams):
    """The Model-3/4 parameters (:class:`eegiza.models.fertility.FertilityParams`) of a GIZA
    command line, e.g. Moses' `-p0 0.999 -nsmooth 4 -model4smoothfactor 0.4`."""
    from .models.fertility import FertilityParams
    return FertilityParams(
        p0=_number(params, "p0"), nsmooth=_number(params, "nsmooth"), nsmoothgeneral=_number(params, "nsmoothgeneral"),
        model23smoothfactor=_number(params, "model23smoothfactor"),
        model4smoothfactor=_number(params, "model4smoothfactor"), maxfertility=int(params["maxfertility"]),
        deficientdistortionforemptyword=int(params["deficientdistortionforemptyword"]), depm4=int(params["depm4"]),
        compactadtable=bool(params["compactadtable"]), pegging=bool(params["pegging"]),
        peggedcutoff=_number(params, "peggedcutoff"), prob_smooth=_number(params, "probsmooth"),
        countincreasecutoffal=_number(params, "countincreasecutoffal"))


def fertility_arrays(model: DirectionModel) -> Optional[dict]:
    """The Model-3/4 tables of a trained direction as arrays, if it has them."""
    fert = getattr(model, "fertility", None)
    return fert.to_arrays() if fert is not None else None


def model1_loglik(ttable, corpus: ParallelCorpus, floor: float) -> np.ndarray:
    """Per-sentence Model-1 log-likelihood sum_j log(sum_i t(f_j | e_i) / (l + 1)), i = 0 (NULL)
    .. l, every t floored at ``floor`` (pairs absent from the table get the floor)."""
    sl, tl = corpus.src.lengths + 1, corpus.tgt.lengths
    sent = np.repeat(np.arange(len(corpus)), sl * tl)
    start = np.repeat(np.cumsum(sl * tl) - sl * tl, sl * tl)
    r = np.arange(len(sent)) - start
    i, j = r % sl[sent], r // sl[sent]
    e = np.where(i > 0, corpus.src.ids[np.maximum(corpus.src.offsets[sent] + i - 1, 0)], 0).astype(np.int64)
    f = corpus.tgt.ids[corpus.tgt.offsets[sent] + j].astype(np.int64)
    slot = ttable.find_slots(e, f)
    found = slot >= 0
    t = np.full(len(slot), floor)
    t[found] = np.maximum(ttable.probs[slot[found]], floor)
    token = corpus.tgt.offsets[sent] + j
    word_sum = np.bincount(token, weights=t, minlength=len(corpus.tgt.ids))
    word_sent = np.repeat(np.arange(len(corpus)), tl)
    per_word = np.log(word_sum / (corpus.src.lengths[word_sent] + 1.0))
    return np.bincount(word_sent, weights=per_word, minlength=len(corpus))


# ----------------------------------------------------------------------------- the run
class GizaRun:
    """One training run: `prepare()` reads the input, `train_model()` trains (with `on_iteration`
    writing GIZA's dumps), `finish()` writes the end-of-run files; `written` lists every path."""

    def __init__(self, params: GizaParams, mgiza: bool = False, log: Log = _stderr, out: Log = print):
        self.params, self.mgiza, self.log, self.out = params, mgiza, log, out
        self.prefix = params["o"]
        self.nodumps = bool(params["nodumps"])
        self.compact = bool(params["compactalignmentformat"])
        self.n_parts = 0
        if mgiza:
            self.n_parts = int(params["ncpus"]) or (os.cpu_count() or 2)
        self.vit_pp: dict[int, float] = {}
        self.test_pp: dict[int, tuple] = {}
        self.loop_index = 0
        self.final_written = False
        self.written: list[str] = []

    # -- setup
    def prepare(self) -> None:
        p = self.params
        directory = os.path.dirname(self.prefix) or "."
        if not os.path.isdir(directory):
            raise GizaRunError(f"ERROR: output directory {directory} does not exist")
        self.restart = restart_level(p)
        first = RESTART_MODEL.get(self.restart)
        self.config = giza_config(p, self.mgiza, first)   # refuses Models 5/6 before any file is written
        write_gizacfg(p)
        self.written.append(self.prefix + ".gizacfg")
        check_cooc(p["coocurrencefile"])
        self.iterations = dict(parse_schedule(self.config.schedule)) if self.config.schedule else {}
        src_vcb = read_vocabulary(p["s"], "source")
        tgt_vcb = read_vocabulary(p["t"], "target")
        snts, paths = [read_corpus_file(p["c"], "training")], [p["c"]]
        if p["tc"]:
            snts.append(read_corpus_file(p["tc"], "test"))
            paths.append(p["tc"])
        cap = self.config.max_sentence_length
        corpora, self.ids = build_corpora(snts, paths, src_vcb, tgt_vcb, cap, self.log)
        self.train = corpora[0]
        self.test = corpora[1] if len(corpora) > 1 else None
        corpus = self.train.corpus
        if self.mgiza:
            src_path, tgt_path = p["sourcevocabularyclasses"], p["targetvocabularyclasses"]
        else:
            src_path, tgt_path = p["s"] + ".classes", p["t"] + ".classes"
        self.src_class, self.ids.src_labels = read_word_classes(src_path, corpus.src_vocab, self.log)
        self.tgt_class, self.ids.tgt_labels = read_word_classes(tgt_path, corpus.tgt_vocab, self.log)
        self.prior = None
        if p["d"] and "1" in self.iterations:  # GIZA uses the dictionary in Model 1 only
            width = len(corpus.tgt_vocab)
            keys = read_dictionary(p["d"], self.ids.src_ids, self.ids.tgt_ids, width)
            self.prior = DictionaryConstraint(corpus, keys, width)
        self.initial = self._load_previous(first) if self.restart else None
        self.loop = self._viterbi_loop_string()

    def _load_previous(self, first: str) -> DirectionModel:
        """The model of a `-restart` run, from the `-previous*` files (see :data:`RESTART_MODEL`)."""
        p, corpus = self.params, self.train.corpus
        ttable = read_previous_ttable(p["previoust"], self.ids, len(corpus.src_vocab))
        n_classes = int(self.src_class.max()) + 1 if len(self.src_class) else 1
        jump = start = None
        if first == "H" and self.restart >= 5 and p["previoushmm"]:
            jump, start = read_previous_jumps(p["previoushmm"], self.ids.src_labels, n_classes, self.log)
        if p["previousa"] and self.restart < 7:
            self.log("WARNING: -previousa is not used: eegiza's HMM has no alignment-count table.")
        if self.restart >= 7:
            return self._load_previous_fertility(ttable, n_classes)
        if not self.iterations:
            self.log(f"WARNING: -restart {self.restart} with no iterations of Model {SHORT_NAMES.get(first, first)} "
                     "or later: aligning the corpus with the loaded model only (MGIZA would stop).")
        return loaded_model(ttable, corpus, first, self.src_class, jump, start, self.config)

    def _load_previous_fertility(self, ttable: TTable, n_classes: int) -> DirectionModel:
        """The start of a `-restart 7..11` run (MGIZA's `main.cpp`/`model3.cpp`): the start
        alignments come from the HMM if `-previoushmm` is given (always for R = 7), else from
        Model 2 with the `-previousa` table, else from Model 1 (the t-table alone); R >= 9 adds the
        n, d, p0 (and for R = 11 the D4) tables, which the first iteration continues."""
        p, corpus, r = self.params, self.train.corpus, self.restart
        compact, floor = bool(p["compactadtable"]), self.config.prob_smooth
        jump = start = atable = None
        if p["previoushmm"]:
            jump, start = read_previous_jumps(p["previoushmm"], self.ids.src_labels, n_classes, self.log)
        elif p["previousa"]:
            atable = read_position_table(p["previousa"], corpus, False, compact, floor, "a")
        base = "H" if jump is not None else "2" if atable is not None else "1"
        model = loaded_model(ttable, corpus, base, self.src_class, jump, start, self.config)
        model.atable, model.base_model = atable, base
        if r >= 9:
            arrays = read_previous_fertility(p, self.ids, len(corpus.src_vocab), self.log)
            d_table = read_position_table(p["previousd"], corpus, True, compact, floor, "d")
            model.fertility = previous_fertility_model(arrays, corpus, d_table, self.src_class, self.tgt_class,
                                                       giza_fertility_params(p), "4" if r == 11 else "3")
            model.last_model = model.fertility.last_model
        elif not self.iterations:
            raise GizaRunError(f"ERROR: -restart {r} initialises Model 3 from the loaded tables; it needs "
                               "Model 3/4 iterations (-m3, -m4)")
        if not self.iterations:
            self.log(f"WARNING: -restart {r} with no iterations of Model 3 or 4: aligning the corpus with the "
                     "loaded model only (MGIZA would stop).")
        return model

    def _viterbi_loop_string(self) -> str:
        """Models of the Model-3/4 loop as GIZA names them (`H333444`): the first letter is the
        model the first iteration starts from (for a restart: 4 for R = 11, H if an HMM is loaded)."""
        p = self.params
        body = "3" * self.iterations.get("3", 0) + "4" * self.iterations.get("4", 0)
        if not body:
            return ""
        if self.restart >= 7:
            return ("4" if self.restart == 11 else "H" if self.initial.base_model == "H" else "3") + body
        return ("H" if p["mh"] > 0 else "3") + body

    # -- training
    def train_model(self) -> DirectionModel:
        kwargs = dict(src_class=self.src_class, prior_factory=self.prior, progress=self.out,
                      on_iteration=self.on_iteration)
        accepted = inspect.signature(train_direction).parameters  # Models 3/4 need more than Model 1/HMM
        if "tgt_class" in accepted:
            kwargs["tgt_class"] = self.tgt_class
        if "fertility_params" in accepted:
            kwargs["fertility_params"] = giza_fertility_params(self.params)
        if self.initial is not None:
            if not self.iterations:
                return self.align_only(self.initial)
            kwargs["initial"] = self.initial
        self.model = train_direction(self.train.corpus, self.config, **kwargs)
        return self.model

    def align_only(self, model: DirectionModel) -> DirectionModel:
        """A restart without iterations: write the Viterbi alignment of the corpus under the loaded
        model as iteration 0 (`.A1.0` / `.Ahmm.0`, MGIZA's `.partNNN` split for mgiza)."""
        name = model.last_model
        positions, scores = self._viterbi(model, self.train.corpus, name)
        parts = self.n_parts if name in "1H34" else 0
        self.written += write_alignments(f"{self.prefix}.A{SHORT_NAMES[name]}.0", self.train.corpus, positions,
                                         scores, self.train.pair_numbers, self.compact, parts,
                                         "1" if name == "1" else "3")
        self.model = model
        return model

    def _viterbi(self, model: DirectionModel, corpus: ParallelCorpus, name: str):
        positions, scores = align_direction(model, corpus)
        if name == "1":  # GIZA's Model-1 score is the product of the t's, without 1/(l+1)^m
            scores = scores + corpus.tgt.lengths * np.log(corpus.src.lengths + 1.0)
        return positions, scores

    def _vit_perplexity(self, scores, corpus, name) -> float:
        if name == "1":
            scores = scores - corpus.tgt.lengths * np.log(corpus.src.lengths + 1.0)
        finite = scores[np.isfinite(scores)]
        return perplexity(float(finite.sum()), len(corpus.tgt.ids))

    def _test_perplexity(self, model: DirectionModel, name: str) -> Optional[float]:
        """Test perplexity under Model 1 (`N/A` for the other models, whose likelihood needs
        their own E-step kernels)."""
        if name != "1":
            return None
        c = self.test.corpus
        return perplexity(float(model1_loglik(model.ttable, c, model.prob_smooth).sum()), len(c.tgt.ids))

    def on_iteration(self, name: str, it: int, model: DirectionModel, record: bool = True) -> None:
        """Write what GIZA writes after iteration ``it`` of model ``name`` (the train_direction
        callback); ``record`` keeps the perplexities for `.perp`."""
        p = self.params
        row = len(model.log) - 1 if record else -1
        if name in "34":
            self.loop_index += 1
            k = self.loop_index
            final = k == len(self.loop) - 1
            freq = int(p["model345dumpfrequency"])
            dump = (final or (freq != 0 and k % freq == 0)) and not self.nodumps
            align = dump or (final and bool(p["onlyaldumps"]))
            number = "final" if final else str(k)
            short = "3"
        else:
            freq = int(p[DUMP_FREQ[name]])
            n_iter = self.iterations[name]
            dump = freq != 0 and (it % freq == 0 or (self.mgiza and it == n_iter)) and not self.nodumps
            align, number, short, final = dump, str(it), SHORT_NAMES[name], False
        need_perp = record and not self.nodumps
        if align or need_perp:
            if name in "34" and self.restart >= 7:  # MGIZA: the alignment found under the loaded/previous model
                positions, scores = model.found
            else:
                positions, scores = self._viterbi(model, self.train.corpus, name)
            self.vit_pp[row] = self._vit_perplexity(scores, self.train.corpus, name)
            if align:
                parts = self.n_parts if name in "1H34" else 0
                self.written += write_alignments(f"{self.prefix}.A{short}.{number}", self.train.corpus, positions,
                                                 scores, self.train.pair_numbers, self.compact, parts,
                                                 "1" if name == "1" else "3")
        if self.test is not None and need_perp:
            t_pos, t_scores = self._viterbi(model, self.test.corpus, name)
            self.test_pp[row] = (self._test_perplexity(model, name),
                                 self._vit_perplexity(t_scores, self.test.corpus, name))
            if dump:
                self.written += write_alignments(f"{self.prefix}.tst.A{short}.{number}", self.test.corpus, t_pos,
                                                 t_scores, self.test.pair_numbers, self.compact)
        if dump:
            self._dump_tables(model, name, short, number)
        if final:
            self.final_written = True

    def _dump_tables(self, model: DirectionModel, name: str, short: str, number: str) -> None:
        path = f"{self.prefix}.t{short}.{number}"
        write_ttable_dense(path, model.ttable, self.ids, model.prob_smooth)
        self.written.append(path)
        compact_length = int(self.params["ml"]) - 1
        if name == "2" and model.a_counts is not None:
            path = f"{self.prefix}.a2.{number}"
            write_a3(path, {**model.atable.to_arrays("a_"), "a_probs": model.a_counts}, compact_length,
                     model.prob_smooth)
            self.written.append(path)
        if name == "H" and model.jump is not None:
            path = f"{self.prefix}.hhmm.{number}"
            write_text(path, format_hhmm(model.jump, self.ids.src_labels, hmm.MAX_JUMP, offset=1e-6,
                                         start=model.start))
            self.written.append(path)
            path = f"{self.prefix}.ahmm.{number}"
            write_a3(path, self._hmm_position_counts(model), compact_length, model.prob_smooth)
            self.written.append(path)
        if name in "34":
            arrays = fertility_arrays(model)
            if arrays is not None:
                self.written += write_fertility_tables(
                    self.prefix, number, arrays, self.ids, self.train.src_freq, int(self.params["ml"]) - 1,
                    model.prob_smooth, model4=self.loop[self.loop_index] == "4")

    def _hmm_position_counts(self, model: DirectionModel) -> dict:
        """The `.ahmm.N` table of the HMM as it stands, as a-table arrays (key l, m ignored)."""
        corpus = self.train.corpus
        table = ATable.layout(corpus.src.offsets, corpus.tgt.offsets, ignore_l=False, ignore_m=True)
        slots, slot_off = sentence_slots(corpus, model.ttable)
        table.probs = hmm_position_counts(
            corpus.src.ids, corpus.src.offsets, corpus.tgt.offsets, slots, slot_off, model.ttable.probs,
            model.prob_smooth, model.src_class, model.jump, model.start, model.hmm_p_null, model.hmm_jump_smooth,
            table.keys, table.dim_l, table.dim_m, table.offsets)
        return table.to_arrays("a_")

    # -- end of training
    def finish(self, model: DirectionModel) -> None:
        p = self.params
        if self.loop and not self.final_written:  # Models 3/4 trained without per-iteration calls
            self.loop_index = len(self.loop) - 2
            self.on_iteration(self.loop[-1], 0, model, record=False)
        if self.nodumps:
            return
        rows = []
        k = 0
        for row, entry in enumerate(model.log):
            name = entry.model
            if name not in ("Model1", "Model2", "HMM") and k + 1 < len(self.loop):  # GIZA's names, e.g. THTo3
                k += 1
                a, b = self.loop[k - 1], self.loop[k]
                name = f"Model{b}" if a == b else f"T{a}To{b}"
            test_pp, test_vit = self.test_pp.get(row, (None, None))
            rows.append(PerpRow(name, entry.perplexity, test_pp, self.vit_pp.get(row), test_vit))
        n_test = len(self.test.corpus) if self.test is not None else 0
        write_perp(self.prefix + ".perp", rows, len(self.train.corpus), n_test)
        for side, freq_attr, to_giza, vocab in (("src", "src_freq", self.ids.src_ids, "src_vocab"),
                                                ("trg", "tgt_freq", self.ids.tgt_ids, "tgt_vocab")):
            for kind, data in (("trn", self.train), ("tst", self.test)):
                entries = []
                if data is not None:
                    freq = getattr(data, freq_attr)
                    words = getattr(data.corpus, vocab).words
                    dense = np.flatnonzero(freq > 0)
                    dense = dense[dense > 0]
                    dense = dense[np.argsort(to_giza[dense], kind="stable")]
                    entries = [(int(to_giza[d]), words[d], float(freq[d])) for d in dense]
                path = f"{self.prefix}.{kind}.{side}.vcb"
                write_text(path, format_vcb(entries))
                self.written.append(path)
        write_decoder_config(self.prefix, p["s"], p["t"])
        self.written += [self.prefix + ".perp", self.prefix + ".Decoder.config"]


def run_giza(params: GizaParams, mgiza: bool = False, log: Log = _stderr, out: Log = print) -> GizaRun:
    """Train and write every file (see the module docstring); returns the finished run."""
    run = GizaRun(params, mgiza, log, out)
    try:
        run.prepare()
        model = run.train_model()
        run.finish(model)
    except BaseException:
        # a failed or interrupted run leaves no configuration file claiming a run (eegiza's
        # difference from GIZA++, which leaves PREFIX.gizacfg behind); dumps already written stay
        cfg = run.prefix + ".gizacfg"
        if cfg in run.written and os.path.exists(cfg):
            os.unlink(cfg)
        raise
    return run
