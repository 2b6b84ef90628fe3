"""Demo: SVD compression of a sample photo at a chosen rank (and the photo list)."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter

import dotwise as dw

from .. import _photos
from .._json import as_json, jarr, jnum, png_data_url
from ..schemas import SvdRequest

TITLE = "SVD compression"
ORDER = 70
router = APIRouter()


#: Plain ``def``: FastAPI runs it in a worker thread, so the quick demos stay responsive.
@router.post("/api/svd", summary="SVD compression of a sample photo at a chosen rank")
@as_json
def svd(req: SvdRequest) -> dict[str, Any]:
    """Answer (from ``dw.svd_compress`` and ``dw.psnr``): ``original`` and ``reconstruction``
    as PNG data URLs, ``psnr`` (dB), ``nbytes`` stored, ``ratio`` (stored / raw bytes),
    ``energy`` kept (Σ kept σ² / Σ σ², all channels) and the ``singular_values`` per
    channel (first 200), all from the compressed result."""
    img = _photos.photo(req.image, req.max_side)
    h, w = img.shape[:2]
    if req.rank > min(h, w):
        raise ValueError(f"rank must be at most min(height, width) = {min(h, w)} for this "
                         f"{h}×{w} image, got {req.rank}")
    warns: list[str] = []  # a threaded route: warnings are not captured (see _json)
    c = dw.svd_compress(img, rank=req.rank)
    rec = np.asarray(c.decompress(), dtype=np.float32).reshape(img.shape)
    spectrum = [sv[:200] for sv in c.params["singular_values"]]
    return {
        "image": req.image, "height": h, "width": w, "rank": req.rank,
        "original": _photos.photo_png(req.image, req.max_side),
        "reconstruction": png_data_url(rec),
        "psnr": jnum(dw.psnr(img, rec)), "nbytes": int(c.nbytes), "ratio": jnum(c.ratio),
        "raw_bytes": int(c.raw_nbytes), "energy": jnum(c.params["energy_total"]),
        "singular_values": jarr(spectrum), "warnings": warns,
        "python": (
            f"import dotwise as dw\nimg = dw.sample_image({req.image!r}, max_size={req.max_side})\n"
            f"c = dw.svd_compress(img, rank={req.rank})\n"
            "c.nbytes, c.ratio, dw.psnr(img, c.decompress()), c.params['energy_total']"
        ),
    }
