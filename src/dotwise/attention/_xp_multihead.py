"""The forward pass of :class:`~dotwise.attention.MultiHeadAttention` on array-API input.

The parameters of a :class:`MultiHeadAttention` are NumPy arrays on the host.
When it is called with a CuPy array or a PyTorch tensor, they are copied once
to that array's device (in the compute dtype) and kept there in a small cache,
which is refreshed whenever the parameters are replaced (``load_state_dict``,
assignment). The data itself never leaves its device: projections, the
attention of every head and the output projection run in the input's namespace.
"""

from __future__ import annotations

from .._validation import ShapeError
from .._xp import array_namespace, describe_array, float_array
from ._xp_sdpa import scaled_dot_product_attention

__all__ = ["forward"]

_PARAMS = ("in_proj_weight", "in_proj_bias", "out_proj_weight", "out_proj_bias")


def _device_params(mha, xp, dev, dtype):
    """The four parameters on ``dev`` in ``dtype`` (copied from the host once, then cached)."""
    host = tuple(getattr(mha, name) for name in _PARAMS)
    key = (xp.__name__, str(dev), str(dtype))
    cache = mha.__dict__.setdefault("_device_cache", {})
    hit = cache.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], host, strict=True)):
        return hit[1]
    moved = tuple(None if a is None else xp.astype(xp.asarray(a, device=dev), dtype)
                  for a in host)
    cache[key] = (host, moved)
    return moved


def _input(mha, value, name, xp):
    arr = float_array(value, name, xp, ndim=(2, 3))
    if arr.shape[-1] != mha.d_model:
        raise ShapeError(f"{name} must have d_model = {mha.d_model} features in its last axis, "
                         f"got shape {tuple(arr.shape)}")
    return arr


def forward(mha, x, context=None, attn_mask=None, is_causal=False, need_weights=False,
            average_attn_weights=True, block_size=None):
    """``MultiHeadAttention.__call__`` for array-API input (same arguments, same results)."""
    xp, dev = array_namespace(("x", x), ("context", context), ("attn_mask", attn_mask))
    x = _input(mha, x, "x", xp)
    c = x if context is None else _input(mha, context, "context", xp)
    if x.ndim != c.ndim or (x.ndim == 3 and x.shape[0] != c.shape[0]):
        raise ShapeError(
            f"x and context must both be batched (B, L, E) with the same B, or both unbatched "
            f"(L, E): x has shape {tuple(x.shape)}, context has shape {tuple(c.shape)}")
    unbatched = x.ndim == 2
    if unbatched:
        x, c = xp.expand_dims(x, axis=0), xp.expand_dims(c, axis=0)
    param_dt = xp.float64 if str(mha.dtype) == "float64" else xp.float32
    dtype = xp.result_type(x.dtype, param_dt)
    x, c = xp.astype(x, dtype), xp.astype(c, dtype)
    W, b, Wo, bo = _device_params(mha, xp, dev, dtype)
    E, H, D = mha.d_model, mha.n_heads, mha.head_dim
    B, L, S = x.shape[0], x.shape[1], c.shape[1]
    if context is None:  # one (E, 3E) matmul for q, k and v together
        qkv = x @ W.T
        if b is not None:
            qkv = qkv + b
        q, k, v = (qkv[..., i * E:(i + 1) * E] for i in range(3))
    else:
        q = x @ W[:E, :].T
        kv = c @ W[E:, :].T
        if b is not None:
            q, kv = q + b[:E], kv + b[E:]
        k, v = kv[..., :E], kv[..., E:]
    # (B, L, E) -> (B, H, L, D): the heads become a batch axis of one SDPA call
    q, k, v = (xp.permute_dims(xp.reshape(t, (B, t.shape[1], H, D)), (0, 2, 1, 3))
               for t in (q, k, v))
    mask = None
    if attn_mask is not None:
        if attn_mask.ndim == 3:  # (B, L, S) or (B, 1, S): one mask per batch item
            mask = xp.expand_dims(attn_mask, axis=1)
        elif attn_mask.ndim in (2, 4):
            mask = attn_mask
        else:
            raise ShapeError(
                f"attn_mask must have shape (L, S), (B, L, S) or (B, H, L, S) = ({L}, {S}), "
                f"({B}, {L}, {S}) or ({B}, {H}, {L}, {S}), got {describe_array(attn_mask)}")
    result = scaled_dot_product_attention(q, k, v, mask, is_causal, None, need_weights,
                                          block_size, check_finite=False)
    heads, weights = result if need_weights else (result, None)
    y = xp.reshape(xp.permute_dims(heads, (0, 2, 1, 3)), (B, L, E)) @ Wo.T
    if bo is not None:
        y = y + bo
    if need_weights and average_attn_weights:
        weights = xp.mean(weights, axis=1)
    if unbatched:
        y = y[0, ...]
        weights = None if weights is None else weights[0, ...]
    return (y, weights) if need_weights else y
