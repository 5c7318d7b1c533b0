"""How eegiza scales with the corpus, side by side with eflomal: en-fr Hansards at several sizes.

For each size N (first N training lines + the 447 test lines, the shared protocol), one child
process runs eegiza with 2 threads as ``eegiza align`` runs it without ``--schedule`` (the full
schedule, or the ``--fast`` preset from 500,000 pairs on: :mod:`eegiza.presets`) and, unless
``--no-eflomal``, another runs eflomal on the same input (benchmarks/run_eflomal.py; eflomal is
never an eegiza dependency). Prints gdfa AER, wall seconds, peak RSS, microseconds per sentence
pair (scaling) and the eegiza/eflomal wall ratio, one row per size as it finishes.

    python benchmarks/bench_scale.py                          # 10k 100k 300k all (1,130,104)
    python benchmarks/bench_scale.py --sizes 10000 100000     # a subset
    python benchmarks/bench_scale.py --sizes all --no-eflomal
    python benchmarks/bench_scale.py --sizes all --schedule "1^5 H^5 3^3 4^3"   # Models 3/4 at every size

The whole Hansards take a long time on two cores (eflomal about 8 minutes); run it alone on the
machine: only ratios from one run mean anything on a shared machine.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_align import child, warm_up_defaults  # noqa: E402
from protocol import DEFAULT_DATA_DIR, print_table  # noqa: E402

COLUMNS = ["size", "aligner", "lines", "aer_gdfa", "seconds", "us_per_pair", "peak_rss_mb", "wall_ratio"]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["10000", "100000", "300000", "all"],
                        help="training lines of en-fr per run ('all' = 1,130,104)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="the shared/data folder")
    parser.add_argument("--no-eflomal", action="store_true", help="skip the eflomal runs")
    parser.add_argument("--threads", type=int, default=2, help="eegiza worker threads (default 2)")
    parser.add_argument("--schedule", default=None,
                        help="eegiza's schedule (default: eegiza align's for each size: the full schedule, the "
                             "--fast preset from 500,000 pairs on, eegiza.presets)")
    args = parser.parse_args(argv)
    here = Path(__file__).resolve().parent
    warm_up_defaults(args.schedule, {})   # wall times exclude the one-time compilation
    rows = []
    for size in args.sizes:
        spec = "en-fr" if size == "all" else f"en-fr:{int(size)}"
        ours = child([sys.executable, str(here / "bench_align.py"), "--child", spec, "--data", str(args.data),
                      "--set", f"threads={args.threads}"] + (["--schedule", args.schedule] if args.schedule else []))
        found = [{**ours, "size": size}]
        if not args.no_eflomal:
            theirs = child([sys.executable, str(here / "run_eflomal.py"), "--child", spec, "--data", str(args.data)])
            found.append({**theirs, "size": size, "aligner": "eflomal", "aer_gdfa": 100 * theirs["aer_gdfa"]})
            found[0]["wall_ratio"] = ours["seconds"] / theirs["seconds"]
        for row in found:
            row["us_per_pair"] = 1e6 * row["seconds"] / row["lines"]
        rows += found
        print_table(found, COLUMNS, "{:.2f}")
    print()
    print_table(rows, COLUMNS, "{:.2f}")


if __name__ == "__main__":
    main()
