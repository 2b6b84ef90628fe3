"""Attention against a plain NumPy reference of the formula, properties and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dotwise as dw
from dotwise import ShapeError
from dotwise.attention import (
    attention_entropy,
    causal_mask,
    padding_mask,
    scaled_dot_product_attention,
    scaling_experiment,
)

sdpa = scaled_dot_product_attention


def reference(q, k, v, attn_mask=None, is_causal=False, scale=None):
    """The formula, written the obvious way in float64 (fully masked rows -> zeros)."""
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (q, k, v))
    L, S = q.shape[-2], k.shape[-2]
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    bias = np.zeros((L, S))
    if is_causal:
        bias[np.triu_indices(L, 1, S)] = -np.inf
    if attn_mask is not None and np.asarray(attn_mask).dtype == bool:
        bias = np.where(attn_mask, bias, -np.inf)
    elif attn_mask is not None:
        bias = bias + attn_mask
    scores = q @ np.swapaxes(k, -1, -2) * scale + bias
    out_w = np.zeros(scores.shape)
    row_max = scores.max(axis=-1, keepdims=True)
    live = np.isfinite(row_max)[..., 0]
    e = np.exp(scores - np.where(np.isfinite(row_max), row_max, 0))
    out_w = e / np.where(live[..., None], e.sum(axis=-1, keepdims=True), 1)
    return out_w @ v, out_w


def _qkv(rng, lead, L, S, E, Ev, dtype=np.float64):
    return (rng.standard_normal((*lead, L, E)).astype(dtype),
            rng.standard_normal((*lead, S, E)).astype(dtype),
            rng.standard_normal((*lead, S, Ev)).astype(dtype))


@settings(max_examples=40, deadline=None)
@given(L=st.integers(1, 9), S=st.integers(1, 9), E=st.integers(1, 6), Ev=st.integers(1, 5),
       lead=st.sampled_from([(), (2,), (2, 3)]), causal=st.booleans(),
       block=st.sampled_from([None, 1, 2, 4, 64]), seed=st.integers(0, 2**16))
def test_matches_reference_for_random_shapes(L, S, E, Ev, lead, causal, block, seed):
    rng = np.random.default_rng(seed)
    q, k, v = _qkv(rng, lead, L, S, E, Ev)
    expected, w_ref = reference(q, k, v, is_causal=causal)
    got = sdpa(q, k, v, is_causal=causal, block_size=block)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert got.shape == (*lead, L, Ev)
    _, w = sdpa(q, k, v, is_causal=causal, return_weights=True)
    np.testing.assert_allclose(w, w_ref, rtol=1e-12, atol=1e-14)


@settings(max_examples=30, deadline=None)
@given(L=st.integers(1, 8), S=st.integers(1, 8), kind=st.sampled_from(["bool", "float"]),
       mask_shape=st.sampled_from(["LS", "S", "1S", "BLS", "B1S"]),
       block=st.sampled_from([None, 1, 3]), seed=st.integers(0, 2**16))
def test_masks_match_reference(L, S, kind, mask_shape, block, seed):
    rng = np.random.default_rng(seed)
    q, k, v = _qkv(rng, (2,), L, S, 4, 3)
    shape = {"LS": (L, S), "S": (S,), "1S": (1, S), "BLS": (2, L, S), "B1S": (2, 1, S)}[mask_shape]
    if kind == "bool":
        mask = rng.random(shape) > 0.4
    else:
        mask = rng.standard_normal(shape) * 2
        mask[rng.random(shape) > 0.7] = -np.inf
    expected, _ = reference(q, k, v, attn_mask=mask)
    got = sdpa(q, k, v, attn_mask=mask, block_size=block)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert np.isfinite(got).all()


@pytest.mark.parametrize("L,S", [(3, 7), (7, 3), (5, 5)])
@pytest.mark.parametrize("block", [None, 2])
def test_causal_is_top_left_aligned_when_L_differs_from_S(L, S, block, rng):
    q, k, v = _qkv(rng, (), L, S, 4, 2)
    got = sdpa(q, k, v, is_causal=True, block_size=block)
    same = sdpa(q, k, v, attn_mask=causal_mask(L, S), block_size=block)
    np.testing.assert_allclose(got, same, rtol=1e-13, atol=1e-13)
    # Row 0 sees only key 0, so its output is v[0] exactly.
    np.testing.assert_allclose(got[0], v[0], rtol=1e-13)
    _, w = sdpa(q, k, v, is_causal=True, return_weights=True)
    assert not w[np.triu_indices(L, 1, S)].any()


@pytest.mark.parametrize("kind", ["bool", "float"])
@pytest.mark.parametrize("block", [None, 1, 2, 16])
def test_fully_masked_rows_give_zeros_not_nan(kind, block, rng):
    q, k, v = _qkv(rng, (2,), 4, 5, 3, 2)
    keep = np.ones((4, 5), bool)
    keep[1] = False
    mask = keep if kind == "bool" else np.where(keep, 0.0, -np.inf)
    out = sdpa(q, k, v, attn_mask=mask, block_size=block)
    assert np.isfinite(out).all()
    assert not out[:, 1].any()
    np.testing.assert_allclose(out[:, [0, 2, 3]], reference(q, k, v, mask)[0][:, [0, 2, 3]],
                               rtol=1e-12)
    _, w = sdpa(q, k, v, attn_mask=mask, return_weights=True)
    assert not w[:, 1].any()


def test_every_key_block_masked_for_a_row_until_the_last(rng):
    # The row's only visible key is in the last block: the running max must start at -inf.
    q, k, v = _qkv(rng, (), 3, 10, 4, 2)
    mask = np.zeros((3, 10), bool)
    mask[:, 9] = True
    out = sdpa(q, k, v, attn_mask=mask, block_size=3)
    np.testing.assert_allclose(out, np.broadcast_to(v[9], (3, 2)), rtol=1e-13)


def test_empty_sequences_give_empty_or_zero_outputs(rng):
    q, k, v = _qkv(rng, (), 3, 0, 4, 2)
    assert sdpa(q, k, v).shape == (3, 2) and not sdpa(q, k, v).any()
    q, k, v = _qkv(rng, (), 0, 5, 4, 2)
    assert sdpa(q, k, v).shape == (0, 2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("causal", [False, True])
def test_dense_and_blocked_agree_to_rounding(dtype, causal):
    rng = np.random.default_rng(1)
    q, k, v = _qkv(rng, (3,), 300, 700, 16, 8, dtype)
    dense = sdpa(q, k, v, is_causal=causal, return_weights=True)[0]
    for block in (1, 7, 64, 1024):
        if block == 1 and dtype == np.float32:
            continue  # 700 blocks of 1 key: fine, but slow; covered in float64
        blocked = sdpa(q, k, v, is_causal=causal, block_size=block)
        assert blocked.dtype == dtype
        tol = 2e-6 if dtype == np.float32 else 1e-13
        np.testing.assert_allclose(blocked, dense, rtol=tol, atol=tol)
    auto = sdpa(q, k, v, is_causal=causal)  # L*S large: the automatic blocked path
    np.testing.assert_allclose(auto, dense, rtol=2e-6 if dtype == np.float32 else 1e-13,
                               atol=2e-6 if dtype == np.float32 else 1e-13)


@pytest.mark.parametrize("n_threads", [1, 2, 3])
def test_thread_count_does_not_change_the_result(n_threads, rng):
    q, k, v = _qkv(rng, (2, 2), 600, 300, 8, 4)
    base = sdpa(q, k, v, block_size=100, n_threads=1)
    np.testing.assert_array_equal(sdpa(q, k, v, block_size=100, n_threads=n_threads), base)


def test_dtype_follows_input_and_mixed_promotes(rng):
    q, k, v = _qkv(rng, (), 4, 5, 3, 2, np.float32)
    assert sdpa(q, k, v).dtype == np.float32
    assert sdpa(q, k, v, return_weights=True)[1].dtype == np.float32
    assert sdpa(q, k, v, attn_mask=np.zeros((4, 5))).dtype == np.float32
    assert sdpa(q.astype(np.float64), k, v).dtype == np.float64
    assert sdpa(q.tolist(), k.tolist(), v.tolist()).dtype == np.float64


def test_scale_defaults_to_inverse_sqrt_E_and_can_be_set(rng):
    q, k, v = _qkv(rng, (), 4, 5, 9, 2)
    np.testing.assert_allclose(sdpa(q, k, v), sdpa(q, k, v, scale=1 / 3), rtol=1e-14)
    np.testing.assert_allclose(sdpa(q, k, v, scale=0.7), reference(q, k, v, scale=0.7)[0],
                               rtol=1e-12)
    # scale 0: uniform weights, the output is the mean of the values.
    np.testing.assert_allclose(sdpa(q, k, v, scale=0.0), np.broadcast_to(v.mean(0), (4, 2)),
                               rtol=1e-13)


def test_broadcasting_batch_axes(rng):
    q = rng.standard_normal((2, 3, 4, 5))
    k = rng.standard_normal((1, 3, 6, 5))
    v = rng.standard_normal((6, 2))
    got = sdpa(q, k, v)
    assert got.shape == (2, 3, 4, 2)
    np.testing.assert_allclose(got[1, 2], sdpa(q[1, 2], k[0, 2], v), rtol=1e-13)


# ----------------------------------------------------------------------------- properties
@settings(max_examples=25, deadline=None)
@given(L=st.integers(1, 10), S=st.integers(1, 12), seed=st.integers(0, 2**16),
       causal=st.booleans())
def test_weights_are_distributions_and_output_is_in_the_convex_hull(L, S, seed, causal):
    rng = np.random.default_rng(seed)
    q, k, v = _qkv(rng, (), L, S, 5, 3)
    q *= 3  # sharper weights
    out, w = sdpa(q, k, v, is_causal=causal, return_weights=True)
    assert (w >= 0).all()
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(out, w @ v, rtol=1e-12, atol=1e-12)
    # Convex hull: every output row is a convex combination of the v rows, so it is
    # within each coordinate's range and, for any direction u, u·out <= max_j u·v_j.
    assert (out >= v.min(0) - 1e-12).all() and (out <= v.max(0) + 1e-12).all()
    u = rng.standard_normal((7, 3))
    assert ((out @ u.T) <= (v @ u.T).max(axis=0) + 1e-12).all()


@settings(max_examples=25, deadline=None)
@given(S=st.integers(2, 12), seed=st.integers(0, 2**16), block=st.sampled_from([None, 3]))
def test_permuting_keys_with_values_leaves_the_output_unchanged(S, seed, block):
    rng = np.random.default_rng(seed)
    q, k, v = _qkv(rng, (2,), 4, S, 3, 2)
    mask = rng.random((4, S)) > 0.3
    perm = rng.permutation(S)
    a = sdpa(q, k, v, attn_mask=mask, block_size=block)
    b = sdpa(q, k[:, perm], v[:, perm], attn_mask=mask[:, perm], block_size=block)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


def test_large_scores_do_not_overflow(rng):
    q, k, v = _qkv(rng, (), 4, 6, 3, 2, np.float32)
    out = sdpa(q * 1e3, k * 1e3, v)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, reference(q * 1e3, k * 1e3, v)[0], rtol=1e-4, atol=1e-5)


def test_top_level_names():
    assert dw.scaled_dot_product_attention is scaled_dot_product_attention
    assert dw.causal_mask is causal_mask and dw.padding_mask is padding_mask
    assert dw.MultiHeadAttention.__name__ == "MultiHeadAttention"


# --------------------------------------------------------------------------- masks helpers
def test_causal_and_padding_masks():
    np.testing.assert_array_equal(causal_mask(3, 5), np.tril(np.ones((3, 5), bool)))
    np.testing.assert_array_equal(causal_mask(4), np.tril(np.ones((4, 4), bool)))
    m = padding_mask([0, 2, 4], 4)
    assert m.shape == (3, 1, 4)
    np.testing.assert_array_equal(m[:, 0].sum(axis=1), [0, 2, 4])
    with pytest.raises(ValueError, match=r"lengths must lie in \[0, S\] = \[0, 4\], got lengths\[1\] = 5"):
        padding_mask([2, 5], 4)
    with pytest.raises(ShapeError, match="lengths must be a 1-D sequence of integers"):
        padding_mask([[1, 2]], 4)
    with pytest.raises(ShapeError, match="lengths must be a 1-D sequence of integers"):
        padding_mask([1.5], 4)
    with pytest.raises(ValueError, match="L must be >= 0, got -1"):
        causal_mask(-1)
    with pytest.raises(TypeError, match="S must be an integer"):
        causal_mask(3, 2.5)


def test_padding_mask_zeroes_the_padding_keys_contribution(rng):
    q, k, v = _qkv(rng, (2,), 3, 5, 4, 2)
    out = sdpa(q, k, v, attn_mask=padding_mask([3, 5], 5))
    np.testing.assert_allclose(out[0], sdpa(q[0], k[0, :3], v[0, :3]), rtol=1e-13)
    np.testing.assert_allclose(out[1], sdpa(q[1], k[1], v[1]), rtol=1e-13)


# ------------------------------------------------------------------------------ diagnostics
def test_attention_entropy_bounds_and_errors():
    w = dw.softmax(np.random.default_rng(0).standard_normal((5, 8)))
    h = attention_entropy(w)
    assert h.shape == (5,) and (h >= 0).all() and (h <= np.log(8) + 1e-12).all()
    np.testing.assert_allclose(attention_entropy(np.eye(3)), 0.0)
    np.testing.assert_allclose(attention_entropy(np.full((2, 4), 0.25), normalized=True), 1.0)
    np.testing.assert_allclose(attention_entropy(w.T, axis=0), h)
    assert attention_entropy(np.zeros((1, 3)))[0] == 0.0  # a fully masked row
    with pytest.raises(ValueError, match="must sum to 1.*row \\(0,\\) sums to 2"):
        attention_entropy([[1.0, 1.0]])
    with pytest.raises(ValueError, match="weights must be non-negative"):
        attention_entropy([[1.5, -0.5]])
    with pytest.raises(ValueError, match="axis must be in"):
        attention_entropy([[1.0]], axis=2)


def test_scaling_experiment_shows_why_we_divide_by_sqrt_d():
    r = scaling_experiment([4, 64, 1024], random_state=0)
    np.testing.assert_allclose(r.score_std_unscaled / np.sqrt(r.dims), 1.0, atol=0.1)
    np.testing.assert_allclose(r.score_std_scaled, 1.0, atol=0.1)
    assert r.entropy_unscaled[-1] < 0.3 < r.entropy_scaled.min()
    assert np.all(np.diff(r.entropy_unscaled) < 0)
    assert np.ptp(r.entropy_scaled) < 0.2
    assert len(r.rows()) == 3 and r.uniform_entropy == pytest.approx(np.log(64))
    with pytest.raises(ShapeError, match="dims must be a non-empty 1-D sequence"):
        scaling_experiment([0, 4])


# --------------------------------------------------------------------------------- bad input
def test_bad_input_messages(rng):
    q, k, v = _qkv(rng, (), 4, 5, 3, 2)
    with pytest.raises(ShapeError, match=r"same embedding size E.*q has shape \(4, 3\), "
                                         r"k has shape \(5, 4\)"):
        sdpa(q, rng.standard_normal((5, 4)), v)
    with pytest.raises(ShapeError, match=r"same number of keys S.*k has shape \(5, 3\), "
                                         r"v has shape \(6, 2\)"):
        sdpa(q, k, rng.standard_normal((6, 2)))
    with pytest.raises(ShapeError, match=r"attn_mask of shape \(3, 5\) does not broadcast to "
                                         r"the scores' shape \(4, 5\)"):
        sdpa(q, k, v, attn_mask=np.ones((3, 5), bool))
    with pytest.raises(ShapeError, match=r"attn_mask of shape \(2, 4, 5\) does not broadcast"):
        sdpa(q, k, v, attn_mask=np.ones((2, 4, 5), bool))  # would grow the batch
    with pytest.raises(ShapeError, match="leading .* axes of q, k and v must broadcast"):
        sdpa(rng.standard_normal((2, 4, 3)), rng.standard_normal((3, 5, 3)), v)
    with pytest.raises(TypeError, match=r"q must be a floating-point array.*dtype int64.*astype"):
        sdpa(np.ones((4, 3), dtype=np.int64), k, v)
    with pytest.raises(TypeError, match="v must contain numbers"):
        sdpa(q, k, np.array([["a", "b"]] * 5))
    with pytest.raises(TypeError, match="float16"):
        sdpa(q.astype(np.float16), k, v)
    with pytest.raises(ShapeError, match="k must have at least 2 dimension"):
        sdpa(q, np.ones(3), v)
    bad = q.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"q must contain only finite numbers, found nan at "
                                         r"index \(2, 1\)"):
        sdpa(bad, k, v)
    bad_v = v.copy()
    bad_v[0, 0] = np.inf
    with pytest.raises(ValueError, match="v must contain only finite numbers, found inf"):
        sdpa(q, k, bad_v)
    with pytest.raises(ValueError, match="is_causal=True and attn_mask cannot be used together"):
        sdpa(q, k, v, attn_mask=np.ones((4, 5), bool), is_causal=True)
    with pytest.raises(ValueError, match="block_size must be >= 1, got 0"):
        sdpa(q, k, v, block_size=0)
    with pytest.raises(TypeError, match="block_size must be an integer"):
        sdpa(q, k, v, block_size=2.5)
    with pytest.raises(ValueError, match="return_weights=True needs the full"):
        sdpa(q, k, v, block_size=2, return_weights=True)
    with pytest.raises(TypeError, match="attn_mask must be boolean.*or floating.*astype\\(bool\\)"):
        sdpa(q, k, v, attn_mask=np.ones((4, 5), dtype=np.int64))
    with pytest.raises(ValueError, match="attn_mask must not contain NaN"):
        sdpa(q, k, v, attn_mask=np.full((4, 5), np.nan))
    with pytest.raises(TypeError, match="scale must be a finite real number"):
        sdpa(q, k, v, scale=np.inf)
    with pytest.raises(TypeError, match="is_causal must be True or False"):
        sdpa(q, k, v, is_causal="yes")
    with pytest.raises(ValueError, match="n_threads must be >= 1"):
        sdpa(q, k, v, n_threads=0)


def test_blocked_path_memory_does_not_grow_with_L_times_S():
    import tracemalloc

    rng = np.random.default_rng(0)
    L = 4096
    q, k, v = (rng.standard_normal((L, 16), dtype=np.float32) for _ in range(3))
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        sdpa(q, k, v, is_causal=True, block_size=512, n_threads=2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    dense_scores = L * L * 4  # 64 MiB
    # Score/flag buffers (256 x 512) per thread, accumulators and the (L, 16) output.
    assert peak < 4 * 2**20, f"blocked path peaked at {peak / 2**20:.1f} MiB"
    assert peak < dense_scores / 16
