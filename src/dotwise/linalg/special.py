r"""Numerically stable softmax and log-sum-exp: the one home of softmax in dotwise.

Attention, the recommenders and the playground import softmax from here.

.. math::

    \operatorname{softmax}(x)_i = \frac{e^{x_i - m}}{\sum_j e^{x_j - m}}, \qquad
    \operatorname{logsumexp}(x) = m + \log \sum_j e^{x_j - m}, \qquad m = \max_j x_j

Subtracting the maximum changes nothing mathematically and keeps every
exponent ≤ 0, so nothing overflows. Entries equal to ``-inf`` get weight 0; a
slice that is entirely ``-inf`` (everything masked) gives zeros from softmax
and ``-inf`` from logsumexp, never NaN.
"""

from __future__ import annotations

import numpy as np

from .._validation import ShapeError, as_float_array, check_int

__all__ = ["log_softmax", "logsumexp", "softmax"]


def _axis(axis, ndim: int) -> int:
    axis = check_int(axis, "axis")
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis must be in [{-ndim}, {ndim - 1}] for a {ndim}-D input, got {axis}")
    return axis


def _finite_max(x: np.ndarray, axis: int) -> np.ndarray:
    m = np.max(x, axis=axis, keepdims=True)
    # A slice that is all -inf has max -inf; shift by 0 instead so exp gives 0, not NaN.
    return np.where(np.isneginf(m), 0.0, m).astype(x.dtype, copy=False)


def softmax(x, axis: int = -1) -> np.ndarray:
    r"""Softmax along ``axis``: non-negative weights that sum to 1.

    Parameters
    ----------
    x : array_like of shape (...)
        Scores (logits). ``-inf`` means "excluded"; NaN and ``+inf`` are errors.
    axis : int, default=-1
        The axis whose entries become a probability distribution.

    Returns
    -------
    ndarray, same shape as ``x``
        float32 input stays float32; integers become float64.

    Examples
    --------
    >>> softmax([1.0, 2.0, 3.0]).round(4)
    array([0.09  , 0.2447, 0.6652])
    >>> softmax([1000.0, 1000.0])  # no overflow
    array([0.5, 0.5])
    """
    x = as_float_array(x, "x", check_finite=False, allow_empty=True)
    if np.isnan(x).any() or np.isposinf(x).any():
        raise ValueError("x must not contain NaN or +inf (use -inf to exclude an entry)")
    if x.ndim == 0:
        return np.ones_like(x)
    axis = _axis(axis, x.ndim)
    if x.shape[axis] == 0:
        raise ShapeError(
            f"x has no entries along axis {axis} (shape {x.shape}): a softmax needs at least "
            f"one score to turn into weights that sum to 1"
        )
    if x.size == 0:  # e.g. (0, n): no rows, nothing to do
        return x.copy()
    return _softmax(x, axis)


def _softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Unchecked twin of :func:`softmax` for trusted internal callers."""
    e = np.exp(x - _finite_max(x, axis))
    total = e.sum(axis=axis, keepdims=True)
    np.divide(e, total, out=e, where=total > 0)
    return e


def log_softmax(x, axis: int = -1) -> np.ndarray:
    r"""Logarithm of :func:`softmax` along ``axis``, computed without forming the softmax.

    .. math::

        \log \operatorname{softmax}(x)_i = (x_i - m) - \log \sum_j e^{x_j - m},
        \qquad m = \max_j x_j

    Taking ``log(softmax(x))`` instead underflows to ``-inf`` as soon as a weight is
    below ~1e-308; this form stays finite and exact for any finite scores.

    Parameters
    ----------
    x : array_like of shape (...)
        Scores (logits). ``-inf`` entries get ``-inf``; NaN and ``+inf`` are errors.
    axis : int, default=-1
        The axis whose entries form one distribution.

    Returns
    -------
    ndarray, same shape as ``x``
        ``exp`` of it sums to 1 along ``axis``. A slice that is entirely ``-inf``
        stays ``-inf``.

    Examples
    --------
    >>> log_softmax([1.0, 2.0, 3.0]).round(4)
    array([-2.4076, -1.4076, -0.4076])
    >>> log_softmax([0.0, -1000.0])  # log(softmax) would give -inf here
    array([    0., -1000.])
    """
    x = as_float_array(x, "x", check_finite=False, allow_empty=True)
    if np.isnan(x).any() or np.isposinf(x).any():
        raise ValueError("x must not contain NaN or +inf (use -inf to exclude an entry)")
    if x.ndim == 0:
        return np.zeros_like(x)
    axis = _axis(axis, x.ndim)
    if x.shape[axis] == 0:
        return x.copy()
    return _softmax_and_log(x, axis)[1]


def _softmax_and_log(x: np.ndarray, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Unchecked: ``(softmax(x), log_softmax(x))`` from one pass of ``exp``.

    For trusted internal callers that need both (a classifier's loss uses the logs,
    its gradient the probabilities). Entirely ``-inf`` slices give zeros and ``-inf``.
    """
    z = x - _finite_max(x, axis)
    p = np.exp(z)
    total = p.sum(axis=axis, keepdims=True)
    with np.errstate(divide="ignore"):
        np.subtract(z, np.log(total), out=z, where=total > 0)
    np.divide(p, total, out=p, where=total > 0)
    return p, z


def _softmax_inplace(x: np.ndarray, axis: int = 0) -> np.ndarray:
    """Unchecked, in place: ``x`` becomes ``softmax(x)``; returns ``logsumexp(x)`` (keepdims).

    For hot loops over trusted finite scores (a classifier's loss needs only
    ``x[y] - logsumexp(x)`` and its gradient the probabilities): three passes over
    ``x`` and no temporary of its size.
    """
    m = _finite_max(x, axis)
    x -= m
    np.exp(x, out=x)
    total = x.sum(axis=axis, keepdims=True)
    x /= total
    with np.errstate(divide="ignore"):
        return m + np.log(total)


def logsumexp(x, axis: int | None = -1, keepdims: bool = False) -> np.ndarray:
    r"""``log(sum(exp(x)))`` along ``axis`` without overflow or underflow.

    Parameters
    ----------
    x : array_like
    axis : int or None, default=-1
        ``None`` reduces over every entry.
    keepdims : bool, default=False

    Returns
    -------
    ndarray

    Examples
    --------
    >>> float(logsumexp([1000.0, 1000.0]))  # doctest: +ELLIPSIS
    1000.693147180...
    """
    x = as_float_array(x, "x", check_finite=False)
    if np.isnan(x).any() or np.isposinf(x).any():
        raise ValueError("x must not contain NaN or +inf")
    if axis is None:
        x, axis = x.reshape(-1), 0
    else:
        axis = _axis(axis, max(x.ndim, 1))
    if x.shape[axis] == 0:
        out = np.full(x.shape[:axis] + (1,) + x.shape[axis + 1:], -np.inf, dtype=x.dtype)
        return out if keepdims else np.squeeze(out, axis=axis)
    m = _finite_max(x, axis)
    e = np.exp(x - m)
    # The largest entry contributes exactly 1; summing the others and using log1p keeps
    # full relative accuracy when they are tiny (log(1 + 1e-5) via log would lose digits).
    top = np.argmax(x, axis=axis)
    np.put_along_axis(e, np.expand_dims(top, axis), 0.0, axis=axis)
    rest = e.sum(axis=axis, keepdims=True)
    all_masked = np.isneginf(np.max(x, axis=axis, keepdims=True))
    with np.errstate(divide="ignore"):
        out = np.where(all_masked, -np.inf, np.log1p(rest) + m)
    return out if keepdims else np.squeeze(out, axis=axis)
