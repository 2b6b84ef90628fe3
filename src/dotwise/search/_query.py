r"""Query checks and result shaping shared by every index kind (and :func:`exact_search`).

One search, whatever the index: check ``k`` and the queries, resolve the
filter into a mask over storage rows, normalise the queries for cosine (or
take :math:`\lVert q\rVert^2` for l2), let the index score its candidates,
then turn the internal scores into the public ones and pad the result to
``k`` columns. Only the candidate step differs between :class:`Index` (one
blocked pass over the collection) and :class:`IVFIndex` (the probed lists).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .._kernels import norm_unchecked as _norm
from .._native import all_finite
from .._validation import ShapeError, as_float_array, check_k, describe

__all__ = ["FilterLike", "MAX_PADDED_BYTES", "allowed_rows", "as_queries", "check_k",
           "finish_scores", "pad_result", "result_width", "unit_rows"]

FilterLike = Callable[[np.ndarray], Any] | Iterable[int] | np.ndarray | None

#: Largest result a search allocates when ``k`` exceeds the collection (the padding only).
MAX_PADDED_BYTES = 1 << 30


def unit_rows(X: np.ndarray, name: str) -> np.ndarray:
    """Rows of ``X`` scaled to unit length; a zero row is an error naming its index."""
    n = _norm(X)
    if np.any(n == 0):
        bad = int(np.flatnonzero(n == 0)[0])
        raise ValueError(
            f"{name} has a zero vector at row {bad}; cosine similarity is undefined for zero "
            f"vectors — drop zero rows, or use metric='dot' or 'l2'"
        )
    return X / n[:, None].astype(X.dtype, copy=False)


def cast_finite(X: np.ndarray, dtype: np.dtype, name: str, *, cosine: bool = False
                ) -> np.ndarray:
    """``X`` (already checked finite) cast to ``dtype``, still finite after the cast.

    float64 values beyond float32's range (about 3.4e38) would become ``inf``;
    for cosine only the direction matters, so such rows are rescaled by their
    largest entry first; for dot and l2 they are an error naming the row.
    """
    dtype = np.dtype(dtype)
    if X.dtype == dtype or dtype.itemsize >= X.dtype.itemsize:
        return np.asarray(X, dtype=dtype)
    limit = np.finfo(dtype).max
    big = np.max(np.abs(X), axis=1) if X.size else np.zeros(0)
    if cosine:
        # a row whose square norm leaves float32's range is rescaled (its direction is kept)
        odd = (big > 1e18) | ((big < 1e-18) & (big > 0))
        if odd.any():
            X = X.copy()
            X[odd] /= big[odd, None]
        return np.asarray(X, dtype=dtype)
    with np.errstate(over="ignore"):
        out = np.asarray(X, dtype=dtype)
    if not all_finite(out):
        row = int(np.flatnonzero(big > limit)[0]) if np.any(big > limit) else 0
        raise ValueError(
            f"{name} row {row} holds a value ({float(big[row]):.3g}) too large for {dtype} "
            f"(largest {limit:.3g}); it would be stored as inf. Rescale the vectors or use "
            f"dtype='float64'"
        )
    return out


def as_queries(queries: Any, dim: int, dtype: np.dtype, name: str = "queries", *,
               cosine: bool = False) -> tuple[np.ndarray, bool]:
    """Queries as a C-contiguous (m, dim) array of ``dtype``, and whether one was given."""
    Q = as_float_array(queries, name, ndim=(1, 2))
    single = Q.ndim == 1
    if single:
        Q = Q[None, :]
    if Q.shape[1] != dim:
        raise ShapeError(
            f"{name} must have {dim} columns (the index's dimension), got shape "
            f"{Q.shape if not single else Q.shape[1:]}"
        )
    return np.ascontiguousarray(cast_finite(Q, dtype, name, cosine=cosine)), single


def result_width(k: int, n: int, m: int, itemsize: int) -> int:
    """How many columns the search computes: ``min(k, n)`` (at least 1).

    The result still has ``k`` columns (the slots past the collection are
    padding), but only while that padding fits :data:`MAX_PADDED_BYTES`;
    beyond, the request is refused with the memory it would need.
    """
    work = max(1, min(k, n))
    if k > work:
        need = m * k * (8 + itemsize)
        if need > MAX_PADDED_BYTES:
            raise ValueError(
                f"k={k:,} asks for {k:,} result slots per query ({need / 2**30:,.1f} GiB for "
                f"{m:,} quer{'y' if m == 1 else 'ies'}), but the collection holds only {n:,} "
                f"vectors, so all but {n:,} slots would be padding; pass k <= {max(n, 1):,}"
            )
    return work


def pad_result(ids: np.ndarray, scores: np.ndarray, k: int, pad: float
               ) -> tuple[np.ndarray, np.ndarray]:
    """Widen (m, w) results to (m, k) with id ``-1`` and score ``pad``."""
    m, w = ids.shape
    if w >= k:
        return ids, scores
    out_i = np.full((m, k), -1, dtype=np.int64)
    out_s = np.full((m, k), pad, dtype=scores.dtype)
    out_i[:, :w] = ids
    out_s[:, :w] = scores
    return out_i, out_s


def finish_scores(ids: np.ndarray, s: np.ndarray, metric: str,
                  q_sq: np.ndarray | None) -> np.ndarray:
    """Turn internal scores (higher is better) into the public ones."""
    if metric == "cosine":
        np.clip(s, -1.0, 1.0, out=s, where=ids >= 0)
        return s
    if metric != "l2":
        return s
    # internal score s = q·x − ½‖x‖², so ‖q − x‖² = ‖q‖² − 2 s
    with np.errstate(invalid="ignore", over="ignore"):
        d2 = q_sq[:, None] - 2.0 * s
    d = np.sqrt(np.maximum(d2, 0.0))
    d[ids < 0] = np.inf
    return d


def allowed_rows(filter: FilterLike, ids: np.ndarray) -> np.ndarray | None:
    """Boolean mask over storage rows from a filter (predicate or allowed ids)."""
    if filter is None:
        return None
    if callable(filter):
        mask = None
        try:
            out = filter(ids)
            arr = np.asarray(out)
            if arr.dtype == bool and arr.shape == ids.shape:
                mask = arr
        except Exception:  # the predicate may only accept one id at a time
            mask = None
        if mask is None:
            try:
                mask = np.fromiter((bool(filter(int(i))) for i in ids), dtype=bool,
                                   count=ids.size)
            except Exception as exc:
                raise TypeError(
                    f"filter must accept an int64 array of ids and return a boolean mask, or "
                    f"accept one id and return True/False; calling it failed: {exc}"
                ) from None
        return mask
    if isinstance(filter, (str, bytes)):
        raise TypeError(f"filter must be a predicate or a collection of ids, got {describe(filter)}")
    allowed = np.asarray(list(filter) if isinstance(filter, (set, frozenset)) else filter)
    if allowed.size == 0:
        return np.zeros(ids.shape, dtype=bool)
    if allowed.dtype == bool:
        raise TypeError("filter must be a predicate or a collection of ids; a boolean array is "
                        "ambiguous — pass the allowed ids, e.g. index.ids[mask]")
    if allowed.dtype.kind not in "iu":
        raise TypeError(f"filter must hold integer ids, got {describe(filter)}")
    return np.isin(ids, allowed.astype(np.int64).ravel())
