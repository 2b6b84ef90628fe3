"""SoftmaxRegression: the gradient, scikit-learn's LogisticRegression as the oracle, explanations.

The loss is strictly convex for alpha > 0, so two correct solvers run to a tight
tolerance must land on the same minimiser: the coefficients and probabilities of
``LogisticRegression(C=1/alpha, solver="lbfgs")`` are the reference.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import scipy.special
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays
from sklearn.datasets import load_breast_cancer, load_iris, load_wine, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.preprocessing import StandardScaler

import dotwise as dw
from dotwise import ShapeError
from dotwise.models import SoftmaxRegression
from dotwise.models._lbfgs import minimize_lbfgs
from dotwise.models.softmax import _Problem


def _standardized(loader):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _synthetic(n=400, p=8, k=4, seed=0):
    X, y = make_classification(n_samples=n, n_features=p, n_informative=5, n_classes=k,
                               n_clusters_per_class=1, random_state=seed)
    labels = np.array(["ant", "bee", "cat", "dog", "elk", "fox"])[:k]
    return X * np.array([1.0, 10.0, 0.1, 1.0, 3.0, 1.0, 1.0, 0.5]) + 2.0, labels[y]


DATASETS = {
    "iris": lambda: _standardized(load_iris),
    "wine": lambda: _standardized(load_wine),
    "breast_cancer (binary)": lambda: _standardized(load_breast_cancer),
    "synthetic, string labels": lambda: (StandardScaler().fit_transform(_synthetic()[0]),
                                         _synthetic()[1]),
}


# ------------------------------------------------------------------ the softmax itself
logits = arrays(np.float64, array_shapes(min_dims=1, max_dims=3, max_side=6),
                elements=st.floats(-700, 700))


@given(logits)
def test_log_softmax_matches_scipy_and_exponentiates_to_softmax(x):
    out = dw.log_softmax(x, axis=-1)
    np.testing.assert_allclose(out, scipy.special.log_softmax(x, axis=-1), rtol=1e-12,
                               atol=1e-12)
    np.testing.assert_allclose(np.exp(out), dw.softmax(x, axis=-1), rtol=1e-12, atol=1e-300)


def test_log_softmax_stays_finite_where_log_of_softmax_underflows():
    x = np.array([0.0, -1000.0])
    with np.errstate(divide="ignore"):
        assert np.isneginf(np.log(dw.softmax(x))[1])  # log(softmax) underflows here …
    np.testing.assert_allclose(dw.log_softmax(x), [0.0, -1000.0])  # … log_softmax is exact
    np.testing.assert_array_equal(dw.log_softmax([-np.inf, -np.inf]), [-np.inf, -np.inf])


# ------------------------------------------------------------------ loss and gradient
@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_gradient_matches_finite_differences(n_classes, fit_intercept, weighted):
    rng = np.random.default_rng(n_classes + 2 * fit_intercept + 4 * weighted)
    n, p = 60, 5
    X = rng.standard_normal((n, p)) * [1.0, 3.0, 0.2, 1.0, 2.0]
    y = rng.integers(0, n_classes, n)
    sw = rng.uniform(0.1, 3.0, n) if weighted else None
    problem = _Problem(X, y, n_classes, sw, 0.3, fit_intercept)
    theta = rng.standard_normal(problem.n_scores * problem.width) * 0.5
    f, g = problem.loss_grad(theta)
    h = 1e-6
    numeric = np.array([(problem.loss_grad(theta + h * e)[0] - problem.loss_grad(theta - h * e)[0])
                        / (2 * h) for e in np.eye(theta.size)])
    np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-8)
    # and the loss is the weighted mean cross-entropy (scikit-learn's log_loss) + the penalty
    Theta = theta.reshape(problem.n_scores, problem.width)
    scores = X @ Theta[:, :p].T + (Theta[:, p] if fit_intercept else 0.0)
    if n_classes == 2:
        scores = np.column_stack([np.zeros(n), scores[:, 0]])
    expected = log_loss(y, scipy.special.softmax(scores, axis=1), sample_weight=sw,
                        labels=np.arange(n_classes)) + 0.15 * np.sum(Theta[:, :p] ** 2)
    assert f == pytest.approx(expected, rel=1e-12)


def test_lbfgs_finds_the_rosenbrock_minimum():
    def rosenbrock(v):
        x, y = v
        f = (1 - x) ** 2 + 100 * (y - x * x) ** 2
        return f, np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])

    result = minimize_lbfgs(rosenbrock, np.array([-1.2, 1.0]), gtol=1e-10, max_iter=500)
    assert result.converged
    np.testing.assert_allclose(result.x, [1.0, 1.0], atol=1e-7)
    assert all(b <= a for a, b in zip(result.loss_history, result.loss_history[1:],
                                      strict=False))


# ------------------------------------------------------------------ scikit-learn as oracle
@pytest.mark.parametrize("name", list(DATASETS))
@pytest.mark.parametrize("alpha", [1.0, 0.1])
def test_fit_matches_scikit_learn_logistic_regression(name, alpha):
    X, y = DATASETS[name]()
    ours = SoftmaxRegression(alpha=alpha, tol=1e-10, max_iter=5000).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = LogisticRegression(C=1 / alpha, solver="lbfgs", tol=1e-10, max_iter=20000).fit(X, y)
    assert ours.converged_
    np.testing.assert_array_equal(ours.classes_, ref.classes_)
    assert ours.coef_.shape == ref.coef_.shape and ours.intercept_.shape == ref.intercept_.shape
    # the same objective value (ours at least as low), hence nearly the same minimiser:
    # the loss is flat near its minimum, so the coefficients agree to ~1e-5 relative
    problem = _Problem(X, np.unique(y, return_inverse=True)[1], len(ref.classes_), None,
                       alpha / len(y), True)
    f_ours = problem.loss_grad(np.column_stack([ours.coef_, ours.intercept_]).ravel())[0]
    f_ref = problem.loss_grad(np.column_stack([ref.coef_, ref.intercept_]).ravel())[0]
    assert f_ours <= f_ref + 1e-11 * abs(f_ref)
    scale = max(np.abs(ref.coef_).max(), 1.0)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4 * scale)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-4 * scale)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=2e-5)
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X),
                               atol=1e-4 * scale)
    assert np.mean(ours.predict(X) == ref.predict(X)) > 0.995


def test_mixed_feature_scales_reach_a_lower_loss_than_scikit_learn():
    # features scaled by 0.1 … 10: scikit-learn's unpreconditioned L-BFGS stops farther
    # from the minimum, so only the objective and the probabilities are compared
    X, y = _synthetic()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ours = SoftmaxRegression(alpha=0.1, tol=1e-8, max_iter=5000).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = LogisticRegression(C=10.0, tol=1e-8, max_iter=5000).fit(X, y)
    problem = _Problem(X, np.unique(y, return_inverse=True)[1], 4, None, 0.1 / len(y), True)
    f_ours, g_ours = problem.loss_grad(np.column_stack([ours.coef_, ours.intercept_]).ravel())
    f_ref, g_ref = problem.loss_grad(np.column_stack([ref.coef_, ref.intercept_]).ravel())
    assert f_ours <= f_ref + 1e-11 * f_ref
    assert np.abs(g_ours).max() <= np.abs(g_ref).max()
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-4)


def test_sample_weight_matches_scikit_learn_and_repetition():
    X, y = _synthetic(n=150, k=3, seed=3)
    sw = np.random.default_rng(0).integers(0, 4, len(y)).astype(float)
    ours = SoftmaxRegression(alpha=0.5, tol=1e-10, max_iter=5000).fit(X, y, sample_weight=sw)
    ref = LogisticRegression(C=2.0, tol=1e-10, max_iter=20000).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=2e-5)
    repeated = SoftmaxRegression(alpha=0.5, tol=1e-10, max_iter=5000).fit(
        np.repeat(X, sw.astype(int), axis=0), np.repeat(y, sw.astype(int)))
    np.testing.assert_allclose(ours.predict_proba(X), repeated.predict_proba(X), atol=2e-5)


# ------------------------------------------------------------------ properties
def test_probabilities_are_a_softmax_of_the_scores():
    X, y = _synthetic()
    model = SoftmaxRegression().fit(X, y)
    P = model.predict_proba(X)
    assert P.shape == (len(y), 4) and (P >= 0).all()
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.exp(model.predict_log_proba(X)), P, rtol=1e-12)
    np.testing.assert_allclose(P, dw.softmax(model.decision_function(X), axis=1), rtol=1e-12)
    np.testing.assert_array_equal(model.predict(X), model.classes_[P.argmax(axis=1)])
    np.testing.assert_allclose(model.intercept_.sum(), 0.0, atol=1e-10)
    assert model.score(X, y) > 0.8
    history = model.loss_history_
    assert len(history) == model.n_iter_[0] + 1 and np.all(np.diff(history) <= 1e-15)


def test_binary_case_is_the_sigmoid_with_one_weight_vector():
    X, y = _standardized(load_breast_cancer)
    labels = np.where(y == 1, "benign", "malignant")
    model = SoftmaxRegression().fit(X, labels)
    assert model.coef_.shape == (1, X.shape[1]) and model.intercept_.shape == (1,)
    z = model.decision_function(X)
    assert z.shape == (len(y),)
    np.testing.assert_allclose(model.predict_proba(X)[:, 1], scipy.special.expit(z), rtol=1e-12)
    np.testing.assert_array_equal(model.predict(X), np.where(z > 0, model.classes_[1],
                                                             model.classes_[0]))


def test_separable_data_with_a_penalty_converges_and_without_warns():
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(-3, 0.5, (40, 2)), rng.normal(3, 0.5, (40, 2))])
    y = np.repeat([0, 1], 40)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = SoftmaxRegression(alpha=1.0).fit(X, y)
    assert model.converged_ and model.score(X, y) == 1.0
    assert np.all(np.isfinite(model.coef_))
    # without a penalty the weights on separable data grow until the (vanishing)
    # gradient passes the test: same predictions, far larger weights
    free = SoftmaxRegression(alpha=0.0, tol=1e-8, max_iter=500).fit(X, y)
    assert free.score(X, y) == 1.0
    assert np.linalg.norm(free.coef_) > 3 * np.linalg.norm(model.coef_)


def test_non_convergence_warns_and_says_what_to_do():
    X, y = _standardized(load_wine)
    with pytest.warns(ConvergenceWarning, match=r"did not converge: reached max_iter=3 .*"
                                                 r"Increase max_iter"):
        model = SoftmaxRegression(alpha=0.01, tol=1e-12, max_iter=3).fit(X, y)
    assert not model.converged_ and model.stop_reason_ == "max_iter"
    assert model.n_iter_[0] == 3


def test_feature_scale_barely_changes_the_iteration_count():
    # Böhning's bound as L-BFGS' initial inverse Hessian: multiplying the features by
    # 1000 (no penalty, so the minimiser is the same model, rescaled) costs few extra steps
    X, y = _standardized(load_wine)
    plain = SoftmaxRegression(alpha=0.0, tol=1e-6, max_iter=2000).fit(X, y)
    scaled = SoftmaxRegression(alpha=0.0, tol=1e-6, max_iter=2000).fit(X * 1000.0, y)
    assert scaled.n_iter_[0] <= 2 * plain.n_iter_[0] + 10


# ------------------------------------------------------------------ explanations
def test_explain_contributions_sum_to_the_scores():
    X, y = _synthetic()
    model = SoftmaxRegression().fit(X, y)
    x = X[7]
    e = model.explain(x)
    assert e.contributions.shape == (4, X.shape[1]) and e.scores.shape == (4,)
    np.testing.assert_allclose(e.contributions, model.coef_ * x, rtol=1e-12)
    np.testing.assert_allclose(e.contributions.sum(axis=1) + e.intercepts, e.scores, rtol=1e-12)
    np.testing.assert_allclose(e.scores, model.decision_function(x[None])[0], rtol=1e-12)
    np.testing.assert_allclose(e.probabilities, model.predict_proba(x[None])[0], rtol=1e-12)
    assert e.predicted == model.predict(x[None])[0]
    assert e.runner_up != e.predicted
    margin = e.scores[e.predicted_index] - e.scores[e.runner_up_index]
    assert e.margin_contributions().sum() + e.intercepts[e.predicted_index] \
        - e.intercepts[e.runner_up_index] == pytest.approx(margin)
    text = str(e)
    assert f"predicted {e.predicted!r}" in text and f"runner-up {e.runner_up!r}" in text
    pro, con = e.top_features(3)
    assert all(c > 0 for _, _, c in pro) and all(c < 0 for _, _, c in con)
    assert pro[0][0] in text
    json.dumps(e.to_dict())  # JSON-ready for scripts and demos
    same = model.explain(x[None, :], feature_names=list("abcdefgh"))
    assert same.feature_names[0] == "a"
    np.testing.assert_array_equal(same.scores, e.scores)


def test_explain_binary_margin_is_the_decision_function():
    X, y = _standardized(load_breast_cancer)
    model = SoftmaxRegression().fit(X, y)
    e = model.explain(X[0])
    z = model.decision_function(X[:1])[0]
    assert e.scores[1] - e.scores[0] == pytest.approx(z)
    np.testing.assert_allclose(e.probabilities, model.predict_proba(X[:1])[0], rtol=1e-12)


# ------------------------------------------------------------------ bad input
@pytest.fixture
def fitted():
    X, y = _synthetic()
    return SoftmaxRegression().fit(X, y), X, y


def test_errors_name_the_argument(fitted):
    model, X, y = fitted
    with pytest.raises(ShapeError, match=r"X must be a 2-D array.*reshape\(-1, 1\)"):
        SoftmaxRegression().fit(X[:, 0], y)
    with pytest.raises(ValueError, match=r"y has only one class \('ant'\)"):
        SoftmaxRegression().fit(X, np.full(len(y), "ant"))
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match=r"X contains NaN .* row 3, column 2"):
        SoftmaxRegression().fit(bad, y)
    with pytest.raises(ShapeError, match=r"X has 400 rows, y has 399 labels"):
        SoftmaxRegression().fit(X, y[:-1])
    with pytest.raises(ShapeError, match=r"sample_weight must have one weight per sample"):
        SoftmaxRegression().fit(X, y, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match=r"alpha must be a finite number >= 0, got -1"):
        SoftmaxRegression(alpha=-1).fit(X, y)
    with pytest.raises(ValueError, match=r"max_iter must be >= 1"):
        SoftmaxRegression(max_iter=0).fit(X, y)
    with pytest.raises(ValueError, match="Unknown label type"):
        SoftmaxRegression().fit(X, np.linspace(0, 1, len(y)))
    with pytest.raises(ShapeError, match=r"x must be one sample: 8 values"):
        model.explain(X[:2])
    with pytest.raises(ShapeError, match=r"feature_names must have 8 names"):
        model.explain(X[0], feature_names=["a"])
    with pytest.raises(ValueError, match="X has 3 features"):
        model.predict(X[:, :3])
    with pytest.raises(dw.NotFittedError, match="call 'fit' first"):
        SoftmaxRegression().predict(X)
