"""The machinery behind ``dotwise tour``: section discovery, context, HTML report."""

from __future__ import annotations

import html
import importlib
import pkgutil
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .._io import atomic_open


@dataclass(frozen=True)
class Section:
    """One chapter of the tour.

    Parameters
    ----------
    key : str
        Short name used by ``dotwise tour --only KEY``.
    title : str
        Heading shown in the console and the report.
    order : int
        Sections run in increasing order.
    run : callable
        ``run(ctx: TourContext) -> None``.
    summary : str
        One sentence on what the section shows.
    """

    key: str
    title: str
    order: int
    run: Callable[[TourContext], None]
    summary: str = ""


@dataclass
class _Block:
    kind: str  # "text" | "table" | "figure" | "check"
    payload: dict[str, Any]


@dataclass
class SectionOutcome:
    section: Section
    blocks: list[_Block] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    @property
    def failed_checks(self) -> list[str]:
        return [b.payload["label"] for b in self.blocks
                if b.kind == "check" and not b.payload["ok"]]


@dataclass
class TourResult:
    outcomes: list[SectionOutcome]
    report_path: Path | None

    @property
    def ok(self) -> bool:
        return all(o.error is None and not o.failed_checks for o in self.outcomes)

    @property
    def n_checks(self) -> int:
        return sum(1 for o in self.outcomes for b in o.blocks if b.kind == "check")


class TourContext:
    """What a section uses to show its work: console output plus the HTML report."""

    def __init__(self, section: Section, out_dir: Path, console: Console,
                 outcome: SectionOutcome):
        self.section = section
        self.out_dir = out_dir
        self.console = console
        self._outcome = outcome

    def rng(self, seed: int = 0) -> np.random.Generator:
        """A generator with a fixed seed: the tour is reproducible."""
        return np.random.default_rng(seed)

    def text(self, message: str) -> None:
        """A paragraph of explanation."""
        self.console.print(message, highlight=False)
        self._outcome.blocks.append(_Block("text", {"text": message}))

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """A table: printed with Rich, and written into the report."""
        rows = [[_cell(v) for v in row] for row in rows]
        t = Table(title=title, title_justify="left")
        for c in columns:
            t.add_column(str(c), justify="left" if c == columns[0] else "right")
        for row in rows:
            t.add_row(*row)
        self.console.print(t)
        self._outcome.blocks.append(
            _Block("table", {"title": title, "columns": list(columns), "rows": rows})
        )

    def figure(self, name: str, fig: Any, caption: str = "") -> Path:
        """Save a matplotlib figure as ``<section>-<name>.png`` and add it to the report."""
        import matplotlib.pyplot as plt

        path = self.out_dir / f"{self.section.key}-{name}.png"
        with atomic_open(path, "wb") as fh:
            fig.savefig(fh, format="png", dpi=FIGURE_DPI, bbox_inches="tight")
        plt.close(fig)
        self.console.print(f"  [dim]figure → {path}[/dim]")
        self._outcome.blocks.append(_Block("figure", {"file": path.name, "caption": caption}))
        return path

    def image(self, name: str, array: np.ndarray, caption: str = "") -> Path:
        """Save an image array (H, W[, C]) in [0, 1] as PNG and add it to the report."""
        from PIL import Image

        data = np.clip(np.asarray(array, dtype=np.float64), 0.0, 1.0)
        data = (data * 255 + 0.5).astype(np.uint8)
        if data.ndim == 3 and data.shape[2] == 1:
            data = data[:, :, 0]
        picture = Image.fromarray(data)
        # small images are enlarged by a whole factor, pixel for pixel, so that a reader sees
        # the pixels (compression artifacts, filter edges) instead of a blur
        factor = max(1, IMAGE_WIDTH // max(picture.width, 1))
        if factor > 1:
            picture = picture.resize((picture.width * factor, picture.height * factor),
                                     Image.NEAREST)
        path = self.out_dir / f"{self.section.key}-{name}.png"
        with atomic_open(path, "wb") as fh:
            picture.save(fh, format="PNG")
        self.console.print(f"  [dim]image → {path}[/dim]")
        self._outcome.blocks.append(_Block("figure", {"file": path.name, "caption": caption,
                                                      "pixels": factor > 1}))
        return path

    def check(self, label: str, ok: bool, detail: str = "") -> bool:
        """Record a property the section verified; a failed check fails the tour."""
        ok = bool(ok)
        mark = "[green]✓[/green]" if ok else "[bold red]✗[/bold red]"
        self.console.print(f"  {mark} {label}" + (f" [dim]({detail})[/dim]" if detail else ""),
                           highlight=False)
        self._outcome.blocks.append(_Block("check", {"label": label, "ok": ok, "detail": detail}))
        return ok


#: Figures are saved at this resolution: a 6-inch-wide figure is about 1000 px, sharp on
#: screen and in print.
FIGURE_DPI = 170
#: Image arrays narrower than this are enlarged by a whole factor (nearest neighbour).
IMAGE_WIDTH = 900


def _cell(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4g}"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    return str(value)


def discover_sections() -> list[Section]:
    """All sections in :mod:`dotwise.tour.sections`, in their declared order."""
    from . import sections

    found = []
    for info in pkgutil.iter_modules(sections.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{sections.__name__}.{info.name}")
        section = getattr(module, "SECTION", None)
        if isinstance(section, Section):
            found.append(section)
    return sorted(found, key=lambda s: (s.order, s.key))


def run_tour(out_dir: str | Path = "tour-report", *, only: Sequence[str] | None = None,
             console: Console | None = None, write_html: bool = True) -> TourResult:
    """Run the tour's sections and write ``out_dir/index.html``.

    Parameters
    ----------
    out_dir : path, default="tour-report"
        Where figures and the report go (created if missing).
    only : sequence of str, optional
        Section keys to run; default all.
    console : rich.console.Console, optional
    write_html : bool, default=True
    """
    import matplotlib

    matplotlib.use("Agg")
    console = console or Console()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sections = discover_sections()
    if only:
        known = {s.key for s in sections}
        unknown = [k for k in only if k not in known]
        if unknown:
            raise ValueError(
                f"only: unknown section(s) {', '.join(unknown)}; "
                f"available: {', '.join(sorted(known))}"
            )
        sections = [s for s in sections if s.key in set(only)]

    outcomes: list[SectionOutcome] = []
    progress = Progress(TextColumn("[bold blue]{task.description}"), BarColumn(),
                        TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                        console=console, transient=True)
    with progress:
        task = progress.add_task("tour", total=len(sections))
        for section in sections:
            progress.update(task, description=section.title)
            outcome = SectionOutcome(section)
            console.rule(f"[bold]{section.title}")
            if section.summary:
                console.print(f"[italic]{section.summary}[/italic]")
            start = time.perf_counter()
            try:
                section.run(TourContext(section, out_dir, console, outcome))
            except Exception as exc:  # a broken section must not hide the others
                outcome.error = f"{type(exc).__name__}: {exc}"
                console.print(f"[bold red]section failed:[/bold red] {outcome.error}")
                console.print(traceback.format_exc(), style="dim", highlight=False)
            outcome.seconds = time.perf_counter() - start
            outcomes.append(outcome)
            progress.advance(task)

    report = None
    if write_html:
        report = out_dir / "index.html"
        with atomic_open(report, "w") as fh:
            fh.write(_render_html(outcomes))
    return TourResult(outcomes, report)


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1040px;
margin:2rem auto;padding:0 1.2rem;color:#1d2433;line-height:1.6;font-size:17px}
h1{margin-bottom:.2rem;font-size:2.2rem}
h2{border-bottom:2px solid #e3e8f0;padding-bottom:.3rem;margin-top:3rem}
code,.num{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:.9em}
code{background:#f3f6fa;padding:.05rem .3rem;border-radius:3px}
table{border-collapse:collapse;margin:1rem 0;font-size:.92rem;font-variant-numeric:tabular-nums}
th,td{border:1px solid #d6dce6;padding:.35rem .7rem;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f3f6fa}
caption{caption-side:top;text-align:left;font-weight:600;padding:.3rem 0;white-space:nowrap}
.summary{color:#3c4659}.check{margin:.15rem 0}.ok{color:#157347}
.bad{color:#b02a37;font-weight:600}
figure{margin:1.2rem 0}img{max-width:100%;height:auto;border:1px solid #e3e8f0}
img.pixels{image-rendering:pixelated}
figcaption{color:#5a6475;font-size:.92rem;margin-top:.3rem}
.time{color:#8a93a3;font-size:.85rem}.err{background:#fde8ea;padding:.6rem;border-radius:4px}
nav ol{columns:2;column-gap:2.5rem;padding-left:1.4rem}nav li{margin:.15rem 0}
nav .sum{display:block;color:#5a6475;font-size:.88rem}
@media (max-width:700px){nav ol{columns:1}body{font-size:16px}}
@media print{body{max-width:none;font-size:11pt}h2{break-before:page}
figure,table{break-inside:avoid}a{color:inherit;text-decoration:none}}
"""


def _render_html(outcomes: list[SectionOutcome]) -> str:
    from .. import __version__

    esc = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>dotwise tour</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>dotwise tour</h1>",
        f"<p class='time'>dotwise {esc(__version__)} · generated "
        f"{esc(time.strftime('%Y-%m-%d %H:%M'))}</p>",
        f"<p>{len(outcomes)} sections, "
        f"{sum(1 for o in outcomes for b in o.blocks if b.kind == 'check')} checks — each "
        "check is a property dotwise verified while the section ran.</p>",
        "<nav><ol>",
    ]
    for o in outcomes:
        status = "✓" if o.error is None and not o.failed_checks else "✗"
        summary = f"<span class='sum'>{esc(o.section.summary)}</span>" if o.section.summary \
            else ""
        parts.append(f"<li><a href='#{esc(o.section.key)}'>{esc(o.section.title)}</a> "
                     f"{status}{summary}</li>")
    parts.append("</ol></nav>")
    for o in outcomes:
        parts.append(f"<h2 id='{esc(o.section.key)}'>{esc(o.section.title)}</h2>")
        if o.section.summary:
            parts.append(f"<p class='summary'><em>{_prose(o.section.summary)}</em></p>")
        for b in o.blocks:
            p = b.payload
            if b.kind == "text":
                parts.append(f"<p>{_prose(_strip_markup(p['text']))}</p>")
            elif b.kind == "table":
                head = "".join(f"<th>{esc(c)}</th>" for c in p["columns"])
                body = "".join(
                    "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>"
                    for row in p["rows"]
                )
                parts.append(f"<table><caption>{esc(p['title'])}</caption>"
                             f"<tr>{head}</tr>{body}</table>")
            elif b.kind == "figure":
                cls = " class='pixels'" if p.get("pixels") else ""
                parts.append(f"<figure><img{cls} src='{esc(p['file'])}' "
                             f"alt='{esc(p['caption'])}'>"
                             f"<figcaption>{_prose(p['caption'])}</figcaption></figure>")
            elif b.kind == "check":
                cls, mark = ("ok", "✓") if p["ok"] else ("bad", "✗")
                detail = f" ({esc(p['detail'])})" if p["detail"] else ""
                parts.append(f"<div class='check {cls}'>{mark} {esc(p['label'])}{detail}</div>")
        if o.error:
            parts.append(f"<p class='err'>Section failed: {esc(o.error)}</p>")
        parts.append(f"<p class='time'>{o.seconds:.1f} s</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _prose(text: str) -> str:
    """Escaped text in which `backticked` spans and dotwise calls read as code."""
    import re

    out = []
    for i, piece in enumerate(re.split(r"`([^`]+)`", text)):
        if i % 2:
            out.append(f"<code>{html.escape(piece)}</code>")
        else:
            escaped = html.escape(piece)
            # dw.name(...), method='qr', a_function(…) written without backticks
            escaped = re.sub(r"\b((?:dw|np|numpy|scipy|dotwise)\.[\w.]+(?:\([^()]{0,60}\))?"
                             r"|\w+\(\w+=[^()\s]{1,40}\)"
                             r"|\w+=(?:&#x27;|')[\w.-]+(?:&#x27;|'))",
                             r"<code>\1</code>", escaped)
            out.append(escaped)
    return "".join(out)


def _strip_markup(text: str) -> str:
    from rich.text import Text

    return Text.from_markup(text).plain
