"""The compiled search paths against their NumPy references and against FAISS.

* ``topk_blocked`` (threads + compiled heaps, or the fused loop for <= 8 queries) must
  give the ids of ``topk_blocked_numpy`` exactly where scores are not tied, and the
  same scores up to float32 rounding: k > n, duplicated rows (exact ties), masks,
  per-row scale and offset, NaN/inf rows, float64, one row, one query;
* the IVF list scan must match ``_search_batch`` (the NumPy reference) and FAISS's
  ``IndexIVFFlat`` given the same centroids;
* exact search must match FAISS ``IndexFlatIP`` / ``IndexFlatL2``.
"""

from __future__ import annotations

import numpy as np
import pytest

from dotwise.search import Index, IVFIndex, _kernel, _native, exact_search
from dotwise.search._kernel import topk_blocked, topk_blocked_numpy

needs_native = pytest.mark.skipif(_native.LIB is None,
                                  reason="the compiled top-k (dotwise._dwtopk) is not built")


def assert_same_topk(ids_a, s_a, ids_b, s_b, *, rtol=1e-5, atol=1e-5):
    """Scores equal within rounding; ids equal except where the two scores are tied."""
    ids_a, ids_b = np.atleast_2d(ids_a), np.atleast_2d(ids_b)
    s_a, s_b = np.atleast_2d(s_a), np.atleast_2d(s_b)
    assert ids_a.shape == ids_b.shape
    np.testing.assert_allclose(s_a, s_b, rtol=rtol, atol=atol)
    assert np.array_equal(ids_a == -1, ids_b == -1)
    differ = ids_a != ids_b
    if differ.any():
        # a swap is allowed only between near-equal scores: the sets of ids agree once
        # the ranks whose score is within tolerance of a neighbour are treated as one
        for i in np.unique(np.nonzero(differ)[0]):
            row_a, row_b = s_a[i], s_b[i]
            gap = np.abs(np.diff(row_a)) <= atol + rtol * np.abs(row_a[1:])
            tied = np.zeros(row_a.size, dtype=bool)
            tied[:-1] |= gap
            tied[1:] |= gap
            bad = differ[i] & ~tied
            # the last slot may be tied with a score just outside the top k
            bad[-1] = bad[-1] and abs(row_a[-1] - row_b[-1]) > atol
            assert not bad.any(), (i, ids_a[i], ids_b[i], row_a, row_b)


def _data(n, d, m, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, d)).astype(dtype),
            rng.standard_normal((m, d)).astype(dtype), rng)


@needs_native
@pytest.mark.parametrize("m", [1, 3, 8, 9, 300])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_topk_matches_the_numpy_reference(m, dtype):
    X, Q, rng = _data(20_000, 24, m, dtype)
    X[100:110] = X[7]                       # duplicates: exact ties, broken by smaller id
    ids = rng.permutation(X.shape[0]).astype(np.int64)
    offset = (-0.5 * np.einsum("ij,ij->i", X, X)).astype(dtype)
    scale = rng.uniform(0.5, 2.0, X.shape[0]).astype(dtype)
    allowed = rng.random(X.shape[0]) < 0.6
    for kw in ({}, {"ids": ids}, {"col_offset": offset, "allowed": allowed},
               {"col_scale": scale, "col_offset": offset, "ids": ids}):
        for k in (1, 10):
            got = topk_blocked(X, Q, k, **kw)
            ref = topk_blocked_numpy(X, Q, k, **kw)
            assert got[1].dtype == ref[1].dtype == dtype
            assert_same_topk(got[0], got[1], ref[0], ref[1],
                             rtol=1e-5 if dtype == np.float32 else 1e-12)


needs_fused_gemm = pytest.mark.skipif(_native.LIB is None or not _native.fused_gemm(),
                                      reason="the fused float32 product needs the compiled "
                                             "top-k on an x86-64 CPU with AVX2+FMA")


def test_query_panels_hold_the_queries_dimension_major():
    rng = np.random.default_rng(3)
    for m in (1, 23, 24, 25, 50):
        Q = rng.standard_normal((m, 7)).astype(np.float32)
        P = _native.pack_queries(Q)
        w = _native.PANEL
        assert P.shape == (-(-m // w), 7, w) and P.ctypes.data % 64 == 0
        flat = P.transpose(0, 2, 1).reshape(-1, 7)      # row w * p + l is query w * p + l
        assert np.array_equal(flat[:m], Q) and not flat[m:].any()


@needs_fused_gemm
@pytest.mark.parametrize("m", [9, 23, 24, 25, 61])
@pytest.mark.parametrize("d", [1, 7, 64, 131])
def test_fused_product_matches_the_numpy_reference(m, d):
    # row counts that leave a tail shorter than the 4-row step, query counts around the
    # 24-query panel, every per-row option, one thread and two
    X, Q, rng = _data(4_099, d, m, seed=d)
    X[50:60] = X[3]                       # exact ties, broken by the smaller id
    ids = rng.permutation(X.shape[0]).astype(np.int64) * 7
    offset = (-0.5 * np.einsum("ij,ij->i", X, X)).astype(np.float32)
    scale = rng.uniform(0.5, 2.0, X.shape[0]).astype(np.float32)
    allowed = rng.random(X.shape[0]) < 0.7
    for kw in ({}, {"ids": ids}, {"col_offset": offset, "allowed": allowed},
               {"col_scale": scale, "col_offset": offset, "ids": ids},
               {"start": 5, "stop": 4_000}):
        ref = topk_blocked_numpy(X, Q, 10, **kw)
        for threads in (1, 2):
            got = topk_blocked(X, Q, 10, threads=threads, **kw)
            assert_same_topk(got[0], got[1], ref[0], ref[1], rtol=2e-5, atol=2e-5)
    # straight through the heaps, in two calls: the second starts from the first's thresholds
    heaps = _native.Heaps(m, 10, np.float32)
    P = _native.pack_queries(Q)
    assert heaps.gemm(P, X, 0, 1_001) and heaps.gemm(P, X, 1_001, X.shape[0])
    assert_same_topk(*heaps.result(), *topk_blocked_numpy(X, Q, 10), rtol=2e-5, atol=2e-5)


@needs_fused_gemm
def test_fused_product_is_the_path_for_many_float32_queries(monkeypatch):
    X, Q, _ = _data(3_000, 16, 40)
    calls = []
    real = _native.Heaps.gemm
    monkeypatch.setattr(_native.Heaps, "gemm", lambda self, *a, **kw: calls.append(1) or
                        real(self, *a, **kw))
    topk_blocked(X, Q, 5)
    assert calls
    calls.clear()
    topk_blocked(X.astype(np.float64), Q.astype(np.float64), 5)   # float64: GEMM blocks
    topk_blocked(X, Q[:8], 5)                                      # few queries: the scan
    topk_blocked(np.asfortranarray(X), Q, 5)                       # strided rows: GEMM blocks
    assert not calls


@needs_native
def test_exact_ties_are_broken_by_smaller_id_in_every_path():
    # integer vectors: every score is exact, many are equal
    rng = np.random.default_rng(1)
    X = rng.integers(-1, 2, size=(5000, 6)).astype(np.float32)
    ids = rng.permutation(5000).astype(np.int64) * 3
    for m in (2, 50):
        Q = rng.integers(-1, 2, size=(m, 6)).astype(np.float32)
        got = topk_blocked(X, Q, 25, ids=ids)
        ref = topk_blocked_numpy(X, Q, 25, ids=ids)
        assert np.array_equal(got[0], ref[0]) and np.array_equal(got[1], ref[1])
        # and against a full sort by (-score, id)
        S = Q @ X.T
        for i in range(m):
            order = np.lexsort((ids, -S[i]))[:25]
            assert np.array_equal(got[0][i], ids[order])


@needs_native
@pytest.mark.parametrize("m", [1, 40])
def test_k_beyond_n_tiny_inputs_and_masks(m):
    X, Q, _ = _data(5, 3, m)
    got = topk_blocked(X, Q, 8)
    ref = topk_blocked_numpy(X, Q, 8)
    assert_same_topk(*got, *ref)
    assert (got[0][:, 5:] == -1).all() and np.isneginf(got[1][:, 5:]).all()
    one = topk_blocked(X[:1], Q, 3)
    assert (one[0][:, 0] == 0).all() and (one[0][:, 1:] == -1).all()
    nothing = topk_blocked(X, Q, 2, allowed=np.zeros(5, dtype=bool))
    assert (nothing[0] == -1).all() and np.isneginf(nothing[1]).all()
    empty = topk_blocked(X, Q, 2, start=3, stop=3)
    assert (empty[0] == -1).all()
    part = topk_blocked(X, Q, 2, start=1, stop=4)
    assert_same_topk(*part, *topk_blocked_numpy(X, Q, 2, start=1, stop=4))


@needs_native
@pytest.mark.parametrize("m", [2, 30])
def test_non_finite_scores_are_never_returned(m):
    X, Q, _ = _data(3000, 8, m)
    X[5] = np.nan
    Q = np.abs(Q) + 0.5
    X[9] = np.finfo(np.float32).max          # its scores overflow to +inf
    with np.errstate(over="ignore"):
        got = topk_blocked(X, Q, 3000)
        ref = topk_blocked_numpy(X, Q, 3000)
    assert_same_topk(*got, *ref)
    for row in got[0]:
        assert 5 not in row and 9 not in row
        assert (row[:2998] >= 0).all() and (row[2998:] == -1).all()


@needs_native
def test_progress_and_thread_counts():
    X, Q, _ = _data(60_000, 16, 20)
    seen = []
    got = topk_blocked(X, Q, 5, progress=seen.append)
    assert sum(seen) == X.shape[0]
    one = topk_blocked(X, Q, 5, threads=1)
    assert np.array_equal(got[0], one[0])
    # work too small to split still gives the same answer
    assert _kernel.search_threads(10.0) == 1


def test_numpy_engine_is_used_without_the_extension(monkeypatch):
    X, Q, _ = _data(4000, 8, 12)
    want = topk_blocked_numpy(X, Q, 4)
    monkeypatch.setattr(_native, "LIB", None)
    assert not _native.supports(np.float32)
    got = topk_blocked(X, Q, 4)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
    index = IVFIndex(8, metric="l2", n_lists=4, n_probe=4)
    index.train(X)
    index.add(X)
    r = index.search(Q, k=4)
    assert np.array_equal(r.ids, exact_search(X, Q, 4, "l2").ids)


# ------------------------------------------------------------------ IVF
def _ivf(X, metric, n_lists=16, dtype="float32"):
    index = IVFIndex(X.shape[1], metric=metric, n_lists=n_lists, dtype=dtype)
    index.train(X)
    index.add(X)
    return index


@needs_native
@pytest.mark.parametrize("metric", ["cosine", "dot", "l2"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_ivf_scan_matches_the_numpy_reference(metric, dtype):
    X, Q, rng = _data(6000, 12, 70, np.float64)
    X[50:60] = X[3]
    index = _ivf(X, metric, dtype=dtype)
    st = index._state
    Qp = np.asarray(Q, dtype=dtype)
    if metric == "cosine":
        Qp = Qp / np.linalg.norm(Qp, axis=1, keepdims=True)
    allowed = rng.random(st.n) < 0.5
    for n_probe in (1, 3, 16):
        probes = index._coarse(Qp, n_probe, st.extra)
        for mask in (None, allowed):
            got = index._scan_lists(Qp, probes, 10, mask, st)
            ref = index._search_batch(Qp, probes, 10, mask, st)
            assert_same_topk(*got, *ref, rtol=1e-5 if dtype == "float32" else 1e-12)
    full = index.search(Q, k=10, n_probe=16)
    exact = exact_search(np.asarray(index.vectors, dtype=np.float64), Q, 10,
                         "dot" if metric == "cosine" else metric)
    assert np.mean(index.ids[exact.ids] == full.ids) > 0.99


@needs_native
def test_ivf_single_query_filter_and_padding():
    X, Q, _ = _data(3000, 8, 1, np.float32)
    index = _ivf(X, "l2", n_lists=30)
    r = index.search(Q[0], k=5, n_probe=2, filter=lambda ids: ids % 2 == 0)
    assert r.ids.shape == (5,) and all(i % 2 == 0 for i in r.ids if i >= 0)
    few = index.search(Q[0], k=3000, n_probe=1)
    n_list = int(index.list_sizes[index._coarse(Q, 1)[0, 0]])
    assert (few.ids >= 0).sum() == n_list and np.isposinf(few.scores[n_list:]).all()


# ------------------------------------------------------------------ FAISS as the oracle
def _unit(a):
    return (a / np.linalg.norm(a, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("m", [1, 5, 30, 200])
def test_exact_search_matches_faiss_flat(m):
    faiss = pytest.importorskip("faiss")
    X, Q, _ = _data(30_000, 32, m)
    X, Q = _unit(X), _unit(Q)
    ip = faiss.IndexFlatIP(32)
    ip.add(X)
    s, i = ip.search(Q, 10)
    r = exact_search(X, Q, 10, "dot")
    assert_same_topk(r.ids, r.scores, i, s)
    l2 = faiss.IndexFlatL2(32)
    l2.add(X)
    d2, i2 = l2.search(Q, 10)
    index = Index(32, metric="l2")
    index.add(X)
    r2 = index.search(Q, k=10)
    assert_same_topk(r2.ids, r2.scores ** 2, i2, d2, atol=1e-4)


@pytest.mark.parametrize("n_probe", [1, 4, 16])
def test_ivf_matches_faiss_ivfflat_with_the_same_lists(n_probe):
    faiss = pytest.importorskip("faiss")
    X, Q, _ = _data(20_000, 16, 100)
    X, Q = _unit(X), _unit(Q)
    index = IVFIndex(16, metric="dot", n_lists=64)
    index.train(X)
    index.add(X)
    quant = faiss.IndexFlatIP(16)
    quant.add(index.centroids_)
    fivf = faiss.IndexIVFFlat(quant, 16, 64, faiss.METRIC_INNER_PRODUCT)
    fivf.is_trained = True  # the quantizer already holds our centroids
    fivf.add(X)
    sizes = np.array([fivf.invlists.list_size(j) for j in range(64)])
    assert np.array_equal(sizes, index.list_sizes)
    fivf.nprobe = n_probe
    s, i = fivf.search(Q, 10)
    r = index.search(Q, k=10, n_probe=n_probe)
    assert_same_topk(r.ids, r.scores, i, s)


@needs_native
def test_a_search_inside_a_pool_job_runs_on_its_own_thread():
    from dotwise._threads import worker_pool

    X, Q, _ = _data(200_000, 32, 64)
    want = topk_blocked_numpy(X, Q, 5)
    got = worker_pool().submit(lambda: topk_blocked(X, Q, 5)).result(timeout=120)
    assert_same_topk(*got, *want)


def test_overlapping_searches_leave_the_blas_threads_as_they_were():
    import threading

    from threadpoolctl import threadpool_info

    def blas_threads():
        return sorted(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")

    before = blas_threads()
    X, Q, _ = _data(100_000, 32, 40)
    errors = []

    def search():
        try:
            for _ in range(3):
                topk_blocked(X, Q, 5)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=search) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and blas_threads() == before
