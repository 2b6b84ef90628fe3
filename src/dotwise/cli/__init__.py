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
    _group_commands(app)
    _plain_help_types()
    _registered = True


#: ``dotwise --help`` lists the commands in these panels, in this order; a command not named
#: here lands in "More". A new command module only adds its name.
PANELS: dict[str, tuple[str, ...]] = {
    "Start here": ("tour", "playground"),
    "Explore the linear algebra": ("inspect", "lstsq", "eigen", "transform", "attention"),
    "Search": ("index", "similar"),
    "Models": ("classify", "segment"),
    "Images": ("filter", "compress", "decompress"),
    "Recommend": ("recommend",),
}


def _command_name(info) -> str:
    if info.name:
        return info.name
    if getattr(info, "typer_instance", None) is not None and info.typer_instance.info.name:
        return info.typer_instance.info.name
    callback = getattr(info, "callback", None)
    return callback.__name__.replace("_", "-") if callback else ""


def _group_commands(typer_app: typer.Typer) -> None:
    """Put each top-level command in its help panel and order the list by panel."""
    order = {name: (i, j) for i, names in enumerate(PANELS.values())
             for j, name in enumerate(names)}
    panel_of = {name: panel for panel, names in PANELS.items() for name in names}
    for infos in (typer_app.registered_commands, typer_app.registered_groups):
        for info in infos:
            info.rich_help_panel = panel_of.get(_command_name(info), "More")
        infos.sort(key=lambda info: order.get(_command_name(info), (len(PANELS), 0)))


def _plain_help_types() -> None:
    """Help screens that read as the command line is typed.

    Typer shows ``<bool>`` beside flags (so ``--json`` looks as if it took a value),
    ``<list[str]>`` and ``{FILE}`` for required arguments. dotwise shows nothing beside a
    flag, ``INTEGER``/``FLOAT``/``TEXT``/``PATH`` beside values, and arguments in capitals
    as typed (``FILE``). Commands in a group (``attention``, ``index``, ``recommend``)
    come after the single commands, so "Recommend" is the last panel.
    """
    from typer.core import TyperArgument, TyperOption

    if getattr(TyperOption, "_dotwise_plain", False):
        return
    words = {"int": "INTEGER", "float": "FLOAT", "str": "TEXT", "path": "PATH",
             "bool": "", "int range": "INTEGER", "float range": "FLOAT"}

    def plain(original):
        def display_type_rich(self, ctx):
            if getattr(self, "is_flag", False) or getattr(self, "is_bool_flag", False):
                return None
            label = original(self, ctx)
            if not label:
                return label
            inner = label.strip("<>")
            repeat = inner.startswith("list[")
            inner = inner[5:-1] if repeat else inner
            word = words.get(inner, inner.upper())
            return f"{word} (repeatable)" if repeat and word else (word or None)
        return display_type_rich

    TyperOption.display_type_rich = plain(TyperOption.display_type_rich)
    TyperArgument.display_type_rich = plain(TyperArgument.display_type_rich)

    def usage_name(self) -> str:
        name = self.display_name_raw
        name = name if self.required else f"[{name}]"
        return name + ("..." if self.nargs != 1 else "")

    TyperArgument._usage_display_name = usage_name
    TyperArgument.display_name_raw = property(
        lambda self: self.metavar if self.metavar is not None else self.name.upper())
    TyperOption._dotwise_plain = True


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
