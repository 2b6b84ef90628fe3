"""The image commands: ordered filters, compress / decompress, the codec report."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from dotwise.cli import get_app
from dotwise.image import (
    Pipeline,
    brightness,
    gaussian_blur,
    invert,
    load_image,
    psnr,
    sample_image,
    save_image,
    sepia,
    sharpen,
)

runner = CliRunner()


@pytest.fixture
def photo_path(tmp_path):
    return save_image(tmp_path / "in.png", sample_image("chelsea", max_size=96))


def _run(*args):
    return runner.invoke(get_app(), [str(a) for a in args])


def test_filter_applies_options_in_command_line_order(photo_path, tmp_path):
    img = load_image(photo_path)
    a = _run("filter", photo_path, tmp_path / "a.png", "--invert", "--brightness", "0.5")
    b = _run("filter", photo_path, tmp_path / "b.png", "--brightness=0.5", "--invert")
    assert a.exit_code == 0 and b.exit_code == 0, a.output + b.output
    expect_a = Pipeline([invert(), brightness(0.5)])(img)
    expect_b = Pipeline([brightness(0.5), invert()])(img)
    assert np.abs(load_image(tmp_path / "a.png") - np.clip(expect_a, 0, 1)).max() <= 1 / 255
    assert np.abs(load_image(tmp_path / "b.png") - np.clip(expect_b, 0, 1)).max() <= 1 / 255
    assert not np.allclose(expect_a, expect_b)


def test_filter_fuses_and_reports(photo_path, tmp_path):
    out = tmp_path / "o.png"
    res = _run("filter", photo_path, out, "--gaussian", "1.5", "--sharpen", "--sepia",
               "--brightness", "1.1")
    assert res.exit_code == 0, res.output
    assert "4 passes → 2 (2 saved)" in res.output
    img = load_image(photo_path)
    want = Pipeline([gaussian_blur(1.5), sharpen(1), sepia(), brightness(1.1)])(img)
    assert np.abs(load_image(out) - np.clip(want, 0, 1)).max() <= 1.01 / 255


def test_filter_errors(photo_path, tmp_path):
    res = _run("filter", photo_path, tmp_path / "o.png", "--blurry", "3")
    assert res.exit_code == 2 and "unknown filter option '--blurry'" in res.output
    res = _run("filter", photo_path, tmp_path / "o.png", "--gaussian")
    assert res.exit_code == 2 and "--gaussian needs a value" in res.output
    res = _run("filter", photo_path, tmp_path / "o.png", "--box", "4")
    assert res.exit_code == 2 and "size must be odd" in res.output
    res = _run("filter", photo_path, tmp_path / "o.png")
    assert res.exit_code == 2 and "no filters given" in res.output
    res = _run("filter", tmp_path / "nope.png", tmp_path / "o.png", "--sepia")
    assert res.exit_code == 2 and "no such image file" in res.output


def test_compress_decompress_round_trip(photo_path, tmp_path):
    dwz = tmp_path / "c.dwz"
    res = _run("compress", photo_path, dwz, "--ratio", "0.1")
    assert res.exit_code == 0, res.output
    assert "PSNR" in res.output and dwz.stat().st_size <= 0.1 * load_image(photo_path).size
    res = _run("decompress", dwz, tmp_path / "back.png")
    assert res.exit_code == 0, res.output
    assert psnr(load_image(photo_path), load_image(tmp_path / "back.png")) > 30
    res = _run("compress", photo_path, tmp_path / "s.dwz", "--method", "svd", "--rank", "8")
    assert res.exit_code == 0 and "ranks=[8, 8, 8]" in res.output


def test_compress_report_and_errors(photo_path, tmp_path):
    plot = tmp_path / "report.png"
    res = _run("compress", photo_path, "--report", plot, "--ratios", "0.1")
    assert res.exit_code == 0, res.output
    assert plot.stat().st_size > 0 and "jpeg" in res.output
    assert _run("compress", photo_path).exit_code == 2
    res = _run("compress", photo_path, tmp_path / "x.dwz", "--ratio", "2")
    assert res.exit_code == 2 and "ratio must be in (0, 1]" in res.output
    _run("compress", photo_path, tmp_path / "ok.dwz", "--quality", "50")
    (tmp_path / "bad.dwz").write_bytes((tmp_path / "ok.dwz").read_bytes()[:-5])
    res = _run("decompress", tmp_path / "bad.dwz", tmp_path / "o.png")
    assert res.exit_code == 2 and "truncated" in res.output


def test_cli_does_not_create_missing_output_folders(tmp_path):
    from PIL import Image as _Image

    src = tmp_path / "in.png"
    _Image.new("RGB", (8, 8), (10, 20, 30)).save(src)
    missing = tmp_path / "no" / "such" / "out.png"
    for args in (["filter", str(src), str(missing), "--gaussian", "1"],
                 ["compress", str(src), str(missing.with_suffix(".dwz"))]):
        result = CliRunner().invoke(get_app(), args)
        assert result.exit_code == 2, result.output
        assert "does not exist" in result.output
    assert not (tmp_path / "no").exists()


def test_cli_checks_the_boundary_mode_even_without_a_spatial_filter(tmp_path):
    from PIL import Image as _Image

    src = tmp_path / "in.png"
    _Image.new("RGB", (8, 8), (10, 20, 30)).save(src)
    result = CliRunner().invoke(get_app(), ["filter", str(src), str(tmp_path / "o.png"),
                                            "--sepia", "--mode", "wraps"])
    assert result.exit_code == 2
    assert "wraps" in result.output and "wrap" in result.output
    assert not (tmp_path / "o.png").exists()
