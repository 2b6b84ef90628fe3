"""Linear-algebra primitives: arrays in, arrays out, no I/O.

Nothing in here imports an application (search, attention, recommend, image,
models) or a face (cli, playground, tour).
"""

from .lstsq import LstsqResult, lstsq, ridge
from .special import logsumexp, softmax
from .vectors import (
    angle,
    cosine_matrix,
    cosine_similarity,
    dot,
    norm,
    normalize,
    scalar_projection,
    vector_projection,
)

__all__ = [
    "LstsqResult",
    "angle",
    "cosine_matrix",
    "cosine_similarity",
    "dot",
    "logsumexp",
    "lstsq",
    "norm",
    "normalize",
    "ridge",
    "scalar_projection",
    "softmax",
    "vector_projection",
]
