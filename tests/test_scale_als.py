"""ALS on a dask.distributed cluster against the in-memory fit."""

from __future__ import annotations

import numpy as np
import pytest

distributed = pytest.importorskip("distributed", reason="ALS on a cluster needs the scale "
                                                        "extra: pip install 'dotwise[scale]'")

from dotwise.recommend import MatrixFactorization, Ratings, load_ratings, rmse_mae  # noqa: E402
from dotwise.scale.als import partition_ranges  # noqa: E402
from tests.conftest import shared_data_path  # noqa: E402


@pytest.fixture(scope="module")
def ratings():
    rng = np.random.default_rng(0)
    P, Q = rng.normal(size=(120, 3)), rng.normal(size=(80, 3))
    u, i = np.divmod(np.arange(120 * 80), 80)
    keep = rng.random(u.size) < 0.25
    keep[u == 7] = False           # a user without ratings
    r = np.clip(np.round(3 + P @ Q.T + rng.normal(0, 0.3, (120, 80))), 1, 5)[u, i]
    return Ratings.from_arrays(u[keep] + 1000, i[keep], r[keep], rating_scale=(1, 5))


def _assert_same_fit(a, b, rtol=1e-10):
    np.testing.assert_allclose(b.loss_history_, a.loss_history_, rtol=rtol)
    np.testing.assert_allclose(b.train_rmse_history_, a.train_rmse_history_, rtol=rtol)
    for name in ("user_factors_", "item_factors_", "user_bias_", "item_bias_"):
        np.testing.assert_allclose(getattr(b, name), getattr(a, name), rtol=1e-7, atol=1e-9,
                                   err_msg=name)
    assert b.global_mean_ == a.global_mean_


@pytest.mark.parametrize("biased", [True, False])
def test_cluster_fit_matches_the_in_memory_fit(client, ratings, biased):
    params = dict(n_factors=4, reg=0.5, n_epochs=5, biased=biased, random_state=3)
    a = MatrixFactorization(**params).fit(ratings)
    b = MatrixFactorization(**params).fit(ratings, client=client)
    _assert_same_fit(a, b)
    # ALS never increases the objective, on the cluster too
    assert np.all(np.diff(b.loss_history_) <= 1e-12)
    # predictions, recommendations and fold-in work on the fitted model as in memory
    users, items = ratings.user_ids[:50], ratings.item_ids[:50]
    np.testing.assert_allclose(b.predict(users, items), a.predict(users, items), rtol=1e-9)
    ra, rb = a.recommend(1003, n=5), b.recommend(1003, n=5)
    assert rb.item_ids.tolist() == ra.item_ids.tolist()
    np.testing.assert_allclose(rb.scores, ra.scores, rtol=1e-9)
    fa, _ = a.fold_in_vector({3: 5, 10: 1})
    fb, _ = b.fold_in_vector({3: 5, 10: 1})
    np.testing.assert_allclose(fb, fa, rtol=1e-9)


def test_several_partitions_per_side_give_the_same_fit(ratings):
    # three in-process workers: each side is cut into three partitions, solved apart
    with distributed.LocalCluster(n_workers=3, threads_per_worker=1, processes=False,
                                  protocol="tcp", host="127.0.0.1",
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        seen = []
        params = dict(n_factors=3, n_epochs=4, neighbors=0, random_state=1)
        a = MatrixFactorization(**params).fit(ratings)
        b = MatrixFactorization(**params).fit(ratings, client=c,
                                              callback=lambda e, loss: seen.append(e))
    assert seen == [0, 1, 2, 3]
    _assert_same_fit(a, b)


def test_partitions_cover_every_entity_once():
    rng = np.random.default_rng(2)
    counts = rng.integers(0, 50, 97)
    for parts in (1, 2, 5, 96, 97, 200):
        ranges = partition_ranges(counts, parts)
        assert ranges[0][0] == 0 and ranges[-1][1] == 97
        assert all(a[1] == b[0] for a, b in zip(ranges[:-1], ranges[1:], strict=True))
        assert len(ranges) == min(parts, 97)
    sizes = [counts[lo:hi].sum() for lo, hi in partition_ranges(counts, 4)]
    assert max(sizes) - min(sizes) <= 2 * counts.max()


def test_clear_errors(client, ratings):
    with pytest.raises(ValueError, match="method='sgd' has no distributed version"):
        MatrixFactorization(method="sgd").fit(ratings, client=client)
    with pytest.raises(ValueError, match="implicit=True has no distributed version"):
        MatrixFactorization(implicit=True, n_epochs=1).fit(ratings, client=client)
    with pytest.raises(TypeError, match="client must be a distributed.Client"):
        MatrixFactorization(n_epochs=1).fit(ratings, client="tcp://127.0.0.1:8786")


@pytest.mark.shared_data
def test_movielens_100k_same_losses_and_rmse(client):
    path = shared_data_path("movielens-100k", "u1.base")
    train = load_ratings(path)
    test = load_ratings(path.with_name("u1.test"))
    a = MatrixFactorization(random_state=0).fit(train)
    b = MatrixFactorization(random_state=0).fit(train, client=client)
    _assert_same_fit(a, b)
    ra = rmse_mae(test.ratings, a.predict(test.user_ids[test.user_codes],
                                          test.item_ids[test.item_codes]))
    rb = rmse_mae(test.ratings, b.predict(test.user_ids[test.user_codes],
                                          test.item_ids[test.item_codes]))
    np.testing.assert_allclose(rb, ra, rtol=1e-9)


@pytest.mark.slow
def test_two_worker_processes(ratings):
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        params = dict(n_factors=4, n_epochs=4, random_state=5)
        a = MatrixFactorization(**params).fit(ratings)
        b = MatrixFactorization(**params).fit(ratings, client=c)
        _assert_same_fit(a, b)
