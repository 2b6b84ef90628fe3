r"""The fitting driver of :class:`~dotwise.recommend.MatrixFactorization` (private engine).

:func:`train` draws the initial vectors, runs one engine's epochs — ALS in memory
(:mod:`._als`), ALS on a Dask cluster (:mod:`dotwise.scale.als`) or SGD
(:mod:`._sgd`) — and after each epoch publishes the parameters to the estimator
(so that a callback can already predict), records the objective ``L / n_ratings``
(:func:`._params.objective`) and the training RMSE. :func:`factor_scores` is the
factor model's prediction ``μ + b_u + b_i + (p_u + s_u) · q_i`` for code pairs,
shared by the driver and the estimator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .._threads import one_blas_thread
from . import _als, _sgd
from ._common import Factors
from ._implicit import Implicit
from ._params import objective, penalty_diag, penalty_weights

__all__ = ["History", "factor_scores", "train"]


@dataclass
class History:
    """What a fit records: rating counts, and per epoch the objective and training RMSE."""

    n_u: np.ndarray
    n_i: np.ndarray
    loss: list[float] = field(default_factory=list)
    rmse: list[float] = field(default_factory=list)


def factor_scores(f: Factors, uc: np.ndarray, ic: np.ndarray, biased: bool) -> np.ndarray:
    """Unclipped factor-model predictions for code pairs; ``-1`` (unknown) contributes zeros."""
    known_u, known_i = uc >= 0, ic >= 0
    uu, ii = np.maximum(uc, 0), np.maximum(ic, 0)
    dots = np.einsum("nk,nk->n", f.P[uu] + f.S[uu], f.Q[ii])
    pred = f.mu + np.where(known_u & known_i, dots, 0.0)
    if biased:
        pred = pred + np.where(known_u, f.bu[uu], 0.0)
        pred = pred + np.where(known_i, f.bi[ii], 0.0)
    return pred


def _initial(n_users: int, n_items: int, u, i, r, *, k: int, init_std: float, biased: bool,
             rng) -> tuple[Factors, History]:
    """Random initial vectors (zero for an entity without ratings)."""
    P = rng.normal(0.0, init_std, (n_users, k))
    Q = rng.normal(0.0, init_std, (n_items, k))
    n_u = np.bincount(u, minlength=n_users).astype(np.float64)
    n_i = np.bincount(i, minlength=n_items).astype(np.float64)
    P[n_u == 0] = 0.0
    Q[n_i == 0] = 0.0
    f = Factors(mu=float(r.mean()) if biased else 0.0, P=P, Q=Q, bu=np.zeros(n_users),
                bi=np.zeros(n_items), Y=np.zeros((n_items, k)), S=np.zeros((n_users, k)))
    return f, History(n_u=n_u, n_i=n_i)


def train(data, params: dict, *, biased: bool, init_std: float, implicit: bool, random_state,
          client=None, publish: Callable[[Factors, History], None],
          callback: Callable[[int, float], None] | None = None) -> tuple[Factors, History]:
    """Fit the factors of ``data`` (a ``Ratings``) with the validated ``params``.

    ``publish(f, history)`` is called with the initial parameters and after every
    epoch, before ``callback(epoch, loss)``.
    """
    rng = np.random.default_rng(random_state)
    u = data.user_codes.astype(np.int64)
    i = data.item_codes.astype(np.int64)
    r = data.ratings.astype(np.float64)
    k, a = params["k"], params["exponent"]
    reg, reg_bias = params["reg"], params["reg_bias"]
    f, hist = _initial(data.n_users, data.n_items, u, i, r, k=k, init_std=float(init_std),
                       biased=biased, rng=rng)
    publish(f, hist)
    diag_u = penalty_diag(hist.n_u, k, reg, reg_bias, a, biased)
    diag_i = penalty_diag(hist.n_i, k, reg, reg_bias, a, biased)

    def drive(epochs) -> None:
        for epoch, sse in enumerate(epochs):
            publish(f, hist)
            if sse is None:
                resid = r - factor_scores(f, u, i, biased)
                sse = float(resid @ resid)
            loss = objective(f, sse, hist.n_u, hist.n_i, exponent=a, reg=reg,
                             reg_bias=reg_bias, biased=biased)
            hist.loss.append(loss / len(r))
            hist.rmse.append(float(np.sqrt(sse / len(r))))
            if callback is not None:
                callback(epoch, hist.loss[-1])

    if params["method"] == "sgd":
        drive(_sgd.epochs(f, u, i, r, weight_u=penalty_weights(hist.n_u, a),
                          weight_i=penalty_weights(hist.n_i, a), reg=reg, reg_bias=reg_bias,
                          learning_rate=params["lr"], batch_size=params["batch"],
                          biased=biased, n_epochs=params["n_epochs"], rng=rng))
        return f, hist
    # The ALS work is thousands of tiny (k+1)×(k+1) products and factorisations:
    # threaded BLAS only adds synchronisation to them.
    with one_blas_thread():
        if client is None:
            extra = Implicit(u, i, hist.n_u, hist.n_i) if implicit else None
            drive(_als.epochs(f, u, i, r, diag_u=diag_u, diag_i=diag_i, biased=biased,
                              n_epochs=params["n_epochs"], implicit=extra,
                              implicit_reg=reg * penalty_weights(hist.n_i, a),
                              implicit_steps=params["steps"]))
        else:
            from ..scale.als import cluster_epochs

            drive(cluster_epochs(f, u, i, r, diag_u=diag_u, diag_i=diag_i, biased=biased,
                                 n_epochs=params["n_epochs"], client=client))
    return f, hist
