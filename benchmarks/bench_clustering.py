"""Benchmark of eegiza's word clustering (what mkcls does): time and class-bigram perplexity.

Corpora (lower-cased, see ../shared/data/README.md): the first 100,000 lines of en-fr English and
French, and all of ro-en Romanian and English. For each, 50 classes and 2 runs (Moses' ``mkcls -c50
-n2``): the in-process time of reading + counting + clustering, the wall time of the ``mkcls``
command (a fresh Python process), and the class-bigram perplexity (lower is better; the same number
mkcls prints as ``end-pp``). With ``--mkcls PATH`` the original mkcls binary is run on the same text
and scored the same way.

    PYTHONPATH=. python benchmarks/bench_clustering.py [--data ../shared/data] [--mkcls /tmp/mkcls]
"""
import argparse
import lzma
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from eegiza.cli.mkcls import read_corpus
from eegiza.clustering import bigram_stats, class_bigram_perplexity, exchange_clustering

CORPORA = [("en-fr", "en", 100_000), ("en-fr", "fr", 100_000), ("ro-en", "ro", None), ("ro-en", "en", None)]


def write_text(data_dir, pair, lang, n_lines, path):
    with lzma.open(os.path.join(data_dir, pair, f"train.{lang}.xz"), "rb") as fh:
        lines = fh.read().decode("utf-8").lower().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(lines[:n_lines]) + "\n")


def score_classes_file(stats, words, path):
    index = {w: i for i, w in enumerate(words)}
    classes = np.zeros(len(words), np.int32)
    with open(path, "rb") as fh:
        for line in fh:
            word, label = line.rstrip(b"\n").split(b"\t")
            classes[index[word]] = int(label)
    return class_bigram_perplexity(stats, classes)


def timed_command(cmd, cwd):
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.path.join(here, "..", "..", "shared", "data"))
    parser.add_argument("--mkcls", help="path of the original mkcls binary to compare with")
    parser.add_argument("--classes", type=int, default=50)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=os.path.join(here, "..") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cli = [sys.executable, "-c", "from eegiza.cli.mkcls import mkcls_entry; mkcls_entry()"]
    header = f"{'corpus':<12}{'tokens':>10}{'types':>8}{'read+count s':>13}{'cluster s':>10}{'sweeps':>7}" \
             f"{'ppl':>9}{'CLI wall s':>11}"
    if args.mkcls:
        header += f"{'mkcls wall s':>13}{'mkcls ppl':>10}"
    print(header)
    with tempfile.TemporaryDirectory() as tmp:
        for pair, lang, n_lines in CORPORA:
            text = os.path.join(tmp, f"{pair}.{lang}")
            write_text(args.data, pair, lang, n_lines, text)
            start = time.perf_counter()
            ids, offsets, words = read_corpus(text)
            stats = bigram_stats(ids, offsets, len(words))
            counted = time.perf_counter()
            result = exchange_clustering(stats, args.classes, n_runs=args.runs)
            clustered = time.perf_counter()
            ppl = class_bigram_perplexity(stats, result.classes)
            flags = [f"-c{args.classes}", f"-n{args.runs}", f"-p{text}"]
            cli_wall = timed_command(cli + flags + [f"-V{text}.eegiza", "opt"], tmp)
            assert abs(score_classes_file(stats, words, f"{text}.eegiza") - ppl) < 1e-6 * ppl
            row = f"{pair + '.' + lang:<12}{len(ids):>10}{len(words) - 1:>8}{counted - start:>13.2f}" \
                  f"{clustered - counted:>10.2f}{result.sweeps:>7}{ppl:>9.2f}{cli_wall:>11.2f}"
            if args.mkcls:
                mk_wall = timed_command([args.mkcls] + flags + [f"-V{text}.mkcls", "opt"], tmp)
                row += f"{mk_wall:>13.2f}{score_classes_file(stats, words, f'{text}.mkcls'):>10.2f}"
            print(row, flush=True)


if __name__ == "__main__":
    main()
