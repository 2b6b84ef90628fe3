"""``dotwise recommend``: evaluate, recommend, find similar movies, fold in a new user."""

from __future__ import annotations

from pathlib import Path

import typer

from ._common import console, fail, friendly_errors

recommend_app = typer.Typer(
    name="recommend",
    help=(
        "Movie recommender on MovieLens data: matrix factorization (ALS) trained on the "
        "ratings at PATH (a MovieLens folder or ratings file).\n\n"
        "Get the data with [bold]dotwise recommend fetch movielens-100k data/[/bold], then e.g. "
        "[bold]dotwise recommend top data/ml-100k --user 196[/bold]."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)

PATH_HELP = "MovieLens folder (ml-100k, ml-1m, ml-latest, …) or a ratings file."


def _model_options(factors: int, method: str, epochs: int | None, seed: int):
    from dotwise.recommend import MatrixFactorization

    kwargs = {"n_factors": factors, "method": method, "random_state": seed}
    if epochs is not None:
        kwargs["n_epochs"] = epochs
    elif method == "sgd":
        kwargs["n_epochs"] = 20
    return MatrixFactorization(**kwargs)


def _duplicates_option():
    return typer.Option("error", "--duplicates",
                        help="A repeated (user, movie) pair: 'error', 'last' (keep the latest) "
                             "or 'mean' (average them).")


def _load(path: Path, duplicates: str = "error"):
    """The ratings at ``path``; the loader's Python advice is given as CLI options."""
    from dotwise import DataFormatError
    from dotwise.recommend import load_ratings

    with console.status(f"loading {path} …"):
        try:
            return load_ratings(path, duplicates=duplicates)
        except DataFormatError as exc:
            message = str(exc).replace("Pass duplicates='last'", "Pass --duplicates last")
            message = message.replace("duplicates='mean'", "--duplicates mean")
            message = message.replace(" or pass rating_scale=", "")
            raise DataFormatError(message) from None


def _train(data, factors: int, method: str, epochs: int | None, seed: int):
    """Fit a model to loaded ratings, with a progress bar over the epochs."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    model = _model_options(factors, method, epochs, seed)
    with Progress(TextColumn("[bold]training[/bold] {task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total} epochs"), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task(f"{data!r}", total=model.n_epochs)
        model.fit(data, callback=lambda epoch, loss: progress.update(task, completed=epoch + 1))
    console.print(f"[dim]{data!r}; trained {model.n_factors} factors by {method.upper()} in "
                  f"{model.fit_time_:.2f} s (train RMSE {model.train_rmse_history_[-1]:.3f})[/dim]",
                  highlight=False)
    return model


def _show(recs, title: str, score_label: str) -> None:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("movie")
    table.add_column(score_label, justify="right")
    for rank, name, score in recs.rows():
        table.add_row(str(rank), name, f"{score:.3f}")
    console.print(table)


def _common_options(factors: int, method: str, k: int | None = None) -> None:
    """Check the options before anything is loaded or trained."""
    if factors < 1:
        fail(f"--factors must be >= 1, got {factors}")
    if method not in ("als", "sgd"):
        fail(f"--method must be 'als' or 'sgd', got {method!r}")
    if k is not None and k < 1:
        fail(f"-k (how many movies) must be >= 1, got {k}")


def register(app: typer.Typer) -> None:
    app.add_typer(recommend_app, name="recommend")


@recommend_app.command()
@friendly_errors
def evaluate(
    path: Path = typer.Argument(..., help=PATH_HELP),
    folds: int = typer.Option(5, "--folds", help="Number of cross-validation folds (>= 2)."),
    factors: int = typer.Option(32, "--factors", "-f", help="Factors per user and movie."),
    method: str = typer.Option("als", "--method", help="'als' (default) or 'sgd'."),
    epochs: int = typer.Option(None, "--epochs", help="Training epochs (default: the model's)."),
    seed: int = typer.Option(0, "--seed", help="Seed for the folds and the initial factors."),
    duplicates: str = _duplicates_option(),
    top_k: int = typer.Option(10, "--top-k", "-k", help="k of precision@k / recall@k / NDCG@k."),
    baseline: bool = typer.Option(True, "--baseline/--no-baseline",
                                  help="Also evaluate the bias-only baseline."),
) -> None:
    """K-fold cross-validation: RMSE, MAE, fit time and top-N quality per fold.

    Example: [bold]dotwise recommend evaluate data/ml-100k --folds 5 --factors 32[/bold]
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from dotwise.recommend import BaselinePredictor, cross_validate

    _common_options(factors, method, top_k)
    if folds < 2:
        fail(f"--folds must be >= 2, got {folds}")
    data = _load(path, duplicates)
    console.print(f"[dim]{data!r}[/dim]", highlight=False)
    models = {f"MF {method.upper()} k={factors}": _model_options(factors, method, epochs, seed)}
    if baseline:
        models["baseline (biases)"] = BaselinePredictor()
    results = {}
    with Progress(TextColumn("{task.description}"), BarColumn(),
                  TextColumn("fold {task.completed}/{task.total}"), TimeElapsedColumn(),
                  console=console) as progress:
        for name, model in models.items():
            task = progress.add_task(name, total=folds)
            results[name] = cross_validate(
                model, data, folds, random_state=seed, k=top_k,
                on_fold=lambda _r, t=task: progress.advance(t))
    for name, cv in results.items():
        table = Table(title=f"{name}: {folds}-fold cross-validation", title_justify="left",
                      caption=f"seconds per fold: fit = training, predict = the held-out "
                              f"ratings, rank = scoring every unrated movie of each test user "
                              f"for the top-{top_k} metrics", caption_justify="left")
        for col in ("fold", "RMSE", "MAE", "fit", "predict", "rank",
                    f"P@{top_k}", f"R@{top_k}", f"NDCG@{top_k}"):
            table.add_column(col, justify="right")
        for f in cv.folds:
            table.add_row(str(f.fold + 1), f"{f.rmse:.4f}", f"{f.mae:.4f}", f"{f.fit_time:.2f}",
                          f"{f.predict_time:.3f}", f"{f.rank_time:.2f}",
                          f"{f.ranking[f'precision@{top_k}']:.3f}",
                          f"{f.ranking[f'recall@{top_k}']:.3f}",
                          f"{f.ranking[f'ndcg@{top_k}']:.3f}")
        table.add_row("mean", f"{cv.mean('rmse'):.4f}", f"{cv.mean('mae'):.4f}",
                      f"{cv.mean('fit_time'):.2f}", f"{cv.mean('predict_time'):.3f}",
                      f"{cv.mean('rank_time'):.2f}",
                      f"{cv.mean(f'precision@{top_k}'):.3f}", f"{cv.mean(f'recall@{top_k}'):.3f}",
                      f"{cv.mean(f'ndcg@{top_k}'):.3f}", style="bold")
        console.print(table)


@recommend_app.command()
@friendly_errors
def top(
    path: Path = typer.Argument(..., help=PATH_HELP),
    user: str = typer.Option(..., "--user", "-u", help="User id as in the data (e.g. 196)."),
    k: int = typer.Option(10, "-k", "-n", help="How many movies (-n is the old spelling)."),
    factors: int = typer.Option(32, "--factors", "-f", help="Factors per user and movie."),
    method: str = typer.Option("als", "--method"),
    epochs: int = typer.Option(None, "--epochs"),
    seed: int = typer.Option(0, "--seed"),
    duplicates: str = _duplicates_option(),
    include_seen: bool = typer.Option(False, "--include-seen",
                                      help="Also list movies the user already rated."),
    explain: bool = typer.Option(False, "--explain",
                                 help="Explain the first recommendation."),
) -> None:
    """The movies a user would rate highest, among those they have not rated.

    Example: [bold]dotwise recommend top data/ml-100k --user 196 -k 10 --explain[/bold]
    """
    _common_options(factors, method, k)
    data = _load(path, duplicates)
    data.user_code(user)  # an unknown user fails here, before training
    model = _train(data, factors, method, epochs, seed)
    recs = model.recommend(user, k, exclude_seen=not include_seen)
    _show(recs, f"top {len(recs)} for user {user}", "predicted rating")
    if explain and len(recs):
        _explain(model, user, recs.item_ids[0], recs.titles[0])


_PART_LABELS = {"mean": "mean", "user": "(user)", "item": "(movie)", "taste": "(taste match)",
                "neighbours": "(similar movies you rated)"}


def rounded_parts(total: float, parts: list[float], digits: int = 2) -> tuple[int, list[int]]:
    """``total`` and ``parts`` in units of ``10**-digits``, rounded so that the parts add up.

    Each part is rounded to nearest; the few units the rounding gains or loses
    go to the parts with the largest rounding error (largest-remainder
    rounding), so a printed line ``4.56 = 3.53 − 0.02 + …`` adds up exactly.
    """
    scale = 10 ** digits
    goal = round(total * scale)
    exact = [p * scale for p in parts]
    units = [round(x) for x in exact]
    missing = goal - sum(units)
    step = 1 if missing > 0 else -1
    # parts whose rounding moved them furthest against the needed direction first
    order = sorted(range(len(parts)), key=lambda j: -(exact[j] - units[j]) * step)
    for j in order[:abs(missing)]:
        units[j] += step
    return goal, units


def _explain(model, user, item, title) -> None:
    ex = model.explain(user, item)
    names = [n for n, v in ex.parts.items() if n != "neighbours" or v != 0.0]
    goal, units = rounded_parts(ex.raw, [ex.parts[n] for n in names])
    terms = [f"mean {units[0] / 100:.2f}"] + [f"{u / 100:+.2f} {_PART_LABELS[n]}"
                                              for n, u in zip(names[1:], units[1:], strict=True)]
    line = f"\n[bold]why {title}?[/bold] {goal / 100:.2f} = " + " ".join(terms)
    if ex.clipped:
        lo, hi = ex.rating_scale
        line += f"; shown as {ex.prediction:.2f}, the {'top' if ex.raw > hi else 'bottom'} " \
                f"of the {lo:g}–{hi:g} scale"
    console.print(line, highlight=False)
    for _, name, rating, pull in ex.contributions:
        console.print(f"  you rated {name!s} {rating:g}: pulls {pull:+.2f}", highlight=False)


@recommend_app.command()
@friendly_errors
def similar(
    path: Path = typer.Argument(..., help=PATH_HELP),
    movie: str = typer.Option(..., "--movie", "-m", help='Title, e.g. "Star Wars (1977)", or id.'),
    k: int = typer.Option(10, "-k", "-n", help="How many movies (-n is the old spelling)."),
    min_ratings: int = typer.Option(20, "--min-ratings",
                                    help="Skip movies with fewer ratings (noisy vectors)."),
    factors: int = typer.Option(32, "--factors", "-f", help="Factors per user and movie."),
    method: str = typer.Option("als", "--method"),
    epochs: int = typer.Option(None, "--epochs"),
    seed: int = typer.Option(0, "--seed"),
    duplicates: str = _duplicates_option(),
) -> None:
    """Movies whose learned taste vectors point the same way (cosine similarity).

    Example: [bold]dotwise recommend similar data/ml-100k --movie "Star Wars (1977)"[/bold]
    """
    _common_options(factors, method, k)
    if min_ratings < 1:
        fail(f"--min-ratings must be >= 1, got {min_ratings}")
    data = _load(path, duplicates)
    code = data.find_item(movie) if data.titles is not None else data.item_code(movie)
    model = _train(data, factors, method, epochs, seed)
    recs = model.similar_items(data.item_ids[code].item(), k, min_ratings=min_ratings)
    _show(recs, f"movies like {data.item_label(code)}", "cosine")


@recommend_app.command()
@friendly_errors
def new(
    path: Path = typer.Argument(..., help=PATH_HELP),
    rate: list[str] = typer.Option(..., "--rate", "-r",
                                   help='"Title=stars", repeatable: --rate "Fargo (1996)=4".'),
    k: int = typer.Option(10, "-k", "-n", help="How many movies (-n is the old spelling)."),
    factors: int = typer.Option(32, "--factors", "-f", help="Factors per user and movie."),
    method: str = typer.Option("als", "--method"),
    epochs: int = typer.Option(None, "--epochs"),
    seed: int = typer.Option(0, "--seed"),
    duplicates: str = _duplicates_option(),
) -> None:
    """Recommendations for a new person from a few ratings, without retraining (fold-in).

    Example: [bold]dotwise recommend new data/ml-100k --rate "Toy Story (1995)=5"
    --rate "Fargo (1996)=4"[/bold]
    """
    import time

    _common_options(factors, method, k)
    parsed = []
    for entry in rate:
        title, sep, stars = entry.rpartition("=")
        if not sep or not title.strip():
            fail(f'--rate expects "Title=stars", e.g. "Fargo (1996)=4"; got {entry!r}')
        try:
            value = float(stars)
        except ValueError:
            fail(f"--rate {entry!r}: {stars!r} is not a number of stars")
        parsed.append((title.strip(), value))
    data = _load(path, duplicates)
    ratings = []
    for title, value in parsed:   # every title and star count checked before training
        code = data.find_item(title) if data.titles is not None else data.item_code(title)
        data.check_rating(value, data.item_label(code))
        ratings.append((data.item_ids[code].item(), value))
    model = _train(data, factors, method, epochs, seed)
    start = time.perf_counter()
    recs = model.fold_in(ratings, k)
    elapsed = time.perf_counter() - start
    _show(recs, f"for you (folded in from {len(ratings)} ratings in {elapsed * 1e3:.1f} ms)",
          "predicted rating")


@recommend_app.command()
@friendly_errors
def fetch(
    name: str = typer.Argument(..., help="Data set: movielens-100k."),
    directory: Path = typer.Argument(Path("data"), help="Parent folder for the data."),
    url: str = typer.Option(None, "--url", help="Mirror address (default: the official one, "
                                                "or $DOTWISE_MOVIELENS_URL)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing folder."),
    sha256: str = typer.Option(None, "--sha256", help="Expected SHA-256 of the zip (default: "
                                                      "the published one)."),
) -> None:
    """Download a MovieLens data set (checksum verified), the only command that needs internet.

    Example: [bold]dotwise recommend fetch movielens-100k data/[/bold] → data/ml-100k
    """
    from rich.progress import DownloadColumn, Progress, TransferSpeedColumn

    from dotwise.recommend import fetch_movielens
    from dotwise.recommend.fetch import FetchError

    with Progress(*Progress.get_default_columns(), DownloadColumn(), TransferSpeedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task(f"downloading {name}", total=None)

        def report(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total)

        try:
            target = fetch_movielens(name, directory, url=url, overwrite=overwrite,
                                     sha256=sha256, progress=report)
        except (FetchError, FileExistsError) as exc:
            fail(str(exc))
    console.print(f"[green]✓[/green] {name} → [bold]{target}[/bold] (checksum verified). Try: "
                  f"dotwise recommend top {target} --user 196", highlight=False)
