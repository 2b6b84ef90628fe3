r"""Mini-batch stochastic gradient descent for :class:`~dotwise.recommend.MatrixFactorization`.

The same objective as ALS (see :mod:`dotwise.recommend.mf`), minimised by
shuffled mini-batches: the count-weighted penalty ``λ n_u^a ‖p_u‖²`` is spread
over user ``u``'s ``n_u`` ratings, ``λ n_u^(a-1)`` per rating (and likewise for
items and the biases), so one pass over the data takes one full penalty. Kept
for comparison with ALS (private engine).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ._common import Factors

__all__ = ["epochs"]


def epochs(f: Factors, u: np.ndarray, i: np.ndarray, r: np.ndarray, *, weight_u: np.ndarray,
           weight_i: np.ndarray, reg: float, reg_bias: float, learning_rate: float,
           batch_size: int, biased: bool, n_epochs: int,
           rng: np.random.Generator) -> Iterator[None]:
    """Update ``f`` in place, one shuffled pass over the ratings per epoch; yield after each.

    ``weight_u`` / ``weight_i`` are the penalty weights ``n^a`` per user / item.
    Yields ``None`` (the caller computes the training error itself).
    """
    P, Q, bu, bi, mu = f.P, f.Q, f.bu, f.bi, f.mu
    n_u = np.bincount(u, minlength=len(P)).astype(np.float64)
    n_i = np.bincount(i, minlength=len(Q)).astype(np.float64)
    wu = np.where(n_u > 0, 1.0 / np.maximum(n_u, 1), 0.0)
    wi = np.where(n_i > 0, 1.0 / np.maximum(n_i, 1), 0.0)
    # λ n^a ‖p_u‖² spread over u's n ratings: n^(a-1) per rating.
    fac_u, fac_i = weight_u * wu, weight_i * wi
    lr, n = learning_rate, len(r)
    for _ in range(n_epochs):
        order = rng.permutation(n)
        for s in range(0, n, batch_size):
            idx = order[s:s + batch_size]
            uu, ii, rr = u[idx], i[idx], r[idx]
            pu, qi = P[uu], Q[ii]
            err = rr - (mu + bu[uu] + bi[ii] + np.einsum("nk,nk->n", pu, qi))
            gP = err[:, None] * qi - reg * fac_u[uu][:, None] * pu
            gQ = err[:, None] * pu - reg * fac_i[ii][:, None] * qi
            np.add.at(P, uu, lr * gP)
            np.add.at(Q, ii, lr * gQ)
            if biased:
                np.add.at(bu, uu, lr * (err - reg_bias * wu[uu] * bu[uu]))
                np.add.at(bi, ii, lr * (err - reg_bias * wi[ii] * bi[ii]))
        yield None
