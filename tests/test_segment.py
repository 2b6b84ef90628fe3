"""The segmentation workflow: profiles that name the features a segment stands out on,
the synthetic customer table, the map file, and MovieLens viewers when the data is there."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from dotwise.models import KMeans, customer_table, segment
from dotwise.models.segment import segment_viewers
from tests.conftest import shared_data_path


def _constructed_table(n_per=200, seed=0):
    """Three groups: one spends a lot, one visits often, one is average on both."""
    rng = np.random.default_rng(seed)
    spend = np.concatenate([rng.normal(200, 10, n_per), rng.normal(50, 10, n_per),
                            rng.normal(50, 10, n_per)])
    visits = np.concatenate([rng.normal(2, 0.5, n_per), rng.normal(12, 0.5, n_per),
                             rng.normal(2, 0.5, n_per)])
    noise = rng.normal(0, 1, 3 * n_per)
    truth = np.repeat([0, 1, 2], n_per)
    return {"spend": spend, "visits": visits, "noise": noise}, truth


def test_profile_wording_names_the_distinguishing_features():
    table, truth = _constructed_table()
    result = segment(table, ["spend", "visits", "noise"], k=3, pca=None)
    assert adjusted_rand_score(result.labels, truth) > 0.95
    by_truth = {int(np.bincount(result.labels[truth == g]).argmax()): g for g in range(3)}
    for seg, group in by_truth.items():
        prof = result.profiles[seg]
        if group == 0:      # the big spenders
            assert prof.distinctive[0] == "spend" and prof.z["spend"] > 1
            assert "high spend" in prof.description
            assert "noise" not in prof.distinctive
        elif group == 1:    # the frequent visitors
            assert prof.distinctive[0] == "visits" and prof.z["visits"] > 1
            assert "high visits" in prof.description
        else:               # low on both
            assert set(prof.distinctive) <= {"spend", "visits"}
            assert "low" in prof.description
    # z-scores are those of the segment means
    X = np.column_stack([table["spend"], table["visits"], table["noise"]])
    for s, prof in enumerate(result.profiles):
        m = X[result.labels == s].mean(axis=0)
        np.testing.assert_allclose(result.z_scores[s], (m - X.mean(0)) / X.std(0))
        assert prof.size == int((result.labels == s).sum())
    assert sum(p.share for p in result.profiles) == pytest.approx(1.0)
    sizes = result.sizes
    assert np.all(np.diff(sizes) <= 0), "segments are numbered by decreasing size"


def test_an_average_segment_says_so():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 2))
    result = segment(X, ["a", "b"], k=1)
    assert "close to the average" in result.profiles[0].description
    assert result.profiles[0].name == "average"


def test_synthetic_customer_table_is_seeded_and_recovered():
    a, b = customer_table(1500, random_state=3), customer_table(1500, random_state=3)
    for col in a:
        np.testing.assert_array_equal(a[col], b[col])
    assert not np.array_equal(a["income"], customer_table(1500, random_state=4)["income"])
    assert 0 <= a["online_share"].min() and a["online_share"].max() <= 1
    result = segment(a, k=5, unit="customers")
    assert "customer_id" not in result.feature_names and "persona" not in result.feature_names
    assert adjusted_rand_score(a["persona"], result.labels) > 0.8
    text = str(result)
    assert text.startswith("5 segments of 1500 customers")
    assert text.count("Segment ") == 5


def test_pca_option_and_the_map(tmp_path):
    table = customer_table(800, random_state=0)
    result = segment(table, k=4, pca=2)
    assert result.n_pca == 2 and result.model.cluster_centers_.shape == (4, 2)
    assert result.map.shape == (800, 2)
    assert 0 < result.map_variance.sum() <= 1
    # the map is the first two principal axes of the standardised features
    X = np.column_stack([table[f] for f in result.feature_names])
    Z = (X - X.mean(0)) / X.std(0)
    cov_eig = np.sort(np.linalg.eigvalsh(np.cov(Z.T)))[::-1]
    np.testing.assert_allclose(result.map.var(axis=0, ddof=1), cov_eig[:2], rtol=1e-8)
    path = tmp_path / "map.png"
    result.save_map(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob(".*.tmp"))
    d = result.to_dict()
    assert d["k"] == 4 and len(d["segments"]) == 4 and len(d["labels"]) == 800


def test_segment_equals_kmeans_on_the_standardised_table():
    table, _ = _constructed_table(seed=2)
    result = segment(table, ["spend", "visits"], k=3, n_init=4, random_state=5)
    X = np.column_stack([table["spend"], table["visits"]])
    km = KMeans(3, n_init=4, random_state=5).fit((X - X.mean(0)) / X.std(0))
    assert adjusted_rand_score(km.labels_, result.labels) == 1.0
    assert result.inertia == pytest.approx(km.inertia_)


def test_errors_name_the_argument():
    table, _ = _constructed_table(20)
    with pytest.raises(KeyError, match="features: no column 'price'.*spend, visits, noise"):
        segment(table, ["spend", "price"])
    with pytest.raises(ValueError, match="k must be between 1 and the number of rows"):
        segment(table, k=1000)
    with pytest.raises(ValueError, match="pca must be <= the number of features \\(2\\)"):
        segment(table, ["spend", "visits"], pca=3)
    with pytest.raises(ValueError, match="feature 'flat' is constant"):
        segment({**table, "flat": np.ones(60)}, ["spend", "flat"])
    with pytest.raises(ValueError, match="features names 'spend' more than once"):
        segment(table, "spend,spend")
    with pytest.raises(TypeError, match="column 'kind' is not numeric"):
        segment({**table, "kind": np.array(["a"] * 60)}, ["spend", "kind"])
    with pytest.raises(ValueError, match="finite"):
        segment(np.array([[1.0, np.nan], [2.0, 3.0], [0.0, 1.0]]), k=2)
    with pytest.raises(TypeError, match="ratings must be a dotwise.recommend.Ratings"):
        segment_viewers(np.zeros((3, 3)))


def test_movielens_viewers_are_described_by_genres():
    from dotwise.recommend import load_ratings

    ratings = load_ratings(shared_data_path("movielens-100k"))
    result = segment_viewers(ratings, k=5, n_factors=16, n_epochs=6)
    assert len(result.user_ids) == ratings.n_users == 943
    assert len(result.descriptions) == 5
    assert "Drama" in result.genres and "unknown" not in result.genres
    # the lift is the segment's mean rating of a genre minus everyone's: check one cell
    s, g = 0, result.genres.index("Drama")
    seg_users = set(np.flatnonzero(result.segmentation.labels == s).tolist())
    is_drama = np.array(["Drama" in ratings.genres[i] for i in ratings.item_codes])
    in_seg = np.array([u in seg_users for u in ratings.user_codes])
    expected = ratings.ratings[is_drama & in_seg].mean() - ratings.ratings[is_drama].mean()
    assert result.genre_lift[s, g] == pytest.approx(expected, abs=1e-6)
    assert int(result.genre_counts[s, g]) == int((is_drama & in_seg).sum())
    assert all(d.startswith(f"Segment {i} — ") and "above the average viewer" in d
               for i, d in enumerate(result.descriptions))
