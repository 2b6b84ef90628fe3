"""Photo filters vs scipy.ndimage and OpenCV; the codecs vs Pillow JPEG at equal size.

Filters: ``dotwise.image.convolve`` against ``scipy.ndimage.convolve`` and OpenCV
``filter2D`` / ``sepFilter2D`` (same boundary rule: reflect = BORDER_REFLECT) on a
2048×2048×3 float32 image and on a sample photo, for a dense 3×3 and 5×5 kernel, a
Gaussian σ = 3 (25×25, separable) and a 31×31 box. Every answer is checked against
scipy's (max abs difference ≤ 1e-4) while timing.

Compression: PSNR / SSIM at 5 %, 10 % and 20 % of the raw 8-bit size for the block
codec, SVD and Pillow JPEG (integer quality found by bisection so its file is at most
the same byte budget), on the bundled photos.

    python benchmarks/bench_image.py            # full run (a few minutes)
    python benchmarks/bench_image.py --quick    # seconds
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import (
    compare,
    fmt_ratio,
    fmt_time,
    machine_info,
    markdown_table,
    optional,
    parser,
    pin_threads,
    ratio,
    results_path,
    write_results,
)


def kernels(rng: np.random.Generator) -> dict[str, np.ndarray]:
    from dotwise.image import gaussian_blur

    return {
        "3×3 dense": rng.standard_normal((3, 3)),
        "5×5 dense": rng.standard_normal((5, 5)),
        "Gaussian σ=3 (25×25)": gaussian_blur(3).kernel,
        "box 31×31": np.full((31, 31), 1 / 961),
    }


def bench_filters(img: np.ndarray, label: str, repeat: int) -> list[dict]:
    import scipy.ndimage as ndi

    import dotwise.image as im
    from dotwise.image import _engine

    cv2 = optional("cv2")
    rows = []
    for name, k in kernels(np.random.default_rng(0)).items():
        k32 = k.astype(np.float32)
        reference = ndi.convolve(img, k32[:, :, None], mode="reflect")
        contenders = {
            "dotwise": lambda k=k: im.convolve(img, k, "reflect"),
            "scipy.ndimage": lambda k32=k32: ndi.convolve(img, k32[:, :, None], mode="reflect"),
        }
        plan = im.kernel_plan(k)
        if plan["engine"] == "compiled":     # what the compiled loops add over the fallback
            def numpy_engine(k=k):
                previous = _engine.use_compiled(False)
                try:
                    return im.convolve(img, k, "reflect")
                finally:
                    _engine.use_compiled(previous)
            contenders["dotwise NumPy engine"] = numpy_engine
        u, s, vt = np.linalg.svd(k)
        separable = s[1] < 1e-7 * s[0]
        if separable:                       # scipy's best for a rank-1 kernel: two 1-D passes
            col = (u[:, 0] * np.sqrt(s[0])).astype(np.float32)
            row = (vt[0] * np.sqrt(s[0])).astype(np.float32)
            contenders["scipy correlate1d ×2"] = lambda c=col[::-1].copy(), r=row[::-1].copy(): \
                ndi.correlate1d(ndi.correlate1d(img, c, axis=0, mode="reflect"), r, axis=1,
                                mode="reflect")
        if cv2 is not None:
            flipped = np.ascontiguousarray(k32[::-1, ::-1])
            contenders["opencv filter2D"] = lambda f=flipped: cv2.filter2D(
                img, -1, f, borderType=cv2.BORDER_REFLECT)
            if separable:
                col = (u[::-1, 0] * np.sqrt(s[0])).astype(np.float32)
                row = (vt[0, ::-1] * np.sqrt(s[0])).astype(np.float32)
                contenders["opencv sepFilter2D"] = lambda c=col, r=row: cv2.sepFilter2D(
                    img, -1, r, c, borderType=cv2.BORDER_REFLECT)

        def check(who, out, reference=reference):
            err = float(np.max(np.abs(np.asarray(out, dtype=np.float64) - reference)))
            return err <= 1e-4, f"max |diff| vs scipy {err:.1e}"

        timings = compare(contenders, repeat=repeat, check=check)
        ours = timings["dotwise"]
        peers = [t for n, t in timings.items() if n.startswith("opencv")]
        best_cv = min(peers, key=lambda t: t.median) if peers else None
        rows.append({
            "image": label, "kernel": name,
            "plan": f"{plan['method']} (rank {plan['rank']}, {plan['engine']})",
            "timings": {n: t.as_dict() for n, t in timings.items()},
            "scipy_over_dotwise": ratio(timings["scipy.ndimage"], ours),
            "scipy_1d_over_dotwise": ratio(timings.get("scipy correlate1d ×2"), ours),
            "numpy_engine_over_dotwise": ratio(timings.get("dotwise NumPy engine"), ours),
            "opencv_best": None if best_cv is None else best_cv.name,
            "opencv_over_dotwise": ratio(best_cv, ours),
            "valid": all(t.valid for t in timings.values()),
        })
        print(f"  {label} {name}: dotwise {fmt_time(ours.median)}", flush=True)
    return rows


# Images other than the seven photos the codec was tuned on, judged at 10 % only: textures
# (brick, grass, gravel), text and line art, astronomy, microscopy, a synthetic colour wheel.
OTHER_IMAGES = ["cat", "clock", "coins", "moon", "brick", "grass", "gravel", "page", "text",
                "hubble_deep_field", "immunohistochemistry", "retina", "colorwheel"]


def bench_compression(names: list[str], ratios: list[float], max_size: int | None) -> list[dict]:
    import dotwise.image as im

    rows = []
    for name in names:
        try:
            img = im.sample_image(name, max_size=max_size)
        except ImportError as exc:
            rows.append({"image": name, "error": str(exc)})
            continue
        raw = img.size
        for r in ratios:
            row = {"image": name, "shape": list(img.shape), "target": r}
            start = time.perf_counter()
            block = im.block_compress(img, ratio=r)
            row["block_s"] = time.perf_counter() - start
            dec = block.decompress()
            row["block"] = {"bytes": block.nbytes, "psnr": im.psnr(img, dec),
                            "ssim": im.ssim(img, dec), "quality": block.params["quality"],
                            "subsampling": block.params["subsampling"]}
            q, data, jpeg = im.jpeg_at_size(img, int(r * raw))
            row["jpeg"] = {"bytes": len(data), "psnr": im.psnr(img, jpeg),
                           "ssim": im.ssim(img, jpeg), "quality": q}
            try:
                svd = im.svd_compress(img, ratio=r)
                sdec = svd.decompress()
                row["svd"] = {"bytes": svd.nbytes, "psnr": im.psnr(img, sdec),
                              "ssim": im.ssim(img, sdec), "rank": svd.params["ranks"][0]}
            except ValueError as exc:
                row["svd"] = {"error": str(exc)}
            row["block_minus_jpeg_db"] = row["block"]["psnr"] - row["jpeg"]["psnr"]
            rows.append(row)
            print(f"  {name} {r:.0%}: block {row['block']['psnr']:.2f} dB, "
                  f"jpeg {row['jpeg']['psnr']:.2f} dB", flush=True)
    return rows


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--part", choices=("all", "filters", "compression"), default="all",
                   help="run only the timed filters or only the (timing-free) compression part")
    args = p.parse_args()
    pinned = pin_threads(args.threads)
    repeat = args.repeat or 5
    rng = np.random.default_rng(42)
    import dotwise.image as im

    big = 256 if args.quick else 2048
    images = [(rng.random((big, big, 3), dtype=np.float32), f"{big}×{big}×3")]
    photo = im.sample_image("china")
    if not args.quick:
        images.append((photo, "china 427×640×3"))
    print("filters …", flush=True)
    filter_rows = []
    for img, label in images if args.part != "compression" else []:
        filter_rows += bench_filters(img, label, repeat)

    print("compression …", flush=True)
    other_rows = []
    if args.part == "filters":
        comp_rows = []
    elif args.quick:
        comp_rows = bench_compression(["china"], [0.1], max_size=160)
    else:
        comp_rows = bench_compression(
            ["china", "flower", "astronaut", "coffee", "chelsea", "rocket", "camera"],
            [0.05, 0.1, 0.2], max_size=None)
        print("compression, other images at 10 % …", flush=True)
        other_rows = bench_compression(OTHER_IMAGES, [0.1], max_size=1024)

    ftable = markdown_table(
        ["image", "kernel", "dotwise plan", "dotwise", "dotwise NumPy engine",
         "scipy.ndimage.convolve", "scipy 1-D passes", "OpenCV (best)", "scipy / dotwise",
         "OpenCV / dotwise"],
        [[r["image"], r["kernel"], r["plan"], fmt_time(r["timings"]["dotwise"]["median_s"]),
          fmt_time(r["timings"].get("dotwise NumPy engine", {}).get("median_s")),
          fmt_time(r["timings"]["scipy.ndimage"]["median_s"]),
          fmt_time(r["timings"].get("scipy correlate1d ×2", {}).get("median_s")),
          "not installed" if r["opencv_best"] is None else
          f"{fmt_time(r['timings'][r['opencv_best']]['median_s'])} ({r['opencv_best'][7:]})",
          fmt_ratio(r["scipy_over_dotwise"]), fmt_ratio(r["opencv_over_dotwise"])
          + ("" if r["valid"] else " (INVALID)")] for r in filter_rows])
    def compression_table(rows: list[dict]) -> str:
        return markdown_table(
            ["image", "target", "block PSNR / SSIM", "JPEG PSNR / SSIM", "block − JPEG",
             "SVD PSNR (rank)"],
            [[r["image"] + ("" if "shape" not in r else " " + "×".join(map(str, r["shape"]))),
              f"{r['target']:.0%}",
              f"{r['block']['psnr']:.2f} / {r['block']['ssim']:.3f} (q {r['block']['quality']:g})",
              f"{r['jpeg']['psnr']:.2f} / {r['jpeg']['ssim']:.3f} (q {r['jpeg']['quality']})",
              f"{r['block_minus_jpeg_db']:+.2f} dB",
              (f"{r['svd']['psnr']:.2f} ({r['svd']['rank']})" if "psnr" in r["svd"]
               else "unreachable")] for r in rows if "error" not in r])

    ctable = compression_table(comp_rows)
    otable = compression_table(other_rows)
    print()
    print(ftable)
    print()
    print(ctable)
    if other_rows:
        print()
        print(otable)
    for label, rows in (("the photos", comp_rows), ("the other images", other_rows)):
        diffs = [r["block_minus_jpeg_db"] for r in rows if r.get("target") == 0.1]
        if diffs:
            print(f"\nblock − JPEG at 10 % on {label}: median {np.median(diffs):+.2f} dB, "
                  f"worst {min(diffs):+.2f} dB over {len(diffs)} images")
    payload = {"machine": machine_info(args.threads, pinned), "quick": args.quick,
               "part": args.part,
               "repeat": repeat, "filters": filter_rows, "compression": comp_rows,
               "compression_other": other_rows,
               "tables": {"filters": ftable, "compression": ctable,
                          "compression_other": otable}}
    if args.part != "all":
        # A partial run keeps the other part's rows from the previous results file.
        other = "compression" if args.part == "filters" else "filters"
        previous_path = results_path("image", args.out, args.quick)
        if previous_path.exists():
            previous = json.loads(previous_path.read_text(encoding="utf-8"))
            if previous.get(other):
                keys = ["filters"] if other == "filters" else ["compression",
                                                               "compression_other"]
                for key in keys:
                    payload[key] = previous.get(key, [])
                    payload["tables"][key] = previous.get("tables", {}).get(key, "")
                payload[f"{other}_machine"] = previous.get(f"{other}_machine",
                                                           previous.get("machine"))
    path = write_results("image", payload, args.out, args.quick)
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()
