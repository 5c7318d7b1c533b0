"""MGIZA restarts: reading the tables of an earlier run back in, for `mgiza -restart R`.

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

import numpy as np

from ..config import AlignerConfig
from ..corpus import ParallelCorpus
from ..formats.giza import read_ttable
from ..models import hmm, ibm3
from ..models.fertility import FertilityModel
from ..models.ibm2 import KEY_SHIFT, ATable
from ..train import DirectionModel
from ..ttable import TTable
from .inputs import GizaRunError, Log, _stderr, restart_p0, to_dense
from .params import GizaParams
from .table_files import read_atable, read_d4, read_hhmm, read_ntable
from .writers import IdMap

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
