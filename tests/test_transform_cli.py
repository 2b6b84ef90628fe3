"""``dotwise transform``: the chain is built in the order written and applied to the points."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from dotwise.cli import get_app
from dotwise.linalg import transform2d as t2

runner = CliRunner()


def invoke(*args: str):
    result = runner.invoke(get_app(), list(args))
    result.flat = " ".join(result.output.split())
    return result


def test_chain_in_written_order_applied_to_a_file(tmp_path):
    pts = np.random.default_rng(0).uniform(-3, 3, (25, 2))
    src, out = tmp_path / "pts.csv", tmp_path / "out.csv"
    np.savetxt(src, pts, delimiter=",", header="x,y", comments="")
    result = invoke("transform", str(src), "--rotate", "30", "--about", "1,2", "--scale", "2",
                    "--translate", "3,0", "--out", str(out))
    assert result.exit_code == 0, result.output
    expected_M = t2.compose(t2.translation(3, 0), t2.scaling(2), t2.rotation(30, about=(1, 2)))
    got = np.loadtxt(out, delimiter=",", skiprows=1)
    np.testing.assert_allclose(got, t2.apply(pts, expected_M), rtol=1e-14, atol=1e-14)
    for text in ("step 1: rotate 30° about (1, 2)", "step 2: scale ×2", "S3 · S2 · S1",
                 "area ×4"):
        assert text in result.flat


def test_json_has_every_partial_product():
    result = invoke("transform", "--scale", "2,3", "--reflect", "x", "--shear", "0.5",
                    "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    mats = [t2.scaling(2, 3), t2.reflection("x"), t2.shear(0.5)]
    for n, step in enumerate(payload["steps"]):
        np.testing.assert_allclose(step["product"], t2.compose(*mats[: n + 1][::-1]))
    assert payload["determinant"] == pytest.approx(-6.0)
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=float)
    np.testing.assert_allclose(payload["points"], t2.apply(square, np.array(payload["matrix"])))


@pytest.mark.parametrize("args, message", [
    ([], "give at least one step"),
    (["--rotat", "3"], "unknown option '--rotat'"),
    (["--translate", "1"], "--translate expects 2 comma-separated number(s), got '1'"),
    (["--shear", "0.5", "--about", "1,1"], "--about applies to --rotate and --scale"),
    (["--about", "1,1"], "--about must follow a --rotate or --scale step"),
    (["--rotate"], "--rotate needs a value"),
    (["missing.csv", "--rotate", "3"], "no such file"),
])
def test_errors_are_one_line_with_exit_code_2(args, message):
    result = invoke("transform", *args)
    assert result.exit_code == 2, result.output
    assert message in result.flat
    assert "Traceback" not in result.output


def test_points_of_the_wrong_shape(tmp_path):
    path = tmp_path / "p3.csv"
    np.savetxt(path, np.ones((4, 3)), delimiter=",")
    result = invoke("transform", str(path), "--rotate", "10")
    assert result.exit_code == 2 and "shape (n, 2)" in result.flat
