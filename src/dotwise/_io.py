"""Atomic file writing shared by every module that saves something.

A file dotwise writes is either the complete new file or the old one: data goes
to a temporary file in the same directory, is flushed to disk, and is then
renamed over the target (``os.replace`` is atomic on POSIX and Windows).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

__all__ = ["atomic_dir", "atomic_open", "save_json", "save_npy"]

_UMASK_LOCK = threading.Lock()


def _umask() -> int:
    """The process umask (read by setting and restoring it, under a lock)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _normal_mode(path: Path, *, directory: bool) -> int:
    """The mode a plain ``open``/``mkdir`` would give ``path``; an existing file keeps its own.

    ``mkstemp``/``mkdtemp`` create 0600/0700 entries; a saved file must not become
    private just because it was written atomically.
    """
    try:
        if not directory and path.is_file():
            return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        pass
    return (0o777 if directory else 0o666) & ~_umask()


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary sibling of ``path`` for writing; rename it into place on success."""
    if "w" not in mode:
        raise ValueError(f"mode must be a write mode such as 'wb' or 'w', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, _normal_mode(path, directory=False))
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def save_npy(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write ``array`` as ``.npy`` atomically (never pickled)."""
    with atomic_open(path, "wb") as fh:
        np.save(fh, np.asarray(array), allow_pickle=False)


def save_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented UTF-8 JSON atomically."""
    with atomic_open(path, "w") as fh:
        json.dump(obj, fh, indent=2, sort_keys=True, ensure_ascii=False)
        fh.write("\n")


# a directory is replaced by an atomic swap that a killed writer cannot break (see _dirswap)
from ._dirswap import atomic_dir  # noqa: E402
