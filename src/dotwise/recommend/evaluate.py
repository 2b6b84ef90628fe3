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
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone

from .._validation import check_int, check_positive
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
        Fitted on ``train`` (same id maps as ``test``).
    train, test : Ratings
    k : int, default=10
    threshold : float, default=4.0
        A held-out rating ≥ ``threshold`` is relevant.

    Returns
    -------
    dict with ``precision@k``, ``recall@k``, ``ndcg@k``, ``users``
    """
    k = check_int(k, "k", minimum=1)
    n_items = train.n_items
    rel = test.ratings >= threshold
    users = np.unique(test.user_codes[rel])
    n_train_item = np.bincount(train.item_codes, minlength=n_items)
    if users.size == 0:
        return {f"precision@{k}": float("nan"), f"recall@{k}": float("nan"),
                f"ndcg@{k}": float("nan"), "users": 0}
    train_key = train.user_codes.astype(np.int64) * n_items + train.item_codes
    test_key = test.user_codes[rel].astype(np.int64) * n_items + test.item_codes[rel]
    n_relevant = np.bincount(test.user_codes[rel], minlength=train.n_users)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    prec, rec, ndcg = [], [], []
    all_items = np.arange(n_items)
    for s in range(0, users.size, batch):
        ub = users[s:s + batch]
        uc = np.repeat(ub, n_items)
        ic = np.tile(all_items, ub.size)
        scores = model._raw_codes(uc, ic).reshape(ub.size, n_items)
        scores[:, n_train_item == 0] = -np.inf
        keys = ub[:, None].astype(np.int64) * n_items + all_items[None, :]
        scores[np.isin(keys, train_key)] = -np.inf
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        top = np.take_along_axis(top, np.argsort(-np.take_along_axis(scores, top, 1), 1), 1)
        hit = np.isin(ub[:, None].astype(np.int64) * n_items + top, test_key)
        n_rel = n_relevant[ub]
        prec.append(hit.sum(1) / k)
        rec.append(hit.sum(1) / n_rel)
        ideal = np.cumsum(discounts)[np.minimum(n_rel, k) - 1]
        ndcg.append((hit * discounts).sum(1) / ideal)
    return {f"precision@{k}": float(np.concatenate(prec).mean()),
            f"recall@{k}": float(np.concatenate(rec).mean()),
            f"ndcg@{k}": float(np.concatenate(ndcg).mean()), "users": int(users.size)}


@dataclass(frozen=True)
class FoldResult:
    """One fold's measurements."""

    fold: int
    rmse: float
    mae: float
    fit_time: float
    predict_time: float
    n_train: int
    n_test: int
    ranking: dict[str, float] = field(default_factory=dict)


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
            names += [m for m in self.folds[0].ranking if m != "users"]
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
        pred = fitted._predict_codes(test.user_codes.astype(np.int64),
                                     test.item_codes.astype(np.int64))
        predict_time = time.perf_counter() - start
        rmse, mae = rmse_mae(test.ratings, pred)
        extra = ranking_metrics(fitted, train, test, k=k, threshold=threshold) if ranking else {}
        result = FoldResult(fold=index, rmse=rmse, mae=mae, fit_time=fit_time,
                            predict_time=predict_time, n_train=len(train), n_test=len(test),
                            ranking=extra)
        results.append(result)
        if on_fold is not None:
            on_fold(result)
    return CVResult(results)
