"""Pieces shared by the command-line programs: options from :class:`AlignerConfig`, progress
display and run summary, output names, and the read-train-align-write job itself."""
from __future__ import annotations

import argparse
import resource
import sys
import time
from dataclasses import MISSING, fields
from typing import List, Optional

from ..config import AlignerConfig

SHORT_NAMES = {"intersection": "inter", "union": "union", "grow-diag": "gd", "grow-diag-final": "gdf",
               "grow-diag-final-and": "gdfa"}


def peak_rss_mb() -> float:
    """Peak resident memory of this process, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class Reporter:
    """Progress lines on a terminal (or always, with ``force``) and a closing summary on stderr."""

    def __init__(self, quiet: bool = False, force: bool = False, stream=None):
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.show_progress = not quiet and (force or self.stream.isatty())
        self.start = time.perf_counter()
        self.steps: List[tuple] = []
        self.notes: List[str] = []

    def progress(self, message: str) -> None:
        if self.show_progress:
            print(f"[{time.perf_counter() - self.start:7.1f}s] {message}", file=self.stream, flush=True)

    def step(self, name: str, seconds: float) -> None:
        self.steps.append((name, seconds))
        self.progress(f"{name} done in {seconds:.2f} s")

    def note(self, line: str) -> None:
        """A line for the closing summary."""
        self.notes.append(line)

    def summary(self, extra: str = "") -> None:
        if self.quiet:
            return
        for line in self.notes:
            print(f"eegiza: {line}", file=self.stream, flush=True)
        parts = ", ".join(f"{name} {sec:.1f} s" for name, sec in self.steps)
        print(f"eegiza: total {time.perf_counter() - self.start:.1f} s ({parts}); peak memory "
              f"{peak_rss_mb():.0f} MB{extra}", file=self.stream, flush=True)


def prior_summary(report: dict) -> str:
    """One line on the embedding prior: chosen weights, mapping quality, seconds per stage."""
    lam = report.get("lambda", {})
    quality = ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                        for k, v in report.get("quality", {}).items())
    seconds = ", ".join(f"{k} {v:.1f} s" for k, v in report.get("seconds", {}).items())
    return (f"embedding prior: lambda fwd {lam.get('fwd', 0):g}, rev {lam.get('rev', 0):g}; mapping "
            f"{report.get('mapping', 'saved prior')}" + (f" ({quality})" if quality else "")
            + (f"; {seconds}" if seconds else ""))


class OutputNames:
    """``PREFIX.fwd``, ``PREFIX.rev``, ``PREFIX.gdfa`` ... for a prefix."""

    def __init__(self, prefix: str):
        self.prefix = prefix

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
            parser.add_argument(option, type=kind, default=None, help=help_text)


def config_from_args(args, base: Optional[AlignerConfig] = None) -> AlignerConfig:
    base = base or AlignerConfig()
    values = {}
    for f in fields(AlignerConfig):
        value = getattr(args, f.name, None)
        values[f.name] = getattr(base, f.name) if value is None else value
    return AlignerConfig(**values)


def read_corpus(config: AlignerConfig, src=None, tgt=None, joint=None):
    from ..corpus import read_joint, read_parallel
    if joint:
        return read_joint(joint, lowercase=config.lowercase, max_len=config.max_sentence_length)
    return read_parallel(src, tgt, lowercase=config.lowercase, max_len=config.max_sentence_length)


def run_alignment(config: AlignerConfig, outputs: OutputNames, heuristics, reporter: Reporter, src=None, tgt=None,
                  joint=None, save_model: Optional[str] = None, corpus=None):
    """Read (unless ``corpus`` is given), train both directions, align, write every output file.
    Returns (model, alignment)."""
    from ..api import Aligner
    from ..formats.pharaoh import write_pharaoh

    t0 = time.perf_counter()
    if corpus is None:
        corpus = read_corpus(config, src, tgt, joint)
    reporter.step(f"reading {len(corpus)} sentence pairs", time.perf_counter() - t0)
    t0 = time.perf_counter()
    model = Aligner(config).train_corpus(corpus, progress=reporter.progress)
    reporter.step("training", time.perf_counter() - t0)
    if config.cognate_lambda > 0:
        reporter.note(f"cognate prior: lambda {config.cognate_lambda:g} (--cognate-lambda 0 turns it off)")
    if model.prior_report is not None:
        reporter.note(prior_summary(model.prior_report))
    t0 = time.perf_counter()
    alignment = model.align_corpus(corpus, heuristics)
    reporter.step("aligning", time.perf_counter() - t0)
    t0 = time.perf_counter()
    write_pharaoh(outputs.direction("fwd"), alignment.links("fwd"))
    write_pharaoh(outputs.direction("rev"), alignment.links("rev"))
    for method in heuristics:
        write_pharaoh(outputs.heuristic(method), alignment.links(method))
    if save_model:
        model.save(save_model)
    reporter.step("writing", time.perf_counter() - t0)
    return model, alignment
