r"""Matrix inspection: the numbers that decide how a matrix should be used, and advice.

:func:`inspect` computes one SVD (and, for square matrices, one LU for the
determinant and one symmetric eigen-decomposition when the matrix is
symmetric) and reports rank, determinant, condition number, norms, trace and
structural properties, with plain-language advice on how to solve with it.

The condition number :math:`\kappa_2(A) = \sigma_{\max} / \sigma_{\min}` bounds
how much relative error in ``A`` or ``b`` is amplified in the solution of
``A x = b``: about :math:`\log_{10}\kappa` significant digits are lost.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ._common import as_matrix, default_rcond, rank_tol, svd_cond
from .eigen import EigenResult, eigendecomposition

__all__ = ["MatrixReport", "inspect"]


@dataclass(frozen=True)
class MatrixReport:
    """What :func:`inspect` found out about a matrix.

    Attributes
    ----------
    shape : tuple of int
    dtype : str
    rank : int
        Numerical rank: singular values above ``rank_tol``.
    rank_tol : float
        Absolute tolerance ``eps * max(m, n) * σ_max`` (NumPy's ``matrix_rank`` rule).
    singular_values : tuple of float
        All singular values, largest first.
    cond : float
        :math:`\\sigma_{\\max} / \\sigma_{\\min}` over ``min(m, n)`` values; ``inf`` when
        rank-deficient (rank < min(m, n)), whatever rounding left in :math:`\\sigma_{\\min}`.
    norm_fro, norm_2 : float
        Frobenius and spectral (largest singular value) norms.
    det : float or None
        Determinant (square only); ``inf``/0 when it over/underflows — see ``logabsdet``.
    sign, logabsdet : float or None
        ``numpy.linalg.slogdet``: ``det = sign * exp(logabsdet)`` (square only).
    trace : float or None
        Square only.
    is_square, is_symmetric, is_positive_definite, is_positive_semidefinite : bool
    is_orthogonal : bool
        Square with :math:`A^\\top A = I`.
    has_orthonormal_columns : bool
        :math:`A^\\top A = I` (any tall or square shape).
    is_projection : bool
        Square with :math:`A^2 = A`.
    tol : float
        Absolute tolerance for the property tests: ``10 * max(m, n) * eps * max(1, ‖A‖₂)``.
    advice : tuple of str
        Plain-language advice, most important first.
    eigen : EigenResult or None
        Square matrices (with ``eigen=True``): every eigenpair, the residuals, whether
        the matrix is diagonalizable or defective (see :func:`eigendecomposition`).
    """

    shape: tuple[int, int]
    dtype: str
    rank: int
    rank_tol: float
    singular_values: tuple[float, ...]
    cond: float
    norm_fro: float
    norm_2: float
    det: float | None
    sign: float | None
    logabsdet: float | None
    trace: float | None
    is_square: bool
    is_symmetric: bool
    is_positive_definite: bool
    is_positive_semidefinite: bool
    is_orthogonal: bool
    has_orthonormal_columns: bool
    is_projection: bool
    tol: float
    advice: tuple[str, ...]
    eigen: EigenResult | None = None

    @property
    def digits_lost(self) -> float:
        """About how many significant digits a solve with this matrix loses: log10(cond)."""
        return math.log10(self.cond) if self.cond > 0 and math.isfinite(self.cond) else math.inf

    def properties(self) -> dict[str, bool]:
        """The yes/no structural tests, by readable name."""
        return {
            "square": self.is_square,
            "symmetric": self.is_symmetric,
            "positive definite": self.is_positive_definite,
            "positive semidefinite": self.is_positive_semidefinite,
            "orthogonal": self.is_orthogonal,
            "orthonormal columns": self.has_orthonormal_columns,
            "projection": self.is_projection,
        }

    def rows(self) -> list[tuple[str, str]]:
        """(quantity, value) pairs as shown by ``__str__`` and the CLI."""
        m, n = self.shape
        out = [
            ("shape", f"{m} × {n} ({self.dtype})"),
            ("rank", f"{self.rank} of {min(m, n)} (tolerance {self.rank_tol:.2e})"),
            ("condition number", "∞ (singular)" if self.rank < min(m, n) else _fmt(self.cond)),
            ("Frobenius norm", _fmt(self.norm_fro)),
            ("spectral norm", _fmt(self.norm_2)),
        ]
        if self.is_square:
            out += [
                ("determinant", _fmt(self.det)),
                ("slogdet", f"sign {_fmt(self.sign)}, log|det| {_fmt(self.logabsdet)}"),
                ("trace", _fmt(self.trace)),
            ]
        s = self.singular_values
        shown = ", ".join(_fmt(v) for v in s[:6]) + (", …" if len(s) > 6 else "")
        out.append(("singular values", shown or "—"))
        if self.eigen is not None:
            e = self.eigen
            vals = ", ".join(_fmt_complex(v) for v in e.values[:6])
            vals += ", …" if len(e.values) > 6 else ""
            kind = ("symmetric: orthonormal eigenvectors" if e.symmetric
                    else f"diagonalizable, cond(V) {_fmt(e.cond_V)}" if e.diagonalizable
                    else "defective: not diagonalizable")
            out.append(("eigenvalues", f"{vals} ({kind})"))
        return out

    def __str__(self) -> str:
        width = max(len(k) for k, _ in self.rows())
        lines = [f"MatrixReport ({self.shape[0]}×{self.shape[1]})"]
        lines += [f"  {k:<{width}}  {v}" for k, v in self.rows()]
        props = "  ".join(f"{name} {'✓' if ok else '✗'}" for name, ok in self.properties().items())
        lines.append(f"  {'properties':<{width}}  {props}")
        lines.append("advice:")
        lines += [f"  • {a}" for a in self.advice]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; non-finite numbers become the strings ``"inf"``, ``"-inf"``, ``"nan"``."""
        d = asdict(self)
        d["eigen"] = None if self.eigen is None else _eigen_dict(self.eigen)
        d["shape"] = list(self.shape)
        d["singular_values"] = list(self.singular_values)
        d["advice"] = list(self.advice)
        d["digits_lost"] = self.digits_lost
        return {k: _json_safe(v) for k, v in d.items()}


def _eigen_dict(e: EigenResult) -> dict[str, Any]:
    def num(z: complex) -> Any:
        z = complex(z)
        return z.real if z.imag == 0 else [z.real, z.imag]

    return {"values": [num(v) for v in e.values], "symmetric": e.symmetric,
            "diagonalizable": e.diagonalizable, "cond_V": e.cond_V,
            "max_residual": e.max_residual}


def _fmt_complex(z: complex) -> str:
    z = complex(z)
    if z.imag == 0:
        return _fmt(z.real)
    return f"{_fmt(z.real)} {'+' if z.imag >= 0 else '−'} {_fmt(abs(z.imag))}i"


def _json_safe(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _json_safe(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_json_safe(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


def _fmt(x: float | None) -> str:
    if x is None:
        return "—"
    if x == 0:
        return "0"
    if not math.isfinite(x):
        return str(x)
    if 1e-3 <= abs(x) < 1e6:
        return f"{x:.6g}"
    return f"{x:.3e}"


def inspect(A, *, check_finite: bool = True, eigen: bool = True) -> MatrixReport:
    r"""Report rank, determinant, conditioning, norms and structure of ``A``, with advice.

    Parameters
    ----------
    A : array_like of shape (m, n)
        A 1-D input is treated as one column.
    check_finite : bool, default=True
        Scan the input for NaN and infinity first and name the first one found
        (one fast pass). ``False`` skips the scan: a non-finite value then
        spreads into the result or stops LAPACK with an error of its own.
    eigen : bool, default=True
        For a square ``A``, also compute every eigenpair (:func:`eigendecomposition`,
        another :math:`O(n^3)`); pass ``False`` to skip it for big matrices.

    Returns
    -------
    MatrixReport
        Printable (``print(report)``), with ``to_dict()`` for JSON.

    Notes
    -----
    Costs one SVD, :math:`O(m n \min(m, n))`: fine for matrices up to a few
    thousand on a side.

    Examples
    --------
    >>> rep = inspect([[2.0, 1.0], [1.0, 2.0]])
    >>> rep.rank, round(rep.det, 12), round(rep.cond, 12), rep.is_positive_definite
    (2, 3.0, 3.0, True)
    >>> inspect([[1.0, 2.0], [2.0, 4.0]]).advice[0]  # doctest: +ELLIPSIS
    'singular: rank 1 of 2 ...'
    """
    A = as_matrix(A, "A", check_finite=check_finite, allow_empty=False)
    m, n = A.shape
    dtype = A.dtype
    eps = float(np.finfo(dtype).eps)
    A64 = A.astype(np.float64, copy=False)
    s = np.linalg.svd(A64, compute_uv=False)
    s_max = float(s[0])
    tol_rank = rank_tol(s, default_rcond(m, n, dtype))
    rank = int(np.count_nonzero(s > tol_rank))
    cond = svd_cond(s) if rank == min(m, n) else math.inf  # singular: ∞, not 1/rounding
    norm_fro = s_max * float(np.sqrt(np.sum((s / s_max) ** 2))) if s_max > 0 else 0.0
    tol = 10 * max(m, n) * eps * max(1.0, s_max)
    square = m == n

    det = sign = logabsdet = trace = None
    with np.errstate(over="ignore", invalid="ignore"):
        symmetric, pd, psd, projection, orthonormal_cols = _structure(A64, tol, eps, s_max)
    if square:
        sign_, logabsdet_ = np.linalg.slogdet(A64)
        sign, logabsdet = float(sign_), float(logabsdet_)
        with np.errstate(over="ignore", under="ignore"):
            det = float(sign_ * np.exp(logabsdet_)) if sign_ != 0 else 0.0
        if rank < n:
            det, sign, logabsdet = 0.0, 0.0, -math.inf
        with np.errstate(over="ignore"):
            trace = float(np.trace(A64))
    orthogonal = square and orthonormal_cols

    report = dict(
        shape=(m, n), dtype=str(dtype), rank=rank, rank_tol=tol_rank,
        singular_values=tuple(float(v) for v in s), cond=cond, norm_fro=norm_fro,
        norm_2=s_max, det=det, sign=sign, logabsdet=logabsdet, trace=trace,
        is_square=square, is_symmetric=symmetric, is_positive_definite=pd,
        is_positive_semidefinite=psd, is_orthogonal=orthogonal,
        has_orthonormal_columns=orthonormal_cols, is_projection=projection, tol=tol,
    )
    eig = eigendecomposition(A64, check_finite=False) if (square and eigen) else None
    return MatrixReport(**report, advice=tuple(_advice(report, eps)), eigen=eig)


def _structure(A: np.ndarray, tol: float, eps: float, s_max: float) -> tuple[bool, ...]:
    """(symmetric, positive definite, positive semidefinite, projection, orthonormal columns).

    Symmetry and definiteness do not change when A is scaled, so they are judged
    relative to ‖A‖₂ (``eye(2) * 1e-300`` is symmetric positive definite); being a
    projection (A² = A) does change, so it keeps the absolute ``tol``.
    """
    m, n = A.shape
    symmetric = pd = psd = projection = False
    rel = 10 * max(m, n) * eps * s_max
    if m == n:
        symmetric = bool(np.linalg.norm(A - A.T) <= rel)
        if symmetric:
            lam = np.linalg.eigvalsh((A + A.T) / 2)
            psd = bool(lam[0] >= -rel)
            pd = bool(lam[0] > rel)
        projection = bool(s_max > 0.5 and np.linalg.norm(A @ A - A) <= tol) or s_max == 0
    gram_err = float(np.linalg.norm(A.T @ A - np.eye(n))) if m >= n else math.inf
    return symmetric, pd, psd, projection, gram_err <= 10 * max(m, n) * eps


def _advice(r: dict[str, Any], eps: float) -> list[str]:
    m, n = r["shape"]
    rank, cond = r["rank"], r["cond"]
    out: list[str] = []
    digits_available = -math.log10(eps)
    if _is_zero(r):
        return ["the zero matrix: rank 0, every system A x = b with b ≠ 0 is inconsistent; "
                "check how the data were built"]
    if rank < min(m, n):
        what = "singular" if m == n else "rank-deficient"
        dep = "columns" if m >= n else "rows"
        out.append(
            f"{what}: rank {rank} of {min(m, n)} (tolerance {r['rank_tol']:.1e}) — "
            + (f"1 {dep[:-1]} is a linear combination of the others" if min(m, n) - rank == 1
               else f"{min(m, n) - rank} {dep} are linear combinations of the others")
            + ("; det is 0 and A has no inverse" if m == n else "")
            + ". A x = b has no unique solution: use dotwise.lstsq (minimum-norm) or "
              "dotwise.ridge, or drop the dependent " + dep + "; never inv(A)."
        )
    elif cond > 1e10:
        digits = int(math.log10(cond))
        out.append(
            f"condition {cond:.0e}: expect ~{digits} lost digits of the "
            f"{digits_available:.0f} available; use ridge or lstsq, not inv"
            + ("; the normal equations (AᵀA) would square it to "
               f"{cond ** 2:.0e} and lose everything" if m > n else "")
        )
    elif cond > 1e4:
        digits = int(math.log10(cond))
        out.append(
            f"condition {cond:.0e}: moderately ill-conditioned, ~{digits} digits lost; "
            f"solve with QR or SVD (dotwise.lstsq picks one); avoid forming AᵀA, which "
            f"squares the condition number to {cond ** 2:.0e}"
        )
    else:
        out.append(f"well-conditioned (condition {cond:.3g}): every solver is accurate here")
    if r["is_orthogonal"]:
        out.append("orthogonal: its inverse is its transpose (Aᵀ); it preserves lengths and "
                   "angles, condition 1")
    elif r["has_orthonormal_columns"]:
        out.append("orthonormal columns: the least-squares solution is simply Aᵀ b, and "
                   "A Aᵀ projects onto col(A)")
    if r["is_projection"]:
        kind = "an orthogonal" if r["is_symmetric"] else "an oblique"
        out.append(f"{kind} projection (A² = A): eigenvalues 0 and 1, trace = rank = {rank}; "
                   "it is its own square, and singular unless it is the identity")
    if r["is_positive_definite"]:
        out.append("symmetric positive definite: Cholesky (scipy.linalg.cho_factor / "
                   "cho_solve) is the fastest stable way to solve A x = b")
    elif r["is_positive_semidefinite"] and not r["is_projection"]:
        out.append("symmetric positive semidefinite but singular (a covariance or Gram "
                   "matrix of dependent columns?): add a small ridge α·I before factoring")
    elif r["is_symmetric"] and not r["is_positive_semidefinite"]:
        out.append("symmetric but indefinite: use an LDLᵀ factorization (scipy.linalg.solve "
                   "with assume_a='sym') or eigh")
    if r["is_square"] and rank == n and r["det"] is not None:
        det = r["det"]
        if det == 0 or not math.isfinite(det):
            out.append(f"the determinant {'under' if det == 0 else 'over'}flows in float "
                       f"(log|det| = {r['logabsdet']:.4g}): use slogdet, never det, for "
                       "likelihoods and volumes")
        elif cond > 1e4 and abs(det) > 1e-3:
            out.append(f"det = {det:.3g} looks healthy but says nothing about conditioning: "
                       "trust the condition number, not the determinant")
        elif abs(det) < 1e-8 and cond < 1e4:
            out.append(f"det = {det:.1e} is tiny only because of scale (condition is "
                       f"{cond:.3g}): a small determinant does not mean near-singular")
    if m > n:
        out.append("tall (more rows than columns): A x = b is overdetermined; solve it in the "
                   "least-squares sense with dotwise.lstsq")
    elif m < n:
        out.append("wide (more columns than rows): A x = b is underdetermined; dotwise.lstsq "
                   "returns the minimum-norm solution")
    elif rank == n and cond <= 1e10 and not r["is_orthogonal"]:
        out.append("square and invertible: solve A x = b with numpy.linalg.solve (LU); "
                   "form inv(A) only if you need its entries")
    return out


def _is_zero(r: dict[str, Any]) -> bool:
    return r["norm_2"] == 0.0
