r"""Approximate search with an inverted file: :class:`IVFIndex`.

A coarse quantizer (k-means centroids :math:`c_1, …, c_L`) splits the
collection into ``n_lists`` cells; each vector is stored in the list of its
best centroid. A query scores the centroids (one small GEMM), visits only the
``n_probe`` best lists, and runs the exact blocked search on them. The lists
are stored contiguously, sorted by list, so a probe is a GEMM over a slice —
no gathering. With ``n_probe = n_lists`` the search is exact.

Work per query drops from :math:`n d` to about
:math:`L d + \tfrac{n_\text{probe}}{L} n d`; recall depends on how well the
data clusters, so measure it with :func:`~dotwise.search.recall_at_k`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .._threads import one_blas_thread
from .._validation import NotFittedError, check_int
from ._kernel import topk_blocked, topk_dense
from .index import FilterLike, Index, _as_queries, _check_k, _scores_out, _unit_rows
from .results import SearchResult

__all__ = ["IVFIndex"]


class IVFIndex(Index):
    r"""Inverted-file index: k-means lists, search only the ``n_probe`` nearest.

    Parameters
    ----------
    dim : int
    metric : {"cosine", "dot", "l2"}, default="cosine"
    n_lists : int, default=100
        Number of k-means cells. A common choice is about :math:`\sqrt{n}`.
    n_probe : int, default=8
        Lists visited per query (``1 <= n_probe <= n_lists``); more lists,
        higher recall, slower search. Can be overridden per search.
    dtype : {"float32", "float64"}, default="float32"
    random_state : int, default=0
        Seed of the k-means initialisation.

    Notes
    -----
    The quantizer uses the index's metric: cosine assigns a vector to the
    centroid of highest cosine (centroids are normalised, spherical k-means),
    dot to the highest inner product, l2 to the nearest centroid. Training
    uses scikit-learn's :class:`~sklearn.cluster.KMeans` (k-means++ seeding up
    to 256 lists, random seeding above; at most 20 Lloyd iterations) on at most
    ``max_train`` vectors (a random sample). ``add`` keeps the lists sorted,
    so each call re-sorts the collection: add in large batches.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((500, 8)).astype(np.float32)
    >>> ivf = IVFIndex(8, metric="l2", n_lists=10, n_probe=10)
    >>> _ = ivf.train(X)
    >>> ivf.add(X)
    >>> from dotwise.search import exact_search
    >>> bool((ivf.search(X[:5], k=3).ids == exact_search(X, X[:5], 3, "l2").ids).all())
    True
    """

    kind = "ivf"

    def __init__(self, dim: int, metric: str = "cosine", n_lists: int = 100, n_probe: int = 8,
                 dtype: str = "float32", random_state: int = 0, max_train: int = 100_000):
        super().__init__(dim, metric=metric, dtype=dtype)
        self.n_lists = check_int(n_lists, "n_lists", minimum=1)
        self.n_probe = check_int(n_probe, "n_probe", minimum=1, maximum=self.n_lists)
        self.random_state = check_int(random_state, "random_state", minimum=0)
        self.max_train = check_int(max_train, "max_train", minimum=1)
        self._offsets = np.zeros(self.n_lists + 1, dtype=np.int64)

    @property
    def is_trained(self) -> bool:
        return hasattr(self, "centroids_")

    @property
    def list_sizes(self) -> np.ndarray:
        """Number of vectors in each list, shape (n_lists,)."""
        return np.diff(self._offsets)

    def __repr__(self) -> str:
        return (f"IVFIndex(dim={self.dim}, metric={self.metric!r}, n_lists={self.n_lists}, "
                f"n_probe={self.n_probe}, n={len(self)}, trained={self.is_trained})")

    def train(self, vectors: Any) -> IVFIndex:
        """Fit the k-means quantizer on ``vectors`` (n, dim), n >= n_lists.

        Returns ``self``. Training on a representative sample is enough; at
        most ``max_train`` randomly chosen rows are used.
        """
        from sklearn.cluster import KMeans

        X = self._prepare(vectors)
        if X.shape[0] < self.n_lists:
            raise ValueError(f"train needs at least n_lists={self.n_lists} vectors, got "
                             f"{X.shape[0]}; lower n_lists or give more training data")
        if X.shape[0] > self.max_train:
            rng = np.random.default_rng(self.random_state)
            X = X[np.sort(rng.choice(X.shape[0], self.max_train, replace=False))]
        # k-means++ seeding costs as much as many Lloyd iterations when there are hundreds
        # of lists: there, start from random vectors (as FAISS does)
        init = "k-means++" if self.n_lists <= 256 else "random"
        km = KMeans(n_clusters=self.n_lists, init=init, n_init=1, max_iter=20,
                    random_state=self.random_state)
        km.fit(X)
        C = km.cluster_centers_.astype(self.dtype)
        if self.metric == "cosine":
            norms = np.linalg.norm(C, axis=1)
            norms[norms == 0] = 1.0
            C = C / norms[:, None]
        self.centroids_ = np.ascontiguousarray(C)
        self._centroid_sq = np.einsum("ij,ij->i", C, C)
        return self

    def _check_trained(self) -> None:
        if not self.is_trained:
            raise NotFittedError("This IVFIndex is not trained yet; call 'train' with a sample "
                                 "of vectors first")

    def _coarse(self, Q: np.ndarray, n: int) -> np.ndarray:
        """The ``n`` best lists for each query, shape (m, n)."""
        offset = -0.5 * self._centroid_sq if self.metric == "l2" else None
        lists, _ = topk_blocked(self.centroids_, Q, n, col_offset=offset)
        return lists

    def _row_lists(self) -> np.ndarray:
        """The list of each stored row, shape (n,) (rows are sorted by list)."""
        return np.repeat(np.arange(self.n_lists, dtype=np.int64), self.list_sizes)

    def add(self, vectors: Any, ids: Any = None, *, upsert: bool = False) -> None:
        """Assign vectors to their nearest list and add them (see :meth:`Index.add`).

        The storage stays sorted by list, so every call moves the collection
        once: add in large batches rather than one vector at a time.
        """
        self._check_trained()
        if upsert and ids is not None and self._n:
            wanted = self._as_ids(ids)
            present = wanted[self._rows_of(wanted, missing_ok=True) >= 0]
            if present.size:
                self._prepare(vectors)  # validate before changing anything
                self.remove(present)
        n_old = self._n
        old_lists = self._row_lists()
        super().add(vectors, ids)
        n = self._n
        if n == n_old:
            return
        new_lists = np.empty(n - n_old, dtype=np.int64)
        for s in range(n_old, n, 65536):
            e = min(s + 65536, n)
            new_lists[s - n_old:e - n_old] = self._coarse(self._buf[s:e], 1)[:, 0]
        self._sort_by_list(np.concatenate([old_lists, new_lists]))

    def remove(self, ids: Any) -> None:
        """Remove vectors by id (see :meth:`Index.remove`)."""
        ids_arr = self._as_ids(ids)
        if ids_arr.size == 0:
            return
        rows = self._rows_of(ids_arr, what="ids to remove")
        keep = np.ones(self._n, dtype=bool)
        keep[rows] = False
        lists = self._row_lists()[keep]
        super().remove(ids_arr)
        self._offsets = np.r_[0, np.cumsum(np.bincount(lists, minlength=self.n_lists))]

    def _sort_by_list(self, lists: np.ndarray) -> None:
        n = self._n
        order = np.argsort(lists, kind="stable")
        self._buf = np.ascontiguousarray(self._buf[:n][order])
        self._ids_buf = self._ids_buf[:n][order].copy()
        self._sq_buf = self._sq_buf[:n][order].copy()
        self._offsets = np.r_[0, np.cumsum(np.bincount(lists, minlength=self.n_lists))]
        self._lookup = None

    def _arrays_to_save(self) -> dict[str, np.ndarray]:
        self._check_trained()
        out = super()._arrays_to_save()
        out["centroids"] = self.centroids_
        out["offsets"] = self._offsets
        return out

    def _params_to_save(self) -> dict[str, Any]:
        return {"n_lists": self.n_lists, "n_probe": self.n_probe,
                "random_state": self.random_state, "max_train": self.max_train}

    @classmethod
    def _from_saved(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray], path: Path):
        p = meta["params"]
        index = cls(int(meta["dim"]), metric=meta["metric"], n_lists=int(p["n_lists"]),
                    n_probe=int(p["n_probe"]), dtype=meta["dtype"],
                    random_state=int(p["random_state"]), max_train=int(p["max_train"]))
        index._restore(meta, arrays, path)
        C, off = arrays["centroids"], arrays["offsets"]
        if C.shape != (index.n_lists, index.dim) or off.shape != (index.n_lists + 1,):
            raise ValueError(f"centroids {C.shape} / offsets {off.shape} do not match "
                             f"n_lists={index.n_lists}")
        if off[0] != 0 or off[-1] != len(index) or np.any(np.diff(off) < 0):
            raise ValueError("offsets are not a non-decreasing partition of the vectors")
        index.centroids_ = np.asarray(C)
        index._centroid_sq = np.einsum("ij,ij->i", index.centroids_, index.centroids_)
        index._offsets = np.asarray(off, dtype=np.int64)
        return index

    def search(self, queries: Any, k: int = 10, filter: FilterLike = None,
               n_probe: int | None = None) -> SearchResult:
        """Approximate top-k: search only the ``n_probe`` lists nearest each query.

        Same arguments and result as :meth:`Index.search`, plus ``n_probe``
        (default: the index's). Missing matches (too few vectors in the probed
        lists) are padded with id ``-1``.
        """
        self._check_trained()
        k = _check_k(k)
        n_probe = self.n_probe if n_probe is None else check_int(
            n_probe, "n_probe", minimum=1, maximum=self.n_lists)
        Q, single = _as_queries(queries, self.dim, self.dtype)
        allowed = self._allowed(filter)
        q_sq = None
        if self.metric == "cosine":
            Q = _unit_rows(Q, "queries")
        elif self.metric == "l2":
            q_sq = np.einsum("ij,ij->i", Q, Q)
        probes = self._coarse(Q, n_probe)  # (m, n_probe)
        # many small GEMMs: one BLAS thread avoids the per-call thread start-up
        with one_blas_thread():
            ids, s = self._search_batch(Q, probes, k, allowed)
        if self.metric == "cosine":
            np.clip(s, -1.0, 1.0, out=s, where=ids >= 0)
        scores = _scores_out(ids, s, self.metric, q_sq)
        if single:
            ids, scores = ids[0], scores[0]
        return SearchResult(ids, scores, self.metric)

    def _offset_for(self, r0: int, r1: int) -> np.ndarray | None:
        return -0.5 * self._sq_buf[r0:r1] if self.metric == "l2" else None

    def _search_batch(self, Q: np.ndarray, probes: np.ndarray, k: int,
                      allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Score each probed list once, for all the queries that probe it (one GEMM).

        Each list contributes its k best per query (``argpartition``); the
        ``n_probe · k`` candidates of a query are then merged with ties broken
        by smaller id. (Exact ties at the k-th place inside one list are
        resolved by position in the list.)
        """
        m, n_probe = probes.shape
        # group the (query, list) pairs by list: each list is scored once, by one GEMM
        flat_lists = probes.ravel()
        order = np.argsort(flat_lists, kind="stable")  # positions q * n_probe + rank
        sorted_lists = flat_lists[order]
        bounds = np.flatnonzero(np.r_[True, sorted_lists[1:] != sorted_lists[:-1], True])
        cand_s = np.full((m * n_probe, k), -np.inf, dtype=Q.dtype)
        cand_i = np.full((m * n_probe, k), -1, dtype=np.int64)
        for b in range(bounds.size - 1):
            lo, hi = bounds[b], bounds[b + 1]
            j = int(sorted_lists[lo])
            r0, r1 = int(self._offsets[j]), int(self._offsets[j + 1])
            if r1 == r0:
                continue
            pos = order[lo:hi]
            S = Q[pos // n_probe] @ self._buf[r0:r1].T
            off = self._offset_for(r0, r1)
            if off is not None:
                S += off
            if allowed is not None:
                S[:, ~allowed[r0:r1]] = -np.inf
            size = r1 - r0
            if size > k:
                part = np.argpartition(S, size - k, axis=1)[:, size - k:]
                cand_s[pos] = S[np.arange(hi - lo)[:, None], part]
                cand_i[pos] = self._ids_buf[r0:r1][part]
            else:
                cand_s[pos, :size] = S
                cand_i[pos, :size] = self._ids_buf[r0:r1]
        S = cand_s.reshape(m, n_probe * k)
        I = cand_i.reshape(m, n_probe * k)  # noqa: E741
        S[I < 0] = -np.inf
        return topk_dense(S, I, k)
