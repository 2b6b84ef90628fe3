"""Train/test splits of a :class:`~dotwise.recommend.Ratings` set.

Every split returns parts that share the parent's id maps (``Ratings.subset``),
so a model fitted on the training part predicts the test part directly. A user
or item that appears only in the test part is *unknown* to the model and gets
the documented fallback prediction (see ``MatrixFactorization.predict``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .._validation import check_int, check_positive
from .movielens import load_ratings
from .ratings import Ratings, _key

__all__ = ["kfold", "predefined_splits", "train_test_split"]


def _check_ratings(ratings, name: str = "ratings") -> Ratings:
    if not isinstance(ratings, Ratings):
        raise TypeError(
            f"{name} must be a Ratings object (from load_ratings or Ratings.from_arrays), "
            f"got {type(ratings).__name__}"
        )
    return ratings


def train_test_split(ratings: Ratings, test_size: float = 0.2, *,
                     random_state=None) -> tuple[Ratings, Ratings]:
    """Shuffle the ratings and hold out a fraction as the test set.

    Parameters
    ----------
    ratings : Ratings
    test_size : float in (0, 1), default=0.2
        Fraction of ratings held out (rounded up to at least one).
    random_state : int or numpy.random.Generator, optional

    Returns
    -------
    train, test : Ratings
        Disjoint; together they are ``ratings``.

    Examples
    --------
    >>> r = Ratings.from_arrays([1, 1, 2, 2, 3], [1, 2, 1, 3, 2], [5, 3, 4, 1, 2])
    >>> train, test = train_test_split(r, 0.4, random_state=0)
    >>> len(train), len(test)
    (3, 2)
    """
    ratings = _check_ratings(ratings)
    test_size = check_positive(test_size, "test_size")
    if not test_size < 1:
        raise ValueError(f"test_size must be a fraction in (0, 1), got {test_size}")
    n = len(ratings)
    n_test = max(1, int(np.ceil(test_size * n)))
    if n_test >= n:
        raise ValueError(
            f"test_size={test_size} leaves no training ratings out of {n}; use a smaller fraction"
        )
    perm = np.random.default_rng(random_state).permutation(n)
    return ratings.subset(np.sort(perm[n_test:])), ratings.subset(np.sort(perm[:n_test]))


def kfold(ratings: Ratings, n_splits: int = 5, *, random_state=None,
          shuffle: bool = True) -> Iterator[tuple[Ratings, Ratings]]:
    """K-fold cross-validation over ratings: each rating is tested exactly once.

    Parameters
    ----------
    ratings : Ratings
    n_splits : int >= 2, default=5
    random_state : int or numpy.random.Generator, optional
        Seeds the shuffle (the same seed gives the same folds).
    shuffle : bool, default=True
        Shuffle before cutting the folds (file order is often by user or time).

    Yields
    ------
    train, test : Ratings
        Fold ``k``'s test part is the ``k``-th slice of the (shuffled) ratings;
        fold sizes differ by at most one.
    """
    ratings = _check_ratings(ratings)
    n_splits = check_int(n_splits, "n_splits", minimum=2)
    n = len(ratings)
    if n_splits > n:
        raise ValueError(f"n_splits={n_splits} is more than the number of ratings ({n})")
    order = np.random.default_rng(random_state).permutation(n) if shuffle else np.arange(n)
    bounds = np.linspace(0, n, n_splits + 1).round().astype(int)
    for k in range(n_splits):
        test = np.zeros(n, dtype=bool)
        test[order[bounds[k]:bounds[k + 1]]] = True
        yield ratings.subset(~test), ratings.subset(test)


def predefined_splits(directory: str | os.PathLike, which: str = "u"
                      ) -> list[tuple[Ratings, Ratings]]:
    """The ml-100k folder's own splits: ``u1…u5`` (5-fold) or ``ua``/``ub``.

    Parameters
    ----------
    directory : path
        An ml-100k folder with ``u.data`` and the ``*.base``/``*.test`` files.
    which : {"u", "ua", "ub", "a", "b"}, default="u"
        ``"u"`` gives the five folds u1…u5 (disjoint test sets); ``"ua"``/``"ub"``
        give the split with exactly 10 test ratings per user.

    Returns
    -------
    list of (train, test)
        All share the id maps of the full ``u.data``.
    """
    directory = Path(directory)
    if which in ("a", "b"):
        which = "u" + which
    names = [f"u{k}" for k in range(1, 6)] if which == "u" else [which]
    if which not in ("u", "ua", "ub"):
        raise ValueError(f"which must be one of 'u', 'ua', 'ub'; got {which!r}")
    full = load_ratings(directory)
    pair = full.user_codes.astype(np.int64) * full.n_items + full.item_codes
    order = np.argsort(pair)
    sorted_pair = pair[order]
    splits = []
    for name in names:
        parts = []
        for suffix in ("base", "test"):
            path = directory / f"{name}.{suffix}"
            if not path.exists():
                raise FileNotFoundError(f"directory: {directory} has no {path.name}; is it ml-100k?")
            part = load_ratings(path)
            users = np.array([full.user_code(_key(u)) for u in part.user_ids])[part.user_codes]
            items = np.array([full.item_code(_key(i)) for i in part.item_ids])[part.item_codes]
            wanted = users.astype(np.int64) * full.n_items + items
            pos = np.searchsorted(sorted_pair, wanted)
            parts.append(full.subset(np.sort(order[pos])))
        splits.append((parts[0], parts[1]))
    return splits
