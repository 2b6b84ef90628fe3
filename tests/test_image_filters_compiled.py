"""The compiled filter loops' plans, each against scipy.ndimage and dotwise's NumPy engine.

The compiled direct plan reads image rows in place and pads only a strip of border
columns; the separable plan runs in column tiles (a tile's source rows stay in L2), with
halo columns from the boundary rule (for ``wrap``, columns from the far side of the
image); the NaN / infinity scan runs inside the loops (on the output when the centre tap is non-zero, else on the
input). Every case is checked for every boundary mode, odd sizes (including images
narrower than the kernel), 1 and several channels, float32 and float64, and every ISA
variant this CPU runs.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi

from dotwise import _native
from dotwise.image import (
    _engine,
    box_blur,
    convolve,
    correlate,
    gaussian_blur,
    kernel_plan,
    laplacian,
    sharpen,
)

pytestmark = pytest.mark.skipif(_native.LIB is None,
                                reason="dotwise._dwconv is not built in this install (no C "
                                       "compiler, or DOTWISE_PURE_NUMPY=1)")

MODES = ["reflect", "mirror", "nearest", "wrap", "constant"]
TILE_BYTES = 192 * 1024   # DW_TILE_BYTES in _dwconv.c: a column tile's kh source rows


def tile_width(kh: int, kw: int, channels: int, itemsize: int) -> int:
    """Pixels per column tile of the compiled separable plan (as _dwconv.c computes it)."""
    return max(64, TILE_BYTES // (kh * channels * itemsize) - 2 * (kw // 2))


def scipy_correlate(img: np.ndarray, k: np.ndarray, mode: str, cval: float) -> np.ndarray:
    x = img.astype(np.float64)
    return ndi.correlate(x, k[:, :, None] if x.ndim == 3 else k, mode=mode, cval=cval)


def numpy_engine(fn, *args, **kwargs):
    previous = _engine.use_compiled(False)
    try:
        return fn(*args, **kwargs)
    finally:
        _engine.use_compiled(previous)


def tolerance(img: np.ndarray, k: np.ndarray) -> float:
    scale = max(1.0, float(np.abs(k).sum()))
    return (2e-6 if img.dtype == np.float32 else 1e-13) * scale


def assert_both_engines_match_scipy(img, k, mode, cval=0.0, method="auto"):
    want = scipy_correlate(img, k, mode, cval)
    got = correlate(img, k, mode, cval, method=method)
    assert got.dtype == img.dtype and got.shape == img.shape
    np.testing.assert_allclose(got, want, atol=tolerance(img, k), rtol=0,
                               err_msg=f"compiled, {mode}")
    ref = numpy_engine(correlate, img, k, mode, cval, method=method)
    np.testing.assert_allclose(got, ref, atol=2 * tolerance(img, k), rtol=0,
                               err_msg=f"compiled vs NumPy engine, {mode}")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(23, 31, 3), (9, 7, 1), (5, 4, 4), (17, 2, 3), (1, 13, 2)])
@pytest.mark.parametrize("kshape", [(3, 3), (5, 5), (3, 7), (7, 1), (1, 5)])
def test_direct_plan_borders_and_odd_sizes(rng, mode, dtype, shape, kshape):
    """Interior from the rows in place, q border columns from strips; images as narrow as
    the kernel or narrower (then every row goes through the padded ring)."""
    img = rng.random(shape).astype(dtype)
    k = rng.standard_normal(kshape)
    assert kernel_plan(k, dtype)["engine"] == "compiled"
    assert_both_engines_match_scipy(img, k, mode, cval=0.7, method="direct")


@pytest.mark.parametrize("mode", MODES)
def test_direct_plan_on_a_grey_image(rng, mode):
    img = rng.random((41, 37))
    k = rng.standard_normal((3, 3))
    assert kernel_plan(k)["method"] == "direct"
    out = correlate(img, k, mode, cval=-1.0)
    np.testing.assert_allclose(out, ndi.correlate(img, k, mode=mode, cval=-1.0),
                               atol=1e-13, rtol=0)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype,channels", [(np.float32, 3), (np.float64, 3), (np.float32, 1)])
def test_separable_plan_in_column_tiles(rng, mode, dtype, channels):
    """Wider than three tiles: the halo of interior tiles is read from the image, the
    image edges' from the boundary rule (``wrap``: the far side's columns)."""
    k = gaussian_blur(3).kernel
    kh, kw = k.shape
    width = 3 * tile_width(kh, kw, channels, np.dtype(dtype).itemsize) + 11
    img = rng.random((31, width, channels)).astype(dtype)
    plan = kernel_plan(k, dtype)
    assert plan["method"] == "lowrank" and plan["rank"] == 1 and plan["engine"] == "compiled"
    assert_both_engines_match_scipy(img, k, mode, cval=0.4)


@pytest.mark.parametrize("mode", MODES)
def test_separable_tiles_with_an_asymmetric_rank2_kernel(rng, mode):
    """Rank 2 (two accumulated passes), no mirror symmetry, tiles and halos."""
    k = sum(np.outer(rng.standard_normal(15), rng.standard_normal(9)) for _ in range(2))
    width = 3 * tile_width(15, 9, 3, 8) + 5
    img = rng.random((20, width, 3))
    assert kernel_plan(k, np.float64)["rank"] == 2
    assert_both_engines_match_scipy(img, k, mode, cval=-0.3, method="lowrank")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["gaussian", "box 5", "box 31", "sharpen", "laplacian",
                                  "point-symmetric 5×5", "partly symmetric 1-D"])
def test_symmetric_and_partly_symmetric_kernels(rng, mode, name):
    """The photo filters' kernels (symmetric, equal taps, zero taps) and ones that are
    symmetric only in part."""
    half = rng.standard_normal((5, 5))
    partly = np.array([1.0, 2.0, 3.0, 5.0, 4.0, 2.0, 1.0])      # pairs (0, 6) and (1, 5) only
    kernels = {"gaussian": gaussian_blur(1.5).kernel, "box 5": box_blur(5).kernel,
               "box 31": box_blur(31).kernel, "sharpen": sharpen(0.7).kernel,
               "laplacian": laplacian().kernel,
               "point-symmetric 5×5": half + half[::-1, ::-1],
               "partly symmetric 1-D": np.outer(partly, partly[::-1] + 0.5)}
    k = kernels[name]
    for dtype, shape in ((np.float32, (37, 45, 3)), (np.float64, (12, 40, 1))):
        img = rng.random(shape).astype(dtype)
        assert_both_engines_match_scipy(img, k, mode, cval=0.1)


@pytest.mark.parametrize("kernel", ["box 5", "dense 3×3", "sobel (centre 0)"])
def test_every_isa_variant_runs_the_new_plans(rng, kernel):
    """Each variant this CPU can run gives the NumPy engine's answer (tiles, strips, scans)."""
    kernels = {"box 5": box_blur(5).kernel, "dense 3×3": rng.standard_normal((3, 3)),
               "sobel (centre 0)": np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])}
    k = kernels[kernel]
    img = rng.random((29, 3 * tile_width(5, 5, 3, 4) + 3, 3)).astype(np.float32)
    want = numpy_engine(convolve, img, k, "wrap")
    picked = _native.isa()
    try:
        for variant in _native.ISA_NAMES[: _native.ISA_NAMES.index(picked) + 1]:
            assert _native.force_isa(variant) == variant
            np.testing.assert_allclose(convolve(img, k, "wrap"), want, atol=2e-5, rtol=0,
                                       err_msg=variant)
    finally:
        _native.force_isa(None)


@pytest.mark.parametrize("kernel", ["centre 0 (input scan)", "centre ≠ 0 (output scan)",
                                    "rank 1", "rank 2"])
@pytest.mark.parametrize("where", [(0, 0), (0, -1), (-1, 0), (-1, -1), (15, 1), (15, 30)])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_pixels_anywhere_are_reported(rng, kernel, where, bad):
    kernels = {"centre 0 (input scan)": np.array([[0.0, 1, 0], [1, 0, 1], [0, 1, 0]]),
               "centre ≠ 0 (output scan)": rng.standard_normal((3, 3)) + 0.0,
               "rank 1": box_blur(7).kernel,
               "rank 2": np.outer([1.0, 2, 1], [1.0, 0, -1]) + np.outer([1.0, 0, 1],
                                                                         [0.5, 1, 0.5])}
    k = kernels[kernel]
    img = rng.random((31, 32, 3)).astype(np.float32)
    y, x = where[0] % 31, where[1] % 32
    img[y, x, 1] = bad
    with pytest.raises(ValueError, match=rf"at index \({y}, {x}, 1\)"):
        correlate(img, k)


def test_overflow_from_finite_input_is_not_an_input_error():
    """Finite pixels whose weighted sum overflows float32 give inf, as scipy does, and no
    'not finite' error (the output scan found inf, the input scan then finds none)."""
    img = np.full((20, 30, 3), 3e38, dtype=np.float32)
    for k in (np.ones((3, 3)), box_blur(5).kernel * 25):
        out = correlate(img, k)
        assert np.isinf(out).all()
        ref = ndi.correlate(img, k[:, :, None].astype(np.float32), mode="reflect")
        assert np.array_equal(np.isinf(out), np.isinf(ref))


def test_a_pixel_no_tap_reads_is_not_scanned_by_output():
    """With a zero centre tap the loops scan the input itself: a NaN in a pixel the
    kernel never reads (last row, kernel looking only upwards) is still reported."""
    k = np.zeros((3, 3))
    k[0, 1] = 1.0                                      # out[y] = img[y - 1]
    img = np.zeros((10, 12), dtype=np.float32)
    img[9, 5] = np.nan
    with pytest.raises(ValueError, match=r"at index \(9, 5\)"):
        correlate(img, k, "constant")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [3, 5, 9])
def test_box_sums_and_row_blocks_at_every_width(rng, mode, dtype, size):
    """Box factors run as sums (a running sum down blocks of rows) and the vertical pass
    computes several rows per sweep: heights that are not a whole number of blocks,
    widths shorter than one vector block and between blocks (the last block overlaps)."""
    k = box_blur(size).kernel
    for shape in ((1, 7, 3), (6, 13, 3), (13, 29, 1), (10, 67, 3), (9, 150, 2)):
        img = rng.random(shape).astype(dtype)
        assert_both_engines_match_scipy(img, k, mode, cval=0.3)
    rect = np.full((size, 2 * size + 1), 1.0 / (size * (2 * size + 1)))   # kh != kw
    assert_both_engines_match_scipy(rng.random((11, 37, 3)).astype(dtype), rect, mode, 0.2)


@pytest.mark.parametrize("mode", MODES)
def test_a_box_factor_in_a_rank2_kernel_adds_to_the_first_pass(rng, mode):
    """The second pass of a rank-2 plan adds to the output; here it is a 5 × 5 box (the
    other term is orthogonal to it, so the SVD gives the box as one exact factor)."""
    k = np.outer(np.ones(5), np.ones(5)) + np.outer([1.0, -1, 0, 1, -1], [2.0, 0, 0, 0, -2])
    assert kernel_plan(k, np.float32)["rank"] == 2
    for shape in ((23, 31, 3), (8, 70, 3)):
        assert_both_engines_match_scipy(rng.random(shape).astype(np.float32), k, mode, 0.5,
                                        method="lowrank")


def test_blocks_of_rows_scan_for_non_finite_pixels_in_every_row(rng):
    """The vertical pass sweeps 4 rows at once: a NaN in any row of a block is found."""
    for k in (box_blur(5).kernel, gaussian_blur(1.0).kernel):
        for y in range(9):
            img = rng.random((9, 70, 3)).astype(np.float32)
            img[y, 69, 2] = np.nan
            with pytest.raises(ValueError, match=rf"at index \({y}, 69, 2\)"):
                correlate(img, k)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kshape", [(3, 3), (3, 5), (3, 1)])
@pytest.mark.parametrize("height", [1, 4, 7, 13])
def test_dense_three_row_kernels_in_blocks_of_four_rows(rng, mode, kshape, height):
    """A kernel of 3 dense rows runs 4 output rows at once; the rows left over (height
    not a multiple of 4) and kernels with a zero tap run one row at a time."""
    k = rng.standard_normal(kshape) + 3.0                       # no zero tap
    for dtype in (np.float32, np.float64):
        img = rng.random((height, 37, 3)).astype(dtype)
        assert_both_engines_match_scipy(img, k, mode, cval=0.6, method="direct")
    # rows exactly 4 KiB apart (their sweep would share L1 sets): one row at a time
    assert_both_engines_match_scipy(rng.random((height, 1024)).astype(np.float32), k, mode,
                                    cval=0.6, method="direct")
    k[1, 0] = 0.0                                               # one zero tap: the row loop
    assert_both_engines_match_scipy(rng.random((height, 37, 3)).astype(np.float32), k, mode,
                                    cval=0.6, method="direct")


def split_everything(monkeypatch, pool: str) -> None:
    """Make every image big enough to split, on the C thread pool or the Python one."""
    monkeypatch.setattr(_engine, "_PARALLEL_WORK_C_POOL", 0.0)
    monkeypatch.setattr(_engine, "_PARALLEL_WORK_COMPILED", 0.0)
    if pool == "Python":                    # what a build without POSIX threads runs
        monkeypatch.setattr(_native, "threaded", lambda: False)


POOLS = ["C", "Python"]


@pytest.mark.parametrize("pool", POOLS)
@pytest.mark.parametrize("kernel", ["dense 3×3", "box 5", "gaussian", "rank 2"])
def test_stripes_that_start_and_end_anywhere(rng, monkeypatch, kernel, pool):
    """Stripes on threads start at any row, inside a block of 4 rows or not."""
    k = {"dense 3×3": rng.standard_normal((3, 3)), "box 5": box_blur(5).kernel,
         "gaussian": gaussian_blur(1.2).kernel,
         "rank 2": np.outer([1.0, 2, 1], [1.0, 0, -1]) + np.outer([1.0, 0, 1], [0.5, 1, 0.5])
         }[kernel]
    img = rng.random((43, 50, 3)).astype(np.float32)
    want = numpy_engine(correlate, img, k, "mirror")
    split_everything(monkeypatch, pool)
    for threads in ("2", "3", "5"):
        monkeypatch.setenv("DOTWISE_NUM_THREADS", threads)
        np.testing.assert_allclose(correlate(img, k, "mirror"), want, atol=2e-5, rtol=0,
                                   err_msg=f"{threads} threads")


@pytest.mark.parametrize("pool", POOLS)
@pytest.mark.parametrize("kernel", ["centre 0 (input scan)", "centre ≠ 0 (output scan)",
                                    "rank 2"])
@pytest.mark.parametrize("row", [0, 20, 21, 63])
def test_every_stripe_reports_a_bad_pixel(rng, monkeypatch, kernel, row, pool):
    """A NaN in any stripe (first, middle, last) stops the split call with the same error."""
    k = {"centre 0 (input scan)": np.array([[0.0, 1, 0], [1, 0, 1], [0, 1, 0]]),
         "centre ≠ 0 (output scan)": rng.standard_normal((3, 3)),
         "rank 2": np.outer([1.0, 2, 1], [1.0, 0, -1]) + np.outer([1.0, 0, 1], [0.5, 1, 0.5])
         }[kernel]
    img = rng.random((64, 40, 3)).astype(np.float32)
    img[row, 7, 2] = np.nan
    split_everything(monkeypatch, pool)
    monkeypatch.setenv("DOTWISE_NUM_THREADS", "3")
    with pytest.raises(ValueError, match=rf"at index \({row}, 7, 2\)"):
        correlate(img, k)


def test_callers_on_many_threads_share_the_c_pool(rng, monkeypatch):
    """Python threads filtering at once: whoever finds the pool busy runs alone, and
    every answer is the one a single call gives."""
    from concurrent.futures import ThreadPoolExecutor

    split_everything(monkeypatch, "C")
    monkeypatch.setenv("DOTWISE_NUM_THREADS", "2")
    images = [rng.random((60 + i, 45, 3)).astype(np.float32) for i in range(12)]
    kernels = [box_blur(5).kernel, rng.standard_normal((3, 3)), gaussian_blur(1.5).kernel]
    jobs = [(img, kernels[i % 3]) for i, img in enumerate(images)] * 4
    want = [numpy_engine(correlate, img, k, "reflect") for img, k in jobs]
    with ThreadPoolExecutor(6) as ex:
        got = list(ex.map(lambda job: correlate(job[0], job[1], "reflect"), jobs))
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        np.testing.assert_allclose(g, w, atol=2e-5, rtol=0, err_msg=f"call {i}")


def run_python(code: str, timeout: float = 120):
    import os
    import subprocess
    import sys

    env = dict(os.environ, DOTWISE_NUM_THREADS="2", OPENBLAS_NUM_THREADS="1",
               OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.mark.skipif(not _native.threaded(), reason="the C pool runs serially in this build")
def test_a_forked_child_gets_a_pool_of_its_own():
    """After fork() the child has none of the parent's workers (nor their locks): its
    split calls must still finish, with the parent's answers (a hang is a failure)."""
    code = (
        "import os, numpy as np\n"
        "from dotwise.image import _engine, box_blur, correlate\n"
        "_engine._PARALLEL_WORK_C_POOL = 0.0\n"
        "img = np.random.default_rng(1).random((90, 70, 3)).astype(np.float32)\n"
        "k = box_blur(5).kernel\n"
        "want = correlate(img, k)          # the parent's pool is now running\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    ok = all(np.array_equal(correlate(img, k), want) for _ in range(20))\n"
        "    os._exit(0 if ok else 3)\n"
        "_, status = os.waitpid(pid, 0)\n"
        "assert os.waitstatus_to_exitcode(status) == 0, status\n"
        "assert np.array_equal(correlate(img, k), want)\n"
        "print('ok')\n")
    done = run_python(code, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


@pytest.mark.skipif(not _native.threaded(), reason="the C pool runs serially in this build")
def test_an_idle_pool_holds_no_core():
    """The workers spin ~50 µs after a call and then sleep: in the 300 ms after a burst of
    split calls the process burns a few ms of CPU at most (OpenMP runtimes spin for
    milliseconds after each region, and OpenBLAS's threads for longer)."""
    code = (
        "import time, numpy as np\n"
        "from dotwise.image import _engine, box_blur, correlate\n"
        "_engine._PARALLEL_WORK_C_POOL = 0.0\n"
        "img = np.random.default_rng(1).random((400, 600, 3)).astype(np.float32)\n"
        "for _ in range(30):\n"
        "    correlate(img, box_blur(5).kernel)\n"
        "c0, t0 = time.process_time(), time.perf_counter()\n"
        "time.sleep(0.3)\n"
        "print(time.process_time() - c0, time.perf_counter() - t0)\n")
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    cpu, wall = map(float, done.stdout.split())
    assert wall >= 0.29 and cpu < 0.02, f"{cpu * 1e3:.1f} ms of CPU while idle for {wall:.2f} s"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel", ["box 5", "gaussian", "dense 3×3"])
def test_images_at_any_address(rng, dtype, kernel):
    """The loops align their loads and stores after a first, overlapping block: an image
    (and so its rows) starting at any element offset gives the same answer."""
    k = {"box 5": box_blur(5).kernel, "gaussian": gaussian_blur(1.5).kernel,
         "dense 3×3": rng.standard_normal((3, 3))}[kernel]
    shape, n = (21, 83, 3), 21 * 83 * 3
    pixels = rng.random(shape).astype(dtype)
    want = numpy_engine(correlate, pixels, k, "nearest")
    buffer = np.empty(n + 16, dtype)
    for offset in range(16):
        img = buffer[offset:offset + n].reshape(shape)
        img[...] = pixels                                     # same pixels, new address
        np.testing.assert_allclose(correlate(img, k, "nearest"), want,
                                   atol=2 * tolerance(img, k), rtol=0,
                                   err_msg=f"offset {offset}")
