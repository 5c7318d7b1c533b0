"""The GIZA++ / MGIZA++ training run behind the `GIZA++` and `mgiza` commands.

`run_giza(params)` takes parsed GIZA parameters (:mod:`eegiza.giza.params`) and does what GIZA's
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

MGIZA restarts: :mod:`eegiza.giza.restart`; reading the inputs: :mod:`eegiza.giza.inputs`.
"""
from __future__ import annotations

import inspect
import os
from typing import Optional

import numpy as np

from ..config import AlignerConfig
from ..corpus import ParallelCorpus
from ..formats.giza import format_vcb, write_text
from ..iterations import perplexity
from ..models import hmm
from ..models.fertility import FertilityParams
from ..models.ibm2 import ATable
from ..schedule import format_schedule, parse_schedule
from ..train import DirectionModel, align_direction, train_direction
from ..ttable import TTable, sentence_slots
from .inputs import (DictionaryConstraint, GizaRunError, Log, _stderr, build_corpora, check_cooc,
                     hmm_position_counts, read_corpus_file, read_dictionary, read_vocabulary, read_word_classes)
from .params import GizaParams, write_gizacfg
from .restart import (RESTART_MODEL, loaded_model, previous_fertility_model, read_position_table,
                      read_previous_fertility, read_previous_jumps, read_previous_ttable, restart_level)
from .table_files import PerpRow, write_decoder_config, write_perp
from .writers import format_hhmm, write_a3, write_alignments, write_fertility_tables, write_ttable_dense

DEFAULT_ML = 101
SHORT_NAMES = {"1": "1", "2": "2", "H": "hmm", "3": "3", "4": "3"}
DUMP_FREQ = {"1": "model1dumpfrequency", "2": "model2dumpfrequency", "H": "hmmdumpfrequency"}


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
