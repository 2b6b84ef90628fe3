"""Demo: a 2-D "game scene" — a shape moved, turned and scaled by composed 3×3 matrices."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter

import dotwise as dw

from .._json import as_json, captured_warnings, jarr, py_literal
from ..schemas import TransformRequest, TransformStep

TITLE = "2-D transformations"
ORDER = 28
router = APIRouter()

#: The shapes, drawn around their centre (0, 0) so that the centre's image is the
#: shape's current centre after any chain of steps.
SHAPES = {
    "ship": [[0.0, 1.6], [0.45, 0.4], [1.0, -0.2], [0.5, -0.35], [0.35, -0.9], [-0.35, -0.9],
             [-0.5, -0.35], [-1.0, -0.2], [-0.45, 0.4]],
    "house": [[-1.0, -1.0], [1.0, -1.0], [1.0, 0.3], [0.0, 1.3], [-1.0, 0.3]],
}

PRESET_CHAINS = {
    "turn about its centre, then fly": [
        {"kind": "rotate", "angle": 30, "about": "centre"},
        {"kind": "scale", "sx": 1.5, "sy": 1.5, "about": "centre"},
        {"kind": "translate", "tx": 4, "ty": 2},
    ],
    "fly, then turn about the origin": [
        {"kind": "translate", "tx": 4, "ty": 2},
        {"kind": "rotate", "angle": 30, "about": "origin"},
    ],
    "mirror and shear": [
        {"kind": "reflect", "axis": "y"},
        {"kind": "shear", "kx": 0.5, "ky": 0},
        {"kind": "translate", "tx": -3, "ty": -2},
    ],
}


def _step(s: TransformStep, centre: np.ndarray) -> tuple[str, np.ndarray, str]:
    """The step's name, its 3×3 matrix (from ``dw``) and the call that builds it."""
    about = (float(centre[0]), float(centre[1])) if s.about == "centre" else None
    where = f", about=({about[0]:.4g}, {about[1]:.4g})" if about is not None else ""
    at = " about the centre" if about is not None else ""
    if s.kind == "rotate":
        return (f"rotate {s.angle:g}°{at}", dw.rotation(s.angle, about=about),
                f"dw.rotation({s.angle:g}{where})")
    if s.kind == "scale":
        return (f"scale ×({s.sx:g}, {s.sy:g}){at}", dw.scaling(s.sx, s.sy, about=about),
                f"dw.scaling({s.sx:g}, {s.sy:g}{where})")
    if s.kind == "shear":
        return (f"shear ({s.kx:g}, {s.ky:g})", dw.shear(s.kx, s.ky),
                f"dw.shear({s.kx:g}, {s.ky:g})")
    if s.kind == "reflect":
        axis = s.axis if isinstance(s.axis, str) else float(s.axis)
        label = f"the {axis} axis" if isinstance(axis, str) else f"the line at {axis:g}°"
        return (f"mirror in {label}", dw.reflection(axis), f"dw.reflection({axis!r})")
    return (f"move by ({s.tx:g}, {s.ty:g})", dw.translation(s.tx, s.ty),
            f"dw.translation({s.tx:g}, {s.ty:g})")


@router.get("/api/transform/presets", summary="The shapes and preset chains of the 2-D scene")
@as_json
async def transform_presets() -> dict[str, Any]:
    """``shapes`` (name → vertices around the centre (0, 0)) and ``chains`` (name → steps)."""
    return {"shapes": SHAPES, "chains": PRESET_CHAINS}


@router.post("/api/transform", summary="Compose 2-D transforms step by step and move a shape")
@as_json
async def transform(req: TransformRequest) -> dict[str, Any]:
    """Answer (from ``dw.compose_steps`` and ``dw.apply_transform``): per step its ``name``,
    its ``matrix``, the ``product`` of everything so far (the new step multiplies from the
    left), the shape after it (``points``) and the shape's ``centre``; the ``final``
    product, equal to ``dw.compose`` of the steps in reverse order. A step ``about`` the
    centre turns or scales about the shape's centre at that moment."""
    shape = np.asarray(SHAPES[req.shape])
    named: list[tuple[str, np.ndarray]] = []
    calls: list[str] = []
    out = []
    with captured_warnings() as warns:
        product = np.eye(3)
        for s in req.steps:
            centre = dw.apply_transform([0.0, 0.0], product)  # where the centre is now
            name, M, call = _step(s, centre)
            named.append((name, M))
            calls.append(call)
            chain = dw.compose_steps(*named)
            product = chain[-1].product
        chain = dw.compose_steps(*named)
        for st in chain:
            out.append({"name": st.name, "matrix": jarr(st.matrix), "product": jarr(st.product),
                        "points": jarr(dw.apply_transform(shape, st.product)),
                        "centre": jarr(dw.apply_transform([0.0, 0.0], st.product))})
        final = dw.compose(*[M for _, M in reversed(named)])
    lines = "\n".join(f"    ({name!r}, {call})," for (name, _), call in zip(named, calls,
                                                                             strict=True))
    return {
        "shape": req.shape, "original": jarr(shape), "steps": out, "final": jarr(final),
        "warnings": warns,
        "python": (
            "import numpy as np, dotwise as dw\n"
            f"shape = np.array({py_literal(shape)})\n"
            f"chain = dw.compose_steps(   # in the order they act on the shape\n{lines}\n)\n"
            "for step in chain:\n"
            "    print(step.name); print(step.product)   # the partial products\n"
            "moved = dw.apply_transform(shape, chain[-1].product)"
        ),
    }
