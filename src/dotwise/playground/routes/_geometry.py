"""Drawing helpers shared by the matrix and eigen demos: grids, unit shapes, A x per point."""

from __future__ import annotations

import numpy as np

import dotwise as dw


def unit_shape(n: int) -> np.ndarray:
    """Edges of the unit square (n=2) or cube (n=3): array (n_edges, 2, n)."""
    if n == 2:
        c = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=float)
        return np.stack([c, np.roll(c, -1, axis=0)], axis=1)
    edges = []
    for a in range(8):
        for b in range(a + 1, 8):
            if bin(a ^ b).count("1") == 1:
                edges.append([[(a >> i) & 1 for i in range(3)], [(b >> i) & 1 for i in range(3)]])
    return np.asarray(edges, dtype=float)


def grid(n: int, extent: int = 3) -> np.ndarray:
    """Grid lines as segments (n_lines, 2, n)."""
    ticks = np.arange(-extent, extent + 1, dtype=float)
    segs = []
    if n == 2:
        for t in ticks:
            segs.append([[t, -extent], [t, extent]])
            segs.append([[-extent, t], [extent, t]])
    else:
        for t in ticks[::2]:
            for s in ticks[::2]:
                segs.append([[t, s, -extent], [t, s, extent]])
                segs.append([[t, -extent, s], [t, extent, s]])
                segs.append([[-extent, t, s], [extent, t, s]])
    return np.asarray(segs, dtype=float)


def apply(A: np.ndarray, points: np.ndarray) -> np.ndarray:
    """A x for every point x on the last axis: each coordinate is a dot product with a row."""
    return dw.dot(points[..., None, :], A)


def eigen_payload(e) -> dict:
    """The JSON of an :class:`~dotwise.linalg.EigenResult` for the drawings."""
    from .._json import jarr, jnum

    pairs = [{"value": jnum(lam), "vector": jarr(v), "segment": jarr(np.stack([-4 * v, 4 * v]))}
             for lam, v in e.real_pairs()]
    complex_values = [f"{z.real:.3g} {'+' if z.imag >= 0 else '−'} {abs(z.imag):.3g}i"
                      for z in np.atleast_1d(e.values) if np.iscomplexobj(e.values) and z.imag != 0]
    return {"eigen": pairs, "complex_eigenvalues": complex_values, "defective": e.defective,
            "symmetric": e.symmetric, "cond_V": jnum(e.cond_V),
            "max_residual": jnum(e.max_residual)}
