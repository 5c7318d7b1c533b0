"""Build the Cython extension(s); all other package metadata is in pyproject.toml."""
import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

extensions = [
    Extension(
        "eegiza._textnum",
        ["eegiza/_textnum.pyx", "csrc/textnum.c"],
        depends=["csrc/textnum.h"],
        include_dirs=[numpy.get_include(), "csrc"],
        extra_compile_args=["-O3"],
    ),
]

setup(ext_modules=cythonize(extensions, language_level=3))
