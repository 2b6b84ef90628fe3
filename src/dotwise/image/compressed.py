"""The container both codecs return: :class:`CompressedImage`, and its ``.dwz`` files.

A codec (:mod:`.svd_codec`, :mod:`.block_codec`) registers, under its method name,
a decoder ``payload, (H, W, C) → float (H, W, C)`` and a payload parser
``payload, (H, W, C), source → params``; the container knows nothing else about it.
"""

from __future__ import annotations

import lzma
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from .._threads import one_blas_thread
from .._validation import DataFormatError
from . import dwz

__all__ = ["CompressedImage", "load_compressed", "register_codec", "save_compressed"]


class _Codec(NamedTuple):
    decode: Callable[[bytes, tuple[int, int, int]], np.ndarray]
    params: Callable[..., dict[str, Any]]


_CODECS: dict[str, _Codec] = {}


def register_codec(method: str, decode: Callable, params: Callable) -> None:
    """Make ``method`` decodable (called once by each codec module at import)."""
    if method not in dwz.METHODS.values():
        raise ValueError(f"method must be one of the .dwz methods {sorted(dwz.METHODS.values())}, "
                         f"got {method!r}")
    _CODECS[method] = _Codec(decode, params)


@dataclass(frozen=True)
class CompressedImage:
    """A compressed image: what is stored, and how to get the picture back.

    Attributes
    ----------
    method : {"svd", "block"}
    shape : tuple (H, W, C)
        C is 1 (grey) or 3 (colour).
    payload : bytes
        The method's data (everything after the ``.dwz`` header).
    params : dict
        What the encoder chose (``quality``, ``ranks``, ``subsampling``, …).
    """

    method: str
    shape: tuple[int, int, int]
    payload: bytes = field(repr=False)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        """Size of the ``.dwz`` file: header + payload."""
        return dwz.HEADER_SIZE + len(self.payload)

    @property
    def raw_nbytes(self) -> int:
        """Size of the raw 8-bit image, ``H · W · C``."""
        h, w, c = self.shape
        return h * w * c

    @property
    def ratio(self) -> float:
        """``nbytes / raw_nbytes`` (0.1 = compressed to 10 % of the raw size)."""
        return self.nbytes / self.raw_nbytes

    def to_bytes(self) -> bytes:
        """The ``.dwz`` file content."""
        return dwz.pack(self.method, self.shape, self.payload)

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "data") -> CompressedImage:
        """Parse ``.dwz`` bytes (checks magic, version, length and checksum)."""
        method, shape, payload = dwz.unpack(bytes(data), source)
        params = _CODECS[method].params(payload, shape, source)
        return cls(method, shape, payload, params)

    def decompress(self, *, clip: bool = True) -> np.ndarray:
        """The decoded image, float32: (H, W) for grey, (H, W, 3) for colour.

        ``clip=False`` keeps values outside [0, 1] (the exact linear reconstruction).
        """
        try:
            with one_blas_thread():
                out = _CODECS[self.method].decode(self.payload, self.shape)
        except (lzma.LZMAError, zlib.error, struct.error, ValueError, IndexError) as exc:
            if isinstance(exc, DataFormatError):
                raise
            raise DataFormatError(f"corrupt {self.method} payload: {exc}") from None
        out = (np.clip(out, 0.0, 1.0) if clip else out).astype(np.float32)
        return out[:, :, 0] if self.shape[2] == 1 else out

    def __repr__(self) -> str:
        shown = {k: v for k, v in self.params.items()
                 if k != "singular_values" and (k != "ranks" or len(v) <= 3)}
        return (f"CompressedImage(method={self.method!r}, shape={self.shape}, "
                f"nbytes={self.nbytes}, ratio={self.ratio:.4f}, params={shown})")


def save_compressed(path: Any, compressed: CompressedImage):
    """Write a :class:`CompressedImage` as a ``.dwz`` file (atomically); returns the path."""
    if not isinstance(compressed, CompressedImage):
        raise TypeError(f"compressed must be a CompressedImage (from svd_compress or "
                        f"block_compress), got {type(compressed).__name__}")
    return dwz.write_bytes(path, compressed.to_bytes())


def load_compressed(path: Any) -> CompressedImage:
    """Read a ``.dwz`` file; corrupt, truncated or newer-version files raise
    :class:`~dotwise.DataFormatError` saying which."""
    return CompressedImage.from_bytes(dwz.read_bytes(path), str(path))
