"""The convolution engine behind :func:`dotwise.image.correlate` (private, trusts its input).

Every 2-D correlation ``out[y, x, c] = sum_ij k[i, j] * img[y + i - r, x + j - q, c]``
(boundary per ``mode``, as in :mod:`scipy.ndimage`) is run by the cheapest of three plans
(estimated multiply-adds per output value, see :func:`plan_kernel`). When the compiled
loops of ``_dwconv.c`` are installed (the default for ``pip install``; see
:mod:`dotwise._native`), ``direct`` and ``lowrank`` run there — every tap of a
block of output values in registers, stripes of rows on the C threads of ``_dwpool.h``
(one ctypes call per image; dotwise's Python pool where a build has no POSIX threads) —
and the NumPy/BLAS versions below are the fallback:

* ``direct`` — one fused multiply-add (BLAS ``axpy``) per non-zero tap (small dense kernels);
* ``lowrank`` — the SVD ``k = sum_t s_t u_t v_tᵀ`` truncated at the rounding level, so a
  rank-1 kernel (box, Gaussian, Sobel, horizontal motion blur) becomes two 1-D passes.
  Short passes run as ``axpy`` per tap (a box of equal taps as a sliding sum built by
  doubling); long ones as products with banded Toeplitz matrices (GEMM), which multiply
  some zeros but run an order of magnitude faster per multiply-add;
* ``fft`` — pad by the boundary rule, multiply spectra (:mod:`scipy.fft`), crop.

The direct and ``axpy`` plans work on the image flattened row by row: a tap is a constant
offset, so each tap is one contiguous ``axpy`` from a *view* of the input straight into the
output, for all channels of a channel-last image at once; only the ``q`` border columns,
where offsets wrap into the neighbouring row, are recomputed from a small padded strip.
Horizontal stripes of rows that fit in cache run on a thread pool (NumPy and BLAS release
the GIL; BLAS itself is pinned to one thread meanwhile so the two do not fight).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
from scipy import fft as sfft
from scipy.linalg import blas

from .. import _native
from .._threads import one_blas_thread, worker_pool, worker_threads

MODES = ("reflect", "mirror", "nearest", "wrap", "constant")
_NUMPY_PAD = {"reflect": "symmetric", "mirror": "reflect", "nearest": "edge",
              "wrap": "wrap", "constant": "constant"}
_FFT_TAPS = 150.0     # one FFT convolution costs about as much as this many taps
_FFT_TAPS_COMPILED = 600.0   # ... as this many taps of the compiled loops (measured)
_SEP_OVERHEAD = 3.0          # the compiled separable pass's row buffer, in taps
_STRIPE_BYTES = 1 << 19
_SUB = 8                             # row block of the direct GEMM plan
_GEMM_ROWS, _GEMM_BLOCK = 64, 64   # stripe height and column block of the GEMM plan
_SMALL_IMAGE = 1 << 21  # bytes: smaller images run as a single stripe
_PARALLEL_WORK = 8e6  # multiply-adds below which threads cost more than they save
# the same for the compiled loops on dotwise's Python pool: the 427×640×3 photo with a
# 5×5 box or a 3×3 kernel (~1e7 multiply-adds, ~0.4 ms) measured slower on 2 threads than
# on 1 there (hand-offs through the GIL, the caller asleep on a future); a Gaussian σ=3
# on it (~4e7) gains. On the C pool of _dwpool.h (POSIX builds) the caller starts at
# once and waits spinning, so a split pays off from much less work: break-even measured
# near 2e6 (a 256×256×3 box 5, ~0.1 ms, on 2 threads whose worker had gone to sleep)
_PARALLEL_WORK_COMPILED = 2e7
_PARALLEL_WORK_C_POOL = 2e6

# the pool and its size are shared with the rest of dotwise (dotwise._threads)
n_threads = worker_threads


def run_stripes(job, n: int, stripes: int, workers: int) -> None:
    """Call ``job(a, b)`` on ``stripes`` row ranges covering ``[0, n)`` with ``workers``
    threads; the calling thread is one of them (a pool hand-off costs more than a small
    stripe), and each thread takes the next free stripe, so a busy core holds up no one.
    """
    bounds = [n * i // stripes for i in range(stripes + 1)]
    ranges = [(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]
    claim = itertools.count()             # next() on a count is atomic under the GIL

    def worker() -> None:
        while (i := next(claim)) < len(ranges):
            job(*ranges[i])

    futures = [worker_pool().submit(worker) for _ in range(min(workers, len(ranges)) - 1)]
    try:
        worker()
    finally:
        for f in futures:
            f.result()


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
    gemm: bool = False                # low-rank passes as banded matrix products
    engine: str = "numpy"             # "compiled" (``_dwconv.c``) | "numpy"
    # the kernel and the factors in the image's dtype, C-contiguous (made once per plan)
    kernel: np.ndarray | None = field(default=None, compare=False, repr=False)
    typed_factors: tuple[tuple[np.ndarray, np.ndarray], ...] = field(default=(),
                                                                     compare=False, repr=False)
    # their addresses for the compiled loops (the plan keeps the arrays alive)
    kernel_address: int = field(default=0, compare=False, repr=False)
    factor_addresses: tuple[tuple[int, int], ...] = field(default=(), compare=False, repr=False)
    # the same as one int64 array [col_0, row_0, col_1, row_1, ...] for the *_mt loops
    factor_table: np.ndarray | None = field(default=None, compare=False, repr=False)
    factor_table_address: int = field(default=0, compare=False, repr=False)
    # the centre tap is non-zero in every form the compiled loops apply (see correlate_compiled)
    center_nonzero: bool = False


def _pass_cost(w: np.ndarray) -> float:
    if w.size >= 8 and np.all(w == w[0]):
        return 2.0 * math.log2(w.size) + 1.0
    return float(np.count_nonzero(w)) or 1.0


_PLANS: dict[tuple, Plan] = {}
_USE_COMPILED = True


def use_compiled(flag: bool) -> bool:
    """Turn the compiled loops on or off for later calls; returns the previous setting.

    Off (or not installed) means the NumPy/BLAS plans run. Tests use it to check both.
    """
    global _USE_COMPILED
    previous, _USE_COMPILED = _USE_COMPILED, bool(flag)
    return previous


def engine_for(dtype: np.dtype) -> str:
    """``"compiled"`` when the compiled loops are loaded, enabled and take ``dtype``."""
    return "compiled" if _USE_COMPILED and _native.supports(dtype) else "numpy"


def plan_kernel(kernel: np.ndarray, dtype: np.dtype, method: str = "auto") -> Plan:
    """Choose direct / low-rank / FFT for ``kernel`` (correlation form) by estimated cost."""
    k = np.ascontiguousarray(kernel, dtype=np.float64)
    engine = engine_for(dtype)
    key = (k.shape, k.tobytes(), np.dtype(dtype).str, method, engine)
    plan = _PLANS.get(key)
    if plan is None:
        if len(_PLANS) > 256:
            _PLANS.clear()
        plan = _PLANS[key] = _plan_kernel(k, np.dtype(dtype), method, engine)
    return plan


def _plan_kernel(k: np.ndarray, dtype: np.dtype, method: str, engine: str) -> Plan:
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
    axpy_cost = sum(_pass_cost(c) + halo * _pass_cost(r) for c, r in factors) or 1.0
    # a GEMM multiply-add costs about a tenth of an axpy one (the bands carry zeros), but
    # the transposes around the horizontal pass cost about 12 axpy-taps (measured)
    r, q = kh // 2, kw // 2
    gemm_cost = rank * ((max(32, 2 * r) + 2 * r) + (max(32, 2 * q) + 2 * q)) / 10.0 + 12.0
    use_gemm = gemm_cost < axpy_cost
    lowrank_cost, fft_cost = min(axpy_cost, gemm_cost), _FFT_TAPS
    if engine == "compiled":          # every tap costs the same there: count them
        use_gemm, fft_cost = False, _FFT_TAPS_COMPILED
        lowrank_cost = sum(np.count_nonzero(col) + np.count_nonzero(row) + _SEP_OVERHEAD
                           for col, row in factors)
    candidates = {"direct": nnz, "lowrank": lowrank_cost if rank else math.inf,
                  "fft": fft_cost}
    if method == "auto":
        method = min(candidates, key=candidates.get)
        if rank == 0:
            method = "direct"
    typed = tuple((np.ascontiguousarray(c, dtype=dtype), np.ascontiguousarray(rw, dtype=dtype))
                  for c, rw in factors)
    kernel = np.ascontiguousarray(k, dtype=dtype)
    for arr in (kernel, *(a for pair in typed for a in pair)):
        arr.flags.writeable = False
    r, q = kh // 2, kw // 2
    if method == "direct" or not typed:
        center = bool(kernel[r, q] != 0)
    else:
        center = any(c[r] != 0 and rw[q] != 0 for c, rw in typed)
    addresses = tuple((_native.address(c), _native.address(rw)) for c, rw in typed)
    table = np.array([a for pair in addresses for a in pair] or [0], dtype=np.int64)
    table.flags.writeable = False
    return Plan(method, rank, tuple(factors), candidates[method], use_gemm,
                engine if method != "fft" else "numpy", kernel, typed,
                _native.address(kernel), addresses, center_nonzero=center,
                factor_table=table, factor_table_address=_native.address(table))


_MAPS: dict[tuple[int, int, int, str], tuple[np.ndarray, int]] = {}


def index_map(n: int, before: int, after: int, mode: str) -> np.ndarray:
    """``boundary_index(arange(-before, n + after), n, mode)``, cached (read-only)."""
    return _index_map(n, before, after, mode)[0]


def _index_map(n: int, before: int, after: int, mode: str) -> tuple[np.ndarray, int]:
    key = (n, before, after, mode)
    entry = _MAPS.get(key)
    if entry is None:
        if len(_MAPS) > 64:
            _MAPS.clear()
        m = np.ascontiguousarray(boundary_index(np.arange(-before, n + after), n, mode))
        m.flags.writeable = False
        entry = _MAPS[key] = (m, _native.address(m))
    return entry


def _snap(v: np.ndarray) -> np.ndarray:
    """Make a vector whose entries agree to rounding exactly equal (helps box detection)."""
    v = v.copy()
    if v.size and np.allclose(v, v[0], rtol=1e-12, atol=0.0):
        v[:] = np.mean(v)
    return v


# --------------------------------------------------------------------------- stripes
def _axpy_for(dtype: np.dtype):
    return blas.saxpy if dtype == np.float32 else blas.daxpy


def _add_scaled(x: np.ndarray, dst: np.ndarray, n: int, w: float, first: bool, axpy) -> bool:
    """``dst[:n] = w·x`` for the first term, ``dst[:n] += w·x`` (BLAS axpy) after; returns False."""
    if first:
        np.multiply(x, w, out=dst[:n])
    else:
        axpy(x, dst, n=n, a=w)
    return False


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
        first = _add_scaled(src[j * stride: j * stride + n], dst, n, wj, first, axpy)
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
            first = _add_scaled(level[offset: offset + n], dst, n, weight, first, axpy)
            offset += width * stride
        if 2 * width > m:
            break
        new_len = size - width * stride
        level = np.add(level[:new_len], level[width * stride: width * stride + new_len])
        size, width = new_len, 2 * width


def _stripe_rows(row_bytes: int, r: int) -> int:
    rows = _STRIPE_BYTES // max(1, row_bytes)
    return int(max(16, 2 * r, rows))


def _taps(src: np.ndarray, dst: np.ndarray, n: int, taps, axpy) -> None:
    """``dst[:n] = sum_t w_t * src[off_t : off_t + n]`` (flat, contiguous buffers)."""
    first = True
    for off, w in taps:
        first = _add_scaled(src[off: off + n], dst, n, w, first, axpy)
    if first:
        dst[:n] = 0


def _columns_gemm(src, dst, m, WC, C, r, column_bands, gemm) -> None:
    """``dst`` (m rows) = sum over kernel columns j of band_j @ (rows shifted by j pixels)."""
    for s0 in range(0, m, _SUB):
        mm = min(_SUB, m - s0)
        out_f = dst[s0 * WC: (s0 + mm) * WC].reshape(mm, WC).T      # F-ordered view
        first = True
        for j, band_t in enumerate(column_bands[mm]):
            if band_t is None:
                continue
            start = s0 * WC + j * C
            rows_f = src[start: start + (mm + 2 * r) * WC].reshape(mm + 2 * r, WC).T
            res = gemm(1.0, rows_f, band_t, beta=0.0 if first else 1.0, c=out_f,
                       overwrite_c=1)
            if res is not out_f and not np.shares_memory(res, out_f):  # pragma: no cover
                out_f[...] = res
            first = False
        if first:
            out_f[...] = 0


def _source_rows(img2: np.ndarray, a: int, b: int, r: int, margin: int, mode: str,
                 cval: float) -> np.ndarray:
    """Rows ``a-r .. b+r-1`` of ``img2`` (H, W·C) as one flat buffer with ``margin``
    spare elements before and after. Interior stripes are a view of the image (no copy);
    the spare elements then hold neighbouring pixels, which only the border columns
    see, and those are recomputed exactly by :func:`_border_columns`.
    """
    H, WC = img2.shape
    flat = img2.reshape(-1)
    start, stop = (a - r) * WC - margin, (b + r) * WC + margin
    if start >= 0 and stop <= flat.size:
        return flat[start:stop]
    nrow = b - a + 2 * r
    buf = np.empty(nrow * WC + 2 * margin, dtype=img2.dtype)
    if margin:
        buf[:margin] = 0
        buf[-margin:] = 0
    rows = buf[margin: margin + nrow * WC].reshape(nrow, WC)
    lo, hi = max(a - r, 0), min(b + r, H)
    rows[lo - (a - r): hi - (a - r)] = img2[lo:hi]
    outside = [t for t in range(a - r, b + r) if t < 0 or t >= H]
    if outside:
        for t, src in zip(outside, boundary_index(np.array(outside), H, mode), strict=True):
            rows[t - (a - r)] = cval if src < 0 else img2[src]
    return buf


def _column_strip(rows3: np.ndarray, x0: int, x1: int, q: int, mode: str,
                  cval: float) -> np.ndarray:
    """Columns ``x0-q .. x1+q-1`` of ``rows3`` (n, W, C) by the boundary rule, as a copy."""
    W = rows3.shape[1]
    idx = boundary_index(np.arange(x0 - q, x1 + q), W, mode)
    strip = rows3[:, np.maximum(idx, 0), :]
    if mode == "constant":
        strip[:, idx < 0, :] = cval
    return np.ascontiguousarray(strip)


def _border_ranges(W: int, q: int) -> list[tuple[int, int]]:
    if q == 0:
        return []
    if W <= 2 * q:
        return [(0, W)]
    return [(0, q), (W - q, W)]


def correlate_stripes(img: np.ndarray, k: np.ndarray, plan: Plan, mode: str,
                      cval: float) -> np.ndarray:
    """Run a ``direct`` or ``lowrank`` plan on (H, W, C) ``img``; returns (H, W, C).

    Works on the image flattened row by row (stride ``W·C``): a tap ``(i, j)`` is then
    a constant offset ``i·W·C + (j − q)·C``, so each tap is one contiguous ``axpy``
    writing straight into the output. Offsets that cross a row end touch the wrong
    pixels only in the ``q`` border columns, which are recomputed from a small strip
    padded by the boundary rule.
    """
    H, W, C = img.shape
    kh, kw = k.shape
    r, q = kh // 2, kw // 2
    dtype = img.dtype
    WC, qC = W * C, q * C
    img2 = img.reshape(H, WC)
    out = np.empty((H, W, C), dtype=dtype)
    out_flat = out.reshape(-1)
    axpy = _axpy_for(dtype)
    rows = min(H, _stripe_rows(WC * dtype.itemsize * (2 if plan.method == "lowrank" else 1), r))
    if img.nbytes <= _SMALL_IMAGE:
        rows = H                      # one stripe: fewer calls beat cache blocking here
    taps = [(qC + i * WC + (j - q) * C, float(k[i, j])) for i in range(kh) for j in range(kw)
            if k[i, j] != 0]
    factors = [(cf.astype(dtype), rf.astype(dtype)) for cf, rf in plan.factors]
    borders = _border_ranges(W, q)
    # small dense kernels: each kernel column j is a banded (m × (m + 2r)) matrix applied to
    # the rows shifted by j pixels — one GEMM per column and block of _SUB rows, accumulated
    # in place (beta = 1); measured ~1.2× (3×3) to ~1.8× (5×5) faster than an axpy per tap
    use_gemm = plan.method == "direct" and kh >= 3 and len(taps) >= 6
    gemm = blas.sgemm if dtype == np.float32 else blas.dgemm
    column_bands = {}
    if use_gemm:
        for mm in range(1, min(_SUB, H) + 1):
            column_bands[mm] = [None if not np.any(k[:, j]) else
                                np.asfortranarray(_band(mm, k[:, j].astype(dtype), dtype).T)
                                for j in range(kw)]
        rows = max(rows, 64)
    if plan.method == "direct" and use_gemm:
        rows = min(H, rows)

    def job(a: int, b: int) -> None:
        m = b - a
        n = m * WC
        src = _source_rows(img2, a, b, r, qC, mode, cval)
        dst = out_flat[a * WC: b * WC]
        rows3 = src[qC: qC + (m + 2 * r) * WC].reshape(m + 2 * r, W, C)
        if plan.method == "direct":
            if use_gemm:
                _columns_gemm(src, dst, m, WC, C, r, column_bands, gemm)
            else:
                _taps(src, dst, n, taps, axpy)
            for x0, x1 in borders:
                strip = _column_strip(rows3, x0, x1, q, mode, cval)
                Ls = strip.shape[1] * C
                sflat = strip.reshape(-1)
                ns = m * Ls - 2 * qC
                acc = np.empty(m * Ls, dtype=dtype)
                _taps(sflat, acc, ns, [(i * Ls + j * C, float(k[i, j])) for i in range(kh)
                                       for j in range(kw) if k[i, j] != 0], axpy)
                out[a:b, x0:x1] = acc.reshape(m, -1, C)[:, : x1 - x0]
            return
        nh = (m + 2 * r) * WC
        hbuf = np.empty(nh, dtype=dtype)
        hrows3 = hbuf.reshape(m + 2 * r, W, C)
        strips = [(x0, x1, _column_strip(rows3, x0, x1, q, mode, cval)) for x0, x1 in borders]
        for t, (col, row) in enumerate(factors):
            _pass1d(src, hbuf, nh, row, C, axpy)
            for x0, x1, strip in strips:
                Ls = strip.shape[1] * C
                hs = np.empty(strip.size, dtype=dtype)
                _pass1d(strip.reshape(-1), hs, strip.size - 2 * qC, row, C, axpy)
                hrows3[:, x0:x1] = hs.reshape(m + 2 * r, -1, C)[:, : x1 - x0]
            _pass1d(hbuf, dst, n, col, WC, axpy, accumulate=t > 0)

    # the direct GEMM plan is memory-bound: a second thread measured slower (2-core machine,
    # median 73 ms vs 42 ms for 3×3 on 2048×2048×3 float32), so its stripes run in turn
    serial = use_gemm or img.size * max(plan.cost, 1.0) < _PARALLEL_WORK
    with one_blas_thread():
        run_stripes(job, H, -(-H // rows), 1 if serial else n_threads())
    return out


def _band(n_out: int, w: np.ndarray, dtype) -> np.ndarray:
    """The (n_out, n_out + len(w) - 1) banded Toeplitz matrix with ``T[y, y + i] = w[i]``."""
    m = w.size
    T = np.zeros((n_out, n_out + m - 1), dtype=dtype)
    idx = np.arange(n_out)
    for i in range(m):
        T[idx, idx + i] = w[i]
    return T


def correlate_separable_gemm(img: np.ndarray, k: np.ndarray, plan: Plan, mode: str,
                             cval: float) -> np.ndarray:
    """A low-rank plan as matrix products: each 1-D pass is a banded Toeplitz matrix.

    For a stripe of ``m`` rows the vertical pass is ``T_v (m × (m + 2r)) @ rows`` (one
    GEMM over all columns and channels at once); the horizontal pass works on the stripe
    transposed to ``(W + 2q, m·C)`` and is a GEMM per block of ``B`` columns. The bands
    multiply some zeros, but GEMM runs many times faster than one ``axpy`` per tap.
    """
    H, W, C = img.shape
    kh, kw = k.shape
    r, q = kh // 2, kw // 2
    dtype = img.dtype
    WC = W * C
    img2 = img.reshape(H, WC)
    out = np.empty((H, W, C), dtype=dtype)
    pixel = np.dtype((np.void, C * dtype.itemsize))
    out_px = out.reshape(H, WC).view(pixel)                                 # (H, W)
    rows = min(H, max(_GEMM_ROWS, 2 * r))
    block = max(_GEMM_BLOCK, 2 * q)
    cols = boundary_index(np.arange(-q, W + q), W, mode)
    outside = cols < 0
    cols = np.maximum(cols, 0)
    factors = [(cf.astype(dtype), rf.astype(dtype)) for cf, rf in plan.factors]
    bands_v = {}
    bands_h = [(_band(min(block, W - x0), rf, dtype)) for _, rf in factors
               for x0 in range(0, W, block)]
    starts_x = list(range(0, W, block))

    def job(a: int, b: int) -> None:
        m = b - a
        S = _source_rows(img2, a, b, r, 0, mode, cval).reshape(m + 2 * r, WC)
        for t, (cf, _) in enumerate(factors):
            key = (t, m)
            if key not in bands_v:
                bands_v[key] = _band(m, cf, dtype)
            # transposes move whole pixels (C values) as one opaque item: ~2× faster than
            # NumPy's per-float strided copy of a channel-last array
            v = np.ascontiguousarray(bands_v[key] @ S).view(pixel)             # (m, W)
            vt = v.T[cols].view(dtype).reshape(W + 2 * q, m, C)   # (W + 2q, m, C), a copy
            if outside.any():
                vt[outside] = cval * float(cf.sum())
            flat = vt.reshape(W + 2 * q, m * C)
            res = np.empty((W, m * C), dtype=dtype)
            for n, x0 in enumerate(starts_x):
                x1 = min(x0 + block, W)
                np.matmul(bands_h[t * len(starts_x) + n], flat[x0: x1 + 2 * q], out=res[x0:x1])
            if t == 0:
                out_px[a:b] = res.view(pixel).T
            else:
                out[a:b] += res.reshape(W, m, C).transpose(1, 0, 2)

    serial = img.size * max(plan.cost, 1.0) < _PARALLEL_WORK
    with one_blas_thread():
        run_stripes(job, H, -(-H // rows), 1 if serial else n_threads())
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


class NonFiniteInput(ValueError):
    """The image holds NaN or infinity (the public caller turns it into a clear error)."""


def correlate_compiled(img: np.ndarray, k: np.ndarray, plan: Plan, mode: str,
                       cval: float, check_finite: bool = False) -> np.ndarray:
    """Run a ``direct`` or ``lowrank`` plan through the compiled loops, stripes in parallel
    (all of them in one call to the loops' C thread pool where the build has one).

    With ``check_finite``, the C loops look for NaN and infinity while the data is in
    cache: in the output values as they leave the registers when the kernel's centre
    tap is non-zero (then every non-finite input pixel makes its own output pixel
    non-finite; a non-finite output from finite input is overflow, told apart by one
    scan of the input), else in each image row right after its output row. A bad
    input raises :class:`NonFiniteInput`.
    """
    H, W, C = img.shape
    kh, kw = k.shape
    r, q = kh // 2, kw // 2
    if plan.kernel is None or plan.kernel.dtype != img.dtype:   # pragma: no cover - misuse
        raise TypeError("correlate_compiled needs a plan made for the image's dtype")
    # hold the maps themselves (not only their addresses) until the loops are done
    rows_entry, cols_entry = _index_map(H, r, r, mode), _index_map(W, q, q, mode)
    rowmap, colmap = rows_entry[1], cols_entry[1]
    out = np.empty_like(img)
    pin, pout, cval = _native.fast_address(img), _native.fast_address(out), float(cval)
    check = _native.NO_CHECK
    if check_finite:
        check = _native.CHECK_OUTPUT if plan.center_nonzero else _native.CHECK_INPUT
    work = img.size * max(plan.cost, 1.0)
    # a small image runs on the calling thread; more stripes than threads once there is
    # enough work: a thread that starts late (waking up, or its core busy) costs a stripe
    c_pool = _native.threaded()
    workers = 1 if work < (_PARALLEL_WORK_C_POOL if c_pool else _PARALLEL_WORK_COMPILED) \
        else min(H, n_threads())
    if c_pool:                         # stripes of 16 rows or more, up to 4 per thread
        stripes = max(workers, min(4 * workers, H // 16))
    else:
        stripes = workers if work < 3.2e7 else min(H, 4 * workers)
    direct = plan.method == "direct" or not plan.typed_factors
    if c_pool or workers == 1:         # one call: the C pool splits it (or one stripe)
        if direct:
            status = _native.loop("direct_mt", img.dtype)(
                pin, pout, H, W, C, plan.kernel_address, kh, kw, rowmap, colmap, cval,
                check, workers, stripes)
        else:
            status = _native.loop("sep_mt", img.dtype)(
                pin, pout, H, W, C, plan.factor_table_address, len(plan.typed_factors), kh,
                kw, rowmap, colmap, cval, check, workers, stripes)
        found = [status] if status else []
    else:                              # no C threads here (Windows): the Python pool
        found = _python_stripes(plan, direct, (pin, pout, H, W, C), (kh, kw),
                                (rowmap, colmap, cval), check, img.dtype, stripes, workers)
    del rows_entry, cols_entry
    if found and min(found) < 0:          # pragma: no cover - out of memory in C
        raise MemoryError("dotwise.image: the compiled convolution could not allocate "
                          "its row buffers")
    if _native.CHECK_INPUT in found or (found and not _native.all_finite(img)):
        raise NonFiniteInput
    return out


def _python_stripes(plan: Plan, direct: bool, image: tuple, size: tuple, maps: tuple,
                    check: int, dtype: np.dtype, stripes: int, workers: int) -> list[int]:
    """The compiled loops stripe by stripe on dotwise's Python pool (ctypes releases the
    GIL); for builds whose C pool runs serially. Returns the non-zero stripe statuses."""
    (kh, kw), found = size, []
    if direct:
        fn = _native.loop("direct", dtype)

        def job(y0: int, y1: int) -> None:
            status = fn(*image, plan.kernel_address, kh, kw, *maps, y0, y1, check)
            if status:
                found.append(status)
    else:
        fn = _native.loop("sep", dtype)
        last = len(plan.factor_addresses) - 1   # the input is scanned in the first pass,
        passes = [(ca, ra, int(t > 0),          # the output in the last (once complete)
                   check if (t == 0 and check == _native.CHECK_INPUT) or
                   (t == last and check == _native.CHECK_OUTPUT) else 0)
                  for t, (ca, ra) in enumerate(plan.factor_addresses)]

        def job(y0: int, y1: int) -> None:
            for ca, ra, acc, mode_t in passes:
                status = fn(*image, ca, kh, ra, kw, *maps, y0, y1, acc, mode_t)
                if status:
                    found.append(status)
                    if status == _native.CHECK_INPUT:
                        return
    run_stripes(job, image[2], stripes, workers)
    return found


def correlate3(img: np.ndarray, k: np.ndarray, mode: str, cval: float,
               method: str = "auto", check_finite: bool = False) -> np.ndarray:
    """Correlate a trusted (H, W, C) float array with a trusted odd-sized 2-D kernel.

    ``check_finite``: raise :class:`NonFiniteInput` if ``img`` holds NaN or infinity (the
    compiled plans check stripe by stripe, in parallel with the work).
    """
    plan = plan_kernel(k, img.dtype, method)
    if plan.engine == "compiled":
        return correlate_compiled(np.ascontiguousarray(img), k, plan, mode, cval, check_finite)
    if check_finite and not _native.all_finite(img):
        raise NonFiniteInput
    if plan.method == "fft":
        return correlate_fft(img, k, mode, cval)
    if plan.method == "lowrank" and not plan.factors:
        plan = Plan("direct", 0)
    if plan.method == "lowrank" and plan.gemm:
        return correlate_separable_gemm(np.ascontiguousarray(img), k, plan, mode, cval)
    return correlate_stripes(np.ascontiguousarray(img), k, plan, mode, cval)
