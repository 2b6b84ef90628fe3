"""Small frozen result types returned by the recommenders."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Explanation", "Recommendations"]


@dataclass(frozen=True)
class Recommendations:
    """A ranked list of items.

    Attributes
    ----------
    item_ids : ndarray of shape (n,)
        Original item ids, best first.
    titles : list of str
        Titles (the id as text where there is no title).
    scores : ndarray of shape (n,)
        Predicted rating (``recommend``, ``fold_in``; clipped to the scale) or
        cosine similarity (``similar_items``).
    kind : str
        ``"predicted rating"`` or ``"cosine similarity"``.
    user_factors, user_bias :
        For ``fold_in``: the new user's solved vector and bias.
    """

    item_ids: np.ndarray
    titles: list[str]
    scores: np.ndarray
    kind: str = "predicted rating"
    user_factors: np.ndarray | None = field(default=None, repr=False)
    user_bias: float | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.titles)

    def rows(self) -> list[tuple[int, str, float]]:
        """``(rank, title, score)`` tuples, rank starting at 1."""
        return [(k + 1, t, float(s)) for k, (t, s) in enumerate(zip(self.titles, self.scores, strict=False))]

    def __repr__(self) -> str:
        head = ", ".join(f"{t!r}: {s:.3g}" for t, s in zip(self.titles[:3], self.scores[:3], strict=False))
        more = ", …" if len(self) > 3 else ""
        return f"Recommendations({self.kind}; {head}{more})"


@dataclass(frozen=True)
class Explanation:
    r"""A prediction split into its parts.

    .. math::

        \hat r_{ui} = \mu + b_u + b_i + p_u \cdot q_i,\qquad
        b_u + p_u \cdot q_i = \sum_{j \in R(u)} c_j

    where the contributions ``c_j`` of the user's rated items come from the
    closed-form ALS user solve (they sum to ``b_u + p_u·q_i`` exactly).

    Attributes
    ----------
    prediction : float
        Clipped to the rating scale.
    raw : float
        ``global_mean + user_bias + item_bias + dot + neighbors`` before clipping.
    global_mean, user_bias, item_bias, dot : float
    neighbors : float
        The residual item–item neighbourhood term (0 for ``neighbors=0``).
    contributions : list of (item_id, title, rating, contribution)
        The user's rated items, largest absolute pull first.
    """

    prediction: float
    raw: float
    global_mean: float
    user_bias: float
    item_bias: float
    dot: float
    contributions: list[tuple[object, str, float, float]]
    neighbors: float = 0.0

    def __repr__(self) -> str:
        return (f"Explanation(prediction={self.prediction:.3f} = mean {self.global_mean:.3f} "
                f"+ user bias {self.user_bias:+.3f} + item bias {self.item_bias:+.3f} "
                f"+ factors {self.dot:+.3f} + neighbours {self.neighbors:+.3f})")
