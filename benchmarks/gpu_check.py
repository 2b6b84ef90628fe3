"""The GPU device check: every array-API entry point on CUDA, answers and speed vs PyTorch.

Runs each function that accepts array-API arrays — ``scaled_dot_product_attention``
(dense and blocked, every mask kind), ``MultiHeadAttention``, ``exact_search``,
``Index``, ``lstsq``, ``ridge``, ``PCA``, the cosine / projection primitives — on
CUDA with PyTorch tensors and CuPy arrays, checks every answer against dotwise's
CPU NumPy path on the same data (copied to the host *by this script*, explicitly),
then times, on CUDA with torch tensors (medians of interleaved runs, after a
warm-up, ``torch.cuda.synchronize()`` around each):

* attention vs ``torch.nn.functional.scaled_dot_product_attention``
  (4 × 16 heads × 1024² and × 4096², E = 64, float32, plain and causal);
* exact search over 1 000 000 × 768 float32 (1 024 queries, k = 10, dot product)
  vs ``torch.topk(q @ x.T, k)``, with the ids compared;
* ``lstsq`` (100 000 × 256, float32) vs ``torch.linalg.lstsq``;
* ``PCA(32)`` (200 000 × 512, float32) vs ``torch.pca_lowrank(q=32)``.

Results go to ``benchmarks/results/gpu.json`` (a ratio is peer time / dotwise
time: above 1 dotwise is faster; the target is >= 0.8, "within 1.25×").
TF32 is switched off in torch so that float32 answers are comparable.

Needs only NumPy, PyTorch with CUDA and dotwise's core dependencies; CuPy is
checked when installed (``cupy-cuda12x``). ``array-api-compat`` is used when
installed, else the copy that scikit-learn ships. Expected run time on one
H200: about 1–2 minutes (well under 5).

Run: ``python benchmarks/gpu_check.py`` on a CUDA machine. Without a CUDA device it
stops with a one-line message and exit code 2. ``--cpu-smoke`` runs the same code
on torch CPU tensors at tiny sizes (seconds; the test suite runs it), writing
``benchmarks/results/gpu.quick.json`` unless ``--out`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))  # this checkout's dotwise, even if not installed

RESULTS = HERE / "results"


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


# ------------------------------------------------------------------ backends
class Torch:
    name = "torch"

    def __init__(self, torch, device):
        self.torch, self.device = torch, device

    def to(self, a):
        return self.torch.from_numpy(np.ascontiguousarray(a)).to(self.device)

    def host(self, x):
        assert isinstance(x, self.torch.Tensor) and x.device.type == self.device.type, (
            f"expected a torch tensor on {self.device}, got {type(x).__name__}")
        return x.detach().cpu().numpy()

    def sync(self):
        if self.device.type == "cuda":
            self.torch.cuda.synchronize()


class CuPy:
    name = "cupy"

    def __init__(self, cupy):
        self.cupy = cupy

    def to(self, a):
        return self.cupy.asarray(np.ascontiguousarray(a))

    def host(self, x):
        assert isinstance(x, self.cupy.ndarray), f"expected a CuPy array, got {type(x)}"
        return self.cupy.asnumpy(x)

    def sync(self):
        self.cupy.cuda.get_current_device().synchronize()


# ------------------------------------------------------------------ answer checks
def _err(got, want) -> float:
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape:
        return float("inf")
    scale = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
    return float(np.max(np.abs(got - want))) / scale if want.size else 0.0


def run_checks(be, rng, sizes) -> list[dict[str, Any]]:
    import dotwise as dw
    from dotwise.attention import MultiHeadAttention, padding_mask
    from dotwise.models import PCA
    from dotwise.search import Index, exact_search

    checks: list[dict[str, Any]] = []

    def check(function, case, got, want, tol):
        try:
            err = _err(be.host(got), want)
            ok = err <= tol
            note = ""
        except AssertionError as exc:
            err, ok, note = float("nan"), False, str(exc)
        checks.append({"function": function, "case": case, "backend": be.name, "ok": bool(ok),
                       "max_rel_error": err, "tolerance": tol, "note": note})

    def guarded(function, case, body):
        try:
            body()
        except Exception as exc:  # a failed check is recorded, not fatal
            checks.append({"function": function, "case": case, "backend": be.name,
                           "ok": False, "max_rel_error": None, "tolerance": None,
                           "note": f"{type(exc).__name__}: {exc}"[:400],
                           "traceback": traceback.format_exc()[-1500:]})

    B, H, L, S, E = sizes["attn"]
    f32 = np.float32

    def attention():
        q = rng.standard_normal((B, H, L, E)).astype(f32)
        k = rng.standard_normal((B, H, S, E)).astype(f32)
        v = rng.standard_normal((B, H, S, E)).astype(f32)
        bool_mask = rng.random((L, S)) > 0.3
        bool_mask[0] = False
        masks = {"none": {}, "causal": {"is_causal": True}, "bool": {"attn_mask": bool_mask},
                 "float": {"attn_mask": rng.standard_normal((B, 1, L, S)).astype(f32)},
                 "padding": {"attn_mask": padding_mask([S // 2] * B, S)[:, None]}}
        for kind, kw in masks.items():
            want = dw.scaled_dot_product_attention(q, k, v, **kw)
            dev_kw = {a: be.to(b) if isinstance(b, np.ndarray) else b for a, b in kw.items()}
            # default: torch's fused kernel for torch, dotwise's dense path for CuPy
            for path, block in (("default", None), ("blocked", max(1, S // 3))):
                got = dw.scaled_dot_product_attention(be.to(q), be.to(k), be.to(v),
                                                      block_size=block, **dev_kw)
                check("scaled_dot_product_attention", f"{path}, mask {kind}", got, want, 1e-5)
            if kind != "causal":  # return_weights: dotwise's own dense path in every namespace
                got, w = dw.scaled_dot_product_attention(be.to(q), be.to(k), be.to(v),
                                                         return_weights=True, **dev_kw)
                check("scaled_dot_product_attention", f"dense + weights, mask {kind}", got,
                      want, 1e-5)

    def multihead():
        mha = MultiHeadAttention(E, 4, random_state=0)
        mha.in_proj_bias[:] = rng.standard_normal(3 * E)
        x = rng.standard_normal((B, L, E)).astype(f32)
        c = rng.standard_normal((B, S, E)).astype(f32)
        check("MultiHeadAttention", "self, causal", mha(be.to(x), is_causal=True),
              mha(x, is_causal=True), 1e-5)
        check("MultiHeadAttention", "cross, padding mask",
              mha(be.to(x), be.to(c), attn_mask=be.to(padding_mask([S // 2] * B, S))),
              mha(x, c, attn_mask=padding_mask([S // 2] * B, S)), 1e-5)

    n, d, m = sizes["search"]

    def search():
        X = rng.standard_normal((n, d)).astype(f32)
        Q = rng.standard_normal((m, d)).astype(f32)
        for metric in ("cosine", "dot", "l2"):
            want = exact_search(X, Q, k=10, metric=metric)
            got = exact_search(be.to(X), be.to(Q), k=10, metric=metric)
            check("exact_search", f"{metric} ids", got.ids, want.ids, 0.0)
            check("exact_search", f"{metric} scores", got.scores, want.scores, 1e-5)
        ref, dev = Index(d, metric="cosine"), Index(d, metric="cosine")
        ref.add(X)
        dev.add(be.to(X))
        ref.remove(np.arange(0, n, 7))
        dev.remove(np.arange(0, n, 7))
        flt = lambda ids: ids % 2 == 1  # noqa: E731
        want = ref.search(Q, k=10, filter=flt)
        got = dev.search(be.to(Q), k=10, filter=flt)
        check("Index", "cosine, remove + filter, ids", got.ids, want.ids, 0.0)
        check("Index", "cosine, remove + filter, scores", got.scores, want.scores, 1e-5)
        check("Index", "vectors stay on the device", dev.vectors, ref.vectors, 1e-6)

    mr, nr = sizes["lstsq"]

    def least_squares():
        A = rng.standard_normal((mr, nr))
        b = rng.standard_normal((mr, 3))
        for method in ("auto", "normal", "qr", "svd"):
            check("lstsq", f"{method}, float64", dw.lstsq(be.to(A), be.to(b), method=method).x,
                  dw.lstsq(A, b, method=method).x, 1e-9)
        A32, b32 = A.astype(f32), b[:, 0].astype(f32)
        check("lstsq", "auto, float32", dw.lstsq(be.to(A32), be.to(b32)).x,
              dw.lstsq(A32, b32).x, 1e-4)
        check("ridge", "alpha=1", dw.ridge(be.to(A), be.to(b), alpha=1.0),
              dw.ridge(A, b, alpha=1.0), 1e-9)
        check("ridge", "alpha per column", dw.ridge(be.to(A), be.to(b), alpha=[0.0, 1.0, 9.0]),
              dw.ridge(A, b, alpha=[0.0, 1.0, 9.0]), 1e-9)

    npca, ppca = sizes["pca"]

    def pca():
        X = rng.standard_normal((npca, ppca)) * np.linspace(5, 0.1, ppca) + 1.0
        for solver in ("full", "covariance_eigh", "randomized"):
            kw = dict(n_components=5, svd_solver=solver, random_state=0)
            ref, dev = PCA(**kw).fit(X), PCA(**kw).fit(be.to(X))
            check("PCA", f"{solver} components_", dev.components_, ref.components_, 1e-7)
            Z = dev.transform(be.to(X))
            check("PCA", f"{solver} transform", Z, ref.transform(X), 1e-7)
            check("PCA", f"{solver} inverse_transform", dev.inverse_transform(Z),
                  ref.inverse_transform(ref.transform(X)), 1e-7)

    def primitives():
        U = rng.standard_normal((50, 16))
        V = rng.standard_normal((30, 16))
        check("cosine_matrix", "U, V", dw.cosine_matrix(be.to(U), be.to(V)),
              dw.cosine_matrix(U, V), 1e-12)
        check("cosine_similarity", "rows", dw.cosine_similarity(be.to(U), be.to(U[::-1])),
              dw.cosine_similarity(U, U[::-1]), 1e-12)
        check("vector_projection", "rows", dw.vector_projection(be.to(U), be.to(U[::-1])),
              dw.vector_projection(U, U[::-1]), 1e-12)
        check("project", "onto col(A)", dw.project(be.to(U[:, 0]), be.to(U[:, 1:5])),
              dw.project(U[:, 0], U[:, 1:5]), 1e-10)

    for function, body in (("scaled_dot_product_attention", attention),
                           ("MultiHeadAttention", multihead), ("exact_search", search),
                           ("lstsq", least_squares), ("PCA", pca),
                           ("cosine_matrix", primitives)):
        guarded(function, "(whole group)", body)
    return checks


# ------------------------------------------------------------------ timings
def _median_pair(ours, peer, sync, repeat):
    """Interleaved medians (seconds) of two callables, after one warm-up call each."""
    ours(), peer()
    sync()
    t_ours, t_peer = [], []
    for _ in range(repeat):
        for fn, store in ((ours, t_ours), (peer, t_peer)):
            sync()
            t0 = time.perf_counter()
            fn()
            sync()
            store.append(time.perf_counter() - t0)
    return statistics.median(t_ours), statistics.median(t_peer)


def run_timings(be, torch, sizes, repeat) -> list[dict[str, Any]]:
    import dotwise as dw
    from dotwise.models import PCA
    from dotwise.search import exact_search

    F = torch.nn.functional
    dev = be.device
    gen = torch.Generator(device=dev).manual_seed(0)
    rows: list[dict[str, Any]] = []

    def row(case, params, peer, mode, ours_s, peer_s, valid, note=""):
        rows.append({"case": case, "params": params, "peer": peer, "mode": mode,
                     "dotwise_s": ours_s, "peer_s": peer_s,
                     "ratio": peer_s / ours_s if ours_s > 0 else None,
                     "valid": bool(valid), "note": note})

    for (B, H, L, E) in sizes["attn_timing"]:
        q, k, v = (torch.randn(B, H, L, E, device=dev, generator=gen) for _ in range(3))
        for causal in (False, True):
            def ours(q=q, k=k, v=v, causal=causal):
                return dw.scaled_dot_product_attention(q, k, v, is_causal=causal,
                                                       check_finite=False)

            def peer(q=q, k=k, v=v, causal=causal):
                return F.scaled_dot_product_attention(q, k, v, is_causal=causal)

            a, b = _median_pair(ours, peer, be.sync, repeat)
            err = float((ours() - peer()).abs().max())
            row("attention", {"shape": [B, H, L, E], "is_causal": causal, "dtype": "float32"},
                "torch.nn.functional.scaled_dot_product_attention", "default backend", a, b,
                err < 1e-4, f"max |difference| {err:.1e}")
            del ours, peer
        del q, k, v

    n, d, m, k = sizes["search_timing"]
    X = torch.randn(n, d, device=dev, generator=gen)
    Q = torch.randn(m, d, device=dev, generator=gen)
    ours = lambda X=X, Q=Q: exact_search(X, Q, k=k, metric="dot")  # noqa: E731
    peer = lambda X=X, Q=Q: torch.topk(Q @ X.T, k, dim=1)  # noqa: E731
    a, b = _median_pair(ours, peer, be.sync, repeat)
    got, (pv, pi) = ours(), peer()
    same = float((got.ids == pi).float().mean())
    serr = float((got.scores - pv).abs().max() / pv.abs().max())
    # the CPU NumPy path on a few queries, as the reference (one explicit host copy)
    Xh, Qh = X.cpu().numpy(), Q[:8].cpu().numpy()
    ref = exact_search(Xh, Qh, k=k, metric="dot")
    cpu_same = bool(np.array_equal(got.ids[:8].cpu().numpy(), ref.ids))
    del Xh
    row("exact_search", {"n": n, "d": d, "queries": m, "k": k, "metric": "dot",
                         "dtype": "float32"}, "torch.topk(q @ x.T)", "one GEMM + topk", a, b,
        same > 0.999 and serr < 1e-5 and cpu_same,
        f"ids equal to the baseline's {same:.4%}, score rel. error {serr:.1e}, first 8 "
        f"queries equal to the CPU NumPy path: {cpu_same}")
    del X, Q, ours, peer, got, pv, pi

    mr, nr = sizes["lstsq_timing"]
    A = torch.randn(mr, nr, device=dev, generator=gen)
    b = torch.randn(mr, 1, device=dev, generator=gen)
    ours = lambda A=A, b=b: dw.lstsq(A, b, check_finite=False)  # noqa: E731
    peer = lambda A=A, b=b: torch.linalg.lstsq(A, b)  # noqa: E731
    a, t = _median_pair(ours, peer, be.sync, repeat)
    res, pres = ours(), peer()
    err = float((res.x - pres.solution).abs().max() / pres.solution.abs().max())
    row("lstsq", {"shape": [mr, nr], "dtype": "float32"}, "torch.linalg.lstsq",
        "default driver", a, t, err < 1e-3, f"method {res.method}, x rel. difference {err:.1e}")
    del A, b, ours, peer, res, pres

    npca, ppca, kc = sizes["pca_timing"]
    scale = torch.linspace(5, 0.1, ppca, device=dev)
    Xp = torch.randn(npca, ppca, device=dev, generator=gen) * scale + 1.0
    ours = lambda: PCA(kc).fit(Xp)  # noqa: E731
    peer = lambda: torch.pca_lowrank(Xp, q=kc, center=True)  # noqa: E731
    a, t = _median_pair(ours, peer, be.sync, repeat)
    est, (_, s, _) = ours(), peer()
    exact = torch.linalg.svdvals(Xp - Xp.mean(dim=0))[:kc]  # the reference for both
    ours_err = float(((est.singular_values_ - exact).abs() / exact).max())
    peer_err = float(((s - exact).abs() / exact).max())
    row("pca", {"shape": [npca, ppca], "n_components": kc, "dtype": "float32"},
        "torch.pca_lowrank", "q=n_components, niter=2 (randomized)", a, t, ours_err < 1e-3,
        f"dotwise solver {est.svd_solver_}; singular values vs torch.linalg.svdvals: dotwise "
        f"rel. error {ours_err:.1e}, torch.pca_lowrank {peer_err:.1e}")
    return rows


# ------------------------------------------------------------------ main
FULL = {"attn": (2, 4, 96, 80, 32), "search": (20_000, 64, 32), "lstsq": (2_000, 40),
        "pca": (3_000, 40),
        "attn_timing": [(4, 16, 1024, 64), (4, 16, 4096, 64)],
        "search_timing": (1_000_000, 768, 1024, 10), "lstsq_timing": (100_000, 256),
        "pca_timing": (200_000, 512, 32)}
SMOKE = {"attn": (1, 2, 9, 7, 8), "search": (300, 16, 4), "lstsq": (60, 6), "pca": (80, 10),
         "attn_timing": [(1, 2, 32, 16)], "search_timing": (2_000, 32, 8, 5),
         "lstsq_timing": (300, 8), "pca_timing": (400, 24, 4)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cpu-smoke", action="store_true",
                    help="run the same code on torch CPU tensors at tiny sizes (seconds)")
    ap.add_argument("--out", type=Path, default=None,
                    help="where to write the JSON (default benchmarks/results/gpu.json, "
                         "gpu.quick.json with --cpu-smoke)")
    ap.add_argument("--repeat", type=int, default=None, help="timed runs per case")
    args = ap.parse_args(argv)
    try:
        import torch
    except ImportError:
        fail("gpu_check needs PyTorch (a CUDA build: see the README's GPU section)")
    if args.cpu_smoke:
        device, sizes, repeat = torch.device("cpu"), SMOKE, args.repeat or 2
    else:
        if not torch.cuda.is_available():
            fail("no CUDA device is available (torch.cuda.is_available() is False); run this "
                 "on a machine with an NVIDIA GPU and a CUDA build of PyTorch, or pass "
                 "--cpu-smoke to run the same code on the CPU at tiny sizes")
        device, sizes, repeat = torch.device("cuda"), FULL, args.repeat or 10
        torch.backends.cuda.matmul.allow_tf32 = False  # float32 answers comparable to NumPy
        torch.backends.cudnn.allow_tf32 = False
    out = args.out or RESULTS / ("gpu.quick.json" if args.cpu_smoke else "gpu.json")
    import dotwise

    started = time.perf_counter()
    rng = np.random.default_rng(0)
    backends = [Torch(torch, device)]
    cupy_version = None
    if device.type == "cuda":
        try:
            import cupy

            cupy_version = cupy.__version__
            backends.append(CuPy(cupy))
        except ImportError:
            cupy_version = "not installed"
    checks = []
    for be in backends:
        checks += run_checks(be, rng, sizes)
    timings = run_timings(backends[0], torch, sizes, repeat)
    payload = {
        "kind": "device-check", "smoke": bool(args.cpu_smoke), "device": device.type,
        "device_name": (torch.cuda.get_device_name(0) if device.type == "cuda"
                        else platform.processor() or platform.machine()),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "versions": {"dotwise": dotwise.__version__, "numpy": np.__version__,
                     "torch": torch.__version__, "cupy": cupy_version,
                     "python": platform.python_version()},
        "target": "ratio >= 0.8 (dotwise within 1.25x of the peer), exact answers",
        "repeat": repeat, "checks": checks, "timings": timings,
        "wall_s": round(time.perf_counter() - started, 1),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, out)

    failed = [c for c in checks if not c["ok"]]
    print(f"## dotwise on {payload['device_name']} ({device.type}"
          f"{', CPU smoke run: sizes are tiny, timings mean nothing' if args.cpu_smoke else ''})"
          "\n")
    print(f"{len(checks) - len(failed)} of {len(checks)} answer checks passed "
          f"(backends: {', '.join(b.name for b in backends)}).\n")
    for c in failed:
        print(f"- FAILED {c['backend']} {c['function']} [{c['case']}]: "
              f"error {c['max_rel_error']} > {c['tolerance']} {c['note']}")
    print("| case | params | peer | dotwise s | peer s | ratio | valid | note |")
    print("|---|---|---|---|---|---|---|---|")
    for r in timings:
        print(f"| {r['case']} | {json.dumps(r['params'])} | {r['peer']} | {r['dotwise_s']:.4g} "
              f"| {r['peer_s']:.4g} | {r['ratio']:.2f} | {r['valid']} | {r['note']} |")
    print(f"\nwrote {out} in {payload['wall_s']} s")
    return 1 if failed or not all(r["valid"] for r in timings) else 0


if __name__ == "__main__":
    sys.exit(main())
