r"""Vector primitives: the dot product and the quantities built from it.

Every function here broadcasts over leading axes: vectors live on the last
axis, so ``u`` of shape ``(..., d)`` and ``v`` of shape ``(..., d)`` give
results of shape ``(...)``. This module is the one home of cosine similarity;
search, recommenders and the playground import it from here.

.. math::

    u \cdot v = \sum_i u_i v_i = \lVert u \rVert \lVert v \rVert \cos\theta

Every function also accepts array-API arrays (CuPy, PyTorch CPU or CUDA,
``array_api_strict``): it then computes in that array's namespace, on its
device, and returns the same kind of array (float32 stays float32; integer
arrays are refused rather than cast, as some devices lack float64). NumPy
arrays and lists take the NumPy code below, unchanged. Mixing libraries or
devices across ``u`` and ``v`` is an error naming both.
"""

from __future__ import annotations

import numpy as np

from .._validation import ShapeError, as_float_array
from .._xp import is_array_api
from . import _xp_vectors as _xpv

__all__ = [
    "angle",
    "cosine_matrix",
    "cosine_similarity",
    "dot",
    "norm",
    "normalize",
    "scalar_projection",
    "vector_projection",
]


def _pair(u, v, check_finite: bool) -> tuple[np.ndarray, np.ndarray]:
    u = as_float_array(u, "u", min_ndim=1, check_finite=check_finite)
    v = as_float_array(v, "v", min_ndim=1, check_finite=check_finite)
    if u.shape[-1] != v.shape[-1]:
        raise ShapeError(
            f"u and v must have the same length along the last axis: u has shape "
            f"{u.shape}, v has shape {v.shape}"
        )
    try:
        np.broadcast_shapes(u.shape[:-1], v.shape[:-1])
    except ValueError:
        raise ShapeError(
            f"the leading (batch) axes of u {u.shape} and v {v.shape} do not broadcast"
        ) from None
    return u, v


def _dot(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    if u.ndim == 1 and v.ndim == 1:
        return np.dot(u, v)
    return np.einsum("...i,...i->...", u, v)


def _norm(x: np.ndarray) -> np.ndarray:
    """Euclidean norm over the last axis, safe from overflow and underflow.

    The fast path is sqrt(x·x). Where that overflows (|x_i| above ~1e154 in
    float64) or underflows, the vector is rescaled by its largest entry first,
    as LAPACK's nrm2 does.
    """
    with np.errstate(over="ignore", under="ignore"):
        out = np.sqrt(np.einsum("...i,...i->...", x, x))
    tiny = np.sqrt(np.finfo(x.dtype).tiny) if x.dtype.kind == "f" else 0.0
    redo = ~np.isfinite(out) | (out < tiny)
    if np.any(redo):
        scale = np.max(np.abs(x), axis=-1)
        safe = np.where(scale > 0, scale, 1.0)
        with np.errstate(over="ignore"):
            scaled = safe * np.sqrt(np.einsum("...i,...i->...", x / safe[..., None],
                                              x / safe[..., None]))
        out = np.where(redo, scaled, out)
    return out


def _require_nonzero(n: np.ndarray, name: str, what: str) -> None:
    if np.any(n == 0):
        where = np.argwhere(np.atleast_1d(n) == 0)[0]
        at = "" if np.ndim(n) == 0 else f" (at batch index {tuple(int(i) for i in where)})"
        raise ValueError(
            f"{name} is a zero vector{at}; {what} is undefined for zero vectors — "
            f"drop zero rows or add a small offset first"
        )


def dot(u, v, *, check_finite: bool = True) -> np.ndarray:
    r"""Dot product along the last axis.

    Parameters
    ----------
    u, v : array_like of shape (..., d)
        Leading axes broadcast against each other.
    check_finite : bool, default=True
        Scan the input for NaN and infinity first and name the first one found
        (one fast pass). ``False`` skips the scan: a non-finite value then
        spreads into the result or stops LAPACK with an error of its own.

    Returns
    -------
    ndarray of shape (...)
        :math:`\sum_i u_i v_i`; a 0-d array for two 1-D vectors.

    Examples
    --------
    >>> float(dot([1, 2, 3], [4, 5, 6]))
    32.0
    >>> dot([[1, 0], [0, 1]], [2, 3]).shape
    (2,)
    """
    if is_array_api(u) or is_array_api(v):  # CuPy, torch...: on their device
        return _xpv.dot(u, v, check_finite=check_finite)
    u, v = _pair(u, v, check_finite)
    return np.asarray(_dot(u, v))


def norm(x, *, check_finite: bool = True) -> np.ndarray:
    r"""Euclidean length :math:`\lVert x \rVert = \sqrt{x \cdot x}` along the last axis.

    Parameters
    ----------
    x : array_like of shape (..., d)
    check_finite : bool, default=True
        Scan the input for NaN and infinity first and name the first one found
        (one fast pass). ``False`` skips the scan: a non-finite value then
        spreads into the result or stops LAPACK with an error of its own.

    Returns
    -------
    ndarray of shape (...)

    Examples
    --------
    >>> float(norm([3, 4]))
    5.0
    """
    if is_array_api(x):  # CuPy, torch...: on their device
        return _xpv.norm(x, check_finite=check_finite)
    x = as_float_array(x, "x", min_ndim=1, check_finite=check_finite)
    return np.asarray(_norm(x))


def normalize(x, *, check_finite: bool = True) -> np.ndarray:
    r"""Scale each vector to unit length: :math:`\hat x = x / \lVert x \rVert`.

    Parameters
    ----------
    x : array_like of shape (..., d)
    check_finite : bool, default=True
        Scan the input for NaN and infinity first and name the first one found
        (one fast pass). ``False`` skips the scan: a non-finite value then
        spreads into the result or stops LAPACK with an error of its own.

    Returns
    -------
    ndarray of shape (..., d)

    Raises
    ------
    ValueError
        If any vector is zero (it has no direction).

    Examples
    --------
    >>> normalize([3.0, 4.0])
    array([0.6, 0.8])
    """
    if is_array_api(x):  # CuPy, torch...: on their device
        return _xpv.normalize(x, check_finite=check_finite)
    x = as_float_array(x, "x", min_ndim=1, check_finite=check_finite)
    n = _norm(x)
    _require_nonzero(n, "x", "normalization")
    return x / n[..., None]


def cosine_similarity(u, v, *, check_finite: bool = True) -> np.ndarray:
    r"""Cosine of the angle between ``u`` and ``v``, along the last axis.

    .. math:: \cos\theta = \frac{u \cdot v}{\lVert u \rVert \lVert v \rVert}

    Clipped to [-1, 1] so rounding never produces an impossible cosine.

    Parameters
    ----------
    u, v : array_like of shape (..., d)
    check_finite : bool, default=True
        Scan the input for NaN and infinity first and name the first one found
        (one fast pass). ``False`` skips the scan: a non-finite value then
        spreads into the result or stops LAPACK with an error of its own.

    Returns
    -------
    ndarray of shape (...)

    Raises
    ------
    ValueError
        If either vector is zero.

    Examples
    --------
    >>> float(cosine_similarity([1, 0], [1, 1]))  # doctest: +ELLIPSIS
    0.7071067811865...
    """
    if is_array_api(u) or is_array_api(v):  # CuPy, torch...: on their device
        return _xpv.cosine_similarity(u, v, check_finite=check_finite)
    u, v = _pair(u, v, check_finite)
    nu, nv = _norm(u), _norm(v)
    _require_nonzero(nu, "u", "cosine similarity")
    _require_nonzero(nv, "v", "cosine similarity")
    # Normalise first: (u/‖u‖)·(v/‖v‖) cannot overflow or underflow at any finite magnitude,
    # where u·v / (‖u‖‖v‖) is inf/inf at 1e200 and 0/0 at 1e-200.
    return np.asarray(np.clip(_dot(u / nu[..., None], v / nv[..., None]), -1.0, 1.0))


def cosine_matrix(U, V=None, *, check_finite: bool = True) -> np.ndarray:
    r"""All pairwise cosine similarities between the rows of ``U`` and ``V``.

    .. math:: C_{ij} = \frac{U_i \cdot V_j}{\lVert U_i \rVert \lVert V_j \rVert}
              = (\hat U \hat V^\top)_{ij}

    One matrix product of row-normalized matrices.

    Parameters
    ----------
    U : array_like of shape (m, d)
    V : array_like of shape (n, d), optional
        Defaults to ``U`` (the Gram matrix of cosines, with ones on the diagonal).
    check_finite : bool, default=True
        Scan the input for NaN and infinity first and name the first one found
        (one fast pass). ``False`` skips the scan: a non-finite value then
        spreads into the result or stops LAPACK with an error of its own.

    Returns
    -------
    ndarray of shape (m, n)

    Examples
    --------
    >>> cosine_matrix([[1, 0], [0, 2], [1, 1]]).round(3)
    array([[1.   , 0.   , 0.707],
           [0.   , 1.   , 0.707],
           [0.707, 0.707, 1.   ]])
    """
    if is_array_api(U) or is_array_api(V):  # CuPy, torch...: on their device
        return _xpv.cosine_matrix(U, V, check_finite=check_finite)
    U = as_float_array(U, "U", ndim=2, check_finite=check_finite)
    Uh = _normalized_rows(U, "U")
    if V is None:
        Vh = Uh
    else:
        V = as_float_array(V, "V", ndim=2, check_finite=check_finite)
        if U.shape[1] != V.shape[1]:
            raise ShapeError(
                f"U and V must have the same number of columns: U has shape {U.shape}, "
                f"V has shape {V.shape}"
            )
        Vh = _normalized_rows(V, "V")
    out = Uh @ Vh.T
    np.clip(out, -1.0, 1.0, out=out)
    if V is None:
        np.fill_diagonal(out, 1.0)
    return out


def _normalized_rows(X: np.ndarray, name: str) -> np.ndarray:
    n = _norm(X)
    if np.any(n == 0):
        raise ValueError(
            f"{name} has a zero row at index {int(np.argmin(n))}; cosine similarity is "
            f"undefined for zero vectors — drop zero rows first"
        )
    return X / n[:, None]


def angle(u, v, *, degrees: bool = False, check_finite: bool = True) -> np.ndarray:
    r"""Angle between ``u`` and ``v``, in radians (or degrees).

    Computed by Kahan's formula :math:`2\operatorname{atan2}(\lVert a - b\rVert,
    \lVert a + b\rVert)` with :math:`a = u\lVert v\rVert,\ b = v\lVert u\rVert`; it stays accurate for
    nearly parallel vectors where ``arccos`` of the cosine loses half its digits.

    Parameters
    ----------
    u, v : array_like of shape (..., d)
    degrees : bool, default=False
        Return degrees instead of radians.
    check_finite : bool, default=True
        Scan the input for NaN and infinity first and name the first one found
        (one fast pass). ``False`` skips the scan: a non-finite value then
        spreads into the result or stops LAPACK with an error of its own.

    Returns
    -------
    ndarray of shape (...), values in [0, π] (or [0, 180])

    Examples
    --------
    >>> float(angle([1, 0], [0, 1], degrees=True))
    90.0
    """
    if is_array_api(u) or is_array_api(v):  # CuPy, torch...: on their device
        return _xpv.angle(u, v, degrees=degrees, check_finite=check_finite)
    u, v = _pair(u, v, check_finite)
    nu, nv = _norm(u), _norm(v)
    _require_nonzero(nu, "u", "the angle")
    _require_nonzero(nv, "v", "the angle")
    # Kahan's a = u‖v‖, b = v‖u‖ divided through by ‖u‖‖v‖: the same angle, and safe from
    # overflow at any finite magnitude.
    a = u / nu[..., None]
    b = v / nv[..., None]
    theta = 2.0 * np.arctan2(_norm(a - b), _norm(a + b))
    return np.asarray(np.degrees(theta) if degrees else theta)


def scalar_projection(u, v, *, check_finite: bool = True) -> np.ndarray:
    r"""Signed length of the shadow of ``u`` on the direction of ``v``.

    .. math:: \operatorname{comp}_v u = \frac{u \cdot v}{\lVert v \rVert} = u \cdot \hat v

    Parameters
    ----------
    u, v : array_like of shape (..., d)
    check_finite : bool, default=True
        Scan the input for NaN and infinity first and name the first one found
        (one fast pass). ``False`` skips the scan: a non-finite value then
        spreads into the result or stops LAPACK with an error of its own.

    Returns
    -------
    ndarray of shape (...)

    Examples
    --------
    >>> float(scalar_projection([3, 4], [1, 0]))
    3.0
    """
    if is_array_api(u) or is_array_api(v):  # CuPy, torch...: on their device
        return _xpv.scalar_projection(u, v, check_finite=check_finite)
    u, v = _pair(u, v, check_finite)
    nv = _norm(v)
    _require_nonzero(nv, "v", "projection onto v")
    return np.asarray(_dot(u, v / nv[..., None]))


def vector_projection(u, v, *, check_finite: bool = True) -> np.ndarray:
    r"""The component of ``u`` along ``v``.

    .. math:: \operatorname{proj}_v u = \frac{u \cdot v}{v \cdot v}\, v

    The residual ``u - proj`` is orthogonal to ``v``.

    Parameters
    ----------
    u, v : array_like of shape (..., d)
    check_finite : bool, default=True
        Scan the input for NaN and infinity first and name the first one found
        (one fast pass). ``False`` skips the scan: a non-finite value then
        spreads into the result or stops LAPACK with an error of its own.

    Returns
    -------
    ndarray of shape broadcast(u, v)

    Examples
    --------
    >>> vector_projection([3.0, 4.0], [2.0, 0.0])
    array([3., 0.])
    """
    if is_array_api(u) or is_array_api(v):  # CuPy, torch...: on their device
        return _xpv.vector_projection(u, v, check_finite=check_finite)
    u, v = _pair(u, v, check_finite)
    nv = _norm(v)
    _require_nonzero(nv, "v", "projection onto v")
    # (u·v̂) v̂ with v̂ = v/‖v‖: equal to (u·v)/(v·v) v, without forming v·v (which overflows
    # or underflows far before the projection itself does).
    vh = v / nv[..., None]
    return _dot(u, vh)[..., None] * vh
