"""The playground's JSON API: every number the page shows is computed here by dotwise.

Each route validates its body with a model from :mod:`.schemas` (limits → 422),
calls the public dotwise API, and returns plain JSON: finite floats as numbers,
infinities as the strings ``"inf"``/``"-inf"``, NaN as ``null``. Warnings the
library raises (``IllConditionedWarning``...) come back in a ``warnings`` list;
library errors come back as 422 with a readable ``detail`` (see ``app.py``). Each
answer carries ``python``: the equivalent dotwise call, shown in the page.
"""

from __future__ import annotations

import base64
import functools
import importlib
import inspect
import io
import json
import math
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from fastapi import APIRouter, Query, Response

import dotwise as dw

from .schemas import (
    LIMITS,
    AttentionRequest,
    FiltersRequest,
    GramSchmidtLossRequest,
    GramSchmidtRequest,
    LstsqRequest,
    MatrixRequest,
    SearchRequest,
    SvdRequest,
    VectorsRequest,
)

try:
    import orjson as _orjson
except ImportError:  # optional: the standard library does the same, a little slower
    _orjson = None

router = APIRouter(prefix="/api")

IMAGE_NAMES = ["astronaut", "camera", "coffee", "chelsea", "china", "flower"]


#: Routes that take long (photos) are plain ``def``: FastAPI runs them in worker threads so
#: the others stay responsive. The quick ones are ``async def`` and run one at a time on the
#: event loop, which also makes their ``warnings.catch_warnings`` (process-global state) safe;
#: the threaded ones do not capture warnings for that reason.
THREADED_ROUTES = ("svd", "filters")


class MissingFeature(RuntimeError):
    """A demo needs a part of dotwise that this installation does not have (yet)."""


# --------------------------------------------------------------------------- helpers
def jnum(x: Any) -> float | str | None:
    """A JSON-safe number: finite → float, ±inf → "inf"/"-inf", NaN → None."""
    x = float(x)
    if math.isfinite(x):
        return x
    if math.isnan(x):
        return None
    return "inf" if x > 0 else "-inf"


def jarr(a: Any) -> Any:
    """A JSON-safe nested list of an array (non-finite entries as in :func:`jnum`)."""
    a = np.asarray(a, dtype=float)
    if np.all(np.isfinite(a)):
        return a.tolist()
    if a.ndim == 0:
        return jnum(a)
    return [jarr(row) for row in a]


def as_json(func: Callable[..., Any]) -> Callable[..., Any]:
    """Return the route's dict as a JSON ``Response`` directly (orjson when installed).

    The payloads are already JSON-safe (see :func:`jnum`), so FastAPI's generic
    encoder is skipped: it costs more than the maths for the small demos.
    """
    if inspect.iscoroutinefunction(func):
        @functools.wraps(func)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Response:
            return json_response(await func(*args, **kwargs))

        return async_wrapper

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        return json_response(func(*args, **kwargs))

    return wrapper


def json_response(payload: Any, status_code: int = 200) -> Response:
    if _orjson is not None:
        body = _orjson.dumps(payload)
    else:
        body = json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()
    return Response(body, status_code=status_code, media_type="application/json")


def _fmt(x: float) -> str:
    return f"{float(x) + 0.0:.12g}"  # + 0.0: no "-0"


def _lst(a: Any) -> str:
    """Compact Python literal for the code boxes: [[1, 2], [3, 4]]."""
    a = np.asarray(a, dtype=float)
    if a.ndim == 0:
        return _fmt(a)
    return "[" + ", ".join(_lst(r) for r in a) + "]"


def need(module: str, name: str, what: str) -> Any:
    """``module.name`` or a :class:`MissingFeature` explaining which part is missing."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        raise MissingFeature(
            f"this demo needs {module}.{name} ({what}), which this dotwise installation "
            f"does not provide yet"
        ) from None


def available(module: str, name: str) -> bool:
    try:
        getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return False
    return True


@contextmanager
def captured_warnings() -> Iterator[list[str]]:
    """Collect warning messages raised inside the block (for the page to show)."""
    messages: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield messages
    for w in caught:
        text = f"{w.category.__name__}: {w.message}"
        if text not in messages:
            messages.append(text)


def _field(obj: Any, *names: str, default: Any = None) -> Any:
    """The first attribute (or mapping key) of ``obj`` among ``names``."""
    mapping = obj.to_dict() if hasattr(obj, "to_dict") else {}
    for name in names:
        if hasattr(obj, name):
            return getattr(obj, name)
        if name in mapping:
            return mapping[name]
    return default


FEATURES = {
    "vectors": [("dotwise.linalg", "vector_projection", "vector projections")],
    "matrix": [("dotwise.linalg", "inspect", "matrix inspection")],
    "gram_schmidt": [("dotwise.linalg", "gram_schmidt", "Gram–Schmidt"),
                     ("dotwise.linalg", "orthogonality_loss", "orthogonality loss")],
    "lstsq": [("dotwise.linalg", "lstsq", "least squares"), ("dotwise.linalg", "ridge", "ridge")],
    "attention": [("dotwise.attention", "scaled_dot_product_attention", "attention"),
                  ("dotwise.attention", "attention_entropy", "attention entropy")],
    "search": [("dotwise.search", "Index", "the similarity index"),
               ("dotwise.models", "PCA", "PCA")],
    "svd": [("dotwise.image", "svd_compress", "SVD compression"),
            ("dotwise.image", "sample_image", "sample photos"),
            ("dotwise.image", "psnr", "PSNR")],
    "filters": [("dotwise.image", "Pipeline", "filter pipelines"),
                ("dotwise.image", "sample_image", "sample photos")],
}


# --------------------------------------------------------------------------- meta
@router.get("/limits", summary="The input limits every request obeys")
@as_json
async def limits() -> dict[str, Any]:
    """Every limit as ``name: value`` (the same numbers the 422 messages quote)."""
    return dict(LIMITS)


@router.get("/status", summary="Which demos this installation can run")
@as_json
async def status() -> dict[str, Any]:
    """``version`` and, per demo, ``available`` and the ``missing`` dotwise names."""
    demos = {}
    for demo, parts in FEATURES.items():
        missing = [f"{m}.{n}" for m, n, _ in parts if not available(m, n)]
        demos[demo] = {"available": not missing, "missing": missing}
    return {"version": dw.__version__, "demos": demos}


# --------------------------------------------------------------------------- 1 vectors
@router.post("/vectors", summary="Demo 1: dot, norms, cosine, angle and projections of u on v")
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
            f"import dotwise as dw\nu, v = {_lst(u)}, {_lst(v)}\n"
            "dw.dot(u, v), dw.norm(u), dw.norm(v)\n"
            "dw.cosine_similarity(u, v), dw.angle(u, v, degrees=True)\n"
            "dw.scalar_projection(u, v), dw.vector_projection(u, v)"
        ),
    }


# --------------------------------------------------------------------------- 2 matrix
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


@router.get("/matrix/presets", summary="Demo 2: preset matrices (rotation, shear, projection...)")
@as_json
async def matrix_presets(n: int = Query(2, ge=2, le=3)) -> dict[str, Any]:
    """``presets``: name → n×n matrix (rotation, shear, scale, reflection, projection, singular)."""
    return {"n": n, "presets": {k: jarr(m) for k, m in PRESETS[n].items()}}


def _unit_shape(n: int) -> np.ndarray:
    """Edges of the unit square (n=2) or cube (n=3): array (n_edges, 2, n)."""
    if n == 2:
        c = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=float)
        return np.stack([c, np.roll(c, -1, axis=0)], axis=1)
    edges = []
    for a in range(8):
        for b in range(a + 1, 8):
            if bin(a ^ b).count("1") == 1:
                edges.append([[(a >> i) & 1 for i in range(3)], [(b >> i) & 1 for i in range(3)]])
    return np.asarray(edges, dtype=float)


def _grid(n: int, extent: int = 3) -> np.ndarray:
    """Grid lines as segments (n_lines, 2, n)."""
    ticks = np.arange(-extent, extent + 1, dtype=float)
    segs = []
    if n == 2:
        for t in ticks:
            segs.append([[t, -extent], [t, extent]])
            segs.append([[-extent, t], [extent, t]])
    else:
        for t in ticks[::2]:
            for s in ticks[::2]:
                segs.append([[t, s, -extent], [t, s, extent]])
                segs.append([[t, -extent, s], [t, extent, s]])
                segs.append([[-extent, t, s], [extent, t, s]])
    return np.asarray(segs, dtype=float)


def _apply(A: np.ndarray, points: np.ndarray) -> np.ndarray:
    """A x for every point x on the last axis: each coordinate is a dot product with a row."""
    return dw.dot(points[..., None, :], A)


@router.post("/matrix", summary="Demo 2: what a 2×2 or 3×3 matrix does to space")
@as_json
async def matrix(req: MatrixRequest) -> dict[str, Any]:
    """Answer (from ``dw.inspect``): ``det``, ``rank``, ``cond``, ``advice``; real eigenpairs
    ``eigen`` (value, unit vector), ``complex_eigenvalues``, ``defective``; where space
    collapses (``flattened_to``); and for drawing the grid, the unit square (cube) and the
    basis vectors before and after (1 − t)·I + t·A (``grid_image``, ``shape_image``,
    ``basis_images``, ``det_t``)."""
    inspect_matrix = need("dotwise.linalg", "inspect", "matrix inspection")
    A = np.asarray(req.matrix, dtype=float)
    n = A.shape[0]
    with captured_warnings() as warns:
        report = inspect_matrix(A)
    rank = int(_field(report, "rank"))
    det = _field(report, "det", "determinant")
    cond = _field(report, "cond", "condition_number", "condition")
    advice = _field(report, "advice", default=())
    advice = [str(advice)] if isinstance(advice, str) and advice else [str(a) for a in advice or ()]
    values, vectors_ = np.linalg.eig(A)
    eig: list[dict[str, Any]] = []
    kept: list[np.ndarray] = []
    defective = False
    for lam, vec in zip(values, vectors_.T, strict=True):
        if abs(lam.imag) < 1e-12 and np.all(np.abs(vec.imag) < 1e-12):
            v = np.where(np.abs(vec.real) < 1e-12, 0.0, vec.real)
            v = v if v[np.argmax(np.abs(v))] > 0 else -v  # one sign, for a steady display
            if any(abs(float(dw.dot(v, w))) > 1 - 1e-9 for w in kept):
                defective = True  # a repeated eigenvalue with one direction (e.g. a shear)
                continue
            kept.append(v)
            eig.append({"value": jnum(0.0 if abs(lam.real) < 1e-14 else lam.real),
                        "vector": jarr(v), "segment": jarr(np.stack([-4 * v, 4 * v]))})
    complex_pairs = [f"{lam.real:.3g} {'+' if lam.imag >= 0 else '−'} {abs(lam.imag):.3g}i"
                     for lam in values if abs(lam.imag) >= 1e-12]
    flattened = {0: "a point", 1: "a line", 2: "a plane"}.get(rank) if rank < n else None
    grid, shape = _grid(n), _unit_shape(n)
    At = (1.0 - req.t) * np.eye(n) + req.t * A  # the drawing morphs from I to A
    return {
        "n": n, "matrix": jarr(A), "rank": rank, "det": jnum(det), "cond": jnum(cond),
        "advice": advice,
        "eigen": eig, "complex_eigenvalues": complex_pairs, "defective": defective,
        "t": req.t, "det_t": jnum(np.linalg.det(At)), "basis_images": jarr(At.T),
        "grid": jarr(grid), "grid_image": jarr(_apply(At, grid)),
        "shape": jarr(shape), "shape_image": jarr(_apply(At, shape)),
        "flattened_to": flattened,
        "warnings": warns,
        "python": (
            f"import dotwise as dw\nA = {_lst(A)}\nreport = dw.inspect(A)\n"
            "print(report)            # rank, det, condition number, advice\n"
            "report.rank, report.det, report.cond"
        ),
    }


# --------------------------------------------------------------------------- 3 Gram–Schmidt
@router.post("/gram-schmidt", summary="Demo 3: Gram–Schmidt step by step in 3-D")
@as_json
async def gram_schmidt(req: GramSchmidtRequest) -> dict[str, Any]:
    """Answer: ``Q`` and ``R`` from ``dw.gram_schmidt`` (V = QR, vectors as columns),
    ``orthogonality_loss`` ‖QᵀQ − I‖, and ``steps``: per vector the projections subtracted
    (onto each earlier q, with the coefficient), the ``remainder``, its norm (R_kk) and ``q``.
    Dependent vectors: 422 with the library's message."""
    gs = need("dotwise.linalg", "gram_schmidt", "Gram–Schmidt")
    loss_fn = need("dotwise.linalg", "orthogonality_loss", "orthogonality loss")
    V = np.asarray(req.vectors, dtype=float).T  # columns are the vectors
    with captured_warnings() as warns:
        Q, R = gs(V, method=req.method)
        loss = loss_fn(Q)
        steps = []
        for i in range(V.shape[1]):
            w = V[:, i].copy()
            projections = []
            for j in range(i):
                # classical projects the original vector; modified the running remainder
                source = V[:, i] if req.method != "modified" else w
                p = dw.vector_projection(source, Q[:, j])
                projections.append({"onto": j, "vector": jarr(p),
                                    "coefficient": jnum(dw.dot(source, Q[:, j]))})
                w = w - p
            steps.append({
                "vector": jarr(V[:, i]), "projections": projections, "remainder": jarr(w),
                "remainder_norm": jnum(dw.norm(w)), "q": jarr(Q[:, i]),
            })
    return {
        "method": req.method, "Q": jarr(Q), "R": jarr(R), "steps": steps,
        "orthogonality_loss": jnum(loss), "warnings": warns,
        "python": (
            f"import numpy as np, dotwise as dw\nV = np.array({_lst(V.T)}).T  # vectors as columns\n"
            f"Q, R = dw.gram_schmidt(V, method={req.method!r})\n"
            "dw.orthogonality_loss(Q)   # ‖QᵀQ − I‖"
        ),
    }


@router.post("/gram-schmidt/loss",
             summary="Demo 3: loss of orthogonality of each method on a Hilbert matrix")
@as_json
async def gram_schmidt_loss(req: GramSchmidtLossRequest) -> dict[str, Any]:
    """Answer: ``cond`` of the n×n Hilbert matrix and per method its orthogonality ``loss``
    (or the ``error`` the library raised)."""
    import scipy.linalg

    gs = need("dotwise.linalg", "gram_schmidt", "Gram–Schmidt")
    loss_fn = need("dotwise.linalg", "orthogonality_loss", "orthogonality loss")
    H = scipy.linalg.hilbert(req.n)
    rows = []
    with captured_warnings() as warns:
        for method in ("classical", "modified", "reorthogonalized"):
            try:
                Q, _ = gs(H, method=method)
                rows.append({"method": method, "loss": jnum(loss_fn(Q)), "error": None})
            except (ValueError, np.linalg.LinAlgError) as exc:
                rows.append({"method": method, "loss": None, "error": str(exc)})
        if available("dotwise.linalg", "householder_qr"):
            try:
                Q, _ = dw.householder_qr(H)
                rows.append({"method": "householder", "loss": jnum(loss_fn(Q)), "error": None})
            except (ValueError, np.linalg.LinAlgError) as exc:
                rows.append({"method": "householder", "loss": None, "error": str(exc)})
    return {
        "n": req.n, "cond": jnum(np.linalg.cond(H)), "methods": rows, "warnings": warns,
        "python": (
            "import scipy.linalg, dotwise as dw\n"
            f"H = scipy.linalg.hilbert({req.n})\n"
            "for m in ('classical', 'modified', 'reorthogonalized'):\n"
            "    Q, R = dw.gram_schmidt(H, method=m)\n"
            "    print(m, dw.orthogonality_loss(Q))"
        ),
    }


# --------------------------------------------------------------------------- 4 least squares
@router.post("/lstsq", summary="Demo 4: fit a polynomial by projection; ridge for comparison")
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
            f"import numpy as np, dotwise as dw\nx = np.array({_lst(x)})\ny = np.array({_lst(y)})\n"
            f"A = np.vander(x, {req.degree + 1}, increasing=True)   # 1, x, x², ...\n"
            "res = dw.lstsq(A, y)        # res.x: coefficients, res.method, res.cond\n"
            "r = y - A @ res.x\nA.T @ r                      # ≈ 0: r is orthogonal to col(A)"
            + (f"\ndw.ridge(A, y, alpha={req.alpha:g})" if req.alpha > 0 else "")
        ),
    }


# --------------------------------------------------------------------------- 5 attention
@router.post("/attention", summary="Demo 5: scaled dot-product attention on a few tokens")
@as_json
async def attention(req: AttentionRequest) -> dict[str, Any]:
    """Answer (from ``dw.scaled_dot_product_attention``): the ``q``, ``k``, ``v`` used, the
    ``scale`` (1/√d or 1, over the temperature), ``weights`` (rows sum to 1), ``output``,
    ``entropy`` per row (nats) and its maximum ``max_entropy`` (uniform over allowed keys)."""
    sdpa = need("dotwise.attention", "scaled_dot_product_attention", "attention")
    entropy_fn = need("dotwise.attention", "attention_entropy", "attention entropy")
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
        out, weights = sdpa(mats["q"], mats["k"], mats["v"], is_causal=req.causal,
                            scale=scale, return_weights=True)
        entropy = entropy_fn(weights)
    allowed = np.arange(1, n + 1) if req.causal else np.full(n, n)
    return {
        "tokens": req.tokens, "d": d, "q": jarr(mats["q"]), "k": jarr(mats["k"]),
        "v": jarr(mats["v"]), "scale": jnum(scale), "weights": jarr(weights),
        "output": jarr(out), "entropy": jarr(entropy),
        "max_entropy": jarr(np.log(allowed)), "warnings": warns,
        "python": (
            "import numpy as np, dotwise as dw\n"
            f"q = np.array({_lst(mats['q'])})\nk = np.array({_lst(mats['k'])})\n"
            f"v = np.array({_lst(mats['v'])})\n"
            f"out, w = dw.scaled_dot_product_attention(q, k, v, is_causal={req.causal},\n"
            f"    scale={'1 / np.sqrt(' + str(d) + ')' if req.scaled else '1.0'} / "
            f"{req.temperature:g},  # / temperature\n"
            "    return_weights=True)\n"
            "from dotwise.attention import attention_entropy\nattention_entropy(w)"
        ),
    }


# --------------------------------------------------------------------------- 6 search
_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    data = load_digits()
    return data.data.astype(np.float64), data.target.astype(int)


@functools.lru_cache(maxsize=4)
def _index(metric: str) -> Any:
    Index = need("dotwise.search", "Index", "the similarity index")
    X, _ = _digits()
    with _lock:
        index = Index(X.shape[1], metric=metric)
        index.add(X)
    return index


@functools.lru_cache(maxsize=1)
def _pca_map() -> tuple[Any, np.ndarray]:
    PCA = need("dotwise.models", "PCA", "PCA")
    X, _ = _digits()
    pca = PCA(n_components=2)
    return pca, pca.fit_transform(X)


@router.get("/digits/map", summary="Demo 6: the digits collection mapped to 2-D by PCA")
@as_json
async def digits_map() -> dict[str, Any]:
    """``xy``: the 1 797 digits on their first two principal components (``dw.PCA``),
    ``labels``, ``explained_variance_ratio``."""
    _, y = _digits()
    pca, coords = _pca_map()
    ratio = getattr(pca, "explained_variance_ratio_", None)
    return {"xy": jarr(np.round(coords, 3)), "labels": y.tolist(),
            "explained_variance_ratio": None if ratio is None else jarr(ratio),
            "python": "from sklearn.datasets import load_digits\nimport dotwise as dw\n"
                      "X = load_digits().data\nxy = dw.PCA(n_components=2).fit_transform(X)"}


@router.post("/search", summary="Demo 6: nearest digits under cosine, L2 or dot")
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
    qsrc = f"X[{req.index}]" if req.index is not None else f"np.array({_lst(query)})"
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


# --------------------------------------------------------------------------- 7 + 8 images
@functools.lru_cache(maxsize=16)
def _photo(name: str, max_side: int) -> np.ndarray:
    """A sample photo as float32 in [0, 1], shrunk (Pillow) so its longer side ≤ max_side."""
    from PIL import Image

    sample = need("dotwise.image", "sample_image", "sample photos")
    if "max_size" in inspect.signature(sample).parameters:  # the library shrinks it itself
        img = np.asarray(sample(name, max_size=max_side), dtype=np.float32)
    else:
        img = np.asarray(sample(name), dtype=np.float32)
    if img.max() > 1.0:  # tolerate a uint8-valued sample
        img = img / 255.0
    h, w = img.shape[:2]
    if max(h, w) > max_side:
        pil = Image.fromarray(np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8).squeeze())
        pil.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        img = np.asarray(pil, dtype=np.float32) / 255.0
    img.setflags(write=False)
    return img


def png_data_url(img: np.ndarray) -> str:
    from PIL import Image

    arr = np.clip(np.asarray(img, dtype=np.float64) * 255 + 0.5, 0, 255).astype(np.uint8)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG", compress_level=1)  # fast; size is secondary
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


@functools.lru_cache(maxsize=16)
def _photo_png(name: str, max_side: int) -> str:
    return png_data_url(_photo(name, max_side))


@router.get("/images", summary="Demos 7–8: the sample photos one can pick (by name)")
@as_json
async def images() -> dict[str, Any]:
    """The names of the sample photos (``dw.sample_image``); no other image can be named."""
    return {"images": IMAGE_NAMES, "max_side": LIMITS["max_image_side"]}


@functools.lru_cache(maxsize=16)
def _spectrum(name: str, max_side: int) -> np.ndarray:
    img = _photo(name, max_side)
    chans = img.reshape(img.shape[0], img.shape[1], -1).astype(np.float64)
    return np.stack([np.linalg.svd(chans[:, :, c], compute_uv=False)
                     for c in range(chans.shape[2])])


@router.post("/svd", summary="Demo 7: SVD compression of a sample photo at a chosen rank")
@as_json
def svd(req: SvdRequest) -> dict[str, Any]:
    """Answer (from ``dw.svd_compress`` and ``dw.psnr``): ``original`` and ``reconstruction``
    as PNG data URLs, ``psnr`` (dB), ``nbytes`` stored, ``ratio`` (stored / raw bytes),
    ``energy`` kept and the ``singular_values`` per channel (first 200)."""
    compress = need("dotwise.image", "svd_compress", "SVD compression")
    psnr = need("dotwise.image", "psnr", "PSNR")
    img = _photo(req.image, req.max_side)
    h, w = img.shape[:2]
    if req.rank > min(h, w):
        raise ValueError(f"rank must be at most min(height, width) = {min(h, w)} for this "
                         f"{h}×{w} image, got {req.rank}")
    warns: list[str] = []  # this route runs in a worker thread: see THREADED_ROUTES
    c = compress(img, rank=req.rank)
    rec = np.asarray(c.decompress(), dtype=np.float32).reshape(img.shape)
    quality = psnr(img, rec)
    sv = _spectrum(req.image, req.max_side)
    energy = float(np.sum(sv[:, : req.rank] ** 2) / np.sum(sv**2))
    return {
        "image": req.image, "height": h, "width": w, "rank": req.rank,
        "original": _photo_png(req.image, req.max_side), "reconstruction": png_data_url(rec),
        "psnr": jnum(quality), "nbytes": int(c.nbytes), "ratio": jnum(c.ratio),
        "raw_bytes": int(getattr(c, "raw_nbytes", img.size)), "energy": jnum(energy),
        "singular_values": jarr(sv[:, :200]), "warnings": warns,
        "python": (
            f"import dotwise as dw\nimg = dw.sample_image({req.image!r}, max_size={req.max_side})\n"
            f"c = dw.svd_compress(img, rank={req.rank})\n"
            "c.nbytes, c.ratio, dw.psnr(img, c.decompress())"
        ),
    }


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


@router.get("/filters", summary="Demo 8: the filters a pipeline can use, with parameter ranges")
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


@router.post("/filters", summary="Demo 8: a filter pipeline applied (fused) to a sample photo")
@as_json
def filters(req: FiltersRequest) -> dict[str, Any]:
    """Answer: the ``original`` and the ``result`` of ``dw.Pipeline(steps).fuse()`` as PNG data
    URLs, the ``steps`` as calls, ``n_steps``, ``n_passes`` after fusing and the fusion
    report (``fused``)."""
    checked = [_check_step(s) for s in req.steps]
    Pipeline = need("dotwise.image", "Pipeline", "filter pipelines")
    img = _photo(req.image, req.max_side)
    built = [(need("dotwise.image", s.name, "a photo filter")(*args), call)
             for s, (args, call) in zip(req.steps, checked, strict=True)]
    warns: list[str] = []  # this route runs in a worker thread: see THREADED_ROUTES
    pipeline = Pipeline([f for f, _ in built])
    fused = pipeline.fuse()
    out = np.asarray(fused(img)) if built else img
    calls = [c for _, c in built]
    report = getattr(fused, "report", None)
    passes = getattr(report, "passes_after", None)
    if passes is None and hasattr(fused, "__len__"):
        passes = len(fused)
    return {
        "image": req.image, "original": _photo_png(req.image, req.max_side),
        "result": png_data_url(out),
        "steps": calls, "fused": str(report if report is not None else fused),
        "n_steps": len(calls), "n_passes": None if passes is None else int(passes),
        "warnings": warns,
        "python": (
            "import dotwise as dw\nfrom dotwise.image import " + ", ".join(
                sorted({s.name for s in req.steps}) or ["gaussian_blur"]) + "\n"
            f"img = dw.sample_image({req.image!r}, max_size={req.max_side})\n"
            f"pipe = dw.Pipeline([{', '.join(calls)}]).fuse()\nout = pipe(img)"
        ),
    }
