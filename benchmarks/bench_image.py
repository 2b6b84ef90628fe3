"""Photo filters: ``dotwise.image.convolve`` against OpenCV and scipy.ndimage (the fair protocol).

Kernels: a Gaussian σ = 3 (25 × 25, separable), a 5 × 5 box and a dense 3 × 3 (random,
seeded), boundary ``reflect`` everywhere (OpenCV ``BORDER_REFLECT``), on a 2048 × 2048 × 3
float32 image (seeded uniform noise) and on the 427 × 640 × 3 sample photo
(``dotwise.image.sample_image("china")``, float32 in [0, 1]).

Every peer runs in its fastest documented form, all timed interleaved in the same
``measure`` (each round in a new, seeded order, so that no one always runs right after
the same slow, memory-heavy call), and each row names the one that won:

* OpenCV (``cv2.setNumThreads(n)``): the fastest of ``GaussianBlur`` / ``blur`` /
  ``sepFilter2D`` / ``filter2D`` that computes this kernel;
* scipy.ndimage: the fastest of ``convolve``, two ``correlate1d`` passes (rank-1
  kernels), ``gaussian_filter`` and ``uniform_filter`` where they apply;
* dotwise's own NumPy/BLAS engine (what runs without the compiled loops, or with
  ``DOTWISE_PURE_NUMPY=1``): the row "dotwise NumPy engine" is NumPy-engine time /
  compiled time, so above 1 the compiled loops are faster on this CPU.

Each row records the vector ISA the compiled loops picked (``dotwise_isa``) beside the
CPU's own (``machine.isa``). Every answer is checked against scipy's float64 result
(max abs difference ≤ 1e-4 on images in [0, 1]); a contender that differs is invalid.

The block codec is measured by ``bench_codec.py``.

Usage::

    python benchmarks/bench_image.py            # full run, 1 and 2 threads (1–3 minutes)
    python benchmarks/bench_image.py --quick    # seconds; results/image.quick.json
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h

SEED = 20261201
TOLERANCE = 1e-4
SIGMA, BOX = 3.0, 5


def kernels() -> dict[str, np.ndarray]:
    """The three benchmarked kernels (convolution form)."""
    from dotwise.image import box_blur, gaussian_blur

    return {
        f"Gaussian σ={SIGMA:g} (25×25)": gaussian_blur(SIGMA).kernel,
        f"box {BOX}×{BOX}": box_blur(BOX).kernel,
        "dense 3×3": np.random.default_rng(SEED).standard_normal((3, 3)),
    }


def opencv_contenders(cv2, img: np.ndarray, name: str, k: np.ndarray) -> dict:
    """Every OpenCV call that computes ``convolve(img, k, "reflect")``."""
    border = cv2.BORDER_REFLECT
    flipped = np.ascontiguousarray(k[::-1, ::-1].astype(np.float32))
    out = {"filter2D": lambda: cv2.filter2D(img, -1, flipped, borderType=border)}
    u, s, vt = np.linalg.svd(k)
    if s[1] <= 1e-7 * s[0]:                        # rank 1: col ⊗ row
        col = (u[::-1, 0] * np.sqrt(s[0])).astype(np.float32)
        row = (vt[0, ::-1] * np.sqrt(s[0])).astype(np.float32)
        out["sepFilter2D"] = lambda: cv2.sepFilter2D(img, -1, row, col, borderType=border)
    if name.startswith("Gaussian"):
        size = k.shape[0]
        out["GaussianBlur"] = lambda: cv2.GaussianBlur(img, (size, size), SIGMA, sigmaY=SIGMA,
                                                       borderType=border)
    if name.startswith("box"):
        out["blur"] = lambda: cv2.blur(img, (BOX, BOX), borderType=border)
    return out


def scipy_contenders(ndi, img: np.ndarray, name: str, k: np.ndarray) -> dict:
    """scipy.ndimage's ways to compute the same filter (channel axis left alone)."""
    k32 = k.astype(np.float32)
    out = {"convolve": lambda: ndi.convolve(img, k32[:, :, None], mode="reflect")}
    u, s, vt = np.linalg.svd(k)
    if s[1] <= 1e-7 * s[0]:
        col = (u[::-1, 0] * np.sqrt(s[0])).astype(np.float32)
        row = (vt[0, ::-1] * np.sqrt(s[0])).astype(np.float32)
        out["correlate1d ×2"] = lambda: ndi.correlate1d(
            ndi.correlate1d(img, col, axis=0, mode="reflect"), row, axis=1, mode="reflect")
        if k.shape[0] > 9:          # a 25×25 direct convolve is seconds: not a contender
            del out["convolve"]
    if name.startswith("Gaussian"):
        out["gaussian_filter"] = lambda: ndi.gaussian_filter(img, (SIGMA, SIGMA, 0),
                                                             mode="reflect")
    if name.startswith("box"):
        out["uniform_filter"] = lambda: ndi.uniform_filter(img, (BOX, BOX, 1), mode="reflect")
    return out


def reference_result(ndi, img: np.ndarray, k: np.ndarray) -> np.ndarray:
    """scipy's float64 answer: two 1-D passes for a rank-1 kernel (a direct 25 × 25
    float64 convolution of the large image would take longer than the whole benchmark)."""
    x = img.astype(np.float64)
    u, s, vt = np.linalg.svd(k)
    if s[1] <= 1e-12 * s[0]:
        col, row = u[::-1, 0] * np.sqrt(s[0]), vt[0, ::-1] * np.sqrt(s[0])
        return ndi.correlate1d(ndi.correlate1d(x, col, axis=0, mode="reflect"), row, axis=1,
                               mode="reflect")
    return ndi.convolve(x, k[:, :, None], mode="reflect")


def images(quick: bool) -> list[tuple[str, np.ndarray]]:
    import dotwise.image as im

    side = 256 if quick else 2048
    noise = np.random.default_rng(SEED).random((side, side, 3), dtype=np.float32)
    photo = im.sample_image("china", max_size=160 if quick else None).astype(np.float32)
    return [(f"{side}×{side}×3 float32", noise),
            (f"photo {photo.shape[0]}×{photo.shape[1]}×3 float32", photo)]


def run(args, threads: int) -> list[dict]:
    import scipy.ndimage as ndi

    import dotwise.image as im
    from dotwise import _native
    from dotwise.image import _engine

    cv2 = h.optional("cv2")
    isa = _native.isa()
    repeat = 3 if args.quick else max(args.repeat or 7, 5)
    rows: list[dict] = []
    for label, img in images(args.quick):
        for name, k in kernels().items():
            reference = reference_result(ndi, img, k)
            plan = im.kernel_plan(k[::-1, ::-1])

            def numpy_engine(img=img, k=k):
                previous = _engine.use_compiled(False)
                try:
                    return im.convolve(img, k, "reflect")
                finally:
                    _engine.use_compiled(previous)

            contenders = {h.DOTWISE: lambda img=img, k=k: im.convolve(img, k, "reflect")}
            if plan["engine"] == "compiled":
                contenders["dotwise NumPy engine"] = numpy_engine
            peers: dict[str, list[str]] = {"OpenCV": [], "scipy.ndimage": []}
            if cv2 is not None:
                for mode, fn in opencv_contenders(cv2, img, name, k).items():
                    contenders[f"cv2.{mode}"] = fn
                    peers["OpenCV"].append(f"cv2.{mode}")
            for mode, fn in scipy_contenders(ndi, img, name, k).items():
                contenders[f"ndi.{mode}"] = fn
                peers["scipy.ndimage"].append(f"ndi.{mode}")
            errors: dict[str, float] = {}

            def check(who, out, reference=reference, errors=errors):
                err = float(np.max(np.abs(np.asarray(out, dtype=np.float64) - reference)))
                errors[who] = err
                return err <= TOLERANCE, f"max |diff| vs scipy float64 {err:.1e}"

            # the photo's calls take about a millisecond on data that fits in cache, and the
            # one that follows a memory-heavy call starts cold (measured: dotwise 0.54 ms
            # after cv2.filter2D, 0.73 ms after ndi.convolve): shuffle the order each round
            t, load = h.measure(contenders, threads=threads, check=check, shuffle=True,
                                repeat=repeat if args.quick else max(repeat, 2 * len(contenders)),
                                retries=0 if args.quick else 2)
            ours = t[h.DOTWISE]
            case = f"{label}, {name}"
            common = {**load, "image": label, "kernel": name, "threads": threads,
                      "dotwise_isa": isa, "dotwise_plan": f"{plan['method']} (rank "
                      f"{plan['rank']}, {plan['engine']} engine)",
                      "dotwise": ours.as_dict(), "max_abs_error_dotwise": errors[h.DOTWISE]}
            for peer, names in peers.items():
                if not names:
                    rows.append({**common, "case": f"{case} vs {peer}", "peer": peer,
                                 "mode": "not installed",
                                 "ratio": None, "valid": False, "note": f"{peer} not installed"})
                    continue
                best = min((t[n] for n in names), key=lambda x: x.median)
                rows.append({**common, "case": f"{case} vs {peer}", "peer": peer,
                             "mode": best.name,
                             "peer_timing": best.as_dict(),
                             "all_modes": {n: t[n].as_dict() for n in names},
                             "ratio": h.ratio(best, ours),
                             "valid": ours.valid and all(t[n].valid for n in names)})
            if "dotwise NumPy engine" in t:
                np_t = t["dotwise NumPy engine"]
                rows.append({**common, "case": f"{case}, compiled vs NumPy engine",
                             "peer": "dotwise NumPy engine",
                             "mode": f"NumPy/BLAS plans vs the compiled {isa} loops",
                             "peer_timing": np_t.as_dict(), "ratio": h.ratio(np_t, ours),
                             "valid": ours.valid and np_t.valid})
            summary = ", ".join(f"{r['peer']} {h.fmt_ratio(r['ratio'])} ({r['mode']})"
                                for r in rows[-len(peers) - ("dotwise NumPy engine" in t):])
            print(f"  [{threads} thr] {case}: dotwise {h.fmt_time(ours.median)}; {summary}"
                  f"{' NOISY' if load['noisy'] else ''}", flush=True)
    return rows


if __name__ == "__main__":
    h.protocol_main(__file__, "image", __doc__.splitlines()[0], run)
