"""The kernel cache (eegiza.kernel_cache): compiled kernels go to the user's eegiza cache, keyed by
source content, so a reinstall of the same version (new path, new file times) starts warm."""
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import eegiza

PACKAGE = Path(eegiza.__file__).resolve().parent

# compiles (or loads) one small cached kernel and reports its cache statistics and place
PROBE = """
import json, numpy as np
import eegiza
from eegiza.ttable import find_slot
from eegiza.cli.progress import cold_kernel_modules
cold_before = cold_kernel_modules([eegiza.ttable.__file__])
find_slot(np.array([0, 2]), np.array([3, 5], np.int32), 0, 5)
stats = find_slot.stats
print(json.dumps({"hits": sum(stats.cache_hits.values()), "misses": sum(stats.cache_misses.values()),
                  "path": stats.cache_path, "cold_before": cold_before,
                  "cold": cold_kernel_modules([eegiza.ttable.__file__])}))
"""


def install_copy(root: Path) -> Path:
    """A copy of the package under ``root`` (as a reinstall would make: new path, new file times)."""
    shutil.copytree(PACKAGE, root / "eegiza", ignore=shutil.ignore_patterns("__pycache__"))
    return root / "eegiza"


def probe(site: Path, cache: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update(PYTHONPATH=str(site), EEGIZA_CACHE_DIR=str(cache))
    run = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, cwd=site)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_kernels_are_cached_in_the_user_cache_and_survive_a_reinstall(tmp_path):
    cache = tmp_path / "cache"
    first = install_copy(tmp_path / "a")
    one = probe(first.parent, cache)
    assert one["misses"] >= 1 and one["hits"] == 0 and one["cold_before"]   # compiled, and said so
    assert Path(one["path"]).resolve().is_relative_to(cache.resolve())
    assert one["cold"] == []                                       # its own cache entry is now seen
    assert list(Path(one["path"]).glob("ttable.find_slot-*.nbi"))
    time.sleep(1.1)                                                # the copy gets later file times
    second = install_copy(tmp_path / "b")
    two = probe(second.parent, cache)
    assert two["hits"] >= 1 and two["misses"] == 0                 # loaded, not compiled again
    assert two["cold_before"] == []
    (second / "ttable.py").write_text((second / "ttable.py").read_text() + "\n# edited\n")
    three = probe(second.parent, cache)                            # edited source: its entries do not apply
    assert three["misses"] >= 1 and three["hits"] == 0 and three["cold_before"]
