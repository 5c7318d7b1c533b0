"""eegiza: statistical word alignment (IBM Models, HMM) in Python with compiled kernels,
GIZA++ compatible, with an optional prior from cross-lingual word embeddings.

Public API: :class:`Aligner`, :class:`AlignerConfig`, :class:`AlignmentModel`, plus the corpus
readers and evaluation helpers re-exported below.
"""
from . import kernel_cache

kernel_cache.install()   # before any kernel is defined: compiled kernels go to the user's eegiza cache

from .api import Aligner, AlignmentModel, CorpusAlignment, ModelFileError  # noqa: E402
from .config import AlignerConfig  # noqa: E402
from .corpus import CorpusError, ParallelCorpus, Vocab, read_joint, read_parallel  # noqa: E402
from .evaluate import aer, read_gold  # noqa: E402
from .symmetrize import symmetrize  # noqa: E402
from .version import __version__  # noqa: E402

__all__ = ["Aligner", "AlignerConfig", "AlignmentModel", "CorpusAlignment", "CorpusError", "ModelFileError",
           "ParallelCorpus",
           "Vocab", "read_joint", "read_parallel", "aer", "read_gold", "symmetrize", "__version__"]
