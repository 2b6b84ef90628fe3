r"""Exact search over a sharded collection: per-chunk top-k on the workers, a tree of merges.

For queries :math:`Q` (m × d) and a collection :math:`X` (n × d) cut into row
chunks :math:`X_1, …, X_c`, the top-k of :math:`Q X^\top` is the top-k of the
union of the chunks' top-k:

.. math::

    \operatorname{top}_k(Q X^\top) = \operatorname{top}_k\Big(\bigcup_j
        \operatorname{top}_k(Q X_j^\top)\Big)

(ranked by score, ties by the smaller id), so every chunk runs the in-memory
:func:`dotwise.search.exact_search` where it lives and returns only an
``(m, k)`` pair of ids and scores; those are merged ``split_every`` at a time
up a tree. Only the final ``(m, k)`` result reaches the client — the collection
is never gathered. Because each chunk runs the very same in-memory engine,
the ids are those of the in-memory call and the scores agree to the last bits
of the dtype: BLAS sums a dot product in an order that depends on the shape
of the block it is given, so a score can differ by an ulp or so from the one
computed in a block of another shape (the in-memory call itself gives such
differences between collections of different sizes). Chunks whose sizes are
multiples of the in-memory engine's block (16 384 rows for 9 to 64 float32
queries) reproduce its blocks, and then the scores are identical too.

Inputs: a Dask array chunked by rows, a zarr array, a zarr store path, or a
*sharded index* (a zarr group written by :func:`shard_index` from a saved
:class:`~dotwise.search.Index`). Work runs on the ``distributed.Client`` given,
else on the current default client, else on Dask's local scheduler.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import ShapeError, as_float_array, check_choice, check_int, check_k, describe
from . import zarr_io

__all__ = ["ShardedIndex", "exact_search", "is_sharded", "shard_index"]

METRICS = ("cosine", "dot", "l2")
_PAD = np.iinfo(np.int64).max


# ----------------------------------------------------------------- detection (no dask import)
def _is_dask_array(x: Any) -> bool:
    return type(x).__module__.startswith("dask.array") and hasattr(x, "chunks")


def _is_zarr_object(x: Any) -> bool:
    return type(x).__module__.startswith("zarr")


def is_sharded(x: Any) -> bool:
    """Whether ``x`` is a collection for the scale-out path (Dask array, zarr, zarr path).

    Cheap: imports neither Dask nor zarr.

    Examples
    --------
    >>> is_sharded(np.zeros((2, 2))), is_sharded("vectors.zarr")
    (False, True)
    """
    return _is_dask_array(x) or _is_zarr_object(x) or zarr_io.is_zarr_path(x)


# ----------------------------------------------------------------- checks
def _check_filter(filter: Any) -> Any:
    """A predicate is kept; a collection of ids becomes a sorted int64 array."""
    if filter is None or callable(filter):
        return filter
    if isinstance(filter, (str, bytes)):
        raise TypeError(f"filter must be a predicate or a collection of ids, got {describe(filter)}")
    arr = np.asarray(list(filter) if isinstance(filter, (set, frozenset)) else filter)
    if arr.size and arr.dtype == bool:
        raise TypeError("filter must be a predicate or a collection of ids; a boolean array is "
                        "ambiguous — pass the allowed ids, e.g. ids[mask]")
    if arr.size and arr.dtype.kind not in "iu":
        raise TypeError(f"filter must hold integer ids, got {describe(filter)}")
    return np.unique(arr.astype(np.int64).ravel())


def _compute_dtype(dtype: np.dtype) -> np.dtype:
    # the in-memory rule: float32 stays float32, anything else is computed in float64
    return np.dtype(np.float32) if dtype == np.float32 else np.dtype(np.float64)


def _prepare_queries(queries: Any, dim: int, dtype: np.dtype) -> tuple[np.ndarray, bool]:
    if _is_dask_array(queries):
        queries = queries.compute()  # queries are small: one (m, d) block
    Q = as_float_array(queries, "queries", ndim=(1, 2))
    single = Q.ndim == 1
    if single:
        Q = Q[None, :]
    if Q.shape[1] != dim:
        raise ShapeError(f"queries must have {dim} columns (the collection's dimension), got "
                         f"shape {Q.shape if not single else Q.shape[1:]}")
    return np.ascontiguousarray(Q, dtype=dtype), single


def _unit_queries(Q: np.ndarray) -> np.ndarray:
    from ..linalg import normalize
    from ..linalg.vectors import norm

    n = norm(Q)
    if np.any(n == 0):
        bad = int(np.flatnonzero(n == 0)[0])
        raise ValueError(f"queries has a zero vector at row {bad}; cosine similarity is "
                         f"undefined for zero vectors — drop zero rows, or use metric='dot' or 'l2'")
    return normalize(Q)


def _as_collection(X: Any, name: str = "collection"):
    """A 2-D Dask array chunked by whole rows, from a Dask array or a zarr array."""
    da = zarr_io.require("dask.array")  # with an install hint when absent

    if _is_zarr_object(X):
        if X.ndim != 2:
            raise ShapeError(f"{name} must be a 2-D zarr array (one vector per row), got shape "
                             f"{X.shape}")
        X = da.from_zarr(X, chunks=(X.chunks[0], X.shape[1]))
    if X.ndim != 2:
        raise ShapeError(f"{name} must be 2-D (n_vectors, dim), got a Dask array of shape "
                         f"{X.shape}")
    if X.dtype.kind not in "fiu":
        raise TypeError(f"{name} must hold numbers, got a Dask array of dtype {X.dtype}")
    if any(np.isnan(c) for c in X.chunks[0]):
        raise ValueError(f"{name} has unknown chunk sizes (after a filter or a dataframe "
                         f"conversion); call collection.compute_chunk_sizes() first")
    if len(X.chunks[1]) > 1:
        raise ValueError(
            f"{name} is chunked along its columns (column chunks {X.chunks[1]}); exact search "
            f"needs whole vectors in every chunk: rechunk with collection.rechunk({{1: -1}}) "
            f"(for zarr on disk, write it with chunks=(rows, {X.shape[1]}))")
    return X


def _as_ids(ids: Any, X) -> Any:
    """ids as a Dask array chunked like the rows of ``X`` (or ``None``: row numbers)."""
    da = zarr_io.require("dask.array")  # with an install hint when absent

    if ids is None:
        return None
    if _is_zarr_object(ids):
        ids = da.from_zarr(ids)
    elif not _is_dask_array(ids):
        arr = np.asarray(ids)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"ids must be integers, got {describe(ids)}")
        ids = da.from_array(arr.astype(np.int64, copy=False), chunks=(X.chunks[0],))
    if ids.ndim != 1 or ids.shape[0] != X.shape[0]:
        raise ShapeError(f"ids must be 1-D with one id per vector ({X.shape[0]}), got shape "
                         f"{ids.shape}")
    if ids.dtype.kind not in "iu":
        raise TypeError(f"ids must be integers, got a Dask array of dtype {ids.dtype}")
    return ids.astype(np.int64).rechunk((X.chunks[0],))


# ----------------------------------------------------------------- the work on the workers
class _IdFilter:
    """The user's predicate over ids, seen by the in-memory search as one over rows."""

    def __init__(self, predicate: Callable, row_ids: np.ndarray):
        self.predicate, self.row_ids = predicate, row_ids

    def __call__(self, rows):
        if np.ndim(rows) == 0:
            return self.predicate(int(self.row_ids[int(rows)]))
        return self.predicate(self.row_ids[rows])


def chunk_topk(X: np.ndarray, Q: np.ndarray, k: int, metric: str, start: int,
               ids: np.ndarray | None = None, filter: Any = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Top-k of one chunk by the in-memory engine, with global ids (runs on a worker).

    ``ids`` (the chunk's ids, default ``start + row``) that are not increasing
    are sorted first, together with their rows, so that the engine's tie-break
    by row is the tie-break by id.
    """
    from ..search import exact_search as in_memory

    X = np.asarray(X)
    n = X.shape[0]
    if ids is None:
        row_ids = np.arange(start, start + n, dtype=np.int64)
    else:
        row_ids = np.asarray(ids, dtype=np.int64)
        if n > 1 and not np.all(row_ids[1:] > row_ids[:-1]):
            order = np.argsort(row_ids, kind="stable")
            X, row_ids = X[order], row_ids[order]
    rows_filter = None
    if callable(filter):
        rows_filter = _IdFilter(filter, row_ids)
    elif filter is not None:
        rows_filter = np.flatnonzero(np.isin(row_ids, filter))
    try:
        found = in_memory(X, Q, k=k, metric=metric, filter=rows_filter)
    except ValueError as exc:
        if "zero vector at row" in str(exc):
            bad = int(row_ids[np.flatnonzero(~np.any(X != 0, axis=1))[0]])
            raise ValueError(f"collection has a zero vector with id {bad}; cosine similarity "
                             f"is undefined for zero vectors — drop zero rows or use "
                             f"metric='dot'") from None
        raise
    local = found.ids
    out = np.where(local >= 0, row_ids[np.maximum(local, 0)], -1)
    return out, found.scores


def merge_topk(parts: list[tuple[np.ndarray, np.ndarray]], k: int, ascending: bool
               ) -> tuple[np.ndarray, np.ndarray]:
    """Merge several ``(ids, scores)`` top-k lists into one: best score first, ties by id.

    ``-1`` ids are padding and sort last. ``ascending`` for distances (l2).

    Examples
    --------
    >>> a = (np.array([[4, 1]]), np.array([[0.9, 0.5]]))
    >>> b = (np.array([[0, -1]]), np.array([[0.5, -np.inf]]))
    >>> merge_topk([a, b], 3, ascending=False)[0].tolist()
    [[4, 0, 1]]
    """
    ids = np.concatenate([p[0] for p in parts], axis=1)
    scores = np.concatenate([p[1] for p in parts], axis=1)
    key_ids = np.where(ids < 0, _PAD, ids)
    primary = scores if ascending else -scores
    order = np.lexsort((key_ids, primary), axis=-1)[:, :k]
    return np.take_along_axis(ids, order, 1), np.take_along_axis(scores, order, 1)


# ----------------------------------------------------------------- scheduling
def _default_client(client: Any) -> Any:
    """The client to use: the one given, else the one Dask's configuration points at."""
    if client is not None:
        return client
    from dask.base import get_scheduler

    scheduler = get_scheduler()  # honours dask.config.set(scheduler=...) and default clients
    owner = getattr(scheduler, "__self__", None)
    return owner if type(owner).__name__ == "Client" else None


def _run(final, tasks: list, rows: list[int], client: Any,
         progress: Callable[[int], None] | None):
    """Compute ``final``; report the rows of each chunk task as it finishes."""
    dask = zarr_io.require("dask")

    client = _default_client(client)
    if client is None:
        if progress is None:
            return dask.compute(final)[0]
        from dask.callbacks import Callback

        by_key = {t.key: r for t, r in zip(tasks, rows, strict=True)}

        def posttask(key, result, dsk, state, worker_id):
            if key in by_key:
                progress(by_key[key])

        with Callback(posttask=posttask):
            return dask.compute(final)[0]
    if progress is None:
        return client.compute(final).result()
    from distributed import as_completed

    futures = client.compute([final, *tasks])
    by_key = {f.key: r for f, r in zip(futures[1:], rows, strict=True)}
    for f in as_completed(futures[1:]):
        progress(by_key[f.key])
    out = futures[0].result()
    del futures
    return out


def _search(X, ids, Q: np.ndarray, single: bool, k: int, metric: str, out_metric: str,
            clip: bool, filter: Any, client: Any, progress: Callable[[int], None] | None,
            split_every: int):
    """Build the graph (chunk tasks, tree of merges), compute it, shape the result."""
    dask = zarr_io.require("dask")

    from ..search import SearchResult

    ascending = metric == "l2"
    m = Q.shape[0]
    if X.shape[0] == 0:
        fill = np.inf if ascending else -np.inf
        ids_out, scores = np.full((m, k), -1, np.int64), np.full((m, k), fill, Q.dtype)
    else:
        blocks = X.to_delayed().ravel()
        id_blocks = ids.to_delayed().ravel() if ids is not None else [None] * len(blocks)
        starts = np.concatenate([[0], np.cumsum(X.chunks[0])[:-1]]).astype(int).tolist()
        # fresh keys per call: repeated identical searches must not share (and release)
        # each other's data or results on the scheduler
        call = uuid.uuid4().hex
        Qd = dask.delayed(Q, name=f"dotwise-queries-{call}")
        fd = dask.delayed(filter, name=f"dotwise-filter-{call}") if filter is not None else None
        topk = dask.delayed(chunk_topk, pure=False)
        tasks = [topk(b, Qd, k, metric, s, ib, fd)
                 for b, s, ib in zip(blocks, starts, id_blocks, strict=True)]
        merge = dask.delayed(merge_topk, pure=False)
        level = tasks
        while len(level) > 1:
            level = [merge(level[i:i + split_every], k, ascending)
                     for i in range(0, len(level), split_every)]
        final = level[0] if len(tasks) > 1 else merge([tasks[0]], k, ascending)
        ids_out, scores = _run(final, tasks, list(X.chunks[0]), client, progress)
    if clip:
        np.clip(scores, -1.0, 1.0, out=scores, where=ids_out >= 0)
    if single:
        ids_out, scores = ids_out[0], scores[0]
    return SearchResult(ids_out, scores, out_metric)


def exact_search(collection: Any, queries: Any, k: int = 10, metric: str = "cosine", *,
                 filter: Any = None, ids: Any = None, client: Any = None,
                 progress: Callable[[int], None] | None = None, split_every: int = 8):
    r"""Exact k-nearest-neighbour search over a sharded collection (Dask array or zarr).

    The same answers as :func:`dotwise.search.exact_search` on the gathered
    collection — each row chunk runs that very function on the worker that
    holds it, and the ``(m, k)`` chunk results are merged by a tree
    (``split_every`` at a time): best score first, ties broken by the smaller
    id. Ids are identical; scores agree to float rounding (see the module
    notes). ``dotwise.exact_search`` calls this for a Dask or zarr collection.

    Parameters
    ----------
    collection : dask.array.Array, zarr array, zarr group or path of shape (n, d)
        Chunked along rows only (any number of row chunks; each chunk must fit
        in a worker's memory). A sharded index written by :func:`shard_index`
        brings its own ids and metric. float32 stays float32; anything else is
        computed in float64, as in memory.
    queries : array_like of shape (d,) or (m, d)
        Sent once to every worker.
    k : int, default=10
        Matches per query; with fewer than ``k`` vectors the missing slots hold
        id ``-1`` and score ``-inf`` (``+inf`` for l2), as in memory.
    metric : {"cosine", "dot", "l2"}, default="cosine"
    filter : callable or collection of ids, optional
        Which ids may be returned (as in :meth:`Index.search
        <dotwise.search.Index.search>`); a predicate is sent to the workers.
    ids : dask.array.Array or array_like of int of shape (n,), optional
        The id of each row (unique). Default: the row number.
    client : distributed.Client, optional
        Where to run; default: the current default client, else Dask's local
        scheduler.
    progress : callable, optional
        Called with the number of rows of each chunk as it finishes.
    split_every : int, default=8
        Fan-in of the merge tree.

    Returns
    -------
    SearchResult
        ``ids`` and ``scores`` as NumPy arrays of shape (k,) for one query,
        (m, k) for a batch.

    Raises
    ------
    ShapeError
        Wrong dimensions of ``queries`` or ``ids``.
    ValueError
        A collection chunked along columns (the message says how to rechunk),
        ``k < 1``, a zero vector with cosine, a metric other than a sharded
        index's own.

    Examples
    --------
    >>> import dask.array as da
    >>> X = da.from_array(np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]]), chunks=(2, 2))
    >>> exact_search(X, [1.0, 0.0], k=2, metric="l2").ids.tolist()
    [0, 2]
    >>> exact_search(X, [[0.0, 2.0]], k=3, metric="dot", ids=[10, 20, 30]).ids.tolist()
    [[20, 30, 10]]
    """
    metric = check_choice(metric, "metric", METRICS)
    k = check_k(k)
    split_every = check_int(split_every, "split_every", minimum=2)
    filter = _check_filter(filter)
    if zarr_io.is_zarr_path(collection):
        collection = zarr_io.open_zarr(collection)
    if _is_zarr_object(collection) and not hasattr(collection, "dtype"):
        shards = ShardedIndex._from_group(collection)
        if metric != shards.metric:
            raise ValueError(f"the sharded index holds {shards.metric!r} vectors; pass "
                             f"metric={shards.metric!r} (or use ShardedIndex.search)")
        if ids is not None:
            raise ValueError("a sharded index brings its own ids; do not pass ids=")
        return shards.search(queries, k=k, filter=filter, client=client, progress=progress,
                             split_every=split_every)
    if not (is_sharded(collection)):
        # a NumPy collection with explicit ids: one chunk, in this process
        X = as_float_array(collection, "collection", ndim=2)
        Q, single = _prepare_queries(queries, X.shape[1], X.dtype)
        id_arr = None
        if ids is not None:
            id_arr = np.asarray(ids)
            if id_arr.dtype.kind not in "iu" or id_arr.shape != (X.shape[0],):
                raise ShapeError(f"ids must be 1-D integers, one per vector ({X.shape[0]}), "
                                 f"got {describe(ids)}")
        from ..search import SearchResult

        out, s = chunk_topk(X, Q, k, metric, 0, id_arr, filter)
        return SearchResult(out[0], s[0], metric) if single else SearchResult(out, s, metric)
    X = _as_collection(collection)
    Q, single = _prepare_queries(queries, X.shape[1], _compute_dtype(X.dtype))
    return _search(X, _as_ids(ids, X), Q, single, k, metric, metric, False, filter, client,
                   progress, split_every)


# ----------------------------------------------------------------- sharded indexes
class ShardedIndex:
    """A saved :class:`~dotwise.search.Index` cut into row shards of a zarr store.

    Searched like the in-memory index (``search(queries, k)``) with the same
    answers as :meth:`Index.search <dotwise.search.Index.search>`: the shards
    hold the index's own stored vectors (unit vectors for cosine), so the ids
    are identical and the scores agree to float rounding (see the module
    notes; l2 recomputes the squared norms per shard). Open one with
    :meth:`open`, make one with :func:`shard_index`.

    Attributes
    ----------
    vectors : dask.array.Array of shape (n, dim)
    ids : dask.array.Array of int64, shape (n,)
    metric : str
    dim : int
    path : Path or None
    """

    def __init__(self, vectors, ids, metric: str, path: Path | None = None):
        self.vectors, self.ids, self.metric, self.path = vectors, ids, metric, path
        self.dim = int(vectors.shape[1])

    @classmethod
    def open(cls, path: str | os.PathLike) -> ShardedIndex:
        """Open a sharded index store (nothing is read but its metadata)."""
        return cls._from_group(zarr_io.open_zarr(path), Path(path))

    @classmethod
    def _from_group(cls, group: Any, path: Path | None = None) -> ShardedIndex:
        da = zarr_io.require("dask.array")  # with an install hint when absent

        from .._validation import DataFormatError

        meta = zarr_io.read_sharded_meta(group)
        where = path or getattr(group, "store", "the zarr group")
        if hasattr(group, "dtype"):
            raise ValueError(f"{where} is a zarr array of vectors, not a sharded index: search "
                             f"it with dotwise.exact_search, or build an index from it with "
                             f"`dotwise index build {where} -o INDEX.zarr --shards N`")
        if meta is None or "vectors" not in group or "ids" not in group:
            zarr_io.check_store_kind(group, f"the zarr group at {where}")
        V, ids_z = group["vectors"], group["ids"]
        n, d = int(meta["count"]), int(meta["dim"])
        if V.shape != (n, d) or ids_z.shape != (n,):
            raise DataFormatError(f"sharded index at {where}: expected vectors ({n}, {d}) and "
                                  f"ids ({n},), found {V.shape} and {ids_z.shape}")
        vectors = da.from_zarr(V, chunks=(V.chunks[0], d))
        ids = da.from_zarr(ids_z, chunks=(V.chunks[0],))
        return cls(vectors, ids, meta["metric"], path)

    def __len__(self) -> int:
        return int(self.vectors.shape[0])

    @property
    def n_shards(self) -> int:
        """Number of row shards (zarr chunks, one task each)."""
        return len(self.vectors.chunks[0])

    def __repr__(self) -> str:
        return (f"ShardedIndex(dim={self.dim}, metric={self.metric!r}, "
                f"dtype={self.vectors.dtype.name!r}, n={len(self)}, shards={self.n_shards})")

    def search(self, queries: Any, k: int = 10, filter: Any = None, *, client: Any = None,
               progress: Callable[[int], None] | None = None, split_every: int = 8):
        """The ``k`` best matches of each query, as :meth:`Index.search
        <dotwise.search.Index.search>` would return them.

        Parameters and result as in :func:`exact_search` (``filter`` over ids).
        """
        k = check_k(k)
        split_every = check_int(split_every, "split_every", minimum=2)
        filter = _check_filter(filter)
        Q, single = _prepare_queries(queries, self.dim, self.vectors.dtype)
        chunk_metric = self.metric
        if self.metric == "cosine":
            # the shards hold unit vectors: the index's own score is a plain dot product
            Q, chunk_metric = _unit_queries(Q), "dot"
        return _search(self.vectors, self.ids, Q, single, k, chunk_metric, self.metric,
                       self.metric == "cosine", filter, client, progress, split_every)


def shard_index(source: Any, path: str | os.PathLike, n_shards: int, *,
                metric: str = "cosine", dtype: str = "float32", ids: Any = None,
                block_rows: int = 65536, progress: Callable[[int], None] | None = None
                ) -> ShardedIndex:
    """Cut an index (or a matrix of vectors) into ``n_shards`` row shards of a zarr store.

    Parameters
    ----------
    source : Index, path of a saved Index, or array_like of shape (n, d)
        A saved index is memory-mapped and copied shard by shard (never loaded
        whole). A matrix (a memory-mapped ``.npy``, a zarr or Dask array) is
        read and prepared block by
        block exactly as :meth:`Index.add <dotwise.search.Index.add>` stores it
        (cast to ``dtype``; unit rows for cosine).
    path : path of the zarr store to write (atomically; replaced if present)
    n_shards : int
        Row shards, ``1 <= n_shards <= n``; a shard is one task on the cluster,
        so a few per worker core, each well under a worker's memory.
    metric, dtype, ids :
        For a matrix source only (as in :class:`~dotwise.search.Index`); ids
        default to the row numbers.
    block_rows : int, default=65536
        Rows prepared at a time.
    progress : callable, optional
        Called with the number of rows written after each shard.

    Returns
    -------
    ShardedIndex

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from dotwise.search import Index
    >>> index = Index(2, metric="dot")
    >>> index.add([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]], ids=[7, 8, 9])
    >>> shards = shard_index(index, pathlib.Path(tempfile.mkdtemp()) / "s.zarr", 2)
    >>> shards.n_shards, shards.search([1.0, 0.0], k=2).ids.tolist()
    (2, [9, 7])
    """
    from ..search import Index

    block_rows = check_int(block_rows, "block_rows", minimum=1)
    if isinstance(source, (str, os.PathLike)) and Path(source).is_dir():
        source = Index.load(source, mmap=True)
    if isinstance(source, Index):
        if getattr(source, "kind", "flat") != "flat":
            raise TypeError(f"shard_index needs an exact Index, got {type(source).__name__} "
                            f"(approximate indexes are not sharded)")
        index = source
        n, d = len(index), index.dim

        def blocks():
            for s in range(0, n, block_rows):
                e = min(s + block_rows, n)
                yield np.asarray(index.vectors[s:e]), np.asarray(index.ids[s:e])

        zarr_io.write_sharded_index(path, blocks, n=n, dim=d, dtype=index.dtype,
                                    metric=index.metric, n_shards=n_shards, progress=progress)
        return ShardedIndex.open(path)
    if isinstance(source, (str, os.PathLike)):
        raise FileNotFoundError(f"source: no saved index at {source} (a directory written by "
                                f"Index.save or `dotwise index build`)")
    lazy = isinstance(source, np.ndarray) or _is_zarr_object(source) or _is_dask_array(source)
    X = source if lazy else as_float_array(source, "source", ndim=2)  # sliced, never loaded
    if X.ndim != 2:
        raise ShapeError(f"source must be 2-D (n_vectors, dim), got shape {X.shape}")
    n, d = X.shape
    probe = Index(d, metric=metric, dtype=dtype)  # validates metric and dtype
    if ids is None:
        id_arr = np.arange(n, dtype=np.int64)
    else:
        id_arr = np.asarray(ids)
        if id_arr.dtype.kind not in "iu":
            raise TypeError(f"ids must be integers, got {describe(ids)}")
        id_arr = id_arr.astype(np.int64, copy=False)
        if id_arr.shape != (n,):
            raise ShapeError(f"ids must have one id per vector: got {id_arr.shape[0]} ids for "
                             f"{n} vectors")
        uniq, counts = np.unique(id_arr, return_counts=True)
        if uniq.size != n:
            raise ValueError(f"ids contains duplicates, e.g. {int(uniq[counts > 1][0])}; each "
                             f"vector needs its own id")

    def matrix_blocks():
        for s in range(0, n, block_rows):
            e = min(s + block_rows, n)
            part = Index(d, metric=metric, dtype=dtype)
            part.add(np.asarray(X[s:e]), ids=id_arr[s:e])
            yield part.vectors, part.ids

    zarr_io.write_sharded_index(path, matrix_blocks, n=n, dim=d, dtype=probe.dtype,
                                metric=probe.metric, n_shards=n_shards, progress=progress)
    return ShardedIndex.open(path)
