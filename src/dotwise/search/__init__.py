"""Similarity search: an index of vectors that is exact, fast, persistent and explains itself.

- :class:`Index` — exact search (cosine, dot, l2) with ids, removal, filters,
  save/load (memory-mapped) and :meth:`Index.explain`.
- :class:`IVFIndex` — approximate search over k-means lists.
- :func:`exact_search` — brute force as ground truth; :func:`recall_at_k`.
- :class:`Catalog` — "songs like this one" over a table of numeric features.
- :func:`embed_texts` — sentence embeddings (optional extra ``text``; lives in
  :mod:`dotwise.text`).

>>> import numpy as np
>>> from dotwise.search import Index
>>> index = Index(2, metric="l2")
>>> index.add(np.array([[0.0, 0.0], [3.0, 4.0]]))
>>> index.search([3.0, 3.0], k=1).ids.tolist()
[1]
"""

from __future__ import annotations

from typing import Any

from ..text import embed_texts
from .catalog import Catalog, Match, SimilarItems
from .index import METRICS, Index, exact_search
from .ivf import IVFIndex
from .results import MatchExplanation, SearchResult, UnknownIdError, recall_at_k
from .storage import load

__all__ = [
    "METRICS",
    "Catalog",
    "IVFIndex",
    "Index",
    "Match",
    "MatchExplanation",
    "SearchResult",
    "SimilarItems",
    "UnknownIdError",
    "embed_texts",
    "exact_search",
    "load",
    "recall_at_k",
]

_RENAMED = {"Explanation": "MatchExplanation", "Recommendations": "SimilarItems"}


def __getattr__(name: str) -> Any:
    if name in _RENAMED:
        import warnings

        warnings.warn(f"dotwise.search.{name} was renamed {_RENAMED[name]} (dotwise.recommend "
                      f"has its own {name}); the old name will be removed in the next release",
                      DeprecationWarning, stacklevel=2)
        return globals()[_RENAMED[name]]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
