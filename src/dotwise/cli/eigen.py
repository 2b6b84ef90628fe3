"""``dotwise eigen``: eigenvalues and eigenvectors of a square matrix from the shell."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import typer

from ._common import console, fail, format_number, friendly_errors, load_matrix


def _num(z) -> object:
    """A JSON value: a float (non-finite as a string), or [re, im] for a complex number."""
    z = complex(z)
    if z.imag != 0:
        return [z.real, z.imag]
    return z.real if math.isfinite(z.real) else str(z.real)


def _text(z) -> str:
    z = complex(z)
    if z.imag == 0:
        return format_number(z.real, 8)
    return f"{format_number(z.real, 6)} {'+' if z.imag >= 0 else '−'} {format_number(abs(z.imag), 6)}i"


def register(app: typer.Typer) -> None:
    @app.command("eigen")
    @friendly_errors
    def eigen_cmd(
        file: Path = typer.Argument(..., help="Square matrix: .npy (no pickle) or .csv of numbers."),
        power: bool = typer.Option(False, "--power",
                                   help="Use power iteration (the dominant pair, or the one "
                                        "nearest --shift) instead of the full decomposition."),
        shift: float = typer.Option(None, "--shift",
                                    help="Find the eigenvalue nearest this number "
                                         "(shift-and-invert power iteration; implies --power)."),
        k: int = typer.Option(1, "--k", min=1,
                              help="Eigenpairs by power iteration with deflation "
                                   "(k > 1 needs a symmetric matrix)."),
        seed: int = typer.Option(0, "--seed", help="Seed of power iteration's start vector."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Eigenvalues and eigenvectors: the directions the matrix only stretches (A v = λ v).

        Without options: every eigenpair, the residuals ‖Av − λv‖, and whether the matrix
        is symmetric (spectral theorem: A = VΛVᵀ) or diagonalizable (A = VΛV⁻¹) or
        defective. With [bold]--power[/bold]: the dominant eigenpair by power iteration
        and how many iterations it took.

        Example: [bold]dotwise eigen cov.csv[/bold] lists λ₁ ≥ λ₂ ≥ … of a covariance
        matrix (PCA's explained variances); [bold]dotwise eigen A.npy --power --k 3[/bold]
        finds the three largest by deflation; [bold]dotwise eigen A.npy --shift 0.5[/bold]
        the one nearest 0.5.
        """
        import numpy as np

        import dotwise as dw

        A = load_matrix(file, "FILE")
        if A.ndim != 2 or A.shape[0] != A.shape[1]:
            fail(f"FILE must hold a square matrix (n × n) to have eigenvalues, got shape "
                 f"{A.shape}; for a rectangular matrix see the singular values: "
                 f"dotwise inspect {file}")
        if k > 1 and not (power or shift is not None):
            power = True
        if power or shift is not None:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", dw.ConvergenceWarning)
                res = dw.power_iteration(A, k=k, shift=shift, random_state=seed)
            messages = [str(w.message) for w in caught]
            if as_json:
                typer.echo(json.dumps({
                    "method": "power" if shift is None else "shift-invert", "shift": shift,
                    "values": [_num(v) for v in res.values],
                    "vectors": np.asarray(res.vectors).T.tolist(),
                    "iterations": list(res.iterations), "converged": list(res.converged),
                    "residuals": [float(h[-1]) for h in res.residual_history],
                    "warnings": messages}, indent=2))
                return
            how = "power iteration" if shift is None else f"shift-and-invert iteration, σ = {shift:g}"
            console.print(f"[bold]{file.name}[/bold]: {how}", highlight=False)
            for i, lam in enumerate(res.values):
                state = "converged" if res.converged[i] else "[yellow]not converged[/yellow]"
                vec = ", ".join(format_number(x, 6) for x in res.vectors[:, i][:8])
                more = ", …" if A.shape[0] > 8 else ""
                console.print(f"  λ{i + 1} ≈ {format_number(lam, 10)}   v = ({vec}{more})   "
                              f"{res.iterations[i]} iterations, {state}", highlight=False)
            for m in messages:
                console.print(f"[yellow]warning:[/yellow] {m}", highlight=False)
            return
        res = dw.eigendecomposition(A)
        if as_json:
            typer.echo(json.dumps({
                "values": [_num(v) for v in res.values],
                "vectors": [[_num(x) for x in col] for col in res.vectors.T],
                "residuals": res.residuals.tolist(), "symmetric": res.symmetric,
                "diagonalizable": res.diagonalizable, "cond_V": _num(res.cond_V),
                "orthogonality_error": res.orthogonality_error,
                "reconstruction_error": res.reconstruction_error}, indent=2))
            return
        from rich.table import Table

        n = A.shape[0]
        table = Table(title=f"{file.name}: {n}×{n}, "
                            f"{'symmetric' if res.symmetric else 'general'}", title_justify="left")
        table.add_column("i", justify="right")
        table.add_column("λ", justify="right")
        table.add_column("‖Av − λv‖", justify="right")
        table.add_column("eigenvector v" + (" (first 6 entries)" if n > 6 else ""))
        shown = min(n, 30)
        for i in range(shown):
            vec = ", ".join(_text(x) for x in res.vectors[:6, i]) + (", …" if n > 6 else "")
            table.add_row(str(i + 1), _text(res.values[i]), format_number(res.residuals[i], 2),
                          vec)
        if n > shown:
            table.add_row("…", "…", "…", f"({n - shown} more: use --json)")
        console.print(table)
        if res.symmetric:
            console.print(f"spectral theorem: real eigenvalues, orthonormal eigenvectors "
                          f"(‖VᵀV − I‖ = {res.orthogonality_error:.1e}, ‖A − VΛVᵀ‖/‖A‖ = "
                          f"{res.reconstruction_error:.1e})", highlight=False)
        elif res.diagonalizable:
            console.print(f"diagonalizable: A = VΛV⁻¹, cond(V) = {format_number(res.cond_V, 4)}"
                          f" (‖A − VΛV⁻¹‖/‖A‖ = {res.reconstruction_error:.1e})",
                          highlight=False)
        else:
            which = ", ".join(_text(z) for z in res.defective_eigenvalues)
            console.print(f"[yellow]defective:[/yellow] not diagonalizable — too few independent "
                          f"eigenvectors for λ = {which}", highlight=False)
        if not res.is_real:
            console.print("complex eigenvalues: no real direction is only scaled by them",
                          highlight=False)


__all__ = ["register"]
