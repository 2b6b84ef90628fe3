"""Image compression two ways: low-rank SVD, and an orthonormal 8×8 block transform.

Both return a :class:`CompressedImage`; both are lossy and measured honestly:
``nbytes`` counts the whole ``.dwz`` file (header included) and ``ratio`` divides it
by the raw 8-bit size ``H · W · C``.

SVD (:func:`svd_compress`)
    Each channel ``A`` (H × W) is replaced by its best rank-``k`` approximation
    ``A_k = U_k Σ_k V_kᵀ`` (Eckart–Young: ``‖A − A_k‖_F² = Σ_{i>k} σ_i²``, the
    smallest possible). The factors ``U_k √Σ_k`` and ``V_k √Σ_k`` are stored as 8-bit
    integers with one float scale per vector, then LZMA-compressed:
    about ``k (H + W + 8)`` bytes per channel.

Block transform (:func:`block_compress`)
    The JPEG recipe, built from linear algebra: RGB → YCbCr (a 3×3 matrix), chroma
    averaged over 2×2 pixels, each 8×8 block ``B`` projected on an orthonormal basis
    (``D B Dᵀ`` with ``D`` the DCT-II matrix, or a per-image Karhunen–Loève basis =
    the eigenvectors of the blocks' covariance), coefficients divided by a
    quantisation table scaled by ``quality`` and rounded, reordered band by band
    (all blocks' coefficient 0, then 1, … in zig-zag order, DC as differences) and
    entropy-coded with LZMA. ``ratio=`` finds the quality by bisection on the size (an
    order-0 entropy model of the quantised symbols proposes, real encodes decide). The
    decoder puts AC coefficients a tenth of a step closer to zero than the bin centre
    (their distribution is Laplacian, so that is nearer the bin's mean).
"""

from __future__ import annotations

import lzma
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._threads import one_blas_thread
from .._validation import (
    DataFormatError,
    ShapeError,
    as_float_array,
    check_choice,
    check_int,
    check_positive,
)
from . import dwz
from ._engine import _get_pool

__all__ = [
    "CompressedImage",
    "block_compress",
    "dct_matrix",
    "quantization_tables",
    "randomized_svd",
    "svd_compress",
]


# --------------------------------------------------------------------------- result
@dataclass(frozen=True)
class CompressedImage:
    """A compressed image: what is stored, and how to get the picture back.

    Attributes
    ----------
    method : {"svd", "block"}
    shape : tuple (H, W, C)
        C is 1 (grey) or 3 (colour).
    payload : bytes
        The method's data (everything after the ``.dwz`` header).
    params : dict
        What the encoder chose (``quality``, ``ranks``, ``subsampling``, …).
    """

    method: str
    shape: tuple[int, int, int]
    payload: bytes = field(repr=False)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        """Size of the ``.dwz`` file: header + payload."""
        return dwz.HEADER_SIZE + len(self.payload)

    @property
    def raw_nbytes(self) -> int:
        """Size of the raw 8-bit image, ``H · W · C``."""
        h, w, c = self.shape
        return h * w * c

    @property
    def ratio(self) -> float:
        """``nbytes / raw_nbytes`` (0.1 = compressed to 10 % of the raw size)."""
        return self.nbytes / self.raw_nbytes

    def to_bytes(self) -> bytes:
        """The ``.dwz`` file content."""
        return dwz.pack(self.method, self.shape, self.payload)

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "data") -> CompressedImage:
        """Parse ``.dwz`` bytes (checks magic, version, length and checksum)."""
        method, shape, payload = dwz.unpack(bytes(data), source)
        params = _PARAMS[method](payload, shape, source)
        return cls(method, shape, payload, params)

    def decompress(self, *, clip: bool = True) -> np.ndarray:
        """The decoded image, float32: (H, W) for grey, (H, W, 3) for colour.

        ``clip=False`` keeps values outside [0, 1] (the exact linear reconstruction).
        """
        try:
            with one_blas_thread():
                out = _DECODERS[self.method](self.payload, self.shape)
        except (lzma.LZMAError, zlib.error, struct.error, ValueError, IndexError) as exc:
            if isinstance(exc, DataFormatError):
                raise
            raise DataFormatError(f"corrupt {self.method} payload: {exc}") from None
        out = (np.clip(out, 0.0, 1.0) if clip else out).astype(np.float32)
        return out[:, :, 0] if self.shape[2] == 1 else out

    def __repr__(self) -> str:
        shown = {k: v for k, v in self.params.items()
                 if k != "singular_values" and (k != "ranks" or len(v) <= 3)}
        return (f"CompressedImage(method={self.method!r}, shape={self.shape}, "
                f"nbytes={self.nbytes}, ratio={self.ratio:.4f}, params={shown})")


# --------------------------------------------------------------------------- checks
def _check_img(img: Any) -> np.ndarray:
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


def _check_ratio(ratio: Any) -> float:
    ratio = check_positive(ratio, "ratio")
    if ratio > 1:
        raise ValueError(f"ratio must be in (0, 1] (compressed size / raw size), got {ratio}")
    return ratio


def _lzma(data: bytes) -> bytes:
    return lzma.compress(data, format=lzma.FORMAT_RAW, filters=_LZMA_ENCODE)


def _unlzma(data: bytes) -> bytes:
    return lzma.decompress(data, format=lzma.FORMAT_RAW, filters=_LZMA_DECODE)


# Raw LZMA2: the decoder needs only a dictionary at least as large as the encoder's
# (preset 6's 8 MiB covers every version of the format). The encoder uses preset 0's small
# dictionary and hash-chain match finder in normal mode with long matches: on the
# coefficient streams (mostly runs of zeros, band by band) that measured 1.7–3.4× faster
# than preset 6 and 1–2 % smaller.
_LZMA_DECODE = [{"id": lzma.FILTER_LZMA2, "preset": 6, "lc": 4, "lp": 0, "pb": 0}]
_LZMA_ENCODE = [{"id": lzma.FILTER_LZMA2, "preset": 0, "mode": lzma.MODE_NORMAL,
                 "mf": lzma.MF_HC3, "nice_len": 64, "lc": 4, "lp": 0, "pb": 0}]


# =========================================================================== SVD
def randomized_svd(A: np.ndarray, k: int, *, n_oversamples: int = 10, n_iter: int = 4,
                   random_state: int | None = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top-``k`` SVD by a randomized range finder (Halko, Martinsson & Tropp, 2011).

    ``Y = (A Aᵀ)^q A Ω`` for a Gaussian ``Ω`` (W × (k + p)), orthonormalised by QR after
    every multiplication; then the small SVD of ``Qᵀ A``. Returns ``U (H, k)``,
    ``s (k,)``, ``Vt (k, W)``.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.random.default_rng(0).standard_normal((60, 8)) @ np.random.default_rng(1).standard_normal((8, 50))
    >>> U, s, Vt = randomized_svd(A, 8)
    >>> bool(np.allclose(U * s @ Vt, A))
    True
    """
    rng = np.random.default_rng(random_state)
    m, n = A.shape
    ell = min(k + n_oversamples, m, n)
    Q, _ = np.linalg.qr(A @ rng.standard_normal((n, ell)).astype(A.dtype))
    for _ in range(n_iter):
        Z, _ = np.linalg.qr(A.T @ Q)
        Q, _ = np.linalg.qr(A @ Z)
    Ub, s, Vt = np.linalg.svd(Q.T @ A, full_matrices=False)
    return (Q @ Ub)[:, :k], s[:k], Vt[:k]


def _svd(A: np.ndarray, k_max: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m, n = A.shape
    small = min(m, n)
    if k_max is not None and small > 600 and k_max < small // 4:
        return randomized_svd(A, k_max)
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    return U, s, Vt


def _quantize_vectors(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``X`` → int8 with one float32 scale per row (``max|x| / 127``)."""
    scale = np.abs(X).max(axis=1) / 127.0
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
    q = np.clip(np.rint(X / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale


def _svd_payload(factors: list[tuple[np.ndarray, np.ndarray]], bits: int) -> bytes:
    ranks = [f[0].shape[0] for f in factors]
    head = struct.pack("<BB", bits, len(factors)) + struct.pack(f"<{len(ranks)}H", *ranks)
    body = bytearray()
    for L, R in factors:            # L: (k, H) = (U√s)ᵀ, R: (k, W) = √s Vt
        if bits == 8:
            for X in (L, R):
                q, scale = _quantize_vectors(X)
                body += scale.tobytes() + q.tobytes()
        else:
            body += L.astype(np.float32).tobytes() + R.astype(np.float32).tobytes()
    return head + _lzma(bytes(body))


def _svd_params(payload: bytes, shape, source="data") -> dict[str, Any]:
    bits, nc = struct.unpack_from("<BB", payload)
    if bits not in (8, 32) or nc != shape[2]:
        raise DataFormatError(f"{source}: corrupt svd header (bits={bits}, channels={nc})")
    ranks = list(struct.unpack_from(f"<{nc}H", payload, 2))
    return {"ranks": ranks, "bits": bits}


def _svd_decode(payload: bytes, shape) -> np.ndarray:
    h, w, c = shape
    params = _svd_params(payload, shape)
    body = _unlzma(payload[2 + 2 * c:])
    pos = 0
    out = np.empty((h, w, c), dtype=np.float32)

    def take(n: int, dtype) -> np.ndarray:
        nonlocal pos
        size = n * np.dtype(dtype).itemsize
        if pos + size > len(body):
            raise DataFormatError("corrupt svd payload: factor data ends early")
        arr = np.frombuffer(body, dtype=dtype, count=n, offset=pos)
        pos += size
        return arr

    for ch, k in enumerate(params["ranks"]):
        mats = []
        for n in (h, w):
            if params["bits"] == 8:
                scale = take(k, np.float32)
                q = take(k * n, np.int8).reshape(k, n)
                mats.append(q.astype(np.float32) * scale[:, None])
            else:
                mats.append(take(k * n, np.float32).reshape(k, n))
        out[:, :, ch] = mats[0].T @ mats[1]
    return out


def svd_compress(img: Any, rank: int | None = None, *, energy: float | None = None,
                 ratio: float | None = None, bits: int = 8) -> CompressedImage:
    """Compress each channel to its best rank-``k`` approximation.

    Give one of ``rank``, ``energy`` or ``ratio`` (default ``ratio=0.1``).

    Parameters
    ----------
    img : array_like of shape (H, W) or (H, W, 3)
        Floats in [0, 1] or uint8.
    rank : int, optional
        ``1 ≤ rank ≤ min(H, W)``; the same for every channel.
    energy : float in (0, 1], optional
        Per channel, the smallest ``k`` with ``Σ_{i≤k} σ_i² ≥ energy · Σ σ_i²``.
    ratio : float in (0, 1], optional
        The largest ``k`` whose file is at most ``ratio · H · W · C`` bytes.
    bits : {8, 32}, default=8
        8: factors stored as int8 with a scale per vector; 32: float32 (no
        quantisation: the error is then exactly the discarded singular values).

    Returns
    -------
    CompressedImage
        ``params["ranks"]`` per channel, ``params["energy"]`` retained per channel and
        ``params["energy_total"]`` over all channels (Σ kept σ² / Σ‖channel‖²_F, before
        quantisation), ``params["singular_values"]`` the spectrum of each channel as
        computed (all σ, or the leading ones on the randomized path). These encoder
        facts are not stored in the file: ``from_bytes`` gives ``ranks`` and ``bits``.

    Notes
    -----
    Big images (``min(H, W) > 600``) with a small target rank use
    :func:`randomized_svd`; otherwise LAPACK's full SVD (``gesdd``).

    Examples
    --------
    >>> import numpy as np
    >>> img = np.random.default_rng(0).random((40, 60, 3))
    >>> c = svd_compress(img, rank=5)
    >>> c.params["ranks"], c.decompress().shape
    ([5, 5, 5], (40, 60, 3))
    """
    arr = _check_img(img)
    h, w, c = arr.shape
    bits = check_int(bits, "bits")
    if bits not in (8, 32):
        raise ValueError(f"bits must be 8 or 32, got {bits}")
    given = [n for n, v in (("rank", rank), ("energy", energy), ("ratio", ratio))
             if v is not None]
    if len(given) > 1:
        raise ValueError(f"give only one of rank, energy or ratio; got {', '.join(given)}")
    if not given:
        ratio = 0.1
    full_rank = min(h, w)
    if rank is not None:
        rank = check_int(rank, "rank")
        if not 1 <= rank <= full_rank:
            raise ValueError(f"rank must be between 1 and min(H, W) = {full_rank} for an image "
                             f"of shape {arr.shape[:2]}, got {rank}")
    if energy is not None:
        energy = check_positive(energy, "energy")
        if energy > 1:
            raise ValueError(f"energy must be in (0, 1] (fraction of Σσ² kept), got {energy}")
    per_rank = c * (h + w + 8) * (4 if bits == 32 else 1)
    if ratio is not None:
        ratio = _check_ratio(ratio)
        budget = ratio * h * w * c - dwz.HEADER_SIZE - 2 - 2 * c
        k_est = int(budget // per_rank)
        if k_est < 1:
            raise ValueError(
                f"ratio={ratio} is too small for SVD on a {h}×{w} image: even rank 1 needs "
                f"about {(per_rank + 40) / (h * w * c):.4f} of the raw size")
        k_max = min(full_rank, 2 * k_est + 8)
    else:
        k_max = rank
    with one_blas_thread():         # one BLAS thread per channel, channels in parallel
        svds = list(_get_pool().map(lambda ch: _svd(arr[:, :, ch], k_max), range(c)))

    def build(ranks: list[int]) -> CompressedImage:
        factors = [((U[:, :k] * np.sqrt(s[:k])).T, np.sqrt(s[:k])[:, None] * Vt[:k])
                   for (U, s, Vt), k in zip(svds, ranks, strict=True)]
        kept = [float(np.sum(s[:k] ** 2) / max(np.sum(arr[:, :, i] ** 2), 1e-300))
                for i, ((_, s, _), k) in enumerate(zip(svds, ranks, strict=True))]
        payload = _svd_payload(factors, bits)
        total = max(sum(float(np.sum(arr[:, :, i] ** 2)) for i in range(c)), 1e-300)
        kept_all = sum(float(np.sum(s[:k] ** 2)) for (_, s, _), k in zip(svds, ranks, strict=True))
        return CompressedImage("svd", (h, w, c), payload,
                               {"ranks": list(ranks), "bits": bits, "energy": kept,
                                "energy_total": kept_all / total,
                                "singular_values": [s.tolist() for _, s, _ in svds]})

    if rank is not None:
        return build([rank] * c)
    if energy is not None:
        ranks = []
        for _, s, _ in svds:
            cum = np.cumsum(s**2) / max(np.sum(s**2), 1e-300)
            ranks.append(int(min(np.searchsorted(cum, energy - 1e-12) + 1, full_rank)))
        return build(ranks)
    target = ratio * h * w * c
    k_cap = min(k_max, min(len(s) for _, s, _ in svds))
    # never spend bytes on singular values that are zero to rounding (rank-deficient images)
    numerical = max(int(np.sum(s > max(s[0], 1e-300) * 1e-6)) for _, s, _ in svds)
    k_cap = max(1, min(k_cap, numerical))
    lo, hi = 1, k_cap
    best = build([1] * c)
    if best.nbytes > target:
        raise ValueError(f"ratio={ratio} is too small for SVD on this image: rank 1 already "
                         f"takes {best.ratio:.4f} of the raw size")
    while lo < hi:                 # largest k whose file fits
        mid = (lo + hi + 1) // 2
        trial = build([mid] * c)
        if trial.nbytes <= target:
            lo, best = mid, trial
        else:
            hi = mid - 1
    return best


# =========================================================================== block codec
def dct_matrix(n: int = 8) -> np.ndarray:
    """Orthonormal DCT-II matrix ``D[k, i] = c_k cos(π (2i + 1) k / 2n)``, ``c_0 = √(1/n)``,
    ``c_k = √(2/n)``; ``D Dᵀ = I`` and ``D @ x`` equals ``scipy.fft.dct(x, norm="ortho")``.

    Examples
    --------
    >>> D = dct_matrix(8)
    >>> bool(np.allclose(D @ D.T, np.eye(8)))
    True
    """
    n = check_int(n, "n", minimum=1)
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    D = np.sqrt(2.0 / n) * np.cos(np.pi * (2 * i + 1) * k / (2 * n))
    D[0] /= np.sqrt(2.0)
    return D


_LUMA = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
], dtype=np.float64).reshape(8, 8)
_CHROMA = np.full((8, 8), 99.0)
_CHROMA[:4, :4] = np.array([[17, 18, 24, 47], [18, 21, 26, 66], [24, 26, 56, 99],
                            [47, 66, 99, 99]])


def _zigzag(n: int = 8) -> np.ndarray:
    order = sorted(((i, j) for i in range(n) for j in range(n)),
                   key=lambda p: (p[0] + p[1], p[1] if (p[0] + p[1]) % 2 == 0 else p[0]))
    return np.array([i * n + j for i, j in order])


ZIGZAG = _zigzag()
_D = dct_matrix(8)
# JFIF (full-range BT.601) RGB → YCbCr, chroma centred on 0
_YCC = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5],
                 [0.5, -0.418688, -0.081312]])
# the inverse map is itself the product wanted here: YCbCr → RGB (well-conditioned 3×3)
_YCC_INV = np.linalg.solve(_YCC, np.eye(3))


def quantization_tables(quality: float) -> tuple[np.ndarray, np.ndarray]:
    """JPEG's (Annex K) luma and chroma tables scaled by ``quality`` in [1, 100] (IJG rule:
    ``scale = 5000 / q`` below 50, ``200 − 2q`` above; entries clipped to [1, 255])."""
    q = float(quality)
    scale = 5000.0 / q if q < 50 else 200.0 - 2.0 * q
    return tuple(np.clip(np.floor((t * scale + 50.0) / 100.0), 1, 255) for t in (_LUMA, _CHROMA))


def _blocks(plane: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    h, w = plane.shape
    H8, W8 = -(-h // 8) * 8, -(-w // 8) * 8
    p = np.pad(plane, ((0, H8 - h), (0, W8 - w)), mode="edge")
    b = p.reshape(H8 // 8, 8, W8 // 8, 8).transpose(0, 2, 1, 3).reshape(-1, 8, 8)
    return b, (H8 // 8, W8 // 8)


def _unblocks(blocks: np.ndarray, grid: tuple[int, int], h: int, w: int) -> np.ndarray:
    by, bx = grid
    p = blocks.reshape(by, bx, 8, 8).transpose(0, 2, 1, 3).reshape(by * 8, bx * 8)
    return p[:h, :w]


def _down2(plane: np.ndarray) -> np.ndarray:
    h, w = plane.shape
    p = np.pad(plane, ((0, h % 2), (0, w % 2)), mode="edge")
    return 0.25 * (p[0::2, 0::2] + p[1::2, 0::2] + p[0::2, 1::2] + p[1::2, 1::2])


def _up2(plane: np.ndarray, h: int, w: int) -> np.ndarray:
    """Bilinear 2× upsampling of centred samples (weights 3/4, 1/4), cropped to (h, w)."""
    def up_axis(x: np.ndarray, axis: int) -> np.ndarray:
        x = np.moveaxis(x, axis, 0)
        prev = np.concatenate([x[:1], x[:-1]])
        nxt = np.concatenate([x[1:], x[-1:]])
        out = np.empty((2 * x.shape[0],) + x.shape[1:], dtype=x.dtype)
        out[0::2] = 0.75 * x + 0.25 * prev
        out[1::2] = 0.75 * x + 0.25 * nxt
        return np.moveaxis(out, 0, axis)
    return up_axis(up_axis(plane, 0), 1)[:h, :w]


def _klt_basis(blocks: np.ndarray) -> np.ndarray:
    """Rows = eigenvectors of the 64×64 covariance of the blocks, largest variance first."""
    X = blocks.reshape(-1, 64)
    X = X - X.mean(axis=0)
    cov = X.T @ X / max(len(X) - 1, 1)
    vals, vecs = np.linalg.eigh(cov)
    order = np.argsort(vals)[::-1]
    V = vecs[:, order].T
    # a deterministic sign: the largest entry of each basis vector is positive
    signs = np.sign(V[np.arange(64), np.argmax(np.abs(V), axis=1)])
    return V * signs[:, None]


def _orthonormalise(Bq: np.ndarray) -> np.ndarray:
    Q, R = np.linalg.qr(Bq.T)
    Q = Q * np.sign(np.diag(R))
    return Q.T


def _encode_ints(v: np.ndarray) -> bytes:
    """int values → int8 stream with -128 as escape + an int32 side stream."""
    v = v.astype(np.int64)
    big = np.abs(v) > 127
    primary = np.where(big, -128, v).astype(np.int8)
    extra = v[big].astype(np.int32)
    return struct.pack("<I", extra.size) + primary.tobytes() + extra.tobytes()


def _decode_ints(data: bytes, n: int) -> np.ndarray:
    (n_extra,) = struct.unpack_from("<I", data)
    if len(data) != 4 + n + 4 * n_extra:
        raise DataFormatError("corrupt block payload: coefficient stream has the wrong length")
    primary = np.frombuffer(data, dtype=np.int8, count=n, offset=4).astype(np.int32)
    extra = np.frombuffer(data, dtype=np.int32, count=n_extra, offset=4 + n)
    escaped = primary == -128
    if int(escaped.sum()) != n_extra:
        raise DataFormatError("corrupt block payload: escape count mismatch")
    primary[escaped] = extra
    return primary


_BLOCK_HEAD = struct.Struct("<fBB")   # quality, flags (1: 4:2:0, 2: KLT), number of planes
_AC_SHRINK = 0.1   # reconstruction offset toward zero, in quantisation steps (decoder side)


def _planes(arr: np.ndarray, subsample: bool) -> list[tuple[np.ndarray, bool]]:
    """Level-shifted planes in [-128, 127]; flag = chroma."""
    x = arr * 255.0
    if arr.shape[2] == 1:
        return [(x[:, :, 0] - 128.0, False)]
    ycc = x @ _YCC.T
    planes = [(ycc[:, :, 0] - 128.0, False)]
    for i in (1, 2):
        planes.append((_down2(ycc[:, :, i]) if subsample else ycc[:, :, i], True))
    return planes


def _block_transform(arr: np.ndarray, subsample: bool, basis: str,
                     klt: np.ndarray | None) -> tuple[bytes, list[tuple[np.ndarray, bool]]]:
    """Basis header bytes and, per plane, its coefficients (N, 64) in band order."""
    extra = b""
    if basis == "klt":
        Bq, bscale = _quantize_vectors(klt)
        extra = bscale.tobytes() + Bq.tobytes()
        B = _orthonormalise(Bq.astype(np.float64) * bscale[:, None])
    out = []
    for plane, chroma in _planes(arr, subsample):
        blocks, _ = _blocks(plane)
        if basis == "klt":
            coef = blocks.reshape(-1, 64) @ B.T               # (N, 64) in eigen order
        else:
            coef = (_D @ blocks @ _D.T).reshape(-1, 64)[:, ZIGZAG]
        out.append((coef, chroma))
    return extra, out


def _block_encode(coefs: list[tuple[np.ndarray, bool]], extra: bytes, quality: float,
                  subsample: bool, basis: str) -> bytes:
    qy, qc = quantization_tables(quality)
    flags = (1 if subsample else 0) | (2 if basis == "klt" else 0)
    head = _BLOCK_HEAD.pack(quality, flags, len(coefs)) + extra
    streams = []
    for coef, chroma in coefs:
        table = (qc if chroma else qy).reshape(64)[ZIGZAG]
        q = np.rint(coef / table).astype(np.int64).T          # (64, N): band-major
        q[0, 1:] = np.diff(q[0])                              # DC as differences
        streams.append(q.reshape(-1))
    return head + _lzma(_encode_ints(np.concatenate(streams)))


def _block_params(payload: bytes, shape, source="data") -> dict[str, Any]:
    quality, flags, n_planes = _BLOCK_HEAD.unpack_from(payload)
    if n_planes != shape[2] or not 1 <= quality <= 100:
        raise DataFormatError(f"{source}: corrupt block header")
    return {"quality": round(quality, 3), "subsampling": "4:2:0" if flags & 1 else "4:4:4",
            "basis": "klt" if flags & 2 else "dct"}


def _block_decode(payload: bytes, shape) -> np.ndarray:
    h, w, c = shape
    quality, flags, n_planes = _BLOCK_HEAD.unpack_from(payload)
    pos = _BLOCK_HEAD.size
    subsample, klt = bool(flags & 1), bool(flags & 2)
    qy, qc = quantization_tables(quality)
    if klt:
        bscale = np.frombuffer(payload, np.float32, 64, pos)
        Bq = np.frombuffer(payload, np.int8, 64 * 64, pos + 256).reshape(64, 64)
        pos += 256 + 64 * 64
        B = _orthonormalise(Bq.astype(np.float64) * bscale[:, None])
    dims = []
    for p in range(n_planes):
        ph, pw = (-(-h // 2), -(-w // 2)) if (p > 0 and subsample) else (h, w)
        dims.append((ph, pw, (-(-ph // 8)) * (-(-pw // 8))))
    total = 64 * sum(d[2] for d in dims)
    ints = _decode_ints(_unlzma(payload[pos:]), total)
    planes = []
    start = 0
    inv = np.argsort(ZIGZAG)
    for p, (ph, pw, n) in enumerate(dims):
        q = ints[start:start + 64 * n].reshape(64, n).astype(np.float64)
        start += 64 * n
        q[0] = np.cumsum(q[0])
        # AC coefficients are Laplacian-distributed: the mean of each quantisation bin lies
        # a little closer to zero than its centre, so reconstruct there
        q[1:] -= _AC_SHRINK * np.sign(q[1:])
        table = (qc if p > 0 else qy).reshape(64)[ZIGZAG]
        coef = (q * table[:, None]).T                          # (N, 64)
        if klt:
            blocks = (coef @ B).reshape(-1, 8, 8)
        else:
            blocks = _D.T @ coef[:, inv].reshape(-1, 8, 8) @ _D
        grid = (-(-ph // 8), -(-pw // 8))
        plane = _unblocks(blocks, grid, ph, pw)
        if p > 0 and subsample:
            plane = _up2(plane, h, w)
        planes.append(plane)
    if c == 1:
        out = (planes[0] + 128.0)[:, :, None]
    else:
        ycc = np.stack([planes[0] + 128.0, planes[1], planes[2]], axis=2)
        out = ycc @ _YCC_INV.T
    return out / 255.0


def block_compress(img: Any, quality: float | None = None, *, ratio: float | None = None,
                   basis: str = "dct", subsampling: str = "auto") -> CompressedImage:
    """Compress with 8×8 orthonormal block transforms, quantisation and LZMA.

    Give ``quality`` (1–100, like JPEG's) or ``ratio`` (target size / raw size; the
    largest integer quality that fits is found by bisection). Default ``quality=75``.

    Parameters
    ----------
    img : array_like of shape (H, W) or (H, W, 3)
        Floats in [0, 1] or uint8.
    quality : float in [1, 100], optional
    ratio : float in (0, 1], optional
    basis : {"dct", "klt"}, default="dct"
        ``dct``: the DCT-II matrix ``D`` (coefficients ``D B Dᵀ``). ``klt``: the
        image's own Karhunen–Loève basis (eigenvectors of the 64×64 covariance of its
        luma blocks), stored in the file as 8-bit (≈ 4.4 kB).
    subsampling : {"auto", "4:2:0", "4:4:4"}, default="auto"
        Chroma resolution. ``auto``: with ``quality``, 4:2:0 below 90; with ``ratio``,
        both are fitted to the size and the one with the higher PSNR is kept.

    Returns
    -------
    CompressedImage
        ``params``: ``quality``, ``subsampling``, ``basis``.

    Raises
    ------
    ValueError
        ``ratio`` below what quality 1 reaches on this image.

    Examples
    --------
    >>> from dotwise.image import sample_image, psnr
    >>> img = sample_image("china", max_size=160)
    >>> c = block_compress(img, ratio=0.1)
    >>> c.ratio <= 0.1, psnr(img, c.decompress()) > 28
    (True, True)
    """
    with one_blas_thread():
        return _block_compress(img, quality, ratio, basis, subsampling)


def _block_compress(img, quality, ratio, basis, subsampling) -> CompressedImage:
    arr = _check_img(img)
    h, w, c = arr.shape
    basis = check_choice(basis, "basis", ("dct", "klt"))
    subsampling = check_choice(subsampling, "subsampling", ("auto", "4:2:0", "4:4:4"))
    if quality is not None and ratio is not None:
        raise ValueError("give quality or ratio, not both")
    klt = None
    if basis == "klt":
        klt = _klt_basis(_blocks(arr.mean(axis=2) * 255.0 - 128.0)[0])
    cache: dict[bool, tuple[bytes, list]] = {}

    def encode(q: float, sub: bool) -> CompressedImage:
        if sub not in cache:
            cache[sub] = _block_transform(arr, sub, basis, klt)
        extra, coefs = cache[sub]
        payload = _block_encode(coefs, extra, q, sub, basis)
        return CompressedImage("block", (h, w, c), payload, _block_params(payload, (h, w, c)))

    def sub_for(q: float) -> bool:
        return c == 3 and (subsampling == "4:2:0" or (subsampling == "auto" and q < 90))

    if ratio is None:
        q = 75.0 if quality is None else check_positive(quality, "quality")
        if not 1 <= q <= 100:
            raise ValueError(f"quality must be in [1, 100], got {q}")
        return encode(q, sub_for(q))
    ratio = _check_ratio(ratio)
    target = ratio * h * w * c

    def fit(sub: bool) -> CompressedImage:
        """The largest integer quality whose file fits: an entropy model guides, LZMA decides."""
        estimate = _size_model(cache_for(sub)[1])
        results: dict[int, CompressedImage] = {}

        def get(q: int) -> CompressedImage:
            if q not in results:
                results[q] = encode(q, sub)
            return results[q]

        q = max(1, _largest_q(lambda q: estimate(q) <= target))
        scale = get(q).nbytes / max(estimate(q), 1.0)      # calibrate the model once
        q = max(1, _largest_q(lambda q: scale * estimate(q) <= target))
        if get(q).nbytes <= target:
            while q < 100 and get(q + 1).nbytes <= target:
                q += 1
        else:
            while q > 1 and get(q).nbytes > target:
                q -= 1
            if get(q).nbytes > target:
                raise ValueError(
                    f"ratio={ratio} is below what the block codec reaches on this image "
                    f"(quality 1 gives {get(1).ratio:.4f}); ask for a larger ratio")
        return get(q)

    def cache_for(sub: bool):
        if sub not in cache:
            cache[sub] = _block_transform(arr, sub, basis, klt)
        return cache[sub]

    if c == 1 or subsampling != "auto":
        return fit(c == 3 and subsampling == "4:2:0")
    # both chroma resolutions are fitted at once (LZMA and NumPy release the GIL);
    # full-resolution chroma often wins at high rates
    pending = _get_pool().submit(fit, False)
    best = fit(True)
    other = pending.result()
    if _psnr_raw(arr, other.decompress()) > _psnr_raw(arr, best.decompress()):
        best = other
    return best


def _largest_q(ok) -> int:
    """Largest integer q in [1, 100] with ok(q) (ok assumed monotone decreasing)."""
    lo, hi = 0, 100
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _size_model(coefs: list[tuple[np.ndarray, bool]]):
    """Bytes ≈ order-0 entropy of the quantised symbols, band by band (cheap to evaluate)."""
    def estimate(quality: float) -> float:
        qy, qc = quantization_tables(quality)
        bits = 0.0
        for coef, chroma in coefs:
            table = (qc if chroma else qy).reshape(64)[ZIGZAG]
            q = np.rint(coef / table).astype(np.int64)
            q[1:, 0] = np.diff(q[:, 0])
            for band in range(0, 64, 4):
                sym = q[:, band:band + 4].ravel()
                counts = np.unique(sym, return_counts=True)[1]
                p = counts / sym.size
                bits += -float(np.sum(counts * np.log2(p)))
        return bits / 8.0
    return estimate


def _psnr_raw(a: np.ndarray, b: np.ndarray) -> float:
    b = b[:, :, None] if b.ndim == 2 else b
    err = float(np.mean((a - b) ** 2))
    return float("inf") if err == 0 else 10 * np.log10(1.0 / err)


# --------------------------------------------------------------------------- files
_DECODERS = {"svd": _svd_decode, "block": _block_decode}
_PARAMS = {"svd": _svd_params, "block": _block_params}


def save_compressed(path: Any, compressed: CompressedImage):
    """Write a :class:`CompressedImage` as a ``.dwz`` file (atomically); returns the path."""
    if not isinstance(compressed, CompressedImage):
        raise TypeError(f"compressed must be a CompressedImage (from svd_compress or "
                        f"block_compress), got {type(compressed).__name__}")
    return dwz.write_bytes(path, compressed.to_bytes())


def load_compressed(path: Any) -> CompressedImage:
    """Read a ``.dwz`` file; corrupt, truncated or newer-version files raise
    :class:`~dotwise.DataFormatError` saying which."""
    return CompressedImage.from_bytes(dwz.read_bytes(path), str(path))


