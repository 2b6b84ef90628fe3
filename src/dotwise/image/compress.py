"""Image compression two ways: low-rank SVD, and an orthonormal 8×8 block transform.

Both return a :class:`CompressedImage`; both are lossy and measured honestly:
``nbytes`` counts the whole ``.dwz`` file (header included) and ``ratio`` divides it
by the raw 8-bit size ``H · W · C``.

SVD (:func:`svd_compress`, in :mod:`.svd_codec`)
    Each channel ``A`` (H × W) is replaced by its best rank-``k`` approximation
    ``A_k = U_k Σ_k V_kᵀ`` (Eckart–Young: ``‖A − A_k‖_F² = Σ_{i>k} σ_i²``, the
    smallest possible). The factors ``U_k √Σ_k`` and ``V_k √Σ_k`` are stored as 8-bit
    integers with one float scale per vector, then LZMA-compressed:
    about ``k (H + W + 8)`` bytes per channel.

Block transform (:func:`block_compress`, in :mod:`.block_codec`)
    The JPEG recipe, built from linear algebra: RGB → YCbCr (a 3×3 matrix), chroma
    averaged over 2×2 pixels, each 8×8 block projected on an orthonormal basis (DCT-II
    or the image's own Karhunen–Loève basis), quantised, reordered band by band and
    entropy-coded with LZMA.

The container (:class:`CompressedImage`, ``.dwz`` files) is in :mod:`.compressed`,
the file header in :mod:`.dwz`. This module gathers the public names.
"""

from __future__ import annotations

from ..linalg import randomized_svd
from .block_codec import block_compress, dct_matrix, quantization_tables
from .compressed import CompressedImage, load_compressed, save_compressed
from .svd_codec import svd_compress

__all__ = [
    "CompressedImage",
    "block_compress",
    "dct_matrix",
    "load_compressed",
    "quantization_tables",
    "randomized_svd",
    "save_compressed",
    "svd_compress",
]
