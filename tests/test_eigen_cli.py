"""``dotwise eigen``: full decomposition, power iteration, JSON, one-line errors (exit 2)."""

from __future__ import annotations

import json

import numpy as np
import scipy.linalg
from typer.testing import CliRunner

from dotwise.cli import get_app


def _run(*args: str):
    return CliRunner().invoke(get_app(), ["eigen", *args])


def test_json_matches_scipy_eigh_for_a_symmetric_csv(tmp_path, rng):
    M = rng.standard_normal((5, 5))
    A = M + M.T
    path = tmp_path / "a.csv"
    np.savetxt(path, A, delimiter=",")
    res = _run(str(path), "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    np.testing.assert_allclose(out["values"], np.sort(scipy.linalg.eigh(A)[0])[::-1], atol=1e-10)
    assert out["symmetric"] and out["diagonalizable"]
    V = np.array(out["vectors"]).T
    np.testing.assert_allclose(A @ V, V * np.array(out["values"]), atol=1e-9)


def test_table_reports_a_defective_matrix_and_complex_values(tmp_path):
    np.save(tmp_path / "shear.npy", np.array([[1.0, 1.0], [0.0, 1.0]]))
    res = _run(str(tmp_path / "shear.npy"))
    assert res.exit_code == 0 and "defective" in res.output
    np.save(tmp_path / "rot.npy", np.array([[0.0, -1.0], [1.0, 0.0]]))
    out = json.loads(_run(str(tmp_path / "rot.npy"), "--json").output)
    assert sorted(v[1] for v in out["values"]) == [-1.0, 1.0]  # ±i as [re, im]


def test_power_shift_and_k(tmp_path):
    A = np.diag([5.0, 2.0, -1.0])
    np.save(tmp_path / "d.npy", A)
    out = json.loads(_run(str(tmp_path / "d.npy"), "--power", "--json").output)
    assert abs(out["values"][0] - 5.0) < 1e-8
    assert out["converged"] == [True]
    out = json.loads(_run(str(tmp_path / "d.npy"), "--shift", "1.8", "--json").output)
    assert abs(out["values"][0] - 2.0) < 1e-10 and out["method"] == "shift-invert"
    out = json.loads(_run(str(tmp_path / "d.npy"), "--k", "3", "--json").output)
    np.testing.assert_allclose(out["values"], [5.0, 2.0, -1.0], atol=1e-8)
    text = _run(str(tmp_path / "d.npy"), "--power").output
    assert "λ1 ≈ 5" in text and "converged" in text


def test_errors_are_one_line_with_exit_code_2(tmp_path):
    np.save(tmp_path / "rect.npy", np.ones((2, 3)))
    for args, needle in [((str(tmp_path / "rect.npy"),), "must hold a square matrix"),
                         ((str(tmp_path / "missing.npy"),), "no such file"),
                         ((str(tmp_path / "rect.npy"), "--k", "0"), "--k")]:
        res = _run(*args)
        assert res.exit_code == 2, res.output
        assert needle in res.output and "Traceback" not in res.output
    np.save(tmp_path / "gen.npy", np.array([[1.0, 2.0], [0.0, 3.0]]))
    res = _run(str(tmp_path / "gen.npy"), "--k", "2")
    assert res.exit_code == 2 and "needs a symmetric A" in res.output
    assert res.output.strip().startswith("error:") and len(res.output.strip().splitlines()) <= 3
