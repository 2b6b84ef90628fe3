"""Input conversion shared by the recommenders (private)."""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import ShapeError, as_float_array
from .ratings import Ratings, _key

__all__ = ["Factors", "as_training_ratings", "available_memory", "check_memory",
           "deprecated_alias", "id_codes", "renamed_keywords"]


@dataclass
class Factors:
    """The parameters of a biased factor model, as the fitting engines update them.

    ``mu`` global mean; ``P`` (n_users, k) and ``Q`` (n_items, k) user and item
    vectors; ``bu``, ``bi`` biases; ``Y`` (n_items, k) the implicit item vectors
    and ``S`` (n_users, k) the users' implicit parts ``|R(u)|^(-1/2) Σ_j y_j``.
    """

    mu: float
    P: np.ndarray
    Q: np.ndarray
    bu: np.ndarray
    bi: np.ndarray
    Y: np.ndarray
    S: np.ndarray


def as_training_ratings(ratings) -> Ratings:
    """A ``Ratings`` (returned as is) or an ``(n, 3)`` array of user id, item id, rating."""
    if isinstance(ratings, Ratings):
        data = ratings
    else:
        arr = as_float_array(ratings, "ratings", ndim=2, allow_empty=True)
        if arr.shape[1] != 3:
            raise ShapeError(
                f"ratings must be a Ratings object or an (n, 3) array of (user, item, rating), "
                f"got an array of shape {arr.shape}"
            )
        if arr.shape[0] == 0:
            raise ValueError("ratings is empty: the training set needs at least one rating")
        raw = np.asarray(ratings)
        if raw.dtype.kind in "iu":   # integer ids stay exact (2**53 + 1 is no float64)
            data = Ratings.from_arrays(raw[:, 0], raw[:, 1], arr[:, 2])
        else:
            data = Ratings.from_arrays(arr[:, 0], arr[:, 1], arr[:, 2])
    if len(data) == 0:
        raise ValueError("ratings is empty: the training set needs at least one rating")
    return data


def _lookup(ratings: Ratings, attr: str, ids_attr: str) -> dict:
    table = getattr(ratings, attr)
    if table is None:
        table = {_key(v): k for k, v in enumerate(getattr(ratings, ids_attr).tolist())}
        setattr(ratings, attr, table)
    return table


def id_codes(ratings: Ratings, users, items) -> tuple[np.ndarray, np.ndarray]:
    """Codes for original user and item ids; ``-1`` marks an id the model has not seen."""
    users = np.atleast_1d(np.asarray(users))
    items = np.atleast_1d(np.asarray(items))
    if users.ndim != 1 or items.ndim != 1:
        raise ShapeError(
            f"users and items must be 1-D sequences of ids, got shapes {users.shape} and "
            f"{items.shape}"
        )
    if users.shape != items.shape:
        if users.size == 1:
            users = np.repeat(users, items.size)
        elif items.size == 1:
            items = np.repeat(items, users.size)
        else:
            raise ShapeError(
                f"users and items must have the same length (or one of them length 1): got "
                f"{users.size} users and {items.size} items"
            )
    return (_codes(ratings, ratings.user_ids, users, "_user_lookup", "user_ids"),
            _codes(ratings, ratings.item_ids, items, "_item_lookup", "item_ids"))


def _codes(ratings: Ratings, table: np.ndarray, wanted: np.ndarray, attr: str,
           ids_attr: str) -> np.ndarray:
    """Codes of ``wanted`` in ``table`` (-1 when absent).

    Integer ids asked for by integer arrays (MovieLens, most logs) are found by one
    binary search over the sorted table, vectorised; anything else goes through the
    normalising dictionary (numeric strings match ints, see ``_key``).
    """
    if (table.dtype.kind == "i" or table.dtype == np.uint32) and (
            wanted.dtype.kind == "i" or wanted.dtype == np.uint32) and table.size:
        ids = table.astype(np.int64, copy=False)
        order = np.argsort(ids, kind="stable")
        ordered = ids[order]
        want = wanted.astype(np.int64, copy=False)
        pos = np.minimum(np.searchsorted(ordered, want), ordered.size - 1)
        return np.where(ordered[pos] == want, order[pos], -1).astype(np.int64)
    look = _lookup(ratings, attr, ids_attr)
    return np.fromiter((look.get(_key(x), -1) for x in wanted.tolist()), np.int64, wanted.size)


# ------------------------------------------------------------ old spellings
def renamed_keywords(**old_to_new: str) -> Callable:
    """Accept a method's old keyword names for one release, with a ``DeprecationWarning``.

    ``@renamed_keywords(n="k")`` lets ``recommend(user, n=5)`` run as
    ``recommend(user, k=5)`` after warning; passing both spellings is a
    ``TypeError``.
    """
    def decorate(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for old, new in old_to_new.items():
                if old not in kwargs:
                    continue
                if new in kwargs:
                    raise TypeError(f"{func.__name__}() got both {old}= (the old spelling) and "
                                    f"{new}=; pass only {new}=")
                warnings.warn(f"{func.__name__}({old}=...) is deprecated and will be removed in "
                              f"the next release; use {new}= instead", DeprecationWarning,
                              stacklevel=2)
                kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)
        return wrapper
    return decorate


def deprecated_alias(module: str, name: str, aliases: dict[str, Any]) -> Any:
    """Module ``__getattr__`` body: an old public name, with a ``DeprecationWarning``."""
    if name not in aliases:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    new = aliases[name]
    warnings.warn(f"{module}.{name} is deprecated and will be removed in the next release; "
                  f"use {new.__name__}", DeprecationWarning, stacklevel=3)
    return new


# ------------------------------------------------------------------ memory
def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (``MemAvailable``), or ``None`` if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))
    except (AttributeError, OSError, ValueError):
        return None


def _bytes_text(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover


def check_memory(needed: float, what: str, fix: str) -> None:
    """Refuse, before allocating, a computation that needs more memory than is available.

    ``ValueError`` saying ``what`` would need about ``needed`` bytes, how much is
    available, and ``fix``. Unknown available memory: only sizes past 2⁶² bytes
    (that no machine has) are refused.
    """
    have = available_memory()
    limit = have if have is not None else 2 ** 62
    if needed > limit:
        have_text = f"about {_bytes_text(have)} is available" if have is not None else \
            "no machine has that much"
        raise ValueError(f"{what} would need about {_bytes_text(needed)} of memory and "
                         f"{have_text}; {fix}")
