"""How much can any prior on t(f|e) give at N lines? The ceiling, measured with an oracle prior.

The oracle is the t-table of a model trained on all of the pair's training text (en-fr: 1.13M
lines; ``--oracle-lines`` takes fewer), restricted to the pairs that co-occur in the N-line bitext
and renormalised per row: about the best prior a perfect embedding space (or a perfect bilingual
dictionary) could give. It is mixed in exactly as the embedding prior is (``--prior-file``,
t <- (c(e) t + lambda p) / (c(e) + lambda), no calibration, no cognate prior), for several weights
lambda and sets of models, and the N-line pipeline's grow-diag-final-and AER is printed next to
eegiza without priors and with its defaults.

With lambda = 10^4 in every model the N-line t-table is pinned to the oracle, so what error is left
comes from what the N lines teach the other tables (jumps, fertility, distortion, NULL). On en-fr,
1,000 lines, that is the bound behind issue 4's target of "8 points better than without the prior":
9.45 with the oracle in Model 1 and the HMM (lambda 10), 8.88 pinned in every model, against 15.65
without priors (16 min and 9.0 GB for the 1.13M-line oracle, 2 cores).

    PYTHONPATH=. python benchmarks/bench_prior_ceiling.py [en-fr] [--lines 1000]
        [--oracle-schedule "1^5 H^5"] [--oracle-lines N] [--lambdas 1 10 10000] [--models 1H 1H34]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from protocol import DEFAULT_DATA_DIR, load_protocol, print_table  # noqa: E402

ORACLE_FLOOR = 1e-6   # oracle probabilities below this are left out of the prior


def oracle_probs(small_tt, small_src_words, small_tgt_words, full_tt, full_src_vocab, full_tgt_vocab):
    """For every slot (e, f) of ``small_tt``: t_full(f|e) looked up by the words' strings,
    renormalised over the row (rows the full model does not know get zeros)."""
    def full_ids(words, vocab):
        return np.array([vocab.get(w, -1) if i else -1 for i, w in enumerate(words)], np.int64)

    e_small = small_tt.row_ids()
    slot = full_tt.find_slots(full_ids(small_src_words, full_src_vocab)[e_small],
                              full_ids(small_tgt_words, full_tgt_vocab)[small_tt.indices])
    probs = np.zeros(len(slot))
    probs[slot >= 0] = full_tt.probs[slot[slot >= 0]]
    probs[probs < ORACLE_FLOOR] = 0.0
    sums = np.bincount(e_small, weights=probs, minlength=small_tt.n_src)
    return np.divide(probs, sums[e_small], out=np.zeros_like(probs), where=sums[e_small] > 0)


def write_oracle(prefix: str, small, full_model) -> None:
    """PREFIX.fwd.eeprob / PREFIX.rev.eeprob: the oracle prior of both directions."""
    from eegiza.formats.eeprob import write_eeprob
    from eegiza.ttable import TTable

    for name, corpus, direction, src_vocab, tgt_vocab in (
            ("fwd", small, full_model.fwd, full_model.src_vocab, full_model.tgt_vocab),
            ("rev", small.reversed(), full_model.rev, full_model.tgt_vocab, full_model.src_vocab)):
        tt = TTable.from_corpus(corpus)
        probs = oracle_probs(tt, corpus.src_vocab.words, corpus.tgt_vocab.words, direction.ttable,
                             src_vocab, tgt_vocab)
        e, f = tt.row_ids(), tt.indices
        write_eeprob(f"{prefix}.{name}.eeprob", e, f, np.asarray(corpus.src_vocab.counts)[e],
                     np.asarray(corpus.tgt_vocab.counts)[f], probs)


def gdfa_aer(corpus, gold, settings: dict) -> tuple:
    """(gdfa AER, fwd AER, rev AER, seconds) of the default pipeline with ``settings``."""
    from eegiza import Aligner, AlignerConfig, aer

    start = time.perf_counter()
    model = Aligner(AlignerConfig(**settings)).train_corpus(corpus)
    result = model.align_corpus(corpus, ["grow-diag-final-and"])
    scores = [100 * aer(gold, result.links(w)).aer for w in ("grow-diag-final-and", "fwd", "rev")]
    return (*scores, time.perf_counter() - start)


def main(argv=None) -> None:
    from eegiza import Aligner, AlignerConfig, read_gold
    from eegiza.corpus import corpus_from_sentences

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pair", nargs="?", default="en-fr")
    parser.add_argument("--lines", type=int, default=1000, help="N, the bitext the prior helps")
    parser.add_argument("--oracle-schedule", default="1^5 H^5", help="schedule of the oracle model")
    parser.add_argument("--oracle-lines", type=int, help="training lines of the oracle model (default: all)")
    parser.add_argument("--lambdas", type=float, nargs="+", default=[1, 10, 100, 10000])
    parser.add_argument("--models", nargs="+", default=["1H", "1H34"], help="prior_models settings tried")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    full = load_protocol(args.pair, args.oracle_lines, args.data)
    full_model = Aligner(AlignerConfig(schedule=args.oracle_schedule, cognate_lambda=0.0)).train_corpus(
        corpus_from_sentences(full.src_lines, full.tgt_lines))
    print(f"oracle: {args.oracle_schedule} on {len(full.src_lines)} lines, "
          f"{time.perf_counter() - start:.1f} s", flush=True)
    del full

    small = load_protocol(args.pair, args.lines, args.data)
    corpus = corpus_from_sentences(small.src_lines, small.tgt_lines)
    gold = read_gold(small.gold_path)
    rows = []

    def run(prior: str, settings: dict, models: str = "", lam=None) -> None:
        gdfa, fwd, rev, seconds = gdfa_aer(corpus, gold, settings)
        rows.append({"pair": args.pair, "N": args.lines, "prior": prior, "models": models,
                     "lambda": "" if lam is None else f"{lam:g}", "aer_gdfa": gdfa, "aer_fwd": fwd,
                     "aer_rev": rev, "seconds": seconds})
        print(f"{prior} {models} {'' if lam is None else f'lambda {lam:g}'}: gdfa AER {gdfa:.2f}", flush=True)

    run("none", {"cognate_lambda": 0.0})
    run("cognate (default)", {})
    with tempfile.TemporaryDirectory() as tmp:
        prefix = str(Path(tmp) / "oracle")
        write_oracle(prefix, corpus, full_model)
        for models in args.models:
            for lam in args.lambdas:
                run("oracle", {"cognate_lambda": 0.0, "prior_file": prefix, "prior_calibrate": False,
                               "prior_lambda": lam, "prior_models": models}, models, lam)
    print_table(rows, ["pair", "N", "prior", "models", "lambda", "aer_gdfa", "aer_fwd", "aer_rev", "seconds"],
                "{:.2f}")


if __name__ == "__main__":
    main()
