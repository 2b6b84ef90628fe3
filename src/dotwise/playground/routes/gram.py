"""Demo: Gram–Schmidt step by step in 3-D, and the loss of orthogonality of each method."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter

import dotwise as dw

from .._json import as_json, captured_warnings, jarr, jnum, py_literal
from ..schemas import GramSchmidtLossRequest, GramSchmidtRequest

TITLE = "Gram–Schmidt"
ORDER = 30
router = APIRouter()


def _step(s: Any) -> dict[str, Any]:
    return {
        "vector": jarr(s.vector), "remainder": jarr(s.remainder),
        "remainder_norm": jnum(s.remainder_norm), "q": None if s.q is None else jarr(s.q),
        "projections": [{"onto": p.onto, "pass": p.pass_, "vector": jarr(p.vector),
                         "coefficient": jnum(p.coefficient)} for p in s.projections],
    }


@router.post("/api/gram-schmidt", summary="Gram–Schmidt step by step in 3-D")
@as_json
async def gram_schmidt(req: GramSchmidtRequest) -> dict[str, Any]:
    """Answer: ``Q`` and ``R`` from ``dw.gram_schmidt`` (V = QR, vectors as columns),
    ``orthogonality_loss`` ‖QᵀQ − I‖, and ``steps`` — the steps the chosen method really
    takes (``return_steps=True``): per vector every projection subtracted (onto which q,
    in which ``pass`` — two for reorthogonalized — with the coefficient), the
    ``remainder``, its norm (R_kk) and ``q``. Dependent vectors: 422 with the library's
    message."""
    V = np.asarray(req.vectors, dtype=float).T  # columns are the vectors
    with captured_warnings() as warns:
        Q, R, steps = dw.gram_schmidt(V, method=req.method, return_steps=True)
        loss = dw.orthogonality_loss(Q)
    return {
        "method": req.method, "Q": jarr(Q), "R": jarr(R), "steps": [_step(s) for s in steps],
        "passes": 2 if req.method == "reorthogonalized" else 1,
        "orthogonality_loss": jnum(loss), "warnings": warns,
        "python": (
            f"import numpy as np, dotwise as dw\nV = np.array({py_literal(V.T)}).T"
            "  # vectors as columns\n"
            f"Q, R, steps = dw.gram_schmidt(V, method={req.method!r}, return_steps=True)\n"
            "dw.orthogonality_loss(Q)   # ‖QᵀQ − I‖"
        ),
    }


def hilbert(n: int) -> np.ndarray:
    """The n×n Hilbert matrix H_ij = 1 / (i + j + 1) (i, j from 0)."""
    i = np.arange(n, dtype=float)
    return 1.0 / (i[:, None] + i[None, :] + 1.0)


@router.post("/api/gram-schmidt/loss",
             summary="Loss of orthogonality of each method on a Hilbert matrix")
@as_json
async def gram_schmidt_loss(req: GramSchmidtLossRequest) -> dict[str, Any]:
    """Answer: ``cond`` and ``rank`` of the n×n Hilbert matrix (``dw.inspect``: cond is
    ``"inf"`` once rounding makes it numerically singular, rank < n) and per method its
    orthogonality ``loss`` (or the ``error`` the library raised)."""
    H = hilbert(req.n)
    rows = []
    factorizations = [(m, lambda M, m=m: dw.gram_schmidt(M, method=m))
                      for m in ("classical", "modified", "reorthogonalized")]
    factorizations.append(("householder", dw.householder_qr))
    with captured_warnings() as warns:
        for method, factor in factorizations:
            try:
                Q, _ = factor(H)
                rows.append({"method": method, "loss": jnum(dw.orthogonality_loss(Q)),
                             "error": None})
            except (ValueError, np.linalg.LinAlgError) as exc:
                rows.append({"method": method, "loss": None, "error": str(exc)})
        report = dw.inspect(H, eigen=False)
    return {
        "n": req.n, "cond": jnum(report.cond), "rank": report.rank, "methods": rows,
        "warnings": warns,
        "python": (
            "import scipy.linalg, dotwise as dw\n"
            f"H = scipy.linalg.hilbert({req.n})\n"
            "for m in ('classical', 'modified', 'reorthogonalized'):\n"
            "    Q, R = dw.gram_schmidt(H, method=m)\n"
            "    print(m, dw.orthogonality_loss(Q))"
        ),
    }
