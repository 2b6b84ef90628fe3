"""Boolean attention masks: ``True`` means "this query may attend to this key".

The convention is PyTorch's ``scaled_dot_product_attention`` one (``True`` takes
part). It is the *inverse* of ``torch.nn.MultiheadAttention``'s
``key_padding_mask`` and boolean ``attn_mask``, where ``True`` means "masked
out"; invert with ``~mask`` when moving masks across.
"""

from __future__ import annotations

import numpy as np

from .._validation import ShapeError, check_int, describe

__all__ = ["causal_mask", "padding_mask"]


def causal_mask(L: int, S: int | None = None) -> np.ndarray:
    """Lower-triangular boolean mask: query ``i`` sees keys ``j <= i``.

    Aligned top-left, like ``is_causal=True`` in PyTorch: when ``L != S`` the
    diagonal starts at ``(0, 0)``, so with ``L > S`` the last ``L - S`` queries
    see every key, and with ``L < S`` the last ``S - L`` keys are seen by nobody.

    Parameters
    ----------
    L : int
        Number of queries (target length), >= 0.
    S : int, optional
        Number of keys (source length); default ``L``.

    Returns
    -------
    ndarray of bool, shape (L, S)

    Examples
    --------
    >>> causal_mask(3).astype(int)
    array([[1, 0, 0],
           [1, 1, 0],
           [1, 1, 1]])
    >>> causal_mask(2, 3).astype(int)
    array([[1, 0, 0],
           [1, 1, 0]])
    """
    L = check_int(L, "L", minimum=0)
    S = L if S is None else check_int(S, "S", minimum=0)
    return np.tri(L, S, dtype=bool)


def padding_mask(lengths, S: int) -> np.ndarray:
    """Mask out padding keys: sequence ``b`` has ``lengths[b]`` real keys, then padding.

    Parameters
    ----------
    lengths : array_like of int, shape (B,)
        Real length of each sequence in the batch, ``0 <= lengths[b] <= S``.
    S : int
        Padded length (number of keys).

    Returns
    -------
    ndarray of bool, shape (B, 1, S)
        ``mask[b, 0, j]`` is True when ``j < lengths[b]``. The middle axis
        broadcasts over the queries, so the mask fits scores of shape
        ``(B, L, S)``; for per-head scores ``(B, H, L, S)`` use ``mask[:, None]``
        (``MultiHeadAttention`` accepts it as it is).

    Examples
    --------
    >>> padding_mask([2, 3], 4).astype(int)
    array([[[1, 1, 0, 0]],
    <BLANKLINE>
           [[1, 1, 1, 0]]])
    """
    S = check_int(S, "S", minimum=0)
    arr = np.asarray(lengths)
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise ShapeError(
            f"lengths must be a 1-D sequence of integers (one per batch item), got "
            f"{describe(lengths)}"
            + (f" with dtype {arr.dtype}" if arr.dtype.kind not in "iuO" else "")
        )
    bad = (arr < 0) | (arr > S)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"lengths must lie in [0, S] = [0, {S}], got lengths[{i}] = {int(arr[i])}"
        )
    return (np.arange(S)[None, :] < arr[:, None])[:, None, :]


def check_causal(is_causal, attn_mask) -> None:
    """The rules for ``is_causal`` shared by every attention entry point (private).

    ``is_causal`` must be a bool, and it cannot be combined with ``attn_mask`` (as in
    PyTorch): the message says how to combine them by hand.
    """
    if not isinstance(is_causal, (bool, np.bool_)):
        raise TypeError(f"is_causal must be True or False, got {describe(is_causal)}")
    if is_causal and attn_mask is not None:
        raise ValueError(
            "is_causal=True and attn_mask cannot be used together (as in PyTorch); "
            "combine them yourself: attn_mask & causal_mask(L, S)"
        )
