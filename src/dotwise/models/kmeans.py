"""k-means clustering whose distances are dot products.

The squared distance between a sample ``x`` and a centre ``c`` expands into
dot products:

.. math::

    \\lVert x - c \\rVert^2 = \\lVert x \\rVert^2 - 2\\, x \\cdot c + \\lVert c \\rVert^2 .

For a block of samples ``X`` (``m × p``) and all centres ``C`` (``k × p``) the
middle term is one matrix product ``X Cᵀ``. dotwise appends a column of ones to
the (centred) data once, and a column of ``‖c‖²`` to ``−2C`` at each pass, so
that ``[X, 1] [−2C, ‖c‖²]ᵀ = ‖x − c‖² − ‖x‖²`` is a *single* GEMM per block; the
``‖x‖²`` term does not change which centre is nearest and is only added back for
the inertia. The centre update is another product: the sparse one-hot matrix of
the labels (``m × k``) transposed, times the block.

That is the NumPy reference. With the compiled loops (``dotwise._dwloops``) and up to
256 centres, one pass per block does it all: each row's ``k`` dot products with
``−2C`` are accumulated in vector registers (four rows share every load of the
centres), the nearest centre is picked and the row is added into its cluster's sum,
so no ``m × k`` distance matrix is written and each row of ``X`` is read once. More
centres: one GEMM per block, then a compiled argmin-and-sum pass over it.
"""

from __future__ import annotations

import numbers
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import scipy.sparse
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import validate_data

from .. import _loops
from .._threads import one_blas_thread, worker_threads
from .._validation import check_fitted, describe

__all__ = ["KMeans", "LloydStep", "kmeans_steps", "squared_distances"]

_BLOCK_BYTES = 16 * 2**20  # the (block × k) distance matrix stays below this


def squared_distances(X, C):
    """All squared Euclidean distances by the dot-product identity (one GEMM).

    .. math:: D_{ij} = \\lVert x_i \\rVert^2 - 2\\, x_i \\cdot c_j + \\lVert c_j \\rVert^2

    Parameters
    ----------
    X : array-like of shape (n, p)
    C : array-like of shape (k, p)

    Returns
    -------
    D : ndarray of shape (n, k)
        Clipped at 0 (rounding can make a tiny distance slightly negative).

    Raises
    ------
    ShapeError
        ``X`` or ``C`` not 2-D, or their numbers of columns differ.

    Examples
    --------
    >>> squared_distances([[0.0, 0.0], [3.0, 4.0]], [[0.0, 0.0]])
    array([[ 0.],
           [25.]])
    """
    from .._validation import as_float_array, check_same_size

    X = as_float_array(X, "X", ndim=2)
    C = as_float_array(C, "C", ndim=2)
    check_same_size(X, C, "X", "C", what="number of columns")
    D = X @ C.T
    D *= -2.0
    D += np.einsum("ij,ij->i", X, X)[:, None]
    D += np.einsum("ij,ij->i", C, C)[None, :]
    np.maximum(D, 0.0, out=D)
    return D


@dataclass(frozen=True)
class LloydStep:
    """One iteration of :func:`kmeans_steps`.

    Attributes
    ----------
    centers : ndarray of shape (k, n_features)
        The centres the samples were assigned to in this step.
    labels : ndarray of shape (n_samples,)
        Each sample's nearest centre.
    inertia : float
        :math:`\\sum_i \\lVert x_i - c_{\\ell_i} \\rVert^2` for these centres and labels.
    """

    centers: np.ndarray
    labels: np.ndarray
    inertia: float


def kmeans_steps(X, k: int, *, init="k-means++", max_iter: int = 20,
                 random_state=None) -> list[LloydStep]:
    """Lloyd's algorithm one step at a time, for watching it converge (demos, teaching).

    Step 0 holds the seeding; each later step moves every centre to the mean of its
    samples and re-assigns them. Stops when no label changes (the last step is then a
    fixed point) or after ``max_iter`` updates.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    k : int
    init : {"k-means++", "random"} or array-like of shape (k, n_features)
    max_iter : int, default=20
    random_state : int, RandomState, Generator or None

    Returns
    -------
    list of LloydStep
        Inertia never increases from one step to the next.

    Examples
    --------
    A bad start stops in a local minimum — inertia 16, where splitting left from
    right would give 1:

    >>> X = [[0.0, 0.0], [0.0, 1.0], [4.0, 0.0], [4.0, 1.0]]
    >>> steps = kmeans_steps(X, 2, init=[[0.0, 0.0], [0.0, 1.0]])
    >>> [s.inertia for s in steps], steps[-1].centers.tolist()
    ([32.0, 16.0], [[2.0, 0.0], [2.0, 1.0]])
    >>> [s.inertia for s in kmeans_steps(X, 2, init=[[0.0, 0.0], [4.0, 0.0]])]
    [2.0, 1.0]
    """
    from .._validation import as_float_array, check_int

    X = as_float_array(X, "X", ndim=2)
    k = check_int(k, "k", minimum=1, maximum=X.shape[0])
    max_iter = check_int(max_iter, "max_iter", minimum=0)
    model = KMeans(k, init=init, n_init=1, random_state=random_state)
    _, centres0, _, block = model._check_params(X.shape[0], X.shape[1], X.dtype)
    mean = X.mean(axis=0)
    data = _Data(np.ascontiguousarray(X), mean, block)
    rng = check_random_state(random_state)
    if centres0 is not None:
        C = centres0 - mean
    elif init == "random":
        C = data.Xc[rng.choice(data.n, size=k, replace=False)].copy()
    else:
        C = _kmeans_plusplus(data, k, rng)
    steps = []
    for _ in range(max_iter + 1):
        labels, mind, _ = _assign(data, C, with_sums=False)
        steps.append(LloydStep(C + mean, labels, float(mind.sum(dtype=np.float64))))
        if len(steps) > 1 and np.array_equal(labels, steps[-2].labels):
            break
        counts = np.bincount(labels, minlength=k)
        C_new = np.column_stack([np.bincount(labels, weights=data.Xc[:, j], minlength=k)
                                 for j in range(data.p)])
        filled = counts > 0
        C_new[filled] /= counts[filled, None]
        C_new = C_new.astype(C.dtype, copy=False)
        if not np.all(filled):
            _relocate_empty(C_new, ~filled, mind, data)
        C = C_new
    return steps


class KMeans(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator):
    """k-means clustering: k-means++ seeding, then Lloyd iterations on GEMMs.

    Lloyd's algorithm alternates two steps until the centres stop moving:

    1. *assign* each sample to its nearest centre,
       :math:`\\ell_i = \\arg\\min_j \\lVert x_i - c_j \\rVert^2`, with all the
       distances of a block from one matrix product (see the module notes);
    2. *update* each centre to the mean of its samples,
       :math:`c_j = \\frac{1}{|S_j|} \\sum_{i \\in S_j} x_i`.

    Neither step can increase the inertia
    :math:`\\sum_i \\lVert x_i - c_{\\ell_i} \\rVert^2`, so it falls monotonically
    to a local minimum; ``n_init`` restarts keep the best one.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters ``k``.
    init : {"k-means++", "random"} or array-like of shape (n_clusters, n_features), \
default="k-means++"
        * ``"k-means++"`` — greedy k-means++ (Arthur & Vassilvitskii 2007): each
          new centre is drawn with probability proportional to the squared
          distance to the nearest centre chosen so far; ``2 + ⌊ln k⌋`` candidates
          are drawn and the one that lowers the potential most is kept.
        * ``"random"`` — ``k`` distinct samples chosen uniformly.
        * an array — these starting centres (then ``n_init`` is 1).
    n_init : int or "auto", default="auto"
        Independent runs from different seedings; the run with the lowest
        inertia is kept. ``"auto"``: 1 for ``"k-means++"`` or an array, 10 for
        ``"random"`` (scikit-learn's rule).
    max_iter : int, default=300
        Maximum Lloyd iterations per run.
    tol : float, default=1e-4
        Convergence tolerance, relative to the data: a run stops when the squared
        centre shift :math:`\\sum_j \\lVert c_j^{new} - c_j \\rVert^2` falls below
        ``tol × mean(var(X, axis=0))``, or when no label changes.
    random_state : int, RandomState, Generator or None, default=None
        Seeds the seeding; pass an int for reproducible results.
    block_size : int or None, default=None
        Rows per GEMM block. ``None`` keeps each ``block × k`` distance matrix
        under 16 MiB, so memory beyond ``X`` stays bounded for any ``n``.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    labels_ : ndarray of shape (n_samples,), int
        Index of the nearest centre of each training sample.
    inertia_ : float
        Sum of squared distances of the samples to their nearest centre.
    n_iter_ : int
        Lloyd iterations run by the best run.
    inertia_history_ : ndarray of shape (n_iter_,)
        Inertia of the best run after each assignment step (never increases,
        up to rounding).
    n_features_in_ : int
    feature_names_in_ : ndarray of str, when ``X`` had string column names

    Notes
    -----
    Computation runs in ``X``'s floating dtype: float32 stays float32 (faster
    GEMMs), integers become float64. The data are centred once before fitting,
    which keeps the expansion ``‖x‖² − 2x·c + ‖c‖²`` accurate when the data sit
    far from the origin.

    Empty clusters: a cluster that loses all its samples is moved to the sample
    farthest from its current centre (a different sample for each empty
    cluster), so every centre keeps at least one sample.

    References
    ----------
    Lloyd, "Least squares quantization in PCM", IEEE Trans. Inf. Theory 28 (1982).
    Arthur & Vassilvitskii, "k-means++: the advantages of careful seeding", SODA 2007.

    Examples
    --------
    >>> import numpy as np
    >>> from dotwise.models import KMeans
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [10.0, 0.0], [10.0, 1.0]])
    >>> km = KMeans(n_clusters=2, random_state=0).fit(X)
    >>> sorted(km.cluster_centers_.tolist())
    [[0.0, 0.5], [10.0, 0.5]]
    >>> km.inertia_
    1.0
    >>> bool(km.labels_[0] == km.labels_[1] != km.labels_[2])
    True
    """

    def __init__(self, n_clusters=8, *, init="k-means++", n_init="auto", max_iter=300,
                 tol=1e-4, random_state=None, block_size=None):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.block_size = block_size

    # ---------------------------------------------------------------- checks
    def _check_params(self, n_samples, n_features, dtype):
        k = self.n_clusters
        if isinstance(k, bool) or not isinstance(k, numbers.Integral):
            raise TypeError(f"n_clusters must be an integer, got {describe(k)}")
        if k < 1:
            raise ValueError(f"n_clusters must be >= 1, got {k}")
        if n_samples < k:
            raise ValueError(
                f"n_clusters={k} must be <= n_samples={n_samples}: there cannot be more "
                f"clusters than samples; lower n_clusters"
            )
        for name, minimum in (("max_iter", 1),):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise TypeError(f"{name} must be an integer, got {describe(value)}")
            if value < minimum:
                raise ValueError(f"{name} must be >= {minimum}, got {value}")
        tol = self.tol
        if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not tol >= 0:
            raise ValueError(f"tol must be a number >= 0, got {describe(tol)}")
        init = self.init
        if isinstance(init, str):
            if init not in ("k-means++", "random"):
                raise ValueError(
                    f"init must be 'k-means++', 'random' or an array of shape "
                    f"(n_clusters, n_features), got {init!r}"
                )
            centres = None
        elif callable(init):
            raise TypeError("init must be 'k-means++', 'random' or an array, got a callable")
        else:
            centres = np.asarray(init, dtype=dtype)
            if centres.shape != (k, n_features):
                raise ValueError(
                    f"init as an array must have shape (n_clusters, n_features) = "
                    f"({k}, {n_features}), got shape {centres.shape}"
                )
            if not np.all(np.isfinite(centres)):
                raise ValueError("init must contain only finite numbers")
        n_init = self.n_init
        if isinstance(n_init, str):
            if n_init != "auto":
                raise ValueError(f"n_init must be a positive integer or 'auto', got {n_init!r}")
            n_init = 10 if isinstance(init, str) and init == "random" else 1
        elif isinstance(n_init, bool) or not isinstance(n_init, numbers.Integral):
            raise TypeError(f"n_init must be a positive integer or 'auto', got {describe(n_init)}")
        elif n_init < 1:
            raise ValueError(f"n_init must be >= 1, got {n_init}")
        if centres is not None and n_init != 1:
            warnings.warn(
                f"init is an array of centres, so every run would be the same: running once "
                f"instead of n_init={n_init}", RuntimeWarning, stacklevel=3)
            n_init = 1
        block = self.block_size
        if block is None:
            # bounded memory, and a few blocks per worker thread so that they can share
            cap = _BLOCK_BYTES // (np.dtype(dtype).itemsize * max(k, 1))
            share = -(-n_samples // (4 * worker_threads()))
            block = max(256, min(cap, max(share, 4096)))
        elif isinstance(block, bool) or not isinstance(block, numbers.Integral) or block < 1:
            raise ValueError(f"block_size must be a positive integer or None, got "
                             f"{describe(block)}")
        return int(k), centres, int(n_init), int(block)

    # --------------------------------------------------------------- fitting
    def fit(self, X, y=None):
        """Cluster ``X``: ``n_init`` seedings, Lloyd iterations from each, keep the best.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self : KMeans

        Raises
        ------
        ValueError
            ``X`` not 2-D (with the reshape hint), NaN/Inf, ``n_clusters`` larger
            than ``n_samples`` or below 1, a bad ``init``/``n_init``/``max_iter``/``tol``.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32], order="C")
        n, p = X.shape
        k, centres0, n_init, block = self._check_params(n, p, X.dtype)
        rng = check_random_state(self.random_state)
        mean = X.mean(axis=0)
        data = _Data(X, mean, block)
        # mean(var(X, axis=0)) = mean over samples of ‖x − x̄‖² / p: free from the row norms
        tol = float(self.tol) * float(data.sq.mean(dtype=np.float64)) / p
        best = None
        for _ in range(n_init):
            if centres0 is not None:
                C = centres0 - mean
            elif self.init == "random":
                C = data.Xc[rng.choice(n, size=k, replace=False)].copy()
            else:
                C = _kmeans_plusplus(data, k, rng)
            run = _lloyd(data, C.astype(X.dtype, copy=False), int(self.max_iter), tol)
            if best is None or run[2] < best[2]:
                best = run
        C, labels, inertia, n_iter, history = best
        distinct = len(np.unique(labels))
        if distinct < k:
            warnings.warn(
                f"Number of distinct clusters ({distinct}) found smaller than n_clusters "
                f"({k}): X has duplicate points; lower n_clusters", ConvergenceWarning,
                stacklevel=2)
        self.cluster_centers_ = C + mean
        self.labels_ = labels
        self.inertia_ = float(inertia)
        self.n_iter_ = int(n_iter)
        self.inertia_history_ = np.asarray(history, dtype=np.float64)
        return self

    def fit_predict(self, X, y=None):
        """Fit, then return the training labels ``labels_``.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self.fit(X).labels_

    def fit_transform(self, X, y=None):
        """Fit, then return the distances of the training samples to every centre.

        Returns
        -------
        ndarray of shape (n_samples, n_clusters)
        """
        return self.fit(X)._distances(validate_data(self, X, dtype=[np.float64, np.float32],
                                                    reset=False), squared=False)

    # ------------------------------------------------------------- inference
    def _validated(self, X):
        check_fitted(self, "cluster_centers_")
        return validate_data(self, X, dtype=[np.float64, np.float32], reset=False, order="C")

    def _shifted(self, X):
        """``X`` and the centres moved by the centres' mean (distances do not change, and
        the expansion ‖x‖² − 2x·c + ‖c‖² stays accurate for data far from the origin)."""
        C = self.cluster_centers_.astype(X.dtype, copy=False)
        shift = C.mean(axis=0)
        return X - shift, C - shift

    def _distances(self, X, squared):
        X, C = self._shifted(X)
        D = _assign_matrix(X, C)
        D += np.einsum("ij,ij->i", X, X)[:, None]
        np.maximum(D, 0.0, out=D)
        return D if squared else np.sqrt(D, out=D)

    def predict(self, X):
        """Index of the nearest learned centre of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,), int
        """
        X, C = self._shifted(self._validated(X))
        return _assign_matrix(X, C).argmin(axis=1).astype(self.labels_.dtype, copy=False)

    def transform(self, X):
        """Euclidean distance of each sample to each centre (the "cluster-distance space").

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_clusters)
        """
        return self._distances(self._validated(X), squared=False)

    def score(self, X, y=None):
        """Minus the inertia of ``X`` on the learned centres (higher is better).

        Returns
        -------
        float
            :math:`-\\sum_i \\min_j \\lVert x_i - c_j \\rVert^2`.
        """
        D = self._distances(self._validated(X), squared=True)
        return -float(D.min(axis=1).sum())

    @property
    def _n_features_out(self):
        return self.cluster_centers_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.sparse = False
        return tags


# ---------------------------------------------------------------------- engine
class _Data:
    """The centred data with a column of ones appended, in blocks, and each row's ‖x‖²."""

    def __init__(self, X, mean, block):
        n, p = X.shape
        self.n, self.p, self.block = n, p, block
        Xa = np.empty((n, p + 1), dtype=X.dtype)
        np.subtract(X, mean, out=Xa[:, :p])
        Xa[:, p] = 1.0
        self.Xa = Xa
        self.Xc = Xa[:, :p]
        self.sq = np.einsum("ij,ij->i", self.Xc, self.Xc)
        self.slices = [slice(s, min(s + block, n)) for s in range(0, n, block)]


def _augmented_centres(C):
    """``[−2C, ‖c‖²]`` so that ``[x, 1] · row_j = ‖x − c_j‖² − ‖x‖²``."""
    k, p = C.shape
    Ca = np.empty((k, p + 1), dtype=C.dtype)
    np.multiply(C, -2.0, out=Ca[:, :p])
    Ca[:, p] = np.einsum("ij,ij->i", C, C)
    return Ca


def _assign_matrix(X, C):
    """``‖x − c‖² − ‖x‖²`` for plain (un-augmented) ``X``: ``−2 X Cᵀ + ‖c‖²``."""
    D = X @ C.T
    D *= -2.0
    D += np.einsum("ij,ij->i", C, C)[None, :]
    return D


_pool: ThreadPoolExecutor | None = None


def _map_blocks(fn, slices, *, blas: bool = True):
    """``[fn(sl) for sl in slices]``, on a thread pool when there are threads and blocks to
    share (NumPy, BLAS, SciPy's sparse products and the compiled loops release the GIL).

    With ``blas`` (the jobs call BLAS), BLAS runs on one thread meanwhile so that the two
    layers of threads do not fight over the cores. Jobs that call no BLAS skip that pin:
    setting OpenBLAS's thread count back up after every pass costs more than the pass
    saves (measured: the 2-thread fit was slower than the 1-thread one).
    """
    global _pool
    workers = min(worker_threads(), len(slices))
    if workers <= 1:
        return [fn(sl) for sl in slices]
    if _pool is None or _pool._max_workers < workers:
        _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dotwise-kmeans")
    if not blas:
        return list(_pool.map(fn, slices))
    with one_blas_thread():
        return list(_pool.map(fn, slices))


def _assign(data, C, *, with_sums):
    """One pass over the blocks: each sample's label and, with ``with_sums``, the sums of
    the samples of every cluster with their counts in the last column (``(k, p + 1)``);
    without, each sample's squared distance to its centre instead."""
    Ca = _augmented_centres(C)
    k = C.shape[0]
    labels = np.empty(data.n, dtype=np.int32)
    mind = None if with_sums else np.empty(data.n, dtype=C.dtype)

    fused = _loops.supports(C.dtype)
    # up to 256 centres: distances, argmin and Σx in one compiled pass with no distance
    # matrix (each row of X read once); more centres: one GEMM per block, then the pass
    small = _loops.km_fused_centres(C) if fused else None

    def block(sl):
        Xb = data.Xa[sl]
        if small is not None:
            part = np.zeros((k, data.p + 1)) if with_sums else None
            _loops.km_fused(Xb, data.p, small, labels[sl], part,
                            None if with_sums else mind[sl], None if with_sums else data.sq[sl])
            return part
        D = Xb @ Ca.T                                   # the one GEMM of this block
        if fused:                                       # argmin and Σx in one compiled pass
            part = np.zeros((k, data.p + 1)) if with_sums else None
            _loops.km_assign(D, Xb, labels[sl], part, None if with_sums else mind[sl],
                           None if with_sums else data.sq[sl])
            return part
        lab = D.argmin(axis=1)
        labels[sl] = lab
        if not with_sums:
            best = np.take_along_axis(D, lab[:, None], axis=1)[:, 0]
            best += data.sq[sl]
            mind[sl] = np.maximum(best, 0.0)
            return None
        m = Xb.shape[0]
        onehot = scipy.sparse.csr_matrix(
            (np.ones(m, dtype=Xb.dtype), lab.astype(np.int32, copy=False),
             np.arange(m + 1, dtype=np.int32)), shape=(m, k))
        return onehot.T @ Xb                            # (k, p + 1): Σx and the count

    parts = _map_blocks(block, data.slices, blas=small is None)
    if not with_sums:
        return labels, mind, None
    sums = np.zeros((k, data.p + 1), dtype=np.float64)
    for part in parts:
        sums += part
    return labels, None, sums


def _inertia_from_sums(C, sums, sq_total):
    """Σᵢ ‖xᵢ − c_ℓᵢ‖² = Σ‖x‖² + Σⱼ (nⱼ‖cⱼ‖² − 2 cⱼ·Sⱼ), from the cluster sums Sⱼ and
    counts nⱼ of the pass that assigned the labels — no per-sample work."""
    C64 = C.astype(np.float64, copy=False)
    counts = sums[:, -1]
    value = sq_total + float(counts @ np.einsum("ij,ij->i", C64, C64)) \
        - 2.0 * float(np.einsum("ij,ij->", C64, sums[:, :-1]))
    return max(value, 0.0)


def _lloyd(data, C, max_iter, tol):
    """Lloyd iterations from centres ``C`` (centred coordinates).

    Returns ``(C, labels, inertia, n_iter, history)`` with labels and inertia
    consistent with the returned centres.
    """
    history = []
    labels_old = None
    sq_total = float(data.sq.sum(dtype=np.float64))
    exact = False
    n_iter = 0
    for it in range(1, max_iter + 1):
        n_iter = it
        labels, _, sums = _assign(data, C, with_sums=True)
        history.append(_inertia_from_sums(C, sums, sq_total))
        if labels_old is not None and np.array_equal(labels, labels_old):
            # the centres are already the means of these labels: converged exactly
            exact = True
            break
        counts = sums[:, -1]
        C_new = np.empty_like(C)
        filled = counts > 0
        C_new[filled] = (sums[filled, :-1] / counts[filled, None]).astype(C.dtype, copy=False)
        if not np.all(filled):
            mind = _assign(data, C, with_sums=False)[1]
            _relocate_empty(C_new, ~filled, mind, data)
        shift = float(np.sum((C_new - C) ** 2))
        C, labels_old = C_new, labels
        if shift <= tol:
            break
    if exact and C.dtype == np.float64:
        return C, labels, history[-1], n_iter, history
    # a last assignment with the final centres: labels and the inertia to report (also
    # for float32, whose cluster sums are too coarse for the expanded inertia formula)
    labels, mind, _ = _assign(data, C, with_sums=False)
    inertia = float(mind.sum(dtype=np.float64))
    if not exact:
        history.append(inertia)
    return C, labels, inertia, n_iter, history


def _relocate_empty(C, empty, mind, data):
    """Put each empty cluster on one of the samples farthest from their centres."""
    idx = np.flatnonzero(empty)
    far = np.argpartition(mind, -len(idx))[-len(idx):]
    far = far[np.argsort(mind[far])[::-1]]
    C[idx] = data.Xc[far]


def _kmeans_plusplus(data, k, rng):
    """Greedy k-means++ seeding on the centred data; returns ``(k, p)`` centres.

    The candidates' distances are computed as a ``(trials, n)`` matrix — one GEMM,
    ``[−2P, ‖p‖²] [X, 1]ᵀ`` — so that every later step runs along contiguous rows.
    """
    n = data.n
    Xc = data.Xc
    trials = 2 + int(np.log(k))
    C = np.empty((k, data.p), dtype=Xc.dtype)
    first = rng.randint(n)
    C[0] = Xc[first]
    closest = _sq_to(data, Xc[first:first + 1])[0]
    potential = float(closest.sum(dtype=np.float64))
    for c in range(1, k):
        if potential <= 0:                      # every sample sits on a centre already
            cand = rng.choice(n, size=trials, replace=True)
        else:
            u = rng.uniform(size=trials) * potential
            cand = np.searchsorted(np.cumsum(closest, dtype=np.float64), u)
            np.clip(cand, None, n - 1, out=cand)
        D = _sq_to(data, Xc[cand])              # (trials, n), one GEMM
        np.minimum(D, closest[None, :], out=D)
        pots = D.sum(axis=1, dtype=np.float64)
        best = int(np.argmin(pots))
        C[c] = Xc[cand[best]]
        closest = D[best]
        potential = float(pots[best])
    return C


def _sq_to(data, points):
    """Squared distances of ``points`` (m, p) to every sample, as an ``(m, n)`` matrix."""
    Pa = _augmented_centres(points)
    out = Pa @ data.Xa.T
    out += data.sq[None, :]
    np.maximum(out, 0.0, out=out)
    return out
