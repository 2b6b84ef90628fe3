"""Attention: scaled dot-product and multi-head attention, exact and memory-efficient.

Attention is the dot product twice over: queries are compared with keys by dot
products (``q kᵀ``), the scores become weights by a softmax, and the weights
average the values (``weights @ v``). dotwise follows PyTorch's
``scaled_dot_product_attention`` semantics exactly, has a blocked path that
never builds the ``(L, S)`` score matrix, and keeps the weights available to
look at.
"""

from .masks import causal_mask, padding_mask
from .sdpa import scaled_dot_product_attention

__all__ = [
    "causal_mask",
    "padding_mask",
    "scaled_dot_product_attention",
]
