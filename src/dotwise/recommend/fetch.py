"""Download a MovieLens data set (needs internet; dotwise never downloads on its own).

The archive is streamed to a temporary file, its SHA-256 compared with the
published checksum, and only then unpacked into the target folder, atomically:
a failed or interrupted download leaves nothing behind. The download address
can be overridden (``url=`` or the ``DOTWISE_MOVIELENS_URL`` environment
variable) for mirrors and for tests.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

from .._io import atomic_dir

__all__ = ["DATASETS", "fetch_movielens"]

#: name -> (official URL, SHA-256 of the zip, folder inside the zip)
DATASETS: dict[str, tuple[str, str, str]] = {
    "movielens-100k": (
        "https://files.grouplens.org/datasets/movielens/ml-100k.zip",
        "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229",
        "ml-100k",
    ),
}
URL_ENV = "DOTWISE_MOVIELENS_URL"


class FetchError(RuntimeError):
    """The download failed (offline, HTTP error, bad checksum, bad archive)."""


def fetch_movielens(name: str, directory: str | os.PathLike, *, url: str | None = None,
                    sha256: str | None = None, overwrite: bool = False, timeout: float = 30.0,
                    progress: Callable[[int, int | None], None] | None = None) -> Path:
    """Download and unpack a MovieLens data set into ``directory/<name>``.

    Parameters
    ----------
    name : {"movielens-100k"}
    directory : path
        Parent folder; the data lands in ``directory/ml-100k``.
    url : str, optional
        Download address; default ``$DOTWISE_MOVIELENS_URL`` or the official one.
    sha256 : str, optional
        Expected checksum of the zip; default the published one for ``name``
        (pass ``""`` to skip the check, for an archive you built yourself).
    overwrite : bool, default=False
        Replace an existing folder.
    timeout : float, default=30
        Seconds to wait for the server.
    progress : callable(bytes_done, bytes_total or None), optional

    Returns
    -------
    Path
        The folder holding ``u.data`` etc.

    Raises
    ------
    ValueError
        Unknown ``name``.
    FileExistsError
        The folder exists and ``overwrite`` is false.
    FetchError
        No connection, an HTTP error, a checksum mismatch or a broken zip.
    """
    if name not in DATASETS:
        raise ValueError(f"name must be one of {', '.join(map(repr, DATASETS))}; got {name!r}")
    official, checksum, inner = DATASETS[name]
    url = url or os.environ.get(URL_ENV) or official
    expected = checksum if sha256 is None else sha256
    target = Path(directory) / inner
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} already exists; pass overwrite=True (--overwrite) to "
                              f"download it again")
    Path(directory).mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".download-", suffix=".zip", dir=directory)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response, \
                    os.fdopen(fd, "wb") as out:
                total = response.headers.get("Content-Length")
                total = int(total) if total and total.isdigit() else None
                done = 0
                while chunk := response.read(1 << 16):
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
        except urllib.error.HTTPError as exc:
            raise FetchError(f"download of {url} failed: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise FetchError(
                f"could not download {url} ({reason}). Are you offline? Download the zip "
                f"by hand from {official} and unpack it, then pass the folder to "
                f"load_ratings"
            ) from None
        if expected and digest.hexdigest() != expected:
            raise FetchError(
                f"checksum mismatch for {url}: got sha256 {digest.hexdigest()}, expected "
                f"{expected}; the file is corrupt or not the official archive (nothing was "
                f"unpacked)"
            )
        try:
            with zipfile.ZipFile(tmp) as archive, atomic_dir(target) as staging:
                prefix = inner + "/"
                members = [m for m in archive.infolist() if m.filename.startswith(prefix)
                           and not m.is_dir()]
                if not members:
                    raise FetchError(f"the archive from {url} has no {inner}/ folder")
                for member in members:
                    rel = Path(member.filename[len(prefix):])
                    if rel.is_absolute() or ".." in rel.parts:
                        raise FetchError(f"unsafe path {member.filename!r} in the archive")
                    dest = staging / rel
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    with archive.open(member) as src, open(dest, "wb") as dst:
                        shutil.copyfileobj(src, dst)
        except zipfile.BadZipFile:
            raise FetchError(f"the file downloaded from {url} is not a zip archive") from None
    finally:
        try:
            os.close(fd)
        except OSError:
            pass
        tmp.unlink(missing_ok=True)
    return target
