r"""The residual item–item neighbourhood term of :class:`~dotwise.recommend.MatrixFactorization`.

After the factors are fitted, a prediction gets a correction from the user's
own training residuals on similar items:

.. math::

    \hat r_{ui} \mathrel{+}= \frac{\sum_{j \in N_k(i;u)} s_{ij} e_{uj}}
                                 {\sum_{j \in N_k(i;u)} |s_{ij}| + \lambda_n},
    \qquad e_{uj} = r_{uj} - (\mu + b_u + b_j + p_u \cdot q_j),

with ``N_k(i;u)`` the ``k`` items the user rated with the largest ``|s_ij|``
(ties at the k-th kept) and ``s_ij`` the cosine of the residual columns of
``i`` and ``j`` (one ``EᵀE`` product) shrunk by ``n_ij / (n_ij + β)``,
``n_ij`` the number of users who rated both (private engine).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix

__all__ = ["Neighborhood", "ratio"]

# float32 elements of one (pairs, rated items) block in ``term`` (16 MiB)
_BLOCK_ELEMENTS = 1 << 22


def ratio(W: np.ndarray, E: np.ndarray, k: int, lam: float) -> np.ndarray:
    """``Σ_{j∈N_k} s_ij e_j / (Σ_{j∈N_k} |s_ij| + λ)`` row by row (``W`` is overwritten).

    ``W`` (rows, m) holds ``s_ij`` for the rated items ``j`` and 0 elsewhere;
    ``N_k`` keeps each row's ``k`` largest ``|s_ij|`` (ties at the k-th kept).
    """
    A = np.abs(W)
    m = W.shape[1]
    if k < m:
        kth = np.partition(A, m - k, axis=1)[:, m - k:m - k + 1]   # k-th largest |s_ij|
        keep = A >= kth
        W *= keep
        A *= keep
    return np.einsum("bj,bj->b", W, E) / (A.sum(axis=1) + lam)


class Neighborhood:
    """Shrunk residual similarities and the users' residuals, ready to predict with.

    Attributes
    ----------
    similarity : ndarray of shape (n_items, n_items), float32
        ``s_ij`` (zero diagonal).
    E, M : scipy.sparse.csr_matrix of shape (n_users, n_items), float32
        The training residuals ``e_ui`` and the 0/1 incidence of who rated what.
    k : int
    lam : float
    """

    def __init__(self, similarity: np.ndarray, E, M, k: int, lam: float):
        self.similarity = similarity
        self.E, self.M = E, M
        self.k, self.lam = k, lam
        # the residual of each stored (user, item) of M, in M's (row-major) order
        rows, cols = M.nonzero()
        self._resid = np.asarray(E[rows, cols], dtype=np.float32).ravel()

    @classmethod
    def fit(cls, u: np.ndarray, i: np.ndarray, e: np.ndarray, shape: tuple[int, int], *,
            k: int, shrink: float, lam: float, dense_limit: int) -> Neighborhood:
        """Similarities of the residual columns ``e`` (per rating) of a users × items matrix.

        Below ``dense_limit`` users × items the residual matrix is also formed
        dense (sparse × dense products are several times faster than sparse ×
        sparse); above it both products stay sparse.
        """
        e = e.astype(np.float32)
        E = csr_matrix((e, (u, i)), shape=shape)
        M = csr_matrix((np.ones(len(u), np.float32), (u, i)), shape=shape)
        if shape[0] * shape[1] <= dense_limit:
            Ed = np.zeros(shape, np.float32)
            Ed[u, i] = e
            G = np.asarray(E.T @ Ed)                  # Σ_u e_ui e_uj
            Ed[u, i] = 1.0
            C = np.asarray(M.T @ Ed)                  # co-rating counts n_ij
        else:
            G = (E.T @ E).toarray()
            C = (M.T @ M).toarray()
        norm = np.sqrt(np.diag(G))
        S = G / np.maximum(np.outer(norm, norm), np.float32(1e-12))
        S *= C / (C + np.float32(shrink)) if shrink > 0 else np.float32(1.0)
        np.fill_diagonal(S, 0.0)
        return cls(S.astype(np.float32, copy=False), E, M, k, lam)

    def term(self, uc: np.ndarray, ic: np.ndarray) -> np.ndarray:
        """The term for (user, item) code pairs; 0 where either code is ``-1`` (unknown).

        Each pair's neighbour search runs over the items its user rated only
        (``|R(u)|`` similarities, not ``n_items``): pairs are sorted by their
        user's rating count and taken in blocks padded to the block's longest
        ``R(u)`` with zero similarities, which neither enter the top ``k``
        before a real neighbour nor add to a sum.
        """
        uc, ic = np.asarray(uc, np.int64), np.asarray(ic, np.int64)
        out = np.zeros(len(uc))
        idx = np.flatnonzero((uc >= 0) & (ic >= 0))
        if idx.size == 0 or self.M.nnz == 0:
            return out
        counts = np.diff(self.M.indptr)[uc[idx]]
        order = np.argsort(counts, kind="stable")
        idx, counts = idx[order], counts[order]
        first = 0
        while first < len(idx):
            # counts ascend, so a block's widest row is its last: grow while it fits
            last = min(len(idx), first + max(1, _BLOCK_ELEMENTS // max(int(counts[first]), 1)))
            while last - first > 1 and (last - first) * max(int(counts[last - 1]), 1) \
                    > _BLOCK_ELEMENTS:
                last = first + max(1, (last - first) // 2)
            b = idx[first:last]
            cols, E, valid = self._rated(uc[b], pad=0)
            W = self.similarity[ic[b][:, None], cols] * valid
            out[b] = ratio(W, E, self.k, self.lam)
            first = last
        return out

    def for_users(self, users: np.ndarray) -> np.ndarray:
        """The term of every item for each known user code: shape (len(users), n_items).

        :meth:`term` over all (user, item) pairs, organised per user: the
        similarities to the user's rated items are the columns ``S[:, R(u)]``,
        gathered as contiguous rows of ``Sᵀ`` for a block of users with
        similar ``|R(u)|`` (padding points at an extra zero row).
        """
        S, M = self.similarity, self.M
        n_items = S.shape[0]
        ST = np.zeros((n_items + 1, n_items), np.float32)
        ST[:n_items] = S.T
        users = np.asarray(users, np.int64)
        out = np.zeros((len(users), n_items))
        counts = np.diff(M.indptr)[users]
        order = np.argsort(counts, kind="stable")
        first = 0
        while first < len(order):
            per_user = n_items * max(int(counts[order[first]]), 1)
            last = min(len(order), first + max(1, _BLOCK_ELEMENTS // per_user))
            while last - first > 1 and (last - first) * n_items * max(
                    int(counts[order[last - 1]]), 1) > _BLOCK_ELEMENTS:
                last = first + max(1, (last - first) // 2)
            block = order[first:last]
            cols, resid, _ = self._rated(users[block], pad=n_items)
            B, width = cols.shape
            # W[b, i, l] = s(i, j_bl) for the user's l-th rated item j_bl, 0 in padding
            W = ST[cols].transpose(0, 2, 1).reshape(B * n_items, width)
            out[block] = ratio(W, np.repeat(resid, n_items, axis=0), self.k,
                               self.lam).reshape(B, n_items)
            first = last
        return out

    def _rated(self, users: np.ndarray, pad: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each user's rated items (padded with ``pad``), residuals (padded with 0), mask."""
        indptr = self.M.indptr
        counts = indptr[users + 1] - indptr[users]
        slot = np.arange(max(int(counts.max()), 1))
        valid = slot[None, :] < counts[:, None]
        pos = np.where(valid, indptr[users][:, None] + slot[None, :], 0)
        if self.M.nnz == 0:
            return np.full(pos.shape, pad), np.zeros(pos.shape, np.float32), valid
        return (np.where(valid, self.M.indices[pos], pad),
                np.where(valid, self._resid[pos], np.float32(0)), valid)

    def for_new_user(self, codes: np.ndarray, resid: np.ndarray) -> np.ndarray:
        """The term of every item for a user who rated ``codes`` with residuals ``resid``."""
        n_items = self.similarity.shape[0]
        if codes.size == 0:
            return np.zeros(n_items)
        W = self.similarity[:, codes].astype(np.float64)
        return ratio(W, np.broadcast_to(resid, W.shape), self.k, self.lam)
