"""Demo: fit a polynomial by projection (least squares), ridge for comparison."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter

import dotwise as dw

from .._json import as_json, captured_warnings, jarr, jnum, py_literal
from ..schemas import LstsqRequest

TITLE = "Least squares"
ORDER = 40
router = APIRouter()

@router.post("/api/lstsq", summary="fit a polynomial by projection; ridge for comparison")
@as_json
async def lstsq(req: LstsqRequest) -> dict[str, Any]:
    """Answer (from ``dw.lstsq`` on the Vandermonde matrix A = [1, x, x², …]): ``coef``,
    ``residual_norm``, ``rank``, ``cond``, ``method``; ``fitted`` Ax̂, ``residuals`` r,
    ``At_r`` = Aᵀr (≈ 0); the curve over [x_min, x_max]; with alpha > 0 also ``ridge``
    (``dw.ridge`` coefficients and curve)."""
    pts = np.asarray(req.points, dtype=float)
    x, y = pts[:, 0], pts[:, 1]
    A = np.vander(x, req.degree + 1, increasing=True)
    xs = np.linspace(req.x_min, req.x_max, 121)
    Xs = np.vander(xs, req.degree + 1, increasing=True)
    with captured_warnings() as warns:
        res = dw.lstsq(A, y)
        fitted = dw.dot(A, res.x)
        r = y - fitted
        atr = dw.dot(A.T, r)
        curve = dw.dot(Xs, res.x)
        ridge = None
        if req.alpha > 0:
            coef = dw.ridge(A, y, req.alpha)
            ridge = {"coef": jarr(coef), "curve": jarr(dw.dot(Xs, coef)),
                     "residual_norm": jnum(dw.norm(y - dw.dot(A, coef)))}
    return {
        "degree": req.degree, "alpha": req.alpha, "coef": jarr(res.x),
        "residual_norm": jnum(np.asarray(res.residual_norm).reshape(-1)[0]),
        "rank": int(res.rank), "cond": jnum(res.cond), "method": str(res.method),
        "fitted": jarr(fitted), "residuals": jarr(r), "At_r": jarr(atr),
        "At_r_norm": jnum(dw.norm(atr)),
        "curve_x": jarr(xs), "curve_y": jarr(curve), "ridge": ridge, "warnings": warns,
        "python": (
            f"import numpy as np, dotwise as dw\nx = np.array({py_literal(x)})\ny = np.array({py_literal(y)})\n"
            f"A = np.vander(x, {req.degree + 1}, increasing=True)   # 1, x, x², ...\n"
            "res = dw.lstsq(A, y)        # res.x: coefficients, res.method, res.cond\n"
            "r = y - A @ res.x\nA.T @ r                      # ≈ 0: r is orthogonal to col(A)"
            + (f"\ndw.ridge(A, y, alpha={req.alpha:g})" if req.alpha > 0 else "")
        ),
    }
