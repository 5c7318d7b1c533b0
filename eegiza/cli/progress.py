"""What the command-line programs tell the user while they work, on stderr.

* One line per step and per EM iteration (model, direction, iteration, perplexity, seconds, and the
  schedule's progress with an estimate of the time left), whatever stderr is: a terminal, a file
  under nohup or cron, a CI log, a notebook. ``--quiet`` turns them off.
* On a terminal (or with ``--progress``), also a status bar at the bottom, redrawn every second:
  iterations done, time in training, time left.
* Warnings (long or empty sentence pairs, ...) are printed even with ``--quiet``.
* At the end, the run's per-phase profile (:mod:`eegiza.phases`) and its total time and peak memory.
* ``compiling kernels (one time, about N s)`` when the compiled Numba kernels are not cached yet
  (:func:`cold_kernel_modules`), so the first run's silent minute is explained.
"""
from __future__ import annotations

import os
import re
import resource
import sys
import threading
import time
from typing import List, Optional

from ..kernel_cache import is_cached, kernel_source_files
from ..phases import PhaseProfile

#: "[fwd] Model1 iteration 3: ..." -- the per-iteration messages of eegiza.train
ITERATION = re.compile(r"^\[(fwd|rev)\] (\S+) iteration \d+")
#: the iteration's own seconds at the end of its progress line
ITERATION_SECONDS = re.compile(r"\((\d+(?:\.\d*)?) s\)$")
#: the relative cost of one iteration of one direction, by the name its progress line gives it (an
#: HMM iteration = 1), and of the final alignment pass after Models 3/4 (both directions): measured
#: per phase through ``eegiza align`` (2026-12-06; ro-en, de-en, en-fr 100k and 1.13M: Model 1
#: 0.39-0.49, Model 3 1.1-1.5, 3->4 1.4-1.5, Model 4 2.5-3.3, that final pass 6.8-9.9). The time
#: left is the time since the first iteration began scaled by the weight left over the weight
#: done: counting every iteration alike (and the tables' set-up with them) said "3 min left" after
#: the HMM on all 1.13M en-fr lines, where 12.5 min were. Iterations trained in lockstep by
#: agreement (Model 1, HMM) end together: the forward line counts both directions' weight.
ITERATION_WEIGHT = {"Model1": 0.4, "Model2": 0.5, "HMM": 1.0, "Model3": 1.3, "T3To4": 1.45, "Model4": 3.0}
FINAL_PASS_WEIGHT = {"34": 8.0, "12H": 1.0}
#: seconds to compile each kernel module (measured on one core: Model 1 + HMM with agreement,
#: clustering and the cognate prior about 26 s, Models 3/4 about 26 s more)
COMPILE_SECONDS = {"hmm": 10, "agreement": 5, "ttable": 3, "clustering": 4, "ibm1": 2, "cognates": 2,
                   "symmetrize": 2, "ibm2": 5, "ibm3": 9, "ibm4": 10, "fertility_estep": 7, "pegging": 5}


def peak_rss_mb() -> float:
    """Peak resident memory of this process, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def kernel_modules() -> List[str]:
    """Source files of eegiza's cached Numba kernels (those with ``cache=True``; read once, with the
    kernel cache's source hash)."""
    return kernel_source_files()


def cold_kernel_modules(modules: Optional[List[str]] = None) -> List[str]:
    """Kernel modules without a cache entry for their current source in eegiza's kernel cache
    (:mod:`eegiza.kernel_cache`): they compile on first use. Empty when the cache lives elsewhere
    (``NUMBA_CACHE_DIR``) and cannot be judged."""
    if os.environ.get("NUMBA_CACHE_DIR") or os.environ.get("NUMBA_DISABLE_JIT"):
        return []
    return [path for path in (kernel_modules() if modules is None else modules) if not is_cached(path)]


def modules_for(config) -> set:
    """Names of the kernel modules a run with this :class:`eegiza.config.AlignerConfig` compiles."""
    from ..schedule import parse_schedule
    models = {name for name, _ in parse_schedule(config.schedule)}
    names = {"ttable", "symmetrize", "ibm1"}
    if "2" in models:
        names.add("ibm2")
    if "H" in models:
        names.add("hmm")
    if models & {"3", "4"}:
        names |= {"fertility_estep", "fertility_search", "ibm3", "ibm4"} | ({"pegging"} if config.pegging else set())
    if config.agreement and models & {"1", "H"}:
        names.add("agreement")
        if models & {"3", "4"}:
            names.add("slot_transpose")   # the reverse direction's Models 3/4 slots (train._train_pair)
    if config.word_classes > 0 and not (config.src_classes and config.tgt_classes):
        names.add("clustering")
    if config.cognate_lambda > 0:
        names.add("cognates")
    order = [name for name, _ in parse_schedule(config.schedule)]
    base = [name for name in order if name in "12H"]
    if order[-1] in "1H" or (config.final_alignment_pass and base and base[-1] in "1H"):
        names.add("slot_transpose")   # the final alignment pass derives the reverse slots (api.align_corpus)
    return names


def remaining_weight(config, done: tuple = (0, 0)) -> float:
    """The work a run of ``config`` has left (:data:`ITERATION_WEIGHT`) when each direction has
    done ``done`` iterations of its schedule: its remaining iterations, both directions, and the
    final alignment pass."""
    from ..models.fertility import ITERATION_NAMES
    from ..schedule import MODEL_NAMES, parse_schedule
    order = "".join(name * n for name, n in parse_schedule(config.schedule))
    names = [ITERATION_NAMES.get((order[k - 1] if k and order[k - 1] in "34" else "3", model), MODEL_NAMES[model])
             if model in "34" else MODEL_NAMES[model]   # Models 3/4 name an iteration by its from and to
             for k, model in enumerate(order)]
    left = sum(sum(ITERATION_WEIGHT.get(name, 1.0) for name in names[d:]) for d in done)
    if order[-1:] in ("3", "4"):   # without the final pass, training's last alignment is the output
        return left + (FINAL_PASS_WEIGHT["34"] if config.final_alignment_pass else 0.0)
    return left + FINAL_PASS_WEIGHT["12H"]   # the Viterbi (or posterior) pass of Model 1, 2 or the HMM


def lockstep_models(config) -> frozenset:
    """The models whose iterations train both directions at once (by agreement), as their progress
    lines name them."""
    return frozenset({"Model1", "HMM"}) if config.agreement else frozenset()


class Reporter:
    """Progress lines, warnings, a live status bar and the closing summary, all on ``stream``
    (stderr). ``quiet``: warnings and errors only; ``force``: the status bar even off a terminal."""

    def __init__(self, quiet: bool = False, force: bool = False, stream=None, prog: str = "eegiza"):
        self.stream = stream or sys.stderr
        self.prog = prog
        self.quiet = quiet
        self.show_progress = not quiet
        isatty = getattr(self.stream, "isatty", None)
        self.live = not quiet and (force or bool(isatty and isatty()))
        self.start = time.perf_counter()
        self.steps: List[tuple] = []
        self.notes: List[str] = []
        self.profile = PhaseProfile()   # seconds and peak memory per phase, printed by summary()
        self._lock = threading.RLock()
        self._bar_shown = False
        self._total = 0
        self._done = 0
        self._weight = self._weight_done = 0.0
        self._lockstep = frozenset()
        self._train_start = self._first_began = None
        self._ticker = None
        self._stop = threading.Event()

    # -- output
    def _write(self, text: str) -> None:
        with self._lock:
            if self._bar_shown:
                self.stream.write("\r\033[K")
                self._bar_shown = False
            self.stream.write(text + "\n")
            self._draw_bar()
            self.stream.flush()

    def progress(self, message: str) -> None:
        """A progress line (and, for an EM iteration, the schedule's progress and time left)."""
        if not self.show_progress:
            return
        with self._lock:
            iteration = ITERATION.match(message)
            if self._total and iteration:
                self._done += 1
                direction, name = iteration.groups()
                weight = ITERATION_WEIGHT.get(name, 1.0)
                if name in self._lockstep:
                    weight = 2.0 * weight if direction == "fwd" else 0.0
                self._weight_done += weight
                own = ITERATION_SECONDS.search(message)
                if self._first_began is None and own is not None:
                    self._first_began = time.perf_counter() - float(own.group(1))
                message += f"  [{min(self._done, self._total)}/{self._total}{self._time_left(', about ', ' left')}]"
            self._write(f"[{time.perf_counter() - self.start:7.1f}s] {message}")

    def warn(self, message: str) -> None:
        """A warning: printed even with ``quiet``."""
        self._write(f"{self.prog}: warning: {message}")

    def step(self, name: str, seconds: float) -> None:
        self.steps.append((name, seconds))
        self.progress(f"{name} done in {seconds:.2f} s")

    def note(self, line: str) -> None:
        """A line for the closing summary."""
        self.notes.append(line)

    def compiling_notice(self, config=None) -> None:
        """``compiling kernels (one time, about N s)`` if the kernels ``config``'s run uses are not
        cached yet (all of eegiza's kernels without a config)."""
        if self.quiet:
            return
        every = kernel_modules()
        needed = every if config is None else [p for p in every if os.path.splitext(os.path.basename(p))[0]
                                               in modules_for(config)]
        cold = cold_kernel_modules(needed)
        if cold:
            seconds = sum(COMPILE_SECONDS.get(os.path.splitext(os.path.basename(p))[0], 3) for p in cold)
            seconds = max(5, int(round(seconds / 5.0)) * 5)
            self._write(f"{self.prog}: compiling kernels (one time, about {seconds} s)")

    # -- the schedule's progress
    def expect_iterations(self, total: int, weight: float = 0.0, lockstep=frozenset()) -> None:
        """Training starts: ``total`` EM iterations (both directions) are expected, and work of
        ``weight`` (:func:`remaining_weight`; 0: every iteration alike) to the end of the final
        alignment; iterations of the models in ``lockstep`` train both directions at once."""
        with self._lock:
            self._total, self._done = total, 0
            self._weight, self._weight_done, self._lockstep = weight, 0.0, frozenset(lockstep)
            self._train_start, self._first_began = time.perf_counter(), None
        if self.live and total and self._ticker is None:
            self._stop.clear()
            self._ticker = threading.Thread(target=self._tick, name="eegiza-progress", daemon=True)
            self._ticker.start()

    def training_done(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2)
            self._ticker = None
        with self._lock:
            self._total = 0
            if self._bar_shown:
                self.stream.write("\r\033[K")
                self.stream.flush()
                self._bar_shown = False

    close = training_done

    def _time_left(self, before: str, after: str) -> str:
        if self._train_start is None or not 0 < self._done < self._total:
            return ""
        now = time.perf_counter()
        if self._weight > 0 and self._weight_done > 0:
            began = self._train_start if self._first_began is None else self._first_began
            left = (now - began) * max(self._weight - self._weight_done, 0.0) / self._weight_done
        else:
            left = (now - self._train_start) / self._done * (self._total - self._done)
        return f"{before}{_duration(left)}{after}"

    def _draw_bar(self) -> None:
        if not (self.live and self._total and self._train_start is not None and not self._stop.is_set()):
            return
        width = 24
        filled = int(width * min(self._done, self._total) / self._total)
        spent = time.perf_counter() - self._train_start
        self.stream.write(f"[{'#' * filled}{'.' * (width - filled)}] {min(self._done, self._total)}/{self._total} "
                          f"EM iterations, {_duration(spent)}{self._time_left(', about ', ' left')}")
        self._bar_shown = True

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            with self._lock:
                try:
                    if self._bar_shown:
                        self.stream.write("\r\033[K")
                        self._bar_shown = False
                    self._draw_bar()
                    self.stream.flush()
                except (OSError, ValueError):
                    return

    # -- the end
    def summary(self, extra: str = "") -> None:
        self.close()
        if self.quiet:
            return
        for line in self.notes:
            self._write(f"{self.prog}: {line}")
        if self.profile.rows():
            self._write(f"{self.prog}: per-phase profile (wall seconds, peak resident memory within the phase):")
            for line in self.profile.table().splitlines():
                self._write(f"{self.prog}:   {line}")
        parts = ", ".join(f"{name} {sec:.1f} s" for name, sec in self.steps)
        self._write(f"{self.prog}: total {time.perf_counter() - self.start:.1f} s ({parts}); peak memory "
                    f"{self.profile.peak_mb():.0f} MB{extra}")   # >= the process's own peak
