"""Eigenvalues: dotwise.eigendecomposition and power_iteration against NumPy and SciPy.

Cases (full run):

* symmetric 500×500 — ``eigendecomposition`` (scipy ``eigh`` inside, plus the residuals
  ‖Av − λv‖, ‖VᵀV − I‖ and ‖A − VΛVᵀ‖ it reports) against ``scipy.linalg.eigh``
  (``driver="evd"``, divide and conquer: its fastest documented mode for every pair) and
  ``numpy.linalg.eigh``;
* general 300×300 — ``eigendecomposition`` (``scipy.linalg.eig`` plus residuals, cond(V)
  and the defectiveness test) against ``numpy.linalg.eig`` and ``scipy.linalg.eig``;
* dominant pair of a symmetric 2000×2000 matrix with |λ₂/λ₁| = 0.5 — ``power_iteration``
  (tol 1e-10) against ``scipy.sparse.linalg.eigsh(k=1)`` (ARPACK, tol 1e-10).

Answers are checked while timing: eigenvalues equal to 1e-8 relative (sorted; complex
ones as a multiset), the dominant eigenvector parallel to the reference (|v·v_ref| ≥
1 − 1e-8). Ratios are peer_median / dotwise_median (> 1: dotwise faster); the full
decompositions do more than their peers (the checks they report), which the ratio shows.

Run: ``python benchmarks/bench_eigen.py`` (full: about 1.5 minutes for 1 and 2 threads
together on 2 cores) or ``--quick`` (seconds).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h

FULL = {"sym": 500, "gen": 300, "power": 2000}
QUICK = {"sym": 60, "gen": 40, "power": 200}


def symmetric_with_gap(n: int, seed: int = 0) -> tuple[np.ndarray, float]:
    """Q diag(λ) Qᵀ with λ₁ = 10, λ₂ = 5 and the rest in [−4, 4]: |λ₂/λ₁| = 0.5."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    lam = np.concatenate([[10.0, 5.0], rng.uniform(-4, 4, n - 2)])
    A = (Q * lam) @ Q.T
    return (A + A.T) / 2, 10.0


def _rows(case: str, timings: dict, load: dict, extra: dict) -> list[dict]:
    ours = timings[h.DOTWISE]
    rows = []
    for name, t in timings.items():
        if name == h.DOTWISE:
            continue
        peer, _, mode = name.partition(" | ")
        rows.append({"case": f"{case} vs {peer}", "peer": peer, "mode": mode,
                     "ratio": h.ratio(t, ours), "valid": t.valid and ours.valid,
                     "dotwise": ours.as_dict(), "peer_timing": t.as_dict(), **extra, **load})
    return rows


def run(args, threads: int) -> list[dict]:
    import scipy.linalg
    import scipy.sparse.linalg

    import dotwise as dw

    sizes = QUICK if args.quick else FULL
    repeat = args.repeat or 5
    rng = np.random.default_rng(1)
    rows: list[dict] = []

    # 1. symmetric: every eigenpair
    n = sizes["sym"]
    M = rng.standard_normal((n, n))
    S = (M + M.T) / 2
    ref = np.sort(scipy.linalg.eigh(S, eigvals_only=True))

    def check_sym(name, out):
        vals = np.sort(np.asarray(out))
        ok = bool(np.allclose(vals, ref, rtol=1e-8, atol=1e-10 * np.abs(ref).max()))
        return ok, "" if ok else f"max |Δλ| = {np.abs(vals - ref).max():.1e}"

    contenders = {
        h.DOTWISE: lambda: dw.eigendecomposition(S).values,
        "scipy.linalg.eigh | driver=evd": lambda: scipy.linalg.eigh(S, driver="evd")[0],
        "numpy.linalg.eigh | default": lambda: np.linalg.eigh(S)[0],
    }
    timings, load = h.measure(contenders, threads=threads, repeat=repeat, check=check_sym)
    rows += _rows(f"symmetric {n}×{n}, all pairs", timings, load,
                  {"shape": [n, n], "dtype": "float64"})

    # 2. general: every eigenpair (complex ones included)
    n = sizes["gen"]
    G = rng.standard_normal((n, n))
    ref_g = np.linalg.eigvals(G)

    def multiset_close(vals):
        vals = np.asarray(vals, dtype=complex)
        remaining = list(ref_g)
        worst = 0.0
        for z in vals:
            i = int(np.argmin(np.abs(np.asarray(remaining) - z)))
            worst = max(worst, abs(remaining.pop(i) - z))
        return worst <= 1e-8 * np.abs(ref_g).max(), worst

    def check_gen(name, out):
        ok, worst = multiset_close(out)
        return ok, "" if ok else f"max |Δλ| = {worst:.1e}"

    contenders = {
        h.DOTWISE: lambda: dw.eigendecomposition(G).values,
        "numpy.linalg.eig | default": lambda: np.linalg.eig(G)[0],
        "scipy.linalg.eig | default": lambda: scipy.linalg.eig(G, check_finite=False)[0],
    }
    timings, load = h.measure(contenders, threads=threads, repeat=repeat, check=check_gen)
    rows += _rows(f"general {n}×{n}, all pairs", timings, load,
                  {"shape": [n, n], "dtype": "float64"})

    # 3. dominant pair of a big symmetric matrix
    n = sizes["power"]
    P, lam1 = symmetric_with_gap(n)
    v_ref = scipy.linalg.eigh(P, subset_by_index=[n - 1, n - 1])[1][:, 0]
    x0 = np.random.default_rng(2).standard_normal(n)

    def check_power(name, out):
        lam, v = out
        ok = abs(lam - lam1) <= 1e-8 * lam1 and abs(float(v @ v_ref)) >= 1 - 1e-8
        return ok, "" if ok else f"λ = {lam!r}, |v·v_ref| = {abs(float(v @ v_ref)):.10f}"

    def ours():
        r = dw.power_iteration(P, x0=x0, tol=1e-10, max_iter=2000)
        return r.value, r.vector

    def arpack():
        w, V = scipy.sparse.linalg.eigsh(P, k=1, which="LM", tol=1e-10, v0=x0)
        return float(w[0]), V[:, 0]

    contenders = {h.DOTWISE: ours, "scipy.sparse.linalg.eigsh | k=1, which=LM, tol=1e-10": arpack}
    timings, load = h.measure(contenders, threads=threads, repeat=repeat, check=check_power)
    iters = dw.power_iteration(P, x0=x0, tol=1e-10, max_iter=2000).iterations[0]
    rows += _rows(f"dominant pair, symmetric {n}×{n}, |λ₂/λ₁| = 0.5", timings, load,
                  {"shape": [n, n], "dtype": "float64", "power_iterations": iters})
    return rows


if __name__ == "__main__":
    h.protocol_main(__file__, "eigen", __doc__.splitlines()[0], run)
