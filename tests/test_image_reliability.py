"""Image reliability (issue 14): damaged .dwz headers, absurd kernel sizes, float images.

* every single-bit flip of a .dwz file is refused, and old (version-1) files, whose
  height and width were outside the checksum, still decode — and their damaged sizes
  are caught against the payload before anything is allocated;
* a blur that would need gigabytes of kernel is refused with the size it would need;
* a floating-point image outside [0, 1] (or with NaN) is an error naming the file and
  the range, never NaN or 9900 handed on.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from typer.testing import CliRunner

from dotwise import DataFormatError
from dotwise.image import (
    CompressedImage,
    block_compress,
    box_blur,
    custom,
    dwz,
    gaussian_blur,
    gaussian_kernel1d,
    load_image,
    motion_blur,
    save_image,
    svd_compress,
)
from dotwise.image.filters import MAX_KERNEL_SIZE

_V1 = struct.Struct("<4sBBIIBII")      # the version-1 header, as dwz's docstring lays it out


def _small_image(channels: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:14, 0:19] / 19.0
    base = 0.5 + 0.3 * np.sin(5 * x) * np.cos(3 * y)
    img = np.clip(base[:, :, None] + 0.05 * rng.standard_normal((14, 19, channels)), 0, 1)
    return img[:, :, 0] if channels == 1 else img


SMALL_FILES = {
    "svd-grey": lambda: svd_compress(_small_image(1), rank=2),
    "svd-colour-float32": lambda: svd_compress(_small_image(3), rank=3, bits=32),
    "block-colour": lambda: block_compress(_small_image(3), quality=40),
    "block-grey": lambda: block_compress(_small_image(1), quality=70),
}


def _as_version_1(c: CompressedImage) -> bytes:
    """The same image in the version-1 layout: CRC-32 of the payload only."""
    h, w, ch = c.shape
    method = {"svd": 1, "block": 2}[c.method]
    return _V1.pack(dwz.MAGIC, 1, method, h, w, ch, len(c.payload),
                    zlib.crc32(c.payload)) + c.payload


def _flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


# ----------------------------------------------------------------------- .dwz, version 3
@pytest.mark.parametrize("name", SMALL_FILES)
def test_every_single_bit_flip_of_a_dwz_file_is_refused(name):
    data = SMALL_FILES[name]().to_bytes()
    assert data[4] == dwz.FORMAT_VERSION == 3
    accepted = []
    for bit in range(8 * len(data)):
        try:
            CompressedImage.from_bytes(_flip(data, bit))
        except DataFormatError:
            continue
        accepted.append(bit)
    assert not accepted, f"{name}: flips of bits {accepted[:10]} were accepted"


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(sorted(SMALL_FILES)), start=st.integers(0, 10**6),
       burst=st.binary(min_size=1, max_size=4).filter(lambda b: any(b)))
def test_any_burst_of_up_to_32_flipped_bits_is_refused(name, start, burst):
    """CRC-32 detects every error burst of up to 32 bits, header or payload."""
    data = bytearray(_FILES[name])
    start %= len(data) - len(burst) + 1
    for i, b in enumerate(burst):
        data[start + i] ^= b
    with pytest.raises(DataFormatError):
        CompressedImage.from_bytes(bytes(data))


_FILES = {name: make().to_bytes() for name, make in SMALL_FILES.items()}


# ----------------------------------------------------------------------- .dwz, version 1
@pytest.mark.parametrize("name", SMALL_FILES)
def test_version_1_files_still_decode_to_the_same_image(name, tmp_path):
    c = SMALL_FILES[name]()
    old = tmp_path / "old.dwz"
    old.write_bytes(_as_version_1(c))
    from dotwise.image import load_compressed

    back = load_compressed(old)
    assert back.shape == c.shape and back.method == c.method
    np.testing.assert_array_equal(back.decompress(), c.decompress())


@pytest.mark.parametrize("name", SMALL_FILES)
def test_version_1_size_damage_is_caught_before_allocating(name):
    """Height and width are outside the version-1 checksum. Each flip of their 64 bits must
    raise DataFormatError — no MemoryError, no NaN, no silently reshaped image — except,
    for the block codec, a size within the same count of 8-pixel blocks, which the payload
    cannot tell apart (dwz's docstring says so): that decodes to a finite image."""
    c = SMALL_FILES[name]()
    data = _as_version_1(c)
    h, w, _ = c.shape
    silent = []
    for bit in range(6 * 8, 14 * 8):                    # the height and width fields
        damaged = _flip(data, bit)
        try:
            img = CompressedImage.from_bytes(damaged).decompress()
        except DataFormatError:
            continue
        _, _, _, dh, dw, *_ = _V1.unpack_from(damaged)
        silent.append((dh, dw))
        assert c.method == "block", f"{name}: size {(dh, dw)} decoded silently"
        assert (-(-dh // 8), -(-dw // 8)) == (-(-h // 8), -(-w // 8))
        assert img.shape[:2] == (dh, dw) and np.isfinite(img).all()
    assert len(silent) <= 6      # at most the low bits of each size


def test_sizes_are_checked_against_the_payload_not_trusted():
    c = svd_compress(_small_image(1), rank=2)
    for h, w in [(2**31, 19), (14, 2**32 - 1), (14, 18), (13, 19)]:
        forged = CompressedImage("svd", (h, w, 1), c.payload)
        with pytest.raises(DataFormatError, match="corrupt svd"):
            forged.decompress()


# ----------------------------------------------------------------------- kernel sizes
@pytest.mark.parametrize("make, words", [
    (lambda: gaussian_blur(1e4), "sigma=10000 with truncate=4 gives a 80001×80001 kernel"),
    (lambda: gaussian_blur(1e300), "more memory than exists"),
    (lambda: gaussian_kernel1d(2.0, truncate=1e308), "infinitely wide"),
    (lambda: box_blur(10001), "size=10001 gives a 10001×10001 kernel"),
    (lambda: motion_blur(10001), "length=10001"),
    (lambda: custom(np.zeros((MAX_KERNEL_SIZE + 2, 1))), "kernel of shape"),
])
def test_kernels_that_cannot_fit_are_refused_before_allocating(make, words):
    with pytest.raises(ValueError, match=words) as info:
        make()
    assert f"the largest kernel side the filters take is {MAX_KERNEL_SIZE}" in str(info.value)


def test_the_largest_allowed_gaussian_still_builds_and_blurs():
    sigma = (MAX_KERNEL_SIZE // 2 - 0.5) / 4.0
    assert gaussian_kernel1d(sigma).size <= MAX_KERNEL_SIZE
    img = np.full((9, 9), 0.25, dtype=np.float32)
    np.testing.assert_allclose(gaussian_blur(3.0)(img), img, atol=1e-6)   # blur of a constant


@pytest.mark.parametrize("flag, value", [("--gaussian", "1e5"), ("--box", "100001")])
def test_cli_refuses_huge_kernels_in_one_line(tmp_path, flag, value):
    from dotwise.cli import get_app

    src = save_image(tmp_path / "in.png", _small_image(3))
    res = CliRunner().invoke(get_app(), ["filter", str(src), str(tmp_path / "out.png"),
                                         flag, value])
    assert res.exit_code == 2, res.output
    assert "error:" in res.output and "Traceback" not in res.output
    assert "the largest kernel side" in res.output


# ----------------------------------------------------------------------- float images
def _save_float_tiff(path, arr):
    Image.fromarray(np.asarray(arr, dtype=np.float32), mode="F").save(path)
    return path


def test_float_tiff_in_range_loads_exactly(tmp_path):
    arr = np.linspace(0, 1, 20, dtype=np.float32).reshape(4, 5)
    np.testing.assert_array_equal(load_image(_save_float_tiff(tmp_path / "ok.tif", arr)), arr)


def test_float_tiff_out_of_range_names_the_file_and_the_range(tmp_path):
    path = _save_float_tiff(tmp_path / "hdr.tif", np.linspace(0, 9900, 20).reshape(4, 5))
    with pytest.raises(DataFormatError, match=r"hdr\.tif: a floating-point image with values "
                                              r"in \[0, 9900\]; load_image expects \[0, 1\]"):
        load_image(path)
    neg = _save_float_tiff(tmp_path / "neg.tif", np.full((3, 3), -0.5))
    with pytest.raises(DataFormatError, match=r"\[-0.5, -0.5\]"):
        load_image(neg)


def test_float_tiff_with_nan_is_an_error_not_nan(tmp_path):
    arr = np.full((4, 4), 0.5, dtype=np.float32)
    arr[1, 2] = np.nan
    arr[3, 3] = np.inf
    path = _save_float_tiff(tmp_path / "nan.tif", arr)
    with pytest.raises(DataFormatError, match=r"nan\.tif: .* 2 non-finite pixel value"):
        load_image(path)


def test_32_bit_integer_image_beyond_16_bits_is_an_error(tmp_path):
    path = tmp_path / "wide.tif"
    Image.fromarray(np.array([[0, 70000]], dtype=np.int32), mode="I").save(path)
    with pytest.raises(DataFormatError, match=r"values in \[0, 70000\].*\[0, 65535\]"):
        load_image(path)
    ok = tmp_path / "ok16.png"
    Image.fromarray(np.array([[0, 65535]], dtype=np.uint16)).save(ok)
    np.testing.assert_allclose(load_image(ok), [[0.0, 1.0]])
