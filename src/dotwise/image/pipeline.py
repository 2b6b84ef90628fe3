"""Pipelines of filters, and their fusion into fewer passes over the image.

Convolution is associative, ``(x ∗ k₁) ∗ k₂ = x ∗ (k₁ ∗ k₂)``, so consecutive
convolutions fuse into one kernel (the full 2-D convolution of the kernels, of size
``(h₁ + h₂ − 1) × (w₁ + w₂ − 1)``). Consecutive colour maps fuse into one affine map
``(M₂M₁, M₂b₁ + b₂)``. Nonlinear filters (Sobel magnitude) and changes of boundary
mode split the fusion.

What "fused equals unfused" means at the borders
------------------------------------------------
Colour maps fuse exactly everywhere. Convolutions fuse exactly everywhere with
``mode="wrap"`` (circular convolution is associative). With the other modes the
unfused pipeline re-applies the boundary rule to each intermediate image, so the two
agree exactly on every pixel at least ``R`` pixels from the border, where ``R`` is the
fused kernel's radius. For ``reflect`` / ``mirror`` they agree everywhere as well when
every kernel but the last is symmetric under left–right and up–down flips (blurs,
sharpen, Laplacian, edges): such a kernel maps a symmetrically extended image to a
symmetrically extended image. ``tests/test_image_filters.py`` pins each statement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .color import ColorMap
from .filters import Convolution, Filter, kernel_plan

__all__ = ["FuseReport", "Pipeline"]


@dataclass(frozen=True)
class FuseReport:
    """What :meth:`Pipeline.fuse` did.

    Attributes
    ----------
    passes_before, passes_after : int
        Full passes over the image (one per filter) before and after fusion.
    groups : tuple of str
        How the original filters were grouped, e.g. ``("gaussian_blur+sharpen", "sepia")``.
    """

    passes_before: int
    passes_after: int
    groups: tuple[str, ...]

    @property
    def passes_saved(self) -> int:
        return self.passes_before - self.passes_after

    def __str__(self) -> str:
        return (f"{self.passes_before} passes → {self.passes_after} "
                f"({self.passes_saved} saved): " + " | ".join(self.groups))


def compose_kernels(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The one kernel that filtering with ``first`` and then ``second`` amounts to.

    Convolution is associative, so the composed kernel is the full 2-D convolution of the
    two (shape ``(h1 + h2 - 1, w1 + w2 - 1)``): every tap of ``second`` adds a shifted,
    scaled copy of ``first``.

    >>> compose_kernels(np.ones((1, 2)), np.ones((2, 1)))
    array([[1., 1.],
           [1., 1.]])
    """
    h1, w1 = first.shape
    h2, w2 = second.shape
    out = np.zeros((h1 + h2 - 1, w1 + w2 - 1), dtype=np.result_type(first, second, np.float64))
    for i in range(h2):
        for j in range(w2):
            if second[i, j] != 0:
                out[i:i + h1, j:j + w1] += second[i, j] * first
    return out


class Pipeline:
    """Filters applied in order: ``Pipeline([f, g, h])(img) == h(g(f(img)))``.

    Parameters
    ----------
    filters : sequence of Filter
        Objects made by the filter constructors (``gaussian_blur(2)``, ``sepia()``, …).

    Examples
    --------
    >>> import numpy as np
    >>> from dotwise.image import Pipeline, gaussian_blur, sharpen, sepia, brightness
    >>> pipe = Pipeline([gaussian_blur(1), sharpen(0.5), sepia(), brightness(1.1)])
    >>> fused = pipe.fuse()
    >>> print(fused.report)
    4 passes → 2 (2 saved): gaussian_blur+sharpen | sepia+brightness
    >>> img = np.random.default_rng(0).random((32, 32, 3), dtype=np.float32)
    >>> bool(np.allclose(pipe(img), fused(img), atol=1e-5))
    True
    """

    def __init__(self, filters: Iterable[Filter] = (), *, report: FuseReport | None = None):
        filters = list(filters)
        for i, f in enumerate(filters):
            if not isinstance(f, Filter):
                raise TypeError(
                    f"filters[{i}] must be a dotwise filter such as gaussian_blur(2) or "
                    f"sepia(), got {type(f).__name__} {f!r}; did you forget the "
                    f"parentheses (sepia instead of sepia())?"
                )
        self.filters: list[Filter] = filters
        self.report = report

    def __call__(self, img: Any) -> np.ndarray:
        out = img
        for f in self.filters:
            out = f(out)
        return np.asarray(out)

    def __len__(self) -> int:
        return len(self.filters)

    def __iter__(self):
        return iter(self.filters)

    def __repr__(self) -> str:
        return f"Pipeline([{', '.join(repr(f) for f in self.filters)}])"

    @property
    def passes(self) -> int:
        """Full passes over the image: one per filter."""
        return len(self.filters)

    def fuse(self) -> Pipeline:
        """A pipeline with runs of convolutions (same mode) and of colour maps fused.

        Returns
        -------
        Pipeline
            Equal output (see the module notes on borders); its ``report``
            (:class:`FuseReport`) counts the passes saved.
        """
        fused: list[Filter] = []
        groups: list[list[Filter]] = []
        for f in self.filters:
            prev = fused[-1] if fused else None
            if (isinstance(f, Convolution) and isinstance(prev, Convolution)
                    and prev.mode == f.mode):
                kernel = compose_kernels(prev.kernel, f.kernel)
                fused[-1] = Convolution(kernel, "fused", f.mode,
                                        {"shape": kernel.shape})
                groups[-1].append(f)
            elif isinstance(f, ColorMap) and isinstance(prev, ColorMap):
                fused[-1] = prev.then(f)
                fused[-1].name = "fused_color"
                groups[-1].append(f)
            else:
                fused.append(f)
                groups.append([f])
        for i, g in enumerate(groups):
            if len(g) == 1:
                fused[i] = g[0]
        report = FuseReport(len(self.filters), len(fused),
                            tuple("+".join(f.name for f in g) for g in groups))
        return Pipeline(fused, report=report)

    def describe(self) -> list[dict[str, Any]]:
        """One dict per filter: name, kind, and for convolutions the kernel shape and plan."""
        rows = []
        for f in self.filters:
            row: dict[str, Any] = {"name": f.name, "kind": f.kind}
            if isinstance(f, Convolution):
                plan = kernel_plan(f.kernel)
                row.update(kernel=f.kernel.shape, method=plan["method"], rank=plan["rank"])
            rows.append(row)
        return rows


