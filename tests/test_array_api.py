"""Array-API input (``array_api_strict``, torch CPU tensors): same answers as NumPy, same kind out.

Every function that accepts array-API arrays is run on three kinds of input and
compared with the NumPy path on the same data:

* ``strict``  — ``array_api_strict`` arrays on its CPU device (only the standard's API);
* ``device1`` — ``array_api_strict`` arrays on its virtual ``device1``, which cannot be
  converted to NumPy at all: any hidden host copy raises, so these runs prove that
  nothing is moved to the host behind the caller's back;
* ``torch``   — torch CPU tensors (the same code path as CUDA tensors, with
  ``torch.topk`` and ``torch.linalg.solve_triangular``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import dotwise as dw
from dotwise import ShapeError
from dotwise._validation import IllConditionedWarning
from dotwise._xp import to_numpy
from dotwise.attention import MultiHeadAttention, padding_mask
from dotwise.models import PCA
from dotwise.search import Index, IVFIndex, exact_search

pytest.importorskip("array_api_compat", reason="array-api-compat (dotwise[array]) dispatches "
                                               "array-API input")

REPO = Path(__file__).resolve().parents[1]


class Backend:
    def __init__(self, name):
        self.name = name
        if name == "torch":
            self.torch = pytest.importorskip("torch", reason="torch CPU tensors are one of "
                                                             "the array-API inputs tested")
        else:
            self.xs = pytest.importorskip("array_api_strict",
                                          reason="array_api_strict is the strict input")
            self.device = self.xs.Device("device1") if name == "device1" else None

    def to(self, a):
        a = np.asarray(a)
        if self.name == "torch":
            return self.torch.from_numpy(np.ascontiguousarray(a))
        return self.xs.asarray(a, device=self.device) if self.device else self.xs.asarray(a)

    def check(self, x):
        """``x`` is of this backend's kind (and on its device)."""
        if self.name == "torch":
            assert isinstance(x, self.torch.Tensor) and x.device.type == "cpu", type(x)
        else:
            assert type(x).__module__.startswith("array_api_strict"), type(x)
            if self.device is not None:
                assert x.device == self.device
        return to_numpy(x, explicit=True)


@pytest.fixture(params=["strict", "device1", "torch"])
def be(request):
    return Backend(request.param)


def close(got, want, be, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(be.check(got), want, rtol=rtol, atol=atol)


# ------------------------------------------------------------------ vectors
VECTOR_FUNCS = ["dot", "cosine_similarity", "angle", "scalar_projection", "vector_projection"]


@pytest.mark.parametrize("name", VECTOR_FUNCS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_vector_primitives_match_numpy(be, name, dtype, rng):
    u = rng.standard_normal((4, 3, 5)).astype(dtype)
    v = rng.standard_normal((3, 5)).astype(dtype)
    fn = getattr(dw, name)
    got = fn(be.to(u), be.to(v))
    close(got, fn(u, v), be, rtol=1e-4 if dtype == np.float32 else 1e-10)
    assert str(got.dtype).endswith(np.dtype(dtype).name)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # strict's NumPy inside
def test_norm_normalize_cosine_matrix_and_extremes(be, rng):
    X = rng.standard_normal((6, 4))
    Y = rng.standard_normal((3, 4))
    close(dw.norm(be.to(X * 1e200)), dw.norm(X * 1e200), be, atol=0, rtol=1e-12)  # no overflow
    close(dw.normalize(be.to(X)), dw.normalize(X), be)
    close(dw.cosine_matrix(be.to(X), be.to(Y)), dw.cosine_matrix(X, Y), be)
    C = be.check(dw.cosine_matrix(be.to(X)))
    np.testing.assert_array_equal(np.diag(C), 1.0)
    np.testing.assert_allclose(C, dw.cosine_matrix(X), atol=1e-12)
    with pytest.raises(ValueError, match="u is a zero vector"):
        dw.cosine_similarity(be.to(np.zeros(4)), be.to(X[0]))


def test_projections_match_numpy(be, rng):
    A = rng.standard_normal((7, 3))
    A[:, 2] = A[:, 0] + A[:, 1]  # rank 2: the projection is onto the span
    b = rng.standard_normal((7, 2))
    close(dw.project(be.to(b), be.to(A)), dw.project(b, A), be, atol=1e-10)
    P = be.check(dw.projection_matrix(be.to(A)))
    np.testing.assert_allclose(P @ P, P, atol=1e-12)
    np.testing.assert_allclose(np.trace(P), 2.0, atol=1e-12)
    close(dw.linalg.complement_projection(be.to(A)), dw.linalg.complement_projection(A), be,
          atol=1e-10)


# ------------------------------------------------------------------ attention
def _qkv(rng, L, S, dtype):
    q = rng.standard_normal((2, 3, L, 8)).astype(dtype)
    k = rng.standard_normal((2, 3, S, 8)).astype(dtype)
    v = rng.standard_normal((2, 3, S, 5)).astype(dtype)
    return q, k, v


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mask_kind", ["none", "bool", "float", "float_dead", "causal",
                                       "bool_bcast"])
@pytest.mark.parametrize("L,S", [(6, 6), (4, 9), (9, 4)])
@pytest.mark.parametrize("block", [None, 3])
def test_sdpa_matches_numpy(be, dtype, mask_kind, L, S, block, rng):
    q, k, v = _qkv(rng, L, S, dtype)
    kw: dict = {}
    if mask_kind == "bool":
        m = rng.random((L, S)) > 0.4
        m[1] = False  # one fully masked query: zeros, not NaN
        kw["attn_mask"] = m
    elif mask_kind == "float":
        kw["attn_mask"] = rng.standard_normal((2, 1, L, S)).astype(dtype)
    elif mask_kind == "float_dead":  # -inf excludes: a row of them is fully masked
        m = rng.standard_normal((L, S)).astype(dtype)
        m[2] = -np.inf
        kw["attn_mask"] = m
    elif mask_kind == "bool_bcast":
        kw["attn_mask"] = padding_mask([2, S], S)[:, None]  # (B, 1, 1, S)
    elif mask_kind == "causal":
        kw["is_causal"] = True
    want = dw.scaled_dot_product_attention(q, k, v, **kw)
    kw_dev = {key: be.to(val) if isinstance(val, np.ndarray) else val for key, val in kw.items()}
    got = dw.scaled_dot_product_attention(be.to(q), be.to(k), be.to(v), block_size=block,
                                          **kw_dev)
    tol = 2e-6 if dtype == np.float32 else 1e-12
    close(got, want, be, rtol=tol, atol=tol)
    if mask_kind in ("bool", "float_dead"):
        assert np.all(be.check(got)[:, :, 1 if mask_kind == "bool" else 2] == 0)


def test_sdpa_weights_and_automatic_blocked_path(be, rng, monkeypatch):
    from dotwise.attention import _xp_sdpa

    q, k, v = _qkv(rng, 7, 11, np.float32)
    out, w = dw.scaled_dot_product_attention(be.to(q), be.to(k), be.to(v), return_weights=True)
    w0 = dw.scaled_dot_product_attention(q, k, v, return_weights=True)[1]
    close(w, w0, be)
    np.testing.assert_allclose(be.check(w).sum(-1), 1.0, atol=1e-6)
    calls = []
    real = _xp_sdpa._blocked
    monkeypatch.setattr(_xp_sdpa, "_blocked", lambda *a: calls.append(1) or real(*a))
    fused = []
    real_fused = _xp_sdpa._torch_fused
    monkeypatch.setattr(_xp_sdpa, "_torch_fused", lambda *a: fused.append(1) or real_fused(*a))
    monkeypatch.setattr(_xp_sdpa, "DENSE_MAX_SCORES", 10)
    monkeypatch.setattr(_xp_sdpa, "BLOCK_SCORES", 2 * 3 * 4 * 1024)  # several query blocks
    got = dw.scaled_dot_product_attention(be.to(q), be.to(k), be.to(v), is_causal=True)
    if be.name == "torch":  # torch's fused kernel, unless block_size asks for dotwise's
        assert fused and not calls
    else:
        assert calls and not fused, "above DENSE_MAX_SCORES the blocked path runs"
    close(got, dw.scaled_dot_product_attention(q, k, v, is_causal=True), be, atol=2e-6)


def test_sdpa_errors_name_the_argument(be, rng):
    q, k, v = _qkv(rng, 4, 5, np.float32)
    Q, K, V = be.to(q), be.to(k), be.to(v)
    with pytest.raises(ShapeError, match="q and k must have the same embedding size"):
        dw.scaled_dot_product_attention(Q, be.to(k[..., :3]), V)
    with pytest.raises(ValueError, match="is_causal=True and attn_mask"):
        dw.scaled_dot_product_attention(Q, K, V, attn_mask=be.to(np.ones((4, 5), bool)),
                                        is_causal=True)
    with pytest.raises(ShapeError, match="attn_mask of shape"):
        dw.scaled_dot_product_attention(Q, K, V, attn_mask=be.to(np.ones((3, 5), bool)))
    bad = q.copy()
    bad[0, 1, 2, 3] = np.nan
    with pytest.raises(ValueError, match=r"q must contain only finite numbers, found nan at "
                                         r"index \(0, 1, 2, 3\)"):
        dw.scaled_dot_product_attention(be.to(bad), K, V)
    with pytest.raises(TypeError, match="q must be a floating-point array"):
        dw.scaled_dot_product_attention(be.to(np.ones((4, 8), np.int64)), K, V)
    with pytest.raises(TypeError, match="q and k must come from the same array library"):
        dw.scaled_dot_product_attention(Q, k, V)


@pytest.mark.parametrize("case", ["self_causal", "cross_padding", "unbatched", "per_head",
                                  "float64", "blocked"])
def test_multihead_attention_matches_numpy(be, case, rng):
    mha = MultiHeadAttention(16, 4, random_state=0)
    mha.in_proj_bias[:] = rng.standard_normal(48)
    mha.out_proj_bias[:] = rng.standard_normal(16)
    x = rng.standard_normal((2, 5, 16)).astype(np.float32)
    c = rng.standard_normal((2, 7, 16)).astype(np.float32)
    kw: dict = {}
    args = (x,)
    if case == "self_causal":
        kw = {"is_causal": True, "need_weights": True}
    elif case == "cross_padding":
        args, kw = (x, c), {"attn_mask": padding_mask([3, 7], 7)}
    elif case == "unbatched":
        args, kw = (x[0],), {"need_weights": True}
    elif case == "per_head":
        kw = {"need_weights": True, "average_attn_weights": False}
    elif case == "float64":
        args = (x.astype(np.float64),)
    else:
        args, kw = (x, c), {"block_size": 3}
    want = mha(*args, **kw)
    got = mha(*(be.to(a) for a in args),
              **{key: be.to(val) if isinstance(val, np.ndarray) else val
                 for key, val in kw.items()})
    tol = 1e-12 if case == "float64" else 2e-6
    if kw.get("need_weights"):
        for g, w in zip(got, want, strict=True):
            close(g, w, be, rtol=tol, atol=tol)
    else:
        close(got, want, be, rtol=tol, atol=tol)


def test_multihead_attention_sees_new_weights(be, rng):
    """The device copy of the parameters is refreshed when they are replaced."""
    a, b = MultiHeadAttention(8, 2, random_state=0), MultiHeadAttention(8, 2, random_state=1)
    x = rng.standard_normal((3, 8))
    first = be.check(a(be.to(x)))
    a.load_state_dict(b.state_dict())
    np.testing.assert_allclose(be.check(a(be.to(x))), b(x), atol=1e-12)
    assert not np.allclose(first, b(x))


# ------------------------------------------------------------------ search
@pytest.mark.parametrize("metric", ["cosine", "dot", "l2"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exact_search_matches_numpy(be, metric, dtype, rng, monkeypatch):
    from dotwise.search import _xp_search

    monkeypatch.setattr(_xp_search, "BLOCK_SCORES", 5 * 37)  # many blocks: the merge is tested
    X = rng.standard_normal((300, 12)).astype(dtype)
    Q = rng.standard_normal((5, 12)).astype(dtype)
    for kw in ({}, {"filter": lambda ids: ids % 3 == 0}, {"filter": {1, 5, 7}}):
        want = exact_search(X, Q, k=6, metric=metric, **kw)
        got = exact_search(be.to(X), be.to(Q), k=6, metric=metric, **kw)
        np.testing.assert_array_equal(be.check(got.ids), want.ids)
        close(got.scores, want.scores, be, rtol=1e-5, atol=1e-5)
    one = exact_search(be.to(X), be.to(Q[0]), k=400, metric=metric)  # k > n: padding
    ids = be.check(one.ids)
    assert ids.shape == (400,) and np.all(ids[300:] == -1)
    np.testing.assert_array_equal(ids[:300], exact_search(X, Q[0], k=400, metric=metric).ids[:300])
    assert np.all(np.isinf(be.check(one.scores)[300:]))


def test_exact_search_ties_go_to_the_smaller_id(be, rng, monkeypatch):
    from dotwise.search import _xp_search

    monkeypatch.setattr(_xp_search, "BLOCK_SCORES", 8)
    base = rng.standard_normal((4, 6))
    X = np.concatenate([base, base, base])  # rows i, i + 4, i + 8 are equal
    got = exact_search(be.to(X), be.to(base[:2]), k=3, metric="dot")
    np.testing.assert_array_equal(be.check(got.ids), exact_search(X, base[:2], k=3,
                                                                   metric="dot").ids)
    np.testing.assert_array_equal(be.check(got.ids)[:, 0], [0, 1])


@pytest.mark.parametrize("metric", ["cosine", "dot", "l2"])
def test_index_keeps_vectors_on_the_device(be, metric, rng, tmp_path):
    X = rng.standard_normal((200, 8)).astype(np.float32)
    Q = rng.standard_normal((4, 8)).astype(np.float32)
    ref, dev = Index(8, metric=metric), Index(8, metric=metric)
    ids = np.arange(200) * 3 + 1
    Y = rng.standard_normal((5, 8)).astype(np.float32)  # new directions: no near-ties
    for index, conv in ((ref, np.asarray), (dev, be.to)):
        index.add(conv(X), ids=ids)
        index.remove([4, 7, 100])
        index.add(conv(Y[:3]), ids=[1, 10, 13], upsert=True)
        index.add(conv(Y[3:]))
    be.check(dev.vectors)
    assert len(dev) == len(ref) and 10 in dev and 4 not in dev
    np.testing.assert_array_equal(dev.ids, ref.ids)
    for flt in (None, lambda i: i % 2 == 0):
        got, want = dev.search(be.to(Q), k=5, filter=flt), ref.search(Q, k=5, filter=flt)
        np.testing.assert_array_equal(be.check(got.ids), want.ids)
        close(got.scores, want.scores, be, rtol=1e-5, atol=1e-5)
    close(dev.get([10, 13]), ref.get([10, 13]), be)
    e, e0 = dev.explain(be.to(Q[0]), 10), ref.explain(Q[0], 10)
    np.testing.assert_array_equal(e.dims, e0.dims)
    assert e.score == pytest.approx(e0.score, rel=1e-5)
    saved = Index.load(dev.save(tmp_path / "idx"))  # save: the documented host copy
    np.testing.assert_array_equal(saved.search(Q, k=5).ids, want.ids if flt is None else
                                  ref.search(Q, k=5).ids)


def test_index_refuses_mixed_places(be, rng):
    X = rng.standard_normal((10, 4))
    host, dev = Index(4), Index(4)
    host.add(X)
    dev.add(be.to(X))
    with pytest.raises(TypeError, match="queries is a numpy.ndarray .* keeps its vectors as"):
        dev.search(X[:2])
    with pytest.raises(TypeError, match="keeps its vectors as NumPy arrays on the host"):
        host.search(be.to(X[:2]))
    with pytest.raises(TypeError, match="already holds 10 vectors as NumPy arrays"):
        host.add(be.to(X))
    with pytest.raises(TypeError, match="vectors is a numpy.ndarray"):
        dev.add(X)
    with pytest.raises(TypeError, match="IVFIndex computes on NumPy arrays only"):
        IVFIndex(4, n_lists=2).train(be.to(X))
    with pytest.raises(ShapeError, match="must have 4 columns"):
        dev.search(be.to(X[:, :3]))


# ------------------------------------------------------------------ least squares
@pytest.mark.parametrize("method", ["auto", "normal", "qr", "svd", "pinv"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("two_d", [False, True])
def test_lstsq_matches_numpy(be, method, dtype, two_d, rng):
    A = rng.standard_normal((40, 5)).astype(dtype)
    b = rng.standard_normal((40, 3) if two_d else 40).astype(dtype)
    want = dw.lstsq(A, b, method=method)
    got = dw.lstsq(be.to(A), be.to(b), method=method)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    close(got.x, want.x, be, rtol=tol, atol=tol)
    assert got.method == want.method and got.rank == want.rank
    res = got.residual_norm if not two_d else be.check(got.residual_norm)
    np.testing.assert_allclose(res, want.residual_norm, rtol=tol)
    # exact cond (singular values) vs LAPACK's 1-norm estimate: within a factor of n
    assert want.cond / 5 <= got.cond <= want.cond * 5
    assert str(got.x.dtype).endswith(np.dtype(dtype).name)


def test_lstsq_rank_deficient_wide_and_extreme(be, rng):
    A = rng.standard_normal((30, 4))
    A[:, 3] = A[:, 2]
    b = rng.standard_normal(30)
    with pytest.warns(IllConditionedWarning, match="rank-deficient"):
        got = dw.lstsq(be.to(A), be.to(b))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IllConditionedWarning)
        want = dw.lstsq(A, b)
    assert got.rank == 3 and got.method == want.method == "svd"
    close(got.x, want.x, be, atol=1e-10)  # the minimum-norm solution
    for method in ("qr", "normal"):
        with pytest.raises(np.linalg.LinAlgError, match=r"A \(shape \(30, 4\)\) is"):
            dw.lstsq(be.to(A), be.to(b), method=method)
    W = rng.standard_normal((3, 7))
    for method in ("auto", "qr", "svd"):
        close(dw.lstsq(be.to(W), be.to(b[:3]), method=method).x, dw.lstsq(W, b[:3]).x, be,
              atol=1e-10)
    big = rng.standard_normal((20, 3)) * 1e200
    close(dw.lstsq(be.to(big), be.to(b[:20])).x, dw.lstsq(big, b[:20]).x, be, rtol=1e-10,
          atol=0)
    with pytest.raises(ShapeError, match="A and b must have the same number of rows"):
        dw.lstsq(be.to(A), be.to(b[:5]))


@pytest.mark.parametrize("alpha", [1.0, 0.0, "per_column", "device"])
@pytest.mark.parametrize("shape", [(60, 4), (6, 4), (3, 7)])
def test_ridge_matches_numpy(be, alpha, shape, rng):
    A = rng.standard_normal(shape)
    b = rng.standard_normal((shape[0], 3))
    a = {"per_column": [0.0, 1.0, 5.0], "device": be.to(np.array([0.5, 1.0, 2.0]))}.get(
        alpha, alpha)
    a_np = {"per_column": [0.0, 1.0, 5.0], "device": [0.5, 1.0, 2.0]}.get(alpha, alpha)
    close(dw.ridge(be.to(A), be.to(b), alpha=a), dw.ridge(A, b, alpha=a_np), be, atol=1e-10)
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        dw.ridge(be.to(A), be.to(b), alpha=-1.0)


# ------------------------------------------------------------------ PCA
@pytest.mark.parametrize("solver,n_components", [("full", 3), ("full", 0.9), ("full", None),
                                                 ("covariance_eigh", 3),
                                                 ("covariance_eigh", 0.95),
                                                 ("randomized", 3), ("auto", 2)])
@pytest.mark.parametrize("whiten", [False, True])
def test_pca_matches_numpy(be, solver, n_components, whiten, rng):
    scales = np.linspace(6, 0.2, 10)
    X = rng.standard_normal((400, 10)) * scales + 2.0
    kw = dict(n_components=n_components, svd_solver=solver, whiten=whiten, random_state=0)
    ref, dev = PCA(**kw).fit(X), PCA(**kw).fit(be.to(X))
    assert dev.n_components_ == ref.n_components_ and dev.svd_solver_ == ref.svd_solver_
    for attr in ("components_", "explained_variance_", "explained_variance_ratio_",
                 "singular_values_", "mean_"):
        close(getattr(dev, attr), getattr(ref, attr), be, rtol=1e-8, atol=1e-8)
    assert dev.noise_variance_ == pytest.approx(ref.noise_variance_, rel=1e-8, abs=1e-12)
    Z = dev.transform(be.to(X))
    close(Z, ref.transform(X), be, rtol=1e-7, atol=1e-7)
    close(PCA(**kw).fit_transform(be.to(X)), ref.fit_transform(X), be, rtol=1e-7, atol=1e-7)
    close(dev.inverse_transform(Z), ref.inverse_transform(ref.transform(X)), be, rtol=1e-7,
          atol=1e-7)


def test_pca_refuses_mixed_places_and_bad_input(be, rng):
    X = rng.standard_normal((50, 4))
    dev = PCA(2).fit(be.to(X))
    with pytest.raises(TypeError, match="X is a numpy.ndarray .* but this PCA was fitted on "
                                        "another array library or device"):
        dev.transform(X)
    with pytest.raises(TypeError, match="but this PCA was fitted on another"):
        PCA(2).fit(X).transform(be.to(X))
    with pytest.raises(TypeError, match="but this PCA was fitted on another"):
        dev.inverse_transform(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="X has 3 features, but PCA is expecting 4"):
        dev.transform(be.to(X[:, :3]))
    with pytest.raises(ValueError, match="minimum of 2 is required"):
        PCA(1).fit(be.to(X[:1]))
    with pytest.raises(ShapeError, match="X must be a 2-D matrix"):
        PCA(1).fit(be.to(X[0]))


# ------------------------------------------------------------------ no hidden host copy
def test_strict_devices_must_match(rng):
    xs = pytest.importorskip("array_api_strict", reason="array_api_strict has virtual devices")
    u = xs.asarray(rng.standard_normal(3))
    v = xs.asarray(rng.standard_normal(3), device=xs.Device("device1"))
    with pytest.raises(ValueError, match="u and v must live on the same device"):
        dw.dot(u, v)


def test_torch_input_is_never_converted_to_numpy(rng, monkeypatch):
    """Every array-API entry point runs with NumPy's converters booby-trapped for tensors."""
    torch = pytest.importorskip("torch", reason="torch CPU tensors are the input here")
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a))  # noqa: E731
    X = rng.standard_normal((60, 6))
    q = t(rng.standard_normal((2, 5, 8)).astype(np.float32))
    mha = MultiHeadAttention(8, 2, random_state=0)
    mha(q)  # the parameters' device copy is made once, from NumPy: not the data
    index = Index(6)
    index.add(t(X))
    calls = {
        "dot": lambda: dw.dot(t(X), t(X)),
        "cosine_matrix": lambda: dw.cosine_matrix(t(X)),
        "vector_projection": lambda: dw.vector_projection(t(X), t(X[::-1])),
        "project": lambda: dw.project(t(X[:, 0]), t(X[:, 1:])),
        "sdpa": lambda: dw.scaled_dot_product_attention(q, q, q, is_causal=True),
        "sdpa_blocked": lambda: dw.scaled_dot_product_attention(q, q, q, block_size=2),
        "mha": lambda: mha(q),
        "exact_search": lambda: exact_search(t(X), t(X[:3]), k=4).ids,
        "index": lambda: index.search(t(X[:3]), k=4).scores,
        "lstsq": lambda: dw.lstsq(t(X), t(X[:, 0])).x,
        "ridge": lambda: dw.ridge(t(X), t(X[:, :2]), alpha=2.0),
        "pca": lambda: PCA(3).fit(t(X)).transform(t(X)),
    }

    def trap(real):
        def inner(obj, *args, **kwargs):
            if isinstance(obj, torch.Tensor):
                raise AssertionError("a torch tensor was converted to NumPy")
            return real(obj, *args, **kwargs)
        return inner

    for name in ("asarray", "array", "asanyarray", "ascontiguousarray", "from_dlpack"):
        monkeypatch.setattr(np, name, trap(getattr(np, name)))
    for name, call in calls.items():
        out = call()
        assert isinstance(out, torch.Tensor), name


def test_numpy_only_functions_refuse_foreign_arrays():
    torch = pytest.importorskip("torch", reason="a torch tensor is the foreign array here")
    with pytest.raises(TypeError, match=r"A is a torch.Tensor of shape \(3, 3\) and dtype "
                                        r"float32 on device cpu; this function computes on "
                                        r"NumPy arrays only"):
        dw.inspect(torch.ones(3, 3))


def test_numpy_input_keeps_its_path(rng, monkeypatch):
    """NumPy arrays never reach the array-API modules."""
    from dotwise import _xp

    def boom(*a, **k):
        raise AssertionError("NumPy input went through the array-API dispatch")

    monkeypatch.setattr(_xp, "_compat", boom)
    X = rng.standard_normal((30, 4))
    dw.lstsq(X, X[:, 0])
    dw.ridge(X, X[:, :2])
    exact_search(X, X[:2], k=3)
    PCA(2).fit(X).transform(X)
    dw.cosine_matrix(X)
    q = X[None].astype(np.float32)
    dw.scaled_dot_product_attention(q, q, q)


# ------------------------------------------------------------------ the GPU check script
@pytest.mark.slow
def test_gpu_check_cpu_smoke(tmp_path):
    pytest.importorskip("torch", reason="benchmarks/gpu_check.py runs on torch tensors")
    out = tmp_path / "gpu.json"
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "gpu_check.py"),
                           "--cpu-smoke", "--out", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["device"] == "cpu" and report["smoke"] is True
    checks = report["checks"]
    assert {c["function"] for c in checks} >= {
        "scaled_dot_product_attention", "MultiHeadAttention", "exact_search", "Index",
        "lstsq", "ridge", "PCA", "cosine_matrix"}
    assert all(c["ok"] for c in checks), [c for c in checks if not c["ok"]]
    assert {t["case"] for t in report["timings"]} >= {"attention", "exact_search", "lstsq",
                                                       "pca"}
    assert "|" in proc.stdout


def test_gpu_check_without_cuda_exits_cleanly(tmp_path):
    torch = pytest.importorskip("torch", reason="benchmarks/gpu_check.py needs torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present: the script would run for real")
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "gpu_check.py"),
                           "--out", str(tmp_path / "gpu.json")],
                          capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.returncode == 2
    assert "no CUDA device" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "gpu.json").exists()
