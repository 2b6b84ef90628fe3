"""Customer segmentation: standardise, (optionally) PCA, k-means, then say what each segment is.

The workflow on any table of numeric features:

1. **standardise** each chosen column, :math:`z = (x - \\bar x) / s`, so that a
   feature measured in euros does not drown one measured in visits;
2. optionally keep the first ``pca`` principal components (dotwise's :class:`PCA`);
3. cluster with :class:`KMeans` (distances as dot products, one GEMM per pass);
4. **profile** each segment: its size, and the z-score of its mean on every
   feature, :math:`(\\bar x_{seg} - \\bar x) / s` — the features whose z-score is
   far from 0 are the ones that set the segment apart, and they are written out
   in words ("high income (+1.7 σ)");
5. a 2-D **map**: every row projected on the first two principal axes of the
   standardised data, coloured by segment.

:func:`customer_table` makes a seeded, **synthetic** customer table to try it on;
:func:`segment_viewers` segments the users of a rating data set (MovieLens) by the
taste vectors a :class:`~dotwise.recommend.MatrixFactorization` learned, and
describes each segment by the genres it rates above the average viewer.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import ShapeError, as_float_array, check_int, describe
from .kmeans import KMeans
from .pca import PCA

__all__ = ["SegmentProfile", "Segmentation", "ViewerSegmentation", "customer_table",
           "segment", "segment_viewers"]

# |z| of a segment mean at which a feature is called out, and at which it is "very" so
_NOTABLE, _STRONG = 0.5, 1.5


# ----------------------------------------------------------------------------- data
_PERSONAS = {
    # name: (share, age, income k€/yr, visits/month, basket €, online share, days since)
    "students online": (0.22, (23, 3), (18, 6), (3.0, 1.0), (22, 8), (0.85, 0.08), (12, 6)),
    "busy professionals": (0.20, (38, 6), (85, 18), (1.5, 0.6), (95, 25), (0.70, 0.12),
                           (20, 9)),
    "weekly families": (0.26, (42, 6), (55, 12), (5.0, 1.2), (120, 30), (0.20, 0.10),
                        (6, 3)),
    "retired regulars": (0.18, (70, 6), (32, 8), (8.0, 2.0), (35, 10), (0.05, 0.04),
                         (4, 2)),
    "lapsed customers": (0.14, (45, 12), (45, 15), (0.4, 0.3), (50, 20), (0.40, 0.20),
                         (160, 50)),
}

CUSTOMER_COLUMNS = ("age", "income", "visits_per_month", "basket_size", "online_share",
                    "days_since_last_purchase")


def customer_table(n: int = 2000, *, random_state: int = 0) -> dict[str, np.ndarray]:
    """A seeded **synthetic** table of shop customers, for trying the segmentation.

    The rows are drawn from five made-up personas (students who buy online,
    busy professionals, weekly family shoppers, retired regulars, lapsed
    customers); nothing in it describes real people.

    Parameters
    ----------
    n : int, default=2000
        Number of customers (>= 10).
    random_state : int, default=0
        Seed; the same seed gives the same table.

    Returns
    -------
    dict of str to ndarray of shape (n,)
        ``customer_id`` (int), the numeric features ``age`` (years),
        ``income`` (k€ per year), ``visits_per_month``, ``basket_size`` (€ per
        visit), ``online_share`` (fraction of spending online, 0–1),
        ``days_since_last_purchase``, and ``persona`` (str, the hidden persona
        each row was drawn from — the ground truth, not a feature).

    Examples
    --------
    >>> t = customer_table(500, random_state=1)
    >>> sorted(t)[:3], t["age"].shape
    (['age', 'basket_size', 'customer_id'], (500,))
    """
    n = check_int(n, "n", minimum=10)
    rng = np.random.default_rng(random_state)
    names = list(_PERSONAS)
    shares = np.array([_PERSONAS[p][0] for p in names])
    which = rng.choice(len(names), size=n, p=shares / shares.sum())
    cols = {c: np.empty(n) for c in CUSTOMER_COLUMNS}
    for j, name in enumerate(names):
        idx = np.flatnonzero(which == j)
        for c, (mu, sd) in zip(CUSTOMER_COLUMNS, _PERSONAS[name][1:], strict=True):
            cols[c][idx] = rng.normal(mu, sd, size=len(idx))
    cols["age"] = np.clip(np.round(cols["age"]), 18, 95)
    cols["income"] = np.clip(cols["income"], 5, None).round(1)
    cols["visits_per_month"] = np.clip(cols["visits_per_month"], 0, None).round(1)
    cols["basket_size"] = np.clip(cols["basket_size"], 3, None).round(2)
    cols["online_share"] = np.clip(cols["online_share"], 0, 1).round(3)
    cols["days_since_last_purchase"] = np.clip(np.round(cols["days_since_last_purchase"]),
                                               0, None)
    return {"customer_id": np.arange(1, n + 1), **cols,
            "persona": np.array(names, dtype=object)[which].astype(str)}


# ------------------------------------------------------------------------- results
@dataclass(frozen=True)
class SegmentProfile:
    """What one segment is: its size and the features that set it apart.

    Attributes
    ----------
    segment : int
    size : int
    share : float
        ``size / n_rows``.
    means : dict of str to float
        The segment's mean of every feature, in the table's units.
    z : dict of str to float
        z-score of each mean, :math:`(\\bar x_{seg} - \\bar x) / s`.
    distinctive : list of str
        Features with ``|z| >= 0.5``, by decreasing ``|z|``.
    name : str
        A short name from the two most distinctive features ("high income · low age").
    description : str
        One sentence in plain words.
    """

    segment: int
    size: int
    share: float
    means: dict[str, float]
    z: dict[str, float]
    distinctive: list[str]
    name: str
    description: str


@dataclass(frozen=True, eq=False)
class Segmentation:
    """The result of :func:`segment`.

    Attributes
    ----------
    feature_names : list of str
    labels : ndarray of shape (n_rows,), int
        Segment of each row, numbered by decreasing size (0 is the largest).
    profiles : list of SegmentProfile
        One per segment, in segment order.
    centers : ndarray of shape (k, n_features)
        Segment means in the table's units.
    z_scores : ndarray of shape (k, n_features)
        z-scores of the segment means.
    map : ndarray of shape (n_rows, 2)
        Each row on the first two principal axes of the standardised features.
    map_variance : ndarray of shape (2,)
        Fraction of the (standardised) variance each map axis shows.
    inertia : float
        k-means inertia in the clustered space.
    n_pca : int or None
        Components kept before k-means (``None``: none, the standardised features).
    model : KMeans
        The fitted k-means (its centres live in the clustered space).
    """

    feature_names: list[str]
    labels: np.ndarray
    profiles: list[SegmentProfile]
    centers: np.ndarray
    z_scores: np.ndarray
    map: np.ndarray
    map_variance: np.ndarray
    inertia: float
    n_pca: int | None
    model: KMeans
    unit: str = "rows"
    _extra: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def k(self) -> int:
        return len(self.profiles)

    @property
    def sizes(self) -> np.ndarray:
        return np.array([p.size for p in self.profiles])

    def __repr__(self) -> str:
        return (f"Segmentation({self.k} segments of {len(self.labels)} {self.unit}, "
                f"features={self.feature_names})")

    def __str__(self) -> str:
        space = (f"{self.n_pca} principal components of the standardised features"
                 if self.n_pca else "the standardised features")
        lines = [f"{self.k} segments of {len(self.labels)} {self.unit}, k-means on {space} "
                 f"({', '.join(self.feature_names)})"]
        for p in self.profiles:
            lines.append(f"  {p.description}")
        return "\n".join(lines)

    def to_dict(self, *, labels: bool = True) -> dict[str, Any]:
        """A JSON-ready summary; the per-row ``labels`` only when asked (they can be long)."""
        out = {
            "features": list(self.feature_names), "k": self.k, "n_rows": int(len(self.labels)),
            "pca": self.n_pca, "inertia": self.inertia,
            "map_variance": [float(v) for v in self.map_variance],
            "segments": [{"segment": p.segment, "size": p.size, "share": p.share,
                          "name": p.name, "description": p.description,
                          "distinctive": p.distinctive, "means": p.means, "z": p.z}
                         for p in self.profiles],
        }
        if labels:
            out["labels"] = self.labels.tolist()
        return out

    def plot_map(self, ax=None, *, title: str | None = None):
        """Draw the 2-D PCA map, one colour per segment; returns the matplotlib figure.

        Without ``ax`` a new :class:`matplotlib.figure.Figure` is made (no pyplot
        state is touched, so this is safe in scripts, servers and notebooks alike).
        """
        import matplotlib

        if ax is None:
            from matplotlib.figure import Figure

            fig = Figure(figsize=(7.5, 5.5))
            ax = fig.subplots()
        else:
            fig = ax.figure
        cmap = matplotlib.colormaps["tab10" if self.k <= 10 else "tab20"]
        for p in self.profiles:
            pts = self.map[self.labels == p.segment]
            ax.scatter(pts[:, 0], pts[:, 1], s=7, alpha=0.55, color=cmap(p.segment % cmap.N),
                       label=f"{p.segment}: {p.name} ({p.size})")
        for p in self.profiles:
            cx, cy = np.median(self.map[self.labels == p.segment], axis=0)
            ax.text(cx, cy, str(p.segment), fontsize=12, weight="bold", ha="center",
                    va="center", bbox={"boxstyle": "circle,pad=0.25", "fc": "white",
                                       "ec": cmap(p.segment % cmap.N), "alpha": 0.9})
        ax.set_xlabel(f"PC 1 ({self.map_variance[0]:.0%} of the variance)")
        ax.set_ylabel(f"PC 2 ({self.map_variance[1]:.0%} of the variance)")
        ax.set_title(title or f"{self.k} segments on the first two principal axes")
        ax.legend(fontsize=7.5, loc="best", markerscale=2, framealpha=0.85)
        ax.grid(alpha=0.25)
        return fig

    def save_map(self, path: str | os.PathLike, *, title: str | None = None,
                 dpi: int = 110) -> None:
        """Write the map as a PNG, atomically (the old file stays until the new one is whole)."""
        from .._io import atomic_open

        fig = self.plot_map(title=title)
        with atomic_open(path, "wb") as fh:
            fig.savefig(fh, format="png", dpi=dpi, bbox_inches="tight")


# ------------------------------------------------------------------------ workflow
def _as_matrix(data, features):
    """(X, names) from a mapping of columns, a DataFrame or a 2-D array."""
    if isinstance(data, Mapping) or hasattr(data, "columns"):
        columns = list(data.keys() if isinstance(data, Mapping) else data.columns)
        if features is None:
            features = [c for c in columns
                        if np.asarray(data[c]).dtype.kind in "fiu" and not _is_id(c)]
            if not features:
                raise ValueError("data has no numeric columns to segment on; pass features")
        else:
            features = _feature_list(features)
            missing = [f for f in features if f not in columns]
            if missing:
                raise KeyError(
                    f"features: no column {', '.join(repr(m) for m in missing)} in the "
                    f"data; its columns are: {', '.join(map(str, columns))}")
        cols = []
        for f in features:
            col = np.asarray(data[f])
            if col.dtype.kind not in "fiub":
                raise TypeError(f"features: column {f!r} is not numeric (dtype {col.dtype}); "
                                f"segment on numeric columns only")
            cols.append(col.astype(np.float64))
        X = as_float_array(np.column_stack(cols), "data")
        return X, [str(f) for f in features]
    X = as_float_array(data, "data", ndim=2)
    if features is None:
        return X, [f"x{j}" for j in range(X.shape[1])]
    features = _feature_list(features)
    if len(features) != X.shape[1]:
        raise ShapeError(f"features must name the {X.shape[1]} columns of data, got "
                         f"{len(features)} names")
    return X, features


def _is_id(name) -> bool:
    """A column that names rows rather than measuring them: ``id``, ``customer_id``, ``userId``."""
    text = str(name).strip()
    low = text.lower()
    return low == "id" or low.endswith(("_id", " id", "-id")) or text.endswith("Id")


def _feature_list(features) -> list[str]:
    if isinstance(features, str):
        features = [f.strip() for f in features.split(",") if f.strip()]
    features = list(features)
    if not features:
        raise ValueError("features must name at least one column, got none")
    dup = [f for f in features if features.count(f) > 1]
    if dup:
        raise ValueError(f"features names {dup[0]!r} more than once")
    return features


def _words(name: str) -> str:
    return name.replace("_", " ")


def _describe_segment(seg, size, share, means, z, names, unit) -> SegmentProfile:
    order = np.argsort(-np.abs(z), kind="stable")
    distinctive = [names[j] for j in order if abs(z[j]) >= _NOTABLE]
    phrases = []
    for j in order[:4]:
        if abs(z[j]) < _NOTABLE:
            break
        level = ("very " if abs(z[j]) >= _STRONG else "") + ("high" if z[j] > 0 else "low")
        phrases.append(f"{level} {_words(names[j])} ({z[j]:+.1f} σ, mean {means[j]:.4g})")
    if phrases:
        body = ", ".join(phrases)
        rest = len(distinctive) - len(phrases)
        if rest > 0:
            body += f", and {rest} more"
        name = " · ".join(p.split(" (")[0] for p in phrases[:2])
    else:
        body = "close to the average on every feature (no |z| ≥ 0.5)"
        name = "average"
    description = f"Segment {seg} — {size} {unit} ({share:.1%}): {body}."
    return SegmentProfile(seg, int(size), float(share),
                          {n: float(m) for n, m in zip(names, means, strict=True)},
                          {n: float(v) for n, v in zip(names, z, strict=True)},
                          distinctive, name, description)


def segment(data, features=None, *, k: int = 5, pca: int | None = None,
            standardize: bool = True, n_init: int = 10, random_state: int | None = 0,
            unit: str = "rows", progress=None) -> Segmentation:
    """Segment the rows of a table and describe every segment in plain words.

    Parameters
    ----------
    data : mapping of str to 1-D array, pandas DataFrame, or array-like of shape (n, p)
        The table. For a mapping or DataFrame, ``features`` picks columns by name.
    features : list of str or comma-separated str, optional
        The columns to segment on. Default: every numeric column except
        identifiers (``id``, ``…_id``, ``…Id``); for an array, names for its columns.
    k : int, default=5
        Number of segments (2 <= k <= n_rows).
    pca : int, optional
        Cluster on the first ``pca`` principal components of the standardised
        features instead of on all of them (1 <= pca <= n_features).
    standardize : bool, default=True
        Scale every feature to mean 0 and standard deviation 1 first. Turn off
        only when the features already share one unit (e.g. learned vectors).
    n_init : int, default=10
        k-means restarts; the best is kept.
    random_state : int or None, default=0
    unit : str, default="rows"
        What a row is, for the wording ("customers", "viewers").
    progress : callable, optional
        ``progress(stage: str)`` is called before each stage (for a CLI spinner).

    Returns
    -------
    Segmentation
        Labels (numbered by decreasing segment size), profiles with their
        z-scores and descriptions, and the 2-D map; ``str()`` reads as a report.

    Raises
    ------
    ValueError
        ``k`` out of range, ``pca`` out of range, a constant feature (named: it
        cannot set segments apart), NaN/Inf in the data.
    KeyError
        A feature name that is not a column (the columns are listed).

    Examples
    --------
    >>> table = customer_table(600, random_state=0)
    >>> result = segment(table, ["age", "income", "visits_per_month"], k=3, unit="customers")
    >>> result.k, int(result.sizes.sum()), result.map.shape
    (3, 600, (600, 2))
    >>> print(result)  # doctest: +ELLIPSIS
    3 segments of 600 customers, k-means on the standardised features (age, income, ...)
      Segment 0 — ... customers (...%): ...
    """
    step = progress or (lambda stage: None)
    X, names = _as_matrix(data, features)
    n, p = X.shape
    k = check_int(k, "k", minimum=1)
    if not 1 <= k <= n:
        raise ValueError(f"k must be between 1 and the number of rows ({n}), got {k}")
    if pca is not None:
        pca = check_int(pca, "pca", minimum=1)
        if pca > p:
            raise ValueError(f"pca must be <= the number of features ({p}), got {pca}")
    if n < 2:
        raise ValueError(f"data must have at least 2 rows to segment, got {n}")
    step("standardising")
    mean = X.mean(axis=0)
    std = X.std(axis=0, ddof=0)
    const = np.flatnonzero(std <= 1e-12 * np.maximum(np.abs(mean), 1.0))
    if const.size:
        j = int(const[0])
        raise ValueError(
            f"feature {names[j]!r} is constant (every value {X[0, j]:.6g}); it cannot set "
            f"segments apart — leave it out of features")
    Z = (X - mean) / std if standardize else X - mean
    space = Z
    if pca is not None:
        step(f"PCA to {pca} components")
        space = PCA(n_components=pca).fit_transform(Z)
    step(f"k-means, k={k}, {n_init} restarts")
    model = KMeans(n_clusters=k, n_init=n_init, random_state=random_state).fit(space)
    # number segments by decreasing size, so "segment 0" is the largest
    counts = np.bincount(model.labels_, minlength=k)
    order = np.argsort(-counts, kind="stable")
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k)
    labels = rank[model.labels_]
    step("profiling")
    sizes = np.bincount(labels, minlength=k).astype(np.float64)
    centers = np.column_stack([np.bincount(labels, weights=X[:, j], minlength=k)
                               for j in range(p)]) / sizes[:, None]
    zs = (centers - mean) / std
    profiles = [_describe_segment(s, int(sizes[s]), sizes[s] / n, centers[s], zs[s], names, unit)
                for s in range(k)]
    step("2-D map")
    Zs = (X - mean) / std
    if p >= 2:
        mp = PCA(n_components=2).fit(Zs)
        coords, var = mp.transform(Zs), mp.explained_variance_ratio_
    else:
        coords = np.column_stack([Zs[:, 0], np.zeros(n)])
        var = np.array([1.0, 0.0])
    return Segmentation(names, labels, profiles, centers, zs, coords, np.asarray(var),
                        float(model.inertia_), pca, model, unit)


# ------------------------------------------------------------------------ MovieLens
@dataclass(frozen=True, eq=False)
class ViewerSegmentation:
    """Viewers segmented by their learned taste vectors (see :func:`segment_viewers`).

    Attributes
    ----------
    segmentation : Segmentation
        The k-means result on the taste vectors (features ``factor 1 …``).
    genres : list of str
    genre_lift : ndarray of shape (k, n_genres)
        Mean rating the segment gives a genre minus the mean rating all viewers
        give it (NaN where the segment rated fewer than ``min_ratings`` of it).
    genre_counts : ndarray of shape (k, n_genres), int
        How many ratings of each genre each segment gave.
    user_ids : ndarray of shape (n_users,)
        The original user id of each row of ``segmentation.labels``.
    descriptions : list of str
        One sentence per segment: size, the genres it rates highest and lowest
        relative to everyone else.
    """

    segmentation: Segmentation
    genres: list[str]
    genre_lift: np.ndarray
    genre_counts: np.ndarray
    user_ids: np.ndarray
    descriptions: list[str]

    def __str__(self) -> str:
        head = (f"{self.segmentation.k} segments of {len(self.user_ids)} viewers, k-means on "
                f"their {len(self.segmentation.feature_names)}-dimensional taste vectors")
        return "\n".join([head, *(f"  {d}" for d in self.descriptions)])

    def to_dict(self) -> dict[str, Any]:
        seg = self.segmentation
        return {"k": seg.k, "n_viewers": int(len(self.user_ids)),
                "segments": [{"segment": s, "size": p.size, "share": p.share,
                              "description": self.descriptions[s],
                              "genre_lift": {g: (None if not np.isfinite(v) else float(v))
                                             for g, v in zip(self.genres, self.genre_lift[s],
                                                             strict=True)}}
                             for s, p in enumerate(seg.profiles)]}


def segment_viewers(ratings, *, k: int = 6, n_factors: int = 24, normalize: bool = True,
                    n_epochs: int = 10, min_ratings: int = 30, top: int = 3,
                    random_state: int | None = 0, model=None,
                    progress=None) -> ViewerSegmentation:
    """Segment the users of a rating set by the taste vectors matrix factorization learns.

    A :class:`~dotwise.recommend.MatrixFactorization` is fitted (or ``model`` is
    used), each user's factor vector ``p_u`` is taken as their taste, and k-means
    clusters those vectors (unit length first with ``normalize``: the direction of
    ``p_u`` is the taste, its length mostly how much the user rated). Each
    segment is then described by the genres its members rate above the average
    viewer: the *lift* of a genre is the mean rating the segment's members gave
    movies of that genre minus the mean rating everyone gave them.

    Parameters
    ----------
    ratings : Ratings
        With genres (MovieLens' ``u.item``/``movies.dat`` beside the ratings).
    k : int, default=6
    n_factors, n_epochs : int
        Passed to :class:`~dotwise.recommend.MatrixFactorization` when ``model`` is None.
    normalize : bool, default=True
        Scale each taste vector to unit length before clustering.
    min_ratings : int, default=30
        A genre enters a segment's description only if the segment rated it that often.
    top : int, default=3
        Genres named per segment, on each side.
    random_state : int or None, default=0
    model : MatrixFactorization, optional
        An already fitted model on ``ratings``.
    progress : callable, optional
        ``progress(stage: str)`` before each stage.

    Returns
    -------
    ViewerSegmentation

    Raises
    ------
    ValueError
        ``ratings`` has no genres, or ``k`` is out of range.
    """
    from ..recommend import MatrixFactorization, Ratings

    if not isinstance(ratings, Ratings):
        raise TypeError(f"ratings must be a dotwise.recommend.Ratings (from load_ratings), "
                        f"got {describe(ratings)}")
    if not ratings.genres or not any(ratings.genres):
        raise ValueError(
            f"ratings from {ratings.source} have no genres; load a MovieLens folder that has "
            f"u.item (ml-100k) or movies.dat/movies.csv beside the ratings")
    step = progress or (lambda stage: None)
    k = check_int(k, "k", minimum=2)
    if model is None:
        step(f"matrix factorization, {n_factors} factors")
        model = MatrixFactorization(n_factors=n_factors, n_epochs=n_epochs,
                                    random_state=random_state).fit(ratings)
    P = np.asarray(model.user_factors_, dtype=np.float64)
    if normalize:
        P = P / np.maximum(np.linalg.norm(P, axis=1, keepdims=True), 1e-12)
    names = [f"factor {j + 1}" for j in range(P.shape[1])]
    seg = segment(P, names, k=k, standardize=False, random_state=random_state,
                  unit="viewers", progress=step)
    step("genre profiles")
    genres = sorted({g for gs in ratings.genres for g in gs if g and g != "unknown"})
    gindex = {g: j for j, g in enumerate(genres)}
    G = np.zeros((ratings.n_items, len(genres)))
    for i, gs in enumerate(ratings.genres):
        for g in gs:
            if g in gindex:
                G[i, gindex[g]] = 1.0
    # per (segment, item) rating sums and counts, then per genre: one product with G
    n_items = ratings.n_items
    cell = seg.labels[ratings.user_codes] * n_items + ratings.item_codes
    r = ratings.ratings.astype(np.float64)
    item_counts = np.bincount(cell, minlength=k * n_items).reshape(k, n_items)
    item_sums = np.bincount(cell, weights=r, minlength=k * n_items).reshape(k, n_items)
    counts = item_counts @ G                           # (k, n_genres) ratings per genre
    sums = item_sums @ G
    all_mean = sums.sum(axis=0) / np.maximum(counts.sum(axis=0), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        lift = sums / counts - all_mean
    lift[counts < max(int(min_ratings), 1)] = np.nan
    descriptions = []
    for s, p in enumerate(seg.profiles):
        row = lift[s]
        ok = np.flatnonzero(np.isfinite(row))
        hi = ok[np.argsort(-row[ok])][:top]
        lo = ok[np.argsort(row[ok])][:top]
        likes = ", ".join(f"{genres[j]} ({row[j]:+.2f})" for j in hi if row[j] > 0) or "no genre"
        dislikes = ", ".join(f"{genres[j]} ({row[j]:+.2f})" for j in lo if row[j] < 0) or "none"
        descriptions.append(f"Segment {s} — {p.size} viewers ({p.share:.1%}): rates "
                            f"{likes} above the average viewer; lowest: {dislikes}.")
    return ViewerSegmentation(seg, genres, lift, counts.astype(np.int64), ratings.user_ids,
                              descriptions)
