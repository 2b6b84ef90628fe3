"""inspect(): numbers against NumPy, structural tests, advice, JSON, errors."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dotwise as dw
from dotwise import ShapeError


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**16), st.integers(1, 8), st.integers(1, 8))
def test_numbers_match_numpy(seed, m, n):
    A = np.random.default_rng(seed).standard_normal((m, n))
    rep = dw.inspect(A)
    assert rep.shape == (m, n)
    assert rep.rank == np.linalg.matrix_rank(A)
    assert rep.cond == pytest.approx(np.linalg.cond(A), rel=1e-8)
    assert rep.norm_fro == pytest.approx(np.linalg.norm(A), rel=1e-12)
    assert rep.norm_2 == pytest.approx(np.linalg.norm(A, 2), rel=1e-12)
    if m == n:
        assert rep.det == pytest.approx(np.linalg.det(A), rel=1e-8, abs=1e-12)
        sign, logabs = np.linalg.slogdet(A)
        assert rep.sign == sign and rep.logabsdet == pytest.approx(logabs, rel=1e-10)
        assert rep.trace == pytest.approx(np.trace(A))
    else:
        assert rep.det is None and rep.trace is None
    json.dumps(rep.to_dict())


def test_structural_properties():
    theta = 0.3
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    r = dw.inspect(rot)
    assert r.is_orthogonal and r.cond == pytest.approx(1.0) and not r.is_symmetric
    assert any("inverse is its transpose" in a for a in r.advice)
    spd = dw.inspect([[2.0, 1.0], [1.0, 2.0]])
    assert spd.is_symmetric and spd.is_positive_definite and spd.is_positive_semidefinite
    assert any("Cholesky" in a for a in spd.advice)
    psd = dw.inspect([[1.0, 1.0], [1.0, 1.0]])
    assert psd.is_positive_semidefinite and not psd.is_positive_definite and psd.rank == 1
    indefinite = dw.inspect([[0.0, 1.0], [1.0, 0.0]])
    assert indefinite.is_symmetric and not indefinite.is_positive_semidefinite
    proj = dw.inspect(dw.projection_matrix([[1.0], [1.0], [0.0]]))
    assert proj.is_projection and proj.rank == 1
    tall = dw.inspect(np.linalg.qr(np.random.default_rng(0).standard_normal((6, 3)))[0])
    assert tall.has_orthonormal_columns and not tall.is_orthogonal and not tall.is_square
    col = dw.inspect([1.0, 2.0, 3.0])  # 1-D: one column
    assert col.shape == (3, 1) and col.rank == 1


def test_advice_for_ill_conditioned_and_singular_matrices():
    U, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((5, 5)))
    A = (U * np.array([1.0, 1e-3, 1e-6, 1e-9, 3e-13])) @ U.T
    rep = dw.inspect(A)
    assert rep.advice[0].startswith("condition 3e+12: expect ~12 lost digits")
    assert "use ridge or lstsq, not inv" in rep.advice[0]
    assert 11 < rep.digits_lost < 13
    sing = dw.inspect([[1.0, 2.0], [2.0, 4.0]])
    assert sing.rank == 1 and sing.det == 0.0 and sing.logabsdet == -np.inf
    assert sing.advice[0].startswith("singular: rank 1 of 2")
    assert "never inv(A)" in sing.advice[0]
    d = sing.to_dict()
    assert d["logabsdet"] == "-inf" and d["rank"] == 1
    json.dumps(d)
    zero = dw.inspect(np.zeros((2, 3)))
    assert zero.rank == 0 and "zero matrix" in zero.advice[0]
    huge = dw.inspect(np.diag([1e200, 1e200, 1e200]))
    assert huge.det == np.inf and any("use slogdet" in a for a in huge.advice)
    small = dw.inspect(np.eye(4) * 1e-5)
    assert any("does not mean near-singular" in a for a in small.advice)


def test_str_and_frozen():
    rep = dw.inspect([[1.0, 2.0], [3.0, 4.0]])
    text = str(rep)
    for word in ("rank", "condition number", "determinant", "slogdet", "advice", "•"):
        assert word in text
    with pytest.raises(dataclasses.FrozenInstanceError):
        rep.rank = 3
    assert dw.inspect(np.eye(3, dtype=np.float32)).dtype == "float32"


@pytest.mark.parametrize("A, exc, match", [
    (np.zeros((0, 3)), ShapeError, r"A must not be empty, got shape \(0, 3\)"),
    (np.ones((2, 2, 2)), ShapeError, r"A must be a 1-D vector or a 2-D matrix, got 3-D"),
    ([[1.0, np.nan]], ValueError, r"A must contain only finite numbers"),
    ("abc", TypeError, r"A must contain numbers"),
    ([[1.0, 2.0], [3.0]], TypeError, r"ragged"),
])
def test_bad_input_is_named(A, exc, match):
    with pytest.raises(exc, match=match):
        dw.inspect(A)
