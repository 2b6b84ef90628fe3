"""2-D transformations as 3×3 matrices in homogeneous coordinates.

A point ``(x, y)`` becomes the column ``(x, y, 1)``. Rotation, scaling, shear and
reflection act on the first two coordinates; translation, which is not linear
in ``(x, y)``, becomes linear in ``(x, y, 1)``:

.. math::

    \\begin{pmatrix} 1 & 0 & t_x \\\\ 0 & 1 & t_y \\\\ 0 & 0 & 1 \\end{pmatrix}
    \\begin{pmatrix} x \\\\ y \\\\ 1 \\end{pmatrix}
    = \\begin{pmatrix} x + t_x \\\\ y + t_y \\\\ 1 \\end{pmatrix}.

So every transform is one matrix, a chain of transforms is one matrix product,
and each output coordinate is a dot product of a matrix row with ``(x, y, 1)``.
Matrix products are associative: ``T (R (S p)) = (T R S) p``, so a chain is
composed once (three 3×3 products) and then applied to a million points in a
single pass instead of one pass per transform.

Angles are in **degrees** unless ``radians=True``; positive angles turn
counter-clockwise (with the y axis pointing up).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from .. import _loops
from .._validation import ShapeError, as_float_array, describe

__all__ = [
    "ComposeStep",
    "apply",
    "compose",
    "compose_steps",
    "inverse",
    "reflection",
    "rotation",
    "scaling",
    "shear",
    "translation",
]


def _number(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {describe(value)}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def _point(about, name: str = "about") -> np.ndarray:
    arr = as_float_array(about, name)
    if arr.shape != (2,):
        raise ShapeError(f"{name} must be a point (x, y) of 2 numbers, got shape {arr.shape}")
    return arr


def _about(M: np.ndarray, about) -> np.ndarray:
    """``T(about) · M · T(−about)``: the same transform with ``about`` as its fixed point."""
    if about is None:
        return M
    cx, cy = _point(about)
    return translation(cx, cy) @ M @ translation(-cx, -cy)


def translation(tx, ty) -> np.ndarray:
    """Move every point by ``(tx, ty)``.

    Parameters
    ----------
    tx, ty : float

    Returns
    -------
    ndarray of shape (3, 3)
        :math:`\\begin{pmatrix}1&0&t_x\\\\0&1&t_y\\\\0&0&1\\end{pmatrix}`.

    Examples
    --------
    >>> translation(3, -1)
    array([[ 1.,  0.,  3.],
           [ 0.,  1., -1.],
           [ 0.,  0.,  1.]])
    """
    M = np.eye(3)
    M[0, 2], M[1, 2] = _number(tx, "tx"), _number(ty, "ty")
    return M


def rotation(theta, about=None, *, radians: bool = False) -> np.ndarray:
    """Rotate counter-clockwise by ``theta`` about the origin or about a point.

    Parameters
    ----------
    theta : float
        Angle, in degrees (or radians with ``radians=True``).
    about : (x, y), optional
        Centre of the rotation; it stays fixed. Default: the origin.
    radians : bool, default=False

    Returns
    -------
    ndarray of shape (3, 3)
        :math:`\\begin{pmatrix}\\cos\\theta&-\\sin\\theta&0\\\\
        \\sin\\theta&\\cos\\theta&0\\\\0&0&1\\end{pmatrix}`, conjugated by the
        translation to ``about`` when given: ``T(about) R T(−about)``.

    Examples
    --------
    >>> R = rotation(90)
    >>> apply([1.0, 0.0], R).round(12) + 0.0
    array([0., 1.])
    >>> apply([2.0, 1.0], rotation(90, about=(1, 1))).round(12) + 0.0
    array([1., 2.])
    """
    t = _number(theta, "theta")
    if not radians:
        t = np.deg2rad(t)
    c, s = np.cos(t), np.sin(t)
    M = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return _about(M, about)


def scaling(sx, sy=None, about=None) -> np.ndarray:
    """Scale by ``sx`` along x and ``sy`` along y (``sy=None``: uniform, ``sy = sx``).

    Parameters
    ----------
    sx : float
    sy : float, optional
    about : (x, y), optional
        The fixed point of the scaling (e.g. a shape's centre). Default: origin.

    Returns
    -------
    ndarray of shape (3, 3)
        ``diag(sx, sy, 1)``, conjugated by the translation to ``about`` when given.
        A zero factor gives a singular matrix (it flattens the plane), which
        :func:`inverse` refuses.

    Examples
    --------
    >>> scaling(2, 3)
    array([[2., 0., 0.],
           [0., 3., 0.],
           [0., 0., 1.]])
    >>> apply([3.0, 3.0], scaling(2, about=(1, 1)))
    array([5., 5.])
    """
    sx = _number(sx, "sx")
    sy = sx if sy is None else _number(sy, "sy")
    return _about(np.diag([sx, sy, 1.0]), about)


def shear(kx, ky=0.0) -> np.ndarray:
    """Shear: ``x' = x + kx·y`` and ``y' = ky·x + y``.

    Parameters
    ----------
    kx, ky : float

    Returns
    -------
    ndarray of shape (3, 3)
        :math:`\\begin{pmatrix}1&k_x&0\\\\k_y&1&0\\\\0&0&1\\end{pmatrix}`, with
        determinant :math:`1 - k_x k_y` (area is kept when one of them is 0;
        ``kx·ky = 1`` is singular).

    Examples
    --------
    >>> apply([0.0, 2.0], shear(0.5))
    array([1., 2.])
    """
    M = np.eye(3)
    M[0, 1], M[1, 0] = _number(kx, "kx"), _number(ky, "ky")
    return M


def reflection(axis="x", *, radians: bool = False) -> np.ndarray:
    """Mirror across the x axis, the y axis, or a line through the origin.

    Parameters
    ----------
    axis : {"x", "y"} or float, default="x"
        ``"x"`` flips y (mirror in the x axis), ``"y"`` flips x; a number is the
        angle of the mirror line through the origin (degrees unless
        ``radians=True``): the matrix is
        :math:`\\begin{pmatrix}\\cos2\\varphi&\\sin2\\varphi\\\\
        \\sin2\\varphi&-\\cos2\\varphi\\end{pmatrix}`, i.e. :math:`2uu^\\top - I`
        for the line's unit direction ``u``.
    radians : bool, default=False

    Returns
    -------
    ndarray of shape (3, 3)
        Determinant −1: orientation is reversed.

    Examples
    --------
    >>> apply([1.0, 2.0], reflection("x"))
    array([ 1., -2.])
    >>> apply([1.0, 0.0], reflection(45)).round(12) + 0.0
    array([0., 1.])
    """
    if isinstance(axis, str):
        if axis not in ("x", "y"):
            raise ValueError(f"axis must be 'x', 'y' or a line angle, got {axis!r}")
        return np.diag([1.0, -1.0, 1.0]) if axis == "x" else np.diag([-1.0, 1.0, 1.0])
    phi = _number(axis, "axis")
    if not radians:
        phi = np.deg2rad(phi)
    c, s = np.cos(2 * phi), np.sin(2 * phi)
    return np.array([[c, s, 0.0], [s, -c, 0.0], [0.0, 0.0, 1.0]])


def _as_transform(M, name: str) -> np.ndarray:
    arr = as_float_array(M, name)
    if arr.shape != (3, 3):
        raise ShapeError(
            f"{name} must be a 3×3 homogeneous transform (from rotation, scaling, shear, "
            f"reflection, translation or compose), got shape {arr.shape}"
        )
    return arr


def compose(*transforms) -> np.ndarray:
    """The single matrix of a chain of transforms, applied **right to left**.

    ``compose(A, B, C)`` is the product ``A @ B @ C``: applied to a point it
    does ``C`` first, then ``B``, then ``A`` — the order of function
    composition, :math:`(A \\circ B \\circ C)(p) = A(B(C(p)))`.

    Parameters
    ----------
    *transforms : ndarray of shape (3, 3)
        At least one.

    Returns
    -------
    ndarray of shape (3, 3)

    Raises
    ------
    ValueError
        No transform given.
    ShapeError
        An argument is not 3×3 (its position is named).

    Examples
    --------
    Scale by 2, *then* move right by 3 — the translation is written first:

    >>> M = compose(translation(3, 0), scaling(2))
    >>> apply([1.0, 1.0], M)
    array([5., 2.])

    The other order moves first and scales the move too:

    >>> apply([1.0, 1.0], compose(scaling(2), translation(3, 0)))
    array([8., 2.])
    """
    if not transforms:
        raise ValueError("compose needs at least one transform, got none")
    out = _as_transform(transforms[0], "transforms[0]")
    for i, T in enumerate(transforms[1:], start=1):
        out = out @ _as_transform(T, f"transforms[{i}]")
    return out


@dataclass(frozen=True)
class ComposeStep:
    """One step of :func:`compose_steps`.

    Attributes
    ----------
    name : str
        The label of the transform applied at this step.
    matrix : ndarray of shape (3, 3)
        That transform alone.
    product : ndarray of shape (3, 3)
        Everything applied so far: ``matrix @ previous product``.
    """

    name: str
    matrix: np.ndarray
    product: np.ndarray


def compose_steps(*steps) -> list[ComposeStep]:
    """Build a chain **in the order it is applied**, keeping every partial product.

    Each new transform multiplies the product so far from the left: after the
    steps ``S1, S2, S3`` the product is ``S3 @ S2 @ S1`` — the same matrix as
    ``compose(S3, S2, S1)``. A demo can show each partial matrix and the shape
    it produces.

    Parameters
    ----------
    *steps : ndarray of shape (3, 3), or (name, ndarray) pairs
        In the order they act on a point.

    Returns
    -------
    list of ComposeStep

    Examples
    --------
    >>> chain = compose_steps(("scale ×2", scaling(2)), ("move right 3", translation(3, 0)))
    >>> [s.name for s in chain]
    ['scale ×2', 'move right 3']
    >>> bool(np.allclose(chain[-1].product, compose(translation(3, 0), scaling(2))))
    True
    """
    if not steps:
        raise ValueError("compose_steps needs at least one transform, got none")
    out: list[ComposeStep] = []
    product = np.eye(3)
    for i, step in enumerate(steps):
        if isinstance(step, tuple) and len(step) == 2 and isinstance(step[0], str):
            name, M = step
        else:
            name, M = f"step {i + 1}", step
        M = _as_transform(M, f"steps[{i}]")
        product = M @ product
        out.append(ComposeStep(name, M.copy(), product.copy()))
    return out


def apply(points, M) -> np.ndarray:
    """Transform points: :math:`p' = M\\,(x, y, 1)^\\top`, for one point or many.

    For ``(n, 2)`` points this is one product with the 2×2 block plus the
    translation column, :math:`P' = P A^\\top + t`, with no ``(n, 3)`` copy —
    a single compiled pass over the points when dotwise's optional extension is
    built (NumPy's matrix product otherwise; the arithmetic is in float64 either
    way for float64 points, and float32 results are rounded from float64).
    A projective matrix (last row not ``(0, 0, 1)``) divides by the third
    coordinate.

    Parameters
    ----------
    points : array-like of shape (2,) or (n, 2)
    M : ndarray of shape (3, 3)

    Returns
    -------
    ndarray of the same shape as ``points``
        In ``points``' floating dtype (float32 stays float32).

    Raises
    ------
    ShapeError
        ``points`` not ``(2,)``/``(n, 2)`` or ``M`` not 3×3.

    Examples
    --------
    >>> apply([[0.0, 0.0], [1.0, 2.0]], translation(1, 1))
    array([[1., 1.],
           [2., 3.]])
    """
    P = as_float_array(points, "points", ndim=(1, 2), allow_empty=True)
    if P.shape[-1] != 2:
        raise ShapeError(
            f"points must have 2 coordinates per point (shape (2,) or (n, 2)), got shape "
            f"{P.shape}" + (". Points as columns? Pass points.T" if P.ndim == 2
                            and P.shape[0] == 2 else "")
        )
    M = _as_transform(M, "M")
    affine = M[2, 0] == 0 and M[2, 1] == 0 and M[2, 2] == 1
    if affine and P.ndim == 2 and P.shape[0] >= 64 and P.flags.c_contiguous \
            and _loops.supports(P.dtype):
        # one streaming pass in C: a BLAS product with an inner dimension of 2 is mostly
        # overhead (the NumPy lines below are the reference and the fallback)
        return _loops.affine2d(P, M)
    A = M[:2, :2].astype(P.dtype, copy=False)
    t = M[:2, 2].astype(P.dtype, copy=False)
    out = P @ A.T
    out += t
    if not affine:
        w = P @ M[2, :2].astype(P.dtype, copy=False) + P.dtype.type(M[2, 2])
        out /= w[..., None]
    return out


def inverse(M, *, name: str = "M") -> np.ndarray:
    """The transform that undoes ``M``: ``inverse(M) @ M = I``.

    Affine transforms are inverted in closed form — :math:`A^{-1}` for the 2×2
    block and :math:`-A^{-1} t` for the translation — so the result is again
    affine (last row exactly ``(0, 0, 1)``).

    Parameters
    ----------
    M : ndarray of shape (3, 3)
    name : str, default="M"
        How the transform is named in the error message (e.g. ``"scaling(0, 1)"``).

    Returns
    -------
    ndarray of shape (3, 3)

    Raises
    ------
    numpy.linalg.LinAlgError
        ``M`` is singular (a zero scale, a projection onto a line, ``kx·ky = 1``):
        it flattens the plane, so points it merged cannot be told apart again.
    ShapeError
        ``M`` is not 3×3.

    Examples
    --------
    >>> M = compose(translation(2, 1), rotation(30), scaling(2))
    >>> bool(np.allclose(inverse(M) @ M, np.eye(3)))
    True
    """
    M = _as_transform(M, name)
    A = M[:2, :2]
    affine = M[2, 0] == 0 and M[2, 1] == 0 and M[2, 2] == 1
    det = float(np.linalg.det(A if affine else M))
    scale = float(np.max(np.abs(A if affine else M))) or 1.0
    dim = 2 if affine else 3
    if abs(det) <= 1e3 * np.finfo(np.float64).eps * scale**dim:
        rows = "; ".join(", ".join(f"{v:.4g}" for v in row) for row in M)
        raise np.linalg.LinAlgError(
            f"{name} = [{rows}] is singular (determinant {det:.3g}): it flattens the plane "
            f"onto a line "
            f"or a point, so it cannot be inverted; check for a zero scale factor or a "
            f"shear with kx·ky = 1"
        )
    if not affine:
        return np.linalg.solve(M, np.eye(3, dtype=M.dtype))  # the inverse is the product here
    a, b, c, d = A[0, 0], A[0, 1], A[1, 0], A[1, 1]
    Ainv = np.array([[d, -b], [-c, a]]) / det
    out = np.eye(3)
    out[:2, :2] = Ainv
    out[:2, 2] = -Ainv @ M[:2, 2]
    return out
