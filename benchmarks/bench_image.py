"""Photo filters vs scipy.ndimage and OpenCV.

Filters: ``dotwise.image.convolve`` against ``scipy.ndimage.convolve`` and OpenCV
``filter2D`` / ``sepFilter2D`` (same boundary rule: reflect = BORDER_REFLECT) on a
2048×2048×3 float32 image and on a sample photo, for a dense 3×3 and 5×5 kernel, a
Gaussian σ = 3 (25×25, separable) and a 31×31 box. Every answer is checked against
scipy's (max abs difference ≤ 1e-4) while timing.

The block codec is measured by ``bench_codec.py``.

    python benchmarks/bench_image.py            # full run (a few minutes)
    python benchmarks/bench_image.py --quick    # seconds
"""

from __future__ import annotations

import sys
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


def main() -> None:
    p = parser(__doc__.splitlines()[0])
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
    for img, label in images:
        filter_rows += bench_filters(img, label, repeat)

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
    print()
    print(ftable)
    payload = {"machine": machine_info(args.threads, pinned), "quick": args.quick,
               "repeat": repeat, "filters": filter_rows, "tables": {"filters": ftable}}
    path = write_results("image", payload, args.out, args.quick)
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()
