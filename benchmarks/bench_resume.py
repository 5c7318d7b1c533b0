"""A Dask run that loses its scheduler mid-Models-3/4, resumed from its checkpoint (issue 17).

For one corpus of the shared protocol (default ro-en all, test lines appended): trains the default
schedule with the local engine (2 threads); trains again on a LocalCluster of 2 worker processes
and 'loses' the scheduler once the forward direction's ``--at``-th Model-3/4 iteration has sent
its tasks (the engine's SchedulerLostError, raised from its ``before_gather`` hook, so the point
is deterministic), which saves a checkpoint; resumes from it on this machine. Prints how far the
checkpoint got and its size, whether the resumed tables, iteration log-likelihoods and
alignments are identical to the uninterrupted run's, and both runs' gdfa AER.

    python benchmarks/bench_resume.py                 # ro-en all, lost in the 3rd forward Model-3/4 iteration
    python benchmarks/bench_resume.py --pair en-fr:10000 --at 5

Timings on a shared machine are only indicative; identity, AER and bytes are exact.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from protocol import DEFAULT_DATA_DIR, load_protocol  # noqa: E402


def _identical(a, b) -> bool:
    (ma, aa), (mb, ab) = a, b
    same = all(np.array_equal(getattr(ma, d).ttable.probs, getattr(mb, d).ttable.probs)
               and np.array_equal(getattr(ma, d).jump, getattr(mb, d).jump)
               and np.array_equal(getattr(ma, d).fertility.n_table, getattr(mb, d).fertility.n_table)
               and np.array_equal(getattr(ma, d).fertility.d1, getattr(mb, d).fertility.d1)
               and [e.loglik for e in getattr(ma, d).log] == [e.loglik for e in getattr(mb, d).log]
               for d in ("fwd", "rev"))
    links = list(aa.fwd) + list(aa.rev) + [x for k in aa.symmetrized for x in aa.symmetrized[k]]
    other = list(ab.fwd) + list(ab.rev) + [x for k in aa.symmetrized for x in ab.symmetrized[k]]
    return same and all(np.array_equal(x, y) for x, y in zip(links, other))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pair", default="ro-en", help="PAIR or PAIR:LINES of the protocol (default: ro-en all)")
    parser.add_argument("--at", type=int, default=3, help="lose the scheduler in this forward Model-3/4 iteration")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    args = parser.parse_args(argv)
    from distributed import LocalCluster

    from eegiza.api import Aligner
    from eegiza.checkpoint import Checkpoint
    from eegiza.corpus import corpus_from_sentences
    from eegiza.distributed import SchedulerLostError
    from eegiza.distributed.engine import _ENGINES, DaskEngine
    from eegiza.evaluate import aer

    pair, _, n = args.pair.partition(":")
    proto = load_protocol(pair, int(n) if n else None, args.data)
    corpus = corpus_from_sentences([s.split() for s in proto.src_lines], [t.split() for t in proto.tgt_lines])
    t0 = time.perf_counter()
    ref = Aligner(threads=2).train_corpus(corpus)
    ref_alignment = ref.align_corpus(corpus)
    print(f"{args.pair}: {len(corpus)} pairs; uninterrupted local run {time.perf_counter() - t0:.1f} s", flush=True)

    seen = []

    def lose_scheduler(engine, label):
        if label == "Model 3/4 iteration fwd":
            seen.append(label)
            if len(seen) == args.at:
                raise SchedulerLostError(f"lost the Dask scheduler (injected in forward Model-3/4 iteration {args.at})")

    path = os.path.join(tempfile.mkdtemp(), "bench.checkpoint.npz")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      env={"NUMBA_NUM_THREADS": "1"}) as cluster:
        address = cluster.scheduler_address
        engine = _ENGINES[address] = DaskEngine(address)
        engine.before_gather = lose_scheduler
        t0 = time.perf_counter()
        try:
            Aligner(threads=2, scheduler=address).train_corpus(corpus, checkpoint=path)
            sys.exit("the run was not interrupted (fewer forward Model-3/4 iterations than --at?)")
        except SchedulerLostError as err:
            print(f"LocalCluster(2) run stopped after {time.perf_counter() - t0:.1f} s: {err}", flush=True)
        _ENGINES.pop(address)
        engine.client.close()
    checkpoint = Checkpoint.load(path)
    print(f"checkpoint: {checkpoint.progress()}; {os.path.getsize(path):,} bytes", flush=True)
    t0 = time.perf_counter()
    resumed = Aligner(threads=2).train_corpus(corpus, resume=path)
    resumed_alignment = resumed.align_corpus(corpus)
    print(f"resumed on this machine: {time.perf_counter() - t0:.1f} s")
    print(f"tables, log-likelihoods and alignments identical to the uninterrupted run: "
          f"{_identical((ref, ref_alignment), (resumed, resumed_alignment))}")
    gold = proto.gold_path
    for name, alignment in (("uninterrupted", ref_alignment), ("resumed", resumed_alignment)):
        print(f"{name}: gdfa AER {100 * aer(str(gold), alignment.links('grow-diag-final-and')).aer:.2f}")


if __name__ == "__main__":
    main()
