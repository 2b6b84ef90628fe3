"""Movie recommender: dotwise ``MatrixFactorization`` against Surprise ``SVD`` (the fair protocol).

Both see exactly the same ratings: the predefined MovieLens 100k split u1 (80 000
training ratings in ``u1.base``, 20 000 test ratings in ``u1.test``). dotwise runs its
defaults (ALS with count-weighted λ, k = 32, 6 epochs, plus the residual item–item
neighbourhood term from sparse top-40 lists); Surprise runs ``SVD()`` as it is (its
defaults: 100 factors, 20 SGD epochs; Cython, one thread whatever the thread count).
Rows:

* **predict** — the 20 000 u1.test pairs, by original ids: ``model.predict(users,
  items)`` against Surprise's batch API ``algo.test(testset)``; ratio = Surprise time /
  dotwise time (= dotwise's throughput / Surprise's). Valid when dotwise's test RMSE is
  no worse than Surprise's.
* **fit** — u1.base from scratch: ``MatrixFactorization(random_state=0).fit`` against
  ``SVD(random_state=0).fit``; both test RMSEs on u1.test are recorded, and (accuracy
  only, one fit each, not timed) the mean RMSE over the five predefined folds u1…u5.
  Valid when dotwise's u1 RMSE is no worse than Surprise's.
* **10 000-item neighbour lists** — a seeded synthetic catalogue (4 000 users × 40
  ratings, Zipf-like item popularity): the fit with ``neighbors=40`` against the same
  fit with ``neighbors=0`` (the difference is the neighbour build), the bytes of the
  stored lists and the peak traced memory of the fit (``tracemalloc``). No peer: an
  absolute record, shown without a ratio.
* **hyper-parameter check** — a small grid around the defaults scored on a validation
  split carved from u1.base (never u1.test); accuracy only.

Usage::

    python benchmarks/bench_recommend.py            # full run, 1 and 2 threads (about 2 minutes)
    python benchmarks/bench_recommend.py --quick    # seconds, 1 thread; results/recommend.quick.json

``--data DIR`` points at an ml-100k folder (default ``../shared/data/movielens-100k``);
without it a full run stops with the fix, and ``--quick`` uses a generated rating set.
"""

from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "movielens-100k"
SEED = 20261201


def generated(seed: int = 0, n_users: int = 300, n_items: int = 200):
    from dotwise.recommend import Ratings

    rng = np.random.default_rng(seed)
    P, Q = rng.normal(0, 0.6, (n_users, 4)), rng.normal(0, 0.6, (n_items, 4))
    truth = 3.5 + rng.normal(0, 0.3, (n_users, 1)) + rng.normal(0, 0.4, (1, n_items)) + P @ Q.T
    u, i = np.nonzero(rng.random((n_users, n_items)) < 0.1)
    stars = np.clip(np.rint(truth[u, i] + rng.normal(0, 0.5, len(u))), 1, 5)
    return Ratings.from_arrays(u + 1, i + 1, stars, rating_scale=(1, 5))


def catalogue(n_users: int, n_items: int, per_user: int):
    """Seeded ratings over ``n_items`` items with Zipf-like popularity."""
    from dotwise.recommend import Ratings

    rng = np.random.default_rng(SEED)
    pop = 1.0 / np.arange(1, n_items + 1) ** 0.8
    pop /= pop.sum()
    u = np.repeat(np.arange(n_users), per_user)
    i = np.concatenate([rng.choice(n_items, per_user, replace=False, p=pop)
                        for _ in range(n_users)])
    return Ratings.from_arrays(u, i, rng.integers(1, 6, len(u)).astype(float),
                               rating_scale=(1, 5))


def to_surprise(train, test):
    import surprise

    reader = surprise.Reader(rating_scale=train.rating_scale)
    uid, iid = train.user_ids.astype(str), train.item_ids.astype(str)
    raw = list(zip(uid[train.user_codes], iid[train.item_codes], train.ratings.tolist(),
                   [None] * len(train), strict=True))
    trainset = surprise.Dataset(reader).construct_trainset(raw)
    testset = list(zip(uid[test.user_codes], iid[test.item_codes], test.ratings.tolist(),
                       strict=True))
    return trainset, testset


def test_pairs(test):
    return test.user_ids[test.user_codes], test.item_ids[test.item_codes]


def rmse(test, pred) -> float:
    from dotwise.recommend import rmse_mae

    return float(rmse_mae(test.ratings, np.asarray(pred, np.float64))[0])


def engine() -> str:
    from dotwise.recommend import _compiled

    return "compiled (dotwise._dwrec)" if _compiled.available() else "NumPy"


def splits(args):
    """``(label, [(train, test), ...])``: u1…u5 from the data folder, or a generated split."""
    from dotwise.recommend import predefined_splits, train_test_split

    if (args.data / "u1.base").exists():
        folds = predefined_splits(args.data)
        if args.quick:
            train, test = folds[0]
            rng = np.random.default_rng(0)
            folds = [(train.subset(rng.permutation(len(train))[:20000]),
                      test.subset(rng.permutation(len(test))[:5000]))]
            return "MovieLens 100k u1 (--quick sample)", folds
        return "MovieLens 100k u1", folds
    if not args.quick:
        raise SystemExit(f"MovieLens 100k not found at {args.data}; pass --data DIR (download "
                         f"with 'dotwise recommend fetch movielens-100k DIR'), or run --quick")
    print(f"MovieLens 100k not found at {args.data}: --quick uses a generated rating set")
    return "generated 300 users × 200 items (--quick)", [
        train_test_split(generated(), 0.2, random_state=0)]


def unavailable(case: str, mode: str, note: str) -> dict:
    return {"case": case, "peer": "Surprise SVD", "mode": mode, "ratio": None, "valid": False,
            "note": note}


def predict_row(label, train, test, threads, repeat, quick) -> dict:
    from dotwise.recommend import MatrixFactorization

    case = f"predict: {label} test set, {len(test)} pairs"
    mode = "SVD() defaults, algo.test(testset)"
    surprise = h.optional("surprise")
    if surprise is None:
        return unavailable(case, mode, "Surprise not installed")
    trainset, testset = to_surprise(train, test)
    ours = MatrixFactorization(random_state=0).fit(train)
    svd = surprise.SVD(random_state=0).fit(trainset)
    users, items = test_pairs(test)
    errors: dict[str, float] = {}

    def check(who, result):
        pred = result if who == h.DOTWISE else [p.est for p in result]
        errors[who] = rmse(test, pred)
        return True, f"test RMSE {errors[who]:.4f}"

    t, load = h.measure({h.DOTWISE: lambda: ours.predict(users, items),
                         "Surprise SVD": lambda: svd.test(testset)},
                        threads=threads, repeat=repeat, check=check, retries=0 if quick else 2)
    mine, peer = t[h.DOTWISE], t["Surprise SVD"]
    row = {"case": case, "peer": "Surprise SVD", "mode": mode, **load,
           "dotwise": mine.as_dict(), "peer_timing": peer.as_dict(),
           "ratio": h.ratio(peer, mine), "engine": engine(), "pairs": len(test),
           "pairs_per_s_dotwise": len(test) / mine.median,
           "pairs_per_s_surprise": len(test) / peer.median,
           "rmse_dotwise": errors[h.DOTWISE], "rmse_surprise": errors["Surprise SVD"],
           "valid": errors[h.DOTWISE] <= errors["Surprise SVD"]}
    print(f"  [{threads} thr] {case}: dotwise {h.fmt_time(mine.median)} Surprise "
          f"{h.fmt_time(peer.median)} ratio {h.fmt_ratio(row['ratio'])}", flush=True)
    return row


def fit_row(label, folds, threads, repeat, quick) -> dict:
    from dotwise.recommend import MatrixFactorization

    train, test = folds[0]
    case = f"fit: {label} training set, {len(train)} ratings"
    mode = "SVD(random_state=0) defaults: 100 factors, 20 epochs"
    surprise = h.optional("surprise")
    if surprise is None:
        return unavailable(case, mode, "Surprise not installed")
    trainset, testset = to_surprise(train, test)
    users, items = test_pairs(test)
    errors: dict[str, float] = {}

    def check(who, model):
        pred = (model.predict(users, items) if who == h.DOTWISE
                else [p.est for p in model.test(testset)])
        errors[who] = rmse(test, pred)
        return True, f"u1 test RMSE {errors[who]:.4f}"

    t, load = h.measure({h.DOTWISE: lambda: MatrixFactorization(random_state=0).fit(train),
                         "Surprise SVD": lambda: surprise.SVD(random_state=0).fit(trainset)},
                        threads=threads, repeat=repeat, check=check, retries=0 if quick else 2)
    mine, peer = t[h.DOTWISE], t["Surprise SVD"]
    row = {"case": case, "peer": "Surprise SVD", "mode": mode, **load,
           "dotwise": mine.as_dict(), "peer_timing": peer.as_dict(),
           "ratio": h.ratio(peer, mine), "engine": engine(),
           "rmse_dotwise": errors[h.DOTWISE], "rmse_surprise": errors["Surprise SVD"],
           "valid": errors[h.DOTWISE] <= errors["Surprise SVD"]}
    if len(folds) > 1:   # accuracy only: one fit of each per fold, not timed
        per = {h.DOTWISE: [], "Surprise SVD": []}
        for tr, te in folds:
            ts, tt = to_surprise(tr, te)
            per[h.DOTWISE].append(rmse(te, MatrixFactorization(random_state=0).fit(tr)
                                       .predict(*test_pairs(te))))
            per["Surprise SVD"].append(rmse(te, [p.est for p in surprise.SVD(
                random_state=0).fit(ts).test(tt)]))
        row["rmse_u1_u5_dotwise"] = float(np.mean(per[h.DOTWISE]))
        row["rmse_u1_u5_surprise"] = float(np.mean(per["Surprise SVD"]))
        row["note"] = (f"mean test RMSE over u1…u5: dotwise {row['rmse_u1_u5_dotwise']:.4f}, "
                       f"Surprise SVD {row['rmse_u1_u5_surprise']:.4f}")
    print(f"  [{threads} thr] {case}: dotwise {h.fmt_time(mine.median)} Surprise "
          f"{h.fmt_time(peer.median)} ratio {h.fmt_ratio(row['ratio'])}; RMSE "
          f"{errors[h.DOTWISE]:.4f} / {errors['Surprise SVD']:.4f}", flush=True)
    return row


def neighbors_row(threads, repeat, quick) -> dict:
    from dotwise.recommend import MatrixFactorization

    n_users, n_items, per_user, k = (800, 2000, 20, 40) if quick else (4000, 10_000, 40, 40)
    data = catalogue(n_users, n_items, per_user)
    case = (f"neighbour lists: {n_items} items × k={k} ({n_users} users, {len(data)} "
            f"ratings, synthetic)")
    kw = {"n_factors": 16, "n_epochs": 2, "random_state": 0}
    t, load = h.measure({"neighbors=40": lambda: MatrixFactorization(neighbors=k, **kw).fit(data),
                         "neighbors=0": lambda: MatrixFactorization(neighbors=0, **kw).fit(data)},
                        threads=threads, repeat=repeat, retries=0 if quick else 2)
    tracemalloc.start()
    model = MatrixFactorization(neighbors=k, **kw).fit(data)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    stored = model.item_neighbors_.nbytes + model.item_neighbor_similarity_.nbytes
    build = max(t["neighbors=40"].median - t["neighbors=0"].median, 0.0)
    row = {"case": case, "peer": "none (absolute record)", "mode": "", **load,
           "ratio": None, "valid": True, "engine": engine(),
           "fit_s": t["neighbors=40"].median, "fit_without_neighbors_s": t["neighbors=0"].median,
           "neighbor_build_s": build, "stored_mib": stored / 2 ** 20,
           "peak_traced_mib": peak / 2 ** 20, "dense_float32_mib": 4 * n_items ** 2 / 2 ** 20,
           "note": (f"{n_items} items: neighbour build {h.fmt_time(build)} (fit "
                    f"{h.fmt_time(t['neighbors=40'].median)} with, "
                    f"{h.fmt_time(t['neighbors=0'].median)} without), lists "
                    f"{stored / 2 ** 20:.1f} MiB, fit peak {peak / 2 ** 20:.0f} MiB traced "
                    f"(a dense float32 n_items² matrix would be "
                    f"{4 * n_items ** 2 / 2 ** 20:.0f} MiB) at {threads} thread(s)")}
    print(f"  [{threads} thr] {row['note']}", flush=True)
    return row


def selection_row(folds, quick) -> dict:
    """Score a grid around the defaults on a validation split carved from the training fold."""
    from dotwise.recommend import MatrixFactorization, train_test_split

    train, _ = folds[0]
    fit_part, val = train_test_split(train, 0.1, random_state=1)
    grid = [{}, {"reg": 1.1}, {"reg": 1.5}, {"n_factors": 16}, {"n_factors": 64},
            {"neighbors": 0}, {"neighbors": 20}, {"neighbors": 80},
            {"neighbor_shrinkage": 50.0}, {"neighbor_reg": 0.5}]
    if quick:
        grid = grid[:2]
    scores = []
    for params in grid:
        model = MatrixFactorization(**params, random_state=0).fit(fit_part)
        scores.append({"params": params or "defaults",
                       "val_rmse": rmse(val, model.predict(*test_pairs(val)))})
    best = min(scores, key=lambda s: s["val_rmse"])
    gap = scores[0]["val_rmse"] - best["val_rmse"]
    return {"case": "hyper-parameter check: validation split (10 %, seed 1) of the training "
                    "fold", "peer": "none (accuracy only)", "mode": "", "ratio": None,
            "valid": True, "load_before": h.load_average(), "load_after": h.load_average(),
            "noisy": False, "grid": scores,
            "note": (f"defaults validation RMSE {scores[0]['val_rmse']:.4f}, best of "
                     f"{len(grid)} {best['params']} {best['val_rmse']:.4f} (gap {gap:.4f})")}


def run(args, threads: int) -> list[dict]:
    repeat = args.repeat or (1 if args.quick else 5)
    label, folds = splits(args)
    # warm-up of imports and first calls on a small slice
    from dotwise.recommend import MatrixFactorization

    train = folds[0][0]
    MatrixFactorization(random_state=0).fit(train.subset(np.arange(min(len(train), 3000))))
    rows = [predict_row(label, *folds[0], threads, max(repeat, 3) if not args.quick else 2,
                        args.quick),
            fit_row(label, folds, threads, repeat if not args.quick else 1, args.quick),
            neighbors_row(threads, 3 if not args.quick else 1, args.quick),
            selection_row(folds, args.quick)]
    return rows


def add_args(p) -> None:
    p.add_argument("--data", type=Path, default=DEFAULT_DATA,
                   help="MovieLens 100k folder (default ../shared/data/movielens-100k)")


def main(argv=None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--quick" in argv and not any(a.startswith("--threads") for a in argv):
        argv += ["--threads", "1"]     # a smoke run on a busy machine: one thread
    h.protocol_main(__file__, "recommend", __doc__.splitlines()[0], run, argv=argv,
                    add_args=add_args)


if __name__ == "__main__":
    main()
