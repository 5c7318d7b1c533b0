"""``mkcls``: drop-in replacement for Och's mkcls word clustering (GIZA++ / MGIZA++ / Moses).

``mkcls [-cN] [-nN] [-pCORPUS] [-VOUT] [-mN] [-rSEED] [-vN] ... [opt|meta-opt|izr-opt]``, options glued
to their values as in mkcls. Reads CORPUS (one sentence per line, whitespace-separated tokens, any
bytes), clusters the words with :func:`eegiza.clustering.exchange_clustering` and writes
``OUT`` (``word<TAB>class`` sorted by word bytes, one line per word type) and ``OUT.cats``. Without
``-V`` the classes are printed to stdout. Class labels follow mkcls: 0 is the sentence boundary,
real classes are 2..N+1.

Differences from mkcls: the optimiser is the exchange algorithm, not threshold accepting; words rarer
than ``-m`` are each put into their best class instead of all into class 1. mkcls options that select
its optimiser or criterion (``-a -e -h -i -k -l -M -N -o -O -s -w -y``) and the mode word are
accepted and ignored with a warning; ``-P`` (bigram-count input) is refused. Bad usage exits with
code 1, like mkcls; ``-h``/``--help`` print the usage and ``--version`` the version (exit 0).
"""
from __future__ import annotations

import sys
import time

import numpy as np

from ..clustering import bigram_stats, class_bigram_perplexity, exchange_clustering, write_cats_file, \
    write_classes_file

USAGE = """usage: mkcls [-cN] [-nN] [-pCORPUS] [-VOUT] [-mN] [-rSEED] [-vN] [opt|meta-opt|izr-opt]
  -c number of classes (default 100)      -n number of optimisation runs (default 1)
  -p training corpus (default 'train')    -V output classes file (also writes OUT.cats)
  -m minimum word frequency               -r random seed (default 0)
  -v verbosity
"""
MODES = ("opt", "meta-opt", "izr-opt")
INT_OPTIONS = {"c": "classes", "n": "runs", "m": "min_count", "r": "seed", "v": "verbose"}
IGNORED = set("aehiklMNoOswy")  # mkcls options for its own optimiser, criterion and outputs


class UsageError(ValueError):
    """A bad mkcls command line."""


def parse_args(argv):
    """mkcls's command line -> (options dict, warnings); raises :class:`UsageError`."""
    opts = {"classes": 100, "runs": 1, "min_count": 0, "seed": 0, "verbose": 0,
            "corpus": "train", "output": None}
    warnings = []
    argv = list(argv)
    k = 0
    while k < len(argv) and argv[k].startswith("-") and len(argv[k]) > 1:
        arg = argv[k]
        letter, value = arg[1], arg[2:]
        if letter in INT_OPTIONS:
            try:
                opts[INT_OPTIONS[letter]] = int(value)
            except ValueError:
                raise UsageError(f"option -{letter} needs an integer glued to it, got {arg!r}") from None
        elif letter == "p":
            opts["corpus"] = value
        elif letter == "V":
            opts["output"] = value or None
        elif letter == "P":
            raise UsageError("-P (a file of bigram counts instead of text) is not supported; use -p")
        elif letter in IGNORED:
            warnings.append(f"mkcls: warning: option {arg} is ignored (eegiza uses the exchange algorithm)")
            if letter == "e" or (letter == "i" and value.lower() == "other"):
                k += 1  # -eN VALUE and -iother FILE take the next argument too
        else:
            raise UsageError(f"unknown option {arg!r}")
        k += 1
    rest = argv[k:]
    if rest and rest[0].lower() not in MODES:
        warnings.append(f"mkcls: warning: unknown mode {rest[0]!r}, running 'opt'")
    if len(rest) > 1 and rest[0].lower() != "meta-opt":
        warnings.append(f"mkcls: warning: extra arguments ignored: {' '.join(rest[1:])}")
    if opts["classes"] < 2:
        raise UsageError(f"-c must be at least 2, got {opts['classes']}")
    if opts["runs"] < 1:
        raise UsageError(f"-n must be at least 1, got {opts['runs']}")
    return opts, warnings


def read_corpus(path):
    """Number the whitespace tokens of a text file: (ids, offsets, words) with words[0] = b''."""
    with open(path, "rb") as fh:
        data = fh.read()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    index = {}
    ids = []
    offsets = np.zeros(len(lines) + 1, np.int64)
    for k, line in enumerate(lines):
        for token in line.split():
            wid = index.get(token)
            if wid is None:
                wid = index[token] = len(index) + 1
            ids.append(wid)
        offsets[k + 1] = len(ids)
    words = [b""] + list(index)
    return np.asarray(ids, np.int32), offsets, words


def mkcls_main(argv) -> int:
    from .giza_tools import help_or_version
    asked = help_or_version(list(argv), USAGE.replace("usage:", "Usage:", 1)
                            + "Clusters the words of CORPUS into N classes (eegiza's exchange algorithm).\n",
                            "mkcls")
    if asked is not None:
        return asked
    try:
        opts, warnings = parse_args(argv)
    except UsageError as err:
        print(f"mkcls: error: {err}\n{USAGE}", file=sys.stderr)
        return 1
    for warning in warnings:
        print(warning, file=sys.stderr)
    start = time.perf_counter()
    try:
        ids, offsets, words = read_corpus(opts["corpus"])
    except OSError as err:
        print(f"mkcls: error: can not read the corpus '{opts['corpus']}': {err.strerror}", file=sys.stderr)
        return 1
    stats = bigram_stats(ids, offsets, len(words))
    n_classes = opts["classes"]
    result = exchange_clustering(stats, n_classes, seed=opts["seed"], n_runs=opts["runs"],
                                 min_count=max(opts["min_count"], 1))
    labels = result.classes[1:] + 1  # mkcls numbering: 0 = boundary, 1 = rare words, 2..N+1
    if opts["output"] is None:
        write_classes_file(sys.stdout.buffer, words[1:], labels)
    else:
        write_classes_file(opts["output"], words[1:], labels)
        write_cats_file(opts["output"] + ".cats", words[1:], labels, n_classes, result)
    if opts["verbose"]:
        print(f"mkcls: {len(ids)} tokens, {len(words) - 1} words, {n_classes} classes, {opts['runs']} runs, "
              f"{result.sweeps} sweeps, class-bigram perplexity "
              f"{class_bigram_perplexity(stats, result.classes):.3f}, {time.perf_counter() - start:.2f} s",
              file=sys.stderr)
    return 0


def mkcls_entry():
    from .signals import run_interruptible
    sys.exit(run_interruptible("mkcls", mkcls_main, sys.argv[1:]))
