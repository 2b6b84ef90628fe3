"""Extreme but finite magnitudes, empty inputs and saved-file permissions (issues 13, 14).

Scale-invariant answers (cosine, angle, projections, QR, Gram–Schmidt, least squares,
the symmetry/definiteness of a matrix) must not change when the input is multiplied by
1e-300 … 1e300; answers that cannot be represented raise ``FloatRangeError`` instead of
coming back as NaN.
"""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dotwise as dw
from dotwise import FloatRangeError
from dotwise._io import atomic_dir, save_json, save_npy

#: decades from 1e-300 to 1e300, the range the issue asks to pin
EXPONENTS = st.integers(min_value=-300, max_value=300)


def _well_conditioned(seed: int, m: int, n: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((m, n))


@settings(max_examples=60, deadline=None)
@given(e1=EXPONENTS, e2=EXPONENTS, seed=st.integers(0, 2**16))
def test_vector_costumes_do_not_depend_on_magnitude(e1, e2, seed):
    rng = np.random.default_rng(seed)
    u, v = rng.standard_normal(5), rng.standard_normal(5)
    su, sv = 10.0 ** e1, 10.0 ** e2
    assert dw.cosine_similarity(u * su, v * sv) == pytest.approx(
        float(dw.cosine_similarity(u, v)), abs=1e-12)
    assert dw.angle(u * su, v * sv) == pytest.approx(float(dw.angle(u, v)), abs=1e-12)
    # comp_v u is linear in u and independent of |v|
    assert dw.scalar_projection(u * su, v * sv) / su == pytest.approx(
        float(dw.scalar_projection(u, v)), rel=1e-12, abs=1e-12)
    proj = dw.vector_projection(u * su, v * sv) / su
    np.testing.assert_allclose(proj, dw.vector_projection(u, v), rtol=1e-11, atol=1e-12)


def test_cosine_of_huge_vectors_is_the_cosine():
    # the case: it was NaN (inf / inf)
    assert float(dw.cosine_similarity([1e200, 1e200], [1e200, 0])) == pytest.approx(
        np.sqrt(0.5), abs=1e-15)


@settings(max_examples=40, deadline=None)
@given(e=EXPONENTS, seed=st.integers(0, 2**16),
       method=st.sampled_from(["classical", "modified", "reorthogonalized", "householder"]))
def test_qr_at_any_magnitude(e, seed, method):
    A = _well_conditioned(seed, 7, 4)
    s = 10.0 ** e
    if method == "householder":
        Q, R = dw.householder_qr(A * s)
        Q0, R0 = dw.householder_qr(A)
    else:
        Q, R = dw.gram_schmidt(A * s, method=method)
        Q0, R0 = dw.gram_schmidt(A, method=method)
    assert np.all(np.isfinite(Q)) and np.all(np.isfinite(R))
    np.testing.assert_allclose(Q, Q0, atol=1e-12)
    np.testing.assert_allclose(R / s, R0, rtol=1e-12, atol=1e-12)
    assert dw.orthogonality_loss(Q) < 1e-13


def test_qr_whose_r_overflows_raises():
    A = np.full((4, 2), 1.5e308)
    A[:, 1] *= -0.5
    with pytest.raises(FloatRangeError, match="R overflows"):
        dw.householder_qr(A)


@settings(max_examples=40, deadline=None)
@given(ea=EXPONENTS, eb=EXPONENTS, seed=st.integers(0, 2**16),
       method=st.sampled_from(["auto", "normal", "qr", "svd", "pinv"]))
def test_lstsq_at_any_magnitude(ea, eb, seed, method):
    rng = np.random.default_rng(seed)
    A, b = rng.standard_normal((30, 3)), rng.standard_normal(30)
    sa, sb = 10.0 ** ea, 10.0 ** eb
    ref = dw.lstsq(A, b, method=method)
    x_true_scale = sb / sa
    if not np.isfinite(x_true_scale) or x_true_scale == 0 \
            or not np.all(np.isfinite(ref.x * x_true_scale)) \
            or np.any(np.abs(ref.x * x_true_scale) < np.finfo(float).tiny / np.finfo(float).eps):
        return  # the solution itself is not representable (tested separately)
    res = dw.lstsq(A * sa, b * sb, method=method)
    np.testing.assert_allclose(res.x / x_true_scale, ref.x, rtol=1e-10, atol=1e-12)
    assert res.residual_norm / sb == pytest.approx(ref.residual_norm, rel=1e-10)
    assert res.rank == ref.rank


def test_lstsq_when_the_ratio_of_the_scales_is_beyond_the_range():
    # b ~ 1e188 and A ~ 1e-120: x ~ 1e306 is representable, the ratio 2^625 / 2^-399 is not
    rng = np.random.default_rng(869)
    A, b = rng.standard_normal((30, 3)), rng.standard_normal(30)
    res = dw.lstsq(A * 1e-120, b * 1e188)
    np.testing.assert_allclose(res.x / 1e308, dw.lstsq(A, b).x, rtol=1e-10)


def test_lstsq_normal_at_1e155_is_not_nan():
    # the case: AᵀA overflowed to inf and x came back NaN
    rng = np.random.default_rng(1)
    A, b = rng.standard_normal((40, 3)), rng.standard_normal(40)
    res = dw.lstsq(A * 1e155, b, method="normal")
    np.testing.assert_allclose(res.x * 1e155, dw.lstsq(A, b).x, rtol=1e-10)


def test_lstsq_solution_that_overflows_raises():
    A = np.eye(2) * 1e-300
    b = np.array([1e300, 1.0])
    with pytest.raises(FloatRangeError, match="overflows"):
        dw.lstsq(A, b, method="qr")


@pytest.mark.parametrize("seed", range(10))
def test_lstsq_normal_refuses_exact_rank_deficiency(seed):
    # issue 13: with e = a + b, method="normal" reported "rank 5 of 5" and a wrong x
    rng = np.random.default_rng(seed)
    A4 = rng.standard_normal((1000, 4))
    A = np.column_stack([A4, A4[:, 0] + A4[:, 1]])
    b = rng.standard_normal(1000)
    with pytest.raises(np.linalg.LinAlgError, match="singular"):
        dw.lstsq(A, b, method="normal")
    # the honest alternative still works and reports the deficiency
    with pytest.warns(dw.IllConditionedWarning):
        assert dw.lstsq(A, b, method="svd").rank == 4


def test_lstsq_normal_still_solves_moderately_conditioned_problems():
    rng = np.random.default_rng(3)
    U, _ = np.linalg.qr(rng.standard_normal((500, 4)))
    A = U * np.array([1.0, 1e-1, 1e-2, 1e-4])
    b = rng.standard_normal(500)
    np.testing.assert_allclose(dw.lstsq(A, b, method="normal").x,
                               np.linalg.lstsq(A, b, rcond=None)[0], rtol=1e-6)


@pytest.mark.parametrize("e", [-300, -200, -100, 100, 200, 300])
def test_inspect_judges_structure_relative_to_scale(e):
    r = dw.inspect(np.eye(2) * 10.0 ** e)
    assert r.is_symmetric and r.is_positive_definite
    assert not r.is_projection  # (cI)² = cI only for c = 1
    assert not any("projection" in a for a in r.advice)
    assert not any("indefinite" in a for a in r.advice)


def test_inspect_projection_is_not_called_indefinite():
    r = dw.inspect(dw.projection_matrix(np.ones((3, 1))))
    assert r.is_projection and r.is_positive_semidefinite
    assert not any("indefinite" in a for a in r.advice)


@pytest.mark.parametrize("block_size", [None, 3])
def test_attention_overflowing_scores_raise(block_size):
    q = np.full((1, 6, 4), 1e200)
    with pytest.raises(FloatRangeError, match="overflow"):
        dw.scaled_dot_product_attention(q, q, q, block_size=block_size)


def test_attention_huge_block_size_is_clamped_not_allocated():
    rng = np.random.default_rng(0)
    q = rng.standard_normal((2, 5, 8))
    out = dw.scaled_dot_product_attention(q, q, q, block_size=10**12)
    np.testing.assert_allclose(out, dw.scaled_dot_product_attention(q, q, q), atol=1e-12)


def test_softmax_of_nothing_is_a_clear_error():
    with pytest.raises(dw.ShapeError, match="no entries along axis"):
        dw.softmax([])
    assert dw.softmax(np.zeros((0, 3))).shape == (0, 3)


# ------------------------------------------------------------------ saved-file permissions
def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_saved_files_get_the_umask_mode(tmp_path):
    old = os.umask(0o022)
    try:
        save_json(tmp_path / "a.json", {"a": 1})
        save_npy(tmp_path / "a.npy", np.zeros(3))
        with atomic_dir(tmp_path / "d") as d:
            (d / "x").write_text("1")
        assert _mode(tmp_path / "a.json") == 0o644
        assert _mode(tmp_path / "a.npy") == 0o644
        assert _mode(tmp_path / "d") == 0o755
    finally:
        os.umask(old)


def test_overwriting_keeps_the_files_mode(tmp_path):
    path = tmp_path / "keep.json"
    path.write_text("{}")
    os.chmod(path, 0o640)
    save_json(path, {"b": 2})
    assert _mode(path) == 0o640
