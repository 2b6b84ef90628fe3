r"""Orthogonalization: Gram–Schmidt in three variants, Householder QR, and how orthogonal Q is.

Every routine here factors a matrix :math:`V = Q R` with orthonormal columns
in :math:`Q` and an upper-triangular :math:`R`. They differ in how well
:math:`Q^\top Q = I` survives rounding when :math:`V` is ill-conditioned
(Björck; Giraud, Langou & Rozložník):

========================  ==========================================
method                    loss of orthogonality :math:`\lVert I - Q^\top Q \rVert`
========================  ==========================================
classical Gram–Schmidt    :math:`O(\epsilon\,\kappa(V)^2)` (or worse)
modified Gram–Schmidt     :math:`O(\epsilon\,\kappa(V))`
CGS2 (re-orthogonalized)  :math:`O(\epsilon)` while :math:`\epsilon\kappa(V) < 1`
Householder QR            :math:`O(\epsilon)`, unconditionally
========================  ==========================================

All four are written by hand here, because the operation is the subject; each
inner step is a matrix–vector (BLAS-2) or, for Householder, a blocked
matrix–matrix (BLAS-3, compact WY) product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import blas

from .._validation import FloatRangeError, as_float_array, check_choice
from ._common import as_matrix, check_tol, power_of_two_scale

__all__ = ["GramSchmidtStep", "Projection", "gram_schmidt", "householder_qr",
           "orthogonality_loss"]

GS_METHODS = ("classical", "modified", "reorthogonalized")


@dataclass(frozen=True)
class Projection:
    """One subtraction of a Gram–Schmidt step: ``coefficient * q[onto]`` taken off.

    ``pass_`` is 1, or 2 for the second (re-orthogonalizing) pass of CGS2;
    ``coefficient`` is ``q[onto] · w`` for the vector ``w`` the method projects
    (the original column for classical, the running remainder for modified).
    """

    onto: int
    coefficient: float
    vector: np.ndarray
    pass_: int = 1


@dataclass(frozen=True)
class GramSchmidtStep:
    """What Gram–Schmidt did to one column ``V[:, column]``, in the order it did it.

    ``projections`` are the pieces subtracted (every pass), ``remainder`` what was
    left, ``remainder_norm`` its length (``R[row, column]``) and ``q`` the new unit
    vector — ``None`` when the column was dependent and dropped.
    """

    column: int
    vector: np.ndarray
    projections: tuple[Projection, ...]
    remainder: np.ndarray
    remainder_norm: float
    q: np.ndarray | None


def _default_tol(m: int, n: int, dtype: np.dtype) -> float:
    return float(np.finfo(dtype).eps) * max(m, n, 1) * 10


def gram_schmidt(V, method: str = "modified", *, on_dependent: str = "raise",
                 tol: float | None = None, check_finite: bool = True,
                 return_steps: bool = False):
    r"""Orthonormalize the columns of ``V`` by Gram–Schmidt: :math:`V = Q R`.

    Column :math:`j` loses its components along the earlier directions,
    :math:`w_j = v_j - \sum_{i<j} (q_i \cdot v_j)\, q_i`, and is normalized,
    :math:`q_j = w_j / \lVert w_j \rVert`; :math:`R_{ij} = q_i \cdot v_j` and
    :math:`R_{jj} = \lVert w_j \rVert > 0`.

    Parameters
    ----------
    V : array_like of shape (m, n)
        The vectors to orthonormalize, as columns (a 1-D ``V`` is one column).
    method : {"classical", "modified", "reorthogonalized"}, default="modified"
        ``classical`` (CGS) projects the original :math:`v_j` on all earlier
        :math:`q_i` at once; ``modified`` (MGS) subtracts each direction from the
        running remainder; ``reorthogonalized`` (CGS2) runs classical twice
        ("twice is enough") and is as orthogonal as Householder.
    on_dependent : {"raise", "drop"}, default="raise"
        What to do with a column whose remainder :math:`\lVert w_j \rVert` is at most
        ``tol * ‖v_j‖`` (linearly dependent on the previous ones): raise
        ``numpy.linalg.LinAlgError`` naming the column, or drop it (rank-revealing:
        ``Q`` then has one column per independent direction found).
    tol : float, optional
        Relative threshold for dependence; default ``10 * max(m, n) * eps``.
    check_finite : bool, default=True
        Scan the input for NaN and infinity first and name the first one found
        (one fast pass). ``False`` skips the scan: a non-finite value then
        spreads into the result or stops LAPACK with an error of its own.
    return_steps : bool, default=False
        Also return the steps the chosen method really took: per column a
        :class:`GramSchmidtStep` with every projection it subtracted, in order
        (classical: all from the original column; modified: each from the running
        remainder; reorthogonalized: the two classical passes, ``pass_`` 1 and 2).

    Returns
    -------
    Q : ndarray of shape (m, r)
        Orthonormal columns; ``r = n`` unless columns were dropped.
    R : ndarray of shape (r, n)
        Upper triangular (upper trapezoidal after drops) with ``V ≈ Q @ R``;
        the row of a kept column has its positive diagonal entry in that column.
    steps : list of GramSchmidtStep
        Only with ``return_steps=True``: one per column of ``V``.

    Raises
    ------
    numpy.linalg.LinAlgError
        A column is linearly dependent on the earlier ones (``on_dependent="raise"``).
    ShapeError, TypeError, ValueError
        ``V`` is not 1-D/2-D, not numeric, contains NaN/Inf, or a bad option.

    Examples
    --------
    >>> import numpy as np
    >>> V = np.array([[3.0, 1.0], [4.0, 1.0]])
    >>> Q, R = gram_schmidt(V)
    >>> np.allclose(Q.T @ Q, np.eye(2)), np.allclose(Q @ R, V)
    (True, True)
    >>> R.round(3)
    array([[5. , 1.4],
           [0. , 0.2]])
    >>> gram_schmidt([[1.0, 2.0], [1.0, 2.0]], on_dependent="drop")[0].shape
    (2, 1)
    >>> _, _, steps = gram_schmidt(V, method="reorthogonalized", return_steps=True)
    >>> [(p.pass_, p.onto) for p in steps[1].projections]  # two passes onto q0
    [(1, 0), (2, 0)]
    """
    V = as_matrix(V, "V", check_finite=check_finite)
    check_choice(method, "method", GS_METHODS)
    check_choice(on_dependent, "on_dependent", ("raise", "drop"))
    scale = power_of_two_scale(V)
    if scale != 1.0:  # 1e-200 or 1e200: the same Q, and R scaled back (exact: a power of 2)
        Q, R = gram_schmidt(V / scale, method, on_dependent=on_dependent, tol=tol,
                            check_finite=False)
        return Q, _scaled_back(R, scale, "V")
    m, n = V.shape
    dtype = V.dtype
    tol = _default_tol(m, n, dtype) if tol is None else check_tol(tol)
    col_norms = np.linalg.norm(V, axis=0)
    Q = np.zeros((m, n), dtype=dtype, order="F")  # column slices stay contiguous
    R = np.zeros((n, n), dtype=dtype)
    kept: list[int] = []
    record = bool(return_steps)
    pieces: list[list[Projection]] = [[] for _ in range(n)]
    remainders: list[np.ndarray] = [V[:, j] for j in range(n)]

    if method == "modified":
        W = np.array(V, dtype=dtype, order="F", copy=True)
        ger = blas.get_blas_funcs("ger", (W,))  # looked up once, not once per column
        for j in range(n):
            w = W[:, j]
            r_jj = np.linalg.norm(w)
            if not r_jj > tol * col_norms[j]:
                _dependent(j, r_jj, col_norms[j], tol, on_dependent)
                continue
            row = len(kept)
            q = w / r_jj
            Q[:, row] = q
            R[row, j] = r_jj
            if record:
                remainders[j] = w.copy()
            if j + 1 < n:  # subtract q from every later column: one BLAS-2 update
                coef = q @ W[:, j + 1:]
                R[row, j + 1:] = coef
                if record:
                    for jj, c in enumerate(coef, start=j + 1):
                        pieces[jj].append(Projection(row, float(c), c * q.copy()))
                _rank1_update(W[:, j + 1:], q, coef, ger)
            kept.append(j)
        if record:
            for j in range(n):
                if j not in kept:
                    remainders[j] = W[:, j].copy()
    else:
        passes = 1 if method == "classical" else 2
        for j in range(n):
            w = V[:, j].copy()
            r = len(kept)
            Qk = Q[:, :r]
            for pass_ in range(1, passes + 1):
                if r:
                    coef = Qk.T @ w
                    if record:
                        pieces[j] += [Projection(i, float(c), c * Qk[:, i].copy(), pass_)
                                      for i, c in enumerate(coef)]
                    w -= Qk @ coef
                    R[:r, j] += coef
            if record:
                remainders[j] = w.copy()
            r_jj = np.linalg.norm(w)
            if not r_jj > tol * col_norms[j]:
                _dependent(j, r_jj, col_norms[j], tol, on_dependent)
                continue
            Q[:, r] = w / r_jj
            R[r, j] = r_jj
            kept.append(j)
    r = len(kept)
    Q, R = Q[:, :r].copy(), R[:r].copy()
    if not record:
        return Q, R
    steps = []
    for j in range(n):
        q = Q[:, kept.index(j)].copy() if j in kept else None
        steps.append(GramSchmidtStep(j, V[:, j].copy(), tuple(pieces[j]), remainders[j],
                                     float(np.linalg.norm(remainders[j])), q))
    return Q, R, steps


def _scaled_back(R: np.ndarray, scale: float, name: str) -> np.ndarray:
    """``R * scale``, refusing to return an overflowed R in silence."""
    with np.errstate(over="ignore"):
        out = R * scale
    if not np.isfinite(out).all():
        raise FloatRangeError(
            f"R overflows float{8 * R.itemsize}: the column norms of {name} exceed the largest "
            f"representable number ({np.finfo(R.dtype).max:.3g}); scale {name} down first"
        )
    return out


def _rank1_update(C: np.ndarray, x: np.ndarray, y: np.ndarray, ger) -> None:
    """C ← C − x yᵀ in place with BLAS ``ger`` (C is a Fortran-ordered column block)."""
    out = ger(-1.0, x, y, a=C, overwrite_a=1)
    if not np.shares_memory(out, C):
        C[...] = out


def _dependent(j: int, r_jj: float, norm_j: float, tol: float, on_dependent: str) -> None:
    if on_dependent == "drop":
        return
    if norm_j == 0:
        why = "it is a zero vector"
    else:
        why = (f"its component orthogonal to the previous columns has norm {r_jj:.2e}, "
               f"{r_jj / norm_j:.1e} of its length (tol {tol:.1e})")
    raise np.linalg.LinAlgError(
        f"column {j} of V is linearly dependent on columns 0..{j - 1} ({why}); "
        f"remove it, or pass on_dependent='drop' to skip dependent columns "
        f"(Q then spans col(V) with one column per independent direction)"
        if j > 0 else
        "column 0 of V is a zero vector, so it has no direction to normalize; remove it, "
        "or pass on_dependent='drop'"
    )


def _householder_vector(x: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Reflector H = I − τ v vᵀ (v[0] = 1) with H x = β e₁, as LAPACK ``larfg``."""
    alpha = x[0]
    sigma = np.linalg.norm(x[1:])
    v = x.copy()
    v[0] = 1.0
    if sigma == 0:
        v[1:] = 0
        return v, 0.0, float(alpha)
    beta = -np.copysign(np.hypot(alpha, sigma), alpha)
    tau = (beta - alpha) / beta
    v[1:] = x[1:] / (alpha - beta)
    return v, float(tau), float(beta)


def householder_qr(A, mode: str = "reduced", *, block_size: int = 32,
                   check_finite: bool = True) -> tuple[np.ndarray, np.ndarray]:
    r"""QR factorization by Householder reflections, :math:`A = Q R`.

    Column :math:`k` is mapped onto :math:`\beta e_1` by the reflector
    :math:`H_k = I - \tau_k v_k v_k^\top`; :math:`R = H_p \cdots H_1 A` and
    :math:`Q = H_1 \cdots H_p`. Reflectors are gathered ``block_size`` at a
    time in compact WY form :math:`H_k \cdots H_{k+b-1} = I - V T V^\top`, so the
    trailing update is two matrix–matrix products. Signs are then fixed so that
    ``R`` has a non-negative diagonal (the same ``R`` as Gram–Schmidt gives).

    Parameters
    ----------
    A : array_like of shape (m, n)
    mode : {"reduced", "complete"}, default="reduced"
        ``reduced``: ``Q`` (m, p), ``R`` (p, n) with ``p = min(m, n)``;
        ``complete``: ``Q`` (m, m), ``R`` (m, n).
    block_size : int, default=32
        Reflectors per compact-WY block.
    check_finite : bool, default=True
        Scan the input for NaN and infinity first and name the first one found
        (one fast pass). ``False`` skips the scan: a non-finite value then
        spreads into the result or stops LAPACK with an error of its own.

    Returns
    -------
    Q : ndarray of shape (m, p) or (m, m)
    R : ndarray of shape (p, n) or (m, n), upper triangular

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[3.0, 1.0], [4.0, 1.0], [0.0, 1.0]])
    >>> Q, R = householder_qr(A)
    >>> Q.shape, R.shape
    ((3, 2), (2, 2))
    >>> np.allclose(Q @ R, A), np.allclose(Q.T @ Q, np.eye(2))
    (True, True)
    """
    A = as_float_array(A, "A", ndim=2, check_finite=check_finite, allow_empty=True)
    check_choice(mode, "mode", ("reduced", "complete"))
    if isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer)) \
            or block_size < 1:
        raise ValueError(f"block_size must be a positive integer, got {block_size!r}")
    scale = power_of_two_scale(A)
    if scale != 1.0:  # 1e154 or 1e-200: the same Q, and R scaled back (exact: a power of 2)
        Q, R = householder_qr(A / scale, mode, block_size=block_size, check_finite=False)
        return Q, _scaled_back(R, scale, "A")
    m, n = A.shape
    p = min(m, n)
    block_size = min(block_size, max(p, 1))  # a block never holds more than p reflectors
    W = np.array(A, order="F", copy=True)
    Vs: list[np.ndarray] = []
    Ts: list[np.ndarray] = []
    starts: list[int] = []
    for k0 in range(0, p, block_size):
        b = min(block_size, p - k0)
        Vb = np.zeros((m - k0, b), dtype=W.dtype)
        T = np.zeros((b, b), dtype=W.dtype)
        for i in range(b):
            k = k0 + i
            v, tau, beta = _householder_vector(W[k:, k])
            Vb[i:, i] = v
            W[k, k] = beta
            W[k + 1:, k] = 0
            if tau != 0 and k + 1 < k0 + b:  # update the rest of the panel only
                panel = W[k:, k + 1:k0 + b]
                panel -= tau * np.outer(v, v @ panel)
            # T recurrence: T[:i, i] = −τ T[:i, :i] V[:, :i]ᵀ v
            if i:
                T[:i, i] = -tau * (T[:i, :i] @ (Vb[:, :i].T @ Vb[:, i]))
            T[i, i] = tau
        if k0 + b < n:  # trailing update: C ← (I − V T Vᵀ)ᵀ C
            C = W[k0:, k0 + b:]
            C -= Vb @ (T.T @ (Vb.T @ C))
        Vs.append(Vb)
        Ts.append(T)
        starts.append(k0)

    q_cols = m if mode == "complete" else p
    Q = np.zeros((m, q_cols), dtype=W.dtype, order="F")
    Q[np.arange(q_cols), np.arange(q_cols)] = 1.0
    for Vb, T, k0 in zip(reversed(Vs), reversed(Ts), reversed(starts), strict=True):
        sub = Q[k0:, k0:]
        sub -= Vb @ (T @ (Vb.T @ sub))
    R = np.triu(W[:q_cols, :])
    signs = np.ones(q_cols, dtype=W.dtype)
    d = np.sign(np.diag(R[:p, :p]))
    signs[:p] = np.where(d < 0, -1.0, 1.0)
    Q = np.ascontiguousarray(Q * signs)
    R = R * signs[:R.shape[0], None]
    return Q, R


def orthogonality_loss(Q, norm: int | str = 2, *, check_finite: bool = True) -> float:
    r"""How far the columns of ``Q`` are from orthonormal: :math:`\lVert Q^\top Q - I \rVert`.

    Parameters
    ----------
    Q : array_like of shape (m, n)
    norm : {2, "fro"}, default=2
        The spectral norm (largest absolute eigenvalue of the symmetric
        :math:`Q^\top Q - I`), or the Frobenius norm.
    check_finite : bool, default=True
        Scan the input for NaN and infinity first and name the first one found
        (one fast pass). ``False`` skips the scan: a non-finite value then
        spreads into the result or stops LAPACK with an error of its own.

    Returns
    -------
    float
        0 for exactly orthonormal columns; about ``eps`` for a good ``Q``; of order
        1 when orthogonality is lost. An empty ``Q`` (no columns) gives 0.

    Examples
    --------
    >>> orthogonality_loss([[1.0, 0.0], [0.0, 1.0]])
    0.0
    >>> round(orthogonality_loss([[1.0, 1.0], [0.0, 1.0]]), 4)  # eigenvalues of QᵀQ − I
    1.618
    """
    Q = as_float_array(Q, "Q", ndim=2, check_finite=check_finite, allow_empty=True)
    if norm not in (2, "fro"):
        raise ValueError(f"norm must be 2 or 'fro', got {norm!r}")
    n = Q.shape[1]
    if n == 0:
        return 0.0
    E = (Q.T @ Q).astype(np.float64) - np.eye(n)
    if norm == "fro":
        return float(np.linalg.norm(E, "fro"))
    return float(np.max(np.abs(np.linalg.eigvalsh(E))))
