"""The distributed engine's errors and the install hint, below both the package entry point and
the engine (no import cycle between them)."""
from __future__ import annotations

INSTALL_HINT = 'pip install "eegiza[distributed]"'


class SchedulerLostError(RuntimeError):
    """The Dask scheduler (or the connection to it) went away during training. ``trainings``: the
    directions being trained ({tag: ``_DirectionTraining``}), for :mod:`.checkpoint`."""

    def __init__(self, message: str, trainings=None):
        super().__init__(message)
        self.trainings = dict(trainings or {})


class DistributedUnavailable(ValueError):
    """``--scheduler`` was given but dask.distributed is not installed."""
