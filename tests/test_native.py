"""The compiled helpers of ``dotwise._native`` against NumPy, and the fallback they share."""

from __future__ import annotations

import numpy as np
import pytest

from dotwise import _native
from dotwise._validation import as_float_array

BLOCK = 1 << 16          # the C check works in blocks of this many values


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [1, 15, 17, BLOCK - 1, BLOCK, BLOCK + 3, 3 * BLOCK + 5])
def test_all_finite_finds_every_bad_value_wherever_it_is(dtype, size):
    x = np.random.default_rng(size).standard_normal(size).astype(dtype)
    assert _native.all_finite(x)
    for where in sorted({0, size // 2, size - 1, min(size - 1, BLOCK)}):
        for bad in (np.nan, np.inf, -np.inf):
            y = x.copy()
            y[where] = bad
            assert not _native.all_finite(y), (where, bad)
            assert np.isfinite(y).all() == _native.all_finite(y)


def test_all_finite_has_no_overflow_false_alarms():
    huge = np.full(1000, np.finfo(np.float32).max, dtype=np.float32)   # the sum would overflow
    assert _native.all_finite(huge) and _native.all_finite(-huge)
    assert _native.all_finite(np.array([], dtype=np.float64))


def test_all_finite_on_views_and_other_dtypes_falls_back_to_numpy():
    x = np.arange(40, dtype=np.float64).reshape(5, 8)
    x[3, 4] = np.nan                                     # column 4 = view column 2
    assert not _native.all_finite(x[:, ::2][:, 2:])       # a strided view holding the NaN
    assert _native.all_finite(x[:, ::2][:, :2])
    assert not _native.all_finite(np.array([1, np.inf], dtype=np.float16))
    assert _native.all_finite(np.arange(5))               # integers are always finite


def test_as_float_array_reports_the_first_bad_index_with_the_fast_check():
    img = np.zeros((300, 400, 3), dtype=np.float32)
    img[123, 45, 2] = np.inf
    with pytest.raises(ValueError, match=r"img must contain only finite numbers, found inf "
                                         r"at index \(123, 45, 2\)"):
        as_float_array(img, "img")


def test_the_compiled_check_is_what_runs_when_built():
    if _native.LIB is None:
        pytest.skip("dotwise._dwconv is not built in this install; the NumPy check runs")
    assert _native.supports(np.float32) and _native.supports(np.float64)
    assert not _native.supports(np.float16)
