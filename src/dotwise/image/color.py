"""Colour filters: a 3×3 matrix and a bias applied to every pixel's RGB vector.

Each output pixel is three dot products with the input pixel,

.. math:: \\mathbf{p}' = M \\mathbf{p} + \\mathbf{b}, \\qquad
          \\text{i.e. } \\; P' = P M^\\top + \\mathbf{b}^\\top \\text{ for all pixels at once}

so two colour maps in a row are one: ``M₂(M₁p + b₁) + b₂ = (M₂M₁)p + (M₂b₁ + b₂)``.
Values are not clipped (so composition stays exact); :func:`~dotwise.image.save_image`
clips to [0, 1]. Grey input ``(H, W)`` or ``(H, W, 1)`` is repeated to RGB first; a fourth
(alpha) channel passes through unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import ShapeError, as_float_array, check_positive
from .filters import Filter, _check_image

__all__ = [
    "LUMA_WEIGHTS",
    "ColorMap",
    "brightness",
    "color_matrix",
    "contrast",
    "grayscale",
    "invert",
    "saturation",
    "sepia",
]

LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114])
"""Rec. 601 luma weights: ``Y = 0.299 R + 0.587 G + 0.114 B``."""


class ColorMap(Filter):
    """Affine colour map ``p ↦ M p + b`` on every pixel.

    Parameters
    ----------
    matrix : array_like of shape (3, 3)
    bias : array_like of shape (3,), default=0
    name : str, default="color_matrix"

    Examples
    --------
    >>> import numpy as np
    >>> px = np.array([[[1.0, 0.5, 0.0]]], dtype=np.float32)   # one orange pixel
    >>> invert()(px)
    array([[[0. , 0.5, 1. ]]], dtype=float32)
    """

    kind = "color"

    def __init__(self, matrix: Any, bias: Any = 0.0, name: str = "color_matrix",
                 params: dict[str, Any] | None = None):
        super().__init__(name, params)
        M = as_float_array(matrix, "matrix", ndim=2, dtype=np.float64)
        if M.shape != (3, 3):
            raise ShapeError(f"matrix must be 3×3 (RGB → RGB), got shape {M.shape}")
        b = as_float_array(bias, "bias", dtype=np.float64)
        if b.ndim == 0:
            b = np.full(3, float(b))
        if b.shape != (3,):
            raise ShapeError(f"bias must be a scalar or have shape (3,), got shape {b.shape}")
        self.matrix, self.bias = M, b

    def __call__(self, img: Any) -> np.ndarray:
        arr = _check_image(img)
        if arr.ndim == 2:
            arr = arr[:, :, None]
        C = arr.shape[2]
        if C == 1:
            arr = np.repeat(arr, 3, axis=2)
        elif C not in (3, 4):
            raise ShapeError(
                f"img must have 1, 3 or 4 channels for a colour map, got shape {arr.shape}"
            )
        dt = arr.dtype
        rgb = arr[:, :, :3]
        out = rgb @ self.matrix.T.astype(dt)
        out += self.bias.astype(dt)
        if arr.shape[2] == 4:
            out = np.concatenate([out, arr[:, :, 3:]], axis=2)
        return out

    def then(self, other: ColorMap) -> ColorMap:
        """The single map equal to applying ``self`` and then ``other``."""
        return ColorMap(other.matrix @ self.matrix, other.matrix @ self.bias + other.bias,
                        "color_matrix")


def color_matrix(matrix: Any, bias: Any = 0.0) -> ColorMap:
    """Any affine colour map ``p ↦ matrix @ p + bias``."""
    return ColorMap(matrix, bias, "color_matrix")


def grayscale() -> ColorMap:
    """Luma in all three channels: every row of ``M`` is ``(0.299, 0.587, 0.114)``.

    Examples
    --------
    >>> import numpy as np
    >>> grayscale()(np.array([[[1.0, 0.0, 0.0]]]))[0, 0]
    array([0.299, 0.299, 0.299])
    """
    return ColorMap(np.tile(LUMA_WEIGHTS, (3, 1)), 0.0, "grayscale")


def sepia() -> ColorMap:
    """The classic sepia tone matrix (rows: new R, G, B as mixtures of the old)."""
    M = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]])
    return ColorMap(M, 0.0, "sepia")


def brightness(factor: float = 1.2) -> ColorMap:
    """Scale every channel: ``M = factor · I`` (like ``PIL.ImageEnhance.Brightness``)."""
    factor = check_positive(factor, "factor", allow_zero=True)
    return ColorMap(factor * np.eye(3), 0.0, "brightness", {"factor": factor})


def contrast(factor: float = 1.2, pivot: float = 0.5) -> ColorMap:
    """Stretch around ``pivot``: ``p ↦ factor (p − pivot) + pivot``."""
    factor = check_positive(factor, "factor", allow_zero=True)
    return ColorMap(factor * np.eye(3), (1.0 - factor) * float(pivot), "contrast",
                    {"factor": factor})


def saturation(factor: float = 1.2) -> ColorMap:
    """Move away from (factor > 1) or toward (factor < 1) the pixel's grey:
    ``M = factor · I + (1 − factor) · 1 wᵀ`` with ``w`` the luma weights; 0 gives grey."""
    factor = check_positive(factor, "factor", allow_zero=True)
    M = factor * np.eye(3) + (1.0 - factor) * np.tile(LUMA_WEIGHTS, (3, 1))
    return ColorMap(M, 0.0, "saturation", {"factor": factor})


def invert() -> ColorMap:
    """Negative: ``p ↦ 1 − p`` (``M = −I``, ``b = 1``)."""
    return ColorMap(-np.eye(3), 1.0, "invert")
