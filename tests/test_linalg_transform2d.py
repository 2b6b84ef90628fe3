"""2-D homogeneous transforms: the defining properties of each matrix, composition
order, inverses, and the associativity of a chain applied to many points."""

from __future__ import annotations

import numpy as np
import pytest

import dotwise as dw
from dotwise.linalg import transform2d as t2


@pytest.mark.parametrize("theta", [0.0, 17.0, 90.0, -135.0, 400.0])
def test_rotation_is_orthogonal_with_determinant_one(theta):
    R = t2.rotation(theta)[:2, :2]
    np.testing.assert_allclose(R.T @ R, np.eye(2), atol=1e-15)
    assert np.linalg.det(R) == pytest.approx(1.0)
    p = np.array([3.0, -2.0])
    moved = t2.apply(p, t2.rotation(theta))
    assert np.linalg.norm(moved) == pytest.approx(np.linalg.norm(p))   # lengths kept
    cos = moved @ p / (p @ p)
    assert cos == pytest.approx(np.cos(np.deg2rad(theta)))


def test_rotation_in_radians_matches_degrees():
    np.testing.assert_allclose(t2.rotation(np.pi / 3, radians=True), t2.rotation(60.0))


@pytest.mark.parametrize("axis", ["x", "y", 0.0, 30.0, 90.0, -60.0])
def test_reflection_has_determinant_minus_one_and_is_its_own_inverse(axis):
    F = t2.reflection(axis)
    assert np.linalg.det(F[:2, :2]) == pytest.approx(-1.0)
    np.testing.assert_allclose(F @ F, np.eye(3), atol=1e-15)


def test_reflection_keeps_points_on_the_mirror_line():
    phi = np.deg2rad(30.0)
    on_line = 2.5 * np.array([np.cos(phi), np.sin(phi)])
    np.testing.assert_allclose(t2.apply(on_line, t2.reflection(30.0)), on_line, atol=1e-15)
    normal = np.array([-np.sin(phi), np.cos(phi)])
    np.testing.assert_allclose(t2.apply(normal, t2.reflection(30.0)), -normal, atol=1e-15)


def test_scaling_shear_and_translation_entries():
    np.testing.assert_array_equal(t2.scaling(2, 3), np.diag([2.0, 3.0, 1.0]))
    np.testing.assert_array_equal(t2.scaling(2), np.diag([2.0, 2.0, 1.0]))
    assert np.linalg.det(t2.shear(0.5, 0.0)) == pytest.approx(1.0)
    assert np.linalg.det(t2.shear(0.5, 0.4)) == pytest.approx(1 - 0.2)
    np.testing.assert_array_equal(t2.apply([1.0, 2.0], t2.translation(3, -1)), [4.0, 1.0])


@pytest.mark.parametrize("make", [
    lambda c: t2.rotation(37.0, about=c),
    lambda c: t2.scaling(2.0, 0.5, about=c),
])
def test_transform_about_a_point_keeps_that_point_fixed(make):
    centre = np.array([1.5, -2.0])
    M = make(centre)
    np.testing.assert_allclose(t2.apply(centre, M), centre, atol=1e-14)
    other = centre + [1.0, 0.0]
    assert not np.allclose(t2.apply(other, M), other)


def test_compose_applies_right_to_left():
    S, T = t2.scaling(2.0), t2.translation(3.0, 0.0)
    p = np.array([1.0, 1.0])
    # compose(T, S): S first, then T
    np.testing.assert_allclose(t2.apply(p, t2.compose(T, S)), t2.apply(t2.apply(p, S), T))
    np.testing.assert_allclose(t2.apply(p, t2.compose(S, T)), t2.apply(t2.apply(p, T), S))
    assert not np.allclose(t2.compose(T, S), t2.compose(S, T))   # order matters


def test_compose_steps_keeps_every_partial_product():
    mats = [t2.scaling(2.0), t2.rotation(30.0), t2.translation(1.0, 2.0)]
    steps = t2.compose_steps(*mats)
    assert [s.name for s in steps] == ["step 1", "step 2", "step 3"]
    np.testing.assert_allclose(steps[0].product, mats[0])
    np.testing.assert_allclose(steps[1].product, mats[1] @ mats[0])
    np.testing.assert_allclose(steps[-1].product, t2.compose(*mats[::-1]))
    named = t2.compose_steps(("grow", mats[0]))
    assert named[0].name == "grow"


def test_inverse_undoes_the_transform():
    M = t2.compose(t2.translation(2.0, -1.0), t2.rotation(33.0), t2.shear(0.3, 0.1),
                   t2.scaling(2.0, 0.5), t2.reflection(20.0))
    Minv = t2.inverse(M)
    np.testing.assert_allclose(Minv @ M, np.eye(3), atol=1e-14)
    np.testing.assert_allclose(M @ Minv, np.eye(3), atol=1e-14)
    np.testing.assert_allclose(Minv, np.linalg.inv(M), atol=1e-14)
    np.testing.assert_array_equal(Minv[2], [0.0, 0.0, 1.0])


def test_inverse_of_a_projective_matrix():
    M = np.array([[1.0, 0.2, 3.0], [0.1, 1.0, -1.0], [0.01, 0.02, 1.0]])
    np.testing.assert_allclose(t2.inverse(M) @ M, np.eye(3), atol=1e-13)
    pts = np.random.default_rng(0).uniform(-5, 5, (20, 2))
    np.testing.assert_allclose(t2.apply(t2.apply(pts, M), t2.inverse(M)), pts, atol=1e-12)


@pytest.mark.parametrize("M, label", [
    (t2.scaling(0.0, 1.0), "scaling"),
    (t2.shear(2.0, 0.5), "shear"),
    (np.array([[1.0, 2.0, 0.0], [2.0, 4.0, 0.0], [0.0, 0.0, 1.0]]), "M"),
])
def test_singular_transforms_cannot_be_inverted(M, label):
    with pytest.raises(np.linalg.LinAlgError, match=f"{label}.*singular"):
        t2.inverse(M, name=label) if label != "M" else t2.inverse(M)


def test_apply_on_one_point_and_on_many():
    M = t2.compose(t2.translation(1.0, 2.0), t2.rotation(45.0))
    pts = np.random.default_rng(1).standard_normal((50, 2))
    many = t2.apply(pts, M)
    assert many.shape == (50, 2)
    for i in (0, 17, 49):
        one = t2.apply(pts[i], M)
        assert one.shape == (2,)
        np.testing.assert_allclose(one, many[i])
    homo = np.column_stack([pts, np.ones(50)]) @ M.T            # the definition
    np.testing.assert_allclose(many, homo[:, :2], atol=1e-14)
    assert t2.apply(np.empty((0, 2)), M).shape == (0, 2)
    assert t2.apply(pts.astype(np.float32), M).dtype == np.float32


def test_composed_once_equals_step_by_step_on_a_million_points():
    rng = np.random.default_rng(2)
    pts = rng.uniform(-10, 10, (1_000_000, 2))
    chain = [t2.scaling(1.5, 0.5), t2.shear(0.2), t2.rotation(25.0, about=(1, 1)),
             t2.reflection(10.0), t2.translation(-3.0, 4.0)]
    stepwise = pts
    for M in chain:
        stepwise = t2.apply(stepwise, M)
    once = t2.apply(pts, t2.compose(*chain[::-1]))
    np.testing.assert_allclose(once, stepwise, rtol=1e-12, atol=1e-11)


def test_errors_name_the_argument():
    with pytest.raises(dw.ShapeError, match="points must have 2 coordinates.*\\(3, 5\\)"):
        t2.apply(np.zeros((3, 5)), np.eye(3))
    with pytest.raises(dw.ShapeError, match="Pass points.T"):
        t2.apply(np.zeros((2, 7)), np.eye(3))
    with pytest.raises(dw.ShapeError, match="M must be a 3×3"):
        t2.apply([1.0, 2.0], np.eye(2))
    with pytest.raises(dw.ShapeError, match=r"transforms\[1\] must be a 3×3"):
        t2.compose(np.eye(3), np.eye(4))
    with pytest.raises(ValueError, match="at least one transform"):
        t2.compose()
    with pytest.raises(TypeError, match="theta must be a real number"):
        t2.rotation("30")
    with pytest.raises(ValueError, match="sx must be finite"):
        t2.scaling(np.inf)
    with pytest.raises(dw.ShapeError, match="about must be a point"):
        t2.rotation(30, about=(1, 2, 3))
    with pytest.raises(ValueError, match="axis must be 'x', 'y' or a line angle"):
        t2.reflection("z")


def test_exported_from_the_package():
    assert dw.rotation is t2.rotation and dw.compose is t2.compose
    assert dw.apply_transform is t2.apply and dw.invert_transform is t2.inverse


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_compiled_and_numpy_apply_agree(monkeypatch, dtype):
    from dotwise import _loops

    pts = np.random.default_rng(3).uniform(-50, 50, (5000, 2)).astype(dtype)
    M = t2.compose(t2.translation(2.0, -7.0), t2.rotation(33.0), t2.shear(0.4, -0.2))
    fast = t2.apply(pts, M)
    monkeypatch.setattr(_loops, "LIB", None)
    slow = t2.apply(pts, M)
    assert fast.dtype == slow.dtype == dtype
    reference = pts.astype(np.float64) @ M[:2, :2].T + M[:2, 2]
    tol = 1e-12 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(fast, reference, rtol=tol, atol=tol * 50)
    np.testing.assert_allclose(slow, reference, rtol=tol, atol=tol * 50)
    strided = np.asfortranarray(pts)            # not C-contiguous: the NumPy path
    np.testing.assert_allclose(t2.apply(strided, M), slow, rtol=tol, atol=tol * 50)
