r"""The residual item–item neighbourhood term of :class:`~dotwise.recommend.MatrixFactorization`.

After the factors are fitted, a prediction gets a correction from the user's
own training residuals on the items most similar to the one predicted:

.. math::

    \hat r_{ui} \mathrel{+}= \frac{\sum_{j \in L_k(i) \cap R(u)} s_{ij} e_{uj}}
                                 {\sum_{j \in L_k(i) \cap R(u)} s_{ij} + \lambda_n},
    \qquad e_{uj} = r_{uj} - (\mu + b_u + b_j + p_u \cdot q_j),

where ``s_ij`` is the cosine of the residual columns of ``i`` and ``j`` shrunk
by ``n_ij / (n_ij + β)`` (``n_ij`` the users who rated both), and ``L_k(i)``
is item ``i``'s stored list: the ``k`` items with the largest *positive*
``s_ij`` (ties: the smaller index first). Only these lists are kept — an
``(n_items, k)`` array of indices and one of float32 similarities, O(n_items·k)
memory — never the ``n_items × n_items`` matrix.

The lists are built item by item from the sparse residual matrix: for item
``i``, every user who rated it adds ``e_ui e_uj`` for each of their items ``j``
(Σ_u |R(u)|² work in all), and the ``k`` best of the touched ``j`` are kept.
The compiled loop (``dotwise._dwrec``) does exactly that; the NumPy reference
forms the same similarities a block of rows at a time from sparse products
(:func:`topk_numpy`), and :func:`dense_similarity` is the full matrix, for
tests. Prediction looks each neighbour up in the user's sorted rated items
(binary search in C, ``searchsorted`` in NumPy): ``k`` lookups per pair.
(Private engine.)
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix

from . import _compiled

__all__ = ["Neighborhood", "dense_similarity", "topk_numpy"]

# float64 elements of one (pairs, k) block of the NumPy term and of one (users, n_items)
# block of scores (32 MiB); of one dense block of similarity rows in ``topk_numpy`` (8 MiB:
# it has several temporaries of that size)
_BLOCK_ELEMENTS = 1 << 22
_BUILD_ELEMENTS = 1 << 20


def _residual_matrix(u: np.ndarray, i: np.ndarray, e: np.ndarray,
                     shape: tuple[int, int]) -> csr_matrix:
    E = csr_matrix((np.asarray(e, np.float64), (u, i)), shape=shape)
    E.sum_duplicates()
    E.sort_indices()
    return E


def _similarity_rows(E: csr_matrix, Et: csr_matrix, norms: np.ndarray, rows: slice,
                     shrink: float) -> np.ndarray:
    """Dense rows ``rows`` of the shrunk similarity matrix (float32, diagonal zeroed)."""
    M, Mt = E.copy(), Et[rows].copy()
    M.data[:] = 1.0
    Mt.data[:] = 1.0
    G = (Et[rows] @ E).toarray()
    C = (Mt @ M).toarray()
    S = G / np.maximum(norms[rows, None] * norms[None, :], 1e-12)
    if shrink > 0:
        S *= C / (C + shrink)
    S = S.astype(np.float32)
    S[np.arange(S.shape[0]), np.arange(rows.start, rows.start + S.shape[0])] = 0.0
    return S


def dense_similarity(u: np.ndarray, i: np.ndarray, e: np.ndarray, shape: tuple[int, int], *,
                     shrink: float) -> np.ndarray:
    """The full ``(n_items, n_items)`` float32 matrix of shrunk residual cosines ``s_ij``.

    The reference the sparse lists are tested against (zero diagonal); O(n_items²)
    memory, so never formed by a fit.
    """
    E = _residual_matrix(u, i, e, shape)
    norms = np.sqrt(np.bincount(np.asarray(i), np.asarray(e, np.float64) ** 2,
                                minlength=shape[1]))
    return _similarity_rows(E, E.T.tocsr(), norms, slice(0, shape[1]), shrink)


def _select(S: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``k`` largest positive entries (ties: smaller column first), -1 padded."""
    rows = S.shape[0]
    idx = np.full((rows, k), -1, np.int32)
    sim = np.zeros((rows, k), np.float32)
    if k == 0 or rows == 0:
        return idx, sim
    width = S.shape[1]
    if k < width:
        kth = -np.partition(-S, k - 1, axis=1)[:, k - 1]      # each row's k-th largest
        keep = (S >= kth[:, None]) & (S > 0)
    else:
        keep = S > 0
    r, c = np.nonzero(keep)                                   # row-major: columns ascend
    v = S[r, c]
    order = np.lexsort((c, -v, r))
    r, c, v = r[order], c[order], v[order]
    start = np.searchsorted(r, np.arange(rows))
    slot = np.arange(len(r)) - start[r]
    ok = slot < k
    idx[r[ok], slot[ok]] = c[ok]
    sim[r[ok], slot[ok]] = v[ok]
    return idx, sim


def topk_numpy(E: csr_matrix, norms: np.ndarray, shrink: float,
               k: int) -> tuple[np.ndarray, np.ndarray]:
    """The NumPy reference of the lists: blocks of dense similarity rows, then a selection."""
    n_items = E.shape[1]
    k = min(k, n_items)
    Et = E.T.tocsr()
    idx = np.full((n_items, k), -1, np.int32)
    sim = np.zeros((n_items, k), np.float32)
    step = max(1, _BUILD_ELEMENTS // max(n_items, 1))
    for lo in range(0, n_items, step):
        rows = slice(lo, min(n_items, lo + step))
        idx[rows], sim[rows] = _select(_similarity_rows(E, Et, norms, rows, shrink), k)
    return idx, sim


class Neighborhood:
    """The stored top-k lists and the users' residuals, ready to predict with.

    Attributes
    ----------
    indices : ndarray of shape (n_items, k), int32
        ``L_k(i)``, best first, padded with -1.
    similarity : ndarray of shape (n_items, k), float32
        The matching ``s_ij`` (> 0), padded with 0.
    E : scipy.sparse.csr_matrix of shape (n_users, n_items)
        The training residuals ``e_ui`` (float64, sorted indices).
    lam : float
    """

    def __init__(self, indices: np.ndarray, similarity: np.ndarray, E: csr_matrix,
                 lam: float):
        self.indices, self.similarity = indices, similarity
        self.E, self.lam = E, lam
        self._by_user = (E.indptr.astype(np.int64), E.indices.astype(np.int64),
                         np.ascontiguousarray(E.data, np.float64))
        counts = np.diff(E.indptr)
        self._keys = (np.repeat(np.arange(E.shape[0], dtype=np.int64), counts) * E.shape[1]
                      + self._by_user[1])
        self._W = None

    @classmethod
    def fit(cls, u: np.ndarray, i: np.ndarray, e: np.ndarray, shape: tuple[int, int], *,
            k: int, shrink: float, lam: float) -> Neighborhood:
        """The top-``k`` lists of the residuals ``e`` (one per rating) of a users × items matrix.

        A list can hold no more than ``n_items`` entries, so ``k`` is capped there.
        """
        k = min(k, shape[1])
        E = _residual_matrix(u, i, e, shape)
        sq = E.multiply(E).sum(axis=0)
        norms = np.sqrt(np.asarray(sq, np.float64).ravel())
        if _compiled.available():
            Et = E.T.tocsr()
            by_item = (Et.indptr, Et.indices.astype(np.int64), Et.data)
            by_user = (E.indptr, E.indices.astype(np.int64), E.data)
            idx, sim = _compiled.neighbors(by_item, by_user, norms, shrink, k)
        else:
            idx, sim = topk_numpy(E, norms, shrink, k)
        return cls(idx, sim, E, lam)

    @property
    def k(self) -> int:
        return self.indices.shape[1]

    @property
    def nbytes(self) -> int:
        """Bytes of the stored lists (indices and similarities)."""
        return int(self.indices.nbytes + self.similarity.nbytes)

    def matrix(self) -> csr_matrix:
        """The lists as a sparse ``(n_items, n_items)`` matrix ``W`` (``W_ij = s_ij``, j ∈ L_k(i))."""
        if self._W is None:
            n = self.indices.shape[0]
            ok = self.indices >= 0
            rows = np.repeat(np.arange(n), ok.sum(axis=1))
            self._W = csr_matrix((self.similarity[ok].astype(np.float64),
                                  (rows, self.indices[ok])), shape=(n, n))
        return self._W

    def term(self, uc: np.ndarray, ic: np.ndarray) -> np.ndarray:
        """The term for (user, item) code pairs; 0 where either code is ``-1`` (unknown)."""
        uc, ic = np.asarray(uc, np.int64), np.asarray(ic, np.int64)
        if _compiled.available():
            return _compiled.term(uc, ic, self._by_user, self.indices, self.similarity,
                                  self.lam)
        return self._term_numpy(uc, ic)

    def _term_numpy(self, uc: np.ndarray, ic: np.ndarray) -> np.ndarray:
        """NumPy reference of :meth:`term`: each neighbour found by ``searchsorted``."""
        out = np.zeros(len(uc))
        known = np.flatnonzero((uc >= 0) & (ic >= 0))
        keys, resid = self._keys, self._by_user[2]
        n_items, k = self.E.shape[1], self.k
        if keys.size == 0 or k == 0:
            return out
        step = max(1, _BLOCK_ELEMENTS // k)
        for lo in range(0, len(known), step):
            b = known[lo:lo + step]
            nb = self.indices[ic[b]].astype(np.int64)
            want = uc[b][:, None] * n_items + nb
            pos = np.minimum(np.searchsorted(keys, want), keys.size - 1)
            hit = (keys[pos] == want) & (nb >= 0)
            s = np.where(hit, self.similarity[ic[b]], 0.0)
            num = np.einsum("bl,bl->b", s, np.where(hit, resid[pos], 0.0))
            out[b] = _ratio(num, s.sum(axis=1), self.lam)
        return out

    def for_rows(self, E_rows: csr_matrix) -> np.ndarray:
        """The term of every item for users given by their residual rows (sparse, b × n_items).

        ``num = E Wᵀ`` and ``den = M Wᵀ + λ`` with ``M`` the rows' 0/1 pattern: the
        sum over ``L_k(i) ∩ R(u)`` is a sparse product with the lists' matrix.
        """
        WT = self.matrix().T.tocsr()
        M_rows = E_rows.copy()
        M_rows.data[:] = 1.0
        num = (E_rows @ WT).toarray()
        den = (M_rows @ WT).toarray()
        return _ratio(num, den, self.lam)

    def for_users(self, users: np.ndarray) -> np.ndarray:
        """The term of every item for each known user code: shape (len(users), n_items)."""
        users = np.asarray(users, np.int64)
        n_items = self.E.shape[1]
        out = np.zeros((len(users), n_items))
        step = max(1, _BLOCK_ELEMENTS // max(n_items, 1))
        for lo in range(0, len(users), step):
            out[lo:lo + step] = self.for_rows(self.E[users[lo:lo + step]])
        return out

    def for_new_user(self, codes: np.ndarray, resid: np.ndarray) -> np.ndarray:
        """The term of every item for a user who rated ``codes`` with residuals ``resid``."""
        n_items = self.E.shape[1]
        row = csr_matrix((np.asarray(resid, np.float64),
                          (np.zeros(len(codes), np.int64), np.asarray(codes, np.int64))),
                         shape=(1, n_items))
        return self.for_rows(row)[0]


def _ratio(num: np.ndarray, den: np.ndarray, lam: float) -> np.ndarray:
    """``num / (den + λ)``, 0 where the denominator is 0 (no neighbour rated, λ = 0)."""
    total = den + lam
    return np.divide(num, total, out=np.zeros_like(num, dtype=np.float64), where=total > 0)
