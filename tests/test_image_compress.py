"""Codecs, the .dwz format, and the quality metrics against scikit-image."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.fft

from dotwise import DataFormatError, ShapeError
from dotwise.image import (
    CompressedImage,
    block_compress,
    compression_report,
    dct_matrix,
    dwz,
    jpeg_at_size,
    load_compressed,
    psnr,
    randomized_svd,
    sample_image,
    save_compressed,
    ssim,
    svd_compress,
)


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """The oracles' own SVDs run single-threaded: quick and steady on 2 shared cores."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def photo():
    return sample_image("china", max_size=200)          # (133, 200, 3)


# ---------------------------------------------------------------- metrics
@pytest.mark.parametrize("name", ["china", "flower", "camera", "astronaut", "coffee"])
def test_ssim_and_psnr_match_scikit_image(name):
    metrics = pytest.importorskip("skimage.metrics")
    a = sample_image(name).astype(np.float64)
    b = np.clip(a + np.random.default_rng(1).normal(0, 0.04, a.shape), 0, 1)
    kw = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1)
    if a.ndim == 3:
        kw["channel_axis"] = -1
    assert abs(ssim(a, b) - metrics.structural_similarity(a, b, **kw)) < 1e-3
    assert abs(ssim(a, b) - metrics.structural_similarity(a, b, **kw)) < 1e-9  # in fact exact
    assert psnr(a, b) == pytest.approx(metrics.peak_signal_noise_ratio(a, b, data_range=1),
                                       rel=1e-12)


def test_metric_edge_cases(rng):
    a = rng.random((20, 20))
    assert psnr(a, a) == float("inf") and ssim(a, a) == pytest.approx(1.0)
    value, smap = ssim(a, a * 0.5, full=True)
    assert smap.shape == a.shape and value < 1
    with pytest.raises(ShapeError, match="same shape"):
        psnr(a, a[:10])
    with pytest.raises(ShapeError, match="at least 11×11"):
        ssim(a[:5, :5], a[:5, :5])


# ---------------------------------------------------------------- SVD
def test_svd_error_is_the_discarded_singular_values_before_quantisation(photo):
    A = photo[:, :, 0].astype(np.float64)
    s = np.linalg.svd(A, compute_uv=False)
    for k in (1, 5, 20, 60):
        c = svd_compress(A, rank=k, bits=32)
        err = np.sum((A - c.decompress(clip=False)) ** 2)
        assert err == pytest.approx(np.sum(s[k:] ** 2), rel=1e-4)      # Eckart–Young
        assert c.params["energy"][0] == pytest.approx(np.sum(s[:k] ** 2) / np.sum(s**2))


def test_svd_quality_grows_with_rank_and_sizes_are_compact(photo):
    values = [psnr(photo, svd_compress(photo, rank=k).decompress()) for k in (2, 8, 30, 90)]
    assert values == sorted(values) and values[-1] > values[0] + 8
    h, w, c = photo.shape
    comp = svd_compress(photo, rank=10)
    assert comp.nbytes < 10 * c * (h + w + 8) + 100        # ≈ 1 byte per factor entry


def test_svd_energy_and_ratio_targets(photo):
    c = svd_compress(photo, energy=0.99)
    assert all(e >= 0.99 for e in c.params["energy"])
    smaller = [r - 1 for r in c.params["ranks"]]
    A = photo.astype(np.float64)
    for ch, k in enumerate(smaller):
        s = np.linalg.svd(A[:, :, ch], compute_uv=False)
        assert np.sum(s[:k] ** 2) / np.sum(s**2) < 0.99            # the smallest such rank
    r = svd_compress(photo, ratio=0.1)
    assert r.ratio <= 0.1
    bigger = svd_compress(photo, rank=r.params["ranks"][0] + 1)
    assert bigger.ratio > 0.1                                       # the largest that fits


def test_randomized_svd_finds_the_top_singular_values(rng):
    A = rng.standard_normal((400, 40)) @ np.diag(0.8 ** np.arange(40)) @ rng.standard_normal((40, 350))
    U, s, Vt = randomized_svd(A, 10)
    exact = np.linalg.svd(A, compute_uv=False)[:10]
    np.testing.assert_allclose(s, exact, rtol=1e-6)
    np.testing.assert_allclose(U.T @ U, np.eye(10), atol=1e-10)


def test_svd_bad_input(photo):
    with pytest.raises(ValueError, match="rank must be between 1 and min\\(H, W\\) = 133"):
        svd_compress(photo, rank=0)
    with pytest.raises(ValueError, match="rank must be between 1 and min\\(H, W\\) = 133"):
        svd_compress(photo, rank=134)
    with pytest.raises(ValueError, match="ratio must be in \\(0, 1\\]"):
        svd_compress(photo, ratio=1.5)
    with pytest.raises(ValueError, match="ratio must be a finite number > 0"):
        svd_compress(photo, ratio=0)
    with pytest.raises(ValueError, match="give only one of rank, energy or ratio"):
        svd_compress(photo, rank=3, ratio=0.1)
    with pytest.raises(ValueError, match="too small for SVD"):
        svd_compress(photo, ratio=0.001)
    with pytest.raises(ValueError, match="energy must be in \\(0, 1\\]"):
        svd_compress(photo, energy=2)


# ---------------------------------------------------------------- block codec
def test_dct_matrix_is_orthonormal_and_is_scipys_dct():
    D = dct_matrix(8)
    np.testing.assert_allclose(D @ D.T, np.eye(8), atol=1e-14)
    x = np.random.default_rng(0).standard_normal(8)
    np.testing.assert_allclose(D @ x, scipy.fft.dct(x, norm="ortho"), atol=1e-13)


def test_block_quality_increases_psnr_and_size(photo):
    runs = [block_compress(photo, q) for q in (10, 40, 75, 95)]
    sizes = [c.nbytes for c in runs]
    values = [psnr(photo, c.decompress()) for c in runs]
    assert sizes == sorted(sizes) and values == sorted(values)
    assert values[-1] > 38


def test_block_ratio_is_met_and_is_the_best_quality_that_fits(photo):
    c = block_compress(photo, ratio=0.1, subsampling="4:2:0")
    assert c.ratio <= 0.1
    q = c.params["quality"]
    if q < 100:
        assert block_compress(photo, q + 1, subsampling="4:2:0").ratio > 0.1


@pytest.mark.parametrize("name", ["china", "coffee", "camera"])
def test_block_codec_is_at_least_jpegs_psnr_at_10_percent(name):
    """Pillow JPEG with optimize=True and the better chroma subsampling as the oracle."""
    img = sample_image(name, max_size=256)
    c = block_compress(img, ratio=0.1)
    _, data, dec = jpeg_at_size(img, int(0.1 * img.size))
    assert c.nbytes <= 0.1 * img.size and len(data) <= 0.1 * img.size
    assert psnr(img, c.decompress()) >= psnr(img, dec)


def test_klt_basis_and_grey_images(photo):
    klt = block_compress(photo, 80, basis="klt")
    assert klt.params["basis"] == "klt" and psnr(photo, klt.decompress()) > 30
    grey = photo.mean(axis=2)
    g = block_compress(grey, 70)
    assert g.shape == (133, 200, 1) and g.decompress().shape == (133, 200)
    assert psnr(grey, g.decompress()) > 30
    odd = photo[:13, :21]                                     # not a multiple of 8 or 2
    assert block_compress(odd, 90).decompress().shape == (13, 21, 3)


def test_block_bad_input(photo):
    with pytest.raises(ValueError, match="quality must be in \\[1, 100\\]"):
        block_compress(photo, 101)
    with pytest.raises(ValueError, match="give quality or ratio, not both"):
        block_compress(photo, 50, ratio=0.1)
    with pytest.raises(ValueError, match="below what the block codec reaches"):
        block_compress(photo, ratio=0.0005)
    with pytest.raises(ValueError, match="values must lie in \\[0, 1\\]"):
        block_compress(photo * 255)
    with pytest.raises(ShapeError, match="alpha channel"):
        block_compress(np.zeros((8, 8, 4)))
    with pytest.raises(ValueError, match="basis must be one of"):
        block_compress(photo, basis="wavelet")


def test_uint8_input_is_accepted(photo):
    u8 = (photo * 255 + 0.5).astype(np.uint8)
    assert psnr(photo, block_compress(u8, 90).decompress()) > 35


# ---------------------------------------------------------------- .dwz files
@pytest.mark.parametrize("make", [lambda im: block_compress(im, 60),
                                  lambda im: block_compress(im, 60, basis="klt"),
                                  lambda im: svd_compress(im, rank=12)])
def test_dwz_round_trip(photo, tmp_path, make):
    c = make(photo)
    path = save_compressed(tmp_path / "x.dwz", c)
    assert path.stat().st_size == c.nbytes
    back = load_compressed(path)
    assert back.method == c.method and back.shape == c.shape and back.params == {
        k: v for k, v in c.params.items()
        if k not in ("energy", "energy_total", "singular_values")}  # encoder facts, not stored
    np.testing.assert_array_equal(back.decompress(), c.decompress())
    assert [p.name for p in tmp_path.iterdir()] == ["x.dwz"]           # atomic, no leftovers


def test_dwz_rejects_damaged_files(photo, tmp_path):
    data = block_compress(photo, 50).to_bytes()
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF
    cases = {
        "truncated": (data[:-10], "truncated .dwz file: the header promises"),
        "header": (data[:10], "shorter than the 23-byte header"),
        "corrupt": (bytes(flipped), "CRC-32 checksum mismatch"),
        "magic": (b"PNG!" + data[4:], "not a .dwz file"),
        "newer": (data[:4] + bytes([4]) + data[5:], "format version 4 was written by a newer"),
        "trailing": (data + b"xx", "unexpected bytes"),
    }
    for name, (blob, message) in cases.items():
        (tmp_path / f"{name}.dwz").write_bytes(blob)
        with pytest.raises(DataFormatError, match=message):
            load_compressed(tmp_path / f"{name}.dwz")
    with pytest.raises(FileNotFoundError, match="no such .dwz file"):
        load_compressed(tmp_path / "missing.dwz")


def test_payload_corruption_behind_a_valid_checksum_is_reported(photo):
    c = block_compress(photo, 50)
    bad = CompressedImage("block", c.shape, c.payload[:40])
    with pytest.raises(DataFormatError, match="corrupt block payload"):
        bad.decompress()
    assert dwz.unpack(bad.to_bytes())[0] == "block"


def test_save_compressed_type_check(tmp_path):
    with pytest.raises(TypeError, match="compressed must be a CompressedImage"):
        save_compressed(tmp_path / "x.dwz", np.zeros((3, 3)))


# ---------------------------------------------------------------- report
def test_compression_report_rows_and_plot(photo):
    import matplotlib

    matplotlib.use("Agg")
    rep = compression_report(photo, [0.05, 0.1])
    assert len(rep.rows) == 6
    for r in rep.rows:
        assert r["ratio"] <= r["target_ratio"] and 10 < r["psnr"] < 60 and 0 < r["ssim"] <= 1
    block10 = next(r for r in rep.rows if r["method"] == "block" and r["target_ratio"] == 0.1)
    svd10 = next(r for r in rep.rows if r["method"] == "svd" and r["target_ratio"] == 0.1)
    assert block10["psnr"] > svd10["psnr"]
    assert "| block | 10% |" in rep.table()
    fig = rep.plot()
    assert len(fig.axes[0].lines) == 3


def test_svd_compress_reports_its_spectrum_and_total_energy(photo):
    c = svd_compress(photo, rank=7)
    img = np.asarray(photo, dtype=np.float64).reshape(photo.shape[0], photo.shape[1], -1)
    sv = np.asarray(c.params["singular_values"])
    for ch in range(img.shape[2]):                      # oracle: NumPy's SVD of each channel
        np.testing.assert_allclose(sv[ch], np.linalg.svd(img[:, :, ch], compute_uv=False),
                                   rtol=1e-5, atol=1e-6)
    expected = np.sum(sv[:, :7] ** 2) / np.sum(img ** 2)
    assert c.params["energy_total"] == pytest.approx(expected, rel=1e-6)
    assert "singular_values" not in repr(c)
