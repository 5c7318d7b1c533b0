"""Pieces shared by the command-line programs: options from :class:`AlignerConfig`, output names,
and the read-train-align-write job itself (progress display: :mod:`eegiza.cli.progress`; output
files: :mod:`eegiza.cli.outputs`; long and empty pairs: :mod:`eegiza.cli.longpairs`)."""
from __future__ import annotations

import argparse
import time
from dataclasses import MISSING, fields
from typing import Optional

from ..config import AlignerConfig
from .outputs import STDOUT, OutputPathError, OutputSet, write_links
from .progress import Reporter, peak_rss_mb  # noqa: F401  (re-exported: the programs import them from here)
from .progress import lockstep_models, remaining_weight

SHORT_NAMES = {"intersection": "inter", "union": "union", "grow-diag": "gd", "grow-diag-final": "gdf",
               "grow-diag-final-and": "gdfa"}


def prior_summary(report: dict) -> str:
    """One line on the embedding prior: chosen weights, mapping quality, seconds per stage, and why
    it is not used when it is not (the gate, or a bitext larger than ``--prior-max-pairs``)."""
    lam = report.get("lambda", {})
    reason = (report.get("calibration") or {}).get("reason")
    head = f"embedding prior: lambda fwd {lam.get('fwd', 0):g}, rev {lam.get('rev', 0):g}"
    if reason and "quality" not in report and "mapping" not in report:
        return f"{head}: not used, {reason}"
    quality = ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                        for k, v in report.get("quality", {}).items())
    seconds = ", ".join(f"{k} {v:.1f} s" for k, v in report.get("seconds", {}).items())
    return (f"{head}; mapping {report.get('mapping', 'saved prior')}" + (f" ({quality})" if quality else "")
            + (f"; {seconds}" if seconds else "") + (f"; not used: {reason}" if reason else ""))


class OutputNames:
    """``PREFIX.fwd``, ``PREFIX.rev``, ``PREFIX.gdfa`` ... for a prefix; prefix ``-``: the one
    symmetrised alignment on standard output."""

    def __init__(self, prefix: str):
        self.prefix = prefix

    def files(self, heuristics) -> list:
        """[(which, path)]: what ``run_alignment`` writes, ``which`` being fwd, rev or a heuristic."""
        if self.prefix == STDOUT:
            if len(heuristics) != 1:
                raise OutputPathError("-o - writes one alignment to standard output: give exactly one "
                                      f"--heuristics method, not {len(heuristics)}")
            return [(heuristics[0], STDOUT)]
        return ([("fwd", self.direction("fwd")), ("rev", self.direction("rev"))]
                + [(method, self.heuristic(method)) for method in heuristics])

    def direction(self, name: str) -> str:
        return f"{self.prefix}.{name}"

    def heuristic(self, method: str) -> str:
        return f"{self.prefix}.{SHORT_NAMES[method]}"


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """One option per :class:`AlignerConfig` field, with its default and the GIZA++ flag it matches."""
    for f in fields(AlignerConfig):
        if f.name == "symmetrization":
            continue
        option = "--" + f.name.replace("_", "-")
        default = f.default if f.default is not MISSING else None
        giza = f.metadata.get("giza")
        help_text = f"{f.metadata.get('doc', '')} (default: {default}" + (f"; GIZA++: {giza})" if giza else ")")
        if f.type == "bool":
            parser.add_argument(option, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        else:
            kind = int if "int" in f.type else float if "float" in f.type else str
            parser.add_argument(option, type=kind, default=None, help=help_text, choices=f.metadata.get("choices"))


def config_from_args(args, base: Optional[AlignerConfig] = None) -> AlignerConfig:
    base = base or AlignerConfig()
    values = {}
    for f in fields(AlignerConfig):
        value = getattr(args, f.name, None)
        values[f.name] = getattr(base, f.name) if value is None else value
    return AlignerConfig(**values)


def read_corpus(config: AlignerConfig, src=None, tgt=None, joint=None):
    """The corpus of ``SRC TGT`` or ``--joint FILE`` (``-`` = standard input); sentences over the
    cap stop the run here only under ``on_long="error"``."""
    from ..corpus import read_joint, read_parallel
    if joint:
        return read_joint(joint, lowercase=config.lowercase, max_len=config.reader_max_len)
    return read_parallel(src, tgt, lowercase=config.lowercase, max_len=config.reader_max_len)


def checkpoint_path(outputs: OutputNames, save_model: Optional[str] = None) -> str:
    """Where a lost Dask scheduler's checkpoint goes: ``PREFIX.checkpoint.npz`` (or beside ``--save-model``)."""
    return f"{save_model or outputs.prefix}.checkpoint.npz"


def lost_scheduler_message(err, config: AlignerConfig) -> str:
    """The error of a lost scheduler: what was saved and the ``--resume`` command that continues."""
    from ..checkpoint import progress_text
    if err.checkpoint is None:
        why = ("trainings with the embedding prior are not checkpointed" if config.uses_embeddings else
               "no iteration had completed")
        return f"{err}; no checkpoint ({why}): run again"
    return (f"{err}. The training state after the last completed iteration "
            f"({progress_text(err.state, config.schedule)}) is saved in "
            f"{err.checkpoint}; continue with the same input and output options plus --resume {err.checkpoint} "
            "(with --scheduler ADDRESS to go on on a cluster, without it to finish on this machine), e.g. "
            f"eegiza align SRC TGT -o PREFIX --resume {err.checkpoint}")


def run_alignment(config: AlignerConfig, outputs: OutputNames, heuristics, reporter: Reporter, src=None, tgt=None,
                  joint=None, save_model: Optional[str] = None, corpus=None, resume=None,
                  large_config: Optional[AlignerConfig] = None):
    """Check every output path, read (unless ``corpus`` is given), set long pairs aside, train both
    directions, align, and write every output file together (:class:`OutputSet`: all or none).
    ``resume``: a :class:`eegiza.checkpoint.Checkpoint` to continue (issue 17). ``large_config``: the
    options to train with instead if the corpus is large (:func:`eegiza.presets.is_large`). A lost Dask
    scheduler saves a checkpoint (:func:`checkpoint_path`) and stops with a ValueError naming it.
    Returns (model, alignment)."""
    from ..api import Aligner
    from ..checkpoint import Checkpoint
    from ..distributed.errors import SchedulerLostError
    from ..longlines import select_pairs
    from ..presets import LARGE_CORPUS_PAIRS, is_large
    from ..schedule import parse_schedule
    from .longpairs import report_empty_pairs, set_aside_long_pairs, with_fallback

    files = outputs.files(heuristics)
    paths = [path for _, path in files] + ([save_model] if save_model else [])
    with OutputSet(paths) as output_set:            # checked before any work
        t0 = time.perf_counter()
        if corpus is None:
            corpus = read_corpus(config, src, tgt, joint)
        reporter.step(f"reading {len(corpus)} sentence pairs", time.perf_counter() - t0)
        training, long_idx = set_aside_long_pairs(config, corpus, reporter, src, tgt, joint)
        if large_config is not None and is_large(len(training)):
            config = large_config
            line = (f"{len(training):,} sentence pairs: the schedule {config.schedule} with HMM posterior decoding "
                    f"(--fast), the default from {LARGE_CORPUS_PAIRS:,} pairs on; --schedule '1^5 H^5 3^3 4^3' "
                    "trains Models 3/4 too")
            reporter.progress(line)
            reporter.note(line)
        report_empty_pairs(corpus, reporter)
        # the long pairs alone for their fallback; the corpus is then held once (as ``training``)
        long_corpus = select_pairs(corpus, long_idx)
        del corpus
        reporter.profile.mark("reading")
        reporter.compiling_notice(config)
        t0 = time.perf_counter()
        if resume is not None:
            resume.check(training, config, source=joint or f"{src} / {tgt}")
            reporter.note(f"resuming from {resume.path}: {resume.progress()} done")
        total = sum(n for _, n in parse_schedule(config.schedule))
        done = (0, 0) if resume is None else (resume.fwd.done, resume.rev.done)
        reporter.expect_iterations(2 * total - sum(done), remaining_weight(config, done), lockstep_models(config))
        path = checkpoint_path(outputs, save_model)
        try:
            model = Aligner(config).train_corpus(training, progress=reporter.progress, profile=reporter.profile,
                                                 checkpoint=path if config.scheduler else None, resume=resume)
        except SchedulerLostError as err:   # issue 17: the last completed iteration's state is saved
            raise ValueError(lost_scheduler_message(err, config)) from err
        finally:
            reporter.training_done()
        reporter.step("training", time.perf_counter() - t0)
        if config.cognate_lambda > 0:
            reporter.note(f"cognate prior: lambda {config.cognate_lambda:g} (--cognate-lambda 0 turns it off)")
        if model.prior_report is not None:
            reporter.note(prior_summary(model.prior_report))
        t0 = time.perf_counter()
        try:
            alignment = with_fallback(config, model, long_corpus, long_idx,
                                      model.align_corpus(training, heuristics, profile=reporter.profile), heuristics)
        except SchedulerLostError as err:   # training is complete: resuming only aligns
            saved = Checkpoint.of_model(model, training)
            err.state = saved.states()
            if not config.uses_embeddings:
                saved.save(path)
                err.checkpoint = path
            raise ValueError(lost_scheduler_message(err, config)) from err
        if len(long_idx):
            reporter.profile.mark("long pairs (fallback)")
        reporter.step("aligning", time.perf_counter() - t0)
        t0 = time.perf_counter()
        for which, path in files:
            if path == STDOUT:
                continue
            with output_set.writing(path) as tmp:
                write_links(tmp, alignment.iter_links(which))
        if save_model:
            with output_set.writing(save_model) as tmp:
                model.save(tmp)
        output_set.commit()
        for which, path in files:
            if path == STDOUT:
                write_links(STDOUT, alignment.iter_links(which))
        reporter.step("writing", time.perf_counter() - t0)
        reporter.profile.mark("writing")
    return model, alignment
