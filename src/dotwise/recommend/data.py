r"""Rating data: the :class:`Ratings` container and the MovieLens loaders.

A rating set is three parallel arrays — user, item, rating — plus the maps from
compact integer codes back to the original ids and titles. Every model in
:mod:`dotwise.recommend` works on the codes; every answer it gives the user is
in original ids and titles.

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

Duplicate (user, item) pairs: MovieLens files have none. Policy ``duplicates=``:
``"error"`` (default, names the first duplicate and its line), ``"last"`` (keep
the last occurrence in file order — the latest rating) or ``"mean"`` (average).
"""

from __future__ import annotations

import csv
import difflib
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import DataFormatError, ShapeError, as_float_array, check_choice

__all__ = ["Ratings", "load_ratings"]

_DUPLICATES = ("error", "last", "mean")


@dataclass(eq=False)
class Ratings:
    """A set of (user, item, rating) triples with compact integer codes.

    Build one with :func:`load_ratings` or :meth:`Ratings.from_arrays`.

    Attributes
    ----------
    user_codes, item_codes : ndarray of shape (n_ratings,), int32
        Codes in ``[0, n_users)`` and ``[0, n_items)``.
    ratings : ndarray of shape (n_ratings,), float32
    timestamps : ndarray of shape (n_ratings,), int64, or None
    user_ids, item_ids : ndarray of shape (n_users,) / (n_items,)
        The original ids, sorted; ``user_ids[code]`` is the id of ``code``.
    titles : ndarray of shape (n_items,) of str, or None
        Movie titles when the data set has them (``""`` for an item without one).
    genres : list of tuple of str, or None
    rating_scale : tuple of float
        ``(lowest, highest)`` allowed rating; predictions are clipped to it.
    source : str
        Where the data came from (a path, or ``"arrays"``).

    Examples
    --------
    >>> r = Ratings.from_arrays([10, 10, 20], ["a", "b", "a"], [4, 5, 3])
    >>> r
    Ratings(3 ratings, 2 users, 2 items, scale 3–5, source='arrays')
    >>> r.user_codes, r.item_ids
    (array([0, 0, 1], dtype=int32), array(['a', 'b'], dtype='<U1'))
    """

    user_codes: np.ndarray
    item_codes: np.ndarray
    ratings: np.ndarray
    user_ids: np.ndarray
    item_ids: np.ndarray
    timestamps: np.ndarray | None = None
    titles: np.ndarray | None = None
    genres: list[tuple[str, ...]] | None = None
    rating_scale: tuple[float, float] = (1.0, 5.0)
    source: str = "arrays"
    _item_lookup: dict[Any, int] | None = field(default=None, repr=False)
    _user_lookup: dict[Any, int] | None = field(default=None, repr=False)
    _title_lookup: dict[str, int] | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ build
    @classmethod
    def from_arrays(cls, users, items, ratings, timestamps=None, *, titles=None,
                    rating_scale: tuple[float, float] | None = None,
                    duplicates: str = "error") -> Ratings:
        """Build a rating set from parallel arrays of original ids and ratings.

        Parameters
        ----------
        users, items : array_like of shape (n_ratings,)
            Original user and item ids (integers or strings).
        ratings : array_like of shape (n_ratings,)
        timestamps : array_like of shape (n_ratings,), optional
        titles : mapping item id -> title, optional
        rating_scale : (low, high), optional
            Allowed range; default the observed minimum and maximum.
        duplicates : {"error", "last", "mean"}, default="error"
            What to do with a repeated (user, item) pair.

        Returns
        -------
        Ratings

        Raises
        ------
        ShapeError
            The arrays have different lengths, or are not 1-D.
        ValueError
            Empty input, a rating outside ``rating_scale``, non-finite ratings,
            or a duplicate pair under ``duplicates="error"``.
        """
        users = np.asarray(users)
        items = np.asarray(items)
        values = as_float_array(ratings, "ratings", ndim=1, allow_empty=True)
        for name, arr in (("users", users), ("items", items)):
            if arr.ndim != 1:
                raise ShapeError(f"{name} must be a 1-D array of ids, got shape {arr.shape}")
            if len(arr) != len(values):
                raise ShapeError(
                    f"users, items and ratings must have the same length: got users "
                    f"{len(users)}, items {len(items)}, ratings {len(values)}"
                )
        if len(values) == 0:
            raise ValueError("ratings is empty: a rating set needs at least one rating")
        ts = None
        if timestamps is not None:
            ts = np.asarray(timestamps, dtype=np.int64)
            if ts.shape != values.shape:
                raise ShapeError(
                    f"timestamps must have one entry per rating ({len(values)}), "
                    f"got shape {ts.shape}"
                )
        return _build(users, items, values, ts, titles=titles, genres=None,
                      rating_scale=rating_scale, duplicates=duplicates,
                      source="arrays", line_of=None)

    # ------------------------------------------------------------ properties
    def __len__(self) -> int:
        return int(self.ratings.shape[0])

    @property
    def n_users(self) -> int:
        """Number of distinct users in the id map (including any without ratings here)."""
        return int(self.user_ids.shape[0])

    @property
    def n_items(self) -> int:
        """Number of distinct items in the id map."""
        return int(self.item_ids.shape[0])

    @property
    def density(self) -> float:
        """Fraction of the user × item matrix that is rated."""
        return len(self) / max(1, self.n_users * self.n_items)

    def __repr__(self) -> str:
        lo, hi = self.rating_scale
        return (f"Ratings({len(self)} ratings, {self.n_users} users, {self.n_items} items, "
                f"scale {lo:g}–{hi:g}, source={self.source!r})")

    def to_array(self) -> np.ndarray:
        """The triples as an ``(n_ratings, 3)`` float64 array of (user code, item code, rating)."""
        return np.column_stack([self.user_codes, self.item_codes, self.ratings]).astype(np.float64)

    def subset(self, index) -> Ratings:
        """The ratings at ``index`` (a boolean mask or integer positions), same id maps.

        Splits use this: train and test parts share codes, so a model fitted on
        one predicts the other without re-mapping.
        """
        index = np.asarray(index)
        return Ratings(
            user_codes=self.user_codes[index], item_codes=self.item_codes[index],
            ratings=self.ratings[index], user_ids=self.user_ids, item_ids=self.item_ids,
            timestamps=None if self.timestamps is None else self.timestamps[index],
            titles=self.titles, genres=self.genres, rating_scale=self.rating_scale,
            source=self.source, _item_lookup=self._item_lookup, _user_lookup=self._user_lookup,
            _title_lookup=self._title_lookup,
        )

    # --------------------------------------------------------------- lookups
    def user_code(self, user) -> int:
        """The code of an original user id; ``KeyError`` with close matches if unknown."""
        return self._code_of("user", user)

    def item_code(self, item) -> int:
        """The code of an original item id; ``KeyError`` with close matches if unknown."""
        return self._code_of("item", item)

    def _code_of(self, kind: str, original) -> int:
        """Shared lookup behind :meth:`user_code` / :meth:`item_code` (map built once)."""
        ids = getattr(self, f"{kind}_ids")
        lookup = getattr(self, f"_{kind}_lookup")
        if lookup is None:
            lookup = {_key(v): k for k, v in enumerate(ids.tolist())}
            setattr(self, f"_{kind}_lookup", lookup)
        code = lookup.get(_key(original))
        if code is None:
            raise KeyError(_unknown_message(kind, original, [str(v) for v in ids[:50000]]))
        return code

    def find_item(self, query) -> int:
        """The code of the item whose title (or id) is ``query``.

        Exact title first, then a case-insensitive match, then the original id.
        An unknown title raises ``KeyError`` listing the closest titles.

        Examples
        --------
        >>> r = Ratings.from_arrays([1, 1], [7, 9], [4, 5],
        ...                         titles={7: "Toy Story (1995)", 9: "Fargo (1996)"})
        >>> r.find_item("toy story (1995)")
        0
        >>> r.find_item("Fargo")
        Traceback (most recent call last):
        ...
        KeyError: "unknown movie 'Fargo'; did you mean: 'Fargo (1996)'?"
        """
        if self.titles is not None:
            if self._title_lookup is None:
                lookup: dict[str, int] = {}
                for code, title in enumerate(self.titles.tolist()):
                    lookup.setdefault(title.lower(), code)
                for code, title in enumerate(self.titles.tolist()):
                    lookup[title] = code  # exact spelling wins over a case-folded one
                self._title_lookup = lookup
            text = str(query).strip()
            code = self._title_lookup.get(text, self._title_lookup.get(text.lower()))
            if code is not None:
                return code
            if self._item_lookup is None:
                self._item_lookup = {_key(i): k for k, i in enumerate(self.item_ids.tolist())}
            code = self._item_lookup.get(_key(query))
            if code is not None:
                return code
            raise KeyError(_unknown_message("movie", query, self.titles.tolist(),
                                            case_insensitive=True))
        return self.item_code(query)

    def item_label(self, code: int) -> str:
        """A printable name for an item code: its title, else its id."""
        if self.titles is not None and self.titles[code]:
            return str(self.titles[code])
        return str(self.item_ids[code])


def _key(value) -> Any:
    """Normalise an id for lookups: numpy scalars and numeric strings match ints."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            return text
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _unknown_message(kind: str, value, candidates: Sequence[str], *,
                     case_insensitive: bool = False) -> str:
    text = str(value)
    if case_insensitive:
        lowered = {c.lower(): c for c in candidates}
        close = difflib.get_close_matches(text.lower(), list(lowered), n=5, cutoff=0.5)
        close = [lowered[c] for c in close]
        starts = [c for c in candidates if c.lower().startswith(text.lower())]
        close = list(dict.fromkeys(starts[:3] + close))[:5]
    else:
        close = difflib.get_close_matches(text, list(candidates), n=5, cutoff=0.5)
    message = f"unknown {kind} {value!r}"
    if close:
        return message + "; did you mean: " + ", ".join(repr(c) for c in close) + "?"
    return message + f" (there are {len(candidates)} {kind}s; check the spelling or the data set)"


# ------------------------------------------------------------------ building
def _encode(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if ids.dtype.kind == "f":
        if np.all(np.isfinite(ids)) and np.all(ids == np.round(ids)):
            ids = ids.astype(np.int64)
    elif ids.dtype.kind == "O":
        ids = ids.astype(str)
    uniq, codes = np.unique(ids, return_inverse=True)
    return uniq, codes.astype(np.int32).ravel()


def _build(users, items, values, ts, *, titles, genres, rating_scale, duplicates, source,
           line_of) -> Ratings:
    """Encode ids, check the scale and duplicates; ``line_of(k)`` gives a row's file line."""
    check_choice(duplicates, "duplicates", _DUPLICATES)
    where = (lambda k: f" (line {line_of(k)} of {source})") if line_of else (lambda k: f" (index {k})")
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise DataFormatError(f"rating {values[bad[0]]} is not a finite number{where(bad[0])}")
    if rating_scale is None:
        rating_scale = (float(values.min()), float(values.max()))
    else:
        lo, hi = (float(v) for v in rating_scale)
        if not lo < hi:
            raise ValueError(f"rating_scale must be (low, high) with low < high, got {rating_scale}")
        out = np.flatnonzero((values < lo) | (values > hi))
        if out.size:
            k = int(out[0])
            raise DataFormatError(
                f"rating {values[k]:g} is outside the declared scale {lo:g}–{hi:g}{where(k)}; "
                f"{out.size} rating(s) are out of range — fix the data or pass rating_scale="
            )
        rating_scale = (lo, hi)
    user_ids, ucodes = _encode(users)
    item_ids, icodes = _encode(items)
    pair = ucodes.astype(np.int64) * len(item_ids) + icodes
    order = np.argsort(pair, kind="stable")
    dup = np.flatnonzero(pair[order][1:] == pair[order][:-1])
    if dup.size:
        first, second = int(order[dup[0]]), int(order[dup[0] + 1])
        if duplicates == "error":
            raise DataFormatError(
                f"duplicate rating for user {user_ids[ucodes[second]].item()!r} and item "
                f"{item_ids[icodes[second]].item()!r}{where(second)}, first rated{where(first)}; "
                f"{dup.size} duplicate pair(s) in all. Pass duplicates='last' to keep the "
                f"latest or duplicates='mean' to average them"
            )
        sorted_pair = pair[order]
        starts = np.flatnonzero(np.r_[True, sorted_pair[1:] != sorted_pair[:-1]])
        if duplicates == "last":
            ends = np.r_[starts[1:], len(order)] - 1
            keep = np.sort(order[ends])
            ucodes, icodes, values = ucodes[keep], icodes[keep], values[keep]
            ts = None if ts is None else ts[keep]
        else:  # mean
            sums = np.add.reduceat(values[order].astype(np.float64), starts)
            counts = np.diff(np.r_[starts, len(order)])
            keep = np.sort(order[starts])
            mean_by_first = dict(zip(order[starts].tolist(), (sums / counts).tolist(), strict=False))
            values = np.array([mean_by_first[k] for k in keep.tolist()])
            ucodes, icodes = ucodes[keep], icodes[keep]
            ts = None if ts is None else ts[keep]
    title_arr = None
    if titles is not None:
        lookup = {_key(k): str(v) for k, v in dict(titles).items()}
        title_arr = np.array([lookup.get(_key(i), "") for i in item_ids.tolist()], dtype=object)
        title_arr = title_arr.astype(str)
    genre_list = None
    if genres is not None:
        genre_list = [tuple(genres.get(_key(i), ())) for i in item_ids.tolist()]
    return Ratings(user_codes=ucodes, item_codes=icodes,
                   ratings=np.asarray(values, dtype=np.float32), user_ids=user_ids,
                   item_ids=item_ids, timestamps=ts, titles=title_arr, genres=genre_list,
                   rating_scale=(float(rating_scale[0]), float(rating_scale[1])), source=source)


# ------------------------------------------------------------------- readers
def _read_numeric(path: Path, *, sep: str, ncols_min: int, skip_header: bool,
                  what: str, encoding: str = "latin-1") -> np.ndarray:
    """Numeric table via NumPy's C parser; on failure, a line-by-line error message."""
    text = path.read_text(encoding=encoding)
    if sep == "::":
        text = text.replace("::", "\t")
        sep = "\t"
    try:
        rows = np.loadtxt(io.StringIO(text), delimiter=None if sep == " " else sep,
                          dtype=np.float64, skiprows=1 if skip_header else 0, ndmin=2,
                          usecols=range(ncols_min))
    except ValueError:
        _raise_line_error(text, sep, ncols_min, skip_header, path, what)
        raise  # pragma: no cover - _raise_line_error always raises
    if rows.shape[0] == 0:
        raise DataFormatError(f"{path} contains no ratings (expected {what})")
    return rows


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
        for cell in cells[:ncols]:
            try:
                float(cell)
            except ValueError:
                raise DataFormatError(
                    f"{path}, line {lineno}: {cell.strip()!r} is not a number "
                    f"(expected {what}): {line[:80]!r}"
                ) from None
    raise DataFormatError(f"{path}: could not be read as {what}")


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
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            return titles, genres
        for lineno, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) < 2:
                raise DataFormatError(
                    f"{path}, line {lineno}: expected 'movieId,title,genres', got {row!r}")
            titles[_key(row[0])] = row[1]
            genres[_key(row[0])] = tuple(row[2].split("|")) if len(row) > 2 else ()
    return titles, genres


def _from_numeric(rows: np.ndarray, path: Path, *, titles, genres, rating_scale, duplicates,
                  header_lines: int) -> Ratings:
    ts = rows[:, 3].astype(np.int64) if rows.shape[1] > 3 else None
    return _build(rows[:, 0].astype(np.int64), rows[:, 1].astype(np.int64), rows[:, 2], ts,
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
    with open(path, encoding="utf-8") as fh:
        first = [h.strip().lower() for h in fh.readline().split(",")]
    if (first[:3] == ["userid", "movieid", "rating"]
            and all(c is None for c in (user_col, item_col, rating_col, timestamp_col))):
        # the MovieLens CSV editions (up to 25M lines): NumPy's C parser
        ncols = 4 if first[3:4] == ["timestamp"] else 3
        rows = _read_numeric(path, sep=",", ncols_min=ncols, skip_header=True,
                             what="'userId,movieId,rating,timestamp'", encoding="utf-8")
        titles = genres = None
        if path.with_name("movies.csv").exists():
            titles, genres = _read_movies_csv(path.with_name("movies.csv"))
        return _from_numeric(rows, path, titles=titles, genres=genres,
                             rating_scale=rating_scale, duplicates=duplicates, header_lines=1)
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise DataFormatError(f"{path} is empty (expected a CSV with a header row)")
        header = [h.strip() for h in header]
        lowered = [h.lower() for h in header]

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
        users, items, values, stamps = [], [], [], []
        for lineno, row in enumerate(reader, start=2):
            if not row or all(not c.strip() for c in row):
                continue
            need = max(c for c in (cu, ci, cr, ct) if c is not None)
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
            if ct is not None:
                try:
                    stamps.append(int(float(row[ct])))
                except ValueError:
                    raise DataFormatError(
                        f"{path}, line {lineno}: timestamp {row[ct]!r} is not a number"
                    ) from None
    if not values:
        raise DataFormatError(f"{path} contains a header but no ratings")
    users_arr, items_arr = _maybe_int(users), _maybe_int(items)
    titles = genres = None
    movies = path.with_name("movies.csv")
    if movies.exists() and movies != path:
        titles, genres = _read_movies_csv(movies)
    return _build(users_arr, items_arr, np.asarray(values), np.asarray(stamps) if stamps else None,
                  titles=titles, genres=genres, rating_scale=rating_scale,
                  duplicates=duplicates, source=str(path), line_of=lambda k: k + 2)


def _maybe_int(values: list[str]) -> np.ndarray:
    try:
        return np.asarray([int(v) for v in values], dtype=np.int64)
    except ValueError:
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
        A malformed line (its number is in the message), a rating outside the
        scale, or a duplicate pair.
    """
    check_choice(duplicates, "duplicates", _DUPLICATES)
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

