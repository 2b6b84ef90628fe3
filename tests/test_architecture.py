"""Imports point down only: linalg ← applications ← faces.

Parses every module's imports (no execution) and fails on an upward import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "dotwise"
APPLICATIONS = {"search", "recommend", "image", "attention", "models"}
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


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel = path.relative_to(SRC.parent).with_suffix("")
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
    fake = SRC / "linalg" / "_probe_upward.py"
    fake.write_text("from dotwise.search import Index\nfrom ..cli import app\n")
    try:
        mods = [m for _, m in _imports(fake)]
        assert "dotwise.search" in mods and "dotwise.cli" in mods
        assert {_layer(m) for m in mods} == {"application", "face"}
    finally:
        fake.unlink()


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
