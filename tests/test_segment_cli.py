"""``dotwise segment`` through Typer's CliRunner: a CSV, the demo table, MovieLens, errors."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from dotwise.cli import get_app
from dotwise.models import customer_table
from tests.conftest import shared_data_path

runner = CliRunner()


def invoke(*args: str):
    result = runner.invoke(get_app(), list(args))
    result.flat = " ".join(result.output.split())
    return result


@pytest.fixture
def table_csv(tmp_path):
    t = customer_table(400, random_state=2)
    path = tmp_path / "customers.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(list(t))
        for i in range(400):
            w.writerow([t[c][i] for c in t])
    return path, t


def test_segment_a_csv_with_map_labels_and_json(table_csv, tmp_path):
    path, t = table_csv
    out_png, out_csv = tmp_path / "map.png", tmp_path / "labels.csv"
    result = invoke("segment", str(path), "--features", "age,income,visits_per_month",
                    "--k", "3", "--map", str(out_png), "--labels", str(out_csv))
    assert result.exit_code == 0, result.output
    assert "3 segments of 400 rows" in result.flat
    assert result.flat.count("Segment ") == 3 and "σ" in result.output
    assert out_png.read_bytes()[:4] == b"\x89PNG"
    rows = out_csv.read_text().splitlines()
    assert rows[0] == "row,segment" and len(rows) == 401
    js = invoke("segment", str(path), "--features", "age,income,visits_per_month", "--k", "3",
                "--pca", "2", "--json")
    assert js.exit_code == 0, js.output
    payload = json.loads(js.output)
    assert payload["k"] == 3 and payload["pca"] == 2
    assert sum(s["size"] for s in payload["segments"]) == 400
    # without --features: every numeric column but the id
    default = invoke("segment", str(path), "--k", "2", "--json")
    assert json.loads(default.output)["features"] == [
        "age", "income", "visits_per_month", "basket_size", "online_share",
        "days_since_last_purchase"]


def test_segment_demo_says_it_is_synthetic():
    result = invoke("segment", "--demo", "--rows", "500", "--k", "4")
    assert result.exit_code == 0, result.output
    assert "synthetic" in result.flat and "4 segments of 500 customers" in result.flat


@pytest.mark.parametrize("args, message", [
    ([], "give one of TABLE.csv, --demo or --movielens PATH"),
    (["--demo", "--k", "0"], "--k must be >= 1, got 0"),
    (["--demo", "--features", "age,height"], "no column 'height'"),
    (["--demo", "--pca", "9"], "pca must be <= the number of features (6), got 9"),
    (["--demo", "--movielens", "x"], "got --demo and --movielens"),
    (["nope.csv"], "no such file"),
])
def test_segment_errors_are_one_line_with_exit_code_2(args, message):
    result = invoke("segment", *args)
    assert result.exit_code == 2, result.output
    assert message in result.flat
    assert "Traceback" not in result.output


def test_segment_bad_cell_names_the_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,2\n3,x\n5,6\n")
    result = invoke("segment", str(path), "--features", "a,b", "--k", "2")
    assert result.exit_code == 2
    assert "line 3" in result.flat and "'b'" in result.flat


def test_segment_movielens_viewers(tmp_path):
    path = shared_data_path("movielens-100k")
    result = invoke("segment", "--movielens", str(path), "--k", "4", "--factors", "8")
    assert result.exit_code == 0, result.output
    assert "4 segments of 943 viewers" in result.flat
    assert "above the average viewer" in result.flat
