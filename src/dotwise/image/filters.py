"""Convolution and the photo filters built on it.

A convolution filter is a dot product repeated at every pixel: the output pixel is
the kernel's entries dotted with the patch of pixels around it,

.. math:: (k \\star x)[y, x, c] = \\sum_{i, j} k[i, j]\\, x[y + i - r, x + j - q, c]

(``correlate``; ``convolve`` flips the kernel first). Pixels outside the image are
supplied by the boundary ``mode``, with :mod:`scipy.ndimage`'s names and meaning:

=============  =========================================
``reflect``    ``d c b a | a b c d | d c b a`` (default)
``mirror``     ``d c b | a b c d | c b a``
``nearest``    ``a a a | a b c d | d d d``
``wrap``       ``b c d | a b c d | a b c``
``constant``   ``k k k | a b c d | k k k`` (``cval = k``)
=============  =========================================

The filters (``gaussian_blur(sigma=2)``, ``sharpen(1)``, ``sobel()``, …) are small
objects: build one, then call it on an image. Linear ones know their kernel, so a
:class:`~dotwise.image.Pipeline` can fuse several into one.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _native
from .._validation import (
    ShapeError,
    as_float_array,
    check_choice,
    check_int,
    check_positive,
    not_finite_error,
)
from ._engine import MODES, NonFiniteInput, plan_kernel
from ._engine import correlate3 as _correlate3

__all__ = [
    "Convolution",
    "Filter",
    "Sobel",
    "box_blur",
    "convolve",
    "correlate",
    "custom",
    "edges",
    "emboss",
    "gaussian_blur",
    "gaussian_kernel1d",
    "kernel_plan",
    "laplacian",
    "motion_blur",
    "sharpen",
    "sobel",
    "unsharp_mask",
]

_METHODS = ("auto", "direct", "lowrank", "fft")
_ENGINE_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

MAX_KERNEL_SIZE = 4095
"""The largest kernel height or width the filters accept (a 4095 × 4095 float64 kernel
is 134 MB; a wider blur is better done on a downscaled image, or as repeated smaller
blurs — two Gaussians of σ₁, σ₂ make one of σ = √(σ₁² + σ₂²))."""


def _check_kernel_side(side: float, what: str, fix: str) -> None:
    """Refuse a kernel wider than :data:`MAX_KERNEL_SIZE` before it is allocated."""
    if side > MAX_KERNEL_SIZE:
        size = (f"{float(side) ** 2 * 8 / 1e9:.3g} GB as float64" if side < 1e100
                else "more memory than exists")
        across = (f"{int(side)}×{int(side)}" if side < 1e12 else
                  f"{float(side):.3g}-wide" if math.isfinite(side) else "infinitely wide")
        raise ValueError(
            f"{what} gives a {across} kernel ({size}); the largest "
            f"kernel side the filters take is {MAX_KERNEL_SIZE}. {fix}"
        )


# --------------------------------------------------------------------------- checks
def _check_image(img: Any, name: str = "img", check_finite: bool = True) -> np.ndarray:
    """(H, W) or (H, W, C) floats; integers become float32; float64 stays float64."""
    if (not check_finite and type(img) is np.ndarray and img.dtype in _ENGINE_DTYPES
            and img.ndim in (2, 3) and img.size):
        return img                     # the common case, without the general checks
    if isinstance(img, np.ndarray) and img.dtype.kind in "iub":
        img = img.astype(np.float32)
    arr = as_float_array(img, name, ndim=(2, 3), check_finite=check_finite)
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float32)
    return arr


def check_kernel(kernel: Any, name: str = "kernel") -> np.ndarray:
    """A 2-D kernel with odd height and width (so it has a centre pixel)."""
    k = as_float_array(kernel, name, ndim=2, dtype=np.float64)
    if max(k.shape) > MAX_KERNEL_SIZE:
        _check_kernel_side(max(k.shape), f"{name} of shape {k.shape}",
                           "Downscale the image and use a smaller kernel.")
    if k.shape[0] % 2 == 0 or k.shape[1] % 2 == 0:
        raise ShapeError(
            f"{name} must have odd height and width so that it has a centre pixel, got "
            f"shape {k.shape}; pad it with a row/column of zeros, e.g. np.pad(kernel, "
            f"((0, 1), (0, 1)))"
        )
    return k


def check_mode(mode: Any) -> str:
    """``mode`` if it is a boundary rule filters know (``reflect``, ``mirror``, ``nearest``,
    ``wrap``, ``constant``), else a ``ValueError`` that lists them.

    >>> check_mode("wrap")
    'wrap'
    """
    return check_choice(mode, "mode", MODES)


_check_mode = check_mode


# --------------------------------------------------------------------------- engine
def correlate(img: Any, kernel: Any, mode: str = "reflect", cval: float = 0.0, *,
              method: str = "auto") -> np.ndarray:
    """Correlate every channel of an image with a 2-D kernel.

    ``out[y, x, c] = sum_ij kernel[i, j] * img[y + i - r, x + j - q, c]`` with
    ``r, q = kh // 2, kw // 2`` and out-of-image pixels given by ``mode``. Equal (to
    float rounding) to ``scipy.ndimage.correlate(img, kernel[:, :, None], mode=mode)``.

    Parameters
    ----------
    img : array_like of shape (H, W) or (H, W, C)
        The image; integers are converted to float32, float32 and float64 are kept.
    kernel : array_like of shape (kh, kw)
        Odd height and width.
    mode : {"reflect", "mirror", "nearest", "wrap", "constant"}, default="reflect"
        Boundary rule (scipy.ndimage's names; see the module docstring).
    cval : float, default=0.0
        Value outside the image for ``mode="constant"``.
    method : {"auto", "direct", "lowrank", "fft"}, default="auto"
        ``auto`` picks the cheapest plan (see :func:`kernel_plan`): rank-1 kernels run
        as two 1-D passes, large dense kernels by FFT, small ones directly.

    Returns
    -------
    ndarray of the same shape and dtype as ``img`` (float32 for integer input)

    Examples
    --------
    >>> import numpy as np
    >>> img = np.arange(12, dtype=np.float32).reshape(3, 4)
    >>> correlate(img, [[0, 0, 0], [0, 0, 1], [0, 0, 0]], mode="nearest")
    array([[ 1.,  2.,  3.,  3.],
           [ 5.,  6.,  7.,  7.],
           [ 9., 10., 11., 11.]], dtype=float32)
    """
    return _correlate_kernel(img, _checked_kernel(kernel, False), mode, cval, method)


_CHECKED: dict[tuple, np.ndarray] = {}


def _checked_kernel(kernel: Any, flip: bool) -> np.ndarray:
    """:func:`check_kernel` (flipped for a convolution), remembered for small ndarray
    kernels by their bytes: a photo filter is called with the same kernel again and
    again, and on a small image the checks cost as much as a tenth of the filtering."""
    if not (type(kernel) is np.ndarray and kernel.ndim == 2 and kernel.dtype.kind == "f"
            and kernel.size <= 1024):
        k = check_kernel(kernel)
        return k[::-1, ::-1] if flip else k
    key = (kernel.shape, kernel.dtype.str, kernel.tobytes(), flip)
    k = _CHECKED.get(key)
    if k is None:
        k = check_kernel(kernel)
        k = np.array(k[::-1, ::-1] if flip else k, order="C")   # our own copy, shared by
        k.flags.writeable = False      # later calls: nobody may change it
        if len(_CHECKED) > 256:
            _CHECKED.clear()
        _CHECKED[key] = k
    return k


def _correlate_kernel(img: Any, k: np.ndarray, mode: str, cval: float,
                      method: str) -> np.ndarray:
    """:func:`correlate` with ``k`` already checked by :func:`check_kernel`."""
    arr = _check_image(img, check_finite=False)    # the engine scans it, stripe by stripe
    mode = _check_mode(mode)
    method = check_choice(method, "method", _METHODS)
    cval = float(cval)
    squeeze = arr.ndim == 2
    a3 = arr[:, :, None] if squeeze else arr
    try:
        out = _correlate3(a3, k, mode, cval, method, check_finite=True)
    except NonFiniteInput:
        raise not_finite_error(arr, "img") from None
    return out[:, :, 0] if squeeze else out


def convolve(img: Any, kernel: Any, mode: str = "reflect", cval: float = 0.0, *,
             method: str = "auto") -> np.ndarray:
    """Convolve every channel of an image with a 2-D kernel (the kernel flipped, then correlated).

    ``out[y, x, c] = sum_ij kernel[i, j] * img[y - i + r, x - j + q, c]``. Equal (to
    float rounding) to ``scipy.ndimage.convolve(img, kernel[:, :, None], mode=mode)``.
    Parameters and return value as in :func:`correlate`.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((5, 5), dtype=np.float32); img[2, 2] = 1.0
    >>> k = np.arange(9.0).reshape(3, 3)
    >>> bool(np.array_equal(convolve(img, k)[1:4, 1:4], k))  # impulse response = kernel
    True
    """
    return _correlate_kernel(img, _checked_kernel(kernel, True), mode, cval, method)


def kernel_plan(kernel: Any, dtype: Any = np.float32) -> dict[str, Any]:
    """How :func:`correlate` will run ``kernel``: method, numerical rank, estimated cost.

    Returns
    -------
    dict with ``method`` ("direct" | "lowrank" | "fft"), ``rank`` (the kernel's
    numerical rank: 1 means separable into a column times a row), ``separable``,
    ``cost`` (estimated multiply-adds per output value), ``shape`` and ``engine``:
    ``"compiled"`` when the C loops built at install time run the direct and low-rank
    plans, ``"numpy"`` for the NumPy/BLAS fallback (no compiler at install time, or
    ``DOTWISE_PURE_NUMPY=1``) and for FFT plans; ``isa``: the vector instruction set
    the compiled loops use on this CPU (``"AVX-512"``, ``"AVX2+FMA"`` or
    ``"baseline"``; ``None`` on the NumPy engine).

    Examples
    --------
    >>> kernel_plan(np.ones((31, 31)))["method"], kernel_plan(np.ones((31, 31)))["rank"]
    ('lowrank', 1)
    >>> kernel_plan([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])["method"]
    'direct'
    """
    k = check_kernel(kernel)
    plan = plan_kernel(k, np.dtype(dtype))
    return {"method": plan.method, "rank": plan.rank, "separable": plan.rank == 1,
            "cost": plan.cost, "shape": k.shape, "engine": plan.engine,
            "isa": _native.isa() if plan.engine == "compiled" else None}


# --------------------------------------------------------------------------- filters
class Filter:
    """A photo filter: build it, then call it on an image ``(H, W[, C])`` in [0, 1].

    Subclasses: :class:`Convolution` (knows its ``kernel``), ``ColorMap`` (knows its
    3×3 ``matrix`` and ``bias``) and nonlinear ones such as :class:`Sobel`.
    """

    kind = "nonlinear"

    def __init__(self, name: str, params: dict[str, Any] | None = None):
        self.name = name
        self.params = dict(params or {})

    def __call__(self, img: Any) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.name}({args})"


class Convolution(Filter):
    """A linear, shift-invariant filter: ``img ↦ convolve(img, kernel, mode)``.

    Parameters
    ----------
    kernel : array_like of shape (kh, kw)
        Odd height and width; convolution form (flipped before correlating).
    name : str, default="custom"
    mode : str, default="reflect"
        Boundary rule, see :func:`correlate`.
    params : dict, optional
        Constructor arguments, shown in ``repr``.
    """

    kind = "convolution"

    def __init__(self, kernel: Any, name: str = "custom", mode: str = "reflect",
                 params: dict[str, Any] | None = None):
        super().__init__(name, params)
        self.kernel = check_kernel(kernel)
        self.mode = _check_mode(mode)

    def __call__(self, img: Any) -> np.ndarray:
        return convolve(img, self.kernel, self.mode)


class Sobel(Filter):
    """Sobel gradient of the image's luma: magnitude, direction, or one component.

    ``gx = img ⋆ [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]] / 8`` and ``gy`` its transpose
    (correlation; positive where brightness increases rightwards / downwards);
    ``magnitude = sqrt(gx² + gy²)`` (nonlinear, so not fusable), ``direction =
    arctan2(gy, gx)`` in radians. Colour input is reduced to luma first (Rec. 601).
    Output shape (H, W).
    """

    KX = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]) / 8.0

    def __init__(self, output: str = "magnitude", mode: str = "reflect"):
        self.output = check_choice(output, "output", ("magnitude", "direction", "x", "y"))
        self.mode = _check_mode(mode)
        super().__init__("sobel", {"output": self.output})

    def __call__(self, img: Any) -> np.ndarray:
        arr = _check_image(img)
        if arr.ndim == 3:
            arr = _luma(arr)
        gx = correlate(arr, self.KX, self.mode)
        if self.output == "x":
            return gx
        gy = correlate(arr, self.KX.T, self.mode)
        if self.output == "y":
            return gy
        if self.output == "direction":
            return np.arctan2(gy, gx)
        return np.hypot(gx, gy)


def _luma(arr: np.ndarray) -> np.ndarray:
    if arr.shape[2] == 1:
        return arr[:, :, 0]
    if arr.shape[2] < 3:
        raise ShapeError(f"img must have 1, 3 or 4 channels, got shape {arr.shape}")
    w = np.array([0.299, 0.587, 0.114], dtype=arr.dtype)
    return arr[:, :, :3] @ w


def gaussian_kernel1d(sigma: float, truncate: float = 4.0) -> np.ndarray:
    """Normalised 1-D Gaussian of radius ``int(truncate * sigma + 0.5)`` (as scipy.ndimage).

    Examples
    --------
    >>> w = gaussian_kernel1d(1.0)
    >>> w.shape, round(float(w.sum()), 12)
    ((9,), 1.0)
    """
    sigma = check_positive(sigma, "sigma")
    truncate = check_positive(truncate, "truncate")
    reach = truncate * sigma + 0.5
    _check_kernel_side(2 * math.floor(reach) + 1 if reach < 1e12 else 2 * reach,
                       f"sigma={sigma:g} with truncate={truncate:g}",
                       f"Use sigma <= {(MAX_KERNEL_SIZE // 2 - 0.5) / truncate:.4g} (or a "
                       f"smaller truncate), or blur a downscaled image.")
    radius = int(reach)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    w = np.exp(-0.5 * (x / sigma) ** 2)
    return w / w.sum()


def box_blur(size: int = 3, mode: str = "reflect") -> Convolution:
    """Mean over a ``size × size`` square: kernel ``ones((size, size)) / size²`` (rank 1).

    Examples
    --------
    >>> box_blur(3).kernel.sum()
    np.float64(1.0)
    """
    size = check_int(size, "size", minimum=1)
    if size % 2 == 0:
        raise ValueError(f"size must be odd so the box has a centre pixel, got {size}; "
                         f"use {size - 1} or {size + 1}")
    _check_kernel_side(size, f"size={size}", "Blur a downscaled image instead.")
    return Convolution(np.full((size, size), 1.0 / size**2), "box_blur", mode, {"size": size})


def gaussian_blur(sigma: float = 1.0, truncate: float = 4.0, mode: str = "reflect") -> Convolution:
    """Gaussian blur: kernel ``g gᵀ`` with ``g`` from :func:`gaussian_kernel1d` (rank 1).

    Matches ``scipy.ndimage.gaussian_filter(img, (sigma, sigma, 0), truncate=truncate)``.
    """
    g = gaussian_kernel1d(sigma, truncate)
    return Convolution(np.outer(g, g), "gaussian_blur", mode,
                       {"sigma": float(sigma), "truncate": float(truncate)})


def _identity(size: int = 3) -> np.ndarray:
    k = np.zeros((size, size))
    k[size // 2, size // 2] = 1.0
    return k


_LAPLACE4 = np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
_LAPLACE8 = np.array([[1.0, 1.0, 1.0], [1.0, -8.0, 1.0], [1.0, 1.0, 1.0]])


def sharpen(amount: float = 1.0, mode: str = "reflect") -> Convolution:
    """Sharpen: ``δ − amount · ∇²``, i.e. ``[[0, -a, 0], [-a, 1 + 4a, -a], [0, -a, 0]]``.

    ``amount=1`` is the classic ``[[0, -1, 0], [-1, 5, -1], [0, -1, 0]]``; the kernel
    sums to 1, so flat regions keep their brightness.
    """
    amount = check_positive(amount, "amount", allow_zero=True)
    return Convolution(_identity() - amount * _LAPLACE4, "sharpen", mode, {"amount": amount})


def unsharp_mask(sigma: float = 2.0, amount: float = 1.0, truncate: float = 4.0,
                 mode: str = "reflect") -> Convolution:
    """Unsharp mask: ``x + amount · (x − G_σ x)`` as one kernel ``(1 + a) δ − a G_σ``."""
    amount = check_positive(amount, "amount", allow_zero=True)
    g = gaussian_blur(sigma, truncate).kernel
    k = -amount * g
    k[k.shape[0] // 2, k.shape[1] // 2] += 1.0 + amount
    return Convolution(k, "unsharp_mask", mode, {"sigma": float(sigma), "amount": amount})


def laplacian(mode: str = "reflect") -> Convolution:
    """Discrete Laplacian ``[[0, 1, 0], [1, -4, 1], [0, 1, 0]]`` (second derivative; sums to 0)."""
    return Convolution(_LAPLACE4.copy(), "laplacian", mode)


def edges(mode: str = "reflect") -> Convolution:
    """Edge detection kernel ``[[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]`` (8-neighbour −Laplacian)."""
    return Convolution(-_LAPLACE8, "edges", mode)


def emboss(strength: float = 1.0, mode: str = "reflect") -> Convolution:
    """Emboss: ``δ + strength · [[-2, -1, 0], [-1, 0, 1], [0, 1, 2]]`` (a diagonal derivative)."""
    strength = check_positive(strength, "strength", allow_zero=True)
    d = np.array([[-2.0, -1.0, 0.0], [-1.0, 0.0, 1.0], [0.0, 1.0, 2.0]])
    return Convolution(_identity() + strength * d, "emboss", mode, {"strength": strength})


def motion_blur(length: int = 9, angle: float = 0.0, mode: str = "reflect") -> Convolution:
    """Blur along a line of ``length`` pixels at ``angle`` degrees (counter-clockwise).

    The kernel is a ``length × length`` image of an anti-aliased line segment through
    the centre (points sampled every 1/4 pixel, splatted bilinearly), normalised to
    sum 1. ``angle=0`` is horizontal and rank 1 (two 1-D passes).
    """
    length = check_int(length, "length", minimum=1)
    if length % 2 == 0:
        raise ValueError(f"length must be odd so the kernel has a centre pixel, got {length}")
    _check_kernel_side(length, f"length={length}", "Blur a downscaled image instead.")
    angle = float(angle)
    if not math.isfinite(angle):
        raise ValueError(f"angle must be a finite number of degrees, got {angle}")
    k = np.zeros((length, length))
    c = length // 2
    theta = math.radians(angle)
    dx, dy = math.cos(theta), -math.sin(theta)
    for t in np.linspace(-c, c, 4 * (length - 1) + 1):
        x, y = c + t * dx, c + t * dy
        x0, y0 = math.floor(x + 1e-9), math.floor(y + 1e-9)
        fx, fy = x - x0, y - y0
        for yy, xx, w in ((y0, x0, (1 - fx) * (1 - fy)), (y0, x0 + 1, fx * (1 - fy)),
                          (y0 + 1, x0, (1 - fx) * fy), (y0 + 1, x0 + 1, fx * fy)):
            if 0 <= yy < length and 0 <= xx < length and w > 1e-12:
                k[yy, xx] += w
    k /= k.sum()
    return Convolution(k, "motion_blur", mode, {"length": length, "angle": angle})


def custom(kernel: Any, mode: str = "reflect", name: str = "custom") -> Convolution:
    """Any odd-sized kernel as a filter (convolution form)."""
    return Convolution(kernel, name, mode, {"shape": np.shape(kernel)})


def sobel(output: str = "magnitude", mode: str = "reflect") -> Sobel:
    """Sobel edge strength (``output="magnitude"``), direction (radians), or ``"x"`` / ``"y"``."""
    return Sobel(output, mode)
