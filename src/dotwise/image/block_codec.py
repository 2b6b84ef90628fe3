"""The block codec: 8×8 orthonormal block transforms, quantisation and LZMA.

The JPEG recipe, built from linear algebra: RGB → YCbCr (a 3×3 matrix), chroma
averaged over 2×2 pixels, each 8×8 block ``B`` projected on an orthonormal basis
(``D B Dᵀ`` with ``D`` the DCT-II matrix, or a per-image Karhunen–Loève basis = the
eigenvectors of the blocks' covariance), coefficients divided by a quantisation table
scaled by ``quality`` and rounded, reordered band by band (all blocks' coefficient 0,
then 1, … in zig-zag order, DC as differences) and entropy-coded with LZMA. ``ratio=``
finds the quality by bisection on the size (an order-0 entropy model of the quantised
symbols proposes, real encodes decide). The decoder puts AC coefficients a tenth of a
step closer to zero than the bin centre (their distribution is Laplacian, so that is
nearer the bin's mean).
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from .._threads import one_blas_thread, worker_pool
from .._validation import DataFormatError, check_choice, check_int, check_positive
from ._codec import check_img, check_ratio, pack_lzma, quantize_rows, unpack_lzma
from .compressed import CompressedImage, register_codec
from .metrics import psnr

__all__ = ["block_compress", "dct_matrix", "quantization_tables"]


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
_KLT_BYTES = 256 + 64 * 64   # the stored basis: 64 float32 scales + 64×64 int8


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
        Bq, bscale = quantize_rows(klt)
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
    return head + pack_lzma(_encode_ints(np.concatenate(streams)))


def _block_params(payload: bytes, shape, source="data") -> dict[str, Any]:
    if len(payload) < _BLOCK_HEAD.size:
        raise DataFormatError(f"{source}: corrupt block payload: {len(payload)} bytes, shorter "
                              f"than its header")
    quality, flags, n_planes = _BLOCK_HEAD.unpack_from(payload)
    if n_planes != shape[2] or not 1 <= quality <= 100 or flags > 3:
        raise DataFormatError(f"{source}: corrupt block header")
    if flags & 2 and len(payload) < _BLOCK_HEAD.size + _KLT_BYTES:
        raise DataFormatError(f"{source}: corrupt block payload: the KLT basis is cut short")
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
    # the coefficient count follows from (H, W): a header that disagrees with the payload
    # fails the length check in _decode_ints, before any plane is allocated
    ints = _decode_ints(unpack_lzma(payload[pos:], max_size=4 + 5 * total + 1), total)
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
    arr = check_img(img)
    h, w, c = arr.shape
    basis = check_choice(basis, "basis", ("dct", "klt"))
    subsampling = check_choice(subsampling, "subsampling", ("auto", "4:2:0", "4:4:4"))
    if quality is not None and ratio is not None:
        raise ValueError("give quality or ratio, not both")
    klt = None
    if basis == "klt":
        klt = _klt_basis(_blocks(arr.mean(axis=2) * 255.0 - 128.0)[0])
    transforms: dict[bool, tuple[bytes, list]] = {}

    def transform(sub: bool) -> tuple[bytes, list]:
        """The basis bytes and the coefficients, computed once per chroma resolution."""
        if sub not in transforms:
            transforms[sub] = _block_transform(arr, sub, basis, klt)
        return transforms[sub]

    encodes: dict[tuple[float, bool], CompressedImage] = {}

    def encode(q: float, sub: bool) -> CompressedImage:
        """The file at quality ``q``, encoded once (the bisection revisits qualities)."""
        if (q, sub) not in encodes:
            extra, coefs = transform(sub)
            payload = _block_encode(coefs, extra, q, sub, basis)
            encodes[q, sub] = CompressedImage("block", (h, w, c), payload,
                                              _block_params(payload, (h, w, c)))
        return encodes[q, sub]

    def sub_for(q: float) -> bool:
        return c == 3 and (subsampling == "4:2:0" or (subsampling == "auto" and q < 90))

    if ratio is None:
        q = 75.0 if quality is None else check_positive(quality, "quality")
        if not 1 <= q <= 100:
            raise ValueError(f"quality must be in [1, 100], got {q}")
        return encode(q, sub_for(q))
    ratio = check_ratio(ratio)
    target = ratio * h * w * c

    def fit(sub: bool) -> CompressedImage:
        """The largest integer quality whose file fits: an entropy model guides, LZMA decides."""
        estimate = _size_model(transform(sub)[1])

        def get(q: int) -> CompressedImage:
            return encode(q, sub)

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

    if c == 1 or subsampling != "auto":
        return fit(c == 3 and subsampling == "4:2:0")
    # both chroma resolutions are fitted at once (LZMA and NumPy release the GIL);
    # full-resolution chroma often wins at high rates
    pending = worker_pool().submit(fit, False)
    best = fit(True)
    other = pending.result()
    if psnr(arr, other.decompress()) > psnr(arr, best.decompress()):
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



register_codec("block", _block_decode, _block_params)
