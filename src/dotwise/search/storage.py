"""The saved-index format: a directory of ``.npy`` files plus ``meta.json``.

Layout (format version 2)::

    my-index/
        meta.json       format name and version, kind, dim, metric, dtype, count,
                        parameters, the SHA-256 of the metadata itself, and for
                        every array file: shape, dtype, size in bytes, SHA-256
                        of the whole file, of its first and last MiB, and of
                        every 4 MiB block
        vectors.npy     (n, dim) — unit vectors for cosine
        ids.npy         (n,) int64
        sq_norms.npy    (n,) squared norms (used by l2)
        centroids.npy   (n_lists, dim)   IVF only
        offsets.npy     (n_lists + 1,)   IVF only: list j is rows offsets[j]:offsets[j+1]

This module only reads and writes that format; the index classes register
their kind (``"flat"``, ``"ivf"``) and file names with :func:`register_kind`
and rebuild themselves from the checked arrays.

What is checked. ``meta.json`` must carry its own checksum (an edited
``"metric"`` is an error, not a different answer), every field must have its
type, and the files must be exactly those the kind defines — a name such as
``/etc/passwd`` or ``../x.npy`` is refused before anything is opened. Every
file's size, header, shape and dtype are checked against ``meta.json``. Files
up to 4 MiB are hashed whole on every load. Larger files are hashed whole
when loaded into memory (``mmap=False`` or ``verify="full"``); memory-mapped
(the default) their first and last MiB are hashed at load, which keeps
loading instant, and every 4 MiB block is hashed the first time a search (or
``get``, ``save``, a modification) reads it. A flipped bit is therefore an
error at the latest on the first read of its block, never a silent wrong
answer. A block is hashed once per loaded index, by the first read, on all
cores: SHA-256 runs at about 1.5 GB/s per core here, and a 1M × 128 float32
index (512 MiB) measured load 0.02–0.04 s, first search 1.2–1.9 s, later
searches 0.13–0.30 s (0.19 s for a first search without the check) on a
shared 2-core machine under load.

Indexes saved by format version 1 (no metadata checksum, no block
checksums) still load: their fields and file names are checked the same way,
and the large files are hashed whole on first read; a ``UserWarning`` says
that an edit of their ``meta.json`` cannot be detected and how to re-save
them in version 2.

Saving and concurrent loading. The directory is built under a temporary name
and swapped in atomically (:mod:`dotwise._dirswap`): a crash never leaves
half an index, and a save killed between its renames is repaired by the next
load. A load opens the directory once and reads every file through that
handle, so a reader racing a re-save sees the old or the new index, whole;
should the old one be deleted under it, the load starts again on the new one.
Nothing is unpickled.
"""

from __future__ import annotations

import hashlib
import json
import mmap as _mmap
import os
import stat
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .._dirswap import leftovers, recover
from .._io import atomic_dir, save_json, save_npy
from .._validation import DataFormatError, check_choice

__all__ = ["FORMAT", "FORMAT_VERSION", "LazyCheck", "load", "load_index", "read_meta",
           "register_kind", "save_index"]

FORMAT = "dotwise.search.index"
FORMAT_VERSION = 2
_EDGE = 1 << 20  # bytes hashed at each end of a file for a fast check
_SMALL = 4 << 20  # files up to this size are always fully hashed
BLOCK = 4 << 20  # bytes per lazily verified block
_MAX_META = 64 << 20  # a meta.json larger than this is not one dotwise wrote
_DTYPES = ("float32", "float64")
_WAIT = 5.0  # seconds a load waits for a live writer that is between its two renames
_METRICS = ("cosine", "dot", "l2")

_KINDS: dict[str, tuple[type, tuple[str, ...]]] = {}


def register_kind(kind: str, files: tuple[str, ...]):
    """Class decorator: index class ``cls`` is saved as ``kind`` with these array files.

    The class provides ``_arrays_to_save(state) -> {name: array}``,
    ``_params_to_save() -> dict`` and the classmethod
    ``_from_saved(meta, arrays, path, check)``.
    """
    def deco(cls: type) -> type:
        cls.kind = kind
        _KINDS[kind] = (cls, tuple(files))
        return cls

    return deco


def _sha256(data: Any) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_sha256(path: Path, start: int = 0, length: int | None = None) -> str:
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


def _edges_of(view: memoryview) -> str:
    size = len(view)
    return f"{_sha256(view[:_EDGE])}:{_sha256(view[max(size - _EDGE, 0):])}"


def _file_entry(path: Path, array: np.ndarray) -> dict[str, Any]:
    size = path.stat().st_size
    entry = {"shape": list(array.shape), "dtype": array.dtype.str, "bytes": size,
             "sha256": _file_sha256(path),
             "edges_sha256": f"{_file_sha256(path, 0, _EDGE)}:"
                             f"{_file_sha256(path, max(size - _EDGE, 0), _EDGE)}"}
    if size > _SMALL:
        entry["block_bytes"] = BLOCK
        entry["block_sha256"] = [_file_sha256(path, s, BLOCK) for s in range(0, size, BLOCK)]
    return entry


def _meta_digest(meta: dict[str, Any]) -> str:
    body = {k: v for k, v in meta.items() if k != "meta_sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return _sha256(text.encode("utf-8"))


def save_index(index: Any, path: str | os.PathLike, state: Any = None) -> Path:
    """Write ``index`` (a registered index kind) to directory ``path`` atomically."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"path {path} exists and is a file; give a directory path")
    if path.exists() and any(path.iterdir()) and not (path / "meta.json").exists():
        raise ValueError(f"path {path} is a non-empty directory that is not a dotwise "
                              f"index; refusing to replace it — choose a new directory")
    if index.kind not in _KINDS:
        raise TypeError(f"{type(index).__name__} is not a registered index kind")
    arrays = index._arrays_to_save(state)
    with atomic_dir(path) as tmp:
        files = {}
        for name, arr in arrays.items():
            fp = tmp / f"{name}.npy"
            save_npy(fp, np.ascontiguousarray(arr))
            files[fp.name] = _file_entry(fp, arr)
        meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "kind": index.kind,
                "dim": index.dim, "metric": index.metric, "dtype": index.dtype.name,
                "count": int(len(arrays["ids"])), "params": index._params_to_save(),
                "files": files}
        meta["meta_sha256"] = _meta_digest(meta)
        save_json(tmp / "meta.json", meta)
    return path


# ------------------------------------------------------------------ reading
class _Changed(Exception):
    """The directory was replaced while it was being read: read it again."""


class _Dir:
    """A directory opened once: every file is opened through this handle."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except FileNotFoundError:
            busy = [(pid, p.name) for kind, pid, p in leftovers(path) if kind == "old"]
            if busy:
                pid, name = busy[-1]
                raise FileNotFoundError(
                    f"no index at {path} right now: process {pid} is replacing it (its "
                    f"previous version waits in {name}); try again when that save "
                    f"finishes — if process {pid} is gone, the next load restores it"
                ) from None
            raise FileNotFoundError(f"no index at {path}: the directory does not exist") from None
        except NotADirectoryError:
            raise DataFormatError(f"{path} is a file, not an index directory (an index is a "
                                  f"directory written by Index.save or `dotwise index build`)"
                                  ) from None
        self.ino = os.fstat(self.fd).st_ino

    def close(self) -> None:
        os.close(self.fd)

    def changed(self) -> bool:
        """Whether ``path`` now names another directory, or this one was deleted."""
        try:
            if os.stat(self.path).st_ino != self.ino:
                return True
        except OSError:
            return True
        return os.fstat(self.fd).st_nlink == 0

    def open(self, name: str):
        """Open regular file ``name`` for reading; ``None`` if it does not exist."""
        try:
            fd = os.open(name, os.O_RDONLY, dir_fd=self.fd)
        except FileNotFoundError:
            if self.changed():
                raise _Changed from None
            return None
        except IsADirectoryError:
            fd = None
        if fd is None or not stat.S_ISREG(os.fstat(fd).st_mode):
            if fd is not None:
                os.close(fd)
            raise DataFormatError(f"{self.path / name} is not a regular file (a directory or "
                                  f"a device in its place) — the index is damaged; rebuild it")
        return os.fdopen(fd, "rb")

    def names(self) -> list[str]:
        return sorted(os.listdir(self.fd))

    def fail(self, message: str) -> DataFormatError:
        """The error for damage found — unless the directory was replaced meanwhile."""
        if self.changed():
            raise _Changed
        return DataFormatError(message)


def _int_field(meta: dict, key: str, where: str, minimum: int = 0) -> int:
    value = meta.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise DataFormatError(f"{where}: field {key!r} must be an integer >= {minimum}, got "
                              f"{value!r:.60}")
    return value


def _check_meta(meta: Any, path: Path) -> dict[str, Any]:
    where = path / "meta.json"
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise DataFormatError(f"{path} is not a dotwise index: meta.json has format "
                              f"{meta.get('format') if isinstance(meta, dict) else None!r:.60}, "
                              f"expected {FORMAT!r}")
    version = meta.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise DataFormatError(f"{where} has an invalid format_version {version!r:.60}")
    if version > FORMAT_VERSION:
        raise DataFormatError(
            f"{path} was written with index format version {version}, newer than this "
            f"dotwise reads (up to {FORMAT_VERSION}); upgrade dotwise to load it"
        )
    if version >= 2:
        if meta.get("meta_sha256") != _meta_digest(meta):
            raise DataFormatError(f"{where} is corrupted or was edited: its checksum "
                                  f"(meta_sha256) does not match its content — rebuild the "
                                  f"index, or re-save it from a good copy")
    for key in ("kind", "dim", "metric", "dtype", "count", "files"):
        if key not in meta:
            raise DataFormatError(f"{where} is missing the field {key!r}")
    if meta["kind"] not in _KINDS:
        raise DataFormatError(f"{path}: unknown index kind {meta['kind']!r:.60} in meta.json "
                              f"(known: {', '.join(sorted(_KINDS))})")
    _int_field(meta, "dim", str(where), 1)
    _int_field(meta, "count", str(where), 0)
    for key, choices in (("metric", _METRICS), ("dtype", _DTYPES)):
        if meta[key] not in choices:
            raise DataFormatError(f"{where}: field {key!r} must be one of "
                                  f"{', '.join(choices)}, got {meta[key]!r:.60}")
    if not isinstance(meta.get("params", {}), dict):
        raise DataFormatError(f"{where}: field 'params' must be an object")
    files = meta["files"]
    expected = {f"{name}.npy" for name in _KINDS[meta["kind"]][1]}
    if not isinstance(files, dict) or set(files) != expected:
        got = sorted(files) if isinstance(files, dict) else files
        raise DataFormatError(f"{where}: a {meta['kind']} index has exactly the files "
                              f"{', '.join(sorted(expected))}; meta.json lists {got!r:.200}")
    for name, entry in files.items():
        if not isinstance(entry, dict):
            raise DataFormatError(f"{where}: the entry of {name} must be an object")
        shape = entry.get("shape")
        if not (isinstance(shape, list) and all(isinstance(s, int) and not isinstance(s, bool)
                                                and s >= 0 for s in shape)):
            raise DataFormatError(f"{where}: {name} has an invalid shape {shape!r:.60}")
        for key in ("dtype", "sha256", "edges_sha256"):
            if not isinstance(entry.get(key), str):
                raise DataFormatError(f"{where}: {name} has no valid {key!r}")
        _int_field(entry, "bytes", f"{where}: {name}", 0)
        if "block_sha256" in entry:
            blocks = entry["block_sha256"]
            bb = _int_field(entry, "block_bytes", f"{where}: {name}", 1)
            if (not isinstance(blocks, list) or not all(isinstance(b, str) for b in blocks)
                    or len(blocks) != -(-entry["bytes"] // bb)):
                raise DataFormatError(f"{where}: {name} has an invalid block_sha256 list")
    return meta


def _read_meta(d: _Dir) -> dict[str, Any]:
    fh = d.open("meta.json")
    if fh is None:
        found = d.names()[:8]
        raise DataFormatError(
            f"{d.path} is not a dotwise index: it has no meta.json (found: "
            f"{', '.join(found) if found else 'nothing'})"
        )
    with fh:
        raw = fh.read(_MAX_META + 1)
    if len(raw) > _MAX_META:
        raise DataFormatError(f"{d.path / 'meta.json'} is larger than {_MAX_META >> 20} MiB: "
                              f"not the metadata of a dotwise index")
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise d.fail(f"{d.path / 'meta.json'} is corrupted: not valid JSON ({exc})") from None
    except RecursionError:
        meta = None
    try:
        if meta is not None:
            return _check_meta(meta, d.path)
    except RecursionError:
        pass
    raise DataFormatError(f"{d.path / 'meta.json'} is corrupted: nested too deeply to be "
                          f"the metadata of a dotwise index")


def read_meta(path: str | os.PathLike) -> dict[str, Any]:
    """Read and check ``meta.json`` of a saved index (see the module doc for the checks).

    Raises
    ------
    FileNotFoundError
        If there is no directory at ``path``.
    DataFormatError
        If it is not a dotwise index, or its metadata is damaged, edited or
        written by a newer version.
    """
    path = Path(path)
    for _ in range(20):
        if not path.exists():
            recover(path, wait=_WAIT)
        try:
            d = _Dir(path)
        except FileNotFoundError:
            if path.exists():
                continue  # a writer swapped it between our look and our open: look again
            raise  # still missing after the wait above: the message says who holds it
        try:
            return _read_meta(d)
        except _Changed:
            continue
        finally:
            d.close()
    raise DataFormatError(f"{path} kept changing while it was read (20 re-saves in a row)")


class LazyCheck:
    """Block checksums of memory-mapped files, verified the first time a block is read.

    Rows ``r0:r1`` of every registered file are checked with :meth:`rows`
    (each file has its own row size: a vector row, an int64 id, a norm). A
    block is hashed once; a block that does not match raises
    :class:`DataFormatError` now and on every later read.
    """

    def __init__(self, path: Path):
        self.path = path
        self.parts: list[dict[str, Any]] = []
        self.complete = True
        self._lock = threading.Lock()

    def add(self, name: str, view: memoryview, data_offset: int, row_bytes: int,
            block: int, hashes: list[str]) -> None:
        self.parts.append({"name": name, "view": view, "offset": data_offset, "row": row_bytes,
                           "block": block, "hashes": hashes,
                           "done": np.zeros(len(hashes), dtype=bool)})
        self.complete = False

    def _check(self, part: dict[str, Any], blocks: np.ndarray) -> None:
        todo = blocks[~part["done"][blocks]].tolist()
        size = part["block"]

        def digest(b: int) -> str:
            return _sha256(part["view"][b * size:(b + 1) * size])

        if len(todo) >= 4 and (os.cpu_count() or 1) > 1:
            # hashlib releases the GIL: hash blocks on every core
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(min(os.cpu_count() or 1, 8)) as pool:
                digests = list(pool.map(digest, todo))
        else:
            digests = [digest(b) for b in todo]
        for b, got in zip(todo, digests, strict=True):
            if got != part["hashes"][b]:
                s, e = b * size, min((b + 1) * size, len(part["view"]))
                raise DataFormatError(
                    f"{self.path / part['name']} is corrupted: bytes {s}–{e} do not match "
                    f"their checksum in meta.json — the index is damaged; rebuild it (or "
                    f"re-save it from a good copy)")
            part["done"][b] = True
        with self._lock:
            self.complete = all(p["done"].all() for p in self.parts)

    def rows(self, r0: int, r1: int) -> None:
        """Verify every block holding rows ``r0:r1``."""
        if self.complete or r1 <= r0:
            return
        for part in self.parts:
            a = (part["offset"] + r0 * part["row"]) // part["block"]
            b = (part["offset"] + r1 * part["row"] - 1) // part["block"]
            self._check(part, np.arange(a, min(b, len(part["hashes"]) - 1) + 1))

    def rows_at(self, rows: np.ndarray) -> None:
        """Verify the blocks holding the given rows."""
        if self.complete or rows.size == 0:
            return
        rows = np.asarray(rows, dtype=np.int64)
        for part in self.parts:
            first = (part["offset"] + rows * part["row"]) // part["block"]
            last = (part["offset"] + (rows + 1) * part["row"] - 1) // part["block"]
            blocks = np.unique(np.concatenate([first, last]))
            self._check(part, blocks[blocks < len(part["hashes"])])

    def all(self) -> None:
        """Verify every block not verified yet."""
        if self.complete:
            return
        for part in self.parts:
            self._check(part, np.arange(len(part["hashes"])))


def _read_header(fh) -> tuple[tuple[int, ...], np.dtype, int]:
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
    else:
        raise ValueError(f"unsupported .npy version {version}")
    if fortran or dtype.hasobject:
        raise ValueError("not a plain C-ordered numeric array")
    return shape, dtype, fh.tell()


def _load_array(d: _Dir, name: str, entry: dict[str, Any], mmap: bool, verify: str,
                check: LazyCheck, legacy: bool) -> np.ndarray:
    fh = d.open(name)
    if fh is None:
        raise DataFormatError(f"index file {name} is missing from {d.path}")
    path = d.path / name
    with fh:
        size = os.fstat(fh.fileno()).st_size
        if size != entry["bytes"]:
            raise d.fail(
                f"{path} is {'truncated' if size < entry['bytes'] else 'larger than written'}: "
                f"{size} bytes, expected {entry['bytes']} — the index is damaged; rebuild it"
            )
        lazy = mmap and verify != "full" and size > _SMALL
        if mmap:
            buf = _mmap.mmap(fh.fileno(), 0, access=_mmap.ACCESS_READ) if size else b""
        else:
            buf = bytearray(size)
            if fh.readinto(buf) != size:
                raise d.fail(f"{path} is truncated while being read — rebuild the index")
        view = memoryview(buf)
        if not lazy:
            ok = _sha256(view) == entry["sha256"]
        else:
            ok = _edges_of(view) == entry["edges_sha256"]
        if not ok:
            raise d.fail(f"{path} is corrupted: its checksum does not match meta.json — "
                         f"the index is damaged; rebuild it")
        try:
            fh.seek(0)
            shape, dtype, offset = _read_header(fh)
        except (ValueError, OSError, EOFError) as exc:
            raise d.fail(f"{path} is not a readable .npy file: {exc}") from None
    if list(shape) != list(entry["shape"]) or dtype.str != entry["dtype"]:
        raise DataFormatError(f"{path} holds shape {shape} and dtype {dtype}, but "
                              f"meta.json says {tuple(entry['shape'])} and {entry['dtype']}")
    count = int(np.prod(shape)) if shape else 1
    if offset + count * dtype.itemsize != size:
        raise DataFormatError(f"{path}: its header describes {count * dtype.itemsize} bytes "
                              f"of data, the file holds {size - offset}")
    arr = np.frombuffer(buf, dtype=dtype, count=count, offset=offset).reshape(shape)
    if lazy:
        row = int(np.prod(shape[1:])) * dtype.itemsize if len(shape) > 1 else dtype.itemsize
        if legacy or "block_sha256" not in entry:
            check.add(name, view, offset, row, max(size, 1), [entry["sha256"]])
        else:
            check.add(name, view, offset, row, entry["block_bytes"], entry["block_sha256"])
    return arr


def _load_once(path: Path, mmap: bool, verify: str) -> Any:
    d = _Dir(path)
    try:
        meta = _read_meta(d)
        legacy = meta["format_version"] < 2
        check = LazyCheck(path)
        arrays = {name[:-4]: _load_array(d, name, entry, mmap, verify, check, legacy)
                  for name, entry in meta["files"].items()}
    finally:
        d.close()
    if legacy:
        warnings.warn(
            f"{path} was saved in index format version 1, whose meta.json has no checksum: "
            f"its fields and files were checked, but an edit of meta.json cannot be detected. "
            f"Re-save it to upgrade: dotwise.search.load(path, mmap=False).save(path)",
            UserWarning, stacklevel=4)
    cls = _KINDS[meta["kind"]][0]
    try:
        return cls._from_saved(meta, arrays, path, check if not check.complete else None)
    except (KeyError, ValueError, TypeError) as exc:
        if isinstance(exc, DataFormatError):
            raise
        raise DataFormatError(f"{path}: meta.json and the arrays do not agree ({exc})") from None


def load_index(path: str | os.PathLike, *, mmap: bool = True, verify: str = "auto") -> Any:
    """Load any registered index kind saved with ``save`` (see the module doc).

    A save that another process completes meanwhile is picked up whole: the
    load reads one version from start to end, starting again if that version
    is deleted under it.
    """
    check_choice(verify, "verify", ("auto", "full", "fast"))
    if verify == "auto":
        verify = "fast" if mmap else "full"
    path = Path(path)
    for _ in range(20):
        if not path.exists():
            recover(path, wait=_WAIT)
        elif leftovers(path):
            recover(path, wait=0.0)  # delete what dead writers left beside it
        try:
            return _load_once(path, mmap, verify)
        except _Changed:
            continue
        except FileNotFoundError:
            if path.exists():
                continue  # replaced while we opened it: read the version there now
            if not leftovers(path):
                raise
            # a live writer is between its two renames (or a dead one left its state):
            # wait for the swap to finish (or repair it) and read again; still missing
            # after the wait, the writer is stuck, and _Dir's message says which one
            recover(path, wait=_WAIT)
            if not path.exists():
                _Dir(path).close()
            continue
    raise DataFormatError(f"{path} kept changing while it was read (20 re-saves in a row)")


def load(path: str | os.PathLike, *, mmap: bool = True, verify: str = "auto") -> Any:
    """Load any saved index (flat or IVF). Alias of :func:`load_index`."""
    return load_index(path, mmap=mmap, verify=verify)
