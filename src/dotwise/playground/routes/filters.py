"""Demo: a pipeline of photo filters, fused, applied to a sample photo."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter

import dotwise as dw
import dotwise.image as dwi

from .. import _photos
from .._json import as_json, png_data_url
from ..schemas import FiltersRequest

TITLE = "Photo filters"
ORDER = 80
router = APIRouter()

#: name -> ordered parameters (name, min, max, default, step). Constructors are called
#: positionally, in this order, from ``dotwise.image``; nothing else can be named.
FILTERS: dict[str, list[tuple[str, float, float, float, float]]] = {
    "gaussian_blur": [("sigma", 0.3, 8.0, 2.0, 0.1)],
    "box_blur": [("size", 1, 15, 3, 2)],
    "motion_blur": [("length", 1, 31, 9, 1), ("angle", -180, 180, 0, 5)],
    "sharpen": [("amount", 0.0, 5.0, 1.0, 0.1)],
    "unsharp_mask": [("sigma", 0.3, 8.0, 2.0, 0.1), ("amount", 0.0, 5.0, 1.0, 0.1)],
    "laplacian": [],
    "edges": [],
    "emboss": [("strength", 0.0, 3.0, 1.0, 0.1)],
    "grayscale": [],
    "sepia": [],
    "invert": [],
    "brightness": [("factor", 0.0, 3.0, 1.2, 0.05)],
    "contrast": [("factor", 0.0, 3.0, 1.3, 0.05)],
    "saturation": [("factor", 0.0, 3.0, 1.5, 0.05)],
}
_INT_PARAMS = {"size", "length"}


@router.get("/api/filters", summary="the filters a pipeline can use, with parameter ranges")
@as_json
async def filters_catalogue() -> dict[str, Any]:
    """Per filter of ``dotwise.image`` that a pipeline may use: its parameters and ranges."""
    return {"filters": {name: [{"name": p, "min": lo, "max": hi, "default": d, "step": st}
                               for p, lo, hi, d, st in params]
                        for name, params in FILTERS.items()}}


def _check_step(step: Any) -> tuple[list[float | int], str]:
    """Validate one pipeline step against the catalogue: its positional args and its call text."""
    spec = FILTERS.get(step.name)
    if spec is None:
        raise ValueError(f"unknown filter {step.name!r}; choose one of {', '.join(FILTERS)}")
    unknown = set(step.params) - {p[0] for p in spec}
    if unknown:
        raise ValueError(f"filter {step.name!r} has no parameter(s) {', '.join(sorted(unknown))}; "
                         f"it takes {', '.join(p[0] for p in spec) or 'none'}")
    args: list[float | int] = []
    for pname, lo, hi, default, _ in spec:
        value = float(step.params.get(pname, default))
        if not lo <= value <= hi:
            raise ValueError(f"{step.name}.{pname} must be in [{lo:g}, {hi:g}], got {value:g}")
        args.append(int(round(value)) if pname in _INT_PARAMS else value)
    return args, f"{step.name}({', '.join(f'{a:g}' for a in args)})"


#: Plain ``def``: FastAPI runs it in a worker thread, so the quick demos stay responsive.
@router.post("/api/filters", summary="a filter pipeline applied (fused) to a sample photo")
@as_json
def filters(req: FiltersRequest) -> dict[str, Any]:
    """Answer: the ``original`` and the ``result`` of ``dw.Pipeline(steps).fuse()`` as PNG data
    URLs, the ``steps`` as calls, ``n_steps``, ``n_passes`` after fusing and the fusion
    report (``fused``)."""
    checked = [_check_step(s) for s in req.steps]
    img = _photos.photo(req.image, req.max_side)
    # the names were checked against FILTERS, a fixed list of dotwise.image constructors
    built = [(getattr(dwi, s.name)(*args), call)
             for s, (args, call) in zip(req.steps, checked, strict=True)]
    warns: list[str] = []  # a threaded route: warnings are not captured (see _json)
    fused = dw.Pipeline([f for f, _ in built]).fuse()
    out = np.asarray(fused(img)) if built else img
    calls = [c for _, c in built]
    return {
        "image": req.image, "original": _photos.photo_png(req.image, req.max_side),
        "result": png_data_url(out),
        "steps": calls, "fused": str(fused.report),
        "n_steps": len(calls), "n_passes": int(fused.report.passes_after),
        "warnings": warns,
        "python": (
            "import dotwise as dw\nfrom dotwise.image import " + ", ".join(
                sorted({s.name for s in req.steps}) or ["gaussian_blur"]) + "\n"
            f"img = dw.sample_image({req.image!r}, max_size={req.max_side})\n"
            f"pipe = dw.Pipeline([{', '.join(calls)}]).fuse()\nout = pipe(img)"
        ),
    }
