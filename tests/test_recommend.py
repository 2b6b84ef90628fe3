"""dotwise.recommend: loaders, splits, baseline, matrix factorization, evaluation, fetch."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone

from dotwise import DataFormatError, NotFittedError, ShapeError
from dotwise.recommend import (
    BaselinePredictor,
    MatrixFactorization,
    Ratings,
    _als,
    cross_validate,
    fetch_movielens,
    kfold,
    load_ratings,
    predefined_splits,
    ranking_metrics,
    rmse_mae,
    train_test_split,
)
from dotwise.recommend.fetch import FetchError
from tests.conftest import shared_data_path


# ----------------------------------------------------------------- fixtures
def planted(n_users=60, n_items=40, rank=3, density=0.5, noise=0.0, seed=0, scale=None):
    """Ratings with a known low-rank structure: 3 + biases + P Qᵀ (+ noise)."""
    rng = np.random.default_rng(seed)
    P = rng.normal(0, 0.7, (n_users, rank))
    Q = rng.normal(0, 0.7, (n_items, rank))
    bu, bi = rng.normal(0, 0.3, n_users), rng.normal(0, 0.3, n_items)
    full = 3 + bu[:, None] + bi[None, :] + P @ Q.T
    u, i = np.nonzero(rng.random((n_users, n_items)) < density)
    r = full[u, i] + noise * rng.standard_normal(len(u))
    scale = scale or (float(r.min()) - 1, float(r.max()) + 1)
    return Ratings.from_arrays(u + 100, i + 1000, r, rating_scale=scale), full


@pytest.fixture
def ml100k_dir(tmp_path: Path) -> Path:
    d = tmp_path / "ml-100k"
    d.mkdir()
    rng = np.random.default_rng(3)
    lines = []
    pairs = set()
    while len(lines) < 200:
        u, i = int(rng.integers(1, 21)), int(rng.integers(1, 16))
        if (u, i) in pairs:
            continue
        pairs.add((u, i))
        lines.append(f"{u}\t{i}\t{int(rng.integers(1, 6))}\t{880000000 + len(lines)}")
    (d / "u.data").write_text("\n".join(lines) + "\n")
    (d / "u.genre").write_text("unknown|0\nAction|1\nComedy|2\n\n")
    items = [f"{i}|Movie {i} (199{i % 10})|01-Jan-1995||http://x|0|{i % 2}|{(i + 1) % 2}"
             for i in range(1, 16)]
    items[0] = "1|Café Society (1995)|01-Jan-1995||http://x|0|1|0"
    (d / "u.item").write_bytes("\n".join(items).encode("latin-1") + b"\n")
    for k in range(1, 6):
        test = lines[(k - 1) * 40:k * 40]
        base = [ln for ln in lines if ln not in test]
        (d / f"u{k}.base").write_text("\n".join(base) + "\n")
        (d / f"u{k}.test").write_text("\n".join(test) + "\n")
    return d


# ------------------------------------------------------------------ loaders
def test_load_ml100k_folder_with_titles_and_genres(ml100k_dir):
    r = load_ratings(ml100k_dir)
    assert len(r) == 200 and r.ratings.dtype == np.float32
    assert r.rating_scale == (1.0, 5.0)
    assert r.timestamps is not None and r.timestamps.dtype == np.int64
    assert r.titles[r.item_code(1)] == "Café Society (1995)"  # latin-1 decoded
    assert r.genres[r.item_code(2)] == ("Comedy",)
    assert r.genres[r.item_code(1)] == ("Action",)
    # codes index back to the original triples
    raw = np.loadtxt(ml100k_dir / "u.data", dtype=np.int64)
    assert np.array_equal(r.user_ids[r.user_codes], raw[:, 0])
    assert np.array_equal(r.item_ids[r.item_codes], raw[:, 1])
    assert np.array_equal(r.ratings, raw[:, 2].astype(np.float32))


def test_load_single_split_file_finds_titles_next_to_it(ml100k_dir):
    r = load_ratings(ml100k_dir / "u1.base")
    assert len(r) == 160
    assert r.find_item("café society (1995)") == r.item_code(1)


def test_load_ml1m_dat_format(tmp_path):
    d = tmp_path / "ml-1m"
    d.mkdir()
    (d / "ratings.dat").write_text("1::10::5::978300760\n1::20::3::978302109\n2::10::4::9783\n")
    (d / "movies.dat").write_bytes("10::Amélie (2001)::Comedy|Romance\n20::Heat (1995)::Action\n"
                                   .encode("latin-1"))
    r = load_ratings(d)
    assert (len(r), r.n_users, r.n_items) == (3, 2, 2)
    assert r.titles.tolist() == ["Amélie (2001)", "Heat (1995)"]
    assert r.genres[0] == ("Comedy", "Romance")
    assert r.timestamps.tolist() == [978300760, 978302109, 9783]


def test_load_ml_latest_csv_with_half_stars(tmp_path):
    d = tmp_path / "ml-latest-small"
    d.mkdir()
    (d / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,4.0,964982703\n"
                                   "1,3,4.5,964981247\n2,1,0.5,964982224\n")
    (d / "movies.csv").write_text('movieId,title,genres\n1,Toy Story (1995),Animation|Comedy\n'
                                  '3,"American President, The (1995)",Comedy|Drama|Romance\n')
    r = load_ratings(d)
    assert r.rating_scale == (0.5, 5.0)
    assert sorted(r.ratings.tolist()) == [0.5, 4.0, 4.5]
    assert r.titles[r.item_code(3)] == "American President, The (1995)"
    with pytest.raises(DataFormatError, match=r"rating 7 is outside the declared scale 0.5–5 "
                                              r"\(line 2 of"):
        (d / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,7,9\n")
        load_ratings(d)
    (d / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,4,9\n2,x,3,9\n")
    with pytest.raises(DataFormatError, match=r"ratings.csv, line 3: 'x' is not a number"):
        load_ratings(d)


def test_load_generic_csv_with_named_columns(tmp_path):
    f = tmp_path / "scores.csv"
    f.write_text("who,what,stars\nann,matrix,4\nbob,matrix,2\nann,alien,5\n")
    r = load_ratings(f, user_col="who", item_col="what", rating_col="stars")
    assert r.user_ids.tolist() == ["ann", "bob"] and r.item_ids.tolist() == ["alien", "matrix"]
    assert r.rating_scale == (2.0, 5.0)
    with pytest.raises(DataFormatError, match=r"no column named 'userId' or 'user_id' or 'user'.*user_col="):
        load_ratings(f, rating_col="stars", item_col="what")


def test_from_arrays_duplicates_policy():
    users, items, vals = [1, 1, 2, 1], [5, 6, 5, 5], [1.0, 2.0, 3.0, 5.0]
    with pytest.raises(DataFormatError, match=r"duplicate rating for user 1 and item 5 "
                                              r"\(index 3\).*duplicates='last'"):
        Ratings.from_arrays(users, items, vals)
    last = Ratings.from_arrays(users, items, vals, duplicates="last")
    assert len(last) == 3
    assert last.ratings[(last.user_codes == 0) & (last.item_codes == 0)].tolist() == [5.0]
    mean = Ratings.from_arrays(users, items, vals, duplicates="mean")
    assert mean.ratings[(mean.user_codes == 0) & (mean.item_codes == 0)].tolist() == [3.0]
    with pytest.raises(ValueError, match="duplicates must be one of"):
        Ratings.from_arrays(users, items, vals, duplicates="first")


def test_from_arrays_bad_input():
    with pytest.raises(ShapeError, match="same length: got users 2, items 1, ratings 2"):
        Ratings.from_arrays([1, 2], [1], [3, 4])
    with pytest.raises(ValueError, match="ratings is empty"):
        Ratings.from_arrays([], [], [])
    with pytest.raises(DataFormatError, match=r"rating 6 is outside the declared scale 1–5 "
                                              r"\(index 1\)"):
        Ratings.from_arrays([1, 2], [1, 1], [5, 6], rating_scale=(1, 5))


def test_loader_errors_name_the_line(ml100k_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file or folder.*fetch movielens-100k"):
        load_ratings(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="holds no ratings file"):
        load_ratings(tmp_path)
    bad = tmp_path / "bad.data"
    bad.write_text("1\t2\t3\t4\n1\t3\tfive\t5\n")
    with pytest.raises(DataFormatError, match=r"line 2: 'five' is not a number"):
        load_ratings(bad)
    short = tmp_path / "short.data"
    short.write_text("1\t2\t3\n4\t5\n")
    with pytest.raises(DataFormatError, match=r"line 2: expected at least 3 fields"):
        load_ratings(short)
    out = tmp_path / "out.data"
    out.write_text("1\t2\t3\t4\n1\t3\t9\t5\n")
    with pytest.raises(DataFormatError, match=r"rating 9 is outside the declared scale 1–5 "
                                              r"\(line 2 of"):
        load_ratings(out)
    empty = tmp_path / "empty.data"
    empty.write_text("")
    with pytest.raises(DataFormatError, match="is empty"):
        load_ratings(empty)
    dup = tmp_path / "dup.data"
    dup.write_text("1\t2\t3\t4\n1\t3\t4\t5\n1\t2\t5\t6\n")
    with pytest.raises(DataFormatError, match=r"duplicate rating for user 1 and item 2 \(line 3"):
        load_ratings(dup)
    assert len(load_ratings(dup, duplicates="last")) == 2


def test_unknown_title_and_user_suggest_close_matches(ml100k_dir):
    r = load_ratings(ml100k_dir)
    with pytest.raises(KeyError, match=r"unknown movie 'Cafe Society \(1995\)'; did you mean: "
                                       r"'Café Society \(1995\)'"):
        r.find_item("Cafe Society (1995)")
    with pytest.raises(KeyError, match=r"unknown user 210; did you mean: '20', '10', '2'"):
        r.user_code(210)


# ------------------------------------------------------------------- splits
def test_train_test_split_and_kfold_partition_the_ratings():
    data, _ = planted(seed=1)
    n = len(data)
    train, test = train_test_split(data, 0.25, random_state=0)
    key = lambda d: set(zip(d.user_codes.tolist(), d.item_codes.tolist(), strict=False))  # noqa: E731
    assert len(test) == int(np.ceil(0.25 * n)) and len(train) + len(test) == n
    assert key(train).isdisjoint(key(test)) and key(train) | key(test) == key(data)
    assert train.user_ids is data.user_ids  # same id maps
    seen = []
    for tr, te in kfold(data, 4, random_state=7):
        assert key(tr).isdisjoint(key(te)) and len(tr) + len(te) == n
        seen += list(key(te))
    assert sorted(seen) == sorted(key(data))  # every rating tested exactly once
    again = [len(te) for _, te in kfold(data, 4, random_state=7)]
    assert max(again) - min(again) <= 1
    with pytest.raises(ValueError, match="test_size must be a fraction in"):
        train_test_split(data, 1.5)
    with pytest.raises(ValueError, match="n_splits must be >= 2"):
        next(kfold(data, 1))
    with pytest.raises(TypeError, match="ratings must be a Ratings object"):
        train_test_split(np.zeros((3, 3)))


def test_predefined_splits_match_the_files(ml100k_dir):
    splits = predefined_splits(ml100k_dir)
    assert len(splits) == 5
    full = load_ratings(ml100k_dir)
    for k, (train, test) in enumerate(splits, start=1):
        assert (len(train), len(test)) == (160, 40)
        raw = np.loadtxt(ml100k_dir / f"u{k}.test", dtype=np.int64)
        got = sorted(zip(full.user_ids[test.user_codes].tolist(),
                         full.item_ids[test.item_codes].tolist(), test.ratings.tolist(), strict=False))
        assert got == sorted(zip(raw[:, 0].tolist(), raw[:, 1].tolist(),
                                 raw[:, 2].astype(float).tolist(), strict=False))
    with pytest.raises(ValueError, match="which must be one of"):
        predefined_splits(ml100k_dir, "uc")


# ------------------------------------------------------------------- models
@pytest.mark.parametrize("engine", ["compiled", "numpy"])
def test_batched_als_step_matches_independent_ridge_solves(rng, engine, monkeypatch):
    from dotwise.recommend import _compiled

    if engine == "numpy":
        monkeypatch.setattr(_compiled, "LIB", None)
    elif not _compiled.available():
        pytest.skip("the compiled loops (dotwise._dwrec) are not built")
    n_users, n_items, d = 30, 12, 4
    u, i = np.nonzero(rng.random((n_users, n_items)) < 0.4)
    Z = rng.standard_normal((n_items, d))
    y = rng.standard_normal(len(u))
    diag = rng.uniform(0.1, 2.0, (n_users, d))
    X, rss = _als.solve_side(_als.group(u, i, n_users, n_items, d), Z, y, diag)
    for e in range(n_users):
        rows = np.flatnonzero(u == e)
        if rows.size == 0:
            assert not X[e].any() and rss[e] == 0
            continue
        # the ridge problem as a stacked least-squares problem: [Z; sqrt(D)] x ≈ [y; 0]
        A = np.vstack([Z[i[rows]], np.diag(np.sqrt(diag[e]))])
        b = np.concatenate([y[rows], np.zeros(d)])
        expected = np.linalg.lstsq(A, b, rcond=None)[0]
        np.testing.assert_allclose(X[e], expected, rtol=1e-9, atol=1e-11)
        resid = y[rows] - Z[i[rows]] @ expected
        np.testing.assert_allclose(rss[e], resid @ resid, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("biased,weighted,implicit", [
    (True, True, False), (True, False, False), (False, True, False), (True, True, True),
    (False, False, True)])
def test_als_objective_never_increases(biased, weighted, implicit):
    data, _ = planted(noise=0.3, seed=2)
    model = MatrixFactorization(5, reg=0.05, reg_bias=1.0, n_epochs=15, biased=biased,
                                reg_exponent=1.0 if weighted else 0.0, implicit=implicit,
                                neighbors=0, random_state=3).fit(data)
    loss = np.asarray(model.loss_history_)
    assert len(loss) == 15
    assert np.all(np.diff(loss) <= 1e-12 * loss[:-1]), np.diff(loss).max()
    # the recorded training RMSE is the model's own
    resid = data.ratings - model._raw_codes(data.user_codes.astype(int),
                                            data.item_codes.astype(int))
    np.testing.assert_allclose(model.train_rmse_history_[-1], np.sqrt(np.mean(resid ** 2)),
                               rtol=1e-6)


def test_recovers_a_planted_low_rank_matrix():
    data, full = planted(n_users=80, n_items=60, rank=3, density=0.5, seed=4)
    train, test = train_test_split(data, 0.2, random_state=0)
    model = MatrixFactorization(3, reg=1e-3, reg_bias=1e-4, n_epochs=60, neighbors=0,
                                random_state=0)
    model.fit(train)
    pred = model._raw_codes(test.user_codes.astype(int), test.item_codes.astype(int))
    rmse, _ = rmse_mae(test.ratings, pred)
    spread = float(np.std(test.ratings))
    assert rmse < 0.02 * spread, (rmse, spread)
    baseline = BaselinePredictor(reg_user=0, reg_item=0).fit(train)
    assert rmse < 0.1 * rmse_mae(test.ratings, baseline.predict(
        test.user_ids[test.user_codes], test.item_ids[test.item_codes]))[0]


@pytest.mark.parametrize("implicit", [False, True])
def test_fold_in_equals_the_refit_user_vector(implicit):
    data, _ = planted(noise=0.2, seed=5)
    model = MatrixFactorization(4, reg=0.05, n_epochs=8, implicit=implicit,
                                random_state=0).fit(data)
    for user in (100, 117, 141):
        code = data.user_code(user)
        rows = data.user_codes == code
        mine = dict(zip(data.item_ids[data.item_codes[rows]].tolist(),
                        data.ratings[rows].tolist(), strict=False))
        p, b = model.fold_in_vector(mine)
        np.testing.assert_allclose(p, model.user_vector(user), rtol=1e-6, atol=1e-8)
        assert np.any(model.user_implicit_[code]) == implicit
        np.testing.assert_allclose(b, model.user_bias_[code], rtol=1e-6, atol=1e-8)
    recs = model.fold_in({1000: 5, 1003: 1}, n=5)
    assert len(recs) == 5 and not {1000, 1003} & set(recs.item_ids.tolist())
    assert recs.user_factors.shape == (4,)
    with pytest.raises(ValueError, match="outside the scale"):
        model.fold_in({1000: 99})
    with pytest.raises(ValueError, match="empty"):
        model.fold_in({})


def test_predictions_in_range_and_fallback_for_unknown_ids():
    data, _ = planted(noise=0.5, seed=6)
    data = Ratings.from_arrays(data.user_ids[data.user_codes], data.item_ids[data.item_codes],
                               np.clip(data.ratings, 1, 5), rating_scale=(1, 5))
    model = MatrixFactorization(6, reg=0.001, n_epochs=10, random_state=0).fit(data)
    users = np.repeat(data.user_ids, data.n_items)
    items = np.tile(data.item_ids, data.n_users)
    pred = model.predict(users, items)
    assert pred.min() >= 1 and pred.max() <= 5
    mu, bu, bi = model.global_mean_, model.user_bias_, model.item_bias_
    assert model.predict([999999], [1000])[0] == pytest.approx(np.clip(mu + bi[0], 1, 5))
    assert model.predict([100], [-5])[0] == pytest.approx(np.clip(mu + bu[0], 1, 5))
    assert model.predict([999999], [-5])[0] == pytest.approx(mu)


def test_deterministic_with_random_state():
    data, _ = planted(noise=0.3, seed=7)
    a = MatrixFactorization(4, n_epochs=3, random_state=11).fit(data)
    b = MatrixFactorization(4, n_epochs=3, random_state=11).fit(data)
    c = MatrixFactorization(4, n_epochs=3, random_state=12).fit(data)
    assert np.array_equal(a.user_factors_, b.user_factors_)
    assert not np.array_equal(a.user_factors_, c.user_factors_)
    s1 = MatrixFactorization(4, method="sgd", n_epochs=2, random_state=1).fit(data)
    s2 = MatrixFactorization(4, method="sgd", n_epochs=2, random_state=1).fit(data)
    assert np.array_equal(s1.item_factors_, s2.item_factors_)


def test_sgd_learns_the_same_objective():
    data, _ = planted(noise=0.2, seed=8)
    train, test = train_test_split(data, 0.2, random_state=0)
    sgd = MatrixFactorization(3, method="sgd", reg=0.01, reg_bias=0.1, learning_rate=0.02,
                              batch_size=32, n_epochs=60, random_state=0).fit(train)
    assert sgd.loss_history_[-1] < 0.5 * sgd.loss_history_[0]
    base = BaselinePredictor().fit(train)
    tu, ti = test.user_codes.astype(int), test.item_codes.astype(int)
    assert rmse_mae(test.ratings, sgd._predict_codes(tu, ti))[0] < \
        rmse_mae(test.ratings, base._predict_codes(tu, ti))[0]


def test_bad_hyper_parameters_and_inputs():
    data, _ = planted(seed=9)
    with pytest.raises(ValueError, match="n_factors must be >= 1, got 0"):
        MatrixFactorization(0).fit(data)
    with pytest.raises(ValueError, match="method must be one of 'als', 'sgd'; got 'svd'"):
        MatrixFactorization(method="svd").fit(data)
    with pytest.raises(ValueError, match="reg must be a finite number > 0"):
        MatrixFactorization(reg=0).fit(data)
    with pytest.raises(ValueError, match="implicit=True needs method='als'"):
        MatrixFactorization(method="sgd", implicit=True).fit(data)
    with pytest.raises(ValueError, match="ratings is empty"):
        MatrixFactorization().fit(np.zeros((0, 3)))
    with pytest.raises(ShapeError, match=r"\(n, 3\) array.*shape \(4, 2\)"):
        MatrixFactorization().fit(np.zeros((4, 2)))
    with pytest.raises(NotFittedError, match="MatrixFactorization instance is not fitted"):
        MatrixFactorization().predict([1], [2])
    model = MatrixFactorization(2, n_epochs=2, random_state=0).fit(data)
    with pytest.raises(KeyError, match="unknown user 5"):
        model.recommend(5)
    with pytest.raises(ShapeError, match="same length"):
        model.predict([100, 101, 102], [1000, 1001])


def test_array_input_and_sklearn_clone():
    data, _ = planted(seed=10)
    arr = np.column_stack([data.user_ids[data.user_codes], data.item_ids[data.item_codes],
                           data.ratings])
    a = MatrixFactorization(3, n_epochs=3, random_state=0).fit(arr)
    b = clone(a).fit(data)
    np.testing.assert_allclose(a.predict([100, 101], [1000, 1001]),
                               b.predict([100, 101], [1000, 1001]), rtol=1e-5)
    assert clone(a).get_params()["n_factors"] == 3


@pytest.mark.parametrize("implicit", [False, True])
def test_recommend_similar_and_explain(implicit):
    data, _ = planted(noise=0.2, seed=11)
    model = MatrixFactorization(4, reg=0.05, n_epochs=10, implicit=implicit,
                                random_state=0).fit(data)
    user = 105
    recs = model.recommend(user, n=5)
    rated = set(data.item_ids[data.item_codes[data.user_codes == data.user_code(user)]].tolist())
    assert len(recs) == 5 and not rated & set(recs.item_ids.tolist())
    assert np.all(np.diff(recs.scores) <= 1e-12)
    all_items = model.recommend(user, n=1000, exclude_seen=False)
    assert len(all_items) == data.n_items
    sim = model.similar_items(1000, n=3)
    Q = model.item_factors_
    cos = Q @ Q[0] / (np.linalg.norm(Q, axis=1) * np.linalg.norm(Q[0]))
    cos[0] = -np.inf
    assert sim.item_ids.tolist() == data.item_ids[np.argsort(-cos)[:3]].tolist()
    np.testing.assert_allclose(sim.scores, np.sort(cos)[::-1][:3], rtol=1e-10)
    ex = model.explain(user, 1001, top=1000)
    assert ex.prediction == pytest.approx(model.predict([user], [1001])[0])
    total = sum(c[3] for c in ex.contributions)
    assert total == pytest.approx(ex.user_bias + ex.dot, rel=1e-6, abs=1e-9)
    assert abs(ex.contributions[0][3]) >= abs(ex.contributions[-1][3])


# --------------------------------------------------------------- baseline
def test_baseline_loss_monotone_and_matches_surprise():
    data, _ = planted(noise=0.5, seed=12, scale=(-10, 20))
    base = BaselinePredictor(n_epochs=10).fit(data)
    assert np.all(np.diff(base.loss_history_) <= 1e-12)
    surprise = pytest.importorskip("surprise")
    reader = surprise.Reader(rating_scale=data.rating_scale)
    raw = [(str(u), str(i), float(r), None) for u, i, r in
           zip(data.user_ids[data.user_codes], data.item_ids[data.item_codes], data.ratings, strict=False)]
    ds = surprise.Dataset(reader)
    trainset = ds.construct_trainset(raw)
    algo = surprise.BaselineOnly(bsl_options={"method": "als", "reg_u": 15, "reg_i": 10,
                                              "n_epochs": 10}, verbose=False).fit(trainset)
    for u, i, _, _ in raw[:50]:
        expected = algo.predict(u, i).est
        assert base.predict([int(u)], [int(i)])[0] == pytest.approx(expected, rel=1e-6)


# --------------------------------------------------------------- evaluation
def test_rmse_mae_and_ranking_metrics_on_a_known_case():
    assert rmse_mae([1, 2, 3], [1, 2, 5]) == pytest.approx((np.sqrt(4 / 3), 2 / 3))
    with pytest.raises(ValueError, match="same length"):
        rmse_mae([1, 2], [1])
    # items 10, 20, 30, 40 get the fixed scores 0, 4, 3, 2; user 3 only makes
    # 20, 30, 40 known to the model; users 1 and 2 rated item 10 in training.
    train = Ratings.from_arrays([1, 2, 3, 3, 3], [10, 10, 20, 30, 40], [3, 3, 4, 4, 4],
                                rating_scale=(1, 5))
    test = Ratings.from_arrays([1, 1, 2, 2, 2, 3], [20, 30, 20, 30, 40, 10], [5, 2, 1, 5, 5, 2],
                               rating_scale=(1, 5))
    assert train.item_ids.tolist() == test.item_ids.tolist() == [10, 20, 30, 40]

    class Fixed:
        def _raw_codes(self, uc, ic):
            return np.array([0.0, 4.0, 3.0, 2.0])[ic]

    one = ranking_metrics(Fixed(), train, test, k=1)
    # user 1: top-1 = 20 (rated 5, relevant) → hit; user 2: top-1 = 20 (rated 1) → miss;
    # user 3 has no relevant held-out rating and is not counted.
    assert one == pytest.approx({"precision@1": 0.5, "recall@1": 0.5, "ndcg@1": 0.5, "users": 2})
    two = ranking_metrics(Fixed(), train, test, k=2)
    # user 2's top-2 = (20, 30): a hit at rank 2 of 2 relevant items.
    ndcg2 = (1 / np.log2(3)) / (1 + 1 / np.log2(3))
    assert two == pytest.approx({"precision@2": 0.5, "recall@2": (1 + 0.5) / 2,
                                 "ndcg@2": (1 + ndcg2) / 2, "users": 2})


def test_cross_validate_reports_every_fold():
    data, _ = planted(noise=0.3, seed=13, scale=(-10, 20))
    folds = []
    cv = cross_validate(MatrixFactorization(3, n_epochs=5, random_state=0), data, 3,
                        random_state=0, on_fold=folds.append)
    assert len(cv.folds) == 3 == len(folds)
    assert sum(f.n_test for f in cv.folds) == len(data)
    assert cv.mean("rmse") < cross_validate(BaselinePredictor(), data, 3, random_state=0,
                                            ranking=False).mean("rmse")
    assert 0 <= cv.mean("precision@10") <= 1 and 0 <= cv.mean("ndcg@10") <= 1
    assert "RMSE" in repr(cv)


# -------------------------------------------------------------------- fetch
def _zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("ml-100k/u.data", "1\t1\t5\t874965758\n1\t2\t3\t876893171\n2\t1\t4\t878542960\n")
        z.writestr("ml-100k/u.item", "1|Toy Story (1995)|x||u|0\n2|GoldenEye (1995)|x||u|0\n")
    return buf.getvalue()


@pytest.fixture
def zip_server():
    payload = _zip_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/ml-100k.zip":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hashlib.sha256(payload).hexdigest()
    server.shutdown()
    server.server_close()


def test_fetch_downloads_verifies_and_unpacks(zip_server, tmp_path, monkeypatch):
    base, digest = zip_server
    seen = []
    path = fetch_movielens("movielens-100k", tmp_path, url=f"{base}/ml-100k.zip", sha256=digest,
                           progress=lambda done, total: seen.append((done, total)))
    assert path == tmp_path / "ml-100k"
    r = load_ratings(path)
    assert len(r) == 3 and r.titles[0] == "Toy Story (1995)"
    assert seen and seen[-1][0] == seen[-1][1]
    assert not list(tmp_path.glob(".download-*"))
    with pytest.raises(FileExistsError, match="already exists"):
        fetch_movielens("movielens-100k", tmp_path, url=f"{base}/ml-100k.zip", sha256=digest)
    monkeypatch.setenv("DOTWISE_MOVIELENS_URL", f"{base}/ml-100k.zip")
    again = fetch_movielens("movielens-100k", tmp_path / "env", sha256=digest)
    assert (again / "u.data").exists()


def test_fetch_rejects_bad_checksum_http_errors_and_offline(zip_server, tmp_path):
    base, _ = zip_server
    with pytest.raises(FetchError, match="checksum mismatch.*nothing was unpacked"):
        fetch_movielens("movielens-100k", tmp_path, url=f"{base}/ml-100k.zip")
    assert not (tmp_path / "ml-100k").exists()
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch_movielens("movielens-100k", tmp_path, url=f"{base}/missing.zip")
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    with pytest.raises(FetchError, match="Are you offline"):
        fetch_movielens("movielens-100k", tmp_path, url=f"http://127.0.0.1:{closed_port}/x.zip",
                        timeout=5)
    with pytest.raises(ValueError, match="name must be one of 'movielens-100k'"):
        fetch_movielens("movielens-1b", tmp_path)
    assert not list(tmp_path.iterdir())


# ---------------------------------------------------------------- real data
def test_real_ml100k_loads_and_beats_the_baseline():
    path = shared_data_path("movielens-100k")
    r = load_ratings(path)
    assert (len(r), r.n_users, r.n_items) == (100000, 943, 1682)
    assert r.titles[r.item_code(50)] == "Star Wars (1977)"
    (train, test), = predefined_splits(path, "ua")
    assert len(test) == 9430 and len(train) == 90570
    model = MatrixFactorization(16, n_epochs=6, random_state=0).fit(train)
    tu, ti = test.user_codes.astype(int), test.item_codes.astype(int)
    mf = rmse_mae(test.ratings, model._predict_codes(tu, ti))[0]
    base = rmse_mae(test.ratings, BaselinePredictor().fit(train)._predict_codes(tu, ti))[0]
    assert mf < base < 1.0, (mf, base)
    similar = model.similar_items("Star Wars (1977)", n=5, min_ratings=50).titles
    assert "Return of the Jedi (1983)" in similar or "Empire Strikes Back, The (1980)" in similar


def test_integer_id_lookup_matches_the_dictionary_path():
    """Integer ids are found by a vectorised binary search; strings by the dictionary."""
    from dotwise.recommend._common import id_codes

    data = Ratings.from_arrays([10, 3, 7, 3], [5, 9, 5, 2], [1.0, 2.0, 3.0, 4.0])
    users = np.array([3, 7, 10, 11, -1, 3])
    items = np.array([2, 5, 9, 4, 5, 99])
    fast = id_codes(data, users, items)
    slow = id_codes(data, users.astype(str), items.astype(str))
    for got, ref, ids, asked in zip(fast, slow, (data.user_ids, data.item_ids), (users, items),
                                    strict=True):
        np.testing.assert_array_equal(got, ref)
        known = got >= 0
        np.testing.assert_array_equal(ids[got[known]], asked[known])
        assert not np.isin(asked[~known], ids).any()
