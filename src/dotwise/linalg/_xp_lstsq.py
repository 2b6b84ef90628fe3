r"""Least squares and ridge on array-API arrays (CuPy, PyTorch CPU/CUDA, ...).

:func:`dotwise.linalg.lstsq` and :func:`dotwise.linalg.ridge` send foreign arrays
here (see :mod:`dotwise._xp`); NumPy input keeps its LAPACK code. The methods
are the same, built from the namespace's ``linalg`` only:

``normal``
    ``xp.linalg.cholesky`` of the column-scaled Gram matrix, one step of
    iterative refinement.
``qr``
    ``xp.linalg.qr`` (reduced), then the triangular system ``R x = Qᵀ b``.
``svd``, ``pinv``
    ``xp.linalg.svd`` (thin): :math:`x = V \Sigma^{+} U^\top b`, singular values
    below ``rcond · s_max`` dropped — the minimum-norm solution. The standard
    has no ``lstsq``, so both names run this same formula.
``auto``
    As on the CPU: the normal equations when the condition number says
    :math:`\kappa^2\epsilon` is small, else QR, and when ``R`` is numerically
    singular the SVD of ``R`` (the minimum-norm answer, reported as ``svd``).

Condition numbers: the standard has no condition *estimate* (LAPACK's
``trcon``), so ``cond`` is computed exactly, as the ratio of the extreme
singular values of the small ``n × n`` triangular factor (``xp.linalg.svdvals``,
the same singular values as ``A``), an extra :math:`O(n^3)` on the device.
Triangular systems are solved with ``torch.linalg.solve_triangular`` for torch
and ``cupyx.scipy.linalg.solve_triangular`` for CuPy; in other namespaces with
the standard's general ``xp.linalg.solve`` (LU on an ``n × n`` matrix).

Everything runs in the input's dtype (float32 stays float32: nothing is
promoted to float64, which some devices lack). The solution ``x``, the residual
norms of a 2-D ``b`` and the singular values are arrays of the input's kind on
its device; ``rank`` and ``cond`` (and the residual norm of a 1-D ``b``) are
Python numbers read back from the device.
"""

from __future__ import annotations

import math
import sys

import numpy as np

from .._validation import (
    FloatRangeError,
    ShapeError,
    as_float_array,
    check_choice,
    describe,
    warn_ill_conditioned,
)
from .._xp import array_namespace, float_array, is_array_api, is_torch

__all__ = ["lstsq", "ridge"]


class _RankDeficient(Exception):
    def __init__(self, cond: float):
        super().__init__(cond)
        self.cond = cond


class _Shape:
    """Just the shape of an array, as a tuple (for messages written for NumPy arrays)."""

    def __init__(self, a):
        self.shape = tuple(a.shape)


def _np_dtype(dtype, xp):
    return np.dtype("float32" if dtype == xp.float32 else "float64")


def _tri_solve(R, rhs, xp, *, transpose=False):
    """Solve ``R y = rhs`` (``Rᵀ y = rhs`` with ``transpose``) for upper-triangular ``R``."""
    if is_torch(R):
        torch = sys.modules["torch"]
        if transpose:
            return torch.linalg.solve_triangular(R.mT, rhs, upper=False)
        return torch.linalg.solve_triangular(R, rhs, upper=True)
    if type(R).__module__.split(".")[0] == "cupy":
        from cupyx.scipy.linalg import solve_triangular

        return solve_triangular(R, rhs, trans="T" if transpose else "N", lower=False)
    return xp.linalg.solve(R.T if transpose else R, rhs)


def _cond(R, xp) -> float:
    """2-norm condition number of a square factor from its singular values."""
    if R.shape[0] == 0:
        return 1.0
    s = xp.linalg.svdvals(R)
    smax, smin = float(s[0]), float(s[-1])
    return smax / smin if smin > 0 else math.inf


def _diag(G, xp):
    return xp.linalg.diagonal(G)


def _normal(A, b2, max_cond, xp, shift=0.0):
    """Cholesky of the column-scaled Gram matrix (plus ``shift·I``) and one refinement step."""
    n = A.shape[1]
    G = A.T @ A
    if shift:
        G = G + shift * xp.eye(n, dtype=G.dtype, device=A.device)
    d = xp.sqrt(_diag(G, xp))
    if not bool(xp.all(d > 0)):
        raise _RankDeficient(math.inf)
    Gs = G / (xp.expand_dims(d, axis=1) * xp.expand_dims(d, axis=0))
    try:
        R = xp.linalg.cholesky(Gs, upper=True)
    except Exception:  # each library raises its own error for "not PD"
        raise _RankDeficient(math.inf) from None
    if not bool(xp.all(xp.isfinite(R))):  # some libraries return NaN instead of raising
        raise _RankDeficient(math.inf)
    cond_scaled = _cond(R, xp)
    if not cond_scaled <= max_cond:
        raise _RankDeficient(cond_scaled)
    cond_a = _cond(R * xp.expand_dims(d, axis=0), xp)
    dc = xp.expand_dims(d, axis=1)

    def solve(rhs):
        y = _tri_solve(R, rhs / dc, xp, transpose=True)
        return _tri_solve(R, y, xp) / dc

    x = solve(A.T @ b2)
    r = b2 - A @ x
    x = x + solve(A.T @ r - shift * x)
    return x, max(cond_a, 1.0)


def _svd_solve(A, b2, rcond, xp):
    U, s, Vt = xp.linalg.svd(A, full_matrices=False)
    keep = s > rcond * s[0]
    inv = xp.where(keep, 1.0 / xp.where(keep, s, xp.ones_like(s)), xp.zeros_like(s))
    x = Vt.T @ (xp.expand_dims(inv, axis=1) * (U.T @ b2))
    return x, int(xp.sum(xp.astype(keep, xp.int32))), s


def _qr(A, b2, rcond, xp, *, fallback_svd=False):
    m, n = A.shape
    if m < n:  # minimum-norm solution from the QR of Aᵀ: x = Q R⁻ᵀ b
        Q, R = xp.linalg.qr(A.T, mode="reduced")
        cond = _cond(R, xp)
        if not cond * rcond < 1:
            raise _RankDeficient(cond)
        return Q @ _tri_solve(R, b2, xp, transpose=True), cond, m, None, "qr"
    Q, R = xp.linalg.qr(A, mode="reduced")
    cond = _cond(R, xp)
    deficient = not cond * rcond < 1
    if deficient and not fallback_svd:
        raise _RankDeficient(cond)
    qtb = Q.T @ b2
    if not deficient:
        return _tri_solve(R, qtb, xp), cond, n, None, "qr"
    x, rank, s = _svd_solve(R, qtb, rcond, xp)
    return x, _s_cond(s), rank, s, "svd"


def _s_cond(s) -> float:
    if s.shape[0] == 0:
        return math.nan
    smin = float(s[-1])
    return float(s[0]) / smin if smin > 0 else math.inf


def _p2_scale(A, xp) -> float:
    """A power of two bringing ``max|A|`` near 1 when sums of squares would over/underflow."""
    if A.shape[0] == 0 or A.shape[1] == 0:
        return 1.0
    amax = float(xp.max(xp.abs(A)))
    if amax == 0.0 or not math.isfinite(amax):
        return 1.0
    info = np.finfo(_np_dtype(A.dtype, xp))
    if float(info.tiny) ** 0.25 <= amax <= float(info.max) ** 0.25:
        return 1.0
    return math.ldexp(1.0, math.frexp(amax)[1] - 1)


def lstsq(A, b, method="auto", rcond=None, *, check_finite=True, result_type=None):
    """The array-API twin of :func:`dotwise.linalg.lstsq` (module docstring: how).

    ``result_type`` is :class:`~dotwise.linalg.LstsqResult` (passed in by the caller).
    """
    LstsqResult = result_type
    from ._common import (
        ILL_CONDITIONED,
        METHODS,
        _normal_max_cond,
        _singular_advice,
        resolve_rcond,
    )

    xp, dev = array_namespace(("A", A), ("b", b))
    A = float_array(A, "A", xp, ndim=2, allow_empty=True, check_finite=check_finite)
    b = float_array(b, "b", xp, ndim=(1, 2), allow_empty=True, check_finite=check_finite)
    check_choice(method, "method", METHODS)
    m, n = A.shape
    if b.shape[0] != m:
        raise ShapeError(
            f"A and b must have the same number of rows: A has shape {tuple(A.shape)} ({m} "
            f"rows), b has shape {tuple(b.shape)} ({b.shape[0]} rows); b must have shape "
            f"({m},) or ({m}, k)")
    dtype = xp.result_type(A, b)
    A, b = xp.astype(A, dtype), xp.astype(b, dtype)
    if rcond is not None and (isinstance(rcond, bool) or not np.isscalar(rcond)
                              or not np.isreal(rcond)):
        raise TypeError(f"rcond must be a real number or None, got {describe(rcond)}")
    npdt = _np_dtype(dtype, xp)
    rcond = resolve_rcond(rcond, m, n, npdt)
    one_d = b.ndim == 1
    b2 = xp.reshape(b, (m, 1)) if one_d else b
    k = b2.shape[1]

    def result(x, res, rank, cond, used, s):
        if one_d:
            x, res = x[:, 0], float(res[0])
        return LstsqResult(x=x, residual_norm=res, rank=int(rank), cond=float(cond),
                           method=used, rcond=float(rcond), singular_values=s)

    if m == 0 or n == 0 or k == 0:
        x = xp.zeros((n, k), dtype=dtype, device=dev)
        res = xp.linalg.vector_norm(b2, axis=0) if m else xp.zeros(k, dtype=dtype, device=dev)
        return result(x, res, 0, math.nan if n == 0 else math.inf, "empty", None)

    sa, sb = _p2_scale(A, xp), _p2_scale(b2, xp)
    if sa != 1.0 or sb != 1.0:  # solve at a safe magnitude (exact powers of two), scale back
        res = lstsq(A / sa, b / sb, method, rcond, check_finite=False, result_type=result_type)
        x = res.x * (sb / sa)
        if not bool(xp.all(xp.isfinite(x))):
            raise FloatRangeError(
                f"the solution x overflows {npdt}: its entries exceed "
                f"{np.finfo(npdt).max:.3g}; rescale A or b so that x is representable")
        sv = None if res.singular_values is None else res.singular_values * sa
        return LstsqResult(x=x, residual_norm=res.residual_norm * sb, rank=res.rank,
                           cond=res.cond, method=res.method, rcond=res.rcond,
                           singular_values=sv)

    s = None
    used = method
    rank = min(m, n)
    if method == "auto":
        used = "svd"
        if m >= n:
            try:
                x, cond = _normal(A, b2, _normal_max_cond(npdt), xp)
                used = "normal"
            except _RankDeficient:
                x, cond, rank, s, used = _qr(A, b2, rcond, xp, fallback_svd=True)
        if used == "svd" and s is None:
            x, rank, s = _svd_solve(A, b2, rcond, xp)
    elif method == "normal":
        if m < n:
            raise np.linalg.LinAlgError(
                f"method='normal' needs at least as many rows as columns: A has shape "
                f"{tuple(A.shape)}, so AᵀA ({n}×{n}) is singular. Use method='svd' (or "
                f"'auto') for the minimum-norm solution, or ridge(A, b, alpha).")
        try:
            x, cond = _normal(A, b2, 1.0 / math.sqrt(rcond) if rcond > 0 else math.inf, xp)
        except _RankDeficient as exc:
            raise np.linalg.LinAlgError(_singular_advice(_Shape(A), "normal", exc.cond)) from None
    elif method == "qr":
        try:
            x, cond, rank, _, _ = _qr(A, b2, rcond, xp)
        except _RankDeficient as exc:
            raise np.linalg.LinAlgError(_singular_advice(_Shape(A), "qr", exc.cond)) from None
    else:
        x, rank, s = _svd_solve(A, b2, rcond, xp)
    if s is not None:
        cond = _s_cond(s)
    res = xp.linalg.vector_norm(b2 - A @ x, axis=0)
    shape = tuple(A.shape)
    if rank < min(m, n):
        warn_ill_conditioned(
            cond, what=f"A (shape {shape}, numerical rank {rank} < {min(m, n)})",
            advice="It is rank-deficient: the minimum-norm solution was returned; "
                   "consider ridge(A, b, alpha) or dropping dependent columns.", stacklevel=4)
    elif cond > ILL_CONDITIONED:
        warn_ill_conditioned(
            cond, what=f"A (shape {shape})",
            advice="Consider ridge(A, b, alpha) or rescaling/removing nearly dependent "
                   "columns.", stacklevel=4)
    return result(x, res, rank, cond, used, s)


def ridge(A, b, alpha=1.0, *, check_finite=True):
    """The array-API twin of :func:`dotwise.linalg.ridge` (module docstring: how)."""
    from ._common import _normal_max_cond, default_rcond

    xp, dev = array_namespace(("A", A), ("b", b),
                              ("alpha", alpha if is_array_api(alpha) else None))
    A = float_array(A, "A", xp, ndim=2, allow_empty=True, check_finite=check_finite)
    b = float_array(b, "b", xp, ndim=(1, 2), allow_empty=True, check_finite=check_finite)
    if b.shape[0] != A.shape[0]:
        raise ShapeError(
            f"A and b must have the same number of rows: A has shape {tuple(A.shape)}, b has "
            f"shape {tuple(b.shape)}; b must have shape ({A.shape[0]},) or ({A.shape[0]}, k)")
    one_d = b.ndim == 1
    m, n = A.shape
    b2 = xp.reshape(b, (m, 1)) if one_d else b
    k = b2.shape[1]
    dtype = xp.result_type(A, b)
    # alpha is a hyper-parameter: a number or a few host values are copied to the device
    if is_array_api(alpha):
        a = float_array(alpha, "alpha", xp, ndim=(0, 1), allow_empty=True)
        a_host = None
    else:
        a_host = as_float_array(alpha, "alpha", ndim=(0, 1), check_finite=True)
        a = xp.asarray(a_host, dtype=dtype, device=dev)
    if a.ndim == 1 and a.shape[0] != k:
        raise ShapeError(f"alpha must be a scalar or have one value per column of b ({k}), got "
                         f"shape {tuple(a.shape)}")
    if bool(xp.any(a < 0)):
        shown = a_host.tolist() if a_host is not None else "a negative value"
        raise ValueError(f"alpha must be >= 0, got {shown}")
    if m == 0 or n == 0 or k == 0:
        x = xp.zeros((n, k), dtype=dtype, device=dev)
        return x[:, 0] if one_d else x
    A, b2, a = xp.astype(A, dtype), xp.astype(b2, dtype), xp.astype(a, dtype)
    if a.ndim == 0 and float(a) > 0 and m >= n:
        try:  # Cholesky of AᵀA + αI and one refinement step, when well-conditioned
            x = _normal(A, b2, _normal_max_cond(_np_dtype(dtype, xp)), xp, shift=float(a))[0]
            return x[:, 0] if one_d else x
        except _RankDeficient:
            pass
    if m >= 2 * n:  # tall: the SVD of R from a QR has A's singular values, far cheaper
        Q, R = xp.linalg.qr(A, mode="reduced")
        U, s, Vt = xp.linalg.svd(R, full_matrices=False)
        utb = U.T @ (Q.T @ b2)
    else:
        U, s, Vt = xp.linalg.svd(A, full_matrices=False)
        utb = U.T @ b2
    sc = xp.expand_dims(s, axis=1)
    denom = sc**2 + xp.expand_dims(xp.broadcast_to(a, (k,)), axis=0)
    keep = xp.expand_dims(s > default_rcond(m, n, _np_dtype(dtype, xp)) * s[0], axis=1)
    ok = keep & (denom > 0)
    filt = xp.where(ok, sc / xp.where(ok, denom, xp.ones_like(denom)), xp.zeros_like(denom))
    x = Vt.T @ (filt * utb)
    return x[:, 0] if one_d else x
