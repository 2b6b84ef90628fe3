"""``dotwise filter``, ``dotwise compress``, ``dotwise decompress``: photo filters and codecs."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from ._common import check_out_folder, console, fail, friendly_errors

# flag → (constructor name in dotwise.image, value spec, help)
#   value spec: "" no value, "x" one number (required), "x?" optional number,
#               "x,y?" one or two comma-separated numbers
FILTER_FLAGS: dict[str, tuple[str, str, str]] = {
    "--gaussian": ("gaussian_blur", "x", "SIGMA   Gaussian blur"),
    "--box": ("box_blur", "x", "SIZE    box (mean) blur, odd size"),
    "--sharpen": ("sharpen", "x?", "[AMOUNT] sharpen (default 1)"),
    "--unsharp": ("unsharp_mask", "x,y?", "SIGMA[,AMOUNT] unsharp mask"),
    "--motion": ("motion_blur", "x,y?", "LENGTH[,ANGLE] motion blur (odd length, degrees)"),
    "--edges": ("edges", "", "edge detection kernel"),
    "--laplacian": ("laplacian", "", "Laplacian"),
    "--emboss": ("emboss", "x?", "[STRENGTH] emboss"),
    "--sobel": ("sobel", "", "Sobel gradient magnitude (grey output)"),
    "--kernel": ("custom", "file", "FILE    custom kernel from .npy or .csv (odd size)"),
    "--grayscale": ("grayscale", "", "grey (Rec. 601 luma)"),
    "--sepia": ("sepia", "", "sepia tone"),
    "--invert": ("invert", "", "negative"),
    "--brightness": ("brightness", "x", "FACTOR  scale brightness"),
    "--contrast": ("contrast", "x", "FACTOR  stretch around mid-grey"),
    "--saturation": ("saturation", "x", "FACTOR  0 grey, >1 more vivid"),
}
_INT_ARGS = {"box_blur", "motion_blur"}


def _number(text: str, flag: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{flag} expects a number, got {text!r}") from None


def parse_filter_args(args: list[str]):
    """Turn ``['--gaussian', '2', '--sepia', ...]`` into filter objects, in order."""
    import dotwise.image as im
    from dotwise.cli._common import load_matrix

    filters = []
    i = 0
    while i < len(args):
        token = args[i]
        value = None
        if "=" in token and token.startswith("--"):
            token, value = token.split("=", 1)
        if token not in FILTER_FLAGS:
            known = ", ".join(FILTER_FLAGS)
            raise ValueError(f"unknown filter option {args[i]!r}; filters: {known}")
        ctor_name, spec, _ = FILTER_FLAGS[token]
        ctor = getattr(im, ctor_name)
        nxt = args[i + 1] if i + 1 < len(args) else None
        takes_next = value is None and nxt is not None and not nxt.startswith("--")
        if spec == "":
            if value is not None:
                raise ValueError(f"{token} takes no value, got {value!r}")
            filters.append(ctor())
            i += 1
            continue
        if value is None and takes_next:
            value = nxt
            i += 1
        i += 1
        if value is None:
            if spec.endswith("?"):
                filters.append(ctor())
                continue
            raise ValueError(f"{token} needs a value: {token} {FILTER_FLAGS[token][2].split()[0]}")
        if spec == "file":
            filters.append(ctor(load_matrix(value, token), name=Path(value).stem))
            continue
        nums = [_number(v, token) for v in value.split(",")]
        if len(nums) > spec.count(",") + 1:
            raise ValueError(f"{token} takes at most {spec.count(',') + 1} number(s), got {value!r}")
        if ctor_name in _INT_ARGS:
            if nums[0] != int(nums[0]):
                raise ValueError(f"{token} needs a whole number first, got {value!r}")
            nums[0] = int(nums[0])
        filters.append(ctor(*nums))
    return filters


def _filter_help() -> str:
    """The filter options as an aligned list: ``--flag METAVAR   what it does``."""
    rows = []
    for flag, (_, spec, text) in FILTER_FLAGS.items():
        metavar, _, what = text.partition(" ") if spec else ("", "", text)
        rows.append((f"{flag} {metavar}".rstrip(), what.strip()))
    width = max(len(left) for left, _ in rows) + 2
    return "\n".join(f"[bold]{left}[/bold]{' ' * (width - len(left))}{what}"
                     for left, what in rows)


_FILTER_HELP = _filter_help()


def register(app: typer.Typer) -> None:
    @app.command(
        "filter",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        help=(
            "Apply photo filters to an image, in the order given, fused into as few passes "
            "as possible.\n\nPut IN and OUT first, then the filters; each filter option may "
            "repeat and they run left to right.\n\nExample: [bold]dotwise filter photo.jpg "
            "out.png --gaussian 2 --sharpen 1 --sepia --brightness 1.1[/bold]\n\n"
            "Filters:\n\n" + _FILTER_HELP
        ),
    )
    @friendly_errors
    def filter_cmd(
        ctx: typer.Context,
        src: Path = typer.Argument(..., metavar="IN", help="Input image (PNG, JPEG, …)."),
        dst: Path = typer.Argument(..., metavar="OUT", help="Output image; format from suffix."),
        fuse: bool = typer.Option(True, "--fuse/--no-fuse", help="Fuse consecutive linear filters."),
        mode: str = typer.Option("reflect", "--mode",
                                 help="Boundary: reflect, mirror, nearest, wrap, constant."),
    ) -> None:
        import dotwise.image as im

        filters = parse_filter_args(list(ctx.args))
        if not filters:
            fail("no filters given; e.g. --gaussian 2 --sepia (see dotwise filter --help)")
        check_out_folder(dst, "OUT")
        mode = im.filters.check_mode(mode)  # checked even when no filter uses it
        for f in filters:
            if hasattr(f, "mode"):
                f.mode = mode
        img = im.load_image(src)
        pipe = im.Pipeline(filters)
        run = pipe.fuse() if fuse else pipe
        start = time.perf_counter()
        with console.status(f"filtering {img.shape[1]}×{img.shape[0]} …"):
            out = run(img)
        seconds = time.perf_counter() - start
        im.save_image(dst, out)
        console.print(f"pipeline: {pipe}", highlight=False, markup=False)
        if fuse and run.report is not None:
            console.print(f"fused: {run.report}", highlight=False, markup=False)
        console.print(f"wrote [bold]{dst}[/bold] ({out.shape[1]}×{out.shape[0]}) in "
                      f"{seconds:.2f} s", highlight=False)

    @app.command("compress")
    @friendly_errors
    def compress_cmd(
        src: Path = typer.Argument(..., metavar="IN", help="Input image."),
        dst: Path = typer.Argument(None, metavar="[OUT.dwz]", help="Compressed file to write."),
        ratio: float = typer.Option(None, "--ratio", help="Target size / raw size, in (0, 1] "
                                    "(default: block quality 75; svd ratio 0.1)."),
        method: str = typer.Option("block", "--method", help="block (DCT codec) or svd."),
        quality: float = typer.Option(None, "--quality", help="block: quality 1–100 instead of --ratio."),
        rank: int = typer.Option(None, "--rank", help="svd: rank instead of --ratio."),
        report: Path = typer.Option(None, "--report",
                                    help="Write a PSNR-vs-size plot (block, SVD, JPEG) here."),
        ratios: str = typer.Option("0.05,0.1,0.2", "--ratios", help="Ratios for --report."),
    ) -> None:
        """Compress an image to a .dwz file, or compare codecs with --report.

        Examples:

        [bold]dotwise compress photo.png photo.dwz --ratio 0.1[/bold]   (10 % of the raw size)

        [bold]dotwise decompress photo.dwz back.png[/bold]

        [bold]dotwise compress photo.png --report report.png[/bold]   (PSNR against size for
        the block codec, SVD and Pillow JPEG at the same byte budgets)
        """
        import dotwise.image as im

        if method not in ("block", "svd"):
            fail(f"--method must be 'block' or 'svd', got {method!r}")
        if dst is None and report is None:
            fail("give OUT.dwz to write, or --report FILE.png to compare codecs")
        if dst is not None:
            check_out_folder(dst, "OUT.dwz")
        if report is not None:
            check_out_folder(report, "--report")
        img = im.load_image(src)
        if img.ndim == 3 and img.shape[2] == 4:
            img = img[:, :, :3]
        if dst is not None:
            if quality is not None and ratio is not None:
                fail("give --quality or --ratio, not both")
            start = time.perf_counter()
            with console.status("compressing …"):
                if method == "block":
                    c = (im.block_compress(img, quality) if ratio is None
                         else im.block_compress(img, ratio=ratio))
                else:
                    c = (im.svd_compress(img, rank) if rank is not None
                         else im.svd_compress(img, ratio=ratio if ratio is not None else 0.1))
            seconds = time.perf_counter() - start
            im.save_compressed(dst, c)
            dec = c.decompress()
            console.print(
                f"wrote [bold]{dst}[/bold]: {c.nbytes:,} bytes = {c.ratio:.2%} of raw "
                f"({c.raw_nbytes:,}); PSNR {im.psnr(img, dec):.2f} dB, SSIM "
                f"{im.ssim(img, dec) if min(img.shape[:2]) >= 11 else float('nan'):.4f}; "
                f"{', '.join(f'{k}={v}' for k, v in c.params.items() if k != 'energy')}; "
                f"{seconds:.2f} s", highlight=False)
        if report is not None:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
            from rich.table import Table

            from dotwise._io import atomic_open

            try:
                rs = [float(r) for r in ratios.split(",") if r.strip()]
            except ValueError:
                fail(f"--ratios must be comma-separated numbers, got {ratios!r}")
            with console.status("comparing codecs …") as status:
                rep = im.compression_report(img, rs, progress=lambda s: status.update(s))
            table = Table(title=f"{src.name}: PSNR at equal size")
            for col in ("method", "target", "actual", "bytes", "PSNR dB", "SSIM", "setting"):
                table.add_column(col, justify="left" if col in ("method", "setting") else "right")
            for r in rep.rows:
                table.add_row(r["method"], f"{r['target_ratio']:.0%}", f"{r['ratio']:.2%}",
                              f"{r['nbytes']:,}", f"{r['psnr']:.2f}", f"{r['ssim']:.4f}",
                              r["setting"])
            console.print(table)
            fig = rep.plot()
            with atomic_open(report, "wb") as fh:
                fig.savefig(fh, format=report.suffix.lstrip(".") or "png", dpi=110,
                            bbox_inches="tight")
            plt.close(fig)
            console.print(f"plot: [bold]{report}[/bold]", highlight=False)

    @app.command("decompress")
    @friendly_errors
    def decompress_cmd(
        src: Path = typer.Argument(..., metavar="IN.dwz", help="File written by dotwise compress."),
        dst: Path = typer.Argument(..., metavar="OUT", help="Image to write (PNG recommended)."),
    ) -> None:
        """Decode a .dwz file to an ordinary image.

        Example: [bold]dotwise decompress photo.dwz photo.png[/bold]
        """
        import dotwise.image as im

        check_out_folder(dst, "OUT")
        c = im.load_compressed(src)
        im.save_image(dst, c.decompress())
        h, w, _ = c.shape
        console.print(f"wrote [bold]{dst}[/bold] ({w}×{h}, {c.method}, "
                      f"{', '.join(f'{k}={v}' for k, v in c.params.items())})", highlight=False)
