"""The ``eegiza`` command: ``align``, ``eval``, ``demo``.

    eegiza align SRC TGT -o PREFIX [--schedule "1^5 H^5"] [--lowercase] [--threads N]
    eegiza align --joint FILE -o PREFIX ... [--save-model M.npz] [--scores F] [--posteriors F]
    eegiza align-with M.npz SRC TGT -o PREFIX      (or --joint FILE|-, -o -)
    eegiza lexicon M.npz -o FILE [--min-prob P] [--giza-t PREFIX]
    eegiza eval GOLD HYP
    eegiza demo
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import fields
from typing import List, Optional

from ..config import AlignerConfig
from ..corpus import CorpusError
from ..schedule import ScheduleError
from .align_with import (add_align_with_parser, add_extra_output_arguments, cmd_align_with, run_continued,
                         wants_extra_outputs, write_extra_outputs)
from .common import OutputNames, Reporter, add_config_arguments, config_from_args, read_corpus, run_alignment
from .embed import add_embed_arguments, run_embed
from .lexicon import add_lexicon_parser, cmd_lexicon

HEURISTICS = ["intersection", "union", "grow-diag", "grow-diag-final", "grow-diag-final-and"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="eegiza", description="Statistical word alignment (IBM models, HMM) "
                                     "with an optional embedding prior; GIZA++ compatible.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    align = sub.add_parser("align", help="train both directions on a parallel corpus and write alignments",
                           description="Train P(tgt|src) and P(src|tgt) on the corpus and write Pharaoh "
                           "alignments (i-j, 0-based, source first, one line per input line): PREFIX.fwd, "
                           "PREFIX.rev and one file per symmetrisation heuristic.")
    align.add_argument("src", nargs="?", help="source text, one tokenized sentence per line (.gz/.xz ok)")
    align.add_argument("tgt", nargs="?", help="target text, line-aligned with SRC")
    align.add_argument("--joint", metavar="FILE", help="one 'src ||| tgt' file instead of SRC and TGT")
    align.add_argument("-o", "--output", required=True, metavar="PREFIX", help="output file prefix")
    align.add_argument("--heuristics", default="grow-diag-final-and", metavar="LIST",
                       help="comma-separated symmetrisation heuristics to write, of: "
                       + ", ".join(HEURISTICS) + " (or 'all'); default: grow-diag-final-and")
    align.add_argument("--save-model", metavar="PATH", help="also save the trained model (.npz) for later use")
    align.add_argument("--quiet", action="store_true", help="no progress display and no summary")
    align.add_argument("--continue", dest="continue_from", metavar="MODEL",
                       help="start from a saved model: more EM iterations (--schedule, default the model's) on "
                       "this corpus, new words added; options not given are the model's")
    add_extra_output_arguments(align)
    add_config_arguments(align)
    add_align_with_parser(sub, HEURISTICS)
    add_lexicon_parser(sub)

    ev = sub.add_parser("eval", help="score alignments against gold: AER, precision, recall, F",
                        description="GOLD lines: 'i-j' sure and 'i?j' possible links; HYP: Pharaoh lines. "
                        "If HYP has more lines than GOLD, its last len(GOLD) lines are scored (the test set "
                        "appended at the end of the training corpus).")
    ev.add_argument("gold")
    ev.add_argument("hyp")

    embed = sub.add_parser("embed", help="train monolingual word vectors (gensim) for the embedding prior",
                           description="Train Word2Vec or FastText vectors on one language's text; use them "
                           "with 'eegiza align --src-vectors/--tgt-vectors'.")
    add_embed_arguments(embed)

    demo = sub.add_parser("demo", help="train on the built-in English-French Hansards sample, align, print AER")
    demo.add_argument("--schedule", default=None, help="training schedule (default: the configured default)")
    demo.add_argument("--threads", type=int, default=0, help="worker threads (0 = all cores)")
    demo.add_argument("--quiet", action="store_true", help="no progress display")
    return parser


def parse_heuristics(text: str, command: str) -> List[str]:
    heuristics = HEURISTICS if text == "all" else [h.strip() for h in text.split(",") if h.strip()]
    unknown = [h for h in heuristics if h not in HEURISTICS]
    if unknown or not heuristics:
        raise SystemExit(f"eegiza {command}: unknown heuristic(s) {', '.join(unknown)}; choose from "
                         f"{', '.join(HEURISTICS)}")
    return heuristics


def cmd_align(args) -> int:
    if args.joint and (args.src or args.tgt):
        raise SystemExit("eegiza align: give either SRC TGT or --joint FILE, not both")
    if not args.joint and not (args.src and args.tgt):
        raise SystemExit("eegiza align: give SRC and TGT files, or --joint FILE")
    heuristics = parse_heuristics(args.heuristics, "align")
    config = config_from_args(args)
    reporter = Reporter(quiet=args.quiet)
    if args.continue_from:
        run_continued(args, heuristics, reporter)
        reporter.summary()
        return 0
    outputs = OutputNames(args.output)
    extras = wants_extra_outputs(args)
    corpus = read_corpus(config, args.src, args.tgt, args.joint) if extras else None
    model, alignment = run_alignment(config, outputs, heuristics, reporter, src=args.src, tgt=args.tgt,
                                     joint=args.joint, save_model=args.save_model, corpus=corpus)
    if extras:
        write_extra_outputs(args, model, corpus, alignment, heuristics[0], reporter)
    reporter.summary()
    return 0


def cmd_align_with_args(args) -> int:
    return cmd_align_with(args, parse_heuristics(args.heuristics, "align-with"))


def cmd_eval(args) -> int:
    from ..evaluate import aer
    scores = aer(args.gold, args.hyp)
    print(f"AER       {100 * scores.aer:.2f}")
    print(f"precision {100 * scores.precision:.2f}")
    print(f"recall    {100 * scores.recall:.2f}")
    print(f"F1        {100 * scores.f1:.2f}")
    print(f"sentences {scores.n_sentences}  links {scores.n_hyp}  sure {scores.n_sure}  possible {scores.n_possible}")
    return 0


def cmd_demo(args) -> int:
    from .demo import run_demo
    return run_demo(schedule=args.schedule, threads=args.threads, quiet=args.quiet)


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return {"align": cmd_align, "align-with": cmd_align_with_args, "eval": cmd_eval, "demo": cmd_demo,
                "embed": run_embed, "lexicon": cmd_lexicon}[args.command](args)
    except (CorpusError, ScheduleError, ValueError, OSError) as err:
        print(f"eegiza {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
