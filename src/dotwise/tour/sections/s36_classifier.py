"""Tour: a linear classifier — softmax regression on the handwritten digits."""

from __future__ import annotations

import warnings

import numpy as np

import dotwise as dw
from dotwise._threads import one_blas_thread
from dotwise.tour import Section, TourContext

ALPHA = 100.0  # scikit-learn's C = 1 / ALPHA = 0.01
TOL = 1e-6


def run(ctx: TourContext) -> None:
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(
        digits.data, digits.target, test_size=0.25, random_state=0, stratify=digits.target)
    ctx.text("A linear classifier gives every class c a weight vector w_c: the score of a "
             "digit x for class c is the dot product w_c · x + b_c, and a softmax turns the "
             "ten scores into probabilities. Softmax regression learns W by minimising the "
             f"cross-entropy plus an L2 penalty (alpha = {ALPHA:g}, scikit-learn's C = "
             f"{1 / ALPHA:g}) with L-BFGS; {len(y_train)} digits train it, {len(y_test)} "
             "held-out digits test it.")

    model = dw.SoftmaxRegression(alpha=ALPHA, tol=TOL, max_iter=2000).fit(X_train, y_train)
    # (one BLAS thread for these small products: waking threads costs more than it saves)
    with warnings.catch_warnings(), one_blas_thread():
        warnings.simplefilter("ignore")
        sk = LogisticRegression(C=1 / ALPHA, tol=TOL, max_iter=5000).fit(X_train, y_train)
    acc, sk_acc = model.score(X_test, y_test), sk.score(X_test, y_test)
    ctx.table("dotwise SoftmaxRegression vs scikit-learn LogisticRegression (same penalty)",
              ["", "dotwise", "scikit-learn"],
              [["test accuracy", f"{acc:.2%}", f"{sk_acc:.2%}"],
               ["training accuracy", f"{model.score(X_train, y_train):.2%}",
                f"{sk.score(X_train, y_train):.2%}"],
               [f"L-BFGS iterations (tol {TOL:g})", int(model.n_iter_[0]),
                int(sk.n_iter_[0])]])
    rel = float(np.max(np.abs(model.coef_ - sk.coef_)) / np.max(np.abs(sk.coef_)))
    ctx.check("the same minimiser as scikit-learn (the loss is convex)", rel < 1e-3,
              f"max |ΔW| / max |W| = {rel:.1e}")
    agree = float(np.mean(model.predict(X_test) == sk.predict(X_test)))
    ctx.check("the same predictions on the test digits", agree >= 0.995, f"{agree:.2%} agree")
    P = model.predict_proba(X_test)
    ctx.check("probabilities are a softmax: non-negative, each row sums to 1",
              bool((P >= 0).all() and np.allclose(P.sum(axis=1), 1.0, rtol=1e-12)),
              f"max |Σp − 1| = {np.max(np.abs(P.sum(axis=1) - 1)):.1e}")
    history = model.loss_history_
    ctx.check("L-BFGS never increased the loss", bool(np.all(np.diff(history) <= 1e-15)),
              f"{history[0]:.4f} → {history[-1]:.4f} in {model.n_iter_[0]} iterations")

    # an explanation: pick the test digit whose prediction was least certain among the 3s
    threes = np.flatnonzero(y_test == 3)
    margins = np.sort(model.decision_function(X_test[threes]), axis=1)
    row = int(threes[np.argmin(margins[:, -1] - margins[:, -2])])
    e = model.explain(X_test[row], feature_names=[f"pixel ({i // 8},{i % 8})"
                                                  for i in range(64)])
    ok = np.allclose(e.contributions.sum(axis=1) + e.intercepts,
                     model.decision_function(X_test[row:row + 1])[0], rtol=1e-12)
    ctx.check("per-pixel contributions w_c,i · x_i (plus b_c) add up to every class score", ok)
    ctx.text(f"Why was test digit {row} (a 3) read as {e.predicted!r}? Its score for each "
             "class is a sum over the 64 pixels; the pixels that pushed it towards "
             f"{e.predicted!r} rather than the runner-up {e.runner_up!r}:")
    pro, con = e.top_features(5)
    ctx.table(f"largest contributions to score({e.predicted}) − score({e.runner_up})",
              ["pixel", "value x_i", "contribution", "towards"],
              [[n, f"{v:g}", c, e.predicted] for n, v, c in pro]
              + [[n, f"{v:g}", c, e.runner_up] for n, v, c in con])

    _figures(ctx, model, X_test[row], e)


def _figures(ctx, model, x, e):
    import matplotlib.pyplot as plt

    W, _ = model.class_weights()
    lim = float(np.max(np.abs(W)))
    fig, axes = plt.subplots(2, 5, figsize=(9, 4))
    for c, ax in enumerate(axes.ravel()):
        im = ax.imshow(W[c].reshape(8, 8), cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set_title(f"w for {model.classes_[c]}")
        ax.set_xticks([]), ax.set_yticks([])
    fig.colorbar(im, ax=axes, shrink=0.8, label="weight (red: ink here raises the score)")
    ctx.figure("weights", fig, "The ten weight vectors w_c, each shown as an 8×8 image: a "
               "digit's score for class c is the dot product of its pixels with this picture.")

    p, r = e.predicted_index, e.runner_up_index
    panels = [(x, "the digit", "gray_r", (0, 16)),
              (e.contributions[p], f"w_{e.predicted} · x (per pixel)", "RdBu_r", None),
              (e.contributions[r], f"w_{e.runner_up} · x (per pixel)", "RdBu_r", None),
              (e.margin_contributions(), f"towards {e.predicted} (red) or {e.runner_up} (blue)",
               "RdBu_r", None)]
    clim = float(np.max(np.abs(np.concatenate([e.contributions[p], e.contributions[r],
                                               e.margin_contributions()]))))
    fig, axes = plt.subplots(1, 4, figsize=(11, 3.2))
    for ax, (img, title, cmap, lims) in zip(axes, panels, strict=True):
        vmin, vmax = lims if lims is not None else (-clim, clim)
        im = ax.imshow(np.asarray(img).reshape(8, 8), cmap=cmap, vmin=vmin, vmax=vmax)
        ax.set_title(title, fontsize=10)
        ax.set_xticks([]), ax.set_yticks([])
    fig.colorbar(im, ax=axes[1:], shrink=0.85, label="contribution to the score")
    fig.suptitle(f"predicted {e.predicted} (p = {e.probabilities[p]:.2f}), runner-up "
                 f"{e.runner_up} (p = {e.probabilities[r]:.2f})", y=1.02)
    ctx.figure("explanation", fig, "One test digit, and each pixel's contribution w_c,i · x_i "
               "to the two highest class scores; the last panel is their difference — what "
               "decided between the two.")


SECTION = Section(
    key="classifier", title="A linear classifier: softmax over dot products", order=36,
    run=run,
    summary="Softmax regression on the digits: each class score is w_c · x, explained "
            "pixel by pixel.",
)
