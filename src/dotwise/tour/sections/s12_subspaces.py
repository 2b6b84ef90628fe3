"""Tour: projection onto a subspace and the four properties of a projection matrix."""

from __future__ import annotations

import numpy as np

import dotwise as dw
from dotwise.tour import Section, TourContext


def run(ctx: TourContext) -> None:
    rng = ctx.rng(12)
    m = 50
    A = rng.standard_normal((m, 4))
    A_dep = np.column_stack([A, A[:, 0] + 2 * A[:, 1]])  # a fifth, dependent column
    b = rng.standard_normal(m)
    ctx.text(f"col(A) is a 4-dimensional subspace of R^{m}. Projecting b onto it gives the "
             "closest point p = P b; the residual b − p is perpendicular to every column. "
             "A fifth column that is a combination of the others changes nothing: the "
             "projection is onto the span, and dotwise handles the rank deficiency.")
    p = dw.project(b, A)
    p_dep = dw.project(b, A_dep)
    r = b - p
    ctx.check("residual b − p is orthogonal to every column of A",
              np.max(np.abs(A.T @ r)) < 1e-12 * dw.norm(b) * dw.norm(A.ravel()),
              f"max |Aᵀ(b − p)| = {np.max(np.abs(A.T @ r)):.1e}")
    ctx.check("a dependent extra column does not change the projection",
              np.allclose(p, p_dep, atol=1e-12), f"‖p − p_dep‖ = {dw.norm(p - p_dep):.1e}")
    ctx.check("Pythagoras: ‖b‖² = ‖p‖² + ‖b − p‖²",
              abs(b @ b - p @ p - r @ r) < 1e-10 * (b @ b))

    rows = []
    for label, P in [("P = A A⁺ (rank 4)", dw.projection_matrix(A)),
                     ("P with a dependent column", dw.projection_matrix(A_dep)),
                     ("I − P (complement)", dw.complement_projection(A)),
                     ("oblique: A (BᵀA)⁻¹Bᵀ", _oblique(A, rng)),
                     ("random matrix", rng.standard_normal((m, m)) / np.sqrt(m))]:
        rep = dw.check_projection(P)
        rows.append([label, rep.idempotence_error, rep.symmetry_error, rep.eigenvalue_error,
                     f"{rep.trace:.6g} / {rep.rank}",
                     "orthogonal" if rep.is_orthogonal_projection else
                     "oblique" if rep.is_projection else "no"])
    ctx.table("measured properties of m×m matrices (Frobenius norms)",
              ["matrix", "‖P² − P‖", "‖P − Pᵀ‖", "max dist(λ, {0,1})", "trace / rank",
               "projection?"], rows)
    P = dw.projection_matrix(A)
    rep = dw.check_projection(P)
    ctx.check("P = A A⁺ is idempotent, symmetric, has eigenvalues in {0, 1} and trace = rank",
              rep.is_orthogonal_projection, f"tolerance {rep.tol:.1e}")
    ctx.check("P + (I − P) = I and P (I − P) = 0",
              np.allclose(P + dw.complement_projection(A), np.eye(m))
              and np.abs(P @ dw.complement_projection(A)).max() < 1e-13)

    import matplotlib.pyplot as plt

    lam = np.sort(dw.eigendecomposition(P).values)
    fig, ax = plt.subplots(figsize=(5, 2.8))
    ax.plot(lam, "o", ms=3, color="#2b6cb0")
    ax.set_xlabel("index"), ax.set_ylabel("eigenvalue of P")
    ax.set_title(f"{m - 4} zeros and 4 ones: P keeps col(A), kills its complement", fontsize=9)
    ax.grid(alpha=0.3)
    ctx.figure("eigenvalues", fig, "Eigenvalues of the projection matrix onto a 4-D subspace")


def _oblique(A: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A projection onto col(A) along a different direction: idempotent, not symmetric."""
    B = A + 0.5 * rng.standard_normal(A.shape)
    return A @ dw.lstsq(B.T @ A, B.T).x  # (BᵀA)⁻¹Bᵀ: BᵀA is square and invertible


SECTION = Section(
    key="subspaces", title="Subspaces: projection matrices", order=12, run=run,
    summary="P = A A⁺ projects onto col(A): idempotent, symmetric, eigenvalues 0/1, "
            "trace = rank — each measured.",
)
