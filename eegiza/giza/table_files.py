"""GIZA++'s model tables other than t (spec: shared/GIZA_FORMATS.md §4): a/d tables (`i j l m p`,
`.a2 .a3 .ahmm .d3`), fertility `.n3` rows, `.p0_3`, Model-4 distortion `.D4`/`.d4`, the HMM jump
dump `.hhmm`, the `.perp` perplexity table and `.Decoder.config`. Probabilities print with C++'s
default 6 significant digits and only above `probsmooth`, as GIZA++ does. Conventions as in
:mod:`eegiza.formats.giza`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from ..formats.giza import PROBSMOOTH, GizaFormatError, _float, _int, _numeric_rows, cpp_float, iter_lines, write_text

def read_atable(path) -> tuple[np.ndarray, ...]:
    """Read an a- or d-table: five columns (int, int, int, int, float) as arrays in file order.
    For a-tables the columns are `i j l m value`, for d3 tables `j i l m p`."""
    rows = _numeric_rows(path, 5, "a/d table")
    cols = [np.array([_int(t[k], path, n, "position") for n, t in rows], dtype=np.int64) for k in range(4)]
    val = np.array([_float(t[4], path, n, "value") for n, t in rows], dtype=np.float64)
    return (*cols, val)


def _write_table5(path, c0, c1, l, m, values, sort_keys, probsmooth) -> None:
    c0, c1, l, m = (np.asarray(x, dtype=np.int64) for x in (c0, c1, l, m))
    values = np.asarray(values)
    keep = values > probsmooth
    c0, c1, l, m, values = c0[keep], c1[keep], l[keep], m[keep], values[keep]
    cols = {"c0": c0, "c1": c1, "l": l, "m": m}
    order = np.lexsort(tuple(cols[k] for k in reversed(sort_keys)))
    rows = zip(c0[order].tolist(), c1[order].tolist(), l[order].tolist(), m[order].tolist(), values[order].tolist())
    write_text(path, "".join(f"{a} {b} {c} {d} {cpp_float(v)}\n" for a, b, c, d, v in rows))


def write_atable(path, i, j, l, m, values, probsmooth: float = PROBSMOOTH) -> None:
    """Write an a-table `i j l m value` (values > probsmooth), GIZA's order: l, m, j, i.
    With `compactadtable 1` pass m = 100 (ml-1) for every row, as GIZA prints it."""
    _write_table5(path, i, j, l, m, values, ("l", "m", "c1", "c0"), probsmooth)


def write_d3table(path, j, i, l, m, values, probsmooth: float = PROBSMOOTH) -> None:
    """Write a d3 table `j i l m p` (values > probsmooth), GIZA's order: l, m, i, j.
    With `compactadtable 1` pass l = 100 for every row."""
    _write_table5(path, j, i, l, m, values, ("l", "m", "c1", "c0"), probsmooth)


def read_ntable(path) -> tuple[np.ndarray, np.ndarray]:
    """Read an n-table (`e p0 p1 ... pK-1 `) into (e ids, probs[n, K])."""
    ids, probs, width = [], [], None
    for lineno, line in iter_lines(path):
        toks = line.split()
        if not toks:
            continue
        if width is None:
            width = len(toks)
        if len(toks) != width or width < 2:
            raise GizaFormatError(path, lineno, "n-table rows must all have the same number of fields")
        ids.append(_int(toks[0], path, lineno, "word id"))
        probs.append([_float(t, path, lineno, "probability") for t in toks[1:]])
    return np.array(ids, dtype=np.int64), np.array(probs, dtype=np.float64).reshape(len(ids), -1)


def write_ntable(path, e_ids, probs, probsmooth: float = PROBSMOOTH) -> None:
    """Write an n-table: per word `e p(0) ... p(K-1) ` (every value followed by a space),
    values <= probsmooth printed as 0; rows in the given order (GIZA: ids ascending,
    only words with training frequency > 0)."""
    probs = np.asarray(probs)
    lines = []
    for e, row in zip(np.asarray(e_ids, dtype=np.int64).tolist(), probs.tolist()):
        lines.append(f"{e} " + "".join(("0" if v <= probsmooth else cpp_float(v)) + " " for v in row) + "\n")
    write_text(path, "".join(lines))


def read_p0(path) -> float:
    """Read a `.p0_3.*` file (one number)."""
    for lineno, line in iter_lines(path):
        toks = line.split()
        if toks:
            return _float(toks[0], path, lineno, "p0")
    raise GizaFormatError(path, None, "empty p0 file")


def write_p0(path, p0: float) -> None:
    """Write a `.p0_3.*` file: the number, no newline."""
    write_text(path, cpp_float(p0))


def read_d4(path) -> list[tuple[str, str, int, float]]:
    """Read a `.D4.*` table: (E class, F class, delta, prob); non-head rows have E class `-1`."""
    out = []
    for lineno, toks in _numeric_rows(path, 4, "D4 table"):
        out.append((toks[0], toks[1], _int(toks[2], path, lineno, "delta"), _float(toks[3], path, lineno, "prob")))
    return out


def write_d4(path, rows: Iterable[tuple[object, object, int, float]]) -> None:
    """Write a `.D4.*` table `Eclass Fclass delta prob` in the given order (head rows first,
    then non-head rows with Eclass -1)."""
    write_text(path, "".join(f"{ec} {fc} {int(d)} {cpp_float(p)}\n" for ec, fc, d, p in rows))


def format_d4_text(head_blocks, nonhead_blocks) -> str:
    """Text of a `.d4.*` dump. Each block is (key label, [(delta, count), ...]); the label is
    GIZA's key print, e.g. `F: 37 E: 9 ` (head) or `F: 37 ` (non-head). Blocks whose counts sum
    to 0 and zero counts are omitted, as GIZA does."""
    out = ["# Translation tables for Model 4 .\n", "# Table for head of cept.\n"]
    full = 0.0
    for title, blocks in ((None, head_blocks), ("# Table for non-head of cept.\n", nonhead_blocks)):
        if title:
            out.append(title)
        for label, entries in blocks:
            total = float(sum(c for _, c in entries))
            if total:
                out.append(label + "\n" + f"SUM: {cpp_float(total)} \n")
                out.extend(f"{int(d)} {cpp_float(c)}\n" for d, c in entries if c)
                out.append("\n")
            full += total
    out.append(f"\nFULL-SUM: {cpp_float(full)}\n")
    return "".join(out)


def write_d4_text(path, head_blocks, nonhead_blocks) -> None:
    """Write a `.d4.*` dump (see `format_d4_text`)."""
    write_text(path, format_d4_text(head_blocks, nonhead_blocks))


def read_hhmm(path) -> list[tuple[str, dict[int, float]]]:
    """Read GIZA++'s text `.hhmm.N` (also what eegiza writes): per block `Distribution for:
    previousClass: C  d:count; ...` the class label C and its jump counts {d: count}. MGIZA's
    machine-readable `.hhmm` (`l classPrev prev j ...` lines + `.alpha`/`.beta`) is rejected."""
    out: list[tuple[str, dict[int, float]]] = []
    for lineno, line in iter_lines(path):
        text = line.strip()
        if not text or text.startswith(("SUM:", "FULL-SUM:")):
            continue
        head = "Distribution for: previousClass:"
        if not text.startswith(head):
            raise GizaFormatError(path, lineno, "not a GIZA++/eegiza .hhmm dump ('Distribution for: previousClass: "
                                  "C  d:count; ...'); MGIZA's machine-readable .hhmm (+ .alpha/.beta) is not read")
        toks = text[len(head):].split()
        if not toks:
            raise GizaFormatError(path, lineno, "missing class label")
        jumps: dict[int, float] = {}
        for tok in toks[1:]:
            delta, sep, count = tok.rstrip(";").partition(":")
            if not sep:
                raise GizaFormatError(path, lineno, f"expected 'jump:count;', got {tok!r}")
            jumps[_int(delta, path, lineno, "jump")] = _float(count, path, lineno, "count")
        out.append((toks[0], jumps))
    return out


# ----------------------------------------------------------------------------- .perp
PERP_HEADER = "#trnsz\ttstsz\titer\tmodel\ttrn-pp\t\ttest-pp\t\ttrn-vit-pp\t\ttst-vit-pp\n"


@dataclass
class PerpRow:
    """One `.perp` row; None prints `N/A`."""

    model: str
    trn_pp: float | None
    test_pp: float | None = None
    trn_vit_pp: float | None = None
    tst_vit_pp: float | None = None


def format_perp(rows: Sequence[PerpRow], train_size: int, test_size: int = 0) -> str:
    """`.perp` text exactly as GIZA's generatePerplexityReport (iteration numbers from 0)."""
    out = [PERP_HEADER]
    for it, r in enumerate(rows):
        s = f"{train_size}\t{test_size}\t{it}\t{r.model}\t"
        s += "N/A\t\t" if r.trn_pp is None else cpp_float(r.trn_pp) + "\t\t"
        s += "N/A\t\t" if r.test_pp is None else cpp_float(r.test_pp) + "\t\t"
        s += "N/A\t" if r.trn_vit_pp is None else cpp_float(r.trn_vit_pp) + "\t\t"
        s += "N/A\n" if r.tst_vit_pp is None else cpp_float(r.tst_vit_pp) + "\n"
        out.append(s)
    return "".join(out)


def write_perp(path, rows: Sequence[PerpRow], train_size: int, test_size: int = 0) -> None:
    """Write a `.perp` file."""
    write_text(path, format_perp(rows, train_size, test_size))


def read_perp(path) -> tuple[int, int, list[PerpRow]]:
    """Read a `.perp` file: (train size, test size, rows)."""
    rows: list[PerpRow] = []
    sizes = (0, 0)
    for lineno, line in iter_lines(path):
        if not line or line.startswith("#"):
            continue
        f = [x for x in line.split("\t") if x != ""]
        if len(f) != 8:
            raise GizaFormatError(path, lineno, f"expected 8 fields, got {len(f)}")
        sizes = (_int(f[0], path, lineno, "train size"), _int(f[1], path, lineno, "test size"))
        vals = [None if x == "N/A" else _float(x, path, lineno, "perplexity") for x in f[4:]]
        rows.append(PerpRow(f[3], *vals))
    return sizes[0], sizes[1], rows


# ----------------------------------------------------------------------------- .Decoder.config
_DECODER_HEAD = (
    "# Template for Configuration File for the Rewrite Decoder\n# Syntax:\n"
    "#         <Variable> = <value>\n#         '#' is the comment character\n"
    "#================================================================\n"
    "#================================================================\n"
    "# LANGUAGE MODEL FILE\n# The full path and file name of the language model file:\n"
    "LanguageModelFile =\n"
    "#================================================================\n"
    "#================================================================\n"
    "# TRANSLATION MODEL FILES\n# The directory where the translation model tables as created\n"
    "# by Giza are located:\n#\n"
    "# Notes: - All translation model \"source\" files are assumed to be in\n"
    "#          TM_RawDataDir, the binaries will be put in TM_BinDataDir\n"
    "#\n#        - Attention: RELATIVE PATH NAMES DO NOT WORK!!!\n"
    "#\n#        - Absolute paths (file name starts with /) will override\n"
    "#          the default directory.\n\n"
)
_DECODER_NOTES = (
    "# file names of the TM tables\n# Notes:\n"
    "# 1. TTable and InversTTable are expected to use word IDs not\n"
    "#    strings (Giza produces both, whereby the *.actual.* files\n"
    "#    use strings and are THE WRONG CHOICE.\n"
    "# 2. FZeroWords, on the other hand, is a simple list of strings\n"
    "#    with one word per line. This file is typically edited\n"
    "#    manually. Hoeever, this one listed here is generated by GIZA\n\n"
)


def format_decoder_config(prefix: str, source_vcb: str, target_vcb: str) -> str:
    """`.Decoder.config` text for output prefix `prefix` (always the model-3 file names)."""
    cut = prefix.rfind("/") + 1
    path = prefix[:cut] or "."
    base = prefix[cut:]
    return (
        _DECODER_HEAD
        + f"TM_RawDataDir = {path}\nTM_BinDataDir = {path}\n\n"
        + _DECODER_NOTES
        + f"TTable = {base}.t3.final\nInverseTTable = {base}.ti.final\nNTable = {base}.n3.final\n"
        + f"D3Table = {base}.d3.final\nD4Table = {base}.D4.final\nPZero = {base}.p0_3.final\n"
        + f"Source.vcb = {source_vcb}\nTarget.vcb = {target_vcb}\n"
        + f"Source.classes = {source_vcb}.classes\nTarget.classes = {target_vcb}.classes\n"
        + f"FZeroWords       = {base}.fe0_3.final\n"
    )


def write_decoder_config(prefix: str, source_vcb: str, target_vcb: str, path=None) -> None:
    """Write `<prefix>.Decoder.config` (or `path`)."""
    write_text(path or prefix + ".Decoder.config", format_decoder_config(prefix, source_vcb, target_vcb))


def read_decoder_config(path) -> dict[str, str]:
    """`Variable = value` settings of a `.Decoder.config` (comments skipped)."""
    out = {}
    for _, line in iter_lines(path):
        if line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        out[key.strip()] = value.strip()
    return out
