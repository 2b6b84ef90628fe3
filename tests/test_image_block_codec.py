"""The block codec's range-coded layout: round trips, budgets, robustness, both coders.

* files of the earlier layout (LZMA, ``tests/data/block_v2_*.dwz``, written by the
  previous release) still decode to the images they decoded to then;
* the byte budget is honoured and PSNR grows with it;
* truncated or damaged payloads raise ``DataFormatError`` (never a crash, a hang, or a
  non-finite image), and an unknown payload layout is named in the error;
* the pure-Python coder and the compiled one write and read the same bytes;
* at 5 % of the raw size, the codec is at least as good as Pillow's JPEG with
  ``optimize=True`` and the better chroma subsampling (the oracle).
"""

from __future__ import annotations

import struct
import time
from pathlib import Path

import numpy as np
import pytest

from dotwise import DataFormatError
from dotwise.image import (
    CompressedImage,
    _arith,
    block_compress,
    dwz,
    jpeg_at_size,
    load_compressed,
    psnr,
    sample_image,
    save_compressed,
)

DATA = Path(__file__).parent / "data"


def _need_compiled() -> None:
    if not _arith.compiled():
        pytest.skip("the compiled coder dotwise._dwcodec is not loaded (not built, or "
                    "DOTWISE_PURE_NUMPY=1); the Python coder is tested alone")


@pytest.fixture(scope="module")
def photo():
    return sample_image("china", max_size=160)          # (107, 160, 3)


def _texture(h: int, w: int, channels: int, seed: int = 0) -> np.ndarray:
    """A seeded image with edges, gradients and noise (something of everything)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    base = 0.5 + 0.25 * np.sin(9 * x + 4 * y) + 0.15 * (x > 0.5)
    img = base[:, :, None] + 0.06 * rng.standard_normal((h, w, channels))
    img = np.clip(img, 0, 1)
    return img[:, :, 0] if channels == 1 else img


# ------------------------------------------------------------------ old files
@pytest.mark.parametrize("name", ["block_v2_dct420", "block_v2_klt444", "block_v2_grey"])
def test_files_of_the_lzma_layout_still_decode(name):
    assert (DATA / f"{name}.dwz").read_bytes()[4] == 2     # a version-2 file, layout 1
    c = load_compressed(DATA / f"{name}.dwz")
    expected = np.load(DATA / f"{name}.npy", allow_pickle=False).astype(np.float64)
    got = np.rint(c.decompress() * 255).astype(np.float64)
    assert got.shape == expected.shape
    assert np.max(np.abs(got - expected)) <= 1.0     # rounding of the last bit at most
    assert "step" not in c.params and 1 <= c.params["quality"] <= 100


def test_new_files_are_version_3_with_layout_2(photo):
    data = block_compress(photo, 60).to_bytes()
    assert data[4] == dwz.FORMAT_VERSION == 3
    payload = data[dwz.HEADER_SIZE:]
    assert payload[4] & 0x80 and payload[6] == 2


def test_an_unknown_payload_layout_names_its_number(photo):
    c = block_compress(photo, 60)
    bad = bytearray(c.payload)
    bad[6] = 9
    with pytest.raises(DataFormatError, match="block payload layout 9 is not one this dotwise"):
        CompressedImage.from_bytes(dwz.pack("block", c.shape, bytes(bad)))


def test_a_payload_for_another_image_size_is_refused(photo):
    c = block_compress(photo, 60)
    h, w, ch = c.shape
    for shape in [(h + 1, w, ch), (h, w - 1, ch), (h, w + 8, ch), (2**20, w, ch)]:
        with pytest.raises(DataFormatError, match="another image size"):
            CompressedImage("block", shape, c.payload).decompress()
    with pytest.raises(DataFormatError, match="beyond what the codec writes"):
        CompressedImage("block", (2**31, 19, ch), c.payload).decompress()


# ------------------------------------------------------------------ round trips, budgets
@pytest.mark.parametrize("make", [
    lambda: _texture(37, 53, 3),
    lambda: _texture(8, 8, 3),
    lambda: _texture(1, 1, 3),
    lambda: _texture(23, 9, 1),
    lambda: _texture(64, 64, 3, seed=3)[:, :, 0],
])
@pytest.mark.parametrize("kwargs", [{"quality": 75}, {"quality": 100}, {"quality": 1},
                                    {"ratio": 0.2}, {"quality": 60, "basis": "klt"}])
def test_round_trip_through_a_file_is_exact(make, kwargs, tmp_path):
    img = make()
    if "ratio" in kwargs and img.size < 1000:            # too small for a 20 % budget
        kwargs = {"quality": 50}
    c = block_compress(img, **kwargs)
    path = save_compressed(tmp_path / "x.dwz", c)
    back = load_compressed(path)
    assert back.params == c.params and back.shape == c.shape
    out = back.decompress()
    np.testing.assert_array_equal(out, c.decompress())
    assert out.shape == img.shape and np.isfinite(out).all()
    assert [p.name for p in tmp_path.iterdir()] == ["x.dwz"]


@pytest.mark.parametrize("name", ["china", "flower"])
def test_budget_is_honoured_and_psnr_grows_with_it(name):
    img = sample_image(name, max_size=192)
    values = []
    for r in (0.01, 0.02, 0.05, 0.1, 0.2):
        c = block_compress(img, ratio=r)
        assert c.nbytes <= r * img.size                # the budget, header included
        assert c.nbytes >= 0.95 * r * img.size         # and most of it used
        values.append(psnr(img, c.decompress()))
    assert values == sorted(values) and values[0] < values[-1] - 6


def test_both_chroma_resolutions_are_fitted_and_the_better_kept(photo):
    auto = block_compress(photo, ratio=0.05)
    fixed = {s: block_compress(photo, ratio=0.05, subsampling=s) for s in ("4:2:0", "4:4:4")}
    assert auto.params["subsampling"] in fixed
    best = max(psnr(photo, c.decompress()) for c in fixed.values())
    assert psnr(photo, auto.decompress()) == pytest.approx(best, abs=1e-6)


def test_the_encoder_reports_what_the_decoder_reads(photo):
    c = block_compress(photo, ratio=0.03)
    p = c.params
    assert set(p) == {"quality", "step", "subsampling", "basis", "deblock"}
    assert 0.25 <= p["step"] <= 4096 and all(0 <= s <= 15 for s in p["deblock"])


def test_a_budget_below_the_coarsest_step_is_an_error_naming_it(photo):
    with pytest.raises(ValueError, match=r"ratio=0.0003 is below .* coarsest step gives"):
        block_compress(photo, ratio=0.0003)


# ------------------------------------------------------------------ damaged payloads
def _stream_start(c: CompressedImage) -> int:
    return struct.calcsize("<fBBBHBBB4B") + (256 + 64 * 64 if c.params["basis"] == "klt" else 0)


@pytest.mark.parametrize("use_compiled", [True, False])
def test_truncated_payloads_raise_data_format_error(use_compiled, monkeypatch):
    if use_compiled:
        _need_compiled()
    if not use_compiled:
        monkeypatch.setattr(_arith, "LIB", None)
    c = block_compress(_texture(40, 48, 3), quality=60)
    for cut in sorted({0, 3, 10, 17, _stream_start(c) + 2, len(c.payload) // 2,
                       len(c.payload) - 1}):
        with pytest.raises(DataFormatError):
            CompressedImage("block", c.shape, c.payload[:cut]).decompress()


@pytest.mark.parametrize("use_compiled", [True, False])
def test_damaged_coefficient_streams_never_crash_or_hang(use_compiled, monkeypatch):
    """Behind a valid checksum (the container's CRC catches damaged files first), random
    damage to the coefficient stream gives DataFormatError or a finite image, quickly."""
    if use_compiled:
        _need_compiled()
    if not use_compiled:
        monkeypatch.setattr(_arith, "LIB", None)
    c = block_compress(_texture(24, 40, 3), quality=70)
    start = _stream_start(c)
    rng = np.random.default_rng(1)
    refused = 0
    for trial in range(120):
        bad = bytearray(c.payload)
        if trial % 3 == 0:                       # random bytes in place of the stream
            bad[start:] = rng.integers(0, 256, len(bad) - start, dtype=np.uint8).tobytes()
        else:
            for _ in range(1 + trial % 4):
                bad[rng.integers(start, len(bad))] ^= 1 << int(rng.integers(8))
        if trial % 5 == 0:                       # and sometimes a few bytes more or less
            bad = bad[:-3] if trial % 2 else bad + bytes(3)
        t0 = time.perf_counter()
        try:
            out = CompressedImage("block", c.shape, bytes(bad)).decompress()
        except DataFormatError:
            refused += 1
        else:
            assert np.isfinite(out).all() and out.shape == (24, 40, 3)
        assert time.perf_counter() - t0 < 5
    assert refused > 60           # most damage is caught: the decoder reads exactly the bytes


def test_damaged_files_are_caught_by_the_checksum(photo, tmp_path):
    data = bytearray(block_compress(photo, ratio=0.05).to_bytes())
    data[len(data) // 2] ^= 0x10
    (tmp_path / "bad.dwz").write_bytes(bytes(data))
    with pytest.raises(DataFormatError, match="CRC-32"):
        load_compressed(tmp_path / "bad.dwz")
    (tmp_path / "short.dwz").write_bytes(bytes(data[:-1]))
    with pytest.raises(DataFormatError, match="truncated"):
        load_compressed(tmp_path / "short.dwz")


# ------------------------------------------------------------------ the two coders
def _random_coefficients(rng, planes, scale):
    n = sum(p for p, _ in planes)
    q = np.zeros((n, 64), np.int32)
    density = np.linspace(0.9, 0.02, 64) * rng.random((n, 1))
    mask = rng.random((n, 64)) < density
    q[mask] = np.rint(rng.laplace(0, scale, mask.sum())).astype(np.int32)
    q[:, 0] = np.cumsum(rng.integers(-40, 41, n)) // 3
    return q


def test_python_coder_round_trips_without_the_extension():
    rng = np.random.default_rng(5)
    planes = [(30, 6), (8, 3), (8, 3)]
    q = _random_coefficients(rng, planes, 4.0)
    q[2, 7] = 2**19                                  # large values take the long codes
    q[5, 63] = -(2**19)
    data = _arith.encode(q, planes, use_compiled=False)
    np.testing.assert_array_equal(_arith.decode(data, planes, use_compiled=False), q)


def test_python_coder_refuses_values_it_cannot_code():
    planes = [(2, 2)]
    q = np.zeros((2, 64), np.int32)
    q[1, 3] = 2**20
    with pytest.raises(ValueError, match="too large to code"):
        _arith.encode(q, planes, use_compiled=False)
    if _arith.compiled():
        with pytest.raises(ValueError, match="too large to code"):
            _arith.encode(q, planes)


@pytest.mark.parametrize("seed", range(4))
def test_compiled_and_python_coders_write_and_read_the_same_bytes(seed):
    _need_compiled()
    rng = np.random.default_rng(seed)
    planes = [[(1, 1)], [(50, 10)], [(35, 7), (12, 4), (12, 4)], [(64, 1), (16, 16)]][seed]
    q = _random_coefficients(rng, planes, [0.5, 2.0, 8.0, 60.0][seed])
    fast = _arith.encode(q, planes)
    assert fast == _arith.encode(q, planes, use_compiled=False)
    np.testing.assert_array_equal(_arith.decode(fast, planes), q)
    np.testing.assert_array_equal(_arith.decode(fast, planes, use_compiled=False), q)
    # and on damaged streams: the same error, or the same coefficients
    for trial in range(20):
        bad = bytearray(fast)
        bad[int(rng.integers(1, len(bad)))] ^= 1 << int(rng.integers(8))
        if trial % 4 == 0:
            bad = bad[: len(bad) - int(rng.integers(1, 4))]
        answers = []
        for compiled in (True, False):
            try:
                answers.append(_arith.decode(bytes(bad), planes, use_compiled=compiled))
            except DataFormatError as exc:
                answers.append(str(exc))
        if isinstance(answers[0], str):
            assert answers[0] == answers[1]
        else:
            np.testing.assert_array_equal(answers[0], answers[1])


def test_whole_files_are_the_same_with_either_coder(photo, monkeypatch):
    _need_compiled()
    small = photo[:48, :72]
    fast = block_compress(small, ratio=0.08)
    monkeypatch.setattr(_arith, "LIB", None)
    slow = block_compress(small, ratio=0.08)
    assert slow.to_bytes() == fast.to_bytes()
    np.testing.assert_array_equal(CompressedImage.from_bytes(fast.to_bytes()).decompress(),
                                  fast.decompress())


# ------------------------------------------------------------------ against JPEG
@pytest.mark.parametrize("name", ["china", "flower"])
def test_at_least_as_good_as_optimized_jpeg_at_5_percent(name):
    PIL = pytest.importorskip("PIL")
    from PIL import features

    if not features.check("jpg"):
        pytest.skip(f"Pillow {PIL.__version__} was built without JPEG support")
    img = sample_image(name, max_size=256)
    budget = int(0.05 * img.size)
    c = block_compress(img, ratio=0.05)
    _, data, jpeg = jpeg_at_size(img, budget, optimize=True)    # better of 4:2:0 / 4:4:4
    assert c.nbytes <= budget and len(data) <= budget
    assert psnr(img, c.decompress()) >= psnr(img, jpeg)
