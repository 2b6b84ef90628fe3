"""The ``.dwz`` container: a small header, then a method-specific payload.

Layout (little-endian)::

    offset  size  field
    0       4     magic  b"DWZ\\x00"
    4       1     format version (written: 2; read: 1 and 2)
    5       1     method (1 = svd, 2 = block)
    6       4     height        10  4  width        14  1  channels
    15      4     payload length
    19      4     CRC-32 — version 2: of bytes 0–18 and the payload (the whole file but
                  this field); version 1: of the payload only
    23      …     payload

Version 2 exists because version 1 left the header outside its checksum: a flipped
bit in the height or width went unnoticed. Every version-2 file with any single bit
flipped (or any burst of up to 32 flipped bits) fails its checksum; no single flip of
the version byte 2 reads as 1. Version-1 files still decode; for them, the codecs
check that the image size agrees with the payload before anything is allocated,
which catches most header damage but not all (a block-coded height or width changed
within the same count of 8-pixel blocks cannot be told from the real one).

A file that does not start with the magic, is shorter than its header says, fails
its checksum, or comes from a newer format version raises
:class:`~dotwise.DataFormatError` with the reason.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

from .._io import atomic_open
from .._validation import DataFormatError

__all__ = ["FORMAT_VERSION", "HEADER_SIZE", "MAGIC", "METHODS", "pack", "read_bytes", "unpack"]

MAGIC = b"DWZ\x00"
FORMAT_VERSION = 3
METHODS = {1: "svd", 2: "block"}
_METHOD_IDS = {v: k for k, v in METHODS.items()}
_HEADER = struct.Struct("<4sBBIIBII")
HEADER_SIZE = _HEADER.size
_CRC_AT = HEADER_SIZE - 4          # the checksum is the header's last field


def pack(method: str, shape: tuple[int, int, int], payload: bytes) -> bytes:
    """Header + payload as the bytes of a ``.dwz`` file."""
    h, w, c = shape
    fields = _HEADER.pack(MAGIC, FORMAT_VERSION, _METHOD_IDS[method], h, w, c, len(payload),
                          0)[:_CRC_AT]
    return fields + struct.pack("<I", zlib.crc32(payload, zlib.crc32(fields))) + payload


def unpack(data: bytes, source: str = "data") -> tuple[str, tuple[int, int, int], bytes]:
    """Check a ``.dwz`` byte string; return ``(method, (H, W, C), payload)``."""
    if len(data) < 4 or data[:4] != MAGIC:
        raise DataFormatError(f"{source}: not a .dwz file (it does not start with {MAGIC!r})")
    if len(data) < HEADER_SIZE:
        raise DataFormatError(f"{source}: truncated .dwz file: {len(data)} bytes, shorter "
                              f"than the {HEADER_SIZE}-byte header")
    _, version, method_id, h, w, c, length, crc = _HEADER.unpack_from(data)
    if version > FORMAT_VERSION:
        raise DataFormatError(
            f"{source}: .dwz format version {version} was written by a newer dotwise; this "
            f"version reads format {FORMAT_VERSION}. Upgrade dotwise to read it."
        )
    if version < 1:
        raise DataFormatError(f"{source}: invalid .dwz format version {version}")
    if method_id not in METHODS:
        raise DataFormatError(f"{source}: unknown compression method id {method_id} "
                              f"(known: {METHODS})")
    payload = data[HEADER_SIZE:]
    if len(payload) < length:
        raise DataFormatError(f"{source}: truncated .dwz file: the header promises {length} "
                              f"payload bytes, found {len(payload)}")
    if len(payload) > length:
        raise DataFormatError(f"{source}: {len(payload) - length} unexpected bytes after the "
                              f".dwz payload")
    # version 2 checks the header fields too; version 1 only the payload
    start = zlib.crc32(data[:_CRC_AT]) if version >= 2 else 0
    if zlib.crc32(payload, start) != crc:
        raise DataFormatError(f"{source}: corrupt .dwz file (CRC-32 checksum mismatch)")
    if h == 0 or w == 0 or c not in (1, 3):
        raise DataFormatError(f"{source}: invalid image shape in header: {(h, w, c)}")
    return METHODS[method_id], (h, w, c), payload


def read_bytes(path: str | os.PathLike) -> bytes:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"path: no such .dwz file: {path}")
    if path.is_dir():
        raise IsADirectoryError(f"path: expected a .dwz file, got a directory: {path}")
    return path.read_bytes()


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    with atomic_open(path, "wb") as fh:
        fh.write(data)
    return Path(path)
