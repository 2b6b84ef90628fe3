"""PyTorch as the oracle: SDPA outputs and MultiHeadAttention with copied weights."""

from __future__ import annotations

import numpy as np
import pytest

from dotwise import ShapeError
from dotwise.attention import (
    MultiHeadAttention,
    causal_mask,
    padding_mask,
    scaled_dot_product_attention,
)

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _t(x):
    return torch.from_numpy(np.ascontiguousarray(x))


def _qkv(rng, shape_q, shape_k, Ev, dtype):
    q = rng.standard_normal(shape_q).astype(dtype)
    k = rng.standard_normal(shape_k).astype(dtype)
    v = rng.standard_normal((*shape_k[:-1], Ev)).astype(dtype)
    return q, k, v


TOL = {np.float32: 2e-6, np.float64: 1e-12}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mask_kind", ["none", "bool", "float", "causal", "bool_bcast"])
@pytest.mark.parametrize("L,S", [(6, 6), (4, 9), (9, 4)])
@pytest.mark.parametrize("block", [None, 3])
def test_sdpa_matches_torch(dtype, mask_kind, L, S, block, rng):
    q, k, v = _qkv(rng, (2, 3, L, 8), (2, 3, S, 8), 5, dtype)
    kwargs: dict = {}
    if mask_kind == "bool":
        m = rng.random((2, 3, L, S)) > 0.3
        m[0, 0, 1] = False  # one fully masked row
        kwargs["attn_mask"] = m
    elif mask_kind == "bool_bcast":
        kwargs["attn_mask"] = rng.random((2, 1, 1, S)) > 0.3
    elif mask_kind == "float":
        m = rng.standard_normal((L, S)).astype(dtype)
        m[rng.random((L, S)) > 0.7] = -np.inf
        kwargs["attn_mask"] = m
    elif mask_kind == "causal":
        kwargs["is_causal"] = True
    expected = F.scaled_dot_product_attention(
        _t(q), _t(k), _t(v),
        **{key: (_t(val) if key == "attn_mask" else val) for key, val in kwargs.items()},
    ).numpy()
    got = scaled_dot_product_attention(q, k, v, block_size=block, **kwargs)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, expected, rtol=TOL[dtype] * 10, atol=TOL[dtype])


def test_fully_masked_rows_are_zeros_in_torch_too(rng):
    # dotwise documents zeros; check what torch 2.13's CPU kernel actually gives.
    q, k, v = _qkv(rng, (3, 4), (5, 4), 2, np.float32)
    m = np.ones((3, 5), bool)
    m[1] = False
    torch_out = F.scaled_dot_product_attention(_t(q), _t(k), _t(v), attn_mask=_t(m)).numpy()
    ours = scaled_dot_product_attention(q, k, v, attn_mask=m)
    assert not np.isnan(ours).any()
    np.testing.assert_allclose(ours, np.nan_to_num(torch_out), atol=2e-6)


def test_blocked_path_matches_torch_on_a_long_sequence(rng):
    q, k, v = _qkv(rng, (2, 1500, 32), (2, 1300, 32), 16, np.float32)
    for causal in (False, True):
        expected = F.scaled_dot_product_attention(_t(q), _t(k), _t(v), is_causal=causal).numpy()
        got = scaled_dot_product_attention(q, k, v, is_causal=causal)  # automatic blocked path
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=3e-6)


# ----------------------------------------------------------------------- MultiHeadAttention
def _pair(E=16, H=4, bias=True, seed=0):
    ours = MultiHeadAttention(E, H, bias=bias, random_state=seed, dtype=np.float64)
    ref = torch.nn.MultiheadAttention(E, H, bias=bias, batch_first=True, dtype=torch.float64)
    ref.eval()
    with torch.no_grad():  # random biases too, so that they are really tested
        for p in ref.parameters():
            p.copy_(torch.randn_like(p) * 0.3)
    ours.load_state_dict(ref.state_dict())
    return ours, ref


@pytest.mark.parametrize("bias", [True, False])
def test_mha_self_attention_matches_torch(bias, rng):
    ours, ref = _pair(bias=bias)
    x = rng.standard_normal((3, 7, 16))
    y_ref, w_ref = ref(_t(x), _t(x), _t(x), need_weights=True)
    y, w = ours(x, need_weights=True)
    np.testing.assert_allclose(y, y_ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w, w_ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert w.shape == (3, 7, 7)


def test_mha_cross_attention_per_head_weights_and_padding_match_torch(rng):
    ours, ref = _pair(E=12, H=3)
    x, c = rng.standard_normal((2, 5, 12)), rng.standard_normal((2, 8, 12))
    lengths = [8, 5]
    key_padding = ~padding_mask(lengths, 8)[:, 0]  # torch: True = ignore
    y_ref, w_ref = ref(_t(x), _t(c), _t(c), key_padding_mask=_t(key_padding),
                       need_weights=True, average_attn_weights=False)
    y, w = ours(x, c, attn_mask=padding_mask(lengths, 8), need_weights=True,
                average_attn_weights=False)
    np.testing.assert_allclose(y, y_ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w, w_ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert w.shape == (2, 3, 5, 8)


@pytest.mark.parametrize("block", [None, 2])
def test_mha_causal_and_float_masks_match_torch(block, rng):
    ours, ref = _pair()
    x = rng.standard_normal((2, 6, 16))
    torch_causal = _t(~causal_mask(6))  # torch MHA: True = not allowed
    y_ref, _ = ref(_t(x), _t(x), _t(x), attn_mask=torch_causal, need_weights=False)
    np.testing.assert_allclose(ours(x, is_causal=True, block_size=block),
                               y_ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    fmask = rng.standard_normal((6, 6))
    y_ref, _ = ref(_t(x), _t(x), _t(x), attn_mask=_t(fmask), need_weights=False)
    np.testing.assert_allclose(ours(x, attn_mask=fmask, block_size=block),
                               y_ref.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_mha_unbatched_input_and_float32_defaults(rng):
    ours, ref = _pair()
    x = rng.standard_normal((5, 16))
    y_ref, _ = ref(_t(x), _t(x), _t(x))
    np.testing.assert_allclose(ours(x), y_ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    mha32 = MultiHeadAttention(16, 4, random_state=0)
    assert mha32(x.astype(np.float32)).dtype == np.float32
    assert mha32(x).dtype == np.float64  # float64 input is never downcast


def test_state_dict_round_trips_into_torch(rng):
    ours = MultiHeadAttention(8, 2, random_state=1, dtype=np.float64)
    ref = torch.nn.MultiheadAttention(8, 2, batch_first=True, dtype=torch.float64)
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = rng.standard_normal((1, 4, 8))
    np.testing.assert_allclose(ours(x), ref(_t(x), _t(x), _t(x))[0].detach().numpy(),
                               rtol=1e-10, atol=1e-12)


def test_initialisation_is_glorot_and_seeded():
    a = MultiHeadAttention(64, 8, random_state=0)
    b = MultiHeadAttention(64, 8, random_state=0)
    np.testing.assert_array_equal(a.in_proj_weight, b.in_proj_weight)
    limit = np.sqrt(6 / (64 + 192))
    assert np.abs(a.in_proj_weight).max() <= limit
    assert a.in_proj_weight.std() == pytest.approx(limit / np.sqrt(3), rel=0.05)
    assert not a.in_proj_bias.any() and a.in_proj_weight.dtype == np.float32


def test_mha_bad_input(rng):
    with pytest.raises(ValueError, match=r"d_model must be divisible by n_heads.*d_model=10 "
                                         r"and n_heads=4.*\[1, 2, 5, 10\]"):
        MultiHeadAttention(10, 4)
    mha = MultiHeadAttention(8, 2)
    with pytest.raises(ShapeError, match=r"x must have d_model = 8 features.*\(2, 3, 5\)"):
        mha(rng.standard_normal((2, 3, 5)))
    with pytest.raises(ShapeError, match="x and context must both be batched"):
        mha(rng.standard_normal((2, 3, 8)), rng.standard_normal((4, 8)))
    with pytest.raises(TypeError, match="x must be a floating-point array"):
        mha(np.ones((3, 8), dtype=int))
    with pytest.raises(KeyError, match=r"missing \['out_proj.bias'\], unexpected \['bogus'\]"):
        state = mha.state_dict()
        del state["out_proj.bias"]
        mha.load_state_dict({**state, "bogus": np.zeros(1)})
    with pytest.raises(ShapeError, match=r"state\['in_proj_weight'\] must have shape \(24, 8\)"):
        mha.load_state_dict({**mha.state_dict(), "in_proj_weight": np.zeros((8, 8))})
    with pytest.raises(ShapeError, match="attn_mask must have shape"):
        mha(rng.standard_normal((2, 3, 8)), attn_mask=np.ones(3, bool))
