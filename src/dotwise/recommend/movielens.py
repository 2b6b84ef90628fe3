r"""The MovieLens readers behind :func:`load_ratings` (every edition, and any ratings CSV).

Formats read by :func:`load_ratings` (auto-detected):

========================  ===========================  ==========================
format                    ratings                      titles / genres
========================  ===========================  ==========================
ml-100k folder            ``u.data`` (tab-separated)   ``u.item`` (``|``, latin-1)
one ``u.data``-like file  ``u1.base``, ``u1.test``, …  ``u.item`` next to it
ml-1m / ml-10m            ``ratings.dat`` (``::``)     ``movies.dat``
ml-latest / 20m / 25m     ``ratings.csv`` (header)     ``movies.csv``
any CSV                   columns named by the caller  —
========================  ===========================  ==========================

Duplicate (user, item) pairs follow the ``duplicates=`` policy of
:class:`~dotwise.recommend.Ratings` (see :mod:`dotwise.recommend.ratings`).
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np

from .._validation import DataFormatError, check_choice
from .ratings import _DUPLICATES, Ratings, _build, _key, check_scale

__all__ = ["load_ratings"]

# ------------------------------------------------------------------- readers
# The numeric columns of a MovieLens ratings file: ids and timestamps are parsed
# as integers (a float parse would merge 1.9 into 1 and 2**53 + 1 into 2**53).
_FIELDS = (("user", np.int64, "user id"), ("item", np.int64, "item id"),
           ("rating", np.float64, "rating"), ("timestamp", np.int64, "timestamp"))
_INT64 = (-(2 ** 63), 2 ** 63 - 1)


def _read_text(path: Path, encoding: str, what: str) -> str:
    """The whole file as text; undecodable bytes are a ``DataFormatError`` naming the line."""
    data = path.read_bytes()
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataFormatError(
            f"{path}, line {line}: byte 0x{data[exc.start]:02x} is not valid {encoding} "
            f"(expected {what} as {encoding} text); re-save the file as {encoding}"
        ) from None


def _read_numeric(path: Path, *, sep: str, ncols_min: int, skip_header: bool,
                  what: str, encoding: str = "latin-1") -> np.ndarray:
    """Numeric table via NumPy's C parser; on failure, a line-by-line error message.

    Returns a structured array with the fields ``user``, ``item`` (int64),
    ``rating`` (float64) and, for ``ncols_min=4``, ``timestamp`` (int64).
    """
    text = _read_text(path, encoding, what)
    if sep == "::":
        text = text.replace("::", "\t")
        sep = "\t"
    dtype = [(name, kind) for name, kind, _ in _FIELDS[:ncols_min]]
    try:
        rows = np.loadtxt(io.StringIO(text), delimiter=None if sep == " " else sep,
                          dtype=dtype, skiprows=1 if skip_header else 0, ndmin=1,
                          usecols=range(ncols_min))
    except ValueError:
        _raise_line_error(text, sep, ncols_min, skip_header, path, what)
        raise  # pragma: no cover - _raise_line_error always raises
    if rows.shape[0] == 0:
        raise DataFormatError(f"{path} contains no ratings (expected {what})")
    return rows


def _cell_error(cell: str, kind, label: str) -> str | None:
    """Why ``cell`` is not a valid value of the column, or ``None`` if it is."""
    text = cell.strip()
    if kind is np.float64:
        try:
            float(text)
        except ValueError:
            return f"{text!r} is not a number"
        return None
    try:
        value = int(text)
    except ValueError:
        try:
            float(text)
        except ValueError:
            return f"{text!r} is not a number"
        return f"{label} {text!r} is not an integer ({label}s are whole numbers)"
    if not _INT64[0] <= value <= _INT64[1]:
        return f"{label} {text!r} is outside the 64-bit integer range"
    return None


def _raise_line_error(text, sep, ncols, skip_header, path, what) -> None:
    for lineno, line in enumerate(text.splitlines(), start=1):
        if skip_header and lineno == 1:
            continue
        if not line.strip():
            continue
        cells = line.split(None if sep == " " else sep)
        if len(cells) < ncols:
            raise DataFormatError(
                f"{path}, line {lineno}: expected at least {ncols} fields ({what}), "
                f"got {len(cells)}: {line[:80]!r}"
            )
        for cell, (_, kind, label) in zip(cells[:ncols], _FIELDS, strict=False):
            problem = _cell_error(cell, kind, label)
            if problem:
                raise DataFormatError(
                    f"{path}, line {lineno}: {problem} (expected {what}): {line[:80]!r}")
    raise DataFormatError(f"{path}: could not be read as {what}")


def _csv_rows(path: Path, what: str):
    """``(line number, row)`` of a UTF-8 CSV; decoding and csv errors name the line."""
    reader = csv.reader(io.StringIO(_read_text(path, "utf-8", what), newline=""))
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:
        limit = csv.field_size_limit()
        detail = (f"a field is longer than {limit} characters" if "field larger" in str(exc)
                  else str(exc))
        raise DataFormatError(f"{path}, line {reader.line_num}: {detail} (expected {what})"
                              ) from None


def _read_u_item(path: Path) -> tuple[dict, dict]:
    titles: dict = {}
    genres: dict = {}
    genre_names: list[str] = []
    genre_file = path.with_name("u.genre")
    if genre_file.exists():
        for line in genre_file.read_text(encoding="latin-1").splitlines():
            if "|" in line:
                genre_names.append(line.split("|")[0])
    for lineno, line in enumerate(path.read_text(encoding="latin-1").splitlines(), start=1):
        if not line.strip():
            continue
        cells = line.split("|")
        if len(cells) < 2:
            raise DataFormatError(f"{path}, line {lineno}: expected 'id|title|…', got {line[:80]!r}")
        key = _key(cells[0])
        titles[key] = cells[1]
        flags = cells[5:]
        if genre_names and len(flags) == len(genre_names):
            genres[key] = tuple(g for g, f in zip(genre_names, flags, strict=False) if f.strip() == "1")
    return titles, genres


def _read_movies_dat(path: Path) -> tuple[dict, dict]:
    titles, genres = {}, {}
    for lineno, line in enumerate(path.read_text(encoding="latin-1").splitlines(), start=1):
        if not line.strip():
            continue
        cells = line.split("::")
        if len(cells) < 2:
            raise DataFormatError(
                f"{path}, line {lineno}: expected 'id::title::genres', got {line[:80]!r}")
        titles[_key(cells[0])] = cells[1]
        genres[_key(cells[0])] = tuple(cells[2].split("|")) if len(cells) > 2 else ()
    return titles, genres


def _read_movies_csv(path: Path) -> tuple[dict, dict]:
    titles, genres = {}, {}
    for lineno, row in _csv_rows(path, "'movieId,title,genres'"):
        if lineno == 1 or not row:
            continue   # the header, blank lines
        if len(row) < 2:
            raise DataFormatError(
                f"{path}, line {lineno}: expected 'movieId,title,genres', got {row!r}")
        titles[_key(row[0])] = row[1]
        genres[_key(row[0])] = tuple(row[2].split("|")) if len(row) > 2 else ()
    return titles, genres


def _from_numeric(rows: np.ndarray, path: Path, *, titles, genres, rating_scale, duplicates,
                  header_lines: int) -> Ratings:
    ts = rows["timestamp"] if "timestamp" in rows.dtype.names else None
    return _build(rows["user"], rows["item"], rows["rating"], ts,
                  titles=titles, genres=genres, rating_scale=rating_scale,
                  duplicates=duplicates, source=str(path),
                  line_of=lambda k: k + 1 + header_lines)


def _load_u_data(path: Path, rating_scale, duplicates) -> Ratings:
    return _load_movielens(path, rating_scale, duplicates, sep=" ", sidecar="u.item",
                           read_sidecar=_read_u_item, what=(
                               "'user item rating [timestamp]' separated by tabs",
                               "'user item rating timestamp' separated by tabs"))


def _load_dat(path: Path, rating_scale, duplicates) -> Ratings:
    return _load_movielens(path, rating_scale, duplicates, sep="::", sidecar="movies.dat",
                           read_sidecar=_read_movies_dat,
                           what=("'UserID::MovieID::Rating::Timestamp'",) * 2)


def _load_movielens(path: Path, rating_scale, duplicates, *, sep: str, sidecar: str,
                    read_sidecar, what: tuple[str, str]) -> Ratings:
    """A MovieLens ratings file (timestamps kept when the first line has them), read once,
    with titles and genres from the ``sidecar`` file beside it when there is one."""
    with open(path, encoding="latin-1") as fh:
        first = fh.readline()
    fields = len(first.split() if sep == " " else first.split(sep))
    ncols = 4 if fields >= 4 else 3
    rows = _read_numeric(path, sep=sep, ncols_min=ncols, skip_header=False,
                         what=what[ncols - 3])
    titles = genres = None
    side = path.with_name(sidecar)
    if side.exists():
        titles, genres = read_sidecar(side)
    return _from_numeric(rows, path, titles=titles, genres=genres,
                         rating_scale=rating_scale or (1.0, 5.0), duplicates=duplicates,
                         header_lines=0)


def _load_csv(path: Path, rating_scale, duplicates, user_col, item_col, rating_col,
              timestamp_col) -> Ratings:
    what = "a ratings CSV with a header row"
    rows = _csv_rows(path, what)
    first_row = next(rows, None)
    if first_row is None:
        raise DataFormatError(f"{path} is empty (expected a CSV with a header row)")
    header = [h.strip() for h in first_row[1]]
    lowered = [h.lower() for h in header]
    if (lowered[:3] == ["userid", "movieid", "rating"]
            and all(c is None for c in (user_col, item_col, rating_col, timestamp_col))):
        # the MovieLens CSV editions (up to 25M lines): NumPy's C parser
        rows.close()
        ncols = 4 if lowered[3:4] == ["timestamp"] else 3
        table = _read_numeric(path, sep=",", ncols_min=ncols, skip_header=True,
                              what="'userId,movieId,rating,timestamp'", encoding="utf-8")
        titles = genres = None
        if path.with_name("movies.csv").exists():
            titles, genres = _read_movies_csv(path.with_name("movies.csv"))
        return _from_numeric(table, path, titles=titles, genres=genres,
                             rating_scale=rating_scale, duplicates=duplicates, header_lines=1)

    def column(name, defaults, required=True):
        wanted = [name] if name else list(defaults)
        for w in wanted:
            if w.lower() in lowered:
                return lowered.index(w.lower())
        if required:
            raise DataFormatError(
                f"{path}: no column named {' or '.join(repr(w) for w in wanted)} in the "
                f"header {header}; name the columns with user_col=, item_col=, rating_col="
            )
        return None

    cu = column(user_col, ("userId", "user_id", "user"))
    ci = column(item_col, ("movieId", "movie_id", "itemId", "item_id", "item", "movie"))
    cr = column(rating_col, ("rating", "score"))
    ct = column(timestamp_col, ("timestamp", "time"), required=timestamp_col is not None)
    need = max(c for c in (cu, ci, cr, ct) if c is not None)
    users, items, values, stamps, lines = [], [], [], [], []
    for lineno, row in rows:
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) <= need:
            raise DataFormatError(
                f"{path}, line {lineno}: expected {len(header)} fields like the header, "
                f"got {len(row)}: {row!r}")
        try:
            values.append(float(row[cr]))
        except ValueError:
            raise DataFormatError(
                f"{path}, line {lineno}: rating {row[cr]!r} is not a number") from None
        users.append(row[cu].strip())
        items.append(row[ci].strip())
        lines.append(lineno)
        if ct is not None:
            try:
                stamp = int(float(row[ct]))
            except (ValueError, OverflowError):
                raise DataFormatError(
                    f"{path}, line {lineno}: timestamp {row[ct]!r} is not a finite number"
                ) from None
            if not _INT64[0] <= stamp <= _INT64[1]:
                raise DataFormatError(f"{path}, line {lineno}: timestamp {row[ct]!r} is outside "
                                      f"the 64-bit integer range")
            stamps.append(stamp)
    if not values:
        raise DataFormatError(f"{path} contains a header but no ratings")
    users_arr, items_arr = _maybe_int(users), _maybe_int(items)
    titles = genres = None
    movies = path.with_name("movies.csv")
    if movies.exists() and movies != path:
        titles, genres = _read_movies_csv(movies)
    return _build(users_arr, items_arr, np.asarray(values),
                  np.asarray(stamps, dtype=np.int64) if stamps else None,
                  titles=titles, genres=genres, rating_scale=rating_scale,
                  duplicates=duplicates, source=str(path), line_of=lambda k: lines[k])


def _maybe_int(values: list[str]) -> np.ndarray:
    """Integer ids when every one is an int64 integer, else the ids as strings."""
    try:
        return np.asarray([int(v) for v in values], dtype=np.int64)
    except (ValueError, OverflowError):
        return np.asarray(values)


def load_ratings(path: str | os.PathLike, *, user_col: str | None = None,
                 item_col: str | None = None, rating_col: str | None = None,
                 timestamp_col: str | None = None,
                 rating_scale: tuple[float, float] | None = None,
                 duplicates: str = "error") -> Ratings:
    """Read a MovieLens data set (any edition) or a ratings CSV.

    Parameters
    ----------
    path : path
        A MovieLens folder (ml-100k, ml-1m, ml-10m, ml-latest, ml-20m, ml-25m), a
        single ratings file (``u.data``, ``u1.base``, ``ratings.dat``,
        ``ratings.csv``) or any CSV with a header row.
    user_col, item_col, rating_col, timestamp_col : str, optional
        Column names for a CSV (defaults: ``userId``/``user_id``/``user``,
        ``movieId``/``item_id``/``item``, ``rating``, ``timestamp``).
    rating_scale : (low, high), optional
        Allowed ratings. Default: 1–5 for ml-100k / ml-1m, 0.5–5 for the CSV
        editions, otherwise the observed range.
    duplicates : {"error", "last", "mean"}, default="error"
        Policy for a repeated (user, item) pair (see the module notes).

    Returns
    -------
    Ratings

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist, or a folder holds no ratings file.
    DataFormatError
        A malformed line (its number is in the message): a non-integer or
        out-of-range id or timestamp in a MovieLens file, a rating that is not
        a number, outside the scale or too large for float32, a duplicate pair,
        bytes that are not UTF-8 in a CSV, or a CSV field longer than the csv
        module's limit (131 072 characters).
    TypeError, ValueError
        ``rating_scale`` is not a ``(low, high)`` pair of numbers with low < high.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "u.data").write_text("1\\t10\\t5\\t881250949\\n2\\t10\\t3\\t891717742\\n")
    >>> load_ratings(folder).user_ids
    array([1, 2])
    >>> _ = (folder / "u.data").write_text("1.5\\t10\\t5\\t881250949\\n")
    >>> load_ratings(folder)
    Traceback (most recent call last):
    ...
    dotwise._validation.DataFormatError: ...u.data, line 1: user id '1.5' is not an integer ...
    >>> import shutil; shutil.rmtree(folder)
    """
    check_choice(duplicates, "duplicates", _DUPLICATES)
    rating_scale = check_scale(rating_scale)
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"path: no such file or folder: {path}. Download MovieLens 100k with "
            f"'dotwise recommend fetch movielens-100k DIR'"
        )
    if path.is_dir():
        for name in ("u.data", "ratings.dat", "ratings.csv"):
            if (path / name).exists():
                path = path / name
                break
        else:
            raise FileNotFoundError(
                f"path: {path} holds no ratings file (looked for u.data, ratings.dat, "
                f"ratings.csv); pass the ratings file itself"
            )
    if path.stat().st_size == 0:
        raise DataFormatError(f"{path} is empty (expected ratings)")
    name = path.name.lower()
    if name.endswith(".dat"):
        return _load_dat(path, rating_scale, duplicates)
    if name.endswith(".csv"):
        scale = rating_scale
        if scale is None and name == "ratings.csv" and path.with_name("movies.csv").exists():
            scale = (0.5, 5.0)  # the ml-latest / 20m / 25m editions: half stars
        return _load_csv(path, scale, duplicates, user_col, item_col, rating_col, timestamp_col)
    if any(c is not None for c in (user_col, item_col, rating_col, timestamp_col)):
        raise ValueError(
            f"user_col/item_col/rating_col apply to CSV files with a header; {path} is read "
            f"as tab-separated 'user item rating timestamp' — rename it to .csv if it is a CSV"
        )
    return _load_u_data(path, rating_scale, duplicates)

