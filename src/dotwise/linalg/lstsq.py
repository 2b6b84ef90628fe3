"""Least squares — PLACEHOLDER interface (the full implementation replaces this file).

The signature and result type here are the contract other modules build on:
``lstsq(A, b, method="auto", rcond=None, check_finite=True) -> LstsqResult`` and
``ridge(A, b, alpha) -> ndarray``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from .._validation import as_float_array

__all__ = ["LstsqResult", "lstsq", "ridge"]


@dataclass(frozen=True)
class LstsqResult:
    """Solution of min ‖Ax − b‖₂: x (n,) or (n, k), residual_norm, rank, cond, method."""

    x: np.ndarray
    residual_norm: np.ndarray | float
    rank: int
    cond: float
    method: str


def lstsq(A, b, method: str = "auto", rcond=None, *, check_finite: bool = True) -> LstsqResult:
    A = as_float_array(A, "A", ndim=2, check_finite=check_finite)
    b = as_float_array(b, "b", ndim=(1, 2), check_finite=check_finite)
    x, _, rank, sv = scipy.linalg.lstsq(A, b, cond=rcond, lapack_driver="gelsd")
    r = np.linalg.norm(A @ x - b, axis=0)
    cond = float(sv[0] / sv[-1]) if sv[-1] > 0 else float("inf")
    return LstsqResult(x=x, residual_norm=r, rank=int(rank), cond=cond, method="svd")


def ridge(A, b, alpha: float = 1.0) -> np.ndarray:
    A = as_float_array(A, "A", ndim=2)
    b = as_float_array(b, "b", ndim=(1, 2))
    n = A.shape[1]
    aug_A = np.vstack([A, np.sqrt(alpha) * np.eye(n)])
    aug_b = np.concatenate([b, np.zeros((n,) + b.shape[1:])])
    return scipy.linalg.lstsq(aug_A, aug_b)[0]
