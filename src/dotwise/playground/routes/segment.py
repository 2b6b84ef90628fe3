"""Demo: customer segmentation — standardise, k-means, profiles in words, a 2-D PCA map."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from fastapi import APIRouter

import dotwise as dw

from .._json import as_json, captured_warnings, jarr, jnum
from ..schemas import SegmentRequest

TITLE = "Customer segments"
ORDER = 68
router = APIRouter()

#: The synthetic table every request segments (made by ``dw.customer_table``).
N_CUSTOMERS = 1000
TABLE_SEED = 0


@functools.lru_cache(maxsize=1)
def table() -> dict[str, np.ndarray]:
    """The seeded synthetic customer table (cached)."""
    return dw.customer_table(N_CUSTOMERS, random_state=TABLE_SEED)


@router.post("/api/segment", summary="Segment the synthetic customers and replay Lloyd's steps")
@as_json
async def segment(req: SegmentRequest) -> dict[str, Any]:
    """Answer (from ``dw.segment`` and ``dw.models.kmeans_steps``): the ``segments`` (size,
    share, name, plain-words description, z-scores and means per feature), every
    customer's ``labels`` and position on the 2-D PCA ``map`` (``map_variance``: share of
    the variance per axis); and ``steps``: one run of Lloyd's algorithm on the same
    standardised features from a k-means++ seed, per step the labels, the inertia and the
    centres placed on the map (``centres_map``). The table is synthetic (``synthetic``)."""
    from dotwise.models import kmeans_steps

    data = table()
    with captured_warnings() as warns:
        seg = dw.segment(data, req.features, k=req.k, random_state=req.seed, unit="customers")
        X = np.column_stack([data[f] for f in req.features])
        Z = (X - X.mean(axis=0)) / X.std(axis=0)  # step 1 of dw.segment: z-scores
        steps = kmeans_steps(Z, req.k, max_iter=req.max_steps, random_state=req.seed)
        axes = dw.PCA(n_components=2).fit(Z)  # the map's two principal axes
        centres = [axes.transform(s.centers) for s in steps]
    summary = seg.to_dict(labels=True)
    return {
        "synthetic": True, "n_rows": summary["n_rows"], "features": summary["features"],
        "k": summary["k"], "inertia": jnum(summary["inertia"]),
        "segments": summary["segments"], "labels": summary["labels"],
        "map": jarr(np.round(seg.map, 4)), "map_variance": summary["map_variance"],
        "steps": [{"labels": s.labels.tolist(), "inertia": jnum(s.inertia),
                   "centres_map": jarr(c)} for s, c in zip(steps, centres, strict=True)],
        "steps_converged": len(steps) <= req.max_steps,
        "warnings": warns,
        "python": (
            "import dotwise as dw\nfrom dotwise.models import kmeans_steps\n"
            f"table = dw.customer_table({N_CUSTOMERS}, random_state={TABLE_SEED})   "
            "# synthetic customers\n"
            f"features = {req.features!r}\n"
            f"seg = dw.segment(table, features, k={req.k}, random_state={req.seed}, "
            "unit='customers')\n"
            "print(seg)              # sizes and a plain-words profile per segment\n"
            "seg.map                 # (n, 2): the 2-D PCA map\n"
            "import numpy as np\n"
            "X = np.column_stack([table[f] for f in features])\n"
            "Z = (X - X.mean(axis=0)) / X.std(axis=0)\n"
            f"steps = kmeans_steps(Z, {req.k}, max_iter={req.max_steps}, "
            f"random_state={req.seed})\n"
            "[s.inertia for s in steps]   # never increases"
        ),
    }
