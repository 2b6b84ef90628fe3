"""CLI plumbing for Dask input: zarr arrays, ``--scheduler``, progress, the missing extra.

Shared by the commands that accept a zarr store or ``--scheduler ADDRESS``
(``dotwise lstsq``; the index commands can use :func:`cluster_client` and
:func:`open_zarr` too).
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ._common import console

_EXTRA = "install dotwise[scale] (pip install 'dotwise[scale]')"


def require_scale(what: str) -> None:
    """Exit with a one-line error (code 2) when Dask, distributed or zarr is missing."""
    from ._common import fail

    missing = [m for m in ("dask", "distributed", "zarr") if importlib.util.find_spec(m) is None]
    if missing:  # fail() escapes markup: "[scale]" prints as text
        fail(f"{what} needs {', '.join(missing)}: {_EXTRA}")


@contextlib.contextmanager
def cluster_client(scheduler: str | None) -> Iterator[Any]:
    """A ``distributed.Client`` for ``--scheduler``: an address, ``"threads"`` or the default.

    ``None`` starts a local cluster on 127.0.0.1 (no dashboard) for the duration
    of the command; ``"threads"`` yields ``None`` and Dask's threaded scheduler runs
    in this process; anything else is a scheduler address such as
    ``tcp://10.0.0.5:8786``.
    """
    require_scale("--scheduler" if scheduler else "a zarr input")
    if scheduler == "threads":
        yield None
        return
    from distributed import Client, LocalCluster

    if scheduler is None:
        with LocalCluster(host="127.0.0.1", dashboard_address=None) as cluster, \
                Client(cluster) as client:
            yield client
        return
    try:
        client = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise ValueError(f"--scheduler {scheduler}: could not connect to a Dask scheduler "
                         f"there ({exc}); start one with `dask scheduler` or omit "
                         f"--scheduler for a local cluster") from None
    with client:
        yield client


def open_array(path: Path, name: str):
    """A Dask array from a zarr store, or a memory-mapped .npy / a .csv file, chunked by rows."""
    import dask.array as da

    from ._common import load_matrix

    if not path.exists():
        raise FileNotFoundError(f"{name}: no such file or zarr store: {path}")
    if path.suffix.lower() == ".zarr" or path.is_dir():
        try:
            return open_zarr(path, name)
        except (OSError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{name}: {path} is not a readable zarr array ({exc})") from None
    if path.suffix.lower() == ".npy":
        return _npy_blocks(path, name)
    arr = load_matrix(path, name)
    return da.from_array(arr, chunks=(_rows_per_block(arr.shape),) + arr.shape[1:])


def _npy_blocks(path: Path, name: str):
    """A .npy file as a Dask array whose blocks the workers read themselves (memory-mapped).

    Not ``da.from_array(np.load(path, mmap_mode="r"))``: a memory map is pickled as its
    whole contents, so every worker process would be sent the entire file.
    """
    import dask.array as da
    from dask import delayed

    try:
        head = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as exc:
        raise ValueError(f"{name}: {path} is not a readable .npy file ({exc})") from None
    shape, dtype = head.shape, head.dtype
    del head
    step = _rows_per_block(shape)
    blocks = [da.from_delayed(delayed(_read_rows, pure=True)(str(path), start,
                                                             min(start + step, shape[0])),
                              (min(step, shape[0] - start),) + shape[1:], dtype=dtype)
              for start in range(0, shape[0], step)]
    if not blocks:
        return da.zeros(shape, dtype=dtype)
    return da.concatenate(blocks, axis=0)


def _read_rows(path: str, start: int, stop: int) -> np.ndarray:
    return np.array(np.load(path, mmap_mode="r", allow_pickle=False)[start:stop])


def open_zarr(path: Path, name: str):
    """``dask.array.from_zarr`` on a zarr array (not a group), with a named error."""
    import dask.array as da
    import zarr

    node = zarr.open(str(path), mode="r")
    if not hasattr(node, "shape"):
        raise ValueError(f"{name}: {path} is a zarr group, not an array; point at one of its "
                         f"arrays ({', '.join(sorted(node.array_keys())) or 'none'})")
    return da.from_zarr(node)


def _rows_per_block(shape: tuple[int, ...]) -> int:
    cols = int(np.prod(shape[1:])) if len(shape) > 1 else 1
    return max(1, min(shape[0] or 1, (64 << 20) // (8 * max(cols, 1))))


def solve_on_cluster(a_file: Path, b_file: Path | None, b_spec: str | None,
                     scheduler: str | None, *, method: str, rcond: float | None,
                     progress: bool):
    """``dotwise.lstsq`` on Dask arrays read from disk; returns ``(result, A.shape)``."""

    require_scale("a zarr input" if scheduler is None else "--scheduler")
    import dotwise as dw
    from dotwise._dask import show_progress

    A = open_array(a_file, "A")
    if A.ndim == 1:
        A = A[:, None]
    if A.ndim != 2:
        raise ValueError(f"A: {a_file} holds a {A.ndim}-D array of shape {A.shape}; expected "
                         f"a matrix (m × n)")
    column = column_index(b_spec)
    if column is not None:
        if A.shape[1] < 2 or not -A.shape[1] <= column < A.shape[1]:
            raise ValueError(f"--b {b_spec}: A has {A.shape[1]} columns, so the column must be "
                             f"in [{-A.shape[1]}, {A.shape[1] - 1}] and one must remain for A")
        column %= A.shape[1]
        A = A.rechunk({1: -1})
        keep = [j for j in range(A.shape[1]) if j != column]
        A, b = A[:, keep], A[:, column]
    else:
        b = open_array(b_file if b_file is not None else Path(b_spec), "B")
        if b.ndim == 2 and b.shape[1] == 1:
            b = b[:, 0]
    if A.numblocks[1] != 1:  # the store's chunks split the columns: read whole rows instead
        A = A.rechunk({1: -1})
    with cluster_client(scheduler) as client, show_progress(progress):
        if progress:
            where = "local threads" if client is None else f"scheduler {client.scheduler.address}"
            console.print(f"[dim]A {A.shape} in {A.numblocks[0]} row blocks on {where}[/dim]",
                          highlight=False)
        res = dw.lstsq(A, b, method=method, rcond=rcond)
    return res, A.shape


def column_index(spec: str | None) -> int | None:
    """``--b`` as an integer column index, or ``None`` when it is a path."""
    if spec is None:
        return None
    try:
        return int(spec)
    except ValueError:
        return None
