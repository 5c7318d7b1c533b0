"""AER with and without the embedding prior, on the shared benchmark protocol.

    PYTHONPATH=/work/main python benchmarks/bench_embeddings.py en-fr --lines 1000 \
        --src-vectors en.vec --tgt-vectors fr.vec [--mapping seeded] [--no-calibrate] [--prior-lambda 1e4]
    PYTHONPATH=/work/main python benchmarks/bench_embeddings.py ro-en --lines 1000 --make-mono DIR \
        --kind word2vec --dim 100 --epochs 5      # train vectors on the protocol's monolingual halves

Corpus: the first N training lines + the test lines at the end, lower-cased (protocol items 1, 5 of
/work/shared/data/README.md). Prints gdfa/fwd/rev AER of the baseline and with the prior, the
prior's report (mapping quality, chosen lambda) and the seconds of every stage. Training here uses
no word classes (``train_direction`` directly); benchmarks/bench_lowres.py runs ``eegiza align``'s
exact path (50 classes) and is the reference table.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace

from eegiza.config import AlignerConfig
from eegiza.corpus import corpus_from_sentences
from eegiza.embeddings import PRIOR_DEFAULTS, prepare_prior
from eegiza.evaluate import aer
from eegiza.links import directional_links, to_lists
from eegiza.symmetrize import symmetrize_flat
from eegiza.train import align_direction, train_direction

sys.path.insert(0, str(Path(__file__).resolve().parent))
from protocol import DEFAULT_DATA_DIR, load_protocol, write_mono_halves  # noqa: E402


def align_aer(corpus, config, gold, fwd_factory=None, rev_factory=None) -> dict:
    res = {}
    for name, c, rev, factory in (("fwd", corpus, False, fwd_factory), ("rev", corpus.reversed(), True, rev_factory)):
        model = train_direction(c, config, prior_factory=factory)
        pos, _ = align_direction(model, c)
        res[name] = directional_links(pos, c.tgt.offsets, rev)
    res["gdfa"] = symmetrize_flat(*res["fwd"], *res["rev"], corpus.src.lengths, corpus.tgt.lengths,
                                  "grow-diag-final-and")
    return {k: round(100 * aer(gold, to_lists(*v)).aer, 2) for k, v in res.items()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pair", choices=["en-fr", "de-en", "ro-en"])
    ap.add_argument("--lines", type=int, default=1000)
    ap.add_argument("--schedule", default=AlignerConfig().schedule)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--src-vectors")
    ap.add_argument("--tgt-vectors")
    ap.add_argument("--make-mono", metavar="DIR", help="write the monolingual halves there and train vectors")
    ap.add_argument("--kind", default="fasttext")
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--mapping", default="seeded")
    ap.add_argument("--mapping-cutoff", type=int, default=20000)
    ap.add_argument("--mapping-interval", type=int, default=50)
    ap.add_argument("--mapping-threshold", type=float, default=None)
    ap.add_argument("--prior-lambda", type=float, default=1e4)
    ap.add_argument("--no-calibrate", action="store_true")
    ap.add_argument("--skip-baseline", action="store_true")
    args = ap.parse_args(argv)

    protocol = load_protocol(args.pair, args.lines, DEFAULT_DATA_DIR)
    corpus = corpus_from_sentences(protocol.src_lines, protocol.tgt_lines)
    config = AlignerConfig(schedule=args.schedule, threads=args.threads)
    gold = protocol.gold_path
    options = dict(PRIOR_DEFAULTS, **vars(config))
    options.update(src_vectors=args.src_vectors, tgt_vectors=args.tgt_vectors, mapping=args.mapping,
                   mapping_cutoff=args.mapping_cutoff, mapping_interval=args.mapping_interval,
                   mapping_threshold=args.mapping_threshold,
                   prior_lambda=args.prior_lambda, prior_calibrate=not args.no_calibrate,
                   embed_kind=args.kind, embed_dim=args.dim, embed_epochs=args.epochs, lowercase=True)
    if args.make_mono:
        options["src_mono"], options["tgt_mono"] = map(str, write_mono_halves(args.pair, args.make_mono))
    if not args.skip_baseline:
        t0 = time.perf_counter()
        print("baseline AER", align_aer(corpus, config, gold), f"({time.perf_counter() - t0:.1f} s)", flush=True)
    t0 = time.perf_counter()
    fwd, rev, report = prepare_prior(corpus, SimpleNamespace(**options),
                                     lambda m: print("  ", m, file=sys.stderr, flush=True))
    print(f"prior prepared in {time.perf_counter() - t0:.1f} s")
    print(json.dumps(report, default=str))
    t0 = time.perf_counter()
    print("prior AER", align_aer(corpus, config, gold, fwd, rev), f"({time.perf_counter() - t0:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
