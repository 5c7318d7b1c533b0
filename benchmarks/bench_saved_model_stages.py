"""Where ``AlignmentModel.load(path).align(src, tgt)`` spends its CPU time on 10,000 pairs, stage by
stage: numbering the strings against the model's vocabularies, the sentence slots (forward searched,
reverse derived: :mod:`eegiza.slot_transpose`), the HMM Viterbi start of each direction, the Model 3/4
climb of each direction, the directional link arrays, the symmetrisation and the Python link lists.
The stages are those of :meth:`eegiza.api.AlignmentModel.align_corpus` called one by one (a model
whose last model is 3 or 4 over an HMM, as the default schedule trains); the links are checked
against ``model.align``. Process CPU seconds (all threads), median of ``--repeats``:

    python benchmarks/bench_saved_model_stages.py ro-en --model roen.npz [--repeats 7]
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from protocol import DEFAULT_DATA_DIR, load_protocol, print_table  # noqa: E402


def stages(model, src, tgt) -> tuple:
    """(CPU seconds per stage, the symmetrised link lists) of one ``model.align(src, tgt)``."""
    from eegiza.links import directional_links, to_lists
    from eegiza.models.fertility import align_fertility
    from eegiza.symmetrize import symmetrize_flat
    from eegiza.train import align_direction
    seconds, last = {}, [time.process_time()]

    def mark(name):
        now = time.process_time()
        seconds[name], last[0] = now - last[0], now

    corpus = model.corpus(src, tgt)
    mark("numbering")
    fwd, rev = model._directions(corpus)
    fwd_slots, rev_slots = model._both_slots(corpus, fwd, rev)
    mark("slots")
    starts = {}
    for name, d, c, s in (("fwd", fwd, corpus, fwd_slots), ("rev", rev, corpus.reversed(), rev_slots)):
        starts[name], _ = align_direction(replace(d, last_model=d.base_model), c, s)
        mark(f"hmm_{name}")
    pos = {}
    for name, d, c, s in (("fwd", fwd, corpus, fwd_slots), ("rev", rev, corpus.reversed(), rev_slots)):
        pos[name], _ = align_fertility(d.fertility, d.ttable, c, starts[name], numba.get_num_threads(),
                                       d.min_link_posterior, s)
        mark(f"climb_{name}")
    f = directional_links(pos["fwd"], corpus.tgt.offsets, reverse=False)
    r = directional_links(pos["rev"], corpus.src.offsets, reverse=True)
    mark("link_arrays")
    sym = symmetrize_flat(*f, *r, corpus.src.lengths, corpus.tgt.lengths, model.config.symmetrization)
    mark("symmetrisation")
    links = to_lists(*sym)
    mark("lists")
    return seconds, links


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("spec", help="pair[:first_N_training_lines] of the protocol, e.g. ro-en")
    parser.add_argument("--model", required=True, help="a saved model (ending in Model 3 or 4 over an HMM)")
    parser.add_argument("--pairs", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    args = parser.parse_args()
    from eegiza import AlignmentModel
    pair, _, n = args.spec.partition(":")
    proto = load_protocol(pair, int(n) if n else None, args.data)
    model = AlignmentModel.load(args.model)
    if model.fwd.last_model not in "34" or model.fwd.base_model != "H":
        raise SystemExit("the stages are those of a model ending in Model 3 or 4 over an HMM")
    src, tgt = proto.src_lines[:args.pairs], proto.tgt_lines[:args.pairs]
    expected = model.align(src, tgt)             # untimed: first call (vocabulary check, slot map)
    runs = []
    for _ in range(args.repeats):
        seconds, links = stages(model, src, tgt)
        if links != expected:
            raise AssertionError("the stages do not give model.align's links")
        runs.append(seconds)
    total = [sum(r.values()) for r in runs]
    row = {"pair": args.spec, **{k: float(np.median([r[k] for r in runs])) for k in runs[0]},
           "total": float(np.median(total))}
    print_table([row], list(row), "{:.3f}")


if __name__ == "__main__":
    main()
