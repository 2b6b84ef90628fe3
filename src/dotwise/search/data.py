"""Reading tables of items with numeric features (CSV), and the bundled example catalog."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from .._validation import DataFormatError

__all__ = ["Table", "example_catalog_path", "read_csv"]


#: An integer column with at most this many distinct values is a category, not a measurement.
CATEGORICAL_MAX_LEVELS = 12
_ID_NAMES = frozenset({"id", "uri", "url", "index", "key_id", "track_id", "item_id", "user_id"})
_LABEL_NAMES = frozenset({"target", "label", "labels", "class", "y", "hit", "is_hit",
                          "outcome", "rating"})

@dataclass(frozen=True)
class Table:
    """A CSV read as text columns: ``header`` and ``columns[name] -> list of str``."""

    path: Path
    header: list[str]
    columns: dict[str, list[str]]

    @property
    def n_rows(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def numeric_columns(self) -> list[str]:
        """Columns whose every non-empty cell parses as a number."""
        return [c for c in self.header if _all_numeric(self.columns[c])]

    def feature_columns(self, key: str) -> tuple[list[str], dict[str, str]]:
        """The numeric columns worth comparing on, and why each other numeric column was left out.

        Left out: the ``key``; id-like columns (``id``, ``…_id``, ``uri``); label-like
        columns (``target``, ``label``, ``class``, ``y``, ``hit``…); and categorical codes —
        integer columns with at most :data:`CATEGORICAL_MAX_LEVELS` distinct values, each
        used by two rows or more on average (a musical key 0–11, a mode 0/1, a decade),
        whose distances mean nothing.
        """
        chosen: list[str] = []
        left_out: dict[str, str] = {}
        for c in self.numeric_columns():
            lower = c.lower()
            if c == key:
                continue
            if lower in _ID_NAMES or lower.endswith("_id"):
                left_out[c] = "an id"
                continue
            if lower in _LABEL_NAMES:
                left_out[c] = "a label"
                continue
            values = [v for v in self.columns[c] if v.strip()]
            numbers = np.asarray(values, dtype=np.float64) if values else np.zeros(0)
            levels = np.unique(numbers).size
            # integer codes that repeat (few levels, each used by several rows) are categories;
            # a short table of distinct integers (BPM 120, 128, 96…) is still a measurement
            if numbers.size and np.all(numbers == np.round(numbers)) \
                    and levels <= CATEGORICAL_MAX_LEVELS and 2 * levels <= numbers.size:
                left_out[c] = f"categorical ({np.unique(numbers).size} integer levels)"
                continue
            chosen.append(c)
        return chosen, left_out

    def require(self, names: list[str], what: str = "column") -> None:
        missing = [n for n in names if n not in self.columns]
        if missing:
            raise DataFormatError(
                f"{self.path.name} has no {what}{'s' if len(missing) > 1 else ''} "
                f"{', '.join(repr(m) for m in missing)}; its columns are: {', '.join(self.header)}"
            )

    def floats(self, names: list[str], *, missing: str = "error") -> tuple[np.ndarray, np.ndarray]:
        """Columns ``names`` as a float64 matrix (n, len(names)), and the kept-row mask.

        ``missing="error"`` raises on an empty or non-numeric cell, naming the
        line and column; ``missing="drop"`` drops such rows instead.
        """
        self.require(names, "feature column")
        n = self.n_rows
        out = np.empty((n, len(names)), dtype=np.float64)
        keep = np.ones(n, dtype=bool)
        for j, name in enumerate(names):
            col = self.columns[name]
            try:
                out[:, j] = np.asarray(col, dtype=np.float64)
                continue
            except ValueError:
                pass
            for i, cell in enumerate(col):
                try:
                    out[i, j] = float(cell)
                except ValueError:
                    if missing == "drop":
                        keep[i] = False
                        out[i, j] = np.nan
                        continue
                    raise DataFormatError(
                        f"{self.path.name}, line {i + 2}, column {name!r}: {cell!r} is not a "
                        f"number; clean the file, choose other --features, or pass "
                        f"missing='drop' to skip such rows"
                    ) from None
        bad = ~np.isfinite(out).all(axis=1) & keep
        if bad.any():
            if missing == "drop":
                keep &= ~bad
            else:
                i = int(np.flatnonzero(bad)[0])
                raise DataFormatError(f"{self.path.name}, line {i + 2}: a feature is NaN or "
                                      f"infinite; pass missing='drop' to skip such rows")
        return out, keep


def _all_numeric(cells: list[str]) -> bool:
    seen = False
    for cell in cells[:2000]:
        if not cell.strip():
            continue
        try:
            float(cell)
        except ValueError:
            return False
        seen = True
    return seen


def read_csv(path: str | os.PathLike) -> Table:
    """Read a comma-separated file with a header row into text columns.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    DataFormatError
        If the file is empty, has no data rows, or a row has the wrong number of fields.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    if path.is_dir():
        raise IsADirectoryError(f"expected a CSV file, got a directory: {path}")
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise DataFormatError(f"{path} is empty; expected a CSV with a header row") from None
        except (UnicodeDecodeError, csv.Error) as exc:
            raise DataFormatError(f"{path} is not a readable UTF-8 CSV file: {exc}") from None
        if len(set(header)) != len(header):
            dup = next(h for h in header if header.count(h) > 1)
            raise DataFormatError(f"{path}: the header repeats the column {dup!r}")
        rows = []
        try:
            for lineno, row in enumerate(reader, start=2):
                if not row:
                    continue
                if len(row) != len(header):
                    raise DataFormatError(
                        f"{path}, line {lineno}: {len(row)} fields, expected {len(header)} "
                        f"like the header ({', '.join(header[:6])}{', …' if len(header) > 6 else ''})"
                    )
                rows.append(row)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise DataFormatError(f"{path} is not a readable UTF-8 CSV file: {exc}") from None
    if not rows:
        raise DataFormatError(f"{path} has a header but no data rows")
    columns = {h: [r[j] for r in rows] for j, h in enumerate(header)}
    return Table(path, header, columns)


def example_catalog_path() -> Path:
    """Path of the bundled example catalog: 60 made-up songs with audio features.

    The songs and artists are invented (generated with a fixed seed from a few
    genre profiles); the columns mirror Spotify's audio features.
    """
    return Path(str(resources.files("dotwise.search") / "data" / "example_songs.csv"))
