"""EM on a Dask cluster (``--scheduler ADDRESS`` / ``AlignerConfig.scheduler``), identical to the local run.

Dask is an optional dependency (``pip install "eegiza[distributed]"``) and is imported only when
a scheduler is configured: :func:`engine_for` is the entry point, :mod:`.engine` the driver
(what runs where, what crosses the wire), :mod:`.tasks` what the workers run. A lost scheduler
raises :class:`SchedulerLostError`, with the training state that :mod:`eegiza.checkpoint` saves
and ``--resume`` continues.
"""
from __future__ import annotations

from .errors import INSTALL_HINT, DistributedUnavailable, SchedulerLostError  # noqa: F401  (the package's errors)


def engine_for(address):
    """The Dask engine of a scheduler address (``local:N`` starts a LocalCluster of N worker
    processes), or None when ``address`` is empty (the local engine)."""
    if not address:
        return None
    try:
        import distributed  # noqa: F401
    except ImportError as err:
        raise DistributedUnavailable(f"--scheduler {address}: dask.distributed is not installed; "
                                     f"install it with: {INSTALL_HINT}") from err
    from .engine import engine_for as _engine_for
    return _engine_for(address)
