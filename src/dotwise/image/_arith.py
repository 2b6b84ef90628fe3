"""The block codec's entropy coder: adaptive binary range coding of quantised coefficients.

Two implementations of one bitstream: the compiled ``dotwise._dwcodec`` (optional, C,
loaded with ctypes) and the pure-Python reference below, used when the extension is
missing or ``DOTWISE_PURE_NUMPY=1``; the tests check that they write and read the same
bytes.

The bitstream
-------------
A binary range coder in the style of LZMA's: a 32-bit range, a 33-bit ``low`` whose carry
ripples through one cached byte, five flush bytes at the end (the first byte of a stream
is always 0). Each binary decision has a context holding ``p`` = P(bit = 0) in units of
2⁻¹⁶ and an update count ``n``; the interval splits at ``(range >> 16) · p`` and, after
coding, ``p += (65536 − p) >> s`` (bit 0) or ``p −= p >> s`` (bit 1) with
``s = min(7, bit_length(n + 1))`` — a learning rate near ``1/n`` at first, then a steady
``1/128``.

Planes follow one another (luma, then chroma), blocks in raster order, coefficients in
scan order ``k = 0..63`` (zig-zag for the DCT, eigen order for the KLT). Luma uses one set
of contexts, the two chroma planes share a second. For each block, with ``A`` and ``L``
the blocks above and to the left (when they exist):

* **DC**: the residual ``r = q₀ − MED(A₀, L₀, AL₀)`` (the LOCO-I median predictor; one
  neighbour: that one; none: 0) as a zero flag, a sign and ``|r| − 1`` in adaptive
  Exp-Golomb; context: ``|r_A| + |r_L|`` (doubled when one neighbour is missing), in 5
  buckets.
* **N**, the number of nonzero AC coefficients (0–63): six binary decisions down a tree;
  context: the neighbours' ``N`` (their rounded mean), in 9 buckets + "no neighbour".
* **AC**: for ``k = 1, 2, …`` while nonzero coefficients remain: a significance flag
  (context: ``k``, how many remain in 5 buckets, ``|A_k| + |L_k|`` in 4 buckets; not
  coded once every remaining position must be nonzero); for a nonzero one ``|v| − 1`` in
  adaptive Exp-Golomb (context: band class of ``k`` (10), ``|A_k| + |L_k|`` in 6 buckets)
  and the sign (context: ``k ≤ 2`` or not, the sign of ``sgn A_k + sgn L_k``).

Exp-Golomb of ``m ≥ 0``: with ``x = m + 1`` and ``e = bit_length(x) − 1`` (< 20), ``e`` ones
and a zero, each with its own context, then the ``e`` low bits of ``x``, most significant
first, with contexts by ``(e, bit position)``.

A decoder reads exactly the bytes the encoder wrote: a stream that ends early, has bytes
left over, or decodes an impossible value raises :class:`~dotwise.DataFormatError`. Its
work is bounded by the block count, whatever the bytes.
"""

from __future__ import annotations

import ctypes

import numpy as np

from .._native import load_extension
from .._validation import DataFormatError

__all__ = ["compiled", "decode", "encode"]

_RATE_MAX = 7
_MAXE = 20
_DC_MAX = 1 << 18
# context layout of one set (as in _dwcodec.c)
_DCZERO = 0
_DCSIGN = _DCZERO + 5
_DCPRE = _DCSIGN + 5
_DCSUF = _DCPRE + 5 * _MAXE
_NTREE = _DCSUF + _MAXE * _MAXE
_SIG = _NTREE + 10 * 64
_MAGPRE = _SIG + 64 * 5 * 4
_MAGSUF = _MAGPRE + 10 * 6 * _MAXE
_ACSIGN = _MAGSUF + _MAXE * _MAXE
_SET = _ACSIGN + 6

_KCLASS = ([0] * 3 + [1] * 3 + [2] * 4 + [3] * 5 + [4] * 6 + [5] * 7 + [6] * 8 + [7] * 9
           + [8] * 9 + [9] * 10)
_SHIFT = [min(_RATE_MAX, (n + 1).bit_length()) for n in range(256)]


def _dc_bucket(e: int) -> int:
    return 0 if e == 0 else 1 if e <= 2 else 2 if e <= 6 else 3 if e <= 16 else 4


def _n_bucket(x: int) -> int:
    if x <= 2:
        return x
    return 3 if x <= 4 else 4 if x <= 6 else 5 if x <= 9 else 6 if x <= 14 else 7 if x <= 22 \
        else 8


_REM = [0, 0, 1, 2, 2, 3, 3, 3, 3] + [4] * 56          # by remaining count (1..63)
_SIGB = [0, 1, 1, 2, 2, 2]                              # |A_k| + |L_k| → 4 buckets (3 above)
_MAGB = [0, 1, 1, 2, 2] + [3] * 4 + [4] * 8             # → 6 buckets (5 above 16)


def _sig_bucket(v: int) -> int:
    return _SIGB[v] if v < 6 else 3


def _mag_bucket(v: int) -> int:
    return _MAGB[v] if v < 17 else 5


def _med(a: int, b: int, c: int) -> int:
    mx, mn = (a, b) if a > b else (b, a)
    if c >= mx:
        return mn
    if c <= mn:
        return mx
    return a + b - c


class _Model:
    """Contexts: two parallel lists (p, n) for the two sets."""

    def __init__(self) -> None:
        self.p = [32768] * (2 * _SET)
        self.n = [0] * (2 * _SET)


class _Encoder(_Model):
    def __init__(self) -> None:
        super().__init__()
        self.low, self.range, self.cache, self.cache_size = 0, 0xFFFFFFFF, 0, 1
        self.out = bytearray()

    def _shift_low(self) -> None:
        low = self.low
        if low < 0xFF000000 or low >= 1 << 32:
            carry = low >> 32
            temp = self.cache
            out = self.out
            while True:
                out.append((temp + carry) & 0xFF)
                temp = 0xFF
                self.cache_size -= 1
                if self.cache_size == 0:
                    break
            self.cache = (low >> 24) & 0xFF
        self.cache_size += 1
        self.low = (low & 0x00FFFFFF) << 8

    def bit(self, c: int, bit: int) -> None:
        p = self.p[c]
        bound = (self.range >> 16) * p
        n = self.n[c]
        s = _SHIFT[n]
        if bit:
            self.low += bound
            self.range -= bound
            self.p[c] = p - (p >> s)
        else:
            self.range = bound
            self.p[c] = p + ((65536 - p) >> s)
        if n < 255:
            self.n[c] = n + 1
        while self.range < 1 << 24:
            self.range = (self.range << 8) & 0xFFFFFFFF
            self._shift_low()

    def expg(self, pre: int, suf: int, m: int) -> None:
        x = m + 1
        e = x.bit_length() - 1
        if e >= _MAXE:
            raise ValueError(f"a quantised coefficient is too large to code: {m + 1}")
        for i in range(e):
            self.bit(pre + i, 1)
        self.bit(pre + e, 0)
        for j in range(e - 1, -1, -1):
            self.bit(suf + e * _MAXE + j, (x >> j) & 1)

    def finish(self) -> bytes:
        for _ in range(5):
            self._shift_low()
        return bytes(self.out)


class _Decoder(_Model):
    def __init__(self, data: bytes) -> None:
        super().__init__()
        if len(data) < 5:
            raise DataFormatError("corrupt block payload: the coefficient stream is cut short")
        if data[0] != 0:
            raise DataFormatError("corrupt block payload: the coefficient stream does not "
                                  "start with a 0 byte")
        self.data, self.len = data, len(data)
        self.range = 0xFFFFFFFF
        self.code = int.from_bytes(data[1:5], "big")
        self.pos = 5

    def bit(self, c: int) -> int:
        p = self.p[c]
        bound = (self.range >> 16) * p
        n = self.n[c]
        s = _SHIFT[n]
        if self.code < bound:
            self.range = bound
            self.p[c] = p + ((65536 - p) >> s)
            bit = 0
        else:
            self.code -= bound
            self.range -= bound
            self.p[c] = p - (p >> s)
            bit = 1
        if n < 255:
            self.n[c] = n + 1
        while self.range < 1 << 24:
            self.range = (self.range << 8) & 0xFFFFFFFF
            byte = self.data[self.pos] if self.pos < self.len else 0
            self.pos += 1
            self.code = ((self.code << 8) | byte) & 0xFFFFFFFF
        return bit

    def expg(self, pre: int, suf: int) -> int:
        e = 0
        while self.bit(pre + e):
            e += 1
            if e >= _MAXE:
                raise DataFormatError("corrupt block payload: an impossible coefficient "
                                      "(an Exp-Golomb prefix of 20 ones)")
        x = 1
        for j in range(e - 1, -1, -1):
            x = (x << 1) | self.bit(suf + e * _MAXE + j)
        return x - 1


def _walk(coder, coef: list[list[int]], planes: list[tuple[int, int]], decoding: bool) -> None:
    """Code (or decode into ``coef``) every block; ``planes`` = (n_blocks, blocks per row)."""
    base = 0
    for p, (nb, bx) in enumerate(planes):
        cs = 0 if p == 0 else _SET
        nz = [0] * nb
        res = [0] * nb
        for b in range(nb):
            q = coef[base + b]
            has_l, has_a = b % bx != 0, b >= bx
            L = coef[base + b - 1] if has_l else None
            A = coef[base + b - bx] if has_a else None
            if has_a and has_l:
                pred = _med(A[0], L[0], coef[base + b - bx - 1][0])
            else:
                pred = L[0] if has_l else A[0] if has_a else 0
            e = (abs(res[b - 1]) if has_l else 0) + (abs(res[b - bx]) if has_a else 0)
            if has_l != has_a:
                e *= 2
            dctx = _dc_bucket(e)
            if decoding:
                r = 0
                if coder.bit(cs + _DCZERO + dctx):
                    neg = coder.bit(cs + _DCSIGN + dctx)
                    m = coder.expg(cs + _DCPRE + dctx * _MAXE, cs + _DCSUF) + 1
                    r = -m if neg else m
                q[0] = pred + r
                if abs(q[0]) > _DC_MAX:
                    raise DataFormatError("corrupt block payload: an impossible DC value")
            else:
                if abs(q[0]) > _DC_MAX:
                    raise ValueError(f"a quantised DC coefficient is too large to code: {q[0]}")
                r = q[0] - pred
                coder.bit(cs + _DCZERO + dctx, r != 0)
                if r:
                    coder.bit(cs + _DCSIGN + dctx, r < 0)
                    coder.expg(cs + _DCPRE + dctx * _MAXE, cs + _DCSUF, abs(r) - 1)
            res[b] = r
            if has_a and has_l:
                nctx = _n_bucket((nz[b - bx] + nz[b - 1] + 1) >> 1)
            elif has_a or has_l:
                nctx = _n_bucket(nz[b - bx] if has_a else nz[b - 1])
            else:
                nctx = 9
            tree = cs + _NTREE + nctx * 64
            if decoding:
                node = 1
                for _ in range(6):
                    node = node * 2 + coder.bit(tree + node)
                cnt = node - 64
            else:
                cnt = sum(1 for v in q[1:] if v)
                node = 1
                for i in range(5, -1, -1):
                    bit = (cnt >> i) & 1
                    coder.bit(tree + node, bit)
                    node = node * 2 + bit
            nz[b] = cnt
            rem = cnt
            k = 0
            while rem > 0:
                k += 1
                if has_a and has_l:
                    m = abs(A[k]) + abs(L[k])
                    sg = (A[k] > 0) - (A[k] < 0) + (L[k] > 0) - (L[k] < 0)
                elif has_a or has_l:
                    x = A[k] if has_a else L[k]
                    m = 2 * abs(x)
                    sg = (x > 0) - (x < 0)
                else:
                    m = sg = 0
                sig_ctx = cs + _SIG + (k * 5 + _REM[rem]) * 4 + _sig_bucket(m)
                if decoding:
                    if rem < 64 - k and not coder.bit(sig_ctx):
                        continue
                    mag = coder.expg(cs + _MAGPRE + (_KCLASS[k] * 6 + _mag_bucket(m)) * _MAXE,
                                     cs + _MAGSUF) + 1
                    neg = coder.bit(cs + _ACSIGN + (0 if k <= 2 else 3)
                                    + (0 if sg < 0 else 1 if sg == 0 else 2))
                    q[k] = -mag if neg else mag
                else:
                    v = q[k]
                    if rem < 64 - k:
                        coder.bit(sig_ctx, v != 0)
                    if not v:
                        continue
                    coder.expg(cs + _MAGPRE + (_KCLASS[k] * 6 + _mag_bucket(m)) * _MAXE,
                               cs + _MAGSUF, abs(v) - 1)
                    coder.bit(cs + _ACSIGN + (0 if k <= 2 else 3)
                              + (0 if sg < 0 else 1 if sg == 0 else 2), v < 0)
                rem -= 1
            if decoding and coder.pos > coder.len + 8:
                return                       # garbage: the caller reports it as truncated
        base += nb


def _load():
    lib = load_extension("dotwise._dwcodec")
    if lib is None:
        return None
    _P, _I = ctypes.c_void_p, ctypes.c_int64
    lib.dwc_encode.argtypes = [_P, ctypes.c_int, _P, _P, _P, _I]
    lib.dwc_encode.restype = _I
    lib.dwc_decode.argtypes = [_P, _I, _P, ctypes.c_int, _P, _P]
    lib.dwc_decode.restype = ctypes.c_int
    return lib


LIB = _load()


def compiled() -> bool:
    """Whether the compiled coder is loaded (else the pure-Python one runs)."""
    return LIB is not None


def _geometry(planes) -> tuple[np.ndarray, np.ndarray]:
    nblocks = np.array([int(n) for n, _ in planes], dtype=np.int64)
    bx = np.array([max(1, int(w)) for _, w in planes], dtype=np.int64)
    return nblocks, bx


def encode(coef: np.ndarray, planes, *, use_compiled: bool | None = None) -> bytes:
    """Range-code ``coef`` (int, ``(Σ n_blocks, 64)``, the planes one after another).

    ``planes``: ``(n_blocks, blocks_per_row)`` per plane. ``use_compiled=False`` runs the
    Python coder even when the extension is loaded (the tests compare the two).
    """
    coef = np.ascontiguousarray(coef, dtype=np.int32)
    nblocks, bx = _geometry(planes)
    if coef.shape != (int(nblocks.sum()), 64):
        raise ValueError(f"coef must have shape ({int(nblocks.sum())}, 64), got {coef.shape}")
    if LIB is not None and use_compiled is not False:
        cap = 64 + 16 * coef.size
        while True:
            out = np.empty(cap, dtype=np.uint8)
            n = LIB.dwc_encode(coef.ctypes.data, len(nblocks), nblocks.ctypes.data,
                               bx.ctypes.data, out.ctypes.data, cap)
            if n == -2:
                raise ValueError("a quantised coefficient is too large to code")
            if n < 0:
                raise MemoryError("the block codec could not allocate its coder state")
            if n <= cap:
                return out[:n].tobytes()
            cap = int(n)
    enc = _Encoder()
    _walk(enc, coef.tolist(), list(zip(nblocks.tolist(), bx.tolist(), strict=True)), False)
    return enc.finish()


_ERRORS = {1: "the coefficient stream ends early (truncated or damaged)",
           2: "the coefficient stream decodes to an impossible value",
           3: "the coefficient stream has bytes left over or a bad first byte"}


def decode(data: bytes, planes, *, use_compiled: bool | None = None) -> np.ndarray:
    """Inverse of :func:`encode`: the int32 coefficients ``(Σ n_blocks, 64)``."""
    nblocks, bx = _geometry(planes)
    total = int(nblocks.sum())
    data = bytes(data)
    if LIB is not None and use_compiled is not False:
        coef = np.zeros((total, 64), dtype=np.int32)
        buf = np.frombuffer(data, dtype=np.uint8) if data else np.zeros(1, np.uint8)
        rc = LIB.dwc_decode(buf.ctypes.data, len(data), coef.ctypes.data, len(nblocks),
                            nblocks.ctypes.data, bx.ctypes.data)
        if rc == -3:
            raise MemoryError("the block codec could not allocate its decoder state")
        if rc:
            raise DataFormatError(f"corrupt block payload: {_ERRORS[rc]}")
        return coef
    dec = _Decoder(data)
    rows = [[0] * 64 for _ in range(total)]
    _walk(dec, rows, list(zip(nblocks.tolist(), bx.tolist(), strict=True)), True)
    if dec.pos > dec.len:
        raise DataFormatError(f"corrupt block payload: {_ERRORS[1]}")
    if dec.pos != dec.len:
        raise DataFormatError(f"corrupt block payload: {_ERRORS[3]}")
    return np.array(rows, dtype=np.int32).reshape(total, 64)
