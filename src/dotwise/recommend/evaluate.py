r"""Honest evaluation: error on held-out ratings and top-N quality.

* ``RMSE = sqrt(mean((r - r̂)²))``, ``MAE = mean(|r - r̂|)`` over test ratings.
* Top-N for each test user with at least one held-out rating ≥ ``threshold``
  ("relevant"): rank every item the user did **not** rate in training (and the
  model knows) by predicted score, take the first ``k``;
  ``precision@k = hits / k``, ``recall@k = hits / relevant``, and
  ``NDCG@k = Σ_{hits at rank j} 1/log2(j+1) / Σ_{j≤min(k, relevant)} 1/log2(j+1)``.
  Averages are over those users.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.base import clone

from .._validation import check_int, check_k, check_positive
from .ratings import Ratings
from .splits import _check_ratings, kfold

__all__ = ["CVResult", "FoldResult", "cross_validate", "ranking_metrics", "rmse_mae"]


def rmse_mae(y_true, y_pred) -> tuple[float, float]:
    """Root-mean-square and mean absolute error of two equal-length arrays.

    >>> rmse_mae([1, 2, 3], [1, 2, 5])
    (1.1547005383792515, 0.6666666666666666)
    """
    t = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    if t.shape != p.shape or t.ndim != 1 or t.size == 0:
        raise ValueError(f"y_true and y_pred must be non-empty 1-D arrays of the same length, "
                         f"got shapes {t.shape} and {p.shape}")
    err = t - p
    return float(np.sqrt(err @ err / err.size)), float(np.abs(err).mean())


def ranking_metrics(model, train: Ratings, test: Ratings, *, k: int = 10,
                    threshold: float = 4.0, batch: int = 512) -> dict[str, float]:
    """precision@k, recall@k and NDCG@k of a fitted model's top-k lists (see module notes).

    Parameters
    ----------
    model : fitted MatrixFactorization or BaselinePredictor
        Fitted on ``train`` (same id maps as ``test``). Any model works that
        has ``score_users(user_codes) -> (b, n_items)`` (all items of a batch
        of users at once, the fast path) or ``score_codes(user_codes,
        item_codes)`` (unclipped scores for code pairs).
    train, test : Ratings
    k : int, default=10
    threshold : float, default=4.0
        A held-out rating ≥ ``threshold`` is relevant.
    batch : int, default=512
        Users scored together.

    Returns
    -------
    dict with ``precision@k``, ``recall@k``, ``ndcg@k``, ``users``

    Examples
    --------
    >>> from dotwise.recommend import BaselinePredictor, Ratings
    >>> train = Ratings.from_arrays([1, 1, 2], [10, 20, 10], [5, 1, 4])
    >>> test = train.subset([1])  # user 1's rating of item 20 (a 1: not relevant)
    >>> ranking_metrics(BaselinePredictor().fit(train), train, test, k=1)["users"]
    0
    """
    k = check_k(k)
    batch = check_int(batch, "batch", minimum=1)
    n_items = train.n_items
    rel = test.ratings >= threshold
    users = np.unique(test.user_codes[rel])
    if users.size == 0:
        return {f"precision@{k}": float("nan"), f"recall@{k}": float("nan"),
                f"ndcg@{k}": float("nan"), "users": 0}
    score = _user_scorer(model, n_items)
    n_train_item = np.bincount(train.item_codes, minlength=n_items)
    shape = (train.n_users, n_items)
    rated = csr_matrix((np.ones(len(train), bool), (train.user_codes, train.item_codes)),
                       shape=shape)
    relevant = csr_matrix((np.ones(int(rel.sum()), bool),
                           (test.user_codes[rel], test.item_codes[rel])), shape=shape)
    n_relevant = np.bincount(test.user_codes[rel], minlength=train.n_users)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    prec, rec, ndcg = [], [], []
    for s in range(0, users.size, batch):
        ub = users[s:s + batch]
        scores = np.array(score(ub), dtype=np.float64)
        scores[:, n_train_item == 0] = -np.inf
        scores[rated[ub].toarray()] = -np.inf
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        top = np.take_along_axis(top, np.argsort(-np.take_along_axis(scores, top, 1), 1), 1)
        hit = np.take_along_axis(relevant[ub].toarray(), top, 1)
        n_rel = n_relevant[ub]
        prec.append(hit.sum(1) / k)
        rec.append(hit.sum(1) / n_rel)
        ideal = np.cumsum(discounts)[np.minimum(n_rel, k) - 1]
        ndcg.append((hit * discounts).sum(1) / ideal)
    return {f"precision@{k}": float(np.concatenate(prec).mean()),
            f"recall@{k}": float(np.concatenate(rec).mean()),
            f"ndcg@{k}": float(np.concatenate(ndcg).mean()), "users": int(users.size)}


def _user_scorer(model, n_items: int) -> Callable[[np.ndarray], np.ndarray]:
    """``users -> (len(users), n_items)`` unclipped scores from the model's scoring methods."""
    if hasattr(model, "score_users"):
        return model.score_users
    pairs = getattr(model, "score_codes", None)
    if pairs is None and hasattr(model, "_raw_codes"):
        warnings.warn("a model for ranking_metrics should define score_codes(user_codes, "
                      "item_codes); the private _raw_codes is deprecated and will stop working "
                      "in the next release", DeprecationWarning, stacklevel=3)
        pairs = model._raw_codes
    if pairs is None:
        raise TypeError(f"model must have score_users(user_codes) or score_codes(user_codes, "
                        f"item_codes) (a fitted MatrixFactorization or BaselinePredictor), got "
                        f"{type(model).__name__}")
    all_items = np.arange(n_items)

    def score(users: np.ndarray) -> np.ndarray:
        uc = np.repeat(users, n_items)
        ic = np.tile(all_items, users.size)
        return np.asarray(pairs(uc, ic)).reshape(users.size, n_items)

    return score


@dataclass(frozen=True)
class FoldResult:
    """One fold's measurements (times in seconds).

    ``fit_time`` trains, ``predict_time`` predicts the held-out ratings and
    ``rank_time`` scores every item for every test user to compute the top-N
    metrics in ``ranking`` (0 when they were not asked for).
    """

    fold: int
    rmse: float
    mae: float
    fit_time: float
    predict_time: float
    n_train: int
    n_test: int
    ranking: dict[str, float] = field(default_factory=dict)
    rank_time: float = 0.0


@dataclass(frozen=True)
class CVResult:
    """Per-fold results of :func:`cross_validate`, with means and standard deviations."""

    folds: list[FoldResult]

    def mean(self, metric: str) -> float:
        return float(np.mean([_metric(f, metric) for f in self.folds]))

    def std(self, metric: str) -> float:
        return float(np.std([_metric(f, metric) for f in self.folds]))

    @property
    def metrics(self) -> list[str]:
        names = ["rmse", "mae", "fit_time", "predict_time"]
        if self.folds and self.folds[0].ranking:
            names += ["rank_time"] + [m for m in self.folds[0].ranking if m != "users"]
        return names

    def summary(self) -> dict[str, float]:
        return {m: self.mean(m) for m in self.metrics}

    def __repr__(self) -> str:
        return (f"CVResult({len(self.folds)} folds: RMSE {self.mean('rmse'):.4f} ± "
                f"{self.std('rmse'):.4f}, MAE {self.mean('mae'):.4f}, "
                f"fit {self.mean('fit_time'):.2f} s)")


def _metric(fold: FoldResult, metric: str) -> float:
    if hasattr(fold, metric):
        return float(getattr(fold, metric))
    return float(fold.ranking[metric])


def cross_validate(model, ratings: Ratings, n_splits: int = 5, *, random_state=0,
                   k: int = 10, threshold: float = 4.0, ranking: bool = True,
                   folds=None, on_fold: Callable[[FoldResult], None] | None = None) -> CVResult:
    """K-fold cross-validation of a recommender: RMSE, MAE, times and top-N quality.

    Parameters
    ----------
    model : estimator
        Cloned (``sklearn.base.clone``) for every fold; the original is untouched.
        It needs ``fit(Ratings)``, ``predict_codes(user_codes, item_codes)``
        (clipped predictions for code pairs) and, for the top-N metrics,
        ``score_users`` or ``score_codes`` (see :func:`ranking_metrics`) —
        ``MatrixFactorization`` and ``BaselinePredictor`` have all of them.
    ratings : Ratings
    n_splits : int, default=5
    random_state : int, default=0
        Seeds the fold shuffle (the same folds for every model given the same seed).
    k, threshold : top-N settings (see :func:`ranking_metrics`).
    ranking : bool, default=True
        Also compute precision@k / recall@k / NDCG@k.
    folds : iterable of (train, test), optional
        Use these splits instead (for example :func:`predefined_splits`).
    on_fold : callable(FoldResult), optional
        Called after each fold (progress bars).

    Returns
    -------
    CVResult
        Per fold: RMSE, MAE, and where the time went (``fit_time``,
        ``predict_time``, ``rank_time``).
    """
    ratings = _check_ratings(ratings)
    check_positive(threshold, "threshold")
    splits = folds if folds is not None else kfold(ratings, n_splits,
                                                    random_state=random_state)
    results = []
    for index, (train, test) in enumerate(splits):
        fitted = clone(model)
        start = time.perf_counter()
        fitted.fit(train)
        fit_time = time.perf_counter() - start
        start = time.perf_counter()
        pred = fitted.predict_codes(test.user_codes.astype(np.int64),
                                    test.item_codes.astype(np.int64))
        predict_time = time.perf_counter() - start
        rmse, mae = rmse_mae(test.ratings, pred)
        extra, rank_time = {}, 0.0
        if ranking:
            start = time.perf_counter()
            extra = ranking_metrics(fitted, train, test, k=k, threshold=threshold)
            rank_time = time.perf_counter() - start
        result = FoldResult(fold=index, rmse=rmse, mae=mae, fit_time=fit_time,
                            predict_time=predict_time, n_train=len(train), n_test=len(test),
                            ranking=extra, rank_time=rank_time)
        results.append(result)
        if on_fold is not None:
            on_fold(result)
    return CVResult(results)
