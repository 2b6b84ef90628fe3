"""The compiled attention kernel (dotwise._dwattn) against the NumPy blocked path and torch.

The NumPy blocked path (:mod:`dotwise.attention.blocked`) is the reference: it is what
runs without the extension or with ``DOTWISE_PURE_NUMPY=1``. torch's fused CPU kernel is
the second oracle where it is installed.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from dotwise import _attn
from dotwise.attention import blocked as blocked_mod
from dotwise.attention import causal_mask, padding_mask, scaled_dot_product_attention
from dotwise.attention.blocked import blocked_attention

pytestmark = pytest.mark.skipif(
    _attn.LIB is None, reason="dotwise._dwattn is not built here (or DOTWISE_PURE_NUMPY=1)")

TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}


def _operands(q, k, v, mask, scale):
    """Broadcast views of q, k, v and the mask (float masks in q's dtype), the batch
    shape, the scale and an empty output: what both paths below take."""
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    L, S = q.shape[-2], k.shape[-2]
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    if mask is not None and mask.dtype != bool:
        mask = mask.astype(q.dtype)
    out = np.empty((*batch, L, v.shape[-1]), q.dtype)
    views = [np.broadcast_to(a, (*batch, *a.shape[-2:])) for a in (q, k, v)]
    mb = None if mask is None else np.broadcast_to(mask, (*batch, L, S))
    return views, mb, float(scale), batch, out


def numpy_blocked(q, k, v, mask=None, causal=False, scale=None, block=96):
    """The NumPy blocked path on the same (broadcast) operands, in their dtype."""
    views, mb, scale, batch, out = _operands(q, k, v, mask, scale)
    return blocked_attention(*views, mb, causal, scale, min(block, k.shape[-2]), batch, out, 1)


def kernel(q, k, v, mask=None, causal=False, scale=None, n_threads=1):
    """The compiled kernel, called directly (no validation in between)."""
    views, mb, scale, _, out = _operands(q, k, v, mask, scale)
    return _attn.attend(*views, mb, causal, scale, out, n_threads)


def _qkv(rng, lead, L, S, E, Ev, dtype):
    return (rng.standard_normal((*lead, L, E)).astype(dtype),
            rng.standard_normal((*lead, S, E)).astype(dtype),
            rng.standard_normal((*lead, S, Ev)).astype(dtype))


@pytest.fixture
def rng():
    return np.random.default_rng(12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("E", [32, 64, 128])
@pytest.mark.parametrize("L, S, Ev", [(1, 1, 8), (5, 300, 64), (200, 130, 40), (129, 257, 64)])
@pytest.mark.parametrize("causal", [False, True])
def test_kernel_matches_numpy_blocked_path(dtype, E, L, S, Ev, causal, rng):
    q, k, v = _qkv(rng, (2,), L, S, E, Ev, dtype)
    got = kernel(q, k, v, causal=causal)
    assert got.dtype == dtype and got.shape == (2, L, Ev)
    np.testing.assert_allclose(got, numpy_blocked(q, k, v, causal=causal), **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mask_shape", [(70, 150), (3, 1, 70, 150), (1, 2, 70, 1), (3, 1, 1, 150)])
@pytest.mark.parametrize("kind", ["bool", "float"])
def test_masks_broadcast_like_the_blocked_path(dtype, mask_shape, kind, rng):
    q, k, v = _qkv(rng, (3, 2), 70, 150, 64, 48, dtype)
    if kind == "bool":
        mask = rng.random(mask_shape) < 0.7
    else:
        mask = rng.standard_normal(mask_shape).astype(dtype)
        mask[rng.random(mask_shape) < 0.2] = -np.inf
    got = kernel(q, k, v, mask)
    np.testing.assert_allclose(got, numpy_blocked(q, k, v, mask), **TOL[dtype])


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_fully_masked_rows_give_zeros(kind, rng):
    q, k, v = _qkv(rng, (2,), 100, 200, 32, 32, np.float32)
    mask = rng.random((2, 100, 200)) < 0.5
    mask[0, 7] = False                       # a whole row masked
    mask[1, 70:, :150] = False               # rows that see only the last key block
    mask[1, 99] = False
    if kind == "float":
        mask = np.where(mask, 0.0, -np.inf).astype(np.float32)
    got = kernel(q, k, v, mask)
    assert np.isfinite(got).all()
    assert (got[0, 7] == 0).all() and (got[1, 99] == 0).all()
    np.testing.assert_allclose(got, numpy_blocked(q, k, v, mask), **TOL[np.float32])


@pytest.mark.parametrize("L, S", [(300, 100), (100, 300), (64, 64), (65, 200)])
def test_causal_top_left_aligned_for_any_L_and_S(L, S, rng):
    q, k, v = _qkv(rng, (), L, S, 64, 64, np.float64)
    np.testing.assert_allclose(kernel(q, k, v, causal=True),
                               kernel(q, k, v, mask=causal_mask(L, S)), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(kernel(q, k, v, causal=True),
                               numpy_blocked(q, k, v, causal=True), **TOL[np.float64])


def test_padding_mask_per_batch_item(rng):
    q, k, v = _qkv(rng, (3, 4), 50, 90, 64, 64, np.float32)   # (B, H, L, E)
    mask = padding_mask([90, 17, 0], 90)[:, None]              # (B, 1, 1, S)
    got = kernel(q, k, v, mask)
    assert (got[2] == 0).all()                                 # no real key at all
    np.testing.assert_allclose(got[1], kernel(q[1], k[1, :, :17], v[1, :, :17]), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(got, numpy_blocked(q, k, v, mask), **TOL[np.float32])


def test_scale_and_broadcast_batch_axes(rng):
    q = rng.standard_normal((4, 1, 33, 64))
    k = rng.standard_normal((1, 3, 77, 64))
    v = rng.standard_normal((3, 77, 20))
    for scale in (None, 0.3, -1.5):
        np.testing.assert_allclose(kernel(q, k, v, scale=scale),
                                   numpy_blocked(q, k, v, scale=scale), **TOL[np.float64])


def test_non_contiguous_views_need_no_copy_and_give_the_same_answer(rng):
    B, L, H, D = 2, 90, 4, 32
    qkv = rng.standard_normal((B, L, 3 * H * D)).astype(np.float32)
    q, k, v = (qkv[..., i * H * D:(i + 1) * H * D].reshape(B, L, H, D).transpose(0, 2, 1, 3)
               for i in range(3))                             # the heads of a fused projection
    dense = [np.ascontiguousarray(a) for a in (q, k, v)]
    np.testing.assert_array_equal(kernel(q, k, v), kernel(*dense))
    flipped = [a[:, ::-1, ::-1] for a in dense]               # negative strides
    np.testing.assert_allclose(kernel(*flipped), numpy_blocked(*flipped), **TOL[np.float32])
    fortran = [np.asfortranarray(a) for a in dense]           # last axis strided: copied
    np.testing.assert_array_equal(kernel(*fortran), kernel(*dense))
    out = np.zeros((B, L, H, D), np.float32).transpose(0, 2, 1, 3)   # a strided output
    q2, k2, v2 = dense
    _attn.attend(q2, k2, v2, None, False, D ** -0.5, out, 2)
    np.testing.assert_array_equal(out, kernel(*dense))


@pytest.mark.parametrize("openmp", [True, False], ids=["openmp-threads", "pool-threads"])
@pytest.mark.parametrize("n_threads", [2, 3, 8])
def test_threads_share_the_items_without_changing_the_answer(n_threads, openmp, rng,
                                                             monkeypatch):
    # both ways of sharing the items: the kernel's OpenMP threads (when built with
    # OpenMP) and Python's worker pool (the build without OpenMP)
    if openmp and not _attn.OPENMP:
        pytest.skip("this build of the kernel has no OpenMP")
    monkeypatch.setattr(_attn, "OPENMP", openmp)
    q, k, v = _qkv(rng, (3,), 700, 500, 64, 64, np.float32)
    for causal in (False, True):
        np.testing.assert_array_equal(kernel(q, k, v, causal=causal, n_threads=n_threads),
                                      kernel(q, k, v, causal=causal, n_threads=1))


def test_float64_is_computed_in_float64(rng):
    q, k, v = _qkv(rng, (), 150, 260, 64, 64, np.float64)
    q32, k32, v32 = (a.astype(np.float32) for a in (q, k, v))
    exact = numpy_blocked(q, k, v)
    err64 = np.abs(kernel(q, k, v) - exact).max()
    err32 = np.abs(kernel(q32, k32, v32) - exact).max()
    assert err64 < 1e-13 < 1e-8 < err32


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def test_the_variant_picked_is_one_this_cpu_runs():
    flags = _cpu_flags()
    if not flags:
        pytest.skip("no /proc/cpuinfo to compare with")
    picked = _attn.isa()
    assert picked in _attn.ISA_NAMES
    assert picked != "AVX-512" or "avx512f" in flags
    assert picked != "AVX2+FMA" or ({"avx2", "fma"} <= flags and "avx512f" not in flags)
    assert picked != "baseline" or not ({"avx2", "fma"} <= flags)


def test_every_variant_this_cpu_runs_gives_the_same_answer(rng):
    top = _attn.ISA_NAMES.index(_attn.isa())
    wider = _attn.ISA_NAMES[top + 1:]
    if wider:
        with pytest.raises(ValueError, match="cannot run"):
            _attn.force_isa(wider[0])
    # (S = 1100, float64: k and v over 1 MiB, so items hold several query tiles)
    cases = [(_qkv(rng, (2,), 130, S, 64, 64, dt), dt)
             for dt, S in ((np.float32, 250), (np.float64, 250), (np.float64, 1100))]
    try:
        for (q, k, v), dt in cases:
            mask = rng.random((130, k.shape[-2])) < 0.6
            expected = numpy_blocked(q, k, v, causal=True)
            expected_m = numpy_blocked(q, k, v, mask)
            for variant in _attn.ISA_NAMES[:top + 1]:
                assert _attn.force_isa(variant) == variant
                np.testing.assert_allclose(kernel(q, k, v, causal=True), expected, **TOL[dt])
                np.testing.assert_allclose(kernel(q, k, v, mask), expected_m, **TOL[dt])
    finally:
        _attn.force_isa(None)
    assert _attn.isa() == _attn.ISA_NAMES[top]


def test_the_public_call_runs_the_kernel_when_it_is_built(rng, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the NumPy blocked path ran although the kernel is built")

    monkeypatch.setattr("dotwise.attention.sdpa.blocked_attention", refuse)
    q, k, v = _qkv(rng, (2, 3), 300, 300, 64, 64, np.float32)
    mask = rng.random((300, 300)) < 0.5
    for kw in ({}, {"is_causal": True}, {"attn_mask": mask}, {"block_size": 64}):
        got = scaled_dot_product_attention(q, k, v, **kw)
        expected = numpy_blocked(q, k, v, mask=kw.get("attn_mask"),
                                 causal=kw.get("is_causal", False))
        np.testing.assert_allclose(got, expected, **TOL[np.float32])
    assert blocked_mod.blocked_attention is not refuse        # only sdpa's name was patched


def test_overflowing_scores_are_reported_not_averaged(rng):
    from dotwise import FloatRangeError

    q = np.full((70, 8), 1e20, np.float32)
    with pytest.raises(FloatRangeError, match="overflow"):
        scaled_dot_product_attention(q, q, q)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_extra_memory_does_not_grow_with_L_times_S():
    code = (
        "import numpy as np, dotwise as dw\n"
        "def hwm():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM'): return int(line.split()[1]) / 1024\n"
        "rng = np.random.default_rng(0)\n"
        "q, k, v = (rng.standard_normal((8192, 16), dtype=np.float32) for _ in range(3))\n"
        "out = np.empty_like(q); before = hwm()\n"
        "out = dw.scaled_dot_product_attention(q, k, v, is_causal=True, n_threads=2)\n"
        "print(hwm() - before)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=120, check=True)
    extra_mib = float(res.stdout.strip())
    assert extra_mib < 16, f"the kernel's peak grew by {extra_mib:.1f} MiB (dense: 256 MiB)"


# ------------------------------------------------------------------ against torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("E", [32, 64, 128])
@pytest.mark.parametrize("causal", [False, True])
def test_kernel_matches_torch_fused_attention(dtype, E, causal, rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    q, k, v = _qkv(rng, (2, 3), 257, 257, E, E, dtype)
    expected = F.scaled_dot_product_attention(*(torch.from_numpy(a) for a in (q, k, v)),
                                              is_causal=causal).numpy()
    got = scaled_dot_product_attention(q, k, v, is_causal=causal)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-11)
    np.testing.assert_allclose(got, expected, **tol)


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_masks_and_cross_attention_match_torch(kind, rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    q, k = rng.standard_normal((2, 4, 90, 64)), rng.standard_normal((2, 4, 200, 64))
    v = rng.standard_normal((2, 4, 200, 24))
    mask = rng.random((2, 1, 90, 200)) < 0.6
    mask[0, 0, 5] = False
    if kind == "float":
        mask = np.where(mask, rng.standard_normal(mask.shape), -np.inf)
    expected = F.scaled_dot_product_attention(
        *(torch.from_numpy(a) for a in (q, k, v)), attn_mask=torch.from_numpy(mask),
        scale=0.2).numpy()
    got = scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=0.2)
    np.testing.assert_allclose(np.nan_to_num(expected), got, rtol=1e-10, atol=1e-11)
    assert (got[0, :, 5] == 0).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_multihead_writes_heads_in_place_and_matches_the_dense_path(dtype, rng):
    from dotwise.attention import MultiHeadAttention

    mha = MultiHeadAttention(64, 4, random_state=3, dtype=dtype)
    x = rng.standard_normal((2, 70, 64)).astype(dtype)
    ctx = rng.standard_normal((2, 90, 64)).astype(dtype)
    pad = padding_mask([90, 31], 90)                               # (B, 1, S)
    fmask = np.where(rng.random((70, 90)) < 0.8, 0.0, -np.inf)      # (L, S) float
    tol = TOL[dtype] if dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
    for kw in ({}, {"context": ctx, "attn_mask": pad}, {"context": ctx, "attn_mask": fmask},
               {"is_causal": True}):
        fused = mha(x, **kw)
        dense, _ = mha(x, need_weights=True, **kw)   # the weights need the dense path
        assert fused.dtype == dtype
        np.testing.assert_allclose(fused, dense, **tol)


def test_multihead_fused_path_matches_torch(rng):
    torch = pytest.importorskip("torch")
    from dotwise.attention import MultiHeadAttention

    mha = MultiHeadAttention(128, 2, random_state=4)
    peer = torch.nn.MultiheadAttention(128, 2, batch_first=True)
    peer.load_state_dict({k: torch.from_numpy(v) for k, v in mha.state_dict().items()})
    x = rng.standard_normal((3, 150, 128)).astype(np.float32)
    lengths = [150, 100, 7]
    with torch.inference_mode():
        expected = peer(*(torch.from_numpy(x),) * 3, need_weights=False,
                        key_padding_mask=torch.from_numpy(~padding_mask(lengths, 150)[:, 0]))[0]
    got = mha(x, attn_mask=padding_mask(lengths, 150))
    np.testing.assert_allclose(got, expected.numpy(), rtol=1e-4, atol=2e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_the_kernels_scan_finds_every_non_finite_input(dtype, n_threads, causal, bad, rng):
    # the kernel scans its input itself (each item its query rows and a share of the key and
    # value rows); every element must be covered, also keys no causal query reads (j >= L)
    L, S = 70, 300
    q, k, v = _qkv(rng, (2,), L, S, 64, 48, dtype)
    spots = {"q": [(0, 0, 0), (1, L - 1, 63), (1, 33, 5)],
             "k": [(0, 0, 0), (1, S - 1, 63), (0, 200, 17)],      # k[..., 200:] unused if causal
             "v": [(0, 0, 0), (1, S - 1, 47), (1, 150, 3)]}
    for name, where in ((n, w) for n, ws in spots.items() for w in ws):
        arrays = {"q": q.copy(), "k": k.copy(), "v": v.copy()}
        arrays[name][where] = bad
        word = "nan" if np.isnan(bad) else ("-inf" if bad < 0 else "inf")
        with pytest.raises(ValueError, match=rf"{name} must contain only finite numbers, "
                                             rf"found {word} at index \({', '.join(map(str, where))}\)"):
            scaled_dot_product_attention(arrays["q"], arrays["k"], arrays["v"],
                                         is_causal=causal, n_threads=n_threads)
        out = scaled_dot_product_attention(arrays["q"], arrays["k"], arrays["v"],
                                           is_causal=causal, check_finite=False)
        assert out.shape == (2, L, 48)             # no scan: no error (the value spreads)


def test_the_scan_names_the_index_in_the_array_given_not_the_broadcast_view(rng):
    q, k, v = _qkv(rng, (), 40, 90, 32, 32, np.float32)
    q3 = np.repeat(q[None], 3, axis=0)
    k[77, 4] = np.nan                              # k (90, 32) broadcast against q (3, 40, 32)
    with pytest.raises(ValueError, match=r"k must contain only finite numbers, found nan at "
                                         r"index \(77, 4\)"):
        scaled_dot_product_attention(q3, k, v)


def test_the_fast_path_gives_the_general_paths_answer(rng):
    # plain same-dtype arrays without a mask skip the general validation; the answer must be
    # the one the general path (taken when n_threads is given, or for lists) gives
    q, k, v = _qkv(rng, (2, 3), 150, 170, 64, 64, np.float32)
    for causal in (False, True):
        fast = scaled_dot_product_attention(q, k, v, is_causal=causal)
        general = scaled_dot_product_attention(q, k, v, is_causal=causal, n_threads=1)
        np.testing.assert_array_equal(fast, general)
        np.testing.assert_allclose(fast, numpy_blocked(q, k, v, causal=causal),
                                   **TOL[np.float32])
    small = _qkv(rng, (), 3, 4, 2, 2, np.float64)
    np.testing.assert_array_equal(scaled_dot_product_attention(*small),
                                  scaled_dot_product_attention(*(a.tolist() for a in small)))
    with pytest.raises(TypeError, match="is_causal must be True or False"):
        scaled_dot_product_attention(q, k, v, is_causal=1)


def test_the_extension_entry_refuses_operands_that_do_not_fit(rng):
    q, k, v = _qkv(rng, (2,), 10, 12, 8, 8, np.float32)
    ctl = np.zeros(3, np.int64)
    out = np.empty((2, 10, 8), np.float32)
    with pytest.raises(ValueError, match="must agree"):
        _attn.EXT.attend(q, k[:, :11], v, None, out, False, 0.5, 1, ctl)
    with pytest.raises(ValueError, match="one dtype"):
        _attn.EXT.attend(q, k.astype(np.float64), v, None, out, False, 0.5, 1, ctl)
    with pytest.raises(ValueError, match="contiguous, aligned last axis"):
        _attn.EXT.attend(q, k, v, None, np.empty((2, 8, 10), np.float32).transpose(0, 2, 1),
                         False, 0.5, 1, ctl)
    assert _attn.EXT.attend(q, k, v, None, out, False, 0.5, 1, ctl) == 0
    np.testing.assert_allclose(out, numpy_blocked(q, k, v, scale=0.5), **TOL[np.float32])


def _misaligned(a: np.ndarray) -> np.ndarray:
    """A C-contiguous copy of ``a`` that starts one byte past an aligned address."""
    raw = np.zeros(a.nbytes + 1, np.uint8)[1:]
    out = raw.view(a.dtype).reshape(a.shape)
    out[...] = a
    assert a.itemsize == 1 or not out.flags.aligned
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_misaligned_operands_are_copied_not_misread(dtype, rng):
    q, k, v = _qkv(rng, (2,), 40, 50, 16, 16, dtype)
    fmask = rng.standard_normal((40, 50)).astype(dtype)
    bmask = rng.random((40, 50)) > 0.3
    for mask in (None, fmask, bmask):
        expected = numpy_blocked(q, k, v, mask=mask)
        got = scaled_dot_product_attention(_misaligned(q), _misaligned(k), _misaligned(v),
                                           attn_mask=None if mask is None else _misaligned(mask))
        np.testing.assert_allclose(got, expected, **TOL[dtype])


@pytest.mark.parametrize("dtype, S", [(np.float32, 2100), (np.float64, 1100)])
@pytest.mark.parametrize("causal", [False, True])
def test_long_keys_share_each_block_among_several_query_tiles(dtype, S, causal, rng):
    # k and v over 1 MiB per slice: an item walks the key blocks with several query tiles
    # at once (the last item holds fewer, the last tile is partial); the answer is the same
    L = 300 if not causal else S
    q, k, v = _qkv(rng, (2,), L, S, 64, 64, dtype)
    expected = numpy_blocked(q, k, v, causal=causal)
    np.testing.assert_allclose(kernel(q, k, v, causal=causal), expected, **TOL[dtype])
    np.testing.assert_array_equal(kernel(q, k, v, causal=causal, n_threads=3),
                                  kernel(q, k, v, causal=causal))
    if not causal:
        mask = rng.random((L, S)) > 0.2
        mask[7] = False                                      # a fully masked query
        got = kernel(q, k, v, mask=mask)
        np.testing.assert_allclose(got, numpy_blocked(q, k, v, mask=mask), **TOL[dtype])
        assert not got[:, 7].any()
        bad = k.copy()
        bad[1, S - 1, 63] = np.nan
        with pytest.raises(ValueError, match=r"k must contain only finite numbers, found nan "
                                             rf"at index \(1, {S - 1}, 63\)"):
            scaled_dot_product_attention(q, bad, v)
