"""Single-pair latency of a loaded model on every test pair of the protocol: ``model.align([pair])``,
per pair the median of ``--calls`` calls, wall time (``time.perf_counter``: what the user waits)
and process CPU time (all threads), then the median, p90 and maximum over the test pairs and how
many take 5 ms or more; ``wall_max_of_min``: the maximum over the pairs of each pair's fastest call
(on a shared machine the per-pair medians' maximum is often another process' doing); the longest
test pair (source x target words) ``--long-calls`` times (median, and the fastest call).

Four ways, alternated pair by pair (so they see the same load):

* ``S0``: serial (the reverse direction in the calling thread), each direction searching its slots;
* ``C0``: concurrent: the reverse direction of pairs of at least ``small_batch.CONCURRENT_MIN_CELLS``
  source x target words on the second thread (as ``model.align`` runs with two Numba threads);
* ``S1`` / ``C1``: the same with the model's slot map built (the reverse slots derived), as after a
  call with more than ``SMALL_BATCH`` pairs.

``model.align`` with Numba on two threads or more and a fresh model is ``C0``. After one warm-up call
per way. Numba's cache is used as by a user's second run. On a revision before the second thread
(the ``S``/``C`` switch absent) run ``--ways S0``.

    python benchmarks/bench_single_pair.py ro-en --model ro-en.npz [--ways S0,C0,S1,C1] [--calls 3]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from protocol import DEFAULT_DATA_DIR, load_protocol, print_table  # noqa: E402

WAYS = ("S0", "C0", "S1", "C1")


def _timed(model, pair) -> tuple:
    t0, c0 = time.perf_counter(), time.process_time()
    model.align([pair])
    return 1000 * (time.perf_counter() - t0), 1000 * (time.process_time() - c0)


def run(spec: str, model_path: Path, ways, calls: int, long_calls: int, data_dir: Path) -> list:
    from eegiza import AlignmentModel, small_batch
    pair_name, _, n = spec.partition(":")
    proto = load_protocol(pair_name, 10, data_dir)          # only the test lines are used
    test = list(zip(proto.src_lines[-proto.n_test:], proto.tgt_lines[-proto.n_test:]))
    model = AlignmentModel.load(model_path)
    threshold = getattr(small_batch, "CONCURRENT_MIN_CELLS", None)   # None: a revision without the second thread
    model._slot_transpose()
    built = model._transpose

    def use(way):
        if threshold is not None:
            small_batch.CONCURRENT_MIN_CELLS = threshold if way[0] == "C" else 1 << 62
        model._transpose = built if way[1] == "1" else None

    try:
        for way in ways:
            use(way)
            model.align(test[:3])
        per_pair = {w: [] for w in ways}
        for k, p in enumerate(test):
            for way in ways[k % len(ways):] + ways[:k % len(ways)]:
                use(way)
                t = [_timed(model, p) for _ in range(calls)]
                per_pair[way].append((np.median([x[0] for x in t]), np.median([x[1] for x in t]), min(x[0] for x in t)))
        longest = int(np.argmax([len(s.split()) * len(t.split()) for s, t in test]))
        long_times = {w: [] for w in ways}
        for _ in range(long_calls):
            for way in ways:
                use(way)
                long_times[way].append(_timed(model, test[longest]))
    finally:
        if threshold is not None:
            small_batch.CONCURRENT_MIN_CELLS = threshold
    size = f"{len(test[longest][0].split())}x{len(test[longest][1].split())}"
    rows = []
    for way in ways:
        wall = np.array([x[0] for x in per_pair[way]])
        cpu = np.array([x[1] for x in per_pair[way]])
        rows.append({"pair": spec, "way": way, "pairs": len(test), "wall_median": float(np.median(wall)),
                     "wall_p90": float(np.percentile(wall, 90)), "wall_max": float(wall.max()),
                     "over_5ms": int((wall >= 5).sum()), "wall_max_of_min": max(x[2] for x in per_pair[way]),
                     "cpu_median": float(np.median(cpu)),
                     "cpu_max": float(cpu.max()), "longest": size,
                     "longest_wall": float(np.median([x[0] for x in long_times[way]])),
                     "longest_wall_min": min(x[0] for x in long_times[way]),
                     "longest_cpu": float(np.median([x[1] for x in long_times[way]]))})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("spec", help="pair of the protocol whose test pairs are aligned, e.g. ro-en")
    parser.add_argument("--model", type=Path, required=True, help="a saved model (AlignmentModel.save)")
    parser.add_argument("--ways", default=",".join(WAYS), help="comma-separated, of S0, C0, S1, C1")
    parser.add_argument("--calls", type=int, default=3, help="calls per test pair and way (median)")
    parser.add_argument("--long-calls", type=int, default=60, help="calls of the longest pair per way (median)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    args = parser.parse_args()
    ways = args.ways.split(",")
    if not ways or any(w not in WAYS for w in ways):
        parser.error(f"--ways takes a comma-separated list of {', '.join(WAYS)}")
    rows = run(args.spec, args.model, ways, args.calls, args.long_calls, args.data)
    print_table(rows, list(rows[0]), "{:.2f}")


if __name__ == "__main__":
    main()
