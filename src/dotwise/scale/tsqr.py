r"""TSQR: the R factor of a tall row-chunked Dask array, by a reduction tree, in one pass.

For :math:`A = [A_1; A_2; \dots; A_p]` split into row blocks, each block is
factored on the worker that holds it, :math:`A_i = Q_i R_i`, and only the small
:math:`R_i` (``n × n``) travel. Stacking them and factoring again,
:math:`[R_1; \dots; R_p] = \tilde Q R`, gives the R factor of ``A`` itself
(:math:`A = \operatorname{diag}(Q_i)\,\tilde Q\, R`), and the stacking is done
``split_every`` factors at a time, a tree of depth :math:`\log p`.

Right-hand sides ride along in the same pass: the QR of the augmented block
:math:`[A_i \; b_i]` gives

.. math::

    [A \; b] = Q \begin{bmatrix} R & c \\ 0 & T \end{bmatrix},
    \qquad c = Q_{:, :n}^\top b,
    \qquad \lVert A x - b \rVert_2^2 = \lVert R x - c \rVert_2^2 + \lVert T e_j \rVert_2^2

for every ``x`` (Householder QR without pivoting factors the first ``n`` columns
exactly as it would factor ``A`` alone), so :math:`Q^\top b` and the residual
norms come without ever forming ``Q`` or making a second pass over ``A``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg
import scipy.linalg.lapack

from .._dask import compute

__all__ = ["TSQRFactors", "tree_reduce", "tsqr"]


@dataclass(frozen=True)
class TSQRFactors:
    """The small factors of :math:`[A\\;b] = Q\\,[[R, c], [0, T]]`.

    Attributes
    ----------
    R : ndarray of shape (n, n)
        Upper-triangular factor of ``A`` (the rows beyond ``m`` are zero when ``m < n``).
    qtb : ndarray of shape (n, k)
        :math:`c = Q^\\top b` (first ``n`` rows); ``(n, 0)`` without ``b``.
    T : ndarray of shape (k, k)
        The trailing triangle: :math:`T^\\top T = r^\\top r` for the least-squares
        residual :math:`r = b - A x_{LS}`.
    n_rows : int
        ``m``, the number of rows of ``A``.
    """

    R: np.ndarray
    qtb: np.ndarray
    T: np.ndarray
    n_rows: int

    def residual_norms(self, x: np.ndarray) -> np.ndarray:
        """:math:`\\lVert A x_j - b_j \\rVert_2` for each column of ``x`` (n, k), from the factors."""
        fit = np.sum((self.R @ x - self.qtb) ** 2, axis=0)
        return np.sqrt(fit + np.sum(self.T**2, axis=0))


def tree_reduce(leaves: list, combine, split_every: int = 8):
    """Combine delayed ``leaves`` ``split_every`` at a time until one remains."""
    from dask import delayed

    level = list(leaves)
    while len(level) > 1:
        level = [delayed(combine, pure=True)(*level[i:i + split_every])
                 for i in range(0, len(level), split_every)]
    return level[0]


def _triangle(M: np.ndarray) -> np.ndarray:
    """The R factor of ``M`` (rows, c): ``min(rows, c) × c``, upper triangular.

    LAPACK ``geqrf`` in place on a Fortran-ordered ``M`` (no copy; a blocked
    workspace of ``64 c``), keeping only the top ``min(rows, c)`` rows — what travels
    up the tree is ``c × c``, never the ``rows × c`` that ``scipy.linalg.qr(mode="r")``
    would return.
    """
    rows, c = M.shape
    if rows == 0:
        return np.zeros((0, c), dtype=M.dtype)
    geqrf = scipy.linalg.lapack.get_lapack_funcs("geqrf", (M,))
    qr, _, _, info = geqrf(M, lwork=max(1, 64 * c), overwrite_a=1)
    if info != 0:  # pragma: no cover - LAPACK argument error
        raise np.linalg.LinAlgError(f"LAPACK geqrf failed (info={info})")
    return np.triu(qr[:min(rows, c)])


def _leaf(a, b, w, offset, shift, dtype, check_finite, names):
    a = np.asarray(a)
    b = None if b is None else np.asarray(b)
    if check_finite:
        _check_block_finite(a, names[0], offset)
        if b is not None:
            _check_block_finite(b, names[1], offset)
    rows, n = a.shape
    k = 0 if b is None else (1 if b.ndim == 1 else b.shape[1])
    M = np.empty((rows, n + k), dtype=dtype, order="F")
    M[:, :n] = a
    if k:
        M[:, n:] = b.reshape(rows, k)
    if shift is not None:
        M -= shift
    if w is not None:
        M *= np.sqrt(np.asarray(w, dtype=dtype))[:, None]
    return _triangle(M)


def _combine(*Rs):
    return _triangle(np.asfortranarray(np.vstack(Rs)))


def _check_block_finite(x: np.ndarray, name: str, offset: int) -> None:
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        bad = np.argwhere(~np.isfinite(x))[0]
        where = (int(bad[0]) + offset, *(int(i) for i in bad[1:]))
        raise ValueError(
            f"{name} must contain only finite numbers, found {x[tuple(bad)]} at index "
            f"{where if len(where) != 1 else where[0]}; clean the data or pass "
            f"check_finite=False"
        )


def tsqr_graph(A, B=None, *, weights=None, shift=None, dtype=None, check_finite=True,
               split_every: int = 8, names=("A", "b")):
    """The delayed R factor of ``[A − shift_A, B − shift_B]`` (rows scaled by √weights).

    ``A`` must be chunked along rows only and ``B`` / ``weights`` (Dask arrays or
    ``None``) must have the same row chunks; see :func:`tsqr` for every parameter.

    Parameters
    ----------
    check_finite : bool, default=True
        Scan the input for NaN and infinity first and name the first one found
        (one fast pass). ``False`` skips the scan: a non-finite value then
        spreads into the result or stops LAPACK with an error of its own.
    """
    from dask import delayed

    dtype = np.dtype(dtype or A.dtype)
    # optimize_graph=False keeps the blocks' keys, so a computation that also needs A
    # (or an array made from it) in the same dask.compute shares the tasks: one pass
    a_blocks = A.to_delayed(optimize_graph=False).ravel()
    b_blocks = ([None] * len(a_blocks) if B is None
                else list(B.to_delayed(optimize_graph=False).ravel()))
    w_blocks = ([None] * len(a_blocks) if weights is None
                else list(weights.to_delayed(optimize_graph=False).ravel()))
    offsets = np.concatenate([[0], np.cumsum(A.chunks[0])[:-1]]).astype(int)
    leaves = [delayed(_leaf, pure=True)(a, b, w, int(off), shift, dtype, check_finite, names)
              for a, b, w, off in zip(a_blocks, b_blocks, w_blocks, offsets, strict=True)]
    return tree_reduce(leaves, _combine, split_every)


def split_factors(R_aug: np.ndarray, n: int, m: int) -> TSQRFactors:
    """Pad the computed triangle to ``(n + k) × (n + k)`` and cut it into R, c and T."""
    width = R_aug.shape[1]
    full = np.zeros((width, width), dtype=R_aug.dtype)
    full[:R_aug.shape[0]] = R_aug[:width]
    return TSQRFactors(R=np.ascontiguousarray(full[:n, :n]),
                       qtb=np.ascontiguousarray(full[:n, n:]),
                       T=np.ascontiguousarray(full[n:, n:]), n_rows=int(m))


def tsqr(A, b=None, *, check_finite: bool = True, split_every: int = 8,
         client: Any = None) -> TSQRFactors:
    r"""The TSQR factors of a row-chunked Dask array ``A`` (and right-hand sides ``b``).

    One pass over ``A``: a QR per row block on its worker, then a tree of QRs of
    stacked ``R`` factors (``split_every`` at a time). ``Q`` is never formed.

    Parameters
    ----------
    A : dask.array.Array of shape (m, n)
        Chunked along rows only (``A.numblocks[1] == 1``).
    b : dask.array.Array or ndarray of shape (m,) or (m, k), optional
        Rechunked to ``A``'s row chunks when they differ.
    check_finite : bool, default=True
        Scan the input for NaN and infinity first and name the first one found
        (one fast pass). ``False`` skips the scan: a non-finite value then
        spreads into the result or stops LAPACK with an error of its own.
    split_every : int, default=8
        How many R factors each node of the tree stacks.
    client : distributed.Client, optional
        Where to run; default the active client, else Dask's local scheduler.

    Returns
    -------
    TSQRFactors
        ``R`` (n, n), ``qtb`` (n, k), ``T`` (k, k), ``n_rows``.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> A = np.random.default_rng(0).standard_normal((1000, 4))
    >>> f = tsqr(da.from_array(A, chunks=(250, 4)))
    >>> bool(np.allclose(f.R.T @ f.R, A.T @ A))   # RᵀR = AᵀA
    True
    """
    from .._dask import check_row_chunks, require_dask

    da = require_dask("tsqr")
    check_row_chunks(A, "A")
    B = None
    if b is not None:
        B = align_rows(b, A, "b", da)
    graph = tsqr_graph(A, B, check_finite=check_finite, split_every=split_every,
                       dtype=np.result_type(A.dtype, np.float32 if B is None else B.dtype))
    (R_aug,) = compute(graph, client=client)
    return split_factors(R_aug, A.shape[1], A.shape[0])


def align_rows(b, A, name: str, da):
    """``b`` as a Dask array with ``A``'s row chunks (NumPy input is wrapped, not copied)."""
    if not hasattr(b, "chunks") or not hasattr(b, "to_delayed"):
        b = np.asarray(b)
        chunks = (A.chunks[0],) + tuple((s,) for s in b.shape[1:])
        return da.from_array(b, chunks=chunks)
    if b.chunks[0] != A.chunks[0] or (b.ndim == 2 and b.numblocks[1] != 1):
        b = b.rechunk((A.chunks[0],) + tuple((s,) for s in b.shape[1:]))
    return b
