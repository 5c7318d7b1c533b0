"""GIZA++/MGIZA corpus-preparation commands: plain2snt, snt2cooc, snt2plain, merge_alignment.py.

Drop-in replacements for the programs of the same name (spec: shared/GIZA_FORMATS.md §1, §6):
same arguments, same output files byte for byte, same messages. Deliberate differences: an input
that cannot be read is an error (GIZA-style `ERROR: ...` on stderr, exit 1, no output file; the
originals warn, exit 0 and write empty files); `-h`/`--help` print a truthful usage on stdout and
`--version` the version, both with exit 0. Each `*_main(argv)` takes the
arguments without the program name and returns the exit code; each `*_entry()` wraps it for a
console script. Text is processed as bytes (tokens split on ASCII whitespace like `istream >>`,
lines on `\\n` like `getline`), so any encoding passes through unchanged.

snt2cooc's co-occurrence set is built by :mod:`eegiza.giza.cooc` (chunked, no Python loop over pairs).
"""
from __future__ import annotations

import os
import re
import sys
from collections import Counter
from typing import BinaryIO, Sequence

from eegiza.formats.giza import GizaFormatError, atomic_open, cpp_float, iter_lines
from eegiza.giza.cooc import cooc_tables, format_cooc_table
from eegiza.giza.corpus_files import read_snt_arrays
from eegiza.giza.params import convert_value

from .signals import run_interruptible

#: snt2cooc -counts flushes its table once it holds more than this many distinct pairs.
COUNTS_FLUSH_LIMIT = 10_000_000


def _err(msg: str) -> None:
    sys.stderr.write(msg)
    sys.stderr.flush()


def version_text(prog: str) -> str:
    from eegiza import __version__
    return f"{prog} (eegiza {__version__}, GIZA++/MGIZA compatible)\n"


def help_or_version(argv: Sequence[str], usage: str, prog: str):
    """Exit status 0 after printing ``usage`` (``-h``/``--help``) or the version (``--version``) on
    stdout when asked for; None otherwise."""
    if any(a in ("-h", "--help") for a in argv):
        sys.stdout.write(usage)
        sys.stdout.flush()
        return 0
    if "--version" in argv:
        sys.stdout.write(version_text(prog))
        sys.stdout.flush()
        return 0
    return None


def _unreadable(paths: Sequence[str]) -> list:
    """The paths among ``paths`` that cannot be opened for reading."""
    bad = []
    for path in paths:
        try:
            with open(path, "rb"):
                pass
        except OSError:
            bad.append(path)
    return bad


# ----------------------------------------------------------------------------- plain2snt
def _strip_suffix(w1: str, w2: str) -> tuple[str, str, bool]:
    for suffix in (".tok", ".txt"):
        if len(w1) > 4 and len(w2) > 4 and w1.endswith(suffix) and w2.endswith(suffix):
            return w1[:-4], w2[:-4], True
    return w1, w2, False


def _basename(path: str) -> str:
    cut = path.rfind("/") + 1
    return path[cut:] if cut < len(path) else path


class _Vocabulary:
    """First-seen ids from 2 and raw counts, as plain2snt keeps them."""

    def __init__(self):
        self.ids: dict[bytes, bytes] = {}  # token -> b"<id> "
        self.words: list[bytes] = []
        self.counts: Counter = Counter()

    def encode(self, tokens: list[bytes]) -> bytes:
        """The snt line (`id ` per token) of a tokenised line; new tokens get the next ids."""
        self.counts.update(tokens)
        ids = self.ids
        try:
            return b"".join([ids[t] for t in tokens])
        except KeyError:
            for t in tokens:
                if t not in ids:
                    ids[t] = b"%d " % (len(self.words) + 2)
                    self.words.append(t)
            return b"".join([ids[t] for t in tokens])

    def vcb_bytes(self) -> bytes:
        return b"".join(b"%d %s %d\n" % (k + 2, w, self.counts[w]) for k, w in enumerate(self.words))


def _plain2snt_usage(prog: str) -> str:
    return (f"{prog} txt1 txt2 [txt3 txt4 -weight w -vcb1 output1.vcb -vcb2 output2.vcb "
            "-snt1 output1_output2.snt -snt2 output2_output1.snt]\n"
            " Converts plain text into GIZA++ snt-format.\n")


def plain2snt_main(argv: Sequence[str], prog: str = "plain2snt") -> int:
    """`plain2snt[.out] txt1 txt2 [txt3 txt4 ...] [-weight w]... [-vcb1 F -vcb2 F -snt1 F -snt2 F]`.

    Writes `w1.vcb`, `w2.vcb`, `w1_<base w2>.snt`, `w2_<base w1>.snt` (w = file name without a
    common `.tok`/`.txt` suffix) unless -vcb1/-vcb2/-snt1/-snt2 name them; ids from 2 in order of
    first appearance; pairs with an empty side are dropped with GIZA's warning. An input that
    cannot be read is an error (exit 1, nothing written; plain2snt warns and writes empty files)."""
    asked = help_or_version(argv, _plain2snt_usage(prog), prog)
    if asked is not None:
        return asked
    weights: list[float] = []
    names: dict[str, str] = {"-snt1": "", "-snt2": "", "-vcb1": "", "-vcb2": ""}
    files: list[str] = []
    k = 0
    argv = list(argv)
    while k < len(argv):
        a = argv[k]
        if a == "-weight" or a in names:
            if k + 1 >= len(argv):
                _err(f"{prog}: option {a} needs a value\n")
                return 1
            if a == "-weight":
                weights.append(convert_value("double", argv[k + 1]))
            else:
                names[a] = argv[k + 1]
            k += 2
        else:
            files.append(a)
            k += 1
    if not files or len(files) % 2:
        _err(_plain2snt_usage(prog))
        return 1
    missing = _unreadable(files)
    if missing:
        _err("".join(f"ERROR: {f} cannot be read.\n" for f in missing))
        return 1
    w1, w2, stripped = _strip_suffix(files[0], files[1])
    if stripped:
        _err(f"w1:{w1} w2:{w2}\n")
    b1, b2 = _basename(w1), _basename(w2)
    sys.stdout.write(f"{w1} -> {b1}\n{w2} -> {b2}\n")
    sys.stdout.flush()
    snt1 = names["-snt1"] or f"{w1}_{b2}.snt"
    snt2 = names["-snt2"] or f"{w2}_{b1}.snt"
    vcb1 = names["-vcb1"] or w1 + ".vcb"
    vcb2 = names["-vcb2"] or w2 + ".vcb"

    voc1, voc2 = _Vocabulary(), _Vocabulary()
    dropped = 0
    with atomic_open(snt1, "wb") as o1, atomic_open(snt2, "wb") as o2:
        for p in range(0, len(files), 2):
            f1, f2 = files[p], files[p + 1]
            weight = (cpp_float(weights[p // 2]) if p // 2 < len(weights) else "1").encode() + b"\n"
            handles = []
            for f in (f1, f2):
                try:
                    handles.append(open(f, "rb"))
                except OSError:
                    _err(f"WARNING: {f} cannot be read.\n")
                    handles.append(None)
            if None in handles:
                for h in handles:
                    if h is not None:
                        h.close()
                continue
            with handles[0] as i1, handles[1] as i2:
                for line1, line2 in zip(i1, i2):
                    t1, t2 = line1.split(), line2.split()
                    ids1, ids2 = voc1.encode(t1), voc2.encode(t2)
                    if t1 and t2:
                        o1.write(weight + ids1 + b"\n" + ids2 + b"\n")
                        o2.write(weight + ids2 + b"\n" + ids1 + b"\n")
                    else:
                        dropped += 1
                        _err(f"WARNING: filtered out empty sentence (source: {f1} {len(t1)} "
                             f"target: {f2} {len(t2)}).\n")
        with atomic_open(vcb1, "wb") as v1:
            v1.write(voc1.vcb_bytes())
        with atomic_open(vcb2, "wb") as v2:
            v2.write(voc2.vcb_bytes())
    if dropped:
        _err(f"{prog}: {dropped} sentence pair(s) with an empty side were dropped; "
             "GIZA sentence numbers no longer equal line numbers.\n")
    return 0


def plain2snt_entry() -> None:
    """Console script `plain2snt` / `plain2snt.out`."""
    sys.exit(run_interruptible(os.path.basename(sys.argv[0]), plain2snt_main, sys.argv[1:], os.path.basename(sys.argv[0])))


def _snt2cooc_usage(prog: str, output_first: bool) -> str:
    args = "output vcb1 vcb2 snt12" if output_first else "vcb1 vcb2 snt12"
    where = "to the file output" if output_first else "to standard output"
    return (f"Usage: {prog} {args} [-counts]\n"
            f"Writes the co-occurrence file of a GIZA++ snt corpus {where}: one 'source_id target_id' line per\n"
            "pair of words that occur in one sentence pair (source id 0 = NULL), sorted; with -counts\n"
            "'count source_id target_id' lines. GIZA++ reads it with -CoocurrenceFile.\n")


def _check_snt2cooc_inputs(vcb1: str, vcb2: str, snt_path: str) -> bool:
    """Every input readable; otherwise GIZA-like errors on stderr and False."""
    ok = True
    for path in (vcb1, vcb2):
        if _unreadable([path]):
            _err(f"ERROR: Vocabulary {path} does not exist.\n")
            ok = False
    if _unreadable([snt_path]):
        _err(f"ERROR: file {snt_path} cannot be read.\n")
        ok = False
    return ok


def _snt2cooc(out: BinaryIO, vcb1: str, vcb2: str, snt_path: str, with_counts: bool) -> int:
    try:
        snt = read_snt_arrays(snt_path)
    except GizaFormatError as exc:
        _err(f"ERROR: {exc}\n")
        return 1
    _err("".join(f"line {k}\n" for k in range(1000, len(snt) + 1, 1000)))
    for e, f, c, flushed in cooc_tables(snt, with_counts, COUNTS_FLUSH_LIMIT if with_counts else 0):
        _err(f"INFO: print out {e.size} entries.\n" if flushed else "END.\n")
        for data in format_cooc_table(e, f, c):
            out.write(data)
    return 0


class _Failed(Exception):
    """Unwinds an atomic output whose content failed (so the file is not created)."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


def _counts_flag(args: list[str], n_fixed: int) -> bool:
    if len(args) == n_fixed + 1:
        if args[-1] != "-counts":
            _err(f"ERROR: wrong option {args[-1]}\n")
        return True
    return False


def snt2cooc_out_main(argv: Sequence[str], prog: str = "snt2cooc.out") -> int:
    """GIZA++ `snt2cooc.out vcb1 vcb2 snt12 [-counts] > out.cooc` (output on stdout)."""
    args = list(argv)
    asked = help_or_version(args, _snt2cooc_usage(prog, False), prog)
    if asked is not None:
        return asked
    if len(args) not in (3, 4):
        _err(_snt2cooc_usage(prog, False))
        return 1
    counts = _counts_flag(args, 3)
    if not _check_snt2cooc_inputs(args[0], args[1], args[2]):
        return 1
    sys.stdout.flush()
    rc = _snt2cooc(sys.stdout.buffer, args[0], args[1], args[2], counts)
    sys.stdout.buffer.flush()
    return rc


def snt2cooc_main(argv: Sequence[str], prog: str = "snt2cooc") -> int:
    """MGIZA `snt2cooc out.cooc vcb1 vcb2 snt12 [-counts]` (output file first)."""
    args = list(argv)
    asked = help_or_version(args, _snt2cooc_usage(prog, True), prog)
    if asked is not None:
        return asked
    if len(args) not in (4, 5):
        _err(_snt2cooc_usage(prog, True))
        return 1
    counts = _counts_flag(args, 4)
    if not _check_snt2cooc_inputs(args[1], args[2], args[3]):
        return 1
    try:
        with atomic_open(args[0], "wb") as out:
            rc = _snt2cooc(out, args[1], args[2], args[3], counts)
            if rc:
                raise _Failed(rc)     # leaves no output file behind
    except _Failed as failed:
        return failed.status
    return rc


def snt2cooc_out_entry() -> None:
    """Console script `snt2cooc.out`."""
    sys.exit(run_interruptible(os.path.basename(sys.argv[0]), snt2cooc_out_main, sys.argv[1:], os.path.basename(sys.argv[0])))


def snt2cooc_entry() -> None:
    """Console script `snt2cooc`."""
    sys.exit(run_interruptible(os.path.basename(sys.argv[0]), snt2cooc_main, sys.argv[1:], os.path.basename(sys.argv[0])))


# ----------------------------------------------------------------------------- snt2plain
def _read_voc_strings(path: str) -> dict[bytes, bytes]:
    """snt2plain's readVoc: id string -> word, `1` preset to UNK (first two tokens per line)."""
    voc = {b"1": b"UNK"}
    try:
        fh = open(path, "rb")
    except OSError:
        _err("Vocabulary does not exist.\n")
        return voc
    s1 = s2 = b""
    with fh:
        for raw in fh:
            line = raw[:-1] if raw.endswith(b"\n") else raw
            toks = line.split()
            if toks:
                s1 = toks[0]
            if len(toks) > 1:
                s2 = toks[1]
            else:
                _err("ERROR in vocabulary '" + line.decode("utf-8", "surrogateescape") + "'\n")
            voc[s1] = s2
    return voc


def snt2plain_main(argv: Sequence[str], prog: str = "snt2plain") -> int:
    """`snt2plain vcb1 vcb2 snt12 output_prefix [-counts]` -> `output_prefix1.txt`,
    `output_prefix2.txt` (each token followed by a space). Reproduces the original exactly,
    including its bug of printing an unknown target id followed by an empty word."""
    args = list(argv)
    usage = (f"Usage: {prog} vcb1 vcb2 snt12 output_prefix [ -counts ]\n"
             "Converts GIZA++ snt-format into plain text.\n")
    asked = help_or_version(args, usage, prog)
    if asked is not None:
        return asked
    if len(args) not in (4, 5):
        _err(usage)
        return 1
    counts = _counts_flag(args, 4)
    if not _check_snt2cooc_inputs(args[0], args[1], args[2]):
        return 1
    voc1 = _read_voc_strings(args[0])
    voc2 = _read_voc_strings(args[1])
    printed = 0
    count_lines = []
    try:
        lines = [line for _, line in iter_lines(args[2])]
    except OSError:
        lines = []
    with atomic_open(args[3] + "1.txt", "wb") as out1, atomic_open(args[3] + "2.txt", "wb") as out2:
        for k in range(0, len(lines) - 2, 3):
            enc = [x.encode("utf-8", "surrogateescape") for x in lines[k:k + 3]]
            if counts:
                tok = enc[0].split()
                count_lines.append(cpp_float(convert_value("double", tok[0].decode() if tok else "")) + "\n")
            parts = []
            for tok in enc[1].split():
                if tok in voc1:
                    parts.append(voc1[tok] + b" ")
                else:
                    if printed == 0:
                        _err(f"ERROR: source vocabulary entry {tok.decode('utf-8', 'surrogateescape')} unknown.\n")
                    printed += 1
                    parts.append(tok + b" ")
            out1.write(b"".join(parts) + b"\n")
            parts = []
            for tok in enc[2].split():
                if tok not in voc2:
                    if printed == 0:
                        _err(f"ERROR: target vocabulary entry {tok.decode('utf-8', 'surrogateescape')} unknown.\n")
                    printed += 1
                    parts.append(tok + b" ")
                parts.append(voc2.setdefault(tok, b"") + b" ")
            out2.write(b"".join(parts) + b"\n")
    if count_lines:
        sys.stdout.write("".join(count_lines))
        sys.stdout.flush()
    return 0


def snt2plain_entry() -> None:
    """Console script `snt2plain` / `snt2plain.out`."""
    sys.exit(run_interruptible(os.path.basename(sys.argv[0]), snt2plain_main, sys.argv[1:], os.path.basename(sys.argv[0])))


# ----------------------------------------------------------------------------- merge_alignment.py
_ID = re.compile(rb"\((\d+)\)")


def _read_block(fh, path: str) -> tuple[int, bytes] | None:
    lines = [fh.readline() for _ in range(3)]
    if any(len(x) == 0 for x in lines):
        return None
    m = _ID.search(lines[0])
    if not m:
        raise GizaFormatError(path, None, f"alignment header without a sentence number: {lines[0]!r}")
    return int(m.group(1)), b"".join(lines)


def merge_alignment_main(argv: Sequence[str], out: BinaryIO | None = None) -> int:
    """MGIZA `merge_alignment.py f1 f2 ...`: merge per-thread alignment part files into one, in
    sentence-number order 1, 2, 3, ... on stdout. A gap gives `ERROR! MISSING ENTRy n` (exit 1),
    a repeated number `ERROR! DUPLICATED ENTRY n` (exit 1; the original exits 0); ends with
    `Combined K files, totally M sents` on stderr."""
    paths = list(argv)
    usage = ("Usage: merge_alignment.py part1 part2 ... > merged\n"
             "Merges MGIZA's per-thread alignment files (PREFIX.A3.final.partNNN) into one, in sentence\n"
             "order, on standard output.\n")
    asked = help_or_version(paths, usage, "merge_alignment.py")
    if asked is not None:
        return asked
    if not paths:
        _err("Provide me the file names (at least 2)\n")
        return 1
    missing = _unreadable(paths)
    if missing:
        _err("".join(f"ERROR: {p} cannot be read.\n" for p in missing))
        return 1
    if out is None:
        sys.stdout.flush()
        out = sys.stdout.buffer
    handles = []
    try:
        for p in paths:
            handles.append(open(p, "rb"))
        heads = [_read_block(h, p) for h, p in zip(handles, paths)]
        sent_id = 0
        while True:
            sent_id += 1
            pending = False
            written = False
            for k, head in enumerate(heads):
                if head is None:
                    continue
                pending = True
                if head[0] == sent_id:
                    out.write(head[1])
                    written = True
                    heads[k] = _read_block(handles[k], paths[k])
                    break
                if head[0] < sent_id:
                    out.flush()
                    _err(f"ERROR! DUPLICATED ENTRY {head[0]}\n")
                    return 1
            if not pending:
                break
            if not written:
                out.flush()
                _err(f"ERROR! MISSING ENTRy {sent_id}\n")
                return 1
    except (OSError, GizaFormatError) as exc:
        out.flush()
        _err(f"ERROR: {exc}\n")
        return 1
    finally:
        for h in handles:
            h.close()
    out.flush()
    _err(f"Combined {len(paths)} files, totally {sent_id - 1} sents \n")
    return 0


def merge_alignment_entry() -> None:
    """Console script `merge_alignment.py`."""
    sys.exit(run_interruptible("merge_alignment.py", merge_alignment_main, sys.argv[1:]))
