"""Linear classifier: dotwise.SoftmaxRegression against scikit-learn's LogisticRegression.

Both minimise the same objective — the sum of the cross-entropies plus
``alpha/2 ‖W‖²``, i.e. scikit-learn's ``C = 1/alpha`` — with L-BFGS, the same
stopping test (``max |gradient of the mean loss| ≤ tol = 1e-4``) and a
``max_iter`` high enough that both converge. scikit-learn runs its documented
fastest solver for this problem (``solver="lbfgs"``, the default, multinomial).

Cases: the digits (1 347 training / 450 test 8×8 images, pixels 0–16) at
``alpha = 1`` (``C = 1``, scikit-learn's default) and ``alpha = 100``, and a
seeded synthetic problem of 200 000 × 100 float64 samples in 10 classes
(labels drawn from a softmax model, so not separable; 20 000 more samples to
test on) at ``alpha = 1``. A row is **invalid** unless the two test accuracies
agree within 0.5 percentage points. ratio = scikit-learn's median fit time /
dotwise's (> 1: dotwise faster), at 1 and at 2 threads, each in a fresh process.

Usage::

    python benchmarks/bench_classifier.py            # full run (about 2 minutes)
    python benchmarks/bench_classifier.py --quick    # seconds, 1 thread; results/classifier.quick.json
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h

SEED = 20240611
TOL = 1e-4
MAX_ITER = 10_000
ACCURACY_GAP = 0.005


def synthetic(n: int, p: int, k: int = 10, seed: int = SEED):
    """``n`` samples of ``p`` correlated, unevenly scaled features; labels from a softmax model."""
    rng = np.random.default_rng(seed)
    mix = rng.standard_normal((p, p)) / np.sqrt(p) + np.eye(p)
    scales = rng.uniform(0.5, 2.0, p)
    W = rng.standard_normal((k, p)) * 2.0 / np.sqrt(p)

    def draw(m, r):
        X = (r.standard_normal((m, p)) @ mix) * scales + 0.5
        y = np.argmax((X - 0.5) / scales @ W.T + r.gumbel(size=(m, k)), axis=1)
        return X, y

    X, y = draw(n, rng)
    X_test, y_test = draw(max(n // 10, 1000), np.random.default_rng(seed + 1))
    return X, y, X_test, y_test


def digits(seed: int = 0):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    X_tr, X_te, y_tr, y_te = train_test_split(d.data, d.target, test_size=0.25,
                                              random_state=seed, stratify=d.target)
    return X_tr, y_tr, X_te, y_te


def case_row(name, data, alpha, threads, repeat):
    from sklearn.linear_model import LogisticRegression

    import dotwise as dw

    X, y, X_test, y_test = data
    contenders = {
        h.DOTWISE: lambda: dw.SoftmaxRegression(alpha=alpha, tol=TOL, max_iter=MAX_ITER).fit(X, y),
        "scikit-learn": lambda: LogisticRegression(C=1.0 / alpha, solver="lbfgs", tol=TOL,
                                                   max_iter=MAX_ITER).fit(X, y),
    }
    info: dict[str, dict] = {}

    def check(who, model):
        info[who] = {"accuracy": float(model.score(X_test, y_test)),
                     "n_iter": int(np.max(model.n_iter_))}
        return True, f"test accuracy {info[who]['accuracy']:.4f}, {info[who]['n_iter']} iterations"

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a non-converged fit shows in n_iter == MAX_ITER
        timings, load = h.measure(contenders, threads=threads, repeat=repeat, check=check)
    ours, peer = timings[h.DOTWISE], timings["scikit-learn"]
    gap = abs(info[h.DOTWISE]["accuracy"] - info["scikit-learn"]["accuracy"])
    converged = all(v["n_iter"] < MAX_ITER for v in info.values())
    row = {
        "case": name, "peer": "scikit-learn LogisticRegression",
        "mode": f"lbfgs, C = 1/alpha = {1 / alpha:g}, tol {TOL:g}",
        "shape": f"{X.shape[0]}×{X.shape[1]}", "dtype": str(X.dtype),
        "n_classes": int(len(np.unique(y))), "alpha": alpha,
        "dotwise": ours.as_dict(), "sklearn": peer.as_dict(), "ratio": h.ratio(peer, ours),
        "accuracy_dotwise": info[h.DOTWISE]["accuracy"],
        "accuracy_sklearn": info["scikit-learn"]["accuracy"], "accuracy_gap": gap,
        "n_iter_dotwise": info[h.DOTWISE]["n_iter"], "n_iter_sklearn": info["scikit-learn"]["n_iter"],
        "valid": bool(gap <= ACCURACY_GAP and converged), **load,
    }
    print(f"  [{threads} thr] {name}: dotwise {h.fmt_time(ours.median)} "
          f"({row['n_iter_dotwise']} it, acc {row['accuracy_dotwise']:.4f}) sklearn "
          f"{h.fmt_time(peer.median)} ({row['n_iter_sklearn']} it, acc "
          f"{row['accuracy_sklearn']:.4f}) ratio {h.fmt_ratio(row['ratio'])}"
          + ("" if row["valid"] else "  INVALID"), flush=True)
    return row


def run(args, threads: int) -> list[dict]:
    if h.optional("sklearn") is None:
        return [{"case": "all", "peer": "scikit-learn", "mode": "not installed", "ratio": None,
                 "valid": False}]
    repeat = args.repeat or (3 if args.quick else 5)
    if args.quick:
        cases = [("digits, alpha=100", digits(), 100.0),
                 ("synthetic 4000×20, 10 classes", synthetic(4000, 20), 1.0)]
    else:
        cases = [("digits, alpha=1", digits(), 1.0), ("digits, alpha=100", digits(), 100.0),
                 ("synthetic 200000×100, 10 classes", synthetic(200_000, 100), 1.0)]
    return [case_row(name, data, alpha, threads, repeat) for name, data, alpha in cases]


def main(argv=None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--quick" in argv and not any(a.startswith("--threads") for a in argv):
        # a smoke run on a busy shared machine: one thread avoids BLAS oversubscription
        argv += ["--threads", "1"]
    h.protocol_main(__file__, "classifier", __doc__.splitlines()[0], run, argv=argv)


if __name__ == "__main__":
    main()
