"""``dotwise classify``: a softmax-regression classifier on a CSV table or the bundled digits."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ._common import console, fail, friendly_errors

DIGITS_ALPHA = 100.0


def register(app: typer.Typer) -> None:
    @app.command("classify")
    @friendly_errors
    def classify_cmd(
        train: Path = typer.Argument(None, metavar="[TRAIN]",
                                     help="CSV with a header row: the training table."),
        target: str = typer.Option(None, "--target", "-t",
                                   help="Column holding the class labels (any text or numbers)."),
        features: str = typer.Option(None, "--features", "-f",
                                     help="Comma-separated feature columns (default: every "
                                          "numeric column except the target)."),
        test: Path = typer.Option(None, "--test",
                                  help="A second CSV with the same columns to evaluate on."),
        test_size: float = typer.Option(None, "--test-size",
                                        help="Hold out this fraction of TRAIN (stratified) for "
                                             "evaluation; default 0.2 unless --test is given; "
                                             "0 evaluates on the training rows."),
        alpha: float = typer.Option(None, "--alpha", "-a",
                                    help="L2 penalty (scikit-learn's C = 1/alpha); default 1, "
                                         f"{DIGITS_ALPHA:g} with --digits."),
        standardize: bool = typer.Option(False, "--standardize",
                                         help="Centre and scale each feature on the training "
                                              "rows first (explanations are then in z-scores)."),
        max_iter: int = typer.Option(500, "--max-iter", help="Most L-BFGS iterations."),
        tol: float = typer.Option(1e-4, "--tol", help="Stop when max |gradient| ≤ tol."),
        explain: int = typer.Option(None, "--explain", "-e", metavar="ROW",
                                    help="Explain the prediction for this row (0-based) of "
                                         "the evaluation set; default 0 with --digits."),
        seed: int = typer.Option(0, "--seed", help="Seed of the train/test split."),
        digits: bool = typer.Option(False, "--digits",
                                    help="Use scikit-learn's bundled 8×8 handwritten digits."),
        as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
    ) -> None:
        """Train a linear classifier — score(class) = w_class · x + b, softmax — and evaluate it.

        Prints the accuracy on held-out rows, the confusion matrix, and with
        [bold]--explain ROW[/bold] the features that pushed that row towards its
        predicted class rather than the runner-up.

        Examples:

        [bold]dotwise classify --digits[/bold]  (the bundled digits: accuracy, confusion
        matrix, why one digit was read as it was)

        [bold]dotwise classify iris.csv --target species --test-size 0.3 --explain 4[/bold]

        [bold]dotwise classify train.csv --target label --test test.csv --json[/bold]
        """
        import numpy as np

        if digits and train is not None:
            fail("pass either a TRAIN table or --digits, not both")
        if not digits and train is None:
            fail("missing TRAIN: pass a CSV table with --target COLUMN, or --digits for the "
                 "bundled handwritten digits")
        if test is not None and test_size is not None:
            fail("pass either --test FILE or --test-size FRACTION, not both")
        if test_size is not None and not 0 <= test_size < 1:
            fail(f"--test-size must be in [0, 1), got {test_size}")
        if digits:
            if target is not None or features is not None or test is not None:
                fail("--digits brings its own data: drop --target, --features and --test")
            data = _digits_data(test_size, seed)
            alpha = DIGITS_ALPHA if alpha is None else alpha
            explain = 0 if explain is None else explain
        else:
            if target is None:
                fail("missing --target: name the column that holds the class labels")
            data = _table_data(train, target, features, test,
                               0.2 if test_size is None and test is None else test_size, seed)
            alpha = 1.0 if alpha is None else alpha
        X_train, y_train, X_eval, y_eval = data["X_train"], data["y_train"], data["X_eval"], \
            data["y_eval"]
        if standardize:
            mean, std = X_train.mean(axis=0), X_train.std(axis=0)
            std[std == 0] = 1.0
            X_train, X_eval = (X_train - mean) / std, (X_eval - mean) / std
        if explain is not None and not 0 <= explain < len(y_eval):
            fail(f"--explain must be a row of the {data['eval_name']} (0 to "
                 f"{len(y_eval) - 1}), got {explain}")

        from dotwise.models import SoftmaxRegression

        model = SoftmaxRegression(alpha=alpha, tol=tol, max_iter=max_iter)
        caught = _fit(model, X_train, y_train, show_progress=not as_json)
        predicted = model.predict(X_eval)
        accuracy = float(np.mean(predicted == y_eval))
        train_accuracy = float(model.score(X_train, y_train))
        classes = model.classes_
        index = {c: i for i, c in enumerate(classes.tolist())}
        confusion = np.zeros((len(classes), len(classes)), dtype=int)
        for true, pred in zip(y_eval.tolist(), predicted.tolist(), strict=True):
            if true in index:
                confusion[index[true], index[pred]] += 1
        explanation = None
        if explain is not None:
            explanation = model.explain(X_eval[explain], feature_names=data["feature_names"])

        summary = {
            "data": data["name"], "n_train": int(len(y_train)), "n_eval": int(len(y_eval)),
            "evaluated_on": data["eval_name"], "n_features": int(X_train.shape[1]),
            "features": data["feature_names"], "classes": [_plain(c) for c in classes.tolist()],
            "alpha": alpha, "C": (1.0 / alpha) if alpha > 0 else None,
            "standardized": standardize, "n_iter": int(model.n_iter_[0]),
            "converged": bool(model.converged_), "fit_time_s": model.fit_time_,
            "train_accuracy": train_accuracy, "accuracy": accuracy,
            "confusion_matrix": confusion.tolist(), "warnings": caught,
        }
        if as_json:
            if explanation is not None:
                summary["explain"] = {"row": explain, "true": _plain(y_eval[explain]),
                                      **explanation.to_dict()}
            typer.echo(json.dumps(summary, indent=2))
            return
        _print_summary(summary, classes, confusion)
        if explanation is not None:
            _print_explanation(explanation, explain, y_eval[explain], data, X_eval[explain])


def _digits_data(test_size, seed):
    import numpy as np
    from sklearn.datasets import load_digits

    digits = load_digits()
    X, y = digits.data.astype(np.float64), digits.target
    names = [f"pixel ({i // 8},{i % 8})" for i in range(64)]
    return _split(X, y, 0.25 if test_size is None else test_size, seed,
                  name="scikit-learn digits (1 797 8×8 images, pixels 0–16)",
                  feature_names=names, image=True)


def _table_data(train, target, features, test, test_size, seed):
    import numpy as np

    from dotwise.search.data import read_csv

    table = read_csv(train)
    table.require([target], "target column")
    if features:
        names = [f.strip() for f in features.split(",") if f.strip()]
        if target in names:
            raise ValueError(f"--features must not include the target column {target!r}")
    else:
        names = [c for c in table.numeric_columns() if c != target]
        if not names:
            raise ValueError(f"{train.name} has no numeric columns besides {target!r}; "
                             f"name the features with --features")
    X, _ = table.floats(names)
    y = np.asarray([label.strip() for label in table.columns[target]])
    if test is None:
        return _split(X, y, test_size, seed, name=str(train), feature_names=names)
    other = read_csv(test)
    other.require([target], "target column")
    X_test, _ = other.floats(names)
    y_test = np.asarray([label.strip() for label in other.columns[target]])
    return {"name": str(train), "X_train": X, "y_train": y, "X_eval": X_test, "y_eval": y_test,
            "eval_name": f"test table {test.name}", "feature_names": names, "image": False}


def _split(X, y, test_size, seed, *, name, feature_names, image=False):
    import numpy as np

    base = {"name": name, "feature_names": feature_names, "image": image}
    if not test_size:
        return {**base, "X_train": X, "y_train": y, "X_eval": X, "y_eval": y,
                "eval_name": "training rows"}
    from sklearn.model_selection import train_test_split

    _, counts = np.unique(y, return_counts=True)
    n_test = int(np.ceil(test_size * len(y)))
    stratify = y if counts.min() >= 2 and n_test >= len(counts) else None
    if n_test < 1 or n_test >= len(y):
        raise ValueError(f"--test-size {test_size} leaves no rows to train or to test on "
                         f"({len(y)} rows)")
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_size, random_state=seed,
                                              stratify=stratify)
    return {**base, "X_train": X_tr, "y_train": y_tr, "X_eval": X_te, "y_eval": y_te,
            "eval_name": f"held-out {test_size:.0%} of the rows"}


def _fit(model, X, y, *, show_progress):
    """Fit with a progress bar on a terminal; return the warnings' messages."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if show_progress and console.is_terminal:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            with Progress(TextColumn("[bold]fitting[/bold]"), BarColumn(),
                          TextColumn("iteration {task.completed}/{task.total}"),
                          TextColumn("{task.description}"), TimeElapsedColumn(),
                          console=console, transient=True) as progress:
                task = progress.add_task("", total=model.max_iter)
                model.fit(X, y, callback=lambda it, loss, g: progress.update(
                    task, completed=it, description=f"loss {loss:.4f}  max|grad| {g:.1e}"))
        else:
            model.fit(X, y)
    return [str(w.message) for w in caught if "did not converge" in str(w.message)]


def _push_mark(level):
    """Two characters for a pixel's share of the margin (level in [-1, 1])."""
    if abs(level) < 0.1:
        return " ·"
    sign = "+" if level > 0 else "−"
    return f" {sign}" if abs(level) < 0.5 else sign * 2


def _plain(value):
    return value.item() if hasattr(value, "item") else value


def _print_summary(s, classes, confusion):
    from rich.table import Table

    table = Table(title="softmax regression", title_justify="left", show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    table.add_row("data", s["data"])
    table.add_row("rows", f"{s['n_train']} for training, {s['n_eval']} evaluated "
                          f"({s['evaluated_on']})")
    table.add_row("features", f"{s['n_features']}" + (" (standardized)" if s["standardized"]
                                                      else ""))
    table.add_row("classes", f"{len(classes)}: " + ", ".join(map(str, s["classes"][:12]))
                  + (", …" if len(classes) > 12 else ""))
    c_text = f" (scikit-learn C = {s['C']:g})" if s["C"] is not None else " (no penalty)"
    table.add_row("penalty", f"alpha = {s['alpha']:g}{c_text}")
    table.add_row("fit", f"{s['n_iter']} L-BFGS iterations, "
                         f"{'converged' if s['converged'] else 'NOT converged'}, "
                         f"{s['fit_time_s']:.2f} s")
    table.add_row("training accuracy", f"{s['train_accuracy']:.2%}")
    table.add_row("accuracy", f"[bold]{s['accuracy']:.2%}[/bold] on the {s['evaluated_on']}")
    console.print(table)
    for message in s["warnings"]:
        console.print(f"[yellow]warning:[/yellow] {message}", highlight=False)
    if len(classes) > 20:
        console.print(f"[dim]({len(classes)} classes: confusion matrix not shown; use --json)"
                      "[/dim]")
        return
    cm = Table(title="confusion matrix (rows: true class, columns: predicted)",
               title_justify="left")
    cm.add_column("true \\ predicted", style="bold")
    for c in classes.tolist():
        cm.add_column(str(c), justify="right")
    for i, c in enumerate(classes.tolist()):
        cm.add_row(str(c), *(f"[green]{v}[/green]" if i == j and v else (str(v) if v else
                                                                          "[dim]·[/dim]")
                             for j, v in enumerate(confusion[i])))
    console.print(cm)


def _print_explanation(explanation, row, true_label, data, x):
    console.print(f"\n[bold]why row {row} of the {data['eval_name']} was classified as "
                  f"{explanation.predicted!r}[/bold] (true class {_plain(true_label)!r})",
                  highlight=False)
    console.print(str(explanation), highlight=False)
    if data.get("image"):
        margin = explanation.margin_contributions()
        console.print(f"\nthe digit, and each pixel's push towards {explanation.predicted!r} "
                      f"(+) or {explanation.runner_up!r} (−):", highlight=False)
        shades = " .:-=+*#%@"
        scale = max(abs(margin).max(), 1e-12)
        for r in range(8):
            pixels = "".join(shades[min(int(v / 16 * 9.99), 9)] * 2 for v in x[r * 8:r * 8 + 8])
            pushes = "".join(_push_mark(v / scale) for v in margin[r * 8:r * 8 + 8])
            console.print(f"  {pixels}    {pushes}", highlight=False)


__all__ = ["register"]
