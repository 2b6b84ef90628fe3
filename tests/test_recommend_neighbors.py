"""The residual item–item neighbourhood term of MatrixFactorization, against naive loops."""

from __future__ import annotations

import numpy as np
import pytest

from dotwise.recommend import MatrixFactorization, Ratings, mf


def noisy(n_users=40, n_items=25, seed=0):
    rng = np.random.default_rng(seed)
    P, Q = rng.normal(0, 0.8, (n_users, 2)), rng.normal(0, 0.8, (n_items, 2))
    u, i = np.nonzero(rng.random((n_users, n_items)) < 0.45)
    r = np.clip(np.rint(3 + (P @ Q.T)[u, i] + rng.normal(0, 0.6, len(u))), 1, 5)
    return Ratings.from_arrays(u + 1, i + 1, r, rating_scale=(1, 5))


def naive(model, data, users, items, k, beta, lam):
    """Similarities and neighbourhood terms by explicit loops over users and items."""
    u, i = data.user_codes.astype(int), data.item_codes.astype(int)
    e = data.ratings - model._factor_codes(u, i)
    resid = [dict() for _ in range(data.n_users)]
    for uu, ii, ee in zip(u, i, e, strict=True):
        resid[uu][ii] = ee
    n = data.n_items
    S = np.zeros((n, n))
    for a in range(n):
        for b in range(n):
            if a == b:
                continue
            dot = sum(r[a] * r[b] for r in resid if a in r and b in r)
            na = np.sqrt(sum(r[a] ** 2 for r in resid if a in r))
            nb = np.sqrt(sum(r[b] ** 2 for r in resid if b in r))
            co = sum(1 for r in resid if a in r and b in r)
            S[a, b] = dot / max(na * nb, 1e-12) * co / (co + beta)
    out = []
    for uu, ii in zip(users, items, strict=True):
        rated = list(resid[uu])
        best = sorted(rated, key=lambda j: -abs(S[ii, j]))[:k]
        num = sum(S[ii, j] * resid[uu][j] for j in best)
        den = sum(abs(S[ii, j]) for j in best) + lam
        out.append(num / den)
    return S, np.array(out)


@pytest.mark.parametrize("k", [3, 1000])
def test_neighbor_term_matches_a_naive_loop(k):
    data = noisy()
    model = MatrixFactorization(3, neighbors=k, neighbor_shrinkage=5.0, neighbor_reg=0.3,
                                random_state=0).fit(data)
    rng = np.random.default_rng(1)
    users = rng.integers(0, data.n_users, 60)
    items = rng.integers(0, data.n_items, 60)
    S, term = naive(model, data, users, items, k, 5.0, 0.3)
    np.testing.assert_allclose(model.item_similarity_, S, atol=2e-6)
    np.testing.assert_allclose(model._neighbor_codes(users, items), term, atol=2e-5)
    raw = model._factor_codes(users, items) + term
    np.testing.assert_allclose(
        model.predict(data.user_ids[users], data.item_ids[items]), np.clip(raw, 1, 5),
        atol=2e-5)


def test_sparse_similarity_path_equals_dense(monkeypatch):
    data = noisy(seed=2)
    dense = MatrixFactorization(3, random_state=0).fit(data)
    monkeypatch.setattr(mf, "_DENSE_LIMIT", 0)
    sparse = MatrixFactorization(3, random_state=0).fit(data)
    np.testing.assert_allclose(sparse.item_similarity_, dense.item_similarity_, atol=1e-6)


def test_predictions_in_range_deterministic_and_helpful_on_training_data():
    data = noisy(seed=3)
    a = MatrixFactorization(4, random_state=0).fit(data)
    b = MatrixFactorization(4, random_state=0).fit(data)
    users, items = data.user_ids[data.user_codes], data.item_ids[data.item_codes]
    pa = a.predict(users, items)
    assert np.array_equal(pa, b.predict(users, items))
    assert pa.min() >= 1 and pa.max() <= 5
    flat = MatrixFactorization(4, neighbors=0, random_state=0).fit(data)
    assert flat.item_similarity_ is None
    np.testing.assert_allclose(flat.predict(users, items),
                               np.clip(a._factor_codes(data.user_codes.astype(int),
                                                       data.item_codes.astype(int)), 1, 5))
    # on its own training ratings the residual correction can only pull towards them
    err = lambda p: float(np.sqrt(np.mean((p - data.ratings) ** 2)))  # noqa: E731
    assert err(pa) < err(flat.predict(users, items))
    # unknown ids fall back to the biases: no neighbourhood term
    assert np.isfinite(a.predict([999], [1])).all()


def test_recommend_fold_in_and_explain_include_the_term():
    data = noisy(seed=4)
    model = MatrixFactorization(3, reg=0.05, n_epochs=10, random_state=0).fit(data)
    user = int(data.user_ids[0])
    code = data.user_code(user)
    rows = np.flatnonzero(data.user_codes == code)
    mine = list(zip(data.item_ids[data.item_codes[rows]].tolist(),
                    data.ratings[rows].tolist(), strict=True))
    known = model.recommend(user, n=data.n_items, exclude_seen=False)
    folded = model.fold_in(mine, n=data.n_items, exclude_rated=False)
    # folding in a training user's own ratings reproduces their ranking and scores
    assert known.item_ids.tolist() == folded.item_ids.tolist()
    np.testing.assert_allclose(known.scores, folded.scores, atol=1e-4)
    np.testing.assert_allclose(
        known.scores, model.predict([user], known.item_ids), atol=1e-9)
    ex = model.explain(user, int(data.item_ids[3]))
    assert ex.neighbors != 0
    assert ex.raw == pytest.approx(ex.global_mean + ex.user_bias + ex.item_bias + ex.dot
                                   + ex.neighbors)
    assert "neighbours" in repr(ex)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"neighbors": -1}, "neighbors"), ({"neighbors": 2.5}, "neighbors"),
    ({"neighbor_shrinkage": -1.0}, "neighbor_shrinkage"),
    ({"neighbor_reg": -0.1}, "neighbor_reg")])
def test_bad_neighbor_parameters(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        MatrixFactorization(2, **kwargs).fit(noisy())
