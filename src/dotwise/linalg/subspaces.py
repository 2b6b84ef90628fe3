r"""Subspaces and orthogonal projections onto them.

The orthogonal projection of :math:`b` onto the column space of :math:`A` is
the point of col(A) closest to :math:`b`:

.. math::

    p = P b, \qquad P = A A^{+} = U_r U_r^\top,

where :math:`U_r` holds the left singular vectors of the :math:`r` singular
values above the rank tolerance. When :math:`A` has full column rank this is
the textbook :math:`P = A (A^\top A)^{-1} A^\top`, but computed without ever
forming that inverse, and it stays correct when the columns are dependent
(rank-deficient ``A``): dependent columns add nothing to col(A).

The rank tolerance is the same as NumPy's ``matrix_rank``: singular values
:math:`\sigma_i \le \text{rcond} \cdot \sigma_{\max}` count as zero, with default
``rcond = eps * max(m, n)`` for the dtype.

``project``, ``projection_matrix`` and ``complement_projection`` also accept
array-API arrays (CuPy, PyTorch, ...): the basis then comes from the
namespace's ``linalg.svd``, on the input's device, and the result is of the
input's kind.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import ShapeError, as_float_array
from .._xp import is_array_api
from . import _xp_vectors as _xpv
from ._common import as_matrix, check_tol, default_rcond, rank_tol, resolve_rcond

__all__ = [
    "ProjectionReport",
    "check_projection",
    "complement_projection",
    "project",
    "projection_matrix",
]


def _range_basis(A: np.ndarray, rcond: float) -> np.ndarray:
    """Orthonormal basis U_r of col(A): the left singular vectors above the rank tolerance."""
    if A.size == 0:
        return np.zeros((A.shape[0], 0), dtype=A.dtype)
    U, s, _ = np.linalg.svd(A, full_matrices=False)
    r = int(np.count_nonzero(s > rank_tol(s, rcond)))
    return U[:, :r]


def project(b, A, *, rcond: float | None = None, check_finite: bool = True) -> np.ndarray:
    r"""Orthogonal projection of ``b`` onto the column space of ``A``: :math:`p = A A^{+} b`.

    Parameters
    ----------
    b : array_like of shape (m,) or (m, k)
        The vector(s) to project; a 2-D ``b`` projects every column.
    A : array_like of shape (m, n)
        Its columns span the subspace (a 1-D ``A`` is one column). They may be
        linearly dependent: the projection is onto their span.
    rcond : float, optional
        Relative rank tolerance (module docstring); default ``eps * max(m, n)``.
    check_finite : bool, default=True
        Scan the input for NaN and infinity first and name the first one found
        (one fast pass). ``False`` skips the scan: a non-finite value then
        spreads into the result or stops LAPACK with an error of its own.

    Returns
    -------
    ndarray, same shape as ``b``
        :math:`p` in col(A), with the residual :math:`b - p` orthogonal to every
        column of ``A``.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])   # the x–y plane
    >>> project([3.0, 4.0, 5.0], A)
    array([3., 4., 0.])
    >>> A_dep = np.array([[1.0, 2.0], [1.0, 2.0], [0.0, 0.0]])  # rank 1
    >>> project([1.0, 3.0, 7.0], A_dep)
    array([2., 2., 0.])
    """
    if is_array_api(b) or is_array_api(A):  # CuPy, torch...: on their device
        return _xpv.project(b, A, rcond=rcond, check_finite=check_finite)
    A = as_matrix(A, "A", check_finite=check_finite)
    b = as_float_array(b, "b", ndim=(1, 2), check_finite=check_finite, allow_empty=True)
    if b.shape[0] != A.shape[0]:
        raise ShapeError(
            f"b and A must have the same number of rows: b has shape {b.shape}, A has shape "
            f"{A.shape}; b must have shape ({A.shape[0]},) or ({A.shape[0]}, k)"
        )
    dtype = np.result_type(A.dtype, b.dtype)
    U = _range_basis(A.astype(dtype, copy=False), resolve_rcond(rcond, *A.shape, dtype))
    return (U @ (U.T @ b)).astype(dtype, copy=False)


def projection_matrix(A, *, rcond: float | None = None, check_finite: bool = True) -> np.ndarray:
    r"""The matrix :math:`P = A A^{+} = U_r U_r^\top` projecting onto col(A).

    Parameters
    ----------
    A : array_like of shape (m, n)
        Its columns span the subspace; they may be dependent.
    rcond : float, optional
        Relative rank tolerance; default ``eps * max(m, n)``.
    check_finite : bool, default=True
        Scan the input for NaN and infinity first and name the first one found
        (one fast pass). ``False`` skips the scan: a non-finite value then
        spreads into the result or stops LAPACK with an error of its own.

    Returns
    -------
    P : ndarray of shape (m, m)
        Symmetric, idempotent (:math:`P^2 = P`), eigenvalues 0 and 1, trace = rank(A).

    Examples
    --------
    >>> import numpy as np
    >>> P = projection_matrix([[1.0], [1.0]])
    >>> P
    array([[0.5, 0.5],
           [0.5, 0.5]])
    >>> np.allclose(P @ P, P), np.allclose(P, P.T)
    (True, True)
    """
    if is_array_api(A):  # CuPy, torch...: on their device
        return _xpv.projection_matrix(A, rcond=rcond, check_finite=check_finite)
    A = as_matrix(A, "A", check_finite=check_finite)
    U = _range_basis(A, resolve_rcond(rcond, *A.shape, A.dtype))
    return U @ U.T


def complement_projection(A, *, rcond: float | None = None,
                          check_finite: bool = True) -> np.ndarray:
    r"""The matrix :math:`I - P` projecting onto the orthogonal complement of col(A).

    For any ``b``, ``(I - P) b`` is the least-squares residual of ``A x ≈ b``.

    Parameters
    ----------
    A : array_like of shape (m, n)
    rcond : float, optional
        Relative rank tolerance; default ``eps * max(m, n)``.
    check_finite : bool, default=True
        Scan the input for NaN and infinity first and name the first one found
        (one fast pass). ``False`` skips the scan: a non-finite value then
        spreads into the result or stops LAPACK with an error of its own.

    Returns
    -------
    ndarray of shape (m, m)
        Symmetric, idempotent, trace = m − rank(A), and ``(I - P) @ A ≈ 0``.

    Examples
    --------
    >>> complement_projection([[1.0], [1.0]])
    array([[ 0.5, -0.5],
           [-0.5,  0.5]])
    """
    if is_array_api(A):  # CuPy, torch...: on their device
        return _xpv.complement_projection(A, rcond=rcond, check_finite=check_finite)
    P = projection_matrix(A, rcond=rcond, check_finite=check_finite)
    out = -P
    out[np.diag_indices_from(out)] += 1.0
    return out


@dataclass(frozen=True)
class ProjectionReport:
    """Which defining properties of an orthogonal projection a matrix has, and by how much.

    Attributes
    ----------
    shape : tuple of int
    idempotent, symmetric, eigenvalues_01, trace_equals_rank : bool
        Each test passes when its error is at most ``tol``.
    idempotence_error : float
        :math:`\\lVert P^2 - P \\rVert_F`.
    symmetry_error : float
        :math:`\\lVert P - P^\\top \\rVert_F`.
    eigenvalue_error : float
        :math:`\\max_i \\min(|\\lambda_i|, |\\lambda_i - 1|)` over the eigenvalues.
    trace : float
    rank : int
        Numerical rank (SVD, NumPy's default tolerance).
    trace_rank_error : float
        :math:`|\\operatorname{tr} P - \\operatorname{rank} P|`.
    tol : float
        The tolerance every test used: ``10 * m * eps * max(1, ‖P‖_F)``.
    """

    shape: tuple[int, int]
    idempotent: bool
    symmetric: bool
    eigenvalues_01: bool
    trace_equals_rank: bool
    idempotence_error: float
    symmetry_error: float
    eigenvalue_error: float
    trace: float
    rank: int
    trace_rank_error: float
    tol: float

    @property
    def is_projection(self) -> bool:
        """P² = P (an oblique projection is allowed)."""
        return self.idempotent

    @property
    def is_orthogonal_projection(self) -> bool:
        """All four properties hold: P projects orthogonally onto its range."""
        return (self.idempotent and self.symmetric and self.eigenvalues_01
                and self.trace_equals_rank)

    def __str__(self) -> str:
        def mark(ok: bool) -> str:
            return "✓" if ok else "✗"

        kind = ("an orthogonal projection" if self.is_orthogonal_projection else
                "an oblique (non-symmetric) projection" if self.is_projection else
                "not a projection")
        m = self.shape[0]
        return "\n".join([
            f"ProjectionReport: {m}×{m} matrix is {kind} (tolerance {self.tol:.1e})",
            f"  {mark(self.idempotent)} idempotent       ‖P² − P‖_F = {self.idempotence_error:.2e}",
            f"  {mark(self.symmetric)} symmetric        ‖P − Pᵀ‖_F = {self.symmetry_error:.2e}",
            f"  {mark(self.eigenvalues_01)} eigenvalues 0/1  max distance = "
            f"{self.eigenvalue_error:.2e}",
            f"  {mark(self.trace_equals_rank)} trace = rank     trace {self.trace:.6g}, "
            f"rank {self.rank}, |difference| = {self.trace_rank_error:.2e}",
        ])


def check_projection(P, *, tol: float | None = None,
                     check_finite: bool = True) -> ProjectionReport:
    r"""Test the four defining properties of an orthogonal projection matrix.

    An orthogonal projection :math:`P` satisfies :math:`P^2 = P`,
    :math:`P^\top = P`, has eigenvalues in :math:`\{0, 1\}`, and
    :math:`\operatorname{tr} P = \operatorname{rank} P`. Each is measured, not
    just asserted.

    Parameters
    ----------
    P : array_like of shape (m, m)
    tol : float, optional
        Absolute tolerance for every test; default ``10 * m * eps * max(1, ‖P‖_F)``.
    check_finite : bool, default=True
        Scan the input for NaN and infinity first and name the first one found
        (one fast pass). ``False`` skips the scan: a non-finite value then
        spreads into the result or stops LAPACK with an error of its own.

    Returns
    -------
    ProjectionReport

    Examples
    --------
    >>> rep = check_projection([[0.5, 0.5], [0.5, 0.5]])
    >>> rep.is_orthogonal_projection, rep.rank, rep.trace
    (True, 1, 1.0)
    >>> check_projection([[1.0, 1.0], [0.0, 0.0]]).symmetric   # oblique projection
    False
    """
    P = as_float_array(P, "P", ndim=2, check_finite=check_finite, allow_empty=True)
    m, n = P.shape
    if m != n:
        raise ShapeError(f"P must be a square matrix, got shape {P.shape}")
    eps = float(np.finfo(P.dtype).eps)
    if tol is None:  # ‖P‖_F scaled by max|P_ij| so that it cannot overflow
        with np.errstate(over="ignore"):
            amax = float(np.max(np.abs(P))) if P.size else 0.0
            fro = amax * float(np.linalg.norm(P / amax)) if amax > 0 else 0.0
        tol = 10 * max(m, 1) * eps * max(1.0, fro)
    else:
        tol = check_tol(tol)
    if m == 0:
        return ProjectionReport((0, 0), True, True, True, True, 0.0, 0.0, 0.0, 0.0, 0, 0.0,
                                tol)
    P64 = P.astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        idem = float(np.linalg.norm(P64 @ P64 - P64))
        sym = float(np.linalg.norm(P64 - P64.T))
    if sym <= tol:
        lam = np.linalg.eigvalsh((P64 + P64.T) / 2).astype(complex)
    else:
        lam = np.linalg.eigvals(P64)
    eig_err = float(np.max(np.minimum(np.abs(lam), np.abs(lam - 1))))
    sv = np.linalg.svd(P64, compute_uv=False)
    rank = int(np.count_nonzero(sv > rank_tol(sv, default_rcond(m, n, P.dtype))))
    trace = float(np.trace(P64))
    tr_err = abs(trace - rank)
    return ProjectionReport(
        shape=(m, n), idempotent=idem <= tol, symmetric=sym <= tol,
        eigenvalues_01=eig_err <= tol, trace_equals_rank=tr_err <= max(tol, m * eps),
        idempotence_error=idem, symmetry_error=sym, eigenvalue_error=eig_err,
        trace=trace, rank=rank, trace_rank_error=tr_err, tol=tol,
    )
