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
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import ShapeError, as_float_array, check_choice, check_int, describe
from ..linalg.vectors import _norm
from ._kernel import topk_blocked
from .results import Explanation, SearchResult, UnknownIdError

__all__ = ["METRICS", "Index", "exact_search"]

METRICS = ("cosine", "dot", "l2")
DTYPES = ("float32", "float64")

FilterLike = Callable[[np.ndarray], Any] | Iterable[int] | np.ndarray | None


def _check_metric(metric: Any) -> str:
    return check_choice(metric, "metric", METRICS)


def _check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be a positive integer, got {describe(k)}")
    if k <= 0:
        raise ValueError(f"k must be a positive integer (the number of matches wanted), got {k}")
    return int(k)


def _unit_rows(X: np.ndarray, name: str) -> np.ndarray:
    """Rows of ``X`` scaled to unit length; a zero row is an error naming its index."""
    n = _norm(X)
    if np.any(n == 0):
        bad = int(np.flatnonzero(n == 0)[0])
        raise ValueError(
            f"{name} has a zero vector at row {bad}; cosine similarity is undefined for zero "
            f"vectors — drop zero rows, or use metric='dot' or 'l2'"
        )
    return X / n[:, None].astype(X.dtype, copy=False)


def _as_queries(queries: Any, dim: int, dtype: np.dtype, name: str = "queries"
                ) -> tuple[np.ndarray, bool]:
    Q = as_float_array(queries, name, ndim=(1, 2))
    single = Q.ndim == 1
    if single:
        Q = Q[None, :]
    if Q.shape[1] != dim:
        raise ShapeError(
            f"{name} must have {dim} columns (the index's dimension), got shape "
            f"{Q.shape if not single else Q.shape[1:]}"
        )
    return np.ascontiguousarray(Q, dtype=dtype), single


def _scores_out(best_i: np.ndarray, best_s: np.ndarray, metric: str,
                q_sq: np.ndarray | None) -> np.ndarray:
    """Turn internal scores (higher is better) into the public ones."""
    if metric != "l2":
        return best_s
    # internal score s = q·x − ½‖x‖², so ‖q − x‖² = ‖q‖² − 2 s
    with np.errstate(invalid="ignore"):
        d2 = q_sq[:, None] - 2.0 * best_s
    d = np.sqrt(np.maximum(d2, 0.0))
    d[best_i < 0] = np.inf
    return d


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
    copied into memory only when it is modified. Up to 8 queries against a
    large collection make a memory-bound matrix-vector product; those run
    BLAS on one thread (temporarily, through threadpoolctl), which streams the
    collection as fast as two threads without their per-block start-up cost.

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
        self._buf = np.empty((0, self.dim), dtype=self.dtype)
        self._ids_buf = np.empty(0, dtype=np.int64)
        self._sq_buf = np.empty(0, dtype=self.dtype)
        self._n = 0
        self._lookup: tuple[np.ndarray, np.ndarray] | None = None
        self._path: Path | None = None

    # ------------------------------------------------------------------ state
    @property
    def vectors(self) -> np.ndarray:
        """The stored vectors, shape (n, dim) — unit vectors for ``cosine``. Read-only view."""
        v = self._buf[: self._n]
        v = v.view()
        v.flags.writeable = False
        return v

    @property
    def ids(self) -> np.ndarray:
        """The ids, shape (n,), in storage order. Read-only view."""
        v = self._ids_buf[: self._n].view()
        v.flags.writeable = False
        return v

    @property
    def is_mmap(self) -> bool:
        """Whether the vectors are memory-mapped from a saved index."""
        return isinstance(self._buf, np.memmap)

    def __len__(self) -> int:
        return self._n

    def __contains__(self, id_: Any) -> bool:
        try:
            key = int(id_)
        except (TypeError, ValueError):
            return False
        rows = self._rows_of(np.array([key]), missing_ok=True)
        return bool(rows[0] >= 0)

    def __repr__(self) -> str:
        where = f", mmap={str(self._path)!r}" if self.is_mmap else ""
        return (f"{type(self).__name__}(dim={self.dim}, metric={self.metric!r}, "
                f"dtype={self.dtype.name!r}, n={self._n}{where})")

    # ---------------------------------------------------------------- ids
    def _sorted_lookup(self) -> tuple[np.ndarray, np.ndarray]:
        if self._lookup is None:
            ids = self._ids_buf[: self._n]
            order = np.argsort(ids, kind="stable")
            self._lookup = (ids[order], order)
        return self._lookup

    def _rows_of(self, ids: np.ndarray, *, missing_ok: bool = False,
                 what: str = "ids") -> np.ndarray:
        """Storage rows of ``ids`` (``-1`` for missing when ``missing_ok``)."""
        sorted_ids, order = self._sorted_lookup()
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
                f"{what} not in the index: {shown}{more}; the index holds {self._n} vectors"
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

    # -------------------------------------------------------------- mutation
    def _prepare(self, vectors: Any, name: str = "vectors") -> np.ndarray:
        X = as_float_array(vectors, name, ndim=(1, 2))
        if X.ndim == 1:
            X = X[None, :]
        if X.shape[1] != self.dim:
            raise ShapeError(
                f"{name} must have {self.dim} columns (the index's dim), got shape {X.shape}"
            )
        X = np.asarray(X, dtype=self.dtype)
        if self.metric == "cosine":
            X = _unit_rows(X, name)
        return X

    def _ensure_writable(self, extra: int) -> None:
        need = self._n + extra
        if isinstance(self._buf, np.memmap) or need > self._buf.shape[0]:
            cap = need if self._n == 0 else max(need, int(self._buf.shape[0] * 1.5))
            if isinstance(self._buf, np.memmap):
                cap = need
            buf = np.empty((cap, self.dim), dtype=self.dtype)
            buf[: self._n] = self._buf[: self._n]
            ids = np.empty(cap, dtype=np.int64)
            ids[: self._n] = self._ids_buf[: self._n]
            sq = np.empty(cap, dtype=self.dtype)
            sq[: self._n] = self._sq_buf[: self._n]
            self._buf, self._ids_buf, self._sq_buf = buf, ids, sq
            self._path = None

    def add(self, vectors: Any, ids: Any = None, *, upsert: bool = False) -> None:
        """Add vectors (and their ids) to the index.

        Parameters
        ----------
        vectors : array_like of shape (n, dim) or (dim,)
            Must be finite; for ``cosine`` no vector may be zero.
        ids : array_like of int of shape (n,), optional
            int64 ids. Default: consecutive ids after the largest id present
            (``0, 1, 2, …`` for a new index).
        upsert : bool, default=False
            Replace the vectors of ids already present instead of raising.

        Raises
        ------
        ShapeError
            If the vectors do not have ``dim`` columns, or ``ids`` has another length.
        ValueError
            On NaN/Inf, a zero vector with cosine, or a duplicate id (without ``upsert``).
        """
        X = self._prepare(vectors)
        n_new = X.shape[0]
        if ids is None:
            start = int(self._ids_buf[: self._n].max()) + 1 if self._n else 0
            new_ids = np.arange(start, start + n_new, dtype=np.int64)
        else:
            new_ids = self._as_ids(ids)
            if new_ids.shape[0] != n_new:
                raise ShapeError(f"ids must have one id per vector: got {new_ids.shape[0]} ids "
                                 f"for {n_new} vectors")
            uniq, counts = np.unique(new_ids, return_counts=True)
            if uniq.size != n_new:
                raise ValueError(f"ids contains duplicates, e.g. {int(uniq[counts > 1][0])}; "
                                 f"each vector needs its own id")
        if self._n and ids is not None:
            rows = self._rows_of(new_ids, missing_ok=True)
            present = rows >= 0
            if present.any():
                if not upsert:
                    dup = new_ids[present]
                    raise ValueError(
                        f"ids already in the index: {', '.join(str(int(i)) for i in dup[:5])}"
                        f"{' …' if dup.size > 5 else ''}; pass upsert=True to replace them, "
                        f"or remove them first"
                    )
                self._ensure_writable(0)
                self._buf[rows[present]] = X[present]
                self._sq_buf[rows[present]] = np.einsum("ij,ij->i", X[present], X[present])
                X, new_ids = X[~present], new_ids[~present]
                n_new = X.shape[0]
        if n_new == 0:
            return
        self._ensure_writable(n_new)
        s, e = self._n, self._n + n_new
        self._buf[s:e] = X
        self._ids_buf[s:e] = new_ids
        self._sq_buf[s:e] = np.einsum("ij,ij->i", X, X)
        self._n = e
        self._lookup = None

    def remove(self, ids: Any) -> None:
        """Remove vectors by id; an unknown id raises ``KeyError`` naming it.

        The remaining vectors are compacted (memory-mapped storage is copied
        into memory).
        """
        ids = self._as_ids(ids)
        if ids.size == 0:
            return
        rows = self._rows_of(ids, what="ids to remove")
        keep = np.ones(self._n, dtype=bool)
        keep[rows] = False
        self._buf = np.ascontiguousarray(self._buf[: self._n][keep])
        self._ids_buf = self._ids_buf[: self._n][keep].copy()
        self._sq_buf = self._sq_buf[: self._n][keep].copy()
        self._n = int(keep.sum())
        self._lookup = None
        self._path = None

    def get(self, ids: Any) -> np.ndarray:
        """Stored vectors of ``ids``: shape (dim,) for one id, (n, dim) for several.

        For ``cosine`` these are the unit vectors actually indexed.
        """
        scalar = np.ndim(ids) == 0
        rows = self._rows_of(self._as_ids(ids))
        out = np.array(self._buf[rows])
        return out[0] if scalar else out

    # ------------------------------------------------------------------ search
    def _allowed(self, filter: FilterLike) -> np.ndarray | None:
        return _allowed_rows(filter, self._ids_buf[: self._n])

    def search(self, queries: Any, k: int = 10, filter: FilterLike = None) -> SearchResult:
        r"""The ``k`` best matches of each query.

        Parameters
        ----------
        queries : array_like of shape (dim,) or (n_queries, dim)
        k : int, default=10
            Matches per query. With fewer than ``k`` vectors (after filtering),
            the missing slots hold id ``-1`` and score ``-inf`` (``+inf`` for l2).
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
        """
        k = _check_k(k)
        Q, single = _as_queries(queries, self.dim, self.dtype)
        return self._search(Q, single, k, self._allowed(filter))

    def _search(self, Q: np.ndarray, single: bool, k: int, allowed: np.ndarray | None,
                progress: Callable[[int], None] | None = None) -> SearchResult:
        q_sq = None
        offset = None
        if self.metric == "cosine":
            Q = _unit_rows(Q, "queries")
        elif self.metric == "l2":
            q_sq = np.einsum("ij,ij->i", Q, Q)
            offset = -0.5 * self._sq_buf[: self._n]
        ids, s = topk_blocked(self._buf, Q, k, ids=self._ids_buf, col_offset=offset,
                              allowed=allowed, stop=self._n, progress=progress)
        if self.metric == "cosine":
            np.clip(s, -1.0, 1.0, out=s, where=ids >= 0)
        scores = _scores_out(ids, s, self.metric, q_sq)
        if single:
            ids, scores = ids[0], scores[0]
        return SearchResult(ids, scores, self.metric)

    def explain(self, query: Any, id: int) -> Explanation:
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
        Q, single = _as_queries(query, self.dim, self.dtype, "query")
        if not single:
            raise ShapeError(f"query must be one vector of shape ({self.dim},), got shape "
                             f"{Q.shape}")
        x = self.get(int(id)).astype(np.float64)
        q = Q[0].astype(np.float64)
        if self.metric == "cosine":
            q = _unit_rows(q[None, :], "query")[0]
        contrib = (q - x) ** 2 if self.metric == "l2" else q * x
        order = np.argsort(-contrib, kind="stable")
        return Explanation(order.astype(np.int64), contrib[order], float(contrib.sum()),
                           self.metric)

    # ------------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike) -> Path:
        """Write the index to directory ``path`` atomically (see :mod:`.storage`)."""
        from .storage import save_index

        return save_index(self, path)

    def _arrays_to_save(self) -> dict[str, np.ndarray]:
        n = self._n
        return {"vectors": self._buf[:n], "ids": self._ids_buf[:n], "sq_norms": self._sq_buf[:n]}

    def _params_to_save(self) -> dict[str, Any]:
        return {}

    @classmethod
    def _from_saved(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray], path: Path):
        index = cls(int(meta["dim"]), metric=meta["metric"], dtype=meta["dtype"])
        index._restore(meta, arrays, path)
        return index

    def _restore(self, meta: dict[str, Any], arrays: dict[str, np.ndarray], path: Path) -> None:
        vectors, ids, sq = arrays["vectors"], arrays["ids"], arrays["sq_norms"]
        n = int(meta["count"])
        if vectors.shape != (n, self.dim) or ids.shape != (n,) or sq.shape != (n,):
            raise ValueError(f"expected {n} vectors of dim {self.dim}, found vectors "
                             f"{vectors.shape}, ids {ids.shape}, sq_norms {sq.shape}")
        if vectors.dtype != self.dtype or ids.dtype != np.int64:
            raise ValueError(f"expected {self.dtype} vectors and int64 ids, found "
                             f"{vectors.dtype} and {ids.dtype}")
        self._buf, self._ids_buf, self._sq_buf, self._n = vectors, ids, sq, n
        self._path = Path(path)
        self._lookup = None

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
            ``full`` checks the SHA-256 of every file; ``fast`` checks sizes,
            headers and the checksum of the small files and of the first and
            last MiB of the large ones. ``auto`` is ``fast`` with ``mmap`` and
            ``full`` without.

        Raises
        ------
        DataFormatError
            If the directory is not a dotwise index, was written by a newer
            format version, or a file is truncated or corrupted.
        """
        from .storage import load_index

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


def _allowed_rows(filter: FilterLike, ids: np.ndarray) -> np.ndarray | None:
    """Boolean mask over storage rows from a filter (predicate or allowed ids)."""
    if filter is None:
        return None
    if callable(filter):
        mask = None
        try:
            out = filter(ids)
            arr = np.asarray(out)
            if arr.dtype == bool and arr.shape == ids.shape:
                mask = arr
        except Exception:  # the predicate may only accept one id at a time
            mask = None
        if mask is None:
            try:
                mask = np.fromiter((bool(filter(int(i))) for i in ids), dtype=bool,
                                   count=ids.size)
            except Exception as exc:
                raise TypeError(
                    f"filter must accept an int64 array of ids and return a boolean mask, or "
                    f"accept one id and return True/False; calling it failed: {exc}"
                ) from None
        return mask
    if isinstance(filter, (str, bytes)):
        raise TypeError(f"filter must be a predicate or a collection of ids, got {describe(filter)}")
    allowed = np.asarray(list(filter) if isinstance(filter, (set, frozenset)) else filter)
    if allowed.size == 0:
        return np.zeros(ids.shape, dtype=bool)
    if allowed.dtype == bool:
        raise TypeError("filter must be a predicate or a collection of ids; a boolean array is "
                        "ambiguous — pass the allowed ids, e.g. index.ids[mask]")
    if allowed.dtype.kind not in "iu":
        raise TypeError(f"filter must hold integer ids, got {describe(filter)}")
    return np.isin(ids, allowed.astype(np.int64).ravel())


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
        float32 stays float32; anything else is computed in float64.
    queries : array_like of shape (d,) or (m, d)
    k : int, default=10
    metric : {"cosine", "dot", "l2"}, default="cosine"
    filter : optional
        As in :meth:`Index.search`, over row numbers (over ``ids`` when given).
    ids : array_like of int of shape (n,), optional
        The id of each row (default: the row number). A Dask array, zarr array
        or zarr store as ``collection`` is searched chunk by chunk where it lives
        (see :func:`dotwise.scale.search.exact_search`), with the same answers.

    Returns
    -------
    SearchResult
        Same conventions as :meth:`Index.search`.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    >>> exact_search(X, [1.0, 0.0], k=2, metric="l2").ids.tolist()
    [0, 2]
    >>> exact_search(X, [[0.0, 2.0]], k=3, metric="dot").ids.tolist()
    [[1, 2, 0]]
    """
    from ..scale import search as _scale  # imports no Dask until a sharded input needs it

    if ids is not None or _scale.is_sharded(collection):
        return _scale.exact_search(collection, queries, k=k, metric=metric, filter=filter, ids=ids)
    metric = _check_metric(metric)
    k = _check_k(k)
    # a memory-mapped collection is streamed: it is not scanned for NaN up front
    streamed = isinstance(collection, np.memmap)
    X = as_float_array(collection, "collection", ndim=2, check_finite=not streamed)
    dtype = X.dtype
    Q, single = _as_queries(queries, X.shape[1], dtype)
    scale = offset = q_sq = None
    if metric == "cosine":
        Q = _unit_rows(Q, "queries")
        norms = _blocked_norms(X)
        if np.any(norms == 0):
            bad = int(np.flatnonzero(norms == 0)[0])
            raise ValueError(f"collection has a zero vector at row {bad}; cosine similarity is "
                             f"undefined for zero vectors — drop zero rows or use metric='dot'")
        scale = (1.0 / norms).astype(dtype)
    elif metric == "l2":
        q_sq = np.einsum("ij,ij->i", Q, Q)
        offset = (-0.5 * _blocked_norms(X) ** 2).astype(dtype)
    allowed = _allowed_rows(filter, np.arange(X.shape[0], dtype=np.int64))
    ids, s = topk_blocked(X, Q, k, col_scale=scale, col_offset=offset, allowed=allowed)
    if metric == "cosine":
        np.clip(s, -1.0, 1.0, out=s, where=ids >= 0)
    scores = _scores_out(ids, s, metric, q_sq)
    if single:
        ids, scores = ids[0], scores[0]
    return SearchResult(ids, scores, metric)


def _blocked_norms(X: np.ndarray, block: int = 65536) -> np.ndarray:
    out = np.empty(X.shape[0], dtype=X.dtype)
    for s in range(0, X.shape[0], block):
        out[s:s + block] = _norm(np.asarray(X[s:s + block]))
    return out
