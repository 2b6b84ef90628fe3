r"""Test matrices with a prescribed condition number.

The matrix every accuracy experiment needs: random singular vectors, singular values
graded geometrically from 1 down to :math:`1/\kappa`,

.. math::

    A = U \operatorname{diag}(s) V^\top, \qquad
    s_i = \kappa^{-i/(r-1)} \ (i = 0, \dots, r-1), \qquad r = \min(m, n),

so :math:`\lVert A \rVert_2 = 1` and :math:`\kappa_2(A) = \kappa`. ``U`` (m × r) and
``V`` (n × r) are the Q factors of Gaussian matrices, hence Haar-distributed up to signs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import check_int, describe
from .randomized import generator

__all__ = ["random_with_condition"]


def random_with_condition(m: int, n: int, cond: float, *, random_state: Any = None,
                          dtype: Any = np.float64, return_factors: bool = False):
    r"""A random ``m × n`` matrix with singular values from 1 to ``1/cond`` (geometric).

    Parameters
    ----------
    m, n : int
        The shape; ``min(m, n)`` may be 0.
    cond : float
        The 2-norm condition number :math:`\kappa = s_{\max} / s_{\min} \ge 1`.
    random_state : int, numpy.random.Generator, RandomState or None, default=None
        Seeds ``U`` then ``V`` (drawn in that order); a generator is advanced in place,
        so a caller can go on drawing right-hand sides from it.
    dtype : float dtype, default=float64
        The returned matrix's dtype (built in float64, then cast).
    return_factors : bool, default=False
        Also return the factors.

    Returns
    -------
    A : ndarray of shape (m, n)
    U, s, Vt : ndarrays of shape (m, r), (r,), (r, n)
        Only with ``return_factors=True`` (float64): ``A = (U * s) @ Vt`` with
        ``r = min(m, n)``; ``U`` spans the column space of ``A``.

    Raises
    ------
    ValueError
        ``m`` or ``n`` negative, ``cond`` below 1, NaN or infinite.
    TypeError
        ``cond`` not a number, or a bad ``random_state``.

    Examples
    --------
    >>> import numpy as np
    >>> from dotwise.linalg import random_with_condition
    >>> A = random_with_condition(8, 5, 1e6, random_state=0)
    >>> A.shape, float(np.linalg.cond(A)).__round__(-3)
    ((8, 5), 1000000.0)
    >>> A, U, s, Vt = random_with_condition(8, 5, 100.0, random_state=0, return_factors=True)
    >>> s.round(4)
    array([1.    , 0.3162, 0.1   , 0.0316, 0.01  ])
    >>> bool(np.allclose((U * s) @ Vt, A))
    True
    """
    m = check_int(m, "m", minimum=0)
    n = check_int(n, "n", minimum=0)
    try:
        cond = float(cond)
    except (TypeError, ValueError):
        raise TypeError(f"cond must be a number >= 1 (s_max / s_min), got {describe(cond)}") from None
    if not (math.isfinite(cond) and cond >= 1.0):
        raise ValueError(f"cond must be a finite number >= 1 (s_max / s_min), got {cond}")
    rng = generator(random_state)
    r = min(m, n)
    U, _ = np.linalg.qr(rng.standard_normal((m, r)))
    V, _ = np.linalg.qr(rng.standard_normal((n, r)))
    s = np.logspace(0, -np.log10(cond), r)
    A = ((U * s) @ V.T).astype(dtype, copy=False)
    return (A, U, s, V.T) if return_factors else A
