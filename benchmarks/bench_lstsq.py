"""Least squares: dotwise.lstsq(method="auto") against NumPy, SciPy and scikit-learn.

Problems are built with a known answer: A = U diag(s) Vᵀ with random orthonormal
U, V and geometrically graded singular values s (condition number 1e2 or 1e10),
x_true random, and b = A x_true + z with z ⟂ col(A) (‖z‖ = 1e-3 ‖A x_true‖), so
x_true is the exact least-squares solution and ‖z‖ the optimal residual.
Accuracy columns: relative error ‖x − x_true‖ / ‖x_true‖, and the residual
excess (‖A x − b‖ − ‖z‖) / ‖z‖.

Also: loss of orthogonality ‖QᵀQ − I‖₂ of classical / modified / CGS2
Gram–Schmidt and Householder QR (dotwise's own, and LAPACK's through NumPy) on
graded square-ish matrices as the condition number grows.

Run: ``python benchmarks/bench_lstsq.py`` (full, ~8 minutes on 2 cores) or
``--quick``. The full run is what the README quotes.
"""

from __future__ import annotations

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


def bench_lstsq(cases, repeat: int) -> tuple[list[dict], list[list[str]]]:
    import scipy.linalg

    import dotwise as dw

    sklearn_lm = h.optional("sklearn.linear_model")
    rows, table = [], []
    for m, n in cases:
        for cond in CONDS:
            A, b, x_true, r_opt = make_problem(m, n, cond)
            method_used = {}

            def ours(A=A, b=b, method_used=method_used):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    res = dw.lstsq(A, b)
                method_used["m"] = res.method
                return res.x

            contenders = {
                h.DOTWISE: ours,
                "numpy.linalg.lstsq": lambda A=A, b=b: np.linalg.lstsq(A, b, rcond=None)[0],
                "scipy gelsd": lambda A=A, b=b: scipy.linalg.lstsq(
                    A, b, lapack_driver="gelsd")[0],
                "scipy gelsy": lambda A=A, b=b: scipy.linalg.lstsq(
                    A, b, lapack_driver="gelsy")[0],
            }
            if sklearn_lm is not None:
                contenders["sklearn LinearRegression"] = lambda A=A, b=b: (
                    sklearn_lm.LinearRegression(fit_intercept=False).fit(A, b).coef_)
            accuracy: dict[str, tuple[float, float]] = {}

            def check(name, x, A=A, b=b, x_true=x_true, r_opt=r_opt, accuracy=accuracy,
                      cond=cond):
                err = float(np.linalg.norm(x - x_true) / np.linalg.norm(x_true))
                excess = float((np.linalg.norm(A @ x - b) - r_opt) / r_opt)
                accuracy[name] = (err, excess)
                # valid: within 10× the error every solver pays for cond(A) in float64
                bound = 10 * max(cond * np.finfo(float).eps, accuracy.get(
                    "numpy.linalg.lstsq", (0.0, 0.0))[0])
                return err <= max(bound, 1e-12), f"rel. error {err:.1e}"

            # numpy first in the check order so the bound uses its error
            order = ["numpy.linalg.lstsq"] + [k for k in contenders if k != "numpy.linalg.lstsq"]
            timings = h.compare({k: contenders[k] for k in order}, repeat=repeat, check=check)
            ours_t = timings[h.DOTWISE]
            label = f"{m:,}×{n}, cond {cond:.0e}"
            if sklearn_lm is None:
                table.append([label, "sklearn LinearRegression", "not installed", "—", "—",
                              "—", "—"])
            for name in [h.DOTWISE, *[k for k in contenders if k != h.DOTWISE]]:
                t = timings[name]
                err, excess = accuracy[name]
                r = h.ratio(t, ours_t)
                shown = name if name != h.DOTWISE else f"dotwise auto → {method_used['m']}"
                table.append([label, shown, h.fmt_time(t.median),
                              "1.00×" if name == h.DOTWISE else h.fmt_ratio(r),
                              f"{err:.1e}", f"{excess:.1e}",
                              "yes" if t.valid else f"**no** ({t.note})"])
                rows.append({**t.as_dict(), "m": m, "n": n, "cond": cond, "dtype": "float64",
                             "ratio_vs_dotwise": r, "rel_error": err,
                             "residual_excess": excess,
                             "method": method_used.get("m") if name == h.DOTWISE else None})
            print(f"  done {label}", flush=True)
            del A, b
    return rows, table


def bench_orthogonality(n: int) -> tuple[list[dict], list[list[str]]]:
    import dotwise as dw

    rows, table = [], []
    for cond in ORTH_CONDS:
        A = graded(n, cond)
        losses = {}
        for name in ("classical", "modified", "reorthogonalized"):
            losses[name] = dw.orthogonality_loss(dw.gram_schmidt(A, name)[0])
        losses["householder"] = dw.orthogonality_loss(dw.householder_qr(A)[0])
        losses["numpy.linalg.qr"] = dw.orthogonality_loss(np.linalg.qr(A)[0])
        rows.append({"cond": cond, "shape": list(A.shape), **losses})
        table.append([f"{cond:.0e}", *(f"{v:.1e}" for v in losses.values())])
    return rows, table


def main() -> None:
    args = h.parser(__doc__.splitlines()[0]).parse_args()
    pinned = h.pin_threads(args.threads)
    repeat = args.repeat or (3 if args.quick else 5)
    cases = QUICK_CASES if args.quick else FULL_CASES
    print(f"lstsq benchmark ({'quick' if args.quick else 'full'}), threads={args.threads}",
          flush=True)
    rows, table = bench_lstsq(cases, repeat)
    columns = ["problem (float64)", "solver", "median", "peer / dotwise", "rel. error",
               "residual excess", "valid"]
    print()
    print(h.markdown_table(columns, table))
    orth_n = 20 if args.quick else 100
    orth_rows, orth_table = bench_orthogonality(orth_n)
    orth_cols = ["cond(A)", "classical GS", "modified GS", "CGS2", "dotwise Householder",
                 "numpy.linalg.qr (LAPACK)"]
    print()
    print(f"Loss of orthogonality ‖QᵀQ − I‖₂, graded {2 * orth_n}×{orth_n} matrices")
    print()
    print(h.markdown_table(orth_cols, orth_table))
    path = h.write_results("lstsq", {
        "machine": h.machine_info(args.threads, pinned),
        "quick": args.quick, "repeat": repeat,
        "lstsq": rows, "lstsq_table": {"columns": columns, "rows": table},
        "orthogonality": orth_rows, "orthogonality_table": {"columns": orth_cols,
                                                             "rows": orth_table},
    }, out=args.out, quick=args.quick)
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()
