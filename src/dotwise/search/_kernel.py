r"""The engine under every search: blocked matrix products and a thresholded top-k.

For queries :math:`Q` (m × d) and a collection :math:`X` (n × d) the scores
are :math:`S = Q X^\top` (optionally scaled or shifted per column), but ``S``
is never formed whole. The collection is walked in blocks of rows; for each
block one GEMM gives an (m_b × B) score tile that stays small (a few MiB);
each query keeps its running top-k and the k-th best score as a threshold.
Only tile entries at or above a query's threshold are looked at again, so
after the first block almost the whole tile is rejected by a single
vectorised comparison. Ties are broken by id (smaller first), so results are
deterministic whatever the block size. A score that is not finite (NaN from a
NaN row of a memory-mapped file, inf from an overflow) is never a candidate,
so it can neither displace nor hide a finite one. Everything here trusts its input:
the public classes validate first.

Two engines give the same answers. The compiled one (``dotwise._dwtopk``, see
:mod:`._native`) splits the rows over dotwise's worker threads; each thread merges
its rows' scores into its own per-query heaps, and the threads' heaps are merged at
the end. How a thread gets the scores depends on the search: for up to
:data:`FUSED_QUERIES` queries the compiled loop computes them while streaming the
rows (a matrix-vector product is memory-bound); for more float32 queries on an
x86-64 CPU with AVX2+FMA, a register-blocked product computes 24 × 4 blocks of
scores and compares them with the queries' thresholds without ever storing them
(:func:`._native.fused_gemm`); otherwise each block is one BLAS GEMM (BLAS on one
thread) into a score tile that the heaps read right after. :func:`topk_blocked_numpy` is the NumPy engine, the
reference the tests compare with and the fallback without a compiler or with
``DOTWISE_PURE_NUMPY=1``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from .._native import all_finite
from .._threads import one_blas_thread, worker_pool, worker_threads
from . import _native

_PAD_ID = np.iinfo(np.int64).max  # sorts after every real id during merging

# Size of one score tile in bytes; GEMM tiles of this size run near peak speed
# while the tile still fits in the last-level cache.
TILE_BYTES = 4 << 20


def block_sizes(n_queries: int, n_rows: int, dim: int, itemsize: int) -> tuple[int, int]:
    """Query-block and collection-block sizes for a search of this shape."""
    if n_queries <= 8:
        # a GEMV: memory-bound, long blocks amortise the per-block overhead
        rows = max(4096, (8 << 20) // max(dim * itemsize, 1))
        return n_queries, min(n_rows, rows)
    q_block = min(n_queries, 1024)
    rows = TILE_BYTES // (q_block * itemsize)
    rows = int(min(max(rows, 256), 16384))
    return q_block, min(n_rows, rows)


def topk_blocked(
    X: np.ndarray,
    Q: np.ndarray,
    k: int,
    *,
    ids: np.ndarray | None = None,
    col_scale: np.ndarray | None = None,
    col_offset: np.ndarray | None = None,
    allowed: np.ndarray | None = None,
    start: int = 0,
    stop: int | None = None,
    progress: Callable[[int], None] | None = None,
    threads: int | None = None,
    pin_blas: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Top-k rows of ``X`` for each query by the score ``(Q Xᵀ) * scale + offset``.

    The compiled engine (when built) splits the rows over dotwise's worker
    threads: each thread merges its rows' scores into its own heaps (from the
    fused float32 product, the one-pass scan of a few queries, or GEMM tiles
    with BLAS on one thread; see the module notes); the threads' heaps are
    merged at the end. Without it,
    :func:`topk_blocked_numpy` (the reference) runs. Arguments and results
    are those of :func:`topk_blocked_numpy`; ``threads`` caps the worker
    threads (default: all of :func:`~dotwise._threads.worker_threads`).
    ``pin_blas=False`` lets a search that stays on one thread keep BLAS's own
    threads (and skip the ~20 µs the pin costs: IVF's small coarse step); by
    default BLAS runs on one thread, so the scores never depend on its thread count.
    """
    stop = X.shape[0] if stop is None else stop
    if (_native.supports(Q.dtype) and X.dtype == Q.dtype and stop > start
            and (ids is None or ids.dtype == np.int64)):
        return _topk_native(X, Q, k, ids, col_scale, col_offset, allowed, start, stop,
                            progress, threads, pin_blas)
    return topk_blocked_numpy(X, Q, k, ids=ids, col_scale=col_scale, col_offset=col_offset,
                              allowed=allowed, start=start, stop=stop, progress=progress)


#: Up to this many queries, a search scores rows in the compiled loop instead of a GEMM.
FUSED_QUERIES = 8

#: Largest dimension the fused float32 product handles (beyond it a query panel outgrows
#: the level-2 cache and BLAS's own blocking wins).
FUSED_GEMM_DIM = 1024

#: Multiply-adds below which a search stays on the calling thread (a thread hop costs ~50 µs).
MIN_THREAD_WORK = 1 << 22


def search_threads(work: float, limit: int | None = None) -> int:
    """Worker threads for a search of ``work`` multiply-adds (1 inside a worker thread)."""
    if threading.current_thread().name.startswith("dotwise-worker"):
        return 1  # a job on the pool must not wait on the pool
    t = worker_threads() if limit is None else max(1, min(limit, worker_threads()))
    return max(1, min(t, int(work // MIN_THREAD_WORK)))


def run_split(jobs: list[Callable[[], _native.Heaps]]) -> _native.Heaps:
    """Run ``jobs`` (the first on this thread, the rest on the pool) and merge their heaps."""
    futures = [worker_pool().submit(job) for job in jobs[1:]]
    try:
        heaps = jobs[0]()
    finally:
        rest = [f.result() for f in futures]
    for other in rest:
        heaps.absorb(other)
    return heaps


def _contiguous(a: np.ndarray | None, dtype=None) -> np.ndarray | None:
    return None if a is None else np.ascontiguousarray(a, dtype=dtype)


def _topk_native(X, Q, k, ids, col_scale, col_offset, allowed, start, stop, progress,
                 threads, pin_blas=True):
    m, d = Q.shape
    n = stop - start
    dtype = Q.dtype
    ids = _contiguous(ids, np.int64)
    col_scale = _contiguous(col_scale, dtype)
    col_offset = _contiguous(col_offset, dtype)
    allowed = _contiguous(allowed, bool)
    q_block, r_block = block_sizes(m, n, d, dtype.itemsize)
    n_blocks = -(-n // r_block)
    # every thread holds (m, k) heaps: keep their total modest
    heap_cap = max(1, int((256 << 20) // max(m * k * (8 + dtype.itemsize), 1)))
    n_threads = min(search_threads(float(m) * n * d, threads), heap_cap, n_blocks)
    lock = threading.Lock()
    q_starts = list(range(0, m, q_block))
    q_rows = [None if q0 == 0 else np.arange(q0, min(q0 + q_block, m), dtype=np.int64)
              for q0 in q_starts]

    def tell(width: int) -> None:
        if progress is not None:
            with lock:
                progress(width)

    # a few queries make a memory-bound matrix-vector product: the compiled loop scores them
    # while it streams the rows (one pass, no score tile); many float32 queries go through
    # the fused product (no tile either) where the CPU has it, else GEMM blocks
    fused = m <= FUSED_QUERIES and X.flags.c_contiguous and Q.flags.c_contiguous
    packed = None
    if (not fused and dtype == np.float32 and X.flags.c_contiguous and 0 < d <= FUSED_GEMM_DIM
            and _native.fused_gemm()):
        packed = _native.pack_queries(Q)
        # blocks of about 2 MiB of rows: each block is read once per group of query panels,
        # from the last-level cache
        r_block = min(n, max(64, (2 << 20) // (d * dtype.itemsize)))
        n_blocks = -(-n // r_block)
        n_threads = min(search_threads(float(m) * n * d, threads), heap_cap, n_blocks)
    everyone = np.arange(m, dtype=np.int64)
    one_group = np.array([0, m], dtype=np.int64)
    first_list = np.zeros(1, dtype=np.int64)

    def job(lo: int, hi: int) -> Callable[[], _native.Heaps]:
        def scan() -> _native.Heaps:
            heaps = _native.Heaps(m, k, dtype)
            # one call for the whole range unless someone follows the progress (the loop
            # works in steps of 256 rows anyway; each call costs microseconds)
            step = r_block if progress is not None else max(hi - lo, 1)
            for r0 in range(lo, hi, step):
                r1 = min(r0 + step, hi)
                heaps.scan(Q, X, np.array([r0, r1], dtype=np.int64), first_list, one_group,
                           everyone, ids=ids, scale=col_scale, offset=col_offset,
                           allowed=allowed)
                tell(r1 - r0)
            return heaps

        def product() -> _native.Heaps:
            heaps = _native.Heaps(m, k, dtype)
            for r0 in range(lo, hi, r_block):
                r1 = min(r0 + r_block, hi)
                if allowed is None or allowed[r0:r1].any():
                    if not heaps.gemm(packed, X, r0, r1, ids=ids, scale=col_scale,
                                      offset=col_offset, allowed=allowed):
                        raise RuntimeError("the fused search product refused its input "
                                           "(dotwise._dwtopk is stale: rebuild it)")
                tell(r1 - r0)
            return heaps

        def run() -> _native.Heaps:
            heaps = _native.Heaps(m, k, dtype)
            tile = np.empty((q_block, min(r_block, hi - lo)), dtype=dtype)
            with np.errstate(over="ignore", invalid="ignore"):
                for r0 in range(lo, hi, r_block):
                    r1 = min(r0 + r_block, hi)
                    ok = None if allowed is None else allowed[r0:r1]
                    if ok is not None and not ok.any():
                        tell(r1 - r0)
                        continue
                    Xb = X[r0:r1]
                    for q0, rows in zip(q_starts, q_rows, strict=True):
                        q1 = min(q0 + q_block, m)
                        S = tile[: q1 - q0, : r1 - r0]
                        np.matmul(Q[q0:q1], Xb.T, out=S)
                        heaps.push(S, base=r0, ids=None if ids is None else ids[r0:r1],
                                   scale=None if col_scale is None else col_scale[r0:r1],
                                   offset=None if col_offset is None else col_offset[r0:r1],
                                   allowed=ok, rows=rows)
                    tell(r1 - r0)
            return heaps

        return scan if fused else product if packed is not None else run

    # split on block boundaries, so that every thread's GEMMs are full-size blocks
    cuts = [start + min(n, (n_blocks * t // n_threads) * r_block) for t in range(n_threads + 1)]
    jobs = [job(cuts[t], cuts[t + 1]) for t in range(n_threads) if cuts[t + 1] > cuts[t]]
    if fused or packed is not None or (not pin_blas and len(jobs) == 1):
        heaps = run_split(jobs)
    else:
        # BLAS on one thread: two layers of threads on the same cores only wait on each
        # other, and the scores do not depend on how many threads BLAS would have used
        with one_blas_thread():
            heaps = run_split(jobs)
    return heaps.result()


def topk_blocked_numpy(
    X: np.ndarray,
    Q: np.ndarray,
    k: int,
    *,
    ids: np.ndarray | None = None,
    col_scale: np.ndarray | None = None,
    col_offset: np.ndarray | None = None,
    allowed: np.ndarray | None = None,
    start: int = 0,
    stop: int | None = None,
    progress: Callable[[int], None] | None = None,
    _threads_pinned: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    r"""The NumPy reference of :func:`topk_blocked` (one thread, thresholded selection).

    Each block's GEMM is followed by one comparison of the tile with the
    queries' current k-th scores; only the entries at or above it are merged.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        The collection (may be a ``np.memmap``; it is only sliced, never copied whole).
    Q : ndarray of shape (m, d), same dtype as ``X``.
    k : int
        Number of results per query, ``k >= 1``.
    ids : ndarray of int64, shape (n,), optional
        Id of each row (default: the row number). Ties are broken by smaller id.
    col_scale, col_offset : ndarray of shape (n,), optional
        Per-row factor and shift applied to the scores (cosine without
        normalising ``X``; ``-½‖x‖²`` for Euclidean search).
    allowed : ndarray of bool, shape (n,), optional
        Rows that may be returned.
    start, stop : int
        Only rows ``start:stop`` are searched.
    progress : callable, optional
        Called with the number of rows finished after each block.

    Returns
    -------
    ids : ndarray of int64, shape (m, k)
        Best first; ``-1`` where fewer than ``k`` rows qualified.
    scores : ndarray of shape (m, k)
        Matching scores, ``-inf`` in padded slots.
    """
    m, d = Q.shape
    stop = X.shape[0] if stop is None else stop
    dtype = np.result_type(X.dtype, Q.dtype)
    lowest = np.finfo(dtype).min
    best_s = np.full((m, k), -np.inf, dtype=dtype)
    best_i = np.full((m, k), _PAD_ID, dtype=np.int64)
    thresh = np.full(m, lowest, dtype=dtype)
    n = stop - start
    if n <= 0:
        return _finish(best_i, best_s)
    if m <= 8 and n * d >= 1 << 20 and not _threads_pinned:
        # a few queries make a memory-bound GEMV: one BLAS thread streams the collection as
        # fast as two, without the per-call thread start-up that dominates on busy machines
        with one_blas_thread():
            return topk_blocked_numpy(X, Q, k, ids=ids, col_scale=col_scale, col_offset=col_offset,
                                allowed=allowed, start=start, stop=stop, progress=progress,
                                _threads_pinned=True)
    q_block, r_block = block_sizes(m, n, d, np.dtype(dtype).itemsize)
    tile = np.empty((q_block, r_block), dtype=dtype)
    hits = np.zeros(q_block * r_block + 8, dtype=bool)
    # an overflow (a huge stored vector) gives an inf score, skipped below: no warning
    with np.errstate(over="ignore", invalid="ignore"):
        for r0 in range(start, stop, r_block):
            r1 = min(r0 + r_block, stop)
            Xb = X[r0:r1]
            width = r1 - r0
            mask = None if allowed is None else ~allowed[r0:r1]
            if mask is not None and mask.all():
                if progress is not None:
                    progress(width)
                continue
            for q0 in range(0, m, q_block):
                q1 = min(q0 + q_block, m)
                S = tile[: q1 - q0, :width]
                np.matmul(Q[q0:q1], Xb.T, out=S)
                if col_scale is not None:
                    S *= col_scale[r0:r1]
                if col_offset is not None:
                    S += col_offset[r0:r1]
                if mask is not None:
                    S[:, mask] = -np.inf
                t = thresh[q0:q1]
                full = best_s[q0:q1, k - 1] > -np.inf
                if not full.all():
                    # some queries have fewer than k results yet: take the block's own k-th
                    if width > k:
                        # a NaN sorts last in np.partition and would pose as the k-th best:
                        # take the k-th among the finite scores only
                        P = S if all_finite(S) else np.where(np.isfinite(S), S, -np.inf)
                        kth = np.partition(P, width - k, axis=1)[:, width - k]
                        t = np.maximum(t, kth)
                        t[kth == -np.inf] = lowest
                found = _hits(S, t, hits)
                if found is None:
                    continue
                rows, cols = found
                vals = S[rows, cols]
                finite = np.isfinite(vals)  # +inf (an overflow) never displaces a finite score
                if not finite.all():
                    rows, cols, vals = rows[finite], cols[finite], vals[finite]
                    if rows.size == 0:
                        continue
                cand_ids = (ids[r0 + cols] if ids is not None else (r0 + cols).astype(np.int64))
                _merge(best_s, best_i, thresh, q0, rows, vals, cand_ids, k, lowest)
            if progress is not None:
                progress(width)
    return _finish(best_i, best_s)


def _hits(S: np.ndarray, t: np.ndarray, buf: np.ndarray):
    """Row and column of every entry with ``S[i, j] >= t[i]``, or ``None``.

    Equivalent to ``np.nonzero(S >= t[:, None])`` but about three times faster
    when hits are rare: the boolean tile is scanned eight bytes at a time.
    """
    m, w = S.shape
    size = m * w
    H = buf[:size].reshape(m, w)
    np.greater_equal(S, t[:, None], out=H)
    n_words = (size + 7) // 8
    buf[size:n_words * 8] = False
    nz = np.flatnonzero(buf[:n_words * 8].view(np.uint64))
    if nz.size == 0:
        return None
    pos = (nz[:, None] * 8 + np.arange(8)).ravel()
    pos = pos[buf[pos]]
    return np.divmod(pos, w)


def _merge(best_s: np.ndarray, best_i: np.ndarray, thresh: np.ndarray, q0: int,
           rows: np.ndarray, scores: np.ndarray, cand_ids: np.ndarray, k: int,
           lowest: float) -> None:
    """Merge candidates (row-sorted, rows relative to ``q0``) into the running top-k."""
    # the distinct query rows that got candidates (``rows`` is sorted by np.nonzero)
    first = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    urows = rows[first]
    counts = np.diff(np.r_[first, rows.size])
    g = urows + q0
    nu = urows.size
    all_rows = np.concatenate([np.repeat(np.arange(nu), k), np.repeat(np.arange(nu), counts)])
    all_s = np.concatenate([best_s[g].ravel(), scores])
    all_i = np.concatenate([best_i[g].ravel(), cand_ids])
    order = np.lexsort((all_i, -all_s, all_rows))
    # each group has its k old entries plus its candidates: keep the first k
    sizes = k + counts
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    take = (starts[:, None] + np.arange(k)[None, :]).ravel()
    sel = order[take]
    best_s[g] = all_s[sel].reshape(nu, k)
    best_i[g] = all_i[sel].reshape(nu, k)
    kth = best_s[g, k - 1]
    thresh[g] = np.where(kth > -np.inf, kth, lowest)


def _finish(best_i: np.ndarray, best_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    best_i[best_i == _PAD_ID] = -1
    return best_i, best_s


def topk_dense(S: np.ndarray, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k of each row of a small score matrix ``S`` (m, c) with ids (m, c) or (c,).

    Ties broken by smaller id; ``-inf`` scores count as missing (id ``-1``).
    """
    m, c = S.shape
    ids = np.broadcast_to(ids, S.shape)
    if c > k:
        part = np.argpartition(-S, k - 1, axis=1)[:, :k]
        kth = np.take_along_axis(S, part, 1).min(axis=1)
        # keep every entry tied with the k-th so the id tie-break is exact
        rows, cols = np.nonzero(S >= kth[:, None])
        lowest = np.finfo(S.dtype).min
        best_s = np.full((m, k), -np.inf, dtype=S.dtype)
        best_i = np.full((m, k), _PAD_ID, dtype=np.int64)
        thresh = np.full(m, lowest, dtype=S.dtype)
        if rows.size:
            _merge(best_s, best_i, thresh, 0, rows, S[rows, cols], ids[rows, cols], k, lowest)
    else:
        s = np.full((m, k), -np.inf, dtype=S.dtype)
        i = np.full((m, k), _PAD_ID, dtype=np.int64)
        s[:, :c] = S
        i[:, :c] = ids
        i[s == -np.inf] = _PAD_ID
        order = _rowwise_order(s, i)
        best_s = np.take_along_axis(s, order, 1)
        best_i = np.take_along_axis(i, order, 1)
    best_i[best_s == -np.inf] = _PAD_ID
    return _finish(best_i, best_s)


def _rowwise_order(s: np.ndarray, i: np.ndarray) -> np.ndarray:
    m, k = s.shape
    rows = np.repeat(np.arange(m), k)
    order = np.lexsort((i.ravel(), -s.ravel(), rows))
    return order.reshape(m, k) - np.arange(m)[:, None] * k
