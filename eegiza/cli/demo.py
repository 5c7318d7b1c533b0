"""``eegiza demo``: train on the built-in Hansards sample, align it, and print AER against gold."""
from __future__ import annotations

import lzma
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Optional

from ..config import AlignerConfig
from ..corpus import corpus_from_bytes
from .common import OutputNames, Reporter, run_alignment

HEURISTICS = ["intersection", "grow-diag-final", "grow-diag-final-and"]


def demo_files() -> dict:
    base = resources.files("eegiza.demo_data")
    return {name: base / name for name in ("train.en.xz", "train.fr.xz", "test.en", "test.fr", "test.gold")}


def demo_corpus(lowercase: bool = True):
    """The demo training text with the test sentences appended at the end (the benchmark protocol)."""
    files = demo_files()
    src = lzma.decompress(files["train.en.xz"].read_bytes()) + files["test.en"].read_bytes()
    tgt = lzma.decompress(files["train.fr.xz"].read_bytes()) + files["test.fr"].read_bytes()
    return corpus_from_bytes(src, tgt, "demo train.en + test.en", "demo train.fr + test.fr", lowercase=lowercase)


def run_demo(schedule: Optional[str] = None, threads: int = 0, quiet: bool = False, out=None) -> int:
    from ..evaluate import aer, read_gold
    out = out or sys.stdout
    config = AlignerConfig(lowercase=True, threads=threads, **({"schedule": schedule} if schedule else {}))
    reporter = Reporter(quiet=quiet)
    corpus = demo_corpus()
    gold = read_gold(demo_files()["test.gold"])
    print(f"eegiza demo: English-French Hansards, {len(corpus) - len(gold)} training + {len(gold)} test "
          f"sentence pairs, schedule {config.schedule!r}", file=out)
    with tempfile.TemporaryDirectory() as tmp:
        _, alignment = run_alignment(config, OutputNames(str(Path(tmp) / "demo")), HEURISTICS, reporter,
                                     corpus=corpus)
    print(f"{'alignment':22s} {'AER':>6s} {'prec':>6s} {'recall':>6s}", file=out)
    for which in ["fwd", "rev"] + HEURISTICS:
        scores = aer(gold, alignment.links(which))
        print(f"{which:22s} {100 * scores.aer:6.2f} {100 * scores.precision:6.2f} {100 * scores.recall:6.2f}", file=out)
    reporter.summary()
    return 0
