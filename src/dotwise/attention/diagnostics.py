r"""Looking at attention: weight entropy, and why the scores are divided by √d.

If the entries of ``q`` and ``k`` are independent with mean 0 and variance 1,
their dot product :math:`q \cdot k = \sum_{i=1}^{d} q_i k_i` has variance ``d``:
the scores spread out like :math:`\sqrt d`. Unscaled, the softmax of scores
that far apart is nearly one-hot (entropy near 0, one key takes everything and
the gradients of the rest vanish). Dividing by :math:`\sqrt d` keeps the score
standard deviation near 1 for every ``d``, and the entropy stays put.
:func:`scaling_experiment` measures exactly this.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._kernels import softmax_unchecked
from .._validation import ShapeError, as_float_array, check_int, describe

__all__ = ["ScalingReport", "attention_entropy", "scaling_experiment"]


def attention_entropy(weights, axis: int = -1, *, normalized: bool = False) -> np.ndarray:
    r"""Shannon entropy of each row of attention weights, in nats.

    .. math:: H(w) = -\sum_j w_j \log w_j \qquad (0 \log 0 = 0)

    0 means all weight on one key; :math:`\log S` means uniform over ``S`` keys.

    Parameters
    ----------
    weights : array_like of shape (..., S)
        Non-negative rows that sum to 1 (or all-zero rows for fully masked
        queries, whose entropy is reported as 0).
    axis : int, default=-1
        The axis along which each distribution lies.
    normalized : bool, default=False
        Divide by :math:`\log S`, giving a value in [0, 1].

    Returns
    -------
    ndarray of shape (...)
        One entropy per row.

    Examples
    --------
    >>> attention_entropy([[1.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]]).round(4)
    array([0.    , 1.3863])
    >>> float(attention_entropy([0.25, 0.25, 0.25, 0.25], normalized=True))
    1.0
    """
    w = as_float_array(weights, "weights", min_ndim=1)
    axis = check_int(axis, "axis")
    if not -w.ndim <= axis < w.ndim:
        raise ValueError(f"axis must be in [{-w.ndim}, {w.ndim - 1}] for weights of shape "
                         f"{w.shape}, got {axis}")
    tol = 1e-4 if w.dtype == np.float32 else 1e-8
    if (w < -tol).any():
        raise ValueError(f"weights must be non-negative, found min {w.min():.3g}")
    sums = w.sum(axis=axis)
    bad = ~(np.isclose(sums, 1.0, atol=tol * w.shape[axis] + tol) | (sums == 0))
    if bad.any():
        where = np.argwhere(bad)[0]
        raise ValueError(
            f"each row of weights must sum to 1 (a probability distribution along axis "
            f"{axis}), row {tuple(int(i) for i in where)} sums to {sums[tuple(where)]:.6g}; "
            f"apply softmax first"
        )
    safe = np.where(w > 0, w, 1.0)
    h = -np.sum(np.where(w > 0, w * np.log(safe), 0.0), axis=axis)
    h = np.maximum(h, 0.0)
    if normalized:
        n = w.shape[axis]
        h = h / np.log(n) if n > 1 else np.zeros_like(h)
    return np.asarray(h)


@dataclass(frozen=True)
class ScalingReport:
    """Result of :func:`scaling_experiment`: one entry per dimension ``d``.

    Attributes
    ----------
    dims : ndarray of int, shape (n_dims,)
    score_std_unscaled, score_std_scaled : ndarray of shape (n_dims,)
        Standard deviation of the scores ``q·k`` and ``q·k / √d``.
    entropy_unscaled, entropy_scaled : ndarray of shape (n_dims,)
        Mean row entropy (nats) of the softmax weights.
    max_weight_unscaled, max_weight_scaled : ndarray of shape (n_dims,)
        Mean over rows of the largest weight (1 = one-hot).
    uniform_entropy : float
        ``log(n_keys)``, the entropy of uniform attention.
    """

    dims: np.ndarray
    score_std_unscaled: np.ndarray
    score_std_scaled: np.ndarray
    entropy_unscaled: np.ndarray
    entropy_scaled: np.ndarray
    max_weight_unscaled: np.ndarray
    max_weight_scaled: np.ndarray
    uniform_entropy: float

    def rows(self) -> list[list[float]]:
        """Table rows: d, std unscaled, std scaled, entropy unscaled, entropy scaled."""
        return [[int(d), float(a), float(b), float(c), float(e)] for d, a, b, c, e in zip(
            self.dims, self.score_std_unscaled, self.score_std_scaled,
            self.entropy_unscaled, self.entropy_scaled, strict=True)]


def scaling_experiment(dims=(4, 16, 64, 256, 1024), *, n_queries: int = 64,
                       n_keys: int = 64, random_state=None) -> ScalingReport:
    r"""Score spread and weight entropy with and without the :math:`1/\sqrt d` scaling.

    For each ``d``, draws ``q`` (n_queries, d) and ``k`` (n_keys, d) with
    independent standard-normal entries, and measures the scores
    :math:`q k^\top` and :math:`q k^\top / \sqrt d` and the softmax of each.

    Parameters
    ----------
    dims : sequence of int, default=(4, 16, 64, 256, 1024)
        Embedding sizes to try (each >= 1).
    n_queries, n_keys : int, default=64
    random_state : int or numpy.random.Generator, optional

    Returns
    -------
    ScalingReport
        Unscaled score std grows like :math:`\sqrt d` and the entropy collapses
        towards 0; scaled std stays near 1 and the entropy stays put.

    Examples
    --------
    >>> r = scaling_experiment([16, 1024], random_state=0)
    >>> r.score_std_scaled.round(1)
    array([1., 1.])
    >>> bool(r.entropy_unscaled[1] < 0.5 < r.entropy_scaled[1])
    True
    """
    d_arr = np.asarray(dims)
    if d_arr.ndim != 1 or d_arr.size == 0 or d_arr.dtype.kind not in "iu" or (d_arr < 1).any():
        raise ShapeError(f"dims must be a non-empty 1-D sequence of integers >= 1, "
                         f"got {describe(dims)}")
    n_queries = check_int(n_queries, "n_queries", minimum=1)
    n_keys = check_int(n_keys, "n_keys", minimum=1)
    rng = np.random.default_rng(random_state)
    out = {key: [] for key in ("su", "ss", "eu", "es", "mu", "ms")}
    for d in d_arr:
        q = rng.standard_normal((n_queries, int(d)))
        k = rng.standard_normal((n_keys, int(d)))
        raw = q @ k.T
        for tag, scores in (("u", raw), ("s", raw / np.sqrt(d))):
            w = softmax_unchecked(scores, axis=-1)
            out["s" + tag].append(scores.std())
            out["e" + tag].append(attention_entropy(w).mean())
            out["m" + tag].append(w.max(axis=-1).mean())
    return ScalingReport(d_arr.astype(int), *(np.array(out[k]) for k in
                                              ("su", "ss", "eu", "es", "mu", "ms")),
                         uniform_entropy=float(np.log(n_keys)))
