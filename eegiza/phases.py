"""Per-phase profile of a run: wall seconds and peak memory of each phase (reading, clustering,
Model 1, HMM, Model 3, Model 4, final alignment, symmetrisation, writing, ...).

A :class:`PhaseProfile` is marked at the end of every piece of work with the phase it belongs to;
time since the previous mark, and the peak resident memory since then, go to that phase. Pieces
with the same name add up (seconds) or take the maximum (peak memory), so the EM iterations of a
model form one phase. On Linux the kernel's peak-RSS counter is reset at every mark (writing 5 to
``/proc/self/clear_refs``), so a phase's peak is its own, not the run's so far; elsewhere it is the
process's peak up to the end of the phase. :data:`NO_PROFILE` does nothing, for callers that do not
profile.
"""
from __future__ import annotations

import resource
import time
from typing import Dict, List, Tuple


def _read_peak_mb() -> float:
    """Peak resident memory since the last reset (VmHWM), in MB; the process peak if unknown."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


class PhaseProfile:
    """Seconds and peak memory per named phase, in the order the phases first appear."""

    def __init__(self):
        self.phases: Dict[str, List[float]] = {}   # name -> [seconds, peak MB]
        self._last = time.perf_counter()
        _reset_peak()

    def mark(self, name: str) -> None:
        """The work since the previous mark (or the start) belongs to phase ``name``."""
        now = time.perf_counter()
        peak = _read_peak_mb()
        row = self.phases.setdefault(name, [0.0, 0.0])
        row[0] += now - self._last
        row[1] = max(row[1], peak)
        _reset_peak()
        self._last = time.perf_counter()

    def rows(self) -> List[Tuple[str, float, float]]:
        """(phase, seconds, peak MB) in order of first appearance."""
        return [(name, row[0], row[1]) for name, row in self.phases.items()]

    def peak_mb(self) -> float:
        """The run's peak resident memory: the largest phase peak, or the process's peak if larger
        (the per-phase resets lower what the kernel reports as the process's peak afterwards)."""
        return max([peak for _, _, peak in self.rows()] + [_read_peak_mb(),
                   resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0])

    def table(self) -> str:
        """The profile as an aligned text table with a total line."""
        rows = self.rows()
        total = sum(seconds for _, seconds, _ in rows)
        width = max([len(name) for name, _, _ in rows] + [5])
        lines = [f"{'phase':<{width}}  {'seconds':>8}  {'share':>6}  {'peak MB':>8}"]
        for name, seconds, peak in rows:
            share = 100.0 * seconds / total if total > 0 else 0.0
            lines.append(f"{name:<{width}}  {seconds:8.2f}  {share:5.1f}%  {peak:8.0f}")
        lines.append(f"{'total':<{width}}  {total:8.2f}  {100.0:5.1f}%  "
                     f"{max([peak for _, _, peak in rows] + [0.0]):8.0f}")
        return "\n".join(lines)


class _NoProfile(PhaseProfile):
    """A profile that records nothing (and never touches /proc)."""

    def __init__(self):
        self.phases = {}

    def mark(self, name: str) -> None:
        pass


NO_PROFILE = _NoProfile()
