"""ctypes bindings to the compiled top-k heaps in ``_dwtopk.c`` (private).

Built by ``pip install`` (or ``python setup.py build_ext --inplace``) as the optional
extension ``dotwise._dwtopk``. When it is missing, or ``DOTWISE_PURE_NUMPY=1`` is set,
:data:`LIB` is ``None`` and :mod:`._kernel` uses its NumPy selection, which is also the
reference the tests compare these loops with.

A :class:`Heaps` holds the running top-k of ``m`` queries: ``(m, k)`` scores and ids and
a count per query. Each thread of a search fills its own; :meth:`Heaps.absorb` merges
another thread's into this one. ctypes releases the GIL for every call.
"""

from __future__ import annotations

import ctypes

import numpy as np

from .._native import load_extension

_P, _I = ctypes.c_void_p, ctypes.c_int64
_SUFFIX = {np.dtype(np.float32): ("f", ctypes.c_float), np.dtype(np.float64): ("d", ctypes.c_double)}


def _load():
    lib = load_extension("dotwise._dwtopk")
    if lib is None:
        return None
    try:
        for s, real in _SUFFIX.values():
            fn = getattr(lib, f"dw_topk_push_{s}")
            fn.argtypes = [_P, _I, _I, _I, _P, _P, _P, _I, _I, _P, _P, _P, _P, _P, _I, real]
            fn.restype = ctypes.c_int
            fn = getattr(lib, f"dw_topk_sort_{s}")
            fn.argtypes = [_P, _P, _P, _I, _I, real]
            fn.restype = ctypes.c_int
            fn = getattr(lib, f"dw_ivf_scan_{s}")
            fn.argtypes = [_P, _I, _P, _P, _P, _P, _P, _P, _P, _I, _P, _P, _P, _P, _P, _I, real]
            fn.restype = ctypes.c_int
        lib.dw_topk_gemm_f.argtypes = [_P, _I, _I, _P, _I, _I, _P, _P, _P, _P, _P, _P, _P, _I]
        lib.dw_topk_gemm_f.restype = ctypes.c_int
        lib.dw_topk_gemm_ok.argtypes, lib.dw_topk_gemm_ok.restype = [], ctypes.c_int
    except AttributeError:  # pragma: no cover - a stale build
        return None
    return lib


LIB = _load()


def supports(dtype) -> bool:
    """Whether the compiled heaps are loaded and handle ``dtype``."""
    return LIB is not None and np.dtype(dtype) in _SUFFIX


#: Queries per panel of the fused float32 product (``dw_topk_gemm_f``).
PANEL = 24


def fused_gemm() -> bool:
    """Whether the fused float32 product-and-top-k loop runs here (x86-64 with AVX2+FMA)."""
    return LIB is not None and bool(LIB.dw_topk_gemm_ok())


def pack_queries(Q: np.ndarray) -> np.ndarray:
    """``Q`` (m, d) float32 as panels of :data:`PANEL` queries, dimension-major, aligned.

    Element ``[p, c, l]`` is ``Q[PANEL * p + l, c]`` (zero past the last query); the buffer
    starts on a 64-byte boundary, as the loop's aligned loads need.
    """
    m, d = Q.shape
    panels = -(-m // PANEL)
    size = panels * d * PANEL
    raw = np.empty(size + 16, dtype=np.float32)
    skip = (-raw.ctypes.data % 64) // 4
    P = raw[skip: skip + size].reshape(panels, d, PANEL)
    full = m // PANEL
    P[:full] = Q[: full * PANEL].reshape(full, PANEL, d).transpose(0, 2, 1)
    if full < panels:
        P[full] = 0.0
        P[full, :, : m - full * PANEL] = Q[full * PANEL:].T
    return P


def _ptr(a: np.ndarray | None):
    return None if a is None else a.ctypes.data


class Heaps:
    """The running top-k of ``m`` queries (scores, ids, counts), filled by the C loops."""

    __slots__ = ("scores", "ids", "count", "k", "_fn")

    def __init__(self, m: int, k: int, dtype):
        dtype = np.dtype(dtype)
        self.scores = np.full((m, k), -np.inf, dtype=dtype)
        self.ids = np.full((m, k), -1, dtype=np.int64)
        self.count = np.zeros(m, dtype=np.int64)
        self.k = k
        self._fn = _SUFFIX[dtype]

    def push(self, S: np.ndarray, *, base: int = 0, ids: np.ndarray | None = None,
             scale: np.ndarray | None = None, offset: np.ndarray | None = None,
             allowed: np.ndarray | None = None, rows: np.ndarray | None = None) -> None:
        """Offer the tile ``S`` (rows: queries ``rows`` or ``0..``; columns: candidates).

        Column ``j`` has id ``ids[j]`` (``ids`` 1-D), ``ids[i, j]`` (2-D), or ``base + j``;
        its score is ``S[i, j] * scale[j] + offset[j]`` (``S`` is overwritten then).
        ``allowed`` (uint8/bool per column) drops columns. ``S`` needs unit column stride.
        """
        s, real = self._fn
        m, w = S.shape
        ldi = 0 if ids is None or ids.ndim == 1 else ids.strides[0] // 8
        getattr(LIB, "dw_topk_push_" + s)(
            S.ctypes.data, m, w, S.strides[0] // S.itemsize, _ptr(scale), _ptr(offset),
            _ptr(ids), ldi, base, _ptr(allowed), _ptr(rows), self.scores.ctypes.data,
            self.ids.ctypes.data, self.count.ctypes.data, self.k, real(-np.inf))

    def gemm(self, P: np.ndarray, X: np.ndarray, r0: int, r1: int, *,
             ids: np.ndarray | None = None, scale: np.ndarray | None = None,
             offset: np.ndarray | None = None, allowed: np.ndarray | None = None) -> bool:
        """Score rows ``r0:r1`` of ``X`` (C-contiguous float32) against packed queries ``P``.

        ``P`` comes from :func:`pack_queries`; a row's score is ``(q·x) * scale[r] +
        offset[r]``, its id ``ids[r]`` (or ``r``). Returns ``False`` (nothing done) where
        the loop is not available (see :func:`fused_gemm`).
        """
        m = self.count.size
        done = LIB.dw_topk_gemm_f(
            P.ctypes.data, m, X.shape[1], X.ctypes.data, r0, r1, _ptr(scale), _ptr(offset),
            _ptr(ids), _ptr(allowed), self.scores.ctypes.data, self.ids.ctypes.data,
            self.count.ctypes.data, self.k)
        if done == -2:
            raise MemoryError("no memory for the search thresholds")
        return done == 0

    def absorb(self, other: Heaps) -> None:
        """Merge another set of heaps over the same queries into this one."""
        self.push(other.scores, ids=other.ids)

    def scan(self, Q: np.ndarray, X: np.ndarray, offsets: np.ndarray, lists: np.ndarray,
             gptr: np.ndarray, gq: np.ndarray, *, ids: np.ndarray | None = None,
             scale: np.ndarray | None = None, offset: np.ndarray | None = None,
             allowed: np.ndarray | None = None) -> None:
        """Score and offer rows ``offsets[j]:offsets[j+1]`` of ``X`` for each ``j`` in ``lists``.

        The queries (rows of ``Q``, C-contiguous like ``X``) that score list ``lists[l]``
        are ``gq[gptr[l]:gptr[l+1]]``; a row's score is ``(q·x) * scale[row] + offset[row]``
        and its id ``ids[row]`` (or the row number). Every index array is int64.
        """
        s, real = self._fn
        getattr(LIB, "dw_ivf_scan_" + s)(
            Q.ctypes.data, Q.shape[1], X.ctypes.data, _ptr(scale), _ptr(offset), _ptr(ids),
            _ptr(allowed), offsets.ctypes.data, lists.ctypes.data, lists.size,
            gptr.ctypes.data, gq.ctypes.data, self.scores.ctypes.data, self.ids.ctypes.data,
            self.count.ctypes.data, self.k, real(-np.inf))

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """Best-first ``(ids, scores)``, shape (m, k); missing slots ``-1`` and ``-inf``."""
        s, real = self._fn
        m = self.count.size
        getattr(LIB, "dw_topk_sort_" + s)(self.scores.ctypes.data, self.ids.ctypes.data,
                                          self.count.ctypes.data, m, self.k, real(-np.inf))
        return self.ids, self.scores
