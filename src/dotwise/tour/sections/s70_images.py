"""Tour: images as matrices — filters as (fused) dot products, compression by SVD and DCT."""

from __future__ import annotations

import time

import numpy as np

import dotwise as dw
from dotwise.tour import Section, TourContext


def run(ctx: TourContext) -> None:
    import matplotlib.pyplot as plt

    import dotwise.image as im

    photo = im.sample_image("china", max_size=320)
    h, w, _ = photo.shape
    ctx.text(f"A photo is a {h}×{w}×3 array. A convolution filter makes each output pixel the "
             f"dot product of a small kernel with the patch around it; a colour filter makes "
             f"each pixel's RGB vector a 3×3 matrix times it, plus a bias.")

    filters = [("gaussian σ=2", im.gaussian_blur(2)), ("box 7×7", im.box_blur(7)),
               ("sharpen 1.5", im.sharpen(1.5)), ("unsharp mask", im.unsharp_mask(2, 1.5)),
               ("motion 15 @ 30°", im.motion_blur(15, 30)), ("edges", im.edges()),
               ("emboss", im.emboss()), ("Sobel magnitude", im.sobel()),
               ("grayscale", im.grayscale()), ("sepia", im.sepia()),
               ("saturation 1.8", im.saturation(1.8)), ("invert", im.invert())]
    fig, axes = plt.subplots(3, 5, figsize=(13, 6.4))
    axes = axes.ravel()
    axes[0].imshow(photo)
    axes[0].set_title("original", fontsize=9)
    rows = []
    for ax, (label, f) in zip(axes[1:], filters, strict=False):
        start = time.perf_counter()
        out = f(photo)
        seconds = time.perf_counter() - start
        if label in ("edges", "Sobel magnitude"):
            out = np.clip(np.abs(out) * (4 if label == "Sobel magnitude" else 1), 0, 1)
        ax.imshow(np.clip(out, 0, 1), cmap="gray" if out.ndim == 2 else None)
        ax.set_title(label, fontsize=9)
        plan = im.kernel_plan(f.kernel) if isinstance(f, im.Convolution) else None
        rows.append([label, f.kind, "—" if plan is None else f"{plan['shape'][0]}×{plan['shape'][1]}",
                     "—" if plan is None else f"{plan['method']} (rank {plan['rank']}, {plan['engine']})",
                     f"{seconds * 1e3:.1f} ms"])
    for ax in axes:
        ax.axis("off")
    ctx.figure("contact-sheet", fig, "Each filter applied to the same photo")
    ctx.table("filters, their kernels and how the engine runs them",
              ["filter", "kind", "kernel", "plan", "time"], rows)

    pipe = im.Pipeline([im.gaussian_blur(1.5), im.sharpen(1.0), im.box_blur(3), im.sepia(),
                        im.brightness(1.1), im.contrast(1.2)])
    fused = pipe.fuse()
    a, b = pipe(photo), fused(photo)
    ctx.text(f"Fusion: convolution is associative, so blur → sharpen → box is one 15×15 kernel; "
             f"sepia → brightness → contrast is one affine colour map. {fused.report}.")
    ctx.check("fused pipeline saves passes", fused.report.passes_saved == 4,
              str(fused.report))
    ctx.check("fused output equals unfused output (symmetric kernels, reflect mode)",
              float(np.abs(a - b).max()) < 1e-4, f"max |diff| = {np.abs(a - b).max():.1e}")

    grey = photo.mean(axis=2).astype(np.float64)
    s = np.asarray(dw.inspect(grey, eigen=False).singular_values)
    fig, ax = plt.subplots(figsize=(5, 3.4))
    ax.semilogy(np.arange(1, len(s) + 1), s, lw=1.5)
    ax.set_xlabel("index i")
    ax.set_ylabel("singular value σᵢ")
    ax.set_title("singular value spectrum of the (grey) photo")
    ax.grid(alpha=0.3)
    ctx.figure("spectrum", fig, "A photo's singular values fall fast: most energy is in few ranks")

    raw = photo.size
    svd_rows, values, shots = [], [], []
    for k in (5, 20, 50):
        c = im.svd_compress(photo, rank=k)
        dec = c.decompress()
        values.append(im.psnr(photo, dec))
        shots.append((f"rank {k}", dec))
        svd_rows.append([k, c.nbytes, f"{c.ratio:.1%}", values[-1], im.ssim(photo, dec)])
    ctx.table("SVD compression: rank-k approximation per channel, 8-bit factors",
              ["rank", "bytes", "of raw", "PSNR dB", "SSIM"], svd_rows)
    ctx.check("PSNR grows with the rank", values == sorted(values))
    exact = im.svd_compress(grey, rank=20, bits=32).decompress(clip=False)
    err = float(np.sum((grey - exact) ** 2))
    ctx.check("Eckart–Young: squared error = sum of discarded σᵢ²",
              abs(err - np.sum(s[20:] ** 2)) < 1e-3 * np.sum(s[20:] ** 2),
              f"{err:.3f} vs {np.sum(s[20:] ** 2):.3f}")

    block = im.block_compress(photo, ratio=0.1)
    svd10 = im.svd_compress(photo, ratio=0.1)
    svd10_img = svd10.decompress()
    qj, data, jpeg = im.jpeg_at_size(photo, int(0.1 * raw))
    p_block, p_jpeg = im.psnr(photo, block.decompress()), im.psnr(photo, jpeg)
    ctx.table("at 10 % of the raw size", ["codec", "bytes", "setting", "PSNR dB", "SSIM"], [
        ["block (DCT + range coder)", block.nbytes, f"quality {block.params['quality']:g}, "
         f"{block.params['subsampling']}", p_block, im.ssim(photo, block.decompress())],
        ["Pillow JPEG (optimize=True, better chroma)", len(data), f"quality {qj}", p_jpeg,
         im.ssim(photo, jpeg)],
        ["SVD", svd10.nbytes, f"ranks {svd10.params['ranks']}", im.psnr(photo, svd10_img),
         im.ssim(photo, svd10_img)],
    ])
    ctx.check("block codec at least as good as JPEG (optimized) at the same size",
              p_block >= p_jpeg, f"{p_block:.2f} vs {p_jpeg:.2f} dB")
    shots += [(f"block {block.ratio:.0%}", block.decompress()), (f"JPEG {len(data) / raw:.0%}", jpeg)]
    # top row: the whole photo; bottom row: a 4× enlarged crop where the artifacts show
    h, w = photo.shape[:2]
    side = max(16, min(h, w) // 5)
    y0, x0 = h // 2 - side // 2, w // 2 - side // 2
    fig, axes = plt.subplots(2, 6, figsize=(16, 6.2),
                             gridspec_kw={"height_ratios": [h / w, 1.0]})
    for col, (label, img) in enumerate([("original", photo), *shots]):
        top, bottom = axes[0, col], axes[1, col]
        top.imshow(np.clip(img, 0, 1))
        top.add_patch(plt.Rectangle((x0, y0), side, side, fill=False, ec="#e53e3e", lw=1.2))
        top.set_title(label, fontsize=11)
        bottom.imshow(np.clip(img[y0:y0 + side, x0:x0 + side], 0, 1), interpolation="nearest")
        for ax in (top, bottom):
            ax.axis("off")
    fig.tight_layout()
    ctx.figure("codecs", fig, "SVD at ranks 5, 20, 50; the block codec and JPEG at 10 % of the "
                              "raw size. Bottom: the red square enlarged 4×, pixel for pixel — "
                              "SVD smears texture into streaks, the block codec and JPEG show "
                              "8×8 blocks and ringing.")


SECTION = Section(
    key="images", title="Images: filters as fused operators, compression by SVD and DCT",
    order=70, run=run,
    summary="Convolutions and colour matrices fuse into fewer passes; SVD and an 8×8 "
            "orthonormal block transform compress a photo.",
)
