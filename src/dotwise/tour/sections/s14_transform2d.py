"""Tour: 2-D transformations as 3×3 homogeneous matrices, and why a chain is one product."""

from __future__ import annotations

import time

import numpy as np

import dotwise as dw
from dotwise.tour import Section, TourContext

# a little ship: a closed polygon around its own centre (2, 1)
_SHIP = np.array([[1.0, 0.5], [3.0, 0.5], [3.6, 1.0], [3.0, 1.5], [2.3, 1.5], [2.0, 2.2],
                  [1.7, 1.5], [1.0, 1.5], [1.0, 0.5]])


def _fmt(M: np.ndarray) -> str:
    return "\n".join("[" + " ".join(f"{v:6.2f}" for v in row) + " ]" for row in M)


def run(ctx: TourContext) -> None:
    centre = _SHIP[:-1].mean(axis=0)
    ctx.text("A point (x, y) becomes (x, y, 1). Then rotation, scaling, shear, reflection "
             "and — thanks to the extra 1 — translation are all 3×3 matrices, each output "
             "coordinate a dot product of a matrix row with (x, y, 1). A game moves a ship by "
             "chaining them: grow it about its centre, turn it about its centre, fly it off.")
    steps = dw.compose_steps(
        ("scale ×1.5 about the centre", dw.scaling(1.5, about=centre)),
        ("rotate 40° about the centre", dw.rotation(40, about=centre)),
        ("translate (4, 2)", dw.translation(4, 2)),
    )
    M = steps[-1].product
    ctx.table("the chain, built one step at a time (each step multiplies from the left)",
              ["step", "matrix of the step", "product so far"],
              [[s.name, _fmt(s.matrix).replace("\n", "  "), _fmt(s.product).replace("\n", "  ")]
               for s in steps])

    R = dw.rotation(40)[:2, :2]
    ctx.check("a rotation is orthogonal with determinant 1 (RᵀR = I)",
              np.allclose(R.T @ R, np.eye(2), atol=1e-15) and abs(dw.inspect(R).det - 1) < 1e-12)
    F = dw.reflection(30)[:2, :2]
    ctx.check("a reflection has determinant −1 and is its own inverse",
              abs(dw.inspect(F).det + 1) < 1e-12 and np.allclose(F @ F, np.eye(2)))
    turned = dw.apply_transform(centre, dw.rotation(40, about=centre))
    ctx.check("rotating about the ship's centre keeps the centre where it is",
              np.allclose(turned, centre, atol=1e-14), f"centre {centre} → {turned}")
    Minv = dw.invert_transform(M)
    ctx.check("inverse(M) @ M = I: the chain can be undone",
              np.allclose(Minv @ M, np.eye(3), atol=1e-13),
              f"max |M⁻¹M − I| = {np.max(np.abs(Minv @ M - np.eye(3))):.1e}")
    T, Rt = dw.translation(4, 2), dw.rotation(40)
    ctx.check("order matters: translate-then-rotate ≠ rotate-then-translate",
              not np.allclose(dw.compose(T, Rt), dw.compose(Rt, T)))
    try:
        dw.invert_transform(dw.scaling(0, 1), name="scaling(0, 1)")
        refused = False
    except np.linalg.LinAlgError:
        refused = True
    ctx.check("a singular transform (a zero scale flattens the plane) is refused by inverse",
              refused)

    # associativity: compose once, apply once — versus one pass per transform
    rng = ctx.rng(14)
    pts = rng.uniform(-10, 10, (1_000_000, 2))
    chain = [dw.shear(0.2), dw.scaling(1.5, 0.5), dw.rotation(25, about=(1, 1)),
             dw.reflection(10), dw.translation(-3, 4)]
    t0 = time.perf_counter()
    stepwise = pts
    for S in chain:
        stepwise = dw.apply_transform(stepwise, S)
    t_step = time.perf_counter() - t0
    t0 = time.perf_counter()
    once = dw.apply_transform(pts, dw.compose(*chain[::-1]))
    t_once = time.perf_counter() - t0
    ctx.table("a chain of 5 transforms on 1 000 000 points (one run each; see "
              "benchmarks/bench_transform2d.py for the measured comparison)",
              ["method", "passes over the points", "time"],
              [["apply each transform in turn", len(chain), f"{t_step * 1e3:.1f} ms"],
               ["compose the 3×3 matrices once, apply the product", 1,
                f"{t_once * 1e3:.1f} ms"]])
    ctx.check("(S5 S4 S3 S2 S1) p = S5(S4(S3(S2(S1 p)))): the same points either way",
              np.allclose(once, stepwise, rtol=1e-12, atol=1e-11),
              f"max |Δ| = {np.max(np.abs(once - stepwise)):.1e}")

    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(steps) + 1, figsize=(4.0 * (len(steps) + 1), 4.6),
                             sharex=True, sharey=True)
    shapes = [_SHIP] + [dw.apply_transform(_SHIP, s.product) for s in steps]
    titles = ["the ship, centre marked"] + [f"{i + 1}. {s.name}" for i, s in enumerate(steps)]
    for i, ax in enumerate(axes):
        if i:
            ax.fill(*shapes[i - 1].T, color="#cbd5e0", alpha=0.6, lw=0)
        ax.fill(*shapes[i].T, color="#2b6cb0", alpha=0.85)
        c = dw.apply_transform(centre, np.eye(3) if i == 0 else steps[i - 1].product)
        ax.plot(*c, "o", color="#c05621", ms=5)
        ax.set_title(titles[i], fontsize=9)
        ax.set_aspect("equal")
        ax.grid(alpha=0.3)
        if i:
            ax.text(0.02, 0.02, "M =\n" + _fmt(steps[i - 1].product), family="monospace",
                    fontsize=7, transform=ax.transAxes, va="bottom",
                    bbox={"fc": "white", "alpha": 0.85, "ec": "#cbd5e0"})
    axes[0].set_xlim(-1.5, 8.5)
    axes[0].set_ylim(-3.5, 6.0)
    fig.tight_layout()
    ctx.figure("ship", fig,
               "The ship after each step of the chain (grey: before the step), with the "
               "product matrix so far; the orange dot is the ship's centre, fixed by the "
               "scaling and the rotation about it.")


SECTION = Section(
    key="transform2d", title="2-D transformations: homogeneous 3×3 matrices", order=14,
    run=run,
    summary="Rotation, scaling, shear, reflection and translation as 3×3 matrices; a chain "
            "is one matrix product, so it is composed once and applied once.",
)
