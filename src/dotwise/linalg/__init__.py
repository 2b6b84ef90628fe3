"""Linear-algebra primitives: arrays in, arrays out, no I/O.

Nothing in here imports an application (search, attention, recommend, image,
models) or a face (cli, playground, tour).
"""

from .eigen import EigenResult, PowerIterationResult, eigendecomposition, power_iteration
from .inspect import MatrixReport, inspect
from .lstsq import LstsqResult, lstsq, ridge
from .orthogonal import (
    GramSchmidtStep,
    Projection,
    gram_schmidt,
    householder_qr,
    orthogonality_loss,
)
from .special import logsumexp, softmax
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
    "EigenResult",
    "GramSchmidtStep",
    "LstsqResult",
    "MatrixReport",
    "PowerIterationResult",
    "Projection",
    "ProjectionReport",
    "angle",
    "check_projection",
    "complement_projection",
    "cosine_matrix",
    "cosine_similarity",
    "dot",
    "eigendecomposition",
    "gram_schmidt",
    "householder_qr",
    "inspect",
    "logsumexp",
    "lstsq",
    "norm",
    "normalize",
    "orthogonality_loss",
    "power_iteration",
    "project",
    "projection_matrix",
    "ridge",
    "scalar_projection",
    "softmax",
    "vector_projection",
]
