"""Build the optional compiled convolution loops (everything else lives in pyproject.toml).

The extension is ``optional``: without a C compiler the install still succeeds and
:mod:`dotwise.image` runs its NumPy/BLAS engine instead (``kernel_plan(k)["engine"]``
says which one is in use).
"""

import sys

from setuptools import Extension, setup

_FLAGS = [] if sys.platform == "win32" else ["-O3"]

setup(
    ext_modules=[
        Extension(
            "dotwise._dwconv",
            sources=["src/dotwise/_dwconv.c"],
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
            extra_compile_args=_FLAGS,
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
