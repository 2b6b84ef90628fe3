r"""Limited-memory BFGS with a strong-Wolfe line search, for smooth convex objectives.

Written for :class:`~dotwise.models.SoftmaxRegression` but generic: it minimises
``f(θ)`` over a flat vector ``θ`` given ``fun(θ) -> (f, ∇f)``.

The search direction is the two-loop recursion of Nocedal & Wright (2006,
Algorithm 7.4) over the last ``memory`` pairs :math:`s_k = θ_{k+1} - θ_k`,
:math:`y_k = ∇f_{k+1} - ∇f_k`, started from an initial inverse Hessian
:math:`H_0 = γ_k P^{-1}`: ``precondition(v)`` applies :math:`P^{-1}` (the identity
when ``None``) and :math:`γ_k = s^\top y / y^\top P^{-1} y` rescales it to the
curvature just seen. With ``refresh``, ``P`` is replaced by ``refresh(θ)`` every
``refresh_every`` iterations (any positive definite :math:`H_0` per iteration keeps the
method well defined; the stored pairs stay valid). The step length satisfies the strong Wolfe conditions
(Algorithm 3.5 with the zoom of Algorithm 3.6, cubic interpolation safeguarded
inside the bracket):

.. math::

    f(θ + t d) \le f(θ) + c_1 t \nabla f^\top d, \qquad
    |\nabla f(θ + t d)^\top d| \le c_2 |\nabla f^\top d|

which keep :math:`s^\top y > 0`, so every update keeps the inverse Hessian positive
definite.

Stopping rules (the first that holds): ``max|∇f| ≤ gtol`` ("gradient"), a relative
decrease of ``f`` of at most ``ftol`` ("loss"; with the default 0, when ``f`` no longer
decreases at all in floating point: the gradient is then at its rounding level), ``max_iter`` iterations
("max_iter", not converged), or a line search that finds no decrease even along the
preconditioned steepest-descent direction ("line search"). The last two count as
converged only when the gradient is at its rounding level (``√eps·max(1, |f|)``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = ["LbfgsResult", "minimize_lbfgs"]


@dataclass
class LbfgsResult:
    """What :func:`minimize_lbfgs` found: the minimiser, its loss and gradient, the history."""

    x: np.ndarray
    fun: float
    grad: np.ndarray
    n_iter: int
    n_fun: int
    converged: bool
    reason: str
    loss_history: list[float] = field(default_factory=list)


def minimize_lbfgs(fun: Callable[[np.ndarray], tuple[float, np.ndarray]], x0: np.ndarray, *,
                   gtol: float = 1e-4, ftol: float = 0.0,
                   max_iter: int = 100, memory: int = 10, max_ls: int = 40,
                   precondition: Callable[[np.ndarray], np.ndarray] | None = None,
                   refresh: Callable[[np.ndarray], Callable | None] | None = None,
                   refresh_every: int = 10,
                   callback: Callable[[int, float, float], None] | None = None) -> LbfgsResult:
    """Minimise ``fun`` from ``x0`` by preconditioned L-BFGS (see the module docstring).

    ``callback(iteration, loss, max_abs_grad)`` is called after every iteration.
    """
    x = np.array(x0, dtype=np.float64)
    f, g = fun(x)
    n_fun = 1
    history = [float(f)]
    pairs: deque[tuple[np.ndarray, np.ndarray, float]] = deque(maxlen=memory)
    apply_p = precondition if precondition is not None else (lambda v: v)
    gamma = 1.0
    reason, converged, it = "max_iter", False, 0
    if np.max(np.abs(g), initial=0.0) <= gtol:
        return LbfgsResult(x, float(f), g, 0, n_fun, True, "gradient", history)
    while it < max_iter:
        d = -_two_loop(g, pairs, apply_p, gamma)
        slope = float(g @ d)
        if not slope < 0:  # lost descent (rounding): restart from the preconditioned gradient
            pairs.clear()
            d = -apply_p(g)
            slope = float(g @ d)
        t, f_new, g_new, evals = _strong_wolfe(fun, x, f, g, d, slope, max_ls)
        n_fun += evals
        if t is None and pairs:
            pairs.clear()
            d = -apply_p(g)
            t, f_new, g_new, evals = _strong_wolfe(fun, x, f, g, d, float(g @ d), max_ls)
            n_fun += evals
        if t is None:
            reason = "line search"
            converged = _at_rounding_level(f, g, gtol)
            break
        it += 1
        s = t * d
        y = g_new - g
        sy = float(s @ y)
        if sy > np.finfo(float).eps * float(y @ y):
            hy = apply_p(y)
            gamma = sy / float(y @ hy)
            pairs.append((s, y, 1.0 / sy))
        f_old, x, f, g = f, x + s, f_new, g_new
        history.append(float(f))
        if refresh is not None and it % refresh_every == 0:
            fresh = refresh(x)
            if fresh is not None:
                apply_p = fresh
                if pairs:
                    s_last, y_last, _ = pairs[-1]
                    gamma = float(s_last @ y_last) / float(y_last @ apply_p(y_last))
        gmax = float(np.max(np.abs(g)))
        if callback is not None:
            callback(it, float(f), gmax)
        if gmax <= gtol:
            reason, converged = "gradient", True
            break
        if (f_old - f) <= ftol * max(abs(f_old), abs(f), 1.0):
            reason, converged = "loss", _at_rounding_level(f, g, gtol)
            break
    return LbfgsResult(x, float(f), g, it, n_fun, converged, reason, history)


def _at_rounding_level(f, g, gtol):
    """Whether a stop without the gradient test still counts as converged.

    When ``f`` can no longer be decreased in floating point, a gradient below
    ``√eps · max(1, |f|)`` is as small as rounding lets it get: a ``gtol`` below that
    asked for more than float64 can give. A larger gradient means real trouble.
    """
    gmax = float(np.max(np.abs(g)))
    return gmax <= max(gtol, np.sqrt(np.finfo(float).eps) * max(1.0, abs(f)))


def _two_loop(g, pairs, apply_p, gamma):
    """``H g`` for the L-BFGS inverse Hessian H built on ``H0 = gamma · P⁻¹``."""
    q = g.copy()
    alphas = []
    for s, y, rho in reversed(pairs):
        a = rho * float(s @ q)
        q -= a * y
        alphas.append(a)
    r = gamma * apply_p(q) if pairs else apply_p(q)
    for (s, y, rho), a in zip(pairs, reversed(alphas), strict=True):
        b = rho * float(y @ r)
        r += (a - b) * s
    return r


def _strong_wolfe(fun, x, f0, g0, d, slope0, max_ls, c1=1e-4, c2=0.9):
    """A step ``t`` meeting the strong Wolfe conditions along ``d``, or ``None``.

    Returns ``(t, f(x + t d), ∇f(x + t d), evaluations)``.
    """
    evals = 0
    t_prev, f_prev, slope_prev = 0.0, f0, slope0
    t = 1.0
    for i in range(max_ls):
        f_t, g_t = fun(x + t * d)
        evals += 1
        if not np.isfinite(f_t):  # stepped too far (overflow): shrink and retry
            t *= 0.1
            continue
        slope_t = float(g_t @ d)
        if f_t > f0 + c1 * t * slope0 or (i > 0 and f_t >= f_prev):
            return _zoom(fun, x, f0, slope0, d, t_prev, f_prev, slope_prev, t, f_t, slope_t,
                         max_ls - evals, evals, c1, c2)
        if abs(slope_t) <= -c2 * slope0:
            return t, f_t, g_t, evals
        if slope_t >= 0:
            return _zoom(fun, x, f0, slope0, d, t, f_t, slope_t, t_prev, f_prev, slope_prev,
                         max_ls - evals, evals, c1, c2)
        t_prev, f_prev, slope_prev = t, f_t, slope_t
        t *= 2.0
    return None, f0, g0, evals


def _zoom(fun, x, f0, slope0, d, t_lo, f_lo, s_lo, t_hi, f_hi, s_hi, budget, evals, c1, c2):
    """Shrink the bracket [t_lo, t_hi] (f(t_lo) lowest so far) to a strong-Wolfe step."""
    best = None
    for _ in range(max(budget, 1)):
        t = _cubic_min(t_lo, f_lo, s_lo, t_hi, f_hi, s_hi)
        f_t, g_t = fun(x + t * d)
        evals += 1
        slope_t = float(g_t @ d)
        if f_t > f0 + c1 * t * slope0 or f_t >= f_lo:
            t_hi, f_hi, s_hi = t, f_t, slope_t
        else:
            if abs(slope_t) <= -c2 * slope0:
                return t, f_t, g_t, evals
            best = (t, f_t, g_t)
            if slope_t * (t_hi - t_lo) >= 0:
                t_hi, f_hi, s_hi = t_lo, f_lo, s_lo
            t_lo, f_lo, s_lo = t, f_t, slope_t
        if abs(t_hi - t_lo) <= 1e-12 * max(abs(t_lo), 1e-12):
            break
    if best is not None:  # a sufficient decrease without the curvature condition: take it
        return best[0], best[1], best[2], evals
    return None, f0, None, evals


def _cubic_min(a, fa, da, b, fb, db):
    """Minimiser of the cubic through (a, fa, da), (b, fb, db), kept inside the bracket."""
    lo, hi = min(a, b), max(a, b)
    margin = 0.1 * (hi - lo)
    d1 = da + db - 3.0 * (fa - fb) / (a - b)
    disc = d1 * d1 - da * db
    if disc >= 0 and np.isfinite(disc):
        d2 = np.sign(b - a) * np.sqrt(disc)
        denom = db - da + 2.0 * d2
        if denom != 0:
            t = b - (b - a) * (db + d2 - d1) / denom
            if lo + margin <= t <= hi - margin:
                return float(t)
    return 0.5 * (lo + hi)
