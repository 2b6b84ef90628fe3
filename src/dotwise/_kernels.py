"""The internal contract: what one dotwise package may take from another that is not public.

Public functions check their input once, at the boundary (:mod:`dotwise._validation`),
and hand trusted arrays to unchecked twins. Another dotwise package that has *already*
checked its arrays may call those twins directly — but only through this module, so
each such dependency is named once, here, and the owning module can change its private
helpers freely. ``tests/test_architecture.py`` fails on a private name imported across
packages by any other route.

Who may use it: modules under ``src/dotwise`` (applications and faces). Not users: the
names here carry no stability promise and skip every check.

What a caller must guarantee: float32/float64 NumPy arrays, finite, of the documented
shape. Anything else gives undefined results (NaN, a NumPy error), never a clear one.

=====================  ==============================================  ===============
name                   what it is                                      used by
=====================  ==============================================  ===============
``softmax_unchecked``  :func:`dotwise.linalg.softmax` without checks:  attention,
                       ``(x, axis=-1)``, ``axis`` already normalised   search.text
``softmax_inplace_``   the same, overwriting its (float) input;        models
``unchecked``,         ``softmax_and_log_unchecked`` returns the       (classifier)
``softmax_and_log_``   weights and their logs from one pass
``unchecked``
``norm_unchecked``     :func:`dotwise.linalg.norm` over the last axis  search
                       without checks, overflow/underflow-safe
``default_rcond``,     the rank rules of :mod:`dotwise.linalg`         scale (TSQR)
``rank_tol``,          (``rcond``, rank tolerance, condition from
``resolve_rcond``,     singular values)
``svd_cond``
``triangular_cond``,   least squares' pieces after a QR: the           scale (TSQR)
``pinv_solve``,        triangle's condition estimate, the SVD solve
``lstsq_result``,      of a small R, the result record, the advice
``singular_advice``,   for a singular A, a LAPACK routine lookup
``lapack_function``
``als_group``,         the batched per-entity ridge solves of ALS      scale (ALS)
``als_solve_side``     (:mod:`dotwise.recommend._als`; lazy)
``pca_flip_signs``     PCA's sign convention for components (lazy)     scale (PCA)
=====================  ==============================================  ===============

The other private modules at the top of the package are shared infrastructure that
every package may import by their public names: :mod:`dotwise._validation` (checks and
error types), :mod:`dotwise._io` (atomic writes), :mod:`dotwise._threads` (the worker
pool, ``worker_pool()``, and ``one_blas_thread()``), :mod:`dotwise._native` (the
compiled kernels and their dispatch).

Examples
--------
>>> import numpy as np
>>> from dotwise._kernels import norm_unchecked, softmax_unchecked
>>> softmax_unchecked(np.array([[0.0, 0.0]])).tolist()
[[0.5, 0.5]]
>>> norm_unchecked(np.array([[3.0, 4.0], [1e200, 1e200]])).round(3)
array([5.00000000e+000, 1.41421356e+200])
"""

from __future__ import annotations

import importlib
from typing import Any

from .linalg._common import default_rcond, rank_tol, resolve_rcond, svd_cond
from .linalg.lstsq import _get as lapack_function
from .linalg.lstsq import _pinv as pinv_solve
from .linalg.lstsq import _result as lstsq_result
from .linalg.lstsq import _singular_advice as singular_advice
from .linalg.lstsq import _tri_cond as triangular_cond
from .linalg.special import _softmax as softmax_unchecked
from .linalg.special import _softmax_and_log as softmax_and_log_unchecked
from .linalg.special import _softmax_inplace as softmax_inplace_unchecked
from .linalg.vectors import _norm as norm_unchecked

#: Twins in packages above linalg, imported on first use (so that importing this module —
#: attention does — never pulls in the recommender or scikit-learn).
_LAZY = {
    "als_group": ("dotwise.recommend._als", "group"),
    "als_solve_side": ("dotwise.recommend._als", "solve_side"),
    "pca_flip_signs": ("dotwise.models.pca", "_flip_signs"),
}

__all__ = ["default_rcond", "lapack_function", "lstsq_result", "norm_unchecked",
           "pinv_solve", "rank_tol", "resolve_rcond", "singular_advice",
           "softmax_and_log_unchecked", "softmax_inplace_unchecked", "softmax_unchecked",
           "svd_cond", "triangular_cond", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
