"""Bindings to the fused attention kernel in ``_dwattn.c`` (private).

Built by ``pip install`` (or ``python setup.py build_ext --inplace``) as the optional
extension ``dotwise._dwattn``. When it is missing, or ``DOTWISE_PURE_NUMPY=1`` is set,
:data:`LIB` is ``None`` and :func:`dotwise.attention.scaled_dot_product_attention` runs
its NumPy blocked path (:mod:`dotwise.attention.blocked`), which is also the reference
the tests compare this kernel with.

:func:`attend` fills ``out`` for a batch of 2-D slices through the extension's own
Python function (:data:`EXT` ``.attend``), which takes the arrays themselves: the buffer
protocol gives C their pointers, shapes and strides, and C works out each slice's
offsets, so broadcast batch axes (stride 0) and strided views (the heads of a fused
``(B, L, 3E)`` projection, an output laid out as ``(B, L, H, D)``) cost no copy; only a
last axis that is not contiguous is copied. The work items (one slice × one tile of
:data:`TILES` ``["queries"]`` query rows) are shared through one atomic counter in C by
the kernel's OpenMP threads, or, in a build without OpenMP, by the calling thread and
``n_threads - 1`` jobs on :func:`dotwise._threads.worker_pool` (the GIL is released while
the kernel runs). :func:`attend_checked` also has the kernel scan what it reads and
writes for NaN and infinity. The small queries (ISA variant, tile sizes, OpenMP) go
through ctypes (:data:`LIB`).
"""

from __future__ import annotations

import ctypes
import importlib
from concurrent.futures import CancelledError

import numpy as np

from ._native import load_extension
from ._threads import worker_pool

_P, _C = ctypes.c_void_p, ctypes.c_int
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
    lib.dw_attn_openmp.argtypes, lib.dw_attn_openmp.restype = [], _C
    lib.dw_attn_isa.argtypes, lib.dw_attn_isa.restype = [], _C
    lib.dw_attn_force_isa.argtypes, lib.dw_attn_force_isa.restype = [_C], _C
    lib.dw_attn_tiles.argtypes, lib.dw_attn_tiles.restype = [_P], None
    return lib


LIB = _load()

#: The same extension as a Python module: its ``attend`` takes the arrays themselves (the
#: buffer protocol gives pointers, shapes and strides in C; the GIL is released meanwhile).
EXT = None if LIB is None else importlib.import_module("dotwise._dwattn")
if EXT is not None and not hasattr(EXT, "attend"):  # pragma: no cover - a stale build
    LIB = EXT = None                                 # (rebuild it); the NumPy path runs

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
    return np.array(a, order="C")    # a fresh, aligned copy (even of a contiguous array)


#: Flags :func:`attend_checked` returns: a NaN or infinity in ``q``, ``k`` or ``v``; in the
#: output (finite input gives that only when the scores overflow).
BAD_INPUT, BAD_OUTPUT = 1, 2


def _jobs(n_threads: int, nslices: int, L: int, S: int) -> int:
    """Threads worth using: at most one per work item, one for a small problem."""
    if nslices * L * S < MIN_SCORES_FOR_THREADS:
        return 1
    return max(1, min(n_threads, nslices * -(-L // TILES["queries"])))


def attend_checked(q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray | None,
                   causal: bool, scale: float, out: np.ndarray, n_threads: int,
                   check: bool) -> int:
    """Fill ``out`` like :func:`attend`; with ``check``, also scan for NaN and infinity.

    The scan runs inside the kernel on data already in cache (each work item its query
    rows, its share of the key and value rows, its output rows). Returns the flags seen,
    :data:`BAD_INPUT` | :data:`BAD_OUTPUT` (0 without ``check``).
    """
    L, S = q.shape[-2], k.shape[-2]
    nslices = 1
    for n in out.shape[:-2]:
        nslices *= n
    n_jobs = _jobs(n_threads, nslices, L, S)
    ctl = np.zeros(3, np.int64)   # the work counter, the flags, whether to check
    ctl[2] = check
    if n_jobs > 1 and not OPENMP:
        _pool_attend((q, k, v, mask, out, causal, scale), ctl, n_jobs)
        return int(ctl[1])
    if EXT.attend(q, k, v, mask, out, causal, scale, n_jobs, ctl) == -2:
        # a strided last axis, or misaligned: compact copies, then the kernel again
        q, k, v = (_rows_contiguous(a) for a in (q, k, v))
        if mask is not None:
            mask = _rows_contiguous(mask)
        if EXT.attend(q, k, v, mask, out, causal, scale, n_jobs, ctl) == -2:
            raise AssertionError("attend: compact copies still refused")  # pragma: no cover
    return int(ctl[1])


def _pool_attend(args: tuple, ctl: np.ndarray, n_jobs: int) -> None:
    """The build without OpenMP: the caller and ``n_jobs - 1`` pool jobs share the items."""
    q, k, v, mask, out, causal, scale = args
    q, k, v = (_rows_contiguous(a) for a in (q, k, v))
    if mask is not None:
        mask = _rows_contiguous(mask)
    call = (EXT.attend, q, k, v, mask, out, causal, scale, 1, ctl)
    futures = [worker_pool().submit(*call) for _ in range(n_jobs - 1)]
    try:
        EXT.attend(*call[1:])        # the caller works too, and drains what is left
    finally:
        for f in futures:            # jobs that never started have nothing left to do
            if not f.cancel():
                try:
                    f.result()
                except CancelledError:  # pragma: no cover - cancelled between the calls
                    pass


def attend(q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray | None,
           causal: bool, scale: float, out: np.ndarray, n_threads: int) -> np.ndarray:
    """Fill ``out`` (``batch + (L, Ev)``) with attention, in the compiled kernel.

    Trusted input: ``q``, ``k``, ``v`` of one dtype (float32/float64), already
    broadcast (as views) to ``batch + (L, E)``, ``batch + (S, E)``, ``batch + (S, Ev)``;
    ``mask`` ``None``, boolean or of that dtype, broadcast to ``batch + (L, S)``; ``out``
    a writable array of that dtype whose last axis is contiguous (any other strides).
    """
    attend_checked(q, k, v, mask, causal, scale, out, n_threads, False)
    return out
