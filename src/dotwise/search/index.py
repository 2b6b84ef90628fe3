r"""Exact similarity search: :class:`Index` and :func:`exact_search`.

Three metrics, one operation. With queries :math:`q` and indexed vectors :math:`x`:

.. math::

    \text{dot}(q, x) = q \cdot x, \qquad
    \text{cosine}(q, x) = \hat q \cdot \hat x, \qquad
    \lVert q - x \rVert^2 = \lVert q \rVert^2 - 2\, q \cdot x + \lVert x \rVert^2

so every search is a matrix product :math:`Q X^\top` followed by a top-k. The
product is computed over blocks of the collection (see ``_kernel``); a
queries × collection matrix is never formed, and a memory-mapped collection is
streamed from disk block by block.

Concurrency: an index's contents live in one immutable snapshot that every
mutation replaces whole (copy-on-write; appends reuse the free capacity past
the rows a snapshot can see). A search reads one snapshot from start to end,
so searches running in other threads during ``add``, ``remove`` or ``train``
see the index before or after that call, never half of it; mutations are
serialised by a lock. A mutation that raises leaves the index exactly as it
was.
"""

from __future__ import annotations

import numbers
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .._kernels import norm_unchecked as _norm
from .._validation import ShapeError, as_float_array, check_choice, check_int, check_k, describe
from .._xp import is_array_api
from . import _xp_search as _xps
from ._kernel import topk_blocked
from ._query import (
    FilterLike,
    allowed_rows,
    as_queries,
    cast_finite,
    finish_scores,
    pad_result,
    result_width,
    unit_rows,
)
from .results import MatchExplanation, SearchResult, UnknownIdError
from .storage import load_index, register_kind, save_index

__all__ = ["METRICS", "Index", "exact_search"]

METRICS = ("cosine", "dot", "l2")
DTYPES = ("float32", "float64")

#: Ids an index refuses: -1 marks a missing match in results, 2**63 - 1 is the padding sentinel.
RESERVED_IDS = (-1, int(np.iinfo(np.int64).max))


def _check_metric(metric: Any) -> str:
    return check_choice(metric, "metric", METRICS)


# kept for code that imported these private helpers from here (they live in _query now)
_check_k = check_k
_unit_rows = unit_rows
_allowed_rows = allowed_rows
_as_queries = as_queries


def _scores_out(best_i: np.ndarray, best_s: np.ndarray, metric: str,
                q_sq: np.ndarray | None) -> np.ndarray:
    """Internal scores to public ones, without the cosine clip (the former helper)."""
    return best_s if metric != "l2" else finish_scores(best_i, best_s, metric, q_sq)


class _State:
    """One immutable version of an index's contents (rows ``[:n]`` of the buffers).

    ``buf``, ``ids`` and ``sq`` may have spare capacity past ``n``: an append
    writes there and publishes a new state with a larger ``n``, which no older
    state can see. Anything else (upsert, remove, re-sorting) builds new
    buffers. ``check`` verifies memory-mapped blocks on first read;
    ``extra`` holds what an index kind adds (IVF: centroids and list offsets).
    """

    __slots__ = ("buf", "ids", "sq", "n", "mapped", "path", "check", "extra", "_lookup")

    def __init__(self, buf, ids, sq, n, *, mapped=False, path=None, check=None, extra=None):
        self.buf, self.ids, self.sq, self.n = buf, ids, sq, int(n)
        self.mapped, self.path, self.check = mapped, path, check
        self.extra = dict(extra or {})
        self._lookup = None

    def lookup(self) -> tuple[np.ndarray, np.ndarray]:
        """Sorted ids and the storage row of each (built once per state)."""
        got = self._lookup
        if got is None:
            ids = self.ids[: self.n]
            order = np.argsort(ids, kind="stable")
            got = self._lookup = (ids[order], order)
        return got

    def verify(self, r0: int = 0, r1: int | None = None) -> None:
        if self.check is not None:
            self.check.rows(r0, self.n if r1 is None else r1)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = self.n
        return self.buf[:n], self.ids[:n], self.sq[:n]


@register_kind("flat", files=("vectors", "ids", "sq_norms"))
class Index:
    r"""An exact nearest-neighbour index over vectors with int64 ids.

    Parameters
    ----------
    dim : int
        Dimension ``d`` of every vector.
    metric : {"cosine", "dot", "l2"}, default="cosine"
        ``cosine`` stores unit vectors and ranks by :math:`\hat q \cdot \hat x`;
        ``dot`` ranks by :math:`q \cdot x`; ``l2`` ranks by the Euclidean
        distance :math:`\lVert q - x \rVert`, computed as
        :math:`\sqrt{\lVert q\rVert^2 - 2 q\cdot x + \lVert x\rVert^2}` with the
        squared norms of the collection precomputed.
    dtype : {"float32", "float64"}, default="float32"
        Storage and compute precision. float32 halves memory and doubles GEMM
        speed; vectors given as float64 are stored as float32 unless you ask
        for ``dtype="float64"``.

    Notes
    -----
    Search is exact: a BLAS matrix product over blocks of the collection plus a
    thresholded top-k (see :func:`exact_search`). Ties are broken by smaller id.
    Vectors are stored contiguously in insertion order; ``remove`` compacts
    them. An index loaded with ``mmap=True`` searches the file in place and is
    copied into memory only when it is modified; each 4 MiB block of the file
    is checked against its checksum the first time it is read. The blocks are
    split over dotwise's worker threads (``DOTWISE_NUM_THREADS``), BLAS on one
    thread meanwhile; up to 8 queries are scored by a compiled loop that
    streams the collection once (see ``dotwise.search._kernel``).

    Thread safety: searches (and ``get``, ``explain``, ``save``) may run in
    any number of threads while one thread adds or removes; each sees the
    index before or after a mutation, never in between (see the module
    docstring). A failed ``add`` or ``remove`` changes nothing.

    Ids are int64, except the two reserved values -1 (a missing match in
    results) and 2**63 - 1.

    Vectors on a device: an empty index given array-API vectors (a CuPy array,
    a PyTorch tensor on the CPU or a GPU) keeps them on that device, in that
    library, and searches there; queries must then come from the same library
    and device, and results are device arrays. The ids stay on the host
    (``ids`` is NumPy) with a copy on the device; ``save`` copies the vectors to
    the host to write them. See :mod:`dotwise.search._xp_search`.

    Examples
    --------
    >>> index = Index(3, metric="cosine")
    >>> index.add([[1, 0, 0], [0, 1, 0], [1, 1, 0]], ids=[10, 20, 30])
    >>> len(index), 30 in index
    (3, True)
    >>> r = index.search([1, 0.1, 0], k=2)
    >>> r.ids.tolist(), [round(float(s), 3) for s in r.scores]
    ([10, 30], [0.995, 0.774])
    >>> index.search([[1, 0, 0], [0, 1, 0]], k=1).ids.tolist()
    [[10], [20]]
    """

    kind = "flat"

    def __init__(self, dim: int, metric: str = "cosine", dtype: str = "float32"):
        self.dim = check_int(dim, "dim", minimum=1)
        self.metric = _check_metric(metric)
        self.dtype = np.dtype(check_choice(str(np.dtype(dtype)) if _is_dtype(dtype) else dtype,
                                           "dtype", DTYPES))
        self._write_lock = threading.RLock()
        self._state = _State(np.empty((0, self.dim), dtype=self.dtype),
                             np.empty(0, dtype=np.int64), np.empty(0, dtype=self.dtype), 0)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_write_lock", None)
        st = state.pop("_state")
        buf, ids, sq = (np.array(a) for a in st.arrays())
        state["_saved_rows"] = (buf, ids, sq, dict(st.extra))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        buf, ids, sq, extra = state.pop("_saved_rows")
        self.__dict__.update(state)
        self._write_lock = threading.RLock()
        self._state = _State(buf, ids, sq, ids.shape[0], extra=extra)

    # ------------------------------------------------------------------ state
    @property
    def vectors(self) -> np.ndarray:
        """The stored vectors, shape (n, dim), in storage order. Read-only view.

        For ``cosine`` these are the unit vectors actually indexed.
        """
        st = self._state
        if _xps.backend(self) is not None:  # kept on the device (a device array, not a copy)
            return st.buf[: st.n, ...]
        st.verify()
        v = st.buf[: st.n].view()
        v.flags.writeable = False
        return v

    @property
    def ids(self) -> np.ndarray:
        """The ids, shape (n,), in storage order. Read-only view."""
        st = self._state
        st.verify()
        v = st.ids[: st.n].view()
        v.flags.writeable = False
        return v

    @property
    def is_mmap(self) -> bool:
        """Whether the vectors are memory-mapped from a saved index."""
        return self._state.mapped

    # read-only views of the current snapshot, for code written against the old attributes
    _buf = property(lambda self: self._state.buf)
    _ids_buf = property(lambda self: self._state.ids)
    _sq_buf = property(lambda self: self._state.sq)
    _n = property(lambda self: self._state.n)
    _path = property(lambda self: self._state.path)

    def __len__(self) -> int:
        return self._state.n

    def __contains__(self, id_: Any) -> bool:
        if isinstance(id_, (bool, np.bool_)):
            return False
        if isinstance(id_, numbers.Integral):
            key = int(id_)
        elif isinstance(id_, numbers.Real) and float(id_).is_integer():
            key = int(id_)
        else:
            return False
        if not -(2**63) <= key < 2**63:
            return False
        rows = self._rows_of(np.array([key], dtype=np.int64), missing_ok=True)
        return bool(rows[0] >= 0)

    def __repr__(self) -> str:
        st = self._state
        where = f", mmap={str(st.path)!r}" if st.mapped else ""
        return (f"{type(self).__name__}(dim={self.dim}, metric={self.metric!r}, "
                f"dtype={self.dtype.name!r}, n={st.n}{where})")

    # ---------------------------------------------------------------- ids
    def _rows_of(self, ids: np.ndarray, *, missing_ok: bool = False, what: str = "ids",
                 state: _State | None = None) -> np.ndarray:
        """Storage rows of ``ids`` (``-1`` for missing when ``missing_ok``)."""
        st = self._state if state is None else state
        sorted_ids, order = st.lookup()
        pos = np.searchsorted(sorted_ids, ids)
        pos_c = np.minimum(pos, max(sorted_ids.size - 1, 0))
        found = (pos < sorted_ids.size) & (sorted_ids[pos_c] == ids) if sorted_ids.size else \
            np.zeros(ids.shape, dtype=bool)
        rows = np.where(found, order[pos_c] if sorted_ids.size else -1, -1)
        if not missing_ok and not found.all():
            missing = ids[~found]
            shown = ", ".join(str(int(i)) for i in missing[:5])
            more = f" (and {missing.size - 5} more)" if missing.size > 5 else ""
            raise UnknownIdError(
                f"{what} not in the index: {shown}{more}; the index holds {st.n} vectors"
                + (f" with ids from {int(sorted_ids[0])} to {int(sorted_ids[-1])}"
                   if sorted_ids.size else "")
            )
        return rows

    @staticmethod
    def _as_ids(ids: Any, name: str = "ids") -> np.ndarray:
        arr = np.asarray(ids)
        if arr.ndim == 0:
            arr = arr.reshape(1)
        if arr.size == 0:
            return np.empty(0, dtype=np.int64)
        if arr.dtype.kind not in "iu" or arr.ndim != 1:
            raise TypeError(f"{name} must be a 1-D sequence of integers, got {describe(ids)}")
        if arr.dtype.kind == "u" and arr.size and arr.max() > np.iinfo(np.int64).max:
            raise ValueError(f"{name} must fit in int64, got a value above 2**63 - 1")
        return arr.astype(np.int64, copy=False)

    @classmethod
    def _new_ids(cls, ids: Any) -> np.ndarray:
        """Ids for new vectors: int64, without the two reserved values."""
        arr = cls._as_ids(ids)
        for bad in RESERVED_IDS:
            if np.any(arr == bad):
                what = ("-1 marks a missing match in search results"
                        if bad == -1 else "2**63 - 1 is reserved for padding")
                raise ValueError(f"ids must not contain {bad}: {what}; choose another id")
        return arr

    # -------------------------------------------------------------- mutation
    def _prepare(self, vectors: Any, name: str = "vectors") -> np.ndarray:
        if is_array_api(vectors) or _xps.backend(self) is not None:  # vectors on a device
            return _xps.prepare(self, vectors, name)
        X = as_float_array(vectors, name, ndim=(1, 2))
        if X.ndim == 1:
            X = X[None, :]
        if X.shape[1] != self.dim:
            raise ShapeError(
                f"{name} must have {self.dim} columns (the index's dim), got shape {X.shape}"
            )
        X = cast_finite(X, self.dtype, name, cosine=self.metric == "cosine")
        if self.metric == "cosine":
            X = unit_rows(X, name)
        elif self.metric == "l2":
            with np.errstate(over="ignore"):
                sq = np.einsum("ij,ij->i", X, X)
            if not np.all(np.isfinite(sq)):
                row = int(np.flatnonzero(~np.isfinite(sq))[0])
                raise ValueError(f"{name} row {row} has a squared norm too large for "
                                 f"{self.dtype} (it overflows to inf); rescale the vectors "
                                 f"or use dtype='float64'")
        return X

    def _validate_add(self, st: _State, vectors: Any, ids: Any, upsert: bool
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Check an ``add`` completely: vectors, ids and present rows (-1: new)."""
        X = self._prepare(vectors)
        n_new = X.shape[0]
        if ids is None:
            start = int(st.ids[: st.n].max()) + 1 if st.n else 0
            if start < 0:
                start = 0
            if start + n_new - 1 >= RESERVED_IDS[1]:
                raise ValueError(f"no room for {n_new} consecutive ids after the largest id "
                                 f"{start - 1}; pass ids explicitly")
            return X, np.arange(start, start + n_new, dtype=np.int64), np.full(n_new, -1)
        new_ids = self._new_ids(ids)
        if new_ids.shape[0] != n_new:
            raise ShapeError(f"ids must have one id per vector: got {new_ids.shape[0]} ids "
                             f"for {n_new} vectors")
        uniq, counts = np.unique(new_ids, return_counts=True)
        if uniq.size != n_new:
            raise ValueError(f"ids contains duplicates, e.g. {int(uniq[counts > 1][0])}; "
                             f"each vector needs its own id")
        rows = (self._rows_of(new_ids, missing_ok=True, state=st) if st.n
                else np.full(n_new, -1))
        present = rows >= 0
        if present.any() and not upsert:
            dup = new_ids[present]
            raise ValueError(
                f"ids already in the index: {', '.join(str(int(i)) for i in dup[:5])}"
                f"{' …' if dup.size > 5 else ''}; pass upsert=True to replace them, "
                f"or remove them first"
            )
        return X, new_ids, rows

    def add(self, vectors: Any, ids: Any = None, *, upsert: bool = False) -> None:
        """Add vectors (and their ids) to the index.

        Parameters
        ----------
        vectors : array_like of shape (n, dim) or (dim,)
            Must be finite, and stay finite in the index's dtype; for
            ``cosine`` no vector may be zero.
        ids : array_like of int of shape (n,), optional
            int64 ids (not -1, not 2**63 - 1). Default: consecutive ids after
            the largest id present (``0, 1, 2, …`` for a new index).
        upsert : bool, default=False
            Replace the vectors of ids already present instead of raising.

        Raises
        ------
        ShapeError
            If the vectors do not have ``dim`` columns, or ``ids`` has another length.
        ValueError
            On NaN/Inf (also after the cast to float32), a zero vector with
            cosine, a reserved id or a duplicate id (without ``upsert``).
            Nothing is changed when it raises.
        """
        with self._write_lock:
            st = self._state
            X, new_ids, rows = self._validate_add(st, vectors, ids, upsert)
            if X.shape[0]:
                self._state = self._added(st, X, new_ids, rows)

    def _added(self, st: _State, X: np.ndarray, new_ids: np.ndarray, rows: np.ndarray
               ) -> _State:
        """The state after adding ``X`` (``rows``: storage row of ids already present)."""
        if is_array_api(X):  # device vectors stay on their device
            buf, ids, sq, n, extra = _xps.added(self, st, X, new_ids, rows)
            return _State(buf, ids, sq, n, extra=extra)
        present = rows >= 0
        n, n_new = st.n, int((~present).sum())
        need = n + n_new
        if present.any() or st.mapped or need > st.buf.shape[0]:
            # new buffers: an older snapshot never sees a row change under it
            cap = need if (n == 0 or st.mapped) else max(need, int(st.buf.shape[0] * 1.5))
            if present.any() and not st.mapped:
                cap = max(cap, st.buf.shape[0])
            st.verify()
            buf = np.empty((cap, self.dim), dtype=self.dtype)
            ids = np.empty(cap, dtype=np.int64)
            sq = np.empty(cap, dtype=self.dtype)
            buf[:n], ids[:n], sq[:n] = st.arrays()
        else:
            buf, ids, sq = st.buf, st.ids, st.sq  # rows past n are invisible to st
        if present.any():
            buf[rows[present]] = X[present]
            sq[rows[present]] = np.einsum("ij,ij->i", X[present], X[present])
        Xn = X[~present]
        buf[n:need] = Xn
        ids[n:need] = new_ids[~present]
        sq[n:need] = np.einsum("ij,ij->i", Xn, Xn)
        return _State(buf, ids, sq, need, extra=st.extra)

    def remove(self, ids: Any) -> None:
        """Remove vectors by id.

        The remaining vectors are compacted, keeping their order
        (memory-mapped storage is copied into memory).

        Parameters
        ----------
        ids : int or array_like of int of shape (n,)
            Ids to remove; an empty list changes nothing.

        Raises
        ------
        UnknownIdError
            (a ``KeyError``) if an id is not in the index; the message names
            it, and nothing is removed.
        TypeError
            If ``ids`` are not integers.

        Examples
        --------
        >>> index = Index(2, metric="dot")
        >>> index.add([[1, 0], [0, 1], [1, 1]], ids=[4, 5, 6])
        >>> index.remove([5])
        >>> index.ids.tolist(), 5 in index
        ([4, 6], False)
        """
        with self._write_lock:
            st = self._state
            ids_arr = self._as_ids(ids)
            if ids_arr.size == 0:
                return
            rows = self._rows_of(ids_arr, what="ids to remove", state=st)
            keep = np.ones(st.n, dtype=bool)
            keep[rows] = False
            self._state = self._removed(st, keep)

    def _removed(self, st: _State, keep: np.ndarray) -> _State:
        if _xps.backend(self) is not None:
            buf, ids, sq, n, extra = _xps.removed(self, st, keep)
            return _State(buf, ids, sq, n, extra=extra)
        st.verify()
        buf, ids, sq = st.arrays()
        return _State(np.ascontiguousarray(buf[keep]), ids[keep].copy(), sq[keep].copy(),
                      int(keep.sum()), extra=st.extra)

    def get(self, ids: Any) -> np.ndarray:
        """Stored vectors of ``ids``: shape (dim,) for one id, (n, dim) for several.

        For ``cosine`` these are the unit vectors actually indexed. An index on a
        device returns a device array.
        """
        if _xps.backend(self) is not None:
            return _xps.get(self, ids)
        st = self._state
        scalar = np.ndim(ids) == 0
        rows = self._rows_of(self._as_ids(ids), state=st)
        if st.check is not None:
            st.check.rows_at(rows)
        out = np.array(st.buf[rows])
        return out[0] if scalar else out

    # ------------------------------------------------------------------ search
    def _allowed(self, filter: FilterLike, st: _State | None = None) -> np.ndarray | None:
        st = self._state if st is None else st
        return allowed_rows(filter, st.ids[: st.n])

    def search(self, queries: Any, k: int = 10, filter: FilterLike = None) -> SearchResult:
        r"""The ``k`` best matches of each query.

        Parameters
        ----------
        queries : array_like of shape (dim,) or (n_queries, dim)
        k : int, default=10
            Matches per query. With fewer than ``k`` vectors (after filtering),
            the missing slots hold id ``-1`` and score ``-inf`` (``+inf`` for l2).
            A ``k`` beyond the collection size only adds such padding, so one
            whose padding would exceed 1 GiB is refused (``ValueError`` saying
            how much it would need).
        filter : callable, set of ids or array of ids, optional
            Which ids may be returned: a predicate called with an int64 array
            of ids that returns a boolean mask (or, if that fails, called on
            each id), or a collection of allowed ids.

        Returns
        -------
        SearchResult
            ``ids`` and ``scores`` of shape (k,) for a 1-D query, (n_queries, k)
            for a batch. Scores: similarities for cosine/dot (descending),
            Euclidean distances for l2 (ascending). Ties: smaller id first.
            A stored vector whose score is not finite (a NaN row of a
            memory-mapped file, an overflow) is never returned and never hides
            a finite match.
        """
        return self._run_search(queries, k, filter)

    def _check_searchable(self, st: _State) -> None:
        """Raise if this index cannot be searched yet (IVF: not trained)."""

    def _run_search(self, queries: Any, k: int, filter: FilterLike,
                    progress: Callable[[int], None] | None = None, **options: Any
                    ) -> SearchResult:
        """The one search pipeline; index kinds differ only in :meth:`_candidates`."""
        if is_array_api(queries) or _xps.backend(self) is not None:  # search on the device
            return _xps.search(self, queries, k, filter)
        st = self._state
        self._check_searchable(st)
        k = check_k(k)
        Q, single = as_queries(queries, self.dim, self.dtype, cosine=self.metric == "cosine")
        allowed = self._allowed(filter, st)
        q_sq = None
        if self.metric == "cosine":
            Q = unit_rows(Q, "queries")
        elif self.metric == "l2":
            q_sq = np.einsum("ij,ij->i", Q, Q)
        width = result_width(k, st.n, Q.shape[0], self.dtype.itemsize)
        ids, s = self._candidates(st, Q, width, allowed, progress=progress, **options)
        scores = finish_scores(ids, s, self.metric, q_sq)
        ids, scores = pad_result(ids, scores, k, np.inf if self.metric == "l2" else -np.inf)
        if single:
            ids, scores = ids[0], scores[0]
        return SearchResult(ids, scores, self.metric)

    def _candidates(self, st: _State, Q: np.ndarray, k: int, allowed: np.ndarray | None,
                    progress: Callable[[int], None] | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` ids and internal scores (higher is better) of prepared queries."""
        st.verify()
        offset = -0.5 * st.sq[: st.n] if self.metric == "l2" else None
        return topk_blocked(st.buf, Q, k, ids=st.ids, col_offset=offset, allowed=allowed,
                            stop=st.n, progress=progress)

    def _search(self, Q: np.ndarray, single: bool, k: int, allowed: Any,
                progress: Callable[[int], None] | None = None) -> SearchResult:
        """Search prepared queries (kept for callers of the former private API)."""
        return self._run_search(Q[0] if single else Q, k, None, progress=progress)

    def explain(self, query: Any, id: int) -> MatchExplanation:
        r"""Per-dimension contributions to the score between ``query`` and vector ``id``.

        For ``dot``: :math:`q_i x_i`; for ``cosine``: :math:`\hat q_i \hat x_i`
        (both sum to the score); for ``l2``: :math:`(q_i - x_i)^2` (summing to
        the squared distance). Largest first.

        Examples
        --------
        >>> index = Index(3, metric="dot")
        >>> index.add([[1.0, 2.0, 3.0]], ids=[7])
        >>> e = index.explain([3.0, 1.0, 0.0], 7)
        >>> e.dims.tolist(), e.contributions.tolist(), e.score
        ([0, 1, 2], [3.0, 2.0, 0.0], 5.0)
        """
        if _xps.backend(self) is not None:
            return _xps.explain(self, query, id)
        Q, single = as_queries(query, self.dim, self.dtype, "query",
                               cosine=self.metric == "cosine")
        if not single:
            raise ShapeError(f"query must be one vector of shape ({self.dim},), got shape "
                             f"{Q.shape}")
        if isinstance(id, (bool, np.bool_)) or not isinstance(id, numbers.Integral):
            raise TypeError(f"id must be an integer id, got {describe(id)}")
        x = self.get(int(id)).astype(np.float64)
        q = Q[0].astype(np.float64)
        if self.metric == "cosine":
            q = unit_rows(q[None, :], "query")[0]
        contrib = (q - x) ** 2 if self.metric == "l2" else q * x
        order = np.argsort(-contrib, kind="stable")
        return MatchExplanation(order.astype(np.int64), contrib[order], float(contrib.sum()),
                                self.metric)

    # ------------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike) -> Path:
        """Write the index to directory ``path`` atomically (see :mod:`.storage`).

        A memory-mapped index has every block verified first, so a damaged
        file is never re-saved under fresh checksums.
        """
        return save_index(self, path, self._state)

    def _arrays_to_save(self, st: _State | None = None) -> dict[str, np.ndarray]:
        st = self._state if st is None else st
        if _xps.backend(self) is not None:  # writing a file needs a host copy (documented)
            return _xps.host_arrays(st)
        st.verify()
        buf, ids, sq = st.arrays()
        return {"vectors": buf, "ids": ids, "sq_norms": sq}

    def _params_to_save(self) -> dict[str, Any]:
        return {}

    @classmethod
    def _from_saved(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray], path: Path,
                    check: Any = None):
        index = cls(int(meta["dim"]), metric=meta["metric"], dtype=meta["dtype"])
        index._restore(meta, arrays, path, check)
        return index

    def _restore(self, meta: dict[str, Any], arrays: dict[str, np.ndarray], path: Path,
                 check: Any = None, extra: dict[str, Any] | None = None) -> None:
        vectors, ids, sq = arrays["vectors"], arrays["ids"], arrays["sq_norms"]
        n = int(meta["count"])
        if vectors.shape != (n, self.dim) or ids.shape != (n,) or sq.shape != (n,):
            raise ValueError(f"expected {n} vectors of dim {self.dim}, found vectors "
                             f"{vectors.shape}, ids {ids.shape}, sq_norms {sq.shape}")
        if vectors.dtype != self.dtype or ids.dtype != np.int64 or sq.dtype != self.dtype:
            raise ValueError(f"expected {self.dtype} vectors and norms and int64 ids, found "
                             f"{vectors.dtype}, {sq.dtype} and {ids.dtype}")
        mapped = not vectors.flags.writeable
        self._state = _State(vectors, ids, sq, n, mapped=mapped, path=Path(path), check=check,
                             extra=extra)

    @classmethod
    def load(cls, path: str | os.PathLike, mmap: bool = True, verify: str = "auto"):
        """Load an index saved by :meth:`save` (no pickle).

        Parameters
        ----------
        path : path to the index directory
        mmap : bool, default=True
            Memory-map the vectors instead of reading them: loading is
            instant and search streams from the file.
        verify : {"auto", "full", "fast"}, default="auto"
            ``full`` checks the SHA-256 of every file at load; ``fast`` checks
            sizes, headers, the metadata checksum, the small files and the
            first and last MiB of the large ones at load, then each 4 MiB
            block of the large files the first time it is read: the first
            search over a memory-mapped index hashes what it reads (SHA-256,
            about 1.5 GB/s per core; for 512 MiB of vectors 1.2–1.9 s instead
            of 0.19 s, measured on a busy 2-core machine), later searches pay
            nothing. ``auto`` is ``fast`` with ``mmap`` and ``full`` without.

        Raises
        ------
        DataFormatError
            If the directory is not a dotwise index, was written by a newer
            format version, its metadata was edited, or a file is truncated
            or corrupted (for a block checked lazily: raised by the search
            that first reads it).
        """
        index = load_index(path, mmap=mmap, verify=verify)
        if not isinstance(index, cls):
            raise TypeError(f"{path} holds an index of type {type(index).__name__}, not "
                            f"{cls.__name__}; load it with dotwise.search.load")
        return index


def _is_dtype(x: Any) -> bool:
    try:
        np.dtype(x)
    except TypeError:
        return False
    return True


def exact_search(collection: Any, queries: Any, k: int = 10, metric: str = "cosine", *,
                 filter: FilterLike = None, ids: Any = None) -> SearchResult:
    r"""Exact k-nearest-neighbour search of ``queries`` in ``collection`` (ground truth).

    Ids are row numbers of ``collection``. The computation is blocked: for
    every block of B collection rows, one GEMM :math:`Q X_b^\top` then a
    thresholded top-k, so memory stays O(m·k + tile) and a ``np.memmap``
    collection is streamed, not loaded. Cosine divides the scores by the row
    norms instead of copying a normalised collection.

    Parameters
    ----------
    collection : array_like of shape (n, d), or a Dask array, zarr array or zarr path
        float32 stays float32; anything else is computed in float64. A
        ``np.memmap`` is streamed and not scanned for NaN first: a row whose
        score is not finite is skipped (never returned, never hiding a
        finite match).
    queries : array_like of shape (d,) or (m, d)
    k : int, default=10
        Matches per query; with fewer than ``k`` rows (after filtering) the
        missing slots hold id ``-1`` and score ``-inf`` (``+inf`` for l2).
    metric : {"cosine", "dot", "l2"}, default="cosine"
    filter : optional
        As in :meth:`Index.search`, over row numbers (over ``ids`` when given).
    ids : array_like of int of shape (n,), optional
        The id of each row (default: the row number). A Dask array, zarr array
        or zarr store as ``collection`` is searched chunk by chunk where it lives
        (see :func:`dotwise.scale.search.exact_search`), with the same answers.
        A CuPy array or PyTorch tensor (any array-API array) is searched in its
        own namespace, on its device, with the top-k on the device
        (``torch.topk`` for torch, a stable sort elsewhere: see
        :mod:`dotwise.search._xp_search`); the result holds device arrays.

    Returns
    -------
    SearchResult
        Same conventions as :meth:`Index.search`: ``ids`` and ``scores`` of
        shape (k,) for one query, (m, k) for a batch; similarities descending
        (cosine, dot) or Euclidean distances ascending (l2); ties by smaller row.

    Raises
    ------
    ShapeError
        If ``collection`` is not 2-D or the queries do not have ``d`` columns.
    ValueError
        On NaN/Inf in an in-memory collection or in the queries, a zero row
        with cosine, an unknown metric, ``k < 1``, or a ``k`` whose padding
        past the collection would need more than 1 GiB.
    TypeError
        If ``k`` is not an integer or ``filter`` is neither a predicate nor ids.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    >>> exact_search(X, [1.0, 0.0], k=2, metric="l2").ids.tolist()
    [0, 2]
    >>> exact_search(X, [[0.0, 2.0]], k=3, metric="dot").ids.tolist()
    [[1, 2, 0]]
    """
    from ..scale import search as _scale  # imports no Dask until a sharded input needs it

    if is_array_api(collection) or is_array_api(queries):  # CuPy, torch...: on their device
        if ids is not None:
            raise TypeError("ids= is not supported with array-API collections; the result ids "
                            "are row numbers (map them with your own id array on the device)")
        return _xps.exact_search(collection, queries, k, _check_metric(metric), filter=filter)
    if ids is not None or _scale.is_sharded(collection):
        return _scale.exact_search(collection, queries, k=k, metric=metric, filter=filter, ids=ids)
    metric = _check_metric(metric)
    k = check_k(k)
    # a memory-mapped collection is streamed: it is not scanned for NaN up front
    streamed = isinstance(collection, np.memmap)
    X = as_float_array(collection, "collection", ndim=2, check_finite=not streamed)
    dtype = X.dtype
    Q, single = as_queries(queries, X.shape[1], dtype)
    scale = offset = q_sq = None
    if metric == "cosine":
        Q = unit_rows(Q, "queries")
        norms = _blocked_norms(X)
        if np.any(norms == 0):
            bad = int(np.flatnonzero(norms == 0)[0])
            raise ValueError(f"collection has a zero vector at row {bad}; cosine similarity is "
                             f"undefined for zero vectors — drop zero rows or use metric='dot'")
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = (1.0 / norms).astype(dtype)
    elif metric == "l2":
        q_sq = np.einsum("ij,ij->i", Q, Q)
        with np.errstate(over="ignore", invalid="ignore"):
            offset = (-0.5 * _blocked_norms(X) ** 2).astype(dtype)
    allowed = allowed_rows(filter, np.arange(X.shape[0], dtype=np.int64))
    width = result_width(k, X.shape[0], Q.shape[0], dtype.itemsize)
    ids, s = topk_blocked(X, Q, width, col_scale=scale, col_offset=offset, allowed=allowed)
    scores = finish_scores(ids, s, metric, q_sq)
    ids, scores = pad_result(ids, scores, k, np.inf if metric == "l2" else -np.inf)
    if single:
        ids, scores = ids[0], scores[0]
    return SearchResult(ids, scores, metric)


def _blocked_norms(X: np.ndarray, block: int = 65536) -> np.ndarray:
    out = np.empty(X.shape[0], dtype=X.dtype)
    for s in range(0, X.shape[0], block):
        out[s:s + block] = _norm(np.asarray(X[s:s + block]))
    return out
