"""``dotwise inspect`` and ``dotwise lstsq`` through Typer's CliRunner."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from dotwise.cli import get_app

runner = CliRunner()


@pytest.fixture
def design(tmp_path):
    t = np.linspace(0, 1, 30)
    A = np.column_stack([np.ones_like(t), t, t ** 2])
    b = 1 + 2 * t - 3 * t ** 2 + 0.01 * np.sin(40 * t)
    np.savetxt(tmp_path / "A.csv", A, delimiter=",", header="one,t,t2", comments="")
    np.savetxt(tmp_path / "b.csv", b, delimiter=",")
    np.save(tmp_path / "A.npy", A)
    np.save(tmp_path / "b.npy", b)
    return tmp_path, A, b


def invoke(*args: str):
    result = runner.invoke(get_app(), list(args))
    result.flat = " ".join(result.output.split())  # Rich wraps long lines at the terminal width
    return result


def test_inspect_prints_a_report_with_advice(design):
    path, A, _ = design
    result = invoke("inspect", str(path / "A.csv"))
    assert result.exit_code == 0, result.output
    for word in ("rank", "3 of 3", "condition number", "advice", "tall"):
        assert word in result.flat
    npy = invoke("inspect", str(path / "A.npy"), "--json")
    assert npy.exit_code == 0, npy.output
    report = json.loads(npy.output)
    assert report["rank"] == 3 and report["shape"] == [30, 3]
    assert report["cond"] == pytest.approx(np.linalg.cond(A))


def test_inspect_singular_matrix_advises(tmp_path):
    np.savetxt(tmp_path / "S.csv", [[1.0, 2.0], [2.0, 4.0]], delimiter=",")
    result = invoke("inspect", str(tmp_path / "S.csv"))
    assert result.exit_code == 0
    assert "singular: rank 1 of 2" in result.flat


def test_inspect_malformed_csv_names_the_line(tmp_path):
    (tmp_path / "bad.csv").write_text("1,2\n3,oops\n")
    result = invoke("inspect", str(tmp_path / "bad.csv"))
    assert result.exit_code == 2
    assert "line 2" in result.flat and "'oops' is not a number" in result.flat
    (tmp_path / "ragged.csv").write_text("1,2\n3,4\n5\n")
    result = invoke("inspect", str(tmp_path / "ragged.csv"))
    assert result.exit_code == 2 and "line 3: has 1 columns, expected 2" in result.flat
    missing = invoke("inspect", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 2 and "no such file" in missing.flat


def test_lstsq_solves_and_reports(design, tmp_path):
    path, A, b = design
    result = invoke("lstsq", str(path / "A.csv"), str(path / "b.csv"))
    assert result.exit_code == 0, result.output
    for word in ("solution x", "residual", "rank", "condition number", "method", "normal"):
        assert word in result.flat
    out = tmp_path / "x.npy"
    as_json = invoke("lstsq", str(path / "A.npy"), str(path / "b.npy"), "--method", "qr",
                     "--json", "--out", str(out))
    assert as_json.exit_code == 0, as_json.output
    payload = json.loads(as_json.output)
    ref = np.linalg.lstsq(A, b, rcond=None)[0]
    np.testing.assert_allclose(payload["x"], ref, atol=1e-10)
    assert payload["method"] == "qr" and payload["rank"] == 3 and payload["warnings"] == []
    np.testing.assert_allclose(np.load(out, allow_pickle=False), ref, atol=1e-10)


def test_lstsq_prints_warnings_and_errors(tmp_path):
    A = np.column_stack([np.ones(5), np.arange(5.0), np.arange(5.0) * 2])  # rank 2
    np.save(tmp_path / "A.npy", A)
    np.save(tmp_path / "b.npy", np.arange(5.0))
    np.save(tmp_path / "b4.npy", np.arange(4.0))
    warned = invoke("lstsq", str(tmp_path / "A.npy"), str(tmp_path / "b.npy"))
    assert warned.exit_code == 0 and "warning:" in warned.flat and "svd" in warned.flat
    singular = invoke("lstsq", str(tmp_path / "A.npy"), str(tmp_path / "b.npy"), "-m", "qr")
    assert singular.exit_code == 2 and "method='svd'" in singular.flat
    mismatch = invoke("lstsq", str(tmp_path / "A.npy"), str(tmp_path / "b4.npy"))
    assert mismatch.exit_code == 2 and "same number of rows" in mismatch.flat
    bad_method = invoke("lstsq", str(tmp_path / "A.npy"), str(tmp_path / "b.npy"), "-m", "lu")
    assert bad_method.exit_code == 2 and "method must be one of" in bad_method.flat


@pytest.mark.parametrize("command", ["inspect", "lstsq"])
def test_help_teaches_with_an_example(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.flat and f"dotwise {command}" in result.flat


def test_piped_output_keeps_long_lines_whole():
    """Captured or piped output is never word-wrapped (``dotwise … | grep`` sees whole
    lines); a terminal still gets Rich's wrapping."""
    import io

    from dotwise.cli._common import _Console

    message = "PSNR " + " ".join(f"word{i}" for i in range(60))     # ~420 characters
    piped = _Console(file=io.StringIO(), width=80)
    piped.print(message)
    assert piped.file.getvalue() == message + "\n"
    terminal = _Console(file=io.StringIO(), width=80, force_terminal=True)
    terminal.print(message)
    assert terminal.file.getvalue().count("\n") > 1
