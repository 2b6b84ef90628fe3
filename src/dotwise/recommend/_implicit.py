r"""The implicit-feedback (SVD++) term of :class:`~dotwise.recommend.MatrixFactorization`.

With ``implicit=True`` a user's vector becomes ``p_u + |R(u)|^(-1/2) Σ_{j∈R(u)} y_j``:
one more vector ``y_j`` per item says what *having rated* ``j`` says about a
taste, whatever the rating. This module holds the ``Y`` step of each ALS epoch
(private engine).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix

__all__ = ["Implicit"]


class Implicit:
    r"""The ``Y`` step of implicit-feedback ALS: conjugate gradients on a quadratic.

    With ``P, Q`` and the biases fixed, the objective in ``Y`` is
    ``‖e − 𝒜(Y)‖² + Σ_j λ_j ‖y_j‖²`` where ``𝒜(Y)_{ui} = c_u q_i · Σ_{j∈R(u)} y_j``,
    ``c_u = |R(u)|^{-1/2}`` and ``e`` the residual without the implicit term. It is
    a convex quadratic, so conjugate gradients (matrix-free, warm-started from
    the current ``Y``) lowers it at every iteration. ``𝒜`` and ``𝒜ᵀ`` are two
    sparse products with the user × item incidence matrix ``N``.
    """

    def __init__(self, u, i, n_u, n_i):
        shape = (len(n_u), len(n_i))
        self.u, self.i = u, i
        self.N = csr_matrix((np.ones(len(u)), (u, i)), shape=shape)
        self.NT = self.N.T.tocsr()
        self.c = np.where(n_u > 0, 1.0 / np.sqrt(np.maximum(n_u, 1)), 0.0)
        self.shape = shape

    def _apply(self, Y, Q):
        """𝒜(Y) per rating, and the per-user sums t_u = c_u Σ_{j∈R(u)} y_j."""
        t = self.c[:, None] * (self.N @ Y)
        return np.einsum("nk,nk->n", t[self.u], Q[self.i]), t

    def _adjoint(self, values, Q):
        """𝒜ᵀ(values): Σ over users who rated j of c_u Σ_i values_ui q_i."""
        V = csr_matrix((values, (self.u, self.i)), shape=self.shape)
        return self.NT @ (self.c[:, None] * (V @ Q))

    def step(self, Y, Q, resid, lam, steps):
        """Minimise over Y; ``resid`` excludes the implicit term. Returns (Y, t)."""
        pred, t = self._apply(Y, Q)
        e = resid - pred                           # current residual with Y
        g = self._adjoint(e, Q) - lam[:, None] * Y  # minus half the gradient
        d = g.copy()
        gg = float(np.vdot(g, g))
        for _ in range(steps):
            if gg <= 1e-30:
                break
            Ad, td = self._apply(d, Q)
            curvature = float(Ad @ Ad) + float(np.vdot(d, lam[:, None] * d))
            if curvature <= 0:
                break
            alpha = gg / curvature
            Y = Y + alpha * d
            t = t + alpha * td
            e = e - alpha * Ad
            g = g - alpha * (self._adjoint(Ad, Q) + lam[:, None] * d)
            gg_new = float(np.vdot(g, g))
            d = g + (gg_new / gg) * d
            gg = gg_new
        return Y, t
