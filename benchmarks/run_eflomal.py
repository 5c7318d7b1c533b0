"""Reference peer: eflomal (Östling & Tiedemann 2016) on the shared benchmark protocol.

Aligns the protocol corpus in both directions with eflomal's default settings, symmetrises with
eegiza's grow-diag-final-and and prints AER (fwd, rev, gdfa), gdfa precision/recall, wall and CPU
time of the alignment (eflomal binary included) and peak memory (python process + eflomal binary,
and the python process alone). eflomal is not an eegiza dependency (``pip install eflomal``); each
corpus runs in a fresh child process so that peak memory is per corpus.

    PYTHONPATH=. python benchmarks/run_eflomal.py ro-en de-en en-fr:100000 [--data DIR] [--out DIR]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from protocol import (DEFAULT_DATA_DIR, cpu_seconds, load_protocol, peak_rss_mb,  # noqa: E402
                      print_table)

from eegiza.evaluate import aer, read_gold  # noqa: E402
from eegiza.formats.pharaoh import read_pharaoh, write_pharaoh  # noqa: E402
from eegiza.symmetrize import symmetrize_corpus  # noqa: E402

COLUMNS = ["pair", "lines", "aer_fwd", "aer_rev", "aer_gdfa", "p_gdfa", "r_gdfa", "seconds",
           "cpu_seconds", "peak_rss_mb", "python_rss_mb"]


def parse_spec(spec: str):
    """``"en-fr:100000"`` -> ("en-fr", 100000); ``"ro-en"`` -> ("ro-en", None)."""
    pair, _, lines = spec.partition(":")
    return pair, int(lines) if lines else None


def run_one(spec: str, data_dir: Path, out_dir: Path | None) -> dict:
    import eflomal

    pair, n_lines = parse_spec(spec)
    corpus = load_protocol(pair, n_lines, data_dir)
    gold = read_gold(corpus.gold_path)
    start, start_cpu = time.perf_counter(), cpu_seconds()
    with tempfile.TemporaryDirectory() as tmp:
        fwd_path, rev_path = Path(tmp) / "fwd", Path(tmp) / "rev"
        eflomal.Aligner().align(corpus.src_lines, corpus.tgt_lines,
                                links_filename_fwd=str(fwd_path), links_filename_rev=str(rev_path))
        fwd, rev = read_pharaoh(fwd_path), read_pharaoh(rev_path)
    src_lens = [len(line.split()) for line in corpus.src_lines]
    tgt_lens = [len(line.split()) for line in corpus.tgt_lines]
    gdfa = symmetrize_corpus(fwd, rev, src_lens, tgt_lens, "grow-diag-final-and")
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - start_cpu
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, links in (("fwd", fwd), ("rev", rev), ("gdfa", gdfa)):
            write_pharaoh(out_dir / f"eflomal.{pair}.{n_lines or 'all'}.{name}", links)
    scores = {name: aer(gold, links) for name, links in (("fwd", fwd), ("rev", rev), ("gdfa", gdfa))}
    return {"pair": pair, "lines": len(corpus.src_lines), "aer_fwd": scores["fwd"].aer,
            "aer_rev": scores["rev"].aer, "aer_gdfa": scores["gdfa"].aer,
            "p_gdfa": scores["gdfa"].precision, "r_gdfa": scores["gdfa"].recall,
            "seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": peak_rss_mb(include_children=True),
            "python_rss_mb": peak_rss_mb(include_children=False)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("specs", nargs="+", help="pair[:first_N_training_lines], e.g. en-fr:100000")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="shared/data folder")
    parser.add_argument("--out", type=Path, help="write the fwd/rev/gdfa Pharaoh files here")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_one(args.specs[0], args.data, args.out)))
        return
    rows = []
    for spec in args.specs:
        command = [sys.executable, __file__, "--child", spec, "--data", str(args.data)]
        if args.out is not None:
            command += ["--out", str(args.out)]
        result = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
        rows.append(json.loads(result.stdout.strip().splitlines()[-1]))
        print_table(rows[-1:], COLUMNS)
    print()
    print_table(rows, COLUMNS)


if __name__ == "__main__":
    main()
