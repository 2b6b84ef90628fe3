r"""Approximate search with an inverted file: :class:`IVFIndex`.

A coarse quantizer (k-means centroids :math:`c_1, …, c_L`) splits the
collection into ``n_lists`` cells; each vector is stored in the list of its
best centroid. A query scores the centroids (one small GEMM), visits only the
``n_probe`` best lists, and scores only their rows. The lists are stored
contiguously, sorted by list, so a probe reads one slice — no gathering. The
(query, list) pairs are grouped by list, so each probed list is read once for
all the queries that probe it; the lists are split over dotwise's worker
threads (the compiled loop of :mod:`._native`, or one GEMM per list in NumPy).
With ``n_probe = n_lists`` the search is exact.

Work per query drops from :math:`n d` to about
:math:`L d + \tfrac{n_\text{probe}}{L} n d`; recall depends on how well the
data clusters, so measure it with :func:`~dotwise.search.recall_at_k`.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .._native import all_finite
from .._threads import one_blas_thread
from .._validation import NotFittedError, check_int
from . import _native
from ._kernel import run_split, search_threads, topk_blocked, topk_dense
from ._query import FilterLike
from .index import Index, _State
from .results import SearchResult
from .storage import register_kind

__all__ = ["IVFIndex"]


@register_kind("ivf", files=("vectors", "ids", "sq_norms", "centroids", "offsets"))
class IVFIndex(Index):
    r"""Inverted-file index: k-means lists, search only the ``n_probe`` nearest.

    Parameters
    ----------
    dim : int
    metric : {"cosine", "dot", "l2"}, default="cosine"
    n_lists : int, default=100
        Number of k-means cells. A common choice is about :math:`\sqrt{n}`.
    n_probe : int, optional
        Lists visited per query (``1 <= n_probe <= n_lists``; default
        ``min(8, n_lists)``); more lists, higher recall, slower search. Can be
        overridden per search.
    dtype : {"float32", "float64"}, default="float32"
    random_state : int, default=0
        Seed of the k-means initialisation.

    All arguments after ``dim`` are keyword-only (the positional spelling
    still works in this release, with a ``DeprecationWarning``).

    Thread safety and failures are as for :class:`Index`: searches in other
    threads during ``add``, ``remove`` or ``train`` see the index before or
    after the call, and a call that raises changes nothing.

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

    _POSITIONAL = ("metric", "n_lists", "n_probe", "dtype", "random_state", "max_train")

    def __init__(self, dim: int, *args: Any, metric: str = "cosine", n_lists: int = 100,
                 n_probe: int | None = None, dtype: str = "float32", random_state: int = 0,
                 max_train: int = 100_000):
        if args:
            if len(args) > len(self._POSITIONAL):
                raise TypeError(f"IVFIndex takes at most {len(self._POSITIONAL) + 1} "
                                f"positional arguments, got {len(args) + 1}")
            names = self._POSITIONAL[: len(args)]
            warnings.warn(
                f"passing {', '.join(names)} to IVFIndex positionally is deprecated and will "
                f"stop working in the next release; write IVFIndex(dim, "
                f"{', '.join(f'{n}=...' for n in names)})", DeprecationWarning, stacklevel=2)
            given = dict(zip(names, args, strict=False))
            metric = given.get("metric", metric)
            n_lists = given.get("n_lists", n_lists)
            n_probe = given.get("n_probe", n_probe)
            dtype = given.get("dtype", dtype)
            random_state = given.get("random_state", random_state)
            max_train = given.get("max_train", max_train)
        super().__init__(dim, metric=metric, dtype=dtype)
        self.n_lists = check_int(n_lists, "n_lists", minimum=1)
        if n_probe is None:
            n_probe = min(8, self.n_lists)
        self.n_probe = check_int(n_probe, "n_probe", minimum=1, maximum=self.n_lists)
        self.random_state = check_int(random_state, "random_state", minimum=0)
        self.max_train = check_int(max_train, "max_train", minimum=1)
        self._state.extra["offsets"] = np.zeros(self.n_lists + 1, dtype=np.int64)

    @property
    def is_trained(self) -> bool:
        return self._state.extra.get("centroids") is not None

    @property
    def centroids_(self) -> np.ndarray:
        """The k-means centroids, shape (n_lists, dim) (unit length for cosine)."""
        C = self._state.extra.get("centroids")
        if C is None:
            raise AttributeError("centroids_ is set by train(); this IVFIndex is not trained")
        return C

    @property
    def _offsets(self) -> np.ndarray:
        return self._state.extra["offsets"]

    @property
    def list_sizes(self) -> np.ndarray:
        """Number of vectors in each list, shape (n_lists,)."""
        return np.diff(self._state.extra["offsets"])

    def __repr__(self) -> str:
        return (f"IVFIndex(dim={self.dim}, metric={self.metric!r}, n_lists={self.n_lists}, "
                f"n_probe={self.n_probe}, n={len(self)}, trained={self.is_trained})")

    def train(self, vectors: Any) -> IVFIndex:
        r"""Fit the k-means quantizer: the ``n_lists`` centroids that split the collection.

        Runs scikit-learn's :class:`~sklearn.cluster.KMeans` (k-means++
        seeding up to 256 lists, random seeding above, one run of at most 20
        Lloyd iterations, seeded by ``random_state``) on at most ``max_train``
        randomly chosen rows of ``vectors``. For cosine the centroids are then
        scaled to unit length (spherical k-means). Training on a
        representative sample is enough. Retraining an index that already
        holds vectors moves every stored vector to its list under the new
        centroids.

        Parameters
        ----------
        vectors : array_like of shape (n, dim), n >= n_lists
            Training sample, finite (and not zero for cosine).

        Returns
        -------
        IVFIndex
            ``self``, trained (``is_trained`` is True).

        Raises
        ------
        ValueError
            If there are fewer than ``n_lists`` vectors, or on NaN/Inf or a zero
            vector with cosine. The index is unchanged when it raises.
        ShapeError
            If the vectors do not have ``dim`` columns.

        Examples
        --------
        >>> rng = np.random.default_rng(0)
        >>> ivf = IVFIndex(4, metric="l2", n_lists=3).train(rng.standard_normal((60, 4)))
        >>> ivf.is_trained, ivf.centroids_.shape
        (True, (3, 4))
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
        C = np.ascontiguousarray(C)
        with self._write_lock:
            st = self._state
            extra = {**st.extra, "centroids": C, "centroid_sq": np.einsum("ij,ij->i", C, C)}
            buf, ids, sq = st.arrays()
            if st.n:
                st.verify()
                lists = self._assign(buf, extra)
                self._state = self._sorted(buf, ids, sq, lists, extra)
            else:
                self._state = _State(st.buf, st.ids, st.sq, 0, extra=extra)
        return self

    def _check_searchable(self, st: _State) -> None:
        if st.extra.get("centroids") is None:
            raise NotFittedError("This IVFIndex is not trained yet; call 'train' with a sample "
                                 "of vectors first")

    def _check_trained(self) -> None:
        self._check_searchable(self._state)

    def _coarse(self, Q: np.ndarray, n: int, extra: dict[str, Any] | None = None
                ) -> np.ndarray:
        """The ``n`` best lists for each query, shape (m, n)."""
        extra = self._state.extra if extra is None else extra
        offset = -0.5 * extra["centroid_sq"] if self.metric == "l2" else None
        lists, _ = topk_blocked(extra["centroids"], Q, n, col_offset=offset, pin_blas=False)
        return lists

    def _assign(self, X: np.ndarray, extra: dict[str, Any]) -> np.ndarray:
        out = np.empty(X.shape[0], dtype=np.int64)
        for s in range(0, X.shape[0], 65536):
            out[s:s + 65536] = self._coarse(X[s:s + 65536], 1, extra)[:, 0]
        return out

    @staticmethod
    def _row_lists_of(st: _State) -> np.ndarray:
        off = st.extra["offsets"]
        return np.repeat(np.arange(off.size - 1, dtype=np.int64), np.diff(off))

    def _row_lists(self) -> np.ndarray:
        """The list of each stored row, shape (n,) (rows are sorted by list)."""
        return self._row_lists_of(self._state)

    def _sorted(self, buf: np.ndarray, ids: np.ndarray, sq: np.ndarray, lists: np.ndarray,
                extra: dict[str, Any]) -> _State:
        order = np.argsort(lists, kind="stable")
        offsets = np.r_[0, np.cumsum(np.bincount(lists, minlength=self.n_lists))]
        return _State(np.ascontiguousarray(buf[order]), ids[order].copy(), sq[order].copy(),
                      ids.shape[0], extra={**extra, "offsets": offsets.astype(np.int64)})

    def add(self, vectors: Any, ids: Any = None, *, upsert: bool = False) -> None:
        """Assign vectors to their nearest list and add them (see :meth:`Index.add`).

        The storage stays sorted by list, so every call moves the collection
        once: add in large batches rather than one vector at a time. With
        ``upsert`` a replaced vector moves to the list of its new value.
        Everything is checked before anything changes: a call that raises
        leaves the index exactly as it was.
        """
        with self._write_lock:
            st = self._state
            self._check_searchable(st)
            X, new_ids, rows = self._validate_add(st, vectors, ids, upsert)
            if X.shape[0] == 0:
                return
            keep = np.ones(st.n, dtype=bool)
            keep[rows[rows >= 0]] = False
            st.verify()
            buf, ids_old, sq = st.arrays()
            lists = np.concatenate([self._row_lists_of(st)[keep], self._assign(X, st.extra)])
            self._state = self._sorted(
                np.concatenate([buf[keep], X]), np.concatenate([ids_old[keep], new_ids]),
                np.concatenate([sq[keep], np.einsum("ij,ij->i", X, X)]), lists, st.extra)

    def _removed(self, st: _State, keep: np.ndarray) -> _State:
        lists = self._row_lists_of(st)[keep]
        new = super()._removed(st, keep)
        new.extra["offsets"] = np.r_[0, np.cumsum(np.bincount(
            lists, minlength=self.n_lists))].astype(np.int64)
        return new

    def _arrays_to_save(self, st: _State | None = None) -> dict[str, np.ndarray]:
        st = self._state if st is None else st
        self._check_searchable(st)
        out = super()._arrays_to_save(st)
        out["centroids"] = st.extra["centroids"]
        out["offsets"] = st.extra["offsets"]
        return out

    def _params_to_save(self) -> dict[str, Any]:
        return {"n_lists": self.n_lists, "n_probe": self.n_probe,
                "random_state": self.random_state, "max_train": self.max_train}

    @classmethod
    def _from_saved(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray], path: Path,
                    check: Any = None):
        p = meta.get("params")
        if not isinstance(p, dict):
            raise ValueError("an ivf index needs its params (n_lists, n_probe, …)")
        for key in ("n_lists", "n_probe", "random_state", "max_train"):
            if isinstance(p.get(key), bool) or not isinstance(p.get(key), int):
                raise ValueError(f"params.{key} must be an integer, got {p.get(key)!r:.40}")
        index = cls(int(meta["dim"]), metric=meta["metric"], n_lists=p["n_lists"],
                    n_probe=p["n_probe"], dtype=meta["dtype"], random_state=p["random_state"],
                    max_train=p["max_train"])
        C, off = arrays["centroids"], arrays["offsets"]
        if C.shape != (index.n_lists, index.dim) or off.shape != (index.n_lists + 1,):
            raise ValueError(f"centroids {C.shape} / offsets {off.shape} do not match "
                             f"n_lists={index.n_lists}")
        if C.dtype != index.dtype or off.dtype.kind not in "iu":
            raise ValueError(f"centroids must be {index.dtype} and offsets integers, found "
                             f"{C.dtype} and {off.dtype}")
        if off[0] != 0 or off[-1] != int(meta["count"]) or np.any(np.diff(off) < 0):
            raise ValueError("offsets are not a non-decreasing partition of the vectors")
        C = np.asarray(C)
        extra = {"centroids": C, "centroid_sq": np.einsum("ij,ij->i", C, C),
                 "offsets": np.asarray(off, dtype=np.int64)}
        index._restore(meta, arrays, path, check, extra=extra)
        return index

    def search(self, queries: Any, k: int = 10, filter: FilterLike = None,
               n_probe: int | None = None) -> SearchResult:
        """Approximate top-k: search only the ``n_probe`` lists nearest each query.

        Same arguments and result as :meth:`Index.search`, plus ``n_probe``
        (default: the index's). Missing matches (too few vectors in the probed
        lists) are padded with id ``-1``.
        """
        n_probe = self.n_probe if n_probe is None else check_int(
            n_probe, "n_probe", minimum=1, maximum=self.n_lists)
        return self._run_search(queries, k, filter, n_probe=n_probe)

    def _candidates(self, st: _State, Q: np.ndarray, k: int, allowed: np.ndarray | None,
                    progress: Any = None, n_probe: int | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
        probes = self._coarse(Q, self.n_probe if n_probe is None else n_probe, st.extra)
        if st.check is not None:
            off = st.extra["offsets"]
            for j in np.unique(probes).tolist():
                st.check.rows(int(off[j]), int(off[j + 1]))
        if _native.supports(Q.dtype) and st.buf.flags.c_contiguous:
            return self._scan_lists(Q, probes, k, allowed, st)
        # many small GEMMs: one BLAS thread avoids the per-call thread start-up
        with one_blas_thread():
            return self._search_batch(Q, probes, k, allowed, st)

    def _scan_lists(self, Q: np.ndarray, probes: np.ndarray, k: int,
                    allowed: np.ndarray | None, st: _State
                    ) -> tuple[np.ndarray, np.ndarray]:
        """The compiled scan: each probed list read once, for all the queries that probe it.

        The (query, list) pairs are grouped by list; the lists are split into
        contiguous runs of about equal work (rows × probing queries), one per
        worker thread. Each thread scores its lists' rows against their queries
        in the compiled loop and keeps its own heaps; the heaps are merged at
        the end. Same results as :meth:`_search_batch` (ties by smaller id).
        """
        m, n_probe = probes.shape
        offsets = np.ascontiguousarray(st.extra["offsets"], dtype=np.int64)
        flat = probes.ravel()
        order = np.argsort(flat, kind="stable")  # positions q * n_probe + rank
        sorted_lists = flat[order]
        starts = np.flatnonzero(np.r_[True, sorted_lists[1:] != sorted_lists[:-1]])
        lists = np.ascontiguousarray(sorted_lists[starts], dtype=np.int64)
        gptr = np.r_[starts, flat.size].astype(np.int64)
        gq = (order // n_probe).astype(np.int64)
        sizes = (offsets[lists + 1] - offsets[lists]).astype(np.float64)
        cost = np.cumsum(sizes * np.diff(gptr) + 64.0)  # + a list's fixed cost
        n_threads = min(search_threads(cost[-1] * self.dim), lists.size)
        offset = -0.5 * st.sq[: st.n] if self.metric == "l2" else None
        allowed = None if allowed is None else np.ascontiguousarray(allowed, dtype=bool)
        X, ids = st.buf, np.ascontiguousarray(st.ids, dtype=np.int64)
        # thread t takes the lists whose cumulative work falls in its share
        cuts = np.searchsorted(cost, cost[-1] * np.arange(1, n_threads) / n_threads)
        bounds = [0, *cuts.tolist(), lists.size]

        def job(a: int, b: int):
            def run() -> _native.Heaps:
                heaps = _native.Heaps(m, k, Q.dtype)
                if b > a:
                    heaps.scan(Q, X, offsets, lists[a:b], gptr[a:b + 1], gq, ids=ids,
                               offset=offset, allowed=allowed)
                return heaps

            return run

        heaps = run_split([job(bounds[t], bounds[t + 1]) for t in range(n_threads)])
        return heaps.result()

    def _search_batch(self, Q: np.ndarray, probes: np.ndarray, k: int,
                      allowed: np.ndarray | None, st: _State
                      ) -> tuple[np.ndarray, np.ndarray]:
        """Score each probed list once, for all the queries that probe it (one GEMM).

        Each list contributes its k best per query (``argpartition``); the
        ``n_probe · k`` candidates of a query are then merged with ties broken
        by smaller id. (Exact ties at the k-th place inside one list are
        resolved by position in the list.)
        """
        m, n_probe = probes.shape
        offsets, buf, ids, sq = st.extra["offsets"], st.buf, st.ids, st.sq
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
            r0, r1 = int(offsets[j]), int(offsets[j + 1])
            if r1 == r0:
                continue
            pos = order[lo:hi]
            with np.errstate(over="ignore", invalid="ignore"):
                S = Q[pos // n_probe] @ buf[r0:r1].T
                if self.metric == "l2":
                    S += -0.5 * sq[r0:r1]
            if not all_finite(S):  # a non-finite score is never a candidate
                S[~np.isfinite(S)] = -np.inf
            if allowed is not None:
                S[:, ~allowed[r0:r1]] = -np.inf
            size = r1 - r0
            if size > k:
                part = np.argpartition(S, size - k, axis=1)[:, size - k:]
                cand_s[pos] = S[np.arange(hi - lo)[:, None], part]
                cand_i[pos] = ids[r0:r1][part]
            else:
                cand_s[pos, :size] = S
                cand_i[pos, :size] = ids[r0:r1]
        S = cand_s.reshape(m, n_probe * k)
        I = cand_i.reshape(m, n_probe * k)  # noqa: E741
        S[I < 0] = -np.inf
        return topk_dense(S, I, k)
