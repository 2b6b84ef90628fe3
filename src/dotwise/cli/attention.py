"""``dotwise attention``: look at attention weights, and at why scores are scaled by 1/√d."""

from __future__ import annotations

from pathlib import Path

import typer

from ._common import console, fail, friendly_errors

attention_app = typer.Typer(
    help=(
        "Scaled dot-product attention: softmax(Q Kᵀ / √d) V.\n\n"
        "Example: [bold]dotwise attention demo --seq 8 --dim 16 --causal[/bold]"
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)


def register(app: typer.Typer) -> None:
    app.add_typer(attention_app, name="attention")


@attention_app.command()
@friendly_errors
def demo(
    seq: int = typer.Option(8, "--seq", "-n", min=1, max=64,
                            help="Sequence length (queries = keys), 1–64."),
    dim: int = typer.Option(16, "--dim", "-d", min=1, max=4096,
                             help="Embedding size E of q and k (1–4096)."),
    causal: bool = typer.Option(False, "--causal", help="Each token sees only itself and "
                                "earlier tokens (lower-triangular weights)."),
    seed: int = typer.Option(0, "--seed", help="Random seed for q, k and v."),
    out: Path = typer.Option(Path("attention.png"), "--out", "-o",
                             help="Where to write the heatmap PNG."),
) -> None:
    """Attention weights for random queries and keys: a table with row sums, and a heatmap.

    Draws q, k, v with independent standard-normal entries (fixed --seed), computes
    softmax(q kᵀ / √dim) and prints the weights: every row is a probability
    distribution over the keys (sums to 1). With --causal the upper triangle is zero.

    Example: [bold]dotwise attention demo --seq 6 --dim 32 --causal --out causal.png[/bold]
    """
    import numpy as np
    from rich.table import Table

    from dotwise.attention import attention_entropy, scaled_dot_product_attention

    if out.suffix.lower() != ".png":
        fail(f"--out must be a .png file, got {out}")
    rng = np.random.default_rng(seed)
    q, k, v = (rng.standard_normal((seq, dim)) for _ in range(3))
    _, weights = scaled_dot_product_attention(q, k, v, is_causal=causal, return_weights=True)
    entropy = attention_entropy(weights)

    title = f"attention weights, L = S = {seq}, E = {dim}" + (", causal" if causal else "")
    # query label + one 5-character column per key + row sum + entropy, with gaps
    needed = 7 + 7 * seq + 9 + 7
    if needed > console.width:
        _summary(weights, entropy, title, needed)
        _heatmap(weights, out, causal)
        console.print(f"heatmap (every weight) → [bold]{out}[/bold]")
        return
    table = Table(title=title, box=None, title_justify="left")
    table.add_column("query", justify="right", style="bold")
    for j in range(seq):
        table.add_column(f"k{j}", justify="right")
    table.add_column("row sum", justify="right", style="green")
    table.add_column("H", justify="right", style="dim")
    for i in range(seq):
        cells = []
        for j in range(seq):
            w = weights[i, j]
            text = f"{w:.3f}"
            cells.append(f"[bold]{text}[/bold]" if j == int(np.argmax(weights[i])) else
                         (f"[dim]{text}[/dim]" if w == 0 else text))
        table.add_row(f"q{i}", *cells, f"{weights[i].sum():.4f}", f"{entropy[i]:.3f}")
    console.print(table)
    console.print(f"H = entropy in nats: 0 = all weight on one key, log({seq}) = "
                  f"{np.log(seq):.3f} = uniform. Bold: each row's largest weight.",
                  highlight=False)

    _heatmap(weights, out, causal)
    console.print(f"heatmap → [bold]{out}[/bold]")


def _summary(weights, entropy, title: str, needed: int) -> None:
    """What fits when the full table does not: each query's strongest keys and its entropy."""
    import numpy as np
    from rich.table import Table

    seq = weights.shape[0]
    table = Table(title=title, box=None, title_justify="left")
    table.add_column("query", justify="right", style="bold")
    table.add_column("strongest keys (weight)")
    table.add_column("row sum", justify="right", style="green")
    table.add_column("entropy", justify="right", style="dim")
    for i in range(seq):
        top = np.argsort(-weights[i], kind="stable")[:3]
        keys = ", ".join(f"k{j} ({weights[i, j]:.3f})" for j in top if weights[i, j] > 0)
        table.add_row(f"q{i}", keys, f"{weights[i].sum():.4f}", f"{entropy[i]:.3f}")
    console.print(table)
    console.print(f"the full {seq}×{seq} table needs {needed} columns and this output has "
                  f"{console.width}: each row above shows its three largest weights; "
                  f"entropy 0 = one key, log({seq}) = {np.log(seq):.3f} = uniform.",
                  highlight=False)


def _heatmap(weights, path: Path, causal: bool) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from dotwise._io import atomic_open

    n = weights.shape[0]
    fig, ax = plt.subplots(figsize=(1.2 + 0.45 * n, 0.9 + 0.45 * n))
    im = ax.imshow(weights, cmap="viridis", vmin=0, vmax=max(float(weights.max()), 1e-12))
    ax.set_xlabel("key j"), ax.set_ylabel("query i")
    ax.set_title("softmax(q kᵀ/√d)" + (" — causal" if causal else ""))
    ax.set_xticks(range(n)), ax.set_yticks(range(n))
    if n <= 16:
        for i in range(n):
            for j in range(n):
                ax.text(j, i, f"{weights[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if weights[i, j] < 0.6 * weights.max() else "black")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)


@attention_app.command()
@friendly_errors
def scaling(
    dims: str = typer.Option("4,16,64,256,1024", "--dims",
                             help="Comma-separated embedding sizes d."),
    keys: int = typer.Option(64, "--keys", min=1, help="Number of keys (and queries)."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
) -> None:
    """Why attention divides by √d: score spread and weight entropy as d grows.

    Unscaled dot products of random vectors spread like √d, so the softmax turns
    nearly one-hot (entropy → 0); scaled by 1/√d the spread stays near 1.

    Example: [bold]dotwise attention scaling --dims 8,64,512[/bold]
    """
    from rich.table import Table

    from dotwise.attention import scaling_experiment

    try:
        values = [int(x) for x in dims.split(",") if x.strip()]
    except ValueError:
        fail(f"--dims must be comma-separated integers, e.g. 4,16,64; got {dims!r}")
    report = scaling_experiment(values, n_queries=keys, n_keys=keys, random_state=seed)
    table = Table(title=f"scores q·k of random vectors, {keys} keys "
                  f"(uniform entropy log {keys} = {report.uniform_entropy:.3f})",
                  title_justify="left")
    for col in ("d", "std q·k", "std q·k/√d", "entropy unscaled", "entropy scaled",
                "max weight unscaled", "max weight scaled"):
        table.add_column(col, justify="right")
    for i, d in enumerate(report.dims):
        table.add_row(str(d), f"{report.score_std_unscaled[i]:.2f}",
                      f"{report.score_std_scaled[i]:.2f}", f"{report.entropy_unscaled[i]:.3f}",
                      f"{report.entropy_scaled[i]:.3f}", f"{report.max_weight_unscaled[i]:.3f}",
                      f"{report.max_weight_scaled[i]:.3f}")
    console.print(table)
