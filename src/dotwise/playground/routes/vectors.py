"""Demo: dot product, norms, cosine, angle and the projection of u on v."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter

import dotwise as dw

from .._json import as_json, captured_warnings, jarr, jnum, py_literal
from ..schemas import VectorsRequest

TITLE = "Dot & projection"
ORDER = 10
router = APIRouter()


@router.post("/api/vectors", summary="Dot, norms, cosine, angle and projections of u on v")
@as_json
async def vectors(req: VectorsRequest) -> dict[str, Any]:
    """Answer: ``dot``, ``norm_u``, ``norm_v``, ``cosine``, ``angle_degrees``,
    ``scalar_projection``, ``vector_projection``, ``residual`` (u − proj, orthogonal to v),
    ``residual_dot_v``; for drawing ``span_v`` and ``right_angle``; ``warnings``, ``python``.
    Zero vectors: 422 with the library's message."""
    u, v = np.asarray(req.u, dtype=float), np.asarray(req.v, dtype=float)
    with captured_warnings() as warns:
        dot = dw.dot(u, v)
        norm_u, norm_v = dw.norm(u), dw.norm(v)
        cosine = dw.cosine_similarity(u, v)
        angle = dw.angle(u, v, degrees=True)
        scalar = dw.scalar_projection(u, v)
        proj = dw.vector_projection(u, v)
    residual = u - proj
    v_hat = dw.normalize(v)
    span = np.stack([-20 * v_hat, 20 * v_hat])  # the line through v, for the drawing
    right_angle = None
    r_len = float(dw.norm(residual))
    if u.size == 2 and r_len > 1e-9:
        side = min(0.5, r_len / 2)
        r_hat = residual / r_len
        corner = [proj + side * r_hat, proj + side * (r_hat + v_hat), proj + side * v_hat]
        right_angle = jarr(np.stack(corner))
    return {
        "u": jarr(u), "v": jarr(v), "dot": jnum(dot), "span_v": jarr(span),
        "right_angle": right_angle, "norm_u": jnum(norm_u),
        "norm_v": jnum(norm_v), "cosine": jnum(cosine), "angle_degrees": jnum(angle),
        "scalar_projection": jnum(scalar), "vector_projection": jarr(proj),
        "residual": jarr(residual), "residual_dot_v": jnum(dw.dot(residual, v)),
        "warnings": warns,
        "python": (
            f"import dotwise as dw\nu, v = {py_literal(u)}, {py_literal(v)}\n"
            "dw.dot(u, v), dw.norm(u), dw.norm(v)\n"
            "dw.cosine_similarity(u, v), dw.angle(u, v, degrees=True)\n"
            "dw.scalar_projection(u, v), dw.vector_projection(u, v)"
        ),
    }
