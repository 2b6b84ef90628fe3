r"""Scaled dot-product attention with PyTorch's semantics: fused compiled kernel, blocked, dense.

Shape legend (PyTorch's): ``L`` target length (queries), ``S`` source length
(keys and values), ``E`` query/key embedding size, ``Ev`` value embedding size,
``...`` any number of leading batch/head axes, broadcast against each other.

The specification, in a few lines of NumPy (this is what the tests compare with)::

    def reference(q, k, v, attn_mask=None, is_causal=False, scale=None):
        L, S = q.shape[-2], k.shape[-2]
        scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
        bias = np.zeros((L, S))
        if is_causal:                       # top-left aligned lower triangle
            bias[~np.tri(L, S, dtype=bool)] = -np.inf
        if attn_mask is not None and attn_mask.dtype == bool:
            bias = np.where(attn_mask, bias, -np.inf)   # True = takes part
        elif attn_mask is not None:
            bias = bias + attn_mask                     # float mask is added
        scores = q @ np.swapaxes(k, -1, -2) * scale + bias
        weights = softmax(scores, axis=-1)  # a row of only -inf gives zeros
        return weights @ v
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import _attn
from .._kernels import softmax_unchecked
from .._native import all_finite
from .._threads import worker_threads
from .._validation import FloatRangeError, ShapeError, as_float_array, check_int, describe
from .._xp import is_array_api
from ._xp_sdpa import scaled_dot_product_attention as _xp_sdpa
from .blocked import DEFAULT_BLOCK, blocked_attention
from .masks import check_causal

__all__ = ["AUTO_BLOCKED_MIN_SCORES", "scaled_dot_product_attention"]

#: The blocked path is chosen automatically once one slice has this many scores (L·S).
AUTO_BLOCKED_MIN_SCORES = 128 * 128


def _as_operand(x, name: str) -> np.ndarray:
    if isinstance(x, np.ndarray) and x.dtype.kind in "iub":
        raise TypeError(
            f"{name} must be a floating-point array (float32 or float64), got {describe(x)}; "
            f"convert it first, e.g. {name}.astype(np.float32)"
        )
    if isinstance(x, np.ndarray) and x.dtype == np.float16:
        raise TypeError(
            f"{name} has dtype float16, which dotwise does not compute in; "
            f"use {name}.astype(np.float32)"
        )
    arr = as_float_array(x, name, min_ndim=2, check_finite=False, allow_empty=True)
    if arr.dtype.kind != "f" or arr.dtype.itemsize > 8:
        raise TypeError(f"{name} must be float32 or float64, got dtype {arr.dtype}")
    return arr


def _check_finite(arr: np.ndarray, name: str) -> None:
    if arr.size and not all_finite(arr):
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise ValueError(
            f"{name} must contain only finite numbers, found {arr[where]} at index {where}; "
            f"clean the data (or pass check_finite=False if you know what you are doing)"
        )


def _as_mask(attn_mask, target: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    mask = np.asarray(attn_mask)
    if mask.dtype.kind not in "bf":
        raise TypeError(
            f"attn_mask must be boolean (True = takes part in attention) or floating "
            f"(added to the scores), got {describe(attn_mask)}"
            + (f" with dtype {mask.dtype}" if not isinstance(attn_mask, np.ndarray) else "")
            + "; for 0/1 integers use attn_mask.astype(bool)"
        )
    try:
        fits = np.broadcast_shapes(mask.shape, target) == target
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(
            f"attn_mask of shape {mask.shape} does not broadcast to the scores' shape "
            f"{target} (batch..., L, S); give it shape (L, S) = {target[-2:]} or one that "
            f"broadcasts to {target}"
        )
    if mask.dtype.kind == "f":
        if np.isnan(mask).any() or np.isposinf(mask).any():
            raise ValueError("attn_mask must not contain NaN or +inf (use -inf to exclude a key)")
        mask = mask.astype(dtype, copy=False)
    return mask


def scaled_dot_product_attention(q, k, v, attn_mask=None, is_causal: bool = False,
                                 scale: float | None = None, return_weights: bool = False,
                                 block_size: int | None = None, *, check_finite: bool = True,
                                 n_threads: int | None = None):
    r"""Attention: ``softmax(q kᵀ · scale + mask) v``, with PyTorch's mask semantics.

    Each query row takes a weighted average of the value rows; the weights are
    the softmax of the query's dot products with the keys.

    .. math::

        \operatorname{Attention}(Q, K, V) =
        \operatorname{softmax}\!\Big(\frac{Q K^\top}{\sqrt{E}} + M\Big)\, V

    Shape legend: ``L`` queries, ``S`` keys/values, ``E`` query/key size, ``Ev``
    value size; ``...`` leading batch/head axes (broadcast against each other).
    The module docstring of :mod:`dotwise.attention.sdpa` has a 15-line NumPy
    reference implementation that is the specification.

    Parameters
    ----------
    q : array_like of shape (..., L, E)
        Queries.
    k : array_like of shape (..., S, E)
        Keys.
    v : array_like of shape (..., S, Ev)
        Values.
    attn_mask : array_like of bool or float, broadcastable to (..., L, S), optional
        Boolean: ``True`` = the key takes part in attention for that query
        (PyTorch SDPA's convention; the inverse of ``nn.MultiheadAttention``'s
        masks). Float: added to the scores (``-inf`` excludes). Converted to
        the compute dtype.
    is_causal : bool, default=False
        Query ``i`` sees only keys ``j <= i`` (lower triangle aligned top-left
        when ``L != S``, as in PyTorch). Cannot be combined with ``attn_mask``.
    scale : float, optional
        Multiplies the scores; default ``1 / sqrt(E)``.
    return_weights : bool, default=False
        Also return the ``(..., L, S)`` weights (uses the dense path).
    block_size : int, optional
        Keys per block of the NumPy blocked path, and a request for it when the
        compiled kernel is not there (by default that path is chosen once
        ``L * S >= 128 * 128``, with 1024 keys per block). The compiled kernel
        always works in its own tiles of 32 queries × 64 keys.
    check_finite : bool, default=True
        Scan the input for NaN and infinity first and name the first one found
        (one fast pass). ``False`` skips the scan: a non-finite value then
        spreads into the result or stops LAPACK with an error of its own.
    n_threads : int, optional
        Threads that share the work (batch slices × tiles of queries); default
        ``DOTWISE_NUM_THREADS`` if set, else the number of CPUs (at most 8).
        The compiled kernel runs them on dotwise's worker pool; the NumPy
        blocked path limits BLAS to one thread meanwhile (process-wide,
        through threadpoolctl).
    Returns
    -------
    out : ndarray of shape (..., L, Ev)
        float32 when every input is float32, else float64 (Python lists count
        as float64; mixed dtypes promote, never downcast).
    weights : ndarray of shape (..., L, S)
        Only with ``return_weights=True``. Rows sum to 1, or are all zero for
        a fully masked query.

    Raises
    ------
    ShapeError
        ``q`` and ``k`` differ in ``E``, ``k`` and ``v`` differ in ``S``, batch
        axes or ``attn_mask`` do not broadcast.
    TypeError
        Integer, boolean or non-numeric ``q``/``k``/``v``; a mask that is neither
        boolean nor float.
    ValueError
        NaN or infinity in the input, ``is_causal`` together with ``attn_mask``,
        ``block_size < 1``, ``return_weights`` together with ``block_size``.

    Notes
    -----
    A query whose keys are all masked gets an output row of zeros (and weights
    of zeros), never NaN. PyTorch 2.13's CPU kernel gives zeros too; its
    "equivalent" reference code in the docstring would give NaN.

    Without ``return_weights`` the ``(L, S)`` scores are never built. float32
    and float64 input runs in the compiled fused kernel (``dotwise._dwattn``,
    built at install; its variant for this CPU's widest vector instructions is
    picked at the first call): per tile of queries it computes the score tiles,
    masks them and keeps the online softmax's running max and sum while it
    accumulates the weighted values. Without the extension, or with
    ``DOTWISE_PURE_NUMPY=1``, the same algorithm runs in NumPy
    (:mod:`dotwise.attention.blocked`) once ``L * S >= 128 * 128``, and the
    dense formula below that. All of them match the dense formula to float
    rounding; float32 is computed in float32, float64 in float64.

    Array-API input (CuPy arrays, PyTorch tensors on the CPU or a GPU, any
    array with ``__array_namespace__``) is computed in its own namespace and on
    its device, and the result is of the same kind (:mod:`dotwise.attention._xp_sdpa`):
    same semantics and masks, float32/float64 only (half precision is refused
    with the conversion to make), all of ``q``, ``k``, ``v`` and ``attn_mask`` from
    one library on one device. There the automatic choice of the blocked path
    is by memory (more than 2**28 scores), and ``n_threads`` does not apply.
    PyTorch tensors without ``block_size`` or ``return_weights`` go to torch's
    own fused kernel (same semantics, fully masked rows set to zero).

    Examples
    --------
    >>> q = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> k = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> v = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    >>> out, w = scaled_dot_product_attention(q, k, v, return_weights=True)
    >>> w.round(3)
    array([[0.401, 0.198, 0.401],
           [0.198, 0.401, 0.401]])
    >>> w.sum(axis=-1)
    array([1., 1.])
    >>> out.round(3)
    array([[0.602, 0.398],
           [0.398, 0.602]])
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((2, 4, 5, 8), dtype=np.float32)  # (batch, heads, L, E)
    >>> scaled_dot_product_attention(x, x, x, is_causal=True).shape
    (2, 4, 5, 8)
    """
    if (attn_mask is None and not return_weights and block_size is None and n_threads is None
            and _fast_operands(q, k, v) and (is_causal is True or is_causal is False)
            and (scale is None or type(scale) is float and math.isfinite(scale))):
        # the common call (NumPy arrays of one dtype and batch shape, no mask): straight to
        # the compiled kernel, the checks below that such a call passes left out
        batch, L, Ev = q.shape[:-2], q.shape[-2], v.shape[-1]
        return _run_kernel(q, k, v, None, is_causal,
                           1.0 / math.sqrt(q.shape[-1]) if scale is None else scale,
                           batch, L, Ev, q.dtype, worker_threads(), check_finite)
    if any(is_array_api(a) for a in (q, k, v, attn_mask)):  # CuPy, torch...: on their device
        return _xp_sdpa(q, k, v, attn_mask, is_causal, scale, return_weights, block_size,
                        check_finite=check_finite, n_threads=n_threads)
    q = _as_operand(q, "q")
    k = _as_operand(k, "k")
    v = _as_operand(v, "v")
    if q.shape[-1] != k.shape[-1]:
        raise ShapeError(
            f"q and k must have the same embedding size E (last axis): q has shape "
            f"{q.shape}, k has shape {k.shape}"
        )
    if k.shape[-2] != v.shape[-2]:
        raise ShapeError(
            f"k and v must have the same number of keys S (second-to-last axis): k has "
            f"shape {k.shape}, v has shape {v.shape}"
        )
    if q.shape[-1] == 0:
        raise ShapeError(f"q and k must have an embedding size E >= 1, got shape {q.shape}")
    try:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ShapeError(
            f"the leading (batch/head) axes of q, k and v must broadcast: q has shape "
            f"{q.shape}, k {k.shape}, v {v.shape}"
        ) from None
    dtype = np.result_type(q, k, v)
    # the compiled kernel scans its input for NaN and infinity itself, in cache
    kernel = bool(not return_weights and _attn.supports(dtype) and q.size and k.size and v.size)
    if check_finite and not kernel:
        for arr, name in ((q, "q"), (k, "k"), (v, "v")):
            _check_finite(arr, name)
    q, k, v = (a.astype(dtype, copy=False) for a in (q, k, v))
    L, S, E, Ev = q.shape[-2], k.shape[-2], q.shape[-1], v.shape[-1]

    check_causal(is_causal, attn_mask)
    if scale is None:
        scale = 1.0 / np.sqrt(E)
    elif isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not np.isfinite(scale):
        raise TypeError(f"scale must be a finite real number or None, got {describe(scale)}")
    if block_size is not None:
        block_size = check_int(block_size, "block_size", minimum=1)
        if return_weights:
            raise ValueError(
                "return_weights=True needs the full (L, S) weight matrix, which the blocked "
                "path exists to avoid; drop block_size (or return_weights)"
            )
    n_threads = worker_threads() if n_threads is None else check_int(
        n_threads, "n_threads", minimum=1)
    mask = None if attn_mask is None else _as_mask(attn_mask, (*batch, L, S), dtype)

    if L == 0 or S == 0:  # nothing to attend to: every row is "fully masked"
        out = np.zeros((*batch, L, Ev), dtype)
        return (out, np.zeros((*batch, L, S), dtype)) if return_weights else out
    if kernel:  # the compiled fused kernel
        qb, kb, vb, mb = _broadcast(q, k, v, mask, batch)
        return _run_kernel(qb, kb, vb, mb, bool(is_causal), float(scale), batch, L, Ev, dtype,
                           n_threads, check_finite, (q, k, v))
    use_blocked = block_size is not None or (not return_weights and L * S >= AUTO_BLOCKED_MIN_SCORES)
    if use_blocked:  # NumPy, block by block: no compiler at install, or DOTWISE_PURE_NUMPY=1
        out = np.empty((*batch, L, Ev), dtype)
        qb, kb, vb, mb = _broadcast(q, k, v, mask, batch)
        # a key block never needs more than S columns (block_size=10**12 must not allocate)
        block = min(block_size or DEFAULT_BLOCK, S)
        out = blocked_attention(qb, kb, vb, mb, bool(is_causal), float(scale),
                                block, batch, out, n_threads)
        return _checked(out, check_finite)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported by _checked
        weights = _dense_weights(q, k, mask, bool(is_causal), float(scale), batch)
        out = np.matmul(weights, v)
    out = _checked(out, check_finite)
    return (out, weights) if return_weights else out


def _fast_operands(q, k, v) -> bool:
    """Whether q, k, v are non-empty NumPy arrays of one kernel dtype and batch shape that
    agree in E and S (then none of the general path's conversions or errors applies)."""
    if not (type(q) is np.ndarray and type(k) is np.ndarray and type(v) is np.ndarray):
        return False
    qs, ks, vs = q.shape, k.shape, v.shape
    return (q.dtype is k.dtype is v.dtype and len(qs) >= 2 and len(ks) == len(qs) == len(vs)
            and qs[:-2] == ks[:-2] == vs[:-2] and qs[-1] == ks[-1] and ks[-2] == vs[-2]
            and q.size > 0 and k.size > 0 and v.size > 0 and _attn.supports(q.dtype))


def _run_kernel(q, k, v, mask, causal: bool, scale: float, batch, L: int, Ev: int, dtype,
                n_threads: int, check_finite: bool, given=None) -> np.ndarray:
    """The compiled kernel on views broadcast to ``batch``; the kernel scans for NaN/inf.

    ``given``: the operands as the caller passed them (before broadcasting), for the
    message that names the first non-finite value; default ``(q, k, v)``.
    """
    out = np.empty((*batch, L, Ev), dtype)
    bad = _attn.attend_checked(q, k, v, mask, causal, scale, out, n_threads, check_finite)
    if bad & _attn.BAD_INPUT:  # name the first non-finite value, as the scan would
        for arr, name in zip(given or (q, k, v), ("q", "k", "v"), strict=True):
            _check_finite(arr, name)
    if bad & _attn.BAD_OUTPUT:
        _raise_overflow(dtype)
    return out


def fused_attention_into(q: np.ndarray, k: np.ndarray, v: np.ndarray, attn_mask, is_causal: bool,
                         out: np.ndarray) -> bool:
    """Attention of trusted ``(..., L, E)`` operands written into ``out``, when the kernel can.

    For callers inside dotwise (``MultiHeadAttention``) that hold the operands as strided
    views and want the heads written straight into their own layout (``out`` may be a
    view such as ``y.reshape(B, L, H, D).transpose(0, 2, 1, 3)``; its last axis must be
    contiguous). ``q``, ``k``, ``v`` and ``out`` share one dtype and the batch shape of
    ``out``; the mask is checked as in :func:`scaled_dot_product_attention`. Returns
    ``False``, having done nothing, when the compiled kernel does not run this (not
    built, ``DOTWISE_PURE_NUMPY``, another dtype, empty input); the caller then calls
    :func:`scaled_dot_product_attention`.
    """
    dtype, batch = out.dtype, out.shape[:-2]
    L, S = q.shape[-2], k.shape[-2]
    if (not _attn.supports(dtype) or L == 0 or S == 0 or out.strides[-1] != out.itemsize
            or any(a.dtype != dtype for a in (q, k, v))):
        return False
    check_causal(is_causal, attn_mask)
    mask = None if attn_mask is None else _as_mask(attn_mask, (*batch, L, S), dtype)
    qb, kb, vb, mb = _broadcast(q, k, v, mask, batch)
    _attn.attend(qb, kb, vb, mb, bool(is_causal), 1.0 / np.sqrt(q.shape[-1]), out,
                 worker_threads())
    return True


def _broadcast(q, k, v, mask, batch):
    """``q``, ``k``, ``v`` and ``mask`` as views broadcast to the common batch axes."""
    L, S = q.shape[-2], k.shape[-2]

    def to(a, shape):
        return a if a is None or a.shape == shape else np.broadcast_to(a, shape)

    return (to(q, (*batch, L, q.shape[-1])), to(k, (*batch, S, k.shape[-1])),
            to(v, (*batch, S, v.shape[-1])), to(mask, (*batch, L, S)))


def _checked(out: np.ndarray, inputs_finite: bool) -> np.ndarray:
    """Refuse a NaN that finite inputs can only produce by overflow of the scores."""
    if inputs_finite and not all_finite(out):
        _raise_overflow(out.dtype)
    return out


def _raise_overflow(dtype: np.dtype):
    raise FloatRangeError(
        f"attention scores overflow {dtype}: scale · q·k exceeds "
        f"{np.finfo(dtype).max:.3g} for some query/key pair, so the softmax is "
        f"undefined; scale q or k down (or pass a smaller scale=)"
    )


def _dense_weights(q, k, mask, causal, scale, batch):
    """The ``(*batch, L, S)`` softmax weights, built in one piece (trusted input)."""
    dt = q.dtype
    L, S = q.shape[-2], k.shape[-2]
    qs = np.broadcast_to(q * dt.type(scale), (*batch, *q.shape[-2:]))
    scores = np.matmul(qs, np.swapaxes(k, -1, -2))
    if causal:
        np.copyto(scores, dt.type(-np.inf), where=~np.tri(L, S, dtype=bool))
    if mask is not None:
        if mask.dtype == bool:
            np.copyto(scores, dt.type(-np.inf), where=~mask)
        else:
            scores += mask
    return softmax_unchecked(scores, axis=-1)
