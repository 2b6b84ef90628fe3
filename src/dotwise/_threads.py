"""dotwise's own threads: the shared worker pool, and one BLAS thread meanwhile (private).

The engines that split work over a thread pool (image stripes, blocked attention, search
blocks, the ALS factorisation's many tiny products) pin BLAS to one thread meanwhile: two
layers of threads on the same cores only wait on each other.

Part of the internal contract (see :mod:`dotwise._kernels`): any dotwise package may
use :func:`worker_pool`, :func:`worker_threads` and :func:`one_blas_thread`.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import Any

_controller: Any = None
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def worker_threads() -> int:
    """Worker threads for dotwise's pools: ``DOTWISE_NUM_THREADS`` or the CPU count (max 8)."""
    env = os.environ.get("DOTWISE_NUM_THREADS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(8, os.cpu_count() or 1))


def worker_pool() -> ThreadPoolExecutor:
    """The process-wide pool of :func:`worker_threads` threads, made on first use.

    Callers submit short, independent jobs (image stripes, codec channels) and wait for
    them; a job must not itself wait on the pool (that could deadlock a full pool).
    """
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=worker_threads(),
                                       thread_name_prefix="dotwise-worker")
        return _pool


def one_blas_thread() -> AbstractContextManager:
    """A context in which BLAS runs on one thread.

    The threadpoolctl controller is built once: building it inspects every loaded shared
    library, which costs milliseconds per call.
    """
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")
