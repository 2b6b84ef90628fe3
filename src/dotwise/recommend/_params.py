r"""Hyper-parameters and objective of :class:`~dotwise.recommend.MatrixFactorization` (private).

Validation of every constructor argument (before any data is read), the memory
estimate that refuses sizes that cannot fit, and the objective

.. math::

    L = \sum_{(u,i)} (r_{ui} - \hat r_{ui})^2
      + \lambda \Big(\sum_u n_u^{a} \lVert p_u \rVert^2
                     + \sum_i n_i^{a} (\lVert q_i \rVert^2 + \lVert y_i \rVert^2)\Big)
      + \lambda_b \Big(\sum_u b_u^2 + \sum_i b_i^2\Big)

with its penalty weights ``n^a`` and the per-entity ridge diagonals of the ALS
normal equations.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_choice, check_int, check_positive
from . import _als
from ._common import Factors, check_memory

__all__ = ["check_params", "check_size", "objective", "penalty_diag", "penalty_weights"]


def check_params(est) -> dict:
    """Every hyper-parameter of ``est`` validated, as a dict, before any data is touched."""
    method = check_choice(est.method, "method", ("als", "sgd"))
    params = {
        "k": check_int(est.n_factors, "n_factors", minimum=1), "method": method,
        "n_epochs": check_int(est.n_epochs, "n_epochs", minimum=1),
        "reg": check_positive(est.reg, "reg", allow_zero=method != "als"),
        "reg_bias": check_positive(est.reg_bias, "reg_bias", allow_zero=True),
        "exponent": check_positive(est.reg_exponent, "reg_exponent", allow_zero=True),
        "init_std": check_positive(est.init_std, "init_std", allow_zero=True),
        "neighbors": check_int(est.neighbors, "neighbors", minimum=0),
        "shrink": check_positive(est.neighbor_shrinkage, "neighbor_shrinkage", allow_zero=True),
        "nb_reg": check_positive(est.neighbor_reg, "neighbor_reg", allow_zero=True),
    }
    if est.implicit and method != "als":
        raise ValueError("implicit=True needs method='als' (the SGD path has no implicit "
                         "feedback); got method='sgd'")
    if method == "als":
        params["steps"] = check_int(est.implicit_steps, "implicit_steps", minimum=1)
    else:
        params["lr"] = check_positive(est.learning_rate, "learning_rate")
        params["batch"] = check_int(est.batch_size, "batch_size", minimum=1)
    # one (k+1)×(k+1) normal-equation matrix must fit whatever the data
    check_size(params, 0, 0)
    return params


def check_size(params: dict, n_users: int, n_items: int, *, n_ratings: int = 0) -> None:
    """Refuse sizes that cannot fit, with the estimate, before allocating anything.

    float64 bytes: the vectors P, Q, Y, S and their per-epoch copies,
    ``≈ 8·k·4·(n_users + n_items)``; the stacked (k+1)×(k+1) normal equations
    (at least one batch, and their Cholesky factors); for the neighbourhood term,
    the sparse residual matrix and its transpose (about 48 bytes per rating),
    the top-k lists (8 bytes per entry) and the per-item accumulators of the
    list build (or the NumPy build's blocks of 8 MiB).
    """
    k = params["k"]
    d = k + 1
    n = max(n_users, n_items, 1)
    batch = min(_als._MAX_BATCH, max(1, _als._BATCH_ELEMENTS // d))
    stack = max(1, min(n, _als._SOLVE_ELEMENTS // (d * d)), min(batch, n))
    needed = 8.0 * k * 4 * (n_users + n_items) + 2 * 8.0 * stack * d * d
    if params["neighbors"] > 0 and n_items:
        needed += 48.0 * n_ratings + 8.0 * params["neighbors"] * n_items
        needed += max(24.0 * 8 * n_items, 6 * 8.0 * min(n_items * n_items, 1 << 20))
    shape = f" for {n_users} users × {n_items} items" if n_users else ""
    check_memory(needed, f"MatrixFactorization(n_factors={k}){shape}",
                 "use fewer factors (8 to 256 are usual)")


def penalty_weights(counts: np.ndarray, exponent: float) -> np.ndarray:
    """``n^a`` per entity (0 for an entity without ratings)."""
    return np.where(counts > 0, np.maximum(counts, 1) ** exponent, 0.0)


def penalty_diag(counts: np.ndarray, k: int, reg: float, reg_bias: float, exponent: float,
                 biased: bool) -> np.ndarray:
    """Per-entity ridge diagonal ``(λ n^a, …, λ n^a [, λ_b])``, shape (n, k [+ 1])."""
    diag = np.repeat((reg * penalty_weights(counts, exponent))[:, None], k, axis=1)
    if biased:
        diag = np.hstack([diag, np.full((len(counts), 1), reg_bias)])
    return diag


def objective(f: Factors, sse: float, n_u: np.ndarray, n_i: np.ndarray, *, exponent: float,
              reg: float, reg_bias: float, biased: bool) -> float:
    """``L`` (module notes) for the parameters ``f`` and the training error ``sse``."""
    wu, wi = penalty_weights(n_u, exponent), penalty_weights(n_i, exponent)
    loss = sse + reg * (wu @ np.einsum("uk,uk->u", f.P, f.P)
                        + wi @ np.einsum("ik,ik->i", f.Q, f.Q))
    loss += reg * (wi @ np.einsum("ik,ik->i", f.Y, f.Y))
    if biased:
        loss += reg_bias * (f.bu @ f.bu + f.bi @ f.bi)
    return float(loss)
