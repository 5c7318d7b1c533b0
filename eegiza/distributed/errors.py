"""The distributed engine's errors and the install hint, below both the package entry point and
the engine (no import cycle between them)."""
from __future__ import annotations

INSTALL_HINT = 'pip install "eegiza[distributed]"'


class SchedulerLostError(RuntimeError):
    """The Dask scheduler (or the connection to it) went away during training. ``state``: set by
    :func:`eegiza.train.train_pair` on the way out, both directions' ``DirectionState`` after their
    last completed iteration (what :mod:`eegiza.checkpoint` saves); None when raised elsewhere."""

    def __init__(self, message: str):
        super().__init__(message)
        self.state = None
        self.checkpoint = None   # the checkpoint file written for it, if any (eegiza.api)


class DistributedUnavailable(ValueError):
    """``--scheduler`` was given but dask.distributed is not installed."""
