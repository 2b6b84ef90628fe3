"""Tour: similarity search — nearest digits, cosine vs L2, IVF recall, the song recommender."""

from __future__ import annotations

import numpy as np

import dotwise as dw
from dotwise.tour import Section, TourContext


def _digit_strip(images: np.ndarray, rows: list[list[int]], gap: int = 3) -> np.ndarray:
    """A grid of 8×8 digits, one row per query (query first), scaled to [0, 1], white gaps."""
    tile = 8 * 4
    n_cols = max(len(r) for r in rows)
    H = len(rows) * (tile + gap) + gap
    W = n_cols * (tile + gap) + gap + 6
    out = np.full((H, W), 0.8)
    for i, row in enumerate(rows):
        for j, idx in enumerate(row):
            img = 1.0 - images[idx] / 16.0
            big = np.kron(img, np.ones((4, 4)))
            y = gap + i * (tile + gap)
            x = gap + j * (tile + gap) + (6 if j else 0)
            out[y:y + tile, x:x + tile] = big
    out[:, tile + gap + 1: tile + gap + 5] = 0.3  # a bar between query and matches
    return out


def run(ctx: TourContext) -> None:
    from sklearn.datasets import load_digits

    from dotwise.search import Catalog, Index, IVFIndex, exact_search, recall_at_k

    digits = load_digits()
    X, y = digits.data.astype(np.float32), digits.target
    rng = ctx.rng(0)
    order = rng.permutation(len(X))
    test, train = order[:300], order[300:]
    index = Index(64, metric="cosine")
    index.add(X[train], ids=train)
    result = index.search(X[test], k=5)
    votes = y[result.ids]
    nn1 = float(np.mean(votes[:, 0] == y[test]))
    ctx.text(f"An exact cosine index over {len(train)} of scikit-learn's 8×8 digits (64 "
             f"dimensions). Each of {len(test)} held-out digits asks for its 5 nearest "
             f"neighbours: one matrix product over the collection, then a top-k.")
    ctx.check("the nearest neighbour has the same label for ≥ 95% of held-out digits",
              nn1 >= 0.95, f"1-NN accuracy {nn1:.3f}")
    brute = dw.normalize(X[test]) @ dw.normalize(X[train]).T  # every cosine, by brute force
    ref = train[np.argsort(-brute, axis=1, kind="stable")[:, :5]]
    ctx.check("the index returns exactly the brute-force NumPy neighbours",
              np.array_equal(ref, result.ids), "same ids for all 300 × 5")
    shown = [0, 1, 2, 3, 4, 5]
    grid = _digit_strip(digits.images, [[int(test[q]), *result.ids[q].tolist()] for q in shown])
    ctx.image("digit-neighbours", grid,
              "left: a held-out query digit; right: its 5 nearest neighbours by cosine")

    # cosine vs L2: on unit vectors ‖x − y‖² = 2 − 2 cos(x, y), so the rankings agree
    Xn = dw.normalize(X.astype(np.float64))
    by_cos = exact_search(Xn[train], Xn[test], k=10, metric="cosine")
    by_l2 = exact_search(Xn[train], Xn[test], k=10, metric="l2")
    same = bool(np.array_equal(by_cos.ids, by_l2.ids))
    gap = float(np.max(np.abs(by_l2.scores ** 2 - (2 - 2 * by_cos.scores))))
    ctx.table("cosine vs L2 on normalised vectors (first query)",
              ["rank", "id (cosine)", "cosine", "id (L2)", "‖x − y‖²", "2 − 2·cos"],
              [[r + 1, int(by_cos.ids[0, r]), float(by_cos.scores[0, r]), int(by_l2.ids[0, r]),
                float(by_l2.scores[0, r]) ** 2, float(2 - 2 * by_cos.scores[0, r])]
               for r in range(5)])
    ctx.check("cosine and L2 give the same ranking on unit vectors", same,
              f"max |‖x−y‖² − (2 − 2cos)| = {gap:.1e}")

    # IVF: probe a few k-means lists instead of the whole collection
    ivf = IVFIndex(64, metric="cosine", n_lists=32, n_probe=1)
    ivf.train(X[train])
    ivf.add(X[train], ids=train)
    truth = index.search(X[test], k=10)
    rows = []
    for n_probe in (1, 2, 4, 8, 32):
        r = ivf.search(X[test], k=10, n_probe=n_probe)
        rows.append([n_probe, f"{n_probe / 32:.0%}", recall_at_k(r, truth)])
    ctx.table("IVF with 32 lists: recall@10 against the exact index", ["n_probe",
              "share of lists searched", "recall@10"], rows)
    ctx.check("IVF recall rises with n_probe and is exact with every list",
              rows[-1][2] == 1.0 and all(a[2] <= b[2] + 1e-12 for a, b in zip(rows[:-1], rows[1:], strict=True)))

    # the song recommender on the bundled example catalog
    cat = Catalog.example()
    recs = cat.similar("Blinding Neon", k=5)
    genre = cat.metadata["genre"][cat.rows_of("Blinding Neon")[0]]
    ctx.text(f"The song recommender: {len(cat)} invented songs with Spotify-style audio "
             f"features ({', '.join(cat.feature_names)}), z-scored so tempo in BPM does not "
             f"drown danceability, compared by cosine. 'Blinding Neon' is {genre}.")
    ctx.table("songs like 'Blinding Neon' — and the features that drive each match",
              ["#", "track", "artist", "genre", "cosine", "top features (uᵢvᵢ)"],
              [[m.rank, m.name, m.metadata["artist"], m.metadata["genre"], m.score,
                m.drivers_text()] for m in recs])
    ctx.check("the recommendations share the query's genre",
              sum(m.metadata["genre"] == genre for m in recs) >= 4)
    e = cat.index.explain(cat.index.vectors[recs[0].row], recs[0].row)
    ctx.check("the per-feature contributions of a vector with itself sum to cosine 1",
              abs(e.score - 1.0) < 1e-9, f"Σ uᵢvᵢ = {e.score:.12f}")


SECTION = Section(
    key="search", title="Search: nearest neighbours and a song recommender", order=50, run=run,
    summary="Similarity search is a matrix product plus a top-k; the dot product explains "
            "each match.",
)
