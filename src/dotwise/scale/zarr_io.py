r"""zarr on disk for the scale-out paths: open collections, write sharded indexes.

A *sharded index* is a zarr group written by :func:`write_sharded_index`:

``vectors``
    ``(n, d)`` array of the index's stored vectors (unit vectors for cosine),
    one zarr chunk per shard of whole rows, uncompressed (float vectors do not
    compress, and decompression would cost more than the read).
``ids``
    ``(n,)`` int64, chunked like the rows of ``vectors``.
attributes
    ``{"dotwise": {"kind": "sharded-index", "format_version": 1, "metric", "dtype",
    "dim", "count", "shards"}}``.

A shard is the unit of work on a cluster: one worker reads one shard and
returns its top-k. Everything here needs the ``scale`` extra (``zarr``); the
imports happen inside the functions so ``import dotwise`` never pays for them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import DataFormatError, ShapeError, check_int, describe

__all__ = ["FORMAT_VERSION", "is_zarr_path", "open_zarr", "read_sharded_meta",
           "write_random_vectors", "write_sharded_index"]

FORMAT_VERSION = 1
KIND = "sharded-index"


def require(module: str):
    """Import an optional package of the ``scale`` extra, or say how to install it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"this needs the optional package {module!r}: "
                          f"pip install 'dotwise[scale]'") from None


def is_zarr_path(x: Any) -> bool:
    """Whether ``x`` is a path (str or PathLike) that names a zarr store on disk."""
    if not isinstance(x, (str, os.PathLike)):
        return False
    p = Path(x)
    if p.suffix == ".zarr":
        return True
    return p.is_dir() and any((p / f).exists() for f in ("zarr.json", ".zarray", ".zgroup"))


def open_zarr(path: str | os.PathLike):
    """Open a zarr array or group read-only; a missing or foreign path is a clear error."""
    zarr = require("zarr")
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no zarr store at {p}")
    try:
        return zarr.open(str(p), mode="r")
    except Exception as exc:  # zarr raises several types for a foreign directory
        raise DataFormatError(f"{p} is not a readable zarr store ({exc})") from None


def read_sharded_meta(group: Any) -> dict[str, Any] | None:
    """The ``dotwise`` attributes of a sharded index group, or ``None`` for other stores."""
    attrs = dict(getattr(group, "attrs", {}) or {})
    meta = attrs.get("dotwise")
    if not isinstance(meta, dict) or meta.get("kind") != KIND:
        return None
    version = int(meta.get("format_version", 0))
    if version > FORMAT_VERSION:
        raise DataFormatError(f"the sharded index was written by a newer dotwise (format "
                              f"{version}; this one reads up to {FORMAT_VERSION}): upgrade dotwise")
    return meta


def _row_chunks(n: int, n_shards: int) -> int:
    return max(1, -(-n // n_shards))


def write_sharded_index(path: str | os.PathLike, blocks: Callable[[], Iterator[tuple[
        np.ndarray, np.ndarray]]], *, n: int, dim: int, dtype: Any, metric: str,
        n_shards: int, progress: Callable[[int], None] | None = None) -> Path:
    """Write a sharded index atomically (temporary directory, then rename).

    Parameters
    ----------
    path : path of the zarr store to create (replaced if it exists)
    blocks : callable returning an iterator of ``(vectors, ids)``
        Consecutive row blocks covering the ``n`` rows in order, vectors already
        as the index stores them (e.g. :attr:`Index.vectors <dotwise.search.Index.vectors>`).
    n, dim : int
        Total rows and the dimension.
    dtype : float32 or float64
    metric : str
    n_shards : int
        Number of row shards (zarr chunks); ``1 <= n_shards <= max(n, 1)``.
    progress : callable, optional
        Called with the number of rows written after each block.

    Returns
    -------
    Path of the store.
    """
    zarr = require("zarr")
    from .._io import atomic_dir

    n_shards = check_int(n_shards, "n_shards", minimum=1)
    if n and n_shards > n:
        raise ValueError(f"n_shards must be <= the number of vectors ({n}), got {n_shards}")
    rows = _row_chunks(n, n_shards)
    meta = {"kind": KIND, "format_version": FORMAT_VERSION, "metric": metric,
            "dtype": np.dtype(dtype).name, "dim": int(dim), "count": int(n),
            "shards": int(-(-n // rows)) if n else 0}
    with atomic_dir(path) as tmp:
        group = zarr.open_group(str(tmp), mode="w", attributes={"dotwise": meta})
        vec = group.create_array("vectors", shape=(n, dim), chunks=(rows, dim),
                                 dtype=np.dtype(dtype), compressors=None)
        idz = group.create_array("ids", shape=(n,), chunks=(rows,), dtype=np.int64)
        # buffer whole shards so that every zarr chunk is written once
        buf_v, buf_i, start, filled = [], [], 0, 0
        for V, ids in blocks():
            V = np.asarray(V)
            ids = np.asarray(ids, dtype=np.int64)
            if V.shape[1:] != (dim,) or ids.shape != (V.shape[0],):
                raise ShapeError(f"block of vectors {V.shape} with ids {ids.shape} does not "
                                 f"match dim {dim}")
            buf_v.append(V)
            buf_i.append(ids)
            filled += V.shape[0]
            while filled >= rows or (filled and start + filled >= n):
                take = min(rows, filled)
                Vc, Ic = np.concatenate(buf_v), np.concatenate(buf_i)
                vec[start:start + take] = Vc[:take]
                idz[start:start + take] = Ic[:take]
                buf_v, buf_i = [Vc[take:]], [Ic[take:]]
                start += take
                filled -= take
                if progress is not None:
                    progress(take)
        if start + filled != n:
            raise ShapeError(f"expected {n} rows, the blocks gave {start + filled}")
    return Path(path)


def write_random_vectors(path: str | os.PathLike, n: int, dim: int, *, chunk_rows: int,
                         seed: int = 0, dtype: Any = np.float32) -> Path:
    """Write an ``(n, dim)`` zarr array of standard-normal vectors, chunk by chunk.

    Chunk ``j`` is drawn from ``numpy.random.default_rng([seed, j])``, so any
    chunk can be regenerated alone (the benchmark builds subsets from it), and
    memory stays at one chunk. Written atomically; uncompressed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.zarr"
    >>> z = open_zarr(write_random_vectors(p, 10, 4, chunk_rows=4))
    >>> z.shape, z.chunks
    ((10, 4), (4, 4))
    """
    zarr = require("zarr")
    from .._io import atomic_dir

    n = check_int(n, "n", minimum=1)
    dim = check_int(dim, "dim", minimum=1)
    chunk_rows = check_int(chunk_rows, "chunk_rows", minimum=1)
    with atomic_dir(path) as tmp:
        z = zarr.create_array(str(tmp), shape=(n, dim), chunks=(chunk_rows, dim),
                              dtype=np.dtype(dtype), compressors=None,
                              attributes={"dotwise": {"kind": "random-normal", "seed": seed}})
        for j, s in enumerate(range(0, n, chunk_rows)):
            e = min(s + chunk_rows, n)
            z[s:e] = random_chunk(seed, j, e - s, dim, dtype)
    return Path(path)


def random_chunk(seed: int, j: int, rows: int, dim: int, dtype: Any = np.float32) -> np.ndarray:
    """Chunk ``j`` of :func:`write_random_vectors` (the same numbers, regenerated)."""
    rng = np.random.default_rng([seed, j])
    return rng.standard_normal((rows, dim), dtype=np.float32).astype(dtype, copy=False)


def check_store_kind(obj: Any, name: str) -> None:
    """Raise a clear error for a zarr object that is neither an array nor a sharded index."""
    raise TypeError(f"{name} must be a Dask array, a zarr array or a sharded index written by "
                    f"dotwise.scale.shard_index, got {describe(obj)}")
