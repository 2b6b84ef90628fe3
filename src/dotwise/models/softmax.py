r"""Softmax regression (multinomial logistic regression): a linear classifier of dot products.

Each class :math:`c` has a weight vector :math:`w_c` and an intercept :math:`b_c`; a
sample's score for the class is a dot product, and a softmax turns the scores into
probabilities:

.. math::

    s_c(x) = w_c \cdot x + b_c, \qquad
    P(c \mid x) = \operatorname{softmax}(s(x))_c = \frac{e^{s_c}}{\sum_k e^{s_k}}

For all samples at once the scores are one matrix product, :math:`S = X W^\top + b`.
The fit minimises the mean cross-entropy plus an L2 penalty on the weights (the
intercepts are not penalised):

.. math::

    L(W, b) = \sum_i \omega_i \bigl(-\log P(y_i \mid x_i)\bigr)
              + \frac{\alpha}{2} \lVert W \rVert_F^2

(:math:`\omega_i` the sample weights, 1 by default) — the objective of scikit-learn's
``LogisticRegression`` with :math:`C = 1/\alpha`, and the same convention as
:class:`~dotwise.models.Ridge` (the penalty is weighed against the *sum* of the
losses). The gradient is again two matrix products,
:math:`\nabla_W L = G^\top X + \alpha W` with
:math:`G_{ic} = \omega_i (P_{ic} - [y_i = c])`, so a fit costs two float64 GEMMs per
loss evaluation and no loop over samples. ``L`` is strictly convex in ``W`` for
``α > 0``; it is minimised by L-BFGS (:mod:`dotwise.models._lbfgs`) with a
preconditioned initial inverse Hessian: first Böhning's bound
:math:`\tfrac12 \tilde X^\top \tilde X + \alpha` (:math:`\tilde X = [X, 1]`), then every
few iterations the diagonal blocks of the current Hessian,
:math:`\tilde X^\top \operatorname{diag}(\omega \, p_c (1 - p_c)) \tilde X + \alpha`
per class, from a subsample of the rows. This makes the fit insensitive to how the
features are scaled or correlated, and keeps it quick when most samples are already
classified with confidence (where a fixed bound overestimates the curvature).
"""

from __future__ import annotations

import contextlib
import time
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.linalg
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, validate_data

from .._kernels import softmax_and_log_unchecked as _softmax_and_log
from .._kernels import softmax_inplace_unchecked as _softmax_inplace
from .._threads import one_blas_thread
from .._validation import ShapeError, check_fitted, check_int, check_positive, describe
from ._lbfgs import minimize_lbfgs

__all__ = ["ClassifierExplanation", "SoftmaxRegression"]


class SoftmaxRegression(ClassifierMixin, BaseEstimator):
    r"""Multinomial logistic regression: class scores ``X Wᵀ + b``, softmax, L2 penalty.

    Parameters
    ----------
    alpha : float, default=1.0
        Strength of the L2 penalty :math:`\tfrac{\alpha}{2}\lVert W\rVert_F^2`, weighed
        against the *sum* of the per-sample cross-entropies (as in
        :class:`~dotwise.models.Ridge`). scikit-learn's ``LogisticRegression(C=...)``
        minimises the same objective: the two fit the same model when
        ``C = 1 / alpha`` (so the default matches its ``C=1.0``). Larger ``alpha``:
        smaller weights, smoother probabilities, faster convergence. ``alpha=0`` fits
        without a penalty (on separable data the weights then grow until ``max_iter``).
    fit_intercept : bool, default=True
        Fit the intercepts :math:`b` (never penalised).
    tol : float, default=1e-4
        Stop when every entry of the gradient of :math:`L / \sum_i \omega_i` (the mean
        loss, so the test does not depend on the number of samples) is at most ``tol``
        in absolute value — scikit-learn's ``lbfgs`` uses the same test — or when the
        loss no longer decreases at all in floating point (then the gradient is as
        small as rounding allows; ``stop_reason_ == "loss"``).
    max_iter : int, default=200
        Most L-BFGS iterations; reaching it raises a ``ConvergenceWarning``.
    memory : int, default=10
        Number of (step, gradient change) pairs L-BFGS keeps.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels seen in ``fit``, sorted (any hashable labels: ints, strings...).
    coef_ : ndarray of shape (n_classes, n_features), or (1, n_features) for two classes
        The weight vectors :math:`w_c`. With two classes, as in scikit-learn, one row:
        the score of ``classes_[1]`` minus that of ``classes_[0]``.
    intercept_ : ndarray of shape (n_classes,), or (1,) for two classes
        With more than two classes they sum to zero (adding a constant to every
        score changes no probability; the penalty fixes the same freedom in ``coef_``).
    n_iter_ : ndarray of shape (1,)
        L-BFGS iterations run (an array, as scikit-learn's).
    loss_history_ : ndarray of shape (n_iter_ + 1,)
        :math:`L / \sum_i \omega_i` at the start and after each iteration (non-increasing).
    converged_ : bool
    stop_reason_ : str
        ``"gradient"`` or ``"loss"`` (converged), ``"max_iter"`` or ``"line search"``.
    fit_time_ : float
        Seconds spent in ``fit``.
    n_features_in_ : int
    feature_names_in_ : ndarray of str, when ``X`` had string column names

    Notes
    -----
    With two classes the model is the logistic (sigmoid) regression of scikit-learn:
    one weight vector, :math:`P(\text{classes\_[1]} \mid x) = \operatorname{softmax}
    ([0, w \cdot x + b])_1 = \sigma(w \cdot x + b)`, penalty
    :math:`\tfrac{\alpha}{2}\lVert w\rVert^2`. Internally the loss is divided by
    :math:`\sum_i \omega_i` (the mean cross-entropy plus
    :math:`\tfrac{\alpha}{2\sum\omega}\lVert W\rVert^2`, same minimiser), which keeps
    its scale independent of the number of samples. Computation is in float64; float32 input
    is converted (the loss is summed over many samples).

    References
    ----------
    Nocedal & Wright, *Numerical Optimization*, 2nd ed. (2006), chapters 3 and 7.
    Böhning, "Multinomial logistic regression algorithm", Ann. Inst. Stat. Math. 44 (1992).

    Examples
    --------
    >>> import numpy as np
    >>> from dotwise.models import SoftmaxRegression
    >>> X = np.array([[0.0, 0.0], [1.0, 0.2], [0.1, 1.0], [2.0, 2.0], [2.2, 1.8], [0.0, 2.1]])
    >>> y = np.array(["cat", "cat", "dog", "owl", "owl", "dog"])
    >>> model = SoftmaxRegression(alpha=0.1).fit(X, y)
    >>> model.classes_.tolist(), model.coef_.shape
    (['cat', 'dog', 'owl'], (3, 2))
    >>> model.predict([[2.1, 2.0], [0.0, 1.5]]).tolist()
    ['owl', 'dog']
    >>> proba = model.predict_proba([[2.1, 2.0]])
    >>> bool(np.isclose(proba.sum(), 1.0)), model.converged_
    (True, True)
    """

    def __init__(self, alpha=1.0, *, fit_intercept=True, tol=1e-4, max_iter=200, memory=10):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.memory = memory

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y, sample_weight=None, *, callback=None):
        """Fit the weights and intercepts by L-BFGS.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels, at least two distinct ones.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights :math:`\\omega_i` of the samples in the loss.
        callback : callable, optional
            ``callback(iteration, loss, max_abs_grad)`` after every iteration (for
            progress bars).

        Returns
        -------
        self : SoftmaxRegression

        Raises
        ------
        ShapeError
            ``X`` not 2-D, or ``X`` and ``y`` (or ``sample_weight``) of different lengths.
        ValueError
            NaN or infinity in ``X``; fewer than two classes in ``y``; a bad
            hyper-parameter (``alpha`` < 0, ``tol`` ≤ 0, ``max_iter`` < 1).
        """
        from sklearn.exceptions import ConvergenceWarning

        start = time.perf_counter()
        alpha = check_positive(self.alpha, "alpha", allow_zero=True)
        tol = check_positive(self.tol, "tol")
        max_iter = check_int(self.max_iter, "max_iter", minimum=1)
        memory = check_int(self.memory, "memory", minimum=1)
        _precheck(X, y, sample_weight)
        X, y = validate_data(self, X, y, dtype=np.float64, order="C")
        check_classification_targets(y)
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        n_classes = len(self.classes_)
        if n_classes < 2:
            raise ValueError(
                f"y has only one class ({_plain(self.classes_[0])!r}) in {len(y)} samples; a "
                "classifier needs at least 2 classes to tell apart")
        sw = None
        if sample_weight is not None:
            sw = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                      ensure_non_negative=True)
            if not sw.sum() > 0:
                raise ValueError("sample_weight must have a positive sum, got all zeros")
        total_weight = float(X.shape[0] if sw is None else sw.sum())
        problem = _Problem(X, y_idx, n_classes, sw, alpha / total_weight,
                           bool(self.fit_intercept))
        theta0 = np.zeros(problem.n_scores * problem.width)
        # small products: BLAS threads cost more to wake than they save (and on a busy
        # machine far more), so run them on one thread
        small = X.shape[0] * problem.width * problem.n_scores < _SMALL_GEMM
        with one_blas_thread() if small else contextlib.nullcontext():
            result = minimize_lbfgs(problem.loss_grad, theta0, gtol=tol, max_iter=max_iter,
                                    memory=memory, precondition=problem.preconditioner(),
                                    refresh=problem.curvature_preconditioner,
                                    refresh_every=_REFRESH_EVERY, callback=callback)
        Theta = result.x.reshape(problem.n_scores, problem.width)
        coef = Theta[:, :X.shape[1]].copy()
        intercept = Theta[:, -1].copy() if self.fit_intercept else np.zeros(problem.n_scores)
        if n_classes > 2 and self.fit_intercept:
            intercept -= intercept.mean()  # the loss ignores a common shift; pick Σ b = 0
        self.coef_, self.intercept_ = coef, intercept
        self.n_iter_ = np.array([result.n_iter], dtype=np.int32)
        self.loss_history_ = np.asarray(result.loss_history)
        self.converged_, self.stop_reason_ = result.converged, result.reason
        self.fit_time_ = time.perf_counter() - start
        if not result.converged:
            why = (f"reached max_iter={max_iter}" if result.reason == "max_iter"
                   else "the line search found no lower loss (rounding level reached)")
            warnings.warn(
                f"SoftmaxRegression did not converge: {why} with max|gradient| = "
                f"{np.max(np.abs(result.grad)):.2e} > tol={tol:g}. Increase max_iter, raise "
                "alpha, or standardise the features.", ConvergenceWarning, stacklevel=2)
        return self

    # --------------------------------------------------------------- prediction
    def decision_function(self, X):
        """Class scores :math:`X W^\\top + b`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes), or (n_samples,) for two classes
            For two classes, the score of ``classes_[1]`` minus that of ``classes_[0]``
            (positive: ``classes_[1]``), as in scikit-learn.
        """
        check_fitted(self, "coef_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        scores = X @ self.coef_.T + self.intercept_
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def _logits(self, X):
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return np.column_stack([np.zeros_like(scores), scores])
        return scores

    def predict_proba(self, X):
        """Class probabilities, the softmax of the scores (each row sums to 1).

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        return _softmax_and_log(self._logits(X), axis=1)[0]

    def predict_log_proba(self, X):
        """Logarithms of :meth:`predict_proba`, computed stably (never ``log(0)``).

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return _softmax_and_log(self._logits(X), axis=1)[1]

    def predict(self, X):
        """The class with the highest score (equivalently, probability).

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        best = np.argmax(self._logits(X), axis=1)
        return self.classes_[best]

    # ------------------------------------------------------------- explanation
    def class_weights(self):
        """Per-class weight vectors and intercepts, also for two classes.

        Returns
        -------
        W : ndarray of shape (n_classes, n_features)
        b : ndarray of shape (n_classes,)
            Scores ``x @ W.T + b`` give the same probabilities as the model. With two
            classes the single ``coef_`` row is split symmetrically:
            :math:`w_{1} = -w_{0} = \\tfrac12` ``coef_[0]``.
        """
        check_fitted(self, "coef_")
        if self.coef_.shape[0] == 1:
            half_w, half_b = 0.5 * self.coef_[0], 0.5 * self.intercept_[0]
            return np.stack([-half_w, half_w]), np.array([-half_b, half_b])
        return self.coef_, self.intercept_

    def explain(self, x, *, feature_names=None):
        """Why the model gave ``x`` its class: each feature's share of each class score.

        The score of class ``c`` is a sum of per-feature terms, so it splits exactly:

        .. math::

            s_c(x) = b_c + \\sum_i w_{c,i}\\, x_i, \\qquad
            \\text{contribution}_{c,i} = w_{c,i}\\, x_i

        Parameters
        ----------
        x : array-like of shape (n_features,) or (1, n_features)
            One sample.
        feature_names : sequence of str of length n_features, optional
            Names for the report; default ``feature_names_in_`` or ``x0, x1, ...``.

        Returns
        -------
        ClassifierExplanation
            ``contributions`` of shape (n_classes, n_features), ``intercepts`` and
            ``scores`` of shape (n_classes,), the probabilities, the predicted class and
            the runner-up. ``str()`` of it lists the features that pushed most towards
            the prediction and towards the runner-up.

        Raises
        ------
        ShapeError
            ``x`` is not one sample of ``n_features_in_`` values.

        Examples
        --------
        >>> import numpy as np
        >>> from dotwise.models import SoftmaxRegression
        >>> X = np.array([[0.0, 1.0], [0.2, 0.9], [1.0, 0.0], [0.9, 0.1], [1.0, 1.0], [0.9, 1.1]])
        >>> model = SoftmaxRegression(alpha=0.1).fit(X, [0, 0, 1, 1, 2, 2])
        >>> e = model.explain([0.95, 0.05], feature_names=["width", "height"])
        >>> e.predicted, e.contributions.shape
        (1, (3, 2))
        >>> bool(np.allclose(e.contributions.sum(axis=1) + e.intercepts, e.scores))
        True
        """
        check_fitted(self, "coef_")
        x = np.asarray(x)
        if x.ndim == 2 and x.shape[0] == 1:
            x = x[0]
        if x.ndim != 1 or x.shape[0] != self.n_features_in_:
            raise ShapeError(
                f"x must be one sample: {self.n_features_in_} values, shape "
                f"({self.n_features_in_},) or (1, {self.n_features_in_}); got {describe(x)}. "
                "Explain several samples one at a time.")
        x = validate_data(self, x[None, :], reset=False, dtype=np.float64)[0]
        if feature_names is None:
            feature_names = getattr(self, "feature_names_in_", None)
        if feature_names is None:
            feature_names = [f"x{i}" for i in range(x.shape[0])]
        names = [str(f) for f in feature_names]
        if len(names) != x.shape[0]:
            raise ShapeError(f"feature_names must have {x.shape[0]} names (one per feature), "
                             f"got {len(names)}")
        W, b = self.class_weights()
        contributions = W * x
        scores = contributions.sum(axis=1) + b
        proba = _softmax_and_log(scores[None, :], axis=1)[0][0]
        order = np.argsort(-scores, kind="stable")
        return ClassifierExplanation(classes=self.classes_, feature_names=names, x=x,
                           contributions=contributions, intercepts=b.copy(), scores=scores,
                           probabilities=proba, predicted_index=int(order[0]),
                           runner_up_index=int(order[1]))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags


@dataclass(frozen=True)
class ClassifierExplanation:
    """The per-feature split of one sample's class scores (see :meth:`SoftmaxRegression.explain`).

    Attributes
    ----------
    classes : ndarray of shape (n_classes,)
    feature_names : list of str, length n_features
    x : ndarray of shape (n_features,)
    contributions : ndarray of shape (n_classes, n_features)
        :math:`w_{c,i} x_i`.
    intercepts : ndarray of shape (n_classes,)
    scores : ndarray of shape (n_classes,)
        ``contributions.sum(axis=1) + intercepts``.
    probabilities : ndarray of shape (n_classes,)
        ``softmax(scores)``.
    predicted_index, runner_up_index : int
        Positions in ``classes`` of the highest and second-highest score.
    """

    classes: np.ndarray
    feature_names: list
    x: np.ndarray
    contributions: np.ndarray
    intercepts: np.ndarray
    scores: np.ndarray
    probabilities: np.ndarray
    predicted_index: int
    runner_up_index: int

    @property
    def predicted(self):
        """The predicted class label."""
        return self.classes[self.predicted_index].item()

    @property
    def runner_up(self):
        """The class with the second-highest score."""
        return self.classes[self.runner_up_index].item()

    def margin_contributions(self):
        """Per-feature contributions to the margin ``score(predicted) − score(runner-up)``.

        Returns
        -------
        ndarray of shape (n_features,)
            Positive entries favour the prediction; they sum, with the intercepts'
            difference, to the margin.
        """
        return self.contributions[self.predicted_index] - self.contributions[self.runner_up_index]

    def top_features(self, k=5):
        """The ``k`` features pushing most towards the prediction, and towards the runner-up.

        Returns
        -------
        toward_predicted, toward_runner_up : list of (name, x_i, contribution)
            Sorted by how hard they push; contributions to the margin
            (:meth:`margin_contributions`), positive for the first list, negative for
            the second.
        """
        k = check_int(k, "k", minimum=1)
        m = self.margin_contributions()
        order = np.argsort(-m, kind="stable")
        pro = [(self.feature_names[i], float(self.x[i]), float(m[i])) for i in order[:k]
               if m[i] > 0]
        con = [(self.feature_names[i], float(self.x[i]), float(m[i]))
               for i in order[::-1][:k] if m[i] < 0]
        return pro, con

    def to_dict(self, k=5):
        """A JSON-ready summary (lists and floats) for scripts and web demos."""
        pro, con = self.top_features(k)
        return {
            "predicted": _plain(self.predicted), "runner_up": _plain(self.runner_up),
            "classes": [_plain(c) for c in self.classes.tolist()],
            "scores": self.scores.tolist(), "probabilities": self.probabilities.tolist(),
            "intercepts": self.intercepts.tolist(), "feature_names": list(self.feature_names),
            "x": self.x.tolist(), "contributions": self.contributions.tolist(),
            "margin_contributions": self.margin_contributions().tolist(),
            "toward_predicted": [list(t) for t in pro], "toward_runner_up": [list(t) for t in con],
        }

    def __str__(self):
        p, r = self.predicted_index, self.runner_up_index
        pro, con = self.top_features(5)
        margin = self.scores[p] - self.scores[r]
        width = max([len(n) for n, _, _ in pro + con] + [7])
        lines = [
            f"predicted {self.predicted!r} (probability {self.probabilities[p]:.3f}); "
            f"runner-up {self.runner_up!r} ({self.probabilities[r]:.3f})",
            f"score({self.predicted!r}) = {self.scores[p]:.3f}, score({self.runner_up!r}) = "
            f"{self.scores[r]:.3f}: margin {margin:.3f}, of which intercepts "
            f"{self.intercepts[p] - self.intercepts[r]:+.3f}",
            f"features pushing towards {self.predicted!r} rather than {self.runner_up!r}:",
        ]
        lines += [f"  {n:<{width}}  x = {v:<9.4g} {c:+.3f}" for n, v, c in pro] or ["  (none)"]
        lines.append(f"features pushing towards {self.runner_up!r}:")
        lines += [f"  {n:<{width}}  x = {v:<9.4g} {c:+.3f}" for n, v, c in con] or ["  (none)"]
        return "\n".join(lines)

    def __repr__(self):
        return (f"ClassifierExplanation(predicted={self.predicted!r}, runner_up={self.runner_up!r}, "
                f"n_features={len(self.feature_names)})")


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _precheck(X, y, sample_weight):
    """dotwise's messages for the common mistakes, before scikit-learn's validation."""
    if X is None:
        raise ValueError("X must be a 2-D array (n_samples, n_features), got None")
    if y is None:
        raise ValueError("SoftmaxRegression requires y to be passed, but the target y is None")
    if hasattr(X, "toarray") or hasattr(X, "columns"):  # sparse / DataFrame: scikit-learn's
        return
    arr = np.asarray(X) if not isinstance(X, np.ndarray) else X
    if arr.dtype == object:
        return
    if arr.ndim != 2:
        hint = ""
        if arr.ndim == 1:
            hint = (f" One sample of {arr.shape[0]} features? Pass X.reshape(1, -1). "
                    f"One feature? Pass X.reshape(-1, 1).")
        raise ShapeError(f"X must be a 2-D array (n_samples, n_features), got {arr.ndim}-D "
                         f"array of shape {arr.shape}.{hint}")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        i, j = (int(v) for v in np.argwhere(~np.isfinite(arr))[0])
        raise ValueError(f"X contains NaN or infinity (first: {arr[i, j]} at row {i}, column "
                         f"{j}); impute or drop those rows first")
    y_arr = np.asarray(y)
    if y_arr.ndim >= 1 and y_arr.shape[0] != arr.shape[0]:
        raise ShapeError(f"X and y must have the same number of samples: X has {arr.shape[0]} "
                         f"rows, y has {y_arr.shape[0]} labels")
    if sample_weight is not None:
        sw = np.asarray(sample_weight)
        if sw.ndim == 1 and sw.shape[0] != arr.shape[0]:
            raise ShapeError(f"sample_weight must have one weight per sample ({arr.shape[0]}), "
                             f"got {sw.shape[0]}")


_PRECONDITION_ROWS = 4000
_REFRESH_EVERY = 5  # iterations between two curvature preconditioners
_SMALL_GEMM = 1 << 22  # n · (p + 1) · n_classes below which BLAS runs on one thread


class _Problem:
    """The loss, its gradient and Böhning's preconditioner for one data set.

    Parameters are one flat vector reshaped to ``Theta`` of shape ``(n_scores, width)``:
    ``Theta[:, :p]`` the weights, ``Theta[:, p]`` the intercepts (when fitted).
    ``n_scores`` is ``n_classes``, or 1 for two classes (the score of class 1; class
    0's is fixed at 0).
    """

    def __init__(self, X, y_idx, n_classes, sw, alpha, fit_intercept):
        # the loss is the weighted *mean* cross-entropy + alpha/2 ‖W‖² (alpha already
        # divided by Σω by the caller)
        self.X, self.alpha, self.fit_intercept = X, alpha, fit_intercept
        n, p = X.shape
        self.p = p
        self.binary = n_classes == 2
        self.n_scores = 1 if self.binary else n_classes
        self.width = p + int(fit_intercept)
        total = float(n if sw is None else sw.sum())
        # row weights ω_i / Σω, so the loss is a weighted mean
        self.w = np.full(n, 1.0 / total) if sw is None else sw / total
        self.uniform = sw is None
        # flat positions of the true classes in a class-major (n_classes, n) array
        self.flat = y_idx.astype(np.intp) * n + np.arange(n)
        self.y_idx = y_idx
        self.n_classes = n_classes

    def loss_grad(self, theta):
        """``(L, ∇L)`` at the flat parameter vector ``theta``.

        Scores are kept class-major, ``Sᵀ = W Xᵀ + b`` of shape (n_scores, n): the
        softmax then reduces over a short leading axis with whole-row vector operations,
        and the gradient ``Gᵀ X`` is one GEMM.
        """
        X, p = self.X, self.p
        Theta = theta.reshape(self.n_scores, self.width)
        W = Theta[:, :p]
        if self.binary:
            St = np.empty((2, X.shape[0]))
            St[0] = 0.0
            np.matmul(W, X.T, out=St[1:])
        else:
            St = W @ X.T
        if self.fit_intercept:
            St[-self.n_scores:] += Theta[:, p:]
        true_scores = St.reshape(-1)[self.flat]
        lse = _softmax_inplace(St, axis=0)[0]      # St now holds the probabilities P
        loss = float(self.w @ (lse - true_scores)) + 0.5 * self.alpha * float(np.vdot(W, W))
        G = St
        G.reshape(-1)[self.flat] -= 1.0             # P − Y
        if self.binary:
            G = G[1:]
        grad = np.empty_like(Theta)
        if self.uniform:
            np.multiply(G @ X, self.w[0], out=grad[:, :p])
        else:
            G *= self.w
            grad[:, :p] = G @ X
        grad[:, :p] += self.alpha * W
        if self.fit_intercept:
            grad[:, p] = G.sum(axis=1) * (self.w[0] if self.uniform else 1.0)
        return loss, grad.reshape(-1)

    def curvature_preconditioner(self, theta):
        """``v_c ↦ v_c P_c⁻¹`` per class, ``P_c = X̃ᵀ diag(ω p_c (1 − p_c)) X̃ + α D`` at ``theta``.

        The diagonal blocks of the Hessian (cross-class blocks dropped), from at most
        ~max(4000, 20·p) evenly spaced rows. Unlike Böhning's fixed bound it follows the
        fit: samples already classified with confidence stop contributing curvature.
        """
        X, p, w = self.X, self.p, self.w
        step = max(1, X.shape[0] // max(_PRECONDITION_ROWS, 20 * self.width))
        X, w = X[::step], w[::step] * step
        Theta = theta.reshape(self.n_scores, self.width)
        St = Theta[:, :p] @ X.T
        if self.fit_intercept:
            St += Theta[:, p:]
        if self.binary:
            St = np.vstack([np.zeros((1, St.shape[1])), St])
        _softmax_inplace(St, axis=0)
        curv = St * (1.0 - St) * w
        if self.binary:
            curv = curv[1:]
        factors = []
        Xt = np.column_stack([X, np.ones(X.shape[0])]) if self.fit_intercept else X
        for c in range(self.n_scores):
            A = (Xt * curv[c][:, None]).T @ Xt
            A[np.arange(p), np.arange(p)] += self.alpha
            A[np.diag_indices(self.width)] += 1e-10 * max(float(np.trace(A)) / self.width,
                                                          1e-300)
            try:
                factors.append(scipy.linalg.cho_factor(A, lower=True, check_finite=False))
            except np.linalg.LinAlgError:
                return None
        n_scores, width = self.n_scores, self.width

        def apply(v):
            V = v.reshape(n_scores, width)
            out = np.empty_like(V)
            for c, factor in enumerate(factors):
                out[c] = scipy.linalg.cho_solve(factor, V[c], check_finite=False)
            return out.reshape(-1)

        return apply

    def preconditioner(self):
        """``v ↦ v (c M + α D)⁻¹`` per class row: Böhning's bound on the Hessian.

        ``M = X̃ᵀ diag(ω/Σω) X̃`` is the weighted second-moment matrix of ``[X, 1]``
        (estimated from at most ~max(4000, 20·p) evenly spaced rows),
        ``c = 1/2`` (1/4 for two classes) and ``D`` the identity on the weights, zero
        on the intercept. The bound is ``c M ⊗ I + α D ⊗ I ⪰`` the Hessian.
        """
        X, p, w = self.X, self.p, self.w
        width = self.width
        # M from evenly spaced rows: a preconditioner need not be exact, and the full
        # XᵀX (n·p² flops) would cost as much as several loss evaluations
        step = max(1, X.shape[0] // max(_PRECONDITION_ROWS, 20 * width))
        X, w = X[::step], w[::step]
        w = w / w.sum()
        M = np.empty((width, width))
        M[:p, :p] = (X * w[:, None]).T @ X if not np.all(w == w[0]) else (X.T @ X) * w[0]
        if self.fit_intercept:
            m = w @ X
            M[:p, p] = M[p, :p] = m
            M[p, p] = 1.0
        c = 0.25 if self.binary else 0.5
        A = c * M
        A[np.arange(p), np.arange(p)] += self.alpha
        # a little ridge for constant or collinear features when alpha = 0
        A[np.diag_indices(width)] += 1e-10 * max(float(np.trace(A)) / width, 1e-300)
        try:
            factor = scipy.linalg.cho_factor(A, lower=True, check_finite=False)
        except np.linalg.LinAlgError:
            return None
        n_scores = self.n_scores

        def apply(v):
            V = v.reshape(n_scores, width)
            return scipy.linalg.cho_solve(factor, V.T, check_finite=False).T.reshape(-1)

        return apply


#: The name this class had before the search/recommend/classifier results were told apart.
Explanation = ClassifierExplanation
