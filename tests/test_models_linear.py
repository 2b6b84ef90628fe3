"""LinearRegression and Ridge: scikit-learn as the oracle, naive formulas for diagnostics."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import linear_model as sk

from dotwise._validation import NotFittedError
from dotwise.models import LinearRegression, Ridge


def _data(rng, n=60, p=4, k=None, dtype=np.float64):
    X = rng.standard_normal((n, p)) * np.arange(1, p + 1) + 3.0
    w = rng.standard_normal((p,) if k is None else (p, k))
    y = X @ w + 2.0 + 0.3 * rng.standard_normal((n,) if k is None else (n, k))
    return X.astype(dtype), y.astype(dtype)


def _naive_hat_diag(X, fit_intercept=True, alpha=0.0):
    """diag(H) by forming the n×n hat matrix explicitly (only for small test data)."""
    n = X.shape[0]
    if fit_intercept:
        Xc = X - X.mean(axis=0)
    else:
        Xc = X
    if alpha == 0.0:
        H = Xc @ np.linalg.pinv(Xc)
    else:
        H = Xc @ np.linalg.solve(Xc.T @ Xc + alpha * np.eye(X.shape[1]), Xc.T)
    return np.diag(H) + (1.0 / n if fit_intercept else 0.0)


# ------------------------------------------------------------------ vs sklearn
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("method", ["auto", "qr", "svd"])
@pytest.mark.parametrize("k", [None, 3])
def test_ols_matches_sklearn(rng, fit_intercept, method, k):
    X, y = _data(rng, k=k)
    ours = LinearRegression(fit_intercept=fit_intercept, method=method).fit(X, y)
    ref = sk.LinearRegression(fit_intercept=fit_intercept).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-10)
    assert ours.score(X, y) == pytest.approx(ref.score(X, y), rel=1e-12)
    assert ours.coef_.shape == ref.coef_.shape
    assert np.shape(ours.intercept_) == np.shape(ref.intercept_)
    assert ours.rank_ == ref.rank_ == X.shape[1]


@pytest.mark.parametrize("alpha", [0.0, 0.1, 10.0])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("k", [None, 2])
def test_ridge_matches_sklearn(rng, alpha, fit_intercept, k):
    X, y = _data(rng, k=k)
    ours = Ridge(alpha=alpha, fit_intercept=fit_intercept).fit(X, y)
    ref = sk.Ridge(alpha=alpha, fit_intercept=fit_intercept, solver="svd").fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-9)
    assert ours.score(X, y) == pytest.approx(ref.score(X, y), rel=1e-10)


def test_ridge_shrinks_towards_zero_as_alpha_grows(rng):
    X, y = _data(rng)
    norms = [np.linalg.norm(Ridge(alpha=a).fit(X, y).coef_) for a in (0, 1, 10, 100, 1e4)]
    assert all(a > b for a, b in zip(norms, norms[1:], strict=False))


@pytest.mark.parametrize("model", [LinearRegression(), Ridge(alpha=0.5)])
def test_float32_stays_float32_and_agrees_with_float64(rng, model):
    X, y = _data(rng)
    m64 = type(model)(**model.get_params()).fit(X, y)
    m32 = type(model)(**model.get_params()).fit(X.astype(np.float32), y.astype(np.float32))
    assert m32.coef_.dtype == np.float32
    assert m32.predict(X.astype(np.float32)).dtype == np.float32
    assert m32.leverage_.dtype == np.float32
    np.testing.assert_allclose(m32.coef_, m64.coef_, rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(m32.leverage_, m64.leverage_, atol=1e-4)


def test_integer_inputs_become_float64():
    X = np.array([[0], [1], [2], [3], [5]])
    y = np.array([1, 2, 2, 4, 6])
    model = LinearRegression().fit(X, y)
    assert model.coef_.dtype == np.float64
    ref = sk.LinearRegression().fit(X, y)
    np.testing.assert_allclose(model.coef_, ref.coef_)


# --------------------------------------------------------------------- leverage
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_leverage_is_the_hat_diagonal_and_sums_to_rank(rng, fit_intercept):
    X, y = _data(rng, n=30, p=5)
    model = LinearRegression(fit_intercept=fit_intercept).fit(X, y)
    np.testing.assert_allclose(model.leverage_, _naive_hat_diag(X, fit_intercept), atol=1e-12)
    assert model.leverage_.sum() == pytest.approx(model.rank_ + fit_intercept, abs=1e-10)
    assert np.all((model.leverage_ >= -1e-12) & (model.leverage_ <= 1 + 1e-12))


def test_leverage_of_a_rank_deficient_design_sums_to_its_rank(rng):
    X, y = _data(rng, n=25, p=3)
    X = np.column_stack([X, X[:, 0] + 2 * X[:, 1]])  # 4 columns, rank 3
    model = LinearRegression().fit(X, y)
    assert model.rank_ == 3
    np.testing.assert_allclose(model.leverage_, _naive_hat_diag(X), atol=1e-10)
    assert model.leverage_.sum() == pytest.approx(4.0, abs=1e-9)
    assert np.isnan(model.coef_stderr_).all()
    ref = sk.LinearRegression().fit(X, y)
    np.testing.assert_allclose(model.predict(X), ref.predict(X), rtol=1e-9)


def test_an_outlying_row_has_the_largest_leverage(rng):
    X, y = _data(rng, n=40, p=2)
    X[7] = [40.0, -30.0]
    model = LinearRegression().fit(X, y)
    assert int(np.argmax(model.leverage_)) == 7


@pytest.mark.parametrize("alpha", [0.3, 5.0])
def test_ridge_leverage_and_effective_dof(rng, alpha):
    X, y = _data(rng, n=30, p=5)
    model = Ridge(alpha=alpha).fit(X, y)
    np.testing.assert_allclose(model.leverage_, _naive_hat_diag(X, True, alpha), atol=1e-12)
    s = np.linalg.svd(X - X.mean(axis=0), compute_uv=False)
    assert model.effective_dof_ == pytest.approx(1 + np.sum(s**2 / (s**2 + alpha)), rel=1e-12)
    assert model.leverage_.sum() == pytest.approx(model.effective_dof_, rel=1e-12)
    assert model.effective_dof_ < 1 + X.shape[1]


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 40), p=st.integers(1, 6), seed=st.integers(0, 2**16),
       fit_intercept=st.booleans())
def test_leverage_properties_hold_for_any_shape(n, p, seed, fit_intercept):
    gen = np.random.default_rng(seed)
    X = gen.standard_normal((n, p))
    y = gen.standard_normal(n)
    model = LinearRegression(fit_intercept=fit_intercept).fit(X, y)
    h = model.leverage_
    assert h.shape == (n,)
    assert np.all(h >= -1e-10) and np.all(h <= 1 + 1e-10)
    assert h.sum() == pytest.approx(model.rank_ + fit_intercept, abs=1e-8)
    np.testing.assert_allclose(h, _naive_hat_diag(X, fit_intercept), atol=1e-8)


# ------------------------------------------------------------ other diagnostics
def test_residuals_are_orthogonal_to_the_design(rng):
    X, y = _data(rng, n=200, p=6)
    model = LinearRegression().fit(X, y)
    r = model.residuals_
    np.testing.assert_allclose(r, y - model.predict(X), atol=1e-10)
    assert abs(r.sum()) < 1e-9 * np.abs(y).sum()  # ⟂ the constant column
    assert np.max(np.abs(X.T @ r)) < 1e-9 * np.linalg.norm(X) * np.linalg.norm(y)


def test_standard_errors_match_the_textbook_formula(rng):
    X, y = _data(rng, n=50, p=3)
    model = LinearRegression().fit(X, y)
    D = np.column_stack([np.ones(len(X)), X])
    beta = np.linalg.solve(D.T @ D, D.T @ y)
    resid = y - D @ beta
    dof = len(X) - D.shape[1]
    sigma2 = resid @ resid / dof
    cov = sigma2 * np.linalg.solve(D.T @ D, np.eye(D.shape[1]))
    se = np.sqrt(np.diag(cov))
    assert model.dof_resid_ == dof
    assert model.residual_variance_ == pytest.approx(sigma2, rel=1e-10)
    assert model.intercept_stderr_ == pytest.approx(se[0], rel=1e-9)
    np.testing.assert_allclose(model.coef_stderr_, se[1:], rtol=1e-9)
    h = _naive_hat_diag(X)
    np.testing.assert_allclose(model.studentized_residuals_,
                               resid / np.sqrt(sigma2 * (1 - h)), rtol=1e-8)
    cooks = resid**2 / (D.shape[1] * sigma2) * h / (1 - h) ** 2
    np.testing.assert_allclose(model.cooks_distance_, cooks, rtol=1e-8)


def test_multi_output_diagnostics_have_per_target_shapes(rng):
    X, y = _data(rng, n=40, p=3, k=2)
    model = LinearRegression().fit(X, y)
    assert model.coef_.shape == (2, 3) and model.coef_stderr_.shape == (2, 3)
    assert model.residuals_.shape == (40, 2) and model.cooks_distance_.shape == (40, 2)
    assert model.leverage_.shape == (40,)
    single = LinearRegression().fit(X, y[:, 1])
    np.testing.assert_allclose(model.coef_stderr_[1], single.coef_stderr_, rtol=1e-10)
    assert "x2" in model.summary(target=1)


def test_summary_table_lists_every_term(rng):
    X, y = _data(rng, n=50, p=3)
    text = LinearRegression().fit(X, y).summary()
    for word in ("intercept", "x0", "x1", "x2", "std err", "P>|t|", "rank 3", "46 degrees"):
        assert word in text
    assert "x0" in LinearRegression(fit_intercept=False).fit(X, y).summary()


def test_diagnostics_can_be_switched_off(rng):
    X, y = _data(rng)
    model = LinearRegression(diagnostics=False).fit(X, y)
    assert not hasattr(model, "leverage_")
    assert model.rank_ == X.shape[1] and model.method_
    with pytest.raises(NotFittedError, match="call 'fit' first"):
        model.summary()


def test_ill_conditioned_design_reports_its_condition_number(rng):
    t = np.linspace(0, 1, 50)
    X = np.vander(t, 9, increasing=True)[:, 1:]
    y = np.sin(3 * t)
    model = LinearRegression().fit(X, y)
    s = np.linalg.svd(X - X.mean(axis=0), compute_uv=False)
    assert model.cond_ == pytest.approx(s[0] / s[-1], rel=1e-3)


# -------------------------------------------------------------------- bad input
@pytest.mark.parametrize("cls", [LinearRegression, Ridge])
def test_bad_input_messages(cls):
    X = np.arange(12.0).reshape(6, 2)
    y = np.arange(6.0)
    with pytest.raises(ValueError, match=r"(?s)Expected 2D array, got 1D array.*reshape\(-1, 1\)"):
        cls().fit(np.arange(6.0), y)
    Xn = X.copy()
    Xn[2, 1] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        cls().fit(Xn, y)
    with pytest.raises(ValueError, match="Input y contains infinity"):
        cls().fit(X, np.r_[y[:-1], np.inf])
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[6, 5\]"):
        cls().fit(X, y[:5])
    with pytest.raises(NotFittedError, match=f"This {cls.__name__} instance is not fitted yet"):
        cls().predict(X)
    model = cls().fit(X, y)
    with pytest.raises(ValueError, match=f"X has 3 features, but {cls.__name__} is expecting 2"):
        model.predict(np.ones((2, 3)))


def test_bad_hyper_parameters():
    X = np.arange(12.0).reshape(6, 2)
    y = np.arange(6.0)
    with pytest.raises(ValueError, match="alpha must be a finite number >= 0, got -1.0"):
        Ridge(alpha=-1.0).fit(X, y)
    with pytest.raises(TypeError, match="alpha must be a real number, got str"):
        Ridge(alpha="big").fit(X, y)
    with pytest.raises(ValueError, match="method must be one of 'auto', 'normal'.*got 'cholesky'"):
        LinearRegression(method="cholesky").fit(X, y)
    model = LinearRegression().fit(X + np.random.default_rng(0).random((6, 2)), y)
    with pytest.raises(ValueError, match=r"target must be in \[0, 1\), got 3"):
        model.summary(target=3)


@pytest.mark.parametrize("cls", [LinearRegression, Ridge])
def test_gram_and_factorization_routes_agree(rng, monkeypatch, cls):
    """The fast Gram-matrix route and the QR/SVD route give the same diagnostics."""
    import dotwise.models.linear as linear

    X, y = _data(rng, n=80, p=6)
    fast = cls().fit(X, y)
    monkeypatch.setattr(linear, "_GRAM_ROUTE_TOL", 0.0)  # forbid the Gram route
    exact = cls().fit(X, y)
    np.testing.assert_allclose(fast.leverage_, exact.leverage_, rtol=1e-10)
    np.testing.assert_allclose(fast.cooks_distance_, exact.cooks_distance_, rtol=1e-8)
    if cls is LinearRegression:
        np.testing.assert_allclose(fast.coef_stderr_, exact.coef_stderr_, rtol=1e-10)
        assert fast.intercept_stderr_ == pytest.approx(exact.intercept_stderr_, rel=1e-10)
    else:
        assert fast.effective_dof_ == pytest.approx(exact.effective_dof_, rel=1e-12)
        assert fast.cond_ == pytest.approx(exact.cond_, rel=1e-8)


@pytest.mark.parametrize("alpha", [0.0, 1e-12])
def test_ill_conditioned_designs_take_the_accurate_route(alpha):
    t = np.linspace(0, 1, 40)
    X = np.vander(t, 8, increasing=True)[:, 1:]  # condition number ~1e5: Gram route refused
    y = np.cos(2 * t)
    model = LinearRegression().fit(X, y) if alpha == 0 else Ridge(alpha=alpha).fit(X, y)
    np.testing.assert_allclose(model.leverage_, _naive_hat_diag(X, True, alpha), atol=1e-9)


def test_solver_warnings_are_reissued_at_the_callers_line(rng, monkeypatch):
    import warnings

    import dotwise.models.linear as linear
    from dotwise._validation import IllConditionedWarning

    real = linear.lstsq

    def noisy(*args, **kwargs):
        warnings.warn("A is ill-conditioned (condition number ≈ 1e12)", IllConditionedWarning,
                      stacklevel=2)
        return real(*args, **kwargs)

    monkeypatch.setattr(linear, "lstsq", noisy)
    X, y = _data(rng)
    with pytest.warns(IllConditionedWarning, match=r"LinearRegression.fit: A is ill-cond") as rec:
        LinearRegression().fit(X, y)
    assert rec[0].filename == __file__


# ---------------------------------------------------------------- sample weights
def _naive_weighted_hat_diag(X, w, fit_intercept=True, alpha=0.0):
    D = np.column_stack([np.ones(len(X)), X]) if fit_intercept else X
    Dw = D * np.sqrt(w)[:, None]
    if alpha == 0.0:
        return np.diag(Dw @ np.linalg.pinv(Dw))
    penalty = alpha * np.eye(D.shape[1])
    if fit_intercept:
        penalty[0, 0] = 0.0  # the intercept is not penalised
    return np.diag(Dw @ np.linalg.solve(Dw.T @ Dw + penalty, Dw.T))


@pytest.mark.parametrize("cls, alpha", [(LinearRegression, None), (Ridge, 0.7)])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_sample_weight_matches_sklearn_and_the_weighted_hat(rng, cls, alpha, fit_intercept):
    X, y = _data(rng, n=40, p=3)
    w = rng.uniform(0.2, 3.0, size=40)
    w[5] = 0.0
    kwargs = {} if alpha is None else {"alpha": alpha}
    ours = cls(fit_intercept=fit_intercept, **kwargs).fit(X, y, sample_weight=w)
    ref_cls = sk.LinearRegression if alpha is None else sk.Ridge
    ref = ref_cls(fit_intercept=fit_intercept, **kwargs).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-9)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-9, atol=1e-12)
    assert ours.score(X, y, sample_weight=w) == pytest.approx(ref.score(X, y, sample_weight=w))
    naive = _naive_weighted_hat_diag(X, w, fit_intercept, alpha or 0.0)
    np.testing.assert_allclose(ours.leverage_, naive, atol=1e-12)
    assert ours.leverage_[5] == 0.0
    np.testing.assert_allclose(ours.residuals_, y - ours.predict(X), atol=1e-10)


def test_integer_weights_equal_repeated_rows(rng):
    X, y = _data(rng, n=30, p=3)
    w = rng.integers(1, 4, size=30)
    weighted = LinearRegression().fit(X, y, sample_weight=w)
    repeated = LinearRegression().fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-10)
    # precision weights: the same σ²·(XᵀWX)⁻¹ structure, scaled by the dof difference
    assert weighted.dof_resid_ == 30 - 4 and repeated.dof_resid_ == w.sum() - 4


def test_weighted_standard_errors_match_the_wls_formula(rng):
    X, y = _data(rng, n=50, p=2)
    w = rng.uniform(0.5, 2.0, size=50)
    model = LinearRegression().fit(X, y, sample_weight=w)
    D = np.column_stack([np.ones(50), X])
    G = D.T @ (D * w[:, None])
    beta = np.linalg.solve(G, D.T @ (w * y))
    r = y - D @ beta
    sigma2 = np.sum(w * r**2) / (50 - 3)
    se = np.sqrt(np.diag(sigma2 * np.linalg.solve(G, np.eye(3))))
    assert model.residual_variance_ == pytest.approx(sigma2, rel=1e-10)
    assert model.intercept_stderr_ == pytest.approx(se[0], rel=1e-9)
    np.testing.assert_allclose(model.coef_stderr_, se[1:], rtol=1e-9)


def test_bad_sample_weights():
    X = np.arange(12.0).reshape(6, 2) ** 1.5
    y = np.arange(6.0)
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_weight`"):
        LinearRegression().fit(X, y, sample_weight=[1, 1, -1, 1, 1, 1])
    with pytest.raises(ValueError, match=r"sample_weight.shape == \(5,\), expected \(6,\)"):
        Ridge().fit(X, y, sample_weight=np.ones(5))
    with pytest.raises(ValueError, match="Sample weights must contain at least one non-zero number"):
        LinearRegression().fit(X, y, sample_weight=np.zeros(6))
