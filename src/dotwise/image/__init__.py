"""Images as matrices: photo filters as fused linear operators, compression by SVD
and by an orthonormal block transform.

>>> import numpy as np
>>> from dotwise.image import gaussian_blur, Pipeline, sepia
>>> img = np.random.default_rng(0).random((16, 16, 3), dtype=np.float32)
>>> Pipeline([gaussian_blur(1.0), sepia()])(img).shape
(16, 16, 3)
"""

from __future__ import annotations

from .color import (
    ColorMap,
    brightness,
    color_matrix,
    contrast,
    grayscale,
    invert,
    saturation,
    sepia,
)
from .filters import (
    Convolution,
    Filter,
    Sobel,
    box_blur,
    convolve,
    correlate,
    custom,
    edges,
    emboss,
    gaussian_blur,
    gaussian_kernel1d,
    kernel_plan,
    laplacian,
    motion_blur,
    sharpen,
    sobel,
    unsharp_mask,
)
from .io import SAMPLE_IMAGES, load_image, sample_image, save_image
from .pipeline import FuseReport, Pipeline

__all__ = [
    "SAMPLE_IMAGES",
    "ColorMap",
    "Convolution",
    "Filter",
    "FuseReport",
    "Pipeline",
    "Sobel",
    "box_blur",
    "brightness",
    "color_matrix",
    "contrast",
    "convolve",
    "correlate",
    "custom",
    "edges",
    "emboss",
    "gaussian_blur",
    "gaussian_kernel1d",
    "grayscale",
    "invert",
    "kernel_plan",
    "laplacian",
    "load_image",
    "motion_blur",
    "sample_image",
    "saturation",
    "save_image",
    "sepia",
    "sharpen",
    "sobel",
    "unsharp_mask",
]
