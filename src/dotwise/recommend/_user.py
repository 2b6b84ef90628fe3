r"""One user's problem against the fixed item vectors: the ridge system behind fold-in and explain.

With the item vectors fixed, a user's unknowns ``x = (p, b)`` solve the ridge
normal equations of an ALS user step,

.. math::

    A x = Z^\top y, \qquad A = Z^\top Z + D, \qquad
    z_j = (q_j, 1), \quad y_j = r_j - \mu - b_j - q_j \cdot s, \quad
    s = |R|^{-1/2} \textstyle\sum_{j \in R} y_j,

over the items ``R`` the user rated (``D`` the count-weighted λ and λ_b).
``fold_in`` solves it for ``x``; ``explain`` uses ``A⁻¹`` to split
``z_i · x = Σ_j (z_iᵀ A⁻¹ z_j) y_j`` over the rated items (private helpers).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from ._common import _lookup
from .ratings import Ratings, _key

__all__ = ["UserSystem", "resolve_ratings"]


def resolve_ratings(data: Ratings, ratings) -> tuple[np.ndarray, np.ndarray]:
    """Item codes and ratings of a new user's ``{item: rating}`` or ``[(item, rating)]``.

    Items by original id or title; each rating is checked against the scale
    (the error names the title) and an item rated twice is refused.
    """
    pairs = list(ratings.items()) if isinstance(ratings, Mapping) else list(ratings)
    if not pairs:
        raise ValueError("ratings of the new user is empty: give at least one "
                         "(item, rating) pair")
    codes, values = [], []
    lookup = _lookup(data, "_item_lookup", "item_ids")
    for entry in pairs:
        if len(entry) != 2:
            raise ValueError(f"each new rating must be an (item, rating) pair, got {entry!r}")
        item, value = entry
        code = lookup.get(_key(item))
        if code is None:
            if isinstance(item, str) and data.titles is not None:
                code = data.find_item(item)
            else:
                code = data.item_code(item)  # raises with suggestions
        values.append(data.check_rating(value, data.item_label(code)))
        if code in codes:
            raise ValueError(f"{data.item_label(code)!r} is rated twice in the new user's "
                             f"ratings; give each item once")
        codes.append(code)
    return np.asarray(codes, dtype=np.int64), np.asarray(values)


@dataclass(frozen=True)
class UserSystem:
    """``A x = Zᵀ y`` for one user, with ``A`` held as its Cholesky factor.

    Attributes
    ----------
    codes, values : ndarray of shape (m,)
        The rated items (all with training ratings) and the ratings.
    Z : ndarray of shape (m, d)
        ``q_j`` (with a trailing 1 for the bias when the model is biased).
    y : ndarray of shape (m,)
        The targets ``r_j − μ − b_j − q_j · s``.
    implicit : ndarray of shape (k,)
        ``s = |R|^(-1/2) Σ_j y_j`` (zeros for a model without the implicit term).
    factor : tuple
        ``scipy.linalg.cho_factor`` of ``A``.
    biased : bool
    """

    codes: np.ndarray
    values: np.ndarray
    Z: np.ndarray
    y: np.ndarray
    implicit: np.ndarray
    factor: tuple
    biased: bool

    @classmethod
    def build(cls, codes, values, *, item_factors, item_bias, implicit_factors, mean,
              diag, biased: bool) -> UserSystem:
        """The system for ratings ``values`` of the items ``codes`` (``diag`` is ``D``)."""
        Z = item_factors[codes]
        s = implicit_factors[codes].sum(axis=0) / np.sqrt(len(codes))
        y = values - mean - Z @ s
        if biased:
            Z = np.hstack([Z, np.ones((len(codes), 1))])
            y = y - item_bias[codes]
        A = Z.T @ Z
        A[np.diag_indices_from(A)] += diag
        return cls(codes=codes, values=values, Z=Z, y=y, implicit=s,
                   factor=cho_factor(A, lower=True), biased=biased)

    def solve(self) -> tuple[np.ndarray, float]:
        """The user's vector ``p + s`` (what predictions dot with ``q_i``) and bias ``b``."""
        x = cho_solve(self.factor, self.Z.T @ self.y)
        k = len(self.implicit)
        return (x[:k] + self.implicit, float(x[k])) if self.biased else (x + self.implicit, 0.0)

    def pulls(self, q: np.ndarray) -> np.ndarray:
        """Each rated item's share ``(z_iᵀ A⁻¹ z_j) y_j`` of ``b + p · q`` for the item vector ``q``."""
        zi = np.append(q, 1.0) if self.biased else q
        return (self.Z @ cho_solve(self.factor, zi)) * self.y
