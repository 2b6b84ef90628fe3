r"""Biased matrix factorization of a rating matrix, fitted by ALS or SGD.

Each rating is predicted by a dot product between a user vector and an item
vector, on top of the baseline:

.. math::

    \hat r_{ui} = \mu + b_u + b_i + p_u \cdot q_i

and the model minimises the regularised squared error over the observed ratings

.. math::

    L = \sum_{(u,i)} (r_{ui} - \hat r_{ui})^2
      + \lambda \Big(\sum_u n_u^{a} \lVert p_u \rVert^2 + \sum_i n_i^{a} \lVert q_i \rVert^2\Big)
      + \lambda_b \Big(\sum_u b_u^2 + \sum_i b_i^2\Big)

where :math:`n_u, n_i` count the ratings of a user and an item and ``a`` is
``reg_exponent``: ``a = 1`` is the "weighted λ" of ALS-WR (Zhou et al. 2008),
``a = 0`` a plain λ; the default ``a = 1/2`` sits between — a user with many
ratings can afford a longer vector, but not in proportion. ALS alternates exact
minimisation over all item vectors (with their biases) and all user vectors:
with the items fixed, user ``u``'s unknowns :math:`x_u = (p_u, b_u)` solve the
ridge normal equations

.. math::

    \Big(\sum_{i \in R(u)} z_i z_i^\top + D_u\Big) x_u
        = \sum_{i \in R(u)} z_i (r_{ui} - \mu - b_i), \qquad z_i = (q_i, 1),
    \quad D_u = \operatorname{diag}(\lambda n_u^{a}, …, \lambda n_u^{a}, \lambda_b),

solved in batches by Cholesky (see ``dotwise.recommend._als``). Each half-step
minimises ``L`` exactly over one side, so ``L`` never increases.

The engines live beside this module: ``_train`` (the fitting driver), ``_als``
(the batched ridge solves and the alternation; compiled in ``dotwise._dwrec`` when
built), ``_sgd`` (mini-batch SGD on the same ``L``), ``_implicit`` (the
SVD++ term's conjugate-gradient step) and ``_neighbors`` (the residual
item–item term added after the factors).

References
----------
Y. Zhou, D. Wilkinson, R. Schreiber, R. Pan, "Large-scale parallel collaborative
filtering for the Netflix prize", AAIM 2008.
Y. Koren, R. Bell, C. Volinsky, "Matrix factorization techniques for recommender
systems", IEEE Computer 42(8), 2009.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from sklearn.base import BaseEstimator

from .._validation import check_fitted, check_int, check_k
from ..linalg.vectors import cosine_similarity
from ._common import Factors, as_training_ratings, id_codes, renamed_keywords
from ._neighbors import Neighborhood
from ._params import check_params, check_size, penalty_diag
from ._train import History, factor_scores, train
from ._user import UserSystem, resolve_ratings
from .results import RankedItems, RatingExplanation

__all__ = ["MatrixFactorization"]

class MatrixFactorization(BaseEstimator):
    """Biased matrix factorization recommender (ALS with count-weighted λ, or SGD).

    Parameters
    ----------
    n_factors : int, default=32
        Length ``k`` of each user and item vector.
    method : {"als", "sgd"}, default="als"
        ``"als"``: alternating exact ridge solves (deterministic given the seed,
        objective monotone). ``"sgd"``: shuffled mini-batch stochastic gradient
        descent on the same objective, for comparison.
    reg : float, default=1.3
        λ for the factors (multiplied by each user's / item's rating count to
        the power ``reg_exponent``).
    reg_bias : float, default=3.0
        λ_b for the biases (a plain constant: shrinks the bias of a user or item
        with few ratings towards 0).
    n_epochs : int, default=6
        ALS sweeps (items then users), or SGD passes over the data.
    biased : bool, default=True
        Include μ, b_u and b_i. ``False`` predicts ``p_u · q_i`` alone.
    reg_exponent : float, default=0.5
        ``a`` in the penalty ``λ n^a ‖p‖²``: 1 for ALS-WR, 0 for a plain λ.
    learning_rate : float, default=0.01
        SGD step size (``method="sgd"`` only).
    batch_size : int, default=256
        Ratings per SGD step (``method="sgd"`` only).
    init_std : float, default=0.1
        Standard deviation of the random initial factors.
    implicit : bool, default=False
        Add the SVD++ signal of *which* items a user rated: the user's vector
        becomes ``p_u + |R(u)|^(-1/2) Σ_{j∈R(u)} y_j``, with one more vector
        ``y_j`` per item (penalised like ``q_j``). ALS only. Each epoch then has
        a third step, a few conjugate-gradient iterations on the (quadratic)
        objective in ``Y``, which keeps the objective monotone.
    implicit_steps : int, default=3
        Conjugate-gradient iterations for ``Y`` per epoch.
    neighbors : int, default=40
        ``k`` of the residual item–item neighbourhood term added after the
        factors are fitted (0 turns it off):
        ``r̂_ui += Σ_{j∈L_k(i)∩R(u)} s_ij e_uj / (Σ_{j∈L_k(i)∩R(u)} s_ij + λ_n)``,
        with ``e_uj = r_uj − (μ + b_u + b_j + p_u·q_j)`` the user's training
        residuals, ``s_ij`` the cosine of the residual columns of ``i`` and ``j``
        shrunk by ``n_ij / (n_ij + β)`` (``n_ij`` the users who rated both), and
        ``L_k(i)`` item ``i``'s stored list: the ``k`` items with the largest
        positive ``s_ij``. Only these lists are stored (O(n_items·k) memory).
    neighbor_shrinkage : float, default=100.0
        ``β`` above: similarities resting on few common raters shrink to 0.
    neighbor_reg : float, default=0.25
        ``λ_n`` above: damps the term when the neighbours' similarities are weak.
    random_state : int, numpy.random.Generator or None, default=None
        Seeds the initial factors (and the SGD shuffle): same seed, same model.

    Attributes
    ----------
    global_mean_ : float
    user_factors_ : ndarray of shape (n_users, n_factors)
    item_factors_ : ndarray of shape (n_items, n_factors)
    user_bias_ : ndarray of shape (n_users,)
    item_bias_ : ndarray of shape (n_items,)
    implicit_factors_ : ndarray of shape (n_items, n_factors)
        The ``y_j`` (zeros unless ``implicit``).
    user_implicit_ : ndarray of shape (n_users, n_factors)
        ``|R(u)|^(-1/2) Σ_{j∈R(u)} y_j`` per user (zeros unless ``implicit``).
    loss_history_ : list of float
        The objective ``L`` divided by the number of ratings, after each epoch.
    train_rmse_history_ : list of float
        Training RMSE after each epoch.
    item_neighbors_ : ndarray of shape (n_items, neighbors), int32, or None
        ``L_k(i)``: each item's neighbours, most similar first, padded with -1
        (an item with fewer positive similarities has a shorter list); ``None``
        when ``neighbors=0``.
    item_neighbor_similarity_ : ndarray of shape (n_items, neighbors), float32, or None
        The matching ``s_ij`` (0 in the padding).
    item_similarity_ : scipy.sparse.csr_matrix of shape (n_items, n_items) or None
        The same lists as a sparse matrix (row ``i`` holds ``L_k(i)``).
    fit_time_ : float
        Seconds spent in ``fit`` (the neighbourhood similarities included).
    ratings_ : Ratings
        The training data (its id maps, titles and who rated what).

    Notes
    -----
    The defaults (k = 32, λ = 1.3, a = 1/2, λ_b = 3, 6 epochs) were chosen on a
    validation split carved from the *training* part of one MovieLens-100k fold
    (never on test ratings), in the middle of a flat stretch of validation
    error (λ from 1.1 to 1.5 all within 0.003 RMSE); the count-weighted λ
    scales with the data. ALS converges in a few epochs, so 6 is enough. The
    neighbourhood defaults (k = 40, β = 100, λ_n = 0.25) come from the same
    validation split, where the term lowers RMSE by about 0.007 and k from 40
    to 160 are within 0.0001 of each other (keeping only positive similarities
    beat ranking by ``|s_ij|`` there by 0.003). The lists cost ``8·k`` bytes
    per item (3.2 MB for 10 000 items at k = 40) and are built from the sparse
    residual matrix in ``Σ_u |R(u)|²`` work; prediction costs ``k`` lookups in
    the user's sorted rated items per pair, and ``score_users`` scores every
    item of many users at once by one sparse product. ``recommend``,
    ``fold_in`` (against the new user's residuals) and ``explain`` (the
    ``neighbors`` field) include it; ``similar_items`` and the ``explain``
    contributions use the factors only. With ``neighbors=0`` the model is the
    pure factor model described above.

    Unknown ids at prediction time fall back to the biases: an unknown user gets
    ``μ + b_i``, an unknown item ``μ + b_u``, both unknown ``μ``. A user or item
    present in the id map but with no training ratings counts as unknown.

    Examples
    --------
    >>> import numpy as np
    >>> from dotwise.recommend import Ratings, MatrixFactorization
    >>> rng = np.random.default_rng(0)
    >>> P, Q = rng.normal(size=(30, 2)), rng.normal(size=(20, 2))
    >>> u, i = np.divmod(np.arange(600), 20)
    >>> keep = rng.random(600) < 0.6
    >>> R = np.clip(3 + P @ Q.T, 1, 5)[u[keep], i[keep]]
    >>> data = Ratings.from_arrays(u[keep], i[keep], R, rating_scale=(1, 5))
    >>> model = MatrixFactorization(n_factors=2, reg=0.01, random_state=0).fit(data)
    >>> bool(np.all(np.diff(model.loss_history_) <= 1e-12))
    True
    >>> float(model.train_rmse_history_[-1]) < 0.3
    True
    """

    def __init__(self, n_factors: int = 32, *, method: str = "als", reg: float = 1.3,
                 reg_bias: float = 3.0, n_epochs: int = 6, biased: bool = True,
                 reg_exponent: float = 0.5, learning_rate: float = 0.01,
                 batch_size: int = 256, init_std: float = 0.1, implicit: bool = False,
                 implicit_steps: int = 3, neighbors: int = 40,
                 neighbor_shrinkage: float = 100.0, neighbor_reg: float = 0.25,
                 random_state=None):
        self.n_factors = n_factors
        self.method = method
        self.reg = reg
        self.reg_bias = reg_bias
        self.n_epochs = n_epochs
        self.biased = biased
        self.reg_exponent = reg_exponent
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.init_std = init_std
        self.implicit = implicit
        self.implicit_steps = implicit_steps
        self.neighbors = neighbors
        self.neighbor_shrinkage = neighbor_shrinkage
        self.neighbor_reg = neighbor_reg
        self.random_state = random_state

    # ------------------------------------------------------------------- fit
    def fit(self, ratings, y=None, *, callback: Callable[[int, float], None] | None = None,
            client=None) -> MatrixFactorization:
        """Learn the factors from a ``Ratings`` set or an ``(n, 3)`` array.

        Parameters
        ----------
        ratings : Ratings or array_like of shape (n_ratings, 3)
            Training ratings; an array's columns are user id, item id, rating.
        y : ignored
        callback : callable(epoch, loss), optional
            Called after each epoch (for progress bars and learning curves; the
            model can already ``predict`` inside it).
        client : distributed.Client, optional
            Run the ALS epochs on a Dask cluster: the ratings are partitioned by user
            and by item over the workers, each partition solves its own normal
            equations where it lives, and the factors are broadcast between
            half-steps (:mod:`dotwise.scale.als`). Same ``loss_history_`` and answers
            as in memory, to float rounding. Needs ``method="als"`` and
            ``implicit=False``, and the ``scale`` extra.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            ``n_factors`` < 1, a negative or zero regulariser for ALS, an empty set.
        """
        params = check_params(self)
        self._exponent = params["exponent"]
        if client is not None and params["method"] != "als":
            raise ValueError(f"client= runs the ALS solver on a cluster; "
                             f"method={params['method']!r} has no distributed version: use "
                             f"method='als', or drop client=")
        if client is not None and self.implicit:
            raise ValueError("implicit=True has no distributed version (its conjugate-gradient "
                             "step couples every user); fit it without client=, or set "
                             "implicit=False")
        data = as_training_ratings(ratings)
        check_size(params, data.n_users, data.n_items, n_ratings=len(data))
        start = time.perf_counter()
        # set before training so that a callback can already predict
        self.rating_scale_, self.ratings_ = data.rating_scale, data
        self._seen = self._nb = None
        self.item_neighbors_ = self.item_neighbor_similarity_ = self.item_similarity_ = None
        f, hist = train(data, params, biased=self.biased, init_std=self.init_std,
                        implicit=self.implicit, random_state=self.random_state, client=client,
                        publish=self._publish, callback=callback)
        if params["neighbors"] > 0:
            u, i = data.user_codes.astype(np.int64), data.item_codes.astype(np.int64)
            self._nb = Neighborhood.fit(
                u, i, data.ratings - factor_scores(f, u, i, self.biased),
                (data.n_users, data.n_items), k=params["neighbors"], shrink=params["shrink"],
                lam=params["nb_reg"])
            self.item_neighbors_ = self._nb.indices
            self.item_neighbor_similarity_ = self._nb.similarity
            self.item_similarity_ = self._nb.matrix()
        self.fit_time_ = time.perf_counter() - start
        return self

    def _publish(self, f: Factors, hist: History) -> None:
        """Expose the engines' current parameters and records as the fitted attributes."""
        self.global_mean_ = f.mu
        self.user_factors_, self.item_factors_ = f.P, f.Q
        self.user_bias_, self.item_bias_ = f.bu, f.bi
        self.implicit_factors_, self.user_implicit_ = f.Y, f.S
        self._n_u, self._n_i = hist.n_u, hist.n_i
        self.loss_history_, self.train_rmse_history_ = hist.loss, hist.rmse

    # ---------------------------------------------------------- neighbours
    def _neighbor_codes(self, uc: np.ndarray, ic: np.ndarray) -> np.ndarray:
        """The neighbourhood term for known (user, item) codes; 0 elsewhere."""
        if self._nb is None:
            return np.zeros(len(uc))
        return self._nb.term(uc, ic)

    # ------------------------------------------------------------- predict
    def score_codes(self, user_codes, item_codes) -> np.ndarray:
        """Unclipped predicted ratings for (user code, item code) pairs.

        The scoring entry point for code-level tools (``ranking_metrics``,
        ``cross_validate``): codes index ``ratings_.user_ids`` /
        ``ratings_.item_ids`` (a split's parts share them); ``-1`` marks an
        unknown id, which falls back to the biases.

        Parameters
        ----------
        user_codes, item_codes : array_like of int, shape (n,)

        Returns
        -------
        ndarray of shape (n,)
            ``μ + b_u + b_i + p_u · q_i`` plus the neighbourhood term, not clipped.
        """
        check_fitted(self, "user_factors_")
        uc, ic = np.asarray(user_codes, np.int64), np.asarray(item_codes, np.int64)
        pred = self._factor_codes(uc, ic)
        if getattr(self, "_nb", None) is not None:
            pred = pred + self._neighbor_codes(uc, ic)
        return pred

    _raw_codes = score_codes  # the name evaluate used before score_codes was public

    def score_users(self, user_codes) -> np.ndarray:
        """Unclipped predicted ratings of every item for each user code: one row per user.

        Equal to ``score_codes`` over all (user, item) pairs, computed as one
        matrix product for the factors and, for the neighbourhood term, only
        over each user's rated items (about ``n_items × |R(u)|`` work per user
        instead of ``n_items²``).

        Parameters
        ----------
        user_codes : array_like of int, shape (b,)
            Known user codes (``0 <= code < n_users``).

        Returns
        -------
        ndarray of shape (b, n_items)

        Examples
        --------
        >>> import numpy as np
        >>> from dotwise.recommend import MatrixFactorization, Ratings
        >>> data = Ratings.from_arrays([1, 1, 2, 2, 3], [7, 8, 7, 9, 8], [5, 3, 4, 2, 1])
        >>> model = MatrixFactorization(2, neighbors=2, random_state=0).fit(data)
        >>> rows = model.score_users([0, 2])
        >>> pairs = model.score_codes([0, 0, 0, 2, 2, 2], [0, 1, 2, 0, 1, 2]).reshape(2, 3)
        >>> rows.shape, bool(np.allclose(rows, pairs, atol=1e-6))
        ((2, 3), True)
        """
        check_fitted(self, "user_factors_")
        uc = np.asarray(user_codes, np.int64)
        U = self.user_factors_[uc] + self.user_implicit_[uc]
        scores = self.global_mean_ + U @ self.item_factors_.T
        if self.biased:
            scores = scores + self.user_bias_[uc][:, None]
            scores = scores + self.item_bias_[None, :]
        if getattr(self, "_nb", None) is not None:
            scores = scores + self._nb.for_users(uc)
        return scores

    def _factor_codes(self, uc: np.ndarray, ic: np.ndarray) -> np.ndarray:
        """Unclipped factor-model predictions for codes; ``-1`` (unknown) contributes zeros."""
        f = Factors(mu=self.global_mean_, P=self.user_factors_, Q=self.item_factors_,
                    bu=self.user_bias_, bi=self.item_bias_, Y=self.implicit_factors_,
                    S=self.user_implicit_)
        return factor_scores(f, uc, ic, self.biased)

    def predict_codes(self, user_codes, item_codes) -> np.ndarray:
        """``score_codes`` clipped to ``rating_scale_``: ``predict`` for codes instead of ids.

        Parameters
        ----------
        user_codes, item_codes : array_like of int, shape (n,)

        Returns
        -------
        ndarray of shape (n,)
        """
        lo, hi = self.rating_scale_
        return np.clip(self.score_codes(user_codes, item_codes), lo, hi)

    _predict_codes = predict_codes

    def predict(self, users, items) -> np.ndarray:
        """Predicted ratings for pairs of original ids, clipped to the rating scale.

        Parameters
        ----------
        users, items : array_like of shape (n,)
            Original ids (one of them may be a single id, broadcast to the other).

        Returns
        -------
        ndarray of shape (n,)
            ``μ + b_u + b_i + p_u · q_i`` plus the neighbourhood term, clipped to
            ``rating_scale_``; unknown ids fall back to the biases (see Notes of
            the class).
        """
        check_fitted(self, "user_factors_")
        uc, ic = id_codes(self.ratings_, users, items)
        return self.predict_codes(uc, ic)

    # ----------------------------------------------------------- top-N
    def _user_code(self, user) -> int:
        code = self.ratings_.user_code(user)
        if self._n_u[code] == 0:
            raise KeyError(f"user {user!r} has no ratings in the training data; use fold_in "
                           f"with their ratings instead")
        return code

    def _item_code(self, item) -> int:
        if isinstance(item, str) and self.ratings_.titles is not None:
            code = self.ratings_.find_item(item)
        else:
            code = self.ratings_.item_code(item)
        return code

    def _seen_items(self, code: int) -> np.ndarray:
        if self._seen is None:
            data = self.ratings_
            order = np.argsort(data.user_codes, kind="stable")
            starts = np.zeros(data.n_users + 1, dtype=np.int64)
            np.cumsum(np.bincount(data.user_codes, minlength=data.n_users), out=starts[1:])
            self._seen = (starts, data.item_codes[order], order)
        starts, items, _ = self._seen
        return items[starts[code]:starts[code + 1]]

    def _top(self, scores: np.ndarray, exclude: np.ndarray, k: int, kind: str,
             clip: bool = True, **extra) -> RankedItems:
        return RankedItems.top(self.ratings_, scores, k, kind, exclude=exclude,
                               unusable=self._n_i == 0,
                               clip_to=self.rating_scale_ if clip else None, **extra)

    def _all_scores(self, p: np.ndarray, b: float) -> np.ndarray:
        scores = self.global_mean_ + self.item_factors_ @ p
        if self.biased:
            scores = scores + b + self.item_bias_
        return scores

    @renamed_keywords(n="k")
    def recommend(self, user, k: int = 10, *, exclude_seen: bool = True) -> RankedItems:
        """The ``k`` items with the highest predicted rating for a known user.

        Parameters
        ----------
        user : id
            An original user id from the training data.
        k : int, default=10
            How many items (fewer when fewer are left to rank). ``n=`` is the
            old spelling (deprecated).
        exclude_seen : bool, default=True
            Leave out the items the user rated in the training data.

        Returns
        -------
        RankedItems
            Ranked by the unclipped score; ``scores`` shows it clipped to the scale.

        Raises
        ------
        KeyError
            Unknown user (the message gives the valid ids).
        """
        check_fitted(self, "user_factors_")
        k = check_k(k)
        code = self._user_code(user)
        scores = self._all_scores(self.user_factors_[code] + self.user_implicit_[code],
                                  self.user_bias_[code])
        if self._nb is not None:
            items = np.arange(len(scores))
            scores = scores + self._neighbor_codes(np.full(len(scores), code), items)
        exclude = self._seen_items(code) if exclude_seen else np.array([], dtype=np.int64)
        return self._top(scores, exclude, k, "predicted rating")

    @renamed_keywords(n="k")
    def similar_items(self, item, k: int = 10, *, min_ratings: int = 1) -> RankedItems:
        """Items whose factor vectors point the same way: cosine similarity of ``q_i``.

        Parameters
        ----------
        item : id or title
            An original item id, or a title when the data has titles.
        k : int, default=10
            How many items. ``n=`` is the old spelling (deprecated).
        min_ratings : int, default=1
            Ignore items with fewer training ratings (their vectors are mostly prior).

        Returns
        -------
        RankedItems
            ``scores`` are cosines in [-1, 1] (``dotwise.linalg.cosine_similarity``).

        Raises
        ------
        ValueError
            The item has no training ratings, or ``min_ratings`` leaves no other item.
        """
        check_fitted(self, "user_factors_")
        k = check_k(k)
        min_ratings = check_int(min_ratings, "min_ratings", minimum=1)
        code = self._item_code(item)
        Q = self.item_factors_
        if not np.any(Q[code]):
            raise ValueError(f"item {item!r} has no ratings in the training data, so no vector "
                             f"to compare")
        usable = (self._n_i >= min_ratings) & np.any(Q != 0, axis=1)
        others = usable.copy()
        others[code] = False
        if not others.any():
            most = int(np.sort(self._n_i)[-2]) if len(self._n_i) > 1 else 0
            raise ValueError(
                f"min_ratings={min_ratings} leaves no item to compare with: the other items "
                f"have at most {most} training ratings; pass a min_ratings of at most "
                f"{max(most, 1)}")
        scores = np.full(len(Q), -np.inf)
        scores[usable] = cosine_similarity(Q[code], Q[usable])
        return self._top(scores, np.array([code]), k, "cosine similarity", clip=False)

    # -------------------------------------------------------------- fold-in
    def fold_in_vector(self, ratings) -> tuple[np.ndarray, float]:
        """The vector and bias of a new user from their ratings: one ridge solve.

        The same normal equations as an ALS user step against the fixed item
        vectors (so folding in a training user's ratings gives back their vector).

        Parameters
        ----------
        ratings : mapping item -> rating, or sequence of (item, rating)
            Items by original id or title.

        Returns
        -------
        p : ndarray of shape (n_factors,)
            The user's vector (with the implicit part ``|R|^(-1/2) Σ y_j`` added
            for an ``implicit`` model) — what predictions dot with ``q_i``.
        b : float
            The user bias (0 for ``biased=False``).
        """
        check_fitted(self, "user_factors_")
        return self._fold_in_codes(*resolve_ratings(self.ratings_, ratings))

    def _user_system(self, codes: np.ndarray, values: np.ndarray) -> UserSystem | None:
        """One user's ridge system (see ``_user``); items without training ratings dropped."""
        known = self._n_i[codes] > 0
        codes, values = codes[known], values[known]
        if codes.size == 0:
            return None
        diag = penalty_diag(np.array([float(len(codes))]), self.item_factors_.shape[1],
                            float(self.reg), float(self.reg_bias), self._exponent,
                            self.biased)[0]
        return UserSystem.build(codes, values, item_factors=self.item_factors_,
                                item_bias=self.item_bias_,
                                implicit_factors=self.implicit_factors_,
                                mean=self.global_mean_, diag=diag, biased=self.biased)

    def _fold_in_codes(self, codes: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, float]:
        system = self._user_system(codes, values)
        if system is None:
            return np.zeros(self.item_factors_.shape[1]), 0.0
        return system.solve()

    @renamed_keywords(n="k", exclude_rated="exclude_seen")
    def fold_in(self, ratings, k: int = 10, *, exclude_seen: bool = True) -> RankedItems:
        """Recommendations for a person who was not in the training data.

        Solves the person's ridge problem against the fixed item vectors (one
        ``(k+1)×(k+1)`` Cholesky solve, well under a millisecond for 32
        factors) and ranks every item by the predicted rating.

        Parameters
        ----------
        ratings : mapping item -> rating, or sequence of (item, rating)
            Items by original id or title; ratings on the model's scale.
        k : int, default=10
            How many items. ``n=`` is the old spelling (deprecated).
        exclude_seen : bool, default=True
            Leave out the items in ``ratings``. ``exclude_rated=`` is the old
            spelling (deprecated).

        Returns
        -------
        RankedItems
            With ``user_factors`` and ``user_bias`` set.
        """
        k = check_k(k)
        check_fitted(self, "user_factors_")
        codes, values = resolve_ratings(self.ratings_, ratings)
        p, b = self._fold_in_codes(codes, values)
        scores = self._all_scores(p, b)
        if self._nb is not None:
            scores = scores + self._fold_in_neighbors(codes, values, p, b)
        exclude = codes if exclude_seen else np.array([], dtype=np.int64)
        return self._top(scores, exclude, k, "predicted rating",
                         user_factors=p, user_bias=b)

    def _fold_in_neighbors(self, codes, values, p, b) -> np.ndarray:
        """The neighbourhood term of every item for a folded-in user (residuals vs p, b)."""
        known = self._n_i[codes] > 0
        codes, values = codes[known], values[known]
        resid = values - self._all_scores(p, b)[codes]
        return self._nb.for_new_user(codes, resid)

    # -------------------------------------------------------------- explain
    @renamed_keywords(top="k")
    def explain(self, user, item, *, k: int = 5) -> RatingExplanation:
        """Split one prediction into its parts, with the rated items behind the taste match.

        The parts add up: ``raw = global_mean + user_bias + item_bias + dot +
        neighbors`` is the unclipped prediction and ``prediction`` is ``raw``
        clipped to the scale (what ``predict`` returns). With the item vectors
        fixed, the user's unknowns solve ``A_u x_u = Σ_j z_j y_j`` (see the
        module notes), so ``z_i · x_u = Σ_j (z_iᵀ A_u⁻¹ z_j) y_j``: each rated
        item ``j`` contributes ``(z_iᵀ A_u⁻¹ z_j) y_j`` to ``b_u + p_u · q_i``
        (exact for ALS fits). An ``implicit`` model adds
        ``|R(u)|^(-1/2) q_i · y_j`` for each rated ``j``.

        Parameters
        ----------
        user, item : id (item: id or title)
        k : int, default=5
            How many of the user's rated items to list (largest pull first).
            ``top=`` is the old spelling (deprecated).

        Returns
        -------
        RatingExplanation
        """
        check_fitted(self, "user_factors_")
        k = check_int(k, "k", minimum=0)
        uc = self._user_code(user)
        ic = self._item_code(item)
        seen = self._seen_items(uc)
        _, _, order = self._seen
        starts = self._seen[0]
        rows = order[starts[uc]:starts[uc + 1]]
        values = self.ratings_.ratings[rows].astype(np.float64)
        q = self.item_factors_[ic]
        implicit_part = self.implicit_factors_[seen] @ q / np.sqrt(max(len(seen), 1))
        contrib = self._user_system(seen, values).pulls(q) + implicit_part
        rank = np.argsort(-np.abs(contrib), kind="stable")[:k]
        data = self.ratings_
        listed = [(data.item_ids[seen[j]].item() if hasattr(data.item_ids[seen[j]], "item")
                   else data.item_ids[seen[j]], data.item_label(int(seen[j])), float(values[j]),
                   float(contrib[j])) for j in rank]
        bu = float(self.user_bias_[uc]) if self.biased else 0.0
        bi = float(self.item_bias_[ic]) if self.biased else 0.0
        dot = float((self.user_factors_[uc] + self.user_implicit_[uc]) @ self.item_factors_[ic])
        nb = float(self._neighbor_codes(np.array([uc]), np.array([ic]))[0])
        raw = self.global_mean_ + bu + bi + dot + nb
        return RatingExplanation(prediction=float(np.clip(raw, *self.rating_scale_)), raw=raw,
                                 global_mean=self.global_mean_, user_bias=bu, item_bias=bi,
                                 dot=dot, contributions=listed, neighbors=nb,
                                 rating_scale=self.rating_scale_)

    # ------------------------------------------------------------- helpers
    def user_vector(self, user) -> np.ndarray:
        """The factor vector of a known user: ``p_u`` (plus the implicit part, if any)."""
        check_fitted(self, "user_factors_")
        code = self._user_code(user)
        return self.user_factors_[code] + self.user_implicit_[code]

    def item_vector(self, item) -> np.ndarray:
        """The factor vector ``q_i`` of an item (id or title)."""
        check_fitted(self, "user_factors_")
        return self.item_factors_[self._item_code(item)]

