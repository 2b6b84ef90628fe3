"""Help screens read as the command line is typed (issue 13, "Help screens")."""

from __future__ import annotations

import re

import pytest
import typer.main
from typer.testing import CliRunner

from dotwise.cli import PANELS, get_app


def _help(*args: str) -> str:
    result = CliRunner().invoke(get_app(), [*args, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    return result.output


def _all_commands():
    root = typer.main.get_command(get_app())
    out = []

    def walk(cmd, path):
        out.append(path)
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, (*path, name))

    walk(root, ())
    return out


@pytest.mark.parametrize("path", _all_commands(), ids=lambda p: " ".join(p) or "dotwise")
def test_flags_show_no_type_and_arguments_no_braces(path):
    text = _help(*path)
    assert "<bool>" not in text and "<list[" not in text
    assert not re.search(r"<(int|float|str|path)>", text)
    usage = next(line for line in text.splitlines() if "Usage:" in line)
    assert "{" not in usage, usage


def test_top_level_help_groups_commands_in_panels():
    text = _help()
    positions = [text.find(f"─ {panel} ") for panel in PANELS if f"─ {panel} " in text]
    assert len(positions) >= 5, text
    assert positions == sorted(positions), "panels are listed in the order PANELS gives"
    assert text.find("tour ") < text.find("inspect ") < text.find("filter ")
