"""Input conversion shared by the recommenders (private)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import ShapeError, as_float_array
from .ratings import Ratings, _key

__all__ = ["Factors", "as_training_ratings", "id_codes"]


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
    ulook = _lookup(ratings, "_user_lookup", "user_ids")
    ilook = _lookup(ratings, "_item_lookup", "item_ids")
    uc = np.fromiter((ulook.get(_key(x), -1) for x in users.tolist()), np.int64, users.size)
    ic = np.fromiter((ilook.get(_key(x), -1) for x in items.tolist()), np.int64, items.size)
    return uc, ic
