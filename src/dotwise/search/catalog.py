r"""The song recommender: "more like this" over a table of numeric features.

Every item (a song) is a vector of features — danceability, energy, tempo …
Features live on different scales (tempo in BPM, danceability in [0, 1]), so
each column is z-scored first,

.. math:: z_{ij} = w_j \, \frac{x_{ij} - \mu_j}{\sigma_j},

optionally weighted by :math:`w_j`, and the z-vectors go into an
:class:`~dotwise.search.Index`. "Songs like X" is then a nearest-neighbour
search, and the per-feature terms :math:`\hat z_{q,j} \hat z_{x,j}` of the
cosine say which features drive each match.
"""

from __future__ import annotations

import difflib
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import ShapeError, as_float_array, check_choice, check_k, describe
from .data import read_csv
from .index import Index
from .results import UnknownIdError

__all__ = ["Catalog", "Match", "SimilarItems"]


@dataclass(frozen=True)
class Match:
    """One recommended item.

    Attributes
    ----------
    rank : int
        1 for the best match.
    name : str
        The item's key (e.g. the track title).
    score : float
        Cosine (or dot) similarity of the z-scored features; Euclidean distance for l2.
    row : int
        Row of the item in the catalog.
    drivers : list of (feature, contribution, direction)
        The features that contribute most to the score, largest first;
        ``direction`` is ``"high"`` or ``"low"``: both items sit above (or
        below) the catalog average on that feature.
    metadata : dict
        The item's other (non-feature) columns, e.g. the artist.
    """

    rank: int
    name: str
    score: float
    row: int
    drivers: list[tuple[str, float, str]]
    metadata: dict[str, str] = field(default_factory=dict)

    def drivers_text(self) -> str:
        """Drivers as short text: ``energy↑ +0.31, acousticness↓ +0.22``."""
        arrows = {"high": "↑", "low": "↓", "differs": "≠"}
        return ", ".join(f"{f}{arrows.get(d, '')} {c:+.2f}" for f, c, d in self.drivers)


@dataclass(frozen=True)
class SimilarItems:
    """What :meth:`Catalog.similar` returns: the query and its ranked matches.

    (Called ``Recommendations`` before; that name still works, with a
    ``DeprecationWarning``, so that it does not clash with
    :class:`dotwise.recommend.Recommendations`.)
    """

    query: str
    matches: list[Match]
    metric: str
    note: str = ""

    def __len__(self) -> int:
        return len(self.matches)

    def __iter__(self):
        return iter(self.matches)

    def __getitem__(self, i: int) -> Match:
        return self.matches[i]

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.matches]

    def to_rows(self, show: Sequence[str] = ()) -> list[list[str]]:
        """Rows ``[rank, name, *show columns, score, drivers]`` as text, for a table."""
        return [[str(m.rank), m.name, *[m.metadata.get(c, "") for c in show],
                 f"{m.score:.3f}", m.drivers_text()] for m in self.matches]

    def __str__(self) -> str:
        head = f"items like {self.query!r} ({self.metric})"
        lines = [head] + [f"{r[0]:>3}. {r[1]}  {r[2]}  {r[3]}" for r in self.to_rows()]
        return "\n".join(lines)


class Catalog:
    r"""A table of items (songs) with numeric features, searchable by similarity.

    Parameters
    ----------
    names : sequence of str, length n
        Each item's key (e.g. track title); used for lookups.
    X : array_like of shape (n, d)
        Raw feature values.
    feature_names : sequence of str, length d
    metadata : dict of str -> sequence of str, optional
        Other columns to carry along (artist, year …).
    standardize : bool, default=True
        z-score each feature (:math:`(x - \mu) / \sigma`) so that no feature
        dominates by its units. Constant features get :math:`\sigma = 1` and a warning.
    weights : sequence of float or dict of feature -> float, optional
        Multiply each (standardised) feature by a weight; 0 switches it off.
    metric : {"cosine", "dot", "l2"}, default="cosine"
    key : str, default="name"
        Name of the key column (for messages and tables).

    Examples
    --------
    >>> cat = Catalog(["calm", "loud", "louder"], [[0.1, 60], [0.9, 170], [0.95, 180]],
    ...               ["energy", "tempo"])
    >>> cat.similar("loud", k=1).names
    ['louder']
    """

    def __init__(self, names: Sequence[str], X: Any, feature_names: Sequence[str], *,
                 metadata: dict[str, Sequence[str]] | None = None, standardize: bool = True,
                 weights: Any = None, metric: str = "cosine", key: str = "name"):
        X = as_float_array(X, "X", ndim=2)
        names = [str(n) for n in names]
        feature_names = [str(f) for f in feature_names]
        if len(names) != X.shape[0]:
            raise ShapeError(f"names and X must describe the same items: {len(names)} names, "
                             f"X has shape {X.shape}")
        if len(feature_names) != X.shape[1]:
            raise ShapeError(f"feature_names must name every column of X: got "
                             f"{len(feature_names)} names for X of shape {X.shape}")
        if X.shape[0] < 2:
            raise ValueError(f"a catalog needs at least 2 items, got {X.shape[0]}")
        self.key = key
        self.names = names
        self.feature_names = feature_names
        #: numeric columns :meth:`from_csv` did not choose as features, and why
        self.features_left_out: dict[str, str] = {}
        self.metric = check_choice(metric, "metric", ("cosine", "dot", "l2"))
        self.metadata = {k: [str(v) for v in vals] for k, vals in (metadata or {}).items()}
        for col, vals in self.metadata.items():
            if len(vals) != len(names):
                raise ShapeError(f"metadata column {col!r} has {len(vals)} values for "
                                 f"{len(names)} items")
        self.X_raw = X
        self.weights_ = self._weights(weights)
        if standardize:
            self.mean_ = X.mean(axis=0)
            scale = X.std(axis=0)
            const = scale == 0
            if const.any():
                warnings.warn(
                    f"feature(s) {', '.join(np.asarray(feature_names)[const])} are constant "
                    f"in the catalog and carry no information; they are left unscaled",
                    UserWarning, stacklevel=2)
            self.scale_ = np.where(const, 1.0, scale)
        else:
            self.mean_ = np.zeros(X.shape[1])
            self.scale_ = np.ones(X.shape[1])
        Z = self.transform(X)
        if self.metric == "cosine":
            zero = ~np.any(Z != 0, axis=1)
            if zero.any():
                i = int(np.flatnonzero(zero)[0])
                raise ValueError(f"item {names[i]!r} (row {i}) sits exactly at the catalog "
                                 f"average on every feature, so it has no direction for cosine; "
                                 f"use metric='l2'")
        self.index = Index(X.shape[1], metric=self.metric, dtype="float64")
        self.index.add(Z)
        self._lower: dict[str, list[int]] | None = None

    def _weights(self, weights: Any) -> np.ndarray:
        d = len(self.feature_names)
        if weights is None:
            return np.ones(d)
        if isinstance(weights, dict):
            unknown = [w for w in weights if w not in self.feature_names]
            if unknown:
                raise ValueError(f"weights name unknown feature(s) {', '.join(unknown)}; the "
                                 f"features are {', '.join(self.feature_names)}")
            w = np.array([float(weights.get(f, 1.0)) for f in self.feature_names])
        else:
            w = as_float_array(weights, "weights", ndim=1)
            if w.shape[0] != d:
                raise ShapeError(f"weights must have one value per feature ({d}), got "
                                 f"{w.shape[0]}")
        if np.any(w < 0) or not np.any(w > 0):
            raise ValueError(f"weights must be >= 0 and not all zero, got {w.tolist()}")
        return w.astype(np.float64)

    # ------------------------------------------------------------ construction
    @classmethod
    def from_csv(cls, path: str | os.PathLike, key: str = "track",
                 features: Sequence[str] | str | None = None, *, standardize: bool = True,
                 weights: Any = None, metric: str = "cosine", missing: str = "error") -> Catalog:
        """Build a catalog from a CSV with a header row.

        Parameters
        ----------
        path : path to the CSV
        key : str, default="track"
            Column holding each item's name.
        features : list of str or comma-separated str, optional
            Numeric columns to compare on. Default: every numeric column except the
            key, ids, labels and categorical codes (integer columns with few levels);
            ``catalog.features_left_out`` says which were left out and why.
        standardize, weights, metric
            As in :class:`Catalog`.
        missing : {"error", "drop"}, default="error"
            What to do with rows whose features are empty or not numbers.

        Raises
        ------
        DataFormatError
            If ``key`` or a feature column is not in the file (the message lists
            the columns that are), or a feature cell is not a number.
        """
        check_choice(missing, "missing", ("error", "drop"))
        table = read_csv(path)
        table.require([key], "key column")
        if isinstance(features, str):
            features = [f.strip() for f in features.split(",") if f.strip()]
        left_out: dict[str, str] = {}
        if features is None:
            features, left_out = table.feature_columns(key)
            if not features:
                why = "; ".join(f"{c}: {r}" for c, r in left_out.items()) or "none is numeric"
                raise ValueError(f"{table.path.name} has no numeric columns to compare on "
                                 f"({why}); its columns are: {', '.join(table.header)}; "
                                 f"name them with features=")
        features = list(features)
        if not features:
            raise ValueError("features must name at least one numeric column")
        if key in features:
            raise ValueError(f"the key column {key!r} cannot also be a feature")
        X, keep = table.floats(features, missing=missing)
        rows = np.flatnonzero(keep)
        names = [table.columns[key][i] for i in rows]
        meta_cols = [c for c in table.header if c != key and c not in features]
        metadata = {c: [table.columns[c][i] for i in rows] for c in meta_cols}
        catalog = cls(names, X[keep], features, metadata=metadata, standardize=standardize,
                      weights=weights, metric=metric, key=key)
        catalog.features_left_out = left_out
        return catalog

    @classmethod
    def example(cls, **kwargs: Any) -> Catalog:
        """The bundled example catalog of 60 invented songs (see ``data.example_catalog_path``)."""
        from .data import example_catalog_path

        kwargs.setdefault("features", ["danceability", "energy", "valence", "acousticness",
                                       "instrumentalness", "speechiness", "tempo", "loudness"])
        return cls.from_csv(example_catalog_path(), key="track", **kwargs)

    def __len__(self) -> int:
        return len(self.names)

    def __repr__(self) -> str:
        return (f"Catalog(n={len(self)}, features={self.feature_names}, metric={self.metric!r})")

    def transform(self, X: Any) -> np.ndarray:
        """Raw feature rows (n, d) or (d,) → the weighted z-scores that are indexed."""
        X = as_float_array(X, "X", ndim=(1, 2))
        if X.shape[-1] != len(self.feature_names):
            raise ShapeError(f"X must have {len(self.feature_names)} features "
                             f"({', '.join(self.feature_names)}), got shape {X.shape}")
        return (X - self.mean_) / self.scale_ * self.weights_

    # ------------------------------------------------------------------ lookup
    def _name_index(self) -> dict[str, list[int]]:
        if self._lower is None:
            idx: dict[str, list[int]] = {}
            for i, n in enumerate(self.names):
                idx.setdefault(n.strip().casefold(), []).append(i)
            self._lower = idx
        return self._lower

    def suggest(self, name: str, n: int = 5) -> list[str]:
        """Names close to ``name``: ones that contain it, then fuzzy matches."""
        q = str(name).strip().casefold()
        index = self._name_index()
        contains = [self.names[rows[0]] for key, rows in index.items() if q and q in key]
        contains.sort(key=len)
        close = difflib.get_close_matches(q, list(index), n=n, cutoff=0.6)
        out: list[str] = []
        for s in contains[:n] + [self.names[index[c][0]] for c in close]:
            if s not in out:
                out.append(s)
        return out[:n]

    def rows_of(self, name: str, where: dict[str, str] | None = None) -> list[int]:
        """Rows whose key equals ``name`` (case-insensitive), optionally filtered by metadata.

        Raises
        ------
        UnknownIdError
            If there is no such item; the message suggests close names.
        """
        if not isinstance(name, str):
            raise TypeError(f"name must be a string, got {describe(name)}")
        rows = list(self._name_index().get(name.strip().casefold(), []))
        if where:
            for col, val in where.items():
                if col not in self.metadata:
                    raise ValueError(f"where names an unknown column {col!r}; the other "
                                     f"columns are: {', '.join(self.metadata) or 'none'}")
                rows = [r for r in rows
                        if self.metadata[col][r].strip().casefold() == str(val).strip().casefold()]
        if not rows:
            suggestions = self.suggest(name)
            hint = (f"; did you mean: {', '.join(repr(s) for s in suggestions)}?"
                    if suggestions else "")
            cond = f" with {where}" if where else ""
            raise UnknownIdError(f"no item named {name!r}{cond} in the catalog ({len(self)} "
                                 f"items){hint}", tuple(suggestions))
        return rows

    def vector_of(self, name: str, where: dict[str, str] | None = None) -> np.ndarray:
        """Raw feature values of the item ``name``, shape (d,)."""
        return self.X_raw[self.rows_of(name, where)[0]].copy()

    def profile(self, names: Sequence[str]) -> np.ndarray:
        """A taste profile: the mean raw feature vector of several liked items, shape (d,)."""
        if isinstance(names, str) or len(names) == 0:
            raise ValueError("names must be a non-empty list of item names")
        return np.mean([self.vector_of(n) for n in names], axis=0)

    # ------------------------------------------------------------------ search
    def similar(self, name: str, k: int = 10, *, where: dict[str, str] | None = None,
                n_drivers: int = 3) -> SimilarItems:
        r"""The ``k`` items most similar to the item called ``name``, with why.

        The item's weighted z-scores :math:`z` are searched in the catalog's
        index (cosine by default: :math:`\hat z_q \cdot \hat z_x`). The item
        itself, and other rows with the same name (re-releases), are left out;
        a match with the same name and first metadata value as an earlier one
        is shown once. If several items share the name, the first is used
        (pass ``where={"artist": "…"}`` to choose) and ``note`` says so.

        Parameters
        ----------
        name : str
            The item's key, matched case-insensitively.
        k : int, default=10
            How many matches to return (fewer if the catalog is smaller).
        where : dict of str -> str, optional
            Metadata values the item must have, e.g. ``{"artist": "Adele"}``.
        n_drivers : int, default=3
            How many features to report per match as its drivers.

        Returns
        -------
        SimilarItems
            Ranked matches (:class:`Match`: rank, name, score, row, drivers,
            metadata), best first.

        Raises
        ------
        UnknownIdError
            (a ``KeyError``) if no item has that name (with ``where``); the
            message suggests close names.
        ValueError
            If ``k`` is not a positive integer or ``where`` names an unknown column.
        TypeError
            If ``name`` is not a string.

        Examples
        --------
        >>> cat = Catalog(["calm", "loud", "louder", "soft"],
        ...               [[0.1, 60], [0.9, 170], [0.95, 180], [0.2, 70]], ["energy", "tempo"])
        >>> recs = cat.similar("loud", k=2)
        >>> recs.names
        ['louder', 'soft']
        >>> recs[0].drivers[0][0] in ("energy", "tempo")
        True
        """
        k = check_k(k)
        rows = self.rows_of(name, where)
        note = ""
        if len(rows) > 1 and self.metadata:
            first_col = next(iter(self.metadata))
            note = (f"{len(rows)} items are named {self.names[rows[0]]!r}; using the one with "
                    f"{first_col}={self.metadata[first_col][rows[0]]!r}")
        same = set(self._name_index()[self.names[rows[0]].strip().casefold()])
        return self._recommend(self.index.vectors[rows[0]], k, exclude=same,
                               query=self.names[rows[0]], n_drivers=n_drivers, note=note,
                               standardized=True)

    def similar_to_vector(self, vector: Any, k: int = 10, *, standardized: bool = False,
                          exclude: Sequence[str] = (), n_drivers: int = 3) -> SimilarItems:
        """The ``k`` items closest to a feature vector, e.g. a :meth:`profile`.

        Parameters
        ----------
        vector : array_like of shape (d,)
            Raw feature values (or already weighted z-scores if ``standardized``).
        exclude : sequence of str
            Item names to leave out (e.g. the songs the profile was built from).
        """
        k = check_k(k)
        v = as_float_array(vector, "vector", ndim=1)
        if v.shape[0] != len(self.feature_names):
            raise ShapeError(f"vector must have {len(self.feature_names)} values "
                             f"({', '.join(self.feature_names)}), got {v.shape[0]}")
        z = v if standardized else self.transform(v)
        skip: set[int] = set()
        for n in exclude:
            skip.update(self.rows_of(n))
        return self._recommend(z, k, exclude=skip, query="taste profile", n_drivers=n_drivers,
                               standardized=True)

    def _recommend(self, z: np.ndarray, k: int, *, exclude: set[int], query: str,
                   n_drivers: int, note: str = "", standardized: bool = True) -> SimilarItems:
        first_meta = next(iter(self.metadata), None)
        fetch = min(len(self), k + len(exclude) + 2 * k + 5)
        result = self.index.search(z, k=fetch)
        matches: list[Match] = []
        seen: set[tuple[str, str]] = set()
        for i, s in zip(result.ids.tolist(), result.scores.tolist(), strict=False):
            if i < 0 or i in exclude:
                continue
            dedupe = (self.names[i].casefold(),
                      self.metadata[first_meta][i].casefold() if first_meta else str(i))
            if dedupe in seen:
                continue
            seen.add(dedupe)
            matches.append(Match(len(matches) + 1, self.names[i], float(s), i,
                                 self._drivers(z, i, n_drivers),
                                 {c: v[i] for c, v in self.metadata.items()}))
            if len(matches) == k:
                break
        return SimilarItems(query, matches, self.metric, note)

    def _drivers(self, z: np.ndarray, row: int, n: int) -> list[tuple[str, float, str]]:
        e = self.index.explain(z, row)
        q = z / np.linalg.norm(z) if self.metric == "cosine" else z
        out = []
        for d, c in e.top(n):
            if self.metric == "l2":
                out.append((self.feature_names[d], c, "differs"))
            else:
                out.append((self.feature_names[d], c, "high" if q[d] > 0 else "low"))
        return out


def __getattr__(name: str) -> Any:
    if name == "Recommendations":
        warnings.warn("dotwise.search.Recommendations was renamed SimilarItems (recommend has "
                      "its own Recommendations); the old name will be removed in the next "
                      "release", DeprecationWarning, stacklevel=2)
        return SimilarItems
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
