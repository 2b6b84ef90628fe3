"""dotwise.linalg.randomized_svd: against LAPACK's SVD and scikit-learn's randomized SVD,
for arrays, operators and implicit centring — and the two callers (PCA, svd_compress)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse.linalg

from dotwise.linalg import randomized_svd


def low_rank_plus_noise(rng, m, n, rank=12, noise=1e-3, dtype=np.float64):
    """Singular values 10·0.7^i on ``rank`` directions plus small Gaussian noise."""
    U, _ = np.linalg.qr(rng.standard_normal((m, rank)))
    V, _ = np.linalg.qr(rng.standard_normal((n, rank)))
    s = 10.0 * 0.7 ** np.arange(rank)
    return ((U * s) @ V.T + noise * rng.standard_normal((m, n))).astype(dtype)


def assert_orthonormal(U, Vt, atol):
    k = U.shape[1]
    np.testing.assert_allclose(U.T @ U, np.eye(k), atol=atol)
    np.testing.assert_allclose(Vt @ Vt.T, np.eye(k), atol=atol)


@pytest.mark.parametrize("shape", [(300, 120), (90, 250)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_singular_values_match_lapack_and_factors_are_orthonormal(shape, dtype):
    rng = np.random.default_rng(1)
    A = low_rank_plus_noise(rng, *shape, dtype=dtype)
    U, s, Vt = randomized_svd(A, 8)
    assert U.dtype == s.dtype == Vt.dtype == dtype
    assert U.shape == (shape[0], 8) and s.shape == (8,) and Vt.shape == (8, shape[1])
    exact = np.linalg.svd(A.astype(np.float64), compute_uv=False)[:8]
    rtol = 1e-8 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(s, exact, rtol=rtol)
    assert_orthonormal(U, Vt, atol=1e-10 if dtype == np.float64 else 1e-5)
    # U diag(s) Vt is the best rank-8 approximation up to the noise: A v_i = s_i u_i
    np.testing.assert_allclose(A @ Vt.T, U * s, atol=50 * rtol * exact[0])


def test_agrees_with_scikit_learn_randomized_svd():
    extmath = pytest.importorskip("sklearn.utils.extmath")
    rng = np.random.default_rng(2)
    A = low_rank_plus_noise(rng, 400, 200, rank=20, noise=1e-2)
    U, s, Vt = randomized_svd(A, 10, n_iter=5, random_state=0)
    Ur, sr, Vtr = extmath.randomized_svd(A, 10, n_iter=5, random_state=0)
    exact = np.linalg.svd(A, compute_uv=False)[:10]
    np.testing.assert_allclose(s, sr, rtol=1e-4)
    # at least as close to LAPACK as scikit-learn's (up to rounding)
    assert np.all(np.abs(s - exact) <= 2 * np.abs(sr - exact) + 1e-12 * exact[0])
    # the same leading directions: |<u_i, u_i'>| = 1 (signs are arbitrary)
    np.testing.assert_allclose(np.abs(np.sum(U * Ur, axis=0))[:8], 1.0, atol=1e-6)
    np.testing.assert_allclose(np.abs(np.sum(Vt * Vtr, axis=1))[:8], 1.0, atol=1e-6)


def test_implicit_centring_equals_centring_the_matrix():
    rng = np.random.default_rng(3)
    X = low_rank_plus_noise(rng, 250, 60) + rng.standard_normal(60) * 5   # far-off mean
    mean = X.mean(axis=0)
    U, s, Vt = randomized_svd(X, 6, mean=mean)
    exact = np.linalg.svd(X - mean, compute_uv=False)[:6]
    np.testing.assert_allclose(s, exact, rtol=1e-8)
    np.testing.assert_allclose((X - mean) @ Vt.T, U * s, atol=1e-8 * exact[0])


def test_operators_give_the_array_answer():
    rng = np.random.default_rng(4)
    A = low_rank_plus_noise(rng, 150, 80)
    ref = randomized_svd(A, 5, random_state=7)
    linop = scipy.sparse.linalg.aslinearoperator(A)
    got = randomized_svd(linop, 5, random_state=7)
    for a, b in zip(ref, got, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-10)

    class VectorsOnly:                      # only matvec / rmatvec: applied column by column
        shape = A.shape
        dtype = A.dtype

        def matvec(self, v):
            return A @ v

        def rmatvec(self, v):
            return A.T @ v

    got = randomized_svd(VectorsOnly(), 5, random_state=7)
    np.testing.assert_allclose(got[1], ref[1], rtol=1e-12)
    mean = rng.standard_normal(80)
    np.testing.assert_allclose(randomized_svd(linop, 5, mean=mean, random_state=7)[1],
                               randomized_svd(A, 5, mean=mean, random_state=7)[1], rtol=1e-12)


def test_random_state_makes_it_reproducible():
    rng = np.random.default_rng(5)
    A = rng.standard_normal((80, 70))         # a flat spectrum: the answer depends on Ω
    a = randomized_svd(A, 4, n_iter=0, random_state=11)
    b = randomized_svd(A, 4, n_iter=0, random_state=11)
    c = randomized_svd(A, 4, n_iter=0, random_state=12)
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])
    gen = np.random.default_rng(0)
    first, second = (randomized_svd(A, 4, n_iter=0, random_state=gen)[1] for _ in range(2))
    assert not np.array_equal(first, second)        # a Generator is advanced in place
    legacy = randomized_svd(A, 4, random_state=np.random.RandomState(0))
    assert legacy[1].shape == (4,)


def test_bad_input():
    A = np.ones((5, 4))
    with pytest.raises(ValueError, match=r"k must be between 1 and min\(m, n\) = 4"):
        randomized_svd(A, 5)
    with pytest.raises(ValueError, match="k must be"):
        randomized_svd(A, 0)
    with pytest.raises(ValueError, match="mean must have one entry per column of A"):
        randomized_svd(A, 2, mean=np.zeros(5))
    with pytest.raises(ValueError, match="n_iter"):
        randomized_svd(A, 2, n_iter=-1)
    with pytest.raises(TypeError, match="random_state must be"):
        randomized_svd(A, 2, random_state="seed")
    with pytest.raises(ValueError, match="found nan"):
        randomized_svd(np.array([[1.0, np.nan], [0.0, 1.0]]), 1)

    class ForwardOnly:
        shape = (5, 4)

        def matvec(self, v):
            return A @ v

    with pytest.raises(TypeError, match="rmatmat"):
        randomized_svd(ForwardOnly(), 2)


def test_pca_randomized_solver_matches_the_exact_one():
    from dotwise.models import PCA

    rng = np.random.default_rng(6)
    X = low_rank_plus_noise(rng, 600, 90, rank=10) + 3.0
    exact = PCA(n_components=6, svd_solver="full").fit(X)
    rnd = PCA(n_components=6, svd_solver="randomized", random_state=0).fit(X)
    np.testing.assert_allclose(rnd.singular_values_, exact.singular_values_, rtol=1e-8)
    np.testing.assert_allclose(rnd.components_, exact.components_, atol=1e-7)  # same signs
    np.testing.assert_allclose(rnd.transform(X), exact.transform(X), atol=1e-6)


def test_svd_compress_randomized_path_keeps_the_energy_of_the_exact_svd():
    """min(H, W) > 600 with a small rank takes the randomized path: same energy as LAPACK."""
    from dotwise.image import svd_compress

    rng = np.random.default_rng(7)
    x = np.linspace(0, 1, 640)
    img = np.clip(0.5 + 0.3 * np.outer(np.sin(6 * x), np.cos(4 * x))
                  + 0.1 * np.outer(x, x) + 0.01 * rng.standard_normal((640, 640)), 0, 1)
    c = svd_compress(img, rank=20, bits=32)
    s = np.linalg.svd(img, compute_uv=False)
    np.testing.assert_allclose(c.params["energy"][0], np.sum(s[:20] ** 2) / np.sum(s**2),
                               rtol=1e-5)
    # within 1 % of the Eckart–Young optimum √Σ_{i>20} σ_i² (the tail here is flat noise,
    # the hardest case for a range finder)
    err = np.linalg.norm(c.decompress(clip=False) - img)
    optimum = np.sqrt(np.sum(s[20:] ** 2))
    assert optimum <= err <= 1.01 * optimum


# ----------------------------------------------------------------- random_with_condition
@pytest.mark.parametrize("shape", [(40, 12), (12, 40), (9, 9)])
@pytest.mark.parametrize("cond", [1.0, 1e3, 1e10])
def test_random_with_condition_has_the_asked_condition_number(shape, cond):
    from dotwise.linalg import random_with_condition

    A, U, s, Vt = random_with_condition(*shape, cond, random_state=3, return_factors=True)
    r = min(shape)
    assert A.shape == shape and U.shape == (shape[0], r) and Vt.shape == (r, shape[1])
    sv = np.linalg.svd(A, compute_uv=False)
    np.testing.assert_allclose(sv, s, rtol=1e-6, atol=1e-15)
    np.testing.assert_allclose(sv[0] / sv[-1], cond, rtol=1e-5)
    assert_orthonormal(U, Vt, atol=1e-12)
    np.testing.assert_allclose((U * s) @ Vt, A, atol=1e-14)


def test_random_with_condition_seeding_dtype_and_errors():
    from dotwise.linalg import random_with_condition

    a = random_with_condition(6, 4, 10.0, random_state=1)
    np.testing.assert_array_equal(a, random_with_condition(6, 4, 10.0, random_state=1))
    gen = np.random.default_rng(1)
    np.testing.assert_array_equal(random_with_condition(6, 4, 10.0, random_state=gen), a)
    assert not np.array_equal(random_with_condition(6, 4, 10.0, random_state=gen), a)
    assert random_with_condition(6, 4, 10.0, dtype=np.float32).dtype == np.float32
    assert random_with_condition(5, 0, 10.0).shape == (5, 0)
    with pytest.raises(ValueError, match="cond must be a finite number >= 1"):
        random_with_condition(3, 3, 0.5)
    with pytest.raises(ValueError, match="cond must be a finite number >= 1"):
        random_with_condition(3, 3, np.inf)
    with pytest.raises(ValueError, match="m"):
        random_with_condition(-1, 3, 2.0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cond", [1e1, 1e4, 1e9, 1e14])
def test_the_final_basis_is_orthonormal_and_spans_y_at_any_condition(dtype, cond):
    """Cholesky QR twice where ``Y`` is well conditioned for its dtype, Householder QR
    where it is not: either way QᵀQ = I and Q Qᵀ Y = Y (the same column space)."""
    from dotwise.linalg import random_with_condition
    from dotwise.linalg.randomized import _orthonormal

    Y = random_with_condition(3000, 40, cond, random_state=5).astype(dtype)
    Q = _orthonormal(Y)
    eps = np.finfo(dtype).eps
    assert Q.shape == Y.shape and Q.dtype == dtype
    np.testing.assert_allclose(Q.T @ Q, np.eye(40), atol=200 * eps)
    residual = np.linalg.norm(Y - Q @ (Q.T @ Y)) / np.linalg.norm(Y)
    assert residual < 200 * eps, residual


def test_power_iteration_bases_keep_the_small_directions():
    """With many power iterations, a fast-decaying spectrum (σ₁/σ₈ = 1e6) still gives
    the 8th singular value to LAPACK's accuracy: the LU bases do not let the small
    directions drown in the large ones."""
    rng = np.random.default_rng(6)
    U, _ = np.linalg.qr(rng.standard_normal((500, 8)))
    V, _ = np.linalg.qr(rng.standard_normal((200, 8)))
    s = np.logspace(0, -6, 8)
    A = (U * s) @ V.T
    _, got, _ = randomized_svd(A, 8, n_iter=12, n_oversamples=0)
    np.testing.assert_allclose(got, s, rtol=1e-6)
