"""A saved model on new text: load time, single-pair and 10,000-pair latency, and posterior-threshold
decoding against Viterbi grow-diag-final-and AER, on the shared benchmark protocol.

For each corpus spec (``pair[:first_N_training_lines]``): train with ``--schedule`` (or load
``--model``), save, load, then

* ``load_s``: seconds to load the saved model;
* ``pair_ms_median`` / ``pair_ms_p90`` / ``pair_ms_max``: ``model.align([(src, tgt)])`` of single
  pairs (the first 200 test pairs, after one warm-up call; the time grows with the pair's length);
* ``10k_s``: ``model.align`` of 10,000 training pairs (strings in, lists of links out);
  ``final_pass_s``: ``align_corpus`` of the same pairs already numbered, which is what training's
  final alignment pass runs; the two one after the other, ``--repeats`` times (medians), after one
  untimed 10,000-pair call (numbering's one-off check of the model's vocabulary); ``ratio``: median
  of the per-repeat ratios ``10k_s / final_pass_s`` (at most 1: the loaded model is as fast), with
  their range; ``searched_pass_s``: ``align_corpus`` with each direction searching its own sentence
  slots, as the final pass ran before :mod:`eegiza.slot_transpose` and as training's final pass
  still runs on a corpus of more than ``api.REUSE_MAX_SLOTS`` word pairs; ``cpu_ratio``: the
  ``ratio`` for the process's CPU time (all threads), steadier than wall time on a shared machine;
  ``cpu_ratio_searched``: the same against ``searched_pass_s``; ``training_pass``: which of the two
  training's final pass runs on this whole corpus ("derived" or "searched");
* ``aer_gdfa``: Viterbi grow-diag-final-and AER on the gold; ``aer_post@T``: the links whose mean
  link posterior (forward and reverse, :mod:`eegiza.scoring`) is at least T.

    python benchmarks/bench_saved_model.py en-fr:100000 ro-en de-en [--schedule "1^5 H^5 3^3 4^3"]

Numba's cache is used as by a user's second run (run once before timing a cold machine).
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

THRESHOLDS = (0.3, 0.5, 0.7)


def posterior_links(model, corpus, threshold: float):
    """Per pair: the links (i, j) whose mean forward/reverse posterior is at least ``threshold``."""
    post = model.corpus_posteriors(corpus)
    out = []
    for k in range(len(corpus)):
        fwd = post.fwd_matrix(k)[:, 1:]            # (m, l): P(a_j = i)
        rev = post.rev_matrix(k)[:, 1:]            # (l, m): P(b_i = j)
        mean = 0.5 * (fwd.T + rev) if fwd.size else np.zeros((0, 0))
        i, j = np.nonzero(mean >= threshold)
        out.append(sorted(zip(i.tolist(), j.tolist())))
    return out


def run(spec: str, schedule: str, model_path, data_dir: Path, repeats: int = 5) -> dict:
    from eegiza import Aligner, AlignerConfig, AlignmentModel, aer, api, read_gold
    pair, _, n = spec.partition(":")
    proto = load_protocol(pair, int(n) if n else None, data_dir)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(model_path) if model_path else Path(tmp) / "m.npz"
        if not model_path:
            Aligner(AlignerConfig(schedule=schedule, lowercase=True)).train(proto.src_lines, proto.tgt_lines).save(path)
        t0 = time.perf_counter()
        model = AlignmentModel.load(path)
        load_s = time.perf_counter() - t0
    test = list(zip(proto.src_lines[-proto.n_test:], proto.tgt_lines[-proto.n_test:]))
    model.align(test[:1])
    times = []
    for p in test[:200]:
        t0 = time.perf_counter()
        model.align([p])
        times.append(time.perf_counter() - t0)
    src10, tgt10 = proto.src_lines[:10000], proto.tgt_lines[:10000]
    corpus10 = model.corpus(src10, tgt10)
    links = model.align(src10, tgt10)       # untimed: the model's vocabulary is checked once
    if links != model.align_corpus(corpus10, [model.config.symmetrization]).links(model.config.symmetrization):
        raise AssertionError("model.align and align_corpus disagree")
    t10, final, searched, ratios, cpu_ratios, cpu_searched = [], [], [], [], [], []
    for r in range(repeats):                 # rotating which goes first
        cpu = [0.0, 0.0, 0.0]
        for which in ((0, 1, 2), (1, 2, 0), (2, 0, 1))[r % 3]:
            t0, c0 = time.perf_counter(), time.process_time()
            if which == 0:
                model.align(src10, tgt10)
            elif which == 1:
                model.align_corpus(corpus10, [model.config.symmetrization])
            else:                            # each direction searching its own slots (before slot_transpose)
                reuse, api.REUSE_MAX_SLOTS = api.REUSE_MAX_SLOTS, 0
                model.align_corpus(corpus10, [model.config.symmetrization])
                api.REUSE_MAX_SLOTS = reuse
            (t10, final, searched)[which].append(time.perf_counter() - t0)
            cpu[which] = time.process_time() - c0
        ratios.append(t10[-1] / final[-1])
        cpu_ratios.append(cpu[0] / cpu[1])
        cpu_searched.append(cpu[0] / cpu[2])
    # which final pass training runs on this whole corpus: slots derived (as align_corpus on the 10,000
    # pairs) or searched by each direction (a corpus above api.REUSE_MAX_SLOTS, e.g. de-en, en-fr 100k)
    lengths = [(len(a.split()) + 1) * len(b.split()) for a, b in zip(proto.src_lines, proto.tgt_lines)]
    training_pass = "derived" if sum(lengths) <= api.REUSE_MAX_SLOTS else "searched"
    gold = read_gold(proto.gold_path)
    corpus = model.corpus(proto.src_lines[-proto.n_test:], proto.tgt_lines[-proto.n_test:])
    row = {"pair": spec, "load_s": load_s, "pair_ms_median": 1000 * float(np.median(times)),
           "pair_ms_p90": 1000 * float(np.percentile(times, 90)), "pair_ms_max": 1000 * max(times),
           "10k_s": float(np.median(t10)),
           "final_pass_s": float(np.median(final)), "searched_pass_s": float(np.median(searched)),
           "ratio": float(np.median(ratios)),
           "ratio_min": min(ratios), "ratio_max": max(ratios), "cpu_ratio": float(np.median(cpu_ratios)),
           "cpu_ratio_searched": float(np.median(cpu_searched)), "training_pass": training_pass,
           "aer_gdfa": 100 * aer(gold, model.align_corpus(corpus, ["grow-diag-final-and"])
                                 .links("grow-diag-final-and")).aer}
    for threshold in THRESHOLDS:
        row[f"aer_post@{threshold}"] = 100 * aer(gold, posterior_links(model, corpus, threshold)).aer
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("specs", nargs="+", help="pair[:first_N_training_lines], e.g. en-fr:100000")
    parser.add_argument("--schedule", default="1^5 H^5 3^3 4^3")
    parser.add_argument("--model", help="a saved model to load instead of training (one spec only)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--repeats", type=int, default=5, help="10,000-pair timings, alternating (default 5)")
    args = parser.parse_args()
    rows = [run(spec, args.schedule, args.model, args.data, args.repeats) for spec in args.specs]
    print_table(rows, list(rows[0]), "{:.3f}")


if __name__ == "__main__":
    main()
