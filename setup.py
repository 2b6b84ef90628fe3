"""Build the optional compiled convolution loops (everything else lives in pyproject.toml).

The extension is ``optional``: without a C compiler the install still succeeds and
:mod:`dotwise.image` runs its NumPy/BLAS engine instead (``kernel_plan(k)["engine"]``
says which one is in use).
"""

import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

_OPENMP = [] if sys.platform in ("win32", "darwin") else ["-fopenmp"]


class _BuildExt(build_ext):
    """Build each extension; one asking for OpenMP is retried without it if that fails
    (a compiler without OpenMP still gets the kernel, threaded by Python instead)."""

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception:
            if not set(_OPENMP) & set(ext.extra_compile_args):
                raise
            ext.extra_compile_args = [a for a in ext.extra_compile_args if a not in _OPENMP]
            ext.extra_link_args = [a for a in ext.extra_link_args if a not in _OPENMP]
            super().build_extension(ext)


_FLAGS = [] if sys.platform == "win32" else ["-O3"]

setup(
    cmdclass={"build_ext": _BuildExt},
    ext_modules=[
        Extension(
            "dotwise._dwconv",
            sources=["src/dotwise/_dwconv.c"],
            depends=["src/dotwise/_dwpool.h"],   # its C thread pool (also in the sdist)
            extra_compile_args=_FLAGS,
            optional=True,
        ),
        Extension(  # small fused loops: k-means assignment, 2-D affine transforms
            "dotwise._dwloops",
            sources=["src/dotwise/_dwloops.c"],
            extra_compile_args=_FLAGS,
            optional=True,
        ),
        Extension(  # the block codec's range coder (image/_arith.py has the Python twin)
            "dotwise._dwcodec",
            sources=["src/dotwise/_dwcodec.c"],
            extra_compile_args=_FLAGS,
            optional=True,
        ),
        Extension(  # the recommender: ALS ridge solves, sparse item-item neighbours
            "dotwise._dwrec",
            sources=["src/dotwise/_dwrec.c"],
            extra_compile_args=_FLAGS,
            optional=True,
        ),
        Extension(  # fused attention kernel (dotwise.attention's compiled path)
            "dotwise._dwattn",
            sources=["src/dotwise/_dwattn.c"],
            extra_compile_args=_FLAGS + _OPENMP,
            extra_link_args=_OPENMP,
            optional=True,
        ),
        Extension(  # running top-k heaps for search: after each GEMM block, and IVF list scans
            "dotwise._dwtopk",
            sources=["src/dotwise/_dwtopk.c"],
            extra_compile_args=_FLAGS,
            optional=True,
        ),
    ]
)
