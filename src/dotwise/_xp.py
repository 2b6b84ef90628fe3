r"""Dispatch to the array API: which namespace an input lives in, its device, dtype checks.

dotwise's functions take NumPy arrays (and lists) on their original, compiled
code paths. The functions listed in the GPU guide also accept any array that
follows the Python array API standard — CuPy arrays, PyTorch tensors (CPU or
CUDA), ``array_api_strict`` arrays — and then compute in that array's namespace
(through ``array-api-compat``, or when it is not installed the copy that
scikit-learn ships in ``sklearn.externals``), on its device, returning the same
kind of array:
"everything follows the input", the convention of scikit-learn's
``array_api_dispatch``.

Every entry point decides once, at the top::

    if is_array_api(x):           # not NumPy, not a list: a foreign array
        return _array_api_path(x, ...)
    ...                           # the NumPy path, unchanged

The helpers here are the one place where namespaces, devices and dtypes are
checked, so every message reads the same: it names the argument, what was
received (type, shape, dtype, device) and what was expected.

Nothing in dotwise moves data to the host behind the caller's back:
:func:`to_numpy` refuses unless called with ``explicit=True``, and the NumPy
path refuses a foreign array instead of converting it
(:func:`foreign_array_error`). ``array-api-compat`` is imported only when a
foreign array arrives.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

__all__ = [
    "FLOAT_DTYPES",
    "array_namespace",
    "describe_array",
    "device_of",
    "finite_or_raise",
    "float_array",
    "foreign_array_error",
    "is_array_api",
    "is_torch",
    "namespace_name",
    "size_of",
    "to_numpy",
    "vector_norm",
]

_INSTALL = ("array-api-compat is needed for arrays other than NumPy: "
            "pip install 'dotwise[array]' (or 'dotwise[gpu]' for CuPy)")

#: The dtypes the array-API paths compute in (by name).
FLOAT_DTYPES = ("float32", "float64")


def is_array_api(x: Any) -> bool:
    """Whether ``x`` is an array of a library other than NumPy that follows the array API.

    True for CuPy arrays, PyTorch tensors, ``array_api_strict`` arrays, JAX arrays
    and any object with ``__array_namespace__`` that is not a NumPy array; False for
    NumPy arrays and scalars, lists, Python numbers, ``None`` and Dask arrays (which
    :mod:`dotwise.scale` handles). Answered without importing any of those libraries.

    Examples
    --------
    >>> is_array_api(np.ones(3)), is_array_api([1.0, 2.0])
    (False, False)
    """
    if isinstance(x, (np.ndarray, np.generic, list, tuple, int, float)) or x is None:
        return False
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(x, torch.Tensor):
        return True
    if not hasattr(type(x), "__array_namespace__"):
        return False
    dask = sys.modules.get("dask.array")
    return not (dask is not None and isinstance(x, dask.Array))


def is_torch(x: Any) -> bool:
    """Whether ``x`` is a ``torch.Tensor`` (without importing torch)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def _compat():
    """``array_api_compat``: the installed package, else the copy scikit-learn ships."""
    try:
        import array_api_compat
    except ImportError:  # pragma: no cover - installed where the tests run
        try:  # scikit-learn (a core dependency) vendors it since 1.4
            from sklearn.externals import array_api_compat
        except ImportError:
            raise ImportError(_INSTALL) from None
    return array_api_compat


def device_of(x: Any) -> Any:
    """The device ``x`` lives on (``array_api_compat.device``)."""
    return _compat().device(x)


def namespace_name(xp: Any) -> str:
    """A short name for a namespace: ``torch``, ``cupy``, ``array_api_strict``, ``numpy``."""
    name = getattr(xp, "__name__", repr(xp))
    return name.rsplit("array_api_compat.", 1)[-1]


def describe_array(x: Any) -> str:
    """A short description of a received array: type, shape, dtype and device.

    Examples
    --------
    >>> describe_array(np.zeros((2, 3), np.float32))
    'numpy.ndarray of shape (2, 3) and dtype float32'
    """
    kind = f"{type(x).__module__.split('.')[0]}.{type(x).__name__}"
    if isinstance(x, np.ndarray):
        return f"numpy.ndarray of shape {x.shape} and dtype {x.dtype}"
    if not is_array_api(x):
        from ._validation import describe

        return describe(x)
    shape = tuple(x.shape)
    dtype = str(x.dtype).rsplit(".", 1)[-1]
    try:
        where = f" on device {device_of(x)}"
    except Exception:  # a description must never fail
        where = ""
    return f"{kind} of shape {shape} and dtype {dtype}{where}"


def foreign_array_error(x: Any, name: str) -> TypeError:
    """The error of a NumPy-only function handed a CuPy/PyTorch/other array-API array.

    dotwise never copies such an array to the host on its own; the message says
    how to do it explicitly.
    """
    return TypeError(
        f"{name} is a {describe_array(x)}; this function computes on NumPy arrays only and "
        f"dotwise does not copy arrays to the host behind your back. Convert it explicitly "
        f"(torch: {name}.cpu().numpy(); CuPy: cupy.asnumpy({name})), or use one of the "
        f"functions that run in {name}'s own namespace (see the GPU guide)"
    )


def array_namespace(*named: tuple[str, Any]) -> tuple[Any, Any]:
    """The namespace and device shared by the named arrays, or a clear error.

    Parameters
    ----------
    *named : tuple of (str, array or None)
        ``(argument name, value)`` pairs. ``None`` and Python scalars are skipped
        (they take the namespace of the others). At least one value must be an
        array-API array (see :func:`is_array_api`).

    Returns
    -------
    xp : module
        The ``array-api-compat`` namespace (``array_api_compat.torch``, ``cupy``...).
    device : object
        The device every array lives on.

    Raises
    ------
    TypeError
        One argument is a NumPy array or a list while another is a foreign array,
        or two arguments come from different libraries.
    ValueError
        Two arguments live on different devices.
    """
    compat = _compat()
    first = None
    for name, value in named:
        if value is None or isinstance(value, (bool, int, float, complex)):
            continue
        if not is_array_api(value):
            continue
        xp = compat.array_namespace(value)
        dev = compat.device(value)
        if first is None:
            first = (name, value, xp, dev)
            continue
        name0, value0, xp0, dev0 = first
        if xp is not xp0:
            raise TypeError(
                f"{name0} and {name} must come from the same array library: {name0} is a "
                f"{describe_array(value0)}, {name} is a {describe_array(value)}; convert "
                f"one of them explicitly"
            )
        if dev != dev0:
            raise ValueError(
                f"{name0} and {name} must live on the same device: {name0} is on {dev0}, "
                f"{name} is on {dev}; move one of them (e.g. {name}.to({name0}.device) in "
                f"torch)"
            )
    if first is None:
        raise TypeError("array_namespace needs at least one array-API array")
    name0, value0, _, _ = first
    for name, value in named:
        if value is None or isinstance(value, (bool, int, float, complex)) or is_array_api(value):
            continue
        raise TypeError(
            f"{name0} and {name} must come from the same array library: {name0} is a "
            f"{describe_array(value0)}, {name} is a {describe_array(value)}. dotwise computes "
            f"where {name0} lives and does not move {name} there on its own: convert it "
            f"explicitly (torch: torch.as_tensor({name}, device={name0}.device))"
        )
    return first[2], first[3]


def float_array(x: Any, name: str, xp: Any, *, ndim: int | tuple[int, ...] | None = None,
                min_ndim: int = 0, allow_empty: bool = False,
                check_finite: bool = True) -> Any:
    """Check an array-API argument: real float32/float64, dimensions, emptiness, finiteness.

    Unlike :func:`dotwise._validation.as_float_array` nothing is converted:
    integer, boolean, complex and half-precision arrays are refused with the fix
    (a conversion on the device), since a silent cast to float64 would fail on
    devices without float64.

    Returns
    -------
    The same array, unchanged.
    """
    from ._validation import ShapeError, _ndim_words

    dtype = x.dtype
    if dtype not in (xp.float32, xp.float64):
        if xp.isdtype(dtype, "complex floating"):
            what = "real-valued"
        elif xp.isdtype(dtype, "real floating"):
            what = "float32 or float64 (dotwise does not compute in half precision)"
        else:
            what = "a floating-point array (float32 or float64)"
        raise TypeError(
            f"{name} must be {what}, got {describe_array(x)}; convert it on its device first, "
            f"e.g. {name}.to(torch.float32) (torch) or {name}.astype(cupy.float32) (CuPy)"
        )
    shape = tuple(x.shape)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if len(shape) not in allowed:
            hint = ""
            if 2 in allowed and len(shape) == 1:
                hint = (f" One column of {shape[0]} values? Pass {name}.reshape(-1, 1). "
                        f"One row? Pass {name}.reshape(1, -1).")
            raise ShapeError(f"{name} must be {_ndim_words(ndim)}, got {len(shape)}-D array of "
                             f"shape {shape}.{hint}")
    if len(shape) < min_ndim:
        raise ShapeError(f"{name} must have at least {min_ndim} dimension(s), got shape {shape}")
    size = 1
    for s in shape:
        size *= int(s)
    if not allow_empty and size == 0:
        raise ShapeError(f"{name} must not be empty, got shape {shape}")
    if check_finite and size:
        finite_or_raise(x, name, xp)
    return x


def size_of(x: Any) -> int:
    """Number of entries of an array-API array (``x.size`` is a method in torch)."""
    n = 1
    for s in x.shape:
        n *= int(s)
    return n


def finite_or_raise(x: Any, name: str, xp: Any) -> None:
    """Raise the project's NaN/Inf error naming the first bad entry (one pass on the device).

    Only a boolean (and, on failure, one index and one value) is read back to the host.
    """
    if size_of(x) == 0:
        return
    ok = xp.isfinite(x)
    if bool(xp.all(ok)):
        return
    flat = xp.reshape(ok, (-1,))
    pos = int(xp.argmin(xp.astype(flat, xp.int32)))
    where = tuple(int(i) for i in np.unravel_index(pos, tuple(x.shape)))
    value = float(xp.reshape(x, (-1,))[pos])
    raise ValueError(
        f"{name} must contain only finite numbers, found {value} at index "
        f"{where if len(where) != 1 else where[0]}; clean the data or pass check_finite=False"
    )


def to_numpy(x: Any, *, explicit: bool = False) -> np.ndarray:
    """Copy an array-API array to a NumPy array on the host — only when asked explicitly.

    dotwise uses this where a host copy is the documented step (writing an index to
    disk, building a small result object); the keyword makes every such place
    visible in the code.

    Raises
    ------
    RuntimeError
        Without ``explicit=True``.
    """
    if not explicit:
        raise RuntimeError("to_numpy copies an array to the host; call it with explicit=True "
                           "where that copy is a documented step")
    if isinstance(x, np.ndarray):
        return x
    if is_torch(x):
        return x.detach().cpu().numpy()
    if type(x).__module__.split(".")[0] == "cupy":
        return x.get()
    try:
        return np.from_dlpack(x)
    except (TypeError, RuntimeError, BufferError, AttributeError):
        return np.asarray(x)


def vector_norm(x: Any, xp: Any) -> Any:
    """Euclidean norm over the last axis of an array-API array, safe from over/underflow.

    The fast path is ``sqrt(x·x)``; where that overflows or underflows the vectors are
    rescaled by their largest entry first, as LAPACK's ``nrm2`` does.
    """
    out = xp.sqrt(xp.sum(x * x, axis=-1))
    tiny = math.sqrt(float(xp.finfo(x.dtype).smallest_normal))
    redo = ~xp.isfinite(out) | (out < tiny)
    if bool(xp.any(redo)):
        scale = xp.max(xp.abs(x), axis=-1) if x.shape[-1] else xp.zeros_like(out)
        safe = xp.where(scale > 0, scale, xp.ones_like(scale))
        xs = x / xp.expand_dims(safe, axis=-1)
        out = xp.where(redo, safe * xp.sqrt(xp.sum(xs * xs, axis=-1)), out)
    return out
