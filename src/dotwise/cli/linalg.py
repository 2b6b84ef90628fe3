"""``dotwise inspect`` and ``dotwise lstsq``: the linear-algebra core from the shell."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

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
        a_file: Path = typer.Argument(..., metavar="A", help="Matrix A (m × n): .npy or .csv."),
        b_file: Path = typer.Argument(..., metavar="B",
                                      help="Right-hand side b (m values, or m × k): .npy or .csv."),
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
        """
        import numpy as np

        import dotwise as dw
        from dotwise._io import save_npy

        A = load_matrix(a_file, "A")
        b = load_matrix(b_file, "B")
        if b.ndim == 2 and b.shape[1] == 1:
            b = b[:, 0]
        if A.ndim == 1:
            A = A[:, None]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", dw.IllConditionedWarning)
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
        console.print(f"rank               {res.rank} of {min(A.shape)}", highlight=False)
        estimated = " (LAPACK estimate)" if res.method in ("normal", "qr") else ""
        console.print(f"condition number   {format_number(res.cond, 4)}{estimated}",
                      highlight=False)
        console.print(f"method             {res.method}"
                      + (" (chosen by auto)" if method == "auto" else ""), highlight=False)
        for w in caught:
            console.print(f"[yellow]warning:[/yellow] {w.message}", highlight=False)
        if out is not None:
            console.print(f"x saved to [bold]{out}[/bold]")


def _finite_or_str(v: float):
    import math

    return v if math.isfinite(v) else str(v)


__all__ = ["register"]
