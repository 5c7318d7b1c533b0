"""E-step kernels on 1 and 2 threads: wall seconds (best of 3, alternating on the same input) and
the speed-up, with a check that the counts are bit-identical.

Kernels: the joint (agreement) E-steps of Model 1 and the HMM, one direction's HMM E-step, and one
Model-4 iteration's E-step (hill-climbing and neighbourhood counts), on the protocol corpus of each
spec, with the tables as training starts them (uniform t, uniform jumps; Model 4 from the HMM
Viterbi alignment of a two-iteration HMM).

    python benchmarks/bench_threads.py ro-en de-en
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from protocol import DEFAULT_DATA_DIR, load_protocol, print_table  # noqa: E402

REPEATS = 3


def kernels(corpus):
    """(name, function of the thread count returning the kernel's fixed-point counts)."""
    from eegiza.config import AlignerConfig
    from eegiza.models import agreement, hmm
    from eegiza.models.fertility import FertilityModel, train_fertility
    from eegiza.slot_source import SlotSource
    from eegiza.train import align_direction, fertility_params_of, train_direction
    from eegiza.ttable import TTable, sentence_slots

    fwd, rev = TTable.from_corpus(corpus), TTable.from_corpus(corpus.reversed())
    slots, offsets = sentence_slots(corpus, fwd)
    reverse_map = agreement.reverse_slot_map(fwd, rev)
    src_class = np.zeros(len(corpus.src_vocab), np.int32)
    tgt_class = np.zeros(len(corpus.tgt_vocab), np.int32)
    jump, start = hmm.initial_jump_counts(1)

    def joint(use_hmm, threads):
        return agreement.estep(use_hmm, 0.3, corpus.src.ids, corpus.src.offsets, corpus.tgt.ids, corpus.tgt.offsets,
                               1e-7, 0.2, 0.2, threads, SlotSource.stored(slots, offsets).arrays(), fwd.probs, src_class, jump, start,
                               *reverse_map, rev.probs, tgt_class, jump, start)[0]

    def hmm_fwd(threads):
        return hmm.estep(corpus.src.ids, corpus.src.offsets, corpus.tgt.offsets, SlotSource.stored(slots, offsets).arrays(),
                         fwd.probs, 1e-7,
                         src_class, jump, start, 0.2, 0.2, threads)[0]

    config = AlignerConfig(schedule="1^2 H^2", agreement=False, threads=2, word_classes=0, cognate_lambda=0)
    base = train_direction(corpus, config)
    start_links, _ = align_direction(base, corpus)
    params = fertility_params_of(config)

    def model4(threads):
        table = base.ttable.copy()
        collected = []
        train_fertility(corpus, table, start_links, [("4", 1)], src_class, tgt_class, params, threads,
                        t_update=lambda t, counts, name: collected.append(counts))
        return collected[-1]

    return [("Model 1 joint E-step", lambda th: joint(False, th)), ("HMM joint E-step", lambda th: joint(True, th)),
            ("HMM E-step, one direction", hmm_fwd), ("Model 4 iteration (transfer + 1)", model4)]


def run(spec: str, data_dir: Path) -> list:
    from eegiza.corpus import corpus_from_sentences
    pair, _, n = spec.partition(":")
    proto = load_protocol(pair, int(n) if n else None, data_dir)
    corpus = corpus_from_sentences(proto.src_lines, proto.tgt_lines)
    rows = []
    for name, kernel in kernels(corpus):
        numba.set_num_threads(2)
        kernel(2)                                  # compiled and warm
        seconds = {1: [], 2: []}
        results = {}
        for _ in range(REPEATS):
            for threads in (1, 2):
                numba.set_num_threads(threads)
                t0 = time.perf_counter()
                results[threads] = kernel(threads)
                seconds[threads].append(time.perf_counter() - t0)
        one, two = min(seconds[1]), min(seconds[2])
        rows.append({"pair": spec, "kernel": name, "1 thread s": one, "2 threads s": two, "speed-up": one / two,
                     "identical": bool(np.array_equal(results[1], results[2]))})
        print_table(rows[-1:], list(rows[-1]), "{:.3f}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("specs", nargs="+", help="pair[:first_N_training_lines]")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    args = parser.parse_args()
    rows = [row for spec in args.specs for row in run(spec, args.data)]
    print()
    print_table(rows, list(rows[0]), "{:.3f}")


if __name__ == "__main__":
    main()
