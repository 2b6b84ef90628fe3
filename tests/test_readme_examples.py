"""Every example in the README runs as written.

The README's code blocks are replayed in order, in one temporary working folder (so a
file one example writes is there for the next, as it would be for a reader typing
them in):

- a ```` ```python ```` block is executed, each in a fresh namespace;
- a ```` ```bash ```` line that starts with ``dotwise`` runs through Typer's CliRunner
  on ``get_app()`` (commands joined by ``&&`` are split; ``pip``, ``python -m venv``,
  ``git`` and other set-up commands are the environment these tests already run in).

Examples that name the licensed data (``songs.csv``, a MovieLens folder such as
``ml-100k``) run only when ``../shared/data`` (or ``$DOTWISE_SHARED_DATA``) holds it,
with those names linked to the real files; they skip with the reason otherwise.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dotwise.cli import get_app

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SHARED = Path(os.environ.get("DOTWISE_SHARED_DATA", ROOT.parent / "shared" / "data"))

#: Names in the README that stand for the licensed data sets → where they are in SHARED.
DATA = {
    "songs.csv": "songs/spotify_hit_predictor_1960-2019.csv",
    "ml-100k": "movielens-100k",
}

#: Commands not run here, by name, and why (each is tested elsewhere).
EXCLUDED = {
    # the whole tour runs every section (about a minute); tests/test_tour_and_benchmarks.py
    # runs it, and `dotwise tour --list` / `--only ...` lines in the README do run here
    "tour": "runs every section of the tour (about a minute)",
    # serves until stopped; tests/test_playground_cli.py starts and stops it
    "playground": "serves the playground until stopped",
    # the only command that needs the internet; tests/test_recommend.py fakes the download
    "recommend fetch": "downloads MovieLens from the internet",
}

SETUP = ["pip install -e . && dotwise tour", 'pip install -e ".[test]" && python -m pytest']
FENCE = re.compile(r"^```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^```\s*$", re.M | re.S)


def _blocks():
    """``(kind, line, text)`` for every example: kind is ``python`` or ``cli``."""
    text = README.read_text(encoding="utf-8")
    out = []
    for m in FENCE.finditer(text):
        lang, body = m.group("lang").lower(), m.group("body")
        first = text.count("\n", 0, m.start("body")) + 1
        if lang in ("python", "py"):
            out.append(("python", first, body))
        elif lang in ("bash", "sh", "shell", "console"):
            for line, command in _commands(body, first):
                out.append(("cli", line, command))
    return out


def _commands(body: str, first: int):
    """The ``dotwise`` commands of a shell block, with their README line numbers."""
    pending, start = "", first
    for offset, raw in enumerate(body.splitlines()):
        if not pending:
            start = first + offset
        pending += raw.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        line, pending = pending.strip(), ""
        if not line or line.startswith("#"):
            continue
        for part in line.split("&&"):
            argv = shlex.split(part, comments=True)
            if argv and argv[0] == "dotwise":
                yield start, argv


def _excluded(argv: list[str]) -> str | None:
    words = " ".join(a for a in argv[1:3] if not a.startswith("-"))
    for name, why in EXCLUDED.items():
        if words == name or words.startswith(name + " "):
            if name == "tour" and ("--list" in argv or "--only" in argv):
                return None  # quick: list the sections, or run one or two
            if "--help" in argv:
                return None
            return why
    return None


def _data_names(example) -> list[str]:
    kind, _, payload = example
    tokens = payload if kind == "cli" else re.findall(r"[\w./-]+", payload)
    return sorted({t for t in tokens if Path(t).name in DATA})


def _link_data(names: list[str], cwd: Path) -> None:
    for name in names:
        target = SHARED / DATA[Path(name).name]
        link = cwd / name
        if not link.exists():
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(target, target_is_directory=target.is_dir())


def _missing_imports(code: str) -> list[str]:
    """Top-level modules a Python example imports that are not installed (an extra)."""
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return sorted(n for n in names if importlib.util.find_spec(n) is None)


def _run(example, cwd: Path) -> str | None:
    """Run one example; the failure message, or None."""
    kind, line, payload = example
    if kind == "python":
        if _missing_imports(payload):  # e.g. the Dask example without the scale extra
            return None
        code = compile(payload, f"README.md:{line}", "exec")
        try:
            exec(code, {"__name__": "__readme__"})
        except Exception as exc:  # reported with the README line
            return f"README.md:{line}: the Python example raised {type(exc).__name__}: {exc}"
        return None
    result = CliRunner().invoke(get_app(), payload[1:], env={"COLUMNS": "120"})
    if result.exit_code != 0:
        return (f"README.md:{line}: `{shlex.join(payload)}` exited {result.exit_code}:\n"
                f"{result.output[-2000:]}")
    return None


def _replay(examples, cwd: Path) -> list[str]:
    failures = []
    for example in examples:
        failure = _run(example, cwd)
        if failure:
            failures.append(failure)
    return failures


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    return tmp_path


def test_readme_starts_with_the_two_setup_commands():
    text = README.read_text(encoding="utf-8")
    first = FENCE.search(text)
    assert first is not None and first.group("lang") == "bash"
    assert first.group("body").strip().splitlines() == SETUP


def test_readme_has_examples_of_both_kinds():
    kinds = [kind for kind, _, _ in _blocks()]
    assert kinds.count("python") >= 5 and kinds.count("cli") >= 5, kinds


@pytest.mark.slow
def test_readme_examples_run(workdir):
    """Every example that needs no licensed data, in README order."""
    examples = [e for e in _blocks() if not _data_names(e)
                and not (e[0] == "cli" and _excluded(e[2]))]
    assert examples
    failures = _replay(examples, workdir)
    assert not failures, "\n\n".join(failures)


@pytest.mark.shared_data
def test_readme_examples_on_the_licensed_data_run(workdir):
    """The examples that name songs.csv or a MovieLens folder, on the real files."""
    examples = [e for e in _blocks() if _data_names(e)
                and not (e[0] == "cli" and _excluded(e[2]))]
    if not examples:
        pytest.skip("the README has no example that uses the licensed data")
    names = sorted({n for e in examples for n in _data_names(e)})
    missing = [str(SHARED / DATA[Path(n).name]) for n in names
               if not (SHARED / DATA[Path(n).name]).exists()]
    if missing:
        pytest.skip(f"needs the licensed data at {', '.join(missing)} (not redistributed "
                    f"with dotwise; put it in ../shared/data or set DOTWISE_SHARED_DATA)")
    _link_data(names, workdir)
    failures = _replay(examples, workdir)
    assert not failures, "\n\n".join(failures)


def test_excluded_commands_are_only_the_long_or_online_ones():
    skipped = [(line, argv) for kind, line, argv in _blocks()
               if kind == "cli" and _excluded(argv)]
    for line, argv in skipped:
        assert argv[1] in ("tour", "playground", "recommend"), (line, argv)


def test_readme_quotes_no_benchmark_figure_outside_the_generated_section():
    text = README.read_text(encoding="utf-8")
    begin, end = "<!-- bench:summary:begin -->", "<!-- bench:summary:end -->"
    assert text.count(begin) == 1 and text.count(end) == 1
    outside = text[:text.index(begin)] + text[text.index(end):]
    speedups = re.findall(r"\d(?:\.\d+)?\s*×(?!\s*\d)|\d(?:\.\d+)?\s*x (?:faster|slower)"
                          r"|\d+(?:\.\d+)? times (?:faster|slower)", outside)
    assert not speedups, f"speed figures outside the generated section: {speedups}"
