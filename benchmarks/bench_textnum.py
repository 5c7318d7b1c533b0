"""Benchmark eegiza.textnum.number_text: the compiled extension against the pure-Python path.

Reads the English side of the en-fr training text (xz), lower-cases it as the benchmark protocol
says, and numbers the first 100,000 lines and then the whole text with both paths (best of
--repeat runs; the two results are checked to be identical). Peak RSS is the process's high-water
mark during one call (Linux: reset through /proc/self/clear_refs), shown as the growth over the
RSS just before the call (freed memory handed back to the system first) and as the absolute peak,
which includes the input text.

    cd /work/main && PYTHONPATH=/work/main python benchmarks/bench_textnum.py
"""
import argparse
import ctypes
import gc
import lzma
import time

import numpy as np

from eegiza.textnum import number_text

DEFAULT_DATA = "/work/shared/data/en-fr/train.en.xz"


def status_mb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def release_free_memory():
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)  # glibc keeps freed heap memory otherwise
    except (OSError, AttributeError):
        pass


def reset_peak_rss():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass  # not Linux or not allowed: the peak then covers the whole process


def measure(data, use_c, repeat):
    """(best seconds, peak RSS growth MB, absolute peak MB, result)."""
    best, result = float("inf"), None
    for _ in range(repeat):
        result = None
        gc.collect()
        release_free_memory()
        before = status_mb("VmRSS")
        reset_peak_rss()
        start = time.perf_counter()
        result = number_text(data, use_c=use_c)
        best = min(best, time.perf_counter() - start)
        peak = status_mb("VmHWM")
    return best, peak - before, peak, result


def first_lines(data, n):
    end = -1
    for _ in range(n):
        end = data.find(b"\n", end + 1)
        if end < 0:
            return data
    return data[:end + 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=DEFAULT_DATA, help="xz-compressed tokenized text")
    parser.add_argument("--lines", type=int, default=100_000, help="size of the smaller run")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    start = time.perf_counter()
    with lzma.open(args.data) as f:
        whole = f.read().decode("utf-8").lower().encode("utf-8")
    print(f"{args.data}: {len(whole) / 1e6:.1f} MB after decompressing and lower-casing "
          f"({time.perf_counter() - start:.1f} s)")

    header = (f"{'lines':>10} {'tokens':>11} {'types':>8} {'C s':>7} {'Python s':>9} {'speed-up':>8}"
              f" {'peak RSS C MB':>17} {'peak RSS Py MB':>17}")
    print(header)
    print("-" * len(header))
    for data in (first_lines(whole, args.lines), whole):
        t_c, grow_c, peak_c, res_c = measure(data, True, args.repeat)
        t_py, grow_py, peak_py, res_py = measure(data, False, args.repeat)
        assert np.array_equal(res_c.ids, res_py.ids) and np.array_equal(res_c.offsets, res_py.offsets)
        assert res_c.words == res_py.words and np.array_equal(res_c.counts, res_py.counts)
        types = int(np.count_nonzero(res_c.counts))
        print(f"{len(res_c.offsets) - 1:>10,} {len(res_c.ids):>11,} {types:>8,} {t_c:>7.3f} {t_py:>9.3f}"
              f" {t_py / t_c:>7.1f}x {f'+{grow_c:.0f} / {peak_c:.0f}':>17}"
              f" {f'+{grow_py:.0f} / {peak_py:.0f}':>17}")


if __name__ == "__main__":
    main()
