"""The shared benchmark protocol of shared/data/README.md, for the scripts in benchmarks/.

``load_protocol``: corpus = first N training lines + the test lines appended, lower-cased; the gold
alignments score the last ``n_test`` output lines. ``mono_halves``: the monolingual texts for
embeddings (item 5: source side of the even-numbered training lines, target side of the odd ones). Also peak memory,
CPU time and a plain table printer. The data folder is ``<repo>/../shared/data`` unless ``--data`` says otherwise.
"""
from __future__ import annotations

import lzma
import resource
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


@dataclass
class Protocol:
    src_lines: List[str]   # first N training lines, then the test lines; lower-cased
    tgt_lines: List[str]
    gold_path: Path
    n_test: int            # the gold sentences are the last n_test lines
    pair: str


def _langs(pair: str) -> Tuple[str, str]:
    src, sep, tgt = pair.partition("-")
    if not (sep and src and tgt):
        raise ValueError(f"pair must look like 'de-en', got {pair!r}")
    return src, tgt


def _read_xz(path: Path, n_lines: Optional[int]) -> List[str]:
    with lzma.open(path, "rt", encoding="utf-8", newline="\n") as handle:
        return [line.rstrip("\n").lower() for line in islice(handle, n_lines)]


def _read_text(path: Path) -> List[str]:
    with open(path, encoding="utf-8", newline="\n") as handle:
        return [line.rstrip("\n").lower() for line in handle]


def _train_sides(pair: str, n_lines: Optional[int], data_dir: Path) -> Tuple[List[str], List[str]]:
    src, tgt = _langs(pair)
    folder = Path(data_dir) / pair
    src_lines = _read_xz(folder / f"train.{src}.xz", n_lines)
    tgt_lines = _read_xz(folder / f"train.{tgt}.xz", n_lines)
    if len(src_lines) != len(tgt_lines):
        raise ValueError(f"{folder}: train.{src}.xz has {len(src_lines)} lines but "
                         f"train.{tgt}.xz has {len(tgt_lines)}")
    if n_lines is not None and len(src_lines) < n_lines:
        raise ValueError(f"{folder}: asked for {n_lines} training lines, only {len(src_lines)} exist")
    return src_lines, tgt_lines


def load_protocol(pair: str, n_lines: Optional[int] = None,
                  data_dir: Path = DEFAULT_DATA_DIR) -> Protocol:
    """Corpus of the protocol for ``pair`` (e.g. ``"de-en"``); ``n_lines=None`` = all training."""
    folder = Path(data_dir) / pair
    src_lines, tgt_lines = _train_sides(pair, n_lines, data_dir)
    test_src = _read_text(folder / "test.src")
    test_tgt = _read_text(folder / "test.tgt")
    if len(test_src) != len(test_tgt):
        raise ValueError(f"{folder}: test.src has {len(test_src)} lines, test.tgt {len(test_tgt)}")
    return Protocol(src_lines + test_src, tgt_lines + test_tgt, folder / "test.gold",
                    len(test_src), pair)


def interleave_halves(src_lines: Sequence[str], tgt_lines: Sequence[str]) -> Tuple[List[str], List[str]]:
    """Item 5 of the protocol on two line-aligned sides: the source side of the lines with an even
    0-based number and the target side of the odd-numbered ones, so that no sentence has its
    translation on the other side while both sides cover the same mix of sources."""
    return list(src_lines[0::2]), list(tgt_lines[1::2])


def mono_halves(pair: str, n_lines: Optional[int] = None,
                data_dir: Path = DEFAULT_DATA_DIR) -> Tuple[List[str], List[str]]:
    """(source monolingual text, target monolingual text), lower-cased, of the first ``n_lines``
    training lines (all if None): :func:`interleave_halves` (protocol item 5)."""
    return interleave_halves(*_train_sides(pair, n_lines, data_dir))


def write_mono_halves(pair: str, out_dir: Path, data_dir: Path = DEFAULT_DATA_DIR,
                      n_lines: Optional[int] = None) -> Tuple[Path, Path]:
    """:func:`mono_halves` of the first ``n_lines`` training lines (all if None) written to
    ``out_dir/PAIR.mono.LANG``, one sentence per line; returns the (source, target) paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = tuple(out_dir / f"{pair}.mono.{lang}" for lang in _langs(pair))
    for path, lines in zip(paths, mono_halves(pair, n_lines, data_dir)):
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths


def _own_peak_kb() -> int:
    """Peak resident memory (kB) of this process's own address space: VmHWM of /proc/self/status.
    Not ru_maxrss: on Linux a process started by fork/vfork + exec inherits its parent's peak in
    ru_maxrss, so a child of a big benchmark driver would report the driver's peak."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux: kilobytes


def peak_rss_mb(include_children: bool = True) -> float:
    """Peak resident memory in MB of this process, plus (if asked) the largest peak of its
    finished child processes (e.g. an aligner binary): an upper bound of the joint peak.
    (A child's ru_maxrss is at least this process's resident size when it was started.)"""
    peak_kb = _own_peak_kb()
    if include_children:
        peak_kb += resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return peak_kb / 1024.0


def cpu_seconds(include_children: bool = True) -> float:
    """User + system CPU time of this process (and of its finished children, if asked): unlike wall
    time, it does not grow when other jobs share the machine."""
    who = [resource.RUSAGE_SELF] + ([resource.RUSAGE_CHILDREN] if include_children else [])
    return sum(resource.getrusage(w).ru_utime + resource.getrusage(w).ru_stime for w in who)


def print_table(rows: Sequence[dict], columns: Sequence[str], float_format: str = "{:.4f}") -> None:
    """Print rows (dicts) as a Markdown table with the given columns; floats formatted."""
    def cell(value):
        if isinstance(value, float):
            return float_format.format(value)
        return "" if value is None else str(value)

    table = [list(columns)] + [[cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(r[k]) for r in table) for k in range(len(columns))]
    lines = ["| " + " | ".join(v.ljust(w) for v, w in zip(r, widths)) + " |" for r in table]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    print("\n".join(lines), flush=True)
