"""The ``eegiza`` command: ``align``, ``eval``, ``demo``.

    eegiza align SRC TGT -o PREFIX [--schedule "1^5 H^5"] [--lowercase] [--threads N]
    eegiza align --joint FILE -o PREFIX ...        (FILE "-": standard input; -o -: one alignment to stdout)
    eegiza align ... [--fast] [--save-model M.npz] [--scores F] [--posteriors F] [--continue M.npz]
    eegiza align ... --scheduler ADDRESS | local:N [--resume PREFIX.checkpoint.npz]   (Dask, issue 17)
    eegiza align-with M.npz SRC TGT -o PREFIX      (or --joint FILE|-, -o -)
    eegiza lexicon M.npz -o FILE [--min-prob P] [--giza-t PREFIX]
    eegiza eval GOLD HYP [--tail]
    eegiza demo
    eegiza --version

Errors exit with status 2 and a message naming the file (and line); SIGINT/SIGTERM with 130/143
(:mod:`eegiza.cli.signals`), leaving no partial output set (:mod:`eegiza.cli.outputs`).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import fields, replace
from typing import List, Optional

from .. import __version__
from ..corpus import CorpusError
from ..presets import FAST, FAST_HELP
from ..schedule import ScheduleError
from .align_with import (add_align_with_parser, add_extra_output_arguments, cmd_align_with, run_continued,
                         wants_extra_outputs, write_extra_outputs)
from .common import OutputNames, Reporter, add_config_arguments, config_from_args, read_corpus, run_alignment
from .embed import add_embed_arguments, run_embed
from .lexicon import add_lexicon_parser, cmd_lexicon
from .preflight import check_align_args, describe_os_error
from .signals import run_interruptible

HEURISTICS = ["intersection", "union", "grow-diag", "grow-diag-final", "grow-diag-final-and"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="eegiza", description="Statistical word alignment (IBM models, HMM) "
                                     "with an optional embedding prior; GIZA++ compatible.")
    parser.add_argument("--version", action="version", version=f"eegiza {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    align = sub.add_parser("align", help="train both directions on a parallel corpus and write alignments",
                           description="Train P(tgt|src) and P(src|tgt) on the corpus and write Pharaoh "
                           "alignments (i-j, 0-based, source first, one line per input line): PREFIX.fwd, "
                           "PREFIX.rev and one file per symmetrisation heuristic.")
    align.add_argument("src", nargs="?", help="source text, one tokenized sentence per line (.gz/.xz/.bz2 ok; "
                       "'-' = standard input)")
    align.add_argument("tgt", nargs="?", help="target text, line-aligned with SRC")
    align.add_argument("--joint", metavar="FILE", help="one 'src ||| tgt' file instead of SRC and TGT ('-' = stdin)")
    align.add_argument("-o", "--output", required=True, metavar="PREFIX",
                       help="output file prefix (missing folders are created); '-' writes the one --heuristics "
                       "alignment to standard output")
    align.add_argument("--heuristics", default="grow-diag-final-and", metavar="LIST",
                       help="comma-separated symmetrisation heuristics to write, of: "
                       + ", ".join(HEURISTICS) + " (or 'all'); default: grow-diag-final-and")
    align.add_argument("--save-model", metavar="PATH", help="also save the trained model (.npz) for later use")
    align.add_argument("--fast", action="store_true", help="speed first: " + FAST_HELP)
    align.add_argument("--continue", dest="continue_from", metavar="MODEL",
                       help="start from a saved model: more EM iterations (--schedule, default the model's) on "
                       "this corpus, new words added; options not given are the model's")
    align.add_argument("--resume", metavar="CHECKPOINT",
                       help="continue a training stopped by a lost Dask scheduler from the checkpoint it saved "
                       "(PREFIX.checkpoint.npz): same input, the checkpoint's options (only --scheduler, "
                       "--threads and --max-memory may change); the outputs are the uninterrupted run's")
    add_extra_output_arguments(align)
    shown = align.add_mutually_exclusive_group()
    shown.add_argument("--quiet", action="store_true", help="no progress lines and no summary (warnings and "
                       "errors still show)")
    shown.add_argument("--progress", action="store_true", help="a live status bar with the time left even when "
                       "stderr is not a terminal (progress lines are always printed, unless --quiet)")
    add_config_arguments(align)
    add_align_with_parser(sub, HEURISTICS)
    add_lexicon_parser(sub)

    ev = sub.add_parser("eval", help="score alignments against gold: AER, precision, recall, F",
                        description="GOLD lines: 'i-j' sure and 'i?j' possible links; HYP: Pharaoh lines. "
                        "GOLD and HYP must have the same number of lines, unless --tail is given.")
    ev.add_argument("gold")
    ev.add_argument("hyp", help="hypothesis alignments ('-' = standard input)")
    ev.add_argument("--tail", action="store_true", help="HYP may be longer: score its last len(GOLD) lines "
                    "(the benchmark protocol, test sentences appended at the end of the training text)")

    embed = sub.add_parser("embed", help="train monolingual word vectors (gensim) for the embedding prior",
                           description="Train Word2Vec or FastText vectors on one language's text; use them "
                           "with 'eegiza align --src-vectors/--tgt-vectors'.")
    add_embed_arguments(embed)

    demo = sub.add_parser("demo", help="train on the built-in English-French Hansards sample, align, print AER")
    demo.add_argument("--schedule", default=None, help="training schedule (default: the configured default)")
    demo.add_argument("--threads", type=int, default=0, help="worker threads (0 = all cores)")
    demo.add_argument("--quiet", action="store_true", help="no progress display")
    return parser


def parse_heuristics(text: str) -> List[str]:
    """The heuristics of ``--heuristics`` (a comma-separated list, or 'all')."""
    heuristics = HEURISTICS if text == "all" else [h.strip() for h in text.split(",") if h.strip()]
    unknown = [h for h in heuristics if h not in HEURISTICS]
    if unknown or not heuristics:
        raise ValueError(f"unknown heuristic(s) {', '.join(unknown)}; choose from {', '.join(HEURISTICS)}")
    return heuristics


def cmd_align(args) -> int:
    if args.joint and (args.src or args.tgt):
        raise ValueError("give either SRC TGT or --joint FILE, not both")
    if not args.joint and not (args.src and args.tgt):
        raise ValueError("give SRC and TGT files, or --joint FILE")
    heuristics = parse_heuristics(args.heuristics)
    resume = None
    if args.resume:
        from ..checkpoint import Checkpoint
        if args.continue_from or args.fast:
            raise ValueError("--resume continues a checkpoint with its own options: give it without "
                             + ("--continue" if args.continue_from else "--fast"))
        resume = Checkpoint.load(args.resume)
    # resumed: the checkpoint's options, on this machine unless --scheduler is given again
    config = config_from_args(args, replace(resume.config, scheduler=None) if resume else
                              FAST if args.fast else None)
    # no schedule chosen: a large corpus trains the fast preset (eegiza.presets), decided once it is read
    large_config = None if resume or args.fast or args.schedule else config_from_args(args, FAST)
    reporter = Reporter(quiet=args.quiet, force=args.progress)
    check_align_args(args, config, heuristics, reporter)
    if args.continue_from:
        run_continued(args, heuristics, reporter)
        reporter.summary()
        return 0
    outputs = OutputNames(args.output)
    extras = wants_extra_outputs(args)
    corpus = read_corpus(config, args.src, args.tgt, args.joint) if extras else None
    model, alignment = run_alignment(config, outputs, heuristics, reporter, src=args.src, tgt=args.tgt,
                                     joint=args.joint, save_model=args.save_model, corpus=corpus, resume=resume,
                                     large_config=large_config)
    if extras:
        from ..distributed.errors import SchedulerLostError
        try:
            write_extra_outputs(args, model, corpus, alignment, heuristics[0], reporter)
        except SchedulerLostError as err:   # issue 17: after training, the alignments are written
            raise ValueError(f"{err}, while computing --scores/--posteriors (the alignments are written): "
                             "compute them without training again with 'eegiza align-with MODEL ... --scores F "
                             "--posteriors F', MODEL from --save-model") from err
    reporter.summary()
    return 0


def cmd_align_with_args(args) -> int:
    return cmd_align_with(args, parse_heuristics(args.heuristics))


def cmd_eval(args) -> int:
    from ..evaluate import aer, read_gold
    from ..formats.pharaoh import parse_links, read_pharaoh
    gold = read_gold(args.gold)
    if args.hyp == "-":                # `eegiza align ... -o - | eegiza eval GOLD -`
        hyp = [parse_links(line.rstrip("\n"), "<stdin>", n) for n, line in enumerate(sys.stdin, start=1)]
    else:
        hyp = read_pharaoh(args.hyp)
    n_gold, n_hyp = len(gold), len(hyp)
    if n_gold != n_hyp and not (args.tail and n_hyp > n_gold):
        hint = (f"; --tail scores the last {n_gold} lines of {args.hyp} (only for a test set appended at the end "
                "of the training text)" if n_hyp > n_gold else "")
        raise ValueError(f"{args.gold} has {n_gold} lines but {args.hyp} has {n_hyp}: the lines do not "
                         f"correspond{hint}")
    scores = aer(gold, hyp, test_at_end=args.tail)
    print(f"AER       {100 * scores.aer:.2f}")
    print(f"precision {100 * scores.precision:.2f}")
    print(f"recall    {100 * scores.recall:.2f}")
    print(f"F1        {100 * scores.f1:.2f}")
    print(f"sentences {scores.n_sentences}  links {scores.n_hyp}  sure {scores.n_sure}  possible {scores.n_possible}")
    print(f"scored    {n_gold} lines" + (f": lines {n_hyp - n_gold + 1}-{n_hyp} of {args.hyp} (--tail)"
                                         if n_hyp > n_gold else ""))
    return 0


def cmd_demo(args) -> int:
    from .demo import run_demo
    from .preflight import check_threads
    check_threads(args.threads, Reporter(quiet=args.quiet))
    return run_demo(schedule=args.schedule, threads=args.threads, quiet=args.quiet)


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    command = {"align": cmd_align, "align-with": cmd_align_with_args, "eval": cmd_eval, "demo": cmd_demo,
               "embed": run_embed, "lexicon": cmd_lexicon}[args.command]
    return run_interruptible(f"eegiza {args.command}", _run, command, args)


def _run(command, args) -> int:
    try:
        return command(args)
    except BrokenPipeError:            # `eegiza align ... -o - | head`: the reader left, not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except (CorpusError, ScheduleError, ValueError, OSError) as err:
        message = describe_os_error(err) if isinstance(err, OSError) else str(err)
        print(f"eegiza {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
