"""Block codec: PSNR at a byte budget against JPEG (at its best) and WebP, and its speed.

Quality (the same files at every thread count, so measured once, in the 1-thread run):
at 2 %, 5 % and 10 % of the raw 8-bit size, on the 13 scikit-image pictures the codec was
never tuned on (textures, text, line art, astronomy, microscopy, a colour wheel; longer
side at most 1024), each contender's file at most the budget:

* dotwise ``block_compress(img, ratio=r)`` (it fits the step to the budget itself);
* Pillow JPEG (libjpeg-turbo) with ``optimize=True`` and the better (by PSNR) of 4:2:0 and
  4:4:4 chroma, integer quality bisected to the largest that fits;
* Pillow WebP with ``method=6`` (its slowest, best), quality bisected the same way; a
  budget below what quality 0 reaches counts as "unreachable" and the image is left out
  of WebP's median (the row says how many).

A row per budget and anchor gives the medians over the images, the median of the
per-image differences and the worst image. These rows carry no time ratio.

Speed (at 1 and 2 threads, interleaved, medians): encoding to the 5 % budget (dotwise's
search against JPEG's bisection, both chroma modes), one encode at a fixed setting
(dotwise at the step its search found, JPEG at the quality its search found), and
decoding (dotwise ``decompress`` against Pillow's JPEG and WebP decoders, to a NumPy
array), on retina (1024×1024×3) and moon (512×512 grey). A timing row is invalid if a
contender's file misses the budget.

Usage::

    python benchmarks/bench_codec.py            # full run, 1 and 2 threads (about 3–4 minutes)
    python benchmarks/bench_codec.py --quick    # seconds; results/codec.quick.json
"""

from __future__ import annotations

import io
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h

#: The pictures the codec was not tuned on (its constants were chosen on china, flower,
#: astronaut, coffee, chelsea, rocket and camera).
TEST_IMAGES = ["cat", "clock", "coins", "moon", "brick", "grass", "gravel", "page", "text",
               "hubble_deep_field", "immunohistochemistry", "retina", "colorwheel"]
BUDGETS = (0.02, 0.05, 0.10)
JPEG_MODE = "optimize=True, better of 4:2:0 / 4:4:4, quality bisected to the budget"
WEBP_MODE = "method=6, quality bisected to the budget"


def _u8(img: np.ndarray) -> np.ndarray:
    u8 = (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)
    return u8[:, :, 0] if u8.ndim == 3 and u8.shape[2] == 1 else u8


class Pillow:
    """JPEG and WebP encodes of one image, each (format, setting) encoded once."""

    def __init__(self, img: np.ndarray) -> None:
        from PIL import Image

        self.img = img
        self.pil = Image.fromarray(_u8(img))
        self.cache: dict[tuple, bytes] = {}

    def encode(self, fmt: str, quality: int, subsampling: int = 0) -> bytes:
        key = (fmt, quality, subsampling)
        if key not in self.cache:
            self.cache[key] = encode(self.pil, fmt, quality, subsampling)
        return self.cache[key]

    def best(self, fmt: str, budget: int) -> tuple[bytes | None, dict]:
        """The file at the largest quality that fits (JPEG: the better chroma mode)."""
        modes = ([2, 0] if self.pil.mode == "RGB" else [0]) if fmt == "JPEG" else [0]
        lowest = 1 if fmt == "JPEG" else 0
        best, info = None, {}
        for mode in modes:
            lo, hi = lowest, 100
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if len(self.encode(fmt, mid, mode)) <= budget:
                    lo = mid
                else:
                    hi = mid - 1
            data = self.encode(fmt, lo, mode)
            if len(data) > budget:
                continue
            value = psnr_of(self.img, decode(data, self.img))
            if best is None or value > info["psnr"]:
                best = data
                info = {"psnr": value, "quality": lo, "bytes": len(data),
                        "subsampling": {2: "4:2:0", 0: "4:4:4"}[mode] if fmt == "JPEG" else None}
        return best, info


def encode(pil, fmt: str, quality: int, subsampling: int) -> bytes:
    buf = io.BytesIO()
    if fmt == "JPEG":
        pil.save(buf, format="JPEG", quality=quality, subsampling=subsampling, optimize=True)
    else:
        pil.save(buf, format="WEBP", quality=quality, method=6)
    return buf.getvalue()


def decode(data: bytes, like: np.ndarray) -> np.ndarray:
    from PIL import Image

    im = Image.open(io.BytesIO(data))
    if like.ndim == 2 or like.shape[2] == 1:
        im = im.convert("L")
    else:
        im = im.convert("RGB")
    return np.asarray(im, dtype=np.float32) / np.float32(255.0)


def psnr_of(img: np.ndarray, dec: np.ndarray) -> float:
    from dotwise.image import psnr

    return float(psnr(img.reshape(dec.shape), dec))


def quality_rows(images: dict[str, np.ndarray], budgets) -> list[dict]:
    import dotwise.image as im

    per: dict[float, list[dict]] = {r: [] for r in budgets}
    for name, img in images.items():
        pil = Pillow(img)
        for r in budgets:
            budget = int(r * img.size)
            rec = {"image": name, "shape": list(img.shape), "budget": budget}
            try:
                c = im.block_compress(img, ratio=r)
                rec["dotwise"] = {"psnr": psnr_of(img, c.decompress()), "bytes": c.nbytes,
                                  "step": c.params["step"],
                                  "subsampling": c.params["subsampling"]}
            except ValueError as exc:
                rec["dotwise"] = {"error": str(exc)}
            for fmt in ("JPEG", "WEBP"):
                data, info = pil.best(fmt, budget)
                rec[fmt.lower()] = info if data is not None else {"error": "unreachable"}
            per[r].append(rec)
            print(f"  {name} {r:.0%}: dotwise {rec['dotwise'].get('psnr', float('nan')):.2f}"
                  f" JPEG {rec['jpeg'].get('psnr', float('nan')):.2f}"
                  f" WebP {rec['webp'].get('psnr', float('nan')):.2f} dB", flush=True)
    rows = []
    for r, recs in per.items():
        for peer, key, mode in (("Pillow JPEG", "jpeg", JPEG_MODE),
                                ("Pillow WebP", "webp", WEBP_MODE)):
            both = [x for x in recs if "psnr" in x["dotwise"] and "psnr" in x[key]]
            ours = [x["dotwise"]["psnr"] for x in both]
            theirs = [x[key]["psnr"] for x in both]
            diffs = [a - b for a, b in zip(ours, theirs, strict=True)]
            within = all(x["dotwise"]["bytes"] <= x["budget"] and x[key]["bytes"] <= x["budget"]
                         for x in both)
            worst = min(both, key=lambda x: x["dotwise"]["psnr"] - x[key]["psnr"]) if both \
                else None
            row = {
                "case": f"PSNR at {r:.0%} of raw size, median over {len(recs)} unseen images, "
                        f"vs {peer.split()[1]}",
                "peer": peer, "mode": mode, "kind": "quality", "budget_ratio": r,
                "ratio": None, "valid": bool(both) and within,
                "images": len(recs), "compared": len(both),
                "median_psnr_dotwise": statistics.median(ours) if ours else None,
                "median_psnr_peer": statistics.median(theirs) if theirs else None,
                "median_of_differences_db": statistics.median(diffs) if diffs else None,
                "worst_image": None if worst is None else worst["image"],
                "worst_difference_db": min(diffs) if diffs else None,
                "per_image": [{"image": x["image"], "shape": x["shape"], "budget": x["budget"],
                               "dotwise": x["dotwise"], "peer": x[key]} for x in recs],
            }
            if ours:
                row["difference_of_medians_db"] = (row["median_psnr_dotwise"]
                                                   - row["median_psnr_peer"])
                row["note"] = (
                    f"{r:.0%} budget, {peer}: median PSNR dotwise "
                    f"{row['median_psnr_dotwise']:.2f} dB, {peer.split()[1]} "
                    f"{row['median_psnr_peer']:.2f} dB (difference of medians "
                    f"{row['difference_of_medians_db']:+.2f} dB, median per-image difference "
                    f"{row['median_of_differences_db']:+.2f} dB, worst {worst['image']} "
                    f"{row['worst_difference_db']:+.2f} dB"
                    + (f"; {len(recs) - len(both)} image(s) unreachable for the peer"
                       if len(both) < len(recs) else "") + ")")
            rows.append(row)
    print()
    print(h.markdown_table(
        ["budget", "anchor", "images", "median PSNR dotwise", "median PSNR anchor",
         "dotwise − anchor (medians)", "median of per-image differences", "worst image"],
        [[f"{r['budget_ratio']:.0%}", r["peer"], f"{r['compared']} of {r['images']}",
          _db(r["median_psnr_dotwise"]), _db(r["median_psnr_peer"]),
          _db(r.get("difference_of_medians_db"), "+"), _db(r["median_of_differences_db"], "+"),
          f"{r['worst_image']} {_db(r['worst_difference_db'], '+')}"] for r in rows]))
    print(flush=True)
    return rows


def _db(x, sign: str = "") -> str:
    return "—" if x is None else f"{x:{sign}.2f} dB"


def timing_rows(images: dict[str, np.ndarray], threads: int, repeat: int, retries: int,
                r: float = 0.05) -> list[dict]:
    import dotwise.image as im

    rows = []
    for name, img in images.items():
        budget = int(r * img.size)
        pil = Pillow(img)
        label = f"{name} {'×'.join(map(str, img.shape))}"
        c = im.block_compress(img, ratio=r)
        jpeg, jinfo = pil.best("JPEG", budget)
        webp, _ = pil.best("WEBP", budget)
        if jpeg is None:
            rows.append({"case": f"encode to a {r:.0%} budget, {name}", "peer": "Pillow JPEG",
                         "mode": JPEG_MODE, "kind": "time", "ratio": None, "valid": False,
                         "note": f"JPEG cannot reach {budget} bytes on {name}"})
            continue
        mode = {"4:2:0": 2, "4:4:4": 0}[jinfo["subsampling"]] if img.ndim == 3 else 0
        q = jinfo["quality"]

        def fits(who, out, budget=budget):
            if out is None:
                return False, f"no file fits the budget of {budget} bytes"
            size = len(out) if isinstance(out, bytes) else out.nbytes
            return size <= budget, f"{size} bytes (budget {budget})"

        cases = [
            (f"encode to a {r:.0%} budget, {label}", "Pillow JPEG", JPEG_MODE, {
                h.DOTWISE: lambda img=img: im.block_compress(img, ratio=r),
                "peer": lambda pil=pil, budget=budget: Pillow(pil.img).best("JPEG", budget)[0],
            }, fits),
            (f"one encode at a fixed setting, {label}", "Pillow JPEG",
             f"optimize=True, quality {q}, {jinfo['subsampling'] or '4:4:4'}", {
                 h.DOTWISE: lambda img=img, s=c.params["step"], sub=c.params["subsampling"]:
                 _encode_at_step(img, s, sub),
                 "peer": lambda pil=pil, q=q, mode=mode: encode(pil.pil, "JPEG", q, mode),
             }, fits),
            (f"decode, {label}, vs JPEG", "Pillow JPEG", "Image.open + convert to an array", {
                h.DOTWISE: lambda c=c: c.decompress(),
                "peer": lambda data=jpeg, img=img: decode(data, img),
            }, None),
        ]
        if webp is not None:
            cases.append((f"decode, {label}, vs WebP", "Pillow WebP",
                          "Image.open + convert to an array",
                          {h.DOTWISE: lambda c=c: c.decompress(),
                           "peer": lambda data=webp, img=img: decode(data, img)}, None))
        for case, peer, peer_mode, contenders, check in cases:
            t, load = h.measure(contenders, threads=threads, repeat=repeat, check=check,
                                retries=retries)
            ours, theirs = t[h.DOTWISE], t["peer"]
            rows.append({"case": case, "peer": peer, "mode": peer_mode, "kind": "time",
                         **load, "dotwise": ours.as_dict(), "peer_timing": theirs.as_dict(),
                         "ratio": h.ratio(theirs, ours),
                         "valid": ours.valid and theirs.valid})
            print(f"  [{threads} thr] {case} vs {peer}: dotwise {h.fmt_time(ours.median)} "
                  f"peer {h.fmt_time(theirs.median)} ratio {h.fmt_ratio(rows[-1]['ratio'])}",
                  flush=True)
    return rows


def _encode_at_step(img: np.ndarray, step: float, subsampling: str):
    """dotwise's single encode at a given step (what its budget search repeats)."""
    from dotwise.image import block_codec as bc

    arr = bc.check_img(img)
    fitter = bc._Fitter(arr, arr.shape, subsampling == "4:2:0", "dct", None)
    return fitter.finish(step)[0]


def add_args(p) -> None:
    p.add_argument("--quality-threads", type=int, default=1,
                   help="the thread count whose run also measures PSNR (the files do not "
                        "depend on it; default 1)")


def run(args, threads: int) -> list[dict]:
    h.optional("PIL") or sys.exit("bench_codec needs Pillow")
    import dotwise.image as im

    if args.quick:
        names, max_size, budgets, timed = ["coins", "cat"], 96, (0.05, 0.10), {"cat": 96}
        repeat, retries = 3, 0
    else:
        names, max_size, budgets = TEST_IMAGES, 1024, BUDGETS
        timed = {"retina": 1024, "moon": 512}
        repeat, retries = args.repeat or 5, 2
    rows = []
    if threads == args.quality_threads:
        images = {n: im.sample_image(n, max_size=max_size) for n in names}
        rows += quality_rows(images, budgets)
    rows += timing_rows({n: im.sample_image(n, max_size=s) for n, s in timed.items()},
                        threads, repeat, retries)
    return rows


if __name__ == "__main__":
    h.protocol_main(__file__, "codec", __doc__.splitlines()[0], run, add_args=add_args)
