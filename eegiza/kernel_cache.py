"""Where eegiza's compiled Numba kernels are cached: in the user's cache (``$EEGIZA_CACHE_DIR``,
else ``$XDG_CACHE_HOME/eegiza``, else ``~/.cache/eegiza``), one folder per eegiza version and
content of its kernel sources, so the one-time compilation (about a minute) survives reinstalling
the same version, a new virtual environment and a read-only installation.

Numba caches a ``cache=True`` kernel next to its source (``__pycache__``) by default; a reinstall
removes that folder and every new environment starts cold. :class:`EegizaCacheLocator` is put first
in Numba's list of cache locators for eegiza's own source files only. Numba keys every cache entry
by a hash of its own source file's content, the signature and the CPU, but not of the modules it
calls: a kernel compiled against an older version of a kernel it inlines would be reused. The
folder name therefore carries a hash of all of eegiza's kernel sources (:func:`kernel_sources_hash`),
so any change to any kernel starts a fresh cache. ``NUMBA_CACHE_DIR``, if the user sets it, still
wins; so does a folder that cannot be written (then Numba's usual places are used). Old folders
are not removed: ``rm -rf ~/.cache/eegiza`` reclaims them.
"""
from __future__ import annotations

import functools
import glob
import hashlib
import os
import pickle
import re
from typing import Optional

import numba
from numba.core import caching, config

from .version import __version__

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
CACHED_KERNEL = re.compile(rb"@(?:numba\.)?njit\([^)]*cache=True")   # a decorator, not a mention in prose


@functools.lru_cache(maxsize=None)
def _kernel_sources() -> tuple:
    """(path, content) of every eegiza source file that defines cached kernels (``cache=True``),
    sorted by path; read once per process."""
    found = []
    for path in sorted(glob.glob(os.path.join(PACKAGE_DIR, "**", "*.py"), recursive=True)):
        try:
            with open(path, "rb") as handle:
                content = handle.read()
        except OSError:
            continue
        if CACHED_KERNEL.search(content):
            found.append((path, content))
    return tuple(found)


def kernel_source_files() -> list:
    """The source files of eegiza's cached Numba kernels."""
    return [path for path, _ in _kernel_sources()]


@functools.lru_cache(maxsize=None)
def kernel_sources_hash() -> str:
    """A hash of the content of every eegiza source file that defines cached kernels."""
    digest = hashlib.sha256()
    for path, content in _kernel_sources():
        digest.update(os.path.relpath(path, PACKAGE_DIR).encode() + b"\0" + content + b"\0")
    return digest.hexdigest()[:16]


def cache_root() -> str:
    """The folder holding the kernel cache of this eegiza version and kernel sources."""
    base = os.environ.get("EEGIZA_CACHE_DIR")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = os.path.join(xdg, "eegiza")
    return os.path.join(base, f"kernels-{__version__}-{kernel_sources_hash()}")


def _package_relative(py_file: str) -> Optional[str]:
    """``py_file``'s folder relative to the package ("" or "models"), None if outside eegiza."""
    path = os.path.abspath(py_file)
    if os.path.commonpath([path, PACKAGE_DIR]) != PACKAGE_DIR:
        return None
    return os.path.relpath(os.path.dirname(path), PACKAGE_DIR)


def cache_dir_for(py_file: str) -> Optional[str]:
    """The folder caching the kernels of one of eegiza's source files (None if outside eegiza)."""
    relative = _package_relative(py_file)
    if relative is None:
        return None
    return os.path.normpath(os.path.join(cache_root(), relative))


class EegizaCacheLocator(caching._SourceFileBackedLocatorMixin, caching._CacheLocator):
    """Numba cache locator for eegiza's source files: :func:`cache_dir_for`."""

    def __init__(self, py_func, py_file):
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        self._cache_path = cache_dir_for(py_file)

    def get_cache_path(self):
        return self._cache_path

    @classmethod
    def from_function(cls, py_func, py_file):
        if config.CACHE_DIR or cache_dir_for(py_file) is None:
            return None
        return super().from_function(py_func, py_file)

    @classmethod
    def source_stamp(cls, py_file: str):
        """The stamp Numba keys ``py_file``'s cache entries with (a hash of its content)."""
        locator = cls.__new__(cls)
        locator._py_file = py_file
        return locator.get_source_stamp()


def install() -> None:
    """Put :class:`EegizaCacheLocator` first in Numba's cache locators (before any eegiza kernel is
    defined). Numba versions without this hook keep their default places."""
    impl = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl", None)
    locators = getattr(impl, "_locator_classes", None)
    if isinstance(locators, list) and EegizaCacheLocator not in locators:
        locators.insert(0, EegizaCacheLocator)


def is_cached(py_file: str) -> bool:
    """Whether the kernels of ``py_file`` have cache entries made from its current content by this
    Numba (indexes of other contents, e.g. of kernels since moved, are ignored)."""
    folder = cache_dir_for(py_file)
    stem = os.path.splitext(os.path.basename(py_file))[0]
    if folder is None or config.CACHE_DIR or not os.path.isdir(folder):
        return False
    try:
        stamp = EegizaCacheLocator.source_stamp(py_file)
        for name in os.listdir(folder):
            is_index = name.startswith(stem + ".") and name.endswith(".nbi")
            if is_index and _index_stamp(os.path.join(folder, name)) == stamp:
                return True
    except OSError:
        pass
    return False


def _index_stamp(path: str):
    """The source stamp a Numba cache index was made from (None: another Numba, or unreadable)."""
    try:
        with open(path, "rb") as handle:
            if pickle.load(handle) != numba.__version__:
                return None
            return pickle.loads(handle.read())[0]
    except Exception:   # noqa: BLE001  (a damaged or foreign index is simply not a match)
        return None
