"""Attention: dotwise vs torch.nn.functional.scaled_dot_product_attention (CPU) vs naive NumPy.

Time (interleaved, medians) and peak memory (fresh subprocess, ru_maxrss) for
L = S in {512, 2048, 8192, 32768}, E = 64, float32, 1 and 8 heads, with and
without a causal mask. Every library is pinned to the same number of threads.

Run the full benchmark one at a time across the team:

    flock /tmp/dotwise-bench.lock python benchmarks/bench_attention.py

``--quick`` runs small sizes in seconds (the test suite uses it).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _harness import (
    Timing,
    compare,
    fmt_ratio,
    fmt_time,
    machine_info,
    markdown_table,
    optional,
    parser,
    peak_rss_of,
    pin_threads,
    ratio,
    write_results,
)

E = 64
NAIVE_LIMIT_GIB = 2.0  # skip the naive version when its (H, L, L) matrices need more
TORCH_MEMORY_LIMIT_GIB = 8.0  # torch's CPU kernel peaked at ~3 (H, L, L) float32 matrices


def naive_attention(q, k, v, causal):
    """The textbook version: the whole (H, L, S) score matrix, then softmax, then @ v."""
    scores = q @ np.swapaxes(k, -1, -2) / np.float32(np.sqrt(q.shape[-1]))
    if causal:
        L, S = scores.shape[-2:]
        scores = np.where(np.tri(L, S, dtype=bool), scores, np.float32(-np.inf))
    scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
    scores /= scores.sum(axis=-1, keepdims=True)
    return scores @ v


def naive_need_gib(L: int, H: int) -> float:
    return 2 * H * L * L * 4 / 2**30  # scores + one same-size temporary, float32


def make_inputs(L: int, H: int):
    rng = np.random.default_rng(0)
    return tuple(rng.standard_normal((H, L, E), dtype=np.float32) for _ in range(3))


def time_case(L, H, causal, repeat, warmup, torch, with_one_thread=True):
    import dotwise as dw

    q, k, v = make_inputs(L, H)
    contenders = {"dotwise": lambda: dw.scaled_dot_product_attention(q, k, v, is_causal=causal)}
    if torch is not None:
        tq, tk, tv = (torch.from_numpy(a) for a in (q, k, v))
        F = torch.nn.functional
        contenders["torch"] = lambda: F.scaled_dot_product_attention(tq, tk, tv,
                                                                     is_causal=causal)

        def torch_one_thread():
            # A reference, not the protocol's comparison: on a loaded machine torch's
            # OpenMP barrier waits whenever one of its threads is descheduled.
            n = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                return F.scaled_dot_product_attention(tq, tk, tv, is_causal=causal)
            finally:
                torch.set_num_threads(n)

        if with_one_thread:
            contenders["torch 1 thread"] = torch_one_thread
    need = naive_need_gib(L, H)
    if need <= NAIVE_LIMIT_GIB:
        contenders["naive numpy"] = lambda: naive_attention(q, k, v, causal)
    results: dict[str, np.ndarray] = {}

    def check(name, result):
        arr = result.numpy() if hasattr(result, "numpy") else np.asarray(result)
        results[name] = arr
        ref = results.get("dotwise")
        if ref is None or name == "dotwise":
            return np.isfinite(arr).all(), ""
        err = float(np.abs(arr - ref).max())
        return err < 1e-4, f"max |diff| vs dotwise {err:.1e}"

    if warmup == 0:  # the biggest case: the checked run is the only, timed, run
        timings = {}
        for name, fn in contenders.items():
            t = Timing(name)
            start = time.perf_counter()
            res = fn()
            t.times.append(time.perf_counter() - start)
            t.valid, t.note = check(name, res)
            del res
            timings[name] = t
    else:
        timings = compare(contenders, repeat=repeat, check=check, warmup=warmup)
    if need > NAIVE_LIMIT_GIB:
        timings["naive numpy"] = Timing("naive numpy", valid=False,
                                        note=f"skipped: needs {need:.1f} GiB")
    return timings


def memory_case(L, H, contender, threads):
    """Peak RSS of one call in a fresh process, and of the same process without the call."""
    setup = (
        "import sys, numpy as np\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parents[1] / 'src')!r})\n"
        "from bench_attention import make_inputs, naive_attention\n"
        f"q, k, v = make_inputs({L}, {H})\n"
    )
    if contender == "dotwise":
        setup += "import dotwise as dw\n"
        call = "out = dw.scaled_dot_product_attention(q, k, v)\n"
    elif contender == "torch":
        setup += (f"import torch\ntorch.set_num_threads({threads})\n"
                  "tq, tk, tv = (torch.from_numpy(a) for a in (q, k, v))\n")
        call = "out = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv)\n"
    else:
        call = "out = naive_attention(q, k, v, False)\n"
    base = peak_rss_of(setup, threads=threads)
    peak = peak_rss_of(setup + call, threads=threads)
    if not (base["ok"] and peak["ok"]):
        return {"ok": False, "error": base.get("error") or peak.get("error")}
    return {"ok": True, "baseline_mib": base["peak_mib"], "peak_mib": peak["peak_mib"],
            "extra_mib": peak["peak_mib"] - base["peak_mib"]}


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--memory-only", action="store_true",
                   help="re-measure only the memory table, keeping the timings in the "
                        "existing results file")
    args = p.parse_args()
    pinned = pin_threads(args.threads)
    torch = optional("torch")
    if args.quick:
        plan = [(L, 2, c, args.repeat or 2, 1, True) for L in (256, 512) for c in (False, True)]
        memory_plan = [(256, 1)]
    else:
        r = args.repeat or 5
        # (L, heads, causal, timed runs, warm-up runs, also time torch on 1 thread)
        plan = [(L, H, c, r, 1, True) for L in (512, 2048) for H in (1, 8)
                for c in (False, True)]
        plan += [(8192, 1, c, r, 1, False) for c in (False, True)]
        plan += [(8192, 8, c, 1, 1, False) for c in (False, True)]   # torch: ~25 s a run
        plan += [(32768, 1, c, 1, 0, False) for c in (False, True)]  # one run, no warm-up
        memory_plan = [(2048, 8), (8192, 1), (8192, 8), (32768, 1)]

    start = time.perf_counter()
    # Memory first: fresh subprocesses, while this process is still small.
    mem_rows, mem_table = [], []
    for L, H in memory_plan:
        entry = {"L": L, "heads": H, "causal": False}
        cells = []
        names = ("dotwise", "naive numpy") if args.quick else ("dotwise", "torch", "naive numpy")
        for name in names:
            if name == "torch" and torch is None:
                entry[name] = {"ok": False, "error": "not installed"}
                cells.append("not installed")
                continue
            torch_need = 3 * H * L * L * 4 / 2**30
            if name == "torch" and torch_need > TORCH_MEMORY_LIMIT_GIB:
                note = (f"skipped: ≈ {torch_need:.0f} GiB (the timing run's process peaked "
                        f"at 13.5 GiB with it)")
                entry[name] = {"ok": False, "error": note}
                cells.append(note)
                continue
            if name == "naive numpy" and naive_need_gib(L, H) > NAIVE_LIMIT_GIB:
                note = f"skipped: needs {naive_need_gib(L, H):.1f} GiB"
                entry[name] = {"ok": False, "error": note}
                cells.append(note)
                continue
            m = memory_case(L, H, name, args.threads)
            entry[name] = m
            cells.append(f"{m['extra_mib']:.0f} MiB (peak {m['peak_mib']:.0f})" if m["ok"]
                         else m["error"])
        if args.quick:
            cells.insert(1, "not measured in --quick")
        mem_rows.append(entry)
        inputs_mib = 4 * H * L * E * 4 / 2**20  # q, k, v and the output
        mem_table.append([L, H, f"{inputs_mib:.0f} MiB", *cells])
        print(f"  memory L={L} H={H}: {' | '.join(cells)}", flush=True)

    if args.memory_only:
        path = args.out or Path(__file__).resolve().parent / "results" / "attention.json"
        previous = json.loads(Path(path).read_text(encoding="utf-8"))
        rows, table_md = previous["timing"], previous["markdown"]["time"]
        plan = []
    rows, table = [], []
    for L, H, causal, repeat, warmup, one_thread in plan:
        t = time_case(L, H, causal, repeat, warmup, torch, one_thread)
        ours, peer, naive = t["dotwise"], t.get("torch"), t["naive numpy"]
        peer1 = t.get("torch 1 thread")
        row = {"L": L, "S": L, "E": E, "heads": H, "causal": causal, "dtype": "float32",
               "repeat": repeat, "warmup": warmup,
               "timings": {name: tm.as_dict() for name, tm in t.items()},
               "torch_over_dotwise": ratio(peer, ours),
               "torch_1_thread_over_dotwise": ratio(peer1, ours),
               "naive_over_dotwise": ratio(naive, ours) if naive.valid else None}
        rows.append(row)
        runs = f"{len(ours.times)}" + ("" if warmup else " (no warm-up)")

        def cell(tm, peer_row=False):
            if tm is None:
                return "not installed" if torch is None or not peer_row else "not run"
            if not tm.times:
                return tm.note
            text = fmt_time(tm.median)
            return text if tm.valid else f"{text} (INVALID: {tm.note})"

        table.append([L, H, "yes" if causal else "no", cell(ours), cell(peer),
                      fmt_ratio(row["torch_over_dotwise"]), cell(peer1, True),
                      fmt_ratio(row["torch_1_thread_over_dotwise"]), cell(naive),
                      fmt_ratio(row["naive_over_dotwise"]), runs])
        print(f"  L={L:>5} H={H} causal={causal!s:<5} dotwise {fmt_time(ours.median)}  "
              f"torch {cell(peer)}  naive {cell(naive)}  [{time.perf_counter() - start:.0f} s]",
              flush=True)

    time_md = table_md if args.memory_only else markdown_table(
        ["L = S", "heads", "causal", "dotwise", "torch SDPA", "torch / dotwise",
         "torch, 1 thread", "torch 1T / dotwise", "naive NumPy", "naive / dotwise", "timed runs"], table)
    mem_md = markdown_table(
        ["L = S", "heads", "q, k, v, out", "dotwise extra (peak RSS)", "torch extra (peak RSS)",
         "naive extra (peak RSS)"], mem_table)
    print("\n### Time (median; float32, E = 64, ratios > 1: dotwise faster)\n")
    print(time_md)
    print("\n### Peak memory (fresh subprocess, VmHWM; extra = peak − same process "
          "without the call)\n")
    print(mem_md)
    payload = {"benchmark": "attention", "machine": machine_info(args.threads, pinned),
               "quick": args.quick, "timing": rows, "memory": mem_rows,
               "markdown": {"time": time_md, "memory": mem_md},
               "seconds": time.perf_counter() - start,
               "memory_method": "VmHWM of a fresh subprocess (_harness.peak_rss_of)"}
    path = write_results("attention", payload, args.out, quick=args.quick)
    print(f"\nresults → {path}")


if __name__ == "__main__":
    main()
