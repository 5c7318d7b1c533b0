"""eegiza: statistical word alignment (IBM Models, HMM) in Python with compiled kernels,
GIZA++ compatible, with an optional prior from cross-lingual word embeddings.

Public API: :class:`Aligner`, :class:`AlignerConfig`, :class:`AlignmentModel`, plus the corpus
readers and evaluation helpers re-exported below.
"""
from .api import Aligner, AlignmentModel, CorpusAlignment, ModelFileError
from .config import AlignerConfig
from .corpus import CorpusError, ParallelCorpus, Vocab, read_joint, read_parallel
from .evaluate import aer, read_gold
from .symmetrize import symmetrize
from .version import __version__

__all__ = ["Aligner", "AlignerConfig", "AlignmentModel", "CorpusAlignment", "CorpusError", "ModelFileError",
           "ParallelCorpus",
           "Vocab", "read_joint", "read_parallel", "aer", "read_gold", "symmetrize", "__version__"]
