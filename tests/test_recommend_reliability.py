"""dotwise.recommend regression tests: ids, sizes, encodings, one vocabulary, honest explanations.

Issue 14 (ids parsed as integers, float32 overflow, sizes refused before allocating, the
project's error types for bad files and arguments), issue 13 (the explanation adds up, a fast
top-N evaluation that reports its time, errors that name titles and valid ids, options checked
before training) and issue 15 (``k`` / ``exclude_seen`` everywhere, the old spellings working
with a ``DeprecationWarning``, names distinct from dotwise.search's).
"""

from __future__ import annotations

import os
import re
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import dotwise.recommend as rec
from dotwise import DataFormatError
from dotwise.cli import get_app
from dotwise.cli.recommend import rounded_parts
from dotwise.recommend import (
    BaselinePredictor,
    MatrixFactorization,
    RankedItems,
    RatingExplanation,
    Ratings,
    cross_validate,
    load_ratings,
    ranking_metrics,
    train_test_split,
)
from tests.conftest import shared_data_path
from tests.test_recommend import ml100k_dir  # noqa: F401 - fixture

runner = CliRunner()


def invoke(*args):
    return runner.invoke(get_app(), ["recommend", *map(str, args)])


def noisy(n_users=40, n_items=25, seed=0, density=0.45):
    rng = np.random.default_rng(seed)
    P, Q = rng.normal(0, 0.8, (n_users, 2)), rng.normal(0, 0.8, (n_items, 2))
    u, i = np.nonzero(rng.random((n_users, n_items)) < density)
    r = np.clip(np.rint(3 + (P @ Q.T)[u, i] + rng.normal(0, 0.6, len(u))), 1, 5)
    return Ratings.from_arrays(u + 1, i + 1, r, rating_scale=(1, 5))


@pytest.fixture(scope="module")
def fitted():
    data = noisy()
    return data, MatrixFactorization(3, reg=0.05, n_epochs=8, random_state=0).fit(data)


# ------------------------------------------------------- ids are integers
@pytest.mark.parametrize("bad,problem", [
    ("1.9", "user id '1.9' is not an integer"), ("nan", "user id 'nan' is not an integer"),
    ("1e30", "user id '1e30' is not an integer"), ("inf", "user id 'inf' is not an integer"),
    (str(2 ** 63), f"user id '{2 ** 63}' is outside the 64-bit integer range"),
    ("x", "'x' is not a number")])
def test_movielens_ids_must_be_integers(tmp_path, bad, problem):
    path = tmp_path / "u.data"
    path.write_text(f"1\t2\t3\t4\n{bad}\t2\t3\t5\n")
    with pytest.raises(DataFormatError, match=re.escape(f"u.data, line 2: {problem}")):
        load_ratings(path)
    csv = tmp_path / "ratings.csv"
    csv.write_text(f"userId,movieId,rating,timestamp\n1,1,4,9\n3,{bad},3,9\n")
    with pytest.raises(DataFormatError, match=re.escape(
            f"ratings.csv, line 3: {problem.replace('user id', 'item id')}")):
        load_ratings(csv)


def test_large_ids_stay_distinct(tmp_path):
    big = 2 ** 53
    path = tmp_path / "u.data"
    path.write_text(f"{big}\t2\t3\t4\n{big + 1}\t2\t4\t5\n{2 ** 63 - 1}\t2\t5\t6\n")
    r = load_ratings(path)
    assert r.user_ids.tolist() == [big, big + 1, 2 ** 63 - 1]
    assert r.user_code(big + 1) == 1 and r.ratings[r.user_codes == 1].tolist() == [4.0]
    # an integer array for fit keeps its ids exact too (no detour through float64)
    arr = np.array([[big, 1, 3], [big + 1, 1, 5]], dtype=np.int64)
    model = MatrixFactorization(2, n_epochs=1, neighbors=0, random_state=0).fit(arr)
    assert model.ratings_.n_users == 2
    # a generic CSV whose ids do not fit int64 keeps them as text, distinct
    gen = tmp_path / "scores.csv"
    gen.write_text(f"user,item,rating\n{2 ** 64},a,4\n{2 ** 64 + 1},a,5\n")
    assert load_ratings(gen).n_users == 2


def test_float_ids_from_arrays():
    r = Ratings.from_arrays([1.9, 1.0], [1, 1], [3, 4])
    assert r.n_users == 2                                   # 1.9 is not merged into 1
    assert Ratings.from_arrays([3.0, 1.0], [1, 1], [3, 4]).user_ids.dtype == np.int64
    with pytest.raises(DataFormatError, match=r"user id nan is not a finite number \(index 0\)"):
        Ratings.from_arrays([np.nan, 1.0], [1, 2], [3, 4])
    with pytest.raises(DataFormatError, match=r"item id inf is not a finite number \(index 1\)"):
        Ratings.from_arrays([1, 2], [1.0, np.inf], [3, 4])
    huge = Ratings.from_arrays([1e30, 1.0], [1, 2], [3, 4])
    assert huge.user_ids.dtype.kind == "f" and huge.user_ids.tolist() == [1.0, 1e30]


# ------------------------------------------------ float32 after the check
def test_rating_too_large_for_float32(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text("user,item,rating\na,1,4\nb,1,1e39\n")
    with pytest.raises(DataFormatError, match=r"rating 1e\+39 is too large to store "
                                              r"\(line 3 of .*scores.csv\).*float32"):
        load_ratings(path)
    with pytest.raises(DataFormatError, match=r"too large to store \(index 1\)"):
        Ratings.from_arrays([1, 2], [1, 1], [3, 1e39])
    stored = Ratings.from_arrays([1, 2], [1, 1], [3, 3e38])
    assert np.isfinite(stored.ratings).all()


# --------------------------------------------------------- sizes refused
def test_absurd_factor_counts_are_refused_before_allocating():
    data = noisy()
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"MatrixFactorization\(n_factors=1000000000\) would "
                                         r"need about [\d.]+ PiB of memory.*fewer factors"):
        MatrixFactorization(10 ** 9).fit(data)
    assert time.perf_counter() - start < 5


def test_memory_estimate_uses_the_data_size(monkeypatch):
    import dotwise.recommend._common as common

    monkeypatch.setattr(common, "available_memory", lambda: 8 << 20)  # 8 MiB
    items = np.arange(1500)
    wide = Ratings.from_arrays(items % 6, items, 1 + items % 5)     # 6 users, 1500 items
    with pytest.raises(ValueError, match=r"n_factors=4\) for 6 users × 1500 items would need "
                                         r"about [\d.]+ MiB of memory and about 8.0 MiB"):
        MatrixFactorization(4).fit(wide)
    MatrixFactorization(4, neighbors=0, n_epochs=1).fit(wide)    # no neighbour lists: fits
    monkeypatch.setattr(common, "available_memory", lambda: None)  # unknown: only absurd sizes
    MatrixFactorization(4, n_epochs=1).fit(wide)


def test_small_solve_stacks_give_the_same_model(monkeypatch):
    """A stack smaller than one batch (thousands of factors) used to fail with a shape error."""
    from dotwise.recommend import _als

    data = noisy(seed=5)
    ref = MatrixFactorization(3, n_epochs=3, neighbors=0, random_state=0).fit(data)
    monkeypatch.setattr(_als, "_SOLVE_ELEMENTS", 1)
    small = MatrixFactorization(3, n_epochs=3, neighbors=0, random_state=0).fit(data)
    np.testing.assert_allclose(small.user_factors_, ref.user_factors_, rtol=1e-10, atol=1e-12)


def test_cli_refuses_absurd_factors(ml100k_dir):  # noqa: F811
    result = invoke("top", ml100k_dir, "--user", "3", "--factors", "1000000000")
    assert result.exit_code == 2, result.output
    assert "error:" in result.output and "would need about" in result.output
    assert "Traceback" not in result.output


# ------------------------------------------------- files and arguments
def test_non_utf8_csv_files(tmp_path):
    d = tmp_path / "ml-latest"
    d.mkdir()
    (d / "ratings.csv").write_bytes("userId,movieId,rating\n1,1,4\n\xe9,2,3\n".encode("latin-1"))
    with pytest.raises(DataFormatError, match=r"ratings.csv, line 3: byte 0xe9 is not valid "
                                              r"utf-8.*re-save the file as utf-8"):
        load_ratings(d)
    (d / "ratings.csv").write_text("userId,movieId,rating\n1,1,4\n")
    (d / "movies.csv").write_bytes("movieId,title,genres\n1,Amélie,Drama\n".encode("latin-1"))
    with pytest.raises(DataFormatError, match=r"movies.csv, line 2: byte 0xe9 is not valid utf-8"):
        load_ratings(d)
    other = tmp_path / "scores.csv"
    other.write_bytes("user,item,rating\nam\xe9lie,1,4\n".encode("latin-1"))
    with pytest.raises(DataFormatError, match=r"scores.csv, line 2: byte 0xe9"):
        load_ratings(other)
    result = invoke("top", d, "--user", "1")
    assert result.exit_code == 2 and "error:" in result.output and "not valid utf-8" in result.output
    assert "Traceback" not in result.output


def test_oversized_csv_field(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text('user,item,rating\n1,1,4\n2,"' + "x" * 200_000 + '",3\n')
    with pytest.raises(DataFormatError, match=r"scores.csv, line 3: a field is longer than "
                                              r"131072 characters"):
        load_ratings(path)


@pytest.mark.parametrize("scale,error,match", [
    ("15", TypeError, r"rating_scale must be a \(low, high\) pair of numbers such as \(1, 5\), "
                      r"got '15'"),
    ((1, 2, 3), ValueError, r"got 3 values"),
    ((5, 1), ValueError, r"finite low < high, got \(5, 1\)"),
    ((1, float("nan")), ValueError, r"finite low < high"),
    (("a", "b"), TypeError, r"pair of numbers")])
def test_rating_scale_is_a_pair_of_numbers(tmp_path, scale, error, match):
    with pytest.raises(error, match=match):
        Ratings.from_arrays([1, 2], [1, 1], [3, 4], rating_scale=scale)
    path = tmp_path / "scores.csv"
    path.write_text("user,item,rating\na,1,4\n")
    with pytest.raises(error, match=match):
        load_ratings(path, rating_scale=scale)


def test_similar_items_min_ratings_too_high(fitted):
    data, model = fitted
    most = int(np.bincount(data.item_codes).max())
    with pytest.raises(ValueError, match=r"min_ratings=1000000000 leaves no item to compare "
                                         r"with.*at most \d+ training ratings"):
        model.similar_items(1, min_ratings=10 ** 9)
    assert len(model.similar_items(1, min_ratings=most)) <= 1


def test_generic_csv_errors_name_the_real_line(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text("user,item,rating\na,1,4\n\n\nb,1,3\na,1,5\n")
    with pytest.raises(DataFormatError, match=r"line 6 of .*first rated \(line 2 of"):
        load_ratings(path)


# -------------------------------------------- errors name titles and ids
def test_fold_in_scale_error_names_the_title(ml100k_dir):  # noqa: F811
    data = load_ratings(ml100k_dir)
    model = MatrixFactorization(2, n_epochs=2, random_state=0).fit(data)
    with pytest.raises(ValueError, match=r"rating 9 for 'Café Society \(1995\)' is outside the "
                                         r"scale 1–5"):
        model.fold_in({1: 9})
    result = invoke("new", ml100k_dir, "--rate", "Café Society (1995)=9")
    assert result.exit_code == 2
    assert "rating 9 for 'Café Society (1995)' is outside the scale 1–5" in result.output
    assert "trained" not in result.output          # checked before training


def test_unknown_user_gets_the_valid_range(ml100k_dir):  # noqa: F811
    data = load_ratings(ml100k_dir)
    with pytest.raises(KeyError, match=r"valid user ids: the integers 1–20, 20 of them"):
        data.user_code(5000)
    gaps = Ratings.from_arrays([1, 5, 9], [1, 1, 1], [3, 4, 5])
    with pytest.raises(KeyError, match=r"the integers 1–9, 3 of them, not every number"):
        gaps.user_code(7)
    words = Ratings.from_arrays(["ann", "bob"], [1, 1], [3, 4])
    with pytest.raises(KeyError) as err:
        words.user_code("anne")
    assert err.value.args[0] == "unknown user 'anne'; did you mean: 'ann'?"   # no id range
    result = invoke("top", ml100k_dir, "--user", "5000")
    assert result.exit_code == 2 and "valid user ids: the integers 1–20" in result.output
    assert "trained" not in result.output


@pytest.mark.parametrize("args,message", [
    (["top", "{d}", "--user", "3", "-k", "0"], "-k (how many movies) must be >= 1, got 0"),
    (["similar", "{d}", "--movie", "Movie 2 (1992)", "-n", "0"], "must be >= 1, got 0"),
    (["similar", "{d}", "--movie", "Movie 2 (1992)", "--min-ratings", "0"],
     "--min-ratings must be >= 1"),
    (["new", "{d}", "--rate", "Movie 2 (1992)=4", "-k", "-1"], "must be >= 1, got -1"),
    (["evaluate", "{d}", "--top-k", "0"], "must be >= 1, got 0"),
])
def test_cli_options_checked_before_training(ml100k_dir, args, message):  # noqa: F811
    result = invoke(*[a.format(d=ml100k_dir) for a in args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "trained" not in result.output


def test_cli_advice_names_cli_options(tmp_path):
    d = tmp_path / "dup"
    d.mkdir()
    (d / "u.data").write_text("1\t1\t4\t1\n2\t1\t5\t2\n1\t1\t2\t3\n2\t2\t3\t4\n")
    result = invoke("top", d, "--user", "1", "-f", "2")
    assert result.exit_code == 2
    assert "Pass --duplicates last to keep the latest or --duplicates mean" in result.output
    assert "duplicates='" not in result.output
    fixed = invoke("top", d, "--user", "1", "-f", "2", "--duplicates", "last")
    assert fixed.exit_code == 0, fixed.output
    (d / "u.data").write_text("1\t1\t4\t1\n2\t1\t9\t2\n")
    result = invoke("top", d, "--user", "1")
    assert result.exit_code == 2 and "outside the declared scale 1–5" in result.output
    assert "rating_scale=" not in result.output


def test_cli_k_and_its_old_spelling(ml100k_dir):  # noqa: F811
    new = invoke("top", ml100k_dir, "--user", "3", "-k", "3", "--factors", "3")
    old = invoke("top", ml100k_dir, "--user", "3", "-n", "3", "-f", "3")
    assert new.exit_code == old.exit_code == 0, new.output + old.output
    assert "top 3 for user 3" in new.output
    assert new.output.split("top 3")[1] == old.output.split("top 3")[1]


# ------------------------------------------------ the explanation adds up
@pytest.mark.parametrize("kwargs", [{}, {"implicit": True}, {"neighbors": 0},
                                    {"biased": False, "neighbors": 5}])
def test_explanation_parts_sum_to_the_prediction(kwargs):
    data = noisy(seed=7)
    model = MatrixFactorization(3, reg=0.05, n_epochs=6, random_state=0, **kwargs).fit(data)
    rng = np.random.default_rng(0)
    users = rng.choice(data.user_ids[np.bincount(data.user_codes) > 0], 25)
    items = rng.choice(data.item_ids, 25)
    clipped = 0
    for user, item in zip(users.tolist(), items.tolist(), strict=True):
        ex = model.explain(user, item, k=1000)
        assert sum(ex.parts.values()) == pytest.approx(ex.raw, abs=1e-12)
        uc, ic = data.user_code(user), data.item_code(item)
        assert ex.raw == pytest.approx(model.score_codes([uc], [ic])[0], abs=1e-9)
        assert ex.prediction == pytest.approx(model.predict([user], [item])[0], abs=1e-9)
        assert ex.prediction == np.clip(ex.raw, 1, 5)
        assert ex.clipped == (ex.raw != ex.prediction)
        clipped += ex.clipped
        pulls = sum(c[3] for c in ex.contributions)
        assert pulls == pytest.approx(ex.user_bias + ex.dot, rel=1e-6, abs=1e-9)
    assert "RatingExplanation(" in repr(ex)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-5, 5, allow_nan=False), min_size=1, max_size=6))
def test_rounded_parts_add_up(parts):
    total = sum(parts)
    goal, units = rounded_parts(total, parts)
    assert sum(units) == goal == round(total * 100)
    assert all(abs(u - p * 100) <= 1 for u, p in zip(units, parts, strict=True))


def test_cli_explain_line_adds_up(ml100k_dir):  # noqa: F811
    result = invoke("top", ml100k_dir, "--user", "3", "-k", "1", "--factors", "3", "--explain")
    assert result.exit_code == 0, result.output
    line = next(ln for ln in result.output.splitlines() if ln.startswith("why "))
    total, rest = line.split("? ", 1)[1].split(" = ")
    numbers = [float(x) for x in re.findall(r"[+-]?\d+\.\d\d", rest.split(";")[0])]
    assert len(numbers) >= 4 and "(similar movies you rated)" in line
    assert round(sum(numbers) * 100) == round(float(total) * 100)


# --------------------------------------- fast, reported top-N evaluation
@pytest.mark.parametrize("kwargs", [{}, {"implicit": True}, {"neighbors": 2},
                                    {"neighbors": 0}, {"biased": False}])
def test_score_users_equals_pairwise_scores(kwargs):
    data = noisy(seed=3)
    model = MatrixFactorization(3, n_epochs=4, random_state=0, **kwargs).fit(data)
    users = np.arange(data.n_users)
    pairs = model.score_codes(np.repeat(users, data.n_items), np.tile(np.arange(data.n_items),
                                                                       data.n_users))
    np.testing.assert_allclose(model.score_users(users), pairs.reshape(data.n_users, -1),
                               atol=1e-5)
    base = BaselinePredictor().fit(data)
    np.testing.assert_allclose(base.score_users(users[:5]),
                               base.score_codes(np.repeat(users[:5], data.n_items),
                                                np.tile(np.arange(data.n_items), 5))
                               .reshape(5, -1))


def test_ranking_metrics_same_through_every_scoring_protocol():
    data = noisy(n_users=60, seed=4)
    train, test = train_test_split(data, 0.3, random_state=0)
    model = MatrixFactorization(3, n_epochs=4, random_state=0).fit(train)

    class PairsOnly:
        def score_codes(self, uc, ic):
            return model.score_codes(uc, ic)

    class Legacy:
        def _raw_codes(self, uc, ic):
            return model.score_codes(uc, ic)

    fast = ranking_metrics(model, train, test, k=5)
    assert ranking_metrics(PairsOnly(), train, test, k=5) == pytest.approx(fast)
    with pytest.warns(DeprecationWarning, match="_raw_codes is deprecated"):
        assert ranking_metrics(Legacy(), train, test, k=5) == pytest.approx(fast)
    with pytest.raises(TypeError, match="score_users.*score_codes"):
        ranking_metrics(object(), train, test)


def test_cross_validate_reports_the_ranking_time(ml100k_dir):  # noqa: F811
    data = noisy(seed=6)
    cv = cross_validate(MatrixFactorization(3, n_epochs=2, random_state=0), data, 2)
    assert all(f.rank_time > 0 for f in cv.folds) and "rank_time" in cv.metrics
    assert all(f.rank_time == 0 for f in cross_validate(
        BaselinePredictor(), data, 2, ranking=False).folds)
    result = invoke("evaluate", ml100k_dir, "--folds", "2", "-f", "3", "--epochs", "2")
    assert result.exit_code == 0, result.output
    header = next(ln for ln in result.output.splitlines() if "RMSE" in ln)
    assert "predict" in header and "rank" in header, result.output
    assert "rank = scoring every unrated movie" in result.output


@pytest.mark.slow
def test_ml100k_ranking_is_fast_and_matches_the_pairwise_path():
    path = shared_data_path("movielens-100k")
    data = load_ratings(path)
    train, test = train_test_split(data, 0.2, random_state=0)
    model = MatrixFactorization(random_state=0).fit(train)
    users = np.arange(0, data.n_users, 40)
    pairs = model.score_codes(np.repeat(users, data.n_items),
                              np.tile(np.arange(data.n_items), len(users)))
    np.testing.assert_allclose(model.score_users(users), pairs.reshape(len(users), -1),
                               atol=1e-5)
    start = time.perf_counter()
    metrics = ranking_metrics(model, train, test)
    elapsed = time.perf_counter() - start
    assert metrics["users"] > 700 and 0 < metrics["precision@10"] < 1
    assert elapsed < 20, elapsed      # 27 s per fold before, about 3 s now (2 shared cores)


# ----------------------------------------------------- one vocabulary
def test_k_and_exclude_seen_with_the_old_spellings(fitted):
    data, model = fitted
    user = int(data.user_ids[0])
    mine = {1: 5.0, 2: 1.0}
    cases = [
        (lambda: model.recommend(user, k=4), lambda: model.recommend(user, n=4), "recommend(n="),
        (lambda: model.similar_items(1, k=3), lambda: model.similar_items(1, n=3),
         "similar_items(n="),
        (lambda: model.fold_in(mine, k=5, exclude_seen=False),
         lambda: model.fold_in(mine, n=5, exclude_rated=False), "fold_in("),
    ]
    for new, old, name in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            fresh = new()
        with pytest.warns(DeprecationWarning, match=re.escape(name)):
            stale = old()
        assert isinstance(fresh, RankedItems)
        assert fresh.item_ids.tolist() == stale.item_ids.tolist()
        np.testing.assert_array_equal(fresh.scores, stale.scores)
    assert len(model.recommend(user, 4)) == 4             # positional k as before
    with pytest.warns(DeprecationWarning, match=r"explain\(top=\.\.\.\) is deprecated.*k="):
        old = model.explain(user, 3, top=2)
    new = model.explain(user, 3, k=2)
    assert isinstance(new, RatingExplanation) and old == new and len(new.contributions) == 2
    with pytest.raises(TypeError, match=r"got both n= \(the old spelling\) and k="):
        model.recommend(user, n=3, k=3)
    folded = model.fold_in(mine, k=data.n_items)
    assert not {1, 2} & set(folded.item_ids.tolist())


def test_old_result_names_and_module_paths_still_work():
    import dotwise.recommend.results as results
    import dotwise.search as search

    for module in (rec, results):
        with pytest.warns(DeprecationWarning, match=r"Recommendations is deprecated.*RankedItems"):
            assert module.Recommendations is RankedItems
        with pytest.warns(DeprecationWarning, match=r"Explanation is deprecated.*RatingExplanation"):
            assert module.Explanation is RatingExplanation
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        rec.Nope  # noqa: B018
    from dotwise.recommend.data import Ratings as OldRatings
    from dotwise.recommend.data import load_ratings as old_load

    assert OldRatings is Ratings and old_load is load_ratings
    names = set(rec.__all__)
    assert "Recommendations" not in names and "Explanation" not in names
    for name in ("Recommendations", "Explanation", "RankedItems", "RatingExplanation"):
        if hasattr(search, name):
            assert getattr(search, name) not in (RankedItems, RatingExplanation)


def test_no_private_scoring_names_across_modules():
    """evaluate.py scores through the public score_users / score_codes / predict_codes."""
    source = Path(rec.__file__).with_name("evaluate.py").read_text(encoding="utf-8")
    calls = re.findall(r"(?:model|fitted)\._\w+", source)
    assert calls == ["model._raw_codes"], calls  # only the deprecated fallback, with a warning


# --------------------------------------------------- the CLI never crashes
_VALUES = ["0", "-1", "1", "3", "1000000000", "1e5", "nan", "x", "", "Movie 2 (1992)",
           "Movie 2 (1992)=4", "Movie 2 (1992)=9", "=3", "3"]
_OPTIONS = {"top": ["--user", "-k", "-n", "--factors", "--epochs", "--method", "--seed"],
            "similar": ["--movie", "-k", "--min-ratings", "--factors", "--epochs"],
            "new": ["--rate", "-k", "--factors", "--method"],
            "evaluate": ["--folds", "-k", "--factors", "--epochs", "--method"]}


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("fuzz") / "ml-100k"
    d.mkdir()
    rng = np.random.default_rng(1)
    pairs = sorted({(int(rng.integers(1, 9)), int(rng.integers(1, 7))) for _ in range(40)})
    (d / "u.data").write_text("".join(f"{u}\t{i}\t{1 + (u * i) % 5}\t{n}\n"
                                      for n, (u, i) in enumerate(pairs)))
    (d / "u.item").write_text("".join(f"{i}|Movie {i} (199{i})|x||u|0\n" for i in range(1, 7)))
    return d


@pytest.mark.slow
@settings(max_examples=int(os.environ.get("DOTWISE_FUZZ_EXAMPLES", "25")), deadline=None)
@given(command=st.sampled_from(sorted(_OPTIONS)), data=st.data())
def test_cli_fuzz_never_shows_a_traceback(fuzz_dir, command, data):
    names = data.draw(st.lists(st.sampled_from(_OPTIONS[command]), max_size=3, unique=True))
    args = [command, str(fuzz_dir)]
    for name in names:
        args += [name, data.draw(st.sampled_from(_VALUES))]
    if command == "evaluate" and "--epochs" not in names:
        args += ["--epochs", "1"]
    result = runner.invoke(get_app(), ["recommend", *args])
    assert result.exit_code in (0, 2), (args, result.output, result.exception)
    assert "Traceback" not in result.output, (args, result.output)
    if result.exit_code == 2 and result.output.strip():
        assert "error" in result.output.lower() or "Usage" in result.output, result.output
