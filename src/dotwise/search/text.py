"""Deprecated alias of :mod:`dotwise.text.minilm` (the sentence encoder moved out of search).

``from dotwise.search.text import …`` keeps working for one release, with a
``DeprecationWarning``; import from :mod:`dotwise.text` instead.
``dotwise.search.embed_texts`` itself stays.
"""

from __future__ import annotations

import warnings

from ..text import minilm as _minilm
from ..text.minilm import (
    TEXT_EXTRA_HINT,
    MiniLM,
    WordPieceTokenizer,
    embed_texts,
    model_path,
    read_safetensors,
)

__all__ = ["TEXT_EXTRA_HINT", "MiniLM", "WordPieceTokenizer", "embed_texts", "model_path",
           "read_safetensors"]

warnings.warn("dotwise.search.text moved to dotwise.text; import embed_texts, MiniLM, "
              "WordPieceTokenizer and read_safetensors from there (this alias will be removed "
              "in the next release)", DeprecationWarning, stacklevel=2)


def __getattr__(name: str):
    return getattr(_minilm, name)
