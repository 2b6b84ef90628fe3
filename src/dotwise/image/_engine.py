"""The convolution engine behind :func:`dotwise.image.correlate` (private, trusts its input).

Every 2-D correlation ``out[y, x, c] = sum_ij k[i, j] * img[y + i - r, x + j - q, c]``
(boundary per ``mode``, as in :mod:`scipy.ndimage`) is run by one of three plans:

* ``direct`` — one multiply-add per non-zero tap (small, non-separable kernels);
* ``lowrank`` — the SVD ``k = sum_t s_t u_t v_tᵀ`` truncated at the rounding level;
  rank-1 kernels (box, Gaussian, Sobel, horizontal motion blur) become two 1-D passes,
  and a 1-D pass whose weights are all equal (a box) is a sliding sum built by doubling;
* ``fft`` — pad by the boundary rule, multiply spectra (:mod:`scipy.fft`), crop.

The direct and low-rank plans work on horizontal stripes of rows that fit in cache:
each stripe is padded on its own (no padded copy of the whole image), flattened so
that every tap is one contiguous ``axpy`` (BLAS, fused multiply-add) over the stripe,
and the stripes run on a thread pool (NumPy and BLAS release the GIL). All channels of
a channel-last image are processed in the same pass.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft
from scipy.linalg import blas

MODES = ("reflect", "mirror", "nearest", "wrap", "constant")
_NUMPY_PAD = {"reflect": "symmetric", "mirror": "reflect", "nearest": "edge",
              "wrap": "wrap", "constant": "constant"}
_FFT_TAPS = 150.0     # one FFT convolution costs about as much as this many taps
_STRIPE_BYTES = 1 << 20

_pool: ThreadPoolExecutor | None = None
_controller = None


def _single_blas():
    """A context that pins BLAS to one thread (our stripes are the parallelism)."""
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")


def n_threads() -> int:
    """Worker threads used for stripes: ``DOTWISE_NUM_THREADS`` or the CPU count (max 8)."""
    env = os.environ.get("DOTWISE_NUM_THREADS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(8, os.cpu_count() or 1))


def _get_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=n_threads(), thread_name_prefix="dotwise-conv")
    return _pool


def boundary_index(idx: np.ndarray, n: int, mode: str) -> np.ndarray:
    """Map (possibly out-of-range) indices into ``[0, n)`` by scipy.ndimage's rule.

    ``constant`` maps outside indices to -1 (the caller fills them with ``cval``).
    """
    idx = np.asarray(idx, dtype=np.int64)
    if mode == "nearest":
        return np.clip(idx, 0, n - 1)
    if mode == "wrap":
        return np.mod(idx, n)
    if mode == "reflect":            # d c b a | a b c d | d c b a
        t = np.mod(idx, 2 * n)
        return np.where(t >= n, 2 * n - 1 - t, t)
    if mode == "mirror":             # d c b | a b c d | c b a
        if n == 1:
            return np.zeros_like(idx)
        t = np.mod(idx, 2 * n - 2)
        return np.where(t >= n, 2 * n - 2 - t, t)
    return np.where((idx >= 0) & (idx < n), idx, -1)


@dataclass(frozen=True)
class Plan:
    """How a kernel will be applied: ``method`` and, for ``lowrank``, its 1-D factors."""

    method: str                       # "direct" | "lowrank" | "fft"
    rank: int
    factors: tuple[tuple[np.ndarray, np.ndarray], ...] = ()
    cost: float = 0.0                 # estimated multiply-adds per output value


def _pass_cost(w: np.ndarray) -> float:
    if w.size >= 8 and np.all(w == w[0]):
        return 2.0 * math.log2(w.size) + 1.0
    return float(np.count_nonzero(w)) or 1.0


def plan_kernel(kernel: np.ndarray, dtype: np.dtype, method: str = "auto") -> Plan:
    """Choose direct / low-rank / FFT for ``kernel`` (correlation form) by estimated cost."""
    k = np.asarray(kernel, dtype=np.float64)
    kh, kw = k.shape
    nnz = float(np.count_nonzero(k)) or 1.0
    u, s, vt = np.linalg.svd(k)
    tol = s[0] * max(kh, kw) * np.finfo(dtype).eps if s.size and s[0] > 0 else 0.0
    rank = int(np.sum(s > tol)) if s.size and s[0] > 0 else 0
    factors = []
    for t in range(rank):
        col, row = u[:, t] * math.sqrt(s[t]), vt[t] * math.sqrt(s[t])
        # exact factors for kernels that are outer products of "nice" vectors (box, Sobel)
        factors.append((_snap(col), _snap(row)))
    halo = 1.0 + (kh - 1) / 32.0
    lowrank_cost = sum(_pass_cost(c) + halo * _pass_cost(r) for c, r in factors) or 1.0
    candidates = {"direct": nnz, "lowrank": lowrank_cost if rank else math.inf,
                  "fft": _FFT_TAPS}
    if method == "auto":
        method = min(candidates, key=candidates.get)
        if rank == 0:
            method = "direct"
    return Plan(method, rank, tuple(factors), candidates[method])


def _snap(v: np.ndarray) -> np.ndarray:
    """Make a vector whose entries agree to rounding exactly equal (helps box detection)."""
    v = v.copy()
    if v.size and np.allclose(v, v[0], rtol=1e-12, atol=0.0):
        v[:] = np.mean(v)
    return v


# --------------------------------------------------------------------------- stripes
def _padded_stripe(img: np.ndarray, a: int, b: int, r: int, q: int, mode: str,
                   cval: float, buf: np.ndarray) -> np.ndarray:
    """Rows ``a-r .. b+r-1`` of ``img`` (H, W, C), padded by ``q`` columns, into ``buf``."""
    H, W, C = img.shape
    rows = b - a + 2 * r
    ps = buf[: rows * (W + 2 * q) * C].reshape(rows, W + 2 * q, C)
    lo, hi = max(a - r, 0), min(b + r, H)
    ps[lo - (a - r): hi - (a - r), q:q + W] = img[lo:hi]
    outside = [t for t in range(a - r, b + r) if t < 0 or t >= H]
    if outside:
        src = boundary_index(np.array(outside), H, mode)
        for t, s in zip(outside, src, strict=True):
            if s < 0:
                ps[t - (a - r), q:q + W] = cval
            else:
                ps[t - (a - r), q:q + W] = img[s]
    if q:
        left = boundary_index(np.arange(-q, 0), W, mode)
        right = boundary_index(np.arange(W, W + q), W, mode)
        for j, s in enumerate(left):
            ps[:, j] = cval if s < 0 else ps[:, q + s]
        for j, s in enumerate(right):
            ps[:, q + W + j] = cval if s < 0 else ps[:, q + s]
    return ps.reshape(-1)


def _axpy_for(dtype: np.dtype):
    return blas.saxpy if dtype == np.float32 else blas.daxpy


def _pass1d(src: np.ndarray, dst: np.ndarray, n: int, w: np.ndarray, stride: int,
            axpy, accumulate: bool = False) -> None:
    """``dst[:n] (+)= sum_j w[j] * src[j*stride : j*stride + n]`` on flat buffers."""
    m = w.size
    if m >= 8 and np.all(w == w[0]):
        _box1d(src, dst, n, m, float(w[0]), stride, axpy, accumulate)
        return
    first = not accumulate
    for j in range(m):
        wj = float(w[j])
        if wj == 0.0:
            continue
        x = src[j * stride: j * stride + n]
        if first:
            np.multiply(x, wj, out=dst[:n])
            first = False
        else:
            axpy(x, dst, n=n, a=wj)
    if first:
        dst[:n] = 0


def _box1d(src, dst, n, m, weight, stride, axpy, accumulate) -> None:
    """Sliding sum of ``m`` equal taps by doubling: ``O(log m)`` adds per value.

    ``level_b[t]`` holds the sum of ``2**b`` consecutive taps; the window of ``m``
    taps is the sum of the levels of the set bits of ``m``, each shifted past the
    taps already covered.
    """
    size = n + (m - 1) * stride
    level, width, offset, first = src[:size], 1, 0, not accumulate
    while True:
        if m & width:
            x = level[offset: offset + n]
            if first:
                np.multiply(x, weight, out=dst[:n])
                first = False
            else:
                axpy(x, dst, n=n, a=weight)
            offset += width * stride
        if 2 * width > m:
            break
        new_len = size - width * stride
        level = np.add(level[:new_len], level[width * stride: width * stride + new_len])
        size, width = new_len, 2 * width


def _stripe_rows(L: int, itemsize: int, r: int) -> int:
    rows = _STRIPE_BYTES // max(1, L * itemsize)
    return int(max(64, 4 * r, rows))


def correlate_stripes(img: np.ndarray, k: np.ndarray, plan: Plan, mode: str,
                      cval: float) -> np.ndarray:
    """Run a ``direct`` or ``lowrank`` plan on (H, W, C) ``img``; returns (H, W, C)."""
    H, W, C = img.shape
    kh, kw = k.shape
    r, q = kh // 2, kw // 2
    dtype = img.dtype
    L = (W + 2 * q) * C
    out = np.empty((H, W, C), dtype=dtype)
    axpy = _axpy_for(dtype)
    rows = min(H, _stripe_rows(L, dtype.itemsize, r))
    taps = [(i * L + j * C, float(k[i, j])) for i in range(kh) for j in range(kw)
            if k[i, j] != 0]
    factors = [(c.astype(dtype), h.astype(dtype)) for c, h in plan.factors]
    out2 = out.reshape(H, W * C)

    def job(a: int) -> None:
        b = min(a + rows, H)
        nrow = b - a
        buf = np.empty((nrow + 2 * r) * L, dtype=dtype)
        ps = _padded_stripe(img, a, b, r, q, mode, cval, buf)
        acc = np.empty(nrow * L, dtype=dtype)
        n = nrow * L - 2 * q * C
        if plan.method == "direct":
            if not taps:
                acc[:n] = 0
            for t, (off, w) in enumerate(taps):
                x = ps[off: off + n]
                if t == 0:
                    np.multiply(x, w, out=acc[:n])
                else:
                    axpy(x, acc, n=n, a=w)
        else:
            nh = (nrow + 2 * r) * L - 2 * q * C
            hbuf = np.empty(nh, dtype=dtype)
            for t, (col, row) in enumerate(factors):
                _pass1d(ps, hbuf, nh, row, C, axpy)
                _pass1d(hbuf, acc, n, col, L, axpy, accumulate=t > 0)
        out2[a:b] = acc.reshape(nrow, L)[:, : W * C]

    starts = range(0, H, rows)
    with _single_blas():
        if len(starts) == 1:
            job(0)
        else:
            for f in [_get_pool().submit(job, a) for a in starts]:
                f.result()
    return out


def correlate_fft(img: np.ndarray, k: np.ndarray, mode: str, cval: float) -> np.ndarray:
    """FFT correlation of (H, W, C) ``img`` with ``k``, padded by the boundary rule."""
    H, W, C = img.shape
    kh, kw = k.shape
    r, q = kh // 2, kw // 2
    if mode == "constant":
        p = np.pad(img, ((r, r), (q, q), (0, 0)), mode="constant", constant_values=cval)
    elif r < H and q < W or mode in ("nearest", "wrap"):
        p = np.pad(img, ((r, r), (q, q), (0, 0)), mode=_NUMPY_PAD[mode])
    else:
        rows = boundary_index(np.arange(-r, H + r), H, mode)
        cols = boundary_index(np.arange(-q, W + q), W, mode)
        p = img[rows][:, cols]
    shape = (sfft.next_fast_len(H + 2 * r, real=True), sfft.next_fast_len(W + 2 * q, real=True))
    workers = n_threads()
    spec = sfft.rfft2(p, s=shape, axes=(0, 1), workers=workers)
    kspec = sfft.rfft2(k[::-1, ::-1].astype(img.dtype), s=shape, workers=workers)
    spec *= kspec[:, :, None]
    full = sfft.irfft2(spec, s=shape, axes=(0, 1), workers=workers)
    return np.ascontiguousarray(full[2 * r: 2 * r + H, 2 * q: 2 * q + W], dtype=img.dtype)


def correlate3(img: np.ndarray, k: np.ndarray, mode: str, cval: float,
               method: str = "auto") -> np.ndarray:
    """Correlate a trusted (H, W, C) float array with a trusted odd-sized 2-D kernel."""
    plan = plan_kernel(k, img.dtype, method)
    if plan.method == "fft":
        return correlate_fft(img, k, mode, cval)
    if plan.method == "lowrank" and not plan.factors:
        plan = Plan("direct", 0)
    return correlate_stripes(np.ascontiguousarray(img), k, plan, mode, cval)
