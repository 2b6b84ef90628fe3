"""The block codec: 8×8 orthonormal block transforms, quantisation and range coding.

The JPEG recipe, built from linear algebra and tuned for PSNR: RGB → YCbCr (a 3×3
matrix), chroma at full resolution or averaged over 2×2 pixels (with ``ratio=`` both are
fitted and the better kept), each 8×8 block ``B`` projected on an orthonormal basis
(``D B Dᵀ`` with ``D`` the DCT-II matrix, or a per-image Karhunen–Loève basis = the
eigenvectors of the blocks' covariance), coefficients divided by a step and rounded, and
the integers range-coded with adaptive context models (:mod:`._arith`: each coefficient's
odds learnt from its frequency, its neighbours in the blocks above and to the left, and
how many nonzero ones remain).

Choices made for squared error (PSNR), not for the eye:

* the step grows only gently with frequency (``step · (1 + ½ (u + v)/14)``): for an
  orthonormal transform, equal steps minimise the squared error at a given rate, and
  JPEG's perceptual tables spend bits where PSNR does not look;
* chroma gets a finer step at 4:2:0 (×⅝: each of its samples covers 4 pixels) and a
  coarser one at 4:4:4 (×1¼);
* deadzone rounding (AC rounds up only from ``n + 0.62``): a coefficient just past a
  half-step costs more bits than the error it saves;
* the decoder puts each value at the mean of its bin (offsets measured by the encoder
  and stored, 4 bytes), and can soften block edges (a strength per luma and chroma,
  picked by the encoder by measuring the error, 0 = off).

``ratio=`` finds the finest step whose file fits (regula falsi on log size against log
step, with real encodes). Payload layout 2 (range-coded) is written; layout 1 (JPEG's
tables, LZMA; ``.dwz`` versions 1 and 2) is still read.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

import numpy as np

from .._threads import one_blas_thread, worker_pool, worker_threads
from .._validation import DataFormatError, check_choice, check_int, check_positive
from . import _arith, dwz
from ._codec import check_img, check_ratio, quantize_rows, unpack_lzma
from .compressed import CompressedImage, register_codec

__all__ = ["block_compress", "dct_matrix", "quality_step", "quantization_tables"]


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


# ---------------------------------------------------------------- layout 1 (LZMA), read only
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


def _params_v1(payload: bytes, shape, source="data") -> dict[str, Any]:
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


def _decode_v1(payload: bytes, shape) -> np.ndarray:
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


# ---------------------------------------------------------------- layout 2 (range-coded)
_LAYOUT = 2
_V2_HEAD = struct.Struct("<fBBBHBBB4B")
# base step, flags (1: 4:2:0, 2: KLT, 0x80: layout ≥ 2), planes, layout, shape check,
# slope, chroma step ×16, deblocking strength, reconstruction offsets (×256: luma |q| = 1,
# luma |q| ≥ 2, chroma |q| = 1, chroma |q| ≥ 2)
_V2_FLAG = 0x80
_MIN_STEP, _MAX_STEP = 0.25, 4096.0
_DEADZONE = 0.12         # AC rounds down from |c|/step = n + 0.5 + this (encoder only)
_SLOPE = 8               # step grows by slope/16 · (u + v)/14 toward the highest frequency
_CHROMA_X16 = {True: 10, False: 20}   # chroma step ×16 at 4:2:0 and at 4:4:4
# the 2-D DCT of a flattened 8×8 block as one orthonormal 64×64 matrix, rows in zig-zag
# order: vec(D B Dᵀ) = (D ⊗ D) vec(B) for row-major vec, so a plane's blocks transform in one
# matrix product (N, 64) @ (64, 64)
_DCT64 = np.kron(_D, _D)[ZIGZAG]
# the frequency (u + v) / 14 of each scan position
_FREQ = np.array([(k // 8 + k % 8) / 14.0 for k in ZIGZAG])


def _shape_check(shape) -> int:
    h, w, c = shape
    return zlib.crc32(struct.pack("<IIB", h, w, c)) & 0xFFFF


def _steps(step: float, slope: int, chroma_x16: int) -> tuple[np.ndarray, np.ndarray]:
    """Per scan position: the luma and chroma quantisation steps."""
    luma = step * (1.0 + slope / 16.0 * _FREQ)
    return luma, luma * (chroma_x16 / 16.0)


def quality_step(quality: float) -> float:
    """The base quantisation step of ``quality`` (the IJG scale applied to a step of 16:
    ``0.16 · 5000/q`` below 50, ``0.16 · (200 − 2q)`` above; at least 0.25).

    Parameters
    ----------
    quality : float in [1, 100]

    Returns
    -------
    float
        The luma DC step; other coefficients' steps grow gently with frequency.

    Examples
    --------
    >>> quality_step(50), quality_step(75), round(quality_step(95), 3)
    (16.0, 8.0, 1.6)
    """
    q = float(quality)
    scale = 5000.0 / q if q < 50 else 200.0 - 2.0 * q
    return max(_MIN_STEP, 0.16 * scale)


def _step_quality(step: float) -> float:
    """Inverse of :func:`quality_step` (below quality 1 for steps above 800)."""
    scale = step / 0.16
    return 5000.0 / scale if scale > 100 else (200.0 - scale) / 2.0


def _transform(arr: np.ndarray, subsample: bool, basis: str, klt: np.ndarray | None):
    """The basis bytes, the basis matrix, and per plane (coefficients (N, 64), grid)."""
    extra, B = b"", None
    if basis == "klt":
        Bq, bscale = quantize_rows(klt)
        extra = bscale.tobytes() + Bq.tobytes()
        B = _orthonormalise(Bq.astype(np.float64) * bscale[:, None])
    out = []
    for plane, _ in _planes(arr, subsample):
        blocks, grid = _blocks(plane)
        coef = blocks.reshape(-1, 64) @ (_DCT64 if B is None else B).T
        out.append((coef, grid))
    return extra, B, out


def _quantise(coefs, step: float, slope: int, chroma_x16: int) -> list[np.ndarray]:
    """Deadzone quantisation: DC rounds to nearest, AC toward zero by :data:`_DEADZONE`."""
    sy, sc = _steps(step, slope, chroma_x16)
    bias = np.full(64, 0.5 - _DEADZONE)
    bias[0] = 0.5
    out = []
    for p, (coef, _) in enumerate(coefs):
        x = coef / (sc if p else sy)
        q = np.sign(x) * np.floor(np.abs(x) + bias)
        out.append(q.astype(np.int32))
    return out


def _offsets(coefs, qs, step: float, slope: int, chroma_x16: int) -> tuple[int, ...]:
    """The MSE-optimal reconstruction points: per plane kind and |q| = 1 / ≥ 2, how far the
    mean of |c| / step lies below |q| (in 1/256 of a step, 0–127)."""
    sy, sc = _steps(step, slope, chroma_x16)
    out = []
    for chroma in (False, True):
        sel = [(c[0][:, 1:] / (sc if p else sy)[1:], q[:, 1:]) for p, (c, q) in
               enumerate(zip(coefs, qs, strict=True)) if bool(p) == chroma]
        for big in (False, True):
            num = den = 0.0
            for x, q in sel:
                a = np.abs(q)
                m = (a >= 2) if big else (a == 1)
                num += float(np.sum(a[m] - np.abs(x[m])))
                den += float(np.count_nonzero(m))
            out.append(int(np.clip(np.rint(256 * num / den), 0, 127)) if den else 0)
    return tuple(out)


def _pixel_blocks(qs, B, step, slope, chroma_x16, offsets) -> list[np.ndarray]:
    """Quantised coefficients → per plane the decoded 8×8 pixel blocks (N, 8, 8)."""
    sy, sc = _steps(step, slope, chroma_x16)
    out = []
    for p, q in enumerate(qs):
        x = q.astype(np.float64)
        a = np.abs(x[:, 1:])
        d1, d2 = offsets[2:] if p else offsets[:2]
        x[:, 1:] -= np.sign(x[:, 1:]) * np.where(a >= 2, d2 / 256.0, d1 / 256.0)
        x *= sc if p else sy
        out.append((x @ (_DCT64 if B is None else B)).reshape(-1, 8, 8))
    return out


def _assemble(blocks, grids, shape, dc_steps, subsample, deblock) -> np.ndarray:
    """Pixel blocks → float image (H, W, C) in [0, 1] units (not clipped); ``deblock``:
    the edge-filter strength of luma (low 4 bits) and chroma (high 4 bits)."""
    h, w, c = shape
    planes = []
    for p, (b, grid) in enumerate(zip(blocks, grids, strict=True)):
        strength = (deblock >> 4) if p else (deblock & 15)
        if strength:
            b = _deblock(b, grid, dc_steps[p], strength)
        ph, pw = (-(-h // 2), -(-w // 2)) if (p and subsample) else (h, w)
        plane = _unblocks(b, grid, ph, pw)
        if p and subsample:
            plane = _up2(plane, h, w)
        planes.append(plane)
    if c == 1:
        out = (planes[0] + 128.0)[:, :, None]
    else:
        ycc = np.stack([planes[0] + 128.0, planes[1], planes[2]], axis=2)
        out = ycc @ _YCC_INV.T
    return out / 255.0


def _dc_steps(n_planes, step, slope, chroma_x16) -> list[float]:
    sy, sc = _steps(step, slope, chroma_x16)
    return [float(sc[0] if p else sy[0]) for p in range(n_planes)]


def _deblock(blocks: np.ndarray, grid, step: float, strength: int) -> np.ndarray:
    """Soften the step across each 8-pixel block edge where it is small (a quantisation
    artefact) compared with ``strength`` half DC steps: the two pixels either side of the
    edge move toward a line through their inner neighbours, less the larger the jump."""
    by, bx = grid
    p = blocks.reshape(by, bx, 8, 8).transpose(0, 2, 1, 3).reshape(by * 8, bx * 8).copy()
    limit = step * strength / 2.0
    for axis in (0, 1):
        x = np.moveaxis(p, axis, 0)
        if x.shape[0] <= 8:
            continue
        a, b = x[7:-1:8], x[8::8]                       # the rows either side of each edge
        a2, b2 = x[6:-2:8], x[9::8]
        jump = b - a
        keep = np.clip(1.0 - np.abs(jump) / np.maximum(limit, 1e-9), 0.0, 1.0)
        # move toward a smooth line through the inner neighbours
        d = (jump - 0.5 * ((a - a2) + (b2 - b))) * 0.25 * keep
        x[7:-1:8] = a + d
        x[8::8] = b - d
        x[6:-2:8] = a2 + 0.5 * d
        x[9::8] = b2 - 0.5 * d
    return p.reshape(by, 8, bx, 8).transpose(0, 2, 1, 3).reshape(-1, 8, 8)


def _payload(qs, grids, extra, shape, step, slope, chroma_x16, subsample, klt, offsets,
             deblock) -> bytes:
    flags = _V2_FLAG | (1 if subsample else 0) | (2 if klt else 0)
    head = _V2_HEAD.pack(step, flags, len(qs), _LAYOUT, _shape_check(shape), slope,
                         chroma_x16, deblock, *offsets)
    stream = _arith.encode(np.concatenate(qs), [(len(q), g[1]) for q, g in
                                                zip(qs, grids, strict=True)])
    return head + extra + stream


def _grids(shape, subsample: bool) -> list[tuple[int, int]]:
    h, w, c = shape
    out = []
    for p in range(c):
        ph, pw = (-(-h // 2), -(-w // 2)) if (p and subsample) else (h, w)
        out.append((-(-ph // 8), -(-pw // 8)))
    return out


def _params_v2(payload: bytes, shape, source="data") -> dict[str, Any]:
    if len(payload) < _V2_HEAD.size:
        raise DataFormatError(f"{source}: corrupt block payload: {len(payload)} bytes, shorter "
                              f"than its header")
    (step, flags, n_planes, layout, check, slope, chroma_x16, deblock,
     *offsets) = _V2_HEAD.unpack_from(payload)
    if layout != _LAYOUT:
        raise DataFormatError(
            f"{source}: block payload layout {layout} is not one this dotwise reads (it reads "
            f"layouts 1 and {_LAYOUT}); a newer dotwise may read it")
    if shape[0] * shape[1] > 2**28:
        raise DataFormatError(f"{source}: corrupt block payload: an image of "
                              f"{shape[0]}×{shape[1]} pixels is beyond what the codec writes "
                              f"(2**28 pixels)")
    if check != _shape_check(shape):
        raise DataFormatError(f"{source}: corrupt block payload: it was written for another "
                              f"image size than the header's {shape[0]}×{shape[1]}×{shape[2]}")
    if (n_planes != shape[2] or not _MIN_STEP <= step <= _MAX_STEP or flags & 0x7C
            or chroma_x16 == 0 or max(offsets) > 127):
        raise DataFormatError(f"{source}: corrupt block header")
    if flags & 2 and len(payload) < _V2_HEAD.size + _KLT_BYTES:
        raise DataFormatError(f"{source}: corrupt block payload: the KLT basis is cut short")
    step = float(step)
    return {"quality": round(_step_quality(step), 3), "step": round(step, 4),
            "subsampling": "4:2:0" if flags & 1 else "4:4:4",
            "basis": "klt" if flags & 2 else "dct", "deblock": (deblock & 15, deblock >> 4)}


def _decode_v2(payload: bytes, shape) -> np.ndarray:
    _params_v2(payload, shape)
    (step, flags, _, _, _, slope, chroma_x16, deblock, *offsets) = _V2_HEAD.unpack_from(payload)
    pos = _V2_HEAD.size
    subsample, B = bool(flags & 1), None
    if flags & 2:
        bscale = np.frombuffer(payload, np.float32, 64, pos)
        Bq = np.frombuffer(payload, np.int8, 64 * 64, pos + 256).reshape(64, 64)
        pos += _KLT_BYTES
        B = _orthonormalise(Bq.astype(np.float64) * bscale[:, None])
    grids = _grids(shape, subsample)
    sizes = [gy * gx for gy, gx in grids]
    q = _arith.decode(payload[pos:], [(n, g[1]) for n, g in zip(sizes, grids, strict=True)])
    qs = np.split(q, np.cumsum(sizes)[:-1])
    blocks = _pixel_blocks(qs, B, float(step), slope, chroma_x16, offsets)
    return _assemble(blocks, grids, shape, _dc_steps(len(qs), float(step), slope, chroma_x16),
                     subsample, deblock)


def _block_params(payload: bytes, shape, source="data") -> dict[str, Any]:
    if len(payload) >= 5 and payload[4] & _V2_FLAG:
        return _params_v2(payload, shape, source)
    return _params_v1(payload, shape, source)


def _block_decode(payload: bytes, shape) -> np.ndarray:
    if len(payload) >= 5 and payload[4] & _V2_FLAG:
        return _decode_v2(payload, shape)
    return _decode_v1(payload, shape)


def block_compress(img: Any, quality: float | None = None, *, ratio: float | None = None,
                   basis: str = "dct", subsampling: str = "auto") -> CompressedImage:
    """Compress with 8×8 orthonormal block transforms, quantisation and range coding.

    Give ``quality`` (1–100, like JPEG's) or ``ratio`` (target size / raw size; the
    finest quantisation step whose file fits is found by search). Default ``quality=75``.

    Parameters
    ----------
    img : array_like of shape (H, W) or (H, W, 3)
        Floats in [0, 1] or uint8.
    quality : float in [1, 100], optional
        Sets the base quantisation step (:func:`quality_step`: 16 at quality 50,
        8 at 75, 1.6 at 95).
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
        ``params``: ``quality`` (below 1 when a small ``ratio`` needs steps coarser than
        quality 1's), ``step``, ``subsampling``, ``basis``, ``deblock`` (the decoder's
        edge-filter strength the encoder chose, 0 = off).

    Raises
    ------
    ValueError
        ``ratio`` below what the coarsest step reaches on this image.

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
    shape = (h, w, c)
    basis = check_choice(basis, "basis", ("dct", "klt"))
    subsampling = check_choice(subsampling, "subsampling", ("auto", "4:2:0", "4:4:4"))
    if quality is not None and ratio is not None:
        raise ValueError("give quality or ratio, not both")
    klt = None
    if basis == "klt":
        klt = _klt_basis(_blocks(arr.mean(axis=2) * 255.0 - 128.0)[0])

    def coder(sub: bool) -> _Fitter:
        return _Fitter(arr, shape, sub, basis, klt)

    def sub_for(q: float) -> bool:
        return c == 3 and (subsampling == "4:2:0" or (subsampling == "auto" and q < 90))

    if ratio is None:
        q = 75.0 if quality is None else check_positive(quality, "quality")
        if not 1 <= q <= 100:
            raise ValueError(f"quality must be in [1, 100], got {q}")
        return coder(sub_for(q)).finish(quality_step(q))[0]
    ratio = check_ratio(ratio)
    target = int(ratio * h * w * c) - dwz.HEADER_SIZE

    def fit(sub: bool) -> tuple[CompressedImage, float]:
        f = coder(sub)
        step = f.fit(target)
        if step is None:
            raise ValueError(
                f"ratio={ratio} is below what the block codec reaches on this image "
                f"(its coarsest step gives {f.smallest_ratio():.4f}); ask for a larger ratio")
        return f.finish(step)

    if c == 1 or subsampling != "auto":
        return fit(c == 3 and subsampling == "4:2:0")[0]
    # both chroma resolutions are fitted, at once when there are two worker threads (the
    # coder and NumPy release the GIL); full-resolution chroma often wins at high rates
    if worker_threads() > 1:
        pending = worker_pool().submit(_try, fit, False)
        best = _try(fit, True)
        other = pending.result()
    else:
        best, other = _try(fit, True), _try(fit, False)
    if isinstance(best, Exception) and isinstance(other, Exception):
        raise best
    if isinstance(best, Exception) or (not isinstance(other, Exception) and
                                       other[1] > best[1]):
        best = other
    return best[0]


def _try(fn, *args):
    try:
        return fn(*args)
    except ValueError as exc:
        return exc


class _Fitter:
    """One image at one chroma resolution: quantise and code at any step, fit a size."""

    def __init__(self, arr, shape, sub, basis, klt) -> None:
        self.arr, self.shape, self.sub = arr, shape, sub
        self.klt = basis == "klt"
        self.extra, self.B, coefs = _transform(arr, sub, basis, klt)
        self.coefs = coefs
        # the planes' own pixel blocks, to judge the decoder's edge filter against
        self.originals = [_blocks(plane)[0] for plane, _ in _planes(arr, sub)]
        self.grids = [g for _, g in coefs]
        self.chroma = _CHROMA_X16[sub]
        self.sizes: dict[float, int] = {}

    def quantise(self, step: float) -> list[np.ndarray]:
        return _quantise(self.coefs, step, _SLOPE, self.chroma)

    def size(self, step: float) -> int:
        if step not in self.sizes:
            qs = self.quantise(step)
            self.sizes[step] = len(self._payload(qs, step, (0, 0, 0, 0), 0))
        return self.sizes[step]

    def _payload(self, qs, step, offsets, deblock) -> bytes:
        return _payload(qs, self.grids, self.extra, self.shape, step, _SLOPE, self.chroma,
                        self.sub, self.klt, offsets, deblock)

    def smallest_ratio(self) -> float:
        h, w, c = self.shape
        return (self.size(_MAX_STEP) + dwz.HEADER_SIZE) / (h * w * c)

    def fit(self, target: int) -> float | None:
        """The smallest step whose payload has at most ``target`` bytes (None: none has).

        Sizes fall roughly as a power of the step: the first guesses follow that model
        until the target is bracketed, then the Illinois variant of regula falsi on
        ``f(log step) = log size − log target``; it stops within 0.3 % of the target or
        when the bracket is 0.1 % wide (typically 4–8 encodes).
        """
        if target < _V2_HEAD.size + 5:
            return None

        def f(step: float) -> float:
            return float(np.log(self.size(step)) - np.log(target))

        step, fs = 16.0, None
        a = b = None                 # bracket: f(a) > 0 (too big), f(b) <= 0 (fits)
        for _ in range(12):
            fs = f(step)
            if fs <= 0:
                b, fb = step, fs
                if fs >= np.log(0.997) or step <= _MIN_STEP:
                    return step
                if a is not None:
                    break
                step = max(_MIN_STEP, step * float(np.exp(max(fs, -2.0))))
            else:
                a, fa = step, fs
                if b is not None:
                    break
                if step >= _MAX_STEP:
                    return None
                step = min(_MAX_STEP, step * float(np.exp(min(max(fs, 0.2), 2.0))))
        if a is None or b is None:
            return b
        side = 0
        for _ in range(40):
            if b / a < 1.001:
                break
            la, lb = np.log(a), np.log(b)
            t = fa / (fa - fb)
            step = float(np.exp(la + np.clip(t, 0.02, 0.98) * (lb - la)))
            fs = f(step)
            if fs <= 0:
                b, fb = step, fs
                if fs >= np.log(0.997):
                    break
                if side == -1:
                    fa /= 2
                side = -1
            else:
                a, fa = step, fs
                if side == 1:
                    fb /= 2
                side = 1
        return b

    def finish(self, step: float) -> tuple[CompressedImage, float]:
        """The file at ``step`` and its PSNR: the reconstruction offsets and the deblocking
        strength are chosen by the encoder for the best PSNR (neither changes the size)."""
        qs = self.quantise(step)
        offsets = _offsets(self.coefs, qs, step, _SLOPE, self.chroma)
        blocks = _pixel_blocks(qs, self.B, step, _SLOPE, self.chroma, offsets)
        dc = _dc_steps(len(qs), step, _SLOPE, self.chroma)
        best = 0
        for kind in (0, 1):                     # luma, then both chroma planes together
            errs = []
            for strength in _DEBLOCK_STRENGTHS:
                err = 0.0
                for p in (range(1, len(qs)) if kind else [0]):
                    b = _deblock(blocks[p], self.grids[p], dc[p], strength) if strength \
                        else blocks[p]
                    err += float(np.sum((b - self.originals[p]) ** 2))
                errs.append(err)
            if kind and len(qs) == 1:
                break
            best |= _DEBLOCK_STRENGTHS[int(np.argmin(errs))] << (4 * kind)
        rec = _assemble(blocks, self.grids, self.shape, dc, self.sub, best)
        best_err = float(np.mean((np.clip(rec, 0, 1) - self.arr) ** 2))
        payload = self._payload(qs, step, offsets, best)
        image = CompressedImage("block", self.shape, payload,
                                _block_params(payload, self.shape))
        return image, -10 * np.log10(max(best_err, 1e-20))


_DEBLOCK_STRENGTHS = (0, 1, 2, 3, 4)


register_codec("block", _block_decode, _block_params)
