"""``dotwise inspect`` and ``dotwise lstsq``: the linear-algebra core from the shell."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import typer

from ._common import console, format_number, friendly_errors, load_matrix


def register(app: typer.Typer) -> None:
    @app.command("inspect")
    @friendly_errors
    def inspect_cmd(
        file: Path = typer.Argument(..., help="Matrix file: .npy (no pickle) or .csv of numbers."),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    ) -> None:
        """Rank, determinant, condition number, norms and structure of a matrix — with advice.

        Reads a 2-D .npy file or a CSV of comma-separated numbers (a non-numeric
        first row is taken as a header; a 1-D file is one column).

        Example: [bold]dotwise inspect design.csv[/bold] prints a table such as
        "rank 3 of 4", "condition number 3.1e+12" and advice like "condition 3e+12:
        expect ~12 lost digits; use ridge or lstsq, not inv".
        [bold]--json[/bold] gives the same report for scripts.
        """
        from rich.table import Table

        import dotwise as dw

        A = load_matrix(file, "FILE")
        report = dw.inspect(A)
        if as_json:
            typer.echo(json.dumps(report.to_dict(), indent=2))
            return
        table = Table(title=f"{file.name}", title_justify="left", show_header=False)
        table.add_column("quantity", style="bold")
        table.add_column("value")
        for key, value in report.rows():
            table.add_row(key, value)
        props = "  ".join(f"{name} {'[green]✓[/green]' if ok else '[dim]✗[/dim]'}"
                          for name, ok in report.properties().items())
        table.add_row("properties", props)
        console.print(table)
        console.print("[bold]advice[/bold]")
        for line in report.advice:
            console.print(f"  • {line}", highlight=False)

    @app.command("lstsq")
    @friendly_errors
    def lstsq_cmd(
        a_file: Path = typer.Argument(..., metavar="A",
                                      help="Matrix A (m × n): .npy, .csv or a zarr array "
                                           "(A.zarr, solved on a Dask cluster by TSQR)."),
        b_file: Path = typer.Argument(None, metavar="[B]",
                                      help="Right-hand side b (m values, or m × k): .npy, "
                                           ".csv or zarr."),
        b_spec: str = typer.Option(None, "--b",
                                   help="b as a column of A (an integer, e.g. -1 for the last; "
                                        "the other columns form A) or a path, instead of B."),
        scheduler: str = typer.Option(None, "--scheduler",
                                      help="Dask scheduler address (tcp://host:8786) for zarr "
                                           "or --scheduler input; 'threads' for Dask's local "
                                           "threads; default a local cluster on 127.0.0.1."),
        method: str = typer.Option("auto", "--method", "-m",
                                   help="auto | normal | qr | svd | pinv (auto picks the "
                                        "fastest accurate one)."),
        rcond: float = typer.Option(None, "--rcond",
                                    help="Relative rank tolerance (default eps·max(m, n))."),
        out: Path = typer.Option(None, "--out", "-o", help="Also save x to this .npy file."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Solve the least-squares problem min ‖A x − b‖ and report how it went.

        Prints x, the residual norm, the rank and condition number of A, the
        method that ran, and any warning (ill-conditioning, rank deficiency).

        Example: [bold]dotwise lstsq X.csv y.csv[/bold] fits y ≈ X x;
        [bold]dotwise lstsq X.npy y.npy --method qr --out coef.npy[/bold] forces
        Householder QR and saves x.
        [bold]dotwise lstsq data.zarr --b -1[/bold] solves on a local Dask cluster with the
        last column as b; [bold]--scheduler tcp://10.0.0.5:8786[/bold] runs it on yours.
        """
        import numpy as np

        import dotwise as dw
        from dotwise._io import save_npy

        if b_file is not None and b_spec is not None:
            raise ValueError("give b either as the argument B or with --b, not both")
        if b_file is None and b_spec is None:
            raise ValueError("missing b: pass B (a file) or --b COLUMN|PATH")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", dw.IllConditionedWarning)
            if _is_zarr(a_file) or scheduler is not None:
                from ._cluster import solve_on_cluster

                res, A_shape = solve_on_cluster(a_file, b_file, b_spec, scheduler,
                                                method=method, rcond=rcond,
                                                progress=console.is_terminal and not as_json)
            else:
                A, b = _in_memory_system(a_file, b_file, b_spec)
                A_shape = A.shape
                res = dw.lstsq(A, b, method=method, rcond=rcond)
        if out is not None:
            save_npy(out, res.x)
        if as_json:
            payload = {
                "x": np.asarray(res.x).tolist(),
                "residual_norm": np.asarray(res.residual_norm).tolist(),
                "rank": res.rank, "cond": _finite_or_str(res.cond), "method": res.method,
                "warnings": [str(w.message) for w in caught],
            }
            typer.echo(json.dumps(payload, indent=2))
            return
        from rich.table import Table

        x = np.atleast_2d(np.asarray(res.x).T).T  # (n, k)
        table = Table(title="solution x", title_justify="left")
        table.add_column("i", justify="right")
        for j in range(x.shape[1]):
            table.add_column("x" if x.shape[1] == 1 else f"x[:, {j}]", justify="right")
        shown = min(x.shape[0], 30)
        for i in range(shown):
            table.add_row(str(i), *(format_number(v, 8) for v in x[i]))
        if x.shape[0] > shown:
            table.add_row("…", *("…" for _ in range(x.shape[1])))
        console.print(table)
        residual = np.atleast_1d(res.residual_norm)
        console.print(f"residual ‖Ax − b‖  {', '.join(format_number(r, 6) for r in residual)}",
                      highlight=False)
        console.print(f"rank               {res.rank} of {min(A_shape)}", highlight=False)
        estimated = " (LAPACK estimate)" if res.method in ("normal", "qr", "tsqr") else ""
        console.print(f"condition number   {format_number(res.cond, 4)}{estimated}",
                      highlight=False)
        console.print(f"method             {res.method}"
                      + (" (chosen by auto)" if method == "auto" else ""), highlight=False)
        for w in caught:
            console.print(f"[yellow]warning:[/yellow] {w.message}", highlight=False)
        if out is not None:
            console.print(f"x saved to [bold]{out}[/bold]")


def _is_zarr(path: Path) -> bool:
    return path.suffix.lower() == ".zarr" or (path.is_dir() and (
        (path / "zarr.json").exists() or (path / ".zarray").exists()))


def _in_memory_system(a_file: Path, b_file: Path | None, b_spec: str | None):
    """A (m, n) and b (m,) or (m, k) from files, or b as a column of A (``--b N``)."""
    A = load_matrix(a_file, "A")
    if A.ndim == 1:
        A = A[:, None]
    from ._cluster import column_index

    column = column_index(b_spec)
    if column is not None:
        if not -A.shape[1] <= column < A.shape[1] or A.shape[1] < 2:
            raise ValueError(f"--b {b_spec}: A has {A.shape[1]} columns, so the column must be "
                             f"in [{-A.shape[1]}, {A.shape[1] - 1}] and one must remain for A")
        column %= A.shape[1]
        return np.delete(A, column, axis=1), A[:, column]
    b = load_matrix(b_file if b_file is not None else Path(b_spec), "B")
    if b.ndim == 2 and b.shape[1] == 1:
        b = b[:, 0]
    return A, b


def _finite_or_str(v: float):
    import math

    return v if math.isfinite(v) else str(v)


__all__ = ["register"]
