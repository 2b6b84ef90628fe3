"""Tour: linear regression with diagnostics on scikit-learn's diabetes data."""

from __future__ import annotations

import numpy as np

import dotwise as dw
from dotwise.tour import Section, TourContext


def run(ctx: TourContext) -> None:
    from sklearn.datasets import load_diabetes

    data = load_diabetes()
    X, y, names = data.data, data.target, list(data.feature_names)
    n, p = X.shape
    ctx.text(f"Diabetes progression one year after baseline for {n} patients, from {p} "
             "standardised measurements (age, sex, BMI, blood pressure, six blood serum "
             "values). OLS solves min ‖Xw + b − y‖ by dotwise.lstsq on the centred data; "
             "ridge adds α‖w‖² and shrinks the coefficients.")

    ols = dw.LinearRegression().fit(X, y)
    ridges = {alpha: dw.Ridge(alpha=alpha).fit(X, y) for alpha in (0.01, 0.1, 1.0)}
    rows = []
    for j, name in enumerate(names):
        rows.append([name, ols.coef_[j], ols.coef_stderr_[j],
                     ols.coef_[j] / ols.coef_stderr_[j],
                     *[m.coef_[j] for m in ridges.values()]])
    rows.append(["intercept", ols.intercept_, ols.intercept_stderr_,
                 ols.intercept_ / ols.intercept_stderr_,
                 *[m.intercept_ for m in ridges.values()]])
    rows.append(["R² (training)", ols.score(X, y), "", "",
                 *[m.score(X, y) for m in ridges.values()]])
    rows.append(["effective dof", ols.rank_ + 1, "", "",
                 *[m.effective_dof_ for m in ridges.values()]])
    ctx.table("coefficients: OLS (with standard errors and t) and ridge for three α",
              ["term", "OLS", "std err", "t", "ridge α=0.01", "ridge α=0.1", "ridge α=1"],
              rows)
    ctx.text(f"OLS used method {ols.method_!r}; the centred design has rank {ols.rank_} and "
             f"condition number {ols.cond_:.3g}. Note s1 and s2 (total and LDL cholesterol): "
             "large, opposite, uncertain OLS coefficients that even a little ridge shrinks sharply — the "
             "signature of correlated columns.")

    from sklearn.linear_model import LinearRegression as SkLinearRegression

    sk = SkLinearRegression().fit(X, y)
    ctx.check("OLS coefficients match scikit-learn's",
              np.allclose(ols.coef_, sk.coef_, rtol=1e-9, atol=1e-9),
              f"max |Δ| = {np.max(np.abs(ols.coef_ - sk.coef_)):.1e}")
    r = ols.residuals_
    normal_eq = np.max(np.abs(X.T @ r)) / (dw.norm(X.ravel()) * dw.norm(y))
    ctx.check("normal equations: Xᵀr ≈ 0 (the residual is orthogonal to every column)",
              normal_eq < 1e-12, f"max |Xᵀr| / (‖X‖‖y‖) = {normal_eq:.1e}")
    ctx.check("residuals sum to zero (orthogonal to the intercept column)",
              abs(r.sum()) < 1e-9 * np.abs(y).sum(), f"Σr = {r.sum():.1e}")
    ctx.check("leverages sum to rank + 1 = the number of fitted parameters",
              abs(ols.leverage_.sum() - (ols.rank_ + 1)) < 1e-9,
              f"Σh = {ols.leverage_.sum():.10g}")
    r2 = [ols.score(X, y)] + [m.score(X, y) for m in ridges.values()]
    ctx.check("training R² only falls as α grows (ridge trades fit for stability)",
              all(a >= b for a, b in zip(r2, r2[1:], strict=False)))

    top = np.argsort(ols.leverage_)[::-1][:6]
    mean_h = (ols.rank_ + 1) / n
    ctx.table(f"highest-leverage patients (mean leverage (p+1)/n = {mean_h:.3f})",
              ["row", "leverage h", "h / mean", "residual", "studentized", "Cook's D"],
              [[int(i), ols.leverage_[i], ols.leverage_[i] / mean_h, r[i],
                ols.studentized_residuals_[i], ols.cooks_distance_[i]] for i in top])
    worst = int(np.argmax(ols.cooks_distance_))
    ctx.text(f"Leverage measures how unusual a patient's measurements are; Cook's distance "
             f"combines that with the residual. The most influential patient is row {worst} "
             f"(D = {ols.cooks_distance_[worst]:.3f}, leverage {ols.leverage_[worst]:.3f}).")

    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    fitted = ols.predict(X)
    axes[0].scatter(fitted, r, s=10, alpha=0.6, color="#2b6cb0")
    axes[0].axhline(0, color="k", lw=1)
    axes[0].scatter(fitted[top], r[top], s=40, facecolors="none", edgecolors="#c05621",
                    label="top leverage")
    axes[0].set_xlabel("fitted value"), axes[0].set_ylabel("residual")
    axes[0].set_title("residuals vs fitted"), axes[0].legend(loc="upper left")
    axes[1].scatter(ols.leverage_, ols.studentized_residuals_, s=10, alpha=0.6,
                    color="#2f855a")
    axes[1].axvline(2 * mean_h, color="#c05621", ls="--", lw=1, label="2 × mean leverage")
    axes[1].set_xlabel("leverage h"), axes[1].set_ylabel("studentized residual")
    axes[1].set_title("influence"), axes[1].legend(loc="upper right")
    fig.tight_layout()
    ctx.figure("residuals", fig, "Left: OLS residuals against fitted values (no structure "
               "left). Right: leverage against studentized residual; points far right and "
               "far from zero pull the fit most.")


SECTION = Section(
    key="regression", title="Regression: OLS and ridge with diagnostics", order=30, run=run,
    summary="Least squares as an estimator: coefficients, uncertainty, leverage and influence.",
)
