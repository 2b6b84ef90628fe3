r"""Baseline rating predictor: global mean plus regularised user and item biases.

.. math::

    \hat r_{ui} = \mu + b_u + b_i, \qquad
    \min_{b} \sum_{(u,i)} (r_{ui} - \mu - b_u - b_i)^2
        + \lambda_u \sum_u b_u^2 + \lambda_i \sum_i b_i^2

fitted by alternating least squares: with the item biases fixed each user bias
has the closed form :math:`b_u = \sum_{i \in R(u)} (r_{ui} - \mu - b_i) / (\lambda_u + |R(u)|)`,
and symmetrically for items (Koren, "Factor in the neighbors", 2010, §2.1 — the
same model as Surprise's ``BaselineOnly`` with ``method="als"``).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator

from .._validation import check_fitted, check_int, check_positive
from ._common import as_training_ratings, id_codes

__all__ = ["BaselinePredictor"]


class BaselinePredictor(BaseEstimator):
    """Global mean + user bias + item bias, fitted by alternating least squares.

    Parameters
    ----------
    reg_user : float, default=15
        Shrinkage of user biases towards 0 (in "ratings' worth").
    reg_item : float, default=10
        Shrinkage of item biases.
    n_epochs : int, default=10
        Alternating sweeps (users, then items).

    Attributes
    ----------
    global_mean_ : float
    user_bias_ : ndarray of shape (n_users,)
    item_bias_ : ndarray of shape (n_items,)
    loss_history_ : list of float
        Objective / number of ratings after each sweep (never increases).

    Examples
    --------
    >>> from dotwise.recommend import Ratings
    >>> r = Ratings.from_arrays([1, 1, 2, 2], [1, 2, 1, 2], [5, 3, 4, 2])
    >>> model = BaselinePredictor(reg_user=0.0, reg_item=0.0).fit(r)
    >>> model.predict([1], [1]).round(2)
    array([5.])
    """

    def __init__(self, *, reg_user: float = 15.0, reg_item: float = 10.0, n_epochs: int = 10):
        self.reg_user = reg_user
        self.reg_item = reg_item
        self.n_epochs = n_epochs

    def fit(self, ratings, y=None) -> BaselinePredictor:
        """Fit the biases to a ``Ratings`` set (or an ``(n, 3)`` array of user, item, rating)."""
        reg_u = check_positive(self.reg_user, "reg_user", allow_zero=True)
        reg_i = check_positive(self.reg_item, "reg_item", allow_zero=True)
        n_epochs = check_int(self.n_epochs, "n_epochs", minimum=1)
        data = as_training_ratings(ratings)
        u, i = data.user_codes, data.item_codes
        r = data.ratings.astype(np.float64)
        mu = float(r.mean())
        nu = np.bincount(u, minlength=data.n_users).astype(np.float64)
        ni = np.bincount(i, minlength=data.n_items).astype(np.float64)
        bu = np.zeros(data.n_users)
        bi = np.zeros(data.n_items)
        history = []
        for _ in range(n_epochs):
            bu = np.bincount(u, weights=r - mu - bi[i], minlength=data.n_users)
            bu = np.divide(bu, reg_u + nu, out=np.zeros_like(bu), where=(reg_u + nu) > 0)
            bi = np.bincount(i, weights=r - mu - bu[u], minlength=data.n_items)
            bi = np.divide(bi, reg_i + ni, out=np.zeros_like(bi), where=(reg_i + ni) > 0)
            resid = r - mu - bu[u] - bi[i]
            loss = resid @ resid + reg_u * bu @ bu + reg_i * bi @ bi
            history.append(float(loss) / len(r))
        self.global_mean_ = mu
        self.user_bias_ = bu
        self.item_bias_ = bi
        self.loss_history_ = history
        self.rating_scale_ = data.rating_scale
        self.ratings_ = data
        return self

    def predict(self, users, items) -> np.ndarray:
        """Predicted ratings for original user and item ids, clipped to the scale.

        An unknown user (or item) contributes a zero bias.
        """
        check_fitted(self, "user_bias_")
        uc, ic = id_codes(self.ratings_, users, items)
        return self.predict_codes(uc, ic)

    def score_codes(self, user_codes, item_codes) -> np.ndarray:
        """Unclipped ``μ + b_u + b_i`` for (user code, item code) pairs; ``-1`` contributes 0."""
        check_fitted(self, "user_bias_")
        uc, ic = np.asarray(user_codes, np.int64), np.asarray(item_codes, np.int64)
        bu = np.where(uc >= 0, self.user_bias_[np.maximum(uc, 0)], 0.0)
        bi = np.where(ic >= 0, self.item_bias_[np.maximum(ic, 0)], 0.0)
        return self.global_mean_ + bu + bi

    _raw_codes = score_codes

    def score_users(self, user_codes) -> np.ndarray:
        """Unclipped scores of every item for each (known) user code, shape (b, n_items)."""
        check_fitted(self, "user_bias_")
        uc = np.asarray(user_codes, np.int64)
        return self.global_mean_ + self.user_bias_[uc][:, None] + self.item_bias_[None, :]

    def predict_codes(self, user_codes, item_codes) -> np.ndarray:
        """``score_codes`` clipped to the rating scale."""
        lo, hi = self.rating_scale_
        return np.clip(self.score_codes(user_codes, item_codes), lo, hi)

    _predict_codes = predict_codes
