"""Exact search over sharded collections (Dask arrays, zarr) against the in-memory search."""

from __future__ import annotations

import numpy as np
import pytest

da = pytest.importorskip("dask.array", reason="sharded search needs the scale extra: "
                                                "pip install 'dotwise[scale]'")
distributed = pytest.importorskip("distributed", reason="needs dask.distributed (scale extra)")
zarr = pytest.importorskip("zarr", reason="needs zarr (scale extra)")

import dotwise as dw  # noqa: E402
from dotwise._validation import ShapeError  # noqa: E402
from dotwise.scale.search import (  # noqa: E402
    ShardedIndex,
    exact_search,
    merge_topk,
    shard_index,
)
from dotwise.search import Index  # noqa: E402

METRICS = ["cosine", "dot", "l2"]




@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((5000, 24)).astype(np.float32)
    Q = rng.standard_normal((12, 24)).astype(np.float32)
    Q[0] = X[11]
    return X, Q


@pytest.fixture(scope="module")
def ties():
    """Small integers: every dot product is exact whatever the summation order, so
    duplicated vectors tie exactly and only the ids can order them."""
    rng = np.random.default_rng(8)
    base = rng.integers(-3, 4, (40, 8)).astype(np.float32)
    X = base[rng.integers(0, 40, 3000)]          # each vector ~75 times
    Q = rng.integers(-3, 4, (6, 8)).astype(np.float32)
    ids = rng.permutation(3000).astype(np.int64) * 3
    return X, Q, ids


def _same(result, reference, exact=False):
    np.testing.assert_array_equal(result.ids, reference.ids)
    if exact:
        np.testing.assert_array_equal(result.scores, reference.scores)
    elif result.metric == "l2":
        # ‖q − x‖² = ‖q‖² − 2 q·x + ‖x‖² cancels near 0: compare squared distances, to a
        # few float32 ulps of ‖q‖²
        np.testing.assert_allclose(result.scores ** 2, reference.scores ** 2, rtol=2e-6,
                                   atol=1e-4)
    else:
        np.testing.assert_allclose(result.scores, reference.scores, rtol=2e-6, atol=2e-6)
    assert result.metric == reference.metric
    assert type(result) is type(reference)


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("rows", [700, 2048, 5000])
def test_dask_array_matches_in_memory(client, data, metric, rows):
    X, Q = data
    ref = dw.exact_search(X, Q, k=8, metric=metric)
    got = dw.exact_search(da.from_array(X, chunks=(rows, 24)), Q, k=8, metric=metric)
    _same(got, ref, exact=rows == 5000)
    if metric != "dot":
        assert got.ids[0, 0] == 11


@pytest.mark.parametrize("metric", ["dot", "l2"])
@pytest.mark.parametrize("rows", [50, 1000, 3000])
def test_duplicated_vectors_rank_by_the_smaller_id(client, ties, metric, rows):
    X, Q, ids = ties
    Xd = da.from_array(X, chunks=(rows, 8))
    _same(dw.exact_search(Xd, Q, k=90, metric=metric), dw.exact_search(X, Q, k=90, metric=metric),
          exact=True)
    index = Index(8, metric=metric)
    index.add(X, ids=ids)
    got = dw.exact_search(Xd, Q, k=90, metric=metric, ids=da.from_array(ids, chunks=700))
    # (the index keeps its own squared norms, exact_search recomputes them: l2 distances
    # then agree to rounding, the ids exactly)
    _same(got, index.search(Q, k=90), exact=metric == "dot")
    # within every run of equal scores the ids ascend
    for q in range(len(Q)):
        same = got.scores[q, 1:] == got.scores[q, :-1]
        assert same.any() and (got.ids[q, 1:][same] > got.ids[q, :-1][same]).all()


def test_chunks_aligned_with_the_engine_blocks_give_identical_scores(client):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40000, 16)).astype(np.float32)
    Q = rng.standard_normal((20, 16)).astype(np.float32)
    for metric in METRICS:
        ref = dw.exact_search(X, Q, k=5, metric=metric)
        got = dw.exact_search(da.from_array(X, chunks=(16384, 16)), Q, k=5, metric=metric)
        _same(got, ref, exact=True)


def test_float64_single_query_and_k_above_n(client):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((30, 5))
    Xd = da.from_array(X, chunks=(7, 5))
    got = dw.exact_search(Xd, X[3], k=4, metric="l2")
    ref = dw.exact_search(X, X[3], k=4, metric="l2")
    _same(got, ref)
    assert got.ids.shape == (4,) and got.ids[0] == 3 and got.scores.dtype == np.float64
    # more matches asked than vectors: padded as in memory (-1, +inf for distances)
    big = dw.exact_search(Xd, X[:2], k=40, metric="l2")
    _same(big, dw.exact_search(X, X[:2], k=40, metric="l2"))
    assert (big.ids[:, 30:] == -1).all() and np.isinf(big.scores[:, 30:]).all()


def test_explicit_ids_as_a_dask_array_match_an_index(client, data):
    X, Q = data
    ids = np.random.default_rng(3).permutation(len(X)).astype(np.int64) * 7 + 100
    for metric in METRICS:
        index = Index(24, metric=metric)
        index.add(X, ids=ids)
        ref = index.search(Q, k=6)
        got = dw.exact_search(da.from_array(X, chunks=(900, 24)), Q, k=6, metric=metric,
                              ids=da.from_array(ids, chunks=1700))
        _same(got, ref)
    # ids as a NumPy array with a NumPy collection: the same answers, in this process
    _same(dw.exact_search(X, Q, k=6, metric="l2", ids=ids), ref)


def test_ties_across_chunks_break_by_the_smaller_id(client):
    X = np.ones((10, 3))
    ids = np.array([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]) + 50
    got = dw.exact_search(da.from_array(X, chunks=(3, 3)), [1.0, 1.0, 1.0], k=4, metric="dot",
                          ids=ids)
    assert got.ids.tolist() == [50, 51, 52, 53]


def test_filters_over_ids(client, data):
    X, Q = data
    ids = np.arange(len(X)) * 2
    index = Index(24, metric="dot")
    index.add(X, ids=ids)
    Xd = da.from_array(X, chunks=(1000, 24))
    allowed = set(range(0, 10000, 6))
    _same(dw.exact_search(Xd, Q, k=5, metric="dot", ids=ids, filter=allowed),
          index.search(Q, k=5, filter=allowed))

    def even_thousands(i):
        return (np.asarray(i) // 1000) % 2 == 0

    _same(dw.exact_search(Xd, Q, k=5, metric="dot", ids=ids, filter=even_thousands),
          index.search(Q, k=5, filter=even_thousands))
    with pytest.raises(TypeError, match="boolean array is ambiguous"):
        dw.exact_search(Xd, Q, k=5, filter=np.ones(len(X), bool))


def test_zarr_array_object_and_path(client, data, tmp_path):
    X, Q = data
    path = tmp_path / "x.zarr"
    z = zarr.create_array(str(path), shape=X.shape, chunks=(1100, 24), dtype=X.dtype)
    z[:] = X
    ref = dw.exact_search(X, Q, k=7, metric="cosine")
    _same(dw.exact_search(z, Q, k=7), ref)
    _same(dw.exact_search(str(path), Q, k=7), ref)
    # a zarr array chunked along columns is read in whole-row blocks
    zc = zarr.create_array(str(tmp_path / "c.zarr"), shape=X.shape, chunks=(1100, 8),
                           dtype=X.dtype)
    zc[:] = X
    _same(dw.exact_search(zc, Q, k=7), ref)


@pytest.mark.parametrize("metric", METRICS)
def test_sharded_index_matches_the_index(client, data, tmp_path, metric):
    X, Q = data
    ids = np.random.default_rng(4).permutation(len(X)).astype(np.int64)
    index = Index(24, metric=metric)
    index.add(X, ids=ids)
    index.save(tmp_path / "idx")
    shards = shard_index(tmp_path / "idx", tmp_path / "idx.zarr", n_shards=6)
    assert isinstance(shards, ShardedIndex) and shards.n_shards == 6 and len(shards) == len(X)
    ref = index.search(Q, k=9)
    _same(shards.search(Q, k=9), ref)
    _same(ShardedIndex.open(tmp_path / "idx.zarr").search(Q[2], k=3), index.search(Q[2], k=3))
    # dw.exact_search on the store takes its ids; the metric must be the store's own
    _same(dw.exact_search(tmp_path / "idx.zarr", Q, k=9, metric=metric), ref)
    other = "dot" if metric != "dot" else "l2"
    with pytest.raises(ValueError, match=f"pass metric='{metric}'"):
        dw.exact_search(tmp_path / "idx.zarr", Q, k=9, metric=other)


def test_sharding_a_matrix_stores_what_index_add_stores(tmp_path, data):
    X, Q = data
    shards = shard_index(X, tmp_path / "m.zarr", 4, metric="cosine", block_rows=1500)
    index = Index(24, metric="cosine")
    index.add(X)
    np.testing.assert_array_equal(np.asarray(shards.vectors), index.vectors)
    np.testing.assert_array_equal(np.asarray(shards.ids), index.ids)
    with pytest.raises(ValueError, match="duplicates"):
        shard_index(X[:3], tmp_path / "d.zarr", 1, ids=[1, 1, 2])
    with pytest.raises(ValueError, match="n_shards must be <="):
        shard_index(X[:3], tmp_path / "d.zarr", 5)


def test_clear_errors(client, data):
    X, Q = data
    with pytest.raises(ValueError, match=r"rechunk\(\{1: -1\}\)"):
        dw.exact_search(da.from_array(X, chunks=(1000, 12)), Q, k=3)
    with pytest.raises(ShapeError, match="queries must have 24 columns"):
        dw.exact_search(da.from_array(X, chunks=(1000, 24)), Q[:, :5], k=3)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        dw.exact_search(da.from_array(X, chunks=(1000, 24)), Q, k=0)
    with pytest.raises(ShapeError, match="one id per vector"):
        dw.exact_search(da.from_array(X, chunks=(1000, 24)), Q, k=3, ids=da.arange(10))
    with pytest.raises(ShapeError, match="must be 2-D"):
        dw.exact_search(da.ones(5, chunks=2), Q, k=3)
    Z = X.copy()
    Z[2345] = 0
    with pytest.raises(ValueError, match="zero vector with id 2345"):
        dw.exact_search(da.from_array(Z, chunks=(1000, 24)), Q, k=3, metric="cosine")
    with pytest.raises(FileNotFoundError, match="no zarr store"):
        dw.exact_search("nowhere.zarr", Q, k=3)


def test_progress_reports_every_row_and_only_the_result_comes_back(client, data):
    X, Q = data
    seen = []
    got = exact_search(da.from_array(X, chunks=(1000, 24)), Q, k=4, client=client,
                       progress=seen.append)
    assert sorted(seen) == [1000] * 5
    _same(got, dw.exact_search(X, Q, k=4))
    # the local (non-distributed) scheduler reports progress too
    seen.clear()
    import dask

    with dask.config.set(scheduler="threads"):
        got = exact_search(da.from_array(X, chunks=(2500, 24)), Q, k=4, progress=seen.append)
    assert sorted(seen) == [2500, 2500]
    _same(got, dw.exact_search(X, Q, k=4))


def test_merge_is_a_top_k_of_the_union():
    rng = np.random.default_rng(5)
    scores = rng.integers(0, 4, (3, 40)).astype(float)  # many ties
    ids = np.tile(rng.permutation(40), (3, 1))
    parts = [(ids[:, s:s + 10], scores[:, s:s + 10]) for s in range(0, 40, 10)]
    got_ids, got_s = merge_topk(parts, 6, ascending=False)
    for q in range(3):
        order = np.lexsort((ids[q], -scores[q]))[:6]
        assert got_ids[q].tolist() == ids[q, order].tolist()
        assert got_s[q].tolist() == scores[q, order].tolist()


@pytest.mark.slow
def test_two_worker_processes(data):
    X, Q = data
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        for metric in METRICS:
            got = exact_search(da.from_array(X, chunks=(800, 24)), Q, k=5, metric=metric,
                               client=c)
            _same(got, dw.exact_search(X, Q, k=5, metric=metric))


def test_cli_build_shards_info_and_query_on_a_scheduler(client, data, tmp_path):
    from typer.testing import CliRunner

    from dotwise.cli import get_app

    X, Q = data
    np.save(tmp_path / "v.npy", X)
    np.save(tmp_path / "q.npy", Q[:3])
    runner = CliRunner()
    store = tmp_path / "v.zarr"
    built = runner.invoke(get_app(), ["index", "build", str(tmp_path / "v.npy"), "-o",
                                      str(store), "--shards", "5", "--metric", "dot"])
    assert built.exit_code == 0, built.output
    assert "5 shards" in built.output
    info = runner.invoke(get_app(), ["index", "info", str(store)])
    assert info.exit_code == 0 and "sharded" in info.output and "5,000" in info.output
    hits = tmp_path / "hits.csv"
    queried = runner.invoke(get_app(), ["index", "query", str(store), str(tmp_path / "q.npy"),
                                        "-k", "4", "--scheduler", client.scheduler.address,
                                        "--out", str(hits)])
    assert queried.exit_code == 0, queried.output
    rows = np.loadtxt(hits, delimiter=",", skiprows=1)
    ref = dw.exact_search(X, Q[:3], k=4, metric="dot")
    np.testing.assert_array_equal(rows[:, 2].reshape(3, 4), ref.ids)
    # a zarr array is an input too; a plain index with --scheduler is a clear error
    plain = runner.invoke(get_app(), ["index", "build", str(store / "vectors"), "-o",
                                      str(tmp_path / "plain")])
    assert plain.exit_code == 0, plain.output
    bad = runner.invoke(get_app(), ["index", "query", str(tmp_path / "plain"),
                                    str(tmp_path / "q.npy"), "--scheduler",
                                    client.scheduler.address])
    assert bad.exit_code == 2 and "--shards N" in bad.output
    ivf = runner.invoke(get_app(), ["index", "build", str(tmp_path / "v.npy"), "-o",
                                    str(tmp_path / "w.zarr"), "--shards", "2", "--ivf", "4"])
    assert ivf.exit_code == 2 and "cannot be combined with --ivf" in ivf.output
    not_index = runner.invoke(get_app(), ["index", "query", str(store / "vectors"),
                                          str(tmp_path / "q.npy")])
    assert not_index.exit_code == 2 and "not a sharded index" in not_index.output
