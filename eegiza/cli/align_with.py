"""``eegiza align-with MODEL SRC TGT -o PREFIX``: align new text with a saved model (no training),
and the ``--scores`` / ``--posteriors`` outputs shared with ``eegiza align``.

    eegiza align-with MODEL SRC TGT -o PREFIX [--heuristics LIST] [--scores F] [--posteriors F]
    eegiza align-with MODEL --joint FILE -o PREFIX          # 'src ||| tgt' lines; FILE may be '-'
    cat pairs.txt | eegiza align-with MODEL --joint - -o -  # links of the first heuristic to stdout
    eegiza align-with MODEL --joint - -o - --line-buffered  # one answer per line as lines arrive

Outputs are those of ``eegiza align``: ``PREFIX.fwd``, ``PREFIX.rev`` and one file per heuristic
(``-o -``: only the first heuristic's links, on standard output). The text is lower-cased if the
model was trained with ``--lowercase``; no sentence-length limit applies. Words the model never saw
get the probability floor (1e-7) for every t(f|e) and word class 0: they align to NULL or wherever
their neighbours' jumps lead, never an error.
"""
from __future__ import annotations

import argparse
import sys
import time

from .common import OutputNames, Reporter

POSTERIOR_DIRS = ("sym", "fwd", "rev", "both")


def add_extra_output_arguments(parser: argparse.ArgumentParser) -> None:
    """``--scores``, ``--posteriors``, ``--posteriors-dir`` (for ``align`` and ``align-with``)."""
    parser.add_argument("--scores", metavar="FILE",
                        help="per input line: log P(tgt|src), log P(src|tgt) and both per word, tab-separated, "
                        "after a header comment naming the columns (empty fields for an empty pair)")
    parser.add_argument("--posteriors", metavar="FILE",
                        help="per input line: the links of the first heuristic as i-j:p, p the mean of both "
                        "directions' link posteriors (HMM forward-backward; Model 1 if no HMM was trained)")
    parser.add_argument("--fertility-posteriors", action="store_true",
                        help="for models ending in Model 3/4: their neighbourhood posteriors around the "
                        "hill-climbed alignment (it, its moves and swaps) instead of the HMM's; it costs a "
                        "climbing step per pair")
    parser.add_argument("--posteriors-dir", choices=POSTERIOR_DIRS, default="sym",
                        help="sym (default): symmetrised links, mean posterior; fwd / rev: that direction's "
                        "links and posteriors; both: FILE as sym plus FILE.fwd and FILE.rev")


def wants_extra_outputs(args) -> bool:
    return bool(getattr(args, "scores", None) or getattr(args, "posteriors", None))


def write_extra_outputs(args, model, corpus, alignment, method: str, reporter: Reporter) -> None:
    """Write ``--scores`` and ``--posteriors`` for ``corpus`` aligned as ``alignment``."""
    from ..outputs import write_posteriors, write_scores
    t0 = time.perf_counter()
    if args.scores:
        write_scores(args.scores, model.corpus_scores(corpus, alignment))
    if args.posteriors:
        post = model.corpus_posteriors(corpus, fertility=args.fertility_posteriors)
        which = args.posteriors_dir
        if which in ("sym", "both"):
            write_posteriors(args.posteriors, alignment.links(method), post, "sym")
        if which in ("fwd", "rev"):
            write_posteriors(args.posteriors, alignment.links(which), post, which)
        if which == "both":
            for d in ("fwd", "rev"):
                write_posteriors(f"{args.posteriors}.{d}", alignment.links(d), post, d)
    reporter.step("scores and posteriors", time.perf_counter() - t0)


def run_continued(args, heuristics, reporter: Reporter) -> None:
    """``eegiza align --continue MODEL``: read the corpus with the model's vocabularies, continue
    training (options not given on the command line are the model's), align, write every output."""
    from ..api import AlignmentModel
    from .common import config_from_args
    t0 = time.perf_counter()
    model = AlignmentModel.load(args.continue_from)
    config = config_from_args(args, base=model.config)
    corpus = _read_corpus(model, args, config.lowercase)
    reporter.step(f"loading the model, reading {len(corpus)} sentence pairs", time.perf_counter() - t0)
    t0 = time.perf_counter()
    model = model.continue_training(corpus, config, progress=reporter.progress)
    reporter.step("continued training", time.perf_counter() - t0)
    if config.uses_embeddings:
        reporter.note("continued training: the embedding prior is not applied (agreement and the cognate prior "
                      "are, as configured)")
    _align_and_write(args, model, corpus, heuristics, reporter)
    if args.save_model:
        model.save(args.save_model)


def _align_and_write(args, model, corpus, heuristics, reporter: Reporter) -> None:
    from ..outputs import write_links
    t0 = time.perf_counter()
    alignment = model.align_corpus(corpus, heuristics)
    reporter.step("aligning", time.perf_counter() - t0)
    t0 = time.perf_counter()
    if args.output == "-":
        write_links("-", alignment.iter_links(heuristics[0]))
    else:
        outputs = OutputNames(args.output)
        write_links(outputs.direction("fwd"), alignment.iter_links("fwd"))
        write_links(outputs.direction("rev"), alignment.iter_links("rev"))
        for method in heuristics:
            write_links(outputs.heuristic(method), alignment.iter_links(method))
    reporter.step("writing", time.perf_counter() - t0)
    if wants_extra_outputs(args):
        write_extra_outputs(args, model, corpus, alignment, heuristics[0], reporter)


def add_align_with_parser(sub, heuristics) -> None:
    p = sub.add_parser("align-with", help="align new text with a saved model (--save-model), without training",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="a model saved by 'eegiza align --save-model'")
    p.add_argument("src", nargs="?", help="source text, one tokenized sentence per line (.gz/.xz ok)")
    p.add_argument("tgt", nargs="?", help="target text, line-aligned with SRC")
    p.add_argument("--joint", metavar="FILE", help="one 'src ||| tgt' file instead of SRC and TGT ('-': stdin)")
    p.add_argument("-o", "--output", required=True, metavar="PREFIX",
                   help="output file prefix ('-': the first heuristic's links on standard output)")
    p.add_argument("--heuristics", default="grow-diag-final-and", metavar="LIST",
                   help="comma-separated symmetrisation heuristics, of: " + ", ".join(heuristics)
                   + " (or 'all'); default: grow-diag-final-and")
    p.add_argument("--line-buffered", action="store_true",
                   help="with --joint - and -o -: align and print each line as soon as it is read")
    p.add_argument("--threads", type=int, default=None, help="worker threads (default: the model's setting)")
    p.add_argument("--quiet", action="store_true", help="no progress display and no summary")
    add_extra_output_arguments(p)


def _read_corpus(model, args, lowercase=None):
    from ..corpus import corpus_from_bytes, read_bytes, split_joint
    lowercase = model.config.lowercase if lowercase is None else lowercase
    if args.joint:
        name = "<stdin>" if args.joint == "-" else args.joint
        data = sys.stdin.buffer.read() if args.joint == "-" else read_bytes(args.joint)
        src, tgt, _ = split_joint(data, name)
        return corpus_from_bytes(src, tgt, name, name, lowercase=lowercase, src_vocab=model.src_vocab,
                                 tgt_vocab=model.tgt_vocab)
    return corpus_from_bytes(read_bytes(args.src), read_bytes(args.tgt), args.src, args.tgt, lowercase=lowercase,
                             src_vocab=model.src_vocab, tgt_vocab=model.tgt_vocab)


def _stream(model, method: str) -> None:
    """Align stdin ``src ||| tgt`` lines one at a time, printing (and flushing) each answer."""
    from ..corpus import CorpusError
    from ..formats.pharaoh import format_links
    for lineno, line in enumerate(sys.stdin, 1):
        if "|||" not in line:
            raise CorpusError("<stdin>", lineno, "no '|||' separator between source and target")
        src, tgt = line.rstrip("\n").split("|||", 1)
        print(format_links(model.align([src], [tgt], method=method)[0]), flush=True)


def cmd_align_with(args, heuristics) -> int:
    from ..api import AlignmentModel
    from ..train import set_threads
    if args.joint and (args.src or args.tgt):
        raise ValueError("give either SRC TGT or --joint FILE, not both")
    if not args.joint and not (args.src and args.tgt):
        raise ValueError("give SRC and TGT files, or --joint FILE")
    to_stdout = args.output == "-"
    if args.line_buffered and not (args.joint == "-" and to_stdout):
        raise ValueError("--line-buffered needs --joint - and -o -")
    reporter = Reporter(quiet=args.quiet or to_stdout)
    t0 = time.perf_counter()
    model = AlignmentModel.load(args.model)
    set_threads(model.config.threads if args.threads is None else args.threads)
    reporter.step("loading the model", time.perf_counter() - t0)
    if args.line_buffered:
        _stream(model, heuristics[0])
        return 0
    t0 = time.perf_counter()
    corpus = _read_corpus(model, args)
    reporter.step(f"reading {len(corpus)} sentence pairs", time.perf_counter() - t0)
    _align_and_write(args, model, corpus, heuristics, reporter)
    reporter.summary()
    return 0
