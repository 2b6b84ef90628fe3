"""ctypes bindings to the small fused loops in ``_dwloops.c`` (private).

* :func:`km_assign` — k-means' assignment step (:mod:`dotwise.models.kmeans`);
* :func:`affine2d` — ``p' = A p + t`` for (n, 2) points (:mod:`dotwise.linalg.transform2d`);
* :func:`gram_aug` and :func:`refine` — the two sweeps over ``A`` of a normal-equations
  least-squares solve (:mod:`dotwise.linalg.lstsq`).

Built by ``pip install`` (or ``python setup.py build_ext --inplace``) as the optional
extension ``dotwise._dwloops``. When it is missing, or ``DOTWISE_PURE_NUMPY=1`` is set,
:data:`LIB` is ``None`` and the callers use their NumPy paths (argmin and a sparse
one-hot product; a matrix product), which are also the references the tests compare
with. ctypes releases the GIL during a call, so blocks can run on a thread pool.
"""

from __future__ import annotations

import ctypes

import numpy as np

from ._native import load_extension

_P, _I = ctypes.c_void_p, ctypes.c_int64
_SUFFIX = {np.dtype(np.float32): "f", np.dtype(np.float64): "d"}


def _load():
    lib = load_extension("dotwise._dwloops")
    if lib is None:
        return None
    for s in _SUFFIX.values():
        fn = getattr(lib, f"dw_km_assign_{s}")
        fn.argtypes = [_P, _I, _I, _P, _I, _I, _P, _P, _P, _P]
        fn.restype = ctypes.c_int
        fn = getattr(lib, f"dw_km_fused_{s}")
        fn.argtypes = [_P, _I, _I, _I, _I, _P, _P, _I, _I, _P, _P, _P, _P]
        fn.restype = ctypes.c_int
        fn = getattr(lib, f"dw_affine2d_{s}")
        fn.argtypes = [_P, _I, _P, _P]
        fn.restype = ctypes.c_int
        fn = getattr(lib, f"dw_gram_aug_{s}")
        fn.argtypes = [_P, _I, _I, _I, _P, _I, _I, _P, _P, _I]
        fn.restype = ctypes.c_int
        fn = getattr(lib, f"dw_refine_{s}")
        fn.argtypes = [_P, _I, _I, _I, _P, _I, _I, _P, _P, _P]
        fn.restype = ctypes.c_int
    return lib


LIB = _load()


def supports(dtype) -> bool:
    return LIB is not None and np.dtype(dtype) in _SUFFIX


def km_assign(D: np.ndarray, X: np.ndarray, labels: np.ndarray, sums: np.ndarray | None,
           mind: np.ndarray | None = None, xsq: np.ndarray | None = None) -> None:
    """Labels (and cluster sums of ``X``'s rows, and nearest distances) from a block of ``D``.

    Trusted input: ``D`` C-contiguous (m, k); ``X`` (m, q) with unit column stride, same
    dtype; ``labels`` int32 (m,) contiguous; ``sums`` float64 C-contiguous (k, q) or None;
    ``mind``/``xsq`` (m,) contiguous in ``D``'s dtype, or None.
    """
    m, k = D.shape
    q = X.shape[1]
    fn = getattr(LIB, "dw_km_assign_" + _SUFFIX[D.dtype])
    fn(D.ctypes.data, m, k, X.ctypes.data, q, X.strides[0] // X.itemsize, labels.ctypes.data,
       None if sums is None else sums.ctypes.data, None if mind is None else mind.ctypes.data,
       None if xsq is None else xsq.ctypes.data)


#: Tile width (centres) of ``dw_km_fused``, and the most centres it takes.
KM_TILE, KM_MAX_CENTRES = 16, 256


def km_fused_centres(C: np.ndarray):
    """``(Ct, cn)`` for :func:`km_fused`: ``−2Cᵀ`` (p × kp) and ‖c‖² (kp), padded to a tile.

    The kp − k padding columns are zero with norm +inf, so no sample is ever assigned to
    one. Returns ``None`` when k exceeds :data:`KM_MAX_CENTRES`.
    """
    k, p = C.shape
    kp = -(-k // KM_TILE) * KM_TILE
    if kp > KM_MAX_CENTRES:
        return None
    Ct = np.zeros((p, kp), dtype=C.dtype)
    np.multiply(C.T, -2.0, out=Ct[:, :k])
    cn = np.full(kp, np.inf, dtype=C.dtype)
    cn[:k] = np.einsum("ij,ij->i", C, C)
    return Ct, cn


def km_fused(X: np.ndarray, p: int, centres, labels: np.ndarray, sums: np.ndarray | None,
             mind: np.ndarray | None = None, xsq: np.ndarray | None = None) -> None:
    """The assignment step for a block of rows with no distance matrix (k ≤ 256).

    ``X`` (m, q) with unit column stride; its first ``p`` columns are the features (the
    rest, e.g. a column of ones, are only summed). ``centres`` is :func:`km_fused_centres`'
    pair. The rest as for :func:`km_assign`.
    """
    Ct, cn = centres
    m, q = X.shape
    fn = getattr(LIB, "dw_km_fused_" + _SUFFIX[X.dtype])
    status = fn(X.ctypes.data, m, p, q, X.strides[0] // X.itemsize, Ct.ctypes.data,
                cn.ctypes.data, int(np.isfinite(cn).sum()), Ct.shape[1], labels.ctypes.data,
                None if sums is None else sums.ctypes.data,
                None if mind is None else mind.ctypes.data,
                None if xsq is None else xsq.ctypes.data)
    if status != 0:                               # pragma: no cover - guarded by callers
        raise ValueError("km_fused: centres are not padded to a tile of 16 or exceed 256")


def affine2d(P: np.ndarray, M: np.ndarray) -> np.ndarray:
    """``P Aᵀ + t`` for C-contiguous (n, 2) float32/float64 points and an affine 3×3 ``M``."""
    rows = np.ascontiguousarray(M[:2], dtype=np.float64)
    out = np.empty_like(P)
    fn = getattr(LIB, "dw_affine2d_" + _SUFFIX[P.dtype])
    fn(P.ctypes.data, P.shape[0], rows.ctypes.data, out.ctypes.data)
    return out


#: The widest ``[A B]`` (columns of both, padded to 8) that :func:`gram_aug` takes.
GRAM_MAX_COLUMNS = 256


def _row_ranges(m: int, cols: int) -> list[tuple[int, int]]:
    """Row ranges for the worker threads: one per thread, or one when the work is small."""
    from ._threads import worker_threads

    parts = worker_threads() if m * cols >= 200_000 else 1
    parts = max(1, min(parts, m // 64 or 1))
    edges = [m * t // parts for t in range(parts + 1)]
    return list(zip(edges[:-1], edges[1:], strict=True))


def _run_rows(job, m: int, cols: int) -> list:
    """``job(lo, hi)`` over :func:`_row_ranges`, on the shared pool when there are several."""
    ranges = _row_ranges(m, cols)
    if len(ranges) == 1:
        return [job(*ranges[0])]
    from ._threads import worker_pool

    return [f.result() for f in [worker_pool().submit(job, lo, hi) for lo, hi in ranges]]


def gram_supported(A: np.ndarray, B: np.ndarray | None = None) -> bool:
    """Whether :func:`gram_aug` and :func:`refine` take ``A`` and ``B``: the compiled loops
    are there, both are 2-D float32/float64 of one dtype with unit column stride, and
    ``[A B]`` has at most :data:`GRAM_MAX_COLUMNS` columns."""
    def fits(M: np.ndarray) -> bool:
        return M.ndim == 2 and M.dtype == A.dtype and (M.shape[1] == 1
                                                       or M.strides[1] == M.itemsize)

    cols = A.shape[1] + (0 if B is None else B.shape[1]) if A.ndim == 2 else 0
    return (supports(A.dtype) and fits(A) and (B is None or fits(B))
            and 0 < cols <= GRAM_MAX_COLUMNS)


def gram_aug(A: np.ndarray, B: np.ndarray | None = None,
             mean: np.ndarray | None = None) -> np.ndarray:
    """``[A B]ᵀ[A B]`` in float64 (symmetric, ``(n + k) × (n + k)``) in one sweep of the rows.

    Its blocks are ``AᵀA``, ``AᵀB`` and ``BᵀB``; with ``B = None`` it is ``AᵀA``. With
    ``mean`` (n values), ``A``'s rows are centred first, in float64, and never stored:
    ``(A − mean)ᵀ(A − mean)``. Rows are split over the worker threads when the work is
    large enough. Inputs as :func:`gram_supported` accepts.
    """
    m, n = A.shape
    k = 0 if B is None else B.shape[1]
    p = -(-(n + k) // 8) * 8
    fn = getattr(LIB, "dw_gram_aug_" + _SUFFIX[A.dtype])
    lda = A.strides[0] // A.itemsize
    ldb = 0 if B is None else B.strides[0] // B.itemsize
    mu = None if mean is None else np.ascontiguousarray(mean, dtype=np.float64)

    def job(lo: int, hi: int) -> np.ndarray:
        G = np.zeros((p, p))
        if hi > lo:
            fn(A[lo:].ctypes.data, hi - lo, n, lda, A[lo:].ctypes.data if B is None
               else B[lo:].ctypes.data, k, ldb, None if mu is None else mu.ctypes.data,
               G.ctypes.data, p)
        return G

    G = sum(_run_rows(job, m, n + k))[: n + k, : n + k]
    upper = np.triu(G)
    return upper + np.triu(upper, 1).T


def refine(A: np.ndarray, B: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(Aᵀ(B − AX), ‖B − AX‖² per column)`` in float64, reading each row of ``A`` once.

    ``X`` is (n, k). Inputs as :func:`gram_supported` accepts; rows are split over the
    worker threads when the work is large enough.
    """
    m, n = A.shape
    k = B.shape[1]
    Xt = np.ascontiguousarray(X.T, dtype=np.float64)
    fn = getattr(LIB, "dw_refine_" + _SUFFIX[A.dtype])
    lda, ldb = A.strides[0] // A.itemsize, B.strides[0] // B.itemsize

    def job(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        Gt, ss = np.zeros((k, n)), np.zeros(k)
        if hi > lo:
            fn(A[lo:].ctypes.data, hi - lo, n, lda, B[lo:].ctypes.data, k, ldb, Xt.ctypes.data,
               Gt.ctypes.data, ss.ctypes.data)
        return Gt, ss

    parts = _run_rows(job, m, n + k)
    return sum(g for g, _ in parts).T, sum(s for _, s in parts)
