"""Saving and loading indexes: a directory of ``.npy`` files plus ``meta.json``.

Layout (format version 1)::

    my-index/
        meta.json       format name and version, kind, dim, metric, dtype, count,
                        parameters, and for every array file: shape, dtype,
                        size in bytes, SHA-256 of the whole file and of its
                        first and last MiB
        vectors.npy     (n, dim) — unit vectors for cosine
        ids.npy         (n,) int64
        sq_norms.npy    (n,) squared norms (used by l2)
        centroids.npy   (n_lists, dim)   IVF only
        offsets.npy     (n_lists + 1,)   IVF only: list j is rows offsets[j]:offsets[j+1]

The directory is built under a temporary name and renamed into place, so a
crash never leaves half an index. Nothing is unpickled. On load every file's
size, header, shape and dtype are checked against ``meta.json``, and its
checksum (all of it, or its first and last MiB for a fast memory-mapped load),
so truncation or corruption is an error, never a silent wrong answer.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_dir, save_json, save_npy
from .._validation import DataFormatError, check_choice

__all__ = ["FORMAT", "FORMAT_VERSION", "load", "load_index", "read_meta", "save_index"]

FORMAT = "dotwise.search.index"
FORMAT_VERSION = 1
_EDGE = 1 << 20  # bytes hashed at each end of a file for a fast check
_SMALL = 4 << 20  # files up to this size are always fully hashed


def _sha256(path: Path, start: int = 0, length: int | None = None) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        fh.seek(start)
        remaining = length
        while True:
            chunk = fh.read(1 << 22 if remaining is None else min(1 << 22, remaining))
            if not chunk:
                break
            h.update(chunk)
            if remaining is not None:
                remaining -= len(chunk)
                if remaining <= 0:
                    break
    return h.hexdigest()


def _edges(path: Path, size: int) -> str:
    head = _sha256(path, 0, _EDGE)
    tail = _sha256(path, max(size - _EDGE, 0), _EDGE)
    return f"{head}:{tail}"


def _file_entry(path: Path, array: np.ndarray) -> dict[str, Any]:
    size = path.stat().st_size
    return {"shape": list(array.shape), "dtype": array.dtype.str, "bytes": size,
            "sha256": _sha256(path), "edges_sha256": _edges(path, size)}


def save_index(index: Any, path: str | os.PathLike) -> Path:
    """Write ``index`` (an :class:`Index` or :class:`IVFIndex`) to directory ``path``."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"path {path} exists and is a file; give a directory path")
    if path.exists() and any(path.iterdir()) and not (path / "meta.json").exists():
        raise ValueError(f"path {path} is a non-empty directory that is not a dotwise "
                              f"index; refusing to replace it — choose a new directory")
    arrays = index._arrays_to_save()
    with atomic_dir(path) as tmp:
        files = {}
        for name, arr in arrays.items():
            fp = tmp / f"{name}.npy"
            save_npy(fp, np.ascontiguousarray(arr))
            files[fp.name] = _file_entry(fp, arr)
        meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "kind": index.kind,
                "dim": index.dim, "metric": index.metric, "dtype": index.dtype.name,
                "count": len(index), "params": index._params_to_save(), "files": files}
        save_json(tmp / "meta.json", meta)
    return path


def read_meta(path: str | os.PathLike) -> dict[str, Any]:
    """Read and check ``meta.json`` of a saved index."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no index at {path}: the directory does not exist")
    if not path.is_dir():
        raise DataFormatError(f"{path} is a file, not an index directory (an index is a "
                              f"directory written by Index.save or `dotwise index build`)")
    meta_path = path / "meta.json"
    if not meta_path.exists():
        found = sorted(p.name for p in path.iterdir())[:8]
        raise DataFormatError(
            f"{path} is not a dotwise index: it has no meta.json (found: "
            f"{', '.join(found) if found else 'nothing'})"
        )
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataFormatError(f"{meta_path} is corrupted: not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise DataFormatError(f"{path} is not a dotwise index: meta.json has format "
                              f"{meta.get('format') if isinstance(meta, dict) else None!r}, "
                              f"expected {FORMAT!r}")
    version = meta.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise DataFormatError(f"{meta_path} has an invalid format_version {version!r}")
    if version > FORMAT_VERSION:
        raise DataFormatError(
            f"{path} was written with index format version {version}, newer than this "
            f"dotwise reads (up to {FORMAT_VERSION}); upgrade dotwise to load it"
        )
    for key in ("kind", "dim", "metric", "dtype", "count", "files"):
        if key not in meta:
            raise DataFormatError(f"{meta_path} is missing the field {key!r}")
    return meta


def _load_array(path: Path, entry: dict[str, Any], mmap: bool, verify: str) -> np.ndarray:
    if not path.exists():
        raise DataFormatError(f"index file {path.name} is missing from {path.parent}")
    size = path.stat().st_size
    if size != entry["bytes"]:
        raise DataFormatError(
            f"{path} is {'truncated' if size < entry['bytes'] else 'larger than written'}: "
            f"{size} bytes, expected {entry['bytes']} — the index is damaged; rebuild it"
        )
    if verify == "full" or size <= _SMALL:
        ok = _sha256(path) == entry["sha256"]
    else:
        ok = _edges(path, size) == entry["edges_sha256"]
    if not ok:
        raise DataFormatError(f"{path} is corrupted: its checksum does not match meta.json — "
                              f"the index is damaged; rebuild it")
    try:
        arr = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise DataFormatError(f"{path} is not a readable .npy file: {exc}") from None
    if list(arr.shape) != list(entry["shape"]) or arr.dtype.str != entry["dtype"]:
        raise DataFormatError(f"{path} holds shape {arr.shape} and dtype {arr.dtype}, but "
                              f"meta.json says {tuple(entry['shape'])} and {entry['dtype']}")
    return arr


def load_index(path: str | os.PathLike, *, mmap: bool = True, verify: str = "auto") -> Any:
    """Load an :class:`Index` or :class:`IVFIndex` saved with ``save`` (see the module doc)."""
    check_choice(verify, "verify", ("auto", "full", "fast"))
    if verify == "auto":
        verify = "fast" if mmap else "full"
    path = Path(path)
    meta = read_meta(path)
    arrays = {name[:-4]: _load_array(path / name, entry, mmap, verify)
              for name, entry in meta["files"].items()}
    from .index import Index
    from .ivf import IVFIndex

    cls = {"flat": Index, "ivf": IVFIndex}.get(meta["kind"])
    if cls is None:
        raise DataFormatError(f"{path}: unknown index kind {meta['kind']!r} in meta.json")
    try:
        return cls._from_saved(meta, arrays, path)
    except (KeyError, ValueError, TypeError) as exc:
        raise DataFormatError(f"{path}: meta.json and the arrays do not agree ({exc})") from None


def load(path: str | os.PathLike, *, mmap: bool = True, verify: str = "auto") -> Any:
    """Load any saved index (flat or IVF). Alias of :func:`load_index`."""
    return load_index(path, mmap=mmap, verify=verify)
