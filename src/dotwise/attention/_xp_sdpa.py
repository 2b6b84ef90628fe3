r"""Scaled dot-product attention on array-API arrays (CuPy, PyTorch CPU/CUDA, ...).

:func:`dotwise.attention.scaled_dot_product_attention` sends foreign arrays here
(see :mod:`dotwise._xp`); NumPy input never comes this way. The specification
is the same 15-line reference as the NumPy path (module docstring of
:mod:`dotwise.attention.sdpa`), written with the array API standard's functions
only, so it runs in the input's namespace and on its device:

* dense: ``softmax(q kᵀ · scale + mask) v`` with the ``(..., L, S)`` scores built
  in one piece (one batched matmul each side);
* blocked: key blocks with the online softmax (see
  :mod:`dotwise.attention.blocked`), query blocks sized so one block of scores
  holds at most :data:`BLOCK_SCORES` entries; the ``(..., L, S)`` matrix is never
  formed.

Without ``block_size`` the dense path runs unless the whole score tensor would
hold more than :data:`DENSE_MAX_SCORES` entries: on an accelerator a few large
kernels beat many small ones, so the choice is by memory, not by ``L · S`` as on
the CPU. A fully masked query gets zeros, never NaN. ``n_threads`` does not
apply (the device schedules its own work).

PyTorch tensors: without ``block_size`` and ``return_weights``, the computation
is handed to ``torch.nn.functional.scaled_dot_product_attention``, whose fused
kernels (FlashAttention, memory-efficient attention) a Python loop of array
operations cannot match on a GPU; the semantics are the same (fully masked
rows are set to zero afterwards). ``block_size`` asks for dotwise's own blocked
path, ``return_weights`` for its dense one; every other namespace (CuPy
included) always runs dotwise's own code.
"""

from __future__ import annotations

import math
import numbers
import sys

import numpy as np

from .._validation import FloatRangeError, ShapeError, check_int, describe
from .._xp import array_namespace, describe_array, finite_or_raise, float_array, is_torch
from .masks import check_causal

__all__ = ["BLOCK_SCORES", "DENSE_MAX_SCORES", "scaled_dot_product_attention"]

#: Above this many scores in total (batch · L · S) the automatic choice is the blocked path.
DENSE_MAX_SCORES = 1 << 28
#: Scores per block of the blocked path (batch · query rows · keys of one block).
BLOCK_SCORES = 1 << 26
#: Keys per block when ``block_size`` is not given.
DEFAULT_BLOCK = 1024


def _prod(shape) -> int:
    return int(math.prod(int(s) for s in shape))


def scaled_dot_product_attention(q, k, v, attn_mask=None, is_causal=False, scale=None,
                                 return_weights=False, block_size=None, *, check_finite=True,
                                 n_threads=None):
    """The array-API twin of :func:`dotwise.attention.scaled_dot_product_attention`."""
    xp, dev = array_namespace(("q", q), ("k", k), ("v", v), ("attn_mask", attn_mask))
    q = float_array(q, "q", xp, min_ndim=2, allow_empty=True, check_finite=False)
    k = float_array(k, "k", xp, min_ndim=2, allow_empty=True, check_finite=False)
    v = float_array(v, "v", xp, min_ndim=2, allow_empty=True, check_finite=False)
    qs, ks, vs = tuple(q.shape), tuple(k.shape), tuple(v.shape)
    if qs[-1] != ks[-1]:
        raise ShapeError(f"q and k must have the same embedding size E (last axis): q has "
                         f"shape {qs}, k has shape {ks}")
    if ks[-2] != vs[-2]:
        raise ShapeError(f"k and v must have the same number of keys S (second-to-last "
                         f"axis): k has shape {ks}, v has shape {vs}")
    if qs[-1] == 0:
        raise ShapeError(f"q and k must have an embedding size E >= 1, got shape {qs}")
    try:
        batch = tuple(np.broadcast_shapes(qs[:-2], ks[:-2], vs[:-2]))
    except ValueError:
        raise ShapeError(f"the leading (batch/head) axes of q, k and v must broadcast: q has "
                         f"shape {qs}, k {ks}, v {vs}") from None
    if check_finite:
        for arr, name in ((q, "q"), (k, "k"), (v, "v")):
            finite_or_raise(arr, name, xp)
    dtype = xp.result_type(q, k, v)
    q, k, v = (a if a.dtype == dtype else xp.astype(a, dtype) for a in (q, k, v))
    L, S, E, Ev = qs[-2], ks[-2], qs[-1], vs[-1]
    check_causal(is_causal, attn_mask)
    if scale is None:
        scale = 1.0 / math.sqrt(E)
    elif (isinstance(scale, bool) or not isinstance(scale, numbers.Real)
          or not math.isfinite(scale)):
        raise TypeError(f"scale must be a finite real number or None, got {describe(scale)}")
    if block_size is not None:
        block_size = check_int(block_size, "block_size", minimum=1)
        if return_weights:
            raise ValueError("return_weights=True needs the full (L, S) weight matrix, which "
                             "the blocked path exists to avoid; drop block_size (or "
                             "return_weights)")
    if n_threads is not None:
        check_int(n_threads, "n_threads", minimum=1)
    target = (*batch, L, S)
    mask = None if attn_mask is None else _as_mask(attn_mask, target, dtype, xp)

    if L == 0 or S == 0:  # nothing to attend to: every row is "fully masked"
        out = xp.zeros((*batch, L, Ev), dtype=dtype, device=dev)
        w = xp.zeros(target, dtype=dtype, device=dev)
        return (out, w) if return_weights else out
    scale = float(scale)
    if is_torch(q) and block_size is None and not return_weights:
        return _checked(_torch_fused(q, k, v, mask, bool(is_causal), scale), check_finite, xp)
    use_blocked = block_size is not None or (
        not return_weights and _prod(target) > DENSE_MAX_SCORES)
    if use_blocked:
        out = _blocked(q, k, v, mask, bool(is_causal), scale,
                       min(block_size or DEFAULT_BLOCK, S), batch, xp, dev)
        return _checked(out, check_finite, xp)
    weights = _dense_weights(q, k, mask, bool(is_causal), scale, xp, dev)
    out = _checked(weights @ v, check_finite, xp)
    return (out, weights) if return_weights else out


def _as_mask(attn_mask, target, dtype, xp):
    mask = attn_mask
    if mask.dtype != xp.bool and not xp.isdtype(mask.dtype, "real floating"):
        raise TypeError(
            f"attn_mask must be boolean (True = takes part in attention) or floating (added "
            f"to the scores), got {describe_array(attn_mask)}; for 0/1 integers pass "
            f"attn_mask == 1")
    try:
        fits = tuple(np.broadcast_shapes(tuple(mask.shape), target)) == target
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(
            f"attn_mask of shape {tuple(mask.shape)} does not broadcast to the scores' shape "
            f"{target} (batch..., L, S); give it shape (L, S) = {target[-2:]} or one that "
            f"broadcasts to {target}")
    if mask.dtype != xp.bool:
        if bool(xp.any(xp.isnan(mask) | (mask == xp.inf))):
            raise ValueError("attn_mask must not contain NaN or +inf (use -inf to exclude a key)")
        if mask.dtype != dtype:
            mask = xp.astype(mask, dtype)
    return mask


def _neg_inf(dtype, xp, dev):
    return xp.asarray(-math.inf, dtype=dtype, device=dev)


def _causal(i0, i1, j0, j1, xp, dev):
    """``(i1 - i0, j1 - j0)`` booleans: key ``j`` visible from query ``i`` (``j <= i``)."""
    rows = xp.arange(i0, i1, device=dev)
    cols = xp.arange(j0, j1, device=dev)
    return xp.expand_dims(cols, axis=0) <= xp.expand_dims(rows, axis=1)


def _apply(s, mask, causal, i0, i1, j0, j1, xp, dev):
    """Add or apply the mask (block ``[i0:i1, j0:j1]``) and the causal triangle to scores."""
    if mask is not None:
        r = slice(i0, i1) if mask.shape[-2] != 1 else slice(None)  # broadcast axes stay whole
        c = slice(j0, j1) if mask.shape[-1] != 1 else slice(None)
        mb = mask[..., r, c]
        s = xp.where(mb, s, _neg_inf(s.dtype, xp, dev)) if mb.dtype == xp.bool else s + mb
    if causal and j1 - 1 > i0:  # the block crosses the diagonal
        s = xp.where(_causal(i0, i1, j0, j1, xp, dev), s, _neg_inf(s.dtype, xp, dev))
    return s


def _dense_weights(q, k, mask, causal, scale, xp, dev):
    """The ``(..., L, S)`` softmax weights in one piece; all-masked rows give zeros."""
    L, S = q.shape[-2], k.shape[-2]
    s = _apply((q * scale) @ xp.matrix_transpose(k), mask, causal, 0, L, 0, S, xp, dev)
    m = xp.max(s, axis=-1, keepdims=True)
    m = xp.where(m == -math.inf, xp.zeros_like(m), m)  # a fully masked row: exp(-inf) = 0
    e = xp.exp(s - m)
    total = xp.sum(e, axis=-1, keepdims=True)
    return e / xp.where(total > 0, total, xp.ones_like(total))


def _blocked(q, k, v, mask, causal, scale, block, batch, xp, dev):
    """Online softmax over key blocks, for query blocks of bounded size."""
    L, S, Ev = q.shape[-2], k.shape[-2], v.shape[-1]
    nb = max(1, _prod(batch))
    rows = max(1, min(L, BLOCK_SCORES // (nb * block)))
    qs = q * scale
    if mask is not None:
        mask = xp.broadcast_to(mask, (*batch, L, S))
    parts = []
    for i0 in range(0, L, rows):
        i1 = min(L, i0 + rows)
        qb = qs[..., i0:i1, :]
        run_max = xp.full((*batch, i1 - i0, 1), -math.inf, dtype=q.dtype, device=dev)
        run_sum = xp.zeros((*batch, i1 - i0, 1), dtype=q.dtype, device=dev)
        acc = xp.zeros((*batch, i1 - i0, Ev), dtype=q.dtype, device=dev)
        k_end = min(S, i1) if causal else S  # row i sees keys j <= i (top-left aligned)
        for j0 in range(0, k_end, block):
            j1 = min(k_end, j0 + block)
            s = qb @ xp.matrix_transpose(k[..., j0:j1, :])
            s = _apply(s, mask, causal, i0, i1, j0, j1, xp, dev)
            new_max = xp.maximum(run_max, xp.max(s, axis=-1, keepdims=True))
            # shift by 0 where a row has seen only -inf so far: exp gives 0, not NaN
            shift = xp.where(new_max == -math.inf, xp.zeros_like(new_max), new_max)
            alpha = xp.exp(run_max - shift)
            p = xp.exp(s - shift)
            run_sum = run_sum * alpha + xp.sum(p, axis=-1, keepdims=True)
            acc = acc * alpha + p @ v[..., j0:j1, :]
            run_max = new_max
        seen = run_sum > 0
        out = xp.where(seen, acc / xp.where(seen, run_sum, xp.ones_like(run_sum)),
                       xp.zeros_like(acc))
        # overflowed scores (inf − inf) leave NaN in run_sum: keep it, the caller reports it
        out = xp.where(xp.isnan(run_sum), xp.full_like(acc, math.nan), out)
        parts.append(out)
    return parts[0] if len(parts) == 1 else xp.concat(parts, axis=-2)


def _torch_fused(q, k, v, mask, causal, scale):
    """PyTorch's fused kernel (FlashAttention / memory-efficient / math, torch's choice).

    Same semantics as the reference (boolean True = takes part, float added, causal
    aligned top-left); a query whose keys are all masked is set to zero afterwards,
    since some CUDA kernels give NaN there.
    """
    torch = sys.modules["torch"]
    out = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                                           is_causal=causal, scale=scale)
    if mask is not None:
        dead = (~mask if mask.dtype == torch.bool else mask == -math.inf).all(dim=-1,
                                                                             keepdim=True)
        out = torch.where(dead, torch.zeros((), dtype=out.dtype, device=out.device), out)
    return out


def _checked(out, inputs_finite, xp):
    """Refuse a NaN that finite inputs can only produce by overflow of the scores."""
    if inputs_finite and not bool(xp.all(xp.isfinite(out))):
        raise FloatRangeError(
            f"attention scores overflow {out.dtype}: scale · q·k exceeds "
            f"{float(xp.finfo(out.dtype).max):.3g} for some query/key pair, so the softmax is "
            f"undefined; scale q or k down (or pass a smaller scale=)")
    return out
