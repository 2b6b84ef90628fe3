"""``dotwise tour``: run every system on bundled data and write an HTML report."""

from __future__ import annotations

from pathlib import Path

import typer

from ._common import console, fail


def register(app: typer.Typer) -> None:
    @app.command()
    def tour(
        out: Path = typer.Option(Path("tour-report"), "--out", "-o",
                                 help="Folder for index.html and the figures."),
        only: str = typer.Option("", "--only",
                                 help="Comma-separated section keys, e.g. 'vectors,lstsq'."),
        list_sections: bool = typer.Option(False, "--list", help="List the sections and exit."),
    ) -> None:
        """Run every dotwise system end to end on bundled data, with a report.

        Needs no network and no downloaded data; takes about a minute on two cores.

        Example: [bold]dotwise tour --out tour-report[/bold], then open
        tour-report/index.html in a browser. [bold]dotwise tour --list[/bold] shows the
        sections; [bold]--only attention,search[/bold] runs a few.
        """
        from dotwise.tour import discover_sections, run_tour

        if list_sections:
            for s in discover_sections():
                console.print(f"[bold]{s.key:<14}[/bold] {s.title} — {s.summary}", highlight=False)
            return
        keys = [k.strip() for k in only.split(",") if k.strip()] or None
        _check_out_folder(out)
        try:
            result = run_tour(out, only=keys, console=console)
        except ValueError as exc:
            fail(str(exc))
        total = sum(o.seconds for o in result.outcomes)
        failed = [o for o in result.outcomes if o.error or o.failed_checks]
        console.rule("[bold]summary")
        width = max((len(o.section.title) for o in result.outcomes), default=0) + 2
        for o in result.outcomes:
            state = "[green]ok[/green]" if o not in failed else "[bold red]FAILED[/bold red]"
            console.print(f"  {o.section.title:<{width}} {o.seconds:6.1f} s  {state}",
                          highlight=False)
        console.print(f"{len(result.outcomes)} sections, {result.n_checks} checks, {total:.1f} s")
        if result.report_path is not None:
            console.print(f"report: [bold]{result.report_path.resolve()}[/bold]")
        if failed:
            raise typer.Exit(1)


def _check_out_folder(out: Path) -> None:
    """``--out`` must be a folder that exists or can be made, and that can be written to."""
    import os

    if out.exists() and not out.is_dir():
        fail(f"--out: {out} is a file; expected a folder for index.html and the figures "
             f"(choose another path, e.g. --out tour-report)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"--out: cannot create the folder {out} ({exc.strerror}); choose a writable path")
    if not os.access(out, os.W_OK | os.X_OK):
        fail(f"--out: the folder {out} is not writable; choose a writable path")
