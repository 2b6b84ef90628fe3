"""No traceback ever reaches a CLI user (issue 14, item 13).

Hypothesis builds argument lists for every command from its real options and a pool of
values that mixes sensible inputs (a small photo, a matrix, a CSV) with hostile ones
(huge and negative sizes, NaN, missing files, a folder where a file belongs, an empty
``.npy``). Whatever it builds, the command must end with a normal exit (0), a failure
exit (1) or a one-line usage/data error (2) — never an unhandled exception.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import typer.main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from typer.testing import CliRunner

from dotwise.cli import get_app

#: Commands that serve forever, download, or run the whole tour when their input is valid.
SKIP = {("playground",), ("tour",), ("recommend", "fetch")}


def _commands():
    root = typer.main.get_command(get_app())
    out = []

    def walk(cmd, path):
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, (*path, name))
        elif path not in SKIP:
            opts = [o for p in cmd.params for o in (getattr(p, "opts", None) or [])
                    if o.startswith("-")]
            positional = [p.name for p in cmd.params
                          if not any(o.startswith("-") for o in (getattr(p, "opts", None) or []))]
            out.append((path, sorted(opts), positional))

    walk(root, ())
    return out


COMMANDS = _commands()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Inputs for the fuzz test (which may overwrite them: any path can be an output)."""
    return _make_files(tmp_path_factory.mktemp("fuzz"))


@pytest.fixture
def fresh(tmp_path):
    """The same inputs, untouched, for the tests that need them as made."""
    return _make_files(tmp_path)


def _make_files(d):
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((12, 16, 3)) * 255).astype(np.uint8)).save(d / "photo.png")
    np.save(d / "matrix.npy", rng.standard_normal((20, 3)))
    np.save(d / "vector.npy", rng.standard_normal(20))
    np.save(d / "empty.npy", np.zeros((0,)))
    np.save(d / "empty2.npy", np.zeros((0, 3)))
    np.save(d / "nan.npy", np.array([[1.0, np.nan], [2.0, 3.0]]))
    (d / "table.csv").write_text("a,b,c\n1,2,3\n4,5,6\n7,8,10\n", encoding="utf-8")
    (d / "bad.csv").write_bytes(b"a,b\n\xff\xfe,1\n")
    (d / "folder").mkdir()
    (d / "notnpy.npy").write_bytes(b"not a numpy file")
    ml = d / "ml"  # a tiny MovieLens-format folder: 30 users, 12 movies
    ml.mkdir()
    lines = [f"{u}\t{i}\t{int(rng.integers(1, 6))}\t{880000000 + u * 100 + i}"
             for u in range(1, 31) for i in range(1, 13) if rng.random() < 0.6]
    (ml / "u.data").write_text("\n".join(lines) + "\n", encoding="utf-8")
    genres = "|".join(["0"] * 19)
    (ml / "u.item").write_text("".join(
        f"{i}|Movie {i} (1995)|01-Jan-1995||http://x|{genres}\n" for i in range(1, 13)),
        encoding="latin-1")
    return d


VALUES = ["0", "1", "3", "-1", "2.5", "-0.0", "1e308", "nan", "inf", "1000000000000",
          "9223372036854775808", "", "x", "a,b", "1,2", "reflect", "wraps", "cosine", "l2",
          "artist=Adele", "{photo}", "{matrix}", "{vector}", "{empty}", "{empty2}", "{nan}",
          "{table}", "{bad}", "{folder}", "{notnpy}", "{missing}", "{out_png}", "{out_dir}", "{ml}"]

#: A sensible value for each positional argument, by its name: most draws use it, so the
#: options are fuzzed on commands that get far enough to run.
SENSIBLE = {"src": "{photo}", "dst": "{out_png}", "file": "{matrix}", "a_file": "{matrix}",
            "b_file": "{vector}", "catalog": "{table}", "name": "a", "path": "{ml}",
            "vectors": "{matrix}", "index_dir": "{out_dir}", "queries": "{matrix}"}


def _fill(token: str, d) -> str:
    names = {"photo": "photo.png", "matrix": "matrix.npy", "vector": "vector.npy",
             "empty": "empty.npy", "empty2": "empty2.npy", "nan": "nan.npy",
             "table": "table.csv", "bad": "bad.csv", "folder": "folder",
             "notnpy": "notnpy.npy", "missing": "missing/nothing.npy",
             "out_png": "out/result.png", "out_dir": "out-index", "ml": "ml"}
    if token.startswith("{"):
        return str(d / names[token.strip("{}")])
    return token


@st.composite
def invocations(draw):
    path, opts, positional = draw(st.sampled_from(COMMANDS))
    args = list(path)
    for name in positional:
        sensible = SENSIBLE.get(name)
        if sensible is not None and draw(st.integers(0, 3)):
            args.append(sensible)
        else:
            args.append(draw(st.sampled_from(VALUES)))
    for opt in draw(st.lists(st.sampled_from(opts), max_size=4, unique=True)) if opts else []:
        args.append(opt)
        if draw(st.booleans()):
            args.append(draw(st.sampled_from(VALUES)))
    return args


@settings(max_examples=int(os.environ.get("DOTWISE_FUZZ_EXAMPLES", "120")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(raw=invocations())
def test_no_command_shows_a_traceback(raw, files, monkeypatch):
    monkeypatch.chdir(files)
    args = [_fill(a, files) for a in raw]
    result = CliRunner().invoke(get_app(), args, catch_exceptions=True)
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not crashed, f"dotwise {' '.join(args)} raised {result.exception!r}"
    assert "Traceback" not in result.output, f"dotwise {' '.join(args)}:\n{result.output}"
    assert result.exit_code in (0, 1, 2), (args, result.exit_code, result.output)


@pytest.mark.parametrize("args", [
    ["filter", "{photo}", "{out_png}", "--gaussian", "1e5"],
    ["filter", "{photo}", "{out_png}", "--box", "100001"],
    ["attention", "demo", "--dim", "1000000000"],
    ["inspect", "{empty}"],
    ["inspect", "{notnpy}"],
    ["index", "build", "{empty2}", "--out", "{out_dir}"],
    ["filter", "{photo}", "{out_png}", "--kernel", "{empty}"],
])
def test_the_issues_cases_are_one_line_errors(args, fresh, monkeypatch):
    monkeypatch.chdir(fresh)
    result = CliRunner().invoke(get_app(), [_fill(a, fresh) for a in args])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "error" in result.output.lower()


def test_tour_out_must_be_a_writable_folder(fresh):
    result = CliRunner().invoke(get_app(), ["tour", "--out", str(fresh / "photo.png")])
    assert result.exit_code == 2
    assert "--out" in result.output and "is a file" in result.output


def test_errors_give_shell_advice_not_python_keywords(fresh, monkeypatch):
    monkeypatch.chdir(fresh)
    result = CliRunner().invoke(get_app(), ["inspect", str(fresh / "nan.npy")])
    assert result.exit_code == 2
    assert "check_finite" not in result.output and "NaN/inf" in result.output
    result = CliRunner().invoke(get_app(), ["filter", str(fresh / "photo.png"),
                                            str(fresh / "o.png"), "--kernel",
                                            str(fresh / "vector.npy")])
    assert result.exit_code == 2
    assert "reshape" not in result.output and "2-D" in result.output
