"""Demo: scaled dot-product attention on a few tokens."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from fastapi import APIRouter

import dotwise as dw
from dotwise.attention import attention_entropy

from .._json import as_json, captured_warnings, jarr, jnum, py_literal
from ..schemas import AttentionRequest

TITLE = "Attention"
ORDER = 50
router = APIRouter()

@router.post("/api/attention", summary="scaled dot-product attention on a few tokens")
@as_json
async def attention(req: AttentionRequest) -> dict[str, Any]:
    """Answer (from ``dw.scaled_dot_product_attention``): the ``q``, ``k``, ``v`` used, the
    ``scale`` (1/√d or 1, over the temperature), ``weights`` (rows sum to 1), ``output``,
    ``entropy`` per row (nats) and its maximum ``max_entropy`` (uniform over allowed keys)."""
    n, d = len(req.tokens), req.d
    rng = np.random.default_rng(req.seed)
    mats = {}
    for name in ("q", "k", "v"):
        given = getattr(req, name)
        drawn = np.round(rng.standard_normal((n, d)), 2)
        mats[name] = np.asarray(given, dtype=float) if given is not None else drawn
    base = 1.0 / math.sqrt(d) if req.scaled else 1.0
    scale = base / req.temperature
    with captured_warnings() as warns:
        out, weights = dw.scaled_dot_product_attention(mats["q"], mats["k"], mats["v"], is_causal=req.causal,
                                                     scale=scale, return_weights=True)
        entropy = attention_entropy(weights)
    allowed = np.arange(1, n + 1) if req.causal else np.full(n, n)
    return {
        "tokens": req.tokens, "d": d, "q": jarr(mats["q"]), "k": jarr(mats["k"]),
        "v": jarr(mats["v"]), "scale": jnum(scale), "weights": jarr(weights),
        "output": jarr(out), "entropy": jarr(entropy),
        "max_entropy": jarr(np.log(allowed)), "warnings": warns,
        "python": (
            "import numpy as np, dotwise as dw\n"
            f"q = np.array({py_literal(mats['q'])})\nk = np.array({py_literal(mats['k'])})\n"
            f"v = np.array({py_literal(mats['v'])})\n"
            f"out, w = dw.scaled_dot_product_attention(q, k, v, is_causal={req.causal},\n"
            f"    scale={'1 / np.sqrt(' + str(d) + ')' if req.scaled else '1.0'} / "
            f"{req.temperature:g},  # / temperature\n"
            "    return_weights=True)\n"
            "from dotwise.attention import attention_entropy\nattention_entropy(w)"
        ),
    }
