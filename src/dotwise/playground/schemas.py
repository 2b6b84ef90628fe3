"""Request models of the playground's JSON API, with the limits every request obeys.

Every limit lives here as a module constant, is enforced by pydantic (a
violation is answered with HTTP 422 and a message naming the field and the
limit), and is listed in the README's limits section. No request carries a
file path: images come from ``dotwise.sample_image`` by name only.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "LIMITS",
    "AttentionRequest",
    "EigenRequest",
    "FilterStep",
    "FiltersRequest",
    "GramSchmidtLossRequest",
    "GramSchmidtRequest",
    "LstsqRequest",
    "MatrixRequest",
    "SearchRequest",
    "SvdRequest",
    "VectorsRequest",
]

MAX_BODY_BYTES = 64 * 1024
MAX_ABS_VALUE = 1e6
MAX_VECTOR_DIM = 16
MAX_MATRIX_N = 3
MAX_GS_VECTORS = 3
MAX_GS_LOSS_N = 14
MAX_POINTS = 200
MAX_DEGREE = 8
MAX_ALPHA = 1e6
MAX_TOKENS = 12
MAX_TOKEN_CHARS = 16
MAX_ATTENTION_DIM = 16
MAX_K = 20
MAX_IMAGE_SIDE = 384
MIN_IMAGE_SIDE = 32
MAX_FILTER_STEPS = 8
MAX_POWER_STEPS = 60

LIMITS: dict[str, float | int] = {
    "max_body_bytes": MAX_BODY_BYTES,
    "max_abs_value": MAX_ABS_VALUE,
    "max_vector_dim": MAX_VECTOR_DIM,
    "max_matrix_n": MAX_MATRIX_N,
    "max_gram_schmidt_vectors": MAX_GS_VECTORS,
    "max_gram_schmidt_loss_n": MAX_GS_LOSS_N,
    "max_points": MAX_POINTS,
    "max_degree": MAX_DEGREE,
    "max_alpha": MAX_ALPHA,
    "max_tokens": MAX_TOKENS,
    "max_attention_dim": MAX_ATTENTION_DIM,
    "max_k": MAX_K,
    "max_image_side": MAX_IMAGE_SIDE,
    "max_filter_steps": MAX_FILTER_STEPS,
    "max_power_steps": MAX_POWER_STEPS,
}

#: A finite number of moderate size (JSON has no NaN/inf; huge values only overflow plots).
Num = Annotated[float, Field(allow_inf_nan=False, ge=-MAX_ABS_VALUE, le=MAX_ABS_VALUE)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _rectangular(rows: list[list[float]], name: str) -> list[list[float]]:
    if rows and any(len(r) != len(rows[0]) for r in rows):
        lengths = [len(r) for r in rows]
        raise ValueError(f"{name} must be rectangular: its rows have lengths {lengths}")
    return rows


class VectorsRequest(_Strict):
    """Two vectors of the same length (the page sends 2-D ones)."""

    u: list[Num] = Field(min_length=1, max_length=MAX_VECTOR_DIM, examples=[[3, 4]])
    v: list[Num] = Field(min_length=1, max_length=MAX_VECTOR_DIM, examples=[[4, 0]])

    @model_validator(mode="after")
    def _same_length(self) -> VectorsRequest:
        if len(self.u) != len(self.v):
            raise ValueError(
                f"u and v must have the same length, got {len(self.u)} and {len(self.v)}"
            )
        return self


class MatrixRequest(_Strict):
    """A square 2×2 or 3×3 matrix, as a list of rows."""

    matrix: list[list[Num]] = Field(
        min_length=2, max_length=MAX_MATRIX_N, examples=[[[1, 1], [0, 1]]]
    )

    t: float = Field(default=1.0, ge=0.0, le=1.0, allow_inf_nan=False,
                     description="draw (1 − t)·I + t·A: 0 is the identity, 1 is A (a morph)")

    @field_validator("matrix")
    @classmethod
    def _square(cls, rows: list[list[float]]) -> list[list[float]]:
        if any(len(r) != len(rows) for r in rows):
            raise ValueError(
                f"matrix must be square 2×2 or 3×3 (at most {MAX_MATRIX_N}×{MAX_MATRIX_N}), "
                f"got rows of lengths {[len(r) for r in rows]} for {len(rows)} rows"
            )
        return rows


class EigenRequest(MatrixRequest):
    """A 2×2 or 3×3 matrix, and how many power-iteration steps to take from ``x0``."""

    t: float = Field(default=1.0, ge=1.0, le=1.0, description="unused (no morph here)")
    steps: int = Field(default=8, ge=0, le=MAX_POWER_STEPS)
    x0: list[Num] | None = Field(default=None, min_length=2, max_length=MAX_MATRIX_N,
                                 description="start vector (default (1, 0.3[, 0.2]))")

    @model_validator(mode="after")
    def _x0(self) -> EigenRequest:
        n = len(self.matrix)
        if self.x0 is not None:
            if len(self.x0) != n:
                raise ValueError(f"x0 must have {n} entries (one per row of matrix), "
                                 f"got {len(self.x0)}")
            if not any(self.x0):
                raise ValueError("x0 must not be the zero vector: it has no direction")
        return self


class GramSchmidtRequest(_Strict):
    """Up to three 3-D vectors to orthonormalize, in order."""

    vectors: list[Annotated[list[Num], Field(min_length=3, max_length=3)]] = Field(
        min_length=1, max_length=MAX_GS_VECTORS,
        examples=[[[2, 1, 0], [1, 2, 1], [0, 1, 2]]],
    )
    method: Literal["classical", "modified", "reorthogonalized"] = "modified"


class GramSchmidtLossRequest(_Strict):
    """Orthogonality loss of each method on an n×n Hilbert matrix (cond grows like e^(3.5n))."""

    n: int = Field(default=8, ge=2, le=MAX_GS_LOSS_N)


class LstsqRequest(_Strict):
    """Points (x, y) to fit with a polynomial of the given degree, plain and ridge."""

    points: list[Annotated[list[Num], Field(min_length=2, max_length=2)]] = Field(
        min_length=1, max_length=MAX_POINTS, examples=[[[-2, -1], [0, 0.5], [1, 1], [3, 2.5]]]
    )
    degree: int = Field(default=1, ge=0, le=MAX_DEGREE)
    alpha: float = Field(default=0.0, ge=0.0, le=MAX_ALPHA, allow_inf_nan=False)
    x_min: Num = -5.0
    x_max: Num = 5.0

    @model_validator(mode="after")
    def _range(self) -> LstsqRequest:
        if not self.x_min < self.x_max:
            raise ValueError(f"x_min must be < x_max, got {self.x_min} and {self.x_max}")
        return self


class AttentionRequest(_Strict):
    """Tokens with optional Q/K/V (n_tokens × d each); missing ones are drawn from ``seed``."""

    tokens: list[Annotated[str, Field(min_length=1, max_length=MAX_TOKEN_CHARS)]] = Field(
        min_length=1, max_length=MAX_TOKENS, examples=[["the", "cat", "sat", "down"]]
    )
    d: int = Field(default=4, ge=1, le=MAX_ATTENTION_DIM)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    q: list[list[Num]] | None = None
    k: list[list[Num]] | None = None
    v: list[list[Num]] | None = None
    scaled: bool = True
    causal: bool = False
    temperature: float = Field(default=1.0, ge=0.05, le=20.0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _shapes(self) -> AttentionRequest:
        n = len(self.tokens)
        for name in ("q", "k", "v"):
            m = getattr(self, name)
            if m is None:
                continue
            _rectangular(m, name)
            if len(m) != n or any(len(r) != self.d for r in m):
                got = f"{len(m)}×{len(m[0]) if m else 0}"
                raise ValueError(
                    f"{name} must have one row per token and d columns: expected "
                    f"{n}×{self.d}, got {got}"
                )
        return self


class SearchRequest(_Strict):
    """A query: either the index of a digit in the collection or its 64 pixel values (0–16)."""

    index: int | None = Field(default=None, ge=0, le=1796)
    pixels: list[Annotated[float, Field(ge=0, le=16, allow_inf_nan=False)]] | None = Field(
        default=None, min_length=64, max_length=64
    )
    metric: Literal["cosine", "l2", "dot"] = "cosine"
    k: int = Field(default=8, ge=1, le=MAX_K)

    @model_validator(mode="after")
    def _one_query(self) -> SearchRequest:
        if (self.index is None) == (self.pixels is None):
            raise ValueError("give exactly one of index (0–1796) or pixels (64 values in 0–16)")
        return self


#: The sample photos (``_photos.IMAGE_NAMES``): china and flower ship with scikit-learn.
ImageName = Literal["china", "flower", "astronaut", "camera", "coffee", "chelsea"]


class SvdRequest(_Strict):
    """A sample photo (by name, never a path) compressed at the given rank."""

    image: ImageName = "china"
    rank: int = Field(default=20, ge=1, le=MAX_IMAGE_SIDE)
    max_side: int = Field(default=256, ge=MIN_IMAGE_SIDE, le=MAX_IMAGE_SIDE)


class FilterStep(_Strict):
    """One filter of the pipeline: a constructor of ``dotwise.image`` and its parameters."""

    name: str = Field(min_length=1, max_length=32, examples=["gaussian_blur"])
    params: dict[str, Num] = Field(default_factory=dict, max_length=4)


class FiltersRequest(_Strict):
    """A sample photo and a pipeline of filters applied to it, fused."""

    image: ImageName = "china"
    steps: list[FilterStep] = Field(min_length=0, max_length=MAX_FILTER_STEPS)
    max_side: int = Field(default=256, ge=MIN_IMAGE_SIDE, le=MAX_IMAGE_SIDE)
