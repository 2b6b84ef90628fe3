"""Tour: a movie recommender — matrix factorization by alternating least squares."""

from __future__ import annotations

import time

import numpy as np

from dotwise.recommend import (
    BaselinePredictor,
    MatrixFactorization,
    Ratings,
    rmse_mae,
    train_test_split,
)
from dotwise.tour import Section, TourContext


def _ratings(ctx: TourContext, n_users=400, n_items=250, rank=4, density=0.12):
    """Star ratings from a planted taste model: biases + a rank-4 dot product + noise."""
    rng = ctx.rng(60)
    taste = rng.normal(0, 0.6, (n_users, rank))
    traits = rng.normal(0, 0.6, (n_items, rank))
    user_bias, item_bias = rng.normal(0, 0.3, n_users), rng.normal(0, 0.5, n_items)
    truth = 3.4 + user_bias[:, None] + item_bias[None, :] + taste @ traits.T
    u, i = np.nonzero(rng.random((n_users, n_items)) < density)
    stars = np.clip(np.rint(truth[u, i] + rng.normal(0, 0.5, len(u))), 1, 5)
    titles = {j: f"Movie {j:03d}" for j in range(n_items)}
    data = Ratings.from_arrays(u, i, stars, titles=titles, rating_scale=(1, 5))
    return data, truth, traits, item_bias


def run(ctx: TourContext) -> None:
    data, truth, traits, item_bias = _ratings(ctx)
    train, test = train_test_split(data, 0.2, random_state=0)
    ctx.text(f"A generated rating set ({data!r}): each person has a hidden taste vector, each "
             f"movie a hidden trait vector, and a rating is their dot product plus biases and "
             f"noise, rounded to whole stars. Only {data.density:.0%} of the matrix is known.")

    test_curve = []
    tu, ti = test.user_ids[test.user_codes], test.item_ids[test.item_codes]
    model = MatrixFactorization(8, n_epochs=12, random_state=0)

    def on_epoch(epoch: int, loss: float) -> None:
        test_curve.append(rmse_mae(test.ratings, model.predict(tu, ti))[0])

    model.fit(train, callback=on_epoch)
    baseline = BaselinePredictor().fit(train)
    base_rmse, base_mae = rmse_mae(test.ratings, baseline.predict(tu, ti))
    mf_rmse, mf_mae = rmse_mae(test.ratings, model.predict(tu, ti))
    mean_rmse = float(np.sqrt(np.mean((test.ratings - train.ratings.mean()) ** 2)))
    ctx.table("held-out ratings (20 %)", ["model", "RMSE", "MAE"], [
        ["global mean", mean_rmse, float(np.mean(np.abs(test.ratings - train.ratings.mean())))],
        ["baseline: mean + user and movie biases", base_rmse, base_mae],
        ["matrix factorization (ALS, k = 8)", mf_rmse, mf_mae],
    ])
    ctx.check("the factorization beats the bias-only baseline on held-out ratings",
              mf_rmse < base_rmse - 0.05, f"{mf_rmse:.3f} vs {base_rmse:.3f}")
    loss = np.asarray(model.loss_history_)
    ctx.check("every ALS epoch lowers the objective (each half-step is an exact ridge solve)",
              bool(np.all(np.diff(loss) <= 1e-12 * loss[:-1])),
              f"{loss[0]:.3f} → {loss[-1]:.3f}")

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    epochs = np.arange(1, len(loss) + 1)
    ax.plot(epochs, model.train_rmse_history_, "o-", label="train RMSE", color="#2b6cb0")
    ax.plot(epochs, test_curve, "s-", label="held-out RMSE", color="#c05621")
    ax.axhline(base_rmse, ls="--", color="gray", label="baseline (held-out)")
    ax.set_xlabel("ALS epoch"), ax.set_ylabel("RMSE (stars)"), ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    ctx.figure("training-curve", fig, "ALS training: error on the training and held-out "
                                      "ratings after each epoch")

    # A newcomer: rates 8 movies according to a hidden taste; fold in, no retraining.
    rng = ctx.rng(61)
    taste = rng.normal(0, 0.6, traits.shape[1])
    hidden = 3.4 + item_bias + traits @ taste
    rated = rng.choice(data.n_items, 8, replace=False)
    stars = np.clip(np.rint(hidden[rated]), 1, 5)
    start = time.perf_counter()
    mine = {f"Movie {j:03d}": s for j, s in zip(rated, stars, strict=True)}
    recs = model.fold_in(mine, k=5)
    elapsed = time.perf_counter() - start
    everything = model.fold_in(mine, k=data.n_items, exclude_seen=False)
    order = np.argsort(everything.item_ids)
    corr = float(np.corrcoef(everything.scores[order], hidden[everything.item_ids[order]])[0, 1])
    ctx.table(f"a new viewer rated 8 movies; fold-in took {elapsed * 1e3:.2f} ms",
              ["#", "recommended", "predicted", "hidden true taste"],
              [[r, t, s, float(hidden[int(t.split()[1])])] for r, t, s in recs.rows()])
    ctx.check("fold-in of a new viewer recovers their hidden taste (correlation > 0.6)",
              corr > 0.6, f"correlation {corr:.2f} over all {data.n_items} movies")


SECTION = Section(
    key="movies", title="Movies: matrix factorization recommender", order=60, run=run,
    summary="Ratings as dot products of taste vectors, learned by alternating least squares.",
)
