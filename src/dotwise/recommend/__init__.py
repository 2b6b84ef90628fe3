"""Movie recommender: rating data, baselines, matrix factorization, evaluation.

>>> import dotwise as dw
>>> r = dw.Ratings.from_arrays([1, 1, 2], [10, 20, 10], [5, 3, 4])
>>> dw.BaselinePredictor().fit(r).predict([2], [20]).shape
(1,)
"""

from __future__ import annotations

from ._common import deprecated_alias
from .baseline import BaselinePredictor
from .evaluate import CVResult, FoldResult, cross_validate, ranking_metrics, rmse_mae
from .fetch import fetch_movielens
from .mf import MatrixFactorization
from .movielens import load_ratings
from .ratings import Ratings
from .results import RankedItems, RatingExplanation
from .splits import kfold, predefined_splits, train_test_split

__all__ = [
    "BaselinePredictor",
    "CVResult",
    "FoldResult",
    "MatrixFactorization",
    "Ratings",
    "RankedItems",
    "RatingExplanation",
    "cross_validate",
    "fetch_movielens",
    "kfold",
    "load_ratings",
    "predefined_splits",
    "ranking_metrics",
    "rmse_mae",
    "train_test_split",
]


def __getattr__(name: str):
    # the old names of RankedItems and RatingExplanation (they clashed with dotwise.search's)
    return deprecated_alias(__name__, name, {"Recommendations": RankedItems,
                                             "Explanation": RatingExplanation})
