r"""``LinearRegression``, ``Ridge`` and ``PCA`` fitted on Dask arrays.

The estimators in :mod:`dotwise.models` hand a Dask ``X`` here from the top of
``fit`` / ``predict`` / ``transform``. What is learned (coefficients, standard
errors, components, variances) comes back as NumPy; what has one entry per
sample (``residuals_``, ``leverage_``, studentized residuals, Cook's distances,
``predict``, ``transform``, ``inverse_transform``) stays a **lazy** Dask array, so
nothing of length ``n`` is gathered to the client unless the user asks for it.

Regression: one pass for the column means (with an intercept), one TSQR pass of
the centred, √w-scaled ``[X y]`` (:mod:`dotwise.scale.tsqr`). Everything else
comes from the small factors: with :math:`R = U_R S V^\top`, the standard errors
use :math:`(X_c^\top X_c)^{-1} = V S^{-2} V^\top`, the residual sum of squares is
:math:`\lVert R w - c\rVert^2 + \lVert T\rVert^2`, and the leverage is the lazy
row norm :math:`h_i = \lVert (x_i - \bar x)\, V S^{-1} \rVert^2 (+ 1/n)`.

PCA: ``"full"`` (and ``"auto"`` for up to 1 000 features) is exact — a pass for
the mean, then TSQR of the blockwise-centred data and the SVD of its ``p × p``
factor R (the singular values of :math:`X_c`). ``"covariance_eigh"`` sums the
Gram matrix blockwise. ``"randomized"`` (and ``"auto"`` for wider data) is
Halko–Martinsson–Tropp subspace iteration with implicit centring: each power
step is one pass computing :math:`Y = X_c Z` blockwise, the TSQR factor
:math:`R_Y` of ``Y`` and :math:`W = X_c^\top Y`, so that
:math:`X_c^\top Q = W R_Y^{-1}` with :math:`Q = Y R_Y^{-1}` never formed.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg

from .._dask import check_row_chunks, compute, require_dask
from .._validation import ShapeError, check_choice, check_fitted
from .linalg import ridge_from_factors, solve_factors, warn_conditioning
from .tsqr import align_rows, split_factors, tsqr_graph

__all__ = ["fit_linear", "fit_pca", "fit_ridge", "pca_inverse_transform",
           "pca_transform", "predict_linear"]


# ---------------------------------------------------------------- regression
def _prepare(est, X, y, sample_weight, what):
    """Validate; return X, Y (2-D, aligned), y_ndim, sw, means, counts and the factors."""
    da = require_dask(f"{type(est).__name__}.fit on a Dask array")
    X = _check_X(X, "X")
    check_row_chunks(X, "X", what=what)
    y = align_rows(y, X, "y", da)
    if y.ndim not in (1, 2):
        raise ShapeError(f"y must be 1-D or 2-D, got shape {y.shape}")
    if y.shape[0] != X.shape[0]:
        raise ShapeError(f"X and y must have the same number of samples: X has shape "
                         f"{X.shape}, y has shape {y.shape}")
    dtype = X.dtype
    Y = (y if y.ndim == 2 else y[:, None]).astype(dtype)
    sw = None
    if sample_weight is not None:
        sw = align_rows(sample_weight, X, "sample_weight", da).astype(dtype)
        if sw.shape != (X.shape[0],):
            raise ShapeError(f"sample_weight must have shape ({X.shape[0]},), got {sw.shape}")
    n, p = X.shape
    k = Y.shape[1]
    todo = {}
    if est.fit_intercept:
        if sw is None:
            todo["x_mean"], todo["y_mean"] = X.mean(axis=0), Y.mean(axis=0)
        else:
            total = sw.sum()
            todo["x_mean"] = (X * sw[:, None]).sum(axis=0) / total
            todo["y_mean"] = (Y * sw[:, None]).sum(axis=0) / total
    if sw is not None:
        todo["sw_min"], todo["sw_sum"], todo["n_eff"] = sw.min(), sw.sum(), (sw != 0).sum()
    got = dict(zip(todo, compute(*todo.values()), strict=True)) if todo else {}
    if sw is not None and not got["sw_min"] >= 0:
        raise ValueError("sample_weight must be non-negative, got a negative weight")
    x_mean = np.asarray(got.get("x_mean", np.zeros(p)), dtype=dtype)
    y_mean = np.asarray(got.get("y_mean", np.zeros(k)), dtype=dtype)
    graph = tsqr_graph(X, Y, shift=np.concatenate([x_mean, y_mean]), weights=sw,
                       dtype=dtype, names=("X", "y"))
    (R_aug,) = compute(graph)
    f = split_factors(R_aug, p, n)
    est.n_features_in_ = p
    if hasattr(est, "feature_names_in_"):
        del est.feature_names_in_
    info = {"n_eff": int(got.get("n_eff", n)), "sw_sum": float(got.get("sw_sum", n))}
    return X, y, sw, x_mean, y_mean, f, info


def _check_X(X, name):
    if X.ndim != 2:
        raise ShapeError(f"{name} must be a 2-D Dask array, got {X.ndim}-D with shape "
                         f"{X.shape}; reshape it with {name}.reshape(-1, 1) for one feature")
    if X.dtype.kind not in "fiub":
        raise TypeError(f"{name} must contain real numbers, got a Dask array of dtype {X.dtype}")
    if X.dtype.kind != "f" or X.dtype.itemsize < 4:
        X = X.astype(np.float64)
    return X


def _rewarn(caught, owner):
    for w in caught:
        warnings.warn(f"{owner}.fit: {w.message}", w.category, stacklevel=4)


def _set_coef(est, x, x_mean, y_mean, y_ndim):
    if y_ndim == 1:
        x, y_mean = x[:, 0], y_mean[0]
    est._set_coef(x, x_mean, y_mean, y_ndim)


def _lazy_leverage(est, X, x_mean, sw, M, info):
    """h_i = ‖√w_i (x_i − x̄) M‖² (+ w_i / Σw with an intercept), as a lazy Dask array."""
    Z = (X - x_mean) @ M.astype(X.dtype)
    if sw is not None:
        Z = Z * np.sqrt(sw)[:, None]
    h = (Z**2).sum(axis=1)
    if est.fit_intercept:
        h = h + (1.0 / X.shape[0] if sw is None else sw / info["sw_sum"])
    return h


def _residual_diagnostics(est, X, y, sw, leverage, rss, n_params, dof):
    """Lazy residuals / studentized residuals / Cook's distances; σ² from the factors."""
    residuals = y - (X @ est.coef_.T + est.intercept_)
    est.residuals_ = residuals
    est.leverage_ = leverage
    est.dof_resid_ = dof
    if sw is not None:
        root = np.sqrt(sw)
        residuals = residuals * (root if residuals.ndim == 1 else root[:, None])
    rss = rss if y.ndim == 2 else rss[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma2 = rss / dof if dof > 0 else np.full_like(rss, np.nan)
    est.residual_variance_ = sigma2 if np.ndim(sigma2) else float(sigma2)
    one_minus_h = 1.0 - leverage
    scale = one_minus_h if residuals.ndim == 1 else one_minus_h[:, None]
    est.studentized_residuals_ = residuals / np.sqrt(sigma2 * scale)
    hfac = leverage / one_minus_h**2
    hfac = hfac if residuals.ndim == 1 else hfac[:, None]
    est.cooks_distance_ = residuals**2 * hfac / (n_params * sigma2)
    return sigma2


def fit_linear(est, X, y, sample_weight=None):
    """``LinearRegression.fit`` for a Dask ``X``: see the module docstring."""
    name = type(est).__name__
    if est.method == "normal":
        raise ValueError(f"{name}(method='normal') is not available for Dask arrays: TSQR "
                         "('auto') reads X once, as forming XᵀX would; use method='auto'")
    X, y, sw, x_mean, y_mean, f, info = _prepare(est, X, y, sample_weight, f"{name}.fit")
    n, p = X.shape
    rcond = float(np.finfo(X.dtype).eps) * max(n, p)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        x, rank, cond, _, used = solve_factors(f, est.method, rcond, X.shape)
        warn_conditioning(X.shape, rank, cond, stacklevel=2)
    _rewarn(caught, name)
    x = np.asarray(x, dtype=X.dtype)
    _set_coef(est, x, x_mean, y_mean, y.ndim)
    est.rank_, est.cond_, est.method_ = int(rank), float(cond), used
    if not est.diagnostics:
        return est
    _, s, Vt = np.linalg.svd(f.R)
    est.cond_ = float(s[0] / s[-1]) if s.size and s[-1] > 0 else float("inf")
    M = Vt[:rank].T / s[:rank]  # (p, rank): Xc M = the left singular vectors of Xc
    intercept = int(bool(est.fit_intercept))
    leverage = _lazy_leverage(est, X, x_mean, sw, M, info)
    n_params = rank + intercept
    sigma2 = _residual_diagnostics(est, X, y, sw, leverage, f.residual_norms(x) ** 2,
                                   max(n_params, 1), info["n_eff"] - n_params)
    sigma = np.sqrt(np.asarray(sigma2))
    if rank < p:
        est.coef_stderr_ = np.full_like(est.coef_, np.nan)
        ivar = np.nan
    else:
        diag = np.einsum("ij,ij->i", M, M)  # diag((XcᵀXc)⁻¹) = diag(V S⁻² Vᵀ)
        est.coef_stderr_ = np.multiply.outer(sigma, np.sqrt(diag)).astype(X.dtype)
        ivar = float(np.sum((x_mean @ M) ** 2))
    if intercept:
        istd = sigma * np.sqrt(1.0 / info["sw_sum"] + ivar)
        est.intercept_stderr_ = float(istd) if np.ndim(istd) == 0 else istd
    else:
        est.intercept_stderr_ = 0.0
    return est


def fit_ridge(est, X, y, alpha, sample_weight=None):
    """``Ridge.fit`` for a Dask ``X``: TSQR, then the ridge problem in R by its SVD."""
    name = type(est).__name__
    X, y, sw, x_mean, y_mean, f, info = _prepare(est, X, y, sample_weight, f"{name}.fit")
    x, s, Vt, keep = ridge_from_factors(f, np.asarray(alpha), X.dtype, X.shape)
    _set_coef(est, x, x_mean, y_mean, y.ndim)
    if not est.diagnostics:
        return est
    tol = s[0] * max(X.shape) * np.finfo(X.dtype).eps if s.size else 0.0
    keep = s > tol
    with np.errstate(divide="ignore", invalid="ignore"):
        shrink = np.where(keep, s**2 / (s**2 + alpha), 0.0).astype(X.dtype)
        M = np.where(keep, np.sqrt(shrink) / s, 0.0) * Vt.T  # h = Σ shrink_j U_ij²
    est.cond_ = float(s[0] / s[-1]) if s.size and s[-1] > 0 else float("inf")
    leverage = _lazy_leverage(est, X, x_mean, sw, M, info)
    est.effective_dof_ = float(shrink.sum()) + int(bool(est.fit_intercept))
    _residual_diagnostics(est, X, y, sw, leverage, f.residual_norms(x) ** 2,
                          est.effective_dof_, info["n_eff"] - est.effective_dof_)
    return est


def predict_linear(est, X):
    """Lazy :math:`\\hat y = X w + b` for a Dask ``X``."""
    check_fitted(est, "coef_")
    X = _check_X(X, "X")
    _check_features(est, X)
    return X @ est.coef_.T.astype(X.dtype) + est.intercept_


def _check_features(est, X):
    if X.shape[1] != est.n_features_in_:
        raise ValueError(f"X has {X.shape[1]} features, but {type(est).__name__} is expecting "
                         f"{est.n_features_in_} features as input.")


# ---------------------------------------------------------------- PCA
_SOLVERS = ("auto", "full", "covariance_eigh", "randomized")


def fit_pca(est, X):
    """``PCA.fit`` for a Dask ``X``: see the module docstring for the solvers."""
    from .._kernels import pca_flip_signs as _flip_signs

    require_dask("PCA.fit on a Dask array")
    solver = check_choice(est.svd_solver, "svd_solver", _SOLVERS)
    X = _check_X(X, "X")
    n, p = X.shape
    if n < 2:
        raise ValueError(f"PCA needs at least 2 samples, got X of shape {X.shape}")
    k, fraction = est._requested_components(n, p, solver)
    if solver == "auto":
        if p <= 1000 or fraction is not None or k >= 0.8 * min(n, p):
            solver = "full"
        else:
            solver = "randomized"
    if solver == "randomized" and fraction is not None:
        raise ValueError(
            f"n_components={est.n_components!r} (a variance fraction) needs the full "
            "spectrum; use svd_solver='full' or 'covariance_eigh', or pass an int")
    if solver == "full":
        check_row_chunks(X, "X", what="PCA(svd_solver='full') on a Dask array (TSQR)")
    (mean,) = compute(X.mean(axis=0))
    mean = np.asarray(mean, dtype=X.dtype)
    if solver == "full":
        (R_aug,) = compute(tsqr_graph(X, shift=mean, dtype=X.dtype, names=("X", "")))
        R = split_factors(R_aug, p, n).R
        _, s, Vt = np.linalg.svd(R)
        _, Vt = _flip_signs(None, Vt)
        variances = s**2 / (n - 1)
        total = float(variances.sum())
    elif solver == "covariance_eigh":
        Xc = X - mean
        (G,) = compute(Xc.T @ Xc)
        cov = np.asarray(G) / (n - 1)
        total = float(np.trace(cov))
        evals, evecs = scipy.linalg.eigh(cov, check_finite=False, overwrite_a=True)
        evals = np.clip(evals[::-1], 0.0, None)
        _, Vt = _flip_signs(None, np.ascontiguousarray(evecs[:, ::-1].T))
        variances = evals
        s = np.sqrt(evals * (n - 1))
    else:
        from sklearn.utils import check_random_state

        n_iter = est.iterated_power
        if n_iter == "auto":
            n_iter = 7 if k < 0.1 * min(n, p) else 4
        s, Vt, total = _randomized(X, mean, k, int(est.n_oversamples), int(n_iter),
                                   check_random_state(est.random_state))
        _, Vt = _flip_signs(None, Vt)
        variances = s**2 / (n - 1)
        total = total / (n - 1)
    if fraction is not None:
        ratios = variances / total if total > 0 else np.zeros_like(variances)
        k = min(int(np.searchsorted(np.cumsum(ratios), fraction, side="left")) + 1,
                len(variances))
    est.svd_solver_, est.n_samples_, est.n_features_in_ = solver, n, p
    if hasattr(est, "feature_names_in_"):
        del est.feature_names_in_
    est.mean_ = mean
    est.n_components_ = k
    est.components_ = np.ascontiguousarray(Vt[:k]).astype(X.dtype, copy=False)
    est.singular_values_ = s[:k].astype(X.dtype, copy=True)
    est.explained_variance_ = variances[:k].astype(X.dtype, copy=True)
    ratio = est.explained_variance_ / total if total > 0 else np.zeros_like(
        est.explained_variance_)
    est.explained_variance_ratio_ = ratio.astype(X.dtype)
    rest = min(n, p) - k
    est.noise_variance_ = (float(max(total - float(variances[:k].sum()), 0.0) / rest)
                           if rest > 0 else 0.0)
    return est


def _power_pass(X, mean, Z, *, with_total=False):
    """One pass: ``R`` of ``Y = X_c Z`` (TSQR), ``W = X_cᵀ Y`` and optionally ``‖X_c‖²_F``."""
    Y = X @ Z - (mean @ Z)[None, :]
    Y = Y.rechunk({1: -1})
    W = X.T @ Y - np.outer(mean, np.ones(Z.shape[1], dtype=Z.dtype)) * Y.sum(axis=0)[None, :]
    todo = [tsqr_graph(Y, dtype=Z.dtype, check_finite=False, names=("Y", "")), W]
    if with_total:
        todo.append(((X - mean) ** 2).sum())
    got = compute(*todo)
    R = split_factors(got[0], Z.shape[1], X.shape[0]).R
    return R, np.asarray(got[1]), (float(got[2]) if with_total else None)


def _right_solve(W, R):
    """``W R⁻¹`` (``W`` (p, l), ``R`` (l, l) upper triangular); pseudo-inverse if singular."""
    d = np.abs(np.diag(R))
    if d.size and d.min() > d.max() * R.shape[0] * np.finfo(R.dtype).eps:
        return scipy.linalg.solve_triangular(R, W.T, trans="T", check_finite=False).T
    return W @ np.linalg.pinv(R)


def _randomized(X, mean, k, n_oversamples, n_iter, rng):
    """Top-``k`` singular values and right vectors of ``X − mean`` (Halko et al. 2011).

    Subspace iteration with ``n_iter`` power steps; each step is one pass over X
    (see :func:`_power_pass`). Returns ``(s, Vt, ‖X_c‖²_F)``.
    """
    n, p = X.shape
    size = min(k + n_oversamples, n, p)
    Z = rng.standard_normal(size=(p, size)).astype(X.dtype, copy=False)
    total = None
    for step in range(n_iter + 1):
        R, W, t = _power_pass(X, mean, Z, with_total=step == 0)
        total = t if t is not None else total
        XtQ = _right_solve(W, R)  # X_cᵀ Q, Q = Y R⁻¹ orthonormal
        if step < n_iter:
            Z = scipy.linalg.qr(XtQ, mode="economic", check_finite=False)[0]
    _, s, Vt = scipy.linalg.svd(XtQ.T, full_matrices=False, check_finite=False)
    return s[:k], Vt[:k], total


def pca_transform(est, X):
    """Lazy :math:`Z = (X - \\bar x) V_k^\\top` (whitened when asked) for a Dask ``X``."""
    check_fitted(est, "components_")
    X = _check_X(X, "X")
    _check_features(est, X)
    C = est.components_.astype(X.dtype, copy=False)
    Z = X @ C.T - (est.mean_ @ C.T)[None, :]
    if est.whiten:
        Z = Z / est._whiten_scale()
    return Z


def pca_inverse_transform(est, Z):
    """Lazy :math:`\\hat X = Z V_k + \\bar x` for Dask coordinates ``Z``."""
    check_fitted(est, "components_")
    Z = _check_X(Z, "X")
    if Z.shape[1] != est.n_components_:
        raise ShapeError(f"X must have n_components_={est.n_components_} columns (the output "
                         f"of transform), got shape {Z.shape}")
    if est.whiten:
        Z = Z * est._whiten_scale()
    return Z @ est.components_.astype(Z.dtype, copy=False) + est.mean_

