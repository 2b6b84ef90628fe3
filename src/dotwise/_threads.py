"""One BLAS thread while dotwise's own threads are the parallelism (private).

The engines that split work over a thread pool (image stripes, blocked attention, search
blocks, the ALS factorisation's many tiny products) pin BLAS to one thread meanwhile: two
layers of threads on the same cores only wait on each other.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

_controller: Any = None


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
