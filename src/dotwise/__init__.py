"""dotwise — one operation, the dot product, in many costumes.

The linear-algebra core is imported eagerly; the applications (attention,
search, recommenders, images, estimators) load on first use so that
``import dotwise`` and the CLI stay quick.

>>> import dotwise as dw
>>> float(dw.cosine_similarity([1, 0], [1, 1]))  # doctest: +ELLIPSIS
0.707106781...
"""

from __future__ import annotations

import importlib
from typing import Any

from ._validation import (
    ConvergenceWarning,
    DataFormatError,
    FloatRangeError,
    IllConditionedWarning,
    ShapeError,
)
from .linalg import (
    LstsqResult,
    angle,
    cosine_matrix,
    cosine_similarity,
    dot,
    log_softmax,
    logsumexp,
    lstsq,
    norm,
    normalize,
    ridge,
    scalar_projection,
    softmax,
    vector_projection,
)

__version__ = "0.1.0"

# name -> module that defines it; loaded lazily by __getattr__ below.
_LAZY: dict[str, str] = {
    # subclasses scikit-learn's error, so it is made when first asked for
    "NotFittedError": "dotwise._validation",
    # linalg (subspaces, orthogonalization, inspection)
    "project": "dotwise.linalg",
    "projection_matrix": "dotwise.linalg",
    "complement_projection": "dotwise.linalg",
    "check_projection": "dotwise.linalg",
    "ProjectionReport": "dotwise.linalg",
    "gram_schmidt": "dotwise.linalg",
    "householder_qr": "dotwise.linalg",
    "orthogonality_loss": "dotwise.linalg",
    "inspect": "dotwise.linalg",
    "MatrixReport": "dotwise.linalg",
    # 2-D transformations (homogeneous 3×3 matrices)
    "rotation": "dotwise.linalg",
    "scaling": "dotwise.linalg",
    "shear": "dotwise.linalg",
    "reflection": "dotwise.linalg",
    "translation": "dotwise.linalg",
    "compose": "dotwise.linalg",
    "compose_steps": "dotwise.linalg",
    "apply_transform": "dotwise.linalg",
    "invert_transform": "dotwise.linalg",
    # eigenvalues
    "eigendecomposition": "dotwise.linalg",
    "power_iteration": "dotwise.linalg",
    "EigenResult": "dotwise.linalg",
    "PowerIterationResult": "dotwise.linalg",
    # estimators
    "LinearRegression": "dotwise.models",
    "Ridge": "dotwise.models",
    "PCA": "dotwise.models",
    "KMeans": "dotwise.models",
    "segment": "dotwise.models",
    "customer_table": "dotwise.models",

    "SoftmaxRegression": "dotwise.models",
    # attention
    "scaled_dot_product_attention": "dotwise.attention",
    "MultiHeadAttention": "dotwise.attention",
    "causal_mask": "dotwise.attention",
    "padding_mask": "dotwise.attention",
    # search
    "Index": "dotwise.search",
    "IVFIndex": "dotwise.search",
    "SearchResult": "dotwise.search",
    "Catalog": "dotwise.search",
    "exact_search": "dotwise.search",
    "recall_at_k": "dotwise.search",
    # recommend
    "Ratings": "dotwise.recommend",
    "load_ratings": "dotwise.recommend",
    "MatrixFactorization": "dotwise.recommend",
    "BaselinePredictor": "dotwise.recommend",
    # image
    "load_image": "dotwise.image",
    "save_image": "dotwise.image",
    "sample_image": "dotwise.image",
    "Pipeline": "dotwise.image",
    "svd_compress": "dotwise.image",
    "block_compress": "dotwise.image",
    "psnr": "dotwise.image",
    "ssim": "dotwise.image",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dotwise' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "ConvergenceWarning",
    "DataFormatError",
    "FloatRangeError",
    "IllConditionedWarning",
    "LstsqResult",
    "ShapeError",
    "__version__",
    "angle",
    "cosine_matrix",
    "cosine_similarity",
    "dot",
    "log_softmax",
    "logsumexp",
    "lstsq",
    "norm",
    "normalize",
    "ridge",
    "scalar_projection",
    "softmax",
    "vector_projection",
    *_LAZY,
]
