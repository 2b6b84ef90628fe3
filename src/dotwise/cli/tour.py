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
