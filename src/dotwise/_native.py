"""ctypes bindings to the compiled loops in ``_dwconv.c`` (private).

The C file is built by ``pip install`` as the optional extension ``dotwise._dwconv``;
when it is missing (no compiler at install time) or ``DOTWISE_PURE_NUMPY=1`` is set,
:data:`LIB` is ``None`` and callers use NumPy instead: the image engine its NumPy/BLAS
plans, :func:`all_finite` ``np.isfinite``. ctypes releases the GIL for each call; the
``*_mt`` loops split an image over C threads of their own (``_dwpool.h``), the one-stripe
loops serve the Python pool where a build has no POSIX threads (:func:`threaded`).

Callers pass trusted, C-contiguous float32/float64 arrays (the engine checks them) by address.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os

import numpy as np

_P, _I, _D = ctypes.c_void_p, ctypes.c_int64, ctypes.c_double
_DIRECT_ARGS = [_P, _P, _I, _I, _I, _P, _I, _I, _P, _P, _D, _I, _I, ctypes.c_int]
_SEP_ARGS = [_P, _P, _I, _I, _I, _P, _I, _P, _I, _P, _P, _D, _I, _I, ctypes.c_int, ctypes.c_int]
# the whole image on the C thread pool (_dwpool.h): ..., check, nthreads, stripes
_DIRECT_MT_ARGS = [_P, _P, _I, _I, _I, _P, _I, _I, _P, _P, _D, ctypes.c_int, ctypes.c_int, _I]
_SEP_MT_ARGS = [_P, _P, _I, _I, _I, _P, _I, _I, _I, _P, _P, _D, ctypes.c_int, ctypes.c_int, _I]
_SUFFIX = {np.dtype(np.float32): "f", np.dtype(np.float64): "d"}


def load_extension(module: str) -> ctypes.CDLL | None:
    """The compiled extension ``module`` (e.g. ``"dotwise._dwconv"``) opened with ctypes.

    ``None`` when it was not built (no compiler at install time), cannot be opened, or
    ``DOTWISE_PURE_NUMPY=1`` asks for the NumPy paths. Every compiled loop of dotwise
    is loaded through here, so the switch means the same everywhere.
    """
    if os.environ.get("DOTWISE_PURE_NUMPY", "").strip() not in ("", "0"):
        return None
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):          # pragma: no cover - broken installs
        return None
    if spec is None or not spec.origin or not os.path.isfile(spec.origin):
        return None
    try:
        return ctypes.CDLL(spec.origin)
    except OSError:                            # pragma: no cover - foreign binary
        return None


def _load() -> ctypes.CDLL | None:
    lib = load_extension("dotwise._dwconv")
    if lib is None:
        return None
    for s in _SUFFIX.values():
        for name, args in ((f"dw_direct_{s}", _DIRECT_ARGS), (f"dw_sep_{s}", _SEP_ARGS),
                           (f"dw_direct_mt_{s}", _DIRECT_MT_ARGS),
                           (f"dw_sep_mt_{s}", _SEP_MT_ARGS)):
            fn = getattr(lib, name)
            fn.argtypes, fn.restype = args, ctypes.c_int
        fn = getattr(lib, f"dw_all_finite_{s}")
        fn.argtypes, fn.restype = [_P, _I], ctypes.c_int
    if not hasattr(lib, "dw_isa") or not hasattr(lib, "dw_threaded"):  # pragma: no cover
        return None                                                    # - a stale build
    lib.dw_threaded.argtypes, lib.dw_threaded.restype = [], ctypes.c_int
    lib.dw_isa.argtypes, lib.dw_isa.restype = [], ctypes.c_int
    lib.dw_force_isa.argtypes, lib.dw_force_isa.restype = [ctypes.c_int], ctypes.c_int
    return lib


LIB = _load()

#: The vector instruction sets the compiled tap loop is built for, by the code ``dw_isa`` gives.
ISA_NAMES = ("baseline", "AVX2+FMA", "AVX-512")


def isa() -> str | None:
    """Which variant of the compiled loops runs on this CPU (``None``: not loaded).

    The C code holds one tap loop compiled three times, each at its target's native
    vector width, and picks the widest one the CPU supports at the first call.
    """
    return None if LIB is None else ISA_NAMES[LIB.dw_isa()]


def force_isa(name: str | None) -> str | None:
    """Run a narrower variant (``"baseline"``, ``"AVX2+FMA"``) for later calls; ``None`` resets.

    For tests and benchmarks that compare the variants. Returns the variant now in use.
    Asking for one the CPU lacks raises ``ValueError``.
    """
    if LIB is None:
        raise RuntimeError("the compiled loops are not loaded (no build, or DOTWISE_PURE_NUMPY)")
    code = -1 if name is None else ISA_NAMES.index(name)
    if LIB.dw_force_isa(code) != 0:
        raise ValueError(f"this CPU cannot run the {name} variant (it has {isa()} at most)")
    return isa()


def supports(dtype: np.dtype) -> bool:
    """Whether the compiled loops are loaded and handle ``dtype``."""
    return LIB is not None and np.dtype(dtype) in _SUFFIX


def all_finite(arr: np.ndarray) -> bool:
    """``np.isfinite(arr).all()`` in one pass with no temporary (compiled when possible)."""
    if arr.dtype.kind != "f":
        return True
    if supports(arr.dtype) and arr.flags.c_contiguous:
        fn = getattr(LIB, "dw_all_finite_" + _SUFFIX[arr.dtype])
        return bool(fn(arr.ctypes.data, arr.size))
    return bool(np.isfinite(arr).all())


def address(arr: np.ndarray) -> int:
    """The address of ``arr``'s first element (for the loops' pointer arguments)."""
    return arr.__array_interface__["data"][0]


_from_buffer, _addressof = ctypes.c_char.from_buffer, ctypes.addressof


def fast_address(arr: np.ndarray) -> int:
    """:func:`address` of a C-contiguous array, in about a third of the time when it is
    writable (a buffer view instead of the array interface's dictionary); for the
    per-call arguments of the loops, where a small image's filter takes ~0.1 ms."""
    if arr.flags.writeable and arr.size:
        try:
            return _addressof(_from_buffer(arr))
        except (TypeError, ValueError):        # pragma: no cover - an exotic buffer
            pass
    return arr.__array_interface__["data"][0]


#: the ``check`` codes of the loops returned by :func:`loop`
NO_CHECK, CHECK_INPUT, CHECK_OUTPUT = 0, 1, 2


_THREADED = LIB is not None and bool(LIB.dw_threaded())


def threaded() -> bool:
    """Whether the loops' ``*_mt`` entries split an image over C threads of their own
    (POSIX builds); elsewhere they run serially and the engine uses its Python pool."""
    return _THREADED


def loop(kind: str, dtype: np.dtype):
    """The raw ctypes function ``dw_<kind>_<f|d>`` (``kind``: ``"direct"``, ``"sep"``, or
    ``"direct_mt"`` / ``"sep_mt"``: all rows on the C thread pool, see ``_dwpool.h``).

    Its pointer arguments are plain addresses (:func:`address`); the engine calls it
    directly so that a small image pays no per-call wrapping. It returns 0 (done), -1
    (out of memory), or with ``check``: :data:`CHECK_INPUT` scans image rows ``[y0, y1)``
    for NaN and infinity while they are in cache and returns 1 at the first (stopping
    early); :data:`CHECK_OUTPUT` scans the output values as they are written and returns
    2 when one is not finite (an input check when the kernel's centre tap is not zero;
    the caller then scans the input to tell bad input from overflow).
    """
    fn = _LOOPS.get((kind, dtype))
    if fn is None:
        fn = _LOOPS[kind, dtype] = getattr(LIB, f"dw_{kind}_{_SUFFIX[np.dtype(dtype)]}")
    return fn


_LOOPS: dict[tuple, object] = {}
