r"""Alternating least squares on a ``dask.distributed`` cluster.

The loop of :class:`~dotwise.recommend.MatrixFactorization` (``method="als"``)
with the ratings partitioned twice — by user and by item — over the workers.
Each half-step of ALS solves, for every entity ``e`` of one side, its own ridge
normal equations against the fixed vectors ``Z`` of the other side:

.. math::

    (Z_e^\top Z_e + D_e)\, x_e = Z_e^\top y_e ,

and entities never share an equation, so a partition of the entities can be
solved wherever its ratings live. The plan:

1. The entities of each side are cut into contiguous code ranges holding about
   the same number of ratings, one (or more) per worker. Each partition's
   ratings are scattered **once** to its worker, which groups them into the
   padded batches of the in-memory solver and keeps them.
2. Each half-step broadcasts ``Z`` (the other side's vectors with the bias
   column, ``client.scatter(..., broadcast=True)``) and the other side's
   biases; ``client.map`` runs one solve per partition on the worker that
   holds it — the very function the in-memory fit calls
   (``dotwise.recommend._als.solve_side``), with the same targets
   ``r − μ − b``, the same count-weighted regulariser and the same batched
   Cholesky. Only the solved vectors (and, for the users, their residual sums
   of squares) come back.
3. The client assembles the vectors, records the objective exactly as the
   in-memory loop does, and broadcasts them for the next half-step.

The initial factors, the biases, ``loss_history_`` and everything after the
loop (the neighbourhood term, predictions, ``recommend``) are those of the
in-memory fit; the solved vectors agree with it to float rounding (a
partition's batches are padded to other lengths, so BLAS sums the Gram
matrices in another order).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["cluster_epochs", "partition_ranges"]


def partition_ranges(counts: np.ndarray, n_parts: int) -> list[tuple[int, int]]:
    """Contiguous code ranges ``[lo, hi)`` with about equal numbers of ratings.

    Examples
    --------
    >>> partition_ranges(np.array([5, 1, 1, 1, 1, 1]), 2)
    [(0, 1), (1, 6)]
    """
    n = len(counts)
    n_parts = max(1, min(int(n_parts), n))
    cum = np.cumsum(counts)
    total = int(cum[-1]) if n else 0
    cuts = [0]
    for j in range(1, n_parts):
        c = int(np.searchsorted(cum, total * j / n_parts, side="left")) + 1
        cuts.append(min(max(c, cuts[-1] + 1), n - (n_parts - j)))
    cuts.append(n)
    return [(lo, hi) for lo, hi in zip(cuts[:-1], cuts[1:], strict=True) if hi > lo]


@dataclass
class _Part:
    """One partition of one side, resident on a worker."""

    lo: int
    grouping: Any          # dotwise.recommend._als.Grouping of the partition's entities
    other: np.ndarray      # codes of the other side, one per rating
    ratings: np.ndarray    # float64 ratings, in the global rating order
    diag: np.ndarray       # (n_entities_in_part, d) regulariser diagonal
    mu: float


def _make_part(payload: dict[str, Any]) -> _Part:
    """Group a partition's ratings into the in-memory solver's batches (on its worker)."""
    from .. import _kernels

    entity = payload["entity"]
    grouping = _kernels.als_group(entity, payload["other"], payload["n_entities"], payload["n_other"],
                          payload["d"])
    return _Part(payload["lo"], grouping, payload["other"], payload["ratings"],
                 payload["diag"], payload["mu"])


def _solve_part(part: _Part, fixed: tuple[np.ndarray, np.ndarray | None]
                ) -> tuple[int, np.ndarray, np.ndarray]:
    """One half-step for one partition: the in-memory batched ridge solves."""
    from .. import _kernels
    from .._threads import one_blas_thread

    Z, other_bias = fixed
    targets = part.ratings - part.mu
    if other_bias is not None:
        targets = targets - other_bias[part.other]
    with one_blas_thread():
        X, rss = _kernels.als_solve_side(part.grouping, Z, targets, part.diag)
    return part.lo, X, rss


def _scatter_side(client, workers: list[str], entity: np.ndarray, other: np.ndarray,
                  r: np.ndarray, counts: np.ndarray, n_other: int, diag: np.ndarray,
                  d: int, mu: float, n_parts: int) -> list:
    """Scatter one side's partitions (once) and group them on their workers."""
    parts = []
    for j, (lo, hi) in enumerate(partition_ranges(counts, n_parts)):
        rows = (entity >= lo) & (entity < hi)
        payload = {"entity": entity[rows] - lo, "other": other[rows], "ratings": r[rows],
                   "n_entities": hi - lo, "n_other": n_other, "diag": diag[lo:hi], "d": d,
                   "mu": mu, "lo": lo}
        where = [workers[j % len(workers)]]
        (data,) = client.scatter([payload], workers=where, hash=False)
        parts.append(client.submit(_make_part, data, workers=where, pure=False))
    return parts


def _half_step(client, parts: list, Z: np.ndarray, other_bias: np.ndarray | None,
               n_entities: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    fixed = client.scatter((Z, other_bias), broadcast=True, hash=False)
    futures = client.map(_solve_part, parts, fixed=fixed, pure=False)
    X = np.zeros((n_entities, d), dtype=Z.dtype)
    rss = np.zeros(n_entities, dtype=Z.dtype)
    for lo, Xp, rp in client.gather(futures):
        X[lo:lo + len(Xp)] = Xp
        rss[lo:lo + len(rp)] = rp
    del futures, fixed
    return X, rss


def cluster_epochs(f, u: np.ndarray, i: np.ndarray, r: np.ndarray, *, diag_u: np.ndarray,
                   diag_i: np.ndarray, biased: bool, n_epochs: int, client,
                   n_partitions: int | None = None):
    """The ALS epochs of :func:`dotwise.recommend._als.epochs`, run on ``client``'s workers.

    The same contract as the in-memory engine: ``f`` (a
    :class:`~dotwise.recommend._common.Factors`) is updated in place, items given the
    users then users given the items, and each epoch yields the users' residual sum of
    squares; :meth:`MatrixFactorization.fit <dotwise.recommend.MatrixFactorization.fit>`
    (``client=``) drives it exactly like the in-memory generator, so validation,
    initialisation, the objective, the neighbourhood term and ``loss_history_`` are the
    in-memory code itself.

    Parameters
    ----------
    f : Factors
    u, i : ndarray of int64, shape (n_ratings,)
        User and item codes.
    r : ndarray of float64, shape (n_ratings,)
    diag_u, diag_i : ndarray of shape (n_users, d), (n_items, d)
        The regulariser diagonals (``d = k + 1`` with the bias column).
    biased : bool
    n_epochs : int
    client : distributed.Client
    n_partitions : int, optional
        Partitions per side; default: one per worker.

    Raises
    ------
    ValueError
        A client without workers.
    TypeError
        ``client`` is not a ``distributed.Client``.
    """
    if not (hasattr(client, "scatter") and hasattr(client, "map")
            and hasattr(client, "scheduler_info")):
        raise TypeError(f"client must be a distributed.Client, got {type(client).__name__}")
    workers = sorted(client.scheduler_info()["workers"])
    if not workers:
        raise ValueError("the cluster has no workers: start some (or wait for them) before "
                         "fitting")
    n_parts = len(workers) if n_partitions is None else int(n_partitions)
    k = f.P.shape[1]
    d = k + 1 if biased else k
    n_users, n_items = len(f.P), len(f.Q)
    n_u = np.bincount(u, minlength=n_users)
    n_i = np.bincount(i, minlength=n_items)
    mu = f.mu
    by_item = _scatter_side(client, workers, i, u, r, n_i, n_users, diag_i, d, mu, n_parts)
    by_user = _scatter_side(client, workers, u, i, r, n_u, n_items, diag_u, d, mu, n_parts)
    try:
        for _ in range(n_epochs):
            U = f.P + f.S
            Zu = np.hstack([U, np.ones((len(U), 1))]) if biased else U
            X, _ = _half_step(client, by_item, Zu, f.bu if biased else None, n_items, d)
            if biased:
                f.Q, f.bi = X[:, :k], X[:, k]
            else:
                f.Q = X
            Zi = np.hstack([f.Q, np.ones((len(f.Q), 1))]) if biased else f.Q
            X, rss = _half_step(client, by_user, Zi, f.bi if biased else None, n_users, d)
            if biased:
                f.P, f.bu = X[:, :k], X[:, k]
            else:
                f.P = X
            yield float(rss.sum())
    finally:
        client.cancel(by_item + by_user)
