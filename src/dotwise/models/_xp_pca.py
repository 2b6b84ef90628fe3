r"""PCA on array-API arrays (CuPy, PyTorch CPU/CUDA, ...): fitted on the input's device.

:class:`dotwise.models.PCA` sends foreign arrays here (see :mod:`dotwise._xp`);
NumPy input keeps its LAPACK code. The solvers are the same, built from the
namespace's ``linalg``:

* ``full`` — ``xp.linalg.svd`` of the centred data :math:`X_c = X - \bar x`;
* ``covariance_eigh`` — ``xp.linalg.eigh`` of :math:`X_c^\top X_c / (n - 1)`
  (the centred copy is formed on the device, where the NumPy path accumulates
  it in row blocks);
* ``randomized`` — a Halko–Martinsson–Tropp range finder with a QR after every
  power iteration, centring implicit. The Gaussian test matrix
  (``n_features × (n_components + n_oversamples)``) is drawn on the host from
  ``random_state`` and copied to the device, so a seed gives the same
  components on every device (not bit for bit the NumPy path's: that one draws
  its own).

The fitted arrays (``components_``, ``mean_``, ``explained_variance_``,
``explained_variance_ratio_``, ``singular_values_``) live on the input's device
in its namespace; ``transform`` and ``inverse_transform`` then need input from
the same library and device, and return arrays of that kind.
``noise_variance_`` and ``n_components_`` are Python numbers.
"""

from __future__ import annotations

import numpy as np

from .._validation import ShapeError, check_choice
from .._xp import array_namespace, describe_array, float_array

__all__ = ["fit", "fit_transform", "inverse_transform", "transform"]


def _flip_signs(U, Vt, xp):
    """Make each row of ``Vt``'s largest-|.| entry positive; flip ``U``'s columns to match."""
    idx = xp.argmax(xp.abs(Vt), axis=1)
    top = xp.take_along_axis(Vt, xp.expand_dims(idx, axis=1), axis=1)[:, 0]
    signs = xp.where(top < 0, -xp.ones_like(top), xp.ones_like(top))
    Vt = Vt * xp.expand_dims(signs, axis=1)
    if U is not None:
        U = U * xp.expand_dims(signs, axis=0)
    return U, Vt


def _randomized(X, mean, k, est, xp, dev):
    n, p = X.shape
    n_iter = est.iterated_power
    if n_iter == "auto":
        n_iter = 7 if k < 0.1 * min(n, p) else 4
    width = min(p, k + int(est.n_oversamples))
    rng = est.random_state
    if not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(rng if not isinstance(rng, np.random.RandomState)
                                    else rng.randint(2**31))
    omega = xp.asarray(rng.standard_normal((p, width)), dtype=X.dtype, device=dev)
    m_row = xp.expand_dims(mean, axis=0)

    def xc_times(B):  # (X − 1 x̄ᵀ) B without forming the centred copy
        return X @ B - m_row @ B

    def xct_times(B):  # (X − 1 x̄ᵀ)ᵀ B
        return X.T @ B - m_row.T @ xp.sum(B, axis=0, keepdims=True)

    Y = xc_times(omega)
    for _ in range(int(n_iter)):
        Q, _ = xp.linalg.qr(Y, mode="reduced")
        Z, _ = xp.linalg.qr(xct_times(Q), mode="reduced")
        Y = xc_times(Z)
    Q, _ = xp.linalg.qr(Y, mode="reduced")
    Ub, s, Vt = xp.linalg.svd(xct_times(Q).T, full_matrices=False)
    return (Q @ Ub)[:, :k], s[:k], Vt[:k, :]


def fit(est, X):
    """Fit ``est`` (a :class:`~dotwise.models.PCA`) on array-API ``X``; returns ``(U_k, X)``."""
    xp, dev = array_namespace(("X", X))
    solver = check_choice(est.svd_solver, "svd_solver", ("auto", "full", "covariance_eigh",
                                                         "randomized"))
    X = float_array(X, "X", xp, ndim=2)
    n, p = X.shape
    if n < 2:
        raise ValueError(f"Found array with {n} sample(s) (shape={tuple(X.shape)}) while a "
                         f"minimum of 2 is required by {type(est).__name__}.")
    solver, k, fraction = est._choose_solver(n, p, solver)
    mean = xp.mean(X, axis=0)
    U = None
    if solver == "full":
        U, s, Vt = xp.linalg.svd(X - mean, full_matrices=False)
        U, Vt = _flip_signs(U, Vt, xp)
        variances = s**2 / (n - 1)
        total = float(xp.sum(variances))
    elif solver == "covariance_eigh":
        Xc = X - mean
        cov = (Xc.T @ Xc) / (n - 1)
        del Xc
        total = float(xp.sum(xp.linalg.diagonal(cov)))
        evals, evecs = xp.linalg.eigh(cov)
        evals = xp.flip(evals)
        evals = xp.where(evals > 0, evals, xp.zeros_like(evals))
        _, Vt = _flip_signs(None, xp.flip(evecs, axis=1).T, xp)
        variances = evals
        s = xp.sqrt(evals * (n - 1))
    else:
        U, s, Vt = _randomized(X, mean, k, est, xp, dev)
        U, Vt = _flip_signs(U, Vt, xp)
        variances = s**2 / (n - 1)
        Xc = X - mean
        total = float(xp.sum(Xc * Xc)) / (n - 1)
        del Xc
    if fraction is not None:
        ratios = variances / total if total > 0 else xp.zeros_like(variances)
        cum = xp.cumulative_sum(ratios)
        k = int(xp.searchsorted(cum, xp.asarray(fraction, dtype=cum.dtype, device=dev),
                                side="left")) + 1
        k = min(k, variances.shape[0])
    est.__dict__.pop("feature_names_in_", None)
    est.n_features_in_ = p
    est.svd_solver_ = solver
    est.n_samples_ = n
    est.mean_ = mean
    est.n_components_ = k
    est.components_ = Vt[:k, :]
    est.singular_values_ = s[:k]
    est.explained_variance_ = variances[:k]
    est.explained_variance_ratio_ = (variances[:k] / total if total > 0
                                     else xp.zeros_like(variances[:k]))
    rest = min(n, p) - k
    kept = float(xp.sum(variances[:k]))
    est.noise_variance_ = max(total - kept, 0.0) / rest if rest > 0 else 0.0
    return (None if U is None else U[:, :k]), X


def _whiten_scale(est, xp):
    scale = xp.sqrt(est.explained_variance_)
    eps = float(xp.finfo(scale.dtype).eps)
    return xp.where(scale > eps, scale, xp.full_like(scale, eps))


def fit_transform(est, X):
    U, X = fit(est, X)
    xp, _ = array_namespace(("X", X))
    Z = U * est.singular_values_ if U is not None else _project(est, X, xp)
    return Z / _whiten_scale(est, xp) if est.whiten else Z


def _check_same_place(est, X):
    C = est.components_
    try:
        return array_namespace(("X", X), ("components_", C))
    except (TypeError, ValueError) as exc:
        raise type(exc)(
            f"X is a {describe_array(X)}, but this {type(est).__name__} was fitted on another "
            f"array library or device (components_ is a {describe_array(C)}); pass X from the "
            f"same library and device, or fit again on X") from None


def _project(est, X, xp):
    C = est.components_
    return X @ C.T - xp.expand_dims(est.mean_, axis=0) @ C.T


def transform(est, X):
    """``PCA.transform`` for array-API ``X`` (fitted on the same library and device)."""
    xp, _ = _check_same_place(est, X)
    X = float_array(X, "X", xp, ndim=2)
    if X.shape[1] != est.n_features_in_:
        raise ValueError(f"X has {X.shape[1]} features, but {type(est).__name__} is expecting "
                         f"{est.n_features_in_} features as input.")
    X = xp.astype(X, est.components_.dtype) if X.dtype != est.components_.dtype else X
    Z = _project(est, X, xp)
    return Z / _whiten_scale(est, xp) if est.whiten else Z


def inverse_transform(est, Z):
    """``PCA.inverse_transform`` for array-API ``Z``: :math:`\\hat X = Z V_k + \\bar x`."""
    xp, _ = _check_same_place(est, Z)
    Z = float_array(Z, "X", xp, ndim=2)
    if Z.shape[1] != est.n_components_:
        raise ShapeError(f"X must have n_components_={est.n_components_} columns (the output "
                         f"of transform), got shape {tuple(Z.shape)}")
    if est.whiten:
        Z = Z * _whiten_scale(est, xp)
    return Z @ est.components_ + est.mean_

