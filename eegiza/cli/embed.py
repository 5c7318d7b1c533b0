"""``eegiza embed``: train monolingual word vectors (gensim FastText or Word2Vec skip-gram,
count-based PPMI-SVD, or several side by side) on a text file and write them in word2vec text or
binary format (or as a gensim model, which keeps FastText's subword vectors for unseen words).

    eegiza embed TEXT -o VECTORS [--kind fasttext|word2vec|ppmi|word2vec+ppmi+fasttext] [--dim 300] [--epochs 5] [--min-count 3]
                 [--binary | --gensim] [--lowercase] [--threads N] [--vectors-cache DIR | --no-cache] [--quiet]

Trained vectors are cached (folder ``eegiza-vectors-<hash>`` in the output's folder or ``--vectors-cache``),
keyed by a hash of the text and the training options: a second run with the same text reuses them.
"""
from __future__ import annotations

import argparse
import time

from .common import Reporter


def add_embed_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", help="monolingual text, one tokenized sentence per line (.gz/.xz ok)")
    parser.add_argument("-o", "--output", required=True, metavar="VECTORS", help="output vector file")
    parser.add_argument("--kind", type=_kind, default="fasttext",
                        help="fasttext (subword vectors cover rare and unseen words), word2vec, ppmi (count-based), "
                             "or several joined with + side by side, each --dim wide, e.g. word2vec+ppmi+fasttext "
                             "(the default of --src-mono training; default here: fasttext)")
    parser.add_argument("--dim", type=int, default=300, help="vector dimension (default: 300)")
    parser.add_argument("--epochs", type=int, default=5, help="passes over the text (default: 5)")
    parser.add_argument("--window", type=int, default=5, help="context window (default: 5)")
    parser.add_argument("--min-count", type=int, default=3, help="ignore rarer words (default: 3)")
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--binary", action="store_true", help="word2vec binary format (default: text)")
    fmt.add_argument("--gensim", action="store_true",
                     help="save the gensim model (keeps FastText subword vectors); load it with --src-vectors")
    parser.add_argument("--lowercase", action="store_true", help="lower-case the text first (str.lower)")
    parser.add_argument("--threads", type=int, default=0, help="worker threads (0 = all cores)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    parser.add_argument("--vectors-cache", metavar="DIR",
                        help="cache folder of trained vectors, keyed by a hash of the text and these options; "
                             "a second run with the same text and options reuses them (default: the output's folder)")
    parser.add_argument("--no-cache", action="store_true", help="neither reuse nor cache trained vectors")
    parser.add_argument("--quiet", action="store_true", help="no progress display")


def _kind(text: str) -> str:
    from ..embeddings.vectors import view_kinds
    try:
        view_kinds(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text


def run_embed(args) -> int:
    from ..embeddings.vectors import cached_train_vectors, save_word2vec, train_vectors
    from .outputs import OutputSet
    from .preflight import check_input, check_threads
    reporter = Reporter(quiet=args.quiet)
    check_input(args.text)
    check_threads(args.threads, reporter)
    if args.gensim and "+" in args.kind:
        raise ValueError(f"--gensim saves one gensim model; --kind {args.kind} puts several side by side: "
                         "write it in word2vec format (the default, or --binary)")
    outputs = OutputSet([args.output])       # checked (folders created) before training
    t0 = time.perf_counter()
    options = dict(kind=args.kind, dim=args.dim, epochs=args.epochs, window=args.window,
                   min_count=args.min_count, threads=args.threads, lowercase=args.lowercase, seed=args.seed)
    if args.no_cache:
        vectors = train_vectors(args.text, progress=reporter.progress,
                                save_path=args.output if args.gensim else None, **options)
    else:
        import os
        cache = args.vectors_cache or os.path.dirname(os.path.abspath(args.output))
        vectors, cached = cached_train_vectors(args.text, cache, reporter.progress, **options)
        reporter.note(("reused the cached vectors " if cached else "vector training took "
                       f"{time.perf_counter() - t0:.1f} s; cached as ") + cached_train_vectors.last_entry)
        if args.gensim:                      # the cached KeyedVectors keep FastText's subwords
            from ..embeddings.vectors import _load_gensim_object
            _load_gensim_object(os.path.join(cached_train_vectors.last_entry, "vectors.kv")).save(args.output)
    reporter.step("training" if args.no_cache or not cached else "cached vectors", time.perf_counter() - t0)
    if not args.gensim:
        t0 = time.perf_counter()
        with outputs:
            with outputs.writing(args.output) as tmp:
                save_word2vec(tmp, vectors, binary=args.binary)
            outputs.commit()
        reporter.step("writing", time.perf_counter() - t0)
    reporter.summary(f"; {len(vectors)} words, {vectors.dim} dimensions -> {args.output}")
    return 0
