"""Helpers shared by the CLI commands: one console, one error style, matrix files."""

from __future__ import annotations

import csv
import functools
import os
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


#: Library messages end with advice for Python callers ("pass check_finite=False"); on the
#: command line that advice names knobs that do not exist, so it is rewritten or dropped.
_PYTHON_ONLY_ADVICE: tuple[tuple[str, str], ...] = (
    (r"; clean the data or pass check_finite=False", "; clean the data (remove or fill the "
                                                    "NaN/inf values) and run again"),
    (r" ?\(or pass check_finite=False if you know what you are doing\)", ""),
    (r"; pass missing='drop' to skip such rows", "; remove or fill those rows"),
    (r",? ?or pass missing='drop' to skip such rows", "; remove or fill those rows"),
    (r",? or pass on_dependent='drop'[^.;]*", ""),
    (r" One column of (\d+) values\? Pass \w+\.reshape\(-1, 1\)\. One row of \d+ values\? "
     r"Pass \w+\.reshape\(1, -1\)\.", r" Save it as a 2-D array (one row per line of the "
                                       r"CSV, or a 2-D .npy)."),
)


def cli_wording(message: str) -> str:
    """``message`` with advice that only makes sense in Python rewritten for the shell."""
    import re

    for pattern, replacement in _PYTHON_ONLY_ADVICE:
        message = re.sub(pattern, replacement, message)
    return message


def fail(message: str, code: int = 2) -> None:
    """Print a red error line (no traceback) and exit with ``code``."""
    from rich.markup import escape

    err_console.print(f"[bold red]error:[/bold red] {escape(cli_wording(message))}",
                      highlight=False)
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


def guarded(func: F) -> F:
    """The last line of defence every command runs behind: no traceback ever reaches a user.

    Typer/Click's own exits pass through. Running out of memory, an operating-system error
    (a full disk, a folder where a file was expected...) and any unexpected exception become
    one ``error: …`` line with exit code 2; ``DOTWISE_DEBUG=1`` shows the traceback instead.
    """
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as exc:
            # Typer's and Click's own usage errors (Typer may vendor Click, so match the
            # package, not a class): they print their own message and exit 2
            if type(exc).__module__.split(".")[0] in ("typer", "click"):
                raise
            if os.environ.get("DOTWISE_DEBUG"):
                raise
            fail(describe_exception(exc))
        except KeyboardInterrupt:
            err_console.print("[bold red]error:[/bold red] interrupted", highlight=False)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def describe_exception(exc: BaseException) -> str:
    """One readable line for an exception a command did not expect."""
    if isinstance(exc, MemoryError):
        detail = str(exc) or "an allocation failed"
        return (f"not enough memory: {detail}; use smaller sizes (fewer rows, a smaller "
                f"kernel, k or dimension)")
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if getattr(exc, "filename", None) else ""
        return f"{exc.strerror or exc}{where}"
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    text = str(exc) or "(no message)"
    if isinstance(exc, (ValueError, TypeError, ArithmeticError, np.linalg.LinAlgError)):
        return text
    return f"unexpected {type(exc).__name__}: {text} (DOTWISE_DEBUG=1 shows where)"


def check_out_folder(path: Path, name: str) -> None:
    """An output file's folder must exist: a typo in it must not silently create folders."""
    folder = Path(path).parent
    if not folder.exists():
        fail(f"{name}: the folder {folder} does not exist; create it first "
             f"(mkdir -p {folder}) or choose another path")
    if not folder.is_dir():
        fail(f"{name}: {folder} is not a folder")
    if Path(path).is_dir():
        fail(f"{name}: {path} is a folder; give a file name, e.g. {Path(path) / 'out.png'}")


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
