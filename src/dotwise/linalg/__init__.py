"""Linear-algebra primitives: arrays in, arrays out, no I/O.

Nothing in here imports an application (search, attention, recommend, image,
models) or a face (cli, playground, tour).
"""

from .eigen import EigenResult, PowerIterationResult, eigendecomposition, power_iteration
from .inspect import MatrixReport, inspect
from .lstsq import LstsqResult, lstsq, ridge
from .matrices import random_with_condition
from .orthogonal import (
    GramSchmidtStep,
    Projection,
    gram_schmidt,
    householder_qr,
    orthogonality_loss,
)
from .randomized import randomized_svd
from .special import log_softmax, logsumexp, softmax
from .subspaces import (
    ProjectionReport,
    check_projection,
    complement_projection,
    project,
    projection_matrix,
)
from .transform2d import (
    ComposeStep,
    compose,
    compose_steps,
    reflection,
    rotation,
    scaling,
    shear,
    translation,
)
from .transform2d import apply as apply_transform
from .transform2d import inverse as invert_transform
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
    "ComposeStep",
    "EigenResult",
    "GramSchmidtStep",
    "LstsqResult",
    "MatrixReport",
    "PowerIterationResult",
    "Projection",
    "ProjectionReport",
    "angle",
    "apply_transform",
    "check_projection",
    "complement_projection",
    "compose",
    "compose_steps",
    "cosine_matrix",
    "cosine_similarity",
    "dot",
    "eigendecomposition",
    "gram_schmidt",
    "householder_qr",
    "inspect",
    "invert_transform",
    "log_softmax",
    "logsumexp",
    "lstsq",
    "norm",
    "normalize",
    "orthogonality_loss",
    "power_iteration",
    "project",
    "projection_matrix",
    "random_with_condition",
    "randomized_svd",
    "reflection",
    "ridge",
    "rotation",
    "scalar_projection",
    "scaling",
    "shear",
    "softmax",
    "translation",
    "vector_projection",
]
