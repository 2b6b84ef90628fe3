r"""Exact search on array-API arrays: vectors on the device, top-k on the device.

:func:`dotwise.search.exact_search` and :class:`dotwise.search.Index` send CuPy
arrays, PyTorch tensors and other array-API arrays here (see :mod:`dotwise._xp`);
NumPy input keeps its blocked BLAS kernel. The scores are the same three
formulas as on the CPU,

.. math::

    \text{dot} = q \cdot x, \qquad \text{cosine} = \hat q \cdot x / \lVert x \rVert,
    \qquad \lVert q - x \rVert = \sqrt{\lVert q\rVert^2 - 2\,(q \cdot x - \tfrac12\lVert x\rVert^2)},

computed as one matrix product per block of collection rows (a block holds at
most :data:`BLOCK_SCORES` scores, so memory stays bounded for any collection),
followed by a top-k on the device and a merge with the best so far.

Top-k: PyTorch has one (``torch.topk``), used as it is; the array API standard
has none, so for every other namespace (CuPy included) the top-k is a stable
``argsort`` of each block of scores, slower but exact. Ties are ordered by
smaller id, as on the CPU; with ``torch.topk`` a tie *at the k-th place* may keep
another id of the same score.

An :class:`~dotwise.search.Index` given device vectors keeps them on that device
(``Index.vectors`` is a device array); its ids stay on the host for lookups and
filters, with a copy on the device for the results. Filters are evaluated on
the host ids and the boolean mask is copied to the device (one byte per
vector). ``save`` copies the vectors to the host, the one documented host copy.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

from .._validation import ShapeError, check_k
from .._xp import (
    array_namespace,
    describe_array,
    device_of,
    float_array,
    is_array_api,
    to_numpy,
    vector_norm,
)
from ._query import allowed_rows, result_width
from .results import MatchExplanation, SearchResult

__all__ = ["BLOCK_SCORES", "exact_search"]

#: Scores per block of the collection (queries × rows of one block).
BLOCK_SCORES = 1 << 27


# ------------------------------------------------------------------ kernels
def _topk(S, ids, w, xp, offset=0):
    """The ``w`` best columns of each row of ``S`` (higher is better), ties by smaller id.

    ``ids`` maps columns to ids (``None``: column number + ``offset``).
    Returns ``(scores, ids)`` of shape (m, w), best first.
    """
    torch = sys.modules.get("torch")
    native = torch is not None and isinstance(S, torch.Tensor)
    if native:
        vals, pos = torch.topk(S, w, dim=1, largest=True, sorted=True)
    else:
        pos = xp.argsort(S, axis=1, descending=True, stable=True)[:, :w]
        vals = xp.take_along_axis(S, pos, axis=1)
    got = pos + offset if ids is None else xp.take_along_axis(ids, pos, axis=1)
    if native:  # torch.topk orders equal scores arbitrarily: put them in id order
        o = xp.argsort(got, axis=1, stable=True)
        vals, got = xp.take_along_axis(vals, o, axis=1), xp.take_along_axis(got, o, axis=1)
        o = xp.argsort(vals, axis=1, descending=True, stable=True)
        vals, got = xp.take_along_axis(vals, o, axis=1), xp.take_along_axis(got, o, axis=1)
    return vals, got


def _topk_blocked(X, Q, w, xp, dev, *, col_scale=None, col_offset=None, allowed=None,
                  ids=None):
    """Top-``w`` of ``Q Xᵀ`` (times ``col_scale``, plus ``col_offset``) over row blocks of X.

    Non-finite scores and rows outside ``allowed`` (a device boolean mask) never
    count: they score ``-inf`` and come back as id ``-1``. ``ids``: device int64
    ids of the rows (default: row numbers).
    """
    m, n = Q.shape[0], X.shape[0]
    block = max(w, min(n, max(1, BLOCK_SCORES // max(m, 1))))
    neg = xp.asarray(-math.inf, dtype=Q.dtype, device=dev)
    best_s = best_i = None
    for r0 in range(0, n, block):
        r1 = min(n, r0 + block)
        S = Q @ X[r0:r1, :].T
        if col_scale is not None:
            S = S * col_scale[r0:r1]
        if col_offset is not None:
            S = S + col_offset[r0:r1]
        keep = xp.isfinite(S)
        if allowed is not None:
            keep = keep & allowed[r0:r1]
        S = xp.where(keep, S, neg)
        blk_ids = None if ids is None else xp.broadcast_to(ids[r0:r1], (m, r1 - r0))
        s, i = _topk(S, blk_ids, min(w, r1 - r0), xp, offset=r0)
        if best_s is None:
            best_s, best_i = s, i
        else:
            cat_s = xp.concat((best_s, s), axis=1)
            cat_i = xp.concat((best_i, i), axis=1)
            best_s, best_i = _topk(cat_s, cat_i, min(w, cat_s.shape[1]), xp)
    best_i = xp.where(best_s == -math.inf, xp.full_like(best_i, -1), best_i)
    return best_s, best_i


def _finish(s, ids, k, metric, q_sq, xp, dev):
    """Internal scores to public ones (clip cosine, distances for l2) and pad to ``k``."""
    missing = ids < 0
    if metric == "cosine":
        s = xp.where(missing, s, xp.clip(s, -1.0, 1.0))
    elif metric == "l2":  # s = q·x − ½‖x‖², so ‖q − x‖² = ‖q‖² − 2 s
        d2 = xp.expand_dims(q_sq, axis=1) - 2.0 * s
        s = xp.sqrt(xp.where(d2 > 0, d2, xp.zeros_like(d2)))
        s = xp.where(missing, xp.full_like(s, math.inf), s)
    m, w = ids.shape
    if w < k:
        pad = math.inf if metric == "l2" else -math.inf
        s = xp.concat((s, xp.full((m, k - w), pad, dtype=s.dtype, device=dev)), axis=1)
        ids = xp.concat((ids, xp.full((m, k - w), -1, dtype=ids.dtype, device=dev)), axis=1)
    return s, ids


def _unit_rows(X, xp, name):
    n = vector_norm(X, xp)
    _no_zero_rows(n, xp, name)
    return X / xp.expand_dims(n, axis=1), n


def _no_zero_rows(n, xp, name):
    zero = n == 0
    if bool(xp.any(zero)):
        row = int(xp.argmax(xp.astype(zero, xp.int32)))
        raise ValueError(f"{name} has a zero vector at row {row}; cosine similarity is undefined "
                         f"for zero vectors — drop zero rows, or use metric='dot' or 'l2'")


def _queries(queries, dim, dtype, xp, name="queries"):
    Q = float_array(queries, name, xp, ndim=(1, 2))
    single = Q.ndim == 1
    if single:
        Q = xp.reshape(Q, (1, Q.shape[0]))
    if Q.shape[1] != dim:
        raise ShapeError(f"{name} must have {dim} columns (the index's dimension), got shape "
                         f"{tuple(Q.shape[1:] if single else Q.shape)}")
    if Q.dtype != dtype:
        Q = _cast(Q, dtype, xp, name)
    return Q, single


def _cast(X, dtype, xp, name):
    out = xp.astype(X, dtype)
    if not bool(xp.all(xp.isfinite(out))):
        raise ValueError(f"{name} holds a value too large for {dtype} (it would be stored as "
                         f"inf); rescale the vectors or use dtype='float64'")
    return out


def _allowed_device(filter, ids_host, xp, dev):
    mask = allowed_rows(filter, ids_host)
    return None if mask is None else xp.asarray(mask, device=dev)


# ------------------------------------------------------------------ exact_search
def exact_search(collection, queries, k=10, metric="cosine", *, filter=None):
    """The array-API twin of :func:`dotwise.search.exact_search` (ids are row numbers).

    ``metric`` has been checked by the caller.
    """
    xp, dev = array_namespace(("collection", collection), ("queries", queries))
    k = check_k(k)
    X = float_array(collection, "collection", xp, ndim=2)
    Q, single = _queries(queries, X.shape[1], X.dtype, xp)
    scale = offset = q_sq = None
    if metric == "cosine":
        Q, _ = _unit_rows(Q, xp, "queries")
        norms = vector_norm(X, xp)
        _no_zero_rows(norms, xp, "collection")
        scale = 1.0 / norms
    elif metric == "l2":
        q_sq = xp.sum(Q * Q, axis=1)
        offset = -0.5 * xp.sum(X * X, axis=1)
    n = X.shape[0]
    allowed = None
    if filter is not None:
        allowed = _allowed_device(filter, np.arange(n, dtype=np.int64), xp, dev)
    w = result_width(k, n, Q.shape[0], 4 if X.dtype == xp.float32 else 8)
    s, ids = _topk_blocked(X, Q, w, xp, dev, col_scale=scale, col_offset=offset,
                           allowed=allowed)
    s, ids = _finish(s, ids, k, metric, q_sq, xp, dev)
    if single:
        s, ids = s[0, ...], ids[0, ...]
    return SearchResult(ids, s, metric)


# ------------------------------------------------------------------ Index on a device
def backend(index) -> tuple[Any, Any] | None:
    """``(xp, device)`` of an index that keeps its vectors on a device, else ``None``."""
    return index.__dict__.get("_xp_backend")


def _where(index) -> str:
    be = backend(index)
    return "NumPy arrays on the host" if be is None else f"{be[0].__name__} arrays on {be[1]}"


def prepare(index, vectors, name="vectors"):
    """Check and normalise device vectors for ``add`` (``Index._prepare``'s twin)."""
    if index.kind != "flat":
        raise TypeError(f"{type(index).__name__} computes on NumPy arrays only, got {name} as a "
                        f"{describe_array(vectors)}; use Index (exact search) for device "
                        f"vectors, or convert them explicitly")
    be = backend(index)
    if not is_array_api(vectors):
        raise TypeError(f"{name} is a {describe_array(vectors)}, but this index keeps its "
                        f"vectors as {_where(index)}; pass {name} from the same library and "
                        f"device")
    xp, dev = array_namespace((name, vectors))
    if be is None and len(index):
        raise TypeError(f"{name} is a {describe_array(vectors)}, but this index already holds "
                        f"{len(index)} vectors as NumPy arrays on the host; an index keeps its "
                        f"vectors in one place: build a new Index for device vectors")
    if be is not None and (xp is not be[0] or dev != be[1]):
        raise TypeError(f"{name} is a {describe_array(vectors)}, but this index keeps its "
                        f"vectors as {_where(index)}; move {name} there first")
    X = float_array(vectors, name, xp, ndim=(1, 2))
    if X.ndim == 1:
        X = xp.reshape(X, (1, X.shape[0]))
    if X.shape[1] != index.dim:
        raise ShapeError(f"{name} must have {index.dim} columns (the index's dim), got shape "
                         f"{tuple(X.shape)}")
    dtype = xp.float32 if index.dtype == np.float32 else xp.float64
    if index.metric == "cosine":
        X, _ = _unit_rows(X, xp, name)
    if X.dtype != dtype:
        X = _cast(X, dtype, xp, name)
    if index.metric == "l2":
        sq = xp.sum(X * X, axis=1)
        if not bool(xp.all(xp.isfinite(sq))):
            raise ValueError(f"{name} has a row whose squared norm is too large for "
                             f"{index.dtype} (it overflows to inf); rescale the vectors or use "
                             f"dtype='float64'")
    return X


def added(index, st, X, new_ids, rows):
    """The state after adding device vectors ``X`` (``Index._added``'s twin).

    Returns the arguments of the new ``_State``: ``(buf, ids, sq, n, extra)``.
    """
    xp, dev = array_namespace(("vectors", X))
    present = rows >= 0
    n = st.n
    sq_x = xp.sum(X * X, axis=1)
    if n == 0:  # nothing can be present in an empty index
        buf, sq, ids = X, sq_x, new_ids
    else:
        # one gather from [old rows; new rows]: replaced rows keep their place, new ones append
        src = np.arange(n + int((~present).sum()), dtype=np.int64)
        src[rows[present]] = n + np.flatnonzero(present)
        src[n:] = n + np.flatnonzero(~present)
        take = xp.asarray(src, device=dev)
        buf = xp.take(xp.concat((st.buf, X), axis=0), take, axis=0)
        sq = xp.take(xp.concat((st.sq, sq_x), axis=0), take, axis=0)
        ids = np.concatenate([st.ids[:n], new_ids[~present]])
    index.__dict__["_xp_backend"] = (xp, dev)
    return buf, ids, sq, ids.shape[0], {"ids_device": xp.asarray(ids, device=dev)}


def removed(index, st, keep):
    """The state without the rows where ``keep`` is False (``Index._removed``'s twin).

    Returns the arguments of the new ``_State``: ``(buf, ids, sq, n, extra)``.
    """
    xp, dev = backend(index)
    rows = xp.asarray(np.flatnonzero(keep), device=dev)
    ids = st.ids[: st.n][keep].copy()
    return (xp.take(st.buf, rows, axis=0), ids, xp.take(st.sq, rows, axis=0), ids.shape[0],
            {"ids_device": xp.asarray(ids, device=dev)})


def get(index, ids):
    """Stored device vectors of ``ids`` (``Index.get``'s twin)."""
    xp, dev = backend(index)
    st = index._state
    scalar = np.ndim(ids) == 0
    rows = index._rows_of(index._as_ids(ids), state=st)
    out = xp.take(st.buf, xp.asarray(rows, device=dev), axis=0)
    return out[0, ...] if scalar else out


def search(index, queries, k, filter):
    """``Index.search`` for an index on a device (or device queries)."""
    st = index._state
    be = backend(index)
    if be is None:
        raise TypeError(
            f"queries is a {describe_array(queries)}, but this index keeps its vectors as "
            f"NumPy arrays on the host; search it with NumPy queries, or build an Index from "
            f"device vectors to search on the device")
    xp, dev = be
    if not is_array_api(queries) or xp is not array_namespace(("queries", queries))[0] \
            or device_of(queries) != dev:
        raise TypeError(f"queries is a {describe_array(queries)}, but this index keeps its "
                        f"vectors as {_where(index)}; pass queries from the same library and "
                        f"device")
    k = check_k(k)
    dtype = st.buf.dtype
    Q, single = _queries(queries, index.dim, dtype, xp)
    q_sq = None
    if index.metric == "cosine":
        Q, _ = _unit_rows(Q, xp, "queries")
    elif index.metric == "l2":
        q_sq = xp.sum(Q * Q, axis=1)
    allowed = None if filter is None else _allowed_device(filter, st.ids[: st.n], xp, dev)
    offset = -0.5 * st.sq if index.metric == "l2" else None
    w = result_width(k, st.n, Q.shape[0], 4 if dtype == xp.float32 else 8)
    if st.n == 0:
        s = xp.full((Q.shape[0], 0), -math.inf, dtype=dtype, device=dev)
        ids = xp.full((Q.shape[0], 0), -1, dtype=xp.int64, device=dev)
    else:
        s, ids = _topk_blocked(st.buf, Q, w, xp, dev, col_offset=offset, allowed=allowed,
                               ids=st.extra["ids_device"])
    s, ids = _finish(s, ids, k, index.metric, q_sq, xp, dev)
    if single:
        s, ids = s[0, ...], ids[0, ...]
    return SearchResult(ids, s, index.metric)


def explain(index, query, id):
    """``Index.explain`` on a device: contributions on the device, the small result on the host.

    The ``d`` contributions (one query, one stored vector) are copied to the host
    to build the :class:`MatchExplanation`, a documented host copy of ``d`` numbers.
    """
    import numbers

    from .._validation import describe

    xp, dev = backend(index)
    Q, single = _queries(query, index.dim, xp.float64 if index.dtype == np.float64
                         else xp.float32, xp, "query")
    if not single:
        raise ShapeError(f"query must be one vector of shape ({index.dim},), got shape "
                         f"{tuple(Q.shape)}")
    if isinstance(id, (bool, np.bool_)) or not isinstance(id, numbers.Integral):
        raise TypeError(f"id must be an integer id, got {describe(id)}")
    x = xp.astype(get(index, int(id)), xp.float64)
    q = xp.astype(Q[0, ...], xp.float64)
    if index.metric == "cosine":
        q, _ = _unit_rows(xp.reshape(q, (1, -1)), xp, "query")
        q = q[0, ...]
    contrib = to_numpy((q - x) ** 2 if index.metric == "l2" else q * x, explicit=True)
    order = np.argsort(-contrib, kind="stable")
    return MatchExplanation(order.astype(np.int64), contrib[order], float(contrib.sum()),
                            index.metric)


def host_arrays(st):
    """The state's arrays copied to the host for ``save`` (the documented host copy)."""
    return {"vectors": to_numpy(st.buf, explicit=True), "ids": st.ids[: st.n],
            "sq_norms": to_numpy(st.sq, explicit=True)}


__all__ += ["added", "backend", "explain", "get", "host_arrays", "prepare", "removed",
            "search"]
