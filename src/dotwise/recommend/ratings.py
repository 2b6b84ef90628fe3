r"""The :class:`Ratings` container: (user, item, rating) triples with compact codes.

A rating set is three parallel arrays — user, item, rating — plus the maps from
compact integer codes back to the original ids and titles. Every model in
:mod:`dotwise.recommend` works on the codes; every answer it gives the user is
in original ids and titles. The file readers live in
:mod:`dotwise.recommend.movielens`.

Duplicate (user, item) pairs: MovieLens files have none. Policy ``duplicates=``:
``"error"`` (default, names the first duplicate and its line), ``"last"`` (keep
the last occurrence in file order — the latest rating) or ``"mean"`` (average).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import DataFormatError, ShapeError, as_float_array, check_choice

__all__ = ["Ratings"]

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
            Empty input, or ``rating_scale`` not ``(low, high)`` with low < high.
        DataFormatError
            A rating outside ``rating_scale``, non-finite or too large for
            float32; a NaN or infinite id; a duplicate pair under
            ``duplicates="error"``.
        TypeError
            ``rating_scale`` is not a pair of numbers (``"15"``, say).
        """
        rating_scale = check_scale(rating_scale)
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
            raise KeyError(_unknown_message(kind, original, [str(v) for v in ids[:50000]],
                                            id_range=_id_range(kind, ids)))
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

    def check_rating(self, value, label: str) -> float:
        """``value`` as a float on this set's scale, or ``ValueError`` naming the item ``label``.

        >>> r = Ratings.from_arrays([1, 2], [7, 7], [1, 5], titles={7: "Heat (1995)"})
        >>> r.check_rating(9, "Heat (1995)")
        Traceback (most recent call last):
        ...
        ValueError: rating 9 for 'Heat (1995)' is outside the scale 1–5 (ratings run from 1 to 5)
        """
        lo, hi = self.rating_scale
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"rating for {label!r} must be a number on the scale {lo:g}–{hi:g}, "
                             f"got {value!r}") from None
        if not lo <= number <= hi:   # also catches NaN
            raise ValueError(f"rating {number:g} for {label!r} is outside the scale {lo:g}–{hi:g} "
                             f"(ratings run from {lo:g} to {hi:g})")
        return number

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
                     case_insensitive: bool = False, id_range: str = "") -> str:
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
        return message + "; did you mean: " + ", ".join(repr(c) for c in close) + "?" + id_range
    return message + (id_range or f" (there are {len(candidates)} {kind}s; check the spelling "
                                  f"or the data set)")


def _id_range(kind: str, ids: np.ndarray) -> str:
    """`` (valid user ids: the integers 1–943, 943 of them)`` for integer ids, else ``""``."""
    if ids.dtype.kind not in "iu" or ids.size == 0:
        return ""
    lo, hi = int(ids[0]), int(ids[-1])   # sorted by np.unique
    gaps = "" if hi - lo + 1 == ids.size else ", not every number in between"
    return f" (valid {kind} ids: the integers {lo}–{hi}, {ids.size} of them{gaps})"


# ------------------------------------------------------------------ building
# float ids that are whole numbers become int64 ids only where floats still hold
# every integer exactly (|x| <= 2**53): above that, two ids could be one float.
_EXACT_FLOAT_INT = float(2 ** 53)


def _encode(ids: np.ndarray, name: str, where) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique ids and the code of each entry; NaN or infinite ids are refused."""
    if ids.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(ids))
        if bad.size:
            raise DataFormatError(f"{name} id {ids[bad[0]]} is not a finite number"
                                  f"{where(int(bad[0]))}; ids must be integers or strings")
        if np.all(ids == np.round(ids)) and np.all(np.abs(ids) <= _EXACT_FLOAT_INT):
            ids = ids.astype(np.int64)
    elif ids.dtype.kind == "O":
        ids = ids.astype(str)
    uniq, codes = np.unique(ids, return_inverse=True)
    return uniq, codes.astype(np.int32).ravel()


def check_scale(rating_scale) -> tuple[float, float] | None:
    """``rating_scale`` as ``(low, high)`` floats with low < high (``None`` passes through)."""
    if rating_scale is None:
        return None
    if isinstance(rating_scale, (str, bytes)) or not hasattr(rating_scale, "__len__"):
        raise TypeError(f"rating_scale must be a (low, high) pair of numbers such as (1, 5), "
                        f"got {rating_scale!r}")
    if len(rating_scale) != 2:
        raise ValueError(f"rating_scale must be a (low, high) pair of numbers such as (1, 5), "
                         f"got {len(rating_scale)} values: {rating_scale!r}")
    try:
        lo, hi = (float(v) for v in rating_scale)
    except (TypeError, ValueError):
        raise TypeError(f"rating_scale must be a (low, high) pair of numbers such as (1, 5), "
                        f"got {rating_scale!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"rating_scale must be (low, high) with finite low < high, "
                         f"got {rating_scale!r}")
    return lo, hi


def _build(users, items, values, ts, *, titles, genres, rating_scale, duplicates, source,
           line_of) -> Ratings:
    """Encode ids, check the scale and duplicates; ``line_of(k)`` gives a row's file line."""
    check_choice(duplicates, "duplicates", _DUPLICATES)
    where = (lambda k: f" (line {line_of(k)} of {source})") if line_of else (lambda k: f" (index {k})")
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise DataFormatError(f"rating {values[bad[0]]} is not a finite number{where(bad[0])}")
    # ratings are stored as float32: check again after the cast (1e39 would become inf)
    with np.errstate(over="ignore"):
        stored = np.asarray(values, dtype=np.float32)
    bad = np.flatnonzero(~np.isfinite(stored))
    if bad.size:
        raise DataFormatError(
            f"rating {values[bad[0]]:g} is too large to store{where(int(bad[0]))}: ratings are "
            f"kept as float32, whose largest value is {float(np.finfo(np.float32).max):.3g}")
    rating_scale = check_scale(rating_scale)
    if rating_scale is None:
        rating_scale = (float(values.min()), float(values.max()))
    else:
        lo, hi = rating_scale
        out = np.flatnonzero((values < lo) | (values > hi))
        if out.size:
            k = int(out[0])
            raise DataFormatError(
                f"rating {values[k]:g} is outside the declared scale {lo:g}–{hi:g}{where(k)}; "
                f"{out.size} rating(s) are out of range — fix the data or pass rating_scale="
            )
        rating_scale = (lo, hi)
    user_ids, ucodes = _encode(users, "user", where)
    item_ids, icodes = _encode(items, "item", where)
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

