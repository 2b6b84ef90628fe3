"""Helpers shared by the CLI commands: one console, one error style, matrix files."""

from __future__ import annotations

import csv
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import typer
from rich.console import Console
from rich.table import Table


class _Console(Console):
    """A Rich console that word-wraps on a terminal but never breaks a line when its
    output is piped or captured, so ``dotwise … | grep PSNR`` sees whole lines."""

    @property
    def soft_wrap(self) -> bool:
        return not self.is_terminal

    @soft_wrap.setter
    def soft_wrap(self, value: bool) -> None:   # Console.__init__ assigns it; ignored
        pass


console = _Console()
err_console = _Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = 2) -> None:
    """Print a red error line (no traceback) and exit with ``code``."""
    err_console.print(f"[bold red]error:[/bold red] {message}", highlight=False)
    raise typer.Exit(code)


def friendly_errors(func: F) -> F:
    """Turn the library's documented exceptions into one-line CLI errors."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (ValueError, TypeError, np.linalg.LinAlgError, FileNotFoundError,
                IsADirectoryError, PermissionError, KeyError) as exc:
            message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
            fail(f"{message}")

    return wrapper  # type: ignore[return-value]


def load_matrix(path: str | Path, name: str = "FILE") -> np.ndarray:
    """Read a numeric matrix from ``.npy`` (no pickle) or ``.csv``/``.txt``.

    CSV: comma-separated numbers; a first row that is not numeric is taken as a
    header. A malformed row raises ``ValueError`` naming the file and line.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{name}: no such file: {path}")
    if path.is_dir():
        raise IsADirectoryError(f"{name}: expected a .npy or .csv file, got a directory: {path}")
    if path.suffix.lower() == ".npy":
        try:
            return np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise ValueError(f"{name}: {path} is not a readable .npy file ({exc})") from None
    rows: list[list[float]] = []
    with open(path, newline="", encoding="utf-8") as fh:
        for lineno, row in enumerate(csv.reader(fh), start=1):
            if not row or all(not cell.strip() for cell in row):
                continue
            try:
                values = [float(cell) for cell in row]
            except ValueError:
                if lineno == 1 and not rows:
                    continue  # header
                bad = next(c for c in row if not _is_float(c))
                raise ValueError(
                    f"{name}: {path}, line {lineno}: {bad!r} is not a number "
                    f"(expected comma-separated numbers)"
                ) from None
            if rows and len(values) != len(rows[0]):
                raise ValueError(
                    f"{name}: {path}, line {lineno}: has {len(values)} columns, "
                    f"expected {len(rows[0])} like the rows above"
                )
            rows.append(values)
    if not rows:
        raise ValueError(f"{name}: {path} contains no numeric rows")
    return np.asarray(rows, dtype=np.float64)


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def format_number(x: float, digits: int = 4) -> str:
    """Compact, readable number formatting for tables (``1.235e+12``, ``0.5``, ``42``)."""
    return f"{float(x):.{digits}g}"


def matrix_table(M: np.ndarray, title: str = "", *, row_labels=None, col_labels=None,
                 digits: int = 3, max_size: int = 12) -> Table:
    """A Rich table showing a (possibly truncated) matrix."""
    M = np.atleast_2d(np.asarray(M))
    table = Table(title=title or None, show_header=col_labels is not None, box=None)
    if row_labels is not None:
        table.add_column("")
    n_cols = min(M.shape[1], max_size)
    for j in range(n_cols):
        table.add_column(str(col_labels[j]) if col_labels is not None else "", justify="right")
    for i in range(min(M.shape[0], max_size)):
        cells = [f"{M[i, j]:.{digits}f}" for j in range(n_cols)]
        if row_labels is not None:
            cells.insert(0, str(row_labels[i]))
        table.add_row(*cells)
    return table
