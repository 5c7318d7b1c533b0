"""Training checkpoints: where both directions' training stands, saved when the Dask scheduler is
lost (issue 17) and resumed by ``eegiza align --resume CHECKPOINT`` /
``Aligner.train_corpus(corpus, resume=CHECKPOINT)`` to the uninterrupted run's result, bit for bit.

A checkpoint holds, per direction, the :class:`eegiza.train.DirectionState` after its last
completed iteration: the number of iterations of the schedule done and every table as that
iteration left it (t-table, HMM jump tables, Model-2 a-table; during Models 3/4 the fertility, p0,
distortion and Model-4 tables, the start alignment they climb from, the last iteration's alignment
and, once a direction has finished, its training-corpus alignment). With agreement, Model 1 and
the HMM train both directions in lockstep, then Models 3/4 train the forward direction and then
the reverse one, so a checkpoint may hold e.g. the forward direction finished and the reverse one
after its second Model-3 iteration.

It also records what it may only be resumed with: the eegiza version that wrote it and a hash of
its kernel sources (:func:`eegiza.kernel_cache.kernel_sources_hash`; the arithmetic must be the
same), the configuration (only :data:`RUN_FIELDS` may change: the scheduler, the threads, the
memory cap) and the training corpus (its number of sentence pairs and a SHA-256 of its words and
sentences, so a different text is refused). Files are written atomically (complete or not at
all): a ``.npz`` of the direction arrays (:mod:`eegiza.direction_file`) plus JSON metadata.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from typing import Optional

import numpy as np

from .config import AlignerConfig
from .direction_file import direction_arrays, direction_from_arrays, direction_meta, open_npz
from .formats.atomic import atomic_open
from .kernel_cache import kernel_sources_hash
from .train import DirectionState, schedule_length
from .version import __version__

FORMAT = "eegiza-checkpoint"
FORMAT_VERSION = 1
#: configuration fields a resumed run may change (they do not change any result)
RUN_FIELDS = ("scheduler", "threads", "max_memory")
_EXTRA = ("start", "found_positions", "found_scores", "output_positions", "output_scores")


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, or not resumed with this corpus, configuration or version."""


def corpus_fingerprint(corpus) -> tuple:
    """(sentence pairs, SHA-256 hex digest of both sides' words and sentences) of a numbered corpus."""
    digest = hashlib.sha256()
    for vocab in (corpus.src_vocab, corpus.tgt_vocab):
        digest.update("\n".join(vocab.words).encode("utf-8"))
        digest.update(b"\0")
    for side in (corpus.src, corpus.tgt):
        for array in (side.ids, side.offsets):
            array = np.ascontiguousarray(array)
            digest.update(str(array.dtype).encode() + b"%d" % len(array))
            digest.update(memoryview(array).cast("B"))
    return len(corpus), digest.hexdigest()


@dataclass
class Checkpoint:
    """Both directions' training state, and what it may be resumed with (module docstring)."""

    config: AlignerConfig
    pairs: int
    corpus_hash: str
    fwd: DirectionState
    rev: DirectionState
    eegiza_version: str = __version__
    path: str = "checkpoint"   # the file it was read from (named in errors)
    kernels: str = field(default_factory=kernel_sources_hash)   # the kernel sources (a development install's edits)

    @classmethod
    def of_state(cls, config: AlignerConfig, corpus, state: tuple) -> "Checkpoint":
        """The checkpoint of (forward, reverse) states of a training of ``corpus``."""
        return cls(config, *corpus_fingerprint(corpus), *state)

    @classmethod
    def of_model(cls, model, corpus) -> "Checkpoint":
        """The checkpoint of a finished training (an :class:`eegiza.api.AlignmentModel` trained on
        ``corpus``): resuming it only aligns."""
        total = schedule_length(model.config.schedule)
        return cls.of_state(model.config, corpus, (DirectionState(total, model.fwd), DirectionState(total, model.rev)))

    @property
    def any_done(self) -> bool:
        return self.fwd.done > 0 or self.rev.done > 0

    def progress(self) -> str:
        return progress_text(self.states(), self.config.schedule)

    def states(self) -> tuple:
        return self.fwd, self.rev

    # ------------------------------------------------------------------ checks
    def check(self, corpus, config: AlignerConfig, source: str = "the corpus") -> None:
        """Raise :class:`CheckpointError` (naming the checkpoint file and ``source``) unless this
        checkpoint continues a training of ``corpus`` with ``config`` by this eegiza version."""
        path = self.path
        kernels = kernel_sources_hash()
        if self.eegiza_version != __version__ or self.kernels != kernels:
            mine, theirs = (f" (kernel sources {self.kernels[:12]})", f" (kernel sources {kernels[:12]})") \
                if self.eegiza_version == __version__ else ("", "")
            raise CheckpointError(f"{path}: written by eegiza {self.eegiza_version}{mine}; this is eegiza "
                                  f"{__version__}{theirs}, and a checkpoint is resumed only by the version that wrote "
                                  "it (the results would differ): run again, or resume with that version")
        changed = [f.name for f in fields(AlignerConfig)
                   if f.name not in RUN_FIELDS and getattr(self.config, f.name) != getattr(config, f.name)]
        if changed:
            detail = ", ".join(f"{name} {getattr(self.config, name)!r} -> {getattr(config, name)!r}"
                               for name in changed)
            raise CheckpointError(f"{path}: the configuration differs from the checkpoint's ({detail}); a resumed "
                                  f"run may only change {', '.join(RUN_FIELDS)}: leave the other options out "
                                  "(the checkpoint's are used)")
        if getattr(self, "_verified", None) is corpus:
            return
        pairs, digest = corpus_fingerprint(corpus)
        if (pairs, digest) != (self.pairs, self.corpus_hash):
            raise CheckpointError(f"{path}: written for a training corpus of {self.pairs} sentence pairs (sha256 "
                                  f"{self.corpus_hash[:16]}), but {source} gives {pairs} (sha256 {digest[:16]}): "
                                  "resume with the input it was written for")
        self._verified = corpus

    # ------------------------------------------------------------------ file
    def save(self, path) -> None:
        """Write the checkpoint to ``path`` atomically (``.npz``)."""
        meta = {"format": FORMAT, "version": FORMAT_VERSION, "eegiza_version": self.eegiza_version,
                "kernel_sources": self.kernels,
                "config": asdict(self.config), "corpus": {"pairs": self.pairs, "sha256": self.corpus_hash}}
        arrays = {}
        for tag, state in (("fwd", self.fwd), ("rev", self.rev)):
            meta[tag] = {"done": state.done, "model": None if state.model is None else direction_meta(state.model)}
            if state.model is None:
                continue
            arrays.update({f"{tag}_{key}": value for key, value in direction_arrays(state.model).items()})
            found = state.model.found or (None, None)
            output = state.model.fertility.output if state.model.fertility is not None else None
            for key, value in zip(_EXTRA, (state.start, *found, *(output or (None, None)))):
                if value is not None:
                    arrays[f"{tag}_resume_{key}"] = value
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
        with atomic_open(path, "wb") as fh:
            np.savez_compressed(fh, **arrays)

    @classmethod
    def load(cls, path) -> "Checkpoint":
        """Read a checkpoint written by :meth:`save`; :class:`CheckpointError` naming ``path`` if it
        is missing, not a checkpoint, or of another format version."""
        with open_npz(path, CheckpointError, "checkpoint file", "checkpoint") as data:
            try:
                meta = json.loads(bytes(data["meta"]).decode()) if "meta" in data.files else None
            except (ValueError, UnicodeDecodeError):
                meta = None
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                hint = " (a saved model: continue it with --continue)" if isinstance(meta, dict) and \
                    meta.get("format") == "eegiza-model" else ""
                raise CheckpointError(f"{path}: not an eegiza checkpoint{hint}")
            if meta.get("version") != FORMAT_VERSION:
                raise CheckpointError(f"{path}: checkpoint format {meta.get('version')} written by eegiza "
                                      f"{meta.get('eegiza_version')}; this is eegiza {__version__} (format "
                                      f"{FORMAT_VERSION}): resume with the version that wrote it")
            names = {f.name for f in fields(AlignerConfig)}
            config = AlignerConfig(**{k: v for k, v in meta["config"].items() if k in names})
            states = [_state(data, tag, meta[tag]) for tag in ("fwd", "rev")]
        return cls(config, int(meta["corpus"]["pairs"]), meta["corpus"]["sha256"], *states,
                   eegiza_version=meta["eegiza_version"], path=str(path), kernels=meta["kernel_sources"])


def progress_text(states: tuple, schedule: str) -> str:
    """How far each direction of (forward, reverse) states got, e.g. ``fwd 12 of 16 iterations, rev 10 of 16``."""
    total = schedule_length(schedule)
    return f"fwd {states[0].done} of {total} iterations, rev {states[1].done} of {total}"


def _state(data, tag: str, meta: dict) -> DirectionState:
    if meta["model"] is None:
        return DirectionState(int(meta["done"]))
    model = direction_from_arrays(data, tag, meta["model"])
    extra = {key: data[f"{tag}_resume_{key}"] if f"{tag}_resume_{key}" in data.files else None for key in _EXTRA}
    if extra["found_positions"] is not None:
        model.found = (extra["found_positions"], extra["found_scores"])
    if extra["output_positions"] is not None and model.fertility is not None:
        model.fertility.output = (extra["output_positions"], extra["output_scores"])
    return DirectionState(int(meta["done"]), model, extra["start"])


def save_on_lost_scheduler(err, config: AlignerConfig, corpus, path) -> Optional[Checkpoint]:
    """The checkpoint of a lost scheduler's error (``err.state``, see :func:`eegiza.train.train_pair`),
    saved to ``path`` (and named in ``err.checkpoint``) when an iteration had completed; else None."""
    if getattr(err, "state", None) is None:
        return None
    checkpoint = Checkpoint.of_state(config, corpus, err.state)
    if not checkpoint.any_done:
        return None
    checkpoint.save(path)
    err.checkpoint = str(path)
    return checkpoint
