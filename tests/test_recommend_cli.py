"""``dotwise recommend …`` end to end on small fixture data (no network, no shared data)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from dotwise.cli import get_app
from tests.test_recommend import ml100k_dir, zip_server  # noqa: F401 - fixtures

runner = CliRunner()


def invoke(*args):
    return runner.invoke(get_app(), ["recommend", *map(str, args)])


def test_help_teaches_with_examples():
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("evaluate", "top", "similar", "new", "fetch"):
        assert command in result.output
    assert "dotwise recommend top" in invoke("top", "--help").output


def test_evaluate_prints_a_table_per_model(ml100k_dir):  # noqa: F811
    result = invoke("evaluate", ml100k_dir, "--folds", "3", "--factors", "4", "--epochs", "3")
    assert result.exit_code == 0, result.output
    assert "3-fold cross-validation" in result.output
    assert "RMSE" in result.output and "mean" in result.output and "baseline" in result.output


def test_top_similar_and_new(ml100k_dir):  # noqa: F811
    result = invoke("top", ml100k_dir, "--user", "3", "-n", "4", "--factors", "3", "--explain")
    assert result.exit_code == 0, result.output
    assert "top 4 for user 3" in result.output and "why" in result.output
    result = invoke("similar", ml100k_dir, "--movie", "Movie 2 (1992)", "--min-ratings", "1",
                    "-n", "3")
    assert result.exit_code == 0, result.output
    assert "movies like Movie 2 (1992)" in result.output
    result = invoke("new", ml100k_dir, "--rate", "Movie 2 (1992)=5", "--rate",
                    "Café Society (1995)=1", "-n", "3")
    assert result.exit_code == 0, result.output
    assert "folded in from 2 ratings" in result.output
    assert "Movie 2 (1992)" not in result.output.split("folded in")[1]


@pytest.mark.parametrize("args,message", [
    (["top", "{d}", "--user", "999"], "unknown user '999'; did you mean: '9'"),
    (["similar", "{d}", "--movie", "Movie 2"], "did you mean: 'Movie 2 (1992)'"),
    (["new", "{d}", "--rate", "Movie 2 (1992)"], 'expects "Title=stars"'),
    (["new", "{d}", "--rate", "Movie 2 (1992)=9"], "outside the scale 1–5"),
    (["top", "{d}", "--user", "1", "--factors", "0"], "--factors must be >= 1"),
    (["evaluate", "{d}/nope"], "no such file or folder"),
])
def test_errors_are_one_clear_line(ml100k_dir, args, message):  # noqa: F811
    result = invoke(*[a.format(d=ml100k_dir) for a in args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_fetch_from_a_local_server(zip_server, tmp_path):  # noqa: F811
    base, digest = zip_server
    result = invoke("fetch", "movielens-100k", tmp_path, "--url", f"{base}/ml-100k.zip",
                    "--sha256", digest)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "ml-100k" / "u.data").exists()
    bad = invoke("fetch", "movielens-100k", tmp_path / "b", "--url", f"{base}/ml-100k.zip")
    assert bad.exit_code == 2 and "checksum mismatch" in bad.output
