"""2-D transforms: a chain composed once and applied once, against one pass per transform.

The associativity of matrix products, measured: five transforms (shear, scaling,
rotation about a point, reflection, translation) applied to 1 000 000 points.

* ``dotwise`` — ``apply(points, compose(S5, S4, S3, S2, S1))``: four 3×3 products,
  then one pass over the points.
* peer "step by step" — ``apply`` with each matrix in turn (five passes), the same
  library, so the ratio is the gain from composing alone.
* peer "homogeneous NumPy" — the textbook ``np.column_stack([P, 1]) @ M.T`` with the
  composed matrix (builds the ``(n, 3)`` copy).
* peer OpenCV ``cv2.transform`` (the composed 2×3 matrix on an ``(n, 1, 2)`` view,
  ``cv2.setNumThreads`` pinned) and scikit-image ``AffineTransform(matrix=M)`` called
  on the points — when installed.

Every contender's points must match the step-by-step result (rtol 1e-12, or 1e-5
for float32), else the row is invalid.

Usage::

    python benchmarks/bench_transform2d.py          # full run, 1 and 2 threads (~30 s)
    python benchmarks/bench_transform2d.py --quick  # seconds; results/transform2d.quick.json
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h


def _chain():
    import dotwise as dw

    return [dw.shear(0.2), dw.scaling(1.5, 0.5), dw.rotation(25, about=(1, 1)),
            dw.reflection(10), dw.translation(-3, 4)]


def run(args, threads: int) -> list[dict]:
    import dotwise as dw

    n = 20_000 if args.quick else 1_000_000
    repeat = 3 if args.quick else (args.repeat or 7)
    chain = _chain()
    M = dw.compose(*chain[::-1])
    cv2 = h.optional("cv2")
    if cv2 is not None:
        cv2.setNumThreads(threads)
    skt = h.optional("skimage.transform")
    rows = []
    for dtype in (np.float64, np.float32):
        P = np.random.default_rng(7).uniform(-10, 10, (n, 2)).astype(dtype)

        def stepwise(P=P):
            out = P
            for S in chain:
                out = dw.apply_transform(out, S)
            return out

        reference = stepwise().astype(np.float64)
        rtol = 1e-12 if dtype == np.float64 else 1e-5
        atol = 1e-10 if dtype == np.float64 else 1e-3

        def check(who, result, reference=reference, rtol=rtol, atol=atol):
            got = np.asarray(result, dtype=np.float64).reshape(-1, 2)
            err = float(np.max(np.abs(got - reference)))
            return bool(np.allclose(got, reference, rtol=rtol, atol=atol)), f"max |Δ| {err:.1e}"

        peers = {"step by step (5 passes)": ("dotwise apply per transform", stepwise),
                 "homogeneous NumPy": ("np.column_stack([P, 1]) @ M.T, composed M",
                                       lambda P=P: (np.column_stack(
                                           [P, np.ones(len(P), dtype=P.dtype)]) @ M.T)[:, :2])}
        if cv2 is not None:
            M23 = M[:2].astype(dtype)
            peers["OpenCV"] = ("cv2.transform, composed 2×3, (n, 1, 2) view",
                               lambda P=P, M23=M23: cv2.transform(P.reshape(-1, 1, 2), M23))
        if skt is not None:
            aff = skt.AffineTransform(matrix=M)
            peers["scikit-image"] = ("AffineTransform(matrix=M)(points)",
                                     lambda P=P, aff=aff: aff(P))
        ours_fn = lambda P=P: dw.apply_transform(P, M)  # noqa: E731
        for peer, (mode, fn) in peers.items():
            t, load = h.measure({h.DOTWISE: ours_fn, peer: fn}, threads=threads,
                                repeat=repeat, check=check, retries=0 if args.quick else 2)
            ours, other = t[h.DOTWISE], t[peer]
            case = f"{n} points {np.dtype(dtype).name}, 5-transform chain vs {peer}"
            rows.append({"case": case, "peer": peer, "mode": mode, **load,
                         "n_points": n, "dtype": np.dtype(dtype).name,
                         "dotwise": ours.as_dict(), "peer_timing": other.as_dict(),
                         "ratio": h.ratio(other, ours), "valid": ours.valid and other.valid})
            print(f"  [{threads} thr] {case}: dotwise {h.fmt_time(ours.median)} "
                  f"{peer} {h.fmt_time(other.median)} ratio {h.fmt_ratio(rows[-1]['ratio'])}"
                  + ("" if rows[-1]["valid"] else f" INVALID ({other.note})"), flush=True)
        if cv2 is None:
            rows.append({"case": f"{n} points {np.dtype(dtype).name} vs OpenCV", "peer": "OpenCV",
                         "mode": "not installed", "ratio": None, "valid": False})
        if skt is None:
            rows.append({"case": f"{n} points {np.dtype(dtype).name} vs scikit-image",
                         "peer": "scikit-image", "mode": "not installed", "ratio": None,
                         "valid": False})
    return rows


if __name__ == "__main__":
    h.protocol_main(__file__, "transform2d", __doc__.splitlines()[0], run)
