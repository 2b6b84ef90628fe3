"""Demo: nearest digits under cosine, L2 or dot, on the PCA map of the digits."""

from __future__ import annotations

import functools
import threading
from typing import Any

import numpy as np
from fastapi import APIRouter

import dotwise as dw

from .._json import as_json, captured_warnings, jarr, jnum, py_literal
from ..schemas import SearchRequest

TITLE = "Similarity search"
ORDER = 60
router = APIRouter()

_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    data = load_digits()
    return data.data.astype(np.float64), data.target.astype(int)


@functools.lru_cache(maxsize=4)
def _index(metric: str) -> Any:
    X, _ = _digits()
    with _lock:
        index = dw.Index(X.shape[1], metric=metric)
        index.add(X)
    return index


@functools.lru_cache(maxsize=1)
def _pca_map() -> tuple[Any, np.ndarray]:
    X, _ = _digits()
    pca = dw.PCA(n_components=2)
    return pca, pca.fit_transform(X)


@router.get("/api/digits/map", summary="the digits collection mapped to 2-D by PCA")
@as_json
async def digits_map() -> dict[str, Any]:
    """``xy``: the 1 797 digits on their first two principal components (``dw.PCA``),
    ``labels``, ``explained_variance_ratio``."""
    _, y = _digits()
    pca, coords = _pca_map()
    return {"xy": jarr(np.round(coords, 3)), "labels": y.tolist(),
            "explained_variance_ratio": jarr(pca.explained_variance_ratio_),
            "python": "from sklearn.datasets import load_digits\nimport dotwise as dw\n"
                      "X = load_digits().data\nxy = dw.PCA(n_components=2).fit_transform(X)"}


@router.post("/api/search", summary="nearest digits under cosine, L2 or dot")
@as_json
async def search(req: SearchRequest) -> dict[str, Any]:
    """Answer (from ``dw.Index``): ``neighbours`` (id, label, score — similarity for cosine
    and dot, distance for l2 — pixels, map position), the query's position ``query_xy``.
    A query by index leaves the digit itself out of its neighbours."""
    X, y = _digits()
    index = _index(req.metric)
    pca, coords = _pca_map()
    query = X[req.index] if req.index is not None else np.asarray(req.pixels, dtype=float)
    extra = 1 if req.index is not None else 0
    with captured_warnings() as warns:
        result = index.search(query, req.k + extra)
        q_xy = pca.transform(query[None, :])[0]
    ids = np.asarray(result.ids).reshape(-1)
    scores = np.asarray(result.scores, dtype=float).reshape(-1)
    neighbours = []
    for i, s in zip(ids, scores, strict=True):
        if i < 0 or (req.index is not None and int(i) == req.index):
            continue
        neighbours.append({"id": int(i), "label": int(y[i]), "score": jnum(s),
                           "pixels": X[i].tolist(), "xy": jarr(coords[i])})
    neighbours = neighbours[: req.k]
    qsrc = f"X[{req.index}]" if req.index is not None else f"np.array({py_literal(query)})"
    return {
        "metric": req.metric, "query_pixels": query.tolist(),
        "query_label": None if req.index is None else int(y[req.index]),
        "query_xy": jarr(q_xy), "neighbours": neighbours, "warnings": warns,
        "python": (
            "import numpy as np\nfrom sklearn.datasets import load_digits\nimport dotwise as dw\n"
            f"X = load_digits().data\nindex = dw.Index(64, metric={req.metric!r})\n"
            f"index.add(X)\nq = {qsrc}\nres = index.search(q, k={req.k + extra})\n"
            "res.ids, res.scores"
        ),
    }
