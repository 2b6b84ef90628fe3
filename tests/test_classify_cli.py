"""``dotwise classify`` through Typer's CliRunner: tables, the bundled digits, errors."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from sklearn.datasets import load_iris
from typer.testing import CliRunner

from dotwise.cli import get_app
from dotwise.models import SoftmaxRegression

runner = CliRunner()


def invoke(*args: str):
    result = runner.invoke(get_app(), list(args))
    result.flat = " ".join(result.output.split())
    return result


@pytest.fixture
def iris_csv(tmp_path):
    iris = load_iris()
    names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    path = tmp_path / "iris.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([*names, "species"])
        for row, label in zip(iris.data, iris.target, strict=True):
            writer.writerow([*row, iris.target_names[label]])
    return path, iris, names


def test_table_mode_reports_accuracy_confusion_and_explanation(iris_csv):
    path, iris, _ = iris_csv
    result = invoke("classify", str(path), "--target", "species", "--test-size", "0.3",
                    "--explain", "2")
    assert result.exit_code == 0, result.output
    for text in ("accuracy", "confusion matrix", "setosa", "versicolor", "virginica",
                 "why row 2", "features pushing towards"):
        assert text in result.flat


def test_json_matches_the_library(iris_csv):
    path, iris, names = iris_csv
    result = invoke("classify", str(path), "--target", "species", "--test-size", "0",
                    "--features", ",".join(names[2:]), "--alpha", "0.5", "--explain", "0",
                    "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["features"] == names[2:] and payload["n_train"] == 150
    X = iris.data[:, 2:]
    labels = iris.target_names[iris.target]
    model = SoftmaxRegression(alpha=0.5, max_iter=500).fit(X, labels)
    assert payload["train_accuracy"] == pytest.approx(model.score(X, labels))
    assert np.sum(payload["confusion_matrix"]) == 150
    assert np.trace(payload["confusion_matrix"]) == round(payload["accuracy"] * 150)
    explained = payload["explain"]
    assert explained["true"] == "setosa"
    np.testing.assert_allclose(explained["scores"], model.decision_function(X[:1])[0],
                               rtol=1e-5, atol=1e-6)


def test_separate_test_table(iris_csv, tmp_path):
    path, _, _ = iris_csv
    rows = path.read_text().splitlines()
    (tmp_path / "train.csv").write_text("\n".join(rows[0:1] + rows[1::2]) + "\n")
    (tmp_path / "test.csv").write_text("\n".join(rows[0:1] + rows[2::2]) + "\n")
    result = invoke("classify", str(tmp_path / "train.csv"), "--target", "species", "--test",
                    str(tmp_path / "test.csv"), "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["n_train"] == 75 and payload["n_eval"] == 75
    assert payload["accuracy"] > 0.85


def test_digits_mode_explains_a_digit():
    result = invoke("classify", "--digits")
    assert result.exit_code == 0, result.output
    for text in ("scikit-learn digits", "accuracy", "confusion matrix", "why row 0",
                 "each pixel's push"):
        assert text in result.flat
    payload = json.loads(invoke("classify", "--digits", "--json").output)
    assert payload["accuracy"] > 0.94 and payload["converged"]
    assert len(payload["explain"]["contributions"]) == 10


@pytest.mark.parametrize("args, message", [
    ([], "missing TRAIN"),
    (["{path}"], "missing --target"),
    (["{path}", "--target", "colour"], "no target column 'colour'"),
    (["{path}", "--target", "species", "--features", "petal_length,nope"],
     "no feature column 'nope'"),
    (["{path}", "--target", "species", "--test-size", "1.5"], "--test-size must be in [0, 1)"),
    (["{path}", "--target", "species", "--alpha", "-1"], "alpha must be a finite number >= 0"),
    (["{path}", "--target", "species", "--explain", "999"], "--explain must be a row"),
    (["{path}", "--digits"], "not both"),
    (["missing.csv", "--target", "species"], "no such file"),
])
def test_errors_are_one_line_exit_2(iris_csv, args, message):
    path, _, _ = iris_csv
    result = invoke("classify", *[a.replace("{path}", str(path)) for a in args])
    assert result.exit_code == 2, result.output
    assert "error:" in result.flat and message in result.flat, result.output
    assert "Traceback" not in result.output


def test_one_class_and_non_numeric_features(tmp_path):
    (tmp_path / "one.csv").write_text("a,b,label\n1,2,x\n3,4,x\n5,6,x\n")
    result = invoke("classify", str(tmp_path / "one.csv"), "--target", "label",
                    "--test-size", "0")
    assert result.exit_code == 2 and "only one class" in result.flat
    (tmp_path / "text.csv").write_text("a,b,label\n1,red,x\n3,blue,y\n5,red,x\n")
    result = invoke("classify", str(tmp_path / "text.csv"), "--target", "label",
                    "--features", "a,b", "--test-size", "0")
    assert result.exit_code == 2 and "'red' is not a number" in result.flat
