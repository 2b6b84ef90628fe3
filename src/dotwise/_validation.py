"""Boundary checks and the exception family shared by every dotwise module.

Public functions validate their input once, here, and then hand trusted arrays
to private ``_impl`` twins. Every message names the argument, what was
received and what was expected — and, where there is one, the fix.
"""

from __future__ import annotations

import functools
import numbers
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

from ._native import all_finite

__all__ = [
    "DataFormatError",
    "FloatRangeError",
    "ConvergenceWarning",
    "IllConditionedWarning",
    "NotFittedError",  # noqa: F822 - made on first use by __getattr__ below
    "ShapeError",
    "as_float_array",
    "check_choice",
    "check_fitted",
    "check_int",
    "check_k",
    "check_positive",
    "check_same_size",
    "describe",
    "not_finite_error",
    "warn_ill_conditioned",
]


class ShapeError(ValueError):
    """An array has the wrong number of dimensions or mismatched sizes."""


class DataFormatError(ValueError):
    """A file or table could not be read: malformed, truncated, wrong version."""


class FloatRangeError(ValueError, OverflowError):
    """Finite input whose answer cannot be represented in the dtype (it would be inf or NaN).

    Raised instead of returning inf/NaN in silence, e.g. attention scores ``q·k`` above the
    float maximum. Catch it as ``ValueError`` (like every dotwise input error) or
    ``OverflowError``.
    """


@functools.cache
def _not_fitted_error() -> type[Exception]:
    """``NotFittedError``, made on first use: importing scikit-learn takes about a second,
    which the CLI and ``import dotwise`` should not pay before anything needs it."""
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError

    class NotFittedError(SklearnNotFittedError):
        """An estimator, index or model was used before it was fitted or trained.

        Subclasses scikit-learn's ``NotFittedError`` (itself a ``ValueError`` and an
        ``AttributeError``) so both ``except`` clauses catch it.
        """

    NotFittedError.__module__, NotFittedError.__qualname__ = __name__, "NotFittedError"
    globals()["NotFittedError"] = NotFittedError
    return NotFittedError


def __getattr__(name: str) -> Any:
    if name == "NotFittedError":
        return _not_fitted_error()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class IllConditionedWarning(UserWarning):
    """A result was computed, but the problem's conditioning makes it inaccurate."""


class ConvergenceWarning(UserWarning):
    """An iterative method stopped at its iteration limit before meeting its tolerance."""


def describe(x: Any) -> str:
    """A short human description of a received value: type, and shape/dtype for arrays."""
    if isinstance(x, np.ndarray):
        return f"array of shape {x.shape} and dtype {x.dtype}"
    if isinstance(x, (list, tuple)):
        return f"{type(x).__name__} of length {len(x)}"
    text = repr(x)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(x).__name__} {text}"


_NDIM_NAMES = {0: "a scalar", 1: "a 1-D vector", 2: "a 2-D matrix", 3: "a 3-D array"}


def _ndim_words(ndim: int | tuple[int, ...]) -> str:
    if isinstance(ndim, int):
        return _NDIM_NAMES.get(ndim, f"a {ndim}-D array")
    return " or ".join(_NDIM_NAMES.get(n, f"{n}-D") for n in ndim)


def as_float_array(
    x: Any,
    name: str,
    *,
    ndim: int | tuple[int, ...] | None = None,
    min_ndim: int = 0,
    dtype: Any = None,
    check_finite: bool = True,
    allow_empty: bool = False,
    copy: bool = False,
) -> np.ndarray:
    """Convert ``x`` to a floating-point ndarray, or raise a clear error.

    Parameters
    ----------
    x : array_like
        The value the caller passed.
    name : str
        The argument's name, used in every message.
    ndim : int or tuple of int, optional
        Required number of dimensions (one of them, for a tuple).
    min_ndim : int, default=0
        Minimum number of dimensions (for broadcasting functions).
    dtype : dtype, optional
        Target dtype. ``None`` keeps float32/float64 input as it is and turns
        integers and booleans into float64 (never a silent downcast).
    check_finite : bool, default=True
        Scan the input for NaN and infinity first and name the first one found
        (one fast pass). ``False`` skips the scan: a non-finite value then
        spreads into the result or stops LAPACK with an error of its own.
    allow_empty : bool, default=False
        Whether an array with a zero-length axis is acceptable.
    copy : bool, default=False
        Always return a new array the caller's data does not share.

    Returns
    -------
    ndarray
    """
    if isinstance(x, np.ndarray) and x.dtype.kind in "fiub":
        arr = x
    else:
        from ._xp import foreign_array_error, is_array_api

        if is_array_api(x):  # a CuPy/PyTorch/... array: never copied to the host silently
            raise foreign_array_error(x, name)
        try:
            arr = np.asarray(x)
        except (ValueError, TypeError) as exc:
            raise TypeError(
                f"{name} must be a rectangular array of numbers, got {describe(x)} "
                f"that NumPy cannot turn into one (ragged rows?): {exc}"
            ) from None
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} must be real-valued, got complex dtype {arr.dtype}")
    if arr.dtype.kind not in "fiub":
        raise TypeError(
            f"{name} must contain numbers, got {describe(x)}"
            + (" (ragged rows?)" if arr.dtype == object else "")
        )
    if dtype is None:
        target = arr.dtype if arr.dtype.kind == "f" and arr.dtype.itemsize >= 4 else np.float64
    else:
        target = np.dtype(dtype)
    arr = np.array(arr, dtype=target, copy=True) if copy else np.asarray(arr, dtype=target)

    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            hint = ""
            if 2 in allowed and arr.ndim == 1:
                hint = (
                    f" One column of {arr.shape[0]} values? Pass {name}.reshape(-1, 1). "
                    f"One row of {arr.shape[0]} values? Pass {name}.reshape(1, -1)."
                )
            raise ShapeError(
                f"{name} must be {_ndim_words(ndim)}, got {arr.ndim}-D array of shape "
                f"{arr.shape}.{hint}"
            )
    if arr.ndim < min_ndim:
        raise ShapeError(
            f"{name} must have at least {min_ndim} dimension(s), got shape {arr.shape}"
        )
    if not allow_empty and arr.size == 0:
        raise ShapeError(f"{name} must not be empty, got shape {arr.shape}")
    if check_finite and arr.dtype.kind == "f" and not all_finite(arr):
        raise not_finite_error(arr, name)
    return arr


def not_finite_error(arr: np.ndarray, name: str) -> ValueError:
    """The error for an input holding NaN or infinity: names the first such value and where."""
    bad = np.argwhere(~np.isfinite(arr))[0]
    where = tuple(int(i) for i in bad)
    return ValueError(
        f"{name} must contain only finite numbers, found {arr[where]} at index "
        f"{where if len(where) != 1 else where[0]}; clean the data or pass check_finite=False"
    )


def check_int(value: Any, name: str, *, minimum: int | None = None,
              maximum: int | None = None) -> int:
    """Return ``value`` as an int within [minimum, maximum], or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {describe(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_k(value: Any, name: str = "k") -> int:
    """Return ``value`` as a positive int: how many results (matches, items) are wanted.

    One rule and one wording for every "top k" in dotwise (search, recall,
    recommendations): an integer (not a bool) of at least 1.

    Examples
    --------
    >>> check_k(5)
    5
    >>> check_k(0)
    Traceback (most recent call last):
    ...
    ValueError: k must be a positive integer (how many results to return), got 0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer (how many results to return), "
                        f"got {describe(value)}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer (how many results to return), "
                         f"got {int(value)}")
    return int(value)


def check_positive(value: Any, name: str, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a finite float > 0 (or >= 0), or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {describe(value)}")
    value = float(value)
    ok = value >= 0 if allow_zero else value > 0
    if not (np.isfinite(value) and ok):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value}")
    return value


def check_choice(value: Any, name: str, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``; otherwise list them in the error."""
    choices = tuple(choices)
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {listed}; got {value!r}")
    return value


def check_same_size(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str, *,
                    axis_a: int = -1, axis_b: int = -1, what: str = "length") -> None:
    """Raise ``ShapeError`` showing both shapes when two axes differ in size."""
    if a.shape[axis_a] != b.shape[axis_b]:
        raise ShapeError(
            f"{name_a} and {name_b} must have the same {what}: {name_a} has shape "
            f"{a.shape}, {name_b} has shape {b.shape}"
        )


def check_fitted(obj: Any, attribute: str) -> None:
    """Raise ``NotFittedError`` naming the class when ``attribute`` is not set yet."""
    if not hasattr(obj, attribute):
        raise _not_fitted_error()(
            f"This {type(obj).__name__} instance is not fitted yet; call 'fit' first."
        )


def warn_ill_conditioned(cond: float, *, what: str = "the problem",
                         advice: str = "", stacklevel: int = 3) -> None:
    """Warn that ``what`` has condition number ``cond`` (about log10(cond) digits lost)."""
    digits = int(np.log10(cond)) if np.isfinite(cond) and cond > 0 else 16
    message = (
        f"{what} is ill-conditioned (condition number ≈ {cond:.2e}): expect about "
        f"{digits} significant digits to be lost."
    )
    if advice:
        message += " " + advice
    warnings.warn(message, IllConditionedWarning, stacklevel=stacklevel)
