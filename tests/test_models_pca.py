"""PCA against scikit-learn's PCA, plus the properties that define it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import decomposition as skd
from sklearn.datasets import load_digits

from dotwise._validation import NotFittedError, ShapeError
from dotwise.models import PCA


def _low_rank_data(rng, n=300, p=20, rank=6, noise=0.05, dtype=np.float64):
    """Data with a clear spectral gap: a rank-``rank`` signal plus small noise, off-centre."""
    scales = 2.0 ** -np.arange(rank)
    X = (rng.standard_normal((n, rank)) * scales) @ rng.standard_normal((rank, p))
    X += noise * rng.standard_normal((n, p)) + 5.0
    return X.astype(dtype)


def _align_signs(A, B):
    """Flip rows of A to best match rows of B (component signs are arbitrary in theory)."""
    signs = np.sign(np.sum(A * B, axis=1))
    return A * signs[:, None]


@pytest.mark.parametrize("solver", ["full", "covariance_eigh"])
@pytest.mark.parametrize("n_components", [None, 3, 0.9])
def test_exact_solvers_match_sklearn(rng, solver, n_components):
    X = _low_rank_data(rng)
    ours = PCA(n_components=n_components, svd_solver=solver).fit(X)
    ref = skd.PCA(n_components=n_components, svd_solver=solver).fit(X)
    assert ours.n_components_ == ref.n_components_
    k = ours.n_components_
    # the leading (well-separated) components agree to high precision
    lead = min(k, 6)
    np.testing.assert_allclose(_align_signs(ours.components_[:lead], ref.components_[:lead]),
                               ref.components_[:lead], atol=1e-7)
    np.testing.assert_allclose(ours.explained_variance_, ref.explained_variance_,
                               rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(ours.explained_variance_ratio_, ref.explained_variance_ratio_,
                               rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(ours.singular_values_, ref.singular_values_, rtol=1e-8,
                               atol=1e-10)
    np.testing.assert_allclose(ours.mean_, ref.mean_, rtol=1e-14)
    assert ours.noise_variance_ == pytest.approx(ref.noise_variance_, rel=1e-6, abs=1e-12)
    Zo, Zr = ours.transform(X)[:, :lead], ref.transform(X)[:, :lead]
    np.testing.assert_allclose(Zo * np.sign(np.sum(Zo * Zr, axis=0)), Zr, atol=1e-6)


def test_same_sign_convention_as_sklearn_on_digits():
    X = load_digits().data
    ours = PCA(n_components=10, svd_solver="full").fit(X)
    ref = skd.PCA(n_components=10, svd_solver="full").fit(X)
    np.testing.assert_allclose(ours.components_, ref.components_, atol=1e-8)
    np.testing.assert_allclose(ours.transform(X), ref.transform(X), atol=1e-7)
    rows = np.arange(10)
    peak = ours.components_[rows, np.argmax(np.abs(ours.components_), axis=1)]
    assert np.all(peak > 0), "the largest-|.| loading of each component is positive"


@pytest.mark.parametrize("solver", ["full", "covariance_eigh", "randomized"])
def test_solvers_agree_with_each_other(rng, solver):
    X = _low_rank_data(rng, n=400, p=30)
    full = PCA(n_components=5, svd_solver="full").fit(X)
    other = PCA(n_components=5, svd_solver=solver, random_state=0).fit(X)
    np.testing.assert_allclose(other.components_, full.components_, atol=1e-6)
    np.testing.assert_allclose(other.explained_variance_ratio_,
                               full.explained_variance_ratio_, rtol=1e-8)


def test_randomized_matches_sklearn_randomized_and_is_reproducible(rng):
    X = _low_rank_data(rng, n=600, p=80, rank=8)
    a = PCA(n_components=8, svd_solver="randomized", random_state=3).fit(X)
    b = PCA(n_components=8, svd_solver="randomized", random_state=3).fit(X)
    np.testing.assert_array_equal(a.components_, b.components_)
    ref = skd.PCA(n_components=8, svd_solver="randomized", random_state=0).fit(X)
    exact = PCA(n_components=8, svd_solver="full").fit(X)
    np.testing.assert_allclose(a.explained_variance_[:6], ref.explained_variance_[:6], rtol=1e-6)
    np.testing.assert_allclose(a.components_[:6], ref.components_[:6], atol=1e-5)
    # the trailing component sits near the noise floor: both are approximate there,
    # and ours is no further from the exact answer than scikit-learn's (up to 2x)
    ours_err = np.max(np.abs(a.explained_variance_ - exact.explained_variance_))
    ref_err = np.max(np.abs(ref.explained_variance_ - exact.explained_variance_))
    assert ours_err <= 2 * ref_err + 1e-12


def test_randomized_on_wide_data(rng):
    X = _low_rank_data(rng, n=40, p=300, rank=5, noise=1e-3)
    rnd = PCA(n_components=5, svd_solver="randomized", random_state=0).fit(X)
    full = PCA(n_components=5, svd_solver="full").fit(X)
    np.testing.assert_allclose(rnd.singular_values_, full.singular_values_, rtol=1e-6)


@pytest.mark.parametrize("solver", ["full", "covariance_eigh"])
def test_full_rank_round_trip_and_ratios_sum_to_one(rng, solver):
    X = rng.standard_normal((50, 8)) @ rng.standard_normal((8, 8)) + 1.0
    pca = PCA(svd_solver=solver).fit(X)
    assert pca.n_components_ == 8
    np.testing.assert_allclose(pca.inverse_transform(pca.transform(X)), X, atol=1e-9)
    assert pca.explained_variance_ratio_.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(np.diff(pca.explained_variance_) <= 0)
    np.testing.assert_allclose(pca.components_ @ pca.components_.T, np.eye(8), atol=1e-12)


def test_truncation_properties(rng):
    X = _low_rank_data(rng)
    pca = PCA(n_components=4).fit(X)
    assert 0 < pca.explained_variance_ratio_.sum() <= 1
    Z = pca.transform(X)
    # scores are uncorrelated with variances = explained_variance_
    np.testing.assert_allclose(np.cov(Z, rowvar=False), np.diag(pca.explained_variance_),
                               atol=1e-9)
    # the reconstruction error is the discarded variance
    err = np.sum((X - pca.inverse_transform(Z)) ** 2) / (len(X) - 1)
    total = np.sum(np.var(X, axis=0, ddof=1))
    assert err == pytest.approx(total - pca.explained_variance_.sum(), rel=1e-9)


def test_variance_fraction_selects_the_fewest_components(rng):
    X = _low_rank_data(rng)
    pca = PCA(n_components=0.95, svd_solver="full").fit(X)
    full = PCA(svd_solver="full").fit(X)
    cum = np.cumsum(full.explained_variance_ratio_)
    assert cum[pca.n_components_ - 1] >= 0.95 > cum[pca.n_components_ - 2]


def test_fit_transform_equals_fit_then_transform(rng):
    X = _low_rank_data(rng)
    for solver in ("full", "covariance_eigh", "randomized"):
        a = PCA(n_components=3, svd_solver=solver, random_state=0)
        Z = a.fit_transform(X)
        np.testing.assert_allclose(Z, a.transform(X), atol=1e-9)


def test_whiten_gives_unit_variance_and_inverts(rng):
    X = _low_rank_data(rng)
    pca = PCA(n_components=3, whiten=True).fit(X)
    Z = pca.transform(X)
    np.testing.assert_allclose(np.var(Z, axis=0, ddof=1), np.ones(3), rtol=1e-9)
    ref = skd.PCA(n_components=3, whiten=True).fit(X)
    np.testing.assert_allclose(np.abs(Z), np.abs(ref.transform(X)), atol=1e-6)
    np.testing.assert_allclose(pca.inverse_transform(Z),
                               PCA(n_components=3).fit(X).inverse_transform(
                                   PCA(n_components=3).fit(X).transform(X)), atol=1e-9)


@pytest.mark.parametrize("solver", ["full", "covariance_eigh", "randomized"])
def test_float32_stays_float32(rng, solver):
    X = _low_rank_data(rng, dtype=np.float32)
    pca = PCA(n_components=3, svd_solver=solver, random_state=0).fit(X)
    for name in ("components_", "explained_variance_", "explained_variance_ratio_",
                 "singular_values_", "mean_"):
        assert getattr(pca, name).dtype == np.float32, name
    assert pca.transform(X).dtype == np.float32
    assert pca.inverse_transform(pca.transform(X)).dtype == np.float32
    p64 = PCA(n_components=3, svd_solver="full").fit(X.astype(np.float64))
    np.testing.assert_allclose(pca.explained_variance_ratio_, p64.explained_variance_ratio_,
                               rtol=1e-3)
    np.testing.assert_allclose(pca.components_, p64.components_, atol=1e-3)


def test_get_feature_names_out(rng):
    pca = PCA(n_components=2).fit(_low_rank_data(rng))
    assert list(pca.get_feature_names_out()) == ["pca0", "pca1"]


# ---------------------------------------------------------------------- errors
def test_bad_input_messages(rng):
    X = _low_rank_data(rng, n=4, p=6)
    with pytest.raises(ValueError, match=r"n_components must be between 1 and "
                                         r"min\(n_samples, n_features\)=4 \(X has shape "
                                         r"\(4, 6\)\), got 10"):
        PCA(n_components=10).fit(X)
    with pytest.raises(ValueError, match=r"n_components as a float .* must be in \(0, 1\), "
                                         r"got 1.5"):
        PCA(n_components=1.5).fit(X)
    with pytest.raises(TypeError, match="n_components must be an int, a float in"):
        PCA(n_components="all").fit(X)
    with pytest.raises(ValueError, match="needs the full spectrum; use svd_solver='full'"):
        PCA(n_components=0.5, svd_solver="randomized").fit(X)
    with pytest.raises(ValueError, match="svd_solver must be one of 'auto', 'full'"):
        PCA(svd_solver="arpack").fit(X)
    with pytest.raises(ValueError, match=r"Found array with 1 sample\(s\)"):
        PCA().fit(X[:1])
    with pytest.raises(ValueError, match=r"(?s)Expected 2D array, got 1D.*reshape\(-1, 1\)"):
        PCA().fit(X[:, 0])
    Xn = X.copy()
    Xn[1, 1] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        PCA().fit(Xn)
    with pytest.raises(NotFittedError, match="This PCA instance is not fitted yet"):
        PCA().transform(X)
    pca = PCA(n_components=2).fit(X)
    with pytest.raises(ValueError, match="X has 5 features, but PCA is expecting 6"):
        pca.transform(np.ones((3, 5)))
    with pytest.raises(ShapeError, match=r"X must have n_components_=2 columns .* got shape "
                                         r"\(3, 4\)"):
        pca.inverse_transform(np.ones((3, 4)))


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 30), p=st.integers(1, 12), seed=st.integers(0, 2**16),
       solver=st.sampled_from(["full", "covariance_eigh"]))
def test_pca_properties_for_any_shape(n, p, seed, solver):
    gen = np.random.default_rng(seed)
    X = gen.standard_normal((n, p)) * gen.uniform(0.1, 10, size=p) + gen.normal(size=p)
    pca = PCA(svd_solver=solver).fit(X)
    k = min(n, p)
    assert pca.components_.shape == (k, p)
    ratio_sum = pca.explained_variance_ratio_.sum()
    assert ratio_sum <= 1 + 1e-10
    # orthonormal rows for the directions that carry variance
    live = pca.explained_variance_ > 1e-10 * pca.explained_variance_[0]
    V = pca.components_[live]
    np.testing.assert_allclose(V @ V.T, np.eye(len(V)), atol=1e-8)
    total = np.var(X, axis=0, ddof=1).sum()
    assert pca.explained_variance_.sum() == pytest.approx(total, rel=1e-8)
    np.testing.assert_allclose(pca.inverse_transform(pca.transform(X)), X,
                               atol=1e-7 * (1 + np.abs(X).max()))


@pytest.mark.parametrize("p", [40, 300])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_covariance_route_without_the_compiled_sweep(rng, monkeypatch, p, dtype):
    """More than 256 columns (or no compiled loops) take the blocked NumPy route for the
    Gram matrix: the same components and variances as the compiled sweep and sklearn."""
    from dotwise import _loops
    from dotwise.models import pca as pca_module

    X = _low_rank_data(rng, n=9000, p=p, rank=8, dtype=dtype) + np.linspace(-3, 3, p)
    want = skd.PCA(5, svd_solver="covariance_eigh").fit(X.astype(np.float64))
    compiled = PCA(5, svd_solver="covariance_eigh").fit(X)
    monkeypatch.setattr(_loops, "gram_supported", lambda *a, **k: False)
    G = pca_module._centred_gram(X, X.mean(axis=0))
    np.testing.assert_allclose(G, G.T, rtol=0, atol=0)        # symmetric, both triangles
    blocked = PCA(5, svd_solver="covariance_eigh").fit(X)
    rtol = 1e-9 if dtype == np.float64 else 2e-4
    for got in (compiled, blocked):
        np.testing.assert_allclose(got.explained_variance_, want.explained_variance_,
                                   rtol=rtol)
        np.testing.assert_allclose(_align_signs(got.components_, want.components_),
                                   want.components_, atol=50 * rtol)
