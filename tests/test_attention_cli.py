"""``dotwise attention``: the demo's table, row sums and heatmap; the scaling table; errors."""

from __future__ import annotations

import re

from PIL import Image
from typer.testing import CliRunner

from dotwise.cli import get_app


def test_demo_prints_weights_with_row_sums_and_writes_a_heatmap(tmp_path):
    out = tmp_path / "w.png"
    result = CliRunner().invoke(get_app(), ["attention", "demo", "--seq", "5", "--dim", "8",
                                            "--causal", "--seed", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "row sum" in result.output and "causal" in result.output
    assert result.output.count("1.0000") == 5  # every row sums to 1
    assert "q4" in result.output and "k4" in result.output
    with Image.open(out) as im:
        assert im.format == "PNG" and im.size[0] > 100


def test_demo_rejects_bad_options(tmp_path):
    runner = CliRunner()
    bad = runner.invoke(get_app(), ["attention", "demo", "--out", str(tmp_path / "x.jpg")])
    assert bad.exit_code == 2 and "--out must be a .png file" in bad.output
    bad = runner.invoke(get_app(), ["attention", "demo", "--seq", "0"])
    assert bad.exit_code == 2


def test_scaling_table_and_bad_dims():
    runner = CliRunner()
    ok = runner.invoke(get_app(), ["attention", "scaling", "--dims", "4,256"])
    assert ok.exit_code == 0, ok.output
    assert "256" in ok.output and "entropy" in ok.output
    bad = runner.invoke(get_app(), ["attention", "scaling", "--dims", "a,b"])
    assert bad.exit_code == 2 and "comma-separated integers" in bad.output
    bad = runner.invoke(get_app(), ["attention", "scaling", "--dims", "0,4"])
    assert bad.exit_code == 2 and "dims must be a non-empty" in bad.output


def test_demo_falls_back_to_a_summary_when_the_table_cannot_fit(tmp_path):
    out = tmp_path / "w.png"
    result = CliRunner().invoke(get_app(), ["attention", "demo", "--seq", "40", "--out", str(out)],
                                env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert not any(line.strip() == "" for line in lines[:41]), "no blank rows"
    assert "strongest keys" in result.output and "needs" in result.output
    assert sum(bool(re.match(r"\s*q\d+\s", line)) for line in lines) == 40
    assert all(len(line) <= 80 for line in lines if re.match(r"\s*(q\d+|query)\s", line))
    assert out.exists()


def test_demo_table_headers_are_whole_at_80_columns(tmp_path):
    result = CliRunner().invoke(get_app(), ["attention", "demo", "--seq", "8",
                                            "--out", str(tmp_path / "w.png")],
                                env={"COLUMNS": "80"})
    assert result.exit_code == 0
    assert "…" not in result.output
