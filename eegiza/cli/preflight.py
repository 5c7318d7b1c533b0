"""Checks of an ``eegiza align`` command line that run before any work: options that cannot work
stop the run at once with a message naming the option or the user's file, options that work but
not as the user may think get a warning. (Output paths: :class:`eegiza.cli.outputs.OutputSet`.)"""
from __future__ import annotations

import os

from ..config import AlignerConfig
from ..schedule import parse_schedule

STDIN = "-"


def usable_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def check_threads(threads: int, reporter) -> None:
    """``--threads``: negative is an error; more than the cores is a warning (the kernels use at
    most as many threads as there are cores)."""
    if threads < 0:
        raise ValueError(f"--threads {threads}: give 0 (all cores) or a positive number of threads")
    cores = usable_cores()
    if threads > cores:
        reporter.warn(f"--threads {threads} is more than the {cores} cores available: using {cores}")


def check_input(path: str) -> None:
    """An input file that exists and can be read (``-``: standard input)."""
    if path == STDIN:
        return
    if os.path.isdir(path):
        raise ValueError(f"cannot read {path}: it is a folder")
    if not os.path.exists(path):
        raise ValueError(f"cannot read {path}: no such file")
    if not os.access(path, os.R_OK):
        raise ValueError(f"cannot read {path}: permission denied")


def check_align_args(args, config: AlignerConfig, heuristics, reporter) -> None:
    """Everything about ``eegiza align``'s arguments that can be checked before reading the corpus."""
    parse_schedule(config.schedule)                       # ScheduleError names the bad item
    check_threads(config.threads, reporter)
    if config.max_sentence_length is not None and config.max_sentence_length < 0:
        raise ValueError("--max-sentence-length: give a number of tokens, or 0 for no cap")
    if config.max_length_ratio < 0:
        raise ValueError("--max-length-ratio: give a ratio, or 0 for no limit")
    if config.t_cutoff is not None and not 0 <= config.t_cutoff < 1:
        raise ValueError(f"--t-cutoff {config.t_cutoff}: give a probability below 1, or 0 to keep every t entry")
    inputs = [args.joint] if args.joint else [args.src, args.tgt]
    if inputs.count(STDIN) > 1:
        raise ValueError("only one input can be standard input ('-'); use --joint - for a 'src ||| tgt' stream")
    for path in inputs + [p for p in (config.src_classes, config.tgt_classes, config.src_vectors,
                                      config.tgt_vectors, config.src_mono, config.tgt_mono) if p]:
        check_input(path)
    if args.save_model == "-":
        raise ValueError("--save-model needs a file name, not standard output")


def describe_os_error(err: OSError) -> str:
    """``cannot read x: No such file or directory`` rather than ``[Errno 2] ...: 'x'``."""
    if err.filename and err.strerror:
        return f"{err.filename}: {err.strerror}"
    return str(err)
