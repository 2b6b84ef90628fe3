"""The ``dotwise`` command line.

Each module in this package that defines ``register(app)`` contributes its
commands; they are discovered at start-up, so a new system adds a module here
and touches nothing else. Commands import the library lazily, inside their
bodies, so ``dotwise --help`` stays fast.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

app = typer.Typer(
    name="dotwise",
    help=(
        "dotwise — one operation, the dot product, in many costumes.\n\n"
        "Start with [bold]dotwise tour[/bold]: it runs every system on bundled data "
        "and writes an HTML report. Each command's --help shows an example."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version_callback(value: bool) -> None:
    if value:
        from dotwise import __version__

        typer.echo(f"dotwise {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True,
        help="Show the version and exit.",
    ),
) -> None:
    """dotwise command line."""


_registered = False


def _register_all() -> None:
    global _registered
    if _registered:
        return
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)
    _guard_commands(app)
    _registered = True


def _guard_commands(typer_app: typer.Typer) -> None:
    """Put every command (and every sub-command of a group) behind :func:`_common.guarded`."""
    from ._common import guarded

    for info in typer_app.registered_commands:
        if info.callback is not None and not getattr(info.callback, "_dotwise_guarded", False):
            info.callback = guarded(info.callback)
            info.callback._dotwise_guarded = True  # type: ignore[attr-defined]
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _guard_commands(group.typer_instance)


def main() -> None:
    """Entry point of the ``dotwise`` console script."""
    _register_all()
    app()


def get_app() -> typer.Typer:
    """The fully registered Typer app (for tests: ``CliRunner().invoke(get_app(), ...)``)."""
    _register_all()
    return app
