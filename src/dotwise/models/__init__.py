"""Estimators with the scikit-learn contract, built on :mod:`dotwise.linalg`.

* :class:`LinearRegression` — ordinary least squares with leverage, standard
  errors, studentized residuals, Cook's distances and a ``summary()`` table.
* :class:`Ridge` — L2-penalised least squares with leverage and effective
  degrees of freedom.
* :class:`PCA` — principal component analysis (exact, covariance or randomized SVD).
* :class:`KMeans` — k-means clustering, distances as one GEMM per pass;
  :func:`kmeans_steps` replays Lloyd's iterations one at a time (for demos).
* :func:`segment` — standardise, (PCA,) k-means and describe each segment in words;
  :func:`customer_table` makes a seeded synthetic customer table to try it on.
* :class:`SoftmaxRegression` — multinomial logistic regression (scores ``X Wᵀ + b``,
  softmax, L2 penalty, L-BFGS) with per-feature explanations of each prediction.
"""

from .kmeans import KMeans, kmeans_steps
from .linear import LinearRegression, Ridge
from .pca import PCA
from .segment import Segmentation, customer_table, segment
from .softmax import ClassifierExplanation, SoftmaxRegression

__all__ = ["PCA", "ClassifierExplanation", "KMeans", "LinearRegression", "Ridge",
           "Segmentation", "SoftmaxRegression", "customer_table", "kmeans_steps", "segment"]
