r"""Eigenvalues and eigenvectors: the directions a square matrix only stretches.

An eigenpair :math:`(\lambda, v)` of a square :math:`A` satisfies
:math:`A v = \lambda v` with :math:`v \ne 0`. Two tools live here:

* :func:`eigendecomposition` — every eigenpair at once (LAPACK), with the
  residuals :math:`\lVert A v_i - \lambda_i v_i \rVert`, and the two theorems
  checked rather than assumed: for a symmetric :math:`A` the **spectral theorem**
  (real eigenvalues, orthonormal eigenvectors, :math:`A = V \Lambda V^\top`), for a
  general :math:`A` **diagonalisability** (:math:`A = V \Lambda V^{-1}` needs
  :math:`n` independent eigenvectors; a *defective* matrix such as the shear
  ``[[1, 1], [0, 1]]`` has fewer, and is reported as such).
* :func:`power_iteration` — the dominant eigenpair by repeated products
  :math:`x_{k+1} = A x_k / \lVert A x_k \rVert`, with the Rayleigh quotient
  :math:`\lambda \approx x^\top A x` and its convergence history; its error
  shrinks like :math:`|\lambda_2 / \lambda_1|^k`. Deflation gives the next pairs
  (symmetric :math:`A`), and shift-and-invert iteration with
  :math:`(A - \sigma I)^{-1}` the eigenvalue nearest a shift :math:`\sigma`.

The link to PCA: the principal axes of centred data :math:`X` are the
eigenvectors of its covariance :math:`C = X^\top X / (n - 1)` and the explained
variances are the eigenvalues of :math:`C` (:func:`eigendecomposition` of ``C``
orders them largest first, as PCA does).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from .._validation import ConvergenceWarning, as_float_array, check_int, check_positive

__all__ = ["EigenResult", "PowerIterationResult", "eigendecomposition", "power_iteration"]


def _as_square(A, name: str = "A", *, check_finite: bool = True) -> np.ndarray:
    A = as_float_array(A, name, ndim=2, check_finite=check_finite, allow_empty=False)
    m, n = A.shape
    if m != n:
        raise ValueError(
            f"{name} must be square (n × n) to have eigenvalues, got shape {A.shape}; for a "
            f"rectangular matrix use the singular values (dotwise.inspect({name}).singular_values) "
            f"or the eigenvalues of {name}ᵀ{name}"
        )
    return A.astype(np.float64, copy=False)


def _symmetric_tol(A: np.ndarray) -> float:
    n = A.shape[0]
    scale = float(np.max(np.abs(A))) if A.size else 0.0
    return 10 * n * float(np.finfo(np.float64).eps) * max(scale, 1.0)


def _is_symmetric(A: np.ndarray) -> bool:
    return bool(np.max(np.abs(A - A.T)) <= _symmetric_tol(A))


def _fro(A: np.ndarray) -> float:
    """Frobenius norm without overflow: max|a_ij| · ‖A / max|a_ij|‖_F."""
    scale = float(np.max(np.abs(A))) if A.size else 0.0
    return scale * float(np.linalg.norm(A / scale)) if scale > 0 else 0.0


def _fix_signs(V: np.ndarray) -> np.ndarray:
    """Each column scaled by a unit factor so its largest-magnitude entry is real positive."""
    idx = np.argmax(np.abs(V), axis=0)
    pivot = V[idx, np.arange(V.shape[1])]
    with np.errstate(invalid="ignore", divide="ignore"):
        phase = np.where(np.abs(pivot) > 0, pivot / np.abs(pivot), 1.0)
    out = V / phase
    return out.real if np.isrealobj(V) else out


def _fmt(z) -> str:
    z = complex(z)
    if abs(z.imag) <= 1e-14 * max(1.0, abs(z.real)):
        return f"{z.real + 0.0:.6g}"
    sign = "+" if z.imag >= 0 else "−"
    return f"{z.real + 0.0:.6g} {sign} {abs(z.imag):.6g}i"


# --------------------------------------------------------------------------- eigendecomposition
@dataclass(frozen=True)
class EigenResult:
    r"""What :func:`eigendecomposition` found: the eigenpairs and the theorems checked.

    Attributes
    ----------
    values : ndarray of shape (n,)
        Eigenvalues, dominant first (decreasing :math:`|\lambda|`; for a symmetric
        ``A`` decreasing :math:`\lambda`, as PCA orders variances). Real dtype when
        every eigenvalue is real, complex otherwise (complex ones come in
        conjugate pairs).
    vectors : ndarray of shape (n, n)
        Unit eigenvectors as columns, ``A @ vectors[:, i] ≈ values[i] * vectors[:, i]``;
        each scaled so that its largest entry is real and positive.
    residuals : ndarray of shape (n,)
        :math:`\lVert A v_i - \lambda_i v_i \rVert_2` for each pair.
    symmetric : bool
        ``A`` equals its transpose (to ``10 n ε max|a_ij|``): then the values are
        real, the vectors orthonormal, computed by ``scipy.linalg.eigh``.
    diagonalizable : bool
        ``A = V Λ V⁻¹`` holds numerically: every cluster of (numerically) equal
        eigenvalues has as many independent eigenvectors as its multiplicity, and
        ``cond(V) < 1/ε``. Always true for a symmetric ``A``.
    cond_V : float
        2-norm condition number of ``vectors`` (1 for symmetric ``A``; ``inf`` when
        the eigenvectors are dependent).
    orthogonality_error : float or None
        :math:`\lVert V^\top V - I \rVert_2` (symmetric ``A`` only).
    reconstruction_error : float or None
        :math:`\lVert A - V \Lambda V^{-1} \rVert_F / \lVert A \rVert_F` (``V^{-1} = V^\top``
        when symmetric); ``None`` for a defective ``A``, which has no such factorisation.
    defective_eigenvalues : tuple of complex
        For a defective ``A``, the eigenvalues short of eigenvectors.
    """

    values: np.ndarray
    vectors: np.ndarray
    residuals: np.ndarray
    symmetric: bool
    diagonalizable: bool
    cond_V: float
    orthogonality_error: float | None
    reconstruction_error: float | None
    defective_eigenvalues: tuple[complex, ...] = ()

    @property
    def defective(self) -> bool:
        """Fewer independent eigenvectors than ``n``: no ``A = V Λ V⁻¹``."""
        return not self.diagonalizable

    @property
    def is_real(self) -> bool:
        """Every eigenvalue is real (the values array has a real dtype)."""
        return not np.iscomplexobj(self.values)

    @property
    def max_residual(self) -> float:
        return float(np.max(self.residuals)) if self.residuals.size else 0.0

    def real_pairs(self) -> list[tuple[float, np.ndarray]]:
        """The real eigenpairs ``(λ, v)`` with a real unit ``v``, independent directions only.

        A defective matrix lists each missing direction once (the shear has one pair).
        """
        out: list[tuple[float, np.ndarray]] = []
        n = self.values.shape[0]
        for i in range(n):
            lam, v = self.values[i], self.vectors[:, i]
            if np.iscomplexobj(self.values) and (abs(lam.imag) > 0 or np.any(v.imag != 0)):
                continue
            v = np.real(v).astype(np.float64)
            if any(abs(float(v @ w)) > 1 - 1e-8 for _, w in out):
                continue  # the same direction again (a defective cluster)
            out.append((float(np.real(lam)) + 0.0, v))
        return out

    def __str__(self) -> str:
        n = self.values.shape[0]
        kind = "symmetric" if self.symmetric else "general"
        lines = [f"EigenResult ({n}×{n}, {kind})"]
        for i in range(n):
            vec = ", ".join(_fmt(x) for x in self.vectors[:, i])
            lines.append(f"  λ{i + 1} = {_fmt(self.values[i])}   v = ({vec})   "
                         f"‖Av − λv‖ = {self.residuals[i]:.1e}")
        if self.symmetric:
            lines.append(f"  spectral theorem: real eigenvalues, ‖VᵀV − I‖ = "
                         f"{self.orthogonality_error:.1e}, ‖A − VΛVᵀ‖/‖A‖ = "
                         f"{self.reconstruction_error:.1e}")
        elif self.diagonalizable:
            lines.append(f"  diagonalizable: A = VΛV⁻¹ with cond(V) = {self.cond_V:.3g}, "
                         f"‖A − VΛV⁻¹‖/‖A‖ = {self.reconstruction_error:.1e}")
        else:
            which = ", ".join(_fmt(z) for z in self.defective_eigenvalues)
            lines.append(f"  defective: not diagonalizable (too few independent eigenvectors"
                         f"{' for λ = ' + which if which else ''}; cond(V) = {self.cond_V:.3g})")
        if not self.is_real:
            lines.append("  complex eigenvalues: no real direction is only scaled by them")
        return "\n".join(lines)


def _order(values: np.ndarray, symmetric: bool) -> np.ndarray:
    if symmetric:
        return np.argsort(-values, kind="stable")
    return np.lexsort((-values.imag, -values.real, -np.round(np.abs(values), 12)))


def _defective_clusters(A: np.ndarray, values: np.ndarray, scale: float) -> list[complex]:
    """Eigenvalue clusters whose geometric multiplicity is below their size.

    Two eigenvalues belong to one cluster when they differ by at most
    ``√ε · ‖A‖_F · n`` — about how far rounding splits a 2×2 Jordan block. The geometric
    multiplicity of a cluster with mean μ is ``n − rank(A − μI)``, rank counted with
    the same tolerance.
    """
    n = A.shape[0]
    delta = math.sqrt(np.finfo(np.float64).eps) * max(scale, np.finfo(np.float64).tiny) * n
    close = np.abs(values[:, None] - values[None, :]) <= delta
    if np.count_nonzero(close) == n:  # every eigenvalue on its own: nothing to test
        return []
    unassigned = np.ones(n, dtype=bool)
    missing: list[complex] = []
    for i in range(n):
        if not unassigned[i]:
            continue
        members = np.flatnonzero(close[i] & unassigned)
        unassigned[members] = False
        if len(members) == 1:
            continue
        mu = complex(np.mean(values[members]))
        M = A.astype(complex) - mu * np.eye(n)
        s = scipy.linalg.svdvals(M)
        geometric = int(np.count_nonzero(s <= delta))
        if geometric < len(members):
            missing.append(mu)
    return missing


def eigendecomposition(A, *, check_finite: bool = True) -> EigenResult:
    r"""All eigenpairs of a square ``A``, with residuals, the spectral theorem and diagonalisability.

    For a symmetric ``A`` (spectral theorem) :math:`A = V \Lambda V^\top` with real
    :math:`\Lambda` and orthonormal :math:`V` (``scipy.linalg.eigh``); otherwise
    :math:`A V = V \Lambda` (``scipy.linalg.eig``) and, when :math:`V` is invertible,
    :math:`A = V \Lambda V^{-1}`.

    Parameters
    ----------
    A : array_like of shape (n, n)
        Real square matrix.
    check_finite : bool, default=True
        Scan the input for NaN and infinity first and name the first one found
        (one fast pass). ``False`` skips the scan: a non-finite value then
        spreads into the result or stops LAPACK with an error of its own.

    Returns
    -------
    EigenResult
        ``values``, ``vectors``, ``residuals``, ``symmetric``, ``diagonalizable``,
        ``cond_V``, the reconstruction and orthogonality errors; ``print`` it.

    Raises
    ------
    ShapeError
        ``A`` is not 2-D or is empty.
    ValueError
        ``A`` is not square, or holds NaN/Inf.
    TypeError
        ``A`` is not numeric (complex input is refused: real matrices only).

    Notes
    -----
    Defectiveness is decided in floating point, where an exact Jordan block and
    a matrix with two eigenvalues :math:`10^{-9}` apart are neighbours: the
    cluster tolerance is :math:`\sqrt{\varepsilon}\,\lVert A\rVert_F\,n` (the
    splitting of a 2×2 Jordan block by rounding). Larger Jordan blocks of a
    non-triangular matrix can split beyond it; ``cond_V`` then shows how close
    to dependent the eigenvectors are. Cost :math:`O(n^3)`.

    Examples
    --------
    >>> import numpy as np
    >>> r = eigendecomposition([[2.0, 1.0], [1.0, 2.0]])
    >>> r.values, r.symmetric
    (array([3., 1.]), True)
    >>> bool(np.allclose(r.vectors.T @ r.vectors, np.eye(2)))  # spectral theorem
    True
    >>> eigendecomposition([[1.0, 1.0], [0.0, 1.0]]).diagonalizable  # the shear
    False
    >>> eigendecomposition([[0.0, -1.0], [1.0, 0.0]]).values  # a rotation: complex pair
    array([0.+1.j, 0.-1.j])
    """
    A = _as_square(A, check_finite=check_finite)
    n = A.shape[0]
    eps = float(np.finfo(np.float64).eps)
    symmetric = _is_symmetric(A)
    norm_f = _fro(A)
    denom = norm_f if norm_f > 0 else 1.0
    if symmetric:
        values, V = scipy.linalg.eigh((A + A.T) / 2)
        order = _order(values, True)
        values, V = values[order] + 0.0, _fix_signs(V[:, order])
        residuals = np.linalg.norm(A @ V - V * values, axis=0)
        ortho = float(np.max(np.abs(np.linalg.eigvalsh(V.T @ V - np.eye(n)))))
        recon = _fro(A - (V * values) @ V.T) / denom
        return EigenResult(values, V, residuals, True, True, 1.0, ortho, recon)

    values, V = scipy.linalg.eig(A, check_finite=False)
    if np.all(values.imag == 0):
        values, V = values.real, V.real
    order = _order(values.astype(complex), False)
    values, V = values[order], _fix_signs(V[:, order])
    V = V / np.linalg.norm(V, axis=0)
    residuals = np.linalg.norm(A @ V - V * values, axis=0)
    s = scipy.linalg.svdvals(V)
    cond_V = float(s[0] / s[-1]) if s[-1] > 0 else math.inf
    missing = _defective_clusters(A, values.astype(complex), norm_f)
    diagonalizable = not missing and cond_V * eps < 1
    if not diagonalizable and not missing:  # dependent vectors though the values look apart
        missing = [complex(values[int(np.argmin(np.abs(scipy.linalg.svd(V)[2][-1])))])]
    recon = None
    if diagonalizable:
        VL = V * values  # V Λ; then (V Λ) V⁻¹ by a solve, never an explicit inverse
        rebuilt = np.linalg.solve(V.T, VL.T).T
        recon = _fro(A - rebuilt) / denom
    return EigenResult(values, V, residuals, False, bool(diagonalizable), cond_V, None, recon,
                       tuple(missing))


# --------------------------------------------------------------------------- power iteration
@dataclass(frozen=True)
class PowerIterationResult:
    r"""What :func:`power_iteration` found.

    Attributes
    ----------
    values : ndarray of shape (k,)
        Eigenvalue estimates (Rayleigh quotients :math:`x^\top A x`), in the order found.
    vectors : ndarray of shape (n, k)
        Unit eigenvector estimates as columns.
    iterations : tuple of int
        Iterations spent on each pair.
    converged : tuple of bool
        Whether each pair met ``‖A x − λ x‖ ≤ tol · ‖A‖_F``.
    history : tuple of ndarray
        Per pair, the Rayleigh quotient after each iteration.
    residual_history : tuple of ndarray
        Per pair, :math:`\lVert A x_k - \lambda_k x_k \rVert` after each iteration (for a
        dominant pair it shrinks like :math:`|\lambda_2 / \lambda_1|^k`).
    shift : float or None
        The shift σ of shift-and-invert iteration, ``None`` for plain power iteration.
    iterates : tuple of ndarray or None
        With ``return_iterates=True``, per pair the unit vectors ``x_0, x_1, …`` as rows of
        an array of shape (iterations + 1, n) — the path towards the eigenvector.
    """

    values: np.ndarray
    vectors: np.ndarray
    iterations: tuple[int, ...]
    converged: tuple[bool, ...]
    history: tuple[np.ndarray, ...]
    residual_history: tuple[np.ndarray, ...]
    shift: float | None = None
    iterates: tuple[np.ndarray, ...] | None = None

    @property
    def value(self) -> float:
        """The first eigenvalue found (the dominant one, or the one nearest the shift)."""
        return float(self.values[0])

    @property
    def vector(self) -> np.ndarray:
        return self.vectors[:, 0]

    def __str__(self) -> str:
        how = ("power iteration" if self.shift is None
               else f"shift-and-invert iteration, σ = {self.shift:g}")
        lines = [f"PowerIterationResult ({how})"]
        for i, lam in enumerate(self.values):
            state = "converged" if self.converged[i] else "NOT converged"
            lines.append(f"  λ{i + 1} ≈ {lam:.10g}  after {self.iterations[i]} iterations "
                         f"({state}, ‖Ax − λx‖ = {self.residual_history[i][-1]:.1e})")
        return "\n".join(lines)


def _start_vector(x0, n: int, random_state) -> np.ndarray:
    if x0 is not None:
        x = as_float_array(x0, "x0", ndim=1).astype(np.float64)
        if x.shape[0] != n:
            raise ValueError(f"x0 must have length n = {n} (the size of A), got {x.shape[0]}")
        if not np.any(x):
            raise ValueError("x0 must not be the zero vector: it has no direction to iterate")
        return x
    return np.random.default_rng(random_state).standard_normal(n)


def power_iteration(A, k: int = 1, *, shift: float | None = None, x0=None, tol: float = 1e-10,
                    max_iter: int = 1000, random_state=None, return_iterates: bool = False,
                    check_finite: bool = True) -> PowerIterationResult:
    r"""Dominant eigenpair(s) of ``A`` by power iteration (or the one nearest ``shift``).

    Each step multiplies and renormalises, :math:`x \leftarrow A x / \lVert A x \rVert`,
    and estimates :math:`\lambda = x^\top A x` (the Rayleigh quotient). If
    :math:`|\lambda_1| > |\lambda_2|`, the direction error shrinks like
    :math:`|\lambda_2/\lambda_1|^k`. With ``shift=σ`` the operator is
    :math:`(A - \sigma I)^{-1}` (one LU factorisation, then two triangular solves
    per step), whose dominant eigenvalue :math:`1/(\lambda - \sigma)` belongs to
    the eigenvalue of ``A`` nearest σ. For ``k > 1`` each new pair is sought
    orthogonally to the ones found (deflation), which is exact for a symmetric
    ``A`` — so ``k > 1`` needs a symmetric ``A``.

    Parameters
    ----------
    A : array_like of shape (n, n)
        Real square matrix.
    k : int, default=1
        Number of eigenpairs (``k > 1``: symmetric ``A`` only).
    shift : float, optional
        Find the eigenvalue(s) nearest this number (shift-and-invert iteration).
    x0 : array_like of shape (n,), optional
        Start vector; default a standard normal draw from ``random_state``.
    tol : float, default=1e-10
        Stop when :math:`\lVert A x - \lambda x \rVert \le` ``tol`` :math:`\cdot \lVert A \rVert_F`.
    max_iter : int, default=1000
        Iterations allowed per pair.
    random_state : int, numpy.random.Generator or None, default=None
        Seed of the start vector(s).
    return_iterates : bool, default=False
        Keep every unit iterate :math:`x_k` (``result.iterates``), e.g. to draw the path.
    check_finite : bool, default=True
        Scan the input for NaN and infinity first and name the first one found
        (one fast pass). ``False`` skips the scan: a non-finite value then
        spreads into the result or stops LAPACK with an error of its own.

    Returns
    -------
    PowerIterationResult
        ``values``, ``vectors``, ``iterations``, ``converged`` and the histories.

    Raises
    ------
    ValueError
        ``A`` not square or not finite; ``k`` outside ``1..n``; ``k > 1`` with a
        non-symmetric ``A``; a bad ``x0``, ``tol`` or ``max_iter``.

    Warns
    -----
    ConvergenceWarning
        A pair did not converge within ``max_iter`` — e.g. two dominant
        eigenvalues of equal size (``±λ``, or a complex pair such as a rotation).
        The result still holds the last estimate.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[2.0, 1.0], [1.0, 3.0]])
    >>> r = power_iteration(A, random_state=0)
    >>> round(r.value, 10), r.converged
    (3.6180339887, (True,))
    >>> round(power_iteration(A, shift=1.0, random_state=0).value, 10)  # nearest to 1
    1.3819660113
    """
    A = _as_square(A, check_finite=check_finite)
    n = A.shape[0]
    k = check_int(k, "k", minimum=1, maximum=n)
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    tol = check_positive(tol, "tol")
    if k > 1 and not _is_symmetric(A):
        raise ValueError(
            f"k={k} eigenpairs by deflation needs a symmetric A (deflation keeps each new vector "
            f"orthogonal to the ones found, which only eigenvectors of a symmetric matrix are); "
            f"use k=1, or eigendecomposition(A) for every pair of a general matrix")
    norm_a = _fro(A)
    if shift is not None:
        if isinstance(shift, bool) or not isinstance(shift, (int, float, np.floating, np.integer)):
            raise TypeError(f"shift must be a real number, got {type(shift).__name__}")
        shift = float(shift)
        if not math.isfinite(shift):
            raise ValueError(f"shift must be finite, got {shift}")
        step = _shift_invert_step(A, shift)
    rng = np.random.default_rng(random_state)
    found: list[np.ndarray] = []
    values, iters, conv, hist, rhist, paths = [], [], [], [], [], []
    for p in range(k):
        x = _start_vector(x0 if p == 0 else None, n, rng)
        Q = np.stack(found, axis=1) if found else None
        if Q is not None:
            x -= Q @ (Q.T @ x)
        x /= np.linalg.norm(x)
        path = [x.copy()] if return_iterates else None
        lam, ok, quotients, residuals = 0.0, False, [], []
        Ax = A @ x
        for _ in range(max_iter):
            y = Ax.copy() if shift is None else step(x)  # plain: A x is already at hand
            if Q is not None:
                y -= Q @ (Q.T @ y)
            ny = float(np.linalg.norm(y))
            if ny == 0.0:  # A x = 0: x is an eigenvector with eigenvalue 0
                lam, ok = 0.0, True
                quotients.append(0.0)
                residuals.append(0.0)
                break
            x = y / ny
            if path is not None:
                path.append(x.copy())
            Ax = A @ x  # one product per step: the residual of x and the next step
            lam = float(x @ Ax)
            res = float(np.linalg.norm(Ax - lam * x))
            quotients.append(lam)
            residuals.append(res)
            if res <= tol * max(norm_a, np.finfo(np.float64).tiny):
                ok = True
                break
        if not ok:
            warnings.warn(
                f"power iteration did not converge for eigenpair {p + 1} in max_iter={max_iter} "
                f"iterations (‖Ax − λx‖ = {residuals[-1]:.2e}, tol·‖A‖ = {tol * norm_a:.2e}); "
                f"the two largest |λ| may be equal (±λ, or a complex pair): try a shift, more "
                f"iterations, or eigendecomposition(A)", ConvergenceWarning, stacklevel=2)
        x = _fix_signs(x[:, None])[:, 0]
        found.append(x)
        values.append(lam + 0.0)
        iters.append(len(quotients))
        conv.append(ok)
        hist.append(np.asarray(quotients))
        rhist.append(np.asarray(residuals))
        if path is not None:
            paths.append(np.asarray(path))
    return PowerIterationResult(np.asarray(values), np.stack(found, axis=1), tuple(iters),
                                tuple(conv), tuple(hist), tuple(rhist), shift,
                                tuple(paths) if return_iterates else None)


def _shift_invert_step(A: np.ndarray, shift: float):
    """x ↦ (A − σI)⁻¹ x by one LU factorisation; σ nudged off an exact eigenvalue."""
    n = A.shape[0]
    tiny = float(np.finfo(np.float64).eps) * max(float(np.max(np.abs(A))), 1.0) * n
    with warnings.catch_warnings():  # an exactly singular A − σI is handled just below
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        lu, piv = scipy.linalg.lu_factor(A - shift * np.eye(n), check_finite=False)
        if np.min(np.abs(np.diag(lu))) <= tiny:  # σ is (numerically) an eigenvalue: step off it
            lu, piv = scipy.linalg.lu_factor(A - (shift + math.sqrt(tiny)) * np.eye(n),
                                             check_finite=False)

    def step(x: np.ndarray) -> np.ndarray:
        return scipy.linalg.lu_solve((lu, piv), x, check_finite=False)

    return step
