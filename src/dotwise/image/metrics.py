"""Image quality: PSNR and SSIM (single scale, Gaussian window, as scikit-image).

.. math::

    \\mathrm{PSNR} = 10 \\log_{10} \\frac{R^2}{\\mathrm{MSE}}, \\qquad
    \\mathrm{SSIM} = \\frac{(2\\mu_a\\mu_b + C_1)(2\\sigma_{ab} + C_2)}
                          {(\\mu_a^2 + \\mu_b^2 + C_1)(\\sigma_a^2 + \\sigma_b^2 + C_2)}

with local means, variances and covariance taken under a Gaussian window
(σ = 1.5, truncated at 3.5 σ: 11 × 11), ``C₁ = (0.01 R)²``, ``C₂ = (0.03 R)²``;
the SSIM map is averaged after cropping 5 pixels at each border, and over channels.
These match ``skimage.metrics.peak_signal_noise_ratio`` and
``structural_similarity(..., gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=R)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import ShapeError, as_float_array, check_positive
from ._engine import correlate3
from .filters import gaussian_kernel1d

__all__ = ["mse", "psnr", "ssim"]


def _pair(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    x = as_float_array(a, "a", ndim=(2, 3), dtype=np.float64)
    y = as_float_array(b, "b", ndim=(2, 3), dtype=np.float64)
    if x.ndim == 3 and x.shape[2] == 1:
        x = x[:, :, 0]
    if y.ndim == 3 and y.shape[2] == 1:
        y = y[:, :, 0]
    if x.shape != y.shape:
        raise ShapeError(f"a and b must have the same shape, got {x.shape} and {y.shape}")
    return x, y


def mse(a: Any, b: Any) -> float:
    """Mean squared error over all pixels and channels."""
    x, y = _pair(a, b)
    return float(np.mean((x - y) ** 2))


def psnr(a: Any, b: Any, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB: ``10 log10(data_range² / MSE)`` (inf if equal).

    Examples
    --------
    >>> import numpy as np
    >>> a = np.zeros((4, 4)); b = a + 0.1
    >>> round(psnr(a, b), 6)
    20.0
    """
    data_range = check_positive(data_range, "data_range")
    err = mse(a, b)
    if err == 0.0:
        return float("inf")
    return float(10.0 * np.log10(data_range**2 / err))


def ssim(a: Any, b: Any, data_range: float = 1.0, *, sigma: float = 1.5,
         full: bool = False) -> float | tuple[float, np.ndarray]:
    """Structural similarity (mean over the cropped SSIM map and over channels).

    Parameters
    ----------
    a, b : array_like of shape (H, W) or (H, W, C)
        Same shape; at least 11 × 11 for the default window.
    data_range : float, default=1.0
        ``R`` in the constants (1 for images in [0, 1]).
    sigma : float, default=1.5
        Gaussian window width.
    full : bool, default=False
        Also return the SSIM map (H, W) or (H, W, C).

    Returns
    -------
    float, or (float, ndarray) with ``full=True``

    Examples
    --------
    >>> import numpy as np
    >>> img = np.random.default_rng(0).random((32, 32))
    >>> ssim(img, img)
    1.0
    """
    x, y = _pair(a, b)
    data_range = check_positive(data_range, "data_range")
    sigma = check_positive(sigma, "sigma")
    g = gaussian_kernel1d(sigma, truncate=3.5)
    win = g.size
    if min(x.shape[:2]) < win:
        raise ShapeError(
            f"a and b must be at least {win}×{win} pixels for SSIM with sigma={sigma}, "
            f"got {x.shape[:2]}"
        )
    k = np.outer(g, g)
    x3 = x[:, :, None] if x.ndim == 2 else x
    y3 = y[:, :, None] if y.ndim == 2 else y
    stack = np.concatenate([x3, y3, x3 * x3, y3 * y3, x3 * y3], axis=2)
    f = correlate3(np.ascontiguousarray(stack), k, "reflect", 0.0, "lowrank")
    c = x3.shape[2]
    ux, uy, uxx, uyy, uxy = (f[:, :, i * c:(i + 1) * c] for i in range(5))
    vx, vy, vxy = uxx - ux * ux, uyy - uy * uy, uxy - ux * uy
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    smap = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux**2 + uy**2 + c1) * (vx + vy + c2))
    pad = (win - 1) // 2
    value = float(np.mean(smap[pad:-pad, pad:-pad].mean(axis=(0, 1))))
    if full:
        return value, (smap[:, :, 0] if x.ndim == 2 else smap)
    return value
