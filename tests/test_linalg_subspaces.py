"""Projections onto subspaces: P² = P, Pᵀ = P, residual ⟂ col(A), rank-deficient A, errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dotwise as dw
from dotwise import ShapeError

DTYPES = (np.float32, np.float64)


def columns(seed: int, m: int, n: int, n_dependent: int, dtype) -> np.ndarray:
    """m×(n + n_dependent): n random columns plus combinations of them."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n))
    extra = A @ rng.standard_normal((n, n_dependent))
    return np.column_stack([A, extra]).astype(dtype)


subspace = st.tuples(st.integers(0, 2**16), st.integers(1, 12), st.integers(1, 6),
                     st.integers(0, 3), st.sampled_from(DTYPES))


@settings(max_examples=60, deadline=None)
@given(subspace)
def test_projection_matrix_properties(problem):
    seed, m, n, dep, dtype = problem
    n = min(n, m)
    A = columns(seed, m, n, dep, dtype)
    P = dw.projection_matrix(A)
    e = float(np.finfo(dtype).eps)
    tol = 100 * m * e
    assert P.shape == (m, m) and P.dtype == dtype
    np.testing.assert_allclose(P @ P, P, atol=tol)          # idempotent
    np.testing.assert_allclose(P, P.T, atol=tol)            # symmetric
    np.testing.assert_allclose(P @ A, A, atol=tol * max(1, np.abs(A).max()) * 10)
    assert np.trace(P) == pytest.approx(n, abs=tol)         # trace = rank, not column count
    # the oracle: A A⁺ with NumPy's pseudo-inverse, at the same relative rank tolerance
    A64 = A.astype(np.float64)
    pinv = np.linalg.pinv(A64, rtol=e * max(A.shape))
    np.testing.assert_allclose(P, A64 @ pinv, atol=1e4 * e)
    C = dw.complement_projection(A)
    np.testing.assert_allclose(C @ A, 0, atol=tol * max(1, np.abs(A).max()) * 10)
    np.testing.assert_allclose(P + C, np.eye(m), atol=tol)
    rep = dw.check_projection(P)
    assert rep.is_orthogonal_projection, str(rep)
    assert rep.rank == n


@settings(max_examples=60, deadline=None)
@given(subspace, st.sampled_from([0, 2]))
def test_project_leaves_a_residual_orthogonal_to_the_columns(problem, k):
    seed, m, n, dep, dtype = problem
    n = min(n, m)
    A = columns(seed, m, n, dep, dtype)
    rng = np.random.default_rng(seed + 7)
    b = (rng.standard_normal(m) if k == 0 else rng.standard_normal((m, k))).astype(dtype)
    p = dw.project(b, A)
    assert p.shape == b.shape and p.dtype == dtype
    e = float(np.finfo(dtype).eps)
    r = b - p
    assert np.abs(A.T @ r).max() <= 1000 * m * e * np.abs(A).max() * (np.abs(b).max() + 1)
    np.testing.assert_allclose(p, dw.projection_matrix(A) @ b, atol=100 * m * e)
    np.testing.assert_allclose(dw.project(p, A), p, atol=100 * m * e)  # projecting twice


def test_projection_onto_a_plane_and_a_line():
    A = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    np.testing.assert_allclose(dw.project([1.0, 2.0, 3.0], A), [1.0, 2.0, 0.0])
    np.testing.assert_allclose(dw.project([3.0, 4.0], [1.0, 0.0]),  # 1-D A is one column
                               dw.vector_projection([3.0, 4.0], [1.0, 0.0]))
    assert dw.project(np.ones(3), np.zeros((3, 0))).tolist() == [0.0, 0.0, 0.0]
    np.testing.assert_allclose(dw.projection_matrix(np.zeros((3, 2))), np.zeros((3, 3)))


def test_rcond_decides_what_counts_as_dependent():
    A = np.array([[1.0, 1.0], [0.0, 1e-9], [0.0, 0.0]])
    assert np.trace(dw.projection_matrix(A)) == pytest.approx(2.0)
    assert np.trace(dw.projection_matrix(A, rcond=1e-6)) == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"rcond must be in \[0, 1\), got -1.0"):
        dw.projection_matrix(A, rcond=-1)


def test_check_projection_reports_oblique_and_non_projections():
    oblique = dw.check_projection([[1.0, 1.0], [0.0, 0.0]])
    assert oblique.idempotent and not oblique.symmetric and oblique.is_projection
    assert not oblique.is_orthogonal_projection
    assert oblique.symmetry_error == pytest.approx(2 ** 0.5)
    text = str(oblique)
    assert "oblique" in text and "✗ symmetric" in text and "✓ idempotent" in text
    bad = dw.check_projection([[1.0, 2.0], [3.0, 4.0]])
    assert not any([bad.idempotent, bad.symmetric, bad.eigenvalues_01, bad.trace_equals_rank])
    assert "not a projection" in str(bad)
    assert bad.trace == 5.0 and bad.rank == 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        bad.rank = 1
    empty = dw.check_projection(np.zeros((0, 0)))
    assert empty.is_orthogonal_projection
    assert dw.check_projection(np.eye(3, dtype=np.float32)).is_orthogonal_projection


@pytest.mark.parametrize("call, exc, match", [
    (lambda: dw.check_projection(np.ones((2, 3))), ShapeError,
     r"P must be a square matrix, got shape \(2, 3\)"),
    (lambda: dw.check_projection([[np.nan]]), ValueError, r"P must contain only finite"),
    (lambda: dw.check_projection(np.eye(2), tol=-1.0), ValueError, r"tol must be a number >= 0"),
    (lambda: dw.project(np.ones(4), np.ones((3, 2))), ShapeError,
     r"b and A must have the same number of rows: b has shape \(4,\), A has shape \(3, 2\)"),
    (lambda: dw.project(np.ones(3), np.ones((3, 2, 1))), ShapeError,
     r"A must be a 1-D vector or a 2-D matrix, got 3-D"),
    (lambda: dw.projection_matrix([["a"]]), TypeError, r"A must contain numbers"),
    (lambda: dw.projection_matrix([[1.0], [2.0, 3.0]]), TypeError, r"ragged"),
    (lambda: dw.complement_projection([[np.inf]]), ValueError, r"A must contain only finite"),
])
def test_bad_input_is_named(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
