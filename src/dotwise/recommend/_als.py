r"""The batched ridge solves behind alternating least squares (private engine).

One half-step of ALS fixes one side's vectors ``Z`` (items, say) and solves, for
every entity ``e`` on the other side (every user), the small ridge problem

.. math::

    x_e = \arg\min_x \sum_{j \in R(e)} (y_{ej} - z_j \cdot x)^2 + x^\top D_e x
        \quad\Longleftrightarrow\quad
    (Z_e^\top Z_e + D_e)\, x_e = Z_e^\top y_e,

with ``Z_e`` the rows of ``Z`` the entity rated and ``D_e`` a positive diagonal.
Entities are sorted by their number of ratings and cut into batches whose rows
are padded to the batch's longest; a padded slot points at an all-zero row, so
it adds nothing. Each batch is one gather, one stacked matrix product for the
Gram matrices; the Gram matrices are then solved in large stacks by one
batched Cholesky factorisation and vectorised triangular substitutions — no
Python loop per rating or per entity. That batched NumPy path is the
reference; when the compiled loops (``dotwise._dwrec``) are loaded, each entity's
Gram matrix, Cholesky factorisation and substitutions run in one C loop instead
(no padding, no intermediate stacks), over ranges of entities on the worker pool.
:func:`epochs` runs the alternation itself for
:class:`~dotwise.recommend.MatrixFactorization`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from . import _compiled
from ._common import Factors
from ._implicit import Implicit

# Elements of the padded (batch, length, dim) gather per batch: about 1 MiB of
# float64, small enough to stay in cache (larger batches are slower, not faster).
_BATCH_ELEMENTS = 1 << 17
_MAX_BATCH = 256
# Matrix elements per stacked Cholesky solve (32 MiB of float64).
_SOLVE_ELEMENTS = 1 << 22


@dataclass
class Grouping:
    """The ratings of one side, grouped by entity and cut into padded batches.

    Attributes
    ----------
    counts : ndarray of shape (n_entities,)
        Ratings per entity.
    batches : list of (entities, other, rows)
        ``entities`` (B,) codes; ``other`` (B, L) codes of the other side, padded
        with ``n_other`` (a zero row); ``rows`` (B, L) positions in the rating
        arrays, padded with ``n_ratings`` (a zero target).
    order, starts, other_sorted : ndarray
        The unpadded grouping the compiled solver reads: rating positions sorted by
        entity, each entity's offset into them (n_entities + 1,), and the other
        side's codes in that order.
    """

    counts: np.ndarray
    batches: list[tuple[np.ndarray, np.ndarray, np.ndarray]]
    n_other: int
    n_ratings: int
    order: np.ndarray | None = None
    starts: np.ndarray | None = None
    other_sorted: np.ndarray | None = None


def group(entity: np.ndarray, other: np.ndarray, n_entities: int, n_other: int,
          dim: int) -> Grouping:
    """Group ratings by ``entity`` into padded batches for :func:`solve_side`."""
    n = entity.shape[0]
    order = np.argsort(entity, kind="stable")
    counts = np.bincount(entity, minlength=n_entities)
    starts = np.zeros(n_entities + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    by_count = np.argsort(counts, kind="stable")
    by_count = by_count[counts[by_count] > 0]
    sorted_counts = counts[by_count]
    batches = []
    budget = max(1, _BATCH_ELEMENTS // max(dim, 1))
    first, total = 0, len(by_count)
    while first < total:
        # counts ascend, so the batch's longest row is its last: grow while it fits.
        longest = int(sorted_counts[first])
        size = max(1, min(_MAX_BATCH, budget // max(longest, 1)))
        last = min(total, first + size)
        while last - first > 1 and (last - first) * int(sorted_counts[last - 1]) > budget:
            last = first + max(1, (last - first) // 2)
        ents = by_count[first:last]
        lens = counts[ents]
        width = int(lens.max())
        slot = np.arange(width)
        valid = slot[None, :] < lens[:, None]
        pos = np.where(valid, starts[ents][:, None] + slot[None, :], 0)
        rows = np.where(valid, order[pos], n)
        others = np.where(valid, other[order[pos]], n_other)
        batches.append((ents, others.astype(np.int64), rows.astype(np.int64)))
        first = last
    return Grouping(counts=counts, batches=batches, n_other=n_other, n_ratings=n, order=order,
                    starts=starts, other_sorted=np.asarray(other, np.int64)[order])


def solve_side(grouping: Grouping, Z: np.ndarray, targets: np.ndarray,
               diag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solve every entity's ridge problem against the fixed vectors ``Z``.

    The compiled loop when it is loaded (float64), else :func:`solve_side_numpy`;
    same parameters and results.
    """
    if (_compiled.available() and Z.dtype == np.float64 and grouping.order is not None):
        targets = np.asarray(targets, np.float64)
        return _compiled.ridge(grouping.starts, grouping.other_sorted,
                               targets[grouping.order], Z, diag)
    return solve_side_numpy(grouping, Z, targets, diag)


def solve_side_numpy(grouping: Grouping, Z: np.ndarray, targets: np.ndarray,
                     diag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solve every entity's ridge problem against the fixed vectors ``Z`` (batched NumPy).

    Parameters
    ----------
    grouping : Grouping
    Z : ndarray of shape (n_other, d)
    targets : ndarray of shape (n_ratings,)
        ``y`` per rating, in the original rating order.
    diag : ndarray of shape (n_entities, d)
        The positive diagonal ``D_e`` of each entity's regulariser.

    Returns
    -------
    X : ndarray of shape (n_entities, d)
        Zero for an entity without ratings.
    rss : ndarray of shape (n_entities,)
        Each entity's residual sum of squares ``‖y_e − Z_e x_e‖²`` at the
        solution, from the normal equations: ``yᵀy − 2 xᵀZᵀy + xᵀZᵀZx``.
    """
    d = Z.shape[1]
    Zx = np.vstack([Z, np.zeros((1, d), dtype=Z.dtype)])
    yx = np.append(targets.astype(Z.dtype, copy=False), Z.dtype.type(0))
    n_ent = grouping.counts.shape[0]
    X = np.zeros((n_ent, d), dtype=Z.dtype)
    rss = np.zeros(n_ent, dtype=Z.dtype)
    eye = np.arange(d)
    # Gram matrices are formed in small cache-sized batches, then solved in
    # large stacks (one LAPACK call per stack) to amortise the call overhead.
    # (a stack holds at least one whole batch: with thousands of factors the
    # element budget alone would leave room for less than one)
    largest = max((len(batch[0]) for batch in grouping.batches), default=1)
    stack = max(1, min(n_ent, _SOLVE_ELEMENTS // (d * d)), largest)
    A_buf = np.empty((stack, d, d), dtype=Z.dtype)
    b_buf = np.empty((stack, d), dtype=Z.dtype)
    yy_buf = np.empty(stack, dtype=Z.dtype)
    e_buf = np.empty(stack, dtype=np.int64)
    filled = 0

    def flush(m: int) -> None:
        A, b = A_buf[:m], b_buf[:m]
        gram_x = None
        A[:, eye, eye] += diag[e_buf[:m]]
        x = _spd_solve(A, b)
        A[:, eye, eye] -= diag[e_buf[:m]]
        gram_x = np.matmul(A, x[..., None])[..., 0]
        X[e_buf[:m]] = x
        rss[e_buf[:m]] = yy_buf[:m] - 2 * np.einsum("bd,bd->b", x, b) \
            + np.einsum("bd,bd->b", x, gram_x)

    for ents, others, rows in grouping.batches:
        B = len(ents)
        if filled + B > stack:
            flush(filled)
            filled = 0
        Zp = Zx[others]                                   # (B, L, d)
        yp = yx[rows]                                     # (B, L)
        sl = slice(filled, filled + B)
        np.matmul(Zp.transpose(0, 2, 1), Zp, out=A_buf[sl])  # Gram matrices ZᵀZ
        b_buf[sl] = np.matmul(yp[:, None, :], Zp)[:, 0, :]   # Zᵀy
        yy_buf[sl] = np.einsum("bl,bl->b", yp, yp)
        e_buf[sl] = ents
        filled += B
    if filled:
        flush(filled)
    return X, np.maximum(rss, 0.0)


def _spd_solve(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve the stacked SPD systems ``A x = b`` through their Cholesky factors.

    ``A = L Lᵀ`` by one batched LAPACK ``potrf`` call (``np.linalg.cholesky``);
    then forward substitution ``L w = b`` and back substitution ``Lᵀ x = w``,
    each a loop over the ``d`` columns vectorised over the whole stack.
    Cholesky is the stable method for symmetric positive-definite systems and
    fails loudly (``LinAlgError``) if a matrix is not positive definite.
    """
    L = np.linalg.cholesky(A)
    n, d = b.shape
    w = np.empty_like(b)
    for j in range(d):
        w[:, j] = (b[:, j] - np.einsum("bk,bk->b", L[:, j, :j], w[:, :j])) / L[:, j, j]
    x = np.empty_like(b)
    for j in range(d - 1, -1, -1):
        x[:, j] = (w[:, j] - np.einsum("bk,bk->b", L[:, j + 1:, j], x[:, j + 1:])) / L[:, j, j]
    return x


def epochs(f: Factors, u: np.ndarray, i: np.ndarray, r: np.ndarray, *, diag_u: np.ndarray,
           diag_i: np.ndarray, biased: bool, n_epochs: int, implicit: Implicit | None = None,
           implicit_reg: np.ndarray | None = None, implicit_steps: int = 0
           ) -> Iterator[float]:
    """Alternate exact solves on ``f`` in place; yield each epoch's training SSE.

    Each epoch solves the items given the users, then (``implicit``) takes the
    conjugate-gradient ``Y`` step, then solves the users given the items. The
    users come last, so the user vectors are always the exact ridge solution
    for the final item vectors (which makes ``fold_in`` and ``explain`` exact)
    and the users' residual sums of squares are the model's training error.

    Parameters
    ----------
    f : Factors
        Initial parameters; replaced epoch by epoch.
    u, i : ndarray of shape (n_ratings,), int64
    r : ndarray of shape (n_ratings,), float64
    diag_u, diag_i : ndarray of shape (n_users, d), (n_items, d)
        The regulariser diagonals (``d = k + 1`` with the bias column).
    implicit : Implicit, optional
    implicit_reg : ndarray of shape (n_items,)
        λ per item vector ``y_j``.
    """
    k = f.P.shape[1]
    d = k + 1 if biased else k
    n_users, n_items = len(f.P), len(f.Q)
    by_item = group(i, u, n_items, n_users, d)
    by_user = group(u, i, n_users, n_items, d)
    mu = f.mu
    for _ in range(n_epochs):
        U = f.P + f.S
        if biased:
            X, _ = solve_side(by_item, np.hstack([U, np.ones((len(U), 1))]),
                              r - mu - f.bu[u], diag_i)
            f.Q, f.bi = X[:, :k], X[:, k]
        else:
            f.Q, _ = solve_side(by_item, U, r - mu, diag_i)
        Q, bi = f.Q, f.bi
        if implicit is not None:
            resid = r - mu - np.einsum("nk,nk->n", U[u], Q[i])
            if biased:
                resid -= f.bu[u] + bi[i]
            f.Y, f.S = implicit.step(f.Y, Q, resid, implicit_reg, implicit_steps)
        offset = np.einsum("nk,nk->n", f.S[u], Q[i]) if implicit is not None else 0.0
        if biased:
            X, rss = solve_side(by_user, np.hstack([Q, np.ones((len(Q), 1))]),
                                r - mu - bi[i] - offset, diag_u)
            f.P, f.bu = X[:, :k], X[:, k]
        else:
            f.P, rss = solve_side(by_user, Q, r - mu - offset, diag_u)
        yield float(rss.sum())
