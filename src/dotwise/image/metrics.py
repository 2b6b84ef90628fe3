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
    r"""Mean squared error over all pixels and channels.

    .. math::

        \mathrm{MSE}(a, b) = \frac{1}{H W C} \sum_{y, x, c} (a_{yxc} - b_{yxc})^2

    computed in float64 (equal to ``skimage.metrics.mean_squared_error``).

    Parameters
    ----------
    a, b : array_like of shape (H, W) or (H, W, C)
        The same shape (an (H, W, 1) image counts as (H, W)); any real dtype,
        compared as given (no rescaling of uint8).

    Returns
    -------
    float
        0 for identical images; in the units of the data squared.

    Raises
    ------
    ShapeError
        ``a`` or ``b`` not 2-D or 3-D, or their shapes differ.
    ValueError
        NaN or infinity in ``a`` or ``b``.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.zeros((2, 2)); b = np.array([[0.0, 0.1], [0.2, 0.3]])
    >>> round(mse(a, b), 6)                 # (0 + 0.01 + 0.04 + 0.09) / 4
    0.035
    """
    x, y = _pair(a, b)
    return float(np.mean((x - y) ** 2))


def psnr(a: Any, b: Any, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB: ``10 log10(data_range² / MSE)`` (inf if equal).

    Parameters
    ----------
    a, b : array_like of shape (H, W) or (H, W, C)
        The same shape.
    data_range : float, default=1.0
        ``R``, the span of possible values (1 for images in [0, 1], 255 for 8-bit).

    Returns
    -------
    float
        In decibels; ``inf`` when ``a`` and ``b`` are equal.

    Raises
    ------
    ShapeError
        As :func:`mse`.
    ValueError
        ``data_range`` not positive; NaN or infinity in the images.

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
    r"""Structural similarity (mean over the cropped SSIM map and over channels).

    At every pixel, with local statistics under a Gaussian window :math:`w` (``sigma``,
    truncated at 3.5 σ: 11 × 11 for σ = 1.5) — means :math:`\mu_a = w \star a`,
    variances :math:`\sigma_a^2 = w \star a^2 - \mu_a^2` and covariance
    :math:`\sigma_{ab} = w \star (a b) - \mu_a \mu_b` —

    .. math::

        \mathrm{SSIM}(a, b) = \frac{(2 \mu_a \mu_b + C_1)(2 \sigma_{ab} + C_2)}
                                 {(\mu_a^2 + \mu_b^2 + C_1)(\sigma_a^2 + \sigma_b^2 + C_2)},
        \qquad C_1 = (0.01 R)^2, \quad C_2 = (0.03 R)^2 .

    The map is averaged after cropping ``(window − 1) / 2`` pixels at each border (the
    window there reaches outside the image; borders are reflected), per channel, and
    the channels' means are averaged. This is scikit-image's
    ``structural_similarity(a, b, data_range=R, gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, channel_axis=2)``.

    Parameters
    ----------
    a, b : array_like of shape (H, W) or (H, W, C)
        Same shape; at least as large as the window (11 × 11 for the default sigma).
    data_range : float, default=1.0
        ``R`` in the constants (1 for images in [0, 1], 255 for 8-bit).
    sigma : float, default=1.5
        Standard deviation of the Gaussian window, in pixels.
    full : bool, default=False
        Also return the SSIM map (H, W) or (H, W, C).

    Returns
    -------
    float, or (float, ndarray) with ``full=True``
        The mean SSIM, at most 1 (equal images), near 0 for unrelated ones, negative
        for anti-correlated structure; with ``full=True`` also the uncropped map.

    Raises
    ------
    ShapeError
        ``a`` and ``b`` of different shapes, not 2-D or 3-D, or smaller than the window.
    ValueError
        ``data_range`` or ``sigma`` not positive; NaN or infinity in the images.

    References
    ----------
    Z. Wang, A. C. Bovik, H. R. Sheikh, E. P. Simoncelli, "Image quality assessment:
    from error visibility to structural similarity", IEEE Transactions on Image
    Processing 13(4), 600–612, 2004.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.random.default_rng(0).random((32, 32))
    >>> ssim(img, img)
    1.0
    >>> noisy = np.clip(img + np.random.default_rng(1).normal(0, 0.2, img.shape), 0, 1)
    >>> 0 < ssim(img, noisy) < 1
    True
    >>> value, smap = ssim(img, noisy, full=True)
    >>> smap.shape
    (32, 32)
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
