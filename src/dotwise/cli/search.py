"""``dotwise index …`` (build, query, inspect a vector index) and ``dotwise similar``."""

from __future__ import annotations

import csv
from pathlib import Path

import typer

from ._common import console, fail, format_number, friendly_errors

index_app = typer.Typer(
    help=(
        "Build, query and inspect a similarity-search index.\n\n"
        "Example: [bold]dotwise index build vectors.npy -o my-index --metric cosine[/bold], "
        "then [bold]dotwise index query my-index queries.npy -k 10[/bold]."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)

_CHUNK = 50_000
_PROGRESS_FROM = 100_000


def _progress():
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    return Progress(TextColumn("[bold blue]{task.description}"), BarColumn(),
                    MofNCompleteColumn(), TimeRemainingColumn(), console=console,
                    transient=True)


def _open_vectors(path: Path, name: str):
    """A .npy file memory-mapped or a zarr array (never loaded whole), or a CSV read in."""
    import numpy as np

    from ._common import load_matrix

    if path.suffix.lower() == ".zarr" or (path.is_dir() and (path / "zarr.json").exists()):
        from dotwise.scale.zarr_io import open_zarr

        X = open_zarr(path)
        if not hasattr(X, "dtype"):
            raise ValueError(f"{name}: {path} is a zarr group, not an array of vectors")
    elif path.suffix.lower() == ".npy" and path.is_file():
        try:
            X = np.load(path, mmap_mode="r", allow_pickle=False)
        except (ValueError, EOFError, OSError) as exc:
            # an empty file raises EOFError, which Click would turn into a bare "Aborted."
            raise ValueError(f"{name}: {path} is not a readable .npy file "
                             f"({exc or 'the file is empty'})") from None
    else:
        X = load_matrix(path, name)
    if X.ndim == 1:
        X = X.reshape(1, -1)
    if X.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D matrix (one vector per row), got shape "
                         f"{X.shape}")
    if X.size == 0:
        raise ValueError(f"{name}: {path} holds no vectors (shape {X.shape}); give at least "
                         f"one row")
    return X


def register(app: typer.Typer) -> None:
    app.add_typer(index_app, name="index")

    @app.command()
    @friendly_errors
    def similar(
        catalog: Path = typer.Argument(..., help="CSV with a header row: one item per row."),
        name: str = typer.Argument(..., help="The item to start from (case-insensitive)."),
        features: str = typer.Option(
            "", "--features", "-f",
            help="Comma-separated numeric columns to compare on (default: the numeric "
                 "columns that are not ids, labels or categorical codes)."),
        k: int = typer.Option(10, "-k", help="How many similar items to show."),
        key: str = typer.Option("track", "--key", help="Column holding the item names."),
        show: str = typer.Option(
            "", "--show",
            help="Comma-separated extra columns to show (default: the first text column)."),
        where: list[str] = typer.Option(
            [], "--where", help="Disambiguate a name shared by several rows, e.g. artist=Adele."),
        metric: str = typer.Option("cosine", "--metric", help="cosine, dot or l2."),
        weights: str = typer.Option("", "--weights",
                                    help="Per-feature weights, e.g. tempo=0.5,energy=2."),
    ) -> None:
        """Items most similar to one item of a CSV table, with the features behind each match.

        Features are z-scored (tempo in BPM does not drown danceability) and
        compared by cosine; the last column shows the features contributing
        most to each score (↑ both above average, ↓ both below).

        Example: [bold]dotwise similar songs.csv "Blinding Lights" --features
        danceability,energy,valence,acousticness,tempo,loudness -k 10[/bold]
        """
        from rich.table import Table

        from dotwise.search import Catalog
        from dotwise.search.results import UnknownIdError

        feats = [f.strip() for f in features.split(",") if f.strip()] or None
        w = _parse_pairs(weights, "--weights", float) if weights else None
        cond = _parse_pairs(",".join(where), "--where", str) if where else None
        cat = Catalog.from_csv(catalog, key=key, features=feats, weights=w, metric=metric)
        try:
            recs = cat.similar(name, k=k, where=cond)
        except UnknownIdError as exc:
            fail(str(exc))
        cols = [c.strip() for c in show.split(",") if c.strip()]
        if not cols:
            cols = [c for c in cat.metadata if not _numeric(cat.metadata[c])][:1]
        unknown = [c for c in cols if c not in cat.metadata]
        if unknown:
            fail(f"--show names unknown column(s) {', '.join(unknown)}; the other columns are: "
                 f"{', '.join(cat.metadata)}")
        row = cat.rows_of(name, cond)[0]
        who = f" — {', '.join(cat.metadata[c][row] for c in cols)}" if cols else ""
        title = (f"{len(recs)} items like [bold]{cat.names[row]}[/bold]{who} "
                 f"({len(cat)} items; {cat.metric} on z-scored {', '.join(cat.feature_names)})")
        table = Table(title=title, title_justify="left")
        table.add_column("#", justify="right")
        table.add_column(key)
        for c in cols:
            table.add_column(c)
        table.add_column("score", justify="right")
        table.add_column("why: top features (contribution)")
        for r in recs.to_rows(cols):
            table.add_row(*r)
        console.print(table)
        if feats is None:
            left = "; ".join(f"{c} ({why})" for c, why in cat.features_left_out.items())
            console.print(f"[dim]features chosen automatically: {', '.join(cat.feature_names)}"
                          + (f"; left out: {left}" if left else "")
                          + " — choose others with --features[/dim]", highlight=False)
        if recs.note:
            console.print(f"[dim]note: {recs.note} (choose with --where)[/dim]")

    @index_app.command("build")
    @friendly_errors
    def build(
        vectors: Path = typer.Argument(
            ..., help=".npy (memory-mapped), a zarr array or .csv, one vector a row."),
        out: Path = typer.Option(..., "--out", "-o", help="Directory to write the index to."),
        metric: str = typer.Option("cosine", "--metric", "-m", help="cosine, dot or l2."),
        ivf: int = typer.Option(0, "--ivf",
                                help="Build an IVF index with this many k-means lists (0: exact)."),
        n_probe: int = typer.Option(8, "--n-probe", help="IVF lists searched per query."),
        ids: Path = typer.Option(None, "--ids", help="Optional .npy/.csv of int64 ids, one a row."),
        dtype: str = typer.Option("float32", "--dtype", help="float32 or float64."),
        shards: int = typer.Option(
            0, "--shards",
            help="Write a sharded index: a zarr store of this many row shards, searched on "
                 "a Dask cluster by `dotwise index query --scheduler` (0: a plain index)."),
    ) -> None:
        """Build an index from a matrix of vectors and save it to a directory.

        Example: [bold]dotwise index build vectors.npy -o my-index --metric cosine[/bold]
        (exact), or [bold]--ivf 1024[/bold] for an approximate IVF index with 1024
        lists, or [bold]-o my-index.zarr --shards 16[/bold] for an exact index cut
        into 16 shards for a cluster (streamed: the vectors never need to fit in
        memory). A progress bar shows on large collections.
        """
        import numpy as np

        from dotwise.search import Index, IVFIndex

        X = _open_vectors(vectors, "VECTORS")
        n, d = X.shape
        id_arr = None
        if ids is not None:
            id_arr = _open_vectors(ids, "--ids").reshape(-1)
            if id_arr.dtype.kind == "f":
                if not np.all(id_arr == np.round(id_arr)):
                    fail(f"--ids: {ids} must hold whole numbers")
            id_arr = np.asarray(id_arr).astype(np.int64)
            if id_arr.shape[0] != n:
                fail(f"--ids has {id_arr.shape[0]} ids for {n} vectors")
        if shards:
            if ivf:
                fail("--shards builds an exact sharded index; it cannot be combined with --ivf")
            _build_sharded(X, out, shards, metric, dtype, id_arr)
            return
        if ivf:
            index = IVFIndex(d, metric=metric, n_lists=ivf, n_probe=min(n_probe, ivf),
                             dtype=dtype)
            with console.status(f"training {ivf} k-means lists on "
                                f"{min(n, index.max_train):,} vectors…"):
                index.train(X)
        else:
            index = Index(d, metric=metric, dtype=dtype)
        chunk = n if n < _PROGRESS_FROM or ivf else _CHUNK
        if ivf:
            with console.status(f"assigning {n:,} vectors to their lists…"):
                index.add(np.asarray(X), ids=id_arr)
        elif chunk >= n:
            index.add(np.asarray(X), ids=id_arr)
        else:
            with _progress() as progress:
                task = progress.add_task("adding vectors", total=n)
                for s in range(0, n, chunk):
                    e = min(s + chunk, n)
                    index.add(np.asarray(X[s:e]),
                              ids=None if id_arr is None else id_arr[s:e])
                    progress.advance(task, e - s)
        with console.status("writing…"):
            index.save(out)
        console.print(f"[green]✓[/green] {type(index).__name__} of {n:,} vectors × {d} "
                      f"({metric}, {dtype}) written to [bold]{out}[/bold]", highlight=False)

    @index_app.command("query")
    @friendly_errors
    def query(
        index_dir: Path = typer.Argument(..., help="An index directory from `dotwise index build`."),
        queries: Path = typer.Argument(..., help=".npy or .csv of query vectors, one a row."),
        k: int = typer.Option(10, "-k", help="Matches per query."),
        n_probe: int = typer.Option(0, "--n-probe", help="IVF only: lists to search (0: saved)."),
        out: Path = typer.Option(None, "--out", "-o",
                                 help="Write all results to a CSV (query,rank,id,score)."),
        show: int = typer.Option(5, "--show", help="Queries to print (the rest go to --out)."),
        mmap: bool = typer.Option(True, "--mmap/--no-mmap",
                                  help="Memory-map the vectors (instant load)."),
        scheduler: str = typer.Option(
            "", "--scheduler",
            help="Dask scheduler address (e.g. tcp://10.0.0.5:8786) to search a sharded index "
                 "on; default for a sharded index: a local cluster on 127.0.0.1."),
    ) -> None:
        """Search an index with one or many query vectors.

        Example: [bold]dotwise index query my-index queries.npy -k 10 --out hits.csv[/bold];
        a sharded index (built with --shards) is searched on a Dask cluster:
        [bold]dotwise index query my-index.zarr queries.npy --scheduler tcp://HOST:8786[/bold]
        """
        import numpy as np

        from dotwise.search import IVFIndex, load

        Q = np.asarray(_open_vectors(queries, "QUERIES"))
        if _is_sharded_store(index_dir):
            index, result = _query_sharded(index_dir, Q, k, scheduler)
        elif scheduler:
            fail(f"--scheduler searches a sharded index, and {index_dir} is a plain one: "
                 f"build it with `dotwise index build VECTORS -o {index_dir}.zarr --shards N`")
        else:
            index = load(index_dir, mmap=mmap)
            if isinstance(index, IVFIndex) and n_probe:
                result = index.search(Q, k=k, n_probe=n_probe)
            else:
                result = index.search(Q, k=k)
        kind = "distance" if index.metric == "l2" else index.metric
        from rich.table import Table

        for qi in range(min(show, Q.shape[0])):
            t = Table(title=f"query {qi}", title_justify="left")
            t.add_column("rank", justify="right")
            t.add_column("id", justify="right")
            t.add_column(kind, justify="right")
            for rank, (i, s) in enumerate(zip(result.ids[qi], result.scores[qi], strict=True), 1):
                t.add_row(str(rank), str(int(i)), format_number(s, 5) if i >= 0 else "—")
            console.print(t)
        if Q.shape[0] > show and out is None:
            console.print(f"[dim]{Q.shape[0] - show} more queries: pass --out FILE.csv to "
                          f"write every result[/dim]")
        if out is not None:
            from dotwise._io import atomic_open

            with atomic_open(out, "w") as fh:
                w = csv.writer(fh)
                w.writerow(["query", "rank", "id", "score"])
                for qi in range(Q.shape[0]):
                    for rank in range(result.k):
                        w.writerow([qi, rank + 1, int(result.ids[qi, rank]),
                                    repr(float(result.scores[qi, rank]))])
            console.print(f"[green]✓[/green] {Q.shape[0]} × {k} results written to {out}")

    @index_app.command("info")
    @friendly_errors
    def info(
        index_dir: Path = typer.Argument(..., help="An index directory."),
        verify: bool = typer.Option(False, "--verify",
                                    help="Check the SHA-256 of every file (reads everything)."),
    ) -> None:
        """Describe a saved index: kind, metric, size, files; optionally verify checksums.

        Example: [bold]dotwise index info my-index --verify[/bold]
        """
        from rich.table import Table

        from dotwise.search import load
        from dotwise.search.storage import read_meta

        if _is_sharded_store(index_dir):
            _info_sharded(index_dir)
            return
        meta = read_meta(index_dir)
        index = load(index_dir, mmap=True, verify="full" if verify else "fast")
        t = Table(title=f"index {index_dir}", title_justify="left", show_header=False)
        t.add_column("field")
        t.add_column("value", justify="right")
        rows = [("kind", meta["kind"]), ("metric", meta["metric"]), ("dtype", meta["dtype"]),
                ("dim", str(meta["dim"])), ("vectors", f"{meta['count']:,}"),
                ("format version", str(meta["format_version"]))]
        for key, val in meta.get("params", {}).items():
            rows.append((key, str(val)))
        if meta["kind"] == "ivf" and len(index):
            sizes = index.list_sizes
            rows.append(("list sizes (min / median / max)",
                         f"{sizes.min()} / {int(sizes.mean())} / {sizes.max()}"))
        total = sum(e["bytes"] for e in meta["files"].values())
        rows.append(("size on disk", f"{total / 2**20:,.1f} MiB"))
        rows.append(("checksums", "verified (full)" if verify else
                     "metadata, sizes + edges verified; 4 MiB blocks on first read"))
        for r in rows:
            t.add_row(*r)
        console.print(t)


def _is_sharded_store(path: Path) -> bool:
    return path.is_dir() and ((path / "zarr.json").exists() or (path / ".zgroup").exists())


def _build_sharded(X, out: Path, shards: int, metric: str, dtype: str, ids) -> None:
    from dotwise.scale.search import shard_index

    n, d = X.shape
    with _progress() as progress:
        task = progress.add_task(f"writing {shards} shards", total=n)
        index = shard_index(X, out, shards, metric=metric, dtype=dtype, ids=ids,
                            progress=lambda rows: progress.advance(task, rows))
    console.print(f"[green]✓[/green] sharded index of {n:,} vectors × {d} ({metric}, {dtype}) "
                  f"in {index.n_shards} shards written to [bold]{out}[/bold]; search it with "
                  f"`dotwise index query {out} QUERIES --scheduler ADDRESS`", highlight=False)


def _client(scheduler: str):
    """A client of the scheduler at ``scheduler``, or of a new local cluster on 127.0.0.1."""
    import contextlib
    import os

    from distributed import Client, LocalCluster

    stack = contextlib.ExitStack()
    if scheduler:
        try:
            client = Client(scheduler, timeout=10)
        except (OSError, TimeoutError) as exc:
            fail(f"--scheduler: cannot reach a Dask scheduler at {scheduler} ({exc})")
        stack.callback(client.close)
        return client, stack
    cluster = LocalCluster(n_workers=1, threads_per_worker=os.cpu_count() or 1,
                           processes=False, protocol="tcp", host="127.0.0.1",
                           dashboard_address=None)
    stack.callback(cluster.close)
    client = Client(cluster)
    stack.callback(client.close)
    return client, stack


def _query_sharded(path: Path, Q, k: int, scheduler: str):
    from dotwise.scale.search import ShardedIndex

    index = ShardedIndex.open(path)
    client, stack = _client(scheduler)
    with stack:
        if len(index) >= _PROGRESS_FROM:
            with _progress() as progress:
                task = progress.add_task(f"searching {index.n_shards} shards", total=len(index))
                result = index.search(Q, k=k, client=client,
                                      progress=lambda rows: progress.advance(task, rows))
        else:
            result = index.search(Q, k=k, client=client)
    return index, result


def _info_sharded(path: Path) -> None:
    from rich.table import Table

    from dotwise.scale.search import ShardedIndex

    index = ShardedIndex.open(path)
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    t = Table(title=f"index {path}", title_justify="left", show_header=False)
    t.add_column("field")
    t.add_column("value", justify="right")
    for row in [("kind", "sharded (zarr)"), ("metric", index.metric),
                ("dtype", index.vectors.dtype.name), ("dim", str(index.dim)),
                ("vectors", f"{len(index):,}"), ("shards", str(index.n_shards)),
                ("rows per shard", f"{index.vectors.chunks[0][0]:,}"),
                ("size on disk", f"{size / 2**20:,.1f} MiB")]:
        t.add_row(*row)
    console.print(t)


def _numeric(values: list[str]) -> bool:
    try:
        [float(v) for v in values[:50]]
    except ValueError:
        return False
    return True


def _parse_pairs(text: str, option: str, conv):
    out = {}
    for part in text.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            fail(f"{option} expects name=value pairs separated by commas, got {part!r}")
        k, v = part.split("=", 1)
        try:
            out[k.strip()] = conv(v.strip())
        except ValueError:
            fail(f"{option}: {v.strip()!r} is not a valid value for {k.strip()!r}")
    return out
