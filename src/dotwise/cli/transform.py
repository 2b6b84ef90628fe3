"""``dotwise transform``: build a chain of 2-D transforms step by step and apply it to points."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ._common import console, fail, friendly_errors

_STEPS = ("--rotate", "--scale", "--shear", "--reflect", "--translate")
_CHAIN_HELP = """
[bold]Steps[/bold], applied in the order written (each multiplies M from the left):

  --rotate DEG [--about X,Y]       counter-clockwise, about a point
  --scale S|SX,SY [--about X,Y]    uniform or per axis, about a point
  --shear KX[,KY]                  x' = x + KX·y,  y' = KY·x + y
  --reflect x|y|DEG                mirror in an axis or a line at DEG
  --translate TX,TY                move by (TX, TY)
"""


def _numbers(text: str, flag: str, count: tuple[int, ...]) -> list[float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise ValueError(f"{flag} expects {' or '.join(map(str, count))} comma-separated "
                         f"number(s), got {text!r}") from None
    if len(values) not in count:
        raise ValueError(f"{flag} expects {' or '.join(map(str, count))} comma-separated "
                         f"number(s), got {text!r}")
    return values


def parse_chain(tokens: list[str]) -> list[tuple[str, object]]:
    """Turn ``--rotate 30 --about 1,2 --scale 2 …`` into (label, 3×3 matrix) pairs, in order."""
    from dotwise.linalg import transform2d as t2

    steps: list[tuple[str, object]] = []
    i = 0
    while i < len(tokens):
        flag = tokens[i]
        if "=" in flag and flag.startswith("--"):
            flag, value = flag.split("=", 1)
            i += 1
        else:
            value = None
        if flag == "--about":
            raise ValueError("--about must follow a --rotate or --scale step")
        if flag not in _STEPS:
            raise ValueError(f"unknown option {flag!r}; the steps are "
                             f"{', '.join(_STEPS)} (with --about X,Y after --rotate/--scale)")
        if value is None:
            if i + 1 >= len(tokens):
                raise ValueError(f"{flag} needs a value")
            value = tokens[i + 1]
            i += 2
        about = None
        if i < len(tokens) and tokens[i].split("=")[0] == "--about":
            if flag not in ("--rotate", "--scale"):
                raise ValueError(f"--about applies to --rotate and --scale, not to {flag}")
            if "=" in tokens[i]:
                about_text = tokens[i].split("=", 1)[1]
                i += 1
            else:
                if i + 1 >= len(tokens):
                    raise ValueError("--about needs a point X,Y")
                about_text = tokens[i + 1]
                i += 2
            about = _numbers(about_text, "--about", (2,))
        where = f" about ({about[0]:g}, {about[1]:g})" if about else ""
        if flag == "--rotate":
            (deg,) = _numbers(value, flag, (1,))
            steps.append((f"rotate {deg:g}°{where}", t2.rotation(deg, about=about)))
        elif flag == "--scale":
            s = _numbers(value, flag, (1, 2))
            label = f"scale ×{s[0]:g}" if len(s) == 1 else f"scale ×({s[0]:g}, {s[1]:g})"
            steps.append((label + where, t2.scaling(s[0], s[-1], about=about)))
        elif flag == "--shear":
            k = _numbers(value, flag, (1, 2))
            ky = k[1] if len(k) == 2 else 0.0
            steps.append((f"shear ({k[0]:g}, {ky:g})", t2.shear(k[0], ky)))
        elif flag == "--reflect":
            axis = value if value in ("x", "y") else _numbers(value, flag, (1,))[0]
            name = f"{axis} axis" if isinstance(axis, str) else f"line at {axis:g}°"
            steps.append((f"reflect in the {name}", t2.reflection(axis)))
        elif flag == "--translate":
            tx, ty = _numbers(value, flag, (2,))
            steps.append((f"translate ({tx:g}, {ty:g})", t2.translation(tx, ty)))
    return steps


def _matrix_text(M) -> list[str]:
    return ["[" + "  ".join(f"{v:9.4f}" for v in row) + " ]" for row in M]


def register(app: typer.Typer) -> None:
    @app.command("transform", context_settings={"allow_extra_args": True,
                                                "ignore_unknown_options": True},
                 epilog=_CHAIN_HELP)
    @friendly_errors
    def transform_cmd(  # POINTS.csv and the steps arrive in ctx.args, in their order
        ctx: typer.Context,
        out: Path = typer.Option(None, "--out", "-o",
                                 help="Write the transformed points to this CSV (or .npy)."),
        as_json: bool = typer.Option(False, "--json",
                                     help="Print the steps, the matrix and the points as JSON."),
    ) -> None:
        """Compose 2-D transforms as 3×3 homogeneous matrices and apply them to points.

        Each step is one matrix; the chain is their product, built right to left
        (the newest step multiplies from the left), then applied to every point
        in one pass: p' = M (x, y, 1)ᵀ. POINTS.csv (first, optional) holds one
        x,y pair per row (.csv or .npy of shape (n, 2)); without it the unit
        square's corners are moved.

        Example: [bold]dotwise transform shape.csv --rotate 30 --about 1,2 --scale 2
        --translate 3,0 --out moved.csv[/bold]
        """
        import numpy as np

        from dotwise.linalg import inspect
        from dotwise.linalg import transform2d as t2

        tokens = list(ctx.args)
        points = None
        if tokens and not tokens[0].startswith("--"):
            points = Path(tokens.pop(0))
        steps = parse_chain(tokens)
        if not steps:
            fail("give at least one step: --rotate DEG, --scale S, --shear KX, --reflect x|y|DEG "
                 "or --translate TX,TY (see --help)")
        chain = t2.compose_steps(*steps)
        M = chain[-1].product
        if points is None:
            P = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
            source = "the unit square"
        else:
            from ._common import load_matrix

            P = load_matrix(points, "POINTS")
            if P.ndim == 1 and P.size == 2:
                P = P[None, :]
            if P.ndim != 2 or P.shape[1] != 2:
                fail(f"POINTS: expected one x,y pair per row (shape (n, 2)), got shape {P.shape}")
            source = str(points)
        moved = t2.apply(P, M)
        if out is not None:
            _write_points(out, moved)
        det = float(inspect(M[:2, :2], eigen=False).det)
        if as_json:
            typer.echo(json.dumps({
                "steps": [{"name": s.name, "matrix": s.matrix.tolist(),
                           "product": s.product.tolist()} for s in chain],
                "matrix": M.tolist(), "determinant": det,
                "points": None if out is not None and len(moved) > 1000 else moved.tolist(),
            }, indent=2))
            return
        product_names: list[str] = []
        for n, s in enumerate(chain, start=1):
            product_names.insert(0, f"S{n}")
            console.print(f"[bold]step {n}: {s.name}[/bold]", highlight=False)
            left, right = _matrix_text(s.matrix), _matrix_text(s.product)
            label = " · ".join(product_names)
            console.print(f"  S{n}{' ' * 34}M = {label}", highlight=False)
            for a, b in zip(left, right, strict=True):
                console.print(f"  {a}    {b}", highlight=False)
        console.print(f"determinant of the 2×2 part: {det:.6g} "
                      f"({'area ×' + format(abs(det), '.4g') if det else 'singular: flattens the plane'}"
                      f"{', orientation reversed' if det < 0 else ''})", highlight=False)
        console.print(f"{len(P)} point(s) from {source}, transformed in one product:",
                      highlight=False)
        for (x, y), (u, v) in list(zip(P, moved, strict=True))[:10]:
            console.print(f"  ({x:g}, {y:g}) → ({u:.6g}, {v:.6g})", highlight=False)
        if len(P) > 10:
            console.print(f"  … {len(P) - 10} more", highlight=False)
        if out is not None:
            console.print(f"points written to [bold]{out}[/bold]")


def _write_points(path: Path, pts) -> None:
    from dotwise._io import atomic_open, save_npy

    if path.suffix.lower() == ".npy":
        save_npy(path, pts)
        return
    with atomic_open(path, "w") as fh:
        fh.write("x,y\n")
        fh.writelines(f"{x:.17g},{y:.17g}\n" for x, y in pts)


__all__ = ["parse_chain", "register"]
