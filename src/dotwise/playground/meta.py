"""The playground's meta endpoints: limits, status (what this installation can run), demos."""

from __future__ import annotations

import importlib.util
from typing import Any

from fastapi import APIRouter

import dotwise as dw

from . import _photos
from ._json import as_json
from .routes import demo_list
from .schemas import LIMITS

router = APIRouter(prefix="/api")


@router.get("/limits", summary="The input limits every request obeys")
@as_json
async def limits() -> dict[str, Any]:
    """Every limit as ``name: value`` (the same numbers the 422 messages quote)."""
    return dict(LIMITS)


@router.get("/demos", summary="The demos the page shows, in order (one routes module + one script)")
@as_json
async def demos() -> dict[str, Any]:
    """``demos``: ``id``, ``title``, ``order`` and the ``script`` the page loads, for every
    routes module of ``dotwise.playground.routes`` that has its ``static/demos/<id>.js``."""
    return {"demos": demo_list()}


@router.get("/images", summary="The sample photos (by name) and what each needs")
@as_json
async def images() -> dict[str, Any]:
    """``images``: the names (``dw.sample_image``; no other image can be named), ``default``
    (one that ships with scikit-learn), ``details``: per photo its ``source``, whether it is
    ``available`` here and, if not, what it ``needs`` and the ``install`` command."""
    return {"images": list(_photos.IMAGE_NAMES), "default": _photos.DEFAULT_IMAGE,
            "details": _photos.catalogue(), "max_side": LIMITS["max_image_side"]}


@router.get("/status", summary="What this installation can run")
@as_json
async def status() -> dict[str, Any]:
    """``version``; per demo ``title`` and ``available``; the optional packages found; which
    sample photos can be loaded (``images``: name → available)."""
    optional = {name: importlib.util.find_spec(module) is not None
                for name, module in (("scikit-image", "skimage"), ("orjson", "orjson"))}
    return {
        "version": dw.__version__,
        "demos": {d["id"]: {"title": d["title"], "available": True} for d in demo_list()},
        "optional": optional,
        "images": {p["name"]: p["available"] for p in _photos.catalogue()},
    }
