"""The documentation site (``docs/``): its examples run, every public name has a page, it builds.

- Every ```` ```{doctest} ```` block of the guide pages runs here, page by page, in order,
  with one namespace per page (as Sphinx's doctest builder runs them), in a temporary
  working folder. This needs no Sphinx, so the core suite checks the examples.
- The API reference is generated from the ``__all__`` lists (``docs/_apigen.py``): every
  name of ``dotwise.__all__`` and of each subpackage's ``__all__`` must map to a page that
  documents that very object.
- With Sphinx and MyST installed (the ``docs`` extra), the site builds with warnings as
  errors and the built HTML has a page for every public name.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SRC = ROOT / "src"

#: ```{doctest} ... ``` fences of a MyST page (the closing fence has the same backticks).
FENCE = re.compile(r"^(?P<fence>`{3,})\{doctest\}[^\n]*\n(?P<body>.*?)^(?P=fence)\s*$",
                   re.M | re.S)
#: ``<!-- requires: fastapi httpx -->``: modules a page's examples need (skipped without).
REQUIRES = re.compile(r"<!--\s*requires:\s*([\w. ]+?)\s*-->")
FLAGS = (doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE | doctest.IGNORE_EXCEPTION_DETAIL
         | doctest.DONT_ACCEPT_TRUE_FOR_1)

GUIDE = sorted((DOCS / "guide").glob("*.md"))


def _apigen():
    spec = importlib.util.spec_from_file_location("_dotwise_docs_apigen", DOCS / "_apigen.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_guide_has_a_page_per_system():
    names = {p.stem for p in GUIDE}
    expected = {"vectors", "qr", "lstsq", "inspect", "pca", "attention", "search",
                "recommend", "image", "playground", "tour", "transforms", "eigen",
                "classifier", "segment", "scale"}
    assert expected <= names, f"missing guide pages: {sorted(expected - names)}"


@pytest.mark.parametrize("page", GUIDE, ids=[p.stem for p in GUIDE])
def test_guide_examples_run(page, tmp_path, monkeypatch):
    text = page.read_text(encoding="utf-8")
    for found in REQUIRES.findall(text):
        for module in found.split():
            pytest.importorskip(module, reason=f"{page.name}'s examples need {module}")
    blocks = list(FENCE.finditer(text))
    assert blocks, f"{page.name} has no {{doctest}} example"
    monkeypatch.chdir(tmp_path)
    parser = doctest.DocTestParser()
    examples = []
    for block in blocks:  # line numbers of the page, so a failure points at the right line
        offset = text.count("\n", 0, block.start("body"))
        for example in parser.get_examples(block.group("body"), page.name):
            example.lineno += offset
            examples.append(example)
    test = doctest.DocTest(examples, {"__name__": "__docs__"}, page.name, str(page), 0, text)
    assert test.examples, f"{page.name}: its doctest blocks hold no >>> example"
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    out: list[str] = []
    result = runner.run(test, out=out.append, clear_globs=True)
    assert result.failed == 0, f"{page.name}: {result.failed} example(s) failed\n" + "".join(out)


def test_every_public_name_has_an_api_page():
    api = _apigen()
    names = api.public_names()
    assert "dotwise" in names and "dotwise.linalg" in names
    for sub in ("models", "attention", "search", "recommend", "image", "text"):
        assert f"dotwise.{sub}" in names, f"dotwise.{sub} is missing from the API reference"
    pages, files, missing = api.page_of(), api.render(), api.unavailable()
    targets = {t for f, t in pages.items() if f == t}
    for full, why in missing.items():  # only a missing optional dependency excuses a name
        assert "dotwise" not in why.split("No module named")[-1], f"{full}: {why}"
    for pkg, attrs in names.items():
        module = importlib.import_module(pkg)
        assert f"{pkg}.rst" in files, f"no page for the package {pkg}"
        for attr in attrs:
            if f"{pkg}.{attr}" in missing:
                continue
            target = pages[f"{pkg}.{attr}"]
            tpkg, tattr = target.rsplit(".", 1)
            assert getattr(importlib.import_module(tpkg), tattr) is getattr(module, attr), \
                f"{pkg}.{attr} links to {target}, which is another object"
            page = files.get(api.page_file(target, targets) + ".rst")
            assert page is not None, f"{pkg}.{attr}: no page {target}"
            assert re.search(rf"^\.\. auto\w+:: ({re.escape(tattr)}|{re.escape(target)})$",
                             page, re.M), page
            assert f"~{target}" in files[f"{pkg}.rst"], f"{pkg}'s table does not list {attr}"


def test_dotwise_scale_is_documented_when_it_imports():
    api = _apigen()
    found, skipped = api.subpackages()
    if importlib.util.find_spec("dotwise.scale") is None:
        pytest.skip("dotwise.scale does not exist in this checkout")
    assert "dotwise.scale" in found or "dotwise.scale" in skipped


@pytest.mark.slow
def test_site_builds_with_warnings_as_errors(tmp_path):
    pytest.importorskip("sphinx", reason="the docs extra is not installed (pip install -e '.[docs]')")
    pytest.importorskip("myst_parser", reason="the docs extra is not installed")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    out = tmp_path / "html"
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-E", "-b", "html",
         str(DOCS), str(out), "-d", str(tmp_path / "doctrees")],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-8000:]
    api = _apigen()
    pages = api.page_of()
    targets = {t for f, t in pages.items() if f == t}
    for full, target in pages.items():
        html = out / "api" / (api.page_file(target, targets) + ".html")
        assert html.is_file(), f"{full}: {html.relative_to(out)} was not built"
        text = html.read_text(encoding="utf-8")
        assert f'id="{target}"' in text or f'id="module-{target}"' in text, \
            f"{full}: {html.name} does not document {target}"
    for page in ["index", "benchmarks", "limits", *(f"guide/{p.stem}" for p in GUIDE)]:
        assert (out / f"{page}.html").is_file(), f"{page}.html was not built"
    text = "".join(p.read_text(encoding="utf-8") for p in out.rglob("*.html"))
    assert "cdn." not in text and "https://cdn" not in text, "the site loads something from a CDN"
