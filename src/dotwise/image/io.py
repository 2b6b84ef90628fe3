"""Reading and writing images (Pillow), and the bundled sample photos.

Images are float32 arrays in [0, 1]: colour ``(H, W, 3)``, with alpha ``(H, W, 4)``,
grey ``(H, W)``. Every write is atomic (a temporary file renamed into place).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_open
from .._validation import DataFormatError, ShapeError, as_float_array, check_int

__all__ = ["SAMPLE_IMAGES", "load_image", "sample_image", "sample_image_needs", "save_image"]

_SKLEARN = {"china": "china.jpg", "flower": "flower.jpg"}
_SKIMAGE = ("astronaut", "camera", "coffee", "chelsea", "rocket", "moon", "coins", "page",
            "text", "immunohistochemistry", "hubble_deep_field", "brick", "grass",
            "gravel", "colorwheel", "retina", "logo", "cat", "clock")
SAMPLE_IMAGES: tuple[str, ...] = (*_SKLEARN, *_SKIMAGE)
"""Names :func:`sample_image` accepts: scikit-learn's two photos, then scikit-image's."""


def _open_pillow(path: Path, max_pixels: int | None):
    from PIL import Image

    old = Image.MAX_IMAGE_PIXELS
    try:
        Image.MAX_IMAGE_PIXELS = max_pixels
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(path)
            img.load()
        return img
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DataFormatError(
            f"{path}: image too large: {exc} Pass max_pixels=N (or None to disable the "
            f"check) to load_image if you trust this file."
        ) from None
    except Image.UnidentifiedImageError:
        raise DataFormatError(
            f"{path}: not an image Pillow can read (PNG, JPEG, TIFF, BMP, WebP, …); is the "
            f"file corrupt or of another type?"
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise DataFormatError(f"{path}: corrupt or truncated image file ({exc})") from None
    finally:
        Image.MAX_IMAGE_PIXELS = old


def load_image(path: str | os.PathLike, *, as_gray: bool = False,
               max_pixels: int | None = 89_478_485) -> np.ndarray:
    """Read an image file into a float32 array in [0, 1].

    Parameters
    ----------
    path : path
        Any format Pillow reads.
    as_gray : bool, default=False
        Return luma (Rec. 601 weights) as ``(H, W)``.
    max_pixels : int or None, default=89_478_485
        Refuse larger images (Pillow's decompression-bomb limit); ``None`` disables it.

    Returns
    -------
    ndarray of float32, shape (H, W) for grey, (H, W, 3) for colour, (H, W, 4) with alpha
        Palette images become RGB (RGBA if they have transparency); 16-bit images are
        scaled by 1/65535; floating-point images (32-bit TIFF) are taken as they are and
        must already lie in [0, 1]; CMYK / YCbCr / HSV are converted to RGB; an EXIF orientation
        tag is applied (the array is upright as a photo viewer shows it).

    Raises
    ------
    FileNotFoundError, IsADirectoryError
    DataFormatError
        Not an image, corrupt or truncated, or larger than ``max_pixels``; a
        floating-point image with NaN/infinity or values outside [0, 1], or an integer
        one outside [0, 65535] (the message names the file and the range found —
        nothing is clipped or rescaled silently).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"path: no such image file: {path}")
    if path.is_dir():
        raise IsADirectoryError(f"path: expected an image file, got a directory: {path}")
    if max_pixels is not None:
        max_pixels = check_int(max_pixels, "max_pixels", minimum=1)
    img = _open_pillow(path, max_pixels)
    try:                                   # phone photos: honour the EXIF orientation tag
        from PIL import ImageOps

        img = ImageOps.exif_transpose(img)
    except Exception:                      # pragma: no cover - a broken EXIF block
        pass
    mode = img.mode
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif mode in ("LA", "PA", "La", "RGBa"):
        img = img.convert("RGBA")
    elif mode in ("CMYK", "YCbCr", "HSV", "LAB"):
        img = img.convert("RGB")
    elif mode == "1":
        img = img.convert("L")
    arr = np.asarray(img)
    if img.mode.startswith("I;16") or img.mode == "I":
        _check_range(arr, 0, 65535, path, "a 16/32-bit integer image", "[0, 65535] (16-bit)")
        arr = arr.astype(np.float32) / np.float32(65535.0)
    elif img.mode == "F":
        _check_range(arr, 0.0, 1.0, path, "a floating-point image", "[0, 1]")
        arr = arr.astype(np.float32)
    elif arr.dtype == np.uint8:
        arr = arr.astype(np.float32) / np.float32(255.0)
    else:
        raise DataFormatError(f"{path}: unsupported image mode {img.mode!r}; convert the file "
                              f"to 8-bit RGB or grey first")
    if as_gray and arr.ndim == 3:
        arr = _to_gray(arr)
    return np.ascontiguousarray(arr, dtype=np.float32)


def _check_range(arr: np.ndarray, lo: float, hi: float, path: Path, kind: str,
                 expected: str) -> None:
    """Refuse pixel values that a [0, 1] image cannot hold (no silent clipping or NaN)."""
    if arr.size == 0:
        return
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        raise DataFormatError(
            f"{path}: {kind} with {bad} non-finite pixel value(s) (NaN or infinity); "
            f"load_image expects finite values in {expected}. Replace them (e.g. "
            f"numpy.nan_to_num) and save the image again."
        )
    found_lo, found_hi = float(arr.min()), float(arr.max())
    if found_lo < lo or found_hi > hi:
        raise DataFormatError(
            f"{path}: {kind} with values in [{found_lo:.6g}, {found_hi:.6g}]; load_image "
            f"expects {expected}. Rescale it first, e.g. (a - a.min()) / (a.max() - a.min()) "
            f"for a float image, and save it again."
        )


def _to_gray(arr: np.ndarray) -> np.ndarray:
    if arr.shape[2] == 1:
        return arr[:, :, 0]
    w = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return arr[:, :, :3] @ w


_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP", ".tif": "TIFF",
            ".tiff": "TIFF", ".webp": "WEBP", ".gif": "GIF", ".ppm": "PPM", ".pgm": "PPM"}


def to_uint8(img: Any, name: str = "img") -> np.ndarray:
    """Clip to [0, 1] and round to uint8 (``round(255 · x)``)."""
    arr = as_float_array(img, name, ndim=(2, 3))
    if arr.ndim == 3 and arr.shape[2] not in (1, 3, 4):
        raise ShapeError(f"{name} must have 1, 3 or 4 channels, got shape {arr.shape}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    return (np.clip(arr, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def save_image(path: str | os.PathLike, img: Any, *, quality: int = 95) -> Path:
    """Write an image in [0, 1] (clipped) as 8-bit PNG / JPEG / … chosen by the suffix.

    Parameters
    ----------
    path : path
        ``.png``, ``.jpg``/``.jpeg``, ``.bmp``, ``.tif``, ``.webp``, ``.gif``, ``.ppm``.
    img : array_like of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4)
    quality : int, default=95
        JPEG / WebP quality (1–100).

    Returns
    -------
    Path of the written file (written atomically).
    """
    from PIL import Image

    path = Path(path)
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"path: unsupported image suffix {path.suffix!r}; use one of "
                         f"{', '.join(sorted(_FORMATS))}")
    quality = check_int(quality, "quality", minimum=1, maximum=100)
    data = to_uint8(img)
    pil = Image.fromarray(data)
    if fmt == "JPEG" and pil.mode == "RGBA":
        pil = pil.convert("RGB")
    kwargs = {"quality": quality} if fmt in ("JPEG", "WEBP") else {}
    with atomic_open(path, "wb") as fh:
        pil.save(fh, format=fmt, **kwargs)
    return path


def sample_image_needs(name: str) -> str | None:
    """The optional package sample photo ``name`` needs, or ``None`` if the core install has it.

    ``"china"`` and ``"flower"`` ship with scikit-learn (a core dependency); the
    others come from scikit-image, installed only if ``importlib`` can find it.

    Examples
    --------
    >>> sample_image_needs("china") is None, sample_image_needs("astronaut")
    (True, 'scikit-image')
    """
    if not isinstance(name, str) or name not in SAMPLE_IMAGES:
        raise ValueError(f"name must be one of {', '.join(SAMPLE_IMAGES)}; got {name!r}")
    return None if name in _SKLEARN else "scikit-image"


def sample_image(name: str = "china", *, max_size: int | None = None,
                 as_gray: bool = False) -> np.ndarray:
    """A bundled photo as float32 in [0, 1] (no network).

    Parameters
    ----------
    name : str, default="china"
        ``"china"`` or ``"flower"`` (scikit-learn, 427×640 colour) or a scikit-image
        sample: ``astronaut``, ``camera`` (grey), ``coffee``, ``chelsea``, ``rocket``, …
        (see :data:`SAMPLE_IMAGES`). The scikit-image ones need scikit-image, a test
        extra: ``pip install "dotwise[test]"`` or ``pip install scikit-image``.
    max_size : int, optional
        Downscale (Lanczos) so that the longer side is at most this many pixels.
    as_gray : bool, default=False
        Return luma ``(H, W)``.

    Examples
    --------
    >>> sample_image("china").shape
    (427, 640, 3)
    >>> sample_image("flower", max_size=128).shape
    (85, 128, 3)
    """
    if not isinstance(name, str) or name not in SAMPLE_IMAGES:
        raise ValueError(f"name must be one of {', '.join(SAMPLE_IMAGES)}; got {name!r}")
    if name in _SKLEARN:
        from sklearn.datasets import load_sample_image

        arr = np.asarray(load_sample_image(_SKLEARN[name]))
    else:
        try:
            import skimage.data
        except ImportError:
            raise ImportError(
                f"sample_image({name!r}) needs scikit-image, which is an optional (test) "
                f"dependency: pip install scikit-image (or pip install 'dotwise[test]'). "
                f"'china' and 'flower' work without it."
            ) from None
        arr = np.asarray(getattr(skimage.data, name)())
    if arr.dtype == bool:
        arr = arr.astype(np.uint8) * 255
    if max_size is not None:
        max_size = check_int(max_size, "max_size", minimum=1)
        h, w = arr.shape[:2]
        if max(h, w) > max_size:
            from PIL import Image

            scale = max_size / max(h, w)
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            arr = np.asarray(Image.fromarray(arr).resize(size, Image.Resampling.LANCZOS))
    out = arr.astype(np.float32) / np.float32(255.0)
    if as_gray and out.ndim == 3:
        out = _to_gray(out)
    return np.ascontiguousarray(out)
