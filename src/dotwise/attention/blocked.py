r"""Memory-efficient attention in NumPy: blocks of queries × blocks of keys, online softmax.

This is the reference implementation of the algorithm and the fallback that
:func:`~dotwise.attention.scaled_dot_product_attention` runs when the compiled
kernel (``dotwise._dwattn``, see :mod:`dotwise._attn`) was not built or
``DOTWISE_PURE_NUMPY=1`` is set; the kernel's tests compare it with this module.

The dense formula needs the whole ``(L, S)`` score matrix. This path never
builds it: queries are taken ``Q_BLOCK`` rows at a time, keys ``block_size``
columns at a time, and the softmax is accumulated as it goes (the "online"
softmax of Milakov & Gimelshein, the core of FlashAttention). For one query row,
after each key block ``B`` with scores :math:`s_j`:

.. math::

    m' = \max(m, \max_{j \in B} s_j), \qquad
    \alpha = e^{m - m'}, \qquad
    \ell' = \alpha \ell + \sum_{j \in B} e^{s_j - m'}, \qquad
    a' = \alpha a + \sum_{j \in B} e^{s_j - m'} v_j

and the output is :math:`a / \ell` once every block has been seen (zero when
:math:`\ell = 0`, i.e. every key was masked). Each step is exact algebra, so the
result equals the dense path up to float rounding.

Extra memory per worker thread is one ``(Q_BLOCK, block_size)`` score buffer
plus ``O(Q_BLOCK · Ev)`` accumulators — independent of ``L · S``. Causal
attention skips the key blocks that lie wholly above the diagonal.

Work items (one batch slice × one chunk of query rows) are shared among a small
thread pool: NumPy releases the GIL inside matmul and inside ufuncs over large
arrays, and while the pool runs, BLAS is limited to one thread per worker so the
two levels of parallelism do not fight over the cores.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._threads import one_blas_thread

__all__ = ["DEFAULT_BLOCK", "Q_BLOCK", "blocked_attention", "default_threads"]

#: Query rows per block (the score buffer is ``Q_BLOCK × block_size``).
Q_BLOCK = 256
#: Keys per block when ``block_size`` is not given (measured best on 2 cores, E = 64).
DEFAULT_BLOCK = 1024
#: Query rows handed to a worker at a time.
_ROWS_PER_ITEM = Q_BLOCK
#: Below this many scores in total (batch · L · S) one thread does all the work: the
#: pool's hand-off would cost more than it saves.
MIN_SCORES_FOR_THREADS = 1 << 20

_pool_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_size = 0


def default_threads() -> int:
    """Worker threads: ``OMP_NUM_THREADS`` if set, else the CPUs this process may use."""
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _get_pool(n: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size != n:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="dotwise-attn")
            _pool_size = n
        return _pool


class _Buffers(threading.local):
    """Per-thread scratch: the score block and a boolean block, reused across items."""

    def get(self, rows: int, cols: int, ev: int, dtype: np.dtype):
        key = (rows, cols, ev, dtype)
        if getattr(self, "key", None) != key:
            self.key = key
            self.scores = np.empty((rows, cols), dtype)
            self.flags = np.empty((rows, cols), bool)
            self.pv = np.empty((rows, ev), dtype)
        return self.scores, self.flags, self.pv


_buffers = _Buffers()


def _rows(q, k, v, mask, causal, scale, block, out, r0, r1):
    """Attention for query rows ``r0:r1`` of one 2-D slice, written into ``out[r0:r1]``."""
    with np.errstate(over="ignore", invalid="ignore"):  # overflow: NaN rows, reported above
        _rows_impl(q, k, v, mask, causal, scale, block, out, r0, r1)


def _rows_impl(q, k, v, mask, causal, scale, block, out, r0, r1):
    S, ev, dt = k.shape[0], v.shape[1], q.dtype
    sbuf, fbuf, pbuf = _buffers.get(Q_BLOCK, block, ev, dt)
    kT = k.T
    neg_inf = dt.type(-np.inf)
    for i0 in range(r0, r1, Q_BLOCK):
        i1 = min(r1, i0 + Q_BLOCK)
        nb = i1 - i0
        qb = q[i0:i1] * dt.type(scale)
        run_max = np.full(nb, -np.inf, dt)
        run_sum = np.zeros(nb, dt)
        acc = np.zeros((nb, ev), dt)
        k_end = min(S, i1) if causal else S  # row i sees keys j <= i (top-left aligned)
        for j0 in range(0, k_end, block):
            j1 = min(k_end, j0 + block)
            s = sbuf[:nb, : j1 - j0]
            np.matmul(qb, kT[:, j0:j1], out=s)
            if mask is not None:
                mb = mask[i0:i1, j0:j1]
                if mb.dtype == bool:
                    f = fbuf[:nb, : j1 - j0]
                    np.logical_not(mb, out=f)
                    np.copyto(s, neg_inf, where=f)
                else:
                    s += mb
            if causal and j1 - 1 > i0:  # this block crosses the diagonal
                f = fbuf[:nb, : j1 - j0]
                np.greater(np.arange(j0, j1)[None, :], np.arange(i0, i1)[:, None], out=f)
                np.copyto(s, neg_inf, where=f)
            new_max = s.max(axis=1)
            np.maximum(new_max, run_max, out=new_max)
            # Shift by 0 where a row has seen only -inf so far: exp then gives 0, not NaN.
            shift = np.where(np.isneginf(new_max), dt.type(0), new_max)
            alpha = np.exp(run_max - shift)
            s -= shift[:, None]
            np.exp(s, out=s)
            run_sum *= alpha
            run_sum += s.sum(axis=1)
            acc *= alpha[:, None]
            acc += np.matmul(s, v[j0:j1], out=pbuf[:nb])
            run_max = new_max
        seen = run_sum > 0
        np.divide(acc, run_sum[:, None], out=acc, where=seen[:, None])
        acc[~seen] = 0
        acc[np.isnan(run_sum)] = np.nan  # overflowed scores (inf − inf): reported by the caller
        out[i0:i1] = acc


def blocked_attention(q, k, v, mask, causal, scale, block, batch_shape, out, n_threads):
    """Fill ``out`` (``batch_shape + (L, Ev)``) with attention computed block by block.

    ``q``, ``k``, ``v`` and ``mask`` are trusted arrays already broadcast (as
    views) to ``batch_shape + (…)``; ``mask`` is ``None``, boolean or of the
    compute dtype.
    """
    L = q.shape[-2]
    items = [(idx, r0, min(L, r0 + _ROWS_PER_ITEM))
             for idx in np.ndindex(*batch_shape) for r0 in range(0, L, _ROWS_PER_ITEM)]

    def work(item):
        idx, r0, r1 = item
        m = None if mask is None else mask[idx]
        _rows(q[idx], k[idx], v[idx], m, causal, scale, block, out[idx], r0, r1)

    n_threads = min(n_threads, len(items))
    if int(np.prod(batch_shape, dtype=np.int64)) * L * k.shape[-2] < MIN_SCORES_FOR_THREADS:
        n_threads = 1
    if causal:  # later rows see more keys: start the expensive items first
        items.sort(key=lambda it: -it[2])
    # The blocks are small for BLAS: its own threads cost more (spin-waiting, and
    # much more on a loaded machine) than they give. One per worker, always.
    with one_blas_thread():
        if n_threads <= 1:
            for item in items:
                work(item)
        else:
            for _ in _get_pool(n_threads).map(work, items):
                pass
    return out
