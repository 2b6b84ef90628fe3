"""Detecting Dask arrays without importing Dask, finding the scheduler, checking chunks.

Every public function in :mod:`dotwise.scale` goes through these helpers, so the
messages a user sees (missing extra, chunking that cannot work and how to
rechunk it) read the same everywhere.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
import time
from typing import Any

__all__ = [
    "check_row_chunks",
    "compute",
    "get_client",
    "is_dask_array",
    "require_dask",
    "show_progress",
]

_INSTALL = "install dotwise[scale] (pip install 'dotwise[scale]')"
_PROGRESS: contextvars.ContextVar[bool] = contextvars.ContextVar("dotwise_progress",
                                                                 default=False)


def is_dask_array(x: Any) -> bool:
    """Whether ``x`` is a ``dask.array.Array``, answered without importing Dask.

    A Dask array can only exist once ``dask.array`` has been imported, so when it
    is not in ``sys.modules`` the answer is ``False`` at no cost.

    Examples
    --------
    >>> import numpy as np
    >>> is_dask_array(np.ones(3))
    False
    """
    module = sys.modules.get("dask.array")
    return module is not None and isinstance(x, module.Array)


def require_dask(what: str = "this operation"):
    """Import and return ``dask.array``, or raise ``ImportError`` saying how to install it."""
    try:
        import dask.array as da
    except ImportError:  # pragma: no cover - the extra is installed where tests run
        raise ImportError(f"{what} needs Dask: {_INSTALL}") from None
    return da


def get_client(client: Any = None):
    """The ``distributed.Client`` to run on: ``client`` itself, the current one, or ``None``.

    Parameters
    ----------
    client : distributed.Client, str or None
        A client is returned as it is; a string is a scheduler address
        (``"tcp://10.0.0.5:8786"``) and a new client connects to it; ``None``
        returns the client already active in this process (``Client(...)``
        registers itself), or ``None`` when there is none, in which case Dask's
        default local scheduler runs the work.

    Raises
    ------
    ImportError
        ``distributed`` is not installed and an address was given.
    TypeError
        ``client`` is neither a client, an address nor ``None``.
    """
    if client is None:
        if "distributed" not in sys.modules:
            return None
        from distributed import default_client

        try:
            return default_client()
        except ValueError:  # no client has been started
            return None
    if isinstance(client, str):
        try:
            from distributed import Client
        except ImportError:  # pragma: no cover
            raise ImportError(f"connecting to a scheduler needs distributed: {_INSTALL}") from None
        return Client(client)
    if type(client).__name__ == "Client" and hasattr(client, "compute"):
        return client
    raise TypeError(
        f"client must be a distributed.Client, a scheduler address such as "
        f"'tcp://127.0.0.1:8786', or None, got {type(client).__name__}"
    )


@contextlib.contextmanager
def show_progress(enabled: bool = True):
    """Within this block, :func:`compute` shows a progress bar (for long runs on a terminal)."""
    token = _PROGRESS.set(bool(enabled))
    try:
        yield
    finally:
        _PROGRESS.reset(token)


def compute(*objs: Any, client: Any = None) -> tuple:
    """``dask.compute(*objs)`` on ``client`` (or the active one), with progress if asked for.

    Only small results should come back through here: the factors and sums of a
    reduction tree, never an ``n``-row array.
    """
    import dask

    client = get_client(client)
    if not _PROGRESS.get():
        if client is None:
            return dask.compute(*objs)
        return tuple(client.gather(client.compute(list(objs))))
    if client is None:
        from dask.diagnostics import ProgressBar

        with ProgressBar(out=sys.stderr):
            return dask.compute(*objs)
    from distributed import progress

    futures = client.compute(list(objs))
    progress(futures, interval="100ms")
    sys.stdout.flush()
    result = tuple(client.gather(futures))
    # the scheduler polls the bar's closed connection every 100 ms; closing a local
    # cluster before it notices logs a CancelledError traceback, so give it that long
    time.sleep(0.25)
    return result


def check_row_chunks(A: Any, name: str = "A", *, what: str = "TSQR") -> None:
    """Raise ``ValueError`` unless the 2-D Dask array ``A`` is chunked along rows only.

    Each row block must hold every column (``A.numblocks[1] == 1``) and the chunk
    sizes must be known. The message says how to rechunk.
    """
    from ._validation import ShapeError

    if A.ndim != 2:
        raise ShapeError(f"{name} must be a 2-D Dask array, got {A.ndim}-D with shape {A.shape}")
    if any(c != c for c in A.chunks[0]) or any(c != c for c in A.chunks[1]):
        raise ValueError(
            f"{name} has unknown chunk sizes (shape {A.shape}), as after boolean indexing "
            f"or DataFrame.to_dask_array(); call {name} = {name}.compute_chunk_sizes() first"
        )
    if A.numblocks[1] != 1:
        raise ValueError(
            f"{name} is chunked along its columns too (chunks {_short(A.chunks)}, "
            f"{A.numblocks[0]}×{A.numblocks[1]} blocks): {what} needs every row block to hold "
            f"all {A.shape[1]} columns. Rechunk with {name} = {name}.rechunk({{1: -1}}) "
            f"(or {name}.rechunk(({_rows_hint(A)}, -1)) to also set the rows per block), "
            f"or store it on disk with chunks=(rows, {A.shape[1]})"
        )


def _rows_hint(A: Any) -> int:
    """Rows per block so that a block is about 128 MiB."""
    itemsize = getattr(A.dtype, "itemsize", 8)
    return max(1, min(A.shape[0], (128 << 20) // max(1, A.shape[1] * itemsize)))


def _short(chunks: tuple) -> str:
    parts = []
    for c in chunks:
        parts.append(str(c) if len(c) <= 4 else f"({c[0]}, {c[1]}, …, {c[-1]}) [{len(c)}]")
    return "(" + ", ".join(parts) + ")"
