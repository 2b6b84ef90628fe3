r"""``lstsq`` and ``ridge`` for tall Dask arrays chunked along rows: TSQR, then the small R.

:func:`dotwise.linalg.lstsq` and :func:`dotwise.linalg.ridge` hand a Dask ``A``
here. One pass over ``A`` (and ``b``) builds the TSQR factors
:math:`[A\;b] = Q[[R, c], [0, T]]` (:mod:`dotwise.scale.tsqr`); everything after
that works on ``n × n`` matrices on the client, with the in-memory rules:

* ``auto`` / ``qr``: the LAPACK 1-norm condition estimate of ``R`` (``trcon``);
  when :math:`\kappa \cdot \text{rcond} < 1`, :math:`x = R^{-1} c` (``"tsqr"``);
  otherwise (``auto``) the SVD of ``R`` — the singular values of ``A`` itself —
  gives the minimum-norm solution with singular values below
  ``rcond * s_max`` dropped (``"tsqr-svd"``); ``qr`` raises ``LinAlgError``.
* ``svd`` / ``pinv``: always the SVD of ``R`` (``"tsqr-svd"``).
* ``normal`` is not offered: TSQR reads ``A`` once, as the Gram matrix would,
  without squaring the condition number.

Unlike ``dask.array.linalg.lstsq`` — which forms ``Q``, reads ``A`` again for the
residuals, has no ``rcond`` and takes the singular values from the eigenvalues
of :math:`R^\top R` (squaring the condition number) — the singular values here are
those of ``R`` and the rank decision follows ``rcond``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._dask import check_row_chunks, compute, require_dask
from .._kernels import default_rcond, rank_tol, resolve_rcond, svd_cond
from .._kernels import lapack_function as _get
from .._kernels import lstsq_result as _result
from .._kernels import pinv_solve as _pinv
from .._kernels import triangular_cond as _tri_cond
from .._validation import ShapeError, as_float_array, check_choice, describe
from ..linalg.lstsq import ILL_CONDITIONED, METHODS, LstsqResult
from .tsqr import TSQRFactors, align_rows, split_factors, tsqr_graph

__all__ = ["lstsq", "ridge", "solve_factors", "warn_conditioning"]


def _prepare(A, b, da, what: str):
    """Validate a Dask ``A`` (m, n) and ``b``; return (A, B aligned, dtype, one_d)."""
    if A.ndim != 2:
        raise ShapeError(f"A must be a 2-D matrix, got {A.ndim}-D Dask array of shape {A.shape}")
    if A.dtype.kind not in "fiub":
        raise TypeError(f"A must contain real numbers, got a Dask array of dtype {A.dtype}")
    check_row_chunks(A, "A", what=what)
    if not hasattr(b, "to_delayed"):
        b = as_float_array(b, "b", ndim=(1, 2), check_finite=False, allow_empty=True)
    elif b.dtype.kind not in "fiub":
        raise TypeError(f"b must contain real numbers, got a Dask array of dtype {b.dtype}")
    if b.ndim not in (1, 2):
        raise ShapeError(f"b must be a 1-D vector or 2-D matrix, got shape {b.shape}")
    m, n = A.shape
    if b.shape[0] != m:
        raise ShapeError(
            f"A and b must have the same number of rows: A has shape {A.shape} ({m} rows), "
            f"b has shape {b.shape} ({b.shape[0]} rows); b must have shape ({m},) or ({m}, k)"
        )
    dtype = np.result_type(_float(A.dtype), _float(b.dtype))
    return A, align_rows(b, A, "b", da), dtype, b.ndim == 1


def _float(dtype) -> np.dtype:
    dtype = np.dtype(dtype)
    return dtype if dtype.kind == "f" and dtype.itemsize >= 4 else np.dtype(np.float64)


def _factors(A, B, dtype, check_finite, client, shift=None, weights=None) -> TSQRFactors:
    graph = tsqr_graph(A, B, dtype=dtype, check_finite=check_finite, shift=shift,
                       weights=weights)
    (R_aug,) = compute(graph, client=client)
    return split_factors(R_aug, A.shape[1], A.shape[0])


def solve_factors(f: TSQRFactors, method: str, rcond: float, shape: tuple[int, int]):
    """Least squares from the TSQR factors: ``(x (n, k), rank, cond, s_or_None, used)``.

    The same rule as the in-memory ``qr`` route with its SVD fallback; see the
    module docstring. Raises ``LinAlgError`` for ``method="qr"`` on a singular ``R``.
    """
    R, c = f.R, f.qtb
    n = R.shape[1]
    if method in ("auto", "qr"):
        cond = _tri_cond(R)
        if cond * rcond < 1:
            x, info = _get("trtrs", R)(R, c, lower=0)
            if info == 0:
                return x, n, cond, None, "tsqr"
        if method == "qr":
            from types import SimpleNamespace

            from .._kernels import singular_advice as _singular_advice

            advice = _singular_advice(SimpleNamespace(shape=tuple(shape)), "qr", cond)
            raise np.linalg.LinAlgError(advice)
    x, rank, s = _pinv(R, c, rcond)
    return x, rank, svd_cond(s), s, "tsqr-svd"


def warn_conditioning(shape, rank: int, cond: float, *, stacklevel: int) -> None:
    """The in-memory ``lstsq`` warnings: rank-deficient, or condition above 1e10."""
    from .._validation import warn_ill_conditioned

    if rank < min(shape):
        warn_ill_conditioned(
            cond, what=f"A (shape {shape}, numerical rank {rank} < {min(shape)})",
            advice="It is rank-deficient: the minimum-norm solution was returned; "
                   "consider ridge(A, b, alpha) or dropping dependent columns.",
            stacklevel=stacklevel + 1)
    elif cond > ILL_CONDITIONED:
        warn_ill_conditioned(
            cond, what=f"A (shape {shape})",
            advice="Consider ridge(A, b, alpha) or rescaling/removing nearly dependent "
                   "columns.", stacklevel=stacklevel + 1)


def lstsq(A, b, method: str = "auto", rcond: float | None = None, *,
          check_finite: bool = True, client: Any = None, _stacklevel: int = 2) -> LstsqResult:
    r"""Least squares :math:`\min_x \lVert A x - b \rVert_2` for a tall Dask ``A``, by TSQR.

    Called by :func:`dotwise.linalg.lstsq` for a Dask ``A``; the parameters,
    warnings and result mean the same (see there), with these differences:

    Parameters
    ----------
    A : dask.array.Array of shape (m, n), m >= n
        Chunked along rows only: ``A.numblocks[1] == 1`` (else ``ValueError``
        saying how to rechunk).
    b : dask.array.Array or ndarray of shape (m,) or (m, k)
        Rechunked to ``A``'s row chunks when they differ.
    method : {"auto", "qr", "svd", "pinv"}, default="auto"
    rcond : float, optional
        Default ``eps * max(m, n)``, as in memory.
    check_finite : bool, default=True
        Scan the input for NaN and infinity first and name the first one found
        (one fast pass). ``False`` skips the scan: a non-finite value then
        spreads into the result or stops LAPACK with an error of its own.
    client : distributed.Client, optional
        Default: the active client, else Dask's local scheduler.

    Returns
    -------
    LstsqResult
        ``x`` as a NumPy array; ``method`` is ``"tsqr"`` or ``"tsqr-svd"``;
        ``residual_norm`` from the factors (no second pass); ``cond`` the ``trcon``
        estimate for ``"tsqr"``, exact for ``"tsqr-svd"``.

    Raises
    ------
    ShapeError, ValueError, TypeError, numpy.linalg.LinAlgError
        As in memory; ``ValueError`` also for column-chunked ``A``, for
        ``method="normal"`` and for wide ``A`` (m < n).

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> import dotwise as dw
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((10_000, 3)); x_true = np.array([1.0, -2.0, 0.5])
    >>> res = dw.lstsq(da.from_array(A, chunks=(2_500, 3)), A @ x_true)
    >>> res.method, res.x.round(8), res.rank
    ('tsqr', array([ 1. , -2. ,  0.5]), 3)
    """
    da = require_dask("lstsq on a Dask array")
    check_choice(method, "method", METHODS)
    if method == "normal":
        raise ValueError(
            "method='normal' is not available for Dask arrays: TSQR ('auto') reads A once, "
            "as forming AᵀA would, without squaring the condition number; use method='auto'"
        )
    A, B, dtype, one_d = _prepare(A, b, da, "lstsq")
    m, n = A.shape
    if rcond is not None and (isinstance(rcond, bool) or not np.isscalar(rcond)
                              or not np.isreal(rcond)):
        raise TypeError(f"rcond must be a real number or None, got {describe(rcond)}")
    rcond = resolve_rcond(rcond, m, n, dtype)
    B2 = B if B.ndim == 2 else B[:, None]
    k = B2.shape[1]
    if m == 0 or n == 0 or k == 0:  # the in-memory edge cases, without gathering b
        x = np.zeros((n, k), dtype=dtype)
        res = (np.asarray(compute(da.sqrt((B2.astype(dtype) ** 2).sum(axis=0)),
                                  client=client)[0]) if m and k else np.zeros(k, dtype=dtype))
        return _result(x, res, 0, float("nan") if n == 0 else float("inf"), "empty", rcond,
                       None, one_d)
    if m < n:
        raise ShapeError(
            f"lstsq on a Dask array needs a tall A (at least as many rows as columns), got "
            f"shape {A.shape}; for a wide problem call dotwise.lstsq(A.compute(), b) in memory"
        )
    f = _factors(A, B2, dtype, check_finite, client)
    x, rank, cond, s, used = solve_factors(f, method, rcond, A.shape)
    x = np.asarray(x, dtype=dtype)
    res = f.residual_norms(x).astype(dtype)
    warn_conditioning(A.shape, rank, cond, stacklevel=_stacklevel + 1)
    return _result(x, res, rank, cond, used, rcond, s, one_d)


def ridge_from_factors(f: TSQRFactors, alpha_arr: np.ndarray, dtype, shape):
    r"""Ridge solution :math:`V \operatorname{diag}(s/(s^2+\alpha)) U^\top c` from ``R = U S Vᵀ``.

    Returns ``(x (n, k), s, Vt, keep)``; singular values at or below the default
    rank tolerance ``eps * max(m, n) * s_max`` are dropped, as in memory.
    """
    U, s, Vt = np.linalg.svd(f.R)
    utb = U.T @ f.qtb
    k = utb.shape[1]
    denom = s[:, None] ** 2 + np.broadcast_to(alpha_arr, (k,))[None, :]
    keep = s > rank_tol(s, default_rcond(*shape, dtype))
    with np.errstate(divide="ignore", invalid="ignore"):
        filt = np.where(keep[:, None] & (denom > 0), s[:, None] / denom, 0.0)
    return (Vt.T @ (filt * utb)).astype(dtype, copy=False), s, Vt, keep


def ridge(A, b, alpha=1.0, *, check_finite: bool = True, client: Any = None) -> np.ndarray:
    r"""Ridge regression :math:`\min_x \lVert A x - b\rVert^2 + \alpha\lVert x\rVert^2`, Dask ``A``.

    Called by :func:`dotwise.linalg.ridge` for a Dask ``A``: one TSQR pass gives
    ``R`` and :math:`c = Q^\top b`; since
    :math:`\lVert Ax - b\rVert^2 = \lVert Rx - c\rVert^2 + \text{const}`, the ridge
    problem in ``A`` is the ridge problem in ``R``, solved through the SVD
    :math:`R = U S V^\top`: :math:`x = V \operatorname{diag}(s_i/(s_i^2+\alpha)) U^\top c`.

    Parameters
    ----------
    A : dask.array.Array of shape (m, n), m >= n, chunked along rows only
    b : dask.array.Array or ndarray of shape (m,) or (m, k)
    alpha : float or array_like of shape (k,), default=1.0
    check_finite : bool, default=True
        Scan the input for NaN and infinity first and name the first one found
        (one fast pass). ``False`` skips the scan: a non-finite value then
        spreads into the result or stops LAPACK with an error of its own.
    client : distributed.Client, optional

    Returns
    -------
    ndarray of shape (n,) or (n, k)

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> import dotwise as dw
    >>> A = np.random.default_rng(1).standard_normal((4_000, 3)); b = A.sum(axis=1)
    >>> x = dw.ridge(da.from_array(A, chunks=(1_000, 3)), b, alpha=2.0)
    >>> bool(np.allclose(x, dw.ridge(A, b, alpha=2.0)))
    True
    """
    da = require_dask("ridge on a Dask array")
    A, B, dtype, one_d = _prepare(A, b, da, "ridge")
    k = 1 if B.ndim == 1 else B.shape[1]
    alpha_arr = as_float_array(alpha, "alpha", ndim=(0, 1), check_finite=True)
    if alpha_arr.ndim == 1 and alpha_arr.shape[0] != k:
        raise ShapeError(
            f"alpha must be a scalar or have one value per column of b ({k}), got shape "
            f"{alpha_arr.shape}"
        )
    if np.any(alpha_arr < 0):
        raise ValueError(f"alpha must be >= 0, got {alpha_arr.tolist()}")
    m, n = A.shape
    if m == 0 or n == 0 or k == 0:
        x = np.zeros((n, k), dtype=dtype)
        return x[:, 0] if one_d else x
    if m < n:
        raise ShapeError(
            f"ridge on a Dask array needs a tall A (at least as many rows as columns), got "
            f"shape {A.shape}; for a wide problem call dotwise.ridge(A.compute(), b, alpha)"
        )
    f = _factors(A, B if B.ndim == 2 else B[:, None], dtype, check_finite, client)
    x = ridge_from_factors(f, alpha_arr, dtype, A.shape)[0]
    return x[:, 0] if one_d else x
