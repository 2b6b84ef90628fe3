"""The SVD codec: each channel stored as its best rank-``k`` approximation.

Each channel ``A`` (H × W) is replaced by ``A_k = U_k Σ_k V_kᵀ`` (Eckart–Young:
``‖A − A_k‖_F² = Σ_{i>k} σ_i²``, the smallest possible). The factors ``U_k √Σ_k`` and
``V_k √Σ_k`` are stored as 8-bit integers with one float scale per vector (or as float32),
then LZMA-compressed: about ``k (H + W + 8)`` bytes per channel.

Payload layout: ``bits`` (u8), channels (u8), one rank per channel (u16), then the
LZMA2 stream of, per channel, ``L = (U√s)ᵀ`` (k × H) and ``R = √s Vᵀ`` (k × W), each as
``k`` float32 scales + ``k · n`` int8 (bits 8) or ``k · n`` float32 (bits 32).
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from .._threads import one_blas_thread, worker_pool
from .._validation import DataFormatError, check_int, check_positive
from ..linalg import randomized_svd
from . import dwz
from ._codec import check_img, check_ratio, pack_lzma, quantize_rows, unpack_lzma
from .compressed import CompressedImage, register_codec

__all__ = ["svd_compress"]


def _svd(A: np.ndarray, k_max: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m, n = A.shape
    small = min(m, n)
    if k_max is not None and small > 600 and k_max < small // 4:
        return randomized_svd(A, k_max, check_finite=False)
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    return U, s, Vt


def _svd_payload(factors: list[tuple[np.ndarray, np.ndarray]], bits: int) -> bytes:
    ranks = [f[0].shape[0] for f in factors]
    head = struct.pack("<BB", bits, len(factors)) + struct.pack(f"<{len(ranks)}H", *ranks)
    body = bytearray()
    for L, R in factors:            # L: (k, H) = (U√s)ᵀ, R: (k, W) = √s Vt
        if bits == 8:
            for X in (L, R):
                q, scale = quantize_rows(X)
                body += scale.tobytes() + q.tobytes()
        else:
            body += L.astype(np.float32).tobytes() + R.astype(np.float32).tobytes()
    return head + pack_lzma(bytes(body))


def _svd_params(payload: bytes, shape, source="data") -> dict[str, Any]:
    """The payload's header, checked against the image shape before anything is decoded."""
    h, w, c = shape
    if len(payload) < 2 + 2 * c:
        raise DataFormatError(f"{source}: corrupt svd payload: {len(payload)} bytes, shorter "
                              f"than its {2 + 2 * c}-byte header")
    bits, nc = struct.unpack_from("<BB", payload)
    if bits not in (8, 32) or nc != c:
        raise DataFormatError(f"{source}: corrupt svd header (bits={bits}, channels={nc})")
    ranks = list(struct.unpack_from(f"<{nc}H", payload, 2))
    if not all(1 <= k <= min(h, w) for k in ranks):
        raise DataFormatError(f"{source}: corrupt svd header: ranks {ranks} do not fit an image "
                              f"of {h}×{w} (each must be in [1, {min(h, w)}])")
    return {"ranks": ranks, "bits": bits}


def _factor_bytes(ranks: list[int], bits: int, h: int, w: int) -> int:
    """Size of the decompressed factor stream: per channel ``k (H + W)`` entries (+ scales)."""
    per = (lambda k: k * (h + w) + 8 * k) if bits == 8 else (lambda k: 4 * k * (h + w))
    return sum(per(k) for k in ranks)


def _svd_decode(payload: bytes, shape) -> np.ndarray:
    h, w, c = shape
    params = _svd_params(payload, shape)
    expected = _factor_bytes(params["ranks"], params["bits"], h, w)
    # the factors' size follows from (H, W) and the ranks: a header that disagrees with the
    # payload is caught here, before the image is allocated
    body = unpack_lzma(payload[2 + 2 * c:], max_size=expected + 1)
    if len(body) != expected:
        raise DataFormatError(f"corrupt svd payload: {len(body)} bytes of factors where an "
                              f"image of {h}×{w}×{c} at ranks {params['ranks']} has {expected}")
    pos = 0
    out = np.empty((h, w, c), dtype=np.float32)

    def take(n: int, dtype) -> np.ndarray:
        nonlocal pos
        arr = np.frombuffer(body, dtype=dtype, count=n, offset=pos)
        pos += n * np.dtype(dtype).itemsize
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
    arr = check_img(img)
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
        ratio = check_ratio(ratio)
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
        svds = list(worker_pool().map(lambda ch: _svd(arr[:, :, ch], k_max), range(c)))

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



register_codec("svd", _svd_decode, _svd_params)
