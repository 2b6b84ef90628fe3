"""KMeans: scikit-learn as the oracle for inertia, the dot-product distance identity
against SciPy, and the properties of Lloyd's algorithm."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from sklearn.cluster import KMeans as SkKMeans
from sklearn.datasets import load_digits, load_iris, make_blobs
from sklearn.metrics import adjusted_rand_score

import dotwise as dw
from dotwise.models import KMeans
from dotwise.models.kmeans import squared_distances


def _datasets():
    rng = np.random.default_rng(0)
    blobs, _ = make_blobs(3000, 8, centers=6, cluster_std=2.0, random_state=1)
    aniso = rng.standard_normal((2000, 5)) * [5, 2, 1, 0.5, 0.1] + 100.0   # far off-centre
    return {
        "iris": (load_iris().data, 3),
        "digits": (load_digits().data, 10),
        "blobs": (blobs, 6),
        "gaussian, off-centre": (aniso, 4),
    }


@pytest.mark.parametrize("name", list(_datasets()))
def test_inertia_within_one_percent_of_scikit_learn(name):
    X, k = _datasets()[name]
    ours = KMeans(k, n_init=5, random_state=0).fit(X)
    theirs = SkKMeans(k, n_init=5, random_state=0).fit(X)
    assert ours.inertia_ <= theirs.inertia_ * 1.01, (ours.inertia_, theirs.inertia_)
    # the reported inertia is the inertia of the reported labels and centres
    direct = ((X - ours.cluster_centers_[ours.labels_]) ** 2).sum()
    assert ours.inertia_ == pytest.approx(direct, rel=1e-9)
    # and each label is the nearest centre
    np.testing.assert_array_equal(
        ours.labels_, cdist(X, ours.cluster_centers_, "sqeuclidean").argmin(axis=1))


def test_labels_agree_with_scikit_learn_on_well_separated_blobs():
    X, truth = make_blobs(1500, 4, centers=5, cluster_std=0.5, center_box=(-20, 20),
                          random_state=3)
    ours = KMeans(5, n_init=3, random_state=0).fit(X)
    theirs = SkKMeans(5, n_init=3, random_state=0).fit(X)
    # the cluster numbering is arbitrary: compare partitions, not label values
    assert adjusted_rand_score(ours.labels_, theirs.labels_) == 1.0
    assert adjusted_rand_score(ours.labels_, truth) == 1.0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gemm_distance_identity_matches_cdist(dtype):
    rng = np.random.default_rng(4)
    X = rng.standard_normal((300, 7)).astype(dtype)
    C = rng.standard_normal((9, 7)).astype(dtype)
    tol = 1e-10 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(squared_distances(X, C), cdist(X, C, "sqeuclidean"),
                               rtol=tol, atol=tol)
    km = KMeans(9, init=C, max_iter=1).fit(X)
    np.testing.assert_allclose(km.transform(X), cdist(X, km.cluster_centers_),
                               rtol=10 * tol, atol=10 * tol)
    assert km.transform(X).dtype == dtype


def test_inertia_never_increases_across_lloyd_iterations():
    X, _ = make_blobs(4000, 6, centers=12, cluster_std=3.0, random_state=5)
    for seed in range(4):
        km = KMeans(12, init="random", n_init=1, tol=0.0, random_state=seed).fit(X)
        h = km.inertia_history_
        assert len(h) >= 3
        assert np.all(np.diff(h) <= 1e-9 * h[0]), h
        assert h[-1] == pytest.approx(km.inertia_)


def test_blocked_passes_give_the_same_answer():
    X, _ = make_blobs(2000, 5, centers=4, random_state=6)
    a = KMeans(4, random_state=0).fit(X)
    b = KMeans(4, random_state=0, block_size=97).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_, rtol=1e-12)


def test_predict_score_and_fit_predict():
    X, _ = make_blobs(600, 3, centers=3, random_state=7)
    km = KMeans(3, random_state=0)
    labels = km.fit_predict(X)
    np.testing.assert_array_equal(labels, km.predict(X))
    assert km.score(X) == pytest.approx(-km.inertia_, rel=1e-10)
    assert km.transform(X[:5]).shape == (5, 3)


def test_empty_cluster_is_relocated():
    X = np.vstack([np.zeros((50, 2)), np.full((50, 2), 10.0), [[5.0, 5.0]]])
    init = np.array([[0.0, 0.0], [10.0, 10.0], [100.0, 100.0]])   # the third attracts nobody
    km = KMeans(3, init=init, max_iter=10).fit(X)
    assert np.bincount(km.labels_, minlength=3).min() >= 1
    assert np.isfinite(km.cluster_centers_).all()


def test_float32_stays_float32():
    X = make_blobs(500, 4, centers=3, random_state=8)[0].astype(np.float32)
    km = KMeans(3, random_state=0).fit(X)
    assert km.cluster_centers_.dtype == np.float32


def test_random_state_reproduces():
    X = make_blobs(800, 4, centers=6, random_state=9)[0]
    a = KMeans(6, init="random", random_state=11).fit(X)
    b = KMeans(6, init="random", random_state=11).fit(X)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)


def test_errors_name_the_argument():
    X = np.random.default_rng(0).standard_normal((20, 3))
    with pytest.raises(ValueError, match="n_clusters=25 must be <= n_samples=20"):
        KMeans(25).fit(X)
    with pytest.raises(ValueError, match="n_clusters must be >= 1, got 0"):
        KMeans(0).fit(X)
    with pytest.raises(TypeError, match="n_clusters must be an integer"):
        KMeans(2.5).fit(X)
    with pytest.raises(ValueError, match="init must be 'k-means\\+\\+', 'random' or an array"):
        KMeans(2, init="kmeans").fit(X)
    with pytest.raises(ValueError, match=r"init as an array must have shape .* \(2, 3\)"):
        KMeans(2, init=np.zeros((3, 3))).fit(X)
    with pytest.raises(ValueError, match="n_init must be >= 1"):
        KMeans(2, n_init=0).fit(X)
    with pytest.raises(ValueError, match="max_iter must be >= 1"):
        KMeans(2, max_iter=0).fit(X)
    with pytest.raises(ValueError, match="tol must be a number >= 0"):
        KMeans(2, tol=-1).fit(X)
    with pytest.raises(ValueError, match="block_size must be a positive integer"):
        KMeans(2, block_size=0).fit(X)
    with pytest.raises(ValueError, match="reshape"):
        KMeans(2).fit(X[:, 0])
    with pytest.raises(dw.NotFittedError, match="KMeans.*call 'fit' first"):
        KMeans(2).predict(X)
    with pytest.raises(ValueError, match="3 features"):
        KMeans(2, random_state=0).fit(X).predict(X[:, :2])
    with pytest.raises(dw.ShapeError, match="same number of columns"):
        squared_distances(X, np.zeros((2, 4)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_compiled_numpy_and_threaded_paths_agree(monkeypatch, dtype):
    from dotwise import _loops

    X = make_blobs(3000, 6, centers=5, cluster_std=2.0, random_state=10)[0].astype(dtype)
    runs = []
    for lib, threads in ((_loops.LIB, "1"), (None, "1"), (_loops.LIB, "2"),
                         (None, "2")):
        monkeypatch.setattr(_loops, "LIB", lib)
        monkeypatch.setenv("DOTWISE_NUM_THREADS", threads)
        runs.append(KMeans(5, n_init=2, random_state=0, block_size=500).fit(X))
    for other in runs[1:]:
        np.testing.assert_array_equal(other.labels_, runs[0].labels_)
        np.testing.assert_allclose(other.cluster_centers_, runs[0].cluster_centers_,
                                   rtol=1e-5 if dtype == np.float32 else 1e-12)
        assert other.inertia_ == pytest.approx(runs[0].inertia_, rel=1e-5)


def test_far_from_the_origin_float32_predict_matches_the_fit():
    X, truth = make_blobs(2000, 4, centers=4, cluster_std=0.5, random_state=12)
    X = (X + 1e4).astype(np.float32)            # ‖x‖² ≈ 4e8: the expansion needs centring
    km = KMeans(4, random_state=0).fit(X)
    assert adjusted_rand_score(km.labels_, truth) == 1.0
    np.testing.assert_array_equal(km.predict(X), km.labels_)


def test_kmeans_steps_follow_lloyd_and_match_the_estimator():
    from dotwise.models.kmeans import kmeans_steps

    X, _ = make_blobs(1500, 3, centers=6, cluster_std=2.5, random_state=13)
    init = X[:6].copy()
    steps = kmeans_steps(X, 6, init=init, max_iter=100)
    inertias = np.array([s.inertia for s in steps])
    assert np.all(np.diff(inertias) <= 1e-9 * inertias[0])
    np.testing.assert_array_equal(steps[-1].labels, steps[-2].labels)   # a fixed point
    for s in steps:                                    # labels are the nearest centres
        np.testing.assert_array_equal(s.labels, cdist(X, s.centers).argmin(axis=1))
    km = KMeans(6, init=init, tol=0.0, max_iter=100).fit(X)
    np.testing.assert_allclose(steps[-1].centers, km.cluster_centers_, rtol=1e-10)
    assert steps[-1].inertia == pytest.approx(km.inertia_, rel=1e-10)
    with pytest.raises(ValueError, match="k must be <= 1500"):
        kmeans_steps(X, 2000)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("m, p, k", [(1, 1, 1), (7, 3, 5), (33, 17, 16), (130, 40, 17),
                                     (61, 9, 256)])
def test_compiled_fused_pass_matches_brute_force(dtype, m, p, k):
    # the one-pass kernel (k ≤ 256): labels, nearest distances and cluster sums against
    # cdist; ragged row counts (not a multiple of its 4 rows), k not a multiple of its
    # 16-centre tile, and a row stride wider than the features (the ones column)
    from dotwise import _loops

    if not _loops.supports(dtype):
        pytest.skip("the compiled loops are not built (no compiler, or DOTWISE_PURE_NUMPY)")
    rng = np.random.default_rng(m * 1000 + k)
    Xa = np.ones((m, p + 1), dtype=dtype)
    Xa[:, :p] = rng.standard_normal((m, p))
    C = rng.standard_normal((k, p)).astype(dtype)
    labels = np.empty(m, dtype=np.int32)
    sums = np.zeros((k, p + 1))
    _loops.km_fused(Xa, p, _loops.km_fused_centres(C), labels, sums)
    D = cdist(Xa[:, :p].astype(np.float64), C.astype(np.float64), "sqeuclidean")
    best = D.min(axis=1)
    # the chosen centre is a nearest one (ties within rounding may pick either)
    np.testing.assert_allclose(D[np.arange(m), labels], best,
                               rtol=1e-4 if dtype == np.float32 else 1e-10, atol=1e-4)
    expected = np.zeros((k, p + 1))
    np.add.at(expected, labels, Xa.astype(np.float64))
    np.testing.assert_allclose(sums, expected, rtol=1e-12, atol=1e-12)
    labels2 = np.empty(m, dtype=np.int32)
    mind = np.empty(m, dtype=dtype)
    xsq = np.einsum("ij,ij->i", Xa[:, :p], Xa[:, :p])
    _loops.km_fused(Xa, p, _loops.km_fused_centres(C), labels2, None, mind, xsq)
    np.testing.assert_array_equal(labels2, labels)
    np.testing.assert_allclose(mind, best, rtol=1e-3 if dtype == np.float32 else 1e-9,
                               atol=1e-3 if dtype == np.float32 else 1e-9)
    assert _loops.km_fused_centres(np.zeros((257, p), dtype=dtype)) is None


def test_many_centres_take_the_gemm_route_and_agree_with_numpy(monkeypatch):
    # k > 256: one GEMM per block then the compiled argmin pass; same answer as NumPy's
    from dotwise import _loops

    X = np.random.default_rng(3).standard_normal((2000, 5))
    init = X[:300].copy()
    runs = []
    for lib in (_loops.LIB, None):
        monkeypatch.setattr(_loops, "LIB", lib)
        runs.append(KMeans(300, init=init, max_iter=5, block_size=512).fit(X))
    np.testing.assert_array_equal(runs[0].labels_, runs[1].labels_)
    np.testing.assert_allclose(runs[0].cluster_centers_, runs[1].cluster_centers_,
                               rtol=1e-10, atol=1e-12)
