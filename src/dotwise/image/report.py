"""``compression_report``: PSNR and SSIM against size for SVD, the block codec and JPEG."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import as_float_array
from ._codec import check_img, check_ratio
from .compress import block_compress, svd_compress
from .metrics import psnr, ssim

__all__ = ["CompressionReport", "compression_report", "jpeg_at_size"]


def jpeg_at_size(img: Any, max_bytes: int, *, subsampling: str = "best",
                 optimize: bool = True) -> tuple[int, bytes, np.ndarray]:
    """Pillow JPEG at the largest integer quality whose file is at most ``max_bytes``.

    Parameters
    ----------
    img : array_like of shape (H, W) or (H, W, 3) in [0, 1]
    max_bytes : int
    subsampling : {"best", "4:2:0", "4:4:4"}, default="best"
        Chroma subsampling; ``best`` tries both and keeps the higher PSNR (Pillow's
        default, 4:2:0, caps JPEG's quality at high rates).
    optimize : bool, default=True
        Pillow's ``optimize=True``: Huffman tables fitted to the image (a few % smaller
        files than libjpeg's defaults; JPEG at its best, for a fair comparison).

    Returns
    -------
    (quality, file bytes, decoded float32 image); quality 1 if even that is larger
    (the caller sees the size).
    """
    from PIL import Image

    arr = as_float_array(img, "img", ndim=(2, 3))
    if subsampling not in ("best", "4:2:0", "4:4:4"):
        raise ValueError(f"subsampling must be 'best', '4:2:0' or '4:4:4', got {subsampling!r}")
    u8 = (np.clip(arr, 0, 1) * 255 + 0.5).astype(np.uint8)
    if u8.ndim == 3 and u8.shape[2] == 1:
        u8 = u8[:, :, 0]
    pil = Image.fromarray(u8)
    modes = [2, 0] if subsampling == "best" else [2 if subsampling == "4:2:0" else 0]
    if u8.ndim == 2:
        modes = modes[:1]
    best = None
    for mode in modes:
        cache: dict[int, bytes] = {}

        def enc(q: int, mode: int = mode, cache: dict = cache) -> bytes:
            if q not in cache:
                buf = io.BytesIO()
                pil.save(buf, format="JPEG", quality=q, subsampling=mode, optimize=optimize)
                cache[q] = buf.getvalue()
            return cache[q]

        lo, hi = 1, 100
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if len(enc(mid)) <= max_bytes:
                lo = mid
            else:
                hi = mid - 1
        data = enc(lo)
        dec = np.asarray(Image.open(io.BytesIO(data)), dtype=np.float32) / 255.0
        value = psnr(arr, dec)
        if best is None or (len(data) <= max_bytes and value > best[3]) or \
                len(best[1]) > max_bytes:
            best = (lo, data, dec, value)
    return best[0], best[1], best[2]


@dataclass(frozen=True)
class CompressionReport:
    """Rows ``{"method", "target_ratio", "ratio", "nbytes", "psnr", "ssim", "setting"}``."""

    rows: tuple[dict[str, Any], ...]
    shape: tuple[int, ...]

    def table(self) -> str:
        """A Markdown table of the rows."""
        head = "| method | target | actual ratio | bytes | PSNR (dB) | SSIM | setting |"
        lines = [head, "|---|---|---|---|---|---|---|"]
        for r in self.rows:
            lines.append(f"| {r['method']} | {r['target_ratio']:.0%} | {r['ratio']:.4f} | "
                         f"{r['nbytes']} | {r['psnr']:.2f} | {r['ssim']:.4f} | {r['setting']} |")
        return "\n".join(lines)

    def plot(self, ax: Any = None):
        """PSNR against compressed size (fraction of raw), one line per method."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5.2, 3.6))
        for method, style in (("block", "o-"), ("jpeg", "s--"), ("svd", "^-.")):
            pts = sorted((r["ratio"], r["psnr"]) for r in self.rows if r["method"] == method)
            if pts:
                x, y = zip(*pts, strict=True)
                ax.plot(np.array(x) * 100, y, style, label=method)
        ax.set_xlabel("compressed size (% of raw 8-bit)")
        ax.set_ylabel("PSNR (dB)")
        ax.grid(alpha=0.3)
        ax.legend()
        ax.set_title(f"image {self.shape[0]}×{self.shape[1]}")
        return ax.figure


def compression_report(img: Any, ratios: Sequence[float] = (0.05, 0.1, 0.2), *,
                       methods: Sequence[str] = ("block", "jpeg", "svd"),
                       progress: Callable[[str], None] | None = None) -> CompressionReport:
    """Compress ``img`` at each target ratio with each method; measure PSNR and SSIM.

    Parameters
    ----------
    img : array_like of shape (H, W) or (H, W, 3) in [0, 1]
    ratios : sequence of float in (0, 1], default=(0.05, 0.1, 0.2)
    methods : subset of ("block", "jpeg", "svd")
        ``jpeg`` is Pillow's JPEG at the largest quality that fits the same byte budget.
    progress : callable, optional
        Called with a short description before each encode.

    Returns
    -------
    CompressionReport
        ``.rows``, ``.table()`` (Markdown), ``.plot()`` (PSNR vs size).
    """
    arr = check_img(img)
    arr = arr[:, :, 0] if arr.shape[2] == 1 else arr
    ratios = [check_ratio(r) for r in ratios]
    for m in methods:
        if m not in ("block", "jpeg", "svd"):
            raise ValueError(f"methods must be among 'block', 'jpeg', 'svd'; got {m!r}")
    rows = []
    raw = arr.size
    for r in ratios:
        for m in methods:
            if progress is not None:
                progress(f"{m} at {r:.0%}")
            try:
                if m == "block":
                    c = block_compress(arr, ratio=r)
                    dec, nbytes, setting = c.decompress(), c.nbytes, f"quality {c.params['quality']:g}"
                elif m == "svd":
                    c = svd_compress(arr, ratio=r)
                    dec, nbytes, setting = c.decompress(), c.nbytes, f"rank {c.params['ranks'][0]}"
                else:
                    q, data, dec = jpeg_at_size(arr, int(r * raw))
                    nbytes, setting = len(data), f"quality {q}"
            except ValueError as exc:
                rows.append({"method": m, "target_ratio": r, "ratio": float("nan"),
                             "nbytes": 0, "psnr": float("nan"), "ssim": float("nan"),
                             "setting": f"unreachable: {exc}"})
                continue
            rows.append({"method": m, "target_ratio": r, "ratio": nbytes / raw,
                         "nbytes": int(nbytes), "psnr": psnr(arr, dec),
                         "ssim": ssim(arr, dec) if min(arr.shape[:2]) >= 11 else float("nan"),
                         "setting": setting})
    return CompressionReport(tuple(rows), arr.shape)
