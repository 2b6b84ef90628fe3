"""Demo: eigenvectors are the directions a matrix only stretches; power iteration finds one."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from fastapi import APIRouter, Query

import dotwise as dw

from .._json import as_json, captured_warnings, jarr, jnum, py_literal
from ..schemas import EigenRequest
from ._geometry import apply, eigen_payload

TITLE = "Eigenvectors"
ORDER = 25
router = APIRouter()

_C, _S = math.cos(math.pi / 4), math.sin(math.pi / 4)
PRESETS = {
    2: {
        "symmetric": [[2, 1], [1, 2]],
        "stretch": [[3, 0], [0, 1]],
        "general": [[2, 1], [0.5, 1.5]],
        "slow (λ₂/λ₁ = 0.9)": [[1, 0.9], [0, 0.9]],
        "shear (defective)": [[1, 1], [0, 1]],
        "rotation 45° (complex)": [[_C, -_S], [_S, _C]],
        "reflection (±1: no dominant)": [[0, 1], [1, 0]],
    },
    3: {
        "symmetric": [[2, 1, 0], [1, 2, 1], [0, 1, 2]],
        "stretch": [[3, 0, 0], [0, 2, 0], [0, 0, 0.5]],
        "general": [[2, 1, 0], [0, 1.5, 0.5], [0.3, 0, 1]],
        "shear (defective)": [[1, 1, 0], [0, 1, 1], [0, 0, 1]],
    },
}


def _circles(n: int, count: int = 120) -> np.ndarray:
    """The unit circle (n=2) or three great circles of the unit sphere (n=3): (c, count, n)."""
    t = np.linspace(0, 2 * np.pi, count)
    c, s, z = np.cos(t), np.sin(t), np.zeros_like(t)
    if n == 2:
        return np.stack([c, s], axis=1)[None]
    return np.stack([np.stack([c, s, z], 1), np.stack([c, z, s], 1), np.stack([z, c, s], 1)])


@router.get("/api/eigen/presets", summary="Preset matrices for the eigenvector demo")
@as_json
async def eigen_presets(n: int = Query(2, ge=2, le=3)) -> dict[str, Any]:
    """``presets``: name → n×n matrix (symmetric, general, slow, defective, complex...)."""
    return {"n": n, "presets": {k: jarr(m) for k, m in PRESETS[n].items()}}


@router.post("/api/eigen", summary="Eigenpairs of a 2×2/3×3 matrix and power iteration's path")
@as_json
async def eigen(req: EigenRequest) -> dict[str, Any]:
    """Answer (from ``dw.eigendecomposition`` and ``dw.power_iteration``): the real eigenpairs
    ``eigen`` (value, unit vector), ``complex_eigenvalues``, ``symmetric``, ``defective``,
    ``cond_V``; for drawing the unit circle (sphere's great circles) ``circle`` and its image
    ``ellipse`` = A·circle, each eigenvector's image ``eigen_images`` (= λv); and power
    iteration from ``x0``: the unit ``iterates`` x₀…x_k, the Rayleigh quotients ``quotients``
    and residuals ‖Ax − λx‖ per step, ``converged``, and ``ratio`` |λ₂/λ₁| (its rate)."""
    A = np.asarray(req.matrix, dtype=float)
    n = A.shape[0]
    x0 = np.asarray(req.x0 if req.x0 is not None else [1.0, 0.3, 0.2][:n], dtype=float)
    with captured_warnings() as warns:
        e = dw.eigendecomposition(A)
    walk_warns: list[str] = []
    if req.steps:
        with captured_warnings() as walk_warns:  # stopping after `steps` is the point here
            p = dw.power_iteration(A, x0=x0, max_iter=req.steps, tol=1e-12,
                                   return_iterates=True)
        path, quotients, residuals = p.iterates[0], p.history[0], p.residual_history[0]
        converged = p.converged[0]
    else:
        path, quotients, residuals, converged = dw.normalize(x0)[None], [], [], False
    walk_note = [w for w in walk_warns if "did not converge" not in w]
    mags = np.sort(np.abs(np.atleast_1d(e.values)))[::-1]
    ratio = float(mags[1] / mags[0]) if n > 1 and mags[0] > 0 else None
    circle = _circles(n)
    payload = eigen_payload(e)
    return {
        "n": n, "matrix": jarr(A), **payload,
        "eigen_images": [jarr(pair["value"] * np.asarray(pair["vector"]))
                         for pair in payload["eigen"]],
        "diagonalizable": e.diagonalizable,
        "circle": jarr(circle), "ellipse": jarr(apply(A, circle)),
        "x0": jarr(x0), "steps": req.steps, "iterates": jarr(path),
        "quotients": jarr(quotients), "residuals": jarr(residuals), "converged": converged,
        "iterations": len(quotients), "ratio": None if ratio is None else jnum(ratio),
        "warnings": warns + walk_note,
        "python": (
            f"import dotwise as dw\nA = {py_literal(A)}\n"
            "e = dw.eigendecomposition(A)   # values, vectors, residuals, symmetric, defective\n"
            "print(e)\n"
            f"p = dw.power_iteration(A, x0={py_literal(x0)}, max_iter={max(req.steps, 1)}, "
            "tol=1e-12,\n                       return_iterates=True)\n"
            "p.iterates[0], p.history[0]    # x₀…x_k and the Rayleigh quotients"
        ),
    }
