"""Movie recommender: dotwise vs scikit-surprise on MovieLens 100k, same folds, same run.

Contenders (every one sees exactly the same train/test ratings):

* dotwise ``MatrixFactorization()`` — defaults (ALS, weighted λ, k = 32, 6 epochs, plus
  the residual item–item neighbourhood term with 40 neighbours)
* dotwise ``BaselinePredictor()``
* Surprise ``SVD()`` (defaults: 100 factors, 20 SGD epochs), ``SVDpp()`` (defaults;
  slow, so on fewer folds — see ``--svdpp-folds``) and ``BaselineOnly()``

on 5 shuffled folds (seed 0) and on the predefined u1…u5 splits: RMSE, MAE and
fit time (medians over folds; on each fold the contenders run one after the
other, so their timings are interleaved). Plus the latency of folding in a new
user, and the hyper-parameter check: a small grid around dotwise's defaults
scored on a validation split carved from fold 1's *training* ratings only — the
test folds are never used to choose anything.

Usage::

    python benchmarks/bench_recommend.py [--data ../shared/data/movielens-100k] [--quick]

Without the data set, ``--quick`` falls back to a generated rating set (and
says so); a full run needs the data (``dotwise recommend fetch movielens-100k DIR``).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import (
    fmt_time,
    machine_info,
    markdown_table,
    optional,
    parser,
    pin_threads,
    write_results,
)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "movielens-100k"


def generated(seed: int = 0, n_users: int = 300, n_items: int = 200):
    from dotwise.recommend import Ratings

    rng = np.random.default_rng(seed)
    P, Q = rng.normal(0, 0.6, (n_users, 4)), rng.normal(0, 0.6, (n_items, 4))
    truth = 3.5 + rng.normal(0, 0.3, (n_users, 1)) + rng.normal(0, 0.4, (1, n_items)) + P @ Q.T
    u, i = np.nonzero(rng.random((n_users, n_items)) < 0.1)
    stars = np.clip(np.rint(truth[u, i] + rng.normal(0, 0.5, len(u))), 1, 5)
    return Ratings.from_arrays(u + 1, i + 1, stars, rating_scale=(1, 5))


def to_surprise(train, test):
    surprise = optional("surprise")
    reader = surprise.Reader(rating_scale=train.rating_scale)
    uid, iid = train.user_ids.astype(str), train.item_ids.astype(str)
    raw = list(zip(uid[train.user_codes], iid[train.item_codes], train.ratings.tolist(),
                   [None] * len(train), strict=True))
    trainset = surprise.Dataset(reader).construct_trainset(raw)
    testset = list(zip(uid[test.user_codes], iid[test.item_codes], test.ratings.tolist(),
                       strict=True))
    return trainset, testset


def run_dotwise(model, train, test):
    from dotwise.recommend import rmse_mae

    start = time.perf_counter()
    model.fit(train)
    fit = time.perf_counter() - start
    pred = model.predict(test.user_ids[test.user_codes], test.item_ids[test.item_codes])
    return (*rmse_mae(test.ratings, pred), fit)


def run_surprise(algo, train, test):
    from dotwise.recommend import rmse_mae

    trainset, testset = to_surprise(train, test)
    start = time.perf_counter()
    algo.fit(trainset)
    fit = time.perf_counter() - start
    pred = np.array([p.est for p in algo.test(testset)])
    return (*rmse_mae(test.ratings, pred), fit)


def contenders(quick: bool):
    from dotwise.recommend import BaselinePredictor, MatrixFactorization

    found = {
        "dotwise MatrixFactorization (ALS, defaults)": ("dotwise", MatrixFactorization,
                                                         {"random_state": 0}),
        "dotwise MatrixFactorization (neighbors=0)": ("dotwise", MatrixFactorization,
                                                      {"random_state": 0, "neighbors": 0}),
        "dotwise BaselinePredictor": ("dotwise", BaselinePredictor, {}),
    }
    surprise = optional("surprise")
    if surprise is not None:
        found["Surprise SVD (defaults)"] = ("surprise", surprise.SVD, {"random_state": 0})
        found["Surprise SVDpp (defaults)"] = ("surprise", surprise.SVDpp,
                                              {"random_state": 0, **({"n_epochs": 2}
                                                                     if quick else {})})
        found["Surprise BaselineOnly"] = ("surprise", surprise.BaselineOnly,
                                          {"verbose": False})
    return found


def evaluate_scheme(name, splits, quick, svdpp_folds):
    """Run every contender on every split; returns rows of per-contender medians."""
    entries = contenders(quick)
    per = {c: [] for c in entries}
    for k, (train, test) in enumerate(splits):
        for cname, (kind, cls, kwargs) in entries.items():
            if "SVDpp" in cname and k >= svdpp_folds:
                continue
            model = cls(**kwargs)
            runner = run_dotwise if kind == "dotwise" else run_surprise
            rmse, mae, fit = runner(model, train, test)
            per[cname].append((rmse, mae, fit))
            print(f"  {name} fold {k + 1}: {cname:<45} RMSE {rmse:.4f}  MAE {mae:.4f}  "
                  f"fit {fit:.2f} s", flush=True)
    rows = {}
    for cname, runs in per.items():
        if not runs:
            continue
        arr = np.asarray(runs)
        rows[cname] = {"rmse": float(arr[:, 0].mean()), "mae": float(arr[:, 1].mean()),
                       "rmse_std": float(arr[:, 0].std()), "fit_median_s": float(
                           statistics.median(arr[:, 2])), "fit_min_s": float(arr[:, 2].min()),
                       "fit_max_s": float(arr[:, 2].max()), "folds": len(runs),
                       "per_fold": [list(map(float, r)) for r in runs]}
    if "surprise" in {e[0] for e in entries.values()}:
        ours = rows["dotwise MatrixFactorization (ALS, defaults)"]["fit_median_s"]
        for row in rows.values():
            row["fit_ratio_vs_dotwise_mf"] = row["fit_median_s"] / ours
    for cname in entries:
        if cname not in rows:
            rows[cname] = {"note": "not run (minutes per fold; see --svdpp-folds)"}
    return rows


def validation_grid(data, quick):
    """Score a grid around the defaults on a split carved from fold 1's training part."""
    from dotwise.recommend import MatrixFactorization, kfold, rmse_mae, train_test_split

    train, _ = next(kfold(data, 5, random_state=0))
    fit_part, val = train_test_split(train, 0.1, random_state=1)
    grid = [{"n_factors": 32}, {"n_factors": 32, "reg": 1.1}, {"n_factors": 32, "reg": 1.5},
            {"n_factors": 16}, {"n_factors": 64},
            {"n_factors": 32, "reg_exponent": 1.0, "reg": 0.12},
            {"n_factors": 32, "reg_exponent": 0.0, "reg": 14.0},
            {"n_factors": 32, "n_epochs": 12}, {"n_factors": 32, "n_epochs": 5},
            {"n_factors": 32, "neighbors": 0}, {"n_factors": 32, "neighbors": 20},
            {"n_factors": 32, "neighbors": 80},
            {"n_factors": 32, "neighbor_shrinkage": 25.0},
            {"n_factors": 32, "neighbor_shrinkage": 400.0},
            {"n_factors": 32, "neighbor_reg": 0.1}, {"n_factors": 32, "neighbor_reg": 2.0}]
    if quick:
        grid = grid[:2]
    rows = []
    for params in grid:
        model = MatrixFactorization(**params, random_state=0).fit(fit_part)
        pred = model.predict(val.user_ids[val.user_codes], val.item_ids[val.item_codes])
        full = model.get_params()
        rows.append({"params": {k: full[k] for k in ("n_factors", "reg", "reg_exponent",
                                                     "n_epochs", "neighbors",
                                                     "neighbor_shrinkage", "neighbor_reg")},
                     "val_rmse": rmse_mae(val.ratings, pred)[0], "fit_s": model.fit_time_,
                     "default": params == {"n_factors": 32}})
        print(f"  validation {rows[-1]['params']} RMSE {rows[-1]['val_rmse']:.4f}", flush=True)
    return {"procedure": "fold 1 (5 shuffled folds, seed 0) training ratings split 90/10 "
                         "(seed 1); models fitted on the 90 %, scored on the 10 %; the test "
                         "folds are never used", "rows": rows}


def fold_in_latency(data, quick):
    """Time fold_in for held-out users' ratings (model trained without those users)."""
    from dotwise.recommend import MatrixFactorization

    rng = np.random.default_rng(0)
    users = rng.choice(data.n_users, 20 if quick else 100, replace=False)
    held = np.isin(data.user_codes, users)
    model = MatrixFactorization(random_state=0).fit(data.subset(~held))
    times, sizes = [], []
    for code in users:
        rows = np.flatnonzero(data.user_codes == code)[:20]
        mine = list(zip(data.item_ids[data.item_codes[rows]].tolist(),
                        data.ratings[rows].tolist(), strict=True))
        model.fold_in(mine, k=10)  # warm-up
        reps = []
        for _ in range(5):
            start = time.perf_counter()
            model.fold_in(mine, k=10)
            reps.append(time.perf_counter() - start)
        times.append(min(reps))
        sizes.append(len(mine))
    return {"users": len(users), "ratings_per_user_median": float(np.median(sizes)),
            "median_s": float(np.median(times)), "p95_s": float(np.percentile(times, 95)),
            "max_s": float(np.max(times))}


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA,
                   help="MovieLens 100k folder (default ../shared/data/movielens-100k)")
    p.add_argument("--svdpp-folds", type=int, default=1,
                   help="shuffled folds on which to run the slow SVDpp (default 1; it is "
                        "skipped on u1…u5)")
    args = p.parse_args()
    pinned = pin_threads(args.threads)
    from dotwise.recommend import kfold, load_ratings, predefined_splits

    source = str(args.data)
    if (args.data / "u.data").exists():
        data = load_ratings(args.data)
        if args.quick:
            data = data.subset(np.random.default_rng(0).permutation(len(data))[:20000])
            source += " (20 000-rating sample, --quick)"
        has_u = True
    elif args.quick:
        print(f"MovieLens 100k not found at {args.data}: --quick falls back to a generated "
              f"rating set (pass --data DIR; get it with 'dotwise recommend fetch "
              f"movielens-100k DIR')")
        data, has_u, source = generated(), False, "generated (300 users × 200 items, seed 0)"
    else:
        sys.exit(f"MovieLens 100k not found at {args.data}; pass --data DIR (download with "
                 f"'dotwise recommend fetch movielens-100k DIR'), or run with --quick")
    surprise = optional("surprise")
    print(f"data: {data!r}; threads pinned: {pinned}")
    # warm-up (imports, first-call overheads) on a small sample
    warm = data.subset(np.arange(min(len(data), 5000)))
    for cname, (kind, cls, kwargs) in contenders(True).items():
        if "SVDpp" not in cname:
            (run_dotwise if kind == "dotwise" else run_surprise)(cls(**kwargs), warm, warm)

    print("hyper-parameter check on a validation split of fold 1's training ratings:")
    selection = validation_grid(data, args.quick)
    schemes = {"5 shuffled folds (seed 0)": list(kfold(data, 5, random_state=0))}
    if has_u and not args.quick:
        schemes["u1…u5 (predefined)"] = predefined_splits(args.data)
    results = {}
    for index, (name, splits) in enumerate(schemes.items()):
        # SVDpp takes minutes per fold on 2 cores: run it on the first scheme only.
        results[name] = evaluate_scheme(name, splits, args.quick,
                                        args.svdpp_folds if index == 0 else 0)
    latency = fold_in_latency(data, args.quick)

    columns = ["split", "model", "RMSE", "MAE", "fit (median)", "fit: SVD / this", "folds"]
    table_rows = []
    for scheme, rows in results.items():
        svd = rows.get("Surprise SVD (defaults)", {}).get("fit_median_s")
        for cname, row in rows.items():
            if "rmse" not in row:
                table_rows.append([scheme, cname, "not installed" if surprise is None
                                   else row.get("note", "—"), "", "", "", ""])
                continue
            ratio = f"{svd / row['fit_median_s']:.2f}×" if svd else "—"
            table_rows.append([scheme, cname, f"{row['rmse']:.4f}", f"{row['mae']:.4f}",
                               fmt_time(row["fit_median_s"]), ratio, row["folds"]])
    table = markdown_table(columns, table_rows)
    grid = markdown_table(["n_factors", "reg", "reg_exponent", "n_epochs", "neighbors",
                           "shrinkage β", "neighbor λ", "validation RMSE", "fit"], [
        [*r["params"].values(), f"{r['val_rmse']:.4f}" + (" (default)" if r["default"]
                                                          else ""), fmt_time(r["fit_s"])]
        for r in selection["rows"]])
    print()
    print(f"data: {source}")
    print(table)
    print()
    print(f"fold-in of a new user ({latency['users']} held-out users, median "
          f"{latency['ratings_per_user_median']:.0f} ratings each): median "
          f"{fmt_time(latency['median_s'])}, p95 {fmt_time(latency['p95_s'])}")
    print()
    print(f"hyper-parameter check — {selection['procedure']}:")
    print(grid)
    payload = {"machine": machine_info(args.threads, pinned), "data": source,
               "quick": args.quick, "svdpp_folds": args.svdpp_folds, "results": results,
               "fold_in": latency, "selection": selection, "table": table, "grid": grid}
    path = write_results("recommend", payload, args.out, args.quick)
    print(f"\nresults → {path}")


if __name__ == "__main__":
    main()
