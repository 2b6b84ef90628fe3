"""Estimators with the scikit-learn contract, built on :mod:`dotwise.linalg`.

* :class:`LinearRegression` — ordinary least squares with leverage, standard
  errors, studentized residuals, Cook's distances and a ``summary()`` table.
* :class:`Ridge` — L2-penalised least squares with leverage and effective
  degrees of freedom.
* :class:`PCA` — principal component analysis (exact, covariance or randomized SVD).
"""

from .linear import LinearRegression, Ridge
from .pca import PCA

__all__ = ["PCA", "LinearRegression", "Ridge"]
