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


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


@pytest.mark.skipif(_native.LIB is None, reason="the compiled loops are not built here")
def test_the_variant_picked_is_one_this_cpu_runs():
    flags = _cpu_flags()
    if not flags:
        pytest.skip("no /proc/cpuinfo to compare with")
    picked = _native.isa()
    assert picked in _native.ISA_NAMES
    if picked == "AVX-512":
        assert "avx512f" in flags
    if picked == "AVX2+FMA":
        assert {"avx2", "fma"} <= flags and "avx512f" not in flags
    if picked == "baseline":
        assert not ({"avx2", "fma"} <= flags)
    with pytest.raises(ValueError, match="cannot run"):
        wider = _native.ISA_NAMES[_native.ISA_NAMES.index(picked) + 1:]
        if not wider:
            raise ValueError("cannot run: nothing wider exists")
        _native.force_isa(wider[0])


@pytest.mark.skipif(_native.LIB is None, reason="the compiled loops are not built here")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(37, 53, 3), (8, 300, 1), (64, 64)])
def test_every_variant_this_cpu_runs_matches_the_numpy_engine(dtype, shape):
    import dotwise.image as im
    from dotwise.image import _engine

    rng = np.random.default_rng(1)
    img = rng.random(shape).astype(dtype)
    kernels = [np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], float),  # direct
               np.outer(np.hanning(7), np.hanning(9)),                 # separable
               rng.standard_normal((5, 5))]                            # low rank > 1 / direct
    previous = _engine.use_compiled(False)
    try:
        expected = [im.correlate(img, k) for k in kernels]
    finally:
        _engine.use_compiled(previous)
    picked = _native.isa()
    try:
        for variant in _native.ISA_NAMES[: _native.ISA_NAMES.index(picked) + 1]:
            assert _native.force_isa(variant) == variant
            for k, want in zip(kernels, expected, strict=True):
                got = im.correlate(img, k)
                tol = 2e-5 if dtype == np.float32 else 1e-12
                np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=variant)
    finally:
        _native.force_isa(None)
    assert _native.isa() == picked


def test_fast_address_is_the_array_interface_address():
    """The loops' pointer arguments: the same address by either route, for writable,
    read-only, offset and empty arrays."""
    base = np.arange(40, dtype=np.float32)
    frozen = base.copy()
    frozen.flags.writeable = False
    for arr in (base, base[8:], frozen, np.empty((0, 3), dtype=np.float64)):
        assert _native.fast_address(arr) == arr.__array_interface__["data"][0]
