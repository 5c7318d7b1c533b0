"""Arrays moved out of memory while a phase does not read them.

The joint Model 1/HMM E-step of training by agreement reads both t-tables' probabilities, the
forward sentence slots and the reverse slot map, and writes two count arrays; the tables' target
ids (4 bytes an entry each: 88 MB for de-en's two tables) are read again only when the iterations
are over (pruning, Models 3/4). :class:`Offloaded` writes such arrays to a temporary file and
leaves a read-only memory map of it in their place, so they take no memory until read; on leaving
they are read back and the file is removed. Whatever reads one meanwhile (a checkpoint, say) reads
the same values from the map, and an array replaced inside the block (a table pruned there) is
left as it was replaced. If the file cannot be written (a full or read-only temporary
directory) the arrays stay in memory. Writing and reading back de-en's 88 MB takes about 0.1 s.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from typing import List, Sequence, Tuple

import numpy as np

#: arrays smaller than this stay in memory (a file per array is not worth it)
MIN_BYTES = 1 << 20


class Offloaded:
    """``with Offloaded([(obj, "attr"), ...]):`` each ``obj.attr`` (a NumPy array) is a read-only
    memory map of a temporary file inside the block, and back in memory after it (module docstring)."""

    def __init__(self, holders: Sequence[Tuple[object, str]]):
        self.holders = [(obj, attr) for obj, attr in holders if getattr(obj, attr).nbytes >= MIN_BYTES]
        self.folder = None
        self.moved: List[Tuple[object, str, np.ndarray]] = []

    def __enter__(self) -> "Offloaded":
        if not self.holders:
            return self
        try:
            self.folder = tempfile.mkdtemp(prefix="eegiza-offload-")
            for k, (obj, attr) in enumerate(self.holders):
                path = os.path.join(self.folder, f"{k}.npy")
                np.save(path, getattr(obj, attr))
                mapped = np.load(path, mmap_mode="r")
                setattr(obj, attr, mapped)
                self.moved.append((obj, attr, mapped))
        except OSError:   # no room or no temporary directory: what is not moved yet stays in memory
            pass
        return self

    def __exit__(self, *exc) -> None:
        for obj, attr, mapped in self.moved:
            # (a setter may have wrapped the map in a view; an array replaced inside the block stays)
            if np.may_share_memory(getattr(obj, attr), mapped):
                setattr(obj, attr, np.array(mapped))
        self.moved = []
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
