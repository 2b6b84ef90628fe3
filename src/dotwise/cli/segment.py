"""``dotwise segment``: customer segmentation of any CSV table (k-means + plain-words profiles)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ._common import console, fail, friendly_errors


def register(app: typer.Typer) -> None:
    @app.command("segment")
    @friendly_errors
    def segment_cmd(
        table: Path = typer.Argument(None, metavar="[TABLE.csv]",
                                     help="A CSV with a header row (one row per customer)."),
        features: str = typer.Option(None, "--features", "-f",
                                     help="Comma-separated columns to segment on "
                                          "(default: every numeric column)."),
        k: int = typer.Option(5, "--k", "-k", help="Number of segments."),
        pca: int = typer.Option(None, "--pca",
                                help="Cluster on this many principal components of the "
                                     "standardised features."),
        map_png: Path = typer.Option(None, "--map", help="Write the 2-D PCA map as a PNG."),
        labels_csv: Path = typer.Option(None, "--labels",
                                        help="Write each row's segment to this CSV."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
        demo: bool = typer.Option(False, "--demo",
                                  help="Segment a generated, synthetic customer table."),
        rows: int = typer.Option(2000, "--rows", help="Rows of the --demo table."),
        movielens: Path = typer.Option(None, "--movielens", metavar="PATH",
                                       help="Segment the viewers of a MovieLens folder by "
                                            "their learned taste vectors."),
        factors: int = typer.Option(24, "--factors",
                                    help="Taste-vector length for --movielens."),
        seed: int = typer.Option(0, "--seed", help="Random seed (k-means, demo table)."),
    ) -> None:
        """Split the rows of a table into segments and say what sets each one apart.

        Standardises the chosen columns, optionally keeps the first --pca principal
        components, runs k-means (distances as dot products), and describes each
        segment by its size and the features whose segment mean is far from the
        overall mean (z-scores: "high income (+1.4 σ)").

        Examples:

        [bold]dotwise segment customers.csv --features age,income,visits --k 4 --map map.png[/bold]

        [bold]dotwise segment --demo --k 5[/bold]   (a synthetic customer table)

        [bold]dotwise segment --movielens data/ml-100k --k 6[/bold]   (viewers, by genre taste)
        """
        sources = [s for s, on in (("TABLE", table is not None), ("--demo", demo),
                                   ("--movielens", movielens is not None)) if on]
        if len(sources) != 1:
            fail("give one of TABLE.csv, --demo or --movielens PATH"
                 + (f" (got {' and '.join(sources)})" if sources else ""))
        if k < 1:
            fail(f"--k must be >= 1, got {k}")
        if pca is not None and pca < 1:
            fail(f"--pca must be >= 1, got {pca}")
        from dotwise.models import segment
        from dotwise.models.segment import segment_viewers

        with console.status("segmenting …") as status:
            def progress(stage: str) -> None:
                status.update(f"{stage} …")

            if movielens is not None:
                if features is not None or pca is not None:
                    fail("--features and --pca do not apply to --movielens (the features "
                         "are the learned taste vectors)")
                from dotwise.recommend import load_ratings

                status.update(f"loading {movielens} …")
                ratings = load_ratings(movielens)
                viewers = segment_viewers(ratings, k=k, n_factors=factors,
                                          random_state=seed, progress=progress)
                result, header = viewers.segmentation, str(viewers)
            else:
                if demo:
                    from dotwise.models import customer_table

                    data = customer_table(rows, random_state=seed)
                    X, names, unit = data, features, "customers"
                else:
                    from dotwise.search.data import read_csv

                    status.update(f"reading {table} …")
                    tab = read_csv(table)
                    names = ([f.strip() for f in features.split(",") if f.strip()]
                             if features else tab.numeric_columns())
                    if not names:
                        fail(f"{table.name} has no numeric column; its columns are: "
                             f"{', '.join(tab.header)}")
                    values, _ = tab.floats(names)
                    # a mapping: without --features, segment() leaves out id columns
                    X = {n: values[:, j] for j, n in enumerate(names)}
                    names = features
                    unit = "rows"
                result = segment(X, names, k=k, pca=pca, random_state=seed, unit=unit,
                                 progress=progress)
                header = str(result)
                viewers = None
            if map_png is not None:
                status.update(f"writing {map_png} …")
                result.save_map(map_png)
            if labels_csv is not None:
                _write_labels(labels_csv, result.labels,
                              None if viewers is None else viewers.user_ids)
        if as_json:
            payload = viewers.to_dict() if viewers is not None else result.to_dict(labels=False)
            if demo:
                payload["data"] = (f"synthetic customer table ({rows} rows, seed {seed}; "
                                   f"generated, not real customers)")
            typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
            return
        if demo:
            console.print(f"[dim]data: a synthetic customer table ({rows} rows, seed {seed}) — "
                          f"generated by dotwise, not real customers[/dim]", highlight=False)
        lines = header.splitlines()
        console.print(f"[bold]{lines[0]}[/bold]", highlight=False)
        for line in lines[1:]:
            console.print(line, highlight=False)
        if viewers is None:
            _z_table(result)
        if map_png is not None:
            console.print(f"map written to [bold]{map_png}[/bold]")
        if labels_csv is not None:
            console.print(f"labels written to [bold]{labels_csv}[/bold]")


def _z_table(result) -> None:
    from rich.table import Table

    names = result.feature_names
    table = Table(title="z-scores of segment means (σ from the overall mean)",
                  title_justify="left")
    table.add_column("segment", justify="right")
    table.add_column("size", justify="right")
    for n in names[:12]:
        table.add_column(n, justify="right")
    for p in result.profiles:
        cells = []
        for n in names[:12]:
            z = p.z[n]
            style = "bold green" if z >= 0.5 else "bold red" if z <= -0.5 else "dim"
            cells.append(f"[{style}]{z:+.2f}[/{style}]")
        table.add_row(str(p.segment), str(p.size), *cells)
    console.print(table)


def _write_labels(path: Path, labels, ids) -> None:
    from dotwise._io import atomic_open

    with atomic_open(path, "w") as fh:
        fh.write("row,segment\n" if ids is None else "user_id,segment\n")
        keys = range(len(labels)) if ids is None else ids.tolist()
        fh.writelines(f"{key},{int(s)}\n" for key, s in zip(keys, labels, strict=True))


__all__ = ["register"]
