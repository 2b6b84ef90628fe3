"""Eigenvalues: eigendecomposition against NumPy/SciPy, Av = λv, the spectral theorem,
defective matrices, power iteration's convergence rate, and the link to PCA."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

import dotwise as dw
from dotwise import ConvergenceWarning, ShapeError
from dotwise.linalg import eigendecomposition, power_iteration


def _random_symmetric(n: int, rng: np.random.Generator) -> np.ndarray:
    M = rng.standard_normal((n, n))
    return (M + M.T) / 2


# ----------------------------------------------------------------------------- oracles
@pytest.mark.parametrize("n", [1, 2, 5, 30])
def test_symmetric_matches_scipy_eigh_and_the_spectral_theorem_holds(n, rng):
    A = _random_symmetric(n, rng)
    r = eigendecomposition(A)
    assert r.symmetric and r.diagonalizable and r.is_real
    ref = scipy.linalg.eigh(A, eigvals_only=True)
    np.testing.assert_allclose(r.values, np.sort(ref)[::-1], atol=1e-12)
    V = r.vectors
    np.testing.assert_allclose(V.T @ V, np.eye(n), atol=1e-12)          # orthonormal
    np.testing.assert_allclose(V @ np.diag(r.values) @ V.T, A, atol=1e-12)  # A = VΛVᵀ
    assert r.orthogonality_error < 1e-13 and r.reconstruction_error < 1e-13
    assert r.cond_V == 1.0


@pytest.mark.parametrize("n", [2, 4, 20])
def test_general_matches_numpy_eig(n, rng):
    A = rng.standard_normal((n, n))
    r = eigendecomposition(A)
    assert not r.symmetric and r.diagonalizable
    ref = np.linalg.eig(A)[0]
    key = lambda z: (round(z.real, 8), round(z.imag, 8))  # noqa: E731
    np.testing.assert_allclose(sorted(np.asarray(r.values, complex), key=key),
                               sorted(ref.astype(complex), key=key), atol=1e-10)
    V, lam = r.vectors, r.values
    np.testing.assert_allclose(A @ V, V * lam, atol=1e-10)                # A V = V Λ
    np.testing.assert_allclose(np.linalg.norm(V, axis=0), 1.0, atol=1e-12)
    np.testing.assert_allclose(r.residuals, np.linalg.norm(A @ V - V * lam, axis=0), atol=1e-15)
    rebuilt = V @ np.diag(lam) @ np.linalg.inv(V)
    np.testing.assert_allclose(rebuilt, A, atol=1e-9)                     # A = V Λ V⁻¹
    assert r.reconstruction_error < 1e-12
    np.testing.assert_allclose(r.cond_V, np.linalg.cond(V), rtol=1e-8)
    assert np.all(np.diff(np.abs(lam)) <= 1e-12)                          # dominant first


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 8), seed=st.integers(0, 2**32 - 1),
       dtype=st.sampled_from([np.float64, np.float32, np.int64]),
       symmetric=st.booleans())
def test_every_pair_satisfies_av_equals_lambda_v(n, seed, dtype, symmetric):
    rng = np.random.default_rng(seed)
    M = rng.integers(-5, 6, (n, n)) if dtype == np.int64 else rng.standard_normal((n, n))
    if symmetric:
        M = M + M.T
    A = M.astype(dtype)
    r = eigendecomposition(A)
    A64 = A.astype(np.float64)
    scale = max(1.0, np.abs(A64).max()) * n
    for lam, v in zip(r.values, r.vectors.T, strict=True):
        assert np.linalg.norm(v) == pytest.approx(1.0, abs=1e-12)
        if r.diagonalizable:
            assert np.linalg.norm(A64 @ v - lam * v) <= 1e-9 * scale
    assert r.max_residual <= 1e-9 * scale
    assert np.sum(r.values).real == pytest.approx(np.trace(A64), abs=1e-8 * scale)  # Σλ = tr A


# ----------------------------------------------------------------------------- special matrices
@pytest.mark.parametrize("A", [[[1.0, 1.0], [0.0, 1.0]], [[2.0, 1.0, 0.0], [0.0, 2.0, 1.0],
                                                             [0.0, 0.0, 2.0]],
                               [[3.0, 1.0], [-1.0, 1.0]]])  # the last: λ = 2 twice, one vector
def test_defective_matrices_are_reported_not_diagonalised(A):
    r = eigendecomposition(A)
    assert r.defective and not r.diagonalizable and r.reconstruction_error is None
    assert r.defective_eigenvalues and "defective" in str(r)
    assert len(r.real_pairs()) < len(A)


def test_repeated_but_not_defective_and_nearly_equal_eigenvalues():
    r = eigendecomposition(np.diag([2.0, 2.0, 5.0]) + np.triu(np.ones((3, 3)), 2) * 0)
    assert r.diagonalizable and len(r.real_pairs()) == 3
    near = eigendecomposition([[1.0, 1.0], [1e-12, 1.0]])  # λ = 1 ± 1e-6: distinct
    assert near.diagonalizable and near.cond_V > 1e5
    np.testing.assert_allclose(np.sort(near.values), [1 - 1e-6, 1 + 1e-6], atol=1e-12)


def test_rotation_has_a_complex_pair_and_no_real_direction():
    t = np.pi / 6
    R = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    r = eigendecomposition(R)
    assert not r.is_real and r.diagonalizable and r.real_pairs() == []
    np.testing.assert_allclose(sorted(r.values.imag), [-np.sin(t), np.sin(t)], atol=1e-14)
    np.testing.assert_allclose(np.abs(r.values), 1.0, atol=1e-14)
    assert "complex" in str(r)


def test_zero_and_one_by_one():
    z = eigendecomposition(np.zeros((3, 3)))
    assert z.symmetric and np.all(z.values == 0) and z.diagonalizable
    one = eigendecomposition([[-4.0]])
    assert one.values.tolist() == [-4.0] and one.vectors.tolist() == [[1.0]]
    p = power_iteration(np.zeros((2, 2)), random_state=0)
    assert p.value == 0.0 and p.converged == (True,)
    assert power_iteration([[7.0]]).value == pytest.approx(7.0)


@pytest.mark.parametrize("func", [eigendecomposition, power_iteration])
def test_bad_inputs_name_the_argument(func):
    with pytest.raises(ValueError, match=r"A must be square .* got shape \(2, 3\)"):
        func(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"A must contain only finite numbers, found nan"):
        func([[1.0, np.nan], [0.0, 1.0]])
    with pytest.raises(ShapeError, match="A must be a 2-D matrix, got 1-D"):
        func([1.0, 2.0])
    with pytest.raises(ShapeError, match="A must not be empty"):
        func(np.ones((0, 0)))
    with pytest.raises(TypeError, match="A must contain numbers"):
        func([["a", "b"], ["c", "d"]])


def test_power_iteration_bad_options():
    A = np.diag([3.0, 1.0])
    with pytest.raises(ValueError, match="k must be <= 2, got 3"):
        power_iteration(A, k=3)
    with pytest.raises(ValueError, match="k=2 eigenpairs by deflation needs a symmetric A"):
        power_iteration([[1.0, 2.0], [0.0, 3.0]], k=2)
    with pytest.raises(ValueError, match="x0 must have length n = 2"):
        power_iteration(A, x0=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="x0 must not be the zero vector"):
        power_iteration(A, x0=[0.0, 0.0])
    with pytest.raises(ValueError, match="tol must be a finite number > 0"):
        power_iteration(A, tol=0)
    with pytest.raises(ValueError, match="shift must be finite"):
        power_iteration(A, shift=float("inf"))
    with pytest.raises(ValueError, match="max_iter must be >= 1"):
        power_iteration(A, max_iter=0)


# ----------------------------------------------------------------------------- power iteration
def test_power_iteration_finds_the_dominant_pair(rng):
    A = _random_symmetric(40, rng)
    ref_vals, ref_vecs = scipy.linalg.eigh(A)
    i = int(np.argmax(np.abs(ref_vals)))
    r = power_iteration(A, random_state=1, max_iter=5000)
    assert r.converged == (True,)
    assert r.value == pytest.approx(ref_vals[i], rel=1e-9)
    assert abs(r.vector @ ref_vecs[:, i]) == pytest.approx(1.0, abs=1e-8)
    assert len(r.history[0]) == r.iterations[0] == len(r.residual_history[0])


def test_power_iteration_converges_like_the_eigenvalue_ratio():
    """The residual of plain power iteration shrinks by |λ₂/λ₁| per step: measure the slope."""
    rng = np.random.default_rng(7)
    Q, _ = np.linalg.qr(rng.standard_normal((30, 30)))
    lam = np.concatenate([[10.0, 7.0], rng.uniform(-3, 3, 28)])
    A = (Q * lam) @ Q.T
    r = power_iteration(A, random_state=3, tol=1e-13, max_iter=500)
    res = r.residual_history[0]
    k = np.arange(len(res))
    window = slice(10, len(res) - 5)  # past the start-up, before rounding takes over
    slope = np.polyfit(k[window], np.log(res[window]), 1)[0]
    assert np.exp(slope) == pytest.approx(0.7, rel=0.03)  # |λ₂/λ₁| = 7/10
    # and the eigenvalue error (Rayleigh quotient, symmetric A) like |λ₂/λ₁|^(2k)
    err = np.abs(r.history[0] - 10.0)
    early = slice(5, 25)
    slope_v = np.polyfit(k[early], np.log(err[early]), 1)[0]
    assert np.exp(slope_v) == pytest.approx(0.49, rel=0.05)


def test_deflation_gives_the_next_pairs_and_shift_invert_the_nearest(rng):
    Q, _ = np.linalg.qr(rng.standard_normal((12, 12)))
    lam = np.array([9.0, -6.0, 4.0, 2.5, 2.0, 1.5, 1.0, 0.8, 0.5, 0.3, 0.2, 0.1])
    A = (Q * lam) @ Q.T
    r = power_iteration(A, k=3, random_state=0, max_iter=5000)
    np.testing.assert_allclose(r.values, [9.0, -6.0, 4.0], rtol=1e-8)
    np.testing.assert_allclose(r.vectors.T @ r.vectors, np.eye(3), atol=1e-8)
    near = power_iteration(A, shift=0.85, random_state=0)
    assert near.value == pytest.approx(0.8, rel=1e-10) and near.shift == 0.85
    assert near.iterations[0] < 40
    exact = power_iteration(A, shift=2.0, random_state=0)  # σ exactly an eigenvalue
    assert exact.value == pytest.approx(2.0, rel=1e-9)
    gen = np.array([[2.0, 1.0], [0.0, 5.0]])  # shift-invert on a general matrix
    assert power_iteration(gen, shift=1.5, random_state=0).value == pytest.approx(2.0)


@pytest.mark.parametrize("A", [np.diag([1.0, -1.0]), [[0.0, -1.0], [1.0, 0.0]]])
def test_non_convergence_is_a_clear_warning(A):
    with pytest.warns(ConvergenceWarning, match=r"did not converge .* max_iter=50"):
        r = power_iteration(A, max_iter=50, random_state=0)
    assert r.converged == (False,) and r.iterations == (50,)
    assert "NOT converged" in str(r)


# ----------------------------------------------------------------------------- PCA
def test_pca_axes_are_the_covariance_eigenvectors_and_variances_its_eigenvalues(rng):
    from sklearn.decomposition import PCA as SkPCA

    X = rng.standard_normal((300, 5)) @ rng.standard_normal((5, 5))
    Xc = X - X.mean(axis=0)
    C = Xc.T @ Xc / (len(X) - 1)
    r = eigendecomposition(C)
    assert r.symmetric
    for pca in (dw.PCA(n_components=5).fit(X), SkPCA(n_components=5).fit(X)):
        np.testing.assert_allclose(pca.explained_variance_, r.values, rtol=1e-10)
        for axis, v in zip(pca.components_, r.vectors.T, strict=True):  # up to sign
            assert abs(axis @ v) == pytest.approx(1.0, abs=1e-9)
    top = power_iteration(C, random_state=0)  # the first axis, by power iteration
    assert top.value == pytest.approx(r.values[0], rel=1e-9)


def test_inspect_carries_the_eigendecomposition():
    rep = dw.inspect([[1.0, 1.0], [0.0, 1.0]])
    assert rep.eigen is not None and rep.eigen.defective
    assert "defective" in str(rep)
    assert dw.inspect(np.ones((3, 2))).eigen is None
    assert dw.inspect(np.eye(2), eigen=False).eigen is None
    assert dw.inspect([[1.0, 2.0], [2.0, 4.0]]).cond == np.inf  # singular: ∞


def test_iterates_trace_the_path_to_the_eigenvector():
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    r = power_iteration(A, x0=[1.0, 0.0], return_iterates=True, max_iter=200)
    (path,) = r.iterates
    assert path.shape == (r.iterations[0] + 1, 2)
    np.testing.assert_allclose(path[0], [1.0, 0.0])
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), 1.0)
    step = A @ path[0]
    np.testing.assert_allclose(path[1], step / np.linalg.norm(step))  # x₁ = A x₀ / ‖A x₀‖
    assert abs(path[-1] @ r.vector) == pytest.approx(1.0)
    assert power_iteration(A, random_state=0).iterates is None
