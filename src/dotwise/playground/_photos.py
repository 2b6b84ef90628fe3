"""The sample photos the image demos (SVD compression, filters) may use, by name only.

``china`` and ``flower`` ship with scikit-learn (a core dependency) and always
work; the scikit-image ones are listed with what they need, and asking for one
without scikit-image is a 422 whose message says how to install it.
"""

from __future__ import annotations

import functools
import importlib.util

import numpy as np

from dotwise.image import sample_image, sample_image_needs

from ._json import png_data_url

#: The photos a request may name (``schemas.ImageName`` lists the same), default first.
IMAGE_NAMES = ("china", "flower", "astronaut", "camera", "coffee", "chelsea")
DEFAULT_IMAGE = IMAGE_NAMES[0]


class PhotoUnavailable(ValueError):
    """A photo needs an optional package that is not installed (answered with 422)."""


def photo_needs(name: str) -> str | None:
    """The package photo ``name`` needs and lacks here, or None when it can be loaded."""
    package = sample_image_needs(name)
    if package is None:
        return None
    module = {"scikit-image": "skimage"}.get(package, package)
    return package if importlib.util.find_spec(module) is None else None


def catalogue() -> list[dict[str, object]]:
    """Every photo with ``available`` and, when it is not, ``needs`` and the ``install`` hint."""
    out = []
    for name in IMAGE_NAMES:
        package = sample_image_needs(name)
        missing = photo_needs(name)
        out.append({"name": name, "source": package or "scikit-learn",
                    "available": missing is None, "needs": missing,
                    "install": None if missing is None else f"pip install {missing}"})
    return out


@functools.lru_cache(maxsize=16)
def photo(name: str, max_side: int) -> np.ndarray:
    """A sample photo as float32 in [0, 1], its longer side at most ``max_side`` (read-only)."""
    missing = photo_needs(name)
    if missing is not None:
        raise PhotoUnavailable(
            f"image {name!r} comes from {missing}, which is not installed: pip install {missing} "
            f"(or pick {' or '.join(n for n in IMAGE_NAMES if photo_needs(n) is None)}, "
            f"which ship with scikit-learn)")
    img = sample_image(name, max_size=max_side)
    img.setflags(write=False)
    return img


@functools.lru_cache(maxsize=16)
def photo_png(name: str, max_side: int) -> str:
    return png_data_url(photo(name, max_side))
