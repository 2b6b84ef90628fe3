"""Tour: principal component analysis of the handwritten digits."""

from __future__ import annotations

import numpy as np

import dotwise as dw
from dotwise.tour import Section, TourContext


def run(ctx: TourContext) -> None:
    from sklearn.datasets import load_digits

    digits = load_digits()
    X, labels = digits.data, digits.target
    n, p = X.shape
    ctx.text(f"{n} handwritten digits, each an 8×8 image flattened to {p} numbers. PCA "
             "centres the data and takes its SVD; each component is a 64-pixel direction, "
             "and a digit's coordinates are its dot products with those directions.")

    pca = dw.PCA().fit(X)
    cum = np.cumsum(pca.explained_variance_ratio_)
    need = {f: int(np.searchsorted(cum, f) + 1) for f in (0.5, 0.8, 0.9, 0.95, 0.99)}
    ctx.table("components needed to keep a fraction of the variance",
              ["variance kept", "components", "of 64"],
              [[f"{f:.0%}", k, f"{k / p:.0%}"] for f, k in need.items()])
    ctx.check("explained variance ratios are positive, decreasing and sum to ≤ 1",
              bool(np.all(np.diff(pca.explained_variance_) <= 1e-12)
                   and cum[-1] <= 1 + 1e-12 and pca.explained_variance_ratio_.min() >= 0),
              f"Σ = {cum[-1]:.12f}")
    gram = pca.components_ @ pca.components_.T
    ctx.check("components are orthonormal (VVᵀ = I)",
              np.allclose(gram, np.eye(len(gram)), atol=1e-10),
              f"max |VVᵀ − I| = {np.max(np.abs(gram - np.eye(len(gram)))):.1e}")
    Z = pca.transform(X)
    ctx.check("full-rank round trip: inverse_transform(transform(X)) = X",
              np.allclose(pca.inverse_transform(Z), X, atol=1e-9),
              f"max error {np.max(np.abs(pca.inverse_transform(Z) - X)):.1e}")

    from sklearn.decomposition import PCA as SkPCA

    sk = SkPCA(n_components=10).fit(X)
    ours10 = dw.PCA(n_components=10).fit(X)
    fast = dw.PCA(n_components=10, svd_solver="randomized", random_state=0).fit(X)
    ctx.table("first components: dotwise (exact and randomized) vs scikit-learn",
              ["component", "variance ratio", "randomized", "scikit-learn",
               "|cos| to sklearn axis"],
              [[j + 1, ours10.explained_variance_ratio_[j],
                fast.explained_variance_ratio_[j], sk.explained_variance_ratio_[j],
                abs(float(dw.dot(ours10.components_[j], sk.components_[j])))]
               for j in range(5)])
    ctx.check("explained variances agree with scikit-learn",
              np.allclose(ours10.explained_variance_, sk.explained_variance_, rtol=1e-8))

    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.9))
    ks = np.arange(1, p + 1)
    axes[0].bar(ks, pca.explained_variance_ratio_, color="#2b6cb0", label="per component")
    axes[0].plot(ks, cum, color="#c05621", marker=".", label="cumulative")
    axes[0].axhline(0.9, color="grey", ls="--", lw=1)
    axes[0].set_xlabel("component"), axes[0].set_ylabel("explained variance ratio")
    axes[0].set_title("explained variance"), axes[0].legend(loc="center right")
    sc = axes[1].scatter(Z[:, 0], Z[:, 1], c=labels, cmap="tab10", s=6, alpha=0.8)
    for d in range(10):
        cx, cy = np.median(Z[labels == d, :2], axis=0)
        axes[1].text(cx, cy, str(d), fontsize=13, weight="bold", ha="center", va="center",
                     bbox={"boxstyle": "circle,pad=0.2", "fc": "white", "alpha": 0.8})
    axes[1].set_xlabel("PC 1"), axes[1].set_ylabel("PC 2")
    axes[1].set_title("digits projected on the first two components")
    fig.colorbar(sc, ax=axes[1], ticks=range(10), label="digit")
    fig.tight_layout()
    ctx.figure("variance-and-projection", fig,
               "Left: variance explained by each component and cumulatively (dashed: 90%). "
               "Right: every digit's first two coordinates, coloured by its label.")

    # reconstruction of a few digits from k components, as one image grid
    picks = [int(np.flatnonzero(labels == d)[0]) for d in (0, 2, 3, 5, 8)]
    ks_show = [1, 2, 5, 10, 20, 64]
    tiles, errors = [], []
    for k in ks_show:
        model = dw.PCA(n_components=k).fit(X)
        rec = model.inverse_transform(model.transform(X[picks]))
        tiles.append(rec)
        errors.append(float(np.sqrt(np.mean((rec - X[picks]) ** 2))))
    rows = [np.concatenate([X[picks]] + tiles, axis=0)]
    grid = _tile(np.concatenate(rows), n_rows=len(ks_show) + 1, n_cols=len(picks))
    ctx.image("reconstructions", grid / 16.0,
              "Rows: the original digits, then their reconstructions from k = "
              + ", ".join(map(str, ks_show)) + " components.")
    ctx.table("reconstruction error of those digits (pixel values 0–16)",
              ["components k", "RMS error"], [[k, e] for k, e in zip(ks_show, errors,
                                                                   strict=True)])
    ctx.check("reconstruction error falls as k grows and vanishes at k = 64",
              all(a >= b - 1e-12 for a, b in zip(errors, errors[1:], strict=False))
              and errors[-1] < 1e-9)


def _tile(images: np.ndarray, n_rows: int, n_cols: int, pad: int = 1,
          scale: int = 6) -> np.ndarray:
    """Arrange flattened 8×8 images (row-major order) in a grid, enlarged ``scale`` times."""
    side = 8
    cell = side + pad
    grid = np.ones((n_rows * cell + pad, n_cols * cell + pad)) * 16.0
    for idx, img in enumerate(images):
        r, c = divmod(idx, n_cols)
        grid[pad + r * cell:pad + r * cell + side, pad + c * cell:pad + c * cell + side] = \
            16.0 - np.clip(img.reshape(side, side), 0, 16)
    return np.kron(grid, np.ones((scale, scale)))


SECTION = Section(
    key="pca", title="PCA: the digits in a few directions", order=35, run=run,
    summary="The SVD of the centred data finds the directions of greatest variance.",
)
