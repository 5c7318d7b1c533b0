"""EE-GIZA++ probability files: the embedding prior p_emb(f|e) as text.

One line per pair with a non-zero probability, five whitespace-separated fields::

    e_id f_id c(e) c(f) p

``e_id`` / ``f_id``: vocabulary ids of the source word e and target word f (GIZA ``.vcb`` ids;
eegiza's ids, in which 0 is NULL and words start at 1, are the same numbers), ``c(e)`` / ``c(f)``
their corpus counts, ``p`` = p_emb(f|e). Lines are sorted by e_id, then f_id.
"""
from __future__ import annotations

import numpy as np

from .giza import atomic_open


class EEProbFormatError(ValueError):
    def __init__(self, path, line, message):
        super().__init__(f"{path}:{line}: {message}" if line is not None else f"{path}: {message}")


def write_eeprob(path, e_ids, f_ids, e_counts, f_counts, probs) -> None:
    """Write the rows (arrays of equal length), sorted by (e_id, f_id); zero probabilities skipped."""
    e_ids, f_ids = np.asarray(e_ids, np.int64), np.asarray(f_ids, np.int64)
    probs = np.asarray(probs, np.float64)
    keep = probs > 0
    order = np.lexsort((f_ids[keep], e_ids[keep]))
    cols = [np.asarray(a)[keep][order] for a in (e_ids, f_ids, e_counts, f_counts, probs)]
    with atomic_open(path, "w") as fh:
        for e, f, ce, cf, p in zip(*(c.tolist() for c in cols)):
            fh.write(f"{e} {f} {ce:g} {cf:g} {p:.9g}\n")


def read_eeprob(path) -> tuple:
    """(e_ids int64, f_ids int64, c(e) float64, c(f) float64, p float64) of a probability file."""
    e_ids, f_ids, ce, cf, ps = [], [], [], [], []
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            parts = raw.split()
            if not parts:
                continue
            if len(parts) != 5:
                raise EEProbFormatError(path, lineno, f"expected 5 fields 'e_id f_id c(e) c(f) p', got {len(parts)}")
            try:
                e, f = int(parts[0]), int(parts[1])
                c_e, c_f, p = float(parts[2]), float(parts[3]), float(parts[4])
            except ValueError:
                raise EEProbFormatError(path, lineno, f"bad number in {raw.strip()[:80]!r}") from None
            if e < 0 or f < 0:
                raise EEProbFormatError(path, lineno, "negative word id")
            if not 0.0 <= p <= 1.0:
                raise EEProbFormatError(path, lineno, f"probability {p} outside [0, 1]")
            e_ids.append(e), f_ids.append(f), ce.append(c_e), cf.append(c_f), ps.append(p)
    return (np.asarray(e_ids, np.int64), np.asarray(f_ids, np.int64), np.asarray(ce, np.float64),
            np.asarray(cf, np.float64), np.asarray(ps, np.float64))
