"""Option sets of ``eegiza align`` beside the configured defaults: ``--fast``, and what a run on a
large corpus trains when no schedule is given.

:data:`FAST` is Model 1 and the HMM by agreement with posterior decoding, no Models 3/4 (its
options given explicitly still win). On the shared pairs (``benchmarks/README.md``) it takes about
half of eflomal's wall time; with little text it costs AER against the full schedule (ro-en 27.1
against 25.7 gdfa, de-en 24.2 against 22.7), with much text it does not: en-fr's first 100,000
lines 6.56 against 6.64, all 1,130,551 lines 6.04 against 6.01, in 475 s against 1,143 s (534 s
in 1.8 GB with the slots looked up, as such a corpus does by default: :mod:`eegiza.slot_source`).

So from :data:`LARGE_CORPUS_PAIRS` sentence pairs on, :func:`default_for` gives :data:`FAST` in
place of the full schedule, as eflomal runs fewer sampling iterations on a larger corpus; the
Models 3/4 phases also hold about 2.5 GB more at 1.13M pairs than the HMM's (eegiza/memory.py).
``eegiza align`` applies it when neither ``--schedule`` nor ``--fast`` is given, and says so;
``--schedule '1^5 H^5 3^3 4^3'`` trains the full schedule on any corpus. The Python API takes
the configuration it is given (``default_for`` is there to call).
"""
from __future__ import annotations

from .config import AlignerConfig

FAST = AlignerConfig(schedule="1^5 H^5", agreement_power=0.5, hmm_link_posterior=0.5)
FAST_HELP = ("the schedule '1^5 H^5' (no Models 3/4), --agreement-power 0.5 and posterior decoding of the "
             "HMM (--hmm-link-posterior 0.5); options given explicitly still apply")
#: a corpus of at least this many sentence pairs trains :data:`FAST` by default (measured on en-fr at
#: 100,447 and 1,130,551 pairs; between them, where the two meet, the threshold is a choice)
LARGE_CORPUS_PAIRS = 500_000


def is_large(n_pairs: int) -> bool:
    return n_pairs >= LARGE_CORPUS_PAIRS


def default_for(n_pairs: int) -> AlignerConfig:
    """The default options for a corpus of ``n_pairs`` sentence pairs (module docstring)."""
    return FAST if is_large(n_pairs) else AlignerConfig()
