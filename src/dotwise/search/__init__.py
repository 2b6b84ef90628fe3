"""Similarity search: an index of vectors that is exact, fast, persistent and explains itself.

- :class:`Index` — exact search (cosine, dot, l2) with ids, removal, filters,
  save/load (memory-mapped) and :meth:`Index.explain`.
- :class:`IVFIndex` — approximate search over k-means lists.
- :func:`exact_search` — brute force as ground truth; :func:`recall_at_k`.
- :class:`Catalog` — "songs like this one" over a table of numeric features.
- :func:`embed_texts` — sentence embeddings (optional extra ``text``).

>>> import numpy as np
>>> from dotwise.search import Index
>>> index = Index(2, metric="l2")
>>> index.add(np.array([[0.0, 0.0], [3.0, 4.0]]))
>>> index.search([3.0, 3.0], k=1).ids.tolist()
[1]
"""

from __future__ import annotations

from .catalog import Catalog, Match, Recommendations
from .index import METRICS, Index, exact_search
from .ivf import IVFIndex
from .results import Explanation, SearchResult, UnknownIdError, recall_at_k
from .storage import load
from .text import embed_texts

__all__ = [
    "METRICS",
    "Catalog",
    "Explanation",
    "IVFIndex",
    "Index",
    "Match",
    "Recommendations",
    "SearchResult",
    "UnknownIdError",
    "embed_texts",
    "exact_search",
    "load",
    "recall_at_k",
]
