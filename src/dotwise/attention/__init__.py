"""Attention: scaled dot-product and multi-head attention, exact and memory-efficient.

Attention is the dot product twice over: queries are compared with keys by dot
products (``q kᵀ``), the scores become weights by a softmax, and the weights
average the values (``weights @ v``). dotwise follows PyTorch's
``scaled_dot_product_attention`` semantics exactly, computes it in a fused
compiled kernel (or a NumPy blocked path without one) that never builds the
``(L, S)`` score matrix, and keeps the weights available to look at.

>>> import numpy as np
>>> import dotwise as dw
>>> x = np.random.default_rng(0).standard_normal((3, 4), dtype=np.float32)
>>> dw.scaled_dot_product_attention(x, x, x, is_causal=True).dtype
dtype('float32')
"""

from .diagnostics import ScalingReport, attention_entropy, scaling_experiment
from .masks import causal_mask, padding_mask
from .multihead import MultiHeadAttention
from .sdpa import scaled_dot_product_attention

__all__ = [
    "MultiHeadAttention",
    "ScalingReport",
    "attention_entropy",
    "causal_mask",
    "padding_mask",
    "scaled_dot_product_attention",
    "scaling_experiment",
]
