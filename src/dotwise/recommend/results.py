"""Small frozen result types returned by the recommenders.

:class:`RankedItems` (a ranked list of items) and :class:`RatingExplanation`
(one predicted rating split into its parts) were called ``Recommendations`` and
``Explanation`` before; those names clashed with :mod:`dotwise.search`'s and
still work for one release, with a ``DeprecationWarning``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._common import deprecated_alias

__all__ = ["RankedItems", "RatingExplanation"]


@dataclass(frozen=True)
class RankedItems:
    """A ranked list of items: what ``recommend``, ``similar_items`` and ``fold_in`` return.

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

    @classmethod
    def top(cls, data, scores: np.ndarray, k: int, kind: str, *, exclude: np.ndarray,
            unusable: np.ndarray, clip_to: tuple[float, float] | None = None,
            **extra) -> RankedItems:
        """The ``k`` best-scored items of ``data`` (a ``Ratings``), best first.

        ``exclude`` (codes) and the ``unusable`` mask are left out; fewer than ``k``
        items come back when fewer are left. Ties keep the smaller code first.
        ``clip_to`` clips the shown scores (not the ranking) to the rating scale.
        """
        scores = scores.copy()
        scores[exclude] = -np.inf
        scores[unusable] = -np.inf
        k = min(k, int(np.isfinite(scores).sum()))
        best = np.argpartition(-scores, k - 1)[:k] if k > 0 else np.array([], dtype=np.int64)
        best = best[np.argsort(-scores[best], kind="stable")]
        shown = scores[best] if clip_to is None else np.clip(scores[best], *clip_to)
        return cls(item_ids=data.item_ids[best],
                   titles=[data.item_label(c) for c in best.tolist()], scores=shown,
                   kind=kind, **extra)

    def __len__(self) -> int:
        return len(self.titles)

    def rows(self) -> list[tuple[int, str, float]]:
        """``(rank, title, score)`` tuples, rank starting at 1."""
        return [(k + 1, t, float(s)) for k, (t, s) in enumerate(zip(self.titles, self.scores, strict=False))]

    def __repr__(self) -> str:
        head = ", ".join(f"{t!r}: {s:.3g}" for t, s in zip(self.titles[:3], self.scores[:3], strict=False))
        more = ", …" if len(self) > 3 else ""
        return f"RankedItems({self.kind}; {head}{more})"


@dataclass(frozen=True)
class RatingExplanation:
    r"""A predicted rating split into its parts: what ``MatrixFactorization.explain`` returns.

    .. math::

        \hat r_{ui} = \underbrace{\mu}_{\text{global\_mean}}
            + \underbrace{b_u}_{\text{user\_bias}} + \underbrace{b_i}_{\text{item\_bias}}
            + \underbrace{(p_u + s_u) \cdot q_i}_{\text{dot}}
            + \underbrace{\textstyle\sum_{j \in N_k} s_{ij} e_{uj} / (\ldots)}_{\text{neighbors}},
        \qquad b_u + p_u \cdot q_i = \sum_{j \in R(u)} c_j

    The five parts sum to ``raw`` exactly (:attr:`parts`); ``prediction`` is
    ``raw`` clipped to the rating scale. The contributions ``c_j`` of the
    user's rated items come from the closed-form ALS user solve (they sum to
    ``b_u + p_u·q_i`` exactly; an ``implicit`` model adds its ``s_u · q_i``
    share to each).

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
    rating_scale : (low, high)
        The scale ``prediction`` is clipped to.

    Examples
    --------
    >>> ex = RatingExplanation(prediction=5.0, raw=5.25, global_mean=3.5, user_bias=0.5,
    ...                        item_bias=0.75, dot=0.25, contributions=[], neighbors=0.25,
    ...                        rating_scale=(1.0, 5.0))
    >>> sum(ex.parts.values()) == ex.raw, ex.clipped
    (True, True)
    """

    prediction: float
    raw: float
    global_mean: float
    user_bias: float
    item_bias: float
    dot: float
    contributions: list[tuple[object, str, float, float]]
    neighbors: float = 0.0
    rating_scale: tuple[float, float] = (-np.inf, np.inf)

    @property
    def parts(self) -> dict[str, float]:
        """The additive parts of ``raw``, in order: mean, user, item, taste, neighbours."""
        return {"mean": self.global_mean, "user": self.user_bias, "item": self.item_bias,
                "taste": self.dot, "neighbours": self.neighbors}

    @property
    def clipped(self) -> bool:
        """Whether ``raw`` lies outside the rating scale (so ``prediction != raw``)."""
        return self.prediction != self.raw

    def __repr__(self) -> str:
        shown = (f", shown as {self.prediction:.3f} (clipped to the scale)"
                 if self.clipped else "")
        return (f"RatingExplanation({self.raw:.3f} = mean {self.global_mean:.3f} + user bias "
                f"{self.user_bias:+.3f} + item bias {self.item_bias:+.3f} + factors "
                f"{self.dot:+.3f} + neighbours {self.neighbors:+.3f}{shown})")


def __getattr__(name: str):
    return deprecated_alias(__name__, name, {"Recommendations": RankedItems,
                                             "Explanation": RatingExplanation})
