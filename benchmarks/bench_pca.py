"""PCA and linear-regression estimators: dotwise against scikit-learn (the fair protocol).

PCA: ``dotwise.PCA`` vs ``sklearn.decomposition.PCA`` with the same solver
("full", "randomized", and each library's "auto"), on synthetic data with a
decaying spectrum (20 000×500, 100 000×100, float64) and on the digits
(1 797×64), for ``n_components`` 10 and 50. Every contender's explained
variances are checked against an exact reference (scikit-learn's full SVD);
a row whose error exceeds the tolerance is marked invalid.

Regression: ``dotwise.LinearRegression`` (with and without diagnostics) and
``dotwise.Ridge`` vs scikit-learn's on 200 000×50 float64; coefficients must agree.

Peak memory: what one PCA fit allocates beyond ``X`` itself,
traced with ``tracemalloc`` (NumPy and SciPy report their buffers to it). A
fresh-subprocess ``ru_maxrss`` is not used: on Linux a child inherits its
parent's peak RSS across fork/exec, which hides the figure.

Every comparison runs at 1 and at 2 threads, each in a fresh process with every BLAS
pinned; the memory rows (one fit each, not a timing) are taken at 1 thread.

Usage::

    python benchmarks/bench_pca.py            # full run, 1 and 2 threads (about 4 minutes)
    python benchmarks/bench_pca.py --quick    # seconds; writes results/pca.quick.json
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h

SEED = 20240611
# Randomized SVD is approximate: on this slowly decaying spectrum (s_j ~ 1/√j) the 50th
# variance is off by a few per cent for both libraries; 0.1 flags a broken answer.
EV_RTOL = {"full": 1e-8, "covariance_eigh": 1e-6, "auto": 1e-6, "randomized": 0.1}


def decaying_data(n: int, p: int, seed: int = SEED) -> np.ndarray:
    """n×p float64 data with singular values decaying like 1/√j, rotated and off-centre."""
    rng = np.random.default_rng(seed)
    scales = 1.0 / np.sqrt(np.arange(1, p + 1))
    basis, _ = np.linalg.qr(rng.standard_normal((p, p)))
    X = (rng.standard_normal((n, p)) * scales) @ basis.T
    X += rng.uniform(-3, 3, size=p)
    return X


def digits() -> np.ndarray:
    from sklearn.datasets import load_digits

    return load_digits().data.astype(np.float64)


def pca_rows(name: str, X: np.ndarray, ks: list[int], repeat: int, threads: int,
             retries: int, *, full: bool = True):
    import sklearn.decomposition as skd

    import dotwise as dw

    n, p = X.shape
    exact = skd.PCA(svd_solver="full").fit(X).explained_variance_
    rows = []
    for k in ks:
        if k > min(n, p):
            continue
        solvers = (["full"] if full and k == ks[0] else []) + ["randomized", "auto"]
        for solver in solvers:
            contenders = {
                h.DOTWISE: lambda s=solver, k=k: dw.PCA(
                    n_components=k, svd_solver=s, random_state=0).fit(X),
                "scikit-learn": lambda s=solver, k=k: skd.PCA(
                    n_components=k, svd_solver=s, random_state=0).fit(X),
            }
            errors: dict[str, float] = {}
            chosen: dict[str, str] = {}

            def check(who, model, k=k, solver=solver, errors=errors, chosen=chosen):
                ev = model.explained_variance_
                err = float(np.max(np.abs(ev - exact[:k]) / exact[:k]))
                errors[who] = err
                chosen[who] = getattr(model, "svd_solver_", None) or getattr(
                    model, "_fit_svd_solver", solver)
                tol = EV_RTOL[solver]
                return err <= tol, f"max rel. error of explained_variance_ {err:.1e}"

            t, load = h.measure(contenders, threads=threads, repeat=repeat, check=check,
                                retries=retries)
            ours, peer = t[h.DOTWISE], t["scikit-learn"]
            rows.append({
                "case": f"PCA {name} {n}×{p}, k={k}, svd_solver={solver}",
                "peer": "scikit-learn PCA", "mode": f"svd_solver={solver!r}, same k and seed",
                **load, "data": name, "shape": f"{n}×{p}", "dtype": str(X.dtype), "k": k,
                "solver": solver, "dotwise_solver": chosen[h.DOTWISE],
                "sklearn_solver": chosen["scikit-learn"],
                "dotwise": ours.as_dict(), "peer_timing": peer.as_dict(),
                "ratio": h.ratio(peer, ours),
                "ev_rel_error_dotwise": errors[h.DOTWISE],
                "ev_rel_error_sklearn": errors["scikit-learn"],
                "valid": ours.valid and peer.valid,
            })
            print(f"  {name} k={k} {solver}: dotwise {h.fmt_time(ours.median)} "
                  f"sklearn {h.fmt_time(peer.median)} ratio {h.fmt_ratio(rows[-1]['ratio'])}",
                  flush=True)
    return rows


def regression_rows(n: int, p: int, repeat: int, threads: int, retries: int):
    import sklearn.linear_model as skl

    import dotwise as dw

    rng = np.random.default_rng(SEED + 1)
    X = rng.standard_normal((n, p)) + rng.uniform(-2, 2, size=p)
    y = X @ rng.standard_normal(p) + 1.5 + 0.1 * rng.standard_normal(n)
    reference = skl.LinearRegression().fit(X, y).coef_
    ridge_ref = skl.Ridge(alpha=1.0).fit(X, y).coef_
    cases = [
        ("LinearRegression (with leverage & std errors)",
         lambda: dw.LinearRegression().fit(X, y),
         lambda: skl.LinearRegression().fit(X, y), reference),
        ("LinearRegression (diagnostics=False)",
         lambda: dw.LinearRegression(diagnostics=False).fit(X, y),
         lambda: skl.LinearRegression().fit(X, y), reference),
        ("Ridge α=1 (with leverage)",
         lambda: dw.Ridge(alpha=1.0).fit(X, y),
         lambda: skl.Ridge(alpha=1.0).fit(X, y), ridge_ref),
        ("Ridge α=1 (diagnostics=False)",
         lambda: dw.Ridge(alpha=1.0, diagnostics=False).fit(X, y),
         lambda: skl.Ridge(alpha=1.0).fit(X, y), ridge_ref),
    ]
    rows = []
    for label, ours_fn, peer_fn, ref in cases:
        errs: dict[str, float] = {}

        def check(who, model, ref=ref, errs=errs):
            err = float(np.max(np.abs(model.coef_ - ref)) / np.max(np.abs(ref)))
            errs[who] = err
            return err < 1e-8, f"max rel. coef difference {err:.1e}"

        t, load = h.measure({h.DOTWISE: ours_fn, "scikit-learn": peer_fn}, threads=threads,
                            repeat=repeat, check=check, retries=retries)
        ours, peer = t[h.DOTWISE], t["scikit-learn"]
        rows.append({"case": f"{label}, {n}×{p} float64",
                     "peer": "scikit-learn " + label.split(" ")[0],
                     "mode": "default solver (fit_intercept=True)", **load,
                     "estimator": label, "shape": f"{n}×{p}", "dtype": "float64",
                     "dotwise": ours.as_dict(), "peer_timing": peer.as_dict(),
                     "ratio": h.ratio(peer, ours), "coef_rel_diff": errs[h.DOTWISE],
                     "valid": ours.valid and peer.valid})
        print(f"  {label}: dotwise {h.fmt_time(ours.median)} sklearn "
              f"{h.fmt_time(peer.median)} ratio {h.fmt_ratio(rows[-1]['ratio'])}", flush=True)
    return rows


def memory_rows(X: np.ndarray, k: int):
    """Peak extra memory of one fit, traced with ``tracemalloc`` (NumPy reports its buffers).

    ``X`` itself is allocated before tracing starts, so the figure is what the fit
    allocates on top of the data (copies, factors, LAPACK work arrays from NumPy/SciPy).
    """
    import tracemalloc

    import sklearn.decomposition as skd

    import dotwise as dw

    fits = {
        "dotwise randomized": lambda: dw.PCA(k, svd_solver="randomized", random_state=0),
        "scikit-learn randomized": lambda: skd.PCA(k, svd_solver="randomized", random_state=0),
        "dotwise covariance_eigh": lambda: dw.PCA(k, svd_solver="covariance_eigh"),
        "scikit-learn covariance_eigh": lambda: skd.PCA(k, svd_solver="covariance_eigh"),
        "dotwise full": lambda: dw.PCA(k, svd_solver="full"),
        "scikit-learn full": lambda: skd.PCA(k, svd_solver="full"),
    }
    rows = []
    n, p = X.shape
    for label, make in fits.items():
        make().fit(X[:100])  # imports and first-call set-up outside the trace
        tracemalloc.start()
        make().fit(X)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rows.append({"case": f"peak memory beyond X of one PCA fit, {label}, {n}×{p}, k={k}",
                     "peer": "scikit-learn PCA", "mode": "tracemalloc, one fit (not a timing)",
                     "ratio": None, "valid": True, "contender": label,
                     "shape": f"{n}×{p}", "k": k, "peak_extra_mib": peak / 2**20,
                     "data_mib": X.nbytes / 2**20,
                     "note": f"{label}: {peak / 2**20:.0f} MiB beyond X ({n}×{p})"})
        print(f"  peak extra memory {label}: {peak / 2**20:.0f} MiB", flush=True)
    return rows


def run(args, threads: int) -> list[dict]:
    repeat = args.repeat or (3 if args.quick else 5)
    retries = 0 if args.quick else 2
    if h.optional("sklearn") is None:
        return [{"case": "PCA", "peer": "scikit-learn PCA", "mode": "—", "ratio": None,
                 "valid": False, "note": "scikit-learn not installed"}]
    if args.quick:
        datasets = [("synthetic", decaying_data(1000, 60))]
        ks, reg_shape = [10], (2000, 10)
    else:
        datasets = [("digits", digits()), ("synthetic", decaying_data(20_000, 500)),
                    ("synthetic", decaying_data(100_000, 100))]
        ks, reg_shape = [10, 50], (200_000, 50)
    rows = []
    for name, X in datasets:
        rows += pca_rows(name, X, ks, repeat, threads, retries)
    rows += regression_rows(*reg_shape, repeat, threads, retries)
    if threads == 1:
        rows += memory_rows(datasets[-1][1], 10)
    return rows


if __name__ == "__main__":
    h.protocol_main(__file__, "pca", __doc__.splitlines()[0], run)
