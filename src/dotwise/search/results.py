r"""What a search returns: :class:`SearchResult`, :class:`MatchExplanation` and recall.

Scores follow one rule: for ``metric="cosine"`` and ``"dot"`` a score is a
similarity (higher is better, results in descending order); for ``"l2"`` it is
the Euclidean distance :math:`\lVert q - x \rVert` (lower is better, ascending).
Slots with no match — fewer than ``k`` vectors indexed, or filtered out — hold
the id ``-1`` and the score ``-inf`` (similarities) or ``+inf`` (distances).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import ShapeError, check_k, describe

__all__ = ["MatchExplanation", "SearchResult", "UnknownIdError", "recall_at_k"]


class UnknownIdError(KeyError):
    """An id (or a name) that the index or catalog does not hold.

    A ``KeyError`` whose message reads as a sentence (``str`` does not add quotes).
    ``suggestions`` lists close matches when there are any.
    """

    def __init__(self, message: str, suggestions: tuple[str, ...] = ()):
        super().__init__(message)
        self.suggestions = tuple(suggestions)

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class SearchResult:
    """The ``k`` best matches of each query.

    Attributes
    ----------
    ids : ndarray of int64, shape (k,) for one query or (n_queries, k)
        Ids of the matches, best first; ``-1`` pads missing matches.
    scores : ndarray of shape (k,) or (n_queries, k)
        Similarity (cosine, dot; descending) or Euclidean distance (l2;
        ascending); ``∓inf`` pads missing matches.
    metric : str
        The metric that produced the scores.

    Examples
    --------
    >>> r = SearchResult(np.array([3, 1]), np.array([0.9, 0.5]), "cosine")
    >>> ids, scores = r          # unpacks like a tuple
    >>> ids.tolist(), r.recall([1, 7])
    ([3, 1], 0.5)
    """

    ids: np.ndarray
    scores: np.ndarray
    metric: str = "cosine"

    def __iter__(self):
        yield self.ids
        yield self.scores

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @property
    def k(self) -> int:
        """Number of slots per query (including ``-1`` padding)."""
        return int(self.ids.shape[-1])

    def recall(self, truth: Any, k: int | None = None) -> float:
        """Recall@k of these ids against ``truth`` (see :func:`recall_at_k`)."""
        return recall_at_k(self, truth, k=k)

    def __repr__(self) -> str:
        shape = "x".join(str(s) for s in self.ids.shape)
        with np.printoptions(precision=4, threshold=12, edgeitems=3):
            return (f"SearchResult(metric={self.metric!r}, shape={shape},\n"
                    f"  ids={self.ids!r},\n  scores={self.scores!r})")


@dataclass(frozen=True)
class MatchExplanation:
    r"""Why a vector matches a query: the score split over the dimensions.

    For ``dot`` the contributions are :math:`q_i x_i`; for ``cosine`` the same
    on unit vectors, :math:`\hat q_i \hat x_i`; both sum to the score. For
    ``l2`` they are :math:`(q_i - x_i)^2` and sum to the squared distance.
    Sorted largest first.

    Attributes
    ----------
    dims : ndarray of int64, shape (d,)
        Dimension indices, largest contribution first.
    contributions : ndarray of shape (d,)
        The contribution of each dimension in ``dims``.
    score : float
        The total: the similarity (cosine, dot) or the squared distance (l2).
    metric : str
    """

    dims: np.ndarray
    contributions: np.ndarray
    score: float
    metric: str

    def top(self, n: int = 3) -> list[tuple[int, float]]:
        """The ``n`` largest contributions as ``(dim, contribution)`` pairs."""
        return [(int(d), float(c)) for d, c in zip(self.dims[:n], self.contributions[:n], strict=False)]


def _ids_of(x: Any, name: str) -> np.ndarray:
    if isinstance(x, SearchResult):
        x = x.ids
    arr = np.asarray(x)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer ids (or be a SearchResult), got {describe(x)}")
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise ShapeError(f"{name} must be 1-D (one query) or 2-D (n_queries, k), got shape "
                         f"{arr.shape}")
    return arr.astype(np.int64, copy=False)


def recall_at_k(found: Any, truth: Any, k: int | None = None) -> float:
    r"""Fraction of the true ``k`` nearest neighbours that a search found.

    .. math:: \text{recall@}k = \frac{1}{n_q}\sum_{j} \frac{|F_j \cap T_j|}{|T_j|}

    with :math:`F_j` the first ``k`` found ids of query ``j`` and :math:`T_j`
    its first ``k`` true ids (``-1`` padding is ignored in both).

    Parameters
    ----------
    found, truth : SearchResult or array_like of int, shape (k,) or (n_queries, k)
        ``truth`` usually comes from :func:`~dotwise.search.exact_search` or
        :meth:`Index.search <dotwise.search.Index.search>`.
    k : int, optional
        Defaults to the number of columns of ``truth``.

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> round(recall_at_k([[1, 2, 3], [4, 5, 6]], [[3, 2, 9], [4, 5, 6]]), 4)
    0.8333
    """
    f = _ids_of(found, "found")
    t = _ids_of(truth, "truth")
    if f.shape[0] != t.shape[0]:
        raise ShapeError(f"found and truth must have the same number of queries: found has "
                         f"shape {f.shape}, truth has shape {t.shape}")
    if k is None:
        k = t.shape[1]
    k = check_k(k)
    f, t = f[:, :k], t[:, :k]
    total = 0.0
    for fr, tr in zip(f, t, strict=False):
        tr = tr[tr >= 0]
        if tr.size == 0:
            total += 1.0
            continue
        total += np.intersect1d(fr[fr >= 0], tr).size / tr.size
    return total / f.shape[0]


def __getattr__(name: str) -> Any:
    if name == "Explanation":
        import warnings

        warnings.warn("dotwise.search.Explanation was renamed MatchExplanation (recommend has "
                      "its own Explanation); the old name will be removed in the next release",
                      DeprecationWarning, stacklevel=2)
        return MatchExplanation
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
