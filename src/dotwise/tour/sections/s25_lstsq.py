"""Tour: least squares by every method — agreement, ill-conditioning, rank deficiency."""

from __future__ import annotations

import warnings

import numpy as np

import dotwise as dw
from dotwise.tour import Section, TourContext

METHODS = ("normal", "qr", "svd", "pinv", "auto")


def graded_problem(m: int, n: int, cond: float, rng: np.random.Generator,
                   noise: float = 1e-10):
    """A with singular values 1 … 1/cond, x_true known, b = A x_true + r with r ⟂ col(A)."""
    A, U, _, _ = dw.linalg.random_with_condition(m, n, cond, random_state=rng, return_factors=True)
    x = rng.standard_normal(n)
    r = rng.standard_normal(m)
    r -= U @ (U.T @ r)
    return A, A @ x + noise * r / dw.norm(r), x


def run(ctx: TourContext) -> None:
    rng = ctx.rng(25)
    # 1. a well-conditioned fit: a quadratic through noisy points
    t = np.linspace(-1, 1, 200)
    A = np.column_stack([np.ones_like(t), t, t ** 2])
    b = 0.5 - 1.0 * t + 2.0 * t ** 2 + 0.05 * rng.standard_normal(t.size)
    from sklearn.linear_model import LinearRegression  # the peer: scikit-learn's OLS

    ref = LinearRegression(fit_intercept=False).fit(A, b).coef_
    ctx.text("Fit y ≈ c₀ + c₁t + c₂t² to 200 noisy points. Every method solves the same "
             "problem min ‖Ax − b‖; on a well-conditioned A they must agree with each other "
             "and with scikit-learn's LinearRegression.")
    rows, results = [], {}
    for meth in METHODS:
        res = dw.lstsq(A, b, method=meth)
        results[meth] = res
        rows.append([meth if meth != "auto" else f"auto → {res.method}", *res.x.round(6),
                     res.residual_norm, res.rank, res.cond,
                     np.abs(res.x - ref).max()])
    ctx.table("quadratic fit, every method", ["method", "c₀", "c₁", "c₂", "‖Ax − b‖", "rank",
                                             "cond", "max |x − sklearn|"], rows)
    ctx.check("all methods agree with scikit-learn's LinearRegression to 1e-12",
              all(np.abs(r.x - ref).max() < 1e-12 for r in results.values()))
    res = results["auto"]
    r = b - A @ res.x
    ortho = np.abs(A.T @ r).max() / (dw.norm(A.ravel()) * dw.norm(r))
    ctx.check("the residual is orthogonal to col(A): Aᵀ(b − Ax) = 0",
              ortho < 1e-14, f"max |Aᵀr| / (‖A‖‖r‖) = {ortho:.1e}")

    # 2. conditioning: which methods keep their digits
    conds = np.logspace(1, 12, 12)
    errors: dict[str, list[float]] = {m: [] for m in METHODS}
    chosen = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dw.IllConditionedWarning)
        for c in conds:
            A2, b2, x2 = graded_problem(400, 20, c, rng)
            for meth in METHODS:
                try:
                    res2 = dw.lstsq(A2, b2, method=meth)
                    err = dw.norm(res2.x - x2) / dw.norm(x2)
                except np.linalg.LinAlgError:
                    err = np.nan
                    res2 = None
                errors[meth].append(err)
                if meth == "auto":
                    chosen.append(res2.method)
    rows = [[f"{c:.0e}", *(errors[m][i] for m in METHODS), chosen[i]]
            for i, c in enumerate(conds) if i % 2 == 1]
    ctx.text("Now 400×20 problems with a known answer and condition numbers from 10 to 1e12. "
             "The normal equations square the condition number (error ~ ε·κ²); QR and SVD "
             "lose only ~ε·κ. auto uses the fast normal equations (plus one refinement "
             "step) only while the Cholesky factor's condition estimate says that is safe.")
    ctx.table("relative error ‖x − x_true‖ / ‖x_true‖ (nan: the method refused)",
              ["cond(A)", *METHODS, "auto chose"], rows)
    ok = all(errors["auto"][i] <= 10 * max(errors["svd"][i], 1e-15) for i in range(len(conds)))
    ctx.check("auto is never more than 10× less accurate than the SVD", ok)
    hi = [i for i, c in enumerate(conds) if c >= 1e6]
    ctx.check("beyond cond 1e6 the normal equations lose ≥ 10× more than QR (or refuse)",
              all(np.isnan(errors["normal"][i]) or errors["normal"][i] > 10 * errors["qr"][i]
                  for i in hi))

    # 3. rank deficiency
    A3 = np.column_stack([A, A[:, 1] + A[:, 2]])
    try:
        dw.lstsq(A3, b, method="qr")
        refusal = "no error"
    except np.linalg.LinAlgError as exc:
        refusal = str(exc)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", dw.IllConditionedWarning)
        res3 = dw.lstsq(A3, b)
    ctx.text(f"A fourth column equal to t + t² makes A rank-deficient. method='qr' refuses: "
             f"“{_first_sentence(refusal)}”. auto switches to the SVD and returns the minimum-norm "
             f"solution (method={res3.method!r}, rank {res3.rank}), with a warning.")
    ctx.check("rank deficiency: qr raises LinAlgError with advice; auto → svd and warns",
              "method='svd'" in refusal and res3.method == "svd" and res3.rank == 3
              and any(issubclass(w.category, dw.IllConditionedWarning) for w in caught))
    ctx.check("the minimum-norm solution fits as well as the full-rank one",
              abs(res3.residual_norm - results["svd"].residual_norm) < 1e-10)

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.6, 3.8))
    for meth, style in zip(METHODS[:-1], ("o-", "s-", "^-", "v--"), strict=True):
        label = "normal (+1 refinement step)" if meth == "normal" else meth
        ax.loglog(conds, errors[meth], style, ms=4, label=label)
    ax.loglog(conds, errors["auto"], "o", ms=10, mfc="none", mec="black", label="auto")
    eps = np.finfo(float).eps
    ax.loglog(conds, eps * conds, ":", color="gray", lw=1, label="ε·κ")
    ax.loglog(conds, eps * conds ** 2, "--", color="gray", lw=1, label="ε·κ²")
    ax.set_ylim(1e-17, 10)
    ax.set_xlabel("condition number κ(A)"), ax.set_ylabel("relative error in x")
    ax.legend(fontsize=8), ax.grid(alpha=0.3, which="both")
    ctx.figure("accuracy", fig, "Accuracy of each least-squares method as κ(A) grows")


SECTION = Section(
    key="lstsq", title="Least squares: every method, and when each fails", order=25, run=run,
    summary="Normal equations, QR, SVD and pinv agree on easy problems; conditioning "
            "separates them, and lstsq(method='auto') picks the fast one only when it is safe.",
)


def _first_sentence(message: str, limit: int = 200) -> str:
    """The message up to its first sentence end (never cut mid-word)."""
    cut = message.find(". ")
    text = message if cut < 0 else message[: cut + 1]
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0] + " …"
    return text
