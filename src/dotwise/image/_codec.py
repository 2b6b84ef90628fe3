"""What both codecs share: the image and ratio checks, raw LZMA2 and 8-bit vectors (private).

Used by :mod:`.svd_codec`, :mod:`.block_codec` and :mod:`.report`, all inside
``dotwise.image``.
"""

from __future__ import annotations

import lzma
from typing import Any

import numpy as np

from .._validation import ShapeError, as_float_array, check_positive


def check_img(img: Any) -> np.ndarray:
    """``img`` as float64 (H, W, C) in [0, 1] with C in {1, 3}; uint8 is divided by 255."""
    if isinstance(img, np.ndarray) and img.dtype == np.uint8:
        img = img.astype(np.float32) / 255.0
    arr = as_float_array(img, "img", ndim=(2, 3), dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.shape[2] == 4:
        raise ShapeError(f"img has an alpha channel (shape {arr.shape}); compress the colour "
                         f"only: img[:, :, :3]")
    if arr.shape[2] not in (1, 3):
        raise ShapeError(f"img must be grey (H, W) or colour (H, W, 3), got shape {arr.shape}")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < -1e-6 or hi > 1 + 1e-6:
        raise ValueError(f"img values must lie in [0, 1] (float) or be uint8, got range "
                         f"[{lo:.4g}, {hi:.4g}]; divide 8-bit data by 255")
    if arr.shape[0] * arr.shape[1] > 2**28:
        raise ValueError(f"img is too large to compress in memory: {arr.shape[:2]} "
                         f"(limit 2**28 pixels)")
    return np.clip(arr, 0.0, 1.0)


def check_ratio(ratio: Any) -> float:
    """A target size ratio in (0, 1]."""
    ratio = check_positive(ratio, "ratio")
    if ratio > 1:
        raise ValueError(f"ratio must be in (0, 1] (compressed size / raw size), got {ratio}")
    return ratio


# Raw LZMA2: the decoder needs only a dictionary at least as large as the encoder's
# (preset 6's 8 MiB covers every version of the format). The encoder uses preset 0's small
# dictionary and hash-chain match finder in normal mode with long matches: on the
# coefficient streams (mostly runs of zeros, band by band) that measured 1.7–3.4× faster
# than preset 6 and 1–2 % smaller.
LZMA_DECODE = [{"id": lzma.FILTER_LZMA2, "preset": 6, "lc": 4, "lp": 0, "pb": 0}]
LZMA_ENCODE = [{"id": lzma.FILTER_LZMA2, "preset": 0, "mode": lzma.MODE_NORMAL,
                "mf": lzma.MF_HC3, "nice_len": 64, "lc": 4, "lp": 0, "pb": 0}]


def pack_lzma(data: bytes) -> bytes:
    """Raw LZMA2 with the encoder settings above."""
    return lzma.compress(data, format=lzma.FORMAT_RAW, filters=LZMA_ENCODE)


def unpack_lzma(data: bytes, max_size: int = -1) -> bytes:
    """Inverse of :func:`pack_lzma` (reads every encoder setting the format has used).

    ``max_size`` stops after that many output bytes (the caller knows the size it expects,
    so damaged data cannot make it allocate more).
    """
    return lzma.LZMADecompressor(format=lzma.FORMAT_RAW, filters=LZMA_DECODE).decompress(
        data, max_length=max_size)


def quantize_rows(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``X`` → int8 with one float32 scale per row (``max|x| / 127``)."""
    scale = np.abs(X).max(axis=1) / 127.0
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
    q = np.clip(np.rint(X / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale
