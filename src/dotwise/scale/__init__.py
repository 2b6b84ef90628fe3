"""Scale-out: the same dotwise calls on Dask arrays and a ``distributed`` cluster.

Nothing here is imported by ``import dotwise``: the in-memory functions check
their input with :func:`dotwise._dask.is_dask_array` (which never imports
Dask) and hand Dask arrays to the submodules below, which import Dask when they
run. Install the extra with ``pip install 'dotwise[scale]'``.

Submodules (loaded on first attribute access):

* :mod:`~dotwise.scale.tsqr` — the TSQR reduction tree of R factors.
* :mod:`~dotwise.scale.linalg` — ``lstsq`` and ``ridge`` on row-chunked Dask arrays.
* :mod:`~dotwise.scale.models` — ``LinearRegression``, ``Ridge`` and ``PCA`` fitted on Dask arrays.
* :mod:`~dotwise.scale.search`, :mod:`~dotwise.scale.als`, :mod:`~dotwise.scale.zarr_io` —
  sharded exact search, ALS on a cluster and zarr stores (where installed).
"""

from __future__ import annotations

import importlib
from typing import Any

from .._dask import get_client, is_dask_array

_SUBMODULES = ("tsqr", "linalg", "models", "search", "als", "zarr_io")

__all__ = ["get_client", "is_dask_array", *_SUBMODULES]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
