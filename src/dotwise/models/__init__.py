"""Estimators with the scikit-learn contract, built on :mod:`dotwise.linalg`.

* :class:`LinearRegression` — ordinary least squares with leverage, standard
  errors, studentized residuals, Cook's distances and a ``summary()`` table.
* :class:`Ridge` — L2-penalised least squares with leverage and effective
  degrees of freedom.
* :class:`PCA` — principal component analysis (exact, covariance or randomized SVD).
* :class:`SoftmaxRegression` — multinomial logistic regression (scores ``X Wᵀ + b``,
  softmax, L2 penalty, L-BFGS) with per-feature explanations of each prediction.
"""

from .linear import LinearRegression, Ridge
from .pca import PCA
from .softmax import Explanation, SoftmaxRegression

__all__ = ["PCA", "Explanation", "LinearRegression", "Ridge", "SoftmaxRegression"]
