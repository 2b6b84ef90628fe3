"""ctypes bindings to the recommender's compiled loops in ``_dwrec.c`` (private).

* :func:`ridge` — one ALS half-step (the batched NumPy reference is ``_als.solve_side``);
* :func:`neighbors` — the sparse top-k item–item lists (reference: ``_neighbors.topk_numpy``);
* :func:`term` — the neighbourhood term of (user, item) pairs (reference:
  ``Neighborhood._term_numpy``).

Built by ``pip install`` (or ``python setup.py build_ext --inplace``) as the optional
extension ``dotwise._dwrec``. When it is missing, or ``DOTWISE_PURE_NUMPY=1`` is set,
:data:`LIB` is ``None`` and the engines use their NumPy paths. Each call covers a range
of entities, items or pairs; ranges run in parallel on dotwise's worker pool (ctypes
releases the GIL), split so that each holds about the same work.
"""

from __future__ import annotations

import ctypes
import itertools

import numpy as np

from .._native import load_extension
from .._threads import worker_pool, worker_threads

_P, _I, _D = ctypes.c_void_p, ctypes.c_int64, ctypes.c_double


def _load():
    lib = load_extension("dotwise._dwrec")
    if lib is None:
        return None
    try:
        lib.dw_rec_ridge.argtypes = [_I, _P, _P, _P, _P, _P, _I, _I, _P, _P]
        lib.dw_rec_neighbors.argtypes = [_I, _P, _P, _P, _P, _P, _P, _P, _D, _I, _I, _I, _P,
                                         _P]
        lib.dw_rec_term.argtypes = [_P, _P, _P, _I, _I, _I, _P, _P, _P, _P, _P, _I, _D,
                                    _P]
    except AttributeError:                     # pragma: no cover - a stale build
        return None
    for fn in (lib.dw_rec_ridge, lib.dw_rec_neighbors, lib.dw_rec_term):
        fn.restype = ctypes.c_int
    return lib


LIB = _load()


def available() -> bool:
    """Whether the compiled loops are loaded (``False``: the NumPy paths run)."""
    return LIB is not None


def _ranges(work: np.ndarray, parts: int) -> list[tuple[int, int]]:
    """Cut ``[0, len(work))`` into at most ``parts`` ranges of about equal total ``work``."""
    n = len(work)
    if parts <= 1 or n < 2:
        return [(0, n)]
    total = np.cumsum(work, dtype=np.float64)
    cuts = np.searchsorted(total, total[-1] * np.arange(1, parts) / parts, side="right")
    edges = np.unique(np.concatenate([[0], np.clip(cuts, 0, n), [n]]))
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]


def _run(call, work: np.ndarray) -> None:
    """``call(lo, hi)`` over ranges of about equal work, on the pool when it has threads.

    The calling thread works too, and every thread takes the next unclaimed range
    (four per thread), so a thread held up by another process delays no one and
    a call made from a pool thread still finishes on its own.
    """
    threads = worker_threads()
    parts = _ranges(work, 4 * threads if threads > 1 and work.sum() > 20000 else 1)
    status: list[int] = []
    claim = itertools.count()              # next() on a count is atomic under the GIL

    def worker() -> None:
        while (j := next(claim)) < len(parts):
            status.append(call(*parts[j]))

    helpers = [worker_pool().submit(worker) for _ in range(min(threads, len(parts)) - 1)]
    try:
        worker()
    finally:
        for h in helpers:
            h.result()
    if any(s == 2 for s in status):
        raise np.linalg.LinAlgError("Matrix is not positive definite")
    if any(s != 0 for s in status):
        raise MemoryError("dotwise.recommend: the compiled loops could not allocate their "
                          "buffers")


def _c(a: np.ndarray, dtype) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=dtype)


def ridge(ptr: np.ndarray, other: np.ndarray, y: np.ndarray, Z: np.ndarray,
          diag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every entity's ridge solution and residual sum of squares (see ``_als.solve_side``).

    ``ptr`` (n_ent + 1,) int64 offsets into ``other`` / ``y`` (the ratings grouped by
    entity); ``Z`` (n_other, d) float64; ``diag`` (n_ent, d) float64.
    """
    ptr, other, y = _c(ptr, np.int64), _c(other, np.int64), _c(y, np.float64)
    Z, diag = _c(Z, np.float64), _c(diag, np.float64)
    n_ent, d = diag.shape
    X = np.empty((n_ent, d))
    rss = np.empty(n_ent)
    work = np.diff(ptr) * d * d + d ** 3 // 3

    def call(lo: int, hi: int) -> int:
        return LIB.dw_rec_ridge(d, ptr.ctypes.data, other.ctypes.data, y.ctypes.data,
                                Z.ctypes.data, diag.ctypes.data, lo, hi, X.ctypes.data,
                                rss.ctypes.data)

    _run(call, work)
    return X, rss


def neighbors(by_item, by_user, norms: np.ndarray, shrink: float,
              k: int) -> tuple[np.ndarray, np.ndarray]:
    """The top-``k`` lists, ``(indices int32, similarities float32)`` of shape (n_items, k).

    ``by_item`` / ``by_user``: ``(ptr, codes, residuals)`` of the residual matrix in
    compressed columns (users of each item) and compressed rows (items of each user,
    sorted), int64 / int64 / float64.
    """
    iptr, iusers, iresid = (_c(by_item[0], np.int64), _c(by_item[1], np.int64),
                            _c(by_item[2], np.float64))
    uptr, uitems, uresid = (_c(by_user[0], np.int64), _c(by_user[1], np.int64),
                            _c(by_user[2], np.float64))
    norms = _c(norms, np.float64)
    n_items = len(iptr) - 1
    idx = np.empty((n_items, k), np.int32)
    sim = np.empty((n_items, k), np.float32)
    # item i's work: the ratings of everyone who rated it
    per_user = np.diff(uptr)
    work = np.add.reduceat(np.append(per_user[iusers], 0), iptr[:-1]) * (np.diff(iptr) > 0)

    def call(lo: int, hi: int) -> int:
        return LIB.dw_rec_neighbors(n_items, iptr.ctypes.data, iusers.ctypes.data,
                                    iresid.ctypes.data, uptr.ctypes.data, uitems.ctypes.data,
                                    uresid.ctypes.data, norms.ctypes.data, float(shrink), k,
                                    lo, hi, idx.ctypes.data, sim.ctypes.data)

    if n_items:
        _run(call, work + 1)
    return idx, sim


def term(uc: np.ndarray, ic: np.ndarray, by_user, idx: np.ndarray, sim: np.ndarray,
         lam: float) -> np.ndarray:
    """The neighbourhood term of each (user code, item code) pair; 0 where a code is -1.

    The pairs are visited grouped by user (a stable sort of the user codes), each
    user's residuals scattered once into a dense row of ``n_items``.
    """
    uc, ic = _c(uc, np.int64), _c(ic, np.int64)
    uptr, uitems, uresid = by_user
    idx, sim = _c(idx, np.int32), _c(sim, np.float32)
    out = np.empty(len(uc))
    n_items, k = idx.shape
    order = np.argsort(uc, kind="stable")

    def call(lo: int, hi: int) -> int:
        return LIB.dw_rec_term(uc.ctypes.data, ic.ctypes.data, order.ctypes.data, lo, hi,
                               n_items, uptr.ctypes.data, uitems.ctypes.data,
                               uresid.ctypes.data, idx.ctypes.data, sim.ctypes.data, k,
                               float(lam), out.ctypes.data)

    if len(uc):
        _run(call, np.full(len(uc), k))
    return out
