"""What every EM iteration reports, shared by the HMM/IBM driver (:mod:`eegiza.train`) and the
fertility models (:mod:`eegiza.models.fertility`): :class:`IterationLog` and GIZA's perplexity.

The perplexity is GIZA++'s ``.perp`` number: 2^(-log2 P(f | e) / N) over the N target tokens of
the corpus, where log P(f | e) is the iteration's log-likelihood (Brown et al. 1993).
"""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class IterationLog:
    """One EM iteration: model name (GIZA's .perp names), perplexity, log-likelihood, seconds."""

    model: str
    iteration: int
    perplexity: float
    loglik: float
    seconds: float


def perplexity(loglik: float, n_tokens: int) -> float:
    """GIZA-style perplexity 2^(-log2 P / N) of the target tokens."""
    if n_tokens == 0:
        return 1.0
    return 2.0 ** (-loglik / math.log(2.0) / n_tokens)
