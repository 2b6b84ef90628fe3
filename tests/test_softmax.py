"""softmax / logsumexp: stability, masking with -inf, SciPy as oracle."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import dotwise as dw

logits = arrays(np.float64, array_shapes(min_dims=1, max_dims=3, max_side=6),
                elements=st.floats(-700, 700))


@given(logits)
def test_softmax_matches_scipy_and_sums_to_one(x):
    p = dw.softmax(x, axis=-1)
    np.testing.assert_allclose(p, scipy.special.softmax(x, axis=-1), rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-12)
    assert (p >= 0).all()


@given(logits)
def test_logsumexp_matches_scipy(x):
    np.testing.assert_allclose(dw.logsumexp(x, axis=0), scipy.special.logsumexp(x, axis=0),
                               rtol=1e-12)


def test_softmax_is_shift_invariant_and_keeps_float32():
    x = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    np.testing.assert_allclose(dw.softmax(x), dw.softmax(x + 1000), rtol=1e-6)
    assert dw.softmax(x).dtype == np.float32


def test_fully_masked_slice_gives_zeros_not_nan():
    x = np.array([[0.0, -np.inf], [-np.inf, -np.inf]])
    p = dw.softmax(x)
    np.testing.assert_array_equal(p, [[1.0, 0.0], [0.0, 0.0]])
    assert dw.logsumexp(x)[1] == -np.inf


def test_softmax_bad_input():
    with pytest.raises(ValueError, match="x must not contain NaN or \\+inf"):
        dw.softmax([1.0, np.nan])
    with pytest.raises(ValueError, match=r"axis must be in \[-1, 0\]"):
        dw.softmax([1.0, 2.0], axis=3)
