"""eegiza on the shared benchmark protocol, side by side with eflomal in the same run.

For each corpus spec (``pair[:first_N_training_lines]``) it runs, each in a fresh child process (so
peak memory is per run): eegiza with the given schedule (both directions + grow-diag-final-and,
exactly what ``eegiza align`` does) and, unless ``--no-eflomal``, eflomal (benchmarks/run_eflomal.py).
Prints AER (fwd, rev, gdfa), gdfa precision/recall, wall and CPU seconds and peak RSS.

    python benchmarks/bench_align.py ro-en de-en en-fr:100000 [--schedule "1^5 H^5"] [--set vb_alpha=0.1]
    python benchmarks/bench_align.py ro-en --profile --no-eflomal    # eegiza's per-phase profile

The Numba cache is warmed by a tiny run first (``--cold`` skips that), so wall times exclude
JIT compilation, as for a user's second run.
"""
from __future__ import annotations

import argparse
import json
from collections import deque
import subprocess
import sys
import time
from dataclasses import fields, replace
from typing import Optional
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from protocol import DEFAULT_DATA_DIR, cpu_seconds, load_protocol, peak_rss_mb, print_table  # noqa: E402

COLUMNS = ["aligner", "pair", "lines", "aer_fwd", "aer_rev", "aer_gdfa", "p_gdfa", "r_gdfa", "seconds",
           "cpu_seconds", "peak_rss_mb", "estimate_mb"]


def parse_settings(items):
    from eegiza.config import AlignerConfig
    kinds = {f.name: type(f.default) for f in fields(AlignerConfig)}
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        if key not in kinds:
            raise SystemExit(f"unknown setting {key!r}; AlignerConfig fields: {', '.join(kinds)}")
        kind = kinds[key]
        out[key] = (value.lower() in ("1", "true", "yes")) if kind is bool else \
            (None if value == "none" else (kind(value) if kind is not type(None) else value))
    return out


def run_eegiza(spec: str, data_dir: Path, schedule: Optional[str], settings: dict, profiled: bool = False) -> dict:
    """One eegiza run on ``spec``; ``schedule`` None: what ``eegiza align`` trains without --schedule
    (:func:`eegiza.presets.default_for` the corpus' size), with ``settings`` over it."""
    from eegiza import Aligner, AlignerConfig, aer, read_gold
    from eegiza.corpus import corpus_from_sentences
    from eegiza.memory import estimate_training_memory
    from eegiza.phases import NO_PROFILE, PhaseProfile
    from eegiza.presets import default_for

    pair, _, n = spec.partition(":")
    protocol = load_protocol(pair, int(n) if n else None, data_dir)
    start, start_cpu = time.perf_counter(), cpu_seconds()
    profile = PhaseProfile() if profiled else NO_PROFILE
    corpus = corpus_from_sentences(protocol.src_lines, protocol.tgt_lines)
    gold_path, n_lines = protocol.gold_path, len(protocol.src_lines)
    del protocol   # the text as Python strings: eegiza align holds only the corpus arrays
    base = default_for(len(corpus)) if schedule is None else AlignerConfig(schedule=schedule)
    config = replace(base, **settings)
    estimate = estimate_training_memory(corpus, config)   # what `eegiza align` prints before training
    profile.mark("reading")
    model = Aligner(config).train_corpus(corpus, profile=profile)
    alignment = model.align_corpus(corpus, ["grow-diag-final-and"], profile=profile)
    gold = read_gold(gold_path)
    # the test lines at the end only: every line's Python lists would outweigh the flat arrays
    links = {name: list(deque(alignment.iter_links(name), maxlen=len(gold)))
             for name in ("fwd", "rev", "grow-diag-final-and")}
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - start_cpu
    scores = {name: aer(gold, value) for name, value in links.items()}
    gdfa = scores["grow-diag-final-and"]
    return {"aligner": f"eegiza {config.schedule}", "pair": pair, "lines": n_lines,
            "aer_fwd": 100 * scores["fwd"].aer, "aer_rev": 100 * scores["rev"].aer, "aer_gdfa": 100 * gdfa.aer,
            "p_gdfa": 100 * gdfa.precision, "r_gdfa": 100 * gdfa.recall, "seconds": seconds,
            "cpu_seconds": cpu,
            # the profile resets the kernel's peak counter per phase: the run's peak is the largest phase's
            "peak_rss_mb": max(peak_rss_mb(include_children=False), profile.peak_mb() if profiled else 0.0),
            "estimate_mb": estimate.peak_mb,
            **({"profile": profile.table()} if profiled else {})}


def warm_up(config) -> None:
    """Compile (or load from Numba's cache) every kernel a run uses, so that wall times exclude
    the one-time compilation: a training and an alignment on more pairs than the small-batch path
    takes (eegiza.small_batch.SMALL_BATCH), so the corpus-wide kernels run too."""
    from eegiza import Aligner
    from eegiza.small_batch import SMALL_BATCH
    words = [f"w{k}" for k in range(8)]
    src = [" ".join(words[(k + d) % 8] for d in range(1 + k % 5)) for k in range(2 * SMALL_BATCH)]
    tgt = [" ".join(words[(k + d) % 8].upper() for d in range(1 + k % 4)) for k in range(2 * SMALL_BATCH)]
    model = Aligner(config).train(src, tgt)
    model.align_corpus(model.trained_on, ["grow-diag-final-and"])


def warm_up_defaults(schedule: Optional[str], settings: dict) -> None:
    """:func:`warm_up` for ``schedule``, or for both defaults (:mod:`eegiza.presets`) if it is None."""
    from eegiza import AlignerConfig
    from eegiza.presets import FAST
    for base in [AlignerConfig(schedule=schedule)] if schedule else [AlignerConfig(), FAST]:
        warm_up(replace(base, **settings))


def child(command) -> dict:
    result = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("specs", nargs="*", default=["ro-en", "de-en", "en-fr:100000"],
                        help="pair[:first_N_training_lines]; default: ro-en de-en en-fr:100000")
    parser.add_argument("--schedule", default=None,
                        help="eegiza training schedule (default: eegiza align's for the corpus' size, eegiza.presets)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="an AlignerConfig setting, e.g. --set vb_alpha=0.1 (repeatable)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="the shared/data folder")
    parser.add_argument("--no-eflomal", action="store_true", help="skip the eflomal runs")
    parser.add_argument("--cold", action="store_true", help="do not warm the Numba cache first")
    parser.add_argument("--profile", action="store_true",
                        help="print eegiza's per-phase profile (seconds, peak memory) of each corpus")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    settings = parse_settings(args.set)
    if args.child:
        print(json.dumps(run_eegiza(args.specs[0], args.data, args.schedule, settings, args.profile)))
        return
    if not args.cold:
        warm_up_defaults(args.schedule, settings)
    rows = []
    for spec in args.specs:
        command = [sys.executable, __file__, "--child", spec, "--data", str(args.data)]
        command += ["--schedule", args.schedule] if args.schedule else []
        for item in args.set:
            command += ["--set", item]
        rows.append(child(command + (["--profile"] if args.profile else [])))
        print_table(rows[-1:], COLUMNS, "{:.2f}")
        if "profile" in rows[-1]:
            print(f"\neegiza per-phase profile, {spec}:\n{rows[-1].pop('profile')}\n")
        if not args.no_eflomal:
            row = child([sys.executable, str(Path(__file__).parent / "run_eflomal.py"), "--child", spec,
                         "--data", str(args.data)])
            row = {**row, "aligner": "eflomal", **{k: 100 * row[k] for k in
                                                   ("aer_fwd", "aer_rev", "aer_gdfa", "p_gdfa", "r_gdfa")}}
            rows.append(row)
            print_table(rows[-1:], COLUMNS, "{:.2f}")
    print()
    print_table(rows, COLUMNS, "{:.2f}")


if __name__ == "__main__":
    main()
