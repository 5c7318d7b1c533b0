"""EM on a Dask LocalCluster of 2 worker processes against the local engine (issue 17).

For each corpus of the shared protocol (ro-en all, en-fr first 100k lines; test lines appended),
trains the default schedule and aligns, once with the local engine (2 threads) and once with
``scheduler=local:2`` equivalent (a LocalCluster of 2 worker processes, 1 Numba thread each, so
both use the 2 cores); prints both wall times, whether tables and alignments are identical, and
per distributed step the bytes sent to and received from the workers and the share of the step's
time not spent computing (transfer, serialisation, scheduling).

    python benchmarks/bench_distributed.py                       # ro-en all, en-fr 100k
    python benchmarks/bench_distributed.py --pairs en-fr:10000   # a quick look

Timings on a shared machine are only indicative; the transfer volumes are exact.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from protocol import DEFAULT_DATA_DIR, load_protocol  # noqa: E402


def _run(lines, **settings):
    from eegiza.api import Aligner
    from eegiza.corpus import corpus_from_sentences
    corpus = corpus_from_sentences(*lines)
    t0 = time.perf_counter()
    model = Aligner(threads=2, **settings).train_corpus(corpus)
    alignment = model.align_corpus(corpus)
    return model, alignment, time.perf_counter() - t0


def _identical(a, b) -> bool:
    (ma, aa), (mb, ab) = a, b
    same = all(np.array_equal(getattr(ma, d).ttable.probs, getattr(mb, d).ttable.probs) for d in ("fwd", "rev"))
    return same and all(np.array_equal(x, y) for key in aa.symmetrized
                        for x, y in zip(aa.symmetrized[key], ab.symmetrized[key]))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", nargs="+", default=["ro-en", "en-fr:100000"],
                        help="PAIR or PAIR:LINES of the protocol (default: ro-en all, en-fr 100k)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    args = parser.parse_args(argv)
    from distributed import Client, LocalCluster

    from eegiza.api import Aligner
    from eegiza.distributed.engine import _ENGINES, DaskEngine
    Aligner().train(["a b", "b c"], ["x y", "y z"])   # Numba's cache is warm for the client and the workers
    summary = []
    for spec in args.pairs:
        pair, _, n = spec.partition(":")
        proto = load_protocol(pair, int(n) if n else None, args.data)
        lines = ([s.split() for s in proto.src_lines], [t.split() for t in proto.tgt_lines])
        local_model, local_alignment, local_s = _run(lines)
        print(f"{spec}: {len(lines[0])} pairs; local engine {local_s:.1f} s", flush=True)
        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None,
                          env={"NUMBA_NUM_THREADS": str(max(1, 2 // args.workers))}) as cluster, \
                Client(cluster) as client:
            address = cluster.scheduler_address
            engine = _ENGINES[address] = DaskEngine(address, client=client)
            model, alignment, dist_s = _run(lines, scheduler=address)
            _ENGINES.pop(address)
        same = _identical((local_model, local_alignment), (model, alignment))
        print(f"{spec}: LocalCluster({args.workers}) {dist_s:.1f} s ({dist_s / local_s:.2f} x local); "
              f"identical to local: {same}")
        for entry in engine.log:
            print("   ", entry.line())
        steps = [e for e in engine.log if e.compute > 0]
        sent, received = sum(e.sent for e in engine.log), sum(e.received for e in engine.log)
        overhead = sum(e.transfer for e in steps)
        step_s = sum(e.seconds for e in steps)
        summary.append((spec, local_s, dist_s, same, len(steps), sent, received, overhead, step_s))
        print(flush=True)
    print(f"{'corpus':<14} {'local s':>8} {'dask s':>8} {'same':>5} {'steps':>5} {'MB/step out':>11} "
          f"{'MB/step in':>10} {'transfer share':>14}")
    for spec, local_s, dist_s, same, n_steps, sent, received, overhead, step_s in summary:
        print(f"{spec:<14} {local_s:>8.1f} {dist_s:>8.1f} {str(same):>5} {n_steps:>5} {sent / 1e6 / n_steps:>11.2f} "
              f"{received / 1e6 / n_steps:>10.2f} {100 * overhead / step_s:>13.0f}%")


if __name__ == "__main__":
    main()
