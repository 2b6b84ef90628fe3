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
from .compress import (
    CompressedImage,
    block_compress,
    dct_matrix,
    load_compressed,
    quantization_tables,
    randomized_svd,
    save_compressed,
    svd_compress,
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
from .io import SAMPLE_IMAGES, load_image, sample_image, sample_image_needs, save_image
from .metrics import mse, psnr, ssim
from .pipeline import FuseReport, Pipeline
from .report import CompressionReport, compression_report, jpeg_at_size

__all__ = [
    "ColorMap",
    "CompressedImage",
    "CompressionReport",
    "Convolution",
    "Filter",
    "FuseReport",
    "Pipeline",
    "SAMPLE_IMAGES",
    "Sobel",
    "block_compress",
    "box_blur",
    "brightness",
    "color_matrix",
    "compression_report",
    "contrast",
    "convolve",
    "correlate",
    "custom",
    "dct_matrix",
    "edges",
    "emboss",
    "gaussian_blur",
    "gaussian_kernel1d",
    "grayscale",
    "invert",
    "jpeg_at_size",
    "kernel_plan",
    "laplacian",
    "load_compressed",
    "load_image",
    "motion_blur",
    "mse",
    "psnr",
    "quantization_tables",
    "randomized_svd",
    "sample_image",
    "sample_image_needs",
    "saturation",
    "save_compressed",
    "save_image",
    "sepia",
    "sharpen",
    "sobel",
    "ssim",
    "svd_compress",
    "unsharp_mask",
]
