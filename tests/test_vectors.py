"""Vector primitives: identities, NumPy/SciPy oracles, broadcasting, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.spatial.distance as ssd
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import dotwise as dw
from dotwise import ShapeError

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


def vec_pair(d_min=1, d_max=12):
    return st.integers(d_min, d_max).flatmap(
        lambda d: st.tuples(arrays(np.float64, d, elements=finite),
                            arrays(np.float64, d, elements=finite)))


@given(vec_pair())
def test_dot_matches_numpy(pair):
    u, v = pair
    np.testing.assert_allclose(dw.dot(u, v), np.dot(u, v), rtol=1e-12, atol=1e-9)


@given(vec_pair())
@settings(max_examples=60)
def test_cosine_and_angle_match_scipy(pair):
    u, v = pair
    if np.linalg.norm(u) < 1e-6 or np.linalg.norm(v) < 1e-6:
        return
    cos = dw.cosine_similarity(u, v)
    np.testing.assert_allclose(cos, 1 - ssd.cosine(u, v), atol=1e-9)
    assert -1.0 <= cos <= 1.0
    np.testing.assert_allclose(np.cos(dw.angle(u, v)), cos, atol=1e-9)


@given(vec_pair())
@settings(max_examples=60)
def test_projection_splits_u_into_parallel_and_orthogonal_parts(pair):
    u, v = pair
    if np.linalg.norm(v) < 1e-3:
        return
    p = dw.vector_projection(u, v)
    r = u - p
    assert abs(np.dot(r, v)) <= 1e-8 * (np.linalg.norm(u) * np.linalg.norm(v) + 1)
    # p is parallel to v, its signed length is the scalar projection
    np.testing.assert_allclose(np.dot(p, v / np.linalg.norm(v)), dw.scalar_projection(u, v),
                               rtol=1e-9, atol=1e-9)
    # projecting twice changes nothing (P² = P)
    np.testing.assert_allclose(dw.vector_projection(p, v), p, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(dtype):
    u = np.array([1, 2, 3], dtype=dtype)
    assert dw.normalize(u).dtype == dtype
    assert dw.dot(u, u).dtype == dtype
    assert dw.cosine_matrix(u[None, :]).dtype == dtype


def test_integers_become_float64():
    assert dw.normalize([3, 4]).dtype == np.float64


def test_broadcasting_over_leading_axes(rng):
    U = rng.standard_normal((4, 5, 3))
    v = rng.standard_normal(3)
    out = dw.cosine_similarity(U, v)
    assert out.shape == (4, 5)
    np.testing.assert_allclose(out[2, 3], 1 - ssd.cosine(U[2, 3], v))
    assert dw.vector_projection(U, v).shape == (4, 5, 3)
    np.testing.assert_allclose(dw.norm(U), np.linalg.norm(U, axis=-1))


def test_cosine_matrix_matches_sklearn(rng):
    from sklearn.metrics.pairwise import cosine_similarity as sk_cos

    U, V = rng.standard_normal((7, 5)), rng.standard_normal((3, 5))
    np.testing.assert_allclose(dw.cosine_matrix(U, V), sk_cos(U, V), atol=1e-12)
    G = dw.cosine_matrix(U)
    np.testing.assert_allclose(G, G.T)
    np.testing.assert_array_equal(np.diag(G), 1.0)


def test_angle_is_accurate_for_nearly_parallel_vectors():
    u = np.array([1.0, 0.0])
    v = np.array([1.0, 1e-9])
    # arccos(cos) would return 0 (cos rounds to 1); the true angle is 1e-9
    np.testing.assert_allclose(dw.angle(u, v), 1e-9, rtol=1e-6)
    assert float(dw.angle([1, 0], [-1, 0], degrees=True)) == pytest.approx(180.0)


def test_normalize_huge_values_does_not_overflow():
    x = np.array([1e200, 1e200])
    np.testing.assert_allclose(dw.normalize(x), [2**-0.5, 2**-0.5])


@pytest.mark.parametrize("func", [dw.cosine_similarity, dw.angle])
def test_zero_vector_is_a_clear_error(func):
    with pytest.raises(ValueError, match=r"v is a zero vector.*undefined for zero vectors"):
        func([1.0, 2.0], [0.0, 0.0])


def test_normalize_zero_row_names_the_batch_index():
    with pytest.raises(ValueError, match=r"x is a zero vector \(at batch index \(1,\)\)"):
        dw.normalize([[1.0, 0.0], [0.0, 0.0]])


def test_cosine_matrix_zero_row():
    with pytest.raises(ValueError, match="U has a zero row at index 1"):
        dw.cosine_matrix([[1.0, 0.0], [0.0, 0.0]])


def test_mismatched_lengths_show_both_shapes():
    with pytest.raises(ShapeError, match=r"u has shape \(3,\), v has shape \(2,\)"):
        dw.dot([1, 2, 3], [1, 2])
    with pytest.raises(ShapeError, match=r"U has shape \(2, 3\), V has shape \(2, 2\)"):
        dw.cosine_matrix(np.ones((2, 3)), np.ones((2, 2)))


def test_nan_is_rejected_with_its_position():
    with pytest.raises(ValueError, match=r"u must contain only finite numbers, found nan at index 1"):
        dw.dot([1.0, np.nan], [1.0, 2.0])
    assert np.isnan(dw.dot([1.0, np.nan], [1.0, 2.0], check_finite=False))


def test_non_numeric_and_ragged_input():
    with pytest.raises(TypeError, match="u must contain numbers"):
        dw.dot(["a", "b"], [1, 2])
    with pytest.raises(TypeError, match="ragged"):
        dw.norm([[1, 2], [3]])


def test_empty_and_scalar_input():
    with pytest.raises(ShapeError, match=r"x must not be empty, got shape \(0,\)"):
        dw.norm([])
    with pytest.raises(ShapeError, match="at least 1 dimension"):
        dw.norm(3.0)
    with pytest.raises(ShapeError, match="U must be a 2-D matrix, got 3-D"):
        dw.cosine_matrix(np.ones((2, 2, 2)))
