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


def ratio(W: np.ndarray, E: np.ndarray, k: int, lam: float) -> np.ndarray:
    """``Σ_{j∈N_k} s_ij e_j / (Σ_{j∈N_k} |s_ij| + λ)`` row by row.

    ``W`` (rows, m) holds ``s_ij`` for the rated items ``j`` and 0 elsewhere;
    ``N_k`` keeps each row's ``k`` largest ``|s_ij|`` (ties at the k-th kept).
    """
    A = np.abs(W)
    if k < W.shape[1]:
        kth = -np.partition(-A, k - 1, axis=1)[:, k - 1:k]
        keep = A >= kth
        W = np.where(keep, W, 0.0)
        A = np.where(keep, A, 0.0)
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
        """The term for (user, item) code pairs; 0 where either code is ``-1`` (unknown)."""
        out = np.zeros(len(uc))
        S = self.similarity
        idx = np.flatnonzero((uc >= 0) & (ic >= 0))
        step = max(1, (1 << 22) // max(S.shape[0], 1))
        for s in range(0, len(idx), step):
            b = idx[s:s + step]
            W = S[ic[b]] * self.M[uc[b]].toarray()
            out[b] = ratio(W, self.E[uc[b]].toarray(), self.k, self.lam)
        return out

    def for_new_user(self, codes: np.ndarray, resid: np.ndarray) -> np.ndarray:
        """The term of every item for a user who rated ``codes`` with residuals ``resid``."""
        n_items = self.similarity.shape[0]
        if codes.size == 0:
            return np.zeros(n_items)
        W = self.similarity[:, codes].astype(np.float64)
        return ratio(W, np.broadcast_to(resid, W.shape), self.k, self.lam)
