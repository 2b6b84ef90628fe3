"""The digits data set (scikit-learn's bundled 8×8 digits) shared by the digit demos."""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["digits"]


@functools.lru_cache(maxsize=1)
def digits() -> tuple[np.ndarray, np.ndarray]:
    """``X`` (1 797 × 64 pixel values 0–16, float64) and the labels ``y`` (0–9)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    return data.data.astype(np.float64), data.target.astype(int)
