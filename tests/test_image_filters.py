"""Filters and the convolution engine against scipy.ndimage, fusion, colour maps."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dotwise import ShapeError
from dotwise.image import (
    ColorMap,
    Pipeline,
    box_blur,
    brightness,
    color_matrix,
    contrast,
    convolve,
    correlate,
    custom,
    edges,
    emboss,
    gaussian_blur,
    grayscale,
    invert,
    kernel_plan,
    laplacian,
    motion_blur,
    saturation,
    sepia,
    sharpen,
    sobel,
    unsharp_mask,
)

MODES = ["reflect", "mirror", "nearest", "wrap", "constant"]


@pytest.fixture(params=["compiled", "numpy"])
def engine(request):
    """Run a test on the compiled loops (``_dwconv.c``) and on the NumPy/BLAS fallback."""
    from dotwise import _native
    from dotwise.image import _engine

    if request.param == "compiled" and _native.LIB is None:
        pytest.skip("dotwise._dwconv is not built in this install (no C compiler at "
                    "install time, or DOTWISE_PURE_NUMPY=1); the NumPy engine is tested")
    previous = _engine.use_compiled(request.param == "compiled")
    yield request.param
    _engine.use_compiled(previous)


def _ref(img, k, mode, fn=ndi.convolve, cval=0.0):
    x = img.astype(np.float64)
    kk = k[:, :, None] if x.ndim == 3 else k
    return fn(x, kk, mode=mode, cval=cval)


def _tol(img, k):
    return 1e-5 * max(1.0, np.abs(k).sum()) if img.dtype == np.float32 else 1e-11


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("method", ["auto", "direct", "lowrank", "fft"])
@pytest.mark.parametrize("kshape", [(1, 1), (3, 3), (5, 5), (7, 3), (1, 9), (11, 11)])
def test_convolve_equals_scipy_for_random_kernels(rng, mode, method, kshape, engine):
    img = rng.random((37, 29, 3)).astype(np.float32)
    k = rng.standard_normal(kshape)
    out = convolve(img, k, mode, cval=0.25, method=method)
    assert out.shape == img.shape and out.dtype == np.float32
    np.testing.assert_allclose(out, _ref(img, k, mode, cval=0.25), atol=_tol(img, k), rtol=0)


@pytest.mark.parametrize("mode", MODES)
def test_correlate_equals_scipy_float64_grey_and_many_stripes(rng, mode, engine):
    img = rng.random((300, 41))                      # several row stripes, float64 kept
    k = rng.standard_normal((5, 3))
    out = correlate(img, k, mode)
    assert out.dtype == np.float64 and out.shape == img.shape
    np.testing.assert_allclose(out, _ref(img, k, mode, ndi.correlate), atol=1e-11, rtol=0)


@pytest.mark.parametrize("mode", MODES)
def test_kernel_larger_than_image_is_handled_like_scipy(rng, mode, engine):
    img = rng.random((4, 6, 2)).astype(np.float32)
    k = rng.random((9, 11))
    for method in ("direct", "lowrank", "fft"):
        np.testing.assert_allclose(convolve(img, k, mode, method=method), _ref(img, k, mode),
                                   atol=_tol(img, k), rtol=0)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(h=st.integers(1, 40), w=st.integers(1, 40), c=st.sampled_from([1, 3]),
       kh=st.sampled_from([1, 3, 5, 7]), kw=st.sampled_from([1, 3, 5]),
       mode=st.sampled_from(MODES), seed=st.integers(0, 2**16))
def test_convolve_property_any_shape(h, w, c, kh, kw, mode, seed, engine):
    r = np.random.default_rng(seed)
    img = r.random((h, w, c)).astype(np.float32)
    k = r.standard_normal((kh, kw))
    np.testing.assert_allclose(convolve(img, k, mode), _ref(img, k, mode), atol=_tol(img, k))


def test_integer_images_become_float32(rng):
    img = rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)
    out = convolve(img, np.ones((3, 3)) / 9)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, ndi.uniform_filter(img.astype(float), (3, 3, 0),
                                                       mode="reflect"), atol=1e-4)


def test_named_blurs_match_scipy(rng, engine):
    img = rng.random((64, 48, 3)).astype(np.float32)
    np.testing.assert_allclose(gaussian_blur(2.0)(img),
                               ndi.gaussian_filter(img.astype(float), (2, 2, 0)), atol=1e-5)
    np.testing.assert_allclose(box_blur(7)(img),
                               ndi.uniform_filter(img.astype(float), (7, 7, 1)), atol=1e-5)


def test_separable_kernels_are_detected():
    g = gaussian_blur(3).kernel
    assert kernel_plan(g)["rank"] == 1 and kernel_plan(g)["method"] == "lowrank"
    outer = np.outer([1.0, 2.0, 3.0, 2.0, 1.0], [1.0, -1.0, 0.5])
    assert kernel_plan(outer)["separable"]
    assert kernel_plan(np.ones((31, 31)))["separable"]
    assert kernel_plan(motion_blur(9, 0).kernel)["rank"] == 1
    assert kernel_plan(sharpen(1).kernel)["rank"] == 2
    assert kernel_plan(sharpen(1).kernel)["method"] == "direct"
    dense = np.random.default_rng(0).standard_normal((25, 25))
    assert kernel_plan(dense)["rank"] == 25 and kernel_plan(dense)["method"] == "fft"


def test_sobel_matches_scipy(rng):
    img = rng.random((30, 40)).astype(np.float32)
    gx, gy = sobel("x")(img) * 8, sobel("y")(img) * 8
    np.testing.assert_allclose(gx, ndi.sobel(img.astype(float), axis=1), atol=1e-5)
    np.testing.assert_allclose(gy, ndi.sobel(img.astype(float), axis=0), atol=1e-5)
    np.testing.assert_allclose(sobel()(img), np.hypot(gx, gy) / 8, atol=1e-6)
    np.testing.assert_allclose(sobel("direction")(img), np.arctan2(gy, gx), atol=1e-5)
    colour = np.repeat(img[:, :, None], 3, axis=2)
    np.testing.assert_allclose(sobel()(colour), sobel()(img), atol=1e-5)


def test_kernels_have_their_defining_properties():
    assert sharpen(1).kernel.tolist() == [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]
    assert abs(sharpen(0.7).kernel.sum() - 1) < 1e-12
    assert abs(unsharp_mask(2, 1.5).kernel.sum() - 1) < 1e-12
    assert laplacian().kernel.sum() == 0 and edges().kernel.sum() == 0
    assert edges().kernel[1, 1] == 8
    assert abs(emboss().kernel.sum() - 1) < 1e-12
    for angle in (0, 30, 45, 90, 137):
        k = motion_blur(11, angle).kernel
        assert k.shape == (11, 11) and abs(k.sum() - 1) < 1e-12
        assert np.allclose(k, k[::-1, ::-1])            # a line through the centre
    assert np.allclose(motion_blur(9, 90).kernel, motion_blur(9, 0).kernel.T)
    flat = np.full((20, 20, 3), 0.4, dtype=np.float32)
    for f in (sharpen(2), unsharp_mask(1, 1), gaussian_blur(1.5), box_blur(5), emboss()):
        np.testing.assert_allclose(f(flat), flat, atol=1e-6)   # sum 1: flat stays flat
    ramp = np.tile(np.arange(16, dtype=np.float32), (16, 1))
    assert np.allclose(laplacian()(ramp)[:, 2:-2], 0, atol=1e-5)  # a ramp has no curvature


def test_unsharp_mask_equals_its_definition(rng):
    img = rng.random((40, 40, 3)).astype(np.float32)
    g = gaussian_blur(1.5)(img)
    np.testing.assert_allclose(unsharp_mask(1.5, 0.8)(img), img + 0.8 * (img - g), atol=2e-5)


def test_colour_maps_on_known_pixels():
    px = np.array([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 1.0]]])
    np.testing.assert_allclose(grayscale()(px)[0, :, 0], [0.299, 0.587, 1.0])
    np.testing.assert_allclose(invert()(px)[0, 0], [0.0, 1.0, 1.0])
    np.testing.assert_allclose(sepia()(px)[0, 2], [1.351, 1.203, 0.937])   # row sums
    np.testing.assert_allclose(brightness(0.5)(px)[0, 2], [0.5, 0.5, 0.5])
    np.testing.assert_allclose(contrast(2.0)(np.full((1, 1, 3), 0.5)), 0.5)
    np.testing.assert_allclose(contrast(2.0)(px)[0, 0], [1.5, -0.5, -0.5])
    np.testing.assert_allclose(saturation(0.0)(px), grayscale()(px))
    np.testing.assert_allclose(saturation(1.0)(px), px)
    np.testing.assert_allclose(color_matrix(np.eye(3)[::-1], 0.1)(px)[0, 0], [0.1, 0.1, 1.1])


def test_colour_maps_on_grey_and_alpha():
    grey = np.full((2, 2), 0.25, dtype=np.float32)
    assert invert()(grey).shape == (2, 2, 3)
    rgba = np.zeros((2, 2, 4), dtype=np.float32)
    rgba[..., 3] = 0.5
    out = invert()(rgba)
    assert out.shape == (2, 2, 4) and np.all(out[..., :3] == 1) and np.all(out[..., 3] == 0.5)


# ---------------------------------------------------------------- fusion
def test_fused_colour_maps_equal_unfused_exactly(rng):
    img = rng.random((10, 12, 3))
    pipe = Pipeline([sepia(), brightness(1.2), contrast(0.8), invert(), saturation(1.3)])
    fused = pipe.fuse()
    assert fused.report.passes_before == 5 and fused.report.passes_after == 1
    assert fused.report.passes_saved == 4
    np.testing.assert_allclose(fused(img), pipe(img), atol=1e-12)


def test_fused_convolutions_equal_unfused_everywhere_with_wrap(rng):
    img = rng.random((40, 36, 3))
    ks = [gaussian_blur(1.2, mode="wrap"), emboss(mode="wrap"), custom(rng.random((3, 5)), "wrap")]
    pipe = Pipeline(ks)
    fused = pipe.fuse()
    size = np.sum([np.array(f.kernel.shape) - 1 for f in ks], axis=0) + 1
    assert fused.passes == 1 and fused.filters[0].kernel.shape == tuple(size) == (15, 17)
    np.testing.assert_allclose(fused(img), pipe(img), atol=1e-10)


def test_fused_convolutions_with_reflect_agree_away_from_the_border(rng):
    img = rng.random((50, 50, 3))
    pipe = Pipeline([emboss(), custom(rng.random((5, 3)))])   # not flip-symmetric
    fused = pipe.fuse()
    R = fused.filters[0].kernel.shape[0] // 2
    a, b = pipe(img), fused(img)
    np.testing.assert_allclose(a[R:-R, R:-R], b[R:-R, R:-R], atol=1e-10)
    assert not np.allclose(a, b, atol=1e-6)          # …and the border really differs


@pytest.mark.parametrize("mode", ["reflect", "mirror"])
def test_fused_symmetric_kernels_agree_everywhere(rng, mode):
    img = rng.random((30, 33, 3))
    pipe = Pipeline([gaussian_blur(1, mode=mode), sharpen(1, mode=mode), box_blur(3, mode=mode),
                     emboss(mode=mode)])               # the last one may be anything
    np.testing.assert_allclose(pipe.fuse()(img), pipe(img), atol=1e-10)


def test_fusion_stops_at_nonlinear_filters_and_mode_changes(rng):
    pipe = Pipeline([gaussian_blur(1), sharpen(1), sobel(), box_blur(3),
                     box_blur(3, mode="wrap"), sepia(), grayscale()])
    fused = pipe.fuse()
    assert fused.report.groups == ("gaussian_blur+sharpen", "sobel", "box_blur", "box_blur",
                                   "sepia+grayscale")
    assert "5 passes saved" not in str(fused.report) and "7 passes → 5" in str(fused.report)
    img = rng.random((24, 24, 3)).astype(np.float32)
    np.testing.assert_allclose(fused(img), pipe(img), atol=1e-5)


def test_pipeline_applies_in_order(rng):
    img = rng.random((8, 8, 3))
    a = Pipeline([invert(), brightness(0.5)])(img)
    np.testing.assert_allclose(a, (1 - img) * 0.5)
    rows = Pipeline([gaussian_blur(1), sepia()]).describe()
    assert rows[0]["method"] == "lowrank" and rows[1]["kind"] == "color"


# ---------------------------------------------------------------- bad input
def test_bad_kernels_and_modes(rng):
    img = rng.random((8, 8))
    with pytest.raises(ShapeError, match="odd height and width.*got shape \\(2, 3\\)"):
        convolve(img, np.ones((2, 3)))
    with pytest.raises(ShapeError, match="kernel must be a 2-D matrix"):
        convolve(img, np.ones((3, 3, 3)))
    with pytest.raises(ValueError, match="mode must be one of"):
        convolve(img, np.ones((3, 3)), mode="bogus")
    with pytest.raises(ValueError, match="method must be one of"):
        correlate(img, np.ones((3, 3)), method="magic")
    with pytest.raises(ShapeError, match="img must be a 2-D matrix or a 3-D array"):
        convolve(np.ones(5), np.ones((3, 3)))
    with pytest.raises(ValueError, match="finite"):
        convolve(np.full((4, 4), np.nan), np.ones((3, 3)))


def test_bad_filter_arguments():
    with pytest.raises(ValueError, match="size must be odd"):
        box_blur(4)
    with pytest.raises(ValueError, match="sigma must be a finite number > 0"):
        gaussian_blur(0)
    with pytest.raises(ValueError, match="length must be odd"):
        motion_blur(8)
    with pytest.raises(ValueError, match="amount must be a finite number >= 0"):
        sharpen(-1)
    with pytest.raises(ValueError, match="output must be one of"):
        sobel("diagonal")
    with pytest.raises(ShapeError, match="matrix must be 3×3"):
        ColorMap(np.eye(4))
    with pytest.raises(ShapeError, match="bias must be a scalar or have shape \\(3,\\)"):
        color_matrix(np.eye(3), [1, 2])
    with pytest.raises(TypeError, match="forget the parentheses"):
        Pipeline([sepia])
    with pytest.raises(ShapeError, match="1, 3 or 4 channels"):
        invert()(np.zeros((3, 3, 2)))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("rank", [1, 2])
def test_banded_gemm_engine_equals_scipy(rng, mode, rank):
    from dotwise.image import _engine

    img = rng.random((70, 150, 3)).astype(np.float32)      # 3 stripes of 32 rows, 3 blocks
    k = sum(np.outer(rng.random(17), rng.random(13)) for _ in range(rank))
    previous = _engine.use_compiled(False)                 # the NumPy engine's own plan
    try:
        plan = _engine.plan_kernel(k, np.float32)
    finally:
        _engine.use_compiled(previous)
    assert plan.method == "lowrank" and plan.rank == rank and plan.gemm
    out = _engine.correlate_separable_gemm(img, k, plan, mode, 0.3)
    np.testing.assert_allclose(out, _ref(img, k, mode, ndi.correlate, cval=0.3),
                               atol=_tol(img, k), rtol=0)


def test_compiled_loops_are_built_where_ci_runs():
    """CI installs with a C compiler, so the compiled loops must load there."""
    import os

    from dotwise import _native

    if os.environ.get("CI", "").lower() not in ("1", "true"):
        pytest.skip("only enforced in CI (CI=true): a local install may lack a compiler")
    assert _native.LIB is not None
    assert kernel_plan(np.ones((3, 3)))["engine"] == "compiled"


@pytest.mark.parametrize("mode", MODES)
def test_compiled_stripes_in_parallel_equal_scipy(rng, mode):
    """Large enough to be split into stripes on the thread pool; rank 1, 2 and dense."""
    from dotwise import _native

    if _native.LIB is None:
        pytest.skip("dotwise._dwconv is not built in this install")
    img = rng.random((603, 561, 3)).astype(np.float32)
    kernels = {"dense": rng.standard_normal((5, 7)),
               "rank 1": np.outer(rng.random(21), rng.random(9)),
               "rank 2": sum(np.outer(rng.random(17), rng.random(13)) for _ in range(2))}
    for name, k in kernels.items():
        plan = kernel_plan(k)
        assert plan["engine"] == "compiled", name
        assert plan["method"] == ("direct" if name == "dense" else "lowrank"), name
        out = correlate(img, k, mode, cval=0.3)
        np.testing.assert_allclose(out, _ref(img, k, mode, ndi.correlate, cval=0.3),
                                   atol=_tol(img, k), rtol=0, err_msg=name)


def test_pure_numpy_switch_turns_the_compiled_loops_off():
    import os
    import subprocess
    import sys

    code = ("import numpy as np; from dotwise import _native; from dotwise.image import kernel_plan; "
            "print(_native.LIB is None, kernel_plan(np.ones((3, 3)))['engine'])")
    env = {**os.environ, "DOTWISE_PURE_NUMPY": "1"}
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True)
    assert res.stdout.split() == ["True", "numpy"]


@pytest.mark.parametrize("s1, s2", [((3, 3), (5, 5)), ((1, 9), (7, 1)), ((5, 3), (3, 7)),
                                    ((1, 1), (3, 3))])
def test_composed_kernel_is_the_full_convolution_of_the_two(rng, s1, s2):
    from scipy.signal import convolve2d

    from dotwise.image.pipeline import compose_kernels

    a, b = rng.standard_normal(s1), rng.standard_normal(s2)
    b[0, 0] = 0.0                                       # zero taps are skipped
    np.testing.assert_allclose(compose_kernels(a, b), convolve2d(a, b, mode="full"),
                               atol=1e-14, rtol=0)
    img = rng.random((30, 31))                          # and filtering by it = both passes
    both = convolve(convolve(img, a, "wrap"), b, "wrap")
    np.testing.assert_allclose(convolve(img, compose_kernels(a, b), "wrap"), both, atol=1e-12)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("kernel", ["dense 3×3", "rank 1", "fft"])
def test_non_finite_pixels_are_found_in_any_stripe(engine, bad, kernel):
    """The scan runs stripe by stripe inside the engine: a bad pixel in the last stripe
    of a large image, in a grey or a colour image, is reported with its index."""
    kernels = {"dense 3×3": np.arange(9.0).reshape(3, 3), "rank 1": np.ones((9, 9)),
               "fft": np.random.default_rng(0).standard_normal((31, 31))}
    colour = np.zeros((700, 300, 3), dtype=np.float32)
    colour[698, 17, 2] = bad
    with pytest.raises(ValueError, match=r"img must contain only finite numbers, found "
                                         r"-?(nan|inf) at index \(698, 17, 2\)"):
        correlate(colour, kernels[kernel])
    grey = np.zeros((700, 300))
    grey[5, 299] = bad
    with pytest.raises(ValueError, match=r"at index \(5, 299\)"):
        convolve(grey, kernels[kernel])


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(h=st.integers(1, 30), w=st.integers(1, 30), c=st.integers(1, 4),
       kh=st.sampled_from([1, 3, 9, 15]), kw=st.sampled_from([1, 5, 11]),
       rank=st.integers(1, 2), dtype=st.sampled_from([np.float32, np.float64]),
       mode=st.sampled_from(MODES), seed=st.integers(0, 2**16))
def test_low_rank_plans_property_any_shape(h, w, c, kh, kw, rank, dtype, mode, seed, engine):
    """Low-rank kernels wider and taller than the image, any channel count and dtype."""
    r = np.random.default_rng(seed)
    img = r.random((h, w, c)).astype(dtype)
    k = sum(np.outer(r.standard_normal(kh), r.standard_normal(kw)) for _ in range(rank))
    out = correlate(img, k, mode, cval=-0.5, method="lowrank")
    assert out.dtype == dtype
    np.testing.assert_allclose(out, _ref(img, k, mode, ndi.correlate, cval=-0.5),
                               atol=_tol(img, k) * 4, rtol=0)


def test_the_callers_kernel_stays_writable_and_a_changed_kernel_is_used(rng):
    """Checked kernels are remembered by value: the caller's array is neither frozen nor
    kept, and changing it in place changes the next result."""
    img = rng.random((12, 14, 3)).astype(np.float32)
    k = rng.standard_normal((3, 3))
    for fn in (correlate, convolve):
        first = fn(img, k)
        assert k.flags.writeable
        k[1, 1] += 1.0
        np.testing.assert_allclose(fn(img, k) - first, img, atol=1e-5)
