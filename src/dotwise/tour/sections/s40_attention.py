"""Tour: attention is two rounds of dot products — q·k for the weights, weights·v for the output."""

from __future__ import annotations

import numpy as np

import dotwise as dw
from dotwise.attention import attention_entropy, scaling_experiment
from dotwise.tour import Section, TourContext


def run(ctx: TourContext) -> None:
    # 1. The tiny example: 2 queries, 3 keys/values, everything explicit.
    q = np.array([[1.0, 0.0], [0.0, 2.0]])
    k = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    v = np.array([[10.0, 0.0], [0.0, 10.0], [5.0, 5.0]])
    out, w = dw.scaled_dot_product_attention(q, k, v, return_weights=True)
    ctx.text("Two queries attend over three keys. Scores are the dot products q·k scaled by "
             "1/√2; softmax turns each row into weights; the output averages the value rows.")
    scores = q @ k.T / np.sqrt(2)
    ctx.table("scores q·k/√d → weights → output", ["query", "scores", "weights", "row sum",
                                                   "output"],
              [[f"q{i} = {q[i]}", str(scores[i].round(3)), str(w[i].round(3)),
                float(w[i].sum()), str(out[i].round(3))] for i in range(2)])
    ctx.check("each row of weights is a distribution (≥ 0, sums to 1)",
              (w >= 0).all() and np.allclose(w.sum(axis=1), 1.0),
              f"row sums {w.sum(axis=1)}")
    ctx.check("the output is weights @ V", np.allclose(out, w @ v))

    # 2. Why divide by √d.
    report = scaling_experiment([2, 8, 32, 128, 512, 2048], random_state=0)
    ctx.table("random q, k: score spread and weight entropy as d grows "
              f"(uniform entropy = log 64 = {report.uniform_entropy:.2f})",
              ["d", "std q·k", "std q·k/√d", "entropy unscaled", "entropy scaled"],
              report.rows())
    ctx.check("unscaled scores spread like √d; scaled ones stay near 1",
              np.allclose(report.score_std_unscaled / np.sqrt(report.dims), 1, atol=0.15)
              and np.allclose(report.score_std_scaled, 1, atol=0.15))
    ctx.check("without scaling the softmax collapses to one key (entropy → 0)",
              report.entropy_unscaled[-1] < 0.2 < 3.0 < report.entropy_scaled.min(),
              f"entropy at d=2048: {report.entropy_unscaled[-1]:.3f} unscaled, "
              f"{report.entropy_scaled[-1]:.3f} scaled")

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.6, 3.2))
    ax.semilogx(report.dims, report.entropy_unscaled, "o-", label="q·k (unscaled)")
    ax.semilogx(report.dims, report.entropy_scaled, "s-", label="q·k / √d")
    ax.axhline(report.uniform_entropy, color="gray", ls=":", label="uniform (log 64)")
    ax.set_xlabel("embedding size d"), ax.set_ylabel("mean weight entropy (nats)")
    ax.legend(fontsize=8), ax.grid(alpha=0.3)
    ctx.figure("scaling", fig, "Scaling keeps the attention from collapsing onto one key")

    # 3. Causal attention.
    rng = ctx.rng(0)
    x = rng.standard_normal((8, 16))
    _, wc = dw.scaled_dot_product_attention(x, x, x, is_causal=True, return_weights=True)
    ctx.check("causal weights are lower-triangular (no peeking at later tokens)",
              not np.triu(wc, 1).any())
    fig, ax = plt.subplots(figsize=(3.8, 3.2))
    im = ax.imshow(wc, cmap="viridis")
    ax.set_xlabel("key j"), ax.set_ylabel("query i"), ax.set_title("causal weights")
    fig.colorbar(im, ax=ax, fraction=0.046)
    ctx.figure("causal", fig, "Query i attends only to keys j ≤ i; row 0 puts all weight on "
               "key 0. Entropies per row: " + ", ".join(
                   f"{h:.2f}" for h in attention_entropy(wc)))

    # 4. Multi-head attention: shapes, and the memory-efficient path.
    mha = dw.MultiHeadAttention(32, 4, random_state=0)
    tokens = rng.standard_normal((2, 10, 32)).astype(np.float32)
    y, heads = mha(tokens, is_causal=True, need_weights=True, average_attn_weights=False)
    ctx.table("multi-head attention, d_model = 32, 4 heads of 8", ["array", "shape"], [
        ["input x (batch, L, d_model)", str(tokens.shape)],
        ["in_proj_weight [W_q; W_k; W_v]", str(mha.in_proj_weight.shape)],
        ["per-head weights (batch, heads, L, S)", str(heads.shape)],
        ["output (batch, L, d_model)", str(y.shape)],
    ])
    ctx.check("one batched call: shapes as expected", y.shape == (2, 10, 32)
              and heads.shape == (2, 4, 10, 10))
    q, k, v = (rng.standard_normal((4, 2000, 32)).astype(np.float32) for _ in range(3))
    dense = dw.scaled_dot_product_attention(q, k, v, is_causal=True, return_weights=True)[0]
    blocked = dw.scaled_dot_product_attention(q, k, v, is_causal=True, block_size=256)
    err = float(np.abs(dense - blocked).max())
    ctx.check("blocked (online-softmax) attention equals the dense result to float32 rounding",
              err < 1e-5, f"max |difference| = {err:.1e}, L = S = 2000, 4 heads; the blocked "
              f"path kept a 256×256 score block instead of 2000×2000")


SECTION = Section(
    key="attention", title="Attention: softmax(QKᵀ/√d) V", order=40, run=run,
    summary="Dot products choose which values to average; 1/√d keeps the choice soft.",
)
