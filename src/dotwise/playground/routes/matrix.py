"""Demo: what a 2×2 or 3×3 matrix does to space (det, rank, condition, eigen-directions)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from fastapi import APIRouter, Query

import dotwise as dw

from .._json import as_json, captured_warnings, jarr, jnum, py_literal
from ..schemas import MatrixRequest
from ._geometry import apply, eigen_payload, grid, unit_shape

TITLE = "Matrix transformation"
ORDER = 20
router = APIRouter()

_C, _S = math.cos(math.pi / 6), math.sin(math.pi / 6)
PRESETS = {
    2: {
        "identity": [[1, 0], [0, 1]],
        "rotation 30°": [[_C, -_S], [_S, _C]],
        "shear": [[1, 1], [0, 1]],
        "scale": [[2, 0], [0, 0.5]],
        "reflection": [[1, 0], [0, -1]],
        "projection onto x": [[1, 0], [0, 0]],
        "singular": [[1, 2], [0.5, 1]],
    },
    3: {
        "identity": [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
        "rotation 30° about z": [[_C, -_S, 0], [_S, _C, 0], [0, 0, 1]],
        "shear": [[1, 0.8, 0], [0, 1, 0], [0, 0, 1]],
        "scale": [[1.5, 0, 0], [0, 1, 0], [0, 0, 0.5]],
        "projection onto xy": [[1, 0, 0], [0, 1, 0], [0, 0, 0]],
        "singular (rank 1)": [[1, 2, 3], [2, 4, 6], [1, 2, 3]],
    },
}


@router.get("/api/matrix/presets", summary="Preset matrices (rotation, shear, projection...)")
@as_json
async def matrix_presets(n: int = Query(2, ge=2, le=3)) -> dict[str, Any]:
    """``presets``: name → n×n matrix (rotation, shear, scale, reflection, projection, singular)."""
    return {"n": n, "presets": {k: jarr(m) for k, m in PRESETS[n].items()}}


@router.post("/api/matrix", summary="What a 2×2 or 3×3 matrix does to space")
@as_json
async def matrix(req: MatrixRequest) -> dict[str, Any]:
    """Answer (from ``dw.inspect``, eigenpairs from its ``eigen`` report): ``det``, ``rank``,
    ``cond`` (``"inf"`` when singular), ``advice``; real eigenpairs ``eigen`` (value, unit
    vector), ``complex_eigenvalues``, ``defective``; where space collapses
    (``flattened_to``); and for drawing the grid, the unit square (cube) and the basis
    vectors before and after (1 − t)·I + t·A (``grid_image``, ``shape_image``,
    ``basis_images``, ``det_t``)."""
    A = np.asarray(req.matrix, dtype=float)
    n = A.shape[0]
    At = (1.0 - req.t) * np.eye(n) + req.t * A  # the drawing morphs from I to A
    with captured_warnings() as warns:
        report = dw.inspect(A)
        det_t = report.det if req.t == 1.0 else dw.inspect(At, eigen=False).det
    flattened = {0: "a point", 1: "a line", 2: "a plane"}.get(report.rank) \
        if report.rank < n else None
    lines, shape = grid(n), unit_shape(n)
    return {
        "n": n, "matrix": jarr(A), "rank": report.rank, "det": jnum(report.det),
        "cond": jnum(report.cond), "advice": list(report.advice),
        **eigen_payload(report.eigen),
        "t": req.t, "det_t": jnum(det_t), "basis_images": jarr(At.T),
        "grid": jarr(lines), "grid_image": jarr(apply(At, lines)),
        "shape": jarr(shape), "shape_image": jarr(apply(At, shape)),
        "flattened_to": flattened,
        "warnings": warns,
        "python": (
            f"import dotwise as dw\nA = {py_literal(A)}\nreport = dw.inspect(A)\n"
            "print(report)            # rank, det, condition number, eigenvalues, advice\n"
            "report.rank, report.det, report.cond, report.eigen.values"
        ),
    }
