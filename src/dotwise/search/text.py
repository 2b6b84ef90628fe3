"""Deprecated alias of :mod:`dotwise.text.minilm` (the sentence encoder moved out of search).

``from dotwise.search.text import …`` keeps working for one release, with a
``DeprecationWarning``; import from :mod:`dotwise.text` instead.
``dotwise.search.embed_texts`` itself stays.
"""

from __future__ import annotations

import warnings
from typing import Any

# served lazily by __getattr__, with a warning
__all__ = ["TEXT_EXTRA_HINT", "MiniLM", "WordPieceTokenizer",  # noqa: F822
           "embed_texts", "model_path", "read_safetensors"]


def __getattr__(name: str) -> Any:
    from ..text import minilm

    if name.startswith("__") or not hasattr(minilm, name):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(f"dotwise.search.text moved to dotwise.text; import {name} from there "
                  f"(this alias will be removed in the next release)", DeprecationWarning,
                  stacklevel=2)
    return getattr(minilm, name)
