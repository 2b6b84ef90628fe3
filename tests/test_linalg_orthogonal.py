"""Gram–Schmidt (three ways), Householder QR and orthogonality loss: identities, oracles, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import dotwise as dw
from dotwise import ShapeError

GS = ("classical", "modified", "reorthogonalized")
DTYPES = (np.float32, np.float64)
finite = st.floats(-100, 100, allow_nan=False, allow_infinity=False, width=32)


def eps(dtype) -> float:
    return float(np.finfo(dtype).eps)


def graded(n: int, cond: float, seed: int = 0, m: int | None = None) -> np.ndarray:
    return dw.linalg.random_with_condition(m or 2 * n, n, cond, random_state=seed)


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(DTYPES).flatmap(
    lambda dt: arrays(dt, st.tuples(st.integers(0, 9), st.integers(0, 9)), elements=finite)),
    st.sampled_from(["reduced", "complete"]))
def test_householder_qr_is_a_qr_factorization(A, mode):
    m, n = A.shape
    Q, R = dw.householder_qr(A, mode=mode, block_size=3)
    p = min(m, n)
    q_cols = m if mode == "complete" else p
    assert Q.shape == (m, q_cols) and R.shape == (q_cols, n)
    assert Q.dtype == A.dtype and R.dtype == A.dtype
    assert not np.isnan(Q).any() and not np.isnan(R).any()
    e = eps(A.dtype)
    assert dw.orthogonality_loss(Q) <= 50 * max(m, 1) * e  # QᵀQ = I
    np.testing.assert_array_equal(R, np.triu(R))            # R upper triangular
    assert np.all(np.diag(R[:p, :p]) >= 0)
    scale = max(1.0, float(np.abs(A).max())) if A.size else 1.0
    if A.size:
        np.testing.assert_allclose(Q @ R, A, atol=50 * max(m, n) * e * scale * max(n, 1))
    if A.size and np.linalg.matrix_rank(A[:, :p].astype(np.float64)) == p:
        # R is unique up to row signs when the leading p columns are independent
        R_np = np.linalg.qr(A.astype(np.float64), mode=mode)[1]
        np.testing.assert_allclose(np.abs(R), np.abs(R_np),
                                   atol=100 * max(m, n) * e * scale * max(n, 1))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**16), st.integers(1, 10), st.integers(0, 10), st.sampled_from(DTYPES),
       st.sampled_from(GS))
def test_gram_schmidt_on_well_conditioned_columns(seed, n, extra, dtype, method):
    V = graded(n, 10.0, seed, m=n + extra).astype(dtype)
    Q, R = dw.gram_schmidt(V, method)
    assert Q.shape == V.shape and R.shape == (n, n) and Q.dtype == dtype
    e = eps(dtype)
    assert dw.orthogonality_loss(Q) <= 1000 * n * e
    np.testing.assert_array_equal(R, np.triu(R))
    assert np.all(np.diag(R) > 0)
    np.testing.assert_allclose(Q @ R, V, atol=100 * n * e)
    # Householder with a non-negative diagonal gives the same factors
    Qh, Rh = dw.householder_qr(V)
    np.testing.assert_allclose(R, Rh, atol=1000 * n * e)
    np.testing.assert_allclose(Q, Qh, atol=1000 * n * e * 10)


def test_loss_of_orthogonality_orders_the_methods_as_theory_says():
    A = graded(30, 1e10)
    loss = {m: dw.orthogonality_loss(dw.gram_schmidt(A, m)[0]) for m in GS}
    loss["householder"] = dw.orthogonality_loss(dw.householder_qr(A)[0])
    e = eps(np.float64)
    assert loss["classical"] > 1e-3                   # ε·κ² ≫ 1: orthogonality gone
    assert 1e3 * e < loss["modified"] < 1e3 * e * 1e10  # ~ ε·κ
    assert loss["reorthogonalized"] < 100 * e
    assert loss["householder"] < 100 * e


def test_one_dimensional_input_and_empty_shapes():
    Q, R = dw.gram_schmidt([3.0, 4.0])
    np.testing.assert_allclose(Q[:, 0], [0.6, 0.8])
    np.testing.assert_allclose(R, [[5.0]])
    Q, R = dw.gram_schmidt(np.zeros((3, 0)))
    assert Q.shape == (3, 0) and R.shape == (0, 0)
    Q, R = dw.gram_schmidt([[2.0]])
    assert Q[0, 0] == 1.0 and R[0, 0] == 2.0
    assert dw.orthogonality_loss(np.zeros((4, 0))) == 0.0


@pytest.mark.parametrize("method", GS)
def test_dependent_column_is_named_never_nan(method):
    V = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [0.0, 0.0, 0.0]])  # col 2 = col 0 + col 1
    with pytest.raises(np.linalg.LinAlgError,
                       match=r"column 2 of V is linearly dependent on columns 0\.\.1.*"
                             r"on_dependent='drop'"):
        dw.gram_schmidt(V, method)
    Q, R = dw.gram_schmidt(V, method, on_dependent="drop")
    assert Q.shape == (3, 2) and R.shape == (2, 3)
    assert np.isfinite(Q).all() and np.isfinite(R).all()
    np.testing.assert_allclose(Q @ R, V, atol=1e-14)
    assert dw.orthogonality_loss(Q) < 1e-14


@pytest.mark.parametrize("method", GS)
def test_zero_column_and_too_many_columns(method):
    with pytest.raises(np.linalg.LinAlgError, match=r"column 0 of V is a zero vector"):
        dw.gram_schmidt([[0.0, 1.0], [0.0, 2.0]], method)
    rng = np.random.default_rng(0)
    with pytest.raises(np.linalg.LinAlgError, match=r"column 3 of V is linearly dependent"):
        dw.gram_schmidt(rng.standard_normal((3, 5)), method)
    Q, R = dw.gram_schmidt(rng.standard_normal((3, 5)), method, on_dependent="drop")
    assert Q.shape == (3, 3) and R.shape == (3, 5)


def test_orthogonality_loss_values_and_norms():
    assert dw.orthogonality_loss(np.eye(3)) == 0.0
    Q = np.array([[1.0, 1.0], [0.0, 1.0]])  # QᵀQ − I = [[0, 1], [1, 1]]
    assert dw.orthogonality_loss(Q) == pytest.approx((1 + 5 ** 0.5) / 2)
    assert dw.orthogonality_loss(Q, norm="fro") == pytest.approx(3 ** 0.5)
    with pytest.raises(ValueError, match=r"norm must be 2 or 'fro', got 1"):
        dw.orthogonality_loss(Q, norm=1)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: dw.gram_schmidt(np.ones((2, 2, 2))), ShapeError,
     r"V must be a 1-D vector or a 2-D matrix, got 3-D"),
    (lambda: dw.gram_schmidt([[1.0, np.nan]]), ValueError, r"V must contain only finite numbers"),
    (lambda: dw.gram_schmidt(np.eye(2), "householder"), ValueError,
     r"method must be one of 'classical', 'modified', 'reorthogonalized'; got 'householder'"),
    (lambda: dw.gram_schmidt(np.eye(2), on_dependent="ignore"), ValueError,
     r"on_dependent must be one of 'raise', 'drop'"),
    (lambda: dw.gram_schmidt([["x"]]), TypeError, r"V must contain numbers"),
    (lambda: dw.householder_qr(np.ones(3)), ShapeError, r"A must be a 2-D matrix"),
    (lambda: dw.householder_qr(np.eye(2), mode="economic"), ValueError,
     r"mode must be one of 'reduced', 'complete'"),
    (lambda: dw.householder_qr(np.eye(2), block_size=0), ValueError,
     r"block_size must be a positive integer, got 0"),
    (lambda: dw.householder_qr([[np.inf]]), ValueError, r"A must contain only finite numbers"),
    (lambda: dw.orthogonality_loss([1.0, 0.0]), ShapeError, r"Q must be a 2-D matrix"),
])
def test_bad_input_is_named(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_householder_blocking_does_not_change_the_answer():
    A = np.random.default_rng(5).standard_normal((70, 45))
    Q1, R1 = dw.householder_qr(A, block_size=1)
    Q2, R2 = dw.householder_qr(A, block_size=16)
    np.testing.assert_allclose(Q1, Q2, atol=1e-13)
    np.testing.assert_allclose(R1, R2, atol=1e-13)
