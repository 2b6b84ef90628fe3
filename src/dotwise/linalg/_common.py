r"""Private helpers shared by the linalg modules: matrix arguments and rank tolerances.

The rank rule is NumPy's ``matrix_rank``: a singular value :math:`\sigma_i` counts as
zero when :math:`\sigma_i \le \text{rcond} \cdot \sigma_{\max}`, with default
``rcond = eps * max(m, n)`` for the dtype.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_float_array


def as_matrix(A, name: str, *, check_finite: bool, allow_empty: bool = True) -> np.ndarray:
    """Validate a 1-D or 2-D float argument; a 1-D one becomes a single column (m, 1)."""
    A = as_float_array(A, name, ndim=(1, 2), check_finite=check_finite, allow_empty=allow_empty)
    return A[:, None] if A.ndim == 1 else A


def default_rcond(m: int, n: int, dtype: np.dtype) -> float:
    """NumPy's default relative rank tolerance, ``eps * max(m, n)`` for ``dtype``."""
    return float(np.finfo(dtype).eps) * max(m, n, 1)


def resolve_rcond(rcond: float | None, m: int, n: int, dtype: np.dtype) -> float:
    """``rcond`` as a float in [0, 1), or the default for an (m, n) matrix when None."""
    if rcond is None:
        return default_rcond(m, n, dtype)
    rcond = float(rcond)
    if not 0.0 <= rcond < 1.0:
        raise ValueError(f"rcond must be in [0, 1), got {rcond}")
    return rcond


def rank_tol(s: np.ndarray, rcond: float) -> float:
    """Absolute tolerance ``rcond * s_max`` for singular values ``s`` (largest first)."""
    return rcond * float(s[0]) if s.size else 0.0


def svd_cond(s: np.ndarray) -> float:
    """2-norm condition number ``s_max / s_min``: ``inf`` if singular, ``nan`` if empty."""
    if s.size == 0:
        return float("nan")
    return float(s[0] / s[-1]) if s[-1] > 0 else float("inf")


def check_tol(tol) -> float:
    """A user-given absolute/relative tolerance as a float >= 0."""
    tol = float(tol)
    if not tol >= 0:
        raise ValueError(f"tol must be a number >= 0, got {tol}")
    return tol


def power_of_two_scale(A: np.ndarray) -> float:
    r"""A power of two :math:`s` with :math:`\max|A/s| \approx 1`, or 1.0 when no scaling is needed.

    Scale-invariant answers (norms, cosines, QR, Gram–Schmidt, least squares) are
    computed on ``A / s`` and scaled back. Dividing by a power of two is exact, so
    inputs of ordinary size (largest entry between ``tiny**0.25`` and ``max**0.25``
    of the dtype: about 1e-77 … 1e77 in float64) are left exactly as they are;
    beyond that, sums of squares would overflow or underflow.
    """
    if A.size == 0 or A.dtype.kind != "f":
        return 1.0
    amax = float(np.max(np.abs(A)))
    if amax == 0.0 or not np.isfinite(amax):
        return 1.0
    info = np.finfo(A.dtype)
    if float(info.tiny) ** 0.25 <= amax <= float(info.max) ** 0.25:
        return 1.0
    return float(np.ldexp(1.0, int(np.frexp(amax)[1]) - 1))  # amax / s in [1, 2)


# ---------------------------------------------------------------- least squares
METHODS = ("auto", "normal", "qr", "svd", "pinv")

#: Above this condition number, :func:`lstsq` warns ``IllConditionedWarning``.
ILL_CONDITIONED = 1e10


def _normal_max_cond(dtype: np.dtype) -> float:
    r"""Largest column-scaled condition estimate for which ``auto`` trusts the normal equations.

    One refinement step multiplies the error of the Cholesky solution by about
    :math:`c\,\kappa^2\epsilon`; with :math:`\kappa \le \tfrac12\epsilon^{-1/3}` the
    refined error, about :math:`(\kappa^2\epsilon)^2`, stays at or below the
    :math:`\kappa\epsilon` that a backward-stable QR solver achieves
    (float64: κ ≤ 8.3e4; float32: κ ≤ 100). The estimate is LAPACK's 1-norm
    ``trcon`` of the Cholesky factor, which errs on the high side.
    """
    return 0.5 * float(np.finfo(dtype).eps) ** (-1.0 / 3.0)


def _singular_advice(A: np.ndarray, method: str, cond: float) -> str:
    what = "singular" if not np.isfinite(cond) else f"numerically singular (condition ≈ {cond:.1e})"
    if A.shape[0] >= A.shape[1]:
        dep = "its columns are linearly dependent (or nearly so)"
    else:
        dep = "its rows are linearly dependent (or nearly so)"
    return (
        f"A (shape {A.shape}) is {what}: {dep}, so method={method!r} has no unique "
        f"solution. Use method='svd' or 'auto' for the minimum-norm least-squares solution, "
        f"ridge(A, b, alpha) to regularise, or remove the dependent columns "
        f"(dotwise.inspect(A) shows the rank)."
    )
