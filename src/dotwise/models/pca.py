"""Principal component analysis: the SVD of the centred data, as an estimator.

PCA finds orthonormal directions (rows of ``components_``) that capture as
much variance as possible. With the centred data :math:`X_c = X - \\bar x` and
its thin SVD :math:`X_c = U S V^\\top`, the components are the rows of
:math:`V^\\top`, the explained variances are :math:`s_j^2 / (n - 1)`, and a
sample's coordinates are dot products with the components:
:math:`z = (x - \\bar x) V_k` — the dot product again.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.linalg
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import validate_data

from .. import _loops
from .._dask import is_dask_array
from .._validation import check_choice, check_fitted, describe
from .._xp import is_array_api
from ..linalg import randomized_svd

__all__ = ["PCA"]

_SOLVERS = ("auto", "full", "covariance_eigh", "randomized")


class PCA(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Principal component analysis by SVD (exact or randomized).

    Parameters
    ----------
    n_components : int, float or None, default=None
        How many components to keep: an int in ``[1, min(n_samples, n_features)]``;
        a float in ``(0, 1)``, the smallest number of components whose explained
        variance ratios add up to at least that fraction; or ``None`` for all
        ``min(n_samples, n_features)``.
    svd_solver : {"auto", "full", "covariance_eigh", "randomized"}, default="auto"
        * ``"full"`` — LAPACK SVD (``gesdd``) of the centred data; exact.
        * ``"covariance_eigh"`` — eigendecomposition of the ``p × p`` covariance
          :math:`X_c^\\top X_c / (n - 1)`, accumulated over row blocks of the
          centred data; fastest for tall data, but squares the condition number:
          directions whose variance is below ~1e-8 × the largest lose accuracy.
        * ``"randomized"`` — Halko–Martinsson–Tropp randomized SVD
          (:func:`dotwise.linalg.randomized_svd`, QR after every power iteration),
          with the centring done implicitly (``X`` is never copied); approximate,
          reproducible through ``random_state``.
        * ``"auto"`` — scikit-learn's policy: ``covariance_eigh`` when
          ``n_samples >= 10 n_features`` and ``n_features <= 1000``; ``full``
          when the data are small (``max(shape) <= 500``) or ``n_components`` is
          a fraction; ``randomized`` when ``n_components < 0.8 min(shape)``;
          otherwise ``full``.
    whiten : bool, default=False
        Scale the projected coordinates to unit variance (divide by
        :math:`\\sqrt{\\lambda_j}`); ``inverse_transform`` undoes it.
    random_state : int, numpy.random.Generator, RandomState or None, default=None
        Seeds the randomized solver's test matrix.
    n_oversamples : int, default=10
        Extra random directions for the randomized solver.
    iterated_power : int or "auto", default="auto"
        Power iterations for the randomized solver (7 when ``n_components`` is
        below 10 % of ``min(shape)``, else 4).

    Attributes
    ----------
    components_ : ndarray of shape (n_components_, n_features)
        Orthonormal principal axes, by decreasing explained variance. **Sign
        convention:** each component's entry of largest absolute value is
        positive (the same rule as scikit-learn ≥ 1.5), so results do not depend
        on the solver or the LAPACK build.
    explained_variance_ : ndarray of shape (n_components_,)
        Variance along each component, :math:`s_j^2 / (n - 1)`.
    explained_variance_ratio_ : ndarray of shape (n_components_,)
        ``explained_variance_`` divided by the total variance of ``X`` (computed
        from the data itself, so it is right for truncated solvers too); sums to <= 1.
    singular_values_ : ndarray of shape (n_components_,)
        The singular values :math:`s_j` of the centred data.
    mean_ : ndarray of shape (n_features,)
    n_components_ : int
    noise_variance_ : float
        Mean variance of the discarded directions (probabilistic-PCA noise level).
    svd_solver_ : str
        The solver actually used (``"auto"`` resolved).
    n_samples_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of str, when ``X`` had string column names

    Notes
    -----
    Computation runs in ``X``'s floating dtype: float32 in, float32 out.

    Array-API input (a CuPy array, a PyTorch tensor on the CPU or a GPU) is
    fitted in its own namespace, on its device, with the same solvers built
    from ``xp.linalg``; the fitted arrays then live on that device and
    ``transform`` / ``inverse_transform`` take and return arrays of that kind
    (:mod:`dotwise.models._xp_pca`).

    References
    ----------
    Halko, Martinsson & Tropp, "Finding structure with randomness", SIAM Review 53 (2011).

    Examples
    --------
    >>> import numpy as np
    >>> from dotwise.models import PCA
    >>> X = np.array([[2.0, 0.0], [0.0, 1.0], [-2.0, 0.0], [0.0, -1.0]])
    >>> pca = PCA(n_components=1).fit(X)
    >>> pca.components_, pca.explained_variance_ratio_
    (array([[1., 0.]]), array([0.8]))
    >>> pca.transform(X).ravel()
    array([ 2.,  0., -2.,  0.])
    """

    def __init__(self, n_components=None, *, svd_solver="auto", whiten=False,
                 random_state=None, n_oversamples=10, iterated_power="auto"):
        self.n_components = n_components
        self.svd_solver = svd_solver
        self.whiten = whiten
        self.random_state = random_state
        self.n_oversamples = n_oversamples
        self.iterated_power = iterated_power

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y=None):
        """Learn the mean, the principal axes and their variances from ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self : PCA

        Raises
        ------
        ValueError
            ``X`` not 2-D (with the reshape hint), NaN/Inf, fewer than 2 samples,
            ``n_components`` out of range, unknown ``svd_solver``.
        """
        if is_dask_array(X):  # TSQR / blockwise randomized SVD on the cluster
            from ..scale.models import fit_pca

            return fit_pca(self, X)
        if is_array_api(X):  # CuPy, torch...: fitted on their device
            from ._xp_pca import fit as xp_fit

            xp_fit(self, X)
            return self
        self._fit(X)
        return self

    def fit_transform(self, X, y=None):
        """Fit, then return the projected training data (reusing the factorization).

        Returns
        -------
        ndarray of shape (n_samples, n_components_)
        """
        if is_dask_array(X):  # a lazy Dask array: nothing of n rows is gathered
            return self.fit(X).transform(X)
        if is_array_api(X):  # CuPy, torch...: on their device
            from ._xp_pca import fit_transform as xp_fit_transform

            return xp_fit_transform(self, X)
        U, X = self._fit(X)
        Z = U * self.singular_values_ if U is not None else self._project(X)
        if self.whiten:
            Z /= self._whiten_scale()
        return Z

    def _choose_solver(self, n, p, solver):
        """``(solver, k, fraction)`` for an ``n × p`` fit: ``"auto"`` resolved by shape, and
        a variance fraction refused for the randomized solver (NumPy and array-API fits)."""
        k, fraction = self._requested_components(n, p, solver)
        if solver == "auto":
            if p <= 1000 and n >= 10 * p:
                solver = "covariance_eigh"
            elif max(n, p) <= 500 or fraction is not None:
                solver = "full"
            elif k < 0.8 * min(n, p):
                solver = "randomized"
            else:
                solver = "full"
        if solver == "randomized" and fraction is not None:
            raise ValueError(
                f"n_components={self.n_components!r} (a variance fraction) needs the full "
                "spectrum; use svd_solver='full' or 'covariance_eigh', or pass an int"
            )
        return solver, k, fraction

    def _fit(self, X):
        solver = check_choice(self.svd_solver, "svd_solver", _SOLVERS)
        X = validate_data(self, X, dtype=[np.float64, np.float32], ensure_min_samples=2)
        n, p = X.shape
        solver, k, fraction = self._choose_solver(n, p, solver)
        mean = X.mean(axis=0)
        U = None
        if solver == "full":
            Xc = X - mean
            U, s, Vt = scipy.linalg.svd(Xc, full_matrices=False, overwrite_a=True,
                                        check_finite=False, lapack_driver="gesdd")
            del Xc
            U, Vt = _flip_signs(U, Vt)
            variances = s**2 / (n - 1)
            total = variances.sum()
        elif solver == "covariance_eigh":
            cov = _centred_gram(X, mean) / (n - 1)
            total = np.trace(cov)
            evals, evecs = np.linalg.eigh(cov)    # NumPy's LAPACK, as for the Gram
            evals = np.clip(evals[::-1], 0.0, None)
            Vt = np.ascontiguousarray(evecs[:, ::-1].T)
            _, Vt = _flip_signs(None, Vt)
            variances = evals
            s = np.sqrt(evals * (n - 1))
        else:
            n_iter = self.iterated_power
            if n_iter == "auto":
                n_iter = 7 if k < 0.1 * min(n, p) else 4
            U, s, Vt = randomized_svd(X, k, mean=mean, n_oversamples=self.n_oversamples,
                                      n_iter=n_iter, random_state=self.random_state,
                                      check_finite=False)
            U, Vt = _flip_signs(U, Vt)
            variances = s**2 / (n - 1)
            total = _total_variance(X, mean)
        total = float(total)
        if fraction is not None:
            ratios = variances / total if total > 0 else np.zeros_like(variances)
            k = int(np.searchsorted(np.cumsum(ratios), fraction, side="left")) + 1
            k = min(k, len(variances))
        self.svd_solver_ = solver
        self.n_samples_ = n
        self.mean_ = mean
        self.n_components_ = k
        self.components_ = np.ascontiguousarray(Vt[:k])
        self.singular_values_ = s[:k].astype(X.dtype, copy=True)
        self.explained_variance_ = variances[:k].astype(X.dtype, copy=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = self.explained_variance_ / total if total > 0 else \
                np.zeros_like(self.explained_variance_)
        self.explained_variance_ratio_ = ratio.astype(X.dtype)
        rest = min(n, p) - k
        if rest > 0:
            self.noise_variance_ = float(max(total - float(variances[:k].sum()), 0.0) / rest)
        else:
            self.noise_variance_ = 0.0
        return (None if U is None else U[:, :k]), X

    def _requested_components(self, n, p, solver):
        """Resolve ``n_components`` to (k, fraction); k is the cap when a fraction is given."""
        limit = min(n, p)
        nc = self.n_components
        if nc is None:
            return limit, None
        if isinstance(nc, numbers.Integral) and not isinstance(nc, bool):
            if not 1 <= nc <= limit:
                raise ValueError(
                    f"n_components must be between 1 and min(n_samples, n_features)="
                    f"{limit} (X has shape ({n}, {p})), got {nc}"
                )
            return int(nc), None
        if isinstance(nc, numbers.Real) and not isinstance(nc, bool):
            if not 0 < nc < 1:
                raise ValueError(
                    f"n_components as a float is a fraction of variance and must be in "
                    f"(0, 1), got {nc}; pass an int to ask for a number of components"
                )
            return limit, float(nc)
        raise TypeError(
            f"n_components must be an int, a float in (0, 1) or None, got {describe(nc)}"
        )

    # --------------------------------------------------------------- transforms
    def transform(self, X):
        """Project ``X`` on the components: :math:`Z = (X - \\bar x) V_k^\\top`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_components_)
            Divided by :math:`\\sqrt{\\lambda_j}` column-wise when ``whiten``.
        """
        check_fitted(self, "components_")
        if is_dask_array(X):  # lazy, blockwise
            from ..scale.models import pca_transform

            return pca_transform(self, X)
        if is_array_api(X) or is_array_api(self.components_):  # CuPy, torch...: on device
            from ._xp_pca import transform as xp_transform

            return xp_transform(self, X)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        Z = self._project(X)
        if self.whiten:
            Z /= self._whiten_scale()
        return Z

    def inverse_transform(self, X):
        """Map coordinates back to feature space: :math:`\\hat X = Z V_k + \\bar x`.

        Exact (up to rounding) when ``n_components_ == min(n_samples, n_features)``;
        otherwise the best rank-``k`` reconstruction.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components_)

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        from .._validation import ShapeError, as_float_array

        check_fitted(self, "components_")
        if is_dask_array(X):  # lazy, blockwise
            from ..scale.models import pca_inverse_transform

            return pca_inverse_transform(self, X)
        if is_array_api(X) or is_array_api(self.components_):  # CuPy, torch...: on device
            from ._xp_pca import inverse_transform as xp_inverse

            return xp_inverse(self, X)
        Z = as_float_array(X, "X", ndim=2)
        if Z.shape[1] != self.n_components_:
            raise ShapeError(
                f"X must have n_components_={self.n_components_} columns (the output of "
                f"transform), got shape {Z.shape}"
            )
        if self.whiten:
            Z = Z * self._whiten_scale()
        return Z @ self.components_ + self.mean_

    def _project(self, X):
        Z = X @ self.components_.T
        Z -= self.mean_ @ self.components_.T
        return Z

    def _whiten_scale(self):
        scale = np.sqrt(self.explained_variance_)
        return np.maximum(scale, np.finfo(scale.dtype).eps)

    @property
    def _n_features_out(self):
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.sparse = False
        return tags


def _flip_signs(U, Vt):
    """Make each row of ``Vt``'s largest-|.| entry positive; flip ``U``'s columns to match."""
    idx = np.argmax(np.abs(Vt), axis=1)
    signs = np.sign(Vt[np.arange(Vt.shape[0]), idx])
    signs[signs == 0] = 1
    Vt = Vt * signs[:, None]
    if U is not None:
        U = U * signs[None, :]
    return U, Vt


def _centred_gram(X, mean, block=4096):
    """:math:`(X - \\bar x)^\\top (X - \\bar x)` (symmetric), by row blocks.

    With the compiled loops (up to 256 columns) one sweep centres each row in
    float64 as it is read and accumulates the products in registers
    (:func:`dotwise._loops.gram_aug`). Otherwise each block is centred into one
    reused buffer and its ``BᵀB`` added (NumPy's matmul, which runs BLAS ``syrk`` for
    that product). Either way the centred data is never materialised.

    NumPy's BLAS, not SciPy's: the two are separate OpenBLAS copies, each with its own
    threads, and after NumPy code (the usual caller) SciPy's wake up beside NumPy's
    still-spinning ones (measured: a 64 × 64 ``eigh`` took 3.2 ms through SciPy right
    after a NumPy product on 2 threads, 0.46 ms through NumPy).
    """
    if _loops.gram_supported(X):      # one compiled sweep, centred and summed in float64
        return _loops.gram_aug(X, mean=mean).astype(X.dtype, copy=False)
    n, p = X.shape
    G = np.zeros((p, p), dtype=X.dtype)
    product = np.empty((p, p), dtype=X.dtype)
    buf = np.empty((min(block, n), p), dtype=X.dtype)
    for start in range(0, n, block):
        rows = X[start:start + block]
        B = buf[:rows.shape[0]]
        np.subtract(rows, mean, out=B)
        G += np.matmul(B.T, B, out=product)
    return G


def _total_variance(X, mean, block=8192):
    total = 0.0
    for start in range(0, X.shape[0], block):
        B = X[start:start + block] - mean
        total += float(np.einsum("ij,ij->", B, B))
    return total / (X.shape[0] - 1)

