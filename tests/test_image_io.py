"""Image files: reading modes, writing atomically, damaged files, the bomb limit, samples."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from PIL import Image

from dotwise import DataFormatError
from dotwise.image import SAMPLE_IMAGES, load_image, sample_image, save_image


def test_png_round_trip_is_exact_on_the_8_bit_grid(tmp_path, rng):
    img = rng.integers(0, 256, (17, 23, 3)).astype(np.float32) / 255
    path = save_image(tmp_path / "a.png", img)
    back = load_image(path)
    assert back.dtype == np.float32 and back.shape == (17, 23, 3)
    np.testing.assert_array_equal(back, img)
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]


def test_grey_alpha_palette_16bit_and_cmyk(tmp_path):
    grey = np.arange(0, 256, dtype=np.uint8).reshape(16, 16)
    Image.fromarray(grey).save(tmp_path / "g.png")
    assert load_image(tmp_path / "g.png").shape == (16, 16)
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 3] = 128
    Image.fromarray(rgba).save(tmp_path / "a.png")
    a = load_image(tmp_path / "a.png")
    assert a.shape == (4, 4, 4) and np.allclose(a[..., 3], 128 / 255)
    Image.fromarray(np.full((5, 5, 3), 200, np.uint8)).convert("P").save(tmp_path / "p.png")
    assert Image.open(tmp_path / "p.png").mode == "P"
    expected = np.asarray(Image.open(tmp_path / "p.png").convert("RGB")) / 255
    np.testing.assert_allclose(load_image(tmp_path / "p.png"), expected, atol=1e-6)
    sixteen = np.full((6, 6), 65535 // 2, dtype=np.uint16)
    Image.fromarray(sixteen).save(tmp_path / "s.png")
    s = load_image(tmp_path / "s.png")
    assert s.shape == (6, 6) and np.allclose(s, (65535 // 2) / 65535, atol=1e-6)
    Image.fromarray(np.full((3, 3, 3), 255, np.uint8)).convert("CMYK").save(tmp_path / "c.jpg")
    assert load_image(tmp_path / "c.jpg").shape == (3, 3, 3)
    colour = load_image(tmp_path / "p.png", as_gray=True)
    assert colour.shape == (5, 5)


def test_save_clips_and_picks_the_format(tmp_path):
    img = np.array([[-1.0, 0.5, 2.0]], dtype=np.float32)
    save_image(tmp_path / "x.png", img)
    assert np.asarray(Image.open(tmp_path / "x.png")).tolist() == [[0, 128, 255]]
    save_image(tmp_path / "x.jpg", np.zeros((8, 8, 4)), quality=80)
    assert Image.open(tmp_path / "x.jpg").format == "JPEG"
    with pytest.raises(ValueError, match="unsupported image suffix '.xyz'"):
        save_image(tmp_path / "x.xyz", img)
    with pytest.raises(ValueError, match="quality must be <= 100"):
        save_image(tmp_path / "x.jpg", img, quality=200)


def test_unreadable_files_give_clear_errors(tmp_path):
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(DataFormatError, match="not an image Pillow can read"):
        load_image(tmp_path / "text.png")
    save_image(tmp_path / "full.png", np.random.default_rng(0).random((64, 64, 3)))
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFormatError, match="corrupt or truncated"):
        load_image(tmp_path / "cut.png")
    with pytest.raises(FileNotFoundError, match="no such image file"):
        load_image(tmp_path / "missing.png")
    with pytest.raises(IsADirectoryError, match="got a directory"):
        load_image(tmp_path)


def test_decompression_bomb_limit(tmp_path):
    save_image(tmp_path / "big.png", np.zeros((100, 100)))
    with pytest.raises(DataFormatError, match="image too large.*max_pixels"):
        load_image(tmp_path / "big.png", max_pixels=1000)
    assert load_image(tmp_path / "big.png", max_pixels=None).shape == (100, 100)
    assert Image.MAX_IMAGE_PIXELS == 89_478_485          # restored afterwards


def test_sample_images():
    assert sample_image("china").shape == (427, 640, 3)
    assert sample_image("camera").shape == (512, 512)
    small = sample_image("astronaut", max_size=100)
    assert small.shape == (100, 100, 3) and small.dtype == np.float32
    assert 0 <= small.min() and small.max() <= 1
    assert sample_image("coffee", as_gray=True).ndim == 2
    assert {"china", "flower", "astronaut", "camera", "coffee", "chelsea"} <= set(SAMPLE_IMAGES)
    with pytest.raises(ValueError, match="name must be one of china, flower"):
        sample_image("lena")


def test_missing_scikit_image_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "skimage", None)
    monkeypatch.setitem(sys.modules, "skimage.data", None)
    with pytest.raises(ImportError, match="needs scikit-image.*pip install scikit-image"):
        sample_image("astronaut")
    assert sample_image("flower").shape == (427, 640, 3)     # scikit-learn's still work


def test_exif_orientation_is_applied(tmp_path):
    img = Image.fromarray(np.zeros((10, 30, 3), np.uint8))
    exif = Image.Exif()
    exif[0x0112] = 6                                   # "rotate 90° clockwise to view"
    img.save(tmp_path / "rot.jpg", exif=exif)
    assert load_image(tmp_path / "rot.jpg").shape == (30, 10, 3)
