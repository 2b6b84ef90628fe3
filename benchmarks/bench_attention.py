"""Attention: dotwise vs torch's fused CPU kernel, under the fair protocol.

torch runs ``scaled_dot_product_attention`` on 4-D ``(1, H, L, E)`` tensors — the layout
its fused (flash) CPU kernel takes; 3-D input falls back to the unfused math backend —
and every row records the backend torch chose (``torch._fused_sdp_choice``: 0 = math,
1 = flash). ``MultiHeadAttention`` is timed against ``torch.nn.MultiheadAttention``
(``batch_first=True``, ``need_weights=False``) with the same weights. Each thread count
runs in a fresh pinned process; float32, E = 64::

    python benchmarks/bench_attention.py            # full run, 1 and 2 threads
    python benchmarks/bench_attention.py --quick    # seconds

Each row also records which engine dotwise ran (``engine``: the compiled kernel's
variant for this CPU, e.g. ``"AVX2+FMA"``, or ``"NumPy"`` without the extension) and
torch's backend as a number (``torch_backend``; the FLASH kernel is 1). Peak extra
memory of one call (fresh subprocess, VmHWM) is recorded for the largest single-head
case in its row's ``memory_extra_mib`` field. A full run (both thread counts) takes
about 2–4 minutes on 2 cores.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import measure, optional, peak_rss_of, protocol_main, ratio

E = 64
BACKENDS = {0: "math", 1: "flash", 2: "efficient", 3: "cudnn", 4: "overrideable"}


def make_inputs(L: int, H: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal((H, L, E), dtype=np.float32) for _ in range(3))


def torch_backend(torch, tq, tk, tv, causal: bool) -> tuple[str, int | None]:
    """torch's backend for these tensors, as a label and as its number (None: unknown)."""
    try:
        choice = int(torch._fused_sdp_choice(tq, tk, tv, is_causal=causal))
    except Exception as exc:  # private API: record what happened instead of guessing
        return f"unknown ({type(exc).__name__})", None
    return f"{BACKENDS.get(choice, choice)} ({choice})", choice


def dotwise_engine() -> str:
    """What dotwise's attention runs here: the compiled kernel's variant, or NumPy."""
    from dotwise import _attn

    return _attn.isa() or "NumPy"


def memory_row(L: int, H: int, threads: int) -> dict:
    """Extra peak memory of one call for dotwise and torch (4-D), each in a fresh process."""
    here = str(Path(__file__).resolve().parent)
    setup = (f"import sys; sys.path.insert(0, {here!r})\n"
             f"from bench_attention import make_inputs\nq, k, v = make_inputs({L}, {H})\n")
    calls = {
        "dotwise": ("import dotwise as dw\n", "out = dw.scaled_dot_product_attention(q, k, v)\n"),
        "torch": (f"import torch\ntorch.set_num_threads({threads})\n"
                  "tq, tk, tv = (torch.from_numpy(a)[None] for a in (q, k, v))\n",
                  "out = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv)\n"),
    }
    out = {}
    for name, (imports, call) in calls.items():
        base = peak_rss_of(setup + imports, threads=threads)
        peak = peak_rss_of(setup + imports + call, threads=threads)
        out[name] = (round(peak["peak_mib"] - base["peak_mib"], 1)
                     if base["ok"] and peak["ok"] else base.get("error") or peak.get("error"))
    return out


def sdpa_rows(args, threads: int, torch) -> list[dict]:
    import dotwise as dw

    sizes = [256, 512] if args.quick else [512, 2048, 4096, 8192]
    heads = [1, 2] if args.quick else [1, 8]
    rows = []
    for L in sizes:
        for H in heads:
            for causal in (False, True):
                q, k, v = make_inputs(L, H)
                contenders = {"dotwise": lambda q=q, k=k, v=v, c=causal:
                              dw.scaled_dot_product_attention(q, k, v, is_causal=c)}
                mode, backend = "torch not installed", None
                if torch is not None:
                    tq, tk, tv = (torch.from_numpy(a)[None] for a in (q, k, v))  # (1, H, L, E)
                    F = torch.nn.functional
                    label, backend = torch_backend(torch, tq, tk, tv, causal)
                    mode = f"F.scaled_dot_product_attention, 4-D (1, H, L, E), backend {label}"
                    contenders["torch"] = (lambda tq=tq, tk=tk, tv=tv, c=causal, F=F:
                                           F.scaled_dot_product_attention(tq, tk, tv,
                                                                          is_causal=c))
                answers: dict[str, np.ndarray] = {}

                def check(name, result, answers=answers):
                    arr = result.numpy()[0] if hasattr(result, "numpy") else np.asarray(result)
                    answers[name] = arr
                    if name == "dotwise":
                        return bool(np.isfinite(arr).all()), ""
                    err = float(np.abs(arr - answers["dotwise"]).max())
                    return err < 1e-4, f"max |torch − dotwise| {err:.1e}"

                repeat = args.repeat or (3 if args.quick else (5 if L * L * H <= 2**25 else 3))
                timings, load = measure(contenders, threads=threads, repeat=repeat, check=check)
                ours, peer = timings["dotwise"], timings.get("torch")
                note = peer.note if peer is not None and not peer.valid else ""
                if torch is not None and backend != 1:  # the peer must be torch's fused kernel
                    note = f"torch did not pick its FLASH kernel (backend {backend}); " + note
                row = {"case": f"SDPA H={H} L=S={L}{' causal' if causal else ''}",
                       "peer": "torch", "mode": mode, "ratio": ratio(peer, ours),
                       "valid": (ours.valid and (peer is None or peer.valid)
                                 and (torch is None or backend == 1)),
                       "note": note,
                       "L": L, "heads": H, "causal": causal, "E": E, "dtype": "float32",
                       "engine": dotwise_engine(), "torch_backend": backend,
                       "timings": {n: t.as_dict() for n, t in timings.items()}, **load}
                if not args.quick and L == max(sizes) and H == 1 and not causal:
                    row["memory_extra_mib"] = memory_row(L, H, threads)
                rows.append(row)
                print(f"  {row['case']:<28} torch/dotwise {row['ratio'] or float('nan'):.2f} "
                      f"load {load['load_before']}→{load['load_after']}", flush=True)
    return rows


def mha_row(args, threads: int, torch) -> list[dict]:
    import dotwise as dw

    B, L, d, H = (2, 128, 64, 4) if args.quick else (2, 1024, 512, 8)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((B, L, d), dtype=np.float32)
    ours_mha = dw.MultiHeadAttention(d, H, random_state=0)
    contenders = {"dotwise": lambda: ours_mha(x)}
    mode = "torch not installed"
    if torch is not None:
        peer = torch.nn.MultiheadAttention(d, H, batch_first=True, bias=True)
        _copy_weights(ours_mha, peer, torch)
        peer.eval()
        tx = torch.from_numpy(x)

        def run_torch():
            with torch.inference_mode():
                return peer(tx, tx, tx, need_weights=False)[0]

        contenders["torch"] = run_torch
        mode = "nn.MultiheadAttention(batch_first=True), need_weights=False, inference_mode"
    answers: dict[str, np.ndarray] = {}

    def check(name, result):
        arr = result.numpy() if hasattr(result, "numpy") else np.asarray(result)
        answers[name] = arr
        if name == "dotwise":
            return bool(np.isfinite(arr).all()), ""
        err = float(np.abs(arr - answers["dotwise"]).max())
        return err < 1e-3, f"max |torch − dotwise| {err:.1e}"

    timings, load = measure(contenders, threads=threads, repeat=args.repeat or 5, check=check)
    ours, peer_t = timings["dotwise"], timings.get("torch")
    return [{"case": f"MultiHeadAttention ({B}, {L}, {d}), {H} heads", "peer": "torch",
             "mode": mode, "ratio": ratio(peer_t, ours), "engine": dotwise_engine(),
             "valid": ours.valid and (peer_t is None or peer_t.valid),
             "note": peer_t.note if peer_t is not None and not peer_t.valid else "",
             "timings": {n: t.as_dict() for n, t in timings.items()}, **load}]


def _copy_weights(ours, peer, torch) -> None:
    """Give torch's module dotwise's weights (both keep PyTorch's parameter layout)."""
    with torch.no_grad():
        peer.in_proj_weight.copy_(torch.from_numpy(ours.in_proj_weight))
        peer.in_proj_bias.copy_(torch.from_numpy(ours.in_proj_bias))
        peer.out_proj.weight.copy_(torch.from_numpy(ours.out_proj_weight))
        peer.out_proj.bias.copy_(torch.from_numpy(ours.out_proj_bias))


def run(args, threads: int) -> list[dict]:
    torch = optional("torch")
    return sdpa_rows(args, threads, torch) + mha_row(args, threads, torch)


if __name__ == "__main__":
    protocol_main(__file__, "attention", __doc__.splitlines()[0], run)
