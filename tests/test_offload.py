"""Arrays moved out of memory while a phase does not read them (eegiza.offload): the same values
inside and after, the file gone after, kept in memory when the file cannot be written, and training
by agreement gives the same model with the tables' target ids offloaded as without."""
import os
import tempfile
import types

import numpy as np
import pytest

from eegiza import Aligner, AlignerConfig, offload
from eegiza.offload import Offloaded
from test_tprune import translated_corpus


def test_arrays_are_memory_maps_inside_and_back_in_memory_after():
    holder = types.SimpleNamespace(big=np.arange(1 << 19, dtype=np.int64), small=np.arange(10))
    big, small = holder.big.copy(), holder.small
    with Offloaded([(holder, "big"), (holder, "small")]) as moved:
        assert isinstance(holder.big, np.memmap) and not holder.big.flags.writeable
        assert np.array_equal(holder.big, big)
        assert holder.small is small   # under MIN_BYTES: stays
        folder = moved.folder
        assert os.listdir(folder) == ["0.npy"]
    assert type(holder.big) is np.ndarray and holder.big.flags.writeable
    assert np.array_equal(holder.big, big)
    assert not os.path.exists(folder)


def test_an_array_replaced_inside_the_block_stays_as_replaced():
    holder = types.SimpleNamespace(big=np.arange(1 << 19, dtype=np.int64))
    replacement = np.arange(1 << 18, dtype=np.int32)   # e.g. a table pruned inside the block
    with Offloaded([(holder, "big")]):
        holder.big = replacement
    assert holder.big is replacement


def test_an_interrupted_block_restores_the_arrays_and_removes_the_file():
    holder = types.SimpleNamespace(big=np.arange(1 << 19, dtype=np.int64))
    with pytest.raises(KeyboardInterrupt):
        with Offloaded([(holder, "big")]) as moved:
            folder = moved.folder
            raise KeyboardInterrupt
    assert type(holder.big) is np.ndarray and np.array_equal(holder.big, np.arange(1 << 19))
    assert not os.path.exists(folder)


def test_arrays_stay_in_memory_when_the_file_cannot_be_written(monkeypatch, tmp_path):
    missing = tmp_path / "no" / "such" / "dir"
    monkeypatch.setattr(tempfile, "tempdir", str(missing))
    holder = types.SimpleNamespace(big=np.arange(1 << 19, dtype=np.int64))
    with Offloaded([(holder, "big")]):
        assert type(holder.big) is np.ndarray
    assert np.array_equal(holder.big, np.arange(1 << 19))


@pytest.mark.parametrize("settings", [dict(), dict(agreement=False)])
def test_training_with_offloaded_tables_equals_training_without(settings, monkeypatch):
    corpus = translated_corpus(31, 200, 50)
    config = AlignerConfig(schedule="1^2 H^2 3^1 4^1", word_classes=3, threads=2, **settings)
    monkeypatch.setattr(offload, "MIN_BYTES", 0)
    moved = []
    enter = Offloaded.__enter__

    def counting_enter(self):
        out = enter(self)
        moved.append(len(self.moved))
        return out
    monkeypatch.setattr(Offloaded, "__enter__", counting_enter)
    with_offload = Aligner(config).train_corpus(corpus)
    assert sum(moved) >= (2 if settings else 6)   # the idle direction's table (and the joint E-step's target ids)
    monkeypatch.setattr(Offloaded, "__enter__", lambda self: self)
    without = Aligner(config).train_corpus(corpus)
    for a, b in ((with_offload.fwd, without.fwd), (with_offload.rev, without.rev)):
        assert type(a.ttable.indices) is np.ndarray and type(a.ttable.probs) is np.ndarray
        assert np.array_equal(a.ttable.indices, b.ttable.indices)
        assert np.array_equal(a.ttable.probs, b.ttable.probs)
    assert with_offload.align_corpus(corpus).links("grow-diag-final-and") == \
        without.align_corpus(corpus).links("grow-diag-final-and")
