"""Least squares: dotwise.lstsq(method="auto") against NumPy, SciPy and scikit-learn (the fair protocol).

Problems are built with a known answer: A = U diag(s) Vᵀ with random orthonormal
U, V and geometrically graded singular values s (condition number 1e2 or 1e10),
x_true random, and b = A x_true + z with z ⟂ col(A) (‖z‖ = 1e-3 ‖A x_true‖), so
x_true is the exact least-squares solution and ‖z‖ the optimal residual. Every
row records the relative error ‖x − x_true‖ / ‖x_true‖ of both sides; a solver is
**invalid** on a problem when its error exceeds 10× what float64 must lose at that
condition number (max(κ·ε, NumPy's own error)).

Peers: ``numpy.linalg.lstsq`` (LAPACK gelsd), ``scipy.linalg.lstsq`` with the gelsd and
gelsy drivers, and scikit-learn's ``LinearRegression(fit_intercept=False)``, every BLAS
pinned to the row's thread count. At 2 threads one more row times dotwise pinned to 1
thread in the same run (threadpoolctl), interleaved: its ratio above 1 means two
threads were faster than one.

A last set of rows, at 1 thread only, records the loss of orthogonality ‖QᵀQ − I‖₂ of
classical / modified / CGS2 Gram–Schmidt and Householder QR (dotwise's own, and
LAPACK's through NumPy) on graded 200×100 matrices (accuracy, not timing).

Usage::

    python benchmarks/bench_lstsq.py            # full run, 1 and 2 threads (about 4 minutes)
    python benchmarks/bench_lstsq.py --quick    # seconds; results/lstsq.quick.json
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h

FULL_CASES = [(200_000, 50), (1_000_000, 20), (5_000, 1_000)]
QUICK_CASES = [(2_000, 10), (300, 40)]
CONDS = [1e2, 1e10]
ORTH_CONDS = [1e2, 1e4, 1e6, 1e8, 1e10, 1e12]
NUMPY = "numpy.linalg.lstsq"


def make_problem(m: int, n: int, cond: float, seed: int = 0):
    from dotwise.linalg import random_with_condition

    rng = np.random.default_rng(seed)
    A, U, _, _ = random_with_condition(m, n, cond, random_state=rng, return_factors=True)
    x = rng.standard_normal(n)
    Ax = A @ x
    z = rng.standard_normal(m)
    z -= U @ (U.T @ z)
    z -= U @ (U.T @ z)
    z *= 1e-3 * np.linalg.norm(Ax) / np.linalg.norm(z)
    return np.ascontiguousarray(A), Ax + z, x, float(np.linalg.norm(z))


def graded(n: int, cond: float, seed: int = 0) -> np.ndarray:
    from dotwise.linalg import random_with_condition

    return random_with_condition(2 * n, n, cond, random_state=seed)


def lstsq_rows(cases, threads: int, repeat: int, retries: int) -> list[dict]:
    import scipy.linalg
    from threadpoolctl import threadpool_limits

    import dotwise as dw

    sklearn_lm = h.optional("sklearn.linear_model")
    rows = []
    for m, n in cases:
        for cond in CONDS:
            A, b, x_true, r_opt = make_problem(m, n, cond)
            method_used: dict[str, str] = {}

            def ours(A=A, b=b, method_used=method_used):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    res = dw.lstsq(A, b)
                method_used["m"] = res.method
                return res.x

            def ours_one_thread(A=A, b=b):
                # dotwise's sweeps run on its own workers (DOTWISE_NUM_THREADS, read per
                # call), the rest on BLAS: pin both to one thread
                saved = os.environ.get("DOTWISE_NUM_THREADS")
                os.environ["DOTWISE_NUM_THREADS"] = "1"
                try:
                    with threadpool_limits(1), warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        return dw.lstsq(A, b).x
                finally:
                    if saved is None:
                        del os.environ["DOTWISE_NUM_THREADS"]
                    else:
                        os.environ["DOTWISE_NUM_THREADS"] = saved

            peers = {
                NUMPY: ("LAPACK gelsd via NumPy",
                        lambda A=A, b=b: np.linalg.lstsq(A, b, rcond=None)[0]),
                "scipy.linalg.lstsq gelsd": ("lapack_driver='gelsd'", lambda A=A, b=b:
                                             scipy.linalg.lstsq(A, b, lapack_driver="gelsd")[0]),
                "scipy.linalg.lstsq gelsy": ("lapack_driver='gelsy' (QR with pivoting)",
                                             lambda A=A, b=b: scipy.linalg.lstsq(
                                                 A, b, lapack_driver="gelsy")[0]),
            }
            if sklearn_lm is not None:
                peers["sklearn LinearRegression"] = (
                    "fit_intercept=False", lambda A=A, b=b: sklearn_lm.LinearRegression(
                        fit_intercept=False).fit(A, b).coef_)
            if threads > 1:
                peers["dotwise at 1 thread"] = ("the same call, BLAS (threadpoolctl) and "
                                                "dotwise's workers pinned to 1 thread",
                                                ours_one_thread)
            errors: dict[str, float] = {}

            def check(name, x, A=A, b=b, x_true=x_true, r_opt=r_opt, cond=cond, errors=errors):
                err = float(np.linalg.norm(x - x_true) / np.linalg.norm(x_true))
                errors[name] = err
                bound = 10 * max(cond * np.finfo(float).eps, errors.get(NUMPY, 0.0))
                return err <= max(bound, 1e-12), f"rel. error {err:.1e}"

            # NumPy first, so that the accuracy bound uses its error
            contenders = {NUMPY: peers[NUMPY][1], h.DOTWISE: ours,
                          **{k: fn for k, (_, fn) in peers.items() if k != NUMPY}}
            t, load = h.measure(contenders, threads=threads, repeat=repeat, check=check,
                                retries=retries)
            mine = t[h.DOTWISE]
            case = f"{m:,}×{n}, cond {cond:.0e}"
            for peer, (mode, _) in peers.items():
                theirs = t[peer]
                rows.append({"case": f"{case} vs {peer}", "peer": peer, "mode": mode,
                             "m": m, "n": n, "cond": cond, "dtype": "float64",
                             "dotwise_method": method_used.get("m"), **load,
                             "dotwise": mine.as_dict(), "peer_timing": theirs.as_dict(),
                             "ratio": h.ratio(theirs, mine),
                             "valid": bool(mine.valid and theirs.valid)})
                print(f"  [{threads} thr] {case}: dotwise ({method_used.get('m')}) "
                      f"{h.fmt_time(mine.median)}, {peer} {h.fmt_time(theirs.median)}, ratio "
                      f"{h.fmt_ratio(rows[-1]['ratio'])}", flush=True)
            del A, b
    return rows


def orthogonality_rows(n: int) -> list[dict]:
    import dotwise as dw

    rows = []
    for cond in ORTH_CONDS:
        A = graded(n, cond)
        losses = {name: dw.orthogonality_loss(dw.gram_schmidt(A, name)[0])
                  for name in ("classical", "modified", "reorthogonalized")}
        losses["householder (dotwise)"] = dw.orthogonality_loss(dw.householder_qr(A)[0])
        losses["numpy.linalg.qr (LAPACK)"] = dw.orthogonality_loss(np.linalg.qr(A)[0])
        rows.append({"case": f"loss of orthogonality ‖QᵀQ − I‖₂, {2 * n}×{n}, cond {cond:.0e}",
                     "peer": "numpy.linalg.qr (LAPACK)", "mode": "accuracy only, no timing",
                     "ratio": None, "valid": True, "losses": losses,
                     "note": f"cond {cond:.0e}: " + ", ".join(f"{k} {v:.1e}"
                                                             for k, v in losses.items())})
    return rows


def run(args, threads: int) -> list[dict]:
    repeat = args.repeat or (3 if args.quick else 5)
    cases = QUICK_CASES if args.quick else FULL_CASES
    rows = lstsq_rows(cases, threads, repeat, 0 if args.quick else 2)
    if threads == 1:
        rows += orthogonality_rows(20 if args.quick else 100)
    return rows


if __name__ == "__main__":
    h.protocol_main(__file__, "lstsq", __doc__.splitlines()[0], run)
