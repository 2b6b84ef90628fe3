r"""Multi-head attention with a parameter layout that loads PyTorch's weights.

``H`` heads of size ``D = E / H`` each attend in their own subspace:

.. math::

    Q = X W_q^\top + b_q, \quad K = C W_k^\top + b_k, \quad V = C W_v^\top + b_v,
    \qquad
    \operatorname{head}_h = \operatorname{softmax}\!\Big(\frac{Q_h K_h^\top}{\sqrt{D}} + M\Big) V_h,
    \qquad
    Y = [\operatorname{head}_1, \dots, \operatorname{head}_H]\, W_o^\top + b_o

with ``C = X`` for self-attention. ``W_q, W_k, W_v`` are stacked row-wise in
``in_proj_weight`` of shape ``(3E, E)``, exactly as ``torch.nn.MultiheadAttention``
stores them, so ``state_dict()`` / ``load_state_dict()`` move weights across.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import ShapeError, as_float_array, check_int, describe
from .._xp import is_array_api
from ._xp_multihead import forward as _xp_forward
from .sdpa import fused_attention_into, scaled_dot_product_attention

__all__ = ["MultiHeadAttention"]


class MultiHeadAttention:
    """Multi-head attention (self or cross), batch-first, heads in one batched call.

    Parameters
    ----------
    d_model : int
        Embedding size ``E`` of the inputs and the output.
    n_heads : int
        Number of heads ``H``; must divide ``d_model``.
    bias : bool, default=True
        Whether the input and output projections have a bias.
    random_state : int or numpy.random.Generator, optional
        Seed for the Xavier/Glorot-uniform initialisation of the weights
        (biases start at zero, like PyTorch).
    dtype : {float32, float64}, default=float32
        dtype of the parameters. Inputs of another dtype are computed in the
        wider of the two (float64 input is never downcast).

    Attributes
    ----------
    in_proj_weight : ndarray of shape (3 * d_model, d_model)
        ``[W_q; W_k; W_v]`` stacked, as in PyTorch.
    in_proj_bias : ndarray of shape (3 * d_model,) or None
    out_proj_weight : ndarray of shape (d_model, d_model)
    out_proj_bias : ndarray of shape (d_model,) or None
    head_dim : int
        ``d_model // n_heads``.

    Notes
    -----
    Masks follow :func:`scaled_dot_product_attention` (boolean ``True`` = takes
    part), which is the *inverse* of ``torch.nn.MultiheadAttention``'s boolean
    ``attn_mask`` and ``key_padding_mask``. There is no dropout.

    Examples
    --------
    >>> mha = MultiHeadAttention(16, 4, random_state=0)
    >>> x = np.random.default_rng(0).standard_normal((2, 5, 16))  # (batch, L, E)
    >>> y, w = mha(x, is_causal=True, need_weights=True)
    >>> y.shape, w.shape
    ((2, 5, 16), (2, 5, 5))
    >>> context = np.zeros((2, 7, 16))                              # cross-attention
    >>> mha(x, context).shape
    (2, 5, 16)
    >>> sorted(mha.state_dict())
    ['in_proj_bias', 'in_proj_weight', 'out_proj.bias', 'out_proj.weight']
    """

    def __init__(self, d_model: int, n_heads: int, *, bias: bool = True,
                 random_state=None, dtype=np.float32):
        d_model = check_int(d_model, "d_model", minimum=1)
        n_heads = check_int(n_heads, "n_heads", minimum=1)
        if d_model % n_heads:
            raise ValueError(
                f"d_model must be divisible by n_heads (each head gets d_model / n_heads "
                f"dimensions), got d_model={d_model} and n_heads={n_heads}; divisors of "
                f"{d_model}: {[h for h in range(1, d_model + 1) if d_model % h == 0]}"
            )
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise TypeError(f"dtype must be float32 or float64, got {dtype}")
        self.d_model, self.n_heads, self.head_dim = d_model, n_heads, d_model // n_heads
        self.bias, self.dtype = bool(bias), dtype
        rng = np.random.default_rng(random_state)
        E = d_model
        # Glorot/Xavier uniform over the stacked (3E, E) matrix, as torch does.
        lim_in = np.sqrt(6.0 / (E + 3 * E))
        lim_out = np.sqrt(6.0 / (E + E))
        self.in_proj_weight = rng.uniform(-lim_in, lim_in, (3 * E, E)).astype(dtype)
        self.out_proj_weight = rng.uniform(-lim_out, lim_out, (E, E)).astype(dtype)
        self.in_proj_bias = np.zeros(3 * E, dtype) if bias else None
        self.out_proj_bias = np.zeros(E, dtype) if bias else None

    def __repr__(self) -> str:
        return (f"MultiHeadAttention(d_model={self.d_model}, n_heads={self.n_heads}, "
                f"bias={self.bias}, dtype={self.dtype.name})")

    # ----------------------------------------------------------------- weights
    def _keys(self) -> dict[str, tuple[str, tuple[int, ...]]]:
        E = self.d_model
        keys = {"in_proj_weight": ("in_proj_weight", (3 * E, E)),
                "out_proj.weight": ("out_proj_weight", (E, E))}
        if self.bias:
            keys["in_proj_bias"] = ("in_proj_bias", (3 * E,))
            keys["out_proj.bias"] = ("out_proj_bias", (E,))
        return keys

    def state_dict(self) -> dict[str, np.ndarray]:
        """The parameters under ``torch.nn.MultiheadAttention``'s names (copies).

        Returns
        -------
        dict of str to ndarray
            ``in_proj_weight`` (3E, E), ``out_proj.weight`` (E, E) and, with
            ``bias=True``, ``in_proj_bias`` (3E,) and ``out_proj.bias`` (E,).
            ``{k: torch.from_numpy(v) for k, v in mha.state_dict().items()}``
            loads into a torch module with ``batch_first=True``.
        """
        return {key: getattr(self, attr).copy() for key, (attr, _) in self._keys().items()}

    def load_state_dict(self, state: dict[str, Any]) -> MultiHeadAttention:
        """Load parameters saved by :meth:`state_dict` or by ``torch.nn.MultiheadAttention``.

        Values may be NumPy arrays or torch tensors (read through ``.detach()``).
        Every expected key must be present with the expected shape; unknown keys
        are an error (a torch module with ``kdim``/``vdim`` != ``embed_dim``
        stores separate ``q_proj_weight``/``k_proj_weight``/``v_proj_weight``,
        which dotwise does not support).

        Returns
        -------
        self
        """
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict of name -> array, got {describe(state)}")
        expected = self._keys()
        missing = sorted(set(expected) - set(state))
        unexpected = sorted(set(state) - set(expected))
        if missing or unexpected:
            raise KeyError(
                f"state_dict keys do not match MultiHeadAttention(d_model={self.d_model}, "
                f"bias={self.bias}): missing {missing}, unexpected {unexpected}"
            )
        loaded = {}
        for key, (attr, shape) in expected.items():
            value = state[key]
            if hasattr(value, "detach"):  # a torch tensor, without importing torch
                value = value.detach().cpu().numpy()
            arr = as_float_array(value, f"state[{key!r}]", dtype=self.dtype)
            if arr.shape != shape:
                raise ShapeError(f"state[{key!r}] must have shape {shape}, got {arr.shape}")
            loaded[attr] = arr.copy()
        for attr, arr in loaded.items():
            setattr(self, attr, arr)
        return self

    # ------------------------------------------------------------------ call
    def __call__(self, x, context=None, attn_mask=None, is_causal: bool = False,
                 need_weights: bool = False, average_attn_weights: bool = True,
                 block_size: int | None = None):
        """Attend from ``x`` to ``context`` (to ``x`` itself when ``context`` is None).

        Parameters
        ----------
        x : array_like of shape (B, L, E) or (L, E)
            Queries' input sequence (batch first).
        context : array_like of shape (B, S, E) or (S, E), optional
            Keys' and values' input sequence (cross-attention); default ``x``.
        attn_mask : array_like of bool or float, optional
            Shape (L, S), (B, L, S), (B, 1, S) (from :func:`padding_mask`) or
            (B, H, L, S); boolean ``True`` = takes part, float is added.
        is_causal : bool, default=False
            Query ``i`` sees keys ``j <= i``.
        need_weights : bool, default=False
            Also return the attention weights (uses the dense path).
        average_attn_weights : bool, default=True
            With ``need_weights``, average the weights over heads (B, L, S) like
            PyTorch's default; False gives per-head weights (B, H, L, S).
        block_size : int, optional
            Passed to :func:`scaled_dot_product_attention`.

        Returns
        -------
        out : ndarray of shape (B, L, E) or (L, E)
        weights : ndarray of shape (B, L, S), (B, H, L, S) or without B
            Only with ``need_weights=True``.

        Notes
        -----
        With array-API input (CuPy, PyTorch on the CPU or a GPU) the whole forward
        pass runs in that namespace, on that device, and returns arrays of the same
        kind; the parameters are copied to the device once and cached there
        (:mod:`dotwise.attention._xp_multihead`).
        """
        if any(is_array_api(a) for a in (x, context, attn_mask)):  # CuPy, torch...: on device
            return _xp_forward(self, x, context, attn_mask, is_causal, need_weights,
                               average_attn_weights, block_size)
        x = self._input(x, "x")
        c = x if context is None else self._input(context, "context")
        if x.ndim != c.ndim or (x.ndim == 3 and x.shape[0] != c.shape[0]):
            raise ShapeError(
                f"x and context must both be batched (B, L, E) with the same B, or both "
                f"unbatched (L, E): x has shape {x.shape}, context has shape {c.shape}"
            )
        unbatched = x.ndim == 2
        if unbatched:
            x, c = x[None], c[None]
        dtype = np.result_type(x, self.in_proj_weight)
        E, H, D = self.d_model, self.n_heads, self.head_dim
        W = self.in_proj_weight.astype(dtype, copy=False)
        b = None if self.in_proj_bias is None else self.in_proj_bias.astype(dtype, copy=False)
        B, L, S = x.shape[0], x.shape[1], c.shape[1]
        if context is None:  # one (E, 3E) matmul for q, k and v together
            qkv = x @ W.T
            if b is not None:
                qkv += b
            q, k, v = (qkv[..., i * E:(i + 1) * E] for i in range(3))
        else:
            q = x @ W[:E].T
            kv = c @ W[E:].T
            if b is not None:
                q += b[:E]
                kv += b[E:]
            k, v = kv[..., :E], kv[..., E:]
        # (B, L, E) -> (B, H, L, D): the heads become a batch axis of one SDPA call
        # (strided views of the projections: no copy).
        q, k, v = (t.reshape(B, -1, H, D).transpose(0, 2, 1, 3) for t in (q, k, v))
        mask = self._mask(attn_mask, B, L, S)
        heads = np.empty((B, L, E), dtype)   # the compiled kernel writes each head in place
        if need_weights or block_size is not None or not fused_attention_into(
                q, k, v, mask, is_causal, heads.reshape(B, L, H, D).transpose(0, 2, 1, 3)):
            result = scaled_dot_product_attention(
                q, k, v, attn_mask=mask, is_causal=is_causal, return_weights=need_weights,
                block_size=block_size, check_finite=False)
            out4, weights = result if need_weights else (result, None)
            heads = out4.transpose(0, 2, 1, 3).reshape(B, L, E)
        else:
            weights = None
        y = heads @ self.out_proj_weight.astype(dtype, copy=False).T
        if self.out_proj_bias is not None:
            y += self.out_proj_bias
        if need_weights and average_attn_weights:
            weights = weights.mean(axis=1)
        if unbatched:
            y = y[0]
            weights = None if weights is None else weights[0]
        return (y, weights) if need_weights else y

    def _input(self, value, name: str) -> np.ndarray:
        if isinstance(value, np.ndarray) and value.dtype.kind in "iub":
            raise TypeError(f"{name} must be a floating-point array, got {describe(value)}")
        arr = as_float_array(value, name, ndim=(2, 3))
        if arr.shape[-1] != self.d_model:
            raise ShapeError(
                f"{name} must have d_model = {self.d_model} features in its last axis, "
                f"got shape {arr.shape}"
            )
        return arr

    def _mask(self, attn_mask, B: int, L: int, S: int):
        if attn_mask is None:
            return None
        mask = np.asarray(attn_mask)
        if mask.ndim == 3:  # (B, L, S) or (B, 1, S): one mask per batch item, all heads
            mask = mask[:, None]
        elif mask.ndim not in (2, 4):
            raise ShapeError(
                f"attn_mask must have shape (L, S), (B, L, S) or (B, H, L, S) = "
                f"({L}, {S}), ({B}, {L}, {S}) or ({B}, {self.n_heads}, {L}, {S}), "
                f"got {describe(attn_mask)}"
            )
        return mask
