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
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
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


_pin_lock = threading.Lock()
_pin_users = 0
_pin_limit: Any = None


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """A context in which BLAS runs on one thread.

    threadpoolctl's limit is process-wide and restores what it saw on entry, so two
    overlapping pins in different threads (two searches, a search beside a k-means fit)
    could otherwise leave BLAS pinned for good: the first to enter pins, the last to
    leave restores. (A BLAS built on OpenMP keeps its count per thread: the pin reaches
    it only in the thread that entered first.) The threadpoolctl controller is built once: building it inspects
    every loaded shared library, which costs milliseconds per call.
    """
    global _controller, _pin_users, _pin_limit
    with _pin_lock:
        if _pin_users == 0:
            if _controller is None:
                from threadpoolctl import ThreadpoolController

                _controller = ThreadpoolController()
            _pin_limit = _controller.limit(limits=1, user_api="blas")
            _pin_limit.__enter__()   # threadpoolctl counts the limits in use: enter/exit
        _pin_users += 1
    try:
        yield
    finally:
        with _pin_lock:
            _pin_users -= 1
            if _pin_users == 0:
                limit, _pin_limit = _pin_limit, None
                limit.__exit__(None, None, None)
