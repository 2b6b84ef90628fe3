"""Demo: a linear classifier reads a digit — softmax over dot products, and why."""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np
from fastapi import APIRouter

import dotwise as dw

from .._json import as_json, captured_warnings, jarr, jnum, py_literal
from ..schemas import ClassifierRequest
from ._digits import digits

TITLE = "Linear classifier"
ORDER = 65
router = APIRouter()

#: The model learns from the first N_TRAIN digits; the rest are the held-out test set.
N_TRAIN = 1347
ALPHA = 10.0
#: pixel names for the explanation: "pixel (row, column)"
PIXEL_NAMES = [f"pixel ({i // 8}, {i % 8})" for i in range(64)]


@functools.lru_cache(maxsize=1)
def model() -> tuple[Any, float]:
    """The fitted ``dw.SoftmaxRegression`` (cached: fitted once per process) and its
    accuracy on the held-out digits."""
    X, y = digits()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dw.ConvergenceWarning)
        clf = dw.SoftmaxRegression(alpha=ALPHA, max_iter=500).fit(X[:N_TRAIN], y[:N_TRAIN])
    return clf, float(clf.score(X[N_TRAIN:], y[N_TRAIN:]))


def _grid(v: Any) -> Any:
    return jarr(np.reshape(v, (8, 8)))


@router.post("/api/classifier", summary="Class probabilities of a digit and each pixel's share")
@as_json
async def classifier(req: ClassifierRequest) -> dict[str, Any]:
    """Answer (from ``SoftmaxRegression.explain``): ``probabilities`` and ``scores`` per
    class 0–9, the ``predicted`` class and the ``runner_up``; per-pixel contributions
    w_c,i · x_i to the two scores (``contributions_predicted``, ``contributions_runner_up``,
    8×8 each) and to their margin (``margin``); the two weight images (``weights_*``),
    the ``intercepts``; the pixels pushing hardest each way; the model's
    ``test_accuracy`` on the held-out digits."""
    X, y = digits()
    clf, accuracy = model()
    x = X[req.index] if req.index is not None else np.asarray(req.pixels, dtype=float)
    with captured_warnings() as warns:
        e = clf.explain(x, feature_names=PIXEL_NAMES)
        W, b = clf.class_weights()
    p, r = e.predicted_index, e.runner_up_index
    summary = e.to_dict(k=5)
    qsrc = f"X[{req.index}]" if req.index is not None else f"np.array({py_literal(x)})"
    return {
        "classes": summary["classes"], "probabilities": jarr(e.probabilities),
        "scores": jarr(e.scores), "intercepts": jarr(e.intercepts),
        "predicted": summary["predicted"], "runner_up": summary["runner_up"],
        "pixels": jarr(x),
        "label": None if req.index is None else int(y[req.index]),
        "in_training_set": None if req.index is None else bool(req.index < N_TRAIN),
        "contributions_predicted": _grid(e.contributions[p]),
        "contributions_runner_up": _grid(e.contributions[r]),
        "margin": _grid(e.margin_contributions()),
        "weights_predicted": _grid(W[p]), "weights_runner_up": _grid(W[r]),
        "toward_predicted": summary["toward_predicted"],
        "toward_runner_up": summary["toward_runner_up"],
        "explanation": str(e),
        "test_accuracy": jnum(accuracy), "n_train": N_TRAIN, "n_test": int(len(y) - N_TRAIN),
        "alpha": ALPHA, "warnings": warns,
        "python": (
            "import numpy as np\nfrom sklearn.datasets import load_digits\nimport dotwise as dw\n"
            f"X, y = load_digits(return_X_y=True)\n"
            f"clf = dw.SoftmaxRegression(alpha={ALPHA:g}, max_iter=500).fit(X[:{N_TRAIN}], "
            f"y[:{N_TRAIN}])\n"
            f"clf.score(X[{N_TRAIN}:], y[{N_TRAIN}:])   # held-out accuracy\n"
            f"e = clf.explain({qsrc})\n"
            "e.probabilities, e.predicted, e.runner_up\n"
            "e.contributions[e.predicted_index].reshape(8, 8)   # w_c,i · x_i per pixel\n"
            "print(e)"
        ),
    }
