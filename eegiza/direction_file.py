"""One trained direction (:class:`eegiza.train.DirectionModel`) as named arrays plus a metadata
dict: the layout shared by the model file (:meth:`eegiza.api.AlignmentModel.save`) and the
training checkpoint (:mod:`eegiza.checkpoint`). Every array is stored as it is, so a direction
read back is bit-identical to the one written."""
from __future__ import annotations

from dataclasses import asdict

import numpy as np

from .iterations import IterationLog
from .models.fertility import FertilityModel
from .models.ibm2 import ATable
from .train import DirectionModel
from .ttable import TTable


def open_npz(path, error: type, missing: str, kind: str):
    """``np.load`` of an eegiza ``.npz`` file (model or checkpoint), or ``error`` naming ``path``:
    "no such ``missing``" if it does not exist, "not an eegiza ``kind`` (why)" if it is no .npz."""
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise error(f"{path}: no such {missing}") from None
    except (OSError, ValueError) as err:
        raise error(f"{path}: not an eegiza {kind} ({err})") from None


def direction_meta(d: DirectionModel) -> dict:
    """The direction's scalars and iteration log (JSON-ready)."""
    return {"last_model": d.last_model, "base_model": d.base_model, "hmm_p_null": d.hmm_p_null,
            "hmm_jump_smooth": d.hmm_jump_smooth, "prob_smooth": d.prob_smooth,
            "min_link_posterior": d.min_link_posterior, "hmm_link_posterior": d.hmm_link_posterior,
            "t_pruned_below": d.t_pruned_below, "log": [asdict(x) for x in d.log]}


def direction_arrays(d: DirectionModel) -> dict:
    """The direction's tables by name (t-table, classes, HMM jumps, Model-2 a-table, Models 3/4)."""
    out = {"indptr": d.ttable.indptr, "indices": d.ttable.indices, "probs": d.ttable.probs, "src_class": d.src_class}
    if d.jump is not None:
        out["jump"], out["start"] = d.jump, d.start
    if d.atable is not None:
        out.update(d.atable.to_arrays("atable_"))
    if d.fertility is not None:
        out.update({f"fert_{key}": value for key, value in d.fertility.to_arrays().items()})
    return out


def direction_from_arrays(data, name: str, meta: dict) -> DirectionModel:
    """The direction ``name`` (the arrays' prefix, ``fwd``/``rev``) of an opened ``.npz``."""
    def get(key):
        full = f"{name}_{key}"
        return data[full] if full in data.files else None
    probs = get("probs")
    ttable = TTable(get("indptr"), get("indices"), probs, probs.dtype)   # the precision it was trained in
    atable = ATable.from_arrays(data, f"{name}_atable_") if f"{name}_atable_keys" in data.files else None
    fert_prefix = f"{name}_fert_"
    fert_arrays = {key[len(fert_prefix):]: data[key] for key in data.files if key.startswith(fert_prefix)}
    fertility = FertilityModel.from_arrays(fert_arrays) if fert_arrays else None
    return DirectionModel(ttable, meta["last_model"], get("src_class"), get("jump"), get("start"),
                          meta["hmm_p_null"], meta["hmm_jump_smooth"], meta["prob_smooth"],
                          [IterationLog(**x) for x in meta.get("log", [])], atable, fertility, meta["base_model"],
                          min_link_posterior=meta.get("min_link_posterior", 0.0),
                          hmm_link_posterior=meta.get("hmm_link_posterior", 0.0),
                          t_pruned_below=meta.get("t_pruned_below", 0.0))
