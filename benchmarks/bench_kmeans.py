"""k-means: ``dotwise.KMeans`` against ``sklearn.cluster.KMeans`` (the fair protocol).

Both run Lloyd's algorithm from k-means++ seeding with the same ``k``, ``n_init``,
``max_iter``, ``tol`` and ``random_state`` on the same data; scikit-learn runs its
default (and fastest dense) ``algorithm="lloyd"`` with OpenMP pinned to the same
thread count. A row is **invalid** unless dotwise's inertia is within 1 % of
scikit-learn's (the two libraries draw different random seedings from the same seed,
so they may stop in different local minima; the 1 % rule says the answers are
equally good).

Data (seeded): 100 000 × 32 Gaussian blobs, k = 16 — separated (16 blobs, a few
iterations: seeding and set-up dominate), overlapping (32 blobs, ~40 iterations), and
a "same start" row where both begin from the same k-means++ centres with
``n_init=1``, so only Lloyd's loops are timed and the answers must coincide; float64,
and float32 for the first and last.

Usage::

    python benchmarks/bench_kmeans.py            # full run, 1 and 2 threads (about 2 minutes)
    python benchmarks/bench_kmeans.py --quick    # seconds; results/kmeans.quick.json
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h

SEED = 20261201


def blobs(n: int, p: int, centers: int, std: float, dtype) -> np.ndarray:
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(n, p, centers=centers, cluster_std=std, center_box=(-10, 10),
                      random_state=SEED)
    return X.astype(dtype)


def run(args, threads: int) -> list[dict]:
    sk = h.optional("sklearn")
    if args.quick:
        n, p, repeat = 5000, 8, 3
    else:
        n, p, repeat = 100_000, 32, args.repeat or 5
    # (label, blobs, std, k, n_init, shared_init): shared_init starts both from the same
    # k-means++ centres (scikit-learn's kmeans_plusplus), so Lloyd's loops alone are timed
    # and the two answers must agree exactly
    cases = [
        ("separated", 16, 4.0, 16, 3, False),
        ("overlapping", 32, 5.0, 16, 3, False),
        ("same start, Lloyd only", 16, 6.0, 16, 1, True),
    ]
    if args.quick:
        cases = [("separated", 8, 1.0, 8, 1, False), ("same start, Lloyd only", 8, 4.0, 8, 1,
                                                      True)]
    rows = []
    for dtype in (np.float64, np.float32):
        for label, centers, std, k, n_init, shared in cases:
            if dtype == np.float32 and label == "overlapping":
                continue
            X = blobs(n, p, centers, std, dtype)
            case = (f"{n}×{p} {np.dtype(dtype).name}, {label} ({centers} blobs), k={k}, "
                    f"n_init={n_init}")
            row = {"case": case, "peer": "scikit-learn KMeans",
                   "mode": "lloyd, " + ("same initial centres" if shared else
                                        "k-means++, same k/n_init/tol/seed"),
                   "shape": f"{n}×{p}", "dtype": np.dtype(dtype).name, "k": k,
                   "n_init": n_init}
            if sk is None:
                rows.append({**row, "ratio": None, "valid": False, "note": "not installed"})
                continue
            from sklearn.cluster import KMeans as SkKMeans
            from sklearn.cluster import kmeans_plusplus

            import dotwise as dw

            init = kmeans_plusplus(X, k, random_state=0)[0] if shared else "k-means++"
            contenders = {
                h.DOTWISE: lambda X=X, k=k, n_init=n_init, init=init: dw.KMeans(
                    k, init=init, n_init=n_init, random_state=0).fit(X),
                "scikit-learn": lambda X=X, k=k, n_init=n_init, init=init: SkKMeans(
                    k, init=init, n_init=n_init, random_state=0, algorithm="lloyd").fit(X),
            }
            inertia: dict[str, float] = {}
            iters: dict[str, int] = {}

            def check(who, model, inertia=inertia, iters=iters):
                inertia[who] = float(model.inertia_)
                iters[who] = int(model.n_iter_)
                return True, f"inertia {model.inertia_:.6g}"

            t, load = h.measure(contenders, threads=threads, repeat=repeat, check=check,
                                retries=0 if args.quick else 2)
            ours, peer = t[h.DOTWISE], t["scikit-learn"]
            rel = inertia[h.DOTWISE] / inertia["scikit-learn"]
            rows.append({**row, **load, "dotwise": ours.as_dict(), "sklearn": peer.as_dict(),
                         "ratio": h.ratio(peer, ours), "inertia_ratio": rel,
                         "inertia_dotwise": inertia[h.DOTWISE],
                         "inertia_sklearn": inertia["scikit-learn"],
                         "n_iter_dotwise": iters[h.DOTWISE],
                         "n_iter_sklearn": iters["scikit-learn"],
                         "valid": rel <= 1.01})
            print(f"  [{threads} thr] {case}: dotwise {h.fmt_time(ours.median)} sklearn "
                  f"{h.fmt_time(peer.median)} ratio {h.fmt_ratio(rows[-1]['ratio'])} "
                  f"inertia ratio {rel:.4f}, iterations {iters[h.DOTWISE]} / "
                  f"{iters['scikit-learn']}", flush=True)
    return rows


if __name__ == "__main__":
    h.protocol_main(__file__, "kmeans", __doc__.splitlines()[0], run)
