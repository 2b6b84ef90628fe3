"""Tour: eigenvalues — the directions a matrix only stretches, power iteration, and PCA."""

from __future__ import annotations

import numpy as np

import dotwise as dw
from dotwise.tour import Section, TourContext


def _with_spectrum(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A symmetric matrix Q diag(values) Qᵀ with a random orthogonal Q (from dotwise's QR)."""
    Q, _ = dw.householder_qr(rng.standard_normal((len(values), len(values))))
    return (Q * values) @ Q.T


def run(ctx: TourContext) -> None:
    rng = ctx.rng(15)
    ctx.text("An eigenvector of a square A is a direction A only stretches: A v = λ v. For a "
             "symmetric A the spectral theorem promises real eigenvalues and orthonormal "
             "eigenvectors, A = V Λ Vᵀ; a general A is diagonalizable, A = V Λ V⁻¹, only if it "
             "has n independent eigenvectors — a shear has one, a rotation none that is real.")
    S = np.array([[2.0, 1.0], [1.0, 2.0]])
    r = dw.eigendecomposition(S)
    ctx.text(str(r))
    ctx.check("spectral theorem on [[2, 1], [1, 2]]: λ = 3, 1; VᵀV = I; A = VΛVᵀ",
              np.allclose(r.values, [3, 1]) and r.orthogonality_error < 1e-14
              and r.reconstruction_error < 1e-14,
              f"‖VᵀV − I‖ = {r.orthogonality_error:.1e}")
    shear = dw.eigendecomposition([[1.0, 1.0], [0.0, 1.0]])
    rot = dw.eigendecomposition([[0.0, -1.0], [1.0, 0.0]])
    ctx.check("the shear [[1, 1], [0, 1]] is reported defective, not diagonalised",
              shear.defective and shear.reconstruction_error is None,
              f"cond(V) = {shear.cond_V:.1e}")
    ctx.check("the 90° rotation has the complex pair ±i and no real eigen-direction",
              not rot.is_real and np.allclose(sorted(rot.values.imag), [-1, 1])
              and rot.real_pairs() == [])

    ctx.text("Power iteration multiplies a vector by A again and again: the component along "
             "the dominant eigenvector grows fastest, so the error shrinks like |λ₂/λ₁|ᵏ. "
             "Below, three 200×200 symmetric matrices with λ₁ = 10 and λ₂ = 9, 7 or 4.")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    rows = []
    for lam2, color in ((9.0, "#c05621"), (7.0, "#2b6cb0"), (4.0, "#2f855a")):
        values = np.concatenate([[10.0, lam2], rng.uniform(-lam2 / 2, lam2 / 2, 198)])
        A = _with_spectrum(values, rng)
        res = dw.power_iteration(A, tol=1e-13, max_iter=2000, random_state=0)
        h = res.residual_history[0]
        k = np.arange(len(h))
        window = slice(5, max(6, len(h) - 5))
        rate = float(np.exp(np.polyfit(k[window], np.log(h[window]), 1)[0]))
        rows.append([f"{lam2 / 10:.1f}", res.iterations[0], rate, abs(res.value - 10.0)])
        ax.semilogy(k, h, color=color, lw=1.6, label=f"|λ₂/λ₁| = {lam2 / 10:.1f}")
        ax.semilogy(k, h[0] * (lam2 / 10) ** k, color=color, lw=1, ls="--")
    ax.set_xlabel("iteration k"), ax.set_ylabel("‖A x − λ x‖")
    ax.set_title("power iteration (solid) against |λ₂/λ₁|ᵏ (dashed)", fontsize=10)
    ax.set_ylim(1e-13, None)
    ax.legend(fontsize=8), ax.grid(alpha=0.3)
    ctx.figure("power-iteration", fig, "Convergence of power iteration follows |λ₂/λ₁|ᵏ")
    ctx.table("power iteration to ‖Ax − λx‖ ≤ 1e-13·‖A‖",
              ["|λ₂/λ₁|", "iterations", "measured rate per step", "|λ − 10|"], rows)
    ctx.check("the measured rate matches |λ₂/λ₁| within 5 %",
              all(abs(row[2] / float(row[0]) - 1) < 0.05 for row in rows),
              ", ".join(f"{row[2]:.3f} vs {row[0]}" for row in rows))
    A = _with_spectrum(np.array([5.0, 3.0, 2.2, 2.0, 1.0]), rng)
    near = dw.power_iteration(A, shift=2.15, random_state=0)
    ctx.check("shift-and-invert finds the eigenvalue nearest σ = 2.15 (2.2, not 2.0)",
              abs(near.value - 2.2) < 1e-9, f"{near.iterations[0]} iterations, λ = {near.value:.10g}")

    ctx.text("PCA is an eigenproblem: the principal axes of centred data are the eigenvectors "
             "of its covariance matrix C = XᵀX / (n − 1), and the explained variances are the "
             "eigenvalues. Here on scikit-learn's diabetes data (10 features).")
    from sklearn.datasets import load_diabetes

    X = load_diabetes().data
    Xc = X - X.mean(axis=0)
    C = Xc.T @ Xc / (len(X) - 1)
    e = dw.eigendecomposition(C)
    pca = dw.PCA(n_components=10).fit(X)
    align = [abs(float(dw.dot(a, v))) for a, v in zip(pca.components_, e.vectors.T, strict=True)]
    ctx.table("covariance eigenvalues vs PCA's explained variance (first 5)",
              ["i", "λᵢ of C", "PCA explained_variance_", "|axis · v|"],
              [[i + 1, e.values[i], pca.explained_variance_[i], align[i]] for i in range(5)])
    ctx.check("explained variances = eigenvalues of the covariance (rtol 1e-10)",
              np.allclose(pca.explained_variance_, e.values, rtol=1e-10, atol=0))
    ctx.check("principal axes = its eigenvectors (up to sign)",
              min(align) > 1 - 1e-8, f"min |axis · v| = {min(align):.12f}")


SECTION = Section(
    key="eigen", title="Eigenvalues: power iteration and the spectral theorem", order=15, run=run,
    summary="A v = λ v checked; symmetric, defective and rotation matrices told apart; power "
            "iteration's |λ₂/λ₁|ᵏ measured; PCA as the eigenvectors of the covariance.",
)
