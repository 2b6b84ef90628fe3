"""Tour: the dot product and the quantities built from it."""

from __future__ import annotations

import numpy as np

import dotwise as dw
from dotwise.tour import Section, TourContext


def run(ctx: TourContext) -> None:
    u, v = np.array([3.0, 4.0]), np.array([4.0, 0.0])
    proj = dw.vector_projection(u, v)
    ctx.text("Two vectors in the plane: u = (3, 4), v = (4, 0).")
    ctx.table("u and v", ["quantity", "value"], [
        ["u · v", float(dw.dot(u, v))],
        ["‖u‖, ‖v‖", f"{float(dw.norm(u)):.4g}, {float(dw.norm(v)):.4g}"],
        ["cos θ", float(dw.cosine_similarity(u, v))],
        ["θ (degrees)", float(dw.angle(u, v, degrees=True))],
        ["scalar projection of u on v", float(dw.scalar_projection(u, v))],
        ["vector projection of u on v", str(proj)],
    ])
    residual = u - proj
    ctx.check("the residual u − proj is orthogonal to v",
              abs(float(dw.dot(residual, v))) < 1e-12, f"(u − proj)·v = {float(dw.dot(residual, v)):.1e}")

    rng = ctx.rng(0)
    dims = [2, 10, 100, 1000, 10000]
    rows = []
    for d in dims:
        X = rng.standard_normal((200, d))
        C = dw.cosine_matrix(X)
        off = C[~np.eye(len(C), dtype=bool)]
        rows.append([d, float(np.mean(np.abs(off))), float(np.std(off)), 1 / np.sqrt(d)])
    ctx.table("random directions are nearly orthogonal in high dimension",
              ["d", "mean |cos|", "std cos", "1/√d"], rows)
    ctx.check("the spread of cosines shrinks like 1/√d",
              all(abs(r[2] * np.sqrt(r[0]) - 1) < 0.1 for r in rows[1:]))

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.6, 4.4))
    # v is drawn wide and pale under the projection (which lies along it), so both show
    ax.quiver([0], [0], [v[0]], [v[1]], angles="xy", scale_units="xy", scale=1,
              color="#f6ad55", width=0.024, headwidth=2.2, headlength=2.6, zorder=1)
    ax.quiver([0, 0], [0, 0], [u[0], proj[0]], [u[1], proj[1]], angles="xy",
              scale_units="xy", scale=1, color=["#2b6cb0", "#2f855a"], width=0.012, zorder=2)
    ax.plot([proj[0], u[0]], [proj[1], u[1]], "k--", lw=1)
    ax.text(u[0] + 0.1, u[1] + 0.1, "u", color="#2b6cb0", fontsize=12)
    ax.text(v[0] + 0.1, v[1] - 0.35, "v", color="#c05621", fontsize=12)
    ax.text(proj[0] / 2 - 0.4, -0.45, "proj_v u", color="#2f855a", fontsize=11)
    ax.plot([proj[0] - 0.25, proj[0] - 0.25, proj[0]], [0, 0.25, 0.25], "k-", lw=0.8)  # right angle
    ax.text((proj[0] + u[0]) / 2 + 0.1, (proj[1] + u[1]) / 2, "u − proj", fontsize=10)
    ax.set_xlim(-0.5, 5), ax.set_ylim(-0.7, 4.7), ax.set_aspect("equal"), ax.grid(alpha=0.3)
    ctx.figure("projection", fig, "u, v, the projection of u on v and the perpendicular residual")


SECTION = Section(
    key="vectors", title="Vectors: dot, cosine, angle, projection", order=10, run=run,
    summary="The dot product measures alignment; projection splits a vector along another.",
)
