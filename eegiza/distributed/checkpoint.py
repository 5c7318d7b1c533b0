"""What is saved when the Dask scheduler is lost during training (issue 17).

The t-tables (and HMM jump tables) are updated on the client after every iteration, so when the
scheduler goes away mid-iteration both directions still hold the model of the last completed
Model-1/HMM iteration. :func:`checkpoint_on_lost_scheduler` saves it as a model file and names
the ``eegiza align ... --continue FILE --schedule REST`` command that continues from it. A
scheduler lost during Models 3/4 (whose directions train one after the other, and whose t-table
the forward direction has already changed) is reported without a checkpoint: run again.
"""
from __future__ import annotations

from typing import Optional

from .errors import SchedulerLostError


def remaining_schedule(schedule: str, log) -> Optional[str]:
    """The items of ``schedule`` not yet done according to one direction's iteration ``log``
    (Model 1 / HMM iterations only), or None when Models 3/4 had started."""
    from ..schedule import MODEL_NAMES, parse_schedule
    done = {}
    names = {v: k for k, v in MODEL_NAMES.items()}
    for entry in log:
        name = names.get(entry.model)
        if name is None or name in "34":
            return None
        done[name] = done.get(name, 0) + 1
    rest = []
    for name, count in parse_schedule(schedule):
        left = count - done.get(name, 0)
        if left > 0:
            rest.append(f"{name}^{left}")
    return " ".join(rest)


def checkpoint_on_lost_scheduler(err: BaseException, config, corpus, path: str) -> None:
    """If ``err`` is a lost scheduler: save the last completed iteration's model of both directions
    to ``path`` when it can be continued, and raise a ValueError saying so (and how to continue);
    otherwise return (the caller re-raises ``err``)."""
    if not isinstance(err, SchedulerLostError):
        return
    fwd, rev = err.trainings.get("fwd"), err.trainings.get("rev")
    rest = None
    if fwd is not None and rev is not None and len(fwd.model.log) == len(rev.model.log) and fwd.model.log:
        rest = remaining_schedule(config.schedule, fwd.model.log)
    if not rest:
        raise ValueError(f"{err}; no checkpoint (nothing completed, or Models 3/4 had started): run again") from err
    from ..api import AlignmentModel
    from ..schedule import MODEL_NAMES
    names = {v: k for k, v in MODEL_NAMES.items()}
    for d in (fwd.model, rev.model):
        d.last_model = d.base_model = names[d.log[-1].model]
    AlignmentModel(config, corpus.src_vocab, corpus.tgt_vocab, fwd.model, rev.model).save(path)
    done = len(fwd.model.log)
    raise ValueError(f"{err}. The model after the last completed iteration ({done} of each direction) is saved "
                     f"in {path}; continue with: eegiza align ... --continue {path} --schedule \"{rest}\" "
                     f"--scheduler ADDRESS") from err
