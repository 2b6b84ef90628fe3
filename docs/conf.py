"""Sphinx configuration for the dotwise documentation.

Built offline: no intersphinx, no remote images, no CDN (the theme is Sphinx's own
``alabaster`` with its bundled assets). The API reference is generated at build time
from the ``__all__`` list of ``dotwise`` and of each subpackage (see ``_apigen.py``), so
a name added to an ``__all__`` gets its page without editing the docs.

Build::

    python -m sphinx -W --keep-going -b html docs docs/_build/html
    python -m sphinx -W --keep-going -b doctest docs docs/_build/doctest
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
SRC = HERE.parent / "src"
if SRC.is_dir() and str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))

from _apigen import write_api  # noqa: E402

import dotwise  # noqa: E402

project = "dotwise"
author = "dotwise developers"
copyright = "dotwise developers"
release = version = dotwise.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "README.md"]
templates_path: list[str] = []

# --- the API reference: generated from the __all__ lists ---------------------------------
write_api(HERE / "api")
autosummary_generate = False           # _apigen writes the pages itself
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": False}
autodoc_member_order = "bysource"
autodoc_typehints = "none"             # the numpydoc "Parameters" sections carry the types
autodoc_inherit_docstrings = False     # sklearn's inherited docstrings are not ours
autoclass_content = "class"

# numpydoc-style docstrings, read by napoleon (no numpydoc validation)
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_param = False
napoleon_use_ivar = False
napoleon_preprocess_types = False
napoleon_attr_annotations = True

# --- Markdown --------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# --- doctests: only the explicit {doctest} blocks of the pages ----------------------------
# Docstring examples already run through pytest --doctest-modules over src/.
doctest_test_doctest_blocks = ""
doctest_global_setup = """
import os as _dw_os, tempfile as _dw_tempfile
_dw_cwd = _dw_os.getcwd()
_dw_os.chdir(_dw_tempfile.mkdtemp(prefix="dotwise-docs-"))
"""
doctest_global_cleanup = "_dw_os.chdir(_dw_cwd)"
import doctest as _doctest  # noqa: E402

doctest_default_flags = (_doctest.ELLIPSIS | _doctest.NORMALIZE_WHITESPACE
                         | _doctest.IGNORE_EXCEPTION_DETAIL | _doctest.DONT_ACCEPT_TRUE_FOR_1)

# --- HTML: offline ------------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"dotwise {release}"
html_static_path: list[str] = []
html_show_sphinx = False
html_theme_options = {"description": "The linear algebra of machine learning, one dot product at a time.",
                      "fixed_sidebar": True, "show_powered_by": False}


# Formulas are shown as their TeX source (offline: no MathJax from a CDN).
def _plain_inline(self, node):
    self.body.append(self.starttag(node, "code", CLASS="math notranslate"))
    self.body.append(self.encode(node.astext()))
    self.body.append("</code>")
    from docutils import nodes

    raise nodes.SkipNode


def _plain_block(self, node):
    self.body.append(self.starttag(node, "pre", CLASS="math notranslate"))
    self.body.append(self.encode(node.astext()))
    self.body.append("</pre>\n")
    from docutils import nodes

    raise nodes.SkipNode


def _skip_foreign(app, what, name, obj, skip, options):
    """Members a class inherits or gets from scikit-learn (``set_fit_request``...) are not ours."""
    module = getattr(obj, "__module__", None) or ""
    if module.split(".")[0] in ("sklearn", "builtins", "typing", "collections", "enum"):
        return True
    return None


def _attribute_types_as_text(app, what, name, obj, options, lines):
    """Show an attribute's numpydoc type as text, not as a cross-reference.

    Napoleon writes ``Attributes`` entries as ``.. attribute::`` directives with a
    ``:type:`` option, which Sphinx parses as a Python annotation: in "ndarray of shape
    (n, d)" the word "shape" then links to some other class's ``shape`` attribute. Runs
    after napoleon (priority 600) and turns the option into a literal line.
    """
    in_attribute = False
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith(".. "):
            in_attribute = stripped.startswith(".. attribute::")
        elif in_attribute and stripped.startswith(":type: "):
            indent = line[: len(line) - len(stripped)]
            lines[i] = f"{indent}*Type:* ``{stripped[len(':type: '):].strip()}``"


def setup(app):
    app.connect("autodoc-process-docstring", _attribute_types_as_text, priority=600)
    app.add_html_math_renderer("plaintex", (_plain_inline, None), (_plain_block, None))
    app.connect("autodoc-skip-member", _skip_foreign)


html_math_renderer = "plaintex"
