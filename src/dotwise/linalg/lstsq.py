r"""Linear least squares: :math:`\min_x \lVert A x - b \rVert_2`, and ridge regression.

Five methods, one result type (:class:`LstsqResult`):

``normal``
    Cholesky of the Gram matrix :math:`G = A^\top A`, after scaling the
    columns of ``A`` to unit length, followed by one step of iterative
    refinement. With the compiled loops (``dotwise._dwloops``, up to 256
    columns of ``A`` and ``b`` together) ``A`` is read twice on the worker
    threads: one sweep for :math:`[A\ b]^\top [A\ b]` (the Gram matrix,
    :math:`A^\top b` and :math:`\lVert b \rVert^2`), one for the refinement's
    :math:`A^\top r` and :math:`\lVert r \rVert^2`, sums in float64; otherwise BLAS
    ``syrk`` and ``gemm``. It squares the condition number, so it is only
    accurate when :math:`\kappa(A)^2 \epsilon \ll 1`.
``qr``
    Householder QR (LAPACK ``geqrf``, ``ormqr`` and ``trtrs`` through
    :mod:`scipy.linalg.lapack` — the operation is written by hand in
    :func:`dotwise.linalg.householder_qr`; here speed matters): backward stable,
    error :math:`\propto \kappa(A)\,\epsilon`. Needs full column rank
    (full row rank, via the QR of :math:`A^\top`, when ``m < n``).
``svd``
    LAPACK ``gelsd`` (divide-and-conquer SVD): handles any rank and returns the
    minimum-norm solution, with singular values below ``rcond * s_max`` treated
    as zero.
``pinv``
    The pseudo-inverse written out, :math:`x = V \Sigma^{+} U^\top b`, from an
    explicit thin SVD: the textbook formula, same answer as ``svd``.
``auto``
    The fastest method that is accurate for the problem: the normal equations
    when the (column-scaled) condition estimate from the Cholesky factor says
    :math:`\kappa^2 \epsilon` is small (see ``_normal_max_cond``: κ ≤ 8e4 in float64), otherwise
    Householder QR, and when R is numerically singular the SVD of the small
    ``n × n`` factor R (same singular values as ``A``; the minimum-norm solution,
    reported as ``"svd"``). Wide ``A`` goes straight to ``gelsd``.
    ``LstsqResult.method`` reports what actually ran.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.linalg
from scipy.linalg import blas, lapack

from .. import _loops
from .._dask import is_dask_array
from .._threads import one_blas_thread
from .._validation import (
    FloatRangeError,
    ShapeError,
    as_float_array,
    check_choice,
    describe,
    warn_ill_conditioned,
)
from .._xp import is_array_api
from ._common import (  # the constants and the two helpers are shared with _xp_lstsq
    ILL_CONDITIONED,
    METHODS,
    _normal_max_cond,
    _singular_advice,
    default_rcond,
    power_of_two_scale,
    rank_tol,
    resolve_rcond,
    svd_cond,
)

__all__ = ["ILL_CONDITIONED", "METHODS", "LstsqResult", "lstsq", "ridge"]

@dataclass(frozen=True)
class LstsqResult:
    """Solution of :math:`\\min_x \\lVert A x - b \\rVert_2`.

    Attributes
    ----------
    x : ndarray of shape (n,) or (n, k)
        The solution (the minimum-norm one when ``A`` is rank-deficient).
    residual_norm : float or ndarray of shape (k,)
        :math:`\\lVert A x - b \\rVert_2`, per column of ``b`` for a 2-D ``b``.
    rank : int
        Numerical rank of ``A`` (``min(m, n)`` when a full-rank method succeeded).
    cond : float
        2-norm condition number of ``A``: exact (``s_max / s_min``) for ``svd`` and
        ``pinv``; a LAPACK 1-norm estimate from the triangular factor (within a
        factor of about ``n``) for ``normal`` and ``qr``; ``inf`` if singular,
        ``nan`` for an empty problem.
    method : str
        The method that actually ran (``auto`` resolves to one of the others;
        ``"empty"`` when ``A`` or ``b`` has no entries).
    rcond : float
        The relative tolerance used for the rank decision.
    singular_values : ndarray of shape (min(m, n),) or None
        Singular values of ``A`` when an SVD was computed, else ``None``.
    """

    x: np.ndarray
    residual_norm: np.ndarray | float
    rank: int
    cond: float
    method: str
    rcond: float = float("nan")
    singular_values: np.ndarray | None = field(default=None, repr=False)

    def __str__(self) -> str:
        res = self.residual_norm
        res_text = f"{res:.4g}" if np.ndim(res) == 0 else np.array2string(
            np.asarray(res), precision=4)
        return (f"LstsqResult(method={self.method!r}, x shape={self.x.shape}, "
                f"residual_norm={res_text}, rank={self.rank}, cond={self.cond:.3g})")


def _get(name: str, *arrays: np.ndarray):
    return lapack.get_lapack_funcs(name, arrays)


class _RankDeficient(Exception):
    def __init__(self, cond: float):
        super().__init__(cond)
        self.cond = cond


# ---------------------------------------------------------------- normal equations
def _gram(A: np.ndarray) -> np.ndarray:
    """Upper triangle of AᵀA through BLAS syrk, without copying A."""
    syrk = blas.get_blas_funcs("syrk", (A,))
    if A.flags.c_contiguous:  # A.T is Fortran-ordered: G = (Aᵀ)(Aᵀ)ᵀ
        return syrk(1.0, A.T, trans=0, lower=0)
    if A.flags.f_contiguous:
        return syrk(1.0, A, trans=1, lower=0)
    return syrk(1.0, np.ascontiguousarray(A).T, trans=0, lower=0)


def _product(A: np.ndarray, X: np.ndarray, *, trans: bool = False) -> np.ndarray:
    """``A @ X`` (``Aᵀ @ X`` with ``trans``) through SciPy's BLAS, without copying ``A``.

    The Gram matrix and its factors already go through SciPy's BLAS and LAPACK; doing
    the products with ``A`` there too keeps each solve on one BLAS library. NumPy and
    SciPy bundle separate OpenBLAS copies, and alternating between them leaves one
    copy's idle threads spinning while the other's work, so two threads came out
    slower than one.
    """
    gemm = blas.get_blas_funcs("gemm", (A, X))
    if not (A.flags.c_contiguous or A.flags.f_contiguous):
        A = np.asfortranarray(A)
    if A.flags.f_contiguous:
        return gemm(1.0, A, X, trans_a=int(trans))
    return gemm(1.0, A.T, X, trans_a=int(not trans))   # A.T is Fortran-ordered


def _normal(A: np.ndarray, b2: np.ndarray, max_cond: float, shift: float = 0.0,
            gram: np.ndarray | None = None):
    """Cholesky of the column-scaled Gram matrix plus one refinement step.

    With ``shift = α > 0`` it solves the ridge normal equations
    ``(AᵀA + αI) x = Aᵀb`` instead (the Gram matrix of ``[A; √α I]``).
    Returns ``(x, cond_estimate_of_A, cond_estimate_of_scaled_A, residual_norm)``;
    raises :class:`_RankDeficient` when the factorization fails or the scaled
    condition estimate exceeds ``max_cond``.

    With the compiled loops (:func:`dotwise._loops.gram_supported`) ``A`` is read
    twice in all: one sweep gives ``[A b]ᵀ[A b]`` — the Gram matrix, ``Aᵀb`` and
    ``‖b‖²`` (``gram``, when the caller already has it) — and one gives the
    refinement's ``Aᵀr`` and ``‖r‖²``; the residual norm of the refined solution
    follows from those sums. The sums are in float64. Otherwise BLAS does each
    product (``residual_norm`` is then ``None``: the caller computes it).
    """
    n = A.shape[1]
    fused = gram is not None or _loops.gram_supported(A, b2)
    if fused:
        if gram is None:
            gram = _loops.gram_aug(A, b2)
        G0, atb = gram[:n, :n], gram[:n, n:]
        G = G0.copy()
    else:
        G = _gram(A)
    if shift:
        G[np.diag_indices_from(G)] += shift
    d = np.sqrt(np.diag(G))
    if not np.all(d > 0):
        raise _RankDeficient(float("inf"))
    Gs = G / np.outer(d, d)
    potrf, trcon, potrs = _get("potrf", Gs), _get("trcon", Gs), _get("potrs", Gs)
    R, info = potrf(Gs, lower=0, clean=1, overwrite_a=1)
    if info != 0:
        raise _RankDeficient(float("inf"))
    rc, _ = trcon(R, norm="1", uplo="U", diag="N")
    cond_scaled = 1.0 / rc if rc > 0 else float("inf")
    if not cond_scaled <= max_cond:
        raise _RankDeficient(cond_scaled)
    rc_a, _ = trcon(R * d, norm="1", uplo="U", diag="N")
    cond_a = 1.0 / rc_a if rc_a > 0 else float("inf")

    def solve(rhs: np.ndarray) -> np.ndarray:
        y, _ = potrs(R, rhs / d[:, None], lower=0)
        return y / d[:, None]

    conds = max(cond_a, 1.0), max(cond_scaled, 1.0)
    if not fused:
        x = solve(_product(A, b2, trans=True))
        r = b2 - _product(A, x)
        x += solve(_product(A, r, trans=True) - shift * x)  # one step of iterative refinement
        return x, *conds, None
    x = solve(atb)
    g, ss = _loops.refine(A, b2, x)                       # Aᵀr and ‖r‖², r = b − Ax
    dx = solve(g - shift * x)                             # one step of iterative refinement
    x += dx
    # ‖b − A(x + dx)‖² = ‖r‖² − 2 dxᵀAᵀr + dxᵀ(AᵀA)dx: no third sweep over A
    res2 = ss - 2.0 * np.einsum("ij,ij->j", dx, g) + np.einsum("ij,ij->j", dx, G0 @ dx)
    return x, *conds, np.sqrt(np.maximum(res2, 0.0))


def _in_safe_range(gram: np.ndarray, m: int, n: int, dtype: np.dtype) -> bool:
    """Whether :func:`power_of_two_scale` would return 1 for both ``A`` and ``b``, read from
    the diagonal of ``[A b]ᵀ[A b]`` instead of another sweep over ``A``.

    The diagonal holds each column's sum of squares ``v``, and ``amax² ≤ max v ≤ m·amax²``:
    ``m·tiny^½ ≤ max v ≤ huge^½`` is enough (not necessary: ``False`` only means "look").
    """
    info = np.finfo(dtype)
    low, high = m * float(info.tiny) ** 0.5, float(info.max) ** 0.5
    diag = np.diag(gram)
    # also False for NaN / inf, and for 0 (all zero, or squares that underflowed)
    return all(low <= float(part.max()) <= high for part in (diag[:n], diag[n:]))


# ---------------------------------------------------------------- Householder QR
def _qr(A: np.ndarray, b2: np.ndarray, rcond: float, *, fallback_svd: bool = False):
    """Householder QR through LAPACK: ``A = QR``, then ``R x = (Qᵀb)[:n]``.

    Returns ``(x, cond, rank, singular_values_or_None, method)``. When R is
    numerically singular (1-norm condition estimate above ``1 / rcond``) it raises
    :class:`_RankDeficient`, or with ``fallback_svd`` finishes with the SVD of the
    small ``n × n`` factor R — the same singular values as ``A`` — giving the
    minimum-norm solution, as ``gelsd`` does for tall matrices, without
    refactoring ``A``.
    """
    m, n = A.shape
    if m < n:  # minimum-norm solution from the QR of Aᵀ: A = Rᵀ Qᵀ, x = Q R⁻ᵀ b
        Q, R = scipy.linalg.qr(A.T, mode="economic", check_finite=False)
        cond = _tri_cond(R)
        if not cond * rcond < 1:
            raise _RankDeficient(cond)
        y = scipy.linalg.solve_triangular(R, b2, trans="T", check_finite=False)
        return Q @ y, cond, m, None, "qr"
    R, qtb = _householder(A, b2)
    cond = _tri_cond(R)
    deficient = not cond * rcond < 1
    if deficient and not fallback_svd:
        raise _RankDeficient(cond)
    if not deficient:
        x, info = _get("trtrs", R)(R, qtb, lower=0)
        if info == 0:
            return x, cond, n, None, "qr"
    x, rank, s = _pinv(R, qtb, rcond)
    return x, svd_cond(s), rank, s, "svd"


#: Rows per block of the tall-skinny QR (:func:`_tsqr`).
_TSQR_ROWS = 4096


def _householder(A: np.ndarray, b2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Householder QR of a tall ``A`` (m ≥ n) and ``Qᵀb``: ``(R, (Qᵀb)[:n])``.

    ``R`` is the ``n × n`` upper-triangular factor; Q is never formed. Since
    ‖Ax − b‖² = ‖Rx − (Qᵀb)[:n]‖² + const, any least-squares or ridge problem in
    ``A`` becomes the same problem in the small factor ``R``. A tall C-ordered ``A``
    goes by blocks of rows (:func:`_tsqr`); otherwise LAPACK ``geqrf`` factors an
    F-ordered copy and ``ormqr`` applies ``Qᵀ`` to ``b``.
    """
    m, n = A.shape
    p = n + b2.shape[1]
    if A.flags.c_contiguous and m >= 4 * _TSQR_ROWS and 8 * p <= _TSQR_ROWS:
        return _tsqr(A, b2)
    F = np.array(A, order="F", copy=True)
    geqrf, ormqr = _get("geqrf", F), _get("ormqr", F)
    # a workspace of n·64 lets LAPACK use its blocked (BLAS-3) algorithm; the
    # wrapper's default minimum runs the unblocked one, several times slower
    qr, tau, _, info = geqrf(F, lwork=max(1, 64 * n), overwrite_a=1)
    if info != 0:  # pragma: no cover - LAPACK argument error
        raise np.linalg.LinAlgError(f"LAPACK geqrf failed (info={info})")
    c = np.array(b2, order="F", copy=True)
    qtb, _, _ = ormqr("L", "T", qr, tau, c, max(1, c.shape[1] * 64, n), overwrite_c=1)
    return np.triu(qr[:n, :n]), qtb[:n]


def _tsqr(A: np.ndarray, b2: np.ndarray, rows: int = _TSQR_ROWS):
    """:func:`_householder` for a tall C-ordered ``A``, one block of rows at a time.

    The QR of ``[A b]`` holds both answers: its triangular factor is
    ``[[R, (Qᵀb)[:n]], [0, ·]]``. Each block of rows is stacked under the factor so
    far, in a reused Fortran-ordered buffer that stays in cache, and refactored by
    ``geqrf``; the products of Householder reflections are orthogonal, so this is as
    stable as one QR of the whole matrix. It never copies ``A`` whole (a QR of the
    C-ordered ``A`` needs a transposed copy) and runs BLAS on one thread: the panels
    are too thin for a second thread to pay, and OpenBLAS's threads spinning between
    the many small calls made two threads slower than one.
    """
    m, n = A.shape
    p = n + b2.shape[1]
    geqrf = _get("geqrf", A)
    R = np.zeros((p, p), dtype=A.dtype)
    buf = np.empty((rows + p, p), dtype=A.dtype, order="F")
    with one_blas_thread():
        for start in range(0, m, rows):
            stop = min(start + rows, m)
            M = buf if stop - start == rows else np.empty((stop - start + p, p),
                                                          dtype=A.dtype, order="F")
            M[:p] = R
            M[p:, :n] = A[start:stop]
            M[p:, n:] = b2[start:stop]
            qr, _, _, info = geqrf(M, lwork=64 * p, overwrite_a=1)
            if info != 0:  # pragma: no cover - LAPACK argument error
                raise np.linalg.LinAlgError(f"LAPACK geqrf failed (info={info})")
            R = np.triu(qr[:p])
    return R[:n, :n], R[:n, n:]


def _tri_cond(R: np.ndarray) -> float:
    if R.shape[0] == 0:
        return 1.0
    if not np.all(np.diag(R) != 0):
        return float("inf")
    rc, _ = _get("trcon", R)(R, norm="1", uplo="U", diag="N")
    return 1.0 / rc if rc > 0 else float("inf")


# ---------------------------------------------------------------- SVD and pinv
def _svd(A: np.ndarray, b2: np.ndarray, rcond: float) -> tuple[np.ndarray, int, np.ndarray]:
    x, _, rank, s = scipy.linalg.lstsq(A, b2, cond=rcond, lapack_driver="gelsd",
                                       check_finite=False)
    return x, int(rank), s


def _pinv(A: np.ndarray, b2: np.ndarray, rcond: float) -> tuple[np.ndarray, int, np.ndarray]:
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    keep = s > rank_tol(s, rcond)
    inv = np.zeros_like(s)
    inv[keep] = 1.0 / s[keep]
    return Vt.T @ (inv[:, None] * (U.T @ b2)), int(keep.sum()), s


# ---------------------------------------------------------------- public
def lstsq(A, b, method: str = "auto", rcond: float | None = None, *,
          check_finite: bool = True) -> LstsqResult:
    r"""Least-squares solution of :math:`A x \approx b`.

    Finds :math:`x = \arg\min_x \lVert A x - b \rVert_2`; when several minimise
    (rank-deficient ``A``), the one of smallest norm, :math:`x = A^{+} b`.
    Geometrically :math:`A x` is the projection of ``b`` onto col(A) and the
    residual :math:`b - A x` is orthogonal to every column:
    :math:`A^\top (b - A x) = 0` (the normal equations).

    Parameters
    ----------
    A : array_like of shape (m, n)
        Coefficient matrix. A tall Dask array chunked along rows is solved on its
        cluster by TSQR (:func:`dotwise.scale.linalg.lstsq`; ``method`` then reports
        ``"tsqr"`` or ``"tsqr-svd"``). A CuPy array or PyTorch tensor (any
        array-API array) is solved in its own namespace and on its device through
        ``xp.linalg`` (Cholesky, QR, SVD); ``x`` then is of that kind, ``cond`` is
        exact rather than a LAPACK estimate, and ``svd``/``pinv`` are the same
        SVD formula (the standard has no ``lstsq``): see
        :mod:`dotwise.linalg._xp_lstsq`.
    b : array_like of shape (m,) or (m, k)
        Right-hand side(s); a 2-D ``b`` solves every column.
    method : {"auto", "normal", "qr", "svd", "pinv"}, default="auto"
        See the module docstring. ``auto`` picks the fastest accurate one.
    rcond : float, optional
        Relative tolerance for the rank: singular values (or the triangular
        factor's reciprocal condition) below ``rcond * s_max`` count as zero.
        Default ``eps * max(m, n)`` for the dtype, as in NumPy.
    check_finite : bool, default=True
        Scan the input for NaN and infinity first and name the first one found
        (one fast pass). ``False`` skips the scan: a non-finite value then
        spreads into the result or stops LAPACK with an error of its own.

    Returns
    -------
    LstsqResult
        ``x`` of shape (n,) for a 1-D ``b`` or (n, k), ``residual_norm``,
        ``rank``, ``cond``, ``method`` (the one that ran), ``rcond``,
        ``singular_values`` (SVD methods only). float32 input gives float32 ``x``.

    Raises
    ------
    ShapeError
        ``A`` is not 2-D, ``b`` is not 1-D/2-D, or their row counts differ.
    ValueError
        NaN/Inf in the input (with ``check_finite``), unknown ``method``, bad ``rcond``.
    TypeError
        Non-numeric or ragged input.
    numpy.linalg.LinAlgError
        ``method="normal"`` or ``"qr"`` on a rank-deficient (singular) ``A``; the
        message says to use ``svd``/``auto`` (minimum-norm) or :func:`ridge`.
        ``normal`` counts ``A`` as singular once the Cholesky factor's condition
        estimate exceeds ``1 / sqrt(rcond)``: the Gram matrix squares the singular
        values, so beyond that it is numerically singular.
    FloatRangeError
        The solution itself is not representable (its entries overflow the dtype).
        Inputs of any finite magnitude are otherwise fine: they are rescaled by a
        power of two before solving.

    Warns
    -----
    IllConditionedWarning
        When the condition number exceeds 1e10 (the estimate is in the message),
        or ``A`` is rank-deficient and the minimum-norm solution was returned.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
    >>> res = lstsq(A, [1.0, 2.0, 4.0])
    >>> res.x.round(6), res.method, res.rank
    (array([0.833333, 1.5     ]), 'normal', 2)
    >>> bool(abs(A.T @ (A @ res.x - [1.0, 2.0, 4.0])).max() < 1e-12)  # residual ⟂ col(A)
    True
    >>> lstsq(A, np.ones((3, 4)), method="qr").x.shape
    (2, 4)
    """
    if is_dask_array(A):  # a tall Dask array chunked by rows: TSQR on the cluster
        from ..scale.linalg import lstsq as tsqr_lstsq

        return tsqr_lstsq(A, b, method, rcond, check_finite=check_finite, _stacklevel=3)
    if is_array_api(A) or is_array_api(b):  # CuPy, torch...: on their device
        from ._xp_lstsq import lstsq as xp_lstsq

        return xp_lstsq(A, b, method, rcond, check_finite=check_finite, result_type=LstsqResult)
    A = as_float_array(A, "A", ndim=2, check_finite=check_finite, allow_empty=True)
    b = as_float_array(b, "b", ndim=(1, 2), check_finite=check_finite, allow_empty=True)
    check_choice(method, "method", METHODS)
    m, n = A.shape
    if b.shape[0] != m:
        raise ShapeError(
            f"A and b must have the same number of rows: A has shape {A.shape} ({m} rows), "
            f"b has shape {b.shape} ({b.shape[0]} rows); b must have shape ({m},) or ({m}, k)"
        )
    dtype = np.result_type(A.dtype, b.dtype)
    A, b = A.astype(dtype, copy=False), b.astype(dtype, copy=False)
    if rcond is not None and (isinstance(rcond, bool) or not np.isscalar(rcond)
                              or not np.isreal(rcond)):
        raise TypeError(f"rcond must be a real number or None, got {describe(rcond)}")
    rcond = resolve_rcond(rcond, m, n, dtype)

    one_d = b.ndim == 1
    b2 = b[:, None] if one_d else b
    k = b2.shape[1]

    # edge cases: nothing to solve
    if m == 0 or n == 0 or k == 0:
        x = np.zeros((n, k), dtype=dtype)
        res = np.linalg.norm(b2, axis=0) if m else np.zeros(k, dtype=dtype)
        return _result(x, res, 0, float("nan") if n == 0 else float("inf"), "empty",
                       rcond, None, one_d)

    gram = None       # [A b]ᵀ[A b] from the compiled sweep, for the normal equations
    if method in ("auto", "normal") and m >= n and _loops.gram_supported(A, b2):
        gram = _loops.gram_aug(A, b2)
    if gram is not None and _in_safe_range(gram, m, n, dtype):
        sa = sb = 1.0
    else:
        sa, sb = power_of_two_scale(A), power_of_two_scale(b2)
    if sa != 1.0 or sb != 1.0:
        # x(A/sa, b/sb) = x(A, b) · sa/sb: solve at a safe magnitude (powers of two, exact)
        # so that AᵀA or ‖b‖² cannot overflow or underflow, then scale back.
        res = lstsq(A / sa, b / sb, method, rcond, check_finite=False)
        x = _scale_back(res.x, sb, sa, "x")
        r = res.residual_norm * sb
        sv = None if res.singular_values is None else res.singular_values * sa
        return LstsqResult(x=x, residual_norm=r, rank=res.rank, cond=res.cond,
                           method=res.method, rcond=res.rcond, singular_values=sv)

    cond = float("nan")
    s = None
    res = None
    used = method
    if method == "auto":
        used = "svd"
        if m >= n:
            try:
                x, cond, _, res = _normal(A, b2, _normal_max_cond(dtype), gram=gram)
                used = "normal"
            except _RankDeficient:
                x, cond, rank, s, used = _qr(A, b2, rcond, fallback_svd=True)
        if used == "svd" and s is None:
            x, rank, s = _svd(A, b2, rcond)
    elif method == "normal":
        if m < n:
            raise np.linalg.LinAlgError(
                f"method='normal' needs at least as many rows as columns: A has shape "
                f"{A.shape}, so AᵀA ({n}×{n}) is singular. Use method='svd' (or 'auto') "
                f"for the minimum-norm solution, or ridge(A, b, alpha)."
            )
        try:
            # AᵀA holds A's singular values squared: those below sqrt(rcond)·s_max fall under
            # the rank tolerance of the Gram matrix, which is then numerically singular.
            x, cond, _, res = _normal(A, b2, 1.0 / np.sqrt(rcond) if rcond > 0 else float("inf"),
                                      gram=gram)
        except _RankDeficient as exc:
            raise np.linalg.LinAlgError(_singular_advice(A, "normal", exc.cond)) from None
    elif method == "qr":
        try:
            x, cond, rank, _, _ = _qr(A, b2, rcond)
        except _RankDeficient as exc:
            raise np.linalg.LinAlgError(_singular_advice(A, "qr", exc.cond)) from None
    elif method == "svd":
        x, rank, s = _svd(A, b2, rcond)
    else:
        x, rank, s = _pinv(A, b2, rcond)

    if s is not None:
        cond = svd_cond(s)
    else:
        rank = min(m, n)
    x = np.asarray(x, dtype=dtype)
    if res is None:
        res = np.linalg.norm(b2 - _product(A, x), axis=0)
    else:
        res = res.astype(dtype, copy=False)

    if rank < min(m, n):
        warn_ill_conditioned(
            cond, what=f"A (shape {A.shape}, numerical rank {rank} < {min(m, n)})",
            advice="It is rank-deficient: the minimum-norm solution was returned; "
                   "consider ridge(A, b, alpha) or dropping dependent columns.")
    elif cond > ILL_CONDITIONED:
        warn_ill_conditioned(
            cond, what=f"A (shape {A.shape})",
            advice="Consider ridge(A, b, alpha) or rescaling/removing nearly dependent "
                   "columns.")
    return _result(x, res, rank, cond, used, rcond, s, one_d)


def _scale_back(x: np.ndarray, up: float, down: float, name: str) -> np.ndarray:
    """``x · up / down`` for powers of two ``up`` and ``down``, exactly: through the exponent
    difference, so that ``up / down`` itself may lie beyond the dtype's range."""
    shift = int(np.frexp(up)[1]) - int(np.frexp(down)[1])
    with np.errstate(over="ignore"):
        out = np.ldexp(x, shift).astype(x.dtype, copy=False)
    if not np.all(np.isfinite(out)):
        raise FloatRangeError(
            f"the solution {name} overflows {out.dtype}: its entries exceed "
            f"{np.finfo(out.dtype).max:.3g}; rescale A or b so that x is representable"
        )
    return out


def _result(x, res, rank, cond, method, rcond, s, one_d) -> LstsqResult:
    if one_d:
        x = x[:, 0]
        res = float(res[0])
    return LstsqResult(x=x, residual_norm=res, rank=int(rank), cond=float(cond),
                       method=method, rcond=float(rcond), singular_values=s)


def ridge(A, b, alpha=1.0, *, check_finite: bool = True) -> np.ndarray:
    r"""Ridge (Tikhonov) regression: :math:`\min_x \lVert A x - b \rVert_2^2 + \alpha \lVert x \rVert_2^2`.

    For a scalar ``alpha > 0`` with :math:`[A;\ \sqrt\alpha I]` well-conditioned (LAPACK's
    condition estimate below the bound :func:`lstsq` uses to trust the normal
    equations), the regularized normal equations :math:`(A^\top A + \alpha I)x = A^\top b`
    are solved by Cholesky with one step of iterative refinement. Otherwise through the
    thin SVD :math:`A = U \Sigma V^\top` (for tall ``A``, m ≥ 2n, the SVD of the
    triangular factor of a Householder QR, which has the same singular values):

    .. math::

        x = V \,\operatorname{diag}\!\left(\frac{\sigma_i}{\sigma_i^2 + \alpha}\right) U^\top b,

    which never forms :math:`(A^\top A + \alpha I)^{-1}` and stays accurate for any
    conditioning; ``alpha = 0`` gives the minimum-norm least-squares solution.

    Parameters
    ----------
    A : array_like of shape (m, n)
        A tall Dask array chunked along rows is reduced by TSQR on its cluster
        (:func:`dotwise.scale.linalg.ridge`). A CuPy array or PyTorch tensor is
        solved on its device with the namespace's Cholesky, QR and SVD, and the
        result is of its kind (:mod:`dotwise.linalg._xp_lstsq`).
    b : array_like of shape (m,) or (m, k)
    alpha : float or array_like of shape (k,), default=1.0
        Regularization strength, >= 0; one value per column of ``b`` is allowed.
    check_finite : bool, default=True
        Scan the input for NaN and infinity first and name the first one found
        (one fast pass). ``False`` skips the scan: a non-finite value then
        spreads into the result or stops LAPACK with an error of its own.

    Returns
    -------
    ndarray of shape (n,) or (n, k)

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    >>> ridge(A, [2.0, 4.0, 9.0], alpha=1.0)
    array([1., 2.])
    >>> ridge(A, np.ones((3, 2)), alpha=[0.0, 1.0])
    array([[1. , 0.5],
           [1. , 0.5]])
    """
    if is_dask_array(A):  # TSQR on the cluster, then the small ridge problem in R
        from ..scale.linalg import ridge as tsqr_ridge

        return tsqr_ridge(A, b, alpha, check_finite=check_finite)
    if is_array_api(A) or is_array_api(b):  # CuPy, torch...: on their device
        from ._xp_lstsq import ridge as xp_ridge

        return xp_ridge(A, b, alpha, check_finite=check_finite)
    A = as_float_array(A, "A", ndim=2, check_finite=check_finite, allow_empty=True)
    b = as_float_array(b, "b", ndim=(1, 2), check_finite=check_finite, allow_empty=True)
    if b.shape[0] != A.shape[0]:
        raise ShapeError(
            f"A and b must have the same number of rows: A has shape {A.shape}, b has shape "
            f"{b.shape}; b must have shape ({A.shape[0]},) or ({A.shape[0]}, k)"
        )
    one_d = b.ndim == 1
    b2 = b[:, None] if one_d else b
    k = b2.shape[1]
    alpha_arr = as_float_array(alpha, "alpha", ndim=(0, 1), check_finite=True)
    if alpha_arr.ndim == 1 and alpha_arr.shape[0] != k:
        raise ShapeError(
            f"alpha must be a scalar or have one value per column of b ({k}), got shape "
            f"{alpha_arr.shape}"
        )
    if np.any(alpha_arr < 0):
        raise ValueError(f"alpha must be >= 0, got {alpha_arr.tolist()}")
    dtype = np.result_type(A.dtype, b.dtype)
    m, n = A.shape
    if m == 0 or n == 0 or k == 0:
        x = np.zeros((n, k), dtype=dtype)
        return x[:, 0] if one_d else x
    A = A.astype(dtype, copy=False)
    b2 = b2.astype(dtype, copy=False)
    if alpha_arr.ndim == 0 and alpha_arr > 0 and m >= n:
        # Fast path, as accurate as QR when [A; √α I] is well-conditioned (the same test
        # lstsq's "auto" applies to A): Cholesky of AᵀA + αI and one refinement step.
        try:
            x = _normal(A, b2, _normal_max_cond(dtype), shift=float(alpha_arr))[0]
            x = x.astype(dtype, copy=False)
            return x[:, 0] if one_d else x
        except _RankDeficient:
            pass
    if m >= 2 * n:
        # Tall: reduce to the n × n factor R first (Householder QR, 2mn² flops), then
        # take the SVD of R — same singular values, far cheaper than the SVD of A.
        R, qtb = _householder(A, b2)
        U, s, Vt = np.linalg.svd(R)
        utb = U.T @ qtb
    else:
        U, s, Vt = np.linalg.svd(A, full_matrices=False)
        utb = U.T @ b2
    denom = s[:, None] ** 2 + np.broadcast_to(alpha_arr, (k,))[None, :]
    keep = s > rank_tol(s, default_rcond(m, n, dtype))
    with np.errstate(divide="ignore", invalid="ignore"):
        filt = np.where(keep[:, None] & (denom > 0), s[:, None] / denom, 0.0)
    x = (Vt.T @ (filt * utb)).astype(dtype, copy=False)
    return x[:, 0] if one_d else x
