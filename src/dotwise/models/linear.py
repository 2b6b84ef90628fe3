"""Linear regression estimators with diagnostics: ordinary least squares and ridge.

Both estimators follow the scikit-learn contract (``fit`` returns ``self``,
learned state ends in ``_``, ``predict``, ``score`` = R²) and solve their
least-squares problem with :func:`dotwise.linalg.lstsq` / :func:`dotwise.linalg.ridge`.
On top of the coefficients they report what a careful analyst looks at next:
the rank and conditioning of the design, residuals, the hat-matrix diagonal
(leverage), studentized residuals, Cook's distances and — for OLS — standard
errors with a ``summary()`` table.

The hat matrix :math:`H = X (X^\\top X)^{-1} X^\\top` is ``n × n``; it is never
formed. Its diagonal comes from a thin factorization of the centred design:
with :math:`X_c = Q R` (thin QR, ``Q`` of shape ``(n, p)``),
:math:`h_{ii} = \\lVert Q_{i,:} \\rVert^2`, and with :math:`X_c = U S V^\\top`
(thin SVD), :math:`h_{ii} = \\sum_j \\frac{s_j^2}{s_j^2 + \\alpha} U_{ij}^2`
(α = 0 for OLS). An intercept adds :math:`1/n` to every :math:`h_{ii}`,
because the constant column is orthogonal to the centred columns.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin
from sklearn.utils.validation import _check_sample_weight, validate_data

from .._dask import is_dask_array
from .._validation import check_choice, check_fitted, check_positive
from ..linalg import lstsq, ridge

__all__ = ["LinearRegression", "Ridge"]

_METHODS = ("auto", "normal", "qr", "svd", "pinv")


class _LinearModel(MultiOutputMixin, RegressorMixin, BaseEstimator):
    """Shared machinery: validation, centring, prediction and residual diagnostics."""

    def _prepare(self, X, y, sample_weight):
        """Validate, centre (weighted means with weights) and scale rows by √w.

        Returns ``X, y`` (validated), the transformed ``Xw, yw`` handed to the
        solver, the means and the weights (``None`` when not given).
        """
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], y_numeric=True,
                             multi_output=True)
        y = np.asarray(y, dtype=X.dtype)
        sw = None
        if sample_weight is not None:
            sw = _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)
        if self.fit_intercept:
            x_mean = np.average(X, axis=0, weights=sw).astype(X.dtype, copy=False)
            y_mean = np.average(y, axis=0, weights=sw).astype(X.dtype, copy=False)
            Xw, yw = X - x_mean, y - y_mean
        else:
            x_mean = np.zeros(X.shape[1], dtype=X.dtype)
            y_mean = np.zeros(y.shape[1:], dtype=X.dtype)
            Xw, yw = X, y
        if sw is not None:
            root = np.sqrt(sw)
            Xw = Xw * root[:, None]
            yw = yw * (root if y.ndim == 1 else root[:, None])
        return X, y, Xw, yw, x_mean, y_mean, sw

    def _set_coef(self, x, x_mean, y_mean, y_ndim):
        """``x`` is lstsq's solution (p,) or (p, k); store sklearn-shaped coef_/intercept_."""
        self.coef_ = np.ascontiguousarray(x.T)
        if not self.fit_intercept:
            self.intercept_ = 0.0  # as scikit-learn: a plain 0.0, whatever the targets
            return
        intercept = y_mean - x_mean @ x
        self.intercept_ = float(intercept) if y_ndim == 1 else np.asarray(intercept)

    def _intercept_leverage(self, n, sw):
        """The constant column's share of each h_ii: w_i / Σw (1/n unweighted), or 0."""
        if not self.fit_intercept:
            return 0.0
        return 1.0 / n if sw is None else sw / sw.sum()

    def _set_residual_diagnostics(self, X, y, sw, leverage, n_params, dof):
        """Residuals, σ², studentized residuals and Cook's distances from ``leverage``."""
        residuals = y - (X @ self.coef_.T + self.intercept_)
        self.residuals_ = residuals
        self.leverage_ = leverage
        self.dof_resid_ = dof
        if sw is not None:  # the weighted residual √w r is what the model's variance describes
            root = np.sqrt(sw)
            residuals = residuals * (root if residuals.ndim == 1 else root[:, None])
        rss = np.sum(residuals**2, axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            sigma2 = rss / dof if dof > 0 else np.full_like(rss, np.nan)
            self.residual_variance_ = sigma2 if np.ndim(sigma2) else float(sigma2)
            one_minus_h = 1.0 - leverage
            scale = one_minus_h if residuals.ndim == 1 else one_minus_h[:, None]
            self.studentized_residuals_ = residuals / np.sqrt(sigma2 * scale)
            hfac = leverage / one_minus_h**2
            hfac = hfac if residuals.ndim == 1 else hfac[:, None]
            self.cooks_distance_ = residuals**2 * hfac / (n_params * sigma2)

    def predict(self, X):
        """Predict targets: :math:`\\hat y = X w + b`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        check_fitted(self, "coef_")
        if is_dask_array(X):  # lazy: ŷ stays on the cluster
            from ..scale.models import predict_linear

            return predict_linear(self, X)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return X @ self.coef_.T + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags


class LinearRegression(_LinearModel):
    """Ordinary least squares with leverage, standard errors and a summary table.

    Minimises :math:`\\lVert y - X w - b \\rVert_2^2`. With ``fit_intercept``
    the columns of ``X`` and ``y`` are centred first (:math:`X_c = X - \\bar x`),
    ``w`` solves :math:`\\min \\lVert X_c w - y_c \\rVert_2` by
    :func:`dotwise.linalg.lstsq`, and :math:`b = \\bar y - \\bar x^\\top w`.

    Parameters
    ----------
    fit_intercept : bool, default=True
        Whether to fit the constant term ``b`` (not regularised, not counted in ``rank_``).
    method : {"auto", "normal", "qr", "svd", "pinv"}, default="auto"
        The least-squares method passed to :func:`dotwise.linalg.lstsq`; "auto"
        chooses the fastest method that is accurate for the design's conditioning.
    diagnostics : bool, default=True
        Compute ``leverage_``, residual diagnostics and standard errors (one thin QR
        or SVD of the centred design, roughly doubling the cost of ``fit``). With
        ``False`` only ``coef_``, ``intercept_``, ``rank_``, ``cond_`` and ``method_`` are set.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
        0.0 when ``fit_intercept=False``.
    rank_ : int
        Numerical rank of the (centred) design, as reported by ``lstsq``.
    cond_ : float
        2-norm condition number of the (centred) design: exact (from the
        factorization used for the diagnostics) when ``diagnostics=True``,
        otherwise the estimate ``lstsq`` reports.
    method_ : str
        The least-squares method ``lstsq`` actually used.
    leverage_ : ndarray of shape (n_samples,)
        Diagonal of the hat matrix, :math:`h_{ii} \\in [0, 1]`, summing to
        ``rank_ + fit_intercept``. Rows with large leverage pull the fit towards them.
    residuals_ : ndarray of shape (n_samples,) or (n_samples, n_targets)
        Training residuals :math:`y - \\hat y` (unweighted; the variance, studentized
        residuals and Cook's distances use :math:`\\sqrt{w_i}\\, r_i`).
    dof_resid_ : int
        Residual degrees of freedom, ``n_samples - rank_ - fit_intercept`` (samples
        of weight 0 not counted).
    residual_variance_ : float or ndarray of shape (n_targets,)
        :math:`\\hat\\sigma^2 = \\mathrm{RSS} / \\mathrm{dof}` (NaN when dof = 0).
    coef_stderr_ : ndarray, same shape as ``coef_``
        Standard errors :math:`\\hat\\sigma \\sqrt{[(X_c^\\top X_c)^{-1}]_{jj}}`
        (NaN when the design is rank-deficient).
    intercept_stderr_ : float or ndarray of shape (n_targets,)
        :math:`\\hat\\sigma \\sqrt{1/n + \\bar x^\\top (X_c^\\top X_c)^{-1} \\bar x}`
        (0 without an intercept).
    studentized_residuals_ : ndarray, same shape as ``residuals_``
        Internally studentized residuals :math:`r_i / (\\hat\\sigma \\sqrt{1 - h_{ii}})`.
    cooks_distance_ : ndarray, same shape as ``residuals_``
        :math:`D_i = \\frac{r_i^2}{p' \\hat\\sigma^2} \\frac{h_{ii}}{(1 - h_{ii})^2}`,
        :math:`p' = \\mathrm{rank} + \\mathrm{fit\\_intercept}`.
    n_features_in_ : int
    feature_names_in_ : ndarray of str, when ``X`` had string column names

    Notes
    -----
    Computation runs in ``X``'s floating dtype (float32 stays float32; ``y``
    is cast to it). The ``n × n`` hat matrix is never formed; ``leverage_`` and
    the standard errors come from the cheapest accurate route: for a float64
    design with condition number below ~6.7e3, the eigendecomposition of the
    ``p × p`` Gram matrix :math:`X_c^\\top X_c = V \\Lambda V^\\top`
    (:math:`h_{ii} = \\lVert (X_c V \\Lambda^{-1/2})_{i,:} \\rVert^2`, which loses at
    most half the digits); otherwise a thin QR of the centred design when it has
    full column rank; otherwise a thin SVD truncated at ``rank_``.

    References
    ----------
    Belsley, Kuh & Welsch, *Regression Diagnostics* (1980).
    Cook, "Detection of influential observations in linear regression",
    Technometrics 19 (1977).

    Examples
    --------
    >>> import numpy as np
    >>> from dotwise.models import LinearRegression
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> y = np.array([1.0, 3.0, 5.0, 7.5])
    >>> model = LinearRegression().fit(X, y)
    >>> model.coef_.round(3), round(model.intercept_, 3)
    (array([2.15]), 0.9)
    >>> model.leverage_.round(2)                 # sums to rank + intercept = 2
    array([0.7, 0.3, 0.3, 0.7])
    >>> round(model.score(X, y), 4)
    0.9968
    """

    def __init__(self, fit_intercept=True, method="auto", *, diagnostics=True):
        self.fit_intercept = fit_intercept
        self.method = method
        self.diagnostics = diagnostics

    def fit(self, X, y, sample_weight=None):
        """Fit by (weighted) least squares.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights: minimise :math:`\\sum_i w_i (y_i - x_i^\\top w - b)^2`
            (rows scaled by :math:`\\sqrt{w_i}`). For the diagnostics they are
            precision weights (:math:`\\operatorname{Var} \\varepsilon_i = \\sigma^2 / w_i`);
            rows of weight 0 do not count in ``dof_resid_``.

        Returns
        -------
        self : LinearRegression

        Raises
        ------
        ValueError
            ``X`` not 2-D (with the reshape hint), NaN/Inf, inconsistent numbers of
            samples, or an unknown ``method``.
        """
        check_choice(self.method, "method", _METHODS)
        if is_dask_array(X):  # TSQR on the cluster; per-sample results stay lazy
            from ..scale.models import fit_linear

            return fit_linear(self, X, y, sample_weight)
        X, y, Xc, yc, x_mean, y_mean, sw = self._prepare(X, y, sample_weight)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            # rank tolerance eps·max(n, p), as scikit-learn (and lstsq's own default)
            rcond = float(np.finfo(Xc.dtype).eps) * max(Xc.shape)
            result = lstsq(Xc, yc, method=self.method, rcond=rcond, check_finite=False)
        _rewarn(caught, type(self).__name__)
        self._set_coef(np.asarray(result.x, dtype=X.dtype), x_mean, y_mean, y.ndim)
        self.rank_ = int(result.rank)
        self.cond_ = float(result.cond)
        self.method_ = result.method
        if self.diagnostics:
            self._fit_diagnostics(X, y, Xc, x_mean, sw)
        return self

    def _fit_diagnostics(self, X, y, Xc, x_mean, sw):
        n = Xc.shape[0] if sw is None else int(np.count_nonzero(sw))
        intercept = int(bool(self.fit_intercept))
        leverage, rinv, self.cond_ = _ols_leverage(Xc, self.rank_)
        leverage += self._intercept_leverage(Xc.shape[0], sw)
        n_params = self.rank_ + intercept
        self._set_residual_diagnostics(X, y, sw, leverage, max(n_params, 1), n - n_params)
        sigma = np.sqrt(np.asarray(self.residual_variance_))
        if rinv is None:
            self.coef_stderr_ = np.full_like(self.coef_, np.nan)
            ivar = np.nan
        else:
            diag = np.einsum("ij,ij->i", rinv, rinv)  # diag((XcᵀXc)⁻¹) = diag(R⁻¹R⁻ᵀ)
            self.coef_stderr_ = np.multiply.outer(sigma, np.sqrt(diag)).astype(Xc.dtype)
            ivar = float(np.sum((x_mean @ rinv) ** 2))
        if intercept:
            total_weight = Xc.shape[0] if sw is None else float(sw.sum())
            istd = sigma * np.sqrt(1.0 / total_weight + ivar)
            self.intercept_stderr_ = float(istd) if np.ndim(istd) == 0 else istd
        else:
            self.intercept_stderr_ = 0.0

    def summary(self, target=0, *, alpha=0.05):
        """A plain-text coefficient table: estimate, std error, t, p-value, confidence interval.

        Parameters
        ----------
        target : int, default=0
            Which target to summarise when ``y`` had several columns.
        alpha : float, default=0.05
            The table shows ``1 - alpha`` confidence intervals.

        Returns
        -------
        str
        """
        from scipy import stats

        check_fitted(self, "coef_")
        check_fitted(self, "coef_stderr_")
        alpha = check_positive(alpha, "alpha")
        if alpha >= 1:
            raise ValueError(f"alpha must be in (0, 1), got {alpha}")
        coef = np.atleast_2d(self.coef_)
        if not 0 <= target < coef.shape[0]:
            raise ValueError(f"target must be in [0, {coef.shape[0]}), got {target}")
        names = [str(f) for f in getattr(self, "feature_names_in_",
                                         [f"x{j}" for j in range(self.n_features_in_)])]
        est = list(coef[target])
        se = list(np.atleast_2d(self.coef_stderr_)[target])
        if self.fit_intercept:
            names = ["intercept", *names]
            est = [float(np.atleast_1d(self.intercept_)[target]), *est]
            se = [float(np.atleast_1d(self.intercept_stderr_)[target]), *se]
        dof = self.dof_resid_
        tcrit = stats.t.ppf(1 - alpha / 2, dof) if dof > 0 else np.nan
        lo_name, hi_name = f"[{alpha / 2:.3g}", f"{1 - alpha / 2:.3g}]"
        width = max(len(n) for n in names) + 2
        head = (f"{'term':<{width}}{'coef':>12}{'std err':>12}{'t':>10}{'P>|t|':>11}"
                f"{lo_name:>12}{hi_name:>12}")
        n = self.leverage_.shape[0]
        sigma2 = float(np.atleast_1d(self.residual_variance_)[target])
        lines = []
        for name, b, s in zip(names, est, se, strict=True):
            with np.errstate(divide="ignore", invalid="ignore"):
                t = b / s
                pval = 2 * stats.t.sf(abs(t), dof) if dof > 0 else np.nan
            lines.append(f"{name:<{width}}{b:>12.5g}{s:>12.4g} {t:>9.3f} {pval:>10.3g}"
                         f"{b - tcrit * s:>12.5g}{b + tcrit * s:>12.5g}")
        title = (f"{type(self).__name__}: {n} samples, {self.n_features_in_} features, "
                 f"rank {self.rank_}, cond {self.cond_:.3g}, method {self.method_!r}")
        stats_line = (f"residual std {np.sqrt(sigma2):.5g} on {dof} degrees of freedom, "
                      f"max leverage {float(np.max(self.leverage_)):.3g}")
        rule = "-" * len(head)
        return "\n".join([title, stats_line, rule, head, rule, *lines, rule])


class Ridge(_LinearModel):
    """Ridge regression (L2-penalised least squares) with leverage and effective dof.

    Minimises :math:`\\lVert y - X w - b \\rVert_2^2 + \\alpha \\lVert w \\rVert_2^2`
    (the intercept is not penalised) by :func:`dotwise.linalg.ridge` on the centred data:
    :math:`w = (X_c^\\top X_c + \\alpha I)^{-1} X_c^\\top y_c`, computed by a stable
    least-squares formulation, never an explicit inverse.

    Parameters
    ----------
    alpha : float, default=1.0
        Penalty strength, ``>= 0`` (0 gives ordinary least squares).
    fit_intercept : bool, default=True
        Whether to fit an unpenalised constant term.
    diagnostics : bool, default=True
        Compute ``leverage_``, ``effective_dof_`` and residual diagnostics (one thin
        SVD of the centred design).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
    leverage_ : ndarray of shape (n_samples,)
        Diagonal of the ridge hat matrix :math:`X_c (X_c^\\top X_c + \\alpha I)^{-1} X_c^\\top`
        (+ 1/n with an intercept), from the thin SVD:
        :math:`h_{ii} = \\sum_j \\frac{s_j^2}{s_j^2 + \\alpha} U_{ij}^2`.
    effective_dof_ : float
        :math:`\\operatorname{tr} H = \\sum_j s_j^2 / (s_j^2 + \\alpha)` (+1 with an
        intercept) = ``leverage_.sum()``: the model's effective number of parameters.
    cond_ : float
        Condition number of the (centred) design before regularisation (set with
        ``diagnostics=True``).
    residuals_, residual_variance_, dof_resid_, studentized_residuals_, cooks_distance_
        As in :class:`LinearRegression`, with ``dof_resid_ = n - effective_dof_``.
    n_features_in_ : int
    feature_names_in_ : ndarray of str, when ``X`` had string column names

    Examples
    --------
    >>> import numpy as np
    >>> from dotwise.models import Ridge
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> y = np.array([1.0, 3.0, 5.0, 7.5])
    >>> model = Ridge(alpha=1.0).fit(X, y)
    >>> model.coef_.round(4), round(model.effective_dof_, 4)   # shrunk; 1 + 5/6
    (array([1.7917]), 1.8333)
    """

    def __init__(self, alpha=1.0, *, fit_intercept=True, diagnostics=True):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.diagnostics = diagnostics

    def fit(self, X, y, sample_weight=None):
        """Fit ridge regression.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights on the squared errors, as in :meth:`LinearRegression.fit`.

        Returns
        -------
        self : Ridge

        Raises
        ------
        ValueError
            ``alpha`` negative or not finite; bad ``X``/``y`` as in :class:`LinearRegression`.
        """
        alpha = check_positive(self.alpha, "alpha", allow_zero=True)
        if is_dask_array(X):  # TSQR on the cluster; per-sample results stay lazy
            from ..scale.models import fit_ridge

            return fit_ridge(self, X, y, alpha, sample_weight)
        X, y, Xc, yc, x_mean, y_mean, sw = self._prepare(X, y, sample_weight)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            x = np.asarray(ridge(Xc, yc, alpha, check_finite=False), dtype=X.dtype)
        _rewarn(caught, type(self).__name__)
        self._set_coef(x, x_mean, y_mean, y.ndim)
        if self.diagnostics:
            n = Xc.shape[0] if sw is None else int(np.count_nonzero(sw))
            leverage, shrink, self.cond_ = _ridge_leverage(Xc, alpha)
            leverage += self._intercept_leverage(Xc.shape[0], sw)
            self.effective_dof_ = float(shrink.sum()) + int(bool(self.fit_intercept))
            self._set_residual_diagnostics(X, y, sw, leverage, self.effective_dof_,
                                           n - self.effective_dof_)
        return self


_GRAM_ROUTE_TOL = 1e-8


def _rewarn(caught, owner):
    """Re-issue warnings from the solver so they point at the caller of ``fit``."""
    for w in caught:
        warnings.warn(f"{owner}.fit: {w.message}", w.category, stacklevel=3)


def _gram_whitener(Xc, alpha):
    """``(M, λ)``: hat matrix ``Xc M Mᵀ Xcᵀ`` from ``eigh(XcᵀXc)``; ``(None, None)`` if inaccurate.

    With :math:`X_c^\\top X_c = V \\Lambda V^\\top`, :math:`M = V (\\Lambda + \\alpha I)^{-1/2}`.
    Forming the Gram matrix squares the condition number, so this route is taken only
    for float64 data when :math:`\\epsilon \\lambda_{max} / (\\lambda_{min} + \\alpha)
    \\le 10^{-8}` (for OLS: condition number below ~6.7e3), where it loses at most
    half of the digits; it costs one SYRK and one GEMM instead of a QR that forms ``Q``.
    """
    if Xc.dtype != np.float64:
        return None, None
    lam, V = scipy.linalg.eigh(Xc.T @ Xc, check_finite=False, overwrite_a=True)
    denom = max(float(lam[0]), 0.0) + alpha
    if not lam[-1] > 0 or denom <= 0 or np.finfo(Xc.dtype).eps * lam[-1] / denom > _GRAM_ROUTE_TOL:
        return None, None
    return V / np.sqrt(lam + alpha), np.clip(lam, 0.0, None)


def _row_norms2(A, M):
    """Squared row norms of ``A @ M``, in row blocks so the temporary stays small."""
    out = np.empty(A.shape[0], dtype=A.dtype)
    step = max(1, (1 << 17) // max(M.shape[1], 1))   # W (1 MiB) stays in cache
    for start in range(0, A.shape[0], step):
        W = A[start:start + step] @ M
        out[start:start + step] = np.einsum("ij,ij->i", W, W)
    return out


def _ols_leverage(Xc, rank):
    """Hat-matrix diagonal of ``Xc`` (n, p) and ``M`` with (XcᵀXc)⁻¹ = M Mᵀ (None if rank < p)."""
    n, p = Xc.shape
    if rank == p and n >= p:
        M, lam = _gram_whitener(Xc, 0.0)
        if M is not None:
            return _row_norms2(Xc, M), M, float(np.sqrt(lam[-1] / lam[0]))
        Q, R = scipy.linalg.qr(Xc, mode="economic", check_finite=False)
        d = np.abs(np.diag(R))
        if d.min() > d.max() * max(n, p) * np.finfo(Xc.dtype).eps:
            rinv = scipy.linalg.solve_triangular(R, np.eye(p, dtype=R.dtype),
                                                 check_finite=False)
            return np.einsum("ij,ij->i", Q, Q), rinv, _cond(
                scipy.linalg.svdvals(R, check_finite=False))
    U, s, _ = scipy.linalg.svd(Xc, full_matrices=False, check_finite=False)
    Ur = U[:, :rank]
    return np.einsum("ij,ij->i", Ur, Ur), None, _cond(s)


def _cond(s):
    """2-norm condition number from singular values (inf when the smallest is 0)."""
    return float(s[0] / s[-1]) if s.size and s[-1] > 0 else float("inf")


def _ridge_leverage(Xc, alpha):
    """Ridge hat diagonal, the shrink factors s²/(s²+α) and the design's condition number."""
    M, lam = _gram_whitener(Xc, alpha)
    if M is not None:
        shrink = lam / (lam + alpha)
        cond = float(np.sqrt(lam[-1] / lam[0])) if lam[0] > 0 else float("inf")
        return _row_norms2(Xc, M), shrink, cond
    U, s, _ = scipy.linalg.svd(Xc, full_matrices=False, check_finite=False)
    tol = s[0] * max(Xc.shape) * np.finfo(Xc.dtype).eps if s.size else 0.0
    keep = s > tol
    with np.errstate(divide="ignore", invalid="ignore"):
        shrink = np.where(keep, s**2 / (s**2 + alpha), 0.0).astype(Xc.dtype)
    return np.einsum("ij,ij,j->i", U, U, shrink), shrink, _cond(s)
