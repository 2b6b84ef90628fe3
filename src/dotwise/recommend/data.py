"""Compatibility: ``dotwise.recommend.data`` was split into :mod:`.ratings` and :mod:`.movielens`.

Import :class:`~dotwise.recommend.Ratings` and :func:`~dotwise.recommend.load_ratings`
from :mod:`dotwise.recommend` (this module re-exports them for older imports).
"""

from __future__ import annotations

from .movielens import load_ratings
from .ratings import Ratings

__all__ = ["Ratings", "load_ratings"]
