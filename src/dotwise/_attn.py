"""ctypes bindings to the fused attention kernel in ``_dwattn.c`` (private).

Built by ``pip install`` (or ``python setup.py build_ext --inplace``) as the optional
extension ``dotwise._dwattn``. When it is missing, or ``DOTWISE_PURE_NUMPY=1`` is set,
:data:`LIB` is ``None`` and :func:`dotwise.attention.scaled_dot_product_attention` runs
its NumPy blocked path (:mod:`dotwise.attention.blocked`), which is also the reference
the tests compare this kernel with.

:func:`attend` fills ``out`` for a batch of 2-D slices. The slices are described by
element offsets from base pointers, so broadcast batch axes (stride 0) and strided views
(the heads of a fused ``(B, L, 3E)`` projection, an output laid out as ``(B, L, H, D)``)
cost no copy; only a last axis that is not contiguous is copied. The work items (one
slice × one tile of :data:`TILES` ``["queries"]`` query rows) are shared by the calling
thread and ``n_threads - 1`` jobs on :func:`dotwise._threads.worker_pool`, through one
atomic counter in C: ctypes releases the GIL for each call, and a call returns when no
item is left.
"""

from __future__ import annotations

import ctypes
from concurrent.futures import CancelledError

import numpy as np

from ._native import load_extension
from ._threads import worker_pool

_P, _I, _D, _C = ctypes.c_void_p, ctypes.c_int64, ctypes.c_double, ctypes.c_int
_SUFFIX = {np.dtype(np.float32): "f", np.dtype(np.float64): "d"}

#: The kernel's variants, by the code ``dw_attn_isa`` gives.
ISA_NAMES = ("baseline", "AVX2+FMA", "AVX-512")

#: Below this many scores in all (slices · L · S) one thread does the work: handing
#: items to the pool would cost more than it saves.
MIN_SCORES_FOR_THREADS = 1 << 16


def _load():
    lib = load_extension("dotwise._dwattn")
    if lib is None:
        return None
    for s in _SUFFIX.values():
        fn = getattr(lib, f"dw_attn_{s}")
        fn.argtypes = [_P, _P, _P, _P, _P, _P, _I, _I, _I, _I, _I, _P, _C, _C, _D, _P]
        fn.restype = _C
        fn = getattr(lib, f"dw_attn_par_{s}")
        fn.argtypes = [_P, _P, _P, _P, _P, _P, _I, _I, _I, _I, _I, _P, _C, _C, _D, _P, _C]
        fn.restype = _C
    lib.dw_attn_openmp.argtypes, lib.dw_attn_openmp.restype = [], _C
    lib.dw_attn_isa.argtypes, lib.dw_attn_isa.restype = [], _C
    lib.dw_attn_force_isa.argtypes, lib.dw_attn_force_isa.restype = [_C], _C
    lib.dw_attn_tiles.argtypes, lib.dw_attn_tiles.restype = [_P], None
    return lib


LIB = _load()

#: Whether the kernel was built with OpenMP: then its own threads share the work (they
#: spin a moment between calls, so small back-to-back calls do not wait for a wake-up);
#: otherwise the calling thread and jobs on dotwise's worker pool do.
OPENMP = bool(LIB is not None and LIB.dw_attn_openmp())


def _tiles() -> dict[str, int]:
    if LIB is None:
        return {}
    buf = np.zeros(3, np.int64)
    LIB.dw_attn_tiles(buf.ctypes.data)
    return {"queries": int(buf[0]), "keys": int(buf[1]), "micro_rows": int(buf[2])}


#: Tile sizes of the compiled kernel: query rows per work item, keys per score block,
#: rows of a register micro-tile (empty when the kernel is not loaded).
TILES = _tiles()


def supports(dtype) -> bool:
    """Whether the kernel is loaded and computes in ``dtype`` (float32, float64)."""
    return LIB is not None and np.dtype(dtype) in _SUFFIX


def isa() -> str | None:
    """Which variant of the kernel runs on this CPU (``None``: not loaded)."""
    return None if LIB is None else ISA_NAMES[LIB.dw_attn_isa()]


def force_isa(name: str | None) -> str | None:
    """Run a narrower variant (``"baseline"``, ``"AVX2+FMA"``) for later calls; ``None`` resets.

    For tests and benchmarks that compare the variants. Returns the variant now in use;
    one the CPU lacks raises ``ValueError``.
    """
    if LIB is None:
        raise RuntimeError("the attention kernel is not loaded (no build, or DOTWISE_PURE_NUMPY)")
    code = -1 if name is None else ISA_NAMES.index(name)
    if LIB.dw_attn_force_isa(code) != 0:
        raise ValueError(f"this CPU cannot run the {name} variant (it has {isa()} at most)")
    return isa()


def _rows_contiguous(a: np.ndarray) -> np.ndarray:
    """``a`` itself when its last axis is contiguous and aligned, else a compact copy."""
    if a.strides[-1] == a.itemsize and a.flags.aligned and all(
            s % a.itemsize == 0 for s in a.strides):
        return a
    return np.ascontiguousarray(a)


def _address(a: np.ndarray) -> int:
    """Address of ``a``'s first element (cheaper than ``a.ctypes.data``)."""
    return a.__array_interface__["data"][0]


def attend(q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray | None,
           causal: bool, scale: float, out: np.ndarray, n_threads: int) -> np.ndarray:
    """Fill ``out`` (``batch + (L, Ev)``) with attention, in the compiled kernel.

    Trusted input: ``q``, ``k``, ``v`` of one dtype (float32/float64), already
    broadcast (as views) to ``batch + (L, E)``, ``batch + (S, E)``, ``batch + (S, Ev)``;
    ``mask`` ``None``, boolean or of that dtype, broadcast to ``batch + (L, S)``; ``out``
    a writable array of that dtype whose last axis is contiguous (any other strides).
    """
    dt = q.dtype
    fn = getattr(LIB, "dw_attn_" + _SUFFIX[dt])
    batch = out.shape[:-2]
    L, S, E, Ev = q.shape[-2], k.shape[-2], q.shape[-1], v.shape[-1]
    q, k, v = (_rows_contiguous(a) for a in (q, k, v))
    if out.strides[-1] != out.itemsize or not out.flags.aligned:
        raise ValueError("attend: out must have a contiguous, aligned last axis")
    mkind, msi, msj = 0, 0, 0
    if mask is not None:
        if mask.dtype == bool:
            mask = mask.view(np.uint8)
            mkind = 1
        else:
            mkind = 2
            if not mask.flags.aligned:
                mask = np.ascontiguousarray(mask)
        msi, msj = (s // mask.itemsize for s in mask.strides[-2:])
    nslices = 1
    for n in batch:
        nslices *= n
    # one int64 buffer: the row strides {ldq, ldk, ldv, ldo, msi, msj}, the work counter,
    # then per slice the element offsets of q, k, v, out and mask from their first element
    buf = np.zeros(7 + 5 * max(nslices, 1), np.int64)
    buf[:6] = (q.strides[-2] // q.itemsize, k.strides[-2] // k.itemsize,
               v.strides[-2] // v.itemsize, out.strides[-2] // out.itemsize, msi, msj)
    if batch and nslices > 1:
        strides = np.array([[0] * len(batch) if a is None else
                            [st // a.itemsize for st in a.strides[:-2]]
                            for a in (q, k, v, out, mask)], np.int64)
        grid = np.indices(batch, dtype=np.int64).reshape(len(batch), -1)
        buf[7:] = (strides @ grid).T.reshape(-1)
    base = _address(buf)
    args = (_address(q), _address(k), _address(v), _address(out),
            None if mask is None else _address(mask), base + 56, nslices, L, S, E, Ev,
            base, mkind, int(bool(causal)), float(scale), base + 48)
    items = nslices * -(-L // TILES["queries"])
    n_jobs = min(n_threads, items)
    if nslices * L * S < MIN_SCORES_FOR_THREADS:
        n_jobs = 1
    status = []
    if n_jobs > 1 and OPENMP:
        par = getattr(LIB, "dw_attn_par_" + _SUFFIX[dt])
        status.append(par(*args, n_jobs))
    elif n_jobs > 1:
        futures = [worker_pool().submit(fn, *args) for _ in range(n_jobs - 1)]
        status.append(fn(*args))     # the caller works too, and drains what is left
        for f in futures:            # jobs that never started have nothing left to do
            if not f.cancel():
                try:
                    status.append(f.result())
                except CancelledError:  # pragma: no cover - cancelled between the calls
                    pass
    else:
        status.append(fn(*args))
    if any(s != 0 for s in status):
        raise MemoryError("dotwise.attention: the compiled kernel could not allocate its "
                          "work buffer")
    return out
