"""Least squares: every method against NumPy/SciPy/scikit-learn, properties, edge cases, errors."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

import dotwise as dw
from dotwise import IllConditionedWarning, ShapeError

METHODS = ("auto", "normal", "qr", "svd", "pinv")
DTYPES = (np.float32, np.float64)


def well_conditioned(seed: int, m: int, n: int, dtype, cond: float = 10.0) -> np.ndarray:
    """m×n (m >= n) with singular values spread over [1/cond, 1]."""
    return dw.linalg.random_with_condition(m, n, cond, random_state=seed, dtype=dtype)


problems = st.tuples(
    st.integers(0, 2**16),                 # seed
    st.integers(1, 12),                    # n
    st.integers(0, 20),                    # extra rows: m = n + extra
    st.sampled_from([0, 1, 3]),            # k: 0 → 1-D b
    st.sampled_from(DTYPES),
)


def _tol(dtype, n: int, cond: float = 10.0) -> float:
    return 200 * (n + 1) * cond * float(np.finfo(dtype).eps)


@settings(max_examples=60, deadline=None)
@given(problems)
def test_every_method_matches_numpy_and_scipy(problem):
    seed, n, extra, k, dtype = problem
    m = n + extra
    A = well_conditioned(seed, m, n, dtype)
    rng = np.random.default_rng(seed + 1)
    b = (rng.standard_normal(m) if k == 0 else rng.standard_normal((m, k))).astype(dtype)
    ref = np.linalg.lstsq(A.astype(np.float64), b.astype(np.float64), rcond=None)[0]
    ref_scipy = scipy.linalg.lstsq(A.astype(np.float64), b.astype(np.float64))[0]
    scale = max(1.0, float(np.abs(ref).max()))
    for method in METHODS:
        res = dw.lstsq(A, b, method=method)
        assert res.x.shape == ref.shape
        assert res.x.dtype == dtype
        assert res.rank == n
        np.testing.assert_allclose(res.x, ref, atol=_tol(dtype, n) * scale, err_msg=method)
        np.testing.assert_allclose(res.x, ref_scipy, atol=_tol(dtype, n) * scale)
        # residual ⟂ col(A): Aᵀ(b − Ax) = 0
        r = b.astype(np.float64) - A.astype(np.float64) @ res.x.astype(np.float64)
        AtR = np.abs(A.astype(np.float64).T @ r).max() if r.size else 0.0
        assert AtR <= _tol(dtype, n) * (np.linalg.norm(b) + 1), method
        np.testing.assert_allclose(res.residual_norm, np.linalg.norm(r, axis=0),
                                   rtol=1e-3 if dtype == np.float32 else 1e-8,
                                   atol=_tol(dtype, n))
        if k == 0:
            assert isinstance(res.residual_norm, float)
        else:
            assert res.residual_norm.shape == (k,)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**16), st.integers(2, 10), st.integers(1, 8))
def test_underdetermined_gives_the_minimum_norm_solution(seed, m, extra):
    rng = np.random.default_rng(seed)
    n = m + extra
    A = rng.standard_normal((m, n))
    b = rng.standard_normal(m)
    ref = np.linalg.lstsq(A, b, rcond=None)[0]
    for method in ("auto", "qr", "svd", "pinv"):
        res = dw.lstsq(A, b, method=method)
        np.testing.assert_allclose(res.x, ref, atol=1e-8 * max(1, np.abs(ref).max()))
        assert res.residual_norm < 1e-8 * np.linalg.norm(b)
    with pytest.raises(np.linalg.LinAlgError, match="method='normal' needs at least as many rows"):
        dw.lstsq(A, b, method="normal")


def test_result_is_a_frozen_dataclass_with_a_readable_str(rng):
    res = dw.lstsq(rng.standard_normal((10, 3)), rng.standard_normal(10))
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.x = None
    assert "method='normal'" in str(res) and "rank=3" in str(res)
    x, residual_norm, rank, cond, method = (res.x, res.residual_norm, res.rank, res.cond,
                                            res.method)
    assert method == "normal" and rank == 3 and cond >= 1 and residual_norm > 0
    assert x.shape == (3,)


def test_auto_picks_normal_qr_or_svd_by_conditioning_and_rank():
    A = well_conditioned(0, 300, 10, np.float64, cond=1e2)
    b = np.ones(300)
    assert dw.lstsq(A, b).method == "normal"
    A8 = well_conditioned(0, 300, 10, np.float64, cond=1e8)
    assert dw.lstsq(A8, b).method == "qr"
    A_dep = np.column_stack([A, A[:, 0] - A[:, 1]])
    with pytest.warns(IllConditionedWarning, match="rank-deficient: the minimum-norm solution"):
        res = dw.lstsq(A_dep, b)
    assert res.method == "svd" and res.rank == 10
    np.testing.assert_allclose(res.x, np.linalg.lstsq(A_dep, b, rcond=None)[0], atol=1e-10)
    with pytest.warns(IllConditionedWarning, match=r"numerical rank 1 < 3"):
        assert dw.lstsq(np.ones((3, 5)), np.ones(3)).method == "svd"


@pytest.mark.parametrize("cond", [1e3, 1e6, 1e9])
def test_auto_is_as_accurate_as_the_svd(cond):
    rng = np.random.default_rng(3)
    A = well_conditioned(3, 500, 15, np.float64, cond=cond)
    x_true = rng.standard_normal(15)
    b = A @ x_true
    err = {m: np.linalg.norm(dw.lstsq(A, b, method=m).x - x_true) for m in ("auto", "svd")}
    assert err["auto"] <= 10 * err["svd"] + 1e-14


def test_ill_conditioned_warning_carries_the_condition_number():
    A = well_conditioned(1, 100, 8, np.float64, cond=1e12)
    with pytest.warns(IllConditionedWarning, match=r"condition number ≈ 1\.\d+e\+12"):
        res = dw.lstsq(A, np.ones(100), method="svd")
    assert 1e11 < res.cond < 1e13
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dw.lstsq(well_conditioned(1, 100, 8, np.float64, cond=1e3), np.ones(100))


@pytest.mark.parametrize("method", ["normal", "qr"])
def test_singular_system_raises_linalgerror_with_advice(method):
    A = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
    with pytest.raises(np.linalg.LinAlgError,
                       match=r"A \(shape \(3, 2\)\) is .*singular.*Use method='svd' or 'auto'"):
        dw.lstsq(A, [1.0, 2.0, 3.0], method=method)


def test_zero_matrix_and_edge_shapes():
    with pytest.warns(IllConditionedWarning, match="numerical rank 0 < 2"):
        x = dw.lstsq([[0.0, 0.0], [0.0, 0.0]], [1.0, 1.0], method="svd")
    assert np.all(x.x == 0) and x.rank == 0
    one = dw.lstsq([[2.0]], [4.0])
    assert one.x.shape == (1,) and one.x[0] == pytest.approx(2.0) and one.residual_norm == 0
    e1 = dw.lstsq(np.zeros((0, 3)), np.zeros(0))
    assert e1.x.shape == (3,) and e1.method == "empty" and e1.rank == 0
    e2 = dw.lstsq(np.zeros((4, 0)), np.ones(4))
    assert e2.x.shape == (0,) and e2.residual_norm == pytest.approx(2.0)
    e3 = dw.lstsq(np.ones((4, 2)), np.zeros((4, 0)))
    assert e3.x.shape == (2, 0)
    col = dw.lstsq(np.ones((4, 2)) + np.eye(4, 2), np.ones((4, 1)))
    assert col.x.shape == (2, 1) and col.residual_norm.shape == (1,)


def test_rcond_truncates_small_singular_values():
    A = np.diag([1.0, 1e-6])
    with pytest.warns(IllConditionedWarning):
        res = dw.lstsq(A, [1.0, 1.0], method="svd", rcond=1e-3)
        pinv = dw.lstsq(A, [1.0, 1.0], method="pinv", rcond=1e-3)
    assert res.rank == 1 and pinv.rank == 1
    np.testing.assert_allclose(res.x, [1.0, 0.0])
    np.testing.assert_allclose(pinv.x, [1.0, 0.0])


def test_integer_input_becomes_float64_and_lists_work():
    res = dw.lstsq([[1, 0], [0, 1], [1, 1]], [1, 2, 3])
    assert res.x.dtype == np.float64
    np.testing.assert_allclose(res.x, [1.0, 2.0])


@pytest.mark.parametrize("A, b, exc, match", [
    (np.ones((3, 2)), np.ones(4), ShapeError,
     r"A and b must have the same number of rows: A has shape \(3, 2\).*b has shape \(4,\)"),
    (np.ones((3, 2, 2)), np.ones(3), ShapeError, r"A must be a 2-D matrix, got 3-D array"),
    (np.ones(3), np.ones(3), ShapeError, r"A must be a 2-D matrix.*reshape\(-1, 1\)"),
    (np.ones((3, 2)), np.ones((3, 2, 1)), ShapeError, r"b must be a 1-D vector or a 2-D matrix"),
    ([[1.0, np.nan], [0.0, 1.0]], [1.0, 2.0], ValueError,
     r"A must contain only finite numbers, found nan at index \(0, 1\)"),
    ([[1.0, 0.0], [0.0, 1.0]], [np.inf, 2.0], ValueError, r"b must contain only finite numbers"),
    ([["a", "b"], ["c", "d"]], [1.0, 2.0], TypeError, r"A must contain numbers"),
    ([[1.0, 2.0], [3.0]], [1.0, 2.0], TypeError, r"A must be a rectangular array.*ragged"),
    (np.ones((2, 2), dtype=complex), np.ones(2), TypeError, r"A must be real-valued"),
])
def test_bad_input_is_named(A, b, exc, match):
    with pytest.raises(exc, match=match):
        dw.lstsq(A, b)


def test_bad_method_and_rcond():
    with pytest.raises(ValueError, match=r"method must be one of 'auto', 'normal'.*got 'lu'"):
        dw.lstsq(np.eye(2), np.ones(2), method="lu")
    with pytest.raises(ValueError, match=r"rcond must be in \[0, 1\), got 2.0"):
        dw.lstsq(np.eye(2), np.ones(2), rcond=2.0)
    with pytest.raises(TypeError, match=r"rcond must be a real number or None"):
        dw.lstsq(np.eye(2), np.ones(2), rcond="small")


def test_check_finite_false_skips_the_scan():
    res = dw.lstsq(np.eye(2), [1.0, 2.0], check_finite=False)
    np.testing.assert_allclose(res.x, [1.0, 2.0])


# ----------------------------------------------------------------- ridge
@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**16), st.integers(1, 8), st.integers(0, 10),
       st.floats(1e-3, 1e3), st.sampled_from([0, 2]))
def test_ridge_matches_sklearn_and_its_normal_equations(seed, n, extra, alpha, k):
    sklearn_linear = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(seed)
    m = n + extra
    A = rng.standard_normal((m, n))
    b = rng.standard_normal(m) if k == 0 else rng.standard_normal((m, k))
    x = dw.ridge(A, b, alpha)
    ref = sklearn_linear.Ridge(alpha=alpha, fit_intercept=False, solver="svd").fit(A, b).coef_.T
    np.testing.assert_allclose(x, ref, atol=1e-8 * max(1, np.abs(ref).max()))
    # (AᵀA + αI) x = Aᵀ b, checked without inverting anything
    lhs = A.T @ (A @ x) + alpha * x
    np.testing.assert_allclose(lhs, A.T @ b, atol=1e-8 * (1 + np.abs(A.T @ b).max()))


def test_ridge_alpha_per_column_zero_alpha_and_float32():
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((20, 4)), rng.standard_normal((20, 2))
    X = dw.ridge(A, B, alpha=[0.5, 5.0])
    np.testing.assert_allclose(X[:, 0], dw.ridge(A, B[:, 0], 0.5))
    np.testing.assert_allclose(X[:, 1], dw.ridge(A, B[:, 1], 5.0))
    np.testing.assert_allclose(dw.ridge(A, B, 0.0), np.linalg.lstsq(A, B, rcond=None)[0],
                               atol=1e-12)
    A_dep = np.column_stack([A, A[:, 0]])
    np.testing.assert_allclose(dw.ridge(A_dep, B[:, 0], 0.0),
                               np.linalg.lstsq(A_dep, B[:, 0], rcond=None)[0], atol=1e-10)
    assert dw.ridge(A.astype(np.float32), B[:, 0].astype(np.float32), 1.0).dtype == np.float32
    assert dw.ridge(np.zeros((0, 3)), np.zeros(0), 1.0).shape == (3,)


def test_ridge_bad_input():
    with pytest.raises(ValueError, match=r"alpha must be >= 0, got -1.0"):
        dw.ridge(np.eye(2), np.ones(2), alpha=-1.0)
    with pytest.raises(ShapeError, match=r"alpha must be a scalar or have one value per column"):
        dw.ridge(np.eye(2), np.ones((2, 2)), alpha=[1.0, 2.0, 3.0])
    with pytest.raises(ShapeError, match=r"A and b must have the same number of rows"):
        dw.ridge(np.eye(2), np.ones(3))
    with pytest.raises(ValueError, match=r"A must contain only finite numbers"):
        dw.ridge([[np.nan]], [1.0])


@pytest.mark.parametrize("cond", [1e2, 1e6, 1e10])
@pytest.mark.parametrize("alpha", [1e-12, 1e-6, 1.0])
@pytest.mark.parametrize("m", [30, 400])  # square-ish (thin SVD) and tall (QR first)
def test_ridge_equals_the_augmented_least_squares_problem_at_any_conditioning(cond, alpha, m):
    # min ‖Ax − b‖² + α‖x‖² is the least-squares problem of [A; √α I] against [b; 0];
    # whichever path ridge takes (Cholesky, QR + SVD of R, SVD), the answers agree.
    rng = np.random.default_rng(7)
    n = 20
    A = dw.linalg.random_with_condition(m, n, cond, random_state=rng)
    b = rng.standard_normal(m)
    aug = np.vstack([A, np.sqrt(alpha) * np.eye(n)])
    ref = scipy.linalg.lstsq(aug, np.r_[b, np.zeros(n)], lapack_driver="gelsd")[0]
    x = dw.ridge(A, b, alpha)
    assert np.linalg.norm(x - ref) <= 1e-8 * np.linalg.norm(ref)


# ---------------------------------------------------------------- the compiled sweeps
def _compiled_loops():
    from dotwise import _loops

    if _loops.LIB is None:
        pytest.skip("the compiled loops (dotwise._dwloops) are not built, or DOTWISE_PURE_NUMPY=1")
    return _loops


@pytest.mark.parametrize("threads", ["1", "2"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m, n, k", [(1, 1, 1), (63, 5, 1), (1000, 50, 1), (777, 20, 3),
                                     (300, 250, 6)])
def test_gram_and_refine_sweeps_match_numpy(monkeypatch, threads, dtype, m, n, k):
    loops = _compiled_loops()
    monkeypatch.setenv("DOTWISE_NUM_THREADS", threads)
    rng = np.random.default_rng(m + n + k)
    wide = rng.standard_normal((m, n + 7)).astype(dtype)
    A = wide[:, 2:n + 2]                                   # rows with a leading dimension > n
    B = rng.standard_normal((m, k)).astype(dtype)
    assert loops.gram_supported(A, B)
    Z = np.hstack([A, B]).astype(np.float64)
    G = loops.gram_aug(A, B)
    assert G.dtype == np.float64 and G.shape == (n + k, n + k)
    np.testing.assert_allclose(G, G.T, rtol=0, atol=0)     # exactly symmetric
    np.testing.assert_allclose(G, Z.T @ Z, rtol=1e-12, atol=1e-12 * np.abs(Z.T @ Z).max())
    X = rng.standard_normal((n, k))
    g, ss = loops.refine(A, B, X)
    R = B.astype(np.float64) - A.astype(np.float64) @ X
    np.testing.assert_allclose(g, A.astype(np.float64).T @ R, rtol=1e-11,
                               atol=1e-11 * np.abs(R).max() * np.abs(A).max() * m)
    np.testing.assert_allclose(ss, (R * R).sum(axis=0), rtol=1e-11)


def test_gram_sweep_refuses_what_it_cannot_take():
    loops = _compiled_loops()
    A = np.ones((10, 250))
    assert not loops.gram_supported(A, np.ones((10, 7)))             # 257 columns
    assert not loops.gram_supported(A, np.ones((10, 1), np.float32))  # mixed dtypes
    assert not loops.gram_supported(np.asfortranarray(A), np.ones((10, 1)))
    assert not loops.gram_supported(A.astype(np.int64), np.ones((10, 1), np.int64))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", [0, 2])
def test_normal_equations_give_the_same_answer_with_and_without_the_sweeps(monkeypatch, dtype, k):
    _compiled_loops()
    from dotwise import _loops

    rng = np.random.default_rng(3)
    m, n = 5000, 40
    cond = 5.0 if dtype == np.float32 else 50.0   # 'normal' in float32 needs κ² ≤ 1/rcond
    A = dw.linalg.random_with_condition(m, n, cond, random_state=rng, dtype=dtype)
    b = (rng.standard_normal(m) if k == 0 else rng.standard_normal((m, k))).astype(dtype)
    fused = {meth: dw.lstsq(A, b, method=meth) for meth in ("auto", "normal")}
    assert fused["auto"].method == "normal"
    monkeypatch.setattr(_loops, "gram_supported", lambda *a: False)   # the BLAS products
    tol = 1e-4 if dtype == np.float32 else 1e-11
    for meth, res in fused.items():
        ref = dw.lstsq(A, b, method=meth)
        np.testing.assert_allclose(res.x, ref.x, rtol=tol, atol=tol)
        np.testing.assert_allclose(res.residual_norm, ref.residual_norm, rtol=tol)
        assert res.cond == pytest.approx(ref.cond, rel=1e-2 if dtype == np.float32 else 1e-8)
        if k:
            assert res.residual_norm.dtype == dtype


def test_residual_norm_from_the_sweeps_is_the_residual_of_the_returned_x():
    _compiled_loops()
    rng = np.random.default_rng(11)
    m, n = 20_000, 30
    A = dw.linalg.random_with_condition(m, n, 1e4, random_state=rng)   # refinement matters
    x_true = rng.standard_normal(n)
    for noise in (1.0, 1e-6, 0.0):                    # inconsistent … exactly consistent
        b = A @ x_true + noise * rng.standard_normal(m)
        res = dw.lstsq(A, b)
        assert res.method == "normal"
        direct = float(np.linalg.norm(b - A @ res.x))
        assert res.residual_norm == pytest.approx(direct, rel=1e-6, abs=1e-12 * np.linalg.norm(b))


@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_entries_of_extreme_magnitude_skip_the_sweep_result_and_rescale(scale):
    rng = np.random.default_rng(5)
    A = rng.standard_normal((500, 8))
    b = rng.standard_normal(500)
    ref = dw.lstsq(A, b)
    res = dw.lstsq(A * scale, b * scale)
    np.testing.assert_allclose(res.x, ref.x, rtol=1e-10)
    assert res.residual_norm == pytest.approx(ref.residual_norm * scale, rel=1e-10)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gram_sweep_centres_rows_when_given_a_mean(dtype):
    loops = _compiled_loops()
    rng = np.random.default_rng(2)
    X = (rng.standard_normal((3001, 37)) * 3 + 100).astype(dtype)   # far from the origin
    mean = X.astype(np.float64).mean(axis=0)
    Xc = X.astype(np.float64) - mean
    ref = Xc.T @ Xc
    assert loops.gram_supported(X)
    np.testing.assert_allclose(loops.gram_aug(X, mean=mean), ref, rtol=1e-10,
                               atol=1e-10 * np.abs(ref).max())


# ---------------------------------------------------------------- the tall-skinny QR
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", [1, 3])
def test_blocked_qr_of_a_tall_matrix_matches_lapack_on_the_whole(dtype, k):
    import importlib

    lstsq_mod = importlib.import_module("dotwise.linalg.lstsq")
    rng = np.random.default_rng(4)
    m, n = 4 * lstsq_mod._TSQR_ROWS + 123, 17                  # blocks and a ragged last one
    A = dw.linalg.random_with_condition(m, n, 1e3, random_state=rng, dtype=dtype)
    b2 = rng.standard_normal((m, k)).astype(dtype)
    R, qtb = lstsq_mod._tsqr(A, b2)
    R_ref, qtb_ref = lstsq_mod._householder(np.asfortranarray(A), b2)   # one geqrf
    signs = np.sign(np.diag(R)) * np.sign(np.diag(R_ref))             # rows may flip sign
    tol = 1e-3 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(R * signs[:, None], R_ref, rtol=tol, atol=tol * np.abs(R_ref).max())
    np.testing.assert_allclose(qtb * signs[:, None], qtb_ref, rtol=tol,
                               atol=tol * np.abs(qtb_ref).max())
    np.testing.assert_allclose(R.T @ R, (A.T @ A).astype(np.float64), rtol=10 * tol,
                               atol=10 * tol * float(np.abs(A.T @ A).max()))


def test_tall_ill_conditioned_and_rank_deficient_problems_take_the_blocked_qr():
    rng = np.random.default_rng(8)
    m, n = 70_000, 12
    A = dw.linalg.random_with_condition(m, n, 1e10, random_state=rng)
    b = rng.standard_normal(m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IllConditionedWarning)
        res = dw.lstsq(A, b)
        A_dep = np.column_stack([A[:, :6], A[:, :6] @ rng.standard_normal((6, 2))])
        dep = dw.lstsq(np.ascontiguousarray(A_dep), b)
    assert res.method in ("qr", "svd")
    ref = scipy.linalg.lstsq(A, b, lapack_driver="gelsd")[0]
    assert np.linalg.norm(res.x - ref) <= 1e-5 * np.linalg.norm(ref)
    assert dep.method == "svd" and dep.rank == 6
    ref_dep = scipy.linalg.lstsq(A_dep, b, lapack_driver="gelsd")[0]       # minimum norm
    np.testing.assert_allclose(dep.x, ref_dep, rtol=1e-6, atol=1e-8)
    x = dw.ridge(A, b, alpha=1e-12)                      # tall: QR first, then the SVD of R
    aug = np.vstack([A, np.sqrt(1e-12) * np.eye(n)])
    ref_r = scipy.linalg.lstsq(aug, np.r_[b, np.zeros(n)], lapack_driver="gelsd")[0]
    assert np.linalg.norm(x - ref_r) <= 1e-6 * np.linalg.norm(ref_r)


def test_a_tiny_right_hand_side_is_rescaled_not_lost():
    rng = np.random.default_rng(0)
    A, b = rng.standard_normal((30, 3)), rng.standard_normal(30)
    ref = dw.lstsq(A, b)
    res = dw.lstsq(A, b * 1e-163)                        # ‖b‖² underflows to 0
    np.testing.assert_allclose(res.x * 1e163, ref.x, rtol=1e-10)
    assert res.residual_norm * 1e163 == pytest.approx(ref.residual_norm, rel=1e-10)
