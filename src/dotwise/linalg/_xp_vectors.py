r"""The vector primitives and projections on array-API arrays (CuPy, PyTorch, ...).

The same formulas as :mod:`dotwise.linalg.vectors` and
:mod:`dotwise.linalg.subspaces`, written with the array API standard's functions
only, so they run in the input's namespace and on its device; the NumPy
functions dispatch here when handed a foreign array (see :mod:`dotwise._xp`).
The only values read back to the host are booleans and a few indices for error
messages (a zero vector, a NaN) and the rank of ``A`` in the projections.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import ShapeError
from .._xp import array_namespace, float_array
from .._xp import vector_norm as norm_impl

__all__ = ["angle", "complement_projection", "cosine_matrix", "cosine_similarity", "dot",
           "norm", "normalize", "project", "projection_matrix", "scalar_projection",
           "vector_projection"]


def _one(x, name, check_finite, **kw):
    xp, _ = array_namespace((name, x))
    return xp, float_array(x, name, xp, check_finite=check_finite, **kw)


def _pair(u, v, check_finite):
    xp, _ = array_namespace(("u", u), ("v", v))
    u = float_array(u, "u", xp, min_ndim=1, check_finite=check_finite, allow_empty=True)
    v = float_array(v, "v", xp, min_ndim=1, check_finite=check_finite, allow_empty=True)
    if u.shape[-1] != v.shape[-1]:
        raise ShapeError(f"u and v must have the same length along the last axis: u has shape "
                         f"{tuple(u.shape)}, v has shape {tuple(v.shape)}")
    try:
        np.broadcast_shapes(tuple(u.shape[:-1]), tuple(v.shape[:-1]))
    except ValueError:
        raise ShapeError(f"the leading (batch) axes of u {tuple(u.shape)} and v "
                         f"{tuple(v.shape)} do not broadcast") from None
    if u.dtype != v.dtype:
        dt = xp.result_type(u, v)
        u, v = xp.astype(u, dt), xp.astype(v, dt)
    return xp, u, v


def _nonzero(n, xp, name: str, what: str) -> None:
    zero = n == 0
    if bool(xp.any(zero)):
        at = ""
        if n.ndim:
            pos = int(xp.argmax(xp.astype(xp.reshape(zero, (-1,)), xp.int32)))
            at = f" (at batch index {tuple(int(i) for i in np.unravel_index(pos, n.shape))})"
        raise ValueError(f"{name} is a zero vector{at}; {what} is undefined for zero vectors — "
                         f"drop zero rows or add a small offset first")


def _unit(x, n, xp):
    return x / xp.expand_dims(n, axis=-1)


def dot(u, v, *, check_finite=True):
    xp, u, v = _pair(u, v, check_finite)
    return xp.sum(u * v, axis=-1)


def norm(x, *, check_finite=True):
    xp, x = _one(x, "x", check_finite, min_ndim=1, allow_empty=True)
    return norm_impl(x, xp)


def normalize(x, *, check_finite=True):
    xp, x = _one(x, "x", check_finite, min_ndim=1, allow_empty=True)
    n = norm_impl(x, xp)
    _nonzero(n, xp, "x", "normalization")
    return _unit(x, n, xp)


def cosine_similarity(u, v, *, check_finite=True):
    xp, u, v = _pair(u, v, check_finite)
    nu, nv = norm_impl(u, xp), norm_impl(v, xp)
    _nonzero(nu, xp, "u", "cosine similarity")
    _nonzero(nv, xp, "v", "cosine similarity")
    return xp.clip(xp.sum(_unit(u, nu, xp) * _unit(v, nv, xp), axis=-1), -1.0, 1.0)


def _unit_rows(X, xp, name: str):
    n = norm_impl(X, xp)
    zero = n == 0
    if bool(xp.any(zero)):
        row = int(xp.argmax(xp.astype(zero, xp.int32)))
        raise ValueError(f"{name} has a zero row at index {row}; cosine similarity is "
                         f"undefined for zero vectors — drop zero rows first")
    return _unit(X, n, xp)


def cosine_matrix(U, V=None, *, check_finite=True):
    xp, dev = array_namespace(("U", U), ("V", V))
    U = float_array(U, "U", xp, ndim=2, check_finite=check_finite)
    Uh = _unit_rows(U, xp, "U")
    if V is None:
        Vh = Uh
    else:
        V = float_array(V, "V", xp, ndim=2, check_finite=check_finite)
        if U.shape[1] != V.shape[1]:
            raise ShapeError(f"U and V must have the same number of columns: U has shape "
                             f"{tuple(U.shape)}, V has shape {tuple(V.shape)}")
        Vh = _unit_rows(V, xp, "V")
        if Uh.dtype != Vh.dtype:
            dt = xp.result_type(Uh, Vh)
            Uh, Vh = xp.astype(Uh, dt), xp.astype(Vh, dt)
    out = xp.clip(Uh @ Vh.T, -1.0, 1.0)
    if V is None:  # exact ones on the diagonal: out·(1 − I) + I
        eye = xp.eye(out.shape[0], dtype=out.dtype, device=dev)
        out = out * (1 - eye) + eye
    return out


def angle(u, v, *, degrees=False, check_finite=True):
    xp, u, v = _pair(u, v, check_finite)
    nu, nv = norm_impl(u, xp), norm_impl(v, xp)
    _nonzero(nu, xp, "u", "the angle")
    _nonzero(nv, xp, "v", "the angle")
    a, b = _unit(u, nu, xp), _unit(v, nv, xp)
    theta = 2.0 * xp.atan2(norm_impl(a - b, xp), norm_impl(a + b, xp))
    return theta * (180.0 / math.pi) if degrees else theta


def scalar_projection(u, v, *, check_finite=True):
    xp, u, v = _pair(u, v, check_finite)
    nv = norm_impl(v, xp)
    _nonzero(nv, xp, "v", "projection onto v")
    return xp.sum(u * _unit(v, nv, xp), axis=-1)


def vector_projection(u, v, *, check_finite=True):
    xp, u, v = _pair(u, v, check_finite)
    nv = norm_impl(v, xp)
    _nonzero(nv, xp, "v", "projection onto v")
    vh = _unit(v, nv, xp)
    return xp.expand_dims(xp.sum(u * vh, axis=-1), axis=-1) * vh


# ----------------------------------------------------------------- subspaces
def _matrix(A, xp, check_finite):
    A = float_array(A, "A", xp, ndim=(1, 2), check_finite=check_finite, allow_empty=True)
    return xp.reshape(A, (A.shape[0], 1)) if A.ndim == 1 else A


def _range_basis(A, xp, rcond):
    """Left singular vectors of ``A`` above the rank tolerance (``xp.linalg.svd``)."""
    if A.shape[0] == 0 or A.shape[1] == 0:
        return xp.zeros((A.shape[0], 0), dtype=A.dtype, device=A.device)
    U, s, _ = xp.linalg.svd(A, full_matrices=False)
    r = int(xp.sum(xp.astype(s > rcond * s[0], xp.int32)))
    return U[:, :r]


def _rcond(rcond, m, n, xp, dtype):
    from ._common import resolve_rcond

    return resolve_rcond(rcond, m, n, np.dtype("float32" if dtype == xp.float32 else "float64"))


def project(b, A, *, rcond=None, check_finite=True):
    xp, _ = array_namespace(("b", b), ("A", A))
    A = _matrix(A, xp, check_finite)
    b = float_array(b, "b", xp, ndim=(1, 2), check_finite=check_finite, allow_empty=True)
    if b.shape[0] != A.shape[0]:
        raise ShapeError(
            f"b and A must have the same number of rows: b has shape {tuple(b.shape)}, A has "
            f"shape {tuple(A.shape)}; b must have shape ({A.shape[0]},) or ({A.shape[0]}, k)")
    dt = xp.result_type(A, b)
    A, b = xp.astype(A, dt), xp.astype(b, dt)
    U = _range_basis(A, xp, _rcond(rcond, *A.shape, xp, dt))
    return U @ (U.T @ b)


def projection_matrix(A, *, rcond=None, check_finite=True):
    xp, _ = array_namespace(("A", A))
    A = _matrix(A, xp, check_finite)
    U = _range_basis(A, xp, _rcond(rcond, *A.shape, xp, A.dtype))
    return U @ U.T


def complement_projection(A, *, rcond=None, check_finite=True):
    xp, dev = array_namespace(("A", A))
    P = projection_matrix(A, rcond=rcond, check_finite=check_finite)
    return xp.eye(P.shape[0], dtype=P.dtype, device=dev) - P


def dispatch(name: str) -> Any:
    """The array-API twin of the public function ``name``."""
    return globals()[name]
