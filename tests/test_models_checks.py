"""The estimators honour the scikit-learn API contract (``parametrize_with_checks``).

No check is skipped or marked as expected to fail: every check that applies to a
regressor, a classifier, a transformer or a clusterer runs. (Checks that need pandas or
the array-API switch are skipped by scikit-learn itself when those are absent.)
"""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from dotwise.models import PCA, KMeans, LinearRegression, Ridge, SoftmaxRegression

ESTIMATORS = [
    LinearRegression(),
    # (not method="qr": by lstsq's contract it refuses rank-deficient designs with
    # LinAlgError, and several checks fit wide or constant data)
    LinearRegression(fit_intercept=False, method="svd"),
    Ridge(),
    Ridge(alpha=0.0, fit_intercept=False),
    PCA(),
    PCA(n_components=1, svd_solver="randomized", random_state=0),
    PCA(svd_solver="covariance_eigh", whiten=True),
    KMeans(n_clusters=3, random_state=0),
    KMeans(n_clusters=2, init="random", n_init=2, max_iter=5, random_state=0),
    # the same penalty as scikit-learn's LogisticRegression() (C = 1/alpha = 1), which
    # passes every check too
    SoftmaxRegression(),
    SoftmaxRegression(alpha=0.5, fit_intercept=False, memory=3),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_estimator_contract(estimator, check):
    check(estimator)
