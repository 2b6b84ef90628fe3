"""Replacing a whole directory atomically, and repairing what a killed writer left.

A directory (a saved index, an unpacked data set) is built under a hidden
temporary name beside its target and then swapped in:

1. the new tree is written to ``.NAME.tmp-PID-TOKEN`` (files flushed to disk);
2. where the kernel can exchange two paths in one step (Linux ``renameat2``
   with ``RENAME_EXCHANGE``), the target and the new tree trade places —
   there is no instant without a directory at ``NAME`` — and the old tree,
   now under the temporary name, is deleted;
3. elsewhere the old tree is renamed to ``.NAME.old-PID-TOKEN``, the new one
   to ``NAME``, and the old one is deleted.

A process killed between the two renames of step 3 leaves no ``NAME`` but a
complete ``.NAME.old-PID-TOKEN``: :func:`recover` (run by every load and every
save) renames it back, because the save had not committed. Temporaries
whose writer process is gone (checked with ``kill(pid, 0)``) are deleted;
those of a live writer are left alone. A recycled PID can only delay a
clean-up, never delete a live writer's files. (Writers in another PID
namespace or on another host sharing the directory look dead; the worst that
does is fail their save — the committed version is never lost.)
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_dir", "leftovers", "recover"]

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_renameat2 = None
if hasattr(os, "fsencode"):
    try:
        _renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    except OSError:  # pragma: no cover - no C library to ask
        _renameat2 = None


def _replace(src: Path, dst: Path) -> None:
    """``os.replace``; a separate name so that tests can make it fail or die."""
    os.replace(src, dst)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one atomic step; ``False`` where unsupported."""
    if _renameat2 is None:
        return False
    if _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b),
                  _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV):
        return False
    raise OSError(err, os.strerror(err), str(b))


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (``kill(pid, 0)``); unknown counts as alive."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def leftovers(path: str | os.PathLike) -> list[tuple[str, int, Path]]:
    """``(kind, pid, path)`` of the temporaries beside ``path``; kind is ``tmp`` or ``old``."""
    path = Path(path)
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.(tmp|old)-(\d+)-[0-9a-f]+$")
    out = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return out
    for entry in entries:
        m = pattern.match(entry.name)
        if m:
            out.append((m.group(1), int(m.group(2)), Path(entry.path)))
    return sorted(out, key=lambda t: t[2].name)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def recover(path: str | os.PathLike, *, wait: float = 5.0) -> str | None:
    """Repair what an interrupted swap left beside ``path``; return what was done.

    If ``path`` is missing and a dead writer left its previous version as
    ``.NAME.old-PID-…``, that version is renamed back. If a live writer is in
    the middle of its swap, this waits up to ``wait`` seconds for it to
    finish. Temporaries of dead writers are deleted. Returns a sentence
    describing a repair, or ``None`` when there was nothing to repair.
    """
    path = Path(path)
    deadline = time.monotonic() + wait
    done = None
    while True:
        found = leftovers(path)
        if not path.exists():
            olds = [(pid, p) for kind, pid, p in found if kind == "old"]
            dead = [(pid, p) for pid, p in olds if not pid_alive(pid)]
            if dead:
                pid, old = dead[-1]
                try:
                    _replace(old, path)
                    done = (f"{path} was missing because a save by process {pid} was "
                            f"interrupted between its two renames; its previous version "
                            f"{old.name} was restored")
                except OSError:
                    pass  # another process repaired it first
                continue
            if olds and time.monotonic() < deadline:
                time.sleep(0.01)  # a live writer is between its renames
                continue
        break
    if path.exists():
        for _kind, pid, p in found:
            if not pid_alive(pid) and p.exists():
                shutil.rmtree(p, ignore_errors=True)
    else:
        for kind, pid, p in found:
            if kind == "tmp" and not pid_alive(pid):
                shutil.rmtree(p, ignore_errors=True)
    return done


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Build a directory under a temporary name; swap it into ``path`` on success.

    Yields the temporary directory to fill. If the block raises, the temporary
    directory is removed and an existing ``path`` is left untouched. See the
    module docstring for the swap and for what a killed writer leaves.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    recover(path, wait=0.0)
    token = secrets.token_hex(4)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{token}")
    tmp.mkdir()
    try:
        yield tmp
        _fsync_dir(tmp)
        if path.exists() and _exchange(tmp, path):
            shutil.rmtree(tmp, ignore_errors=True)  # it holds the previous version now
        elif path.exists():
            old = path.with_name(f".{path.name}.old-{os.getpid()}-{token}")
            _replace(path, old)
            try:
                _replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    _replace(old, path)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            _replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
