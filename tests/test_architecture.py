"""Imports point down only: linalg ← applications ← faces.

Parses every module's imports (no execution) and fails on an upward import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "dotwise"
APPLICATIONS = {"search", "recommend", "image", "attention", "models", "text"}
FACES = {"cli", "playground", "tour"}


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "dotwise" or len(parts) < 2:
        return None
    top = parts[1]
    if top == "linalg":
        return "linalg"
    if top in APPLICATIONS:
        return "application"
    if top in FACES:
        return "face"
    return None


def _imports(path: Path, root: Path = SRC.parent) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel = path.relative_to(root).with_suffix("")
    package = list(rel.parts[:-1]) if rel.name != "__init__" else list(rel.parts[:-1])
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
                if node.module is None:
                    found += [(node.lineno, f"{mod}.{a.name}") for a in node.names]
                    continue
            else:
                mod = node.module or ""
            found.append((node.lineno, mod))
    return found


def _modules():
    return sorted(p for p in SRC.rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_down(path: Path) -> None:
    own = _layer("dotwise." + ".".join(path.relative_to(SRC).with_suffix("").parts))
    if own is None:
        return
    forbidden = {"linalg": {"application", "face"}, "application": {"face"}, "face": set()}[own]
    bad = [(line, mod) for line, mod in _imports(path) if _layer(mod) in forbidden]
    assert not bad, f"{path.relative_to(SRC)} ({own}) imports upward: {bad}"


def test_the_checker_catches_an_upward_import(tmp_path: Path) -> None:
    # a fake package tree under tmp_path: nothing is ever written into src/
    fake = tmp_path / "dotwise" / "linalg" / "_probe_upward.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("from dotwise.search import Index\nfrom ..cli import app\n")
    mods = [m for _, m in _imports(fake, root=tmp_path)]
    assert "dotwise.search" in mods and "dotwise.cli" in mods
    assert {_layer(m) for m in mods} == {"application", "face"}


def test_no_pickle_loading_in_src() -> None:
    offenders = []
    for path in _modules():
        text = path.read_text(encoding="utf-8")
        for needle in ("pickle.load", "allow_pickle=True", "joblib.load"):
            if needle in text:
                offenders.append(f"{path.relative_to(SRC)}: {needle}")
    assert not offenders, offenders


def test_cli_and_images_start_without_the_heavy_imports() -> None:
    """``dotwise --help`` and ``dotwise filter`` should not pay for scikit-learn (~1 s) or
    scipy.signal (~0.7 s) before anything needs them."""
    import subprocess
    import sys

    code = ("import sys, dotwise, dotwise.cli, dotwise.image; "
            "print(sorted(m for m in ('sklearn', 'scipy.signal', 'matplotlib.pyplot') "
            "if m in sys.modules))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert res.stdout.strip() == "[]"


# ---------------------------------------------------------------- import cycles inside a package
def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph(root: Path) -> dict[str, set[str]]:
    """Edges module -> module it imports (anywhere in the file, lazy imports included),
    between modules of the same ``dotwise.<package>``; ``from pkg import name`` counts as
    an import of ``pkg.name`` when that is a module."""
    files = sorted((root / "dotwise").rglob("*.py"))
    names = {_module_name(p, root) for p in files}
    graph: dict[str, set[str]] = {}
    for path in files:
        me = _module_name(path, root)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets: set[str] = set()
        for mod, node in zip([m for _, m in _imports(path, root)], _import_nodes(tree),
                             strict=True):
            targets.add(mod)
            if isinstance(node, ast.ImportFrom) and node.module is not None:
                targets.update(f"{mod}.{a.name}" for a in node.names)
        pkg = me.split(".")[:2]
        graph[me] = {t for t in targets if t in names and t != me
                     and t.split(".")[:2] == pkg and len(pkg) == 2}
    return graph


def _import_nodes(tree: ast.AST) -> list[ast.AST]:
    """The import nodes in the order ``_imports`` reports them (one entry per module)."""
    out: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [node] * len(node.names)
        elif isinstance(node, ast.ImportFrom):
            out += [node] * (len(node.names) if node.level and node.module is None else 1)
    return out


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out



def test_no_import_cycles_inside_a_package() -> None:
    graph = _import_graph(SRC.parent)
    # a package's __init__ importing its submodules is the usual re-export, not a cycle;
    # a submodule importing its own package (``from dotwise.search import X``) closes one
    # only if __init__ imports it back, which the graph keeps
    cycles = _cycles(graph)
    assert not cycles, "import cycles inside a package (module -> … -> module): " + "; ".join(
        " ↔ ".join(c) for c in cycles)


def test_the_cycle_checker_finds_a_lazy_circle(tmp_path: Path) -> None:
    pkg = tmp_path / "dotwise" / "probe"
    pkg.mkdir(parents=True)
    (tmp_path / "dotwise" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("from .a import A\n")
    (pkg / "a.py").write_text("from .b import B\nclass A: ...\n")
    (pkg / "b.py").write_text("def f():\n    from .a import A  # lazy, still a circle\n")
    (pkg / "c.py").write_text("from dotwise.probe import a\n")
    cycles = _cycles(_import_graph(tmp_path))
    assert cycles == [["dotwise.probe.a", "dotwise.probe.b"]]


# ------------------------------------------------- one sentence per keyword (issue 15)
CHECK_FINITE_DOC = ("check_finite : bool, default=True\n"
                    "Scan the input for NaN and infinity first and name the first one found\n"
                    "(one fast pass). ``False`` skips the scan: a non-finite value then\n"
                    "spreads into the result or stops LAPACK with an error of its own.")


def test_check_finite_is_documented_with_the_same_sentence_everywhere() -> None:
    """Every public function taking ``check_finite`` documents it, word for word alike."""
    missing, different = [], []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            if "check_finite" not in [a.arg for a in node.args.args + node.args.kwonlyargs]:
                continue
            where = f"{path.relative_to(SRC)}:{node.name}"
            lines = [ln.strip() for ln in (ast.get_docstring(node) or "").splitlines()]
            if "check_finite : bool, default=True" not in lines:
                missing.append(where)
                continue
            at = lines.index("check_finite : bool, default=True")
            if "\n".join(lines[at:at + 4]) != CHECK_FINITE_DOC:
                different.append(where)
    # the image engine's internal entry points take it too, and have no numpydoc
    missing = [m for m in missing if not m.startswith(("image/_engine.py", "linalg/_common.py"))]
    # the array-API twins (``_xp*`` modules) are documented by the public function that
    # dispatches to them, and _xp.float_array by its own docstring
    missing = [m for m in missing if not Path(m.split(":")[0]).name.startswith("_xp")]
    assert not missing and not different, {"undocumented": missing, "worded differently":
                                           different}


# ------------------------------------------- private names across packages (issue 15)
#: Top-level private modules that are shared infrastructure: any package may import their
#: public names. What one package may take from another's privates goes through _kernels.
SHARED_INFRASTRUCTURE = {"_kernels", "_validation", "_io", "_threads", "_native", "_dirswap",
                         "_dask", "_loops", "_xp"}


def _private_crossings(root: Path) -> list[str]:
    """``file:line imports X`` for every private name or private module taken across packages.

    A package is ``dotwise.<name>``; a name (or a module on the way to it) that starts with
    an underscore and lives in another package is a crossing, unless it is reached through
    one of :data:`SHARED_INFRASTRUCTURE`.
    """
    out = []
    for path in sorted((root / "dotwise").rglob("*.py")):
        rel = path.relative_to(root).with_suffix("")
        if rel.parts == ("dotwise", "_kernels"):
            continue  # the contract itself is where the reaching-in is written down
        mine = rel.parts[1] if len(rel.parts) > 2 else None  # dotwise/<pkg>/...
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for (line, mod), node in zip(_imports(path, root), _import_nodes(tree), strict=True):
            parts = mod.split(".")
            if parts[0] != "dotwise" or len(parts) < 2:
                continue
            theirs = parts[1]
            if theirs == mine or theirs in SHARED_INFRASTRUCTURE:
                continue
            names = [a.name for a in node.names] if isinstance(node, ast.ImportFrom) else []
            private = [p for p in parts[2:] if p.startswith("_") and p != "__init__"]
            private += [n for n in names if n.startswith("_") and mod.count(".") >= 1
                        and not (isinstance(node, ast.ImportFrom) and node.module is None)]
            if private:
                out.append(f"{rel}.py:{line} imports {', '.join(private)} from {mod}")
    return out


def test_no_private_names_cross_package_boundaries() -> None:
    crossings = _private_crossings(SRC.parent)
    assert not crossings, ("use the public API or dotwise._kernels (the internal contract):\n"
                           + "\n".join(crossings))


def test_the_private_name_checker_catches_a_crossing(tmp_path: Path) -> None:
    root = tmp_path
    for pkg in ("alpha", "beta"):
        (root / "dotwise" / pkg).mkdir(parents=True)
        (root / "dotwise" / pkg / "__init__.py").write_text("")
    (root / "dotwise" / "__init__.py").write_text("")
    (root / "dotwise" / "_kernels.py").write_text("")
    (root / "dotwise" / "alpha" / "core.py").write_text("def _twin(): ...\n")
    (root / "dotwise" / "beta" / "ok.py").write_text(
        "from .._kernels import softmax_unchecked\nfrom ..alpha.core import public\n")
    (root / "dotwise" / "beta" / "bad.py").write_text("from ..alpha.core import _twin\n")
    (root / "dotwise" / "beta" / "bad2.py").write_text("from dotwise.alpha._engine import run\n")
    found = _private_crossings(root)
    assert len(found) == 2 and all("bad" in f for f in found), found

# --------------------------------------------------------------------------- faces call the library
#: Names of numpy.linalg / scipy.linalg a face may still use: error types, no computation.
FACE_LINALG_ALLOWED = {"LinAlgError", "LinAlgWarning"}
_LINALG_MODULES = {"numpy.linalg", "scipy.linalg"}


def _linalg_calls(tree: ast.AST) -> list[tuple[int, str]]:
    """Where a module uses numpy.linalg or scipy.linalg: imports and attribute chains.

    Follows the import aliases (``import numpy as np``, ``from scipy import linalg as sl``,
    ``from numpy.linalg import norm``) so ``np.linalg.norm(x)`` and ``sl.svd(x)`` are found.
    """
    roots: dict[str, str] = {}  # local name -> module it stands for
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name in _LINALG_MODULES or a.name.startswith(("numpy.linalg.", "scipy.linalg.")):
                    found.append((node.lineno, f"import {a.name}"))
                roots[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                full = f"{node.module}.{a.name}"
                if full in _LINALG_MODULES:
                    found.append((node.lineno, f"from {node.module} import {a.name}"))
                elif node.module in _LINALG_MODULES and a.name not in FACE_LINALG_ALLOWED:
                    found.append((node.lineno, f"from {node.module} import {a.name}"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) \
                and isinstance(node.value.value, ast.Name):
            module = roots.get(node.value.value.id)
            if module in ("numpy", "scipy") and node.value.attr == "linalg" \
                    and node.attr not in FACE_LINALG_ALLOWED:
                found.append((node.lineno, f"{module}.linalg.{node.attr}"))
    return sorted(found)


@pytest.mark.parametrize("path", [p for p in _modules() if p.relative_to(SRC).parts[0] in FACES],
                         ids=lambda p: str(p.relative_to(SRC)))
def test_faces_do_not_call_numpy_or_scipy_linalg(path: Path) -> None:
    """A face (cli/, playground/, tour/) asks the library; if it needs maths, dotwise grows it."""
    bad = _linalg_calls(ast.parse(path.read_text(encoding="utf-8")))
    assert not bad, (f"{path.relative_to(SRC)} computes linear algebra itself: {bad}; call "
                     f"dotwise (or add what is missing to dotwise.linalg) instead")


def test_the_linalg_scan_catches_every_spelling() -> None:
    code = ("import numpy as np\nimport scipy.linalg\nfrom scipy import linalg as sl\n"
            "from numpy.linalg import norm\nimport numpy.linalg\n"
            "np.linalg.eig(A)\nscipy.linalg.hilbert(3)\n"
            "try:\n    pass\nexcept np.linalg.LinAlgError:\n    pass\n")
    found = [what for _, what in _linalg_calls(ast.parse(code))]
    assert found == ["import scipy.linalg", "from scipy import linalg",
                     "from numpy.linalg import norm", "import numpy.linalg",
                     "numpy.linalg.eig", "scipy.linalg.hilbert"]
