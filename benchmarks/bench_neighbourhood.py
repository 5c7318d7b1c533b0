"""Models 3/4 neighbourhood link posteriors (``--posteriors`` after Models 3/4): the Numba kernel of
:mod:`eegiza.models.neighbourhood` against the pure-Python driver it replaced (kept as the tests'
reference, ``tests/reference_neighbourhood.py``), on the first N training pairs of the protocol.

For each direction: seconds of the kernel (median of ``--repeats``) and of the reference (once), the
speed-up, and the largest absolute difference between the two (pairs the reference can score).

    python benchmarks/bench_neighbourhood.py ro-en --pairs 1000 [--model M.npz] [--schedule "1^5 H^5 3^3 4^3"]
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
from protocol import DEFAULT_DATA_DIR, load_protocol, print_table  # noqa: E402
from reference_neighbourhood import reference_fertility_posteriors  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pair", help="e.g. ro-en")
    parser.add_argument("--pairs", type=int, default=1000, help="the first N training pairs (default 1000)")
    parser.add_argument("--model", help="a saved model (default: train one on the whole protocol corpus)")
    parser.add_argument("--schedule", default="1^5 H^5 3^3 4^3")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    args = parser.parse_args()
    from eegiza import Aligner, AlignerConfig, AlignmentModel
    from eegiza.models.neighbourhood import fertility_posteriors
    from eegiza.train import align_direction
    proto = load_protocol(args.pair, None, args.data)
    if args.model:
        model = AlignmentModel.load(args.model)
    else:
        model = Aligner(AlignerConfig(schedule=args.schedule, lowercase=True)).train(proto.src_lines, proto.tgt_lines)
    corpus = model.corpus(proto.src_lines[:args.pairs], proto.tgt_lines[:args.pairs])
    fwd, rev = model._directions(corpus)
    rows = []
    for name, direction, c in (("fwd", fwd, corpus), ("rev", rev, corpus.reversed())):
        positions, _ = align_direction(replace(direction, min_link_posterior=0.0), c)   # as scoring.link_posteriors
        fertility_posteriors(direction, c.subset(0, 2), positions[:c.tgt.offsets[2]])   # compiled / loaded
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            post, _ = fertility_posteriors(direction, c, positions)
            times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        ref, _ = reference_fertility_posteriors(direction, c, positions)
        ref_s = time.perf_counter() - t0
        ok = np.isfinite(ref)
        rows.append({"pair": f"{args.pair}:{args.pairs}", "direction": name, "model": direction.last_model,
                     "kernel_s": float(np.median(times)), "python_s": ref_s,
                     "speedup": ref_s / float(np.median(times)),
                     "max_abs_diff": float(np.abs(post[ok] - ref[ok]).max()) if ok.any() else 0.0,
                     "undefined_in_python": int((~ok).sum())})
    print_table(rows, list(rows[0]), "{:.3g}")


if __name__ == "__main__":
    main()
