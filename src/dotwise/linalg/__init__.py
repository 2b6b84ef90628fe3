"""Linear-algebra primitives: arrays in, arrays out, no I/O.

Nothing in here imports an application (search, attention, recommend, image,
models) or a face (cli, playground, tour).
"""

from .inspect import MatrixReport, inspect
from .lstsq import LstsqResult, lstsq, ridge
from .orthogonal import gram_schmidt, householder_qr, orthogonality_loss
from .special import log_softmax, logsumexp, softmax
from .subspaces import (
    ProjectionReport,
    check_projection,
    complement_projection,
    project,
    projection_matrix,
)
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
    "MatrixReport",
    "ProjectionReport",
    "angle",
    "check_projection",
    "complement_projection",
    "cosine_matrix",
    "cosine_similarity",
    "dot",
    "gram_schmidt",
    "householder_qr",
    "inspect",
    "log_softmax",
    "logsumexp",
    "lstsq",
    "norm",
    "normalize",
    "orthogonality_loss",
    "project",
    "projection_matrix",
    "ridge",
    "scalar_projection",
    "softmax",
    "vector_projection",
]
